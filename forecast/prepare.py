"""Everything a run needs from its data before Keras: the split, the train-only scaler, the windows of
each part, and the long-form tables that forecasts are written in."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.baselines import naive
from forecast.config import DataConfig, WindowConfig
from forecast.data import Series, load_csv, read_frame
from forecast.split import Scaler, Split, split_series
from forecast.errors import DataError
from forecast.metrics import score
from forecast.windows import Windows, part_origins

PARTS = ("train", "val", "test")


@dataclass(frozen=True)
class Prepared:
    series: Series
    split: Split
    scaler: Scaler
    scaled: np.ndarray  # (n_rows, n_columns) float32, scaled with training-part statistics
    windows: dict[str, Windows]  # "train", "val", "test"

    def raw_target(self) -> np.ndarray:
        return self.series.values[:, 0]


def prepare(data: DataConfig, window: WindowConfig) -> Prepared:
    """Load and validate the CSV, split it by time, fit the scaler on the training rows only."""
    series = load_csv(data)
    split = split_series(len(series), data, window)
    scaler = Scaler.fit(series.values[:split.train_end])
    scaled = scaler.transform(series.values)
    windows = {part: Windows(scaled, window.lookback, window.horizon,
                             part_origins(split.bounds(part), window.lookback, window.horizon))
               for part in PARTS}
    return Prepared(series=series, split=split, scaler=scaler, scaled=scaled, windows=windows)


def load_new_series(run_data: DataConfig, lookback: int, scaler: Scaler, path: str,
                    target: str | None = None) -> tuple[Series, np.ndarray]:
    """Read a series to forecast with a run's columns (target renamed by `target`) and the run's scaler."""
    # Another file may have another delimiter, decimal mark or time column name: detect those again.
    cfg = dataclasses.replace(run_data, path=path, target=target or run_data.target, delimiter=None, decimal=None)
    if cfg.time_col is not None and cfg.time_col not in read_frame(path, cfg).columns:
        cfg = dataclasses.replace(cfg, time_col=None)
    series = load_csv(cfg)
    if len(series) < lookback:
        raise DataError(f"{path} has {len(series)} rows, fewer than the run's lookback ({lookback}); "
                        f"give at least {lookback} rows")
    return series, scaler.transform(series.values)


def extend_time(time: pd.Index, extra: int, freq: str | None) -> pd.Index:
    """The series' time index continued by `extra` steps at its frequency (row numbers without one)."""
    if extra <= 0:
        return time
    if isinstance(time, pd.DatetimeIndex) and freq is not None:
        future = pd.date_range(time[-1], periods=extra + 1, freq=freq)[1:]
        return time.append(future)
    if isinstance(time, pd.DatetimeIndex):
        step = time[-1] - time[-2] if len(time) > 1 else pd.Timedelta(0)
        return time.append(pd.DatetimeIndex([time[-1] + step * (k + 1) for k in range(extra)]))
    return pd.RangeIndex(len(time) + extra)


def forecast_table(time: pd.Index, target: np.ndarray, origins: np.ndarray, forecasts: np.ndarray,
                   naive: np.ndarray | None = None) -> pd.DataFrame:
    """Long form, one row per origin and step: origin, step, timestamp, forecast, actual, error[, naive].

    `time` must reach at least max(origin) + n_steps (see extend_time); `actual` is empty past the data.
    """
    n_origins, n_steps = forecasts.shape
    steps = np.tile(np.arange(1, n_steps + 1), n_origins)
    at = np.repeat(origins, n_steps) + steps  # row of each forecast value
    n = len(target)
    actual = np.full(at.shape, np.nan)
    inside = at < n
    actual[inside] = target[at[inside]]
    table = pd.DataFrame({
        "origin": np.asarray(time)[np.repeat(origins, n_steps)],
        "step": steps,
        "timestamp": np.asarray(time)[at],
        "forecast": forecasts.reshape(-1),
        "actual": actual,
    })
    table["error"] = table["actual"] - table["forecast"]
    if naive is not None:
        table["naive"] = naive.reshape(-1)
    return table


def actual_targets(prep: Prepared, part: str) -> np.ndarray:
    """Targets of a part's windows in original units: (n_windows, horizon)."""
    w = prep.windows[part]
    return Windows(prep.series.values, w.lookback, w.horizon, w.origins).targets(slice(None))


def test_scores(prep: Prepared, forecast: np.ndarray) -> dict:
    """Model and naive-baseline scores on exactly the same test windows, in original units."""
    test = prep.windows["test"]
    actual = actual_targets(prep, "test")
    return {
        "model": score(actual, forecast),
        "naive": score(actual, naive(prep.raw_target(), test.origins, test.horizon)),
        "n_windows": len(test),
        "horizon": test.horizon,
    }
