"""Simple forecasts every model must beat, on the same windows and in the same shape as a model's forecasts.

Each takes the target in original units, the windows' origins (row of the last input), the horizon and the
lookback, and returns (n_origins, horizon).
"""

from __future__ import annotations

import numpy as np

from forecast.errors import DataError


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
# How every table, legend and message names them (the seasonal naive with its season: "seasonal m=24").
LABELS = {"naive": "naive", "seasonal_naive": "seasonal", "mean": "mean", "drift": "drift"}
# History each needs before an origin, beyond the origin itself: a season, or the lookback window.
HISTORY = {"naive": lambda lookback, season: 0, "seasonal_naive": lambda lookback, season: season - 1,
           "mean": lambda lookback, season: lookback - 1, "drift": lambda lookback, season: lookback - 1}


def baseline_label(name: str, season: int) -> str:
    return LABELS[name] + (f" m={season}" if name == "seasonal_naive" else "")


def baseline_forecasts(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int, season: int,
                       names: tuple[str, ...] = tuple(BASELINES)) -> dict[str, np.ndarray]:
    """The named baselines' forecasts (n_origins, horizon) each; NaN for origins without the history one needs
    (only a series given to `predict` has those: every scored window of a run has enough)."""
    out = {}
    for name in names:
        values = np.full((len(origins), horizon), np.nan)
        ok = origins >= HISTORY[name](lookback, season)
        if ok.any():
            values[ok] = BASELINES[name](target, origins[ok], horizon, lookback, season)
        out[name] = values
    return out


def check_season(season: int, train_rows: int, path: str) -> None:
    if season >= train_rows:
        raise DataError(f"--season {season} is longer than the training part of {path} ({train_rows} rows); "
                        f"use a season under {train_rows}, or more data")
