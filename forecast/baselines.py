"""Simple forecasts every model must beat, on the same windows and in the same shape as a model's forecasts."""

from __future__ import annotations

import numpy as np


def naive(target: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Last observed value carried forward: ŷ[t+h] = y[t] for h = 1..horizon. Returns (n_origins, horizon)."""
    last = np.asarray(target, dtype=np.float64)[origins]
    return np.repeat(last[:, None], horizon, axis=1)
