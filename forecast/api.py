"""The Python API: the commands as functions on a CSV path or a pandas DataFrame, returning run folders as `Run`
objects and scores and forecasts as DataFrames. The same work as the CLI (forecast.commands), so the numbers are
the same; mistakes raise ForecastError and notes are ForecastWarning warnings. Keras loads only when a model is
trained or loaded; `import forecast` stays light."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from forecast.config import DeviceChoice, Parallel
from forecast.errors import ForecastError
from forecast.options import coerce, run_configs


def _work(verbose, work):
    """Run a command's work as a library call: its tables and progress only when `verbose`, its notes as
    warnings (the backend silences TensorFlow's start-up noise as for the CLI)."""
    import warnings

    from forecast import report

    with report.library_mode(coerce(verbose, bool, "verbose")), warnings.catch_warnings():
        # TensorFlow's own notes about NumPy 2 say nothing about the user's data or options
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword")
        return work()


@dataclass(frozen=True)
class Run:
    """A run folder written by `train` (or the CLI): its options, scores and history, and predictions."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @functools.cached_property
    def _info(self):  # read and checked once: a run folder never changes after it is published
        from forecast import artifacts

        return artifacts.read_run(self.path)

    @property
    def config(self):
        """The options as resolved (a RunConfig): lookback, season, target, normalisation and anchor included."""
        return self._info.config

    @property
    def cell(self) -> str:
        return self.config.model.cell.value

    @property
    def metrics(self) -> dict:
        """metrics.json: test (and validation) scores of the model and every reference, by step, and more."""
        return self._info.metrics

    @property
    def history(self):
        """history.csv as a DataFrame: epoch, loss, val_loss, seconds."""
        return self._info.history

    def scores(self, part: str = "test"):
        """The model's and each reference's scores on the test (or "val") part, one row each, in original units."""
        import pandas as pd

        from forecast.baselines import ALL_REFERENCES

        if part not in ("test", "val") or part not in self.metrics:
            raise ForecastError(f"part must be \"test\" or \"val\" (got {part!r})" if part not in ("test", "val")
                                else f"run {self.path} keeps no validation scores (an older version wrote it)")
        scored = self.metrics[part]
        rows = {"model": scored["model"], **{name: scored["baselines"][name] for name in ALL_REFERENCES
                                              if name in scored["baselines"]}}
        return pd.DataFrame.from_dict(rows, orient="index")

    def predict(self, data, steps: int | None = None, last: int | None = None, target: str | None = None,
                series: str | list[str] | None = None, out: str | Path | None = None, plot: str | Path | None = None,
                device: str = "auto", verbose: bool = False):
        """Forecast every origin of `data` (a CSV path or a DataFrame with this run's columns), and `steps` past its
        end; as `forecast predict`. Returns the long-form table (origin, step, timestamp, forecast, actual, error,
        the references, interval bounds); `out` and `plot` also write it and its figure."""
        return predict([self], data, steps=steps, last=last, target=target, series=series, out=out, plot=plot,
                       device=device, verbose=verbose)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"


def load_run(path: str | Path) -> Run:
    """A run folder, checked as `forecast predict` checks it (a damaged one raises ForecastError)."""
    from forecast import artifacts

    return Run(artifacts.read_run(coerce(path, Path, "path")).path)


def train(data, cell="lstm", *, runs_dir: str | Path = "runs", name: str | None = None, resume: bool = False,
          parallel: str = "auto", tensorboard: bool = False, mlflow: str | bool | None = None, verbose: bool = True,
          **options) -> Run | list[Run]:
    """Train on `data` (a CSV path or a DataFrame) and write a run folder per cell, as `forecast train`: the options
    are the flags' names with _ for - (horizon=12, lookback=48, epochs=30, interval=0.9, ...). Returns the Run, or
    a list of Runs when `cell` names several ("all", or a list). `mlflow`: True (a local store in ./mlruns) or a
    tracking URI logs every run to MLflow."""
    import dataclasses

    from forecast import commands

    configs = run_configs(data, cell, **options)
    if coerce(tensorboard, bool, "tensorboard"):
        configs = [dataclasses.replace(c, train=dataclasses.replace(c.train, tensorboard=True)) for c in configs]
    from forecast.tracking import LOCAL_STORE

    if mlflow is not None and not isinstance(mlflow, (bool, str)):
        raise ForecastError(f"mlflow must be True (a local store in ./mlruns) or a tracking URI (got {mlflow!r})")
    store = LOCAL_STORE if mlflow is True else (mlflow or None)
    where, name = coerce(runs_dir, Path, "runs_dir"), None if name is None else coerce(name, str, "name")
    doc = _work(verbose, lambda: commands.train(configs, where, name, coerce(resume, bool, "resume"),
                                                coerce(parallel, Parallel, "parallel"), store))
    made = [Run(Path(r["path"])) for r in doc["runs"]]
    one = isinstance(cell, str) and cell != "all" and "," not in cell  # one cell named: a Run, not a list
    return made[0] if one else made


def backtest(data, cell="lstm", *, folds: int = 5, out: str | Path | None = None, plot: str | Path | None = None,
             forecasts: str | Path | None = None, verbose: bool = True, **options):
    """Rolling-origin backtest on `data`, as `forecast backtest` (the same options as `train`): returns the scores
    of every fold and model as a DataFrame (fold, model, mse, mae, mase, ...); `out`, `plot` and `forecasts`
    also write the files of the command."""
    from forecast import commands

    configs = run_configs(data, cell, **options)
    doc = _work(verbose, lambda: commands.backtest(configs, coerce(folds, int, "folds"), _path(out), _path(plot),
                                                   _path(forecasts)))
    return doc["table"]


def compare(runs=None, *, runs_dir: str | Path = "runs", data: str | Path | None = None,
            out: str | Path | None = None, verbose: bool = False):
    """The test scores of runs (Run objects or folders; default: every run in `runs_dir`; with `data`, only those
    trained on that file) beside the references and each run's untrained start (`start_mse`, ..., `kept_start`),
    sorted by test MSE, as a DataFrame; `out` also draws the figure
    of `forecast compare`."""
    from forecast import commands

    paths = [Path(r.path if isinstance(r, Run) else r) for r in ([runs] if isinstance(runs, (str, Path, Run))
                                                                 else runs or [])]
    doc = _work(verbose, lambda: commands.compare(paths, Path(runs_dir), _path(out), None if data is None else str(data)))
    import pandas as pd

    rows = []
    for r in doc["runs"]:
        row = {key: r[key] for key in ("run", "path", "cell", "data", "target", "lookback", "horizon", "epochs")}
        row.update({f"test_{metric}": value for metric, value in r["test"].items()})
        for reference, scores in r["baselines"].items():
            row.update({f"{reference}_{metric}": scores[metric] for metric in ("mse", "mae", "mase")})
        if r.get("start"):  # the untrained start the run's cell began at, and whether it kept it
            row.update({f"start_{metric}": r["start"]["test"][metric] for metric in ("mse", "mae", "mase")},
                       kept_start=r["start"]["kept"])
        rows.append(row)
    return pd.DataFrame(rows)


def predict(runs, data, *, steps: int | None = None, last: int | None = None, target: str | None = None,
            series: str | list[str] | None = None, out: str | Path | None = None, plot: str | Path | None = None, device: str = "auto",
            verbose: bool = False):
    """Forecast `data` with a run, or with the mean of several (a list), as `forecast predict`; returns the table."""
    from forecast import commands

    paths = [r.path if isinstance(r, Run) else coerce(r, Path, "runs")
             for r in (runs if isinstance(runs, (list, tuple)) else [runs])]
    if not paths:
        raise ForecastError("runs names no run; pass a Run, a run folder, or a list of them")
    steps, last = (None if v is None else coerce(v, int, name) for v, name in ((steps, "steps"), (last, "last")))
    doc = _work(verbose, lambda: commands.predict(
        paths, data if not isinstance(data, str) else Path(data), _path(out), steps, target, _path(plot),
        coerce(device, DeviceChoice, "device"), last, series))
    return doc["table"]


def _path(value) -> Path | None:
    return None if value is None else coerce(value, Path, "an output path")
