"""Forecasts from a Keras model, in its scaled units: every window of a part in batches (direct), a one-step model
rolled forward on its own forecasts (recursive), and one series continued past its end."""

from __future__ import annotations

import keras
import numpy as np

from forecast.batches import WindowBatches, padded
from forecast.config import Strategy
from forecast.devices import shards
from forecast.models import Gather, OnDevice
from forecast.windows import Windows


def predict_batch(model: keras.Model, inputs) -> np.ndarray:
    """model.predict_on_batch on one batch of inputs (an array, or a tuple of them), as float32; inside
    devices.data_parallel the batch is first padded to split evenly over the devices, and cut back after."""
    n = len(inputs[0] if isinstance(inputs, tuple) else inputs)
    rows = padded(np.arange(n), shards())
    if len(rows) > n:
        inputs = tuple(a[rows] for a in inputs) if isinstance(inputs, tuple) else inputs[rows]
    return np.asarray(model.predict_on_batch(inputs), dtype=np.float32)[:n]


def predict_windows(model: keras.Model, windows: Windows, batch_size: int = 1024,
                    on_device: keras.Model | None = None) -> np.ndarray:
    """Forecast every window, a batch at a time: (n_windows, model outputs) in the model's (scaled) units.

    Up to one batch goes straight to the compiled step (`predict_on_batch`): `predict` sets up a data
    pipeline and callbacks on every call, which costs more than the forecast itself for a few windows. More are
    gathered on the device: by `on_device` when given (models.OnDevice around `model`, over the windows' series,
    as in training), else by one made here over the windows' series, which goes to the device once; only the
    origins of each batch leave the host.
    """
    if len(windows) == 0:
        return np.zeros((0, model.output_shape[-1]), np.float32)
    if len(windows) <= batch_size:
        return predict_batch(model, windows.model_inputs(np.arange(len(windows))))
    if on_device is None:
        on_device = OnDevice(model, Gather(windows.values, windows.lookback, windows.horizon, windows.per_window,
                                           windows.future_columns))
    out = on_device.predict(WindowBatches(windows, batch_size, origins=True), verbose=0)
    return np.asarray(out, dtype=np.float32)[:len(windows)]  # a padded last batch (data parallel) forecasts more


def forecast_windows(model: keras.Model, windows: Windows, strategy: Strategy, chunk: int = 4096,
                     on_device: keras.Model | None = None) -> np.ndarray:
    """(n_windows, windows.horizon) scaled forecasts of every window.

    direct: one prediction per window (gathered on the device with `on_device`, see predict_windows).
    recursive: a one-step model fed its own forecasts; all origins of a chunk advance one step per batched call,
    so the cost is horizon calls per chunk, not per window.
    """
    if strategy is Strategy.direct:
        return predict_windows(model, windows, on_device=on_device)
    out = np.empty((len(windows), windows.horizon), np.float32)
    for start in range(0, len(windows), chunk):
        idx = np.arange(start, min(start + chunk, len(windows)))
        x = windows.inputs(idx)  # (batch, lookback, 1)
        offset = np.zeros((len(idx), 1), np.float32)  # per window: change since the origin
        for h in range(windows.horizon):
            step = predict_batch(model, x)  # (batch, 1)
            x = np.concatenate([x[:, 1:], step[:, None, :]], axis=1)
            if windows.per_window:  # the step is relative to the window's last value: re-centre on the new one
                x -= step[:, None, :]
                offset += step
                step = offset
            out[idx, h] = step[:, 0]
    return out


def forecast_recursive(model: keras.Model, window: np.ndarray, steps: int, per_window: bool = False,
                       ahead: np.ndarray | None = None) -> np.ndarray:
    """Roll a model forward, feeding its forecasts back as inputs, for `steps` values.

    `window` is the last (lookback, n_columns) scaled rows; a model that reads more than the target needs
    `ahead`, those columns' scaled values at the rows being forecast (the calendar of their timestamps), at least
    `steps` + horizon of them. Returns (steps,) scaled forecasts (offsets from the window's last value when
    `per_window`, as the model's own outputs are).
    """
    lookback = window.shape[0]
    rows = np.asarray(window, dtype=np.float32)  # absolute scaled values
    origin = rows[-1, 0]
    while len(rows) < lookback + steps:
        x = rows[-lookback:][None].copy()
        base = x[0, -1, 0] if per_window else 0.0
        x[..., 0] -= base  # per-window: the target as offsets from its last value; other columns as scaled
        pred = predict_batch(model, x)[0] + base  # (horizon,)
        made = len(rows) - lookback
        new = np.zeros((len(pred), rows.shape[1]), np.float32)
        new[:, 0] = pred
        if rows.shape[1] > 1:
            new[:, 1:] = ahead[made:made + len(pred)]
        rows = np.concatenate([rows, new])
    future = rows[lookback:lookback + steps, 0]
    return future - origin if per_window else future
