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
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from forecast.config import (
    Cell,
    DataConfig,
    Device,
    Fill,
    Jit,
    ModelConfig,
    Normalize,
    Parallel,
    Precision,
    RunConfig,
    Strategy,
    TrainConfig,
    Transform,
    WindowConfig,
)
from forecast.errors import ForecastError
from forecast.report import console

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


def _hide_gpus() -> None:
    """Before a backend starts (here or in a worker process): the only reliable switch for every backend."""
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _start_backend(device: Device) -> str:
    """Import Keras for `device` and return what will be used, e.g. "gpu (NVIDIA H100)" or "cpu"."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if device is Device.cpu:
        _hide_gpus()
    from forecast.files import quiet_stderr

    with quiet_stderr():
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


def _warn_compute(configs: list[RunConfig], prep, used_device: str, backend: str) -> None:
    """Say, before training, which options cost speed on this device (each warning once)."""
    from forecast.compute import plan_compute, training_work

    on_gpu = used_device.startswith("gpu")
    notes = [n for c in configs for n in plan_compute(c, on_gpu, training_work(prep, c), backend).notes]
    _warn(tuple(dict.fromkeys(notes)))


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


# Options shared by `train` and `backtest`.
DataArg = Annotated[Path, typer.Argument(help="CSV file with one row per time step.", show_default=False)]
CellOpt = Annotated[list[CellChoice], typer.Option("--cell", "-c", help="Recurrent cell; repeat it, or `all`, to train several on the identical split, scaling and seed.")]
TargetOpt = Annotated[str | None, typer.Option(help="Column to forecast; needed only when the CSV has several numeric columns.")]
TimeColOpt = Annotated[str | None, typer.Option(help="Time column; default: the first column that parses as dates (none is fine).")]
FeaturesOpt = Annotated[list[str] | None, typer.Option(help="Extra input columns (repeat, or comma-separated); default none, univariate.")]
LookbackOpt = Annotated[int, typer.Option(help="Past steps the model reads for each forecast.")]
HorizonOpt = Annotated[int, typer.Option(help="Steps ahead forecast from each origin.")]
UnitsOpt = Annotated[int, typer.Option(help="Units in each recurrent layer.")]
LayersOpt = Annotated[int, typer.Option(help="Stacked recurrent layers.")]
DropoutOpt = Annotated[float, typer.Option(help="Dropout after each recurrent layer (keeps the fused cuDNN kernel).")]
RecurrentDropoutOpt = Annotated[float, typer.Option(help="Dropout on the recurrent state inside LSTM/GRU; above 0 it disables the fused cuDNN kernel, so GPU training is several times slower.")]
EpochsOpt = Annotated[int, typer.Option(help="Maximum epochs.")]
BatchOpt = Annotated[int, typer.Option(help="Windows per training batch (default chosen by measured time to accuracy, see benchmarks/defaults.md).")]
StepsOpt = Annotated[int | None, typer.Option(help="Cap each epoch at N batches, a fresh random sample of the training windows every epoch (for long series); default: every window once.")]
JitOpt = Annotated[Jit, typer.Option(help="XLA compilation: auto (where it measured faster: LSTM/GRU on the CPU for trainings of at least 100,000 windows x epochs; never where it would block the GPU's cuDNN kernel; always with JAX), on, off.")]
PrecisionOpt = Annotated[Precision, typer.Option(help="mixed: float16 recurrent layers with float32 weights and output layer, for GPUs with tensor cores; float32 on a CPU.")]
LearningRateOpt = Annotated[float, typer.Option(help="Adam learning rate.")]
PatienceOpt = Annotated[int, typer.Option(help="Early stopping: epochs without a better validation loss before stopping (best weights restored); 0 turns it off.")]
ValFracOpt = Annotated[float, typer.Option(help="Fraction of rows, after the training part, used for validation.")]
TestFracOpt = Annotated[float, typer.Option(help="Fraction of rows at the end held out for the test scores (backtest: the size of each fold's test block).")]
SeedOpt = Annotated[int, typer.Option(help="Random seed for weights and shuffling.")]
DeviceOpt = Annotated[Device, typer.Option(help="auto: a GPU when Keras sees one; cpu; gpu (an error without one).")]
FillOpt = Annotated[Fill, typer.Option(help="Missing values: interpolate (linear), ffill, drop the rows, or error.")]
DedupeOpt = Annotated[bool, typer.Option("--dedupe", help="Keep the last row of each duplicated timestamp instead of stopping.")]
EncodingOpt = Annotated[str, typer.Option(help="Text encoding of the CSV, e.g. latin-1 (a UTF-8 byte-order mark is handled).")]
DelimiterOpt = Annotated[str | None, typer.Option(help="Field delimiter; default: detected among , ; tab |.")]
DecimalOpt = Annotated[str | None, typer.Option(help="Decimal mark, . or ,; default: , when fields are not comma-separated and numbers use commas.")]
TransformOpt = Annotated[Transform, typer.Option(help="Target transform before scaling, inverted exactly afterwards: none, diff, log, logdiff (log returns, for prices).")]
NormalizeOpt = Annotated[Normalize, typer.Option(help="window: each window relative to its last target value, so models carry over to levels never seen in training; global: one scaler fit on the training part; auto (default, chosen by measurement): window when over 25% of the validation part lies outside the training range, else global.")]
SeasonOpt = Annotated[int | None, typer.Option(help="Season length in steps for the seasonal naive baseline and MASE; default: from the time column's frequency (24 hourly, 48 half-hourly, 7 daily, 5 business days, 12 monthly).")]
StrategyOpt = Annotated[Strategy, typer.Option(help="direct: a Dense(horizon) head; recursive: a one-step model rolled forward on its own forecasts.")]
IntervalOpt = Annotated[list[float] | None, typer.Option(help="Prediction-interval level in (0, 1), e.g. 0.9; repeat for several. Split-conformal per horizon step, from validation residuals.")]


def _run_configs(o: dict) -> list[RunConfig]:
    """One RunConfig per chosen cell from a command's options (its locals())."""
    data = DataConfig(str(o["data"]), o["target"], o["time_col"], _split_names(o["features"]), o["val_frac"],
                      o["test_frac"], o["encoding"], _unescape(o["delimiter"]), o["decimal"], o["fill"], o["dedupe"],
                      o["transform"], o["season"], o["normalize"])
    window = WindowConfig(o["lookback"], o["horizon"])
    train = TrainConfig(o["epochs"], o["batch_size"], o["learning_rate"], o["patience"], o["seed"], o["device"],
                        tuple(o["interval"] or ()), o["steps_per_epoch"], o["jit"], o["precision"])
    return [RunConfig(data, window, ModelConfig(c, o["units"], o["layers"], o["dropout"], o["strategy"],
                                                o["recurrent_dropout"]), train)
            for c in _cells(o["cell"])]


def _catch_sigterm() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


@app.command()
def train(
    data: DataArg,
    cell: CellOpt = [CellChoice.lstm],  # noqa: B006
    target: TargetOpt = None,
    time_col: TimeColOpt = None,
    features: FeaturesOpt = None,
    lookback: LookbackOpt = WindowConfig.lookback,
    horizon: HorizonOpt = WindowConfig.horizon,
    units: UnitsOpt = ModelConfig.units,
    layers: LayersOpt = ModelConfig.layers,
    dropout: DropoutOpt = ModelConfig.dropout,
    recurrent_dropout: RecurrentDropoutOpt = ModelConfig.recurrent_dropout,
    strategy: StrategyOpt = Strategy.direct,
    epochs: EpochsOpt = TrainConfig.epochs,
    batch_size: BatchOpt = TrainConfig.batch_size,
    learning_rate: LearningRateOpt = TrainConfig.learning_rate,
    patience: PatienceOpt = TrainConfig.patience,
    steps_per_epoch: StepsOpt = None,
    val_frac: ValFracOpt = DataConfig.val_frac,
    test_frac: TestFracOpt = DataConfig.test_frac,
    seed: SeedOpt = TrainConfig.seed,
    transform: TransformOpt = Transform.none,
    normalize: NormalizeOpt = DataConfig.normalize,
    season: SeasonOpt = None,
    interval: IntervalOpt = None,
    fill: FillOpt = DataConfig.fill,
    dedupe: DedupeOpt = False,
    encoding: EncodingOpt = DataConfig.encoding,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    device: DeviceOpt = Device.auto,
    jit: JitOpt = Jit.auto,
    precision: PrecisionOpt = Precision.float32,
    parallel: Annotated[Parallel, typer.Option(help="Train the cells of one command in parallel processes, one thread each: auto (on a multi-core CPU with TensorFlow when the training is long enough to repay loading TensorFlow in each process, see benchmarks/defaults.md), on, off.")] = Parallel.auto,
    runs_dir: Annotated[Path, typer.Option(help="Folder that receives the run folders.")] = Path("runs"),
    name: Annotated[str | None, typer.Option(help="Run name (with several cells: NAME-CELL); default DATA-CELL, made unique.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted training of the same command from its last completed epoch; cells whose run folder exists are skipped.")] = False,
) -> None:
    """Train forecasters on a CSV and write one run folder per cell.

    Example: forecast train datasets/sine.csv --cell all
    """
    with _user_errors():
        _catch_sigterm()
        configs = _run_configs(locals())
        out, prep = _prepare(configs[0])
        from forecast import report, runs
        from forecast.compute import backend_name, no_gpu_possible, training_work
        from forecast.parallel import worth_it

        backend = backend_name()
        cpu_only = device is Device.cpu or (device is Device.auto and no_gpu_possible())
        in_processes = len(configs) > 1 and cpu_only and (parallel is Parallel.on or parallel is Parallel.auto and (
            worth_it(len(configs), training_work(prep, configs[0]), backend)))
        if in_processes:  # each worker loads its own backend; the parent needs none
            used_device = "cpu"
            if device is Device.cpu:
                _hide_gpus()
        else:
            used_device = _start_backend(device)
            in_processes = len(configs) > 1 and parallel is Parallel.on
        _warn_compute(configs, prep, used_device, backend)
        out.print(f"device: {used_device}" + (f"; {len(configs)} cells in parallel processes" if in_processes else ""))
        with report.progress(out, epochs) as tracker:
            results = runs.train_and_save(prep, configs, runs_dir, name, used_device, tracker, resume, in_processes)
        if report.train_summary(out, results):
            _warn(("MAPE is undefined because the test part has actual values of zero; it is reported as missing",))
        out.print("runs: " + ", ".join(str(r.path) for r in results))


def _prepare(cfg: RunConfig):
    """Load, check and describe the data before the backend loads, so bad data fails fast."""
    from forecast.prepare import prepare

    prep = prepare(cfg.data, cfg.window)
    _warn(prep.series.notes)
    out = console()
    series, sizes = prep.series, prep.split.sizes()
    out.print(f"[bold]{cfg.data.path}[/]: {len(series)} rows, target [bold]{series.target}[/]"
              + (f", features {', '.join(series.columns[1:])}" if len(series.columns) > 1 else "")
              + (f", time `{series.time_col}` ({series.freq or 'irregular'})" if series.time_col else ""))
    out.print("split (rows / windows): " + ", ".join(f"{p} {sizes[p]} / {len(prep.windows[p])}" for p in sizes)
              + f"; lookback {cfg.window.lookback}, horizon {cfg.window.horizon}")
    how = "--season" if cfg.data.season else (f"inferred from {series.freq}" if series.freq else "no frequency")
    norm = prep.normalize.value + (f" (auto: {prep.normalize_reason})" if prep.normalize_reason else "")
    out.print(f"season {prep.season} ({how}); transform {cfg.data.transform.value}; normalize {norm}; "
              f"strategy {cfg.model.strategy.value}")
    return out, prep


@app.command()
def backtest(
    data: DataArg,
    cell: CellOpt = [CellChoice.lstm],  # noqa: B006
    folds: Annotated[int, typer.Option(help="Test blocks at the end of the series, each --test-frac of its rows; each fold retrains on everything before its block.")] = 5,
    target: TargetOpt = None,
    time_col: TimeColOpt = None,
    features: FeaturesOpt = None,
    lookback: LookbackOpt = WindowConfig.lookback,
    horizon: HorizonOpt = WindowConfig.horizon,
    units: UnitsOpt = ModelConfig.units,
    layers: LayersOpt = ModelConfig.layers,
    dropout: DropoutOpt = ModelConfig.dropout,
    recurrent_dropout: RecurrentDropoutOpt = ModelConfig.recurrent_dropout,
    strategy: StrategyOpt = Strategy.direct,
    epochs: EpochsOpt = TrainConfig.epochs,
    batch_size: BatchOpt = TrainConfig.batch_size,
    learning_rate: LearningRateOpt = TrainConfig.learning_rate,
    patience: PatienceOpt = TrainConfig.patience,
    steps_per_epoch: StepsOpt = None,
    val_frac: ValFracOpt = DataConfig.val_frac,
    test_frac: TestFracOpt = DataConfig.test_frac,
    seed: SeedOpt = TrainConfig.seed,
    transform: TransformOpt = Transform.none,
    normalize: NormalizeOpt = DataConfig.normalize,
    season: SeasonOpt = None,
    fill: FillOpt = DataConfig.fill,
    dedupe: DedupeOpt = False,
    encoding: EncodingOpt = DataConfig.encoding,
    delimiter: DelimiterOpt = None,
    decimal: DecimalOpt = None,
    device: DeviceOpt = Device.auto,
    jit: JitOpt = Jit.auto,
    precision: PrecisionOpt = Precision.float32,
    out: Annotated[Path, typer.Option(help="CSV of scores per fold and model, then mean and std rows.")] = Path("backtest.csv"),
    plot: Annotated[Path, typer.Option(help="Figure of scores by fold.")] = Path("plots/backtest.png"),
) -> None:
    """Rolling-origin backtest: retrain on an expanding window and score every origin of each test block.

    Example: forecast backtest datasets/electricity_demand_halfhourly.csv --cell all --folds 5
    """
    with _user_errors():
        _catch_sigterm()
        interval = None  # intervals are a property of one run; a backtest scores point forecasts
        configs = _run_configs(locals())
        from forecast.split import plan_folds

        con, prep = _prepare(configs[0])
        plan_folds(len(prep.series), folds, configs[0].data, configs[0].window)  # too many folds fails now
        used_device = _start_backend(device)
        con.print(f"device: {used_device}")
        from forecast.compute import backend_name

        _warn_compute(configs, prep, used_device, backend_name())
        from forecast import plots, report
        from forecast.backtest import run_backtest, write_table
        from forecast.files import write_csv

        with report.progress(con, epochs) as tracker:
            per_fold, summary, used_season = run_backtest(configs, folds, tracker, used_device.startswith("gpu"))
        write_csv(out, write_table(per_fold, summary))
        fig, axes = plots.new_figure(2, width=13)
        for ax, metric in zip(axes, ("mse", "mase"), strict=True):
            plots.plot_by_fold(ax, per_fold, metric, used_season)
        plots.save_figure(fig, plot)
        report.backtest_table(con, summary, folds, used_season)
        con.print(f"scores: {out}; figure: {plot}")


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

        paths = list(runs or []) or artifacts.list_runs(runs_dir)
        if not paths:
            raise ForecastError(f"no runs in {runs_dir}; train some with `forecast train DATA.csv --cell all` "
                                "or name run folders")
        infos = [artifacts.read_run(p) for p in paths]
        names = [i.name if [j.name for j in infos].count(i.name) == 1 else str(i.path) for i in infos]
        from forecast import plots, report

        colors = {n: plots.PALETTE[i % len(plots.PALETTE)] for i, n in enumerate(names)}
        fig, (ax_loss, ax_bar) = plots.new_figure(2, width=13, height=5)
        plots.plot_losses(ax_loss, {n: i.history for n, i in zip(names, infos, strict=True)}, colors)
        plots.plot_test_mse(ax_bar, names, [i.metrics["test"]["model"]["mse"] for i in infos],
                            {b: [i.metrics["test"]["baselines"][b]["mse"] for i in infos]
                             for b in ("naive", "seasonal_naive")}, colors)
        plots.save_figure(fig, out)
        con = console()
        report.compare_table(con, names, infos)
        con.print(f"figure: {out}")


@app.command()
def predict(
    run: Annotated[Path, typer.Argument(help="Run folder written by `forecast train`.", show_default=False)],
    data: Annotated[Path, typer.Argument(help="CSV with the run's columns (it may be another series).", show_default=False)],
    out: Annotated[Path, typer.Option(help="Predictions CSV (long form: origin, step, timestamp, forecast, actual, error, baselines, interval bounds).")] = Path("predictions.csv"),
    steps: Annotated[int | None, typer.Option(help="Forecast N steps beyond the last row (recursively past the trained horizon; univariate runs).")] = None,
    target: Annotated[str | None, typer.Option(help="Column of DATA to use as the run's target, when its name differs.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Also draw history, forecasts, intervals and the future part to this PNG.")] = None,
    device: DeviceOpt = Device.auto,
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
        from forecast import report, runs
        from forecast.files import write_csv

        result = runs.predict_series(info, series, scaled, steps)
        write_csv(out, result.table)
        con = console()
        con.print(f"{len(result.table)} forecasts from {result.table['origin'].nunique()} origins "
                  f"(lookback {info.config.window.lookback}, horizon {info.config.window.horizon}) -> {out}")
        if result.scores is not None:
            parts = [f"{label} MSE {report.fmt(m['mse'])}, MAE {report.fmt(m['mae'])}"
                     for label, m in (("model", result.scores["model"]), ("naive", result.scores["naive"]),
                                      ("seasonal naive", result.scores["seasonal_naive"])) if m is not None]
            con.print(f"where {data.name} has actuals ({result.scores['n']} values): " + "; ".join(parts))
        if plot is not None:
            runs.plot_predictions(result, series, info, plot)
            con.print(f"plot: {plot}")


@app.command()
def info() -> None:
    """Show the versions of Python, Keras, its backend and TensorFlow, and the devices Keras can use.

    Example: forecast info
    """
    with _user_errors():
        _start_backend(Device.auto)
        from forecast import train

        con = console()
        for key, value in train.versions().items():
            con.print(f"{key:>11}: {value}")
        gpus = train.gpu_names()
        con.print(f"{'devices':>11}: {', '.join(gpus) if gpus else 'CPU only'}")


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
        from forecast import report
        from forecast.datasets import describe_csv

        files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
        if not files:
            raise ForecastError(f"no CSV files in {folder}; run from the project folder or pass --dir")
        report.datasets_table(console(), folder, [describe_csv(f) for f in files])


class Generator(str, enum.Enum):
    sine = "sine"
    randomwalk = "randomwalk"
    trend = "trend"


@datasets_app.command("make")
def datasets_make(
    kind: Annotated[Generator, typer.Argument(help="Which series to generate.")],
    out: Annotated[Path, typer.Option(help="CSV file to write.")],
    rows: Annotated[int, typer.Option(help="Number of rows.")] = 2000,
    noise: Annotated[float, typer.Option(help="Standard deviation of the Gaussian noise (randomwalk: of each step).")] = 0.05,
    period: Annotated[int, typer.Option(help="Period of the seasonal cycle, in rows (sine, trend).")] = 24,
    drift: Annotated[float, typer.Option(help="Change per row: the walk's drift, or the trend's slope.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed of the noise.")] = 0,
) -> None:
    """Write a synthetic series (hourly timestamps and a `value` column): sine, randomwalk (with --drift), or
    trend (a linear trend of slope --drift plus a seasonal cycle plus noise).

    Example: forecast datasets make sine --rows 2000 --noise 0.05 --seed 0 --out datasets/sine.csv
    """
    with _user_errors():
        if rows < 2 or period < 2 or noise < 0:
            raise ForecastError("--rows and --period must be at least 2 and --noise at least 0")
        from forecast.datasets import make_series
        from forecast.files import write_csv

        write_csv(out, make_series(kind.value, rows, noise, seed, period, drift))
        console().print(f"wrote {rows} rows to {out}")


def main() -> None:
    app(prog_name="forecast")
