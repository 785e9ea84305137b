"""Run folders: written whole into a temporary folder and renamed into place; read back with checks.

A run holds model.keras, config.json, scaler.json, metrics.json, history.csv, test_predictions.csv,
forecast.png, and intervals.json when prediction intervals were asked for. JSON and CSV only (never pickle); the model loads with Keras' safe mode on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forecast import schema
from forecast.config import SCHEMA_VERSION, RunConfig, input_columns
from forecast.errors import ForecastError, RunError, shorten
from forecast.files import TMP_PREFIX, umask_mode, write_json
from forecast.scaling import Scaler

RUN_FILES = ("model.keras", "config.json", "scaler.json", "metrics.json", "history.csv")


PARTIAL_PREFIX = ".partial-"
# A trained cell's complete run folder, inside its partial folder, until every cell of its command is trained and
# the group's facts (ensemble, recommendation, advice) are in its metrics.json: a run folder is published once,
# finished, and never changes after (publish_finished). An interrupted command's finished cells wait there for
# --resume.
FINISHED = "finished"


def stage_run(state_dir: Path, write: Callable[[Path], None]) -> Path:
    """Let `write` fill a temporary folder inside the partial folder `state_dir`, then rename it to
    state_dir/FINISHED (atomically: a half-written run is never taken for a finished one); return that path."""
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=state_dir))
    tmp.chmod(umask_mode(0o777))
    try:
        write(tmp)
        os.rename(tmp, state_dir / FINISHED)
        return state_dir / FINISHED
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def finished_run(runs_dir: Path, name: str) -> Path | None:
    """The finished, not yet published run folder of `name` (stage_run), if there is one."""
    folder = partial_dir(runs_dir, name) / FINISHED
    return folder if (folder / "metrics.json").is_file() else None


def publish_finished(runs_dir: Path, name: str, unique: bool) -> Path:
    """Rename a finished run (stage_run) to runs_dir/name (NAME-2, ... with `unique` when taken), then remove its
    partial folder; return the published path."""
    folder = partial_dir(runs_dir, name)
    path = _publish(folder / FINISHED, runs_dir, name, unique)
    shutil.rmtree(folder, ignore_errors=True)
    return path


class RunBusy(RunError):
    """Another process is training a run of this name right now."""


def partial_dir(runs_dir: Path, name: str) -> Path:
    return runs_dir / f"{PARTIAL_PREFIX}{name}"


@contextlib.contextmanager
def partial_run(runs_dir: Path, name: str, options: dict, resume: bool) -> Iterator[Path]:
    """A hidden folder for the checkpoints of an unfinished training, locked while it trains.

    Removed when the block fails with a user error, or succeeds without staging a finished run (stage_run: that one
    stays until publish_finished moves it out); kept when the training is interrupted (Ctrl-C, SIGTERM, SIGKILL)
    so that `--resume` with the same options can continue it.
    """
    folder = partial_dir(runs_dir, name)
    existed = folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    lock = (folder / "lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise RunBusy(f"another training is writing {name} right now ({folder}); wait for it to finish "
                      "or pass another --name") from None
    try:
        if existed and not resume and (folder / FINISHED).exists():  # its command is still training other cells
            raise RunBusy(f"{name} is trained and waits for the other cells of its command ({folder}): another "
                          "training is running, or one was interrupted; continue it with --resume, or pass another "
                          "--name")
        if existed and not resume:
            raise RunError(f"{folder} holds an interrupted training of {name}; continue it with --resume, "
                           "or delete that folder to start over")
        options_path = folder / "options.json"
        if existed and options_path.exists():
            _check_same_options(json.loads(options_path.read_text()), options, name, folder)
        else:
            write_json(options_path, options)
    except BaseException:
        lock.close()
        raise
    try:
        yield folder
    except ForecastError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    else:
        if not (folder / FINISHED).exists():  # a finished run waits in it to be published (publish_finished)
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        lock.close()


def _check_same_options(old: dict, new: dict, name: str, folder: Path) -> None:
    for section, values in new.items():
        for key, value in values.items():
            before = old.get(section, {}).get(key)
            if before != value:
                raise RunError(f"the interrupted training of {name} used --{key.replace('_', '-')} {before}, not "
                               f"{value}; resume with the same options, or delete {folder} to start over")


def check_free(runs_dir: Path, name: str) -> None:
    if (runs_dir / name).exists():
        raise RunError(f"run folder {runs_dir / name} already exists; choose another --name or remove it")


def _publish(tmp: Path, runs_dir: Path, name: str, unique: bool) -> Path:
    for k in range(1, 10_000):
        target = runs_dir / (name if k == 1 else f"{name}-{k}")
        try:
            os.rename(tmp, target)
            return target
        except OSError:
            if not target.exists() or not unique:
                raise RunError(f"run folder {target} already exists; choose another --name or remove it") from None
    raise RunError(f"could not find a free run name for {name} in {runs_dir}; clean up old runs")


def list_runs(runs_dir: Path) -> list[Path]:
    """Run folders directly inside runs_dir, oldest first; temporary folders are skipped."""
    if not runs_dir.is_dir():
        return []
    runs = [p for p in runs_dir.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "metrics.json").is_file()]
    return sorted(runs, key=lambda p: (p.stat().st_mtime, p.name))


@dataclass
class RunInfo:
    """What a run folder says about itself, without loading its model."""

    path: Path
    meta: dict  # config.json
    config: RunConfig
    scaler: Scaler
    metrics: dict
    history: pd.DataFrame
    intervals: dict[str, list[float]]  # level ("0.9") -> half-width per step; empty without --interval
    interval_scale: dict | None = None  # widths in units of each window's spread (evaluate.interval_scale)
    series_scalers: dict[str, Scaler] = field(default_factory=dict)  # a run of several series: each one's scaler

    @property
    def name(self) -> str:
        return self.path.name


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunError(f"{path} cannot be read as JSON ({shorten(exc, 80)}); the run folder is damaged, train it "
                       "again") from None


def read_run(path: str | Path) -> RunInfo:
    """Read and check a run folder's JSON and CSV files."""
    path = Path(path)
    if not path.exists():
        raise RunError(f"run folder {path} does not exist; list runs with `ls runs/` or train one with `forecast train`")
    if not path.is_dir():
        raise RunError(f"{path} is not a run folder; pass the folder that `forecast train` wrote, e.g. runs/sine-lstm")
    missing = [f for f in RUN_FILES if not (path / f).is_file()]
    if missing:
        raise RunError(f"run folder {path} is incomplete (missing {', '.join(missing)}); train it again")
    meta = _read_json(path / "config.json")
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if version != SCHEMA_VERSION:
        writer = meta.get("forecast_version") if isinstance(meta, dict) else None
        by = f" (written by forecast {shorten(writer, 20)})" if isinstance(writer, str) else ""
        raise RunError(f"run folder {path} has schema version {shorten(repr(version), 20)}{by}, this forecast reads "
                       f"{SCHEMA_VERSION}; train it again with this version: forecast train --config {path}/run.toml")
    try:
        config = schema.read_config(meta)
        columns = input_columns(config.data)
        raw_scaler = schema.obj(_read_json(path / "scaler.json"), "scaler.json")
        scaler = Scaler.from_dict(raw_scaler, columns)
        series_scalers = {str(name): Scaler.from_dict(schema.obj(raw, f"scaler.json's series {name}"), columns)
                          for name, raw in schema.obj(raw_scaler.get("series", {}), "scaler.json's series").items()}
        history = schema.check_history(_read_csv(path / "history.csv"))
        metrics = schema.check_metrics(_read_json(path / "metrics.json"), config.window.horizon)
        raw_intervals = _read_json(path / "intervals.json") if (path / "intervals.json").exists() else None
        intervals = schema.check_intervals(raw_intervals, config.window.horizon) if raw_intervals is not None else {}
        interval_scale = schema.check_interval_scale(raw_intervals) if raw_intervals is not None else None
    except (KeyError, TypeError, ValueError) as exc:
        detail = str(exc) if isinstance(exc, schema.Malformed) else f"{type(exc).__name__}: {exc}"
        raise RunError(f"run folder {path} has a malformed file ({shorten(detail, 200)}); train it again") from None
    return RunInfo(path=path, meta=meta, config=config, scaler=scaler, metrics=metrics, history=history,
                   intervals=intervals, interval_scale=interval_scale, series_scalers=series_scalers)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise schema.Malformed(f"{path.name} cannot be read as CSV ({shorten(exc, 80)})") from None


# The only layers `forecast train` builds; anything else in a model.keras did not come from this tool.
ALLOWED_LAYERS = {"InputLayer", "SimpleRNN", "LSTM", "GRU", "Dropout", "Dense", "Flatten", "Add", "Concatenate", "Reference",
                  "Correction"}


def _check_model_file(model_path: Path) -> None:
    """Refuse a model.keras that is not a zip or holds layers this tool never builds, before Keras parses it."""
    if not zipfile.is_zipfile(model_path):
        raise RunError(f"{model_path} is not a Keras model file (not a zip archive: truncated or corrupted); "
                       "train the run again")
    try:
        with zipfile.ZipFile(model_path) as archive:
            config = json.loads(archive.read("config.json"))
        layers = config["config"]["layers"]
        classes = {layer["class_name"] for layer in layers}
    except (KeyError, TypeError, ValueError, zipfile.BadZipFile) as exc:
        raise RunError(f"{model_path} is not a model saved by forecast ({type(exc).__name__}: {exc}); "
                       "train the run again") from None
    foreign = sorted(classes - ALLOWED_LAYERS)
    if foreign:
        raise RunError(f"{model_path} contains layers that forecast never builds ({', '.join(foreign)}); refused "
                       "to load it, since such a layer can run arbitrary code; train the run again")


def load_model(path: Path):
    """Load model.keras with safe mode on, so a file carrying code (a Lambda layer) is refused."""
    import keras

    from forecast import models  # noqa: F401 - registers the Reference layer, the one layer of our own

    model_path = path / "model.keras"
    _check_model_file(model_path)
    try:
        return keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is reported as a damaged or unsafe run
        text = str(exc).strip()
        if "safe_mode" in text or "arbitrary code" in text:
            raise RunError(f"{model_path} contains code that Keras' safe mode refuses to run; refused to load it "
                           "(forecast never turns safe mode off); train the run again") from None
        reason = text.splitlines()[0][:200] if text else type(exc).__name__
        raise RunError(f"{model_path} cannot be loaded ({reason}); the run is damaged, train it again") from None
