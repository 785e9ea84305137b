"""Simple forecasts every model must beat, on the same windows and in the same shape as a model's forecasts.

Each takes the target in original units, the windows' origins (row of the last input), the horizon and the
lookback, and returns (n_origins, horizon).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import DataError

# Steps per natural cycle for common frequencies: a day for sub-daily data, a week for daily, a year beyond.
SEASONS = {"B": 5, "C": 5, "D": 7, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def naive(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1, season: int = 1) -> np.ndarray:
    """Last value carried forward: ŷ[t+h] = y[t]."""
    last = np.asarray(target, dtype=np.float64)[origins]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1,
                   season: int = 1) -> np.ndarray:
    """The value one season earlier: ŷ[t+h] = y[t + h - m*ceil(h/m)] for season m (m = 1 is the naive forecast)."""
    h = np.arange(1, horizon + 1)
    back = h - season * np.ceil(h / season).astype(int)  # in (-m, 0]
    rows = origins[:, None] + back[None, :]
    assert rows.min(initial=0) >= 0, "origins must have a full season of history"
    return np.asarray(target, dtype=np.float64)[rows]


def window_mean(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1,
                season: int = 1) -> np.ndarray:
    """Mean of the lookback window: ŷ[t+h] = mean(y[t-L+1 .. t])."""
    csum = np.concatenate([[0.0], np.cumsum(np.asarray(target, dtype=np.float64))])
    mean = (csum[origins + 1] - csum[origins + 1 - lookback]) / lookback
    return np.repeat(mean[:, None], horizon, axis=1)


def drift(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1, season: int = 1) -> np.ndarray:
    """The line through the first and last value of the lookback window: ŷ[t+h] = y[t] + h (y[t] - y[t-L+1]) / (L-1)."""
    y = np.asarray(target, dtype=np.float64)
    slope = (y[origins] - y[origins - lookback + 1]) / max(lookback - 1, 1)
    return y[origins][:, None] + slope[:, None] * np.arange(1, horizon + 1)[None, :]


BASELINES = {"naive": naive, "seasonal_naive": seasonal_naive, "mean": window_mean, "drift": drift}


def infer_season(freq: str | None) -> int:
    """Steps per natural cycle for a pandas frequency: 24 for hourly, 48 for half-hourly, 7 daily, 5 business
    days, 12 monthly; 1 (none) when unknown."""
    if freq is None:
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    base = offset.rule_code.split("-")[0]  # W-SUN, QS-JAN, ... are weeks and quarters
    if base in SEASONS and offset.n == 1:
        return SEASONS[base]
    try:
        step = pd.Timedelta(offset)
    except (ValueError, TypeError):
        return 1
    if pd.Timedelta(0) < step < pd.Timedelta(days=1) and pd.Timedelta(days=1) % step == pd.Timedelta(0):
        return int(pd.Timedelta(days=1) / step)
    if step == pd.Timedelta(days=1):
        return 7
    return 1


def check_season(season: int, train_rows: int, path: str) -> None:
    if season >= train_rows:
        raise DataError(f"--season {season} is longer than the training part of {path} ({train_rows} rows); "
                        f"use a season under {train_rows}, or more data")
