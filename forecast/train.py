"""Fit a model on windowed batches with early stopping, and forecast every window of a part in batches."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from forecast.config import RunConfig, TrainConfig
from forecast.models import build_model
from forecast.prepare import Prepared, test_scores
from forecast.windows import Windows


class WindowBatches(keras.utils.PyDataset):
    """Feeds Keras one gathered batch at a time; train batches are reshuffled globally every epoch."""

    def __init__(self, windows: Windows, batch_size: int, shuffle_seed: int | None = None, targets: bool = True):
        super().__init__(workers=1, use_multiprocessing=False)
        self.windows = windows
        self.batch_size = batch_size
        self.targets = targets
        self._rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
        self._order = self._new_order()

    def _new_order(self) -> np.ndarray:
        n = len(self.windows)
        return self._rng.permutation(n) if self._rng is not None else np.arange(n)

    def __len__(self) -> int:
        return math.ceil(len(self.windows) / self.batch_size)

    def __getitem__(self, i: int):
        idx = self._order[i * self.batch_size:(i + 1) * self.batch_size]
        x = self.windows.inputs(idx)  # (batch, lookback, n_features)
        if not self.targets:
            return (x,)
        return x, self.windows.targets(idx)  # (batch, horizon)

    def on_epoch_end(self) -> None:
        if self._rng is not None:
            self._order = self._new_order()


class _EpochReporter(keras.callbacks.Callback):
    def __init__(self, on_epoch: Callable[[int, dict, float], None]):
        super().__init__()
        self.on_epoch = on_epoch
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.on_epoch(epoch + 1, dict(logs or {}), time.perf_counter() - self._start)


@dataclass
class FitResult:
    history: pd.DataFrame  # columns epoch, loss, val_loss (MSE on the scaled target)
    seconds: float
    best_epoch: int  # epoch of the lowest validation loss
    model_epoch: int  # epoch whose weights the model holds
    stopped_early: bool


def fit_model(model: keras.Model, train: Windows, val: Windows, cfg: TrainConfig,
              on_epoch: Callable[[int, dict, float], None] | None = None) -> FitResult:
    """Train with early stopping on validation loss; the best epoch's weights are restored so the
    model that is saved and scored is the one that generalised best, not the last one."""
    callbacks: list[keras.callbacks.Callback] = []
    if cfg.patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                                       restore_best_weights=True))
    if on_epoch is not None:
        callbacks.append(_EpochReporter(on_epoch))
    start = time.perf_counter()
    hist = model.fit(WindowBatches(train, cfg.batch_size, shuffle_seed=cfg.seed),
                     validation_data=WindowBatches(val, max(cfg.batch_size, 1024)),
                     epochs=cfg.epochs, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - start
    history = pd.DataFrame({"epoch": np.arange(1, len(hist.history["loss"]) + 1),
                            "loss": hist.history["loss"], "val_loss": hist.history["val_loss"]})
    best = int(history["epoch"][history["val_loss"].idxmin()])
    # Early stopping restores the best epoch's weights at the end; without it the last epoch's stay.
    kept = best if cfg.patience > 0 else len(history)
    return FitResult(history=history, seconds=seconds, best_epoch=best, model_epoch=kept,
                     stopped_early=len(history) < cfg.epochs)


def predict_windows(model: keras.Model, windows: Windows, batch_size: int = 1024) -> np.ndarray:
    """Forecast every window, a batch at a time: (n_windows, horizon) in the model's (scaled) units."""
    if len(windows) == 0:
        return np.zeros((0, windows.horizon))
    return np.asarray(model.predict(WindowBatches(windows, batch_size, targets=False), verbose=0))


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


def train_cell(prep: Prepared, cfg: RunConfig,
               on_epoch: Callable[[int, dict, float], None] | None = None) -> CellResult:
    """Build, fit and score one cell; every cell of a command sees the same split, scaler and seed."""
    seed_everything(cfg.train.seed)
    model = build_model(cfg.model, cfg.window, prep.scaled.shape[1], cfg.train.learning_rate)
    fit = fit_model(model, prep.windows["train"], prep.windows["val"], cfg.train, on_epoch)
    forecast = prep.scaler.inverse_target(predict_windows(model, prep.windows["test"]))
    metrics = {
        "test": test_scores(prep, forecast),
        "best_epoch": fit.best_epoch,
        "model_epoch": fit.model_epoch,
        "epochs_run": len(fit.history),
        "best_val_loss": float(fit.history["val_loss"].min()),
        "training_seconds": round(fit.seconds, 3),
    }
    return CellResult(model=model, fit=fit, test_forecast=forecast, metrics=metrics)


def forecast_recursive(model: keras.Model, window: np.ndarray, steps: int) -> np.ndarray:
    """Roll a univariate model forward, feeding its forecasts back as inputs, for `steps` values.

    `window` is the last (lookback, 1) scaled rows; returns (steps,) scaled forecasts.
    """
    lookback = window.shape[0]
    history = np.asarray(window[:, 0], dtype=np.float32)
    out: list[np.ndarray] = []
    produced = 0
    while produced < steps:
        x = history[-lookback:].reshape(1, lookback, 1)
        pred = np.asarray(model.predict_on_batch(x), dtype=np.float32)[0]  # (horizon,)
        out.append(pred)
        produced += len(pred)
        history = np.concatenate([history, pred])
    return np.concatenate(out)[:steps]


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
