"""Fit a model on windowed batches with early stopping, and forecast every window of a part in batches."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from forecast import callbacks
from forecast.compute import Compute, plan_compute, training_work
from forecast.config import RunConfig, Strategy, TrainConfig, WindowConfig
from forecast.errors import ForecastError
from forecast.models import build_model
from forecast.prepare import Prepared, interval_half_widths, test_scores
from forecast.windows import Windows, part_origins

# Threads that gather the next training batches while a step runs (Keras' ordered enqueuer); 1 gathers in the
# training loop. Two measured faster for an LSTM on the CPU (lookback 96, 64 units, batch 256: 3.85 s an epoch
# against 4.39 s, and 4.37 s against 4.92 s), but with them one full test run saw the SIGTERM test fail once,
# not reproduced since; until that is understood, the default stays 1. forecast.parallel's workers keep 1.
GATHER_THREADS = 1


class TrainingDiverged(ForecastError):
    """The loss became NaN or infinite."""


class WindowBatches(keras.utils.PyDataset):
    """Feeds Keras one gathered batch at a time; training batches are reshuffled globally every epoch.

    The permutation of epoch k depends only on (seed, k), so a resumed training sees the same batches
    as an uninterrupted one. With `steps`, an epoch is the first `steps` batches of that permutation: a
    fresh random sample of the windows every epoch, for series too long to pass over in one.
    """

    def __init__(self, windows: Windows, batch_size: int, shuffle_seed: int | None = None, targets: bool = True,
                 epoch: int = 0, steps: int | None = None, workers: int = 1):
        # workers > 1: Keras gathers the next batches in threads, in order, while the current step runs.
        super().__init__(workers=workers, use_multiprocessing=False)
        self.windows = windows
        self.batch_size = batch_size
        self.steps = steps
        self.targets = targets
        self.seed = shuffle_seed
        self.epoch = epoch
        self._order = self._new_order()

    def _new_order(self) -> np.ndarray:
        n = len(self.windows)
        if self.seed is None:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n)

    def __len__(self) -> int:
        full = math.ceil(len(self.windows) / self.batch_size)
        return full if self.steps is None else min(full, self.steps)

    def __getitem__(self, i: int):
        idx = self._order[i * self.batch_size:(i + 1) * self.batch_size]
        x = self.windows.inputs(idx)  # (batch, lookback, n_features)
        if not self.targets:
            return (x,)
        return x, self.windows.targets(idx)  # (batch, horizon)

    def on_epoch_end(self) -> None:
        if self.seed is not None:
            self.epoch += 1
            self._order = self._new_order()


@dataclass
class FitResult:
    history: pd.DataFrame  # columns epoch, loss, val_loss (MSE on the scaled target)
    seconds: float
    best_epoch: int  # epoch of the lowest validation loss
    model_epoch: int  # epoch whose weights the model holds


def resumed_epoch(state_dir: Path | None) -> int:
    """Epochs already completed by an interrupted training whose state is in `state_dir` (0 if none)."""
    meta = state_dir / "backup" / "training_metadata.json" if state_dir is not None else None
    if meta is None or not meta.exists():
        return 0
    try:
        return int(json.loads(meta.read_text())["epoch"])
    except (ValueError, KeyError, TypeError):
        return 0


def discard_unreadable_checkpoint(backup: Path) -> None:
    """A kill in the middle of writing the first checkpoint leaves a damaged weights file with no previous
    copy to fall back on (Keras' double checkpointing keeps one only from the second epoch on): start over."""
    import shutil

    import h5py

    weights = backup / "latest.weights.h5"
    if not weights.exists() or Path(f"{weights}.bkp").exists():
        return
    try:
        h5py.File(weights, "r").close()
    except OSError:
        shutil.rmtree(backup, ignore_errors=True)


def fit_model(model: keras.Model, train: Windows, val: Windows, cfg: TrainConfig,
              on_epoch: Callable[[int, dict, float], None] | None = None,
              state_dir: Path | None = None) -> FitResult:
    """Train with early stopping on validation loss; the best epoch's weights are restored so the
    model that is saved and scored is the one that generalised best, not the last one.

    With `state_dir`, the training checkpoints itself every epoch (Keras' BackupAndRestore with double
    checkpointing) and a later call with the same `state_dir` continues from the last completed epoch.
    """
    if state_dir is not None:
        discard_unreadable_checkpoint(state_dir / "backup")
    first_epoch = resumed_epoch(state_dir)
    history = callbacks.HistoryLog(state_dir / "history.csv" if state_dir is not None else None, first_epoch)
    guard = callbacks.NanGuard()
    extra: list[keras.callbacks.Callback] = [history, guard]
    if cfg.patience > 0:
        extra.append(callbacks.ResumableEarlyStopping(cfg.patience, state_dir, first_epoch))
    if state_dir is not None:
        # Last, so the small state files above are written before the checkpoint that commits the epoch.
        extra.append(keras.callbacks.BackupAndRestore(str(state_dir / "backup"), double_checkpoint=True,
                                                          delete_checkpoint=False))
    if on_epoch is not None:
        extra.append(callbacks.EpochReporter(on_epoch))
    began = time.perf_counter()
    batches = WindowBatches(train, cfg.batch_size, shuffle_seed=cfg.seed, epoch=first_epoch,
                            steps=cfg.steps_per_epoch, workers=GATHER_THREADS)
    model.fit(batches,
              validation_data=WindowBatches(val, max(cfg.batch_size, 1024)),
              # Our dataset already shuffles globally by (seed, epoch); Keras' own batch-order shuffle would
              # draw from the process-wide RNG and make a resumed training differ from an uninterrupted one.
              shuffle=False, epochs=cfg.epochs, callbacks=extra, verbose=0)
    seconds = time.perf_counter() - began
    if guard.bad_epoch is not None:
        raise TrainingDiverged(
            f"training diverged: the loss became NaN or infinite in epoch {guard.bad_epoch}; lower "
            f"--learning-rate (it is {cfg.learning_rate:g}) or scale the target down (e.g. change its units)")
    hist = history.frame()
    best = int(hist["epoch"][hist["val_loss"].idxmin()])
    # Early stopping restores the best epoch's weights at the end; without it the last epoch's stay.
    kept = best if cfg.patience > 0 else len(hist)
    return FitResult(history=hist, seconds=seconds, best_epoch=best, model_epoch=kept)


def predict_windows(model: keras.Model, windows: Windows, batch_size: int = 1024) -> np.ndarray:
    """Forecast every window, a batch at a time: (n_windows, model outputs) in the model's (scaled) units.

    Up to one batch goes straight to the compiled step (`predict_on_batch`): `predict` sets up a data
    pipeline and callbacks on every call, which costs more than the forecast itself for a few windows.
    """
    if len(windows) == 0:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    if len(windows) <= batch_size:
        return np.asarray(model.predict_on_batch(windows.inputs(np.arange(len(windows)))), dtype=np.float32)
    return np.asarray(model.predict(WindowBatches(windows, batch_size, targets=False), verbose=0), dtype=np.float32)


def forecast_windows(model: keras.Model, windows: Windows, strategy: Strategy, chunk: int = 4096) -> np.ndarray:
    """(n_windows, windows.horizon) scaled forecasts of every window.

    direct: one prediction per window. recursive: a one-step model fed its own forecasts; all origins of a
    chunk advance one step per batched call, so the cost is horizon calls per chunk, not per window.
    """
    if strategy is Strategy.direct:
        return predict_windows(model, windows)
    out = np.empty((len(windows), windows.horizon), np.float32)
    for start in range(0, len(windows), chunk):
        idx = np.arange(start, min(start + chunk, len(windows)))
        x = windows.inputs(idx)  # (batch, lookback, 1)
        offset = np.zeros((len(idx), 1), np.float32)  # window-relative: change since the origin
        for h in range(windows.horizon):
            step = np.asarray(model.predict_on_batch(x), dtype=np.float32)  # (batch, 1)
            x = np.concatenate([x[:, 1:], step[:, None, :]], axis=1)
            if windows.relative:  # the step is relative to the window's last value: re-centre on the new one
                x -= step[:, None, :]
                offset += step
                step = offset
            out[idx, h] = step[:, 0]
    return out


def seed_everything(seed: int) -> None:
    """Same seed, same initial weights and shuffles: several cells of one command start alike."""
    keras.utils.set_random_seed(seed)


def backend_devices() -> list[str]:
    """The devices Keras' backend can use, e.g. ["gpu:0", "cpu:0"]."""
    return [d.lower() for d in keras.distribution.list_devices()]


def gpu_names() -> list[str]:
    """Human names of the GPUs the backend sees (empty when CPU only)."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax
            return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if backend == "tensorflow":
            import tensorflow as tf
            return [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                    for g in tf.config.list_physical_devices("GPU")]
    except Exception:  # noqa: BLE001 - a name is only for display
        pass
    return [d for d in backend_devices() if d.startswith("gpu")]


@dataclass
class CellResult:
    """One trained cell: its model, training history and test forecasts in original units."""

    model: keras.Model
    fit: FitResult
    test_forecast: np.ndarray  # (n_test_windows, horizon), original units
    metrics: dict
    intervals: dict[str, list[float]]  # level ("0.9") -> conformal half-width per horizon step
    compute: Compute


def one_step_windows(prep: Prepared, part: str) -> Windows:
    """A part's windows with one-step targets, for training a recursive model."""
    lookback = prep.windows[part].lookback
    return Windows(prep.scaled, lookback, 1, part_origins(prep.split.bounds(part), lookback, 1),
                   prep.windows[part].relative)


def train_cell(prep: Prepared, cfg: RunConfig, on_epoch: Callable[[int, dict, float], None] | None = None,
               state_dir: Path | None = None, on_gpu: bool = False) -> CellResult:
    """Build, fit and score one cell; every cell of a command sees the same split, scaler and seed."""
    recursive = cfg.model.strategy is Strategy.recursive
    compute = plan_compute(cfg, on_gpu, training_work(prep, cfg), keras.backend.backend())
    seed_everything(cfg.train.seed)
    outputs = WindowConfig(cfg.window.lookback, 1 if recursive else cfg.window.horizon)
    model = build_model(cfg.model, outputs, prep.scaled.shape[1], cfg.train.learning_rate, jit=compute.jit,
                        mixed=compute.mixed, use_cudnn=compute.use_cudnn)
    train, val = ((one_step_windows(prep, "train"), one_step_windows(prep, "val")) if recursive
                  else (prep.windows["train"], prep.windows["val"]))
    fit = fit_model(model, train, val, cfg.train, on_epoch, state_dir)

    def forecast(part: str) -> np.ndarray:
        w = prep.windows[part]
        return prep.to_target(forecast_windows(model, w, cfg.model.strategy), w.origins)

    test_forecast = forecast("test")
    intervals = interval_half_widths(prep, forecast("val"), cfg.train.intervals) if cfg.train.intervals else {}
    metrics = {
        "test": test_scores(prep, test_forecast, intervals),
        "best_epoch": fit.best_epoch,
        "model_epoch": fit.model_epoch,
        "epochs_run": len(fit.history),
        "best_val_loss": float(fit.history["val_loss"].min()),
        "training_seconds": round(fit.seconds, 3),
    }
    return CellResult(model=model, fit=fit, test_forecast=test_forecast, metrics=metrics, intervals=intervals,
                      compute=compute)


def forecast_recursive(model: keras.Model, window: np.ndarray, steps: int, relative: bool = False) -> np.ndarray:
    """Roll a univariate model forward, feeding its forecasts back as inputs, for `steps` values.

    `window` is the last (lookback, 1) scaled rows; returns (steps,) scaled forecasts (offsets from the
    window's last value when `relative`, as the model's own outputs are).
    """
    lookback = window.shape[0]
    history = np.asarray(window[:, 0], dtype=np.float32)  # absolute scaled values
    origin = history[-1]
    while len(history) < lookback + steps:
        x = history[-lookback:].reshape(1, lookback, 1)
        base = x[0, -1, 0] if relative else 0.0
        pred = np.asarray(model.predict_on_batch(x - base), dtype=np.float32)[0] + base  # (horizon,)
        history = np.concatenate([history, pred])
    future = history[lookback:lookback + steps]
    return future - origin if relative else future


def versions() -> dict[str, str]:
    """Versions that decide whether a run can be reproduced or loaded elsewhere."""
    import platform

    found = {"python": platform.python_version(), "forecast": _version("forecast"),
             "keras": keras.__version__, "backend": keras.backend.backend(),
             "numpy": np.__version__, "pandas": pd.__version__}
    for pkg in ("tensorflow", "jax", "torch"):
        v = _version(pkg)
        if v:
            found[pkg] = v
    return found


def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return ""
