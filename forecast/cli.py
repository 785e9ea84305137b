"""The `forecast` command line: thin Typer commands that pack options into configs and call the library.

Only this module imports typer. TensorFlow/Keras, pandas and matplotlib are imported inside the commands
that need them, so `forecast --help` answers at once.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from forecast.config import Cell, DataConfig, Device, Fill, ModelConfig, RunConfig, TrainConfig, WindowConfig
from forecast.errors import ForecastError

app = typer.Typer(
    help="Train SimpleRNN, LSTM and GRU forecasters from a CSV time series, compare them against a naive "
    "baseline, and forecast new series.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(invoke_without_command=True)
app.add_typer(datasets_app, name="datasets")


class CellChoice(str, enum.Enum):
    rnn = "rnn"
    lstm = "lstm"
    gru = "gru"
    all = "all"


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """A user mistake becomes one `Error: ...` line on stderr and exit code 1; anything else is a bug."""
    try:
        yield
    except ForecastError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (KeyboardInterrupt, _Terminated) as exc:
        what = "Terminated" if isinstance(exc, _Terminated) else "Interrupted"
        typer.echo(f"{what}: no half-written run was published (finished runs are complete); "
                   "continue a training with the same command and --resume", err=True)
        raise typer.Exit(143 if isinstance(exc, _Terminated) else 130) from None


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that clean-up code runs as for Ctrl-C."""


def _on_sigterm(signum, frame) -> None:
    raise _Terminated()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence C++ log lines that TensorFlow writes to fd 2 while it loads, before its own log level applies."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        sys.stderr.flush()
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _start_backend(device: Device) -> str:
    """Import Keras for `device` and return what will be used, e.g. "gpu (NVIDIA H100)" or "cpu"."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if device is Device.cpu:
        # Hide GPUs before the backend starts; this is the only reliable switch for every backend.
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    with _quiet_stderr():
        import keras  # noqa: F401

        from forecast import train
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices are not for users
    gpus = train.gpu_names()
    if device is Device.gpu and not gpus:
        raise ForecastError(
            f"--device gpu, but Keras' {train.keras.backend.backend()} backend sees no GPU; "
            "use --device auto or cpu, or install GPU support with pip install -e '.[gpu]'"
        )
    if gpus and device is not Device.cpu:
        return f"gpu ({', '.join(gpus)})"
    return "cpu"


def _cells(cells: list[CellChoice]) -> list[Cell]:
    chosen: list[Cell] = []
    for c in cells:
        for cell in (list(Cell) if c is CellChoice.all else [Cell(c.value)]):
            if cell not in chosen:
                chosen.append(cell)
    return chosen


def _warn(notes: tuple[str, ...]) -> None:
    for note in notes:
        typer.echo(f"Warning: {note}", err=True)


def _unescape(delimiter: str | None) -> str | None:
    return {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter) if delimiter is not None else None


def _split_names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(name.strip() for v in values or [] for name in v.split(",") if name.strip())


def _fmt(x: float) -> str:
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.3e}"


def _table(title: str, columns: tuple[str, ...], text_columns: int):
    """A Rich table whose first `text_columns` may wrap, so numbers are never cut short."""
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(columns):
        text = i < text_columns
        table.add_column(col, justify="left" if text else "right", no_wrap=not text, overflow="fold")
    return table


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="CSV file with one row per time step.", show_default=False)],
    cell: Annotated[list[CellChoice], typer.Option("--cell", "-c", help="Recurrent cell; repeat it, or `all`, to train several on the identical split, scaling and seed.")] = [CellChoice.lstm],  # noqa: B006
    target: Annotated[str | None, typer.Option(help="Column to forecast; needed only when the CSV has several numeric columns.")] = None,
    time_col: Annotated[str | None, typer.Option(help="Time column; default: the first column that parses as dates (none is fine).")] = None,
    features: Annotated[list[str] | None, typer.Option(help="Extra input columns (repeat, or comma-separated); default none, univariate.")] = None,
    lookback: Annotated[int, typer.Option(help="Past steps the model reads for each forecast.")] = WindowConfig.lookback,
    horizon: Annotated[int, typer.Option(help="Steps ahead predicted at once by the Dense(horizon) head.")] = WindowConfig.horizon,
    units: Annotated[int, typer.Option(help="Units in each recurrent layer.")] = ModelConfig.units,
    layers: Annotated[int, typer.Option(help="Stacked recurrent layers.")] = ModelConfig.layers,
    dropout: Annotated[float, typer.Option(help="Dropout after each recurrent layer (keeps the cuDNN kernel; no recurrent dropout).")] = ModelConfig.dropout,
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = TrainConfig.epochs,
    batch_size: Annotated[int, typer.Option(help="Windows per training batch.")] = TrainConfig.batch_size,
    learning_rate: Annotated[float, typer.Option(help="Adam learning rate.")] = TrainConfig.learning_rate,
    patience: Annotated[int, typer.Option(help="Early stopping: epochs without a better validation loss before stopping (best weights restored); 0 turns it off.")] = TrainConfig.patience,
    val_frac: Annotated[float, typer.Option(help="Fraction of rows, after the training part, used for validation.")] = DataConfig.val_frac,
    test_frac: Annotated[float, typer.Option(help="Fraction of rows at the end held out for the test scores.")] = DataConfig.test_frac,
    seed: Annotated[int, typer.Option(help="Random seed for weights and shuffling.")] = TrainConfig.seed,
    runs_dir: Annotated[Path, typer.Option(help="Folder that receives the run folders.")] = Path("runs"),
    name: Annotated[str | None, typer.Option(help="Run name (with several cells: NAME-CELL); default DATA-CELL, made unique.")] = None,
    device: Annotated[Device, typer.Option(help="auto: a GPU when Keras sees one; cpu; gpu (an error without one).")] = Device.auto,
    fill: Annotated[Fill, typer.Option(help="Missing values: interpolate (linear), ffill, drop the rows, or error.")] = DataConfig.fill,
    dedupe: Annotated[bool, typer.Option("--dedupe", help="Keep the last row of each duplicated timestamp instead of stopping.")] = False,
    encoding: Annotated[str, typer.Option(help="Text encoding of the CSV, e.g. latin-1 (a UTF-8 byte-order mark is handled).")] = DataConfig.encoding,
    delimiter: Annotated[str | None, typer.Option(help="Field delimiter; default: detected among , ; tab |.")] = None,
    decimal: Annotated[str | None, typer.Option(help="Decimal mark, . or ,; default: , when fields are not comma-separated and numbers use commas.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted training of the same command from its last completed epoch; cells whose run folder exists are skipped.")] = False,
) -> None:
    """Train forecasters on a CSV and write one run folder per cell.

    Example: forecast train datasets/sine.csv --cell all
    """
    with _user_errors():
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _on_sigterm)
        cells = _cells(cell)
        data_cfg = DataConfig(str(data), target, time_col, _split_names(features), val_frac, test_frac,
                              encoding, _unescape(delimiter), decimal, fill, dedupe)
        window_cfg = WindowConfig(lookback, horizon)
        configs = [RunConfig(data_cfg, window_cfg, ModelConfig(c, units, layers, dropout),
                             TrainConfig(epochs, batch_size, learning_rate, patience, seed, device)) for c in cells]
        from forecast.prepare import prepare

        prep = prepare(data_cfg, window_cfg)  # bad data fails here, before the backend loads
        _warn(prep.series.notes)
        out = _console()
        sizes = prep.split.sizes()
        n_windows = {p: len(w) for p, w in prep.windows.items()}
        out.print(
            f"[bold]{data}[/]: {len(prep.series)} rows, target [bold]{prep.series.target}[/]"
            + (f", features {', '.join(prep.series.columns[1:])}" if len(prep.series.columns) > 1 else "")
            + (f", time `{prep.series.time_col}` ({prep.series.freq or 'irregular'})" if prep.series.time_col else "")
        )
        out.print("split (rows / windows): " + ", ".join(f"{p} {sizes[p]} / {n_windows[p]}" for p in sizes)
                  + f"; lookback {lookback}, horizon {horizon}")
        used_device = _start_backend(device)
        out.print(f"device: {used_device}")
        from forecast import runs

        with _progress(out, epochs) as tracker:
            results = runs.train_and_save(prep, configs, runs_dir, name, used_device, tracker, resume)
        _print_summary(out, results)
        out.print("runs: " + ", ".join(str(r.path) for r in results))


@contextlib.contextmanager
def _progress(out, epochs: int) -> Iterator:
    """One live line per cell (epoch, train MSE, val MSE, time) that stays on screen when done."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description:>4}"), BarColumn(bar_width=12),
        TextColumn("epoch {task.completed:>3.0f}/{task.fields[epochs]}"),
        TextColumn("train MSE {task.fields[loss]:<9} val MSE {task.fields[val]:<9}"),
        TimeElapsedColumn(), TextColumn("{task.fields[note]}"),
        console=out,
    )

    class Tracker:
        @contextlib.contextmanager
        def cell(self, name: str) -> Iterator:
            task = progress.add_task(name, total=epochs, epochs=epochs, loss="-", val="-", note="")

            def on_epoch(epoch: int, logs: dict, seconds: float) -> None:
                progress.update(task, completed=epoch, loss=_fmt(logs.get("loss", float("nan"))),
                                val=_fmt(logs.get("val_loss", float("nan"))))

            yield on_epoch
            done = progress.tasks[task].completed
            progress.update(task, total=done, note="early stop" if done < epochs else "")
            progress.stop_task(task)

        def skip(self, name: str, why: str) -> None:
            progress.console.print(f"{name:>4} skipped: {why}")

    with progress:
        yield Tracker()


def _print_summary(out, results) -> None:
    table = _table("Test scores in original units (ratio = MSE / naive MSE; below 1 beats it)",
                   ("model", "run", "MSE", "RMSE", "MAE", "ratio"), 2)
    naive = results[0].metrics["test"]["naive"]
    for r in sorted(results, key=lambda r: r.metrics["test"]["model"]["mse"]):
        m = r.metrics["test"]["model"]
        table.add_row(r.cell, r.path.name, _fmt(m["mse"]), _fmt(m["rmse"]), _fmt(m["mae"]), f"{m['mse'] / naive['mse']:.3f}"
                      if naive["mse"] > 0 else "-")
    table.add_row("naive", "last value", _fmt(naive["mse"]), _fmt(naive["rmse"]), _fmt(naive["mae"]), "1.000")
    out.print(table)


@app.command()
def compare(
    runs: Annotated[list[Path] | None, typer.Argument(help="Run folders; default: every run in --runs-dir.", show_default=False)] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where to look for runs when none are named.")] = Path("runs"),
    out: Annotated[Path, typer.Option(help="Where to save the figure.")] = Path("plots/compare.png"),
) -> None:
    """Plot the loss curves of runs side by side with their test MSE, and print them sorted by test MSE.

    Example: forecast compare runs/sine-rnn runs/sine-lstm runs/sine-gru
    """
    with _user_errors():
        from forecast import artifacts

        paths = list(runs or [])
        if not paths:
            paths = artifacts.list_runs(runs_dir)
            if not paths:
                raise ForecastError(f"no runs in {runs_dir}; train some with `forecast train DATA.csv --cell all` "
                                    "or name run folders")
        infos = [artifacts.read_run(p) for p in paths]
        names = _unique_names(infos)
        from forecast import plots

        palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                   "tab:olive", "tab:cyan", "tab:gray"]
        colors = {n: palette[i % len(palette)] for i, n in enumerate(names)}
        fig, (ax_loss, ax_bar) = plots.new_figure(2, width=13, height=5)
        plots.plot_losses(ax_loss, {n: i.history for n, i in zip(names, infos)}, colors)
        plots.plot_test_mse(ax_bar, names, [i.metrics["test"]["model"]["mse"] for i in infos],
                            [i.metrics["test"]["naive"]["mse"] for i in infos], colors)
        plots.save_figure(fig, out)

        files = {Path(i.meta["data"]["path"]).name for i in infos}
        one_file = len(files) == 1
        title = "Runs by test MSE (original units; ratio = MSE / naive MSE)" + (f" on {files.pop()}" if one_file else "")
        columns = ("run", "cell") + (() if one_file else ("data",))
        table = _table(title, columns + ("epochs", "test MSE", "naive MSE", "ratio", "MAE"), len(columns))
        for n, i in sorted(zip(names, infos), key=lambda t: t[1].metrics["test"]["model"]["mse"]):
            m, b = i.metrics["test"]["model"], i.metrics["test"]["naive"]
            data_col = () if one_file else (Path(i.meta["data"]["path"]).name,)
            table.add_row(n, i.config.model.cell.value, *data_col, str(i.metrics["epochs_run"]), _fmt(m["mse"]),
                          _fmt(b["mse"]), f"{m['mse'] / b['mse']:.3f}" if b["mse"] > 0 else "-", _fmt(m["mae"]))
        console = _console()
        console.print(table)
        console.print(f"figure: {out}")


def _unique_names(infos) -> list[str]:
    names = [i.name for i in infos]
    return [n if names.count(n) == 1 else str(i.path) for n, i in zip(names, infos)]


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="Run folder written by `forecast train`.", show_default=False)],
    data: Annotated[Path, typer.Argument(help="CSV with the run's columns (it may be another series).", show_default=False)],
    out: Annotated[Path, typer.Option(help="Predictions CSV (long form: origin, step, timestamp, forecast, actual, error).")] = Path("predictions.csv"),
    steps: Annotated[int | None, typer.Option(help="Forecast N steps beyond the last row (recursively past the trained horizon; univariate runs).")] = None,
    target: Annotated[str | None, typer.Option(help="Column of DATA to use as the run's target, when its name differs.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Also draw history, forecasts and the future part to this PNG.")] = None,
    device: Annotated[Device, typer.Option(help="auto, cpu or gpu, as for train.")] = Device.auto,
) -> None:
    """Forecast a series with a trained run: every origin with a full lookback, plus --steps into the future.

    Example: forecast predict runs/sine-lstm datasets/sine.csv --steps 50 --plot plots/sine_forecast.png
    """
    with _user_errors():
        from forecast import artifacts

        info = artifacts.read_run(run)
        if steps is not None and steps < 1:
            raise ForecastError(f"--steps must be at least 1 (got {steps})")
        from forecast.prepare import load_new_series

        # Bad data fails here, before the backend loads.
        series, scaled = load_new_series(info.config.data, info.config.window.lookback, info.scaler, str(data), target)
        _warn(series.notes)
        _start_backend(device)
        from forecast import runs

        result = runs.predict_series(info, series, scaled, steps)
        from forecast.files import write_csv

        write_csv(out, result.table)
        console = _console()
        n_origins = result.table["origin"].nunique()
        console.print(f"{len(result.table)} forecasts from {n_origins} origins "
                      f"(lookback {info.config.window.lookback}, horizon {info.config.window.horizon}) -> {out}")
        if result.scores is not None:
            m, b = result.scores["model"], result.scores["naive"]
            console.print(f"where {data.name} has actuals ({result.scores['n']} values): "
                          f"model MSE {_fmt(m['mse'])}, MAE {_fmt(m['mae'])}; "
                          f"naive MSE {_fmt(b['mse'])}, MAE {_fmt(b['mae'])}")
        if plot is not None:
            runs.plot_predictions(result, series, info, plot)
            console.print(f"plot: {plot}")


@app.command()
def info() -> None:
    """Show the versions of Python, Keras, its backend and TensorFlow, and the devices Keras can use.

    Example: forecast info
    """
    with _user_errors():
        _start_backend(Device.auto)
        from forecast import train

        console = _console()
        for key, value in train.versions().items():
            console.print(f"{key:>11}: {value}")
        gpus = train.gpu_names()
        console.print(f"{'devices':>11}: {', '.join(gpus) if gpus else 'CPU only'}")


@datasets_app.callback()
def datasets(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option("--dir", help="Folder of CSV files to list.")] = Path("datasets"),
) -> None:
    """List the shipped CSV files with rows, columns, time span and frequency; `make` writes a synthetic one.

    Example: forecast datasets
    """
    if ctx.invoked_subcommand is not None:
        return
    with _user_errors():
        from forecast.data import describe_csv

        files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
        if not files:
            raise ForecastError(f"no CSV files in {folder}; run from the project folder or pass --dir")
        table = _table(f"Datasets in {folder}", ("file", "columns", "rows", "start", "end", "freq"), 2)
        for f in files:
            d = describe_csv(f)
            table.add_row(d["file"], d["columns"], str(d["rows"]), d["start"], d["end"], d["freq"])
        _console().print(table)


class Generator(str, enum.Enum):
    sine = "sine"


@datasets_app.command("make")
def datasets_make(
    kind: Annotated[Generator, typer.Argument(help="Which series to generate.")],
    out: Annotated[Path, typer.Option(help="CSV file to write.")],
    rows: Annotated[int, typer.Option(help="Number of rows.")] = 2000,
    noise: Annotated[float, typer.Option(help="Standard deviation of the Gaussian noise added.")] = 0.05,
    period: Annotated[int, typer.Option(help="Period of the wave, in rows.")] = 24,
    seed: Annotated[int, typer.Option(help="Random seed of the noise.")] = 0,
) -> None:
    """Write a synthetic series (hourly timestamps and a `value` column) to a CSV.

    Example: forecast datasets make sine --rows 2000 --noise 0.05 --seed 0 --out datasets/sine.csv
    """
    with _user_errors():
        if rows < 2 or period < 2 or noise < 0:
            raise ForecastError("--rows and --period must be at least 2 and --noise at least 0")
        from forecast.data import make_sine
        from forecast.files import write_csv

        write_csv(out, make_sine(rows, noise, seed, period))
        _console().print(f"wrote {rows} rows to {out}")


def main() -> None:
    app(prog_name="forecast")
