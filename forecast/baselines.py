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


def seasonal_difference(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1,
                        season: int = 1) -> np.ndarray:
    """Last season's shape moved to the current level, the forecast of ARIMA(0,1,0)(0,1,0)m:
    ŷ[t+h] = y[t] + y[t+h-m*k] - y[t-m*k] with k = ceil(h/m)."""
    y = np.asarray(target, dtype=np.float64)
    h = np.arange(1, horizon + 1)
    back = season * np.ceil(h / season).astype(int)  # m*k, in [h, h + m)
    rows = origins[:, None] - back[None, :]
    assert rows.min(initial=0) >= 0, "origins must have m*ceil(h/m) rows of history"
    return y[origins][:, None] + y[rows + h[None, :]] - y[rows]


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


BASELINES = {"naive": naive, "seasonal_naive": seasonal_naive, "seasonal_diff": seasonal_difference,
             "mean": window_mean, "drift": drift}
# The three simple references every score is shown next to; mean and drift are context.
REFERENCES = ("naive", "seasonal_naive", "seasonal_diff")
SEASONAL = ("seasonal_naive", "seasonal_diff")
# How every table, legend and message names them (seasonal ones with their season: "seasonal m=24").
LABELS = {"naive": "naive", "seasonal_naive": "seasonal", "seasonal_diff": "seasonal diff", "mean": "mean",
          "drift": "drift"}


def history(name: str, lookback: int, season: int, horizon: int) -> int:
    """The earliest origin (row) from which a baseline has the history it reads."""
    return {"naive": 0, "seasonal_naive": season - 1, "seasonal_diff": season * -(-horizon // season),
            "mean": lookback - 1, "drift": lookback - 1}[name]


# The references a model can start from (--anchor), by the baseline each reproduces.
ANCHORS = {"naive": "naive", "seasonal": "seasonal_naive", "sdiff": "seasonal_diff"}


def window_rows(anchor: str, season: int, horizon: int) -> int:
    """The window rows a reference reads when a model computes it from its lookback window."""
    return history(ANCHORS[anchor], 1, season, horizon) + 1


def baseline_label(name: str, season: int) -> str:
    return LABELS[name] + (f" m={season}" if name in SEASONAL else "")


def baseline_forecasts(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int, season: int,
                       names: tuple[str, ...] = tuple(BASELINES)) -> dict[str, np.ndarray]:
    """The named baselines' forecasts (n_origins, horizon) each; NaN for origins without the history one needs
    (only a series given to `predict` has those: every scored window of a run has enough)."""
    out = {}
    for name in names:
        values = np.full((len(origins), horizon), np.nan)
        ok = origins >= history(name, lookback, season, horizon)
        if ok.any():
            values[ok] = BASELINES[name](target, origins[ok], horizon, lookback, season)
        out[name] = values
    return out


def check_season(season: int, train_rows: int, path: str, horizon: int = 1) -> None:
    """Every scored origin (the validation and test parts) has the history the seasonal references read."""
    if season >= train_rows:
        raise DataError(f"--season {season} is longer than the training part of {path} ({train_rows} rows); "
                        f"use a season under {train_rows}, or more data")
    back = history("seasonal_diff", 1, season, horizon)
    if back >= train_rows:
        raise DataError(f"--season {season} with --horizon {horizon} makes the seasonal difference read {back} rows "
                        f"back, more than the training part of {path} ({train_rows} rows); use a shorter season or "
                        "horizon, or more data")
