"""Synthetic series for `forecast datasets make`, and the summary of a CSV for `forecast datasets`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.csvfile import read_frame
from forecast.dates import find_time_column, infer_freq, parse_dates


def make_series(kind: str, rows: int, noise: float, seed: int, period: int = 24, drift: float = 0.0,
                start: str = "2020-01-01") -> pd.DataFrame:
    """A synthetic series with hourly timestamps.

    sine: sin(2πt/period) + noise. randomwalk: 100 + cumulative sum of (drift + noise·ε).
    trend: 10 + drift·t + sin(2πt/period) + noise·ε.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    eps = rng.standard_normal(rows)
    value = {
        "sine": lambda: np.sin(2 * np.pi * t / period) + noise * eps,
        "randomwalk": lambda: 100 + np.cumsum(drift + noise * eps),
        "trend": lambda: 10 + drift * t + np.sin(2 * np.pi * t / period) + noise * eps,
    }[kind]()
    time = pd.date_range(start, periods=rows, freq="h")
    return pd.DataFrame({"timestamp": time.strftime("%Y-%m-%d %H:%M"), "value": np.round(value, 6)})


SENSOR_SHIFT = -2.0  # how far the `maintenance` flag moves a sensor's level, in units of the cycle's amplitude


def make_sensors(series: int, rows: int, noise: float, seed: int, period: int = 24,
                 start: str = "2020-01-01") -> pd.DataFrame:
    """A fleet of sensors in one long table (timestamp, sensor, value, maintenance), hourly, `rows` per sensor:

        value = level_i + amplitude_i * (sin(2πt/period) + SENSOR_SHIFT * maintenance_i(t)) + noise * ε

    a cycle every sensor shares, a level in [0, 100) and an amplitude in [1, 5) of its own, and a known-future
    flag: `maintenance` is 1 in blocks of one period (a tenth of the periods, at random) and shifts the level."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    time = pd.date_range(start, periods=rows, freq="h").strftime("%Y-%m-%d %H:%M")
    level, amplitude = rng.uniform(0, 100, series), rng.uniform(1, 5, series)
    width = len(str(series))
    frames = []
    for i in range(series):
        blocks = rng.random(-(-rows // period)) < 0.1
        flag = np.repeat(blocks, period)[:rows].astype(int)
        value = level[i] + amplitude[i] * (np.sin(2 * np.pi * t / period) + SENSOR_SHIFT * flag)
        value = value + noise * rng.standard_normal(rows)
        frames.append(pd.DataFrame({"timestamp": time, "sensor": f"s{i + 1:0{width}d}", "value": np.round(value, 6),
                                    "maintenance": flag}))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class CsvSummary:
    """One row of `forecast datasets`; start, end and freq are empty without a time column."""

    file: str
    columns: str
    rows: int
    start: str = ""
    end: str = ""
    freq: str = ""


def describe_csv(path: Path) -> CsvSummary:
    """Rows, columns, time span and frequency of a CSV, for `forecast datasets`."""
    frame = read_frame(path)
    time_col = find_time_column(frame)
    summary = CsvSummary(file=path.name, columns=", ".join(map(str, frame.columns)), rows=len(frame))
    if time_col is None:
        return summary
    time = parse_dates(frame[time_col])[0].dropna().sort_values()
    fmt = "%Y-%m-%d" if (time == time.normalize()).all() else "%Y-%m-%d %H:%M"
    # a long table repeats each timestamp once per series: its frequency is that of the distinct timestamps
    freq = infer_freq(time.unique() if time.has_duplicates else time) or "irregular"
    return dataclasses.replace(summary, start=time[0].strftime(fmt), end=time[-1].strftime(fmt),
                               freq=freq + (" (long table)" if time.has_duplicates else ""))
