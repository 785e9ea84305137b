"""Run folders: written whole into a temporary folder and renamed into place; read back with checks.

A run holds model.keras, config.json, scaler.json, metrics.json, history.csv, test_predictions.csv and
forecast.png. JSON and CSV only (never pickle); the model loads with Keras' safe mode on.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.config import SCHEMA_VERSION, RunConfig
from forecast.data import Scaler
from forecast.errors import RunError
from forecast.files import TMP_PREFIX, umask_mode

RUN_FILES = ("model.keras", "config.json", "scaler.json", "metrics.json", "history.csv")


def save_run(runs_dir: Path, name: str, unique: bool, write: Callable[[Path], None]) -> Path:
    """Let `write` fill a hidden temporary folder, then rename it to runs_dir/name; return the final path.

    With `unique`, a taken name gets a numeric suffix (name-2, name-3, ...); otherwise it is an error.
    A rename never replaces a non-empty folder, so two trainings cannot clobber each other's run, and
    on any exception (Ctrl-C included) the temporary folder is removed: no half-written run is left.
    """
    runs_dir.mkdir(parents=True, exist_ok=True)
    if not unique:
        check_free(runs_dir, name)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-", dir=runs_dir))
    tmp.chmod(umask_mode(0o777))
    try:
        write(tmp)
        return _publish(tmp, runs_dir, name, unique)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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

    @property
    def name(self) -> str:
        return self.path.name


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RunError(f"{path} cannot be read as JSON ({exc}); the run folder is damaged, train it again") from None


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
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RunError(f"run folder {path} has schema version {version}, this forecast reads {SCHEMA_VERSION}; "
                       "train it again with this version")
    try:
        config = RunConfig.from_dict(meta["options"])
        scaler = Scaler.from_dict(_read_json(path / "scaler.json"))
        history = pd.read_csv(path / "history.csv")
    except (KeyError, TypeError, ValueError) as exc:
        raise RunError(f"run folder {path} has a malformed file ({exc}); train it again") from None
    return RunInfo(path=path, meta=meta, config=config, scaler=scaler,
                   metrics=_read_json(path / "metrics.json"), history=history)


def load_model(path: Path):
    """Load model.keras with safe mode on, so a file carrying code (a Lambda layer) is refused."""
    import keras

    model_path = path / "model.keras"
    try:
        return keras.saving.load_model(model_path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is reported as a damaged run
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"{model_path} cannot be loaded ({reason[:200]}); the run is damaged or unsafe, "
                       "train it again") from None
