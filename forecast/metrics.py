"""Error metrics in the target's original units. Each takes (y_true, y_pred) of equal shape and returns a float."""

from __future__ import annotations

import numpy as np


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error: mean((y - ŷ)²)."""
    err = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(err**2))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error: sqrt(mean((y - ŷ)²))."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error: mean(|y - ŷ|)."""
    err = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.abs(err)))


METRICS = {"mse": mse, "rmse": rmse, "mae": mae}


def score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Every metric of METRICS over all windows and horizon steps."""
    return {name: fn(y_true, y_pred) for name, fn in METRICS.items()}
