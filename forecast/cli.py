"""The `forecast` command line, the only module that imports typer: commands and their options, nothing else.
Each command packs its options into configs and calls forecast.commands (imported inside, so `--help` is instant)
within forecast.boundary, which turns a user mistake into one `Error: ...` line on stderr and exit code 1."""

from __future__ import annotations

import dataclasses
import enum
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from forecast import boundary
from forecast.config import (Anchor, Cell, DataConfig, Dedupe, DeviceChoice, Fill, Jit,
                             ModelConfig, Normalize, Parallel, Precision, RunConfig, Strategy, TrainConfig, Transform,
                             WindowConfig)
from forecast.errors import ForecastError
from forecast.options import NORMALIZE_HELP, PANELS, run_configs


class _NoBoolMetavar:
    """--help shown as the flag it is, without Typer's `<bool>` value, its options in named panels (PANELS)."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "rich_help_panel", None) is None and param.name in PANELS:
                param.rich_help_panel = PANELS[param.name]
        return params

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


_Command = type("_Command", (_NoBoolMetavar, typer.core.TyperCommand), {})
_Group = type("_Group", (_NoBoolMetavar, typer.core.TyperGroup), {})
app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
def _version(shown: bool) -> None:
    if shown:
        from forecast import __version__

        typer.echo(f"forecast {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", metavar="", callback=_version, is_eager=True,
                                               help="Print the version of forecast and exit.")] = False) -> None:
    """Train SimpleRNN, LSTM and GRU forecasters from a CSV time series, compare them with simple and classical
    references, and forecast new series."""


datasets_app = typer.Typer(cls=_Group, invoke_without_command=True)
app.add_typer(datasets_app, name="datasets")


CellChoice = enum.Enum("CellChoice", {**{c.value: c.value for c in Cell}, "all": "all"}, type=str)
Generator = enum.Enum("Generator", {kind: kind for kind in ("sine", "randomwalk", "trend", "sensors")}, type=str)


DataArg = Annotated[Path | None, typer.Argument(metavar="DATA", help="CSV file with one row per time step (plain, or gzip/bz2/xz/zip-compressed), or a Parquet or Arrow (Feather) file.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", metavar="", help="Print one JSON document on stdout (schemas in docs/options.md); progress, tables and warnings go to stderr.")]
DeviceOpt = Annotated[DeviceChoice, typer.Option(help="auto: a GPU when Keras sees one; cpu; gpu (an error without one).")]


def run_options(
    data: DataArg = None,
    cell: Annotated[list[CellChoice], typer.Option("--cell", "-c", help="Recurrent cell; repeat it, or `all`, to train several on the identical split, scaling and seed.")] = [CellChoice.lstm],  # noqa: B006
    target: Annotated[str | None, typer.Option(help="Column to forecast; needed only when the CSV has several numeric columns.")] = None,
    time_col: Annotated[str | None, typer.Option(help="Time column; default: the first column that parses as dates (none is fine).")] = None,
    features: Annotated[list[str] | None, typer.Option(help="Extra input columns (repeat, or comma-separated), numbers or text (a text column becomes one 0/1 column per value); default none, univariate.")] = None,
    future_features: Annotated[list[str] | None, typer.Option(help="Input columns known in advance (repeat, or comma-separated), e.g. a working-day flag or a planned price: read in the window and at the steps being forecast. To forecast past the data, give their future rows in the CSV with an empty target.")] = None,
    id_col: Annotated[str | None, typer.Option(help="Long tables (one row per series and time step): the column that names each row's series.", show_default=False)] = None,
    series: Annotated[list[str] | None, typer.Option(help="With --id-col: the series to train on (repeat, or comma-separated); default every series in the column, one model across them.", show_default=False)] = None,
    calendar: Annotated[list[str] | None, typer.Option(help="Cyclical (sin, cos) time features as inputs: hour, dow (day of week), doy (day of year), month (repeat, or comma-separated); auto: those that vary at the data's spacing (hour,dow sub-daily; dow,doy daily; doy weekly; month monthly); none (default).", show_default=False)] = None,
    lookback: Annotated[int | None, typer.Option(help="Past steps the model reads for each forecast. Default: two seasons (four for several series; more when the seasonal difference at --horizon needs it), 48 without a season, at most half the training rows and 336; printed and recorded.", show_default=False)] = WindowConfig.lookback,
    horizon: Annotated[int, typer.Option(help="Steps ahead forecast from each origin.")] = WindowConfig.horizon,
    units: Annotated[int, typer.Option(help="Units in each recurrent layer (at most 4,096).")] = ModelConfig.units,
    layers: Annotated[int, typer.Option(help="Stacked recurrent layers (at most 32).")] = ModelConfig.layers,
    dropout: Annotated[float, typer.Option(help="Dropout after each recurrent layer (keeps the fused cuDNN kernel).")] = ModelConfig.dropout,
    recurrent_dropout: Annotated[float, typer.Option(help="Dropout on the recurrent state inside LSTM/GRU; above 0 it disables the fused cuDNN kernel, so GPU training is several times slower.")] = ModelConfig.recurrent_dropout,
    anchor: Annotated[Anchor, typer.Option(help="Start from a reference forecast and learn a correction to it (the untrained model reproduces it; early stopping keeps it when no epoch beats it): naive, seasonal (naive), sdiff (seasonal difference), seasonal2 and sdiff2 (the same at the second season: the week of sub-daily data, the year of daily data, where it shows one), auto (the one with the lowest error on the training and validation origins), none.")] = ModelConfig.anchor,
    linear: Annotated[bool, typer.Option("--linear/--no-linear", metavar="", help="A linear autoregressive path over the window beside the recurrent cell, started at its least-squares fit on the training windows (ridge strength chosen on validation).")] = ModelConfig.linear,
    strategy: Annotated[Strategy, typer.Option(help="direct: a Dense(horizon) head; recursive: a one-step model rolled forward on its own forecasts.")] = ModelConfig.strategy,
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = TrainConfig.epochs,
    batch_size: Annotated[int | None, typer.Option(help="Windows per training batch; default 64, 256 for several series (chosen by measured time to accuracy, docs/options.md).", show_default=False)] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Adam learning rate; default 0.001, 0.003 for several series.", show_default=False)] = None,
    patience: Annotated[int | None, typer.Option(help="Early stopping: epochs without a better validation loss before stopping (best weights restored); 0 turns it off; default 15, 5 for several series.", show_default=False)] = None,
    steps_per_epoch: Annotated[int | None, typer.Option(help="Cap each epoch at N batches, a fresh random sample of the training windows every epoch (for long series); default: every window once.")] = None,
    val_frac: Annotated[float, typer.Option(help="Fraction of rows, after the training part, used for validation.")] = DataConfig.val_frac,
    test_frac: Annotated[float, typer.Option(help="Fraction of rows at the end held out for the test scores (backtest: the size of each fold's test block).")] = DataConfig.test_frac,
    seed: Annotated[int, typer.Option(help="Random seed for weights and shuffling.")] = TrainConfig.seed,
    transform: Annotated[Transform, typer.Option(help="Target transform before scaling, inverted exactly afterwards: none, diff, log, logdiff (log returns, for prices).")] = DataConfig.transform,
    normalize: Annotated[Normalize, typer.Option(help=NORMALIZE_HELP)] = DataConfig.normalize,
    season: Annotated[int | None, typer.Option(help="Season length in steps for the seasonal naive baseline and MASE; default: from the time column's frequency (24 hourly, 48 half-hourly, 7 daily, 5 business days, 12 monthly).")] = None,
    fill: Annotated[Fill, typer.Option(help="Missing values: interpolate (linear), ffill, drop the rows, or error.")] = DataConfig.fill,
    dedupe: Annotated[Dedupe, typer.Option(help="Rows sharing a timestamp: none (stop with an error), keep the last or first, or combine them by sum or mean.")] = DataConfig.dedupe,
    encoding: Annotated[str, typer.Option(help="Text encoding of the CSV, e.g. latin-1 (a UTF-8 byte-order mark is handled).")] = DataConfig.encoding,
    delimiter: Annotated[str | None, typer.Option(help="Field delimiter; default: detected among , ; tab |.")] = None,
    decimal: Annotated[str | None, typer.Option(help="Decimal mark, . or ,; default: , when fields are not comma-separated and numbers use commas.")] = None,
    interval: Annotated[list[float] | None, typer.Option(help="Prediction-interval level in (0, 1), e.g. 0.9; repeat for several. Split-conformal per horizon step, from validation residuals (backtest: each fold's own).")] = None,
    device: DeviceOpt = TrainConfig.device,
    devices: Annotated[str, typer.Option(metavar="N|all", help="Train each model data parallel over N devices of its kind (GPUs; CPUs without one), or all of them: each batch is split across them. JAX (keras.distribution) and TensorFlow (MirroredStrategy) backends.")] = TrainConfig.devices,
    jit: Annotated[Jit, typer.Option(help="XLA compilation: auto (where it measured faster: LSTM/GRU on the CPU for trainings of at least 100,000 windows x epochs; never where it would block the GPU's cuDNN kernel; always with JAX), on, off.")] = TrainConfig.jit,
    precision: Annotated[Precision, typer.Option(help="mixed: float16 recurrent layers with float32 weights and output layer, for GPUs with tensor cores; float32 on a CPU.")] = TrainConfig.precision,
) -> list[RunConfig]:
    """The data, window, model and training options that `train` and `backtest` share: one RunConfig per cell."""
    options = {name: value for name, value in locals().items() if name not in ("data", "cell") and value is not None}
    if data is None:
        raise ForecastError("no data: give the CSV file as DATA, or set `data` in the --config file")
    return run_configs(data, cell, **options)


RUN_OPTIONS = inspect.signature(run_options, eval_str=True).parameters
CONFIG = inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[
    Path | None, typer.Option(help="TOML file of options, keys named as the flags (horizon = 12, cell = \"all\"; a "
                              "command's own under [train], [backtest] or [tune]); flags given override it. Every run "
                              "folder has a run.toml that trains it again.", show_default=False)])
CONTEXT = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
OWN_OPTIONS: dict[str, dict[str, inspect.Parameter]] = {}  # command -> its own options that a config file may set


def with_run_options(command: Callable) -> Callable:
    """Give a command every option of run_options (before its own) and --config, and call it with their RunConfigs
    as its first argument: one definition of the options that `train`, `backtest` and `tune` share. Options come
    from the command line, else from the config file, else their defaults."""
    own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
    OWN_OPTIONS[command.__name__] = {p.name: p for p in own if p.name != "json_out"}

    def wrapper(ctx: typer.Context, config: Path | None, **options):
        with boundary.user_errors():
            given = {name for name in options if ctx.get_parameter_source(name).name == "COMMANDLINE"}
            shared = {name: options.pop(name) for name in RUN_OPTIONS}
            if config is not None:
                from forecast.options import read_config

                from_file, own_from_file = read_config(config, command.__name__, {
                    c: {name: p.annotation for name, p in params.items()} for c, params in OWN_OPTIONS.items()})
                shared = {**{k: v for k, v in shared.items() if v is not None or k == "data"}, **from_file,
                          **{name: shared[name] for name in given & set(shared)}}
                options.update({name: value for name, value in own_from_file.items() if name not in given})
            configs = run_options(**{"data": None, **shared})
        return command(configs, **options)

    wrapper.__name__, wrapper.__doc__ = command.__name__, command.__doc__
    wrapper.__signature__ = inspect.Signature([*RUN_OPTIONS.values(), *own, CONFIG, CONTEXT])
    return wrapper


@app.command(cls=_Command)
@with_run_options
def train(
    configs: list[RunConfig],
    parallel: Annotated[Parallel, typer.Option(help="Train the cells of one command in parallel processes, one thread each: auto (on a multi-core CPU with TensorFlow when the training is long enough to repay loading TensorFlow in each process, see benchmarks/defaults.md), on, off.")] = Parallel.auto,
    runs_dir: Annotated[Path, typer.Option(help="Folder that receives the run folders.")] = Path("runs"),
    name: Annotated[str | None, typer.Option(help="Run name (with several cells: NAME-CELL); default DATA-CELL, made unique.")] = None,
    resume: Annotated[bool, typer.Option("--resume", metavar="", help="Continue an interrupted training of the same command from its last completed epoch; cells whose run folder exists are skipped.")] = False,
    tensorboard: Annotated[bool, typer.Option("--tensorboard", metavar="", help="Write per-epoch loss, val_loss, learning rate and seconds to each run folder's tensorboard/ (tensorboard --logdir runs).")] = False,
    mlflow: Annotated[bool, typer.Option("--mlflow", metavar="", help="Log each run to MLflow (parameters, per-epoch loss, scores, the run folder as artifacts), in a local store in ./mlruns unless --mlflow-uri names one; experiment: the data file's name.")] = False,
    mlflow_uri: Annotated[str | None, typer.Option(help="MLflow tracking URI, e.g. http://mlflow.example.org:5000 or sqlite:///mlflow.db; implies --mlflow.", show_default=False)] = None,
    json_out: JsonOpt = False,
) -> None:
    """Train forecasters on a CSV and write one run folder per cell.

    Example: forecast train datasets/sine.csv --cell all
    """
    from forecast import commands

    if tensorboard:
        configs = [dataclasses.replace(c, train=dataclasses.replace(c.train, tensorboard=True)) for c in configs]
    from forecast.tracking import LOCAL_STORE

    store = mlflow_uri or (LOCAL_STORE if mlflow else None)
    boundary.run_command(json_out, lambda: commands.train(configs, runs_dir, name, resume, parallel, store), resumable=True)


@app.command(cls=_Command)
@with_run_options
def backtest(
    configs: list[RunConfig],
    folds: Annotated[int, typer.Option(help="Test blocks at the end of the series, each --test-frac of its rows; each fold retrains on everything before its block.")] = 5,
    out: Annotated[Path, typer.Option(help="CSV of scores per fold and model, then mean and std rows.")] = Path("backtest.csv"),
    plot: Annotated[Path, typer.Option(help="Figure of scores by fold.")] = Path("plots/backtest.png"),
    forecasts: Annotated[Path, typer.Option(help="Every fold's test forecasts in the long form of `predict`, with a fold and a model column.")] = Path("backtest_forecasts.csv"),
    json_out: JsonOpt = False,
) -> None:
    """Rolling-origin backtest: retrain on an expanding window and score every origin of each test block.

    Example: forecast backtest datasets/electricity_demand_halfhourly.csv --cell all --folds 5
    """
    from forecast import commands

    boundary.run_command(json_out, lambda: commands.backtest(configs, folds, out, plot, forecasts))


@app.command(cls=_Command)
@with_run_options
def tune(
    configs: list[RunConfig],
    trials: Annotated[int, typer.Option(help="Finished (complete or pruned) trials the study should reach; a resumed study counts its earlier ones.")] = 20,
    timeout: Annotated[float | None, typer.Option(help="Seconds after which each worker starts no new trial; default: no limit.", show_default=False)] = None,
    jobs: Annotated[int, typer.Option(help="Worker processes on this machine, one thread each, sharing the study.")] = 1,
    space: Annotated[Path | None, typer.Option(help="TOML file of the search space (options named as the flags: units = {low = 16, high = 128, log = true}, lookback = [24, 48]); default: lookback, units, layers, dropout, learning rate, batch size, normalisation, transform, anchor.", show_default=False)] = None,
    storage: Annotated[str | None, typer.Option(help="Optuna storage URL; default: the SQLite file OUT-DIR/study.db. A PostgreSQL or MySQL URL lets workers on several machines share one study.", show_default=False)] = None,
    study: Annotated[str | None, typer.Option(help="Study name in the storage; default DATA-CELL. The same name resumes the study.", show_default=False)] = None,
    out_dir: Annotated[Path | None, typer.Option(help="Folder for study.db, trials.csv and trials.png; default tune/STUDY.", show_default=False)] = None,
    runs_dir: Annotated[Path, typer.Option(help="Folder that receives the best trial's run folder.")] = Path("runs"),
    folds: Annotated[int, typer.Option(help="Validation blocks each trial is scored on: the usual one, then earlier ones of the same size before it (each trains on the rows before its block); the score is their mean validation MSE. 1: the usual validation part only.")] = 3,
    json_out: JsonOpt = False,
) -> None:
    """Search the options that give the lowest validation MSE with Optuna (TPE, median pruning per epoch), scored
    over several validation blocks (--folds) and starting from the options given, then train the best trial again
    as a run folder.

    Example: forecast tune datasets/nottingham_temp_monthly.csv --horizon 12 --trials 30 --jobs 2
    """
    from forecast import tuning

    boundary.run_command(json_out, lambda: tuning.tune(configs, space, trials, timeout, jobs, storage, study, out_dir, runs_dir, folds),
         resumable=boundary.STUDY)


@app.command(cls=_Command)
def compare(
    runs: Annotated[list[Path] | None, typer.Argument(help="Run folders; default: every run in --runs-dir.", show_default=False)] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where to look for runs when none are named.")] = Path("runs"),
    out: Annotated[Path, typer.Option(help="Where to save the figure.")] = Path("plots/compare.png"),
    data: Annotated[str | None, typer.Option(help="Only the runs trained on this data file (its path, or its file name).", show_default=False)] = None,
    json_out: JsonOpt = False,
) -> None:
    """Plot the loss curves of runs side by side with their test MSE, and print them sorted by test MSE.

    Example: forecast compare runs/sine-rnn runs/sine-lstm runs/sine-gru
    """
    from forecast import commands

    boundary.run_command(json_out, lambda: commands.compare(list(runs or []), runs_dir, out, data))


@app.command(cls=_Command)
def predict(
    run: Annotated[list[Path], typer.Argument(help="Run folder written by `forecast train`; with several, the forecast is their mean.", show_default=False)],
    data: Annotated[Path, typer.Argument(help="CSV with the runs' columns (it may be another series).", show_default=False)],
    out: Annotated[Path, typer.Option(help="Predictions CSV (long form: origin, step, timestamp, forecast, actual, error, baselines, interval bounds).")] = Path("predictions.csv"),
    steps: Annotated[int | None, typer.Option(help="Forecast N steps beyond the last row, at most 10,000 (recursively past the trained horizon; univariate runs, or calendar inputs only).")] = None,
    last: Annotated[int | None, typer.Option(help="Forecast only the K latest origins (the last one with --steps); default: every origin with a full lookback.", metavar="K")] = None,
    target: Annotated[str | None, typer.Option(help="Column of DATA to use as the run's target, when its name differs.")] = None,
    series: Annotated[list[str] | None, typer.Option(help="A long DATA with the run's --id-col: the series to forecast (repeat, or comma-separated); default the run's own (every one it was trained on).", show_default=False)] = None,
    plot: Annotated[Path | None, typer.Option(help="Also draw history, forecasts, intervals and the future part to this PNG.")] = None,
    device: DeviceOpt = DeviceChoice.auto,
    json_out: JsonOpt = False,
) -> None:
    """Forecast a series with a trained run (or the mean of several): every origin with a full lookback, plus
    --steps into the future.

    Example: forecast predict runs/sine-lstm datasets/sine.csv --steps 50 --plot plots/sine_forecast.png
    """
    from forecast import commands

    boundary.run_command(json_out, lambda: commands.predict(run, data, out, steps, target, plot, device, last, series))


@app.command(cls=_Command)
def info(json_out: JsonOpt = False) -> None:
    """Show the versions of Python, Keras, its backend and TensorFlow, and the devices Keras can use.

    Example: forecast info
    """
    from forecast import catalog

    boundary.run_command(json_out, catalog.info)


@datasets_app.callback()
def datasets(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option("--dir", help="Folder of CSV files to list.")] = Path("datasets"),
    json_out: JsonOpt = False,
) -> None:
    """List the shipped CSV files with rows, columns, time span and frequency; `make` writes a synthetic one.

    Example: forecast datasets
    """
    if ctx.invoked_subcommand is not None:
        return
    from forecast import catalog

    boundary.run_command(json_out, lambda: catalog.list_datasets(folder))


@datasets_app.command("make", cls=_Command)
def datasets_make(
    kind: Annotated[Generator, typer.Argument(help="Which series to generate.")],
    out: Annotated[Path, typer.Option(help="CSV file to write.")],
    rows: Annotated[int, typer.Option(help="Number of rows (sensors: per sensor; at most 10,000,000 in all).")] = 2000,
    noise: Annotated[float, typer.Option(help="Standard deviation of the Gaussian noise (randomwalk: of each step).")] = 0.05,
    period: Annotated[int, typer.Option(help="Period of the seasonal cycle, in rows (sine, trend).")] = 24,
    drift: Annotated[float, typer.Option(help="Change per row: the walk's drift, or the trend's slope.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Random seed of the noise.")] = 0,
    series: Annotated[int, typer.Option(help="sensors: how many sensors.")] = 1,
    json_out: JsonOpt = False,
) -> None:
    """Write a synthetic series (hourly timestamps and a `value` column): sine, randomwalk (with --drift), trend
    (a linear trend of slope --drift plus a seasonal cycle plus noise), or sensors (--series sensors in one long
    table: a shared cycle, each sensor's level and amplitude, and a known-future `maintenance` flag).

    Example: forecast datasets make sine --rows 2000 --noise 0.05 --seed 0 --out datasets/sine.csv
    """
    from forecast import catalog

    boundary.run_command(json_out, lambda: catalog.make_dataset(kind.value, out, rows, noise, period, drift, seed, series))
