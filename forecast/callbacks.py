"""Keras callbacks of a training: progress reports, a NaN guard, and the state that makes it resumable
(the loss history and early stopping's counters and best weights, saved every epoch)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from forecast.files import atomic_path, write_csv, write_json


class EpochReporter(keras.callbacks.Callback):
    def __init__(self, on_epoch: Callable[[int, dict, float], None]):
        super().__init__()
        self.on_epoch = on_epoch
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.on_epoch(epoch + 1, dict(logs or {}), time.perf_counter() - self._start)


class StopOnInterrupt(keras.callbacks.Callback):
    """Raises the Ctrl-C that interrupts.deferred_interrupt held back, after the batch under way."""

    def __init__(self, stop: threading.Event):
        super().__init__()
        self.stop = stop

    def _check(self, *args, **kwargs) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt

    on_train_batch_end = on_test_batch_end = on_epoch_end = _check


class EpochScore(keras.callbacks.Callback):
    """Adds `key`: fn(model) to each epoch's logs, for the callbacks after it."""

    def __init__(self, key: str, fn: Callable[[keras.Model], float]):
        super().__init__()
        self.key, self.fn = key, fn

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[self.key] = self.fn(self.model)


class NanGuard(keras.callbacks.Callback):
    """Stops at the end of the first epoch whose loss is NaN or infinite, and remembers which."""

    def __init__(self):
        super().__init__()
        self.bad_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if any(not math.isfinite(logs.get(k, 0.0)) for k in ("loss", "val_loss")):
            self.bad_epoch = epoch + 1
            self.model.stop_training = True


class HistoryLog(keras.callbacks.Callback):
    """history.csv rewritten atomically after every epoch, so an interrupted training keeps its curve."""

    def __init__(self, path: Path | None, start: int):
        super().__init__()
        self.path = path
        self.rows: list[dict] = []
        self._began = 0.0
        if path is not None and path.exists() and start:
            old = pd.read_csv(path)
            self.rows = old[old["epoch"] <= start].to_dict("records")

    def on_epoch_begin(self, epoch, logs=None):
        self._began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.rows = [r for r in self.rows if r["epoch"] < epoch + 1]
        self.rows.append({"epoch": epoch + 1, "loss": float(logs.get("loss", np.nan)),
                          "val_loss": float(logs.get("val_loss", np.nan)),
                          "seconds": round(time.perf_counter() - self._began, 4)})
        if self.path is not None:
            write_csv(self.path, self.frame())

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=["epoch", "loss", "val_loss", "seconds"])


class EpochSeconds(keras.callbacks.Callback):
    """Adds the epoch's wall time to its logs as `seconds`, for the callbacks after it (TensorBoard)."""

    def __init__(self):
        super().__init__()
        self._began = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._began


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping on val_loss with best weights restored; its counters and best weights are saved each
    epoch when `state_dir` is given, so a resumed training stops at the same epoch an uninterrupted one would."""

    def __init__(self, patience: int, state_dir: Path | None, start: int):
        super().__init__(monitor="val_loss", patience=patience, restore_best_weights=True)
        self.state_dir = state_dir
        self.start = start

    def _paths(self) -> tuple[Path, Path]:
        return self.state_dir / "early_stopping.json", self.state_dir / "best_weights.npz"

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.state_dir is None or not self.start:
            return
        state_path, weights_path = self._paths()
        if state_path.exists() and weights_path.exists():
            state = json.loads(state_path.read_text())
            self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]
            with np.load(weights_path, allow_pickle=False) as saved:
                self.best_weights = [saved[f"w{i}"] for i in range(len(saved.files))]

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        if self.state_dir is None:
            return
        state_path, weights_path = self._paths()
        if self.best_epoch == epoch and self.best_weights is not None:
            with atomic_path(weights_path) as tmp:
                np.savez(tmp, **{f"w{i}": w for i, w in enumerate(self.best_weights)})
        write_json(state_path, {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch})
