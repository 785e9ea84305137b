"""CSV -> validated, time-sorted series; chronological split; a scaler fit on the training part only."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.config import DataConfig, WindowConfig
from forecast.errors import DataError

TIME_NAMES = ("timestamp", "datetime", "date", "time", "ds")


@dataclass(frozen=True)
class Series:
    """A time series ready for windowing: the target is column 0 of `values`."""

    path: str
    values: np.ndarray  # (n_rows, 1 + n_features) float64, target first
    columns: tuple[str, ...]  # names of the `values` columns, target first
    time: pd.Index  # DatetimeIndex when the CSV has a time column, else RangeIndex
    time_col: str | None
    freq: str | None  # pandas offset alias, e.g. "h", "30min", "B"; None without a time column

    @property
    def target(self) -> str:
        return self.columns[0]

    def __len__(self) -> int:
        return len(self.values)


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read a CSV as strings-or-numbers, keeping text such as "N/A" visible for clear errors."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise DataError(f"{p} is a directory, not a CSV file; pass the path of a .csv file inside it")
    try:
        frame = pd.read_csv(p, keep_default_na=False, na_values=[""], skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{p} is empty; it needs a header row and at least one data row") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{p} is not UTF-8 text (byte {exc.start}); re-save it as UTF-8 CSV") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{p} is not a well-formed CSV ({str(exc).strip()}); check its delimiter and quoting") from None
    if frame.empty:
        raise DataError(f"{p} has a header but no data rows; add rows below the header")
    return frame


def find_time_column(frame: pd.DataFrame) -> str | None:
    """The first non-numeric column whose every value parses as a date, preferring the usual names."""
    candidates = sorted(frame.columns, key=lambda c: str(c).lower() not in TIME_NAMES)
    for col in candidates:
        if pd.api.types.is_numeric_dtype(frame[col]):
            continue
        parsed = _parse_dates(frame[col])
        if parsed is not None:
            return str(col)
    return None


def _parse_dates(column: pd.Series) -> pd.DatetimeIndex | None:
    try:
        parsed = pd.to_datetime(column, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        return None
    if parsed.isna().any():
        return None
    return pd.DatetimeIndex(parsed)


def _closest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f"did you mean `{close[0]}`? " if close else ""


def _numeric_column(frame: pd.DataFrame, col: str, path: str) -> np.ndarray:
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise DataError(
            f"column `{col}` in {path} has a non-numeric value {raw.iloc[i]!r} at row {i + 2} "
            "(counting the header as row 1); clean or remove that row"
        )
    if values.isna().any():
        i = int(np.argmax(values.isna().to_numpy()))
        raise DataError(
            f"column `{col}` in {path} has {int(values.isna().sum())} missing values, the first at row {i + 2}; "
            "fill or drop them before training"
        )
    out = values.to_numpy(dtype=np.float64)
    if not np.isfinite(out).all():
        i = int(np.argmax(~np.isfinite(out)))
        raise DataError(f"column `{col}` in {path} has an infinite value at row {i + 2}; remove or replace it")
    return out


def load_csv(cfg: DataConfig) -> Series:
    """Read `cfg.path`, pick time, target and feature columns, validate them and sort by time."""
    frame = read_frame(cfg.path)
    path = cfg.path
    names = [str(c) for c in frame.columns]
    frame.columns = names

    for col in [cfg.target, cfg.time_col, *cfg.features]:
        if col is not None and col not in names:
            raise DataError(
                f"column `{col}` not found in {path}; {_closest(col, names)}available: {', '.join(names)}"
            )

    time_col = cfg.time_col if cfg.time_col is not None else find_time_column(frame)
    if time_col is not None and cfg.time_col is not None and _parse_dates(frame[time_col]) is None:
        raise DataError(f"column `{time_col}` in {path} does not parse as dates; pick another --time-col")

    target = cfg.target
    if target is None:
        candidates = [c for c in names if c != time_col and c not in cfg.features]
        numeric = [c for c in candidates if pd.api.types.is_numeric_dtype(frame[c])]
        if not numeric and len(candidates) == 1:
            numeric = candidates  # the only column left: validate it, naming its first bad value
        if len(numeric) != 1:
            found = ", ".join(numeric) if numeric else "none"
            raise DataError(
                f"{path} has {len(numeric)} numeric columns ({found}); choose one with --target"
                + (f"; available: {', '.join(names)}" if not numeric else "")
            )
        target = numeric[0]
    if target == time_col:
        raise DataError(f"column `{target}` is the time column of {path}; choose a numeric --target")

    columns = (target, *cfg.features)
    values = np.column_stack([_numeric_column(frame, c, path) for c in columns])
    if time_col is None:
        time: pd.Index = pd.RangeIndex(len(frame))
        freq = None
    else:
        time = _parse_dates(frame[time_col])
        order = np.argsort(time.to_numpy(), kind="stable")
        time, values = time[order], values[order]
        freq = infer_freq(time)
    return Series(path=path, values=values, columns=columns, time=time, time_col=time_col, freq=freq)


def infer_freq(time: pd.DatetimeIndex) -> str | None:
    """Pandas' inferred frequency, else the most common step (business days when steps skip weekends)."""
    if len(time) < 3:
        return None
    freq = _pandas_freq(time[-min(len(time), 500):])
    if freq is not None:
        return freq
    steps = pd.Series(time[1:] - time[:-1])
    step = steps.mode().iloc[0]
    if step == pd.Timedelta(days=1) and (time.day_of_week < 5).all():
        return "B"
    if step <= pd.Timedelta(0):
        return None
    return pd.tseries.frequencies.to_offset(step).freqstr


def _pandas_freq(time: pd.DatetimeIndex) -> str | None:
    try:  # pandas 3 warns unless asked for its future behaviour (an offset object)
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(time)
    except (KeyError, pd.errors.OptionError):
        freq = pd.infer_freq(time)
    return None if freq is None else pd.tseries.frequencies.to_offset(freq).freqstr


@dataclass(frozen=True)
class Split:
    """Row bounds of the three chronological parts: train [0, train_end), val [train_end, val_end), test [val_end, n)."""

    n: int
    train_end: int
    val_end: int

    def bounds(self, part: str) -> tuple[int, int]:
        return {"train": (0, self.train_end), "val": (self.train_end, self.val_end),
                "test": (self.val_end, self.n)}[part]

    def sizes(self) -> dict[str, int]:
        return {p: b - a for p, (a, b) in ((p, self.bounds(p)) for p in ("train", "val", "test"))}


def _split_rows(n: int, val_frac: float, test_frac: float) -> Split:
    n_test = math.ceil(n * test_frac)
    n_val = math.ceil(n * val_frac)
    return Split(n=n, train_end=n - n_val - n_test, val_end=n - n_test)


def _split_ok(split: Split, window: WindowConfig) -> bool:
    # Train windows need lookback rows of input inside the part; val and test windows read
    # earlier history as input, so they only need room for one full target (horizon rows).
    sizes = split.sizes()
    return (sizes["train"] >= window.lookback + window.horizon
            and sizes["val"] >= window.horizon and sizes["test"] >= window.horizon)


def split_series(n: int, cfg: DataConfig, window: WindowConfig) -> Split:
    """Chronological train/val/test bounds; an error says how many rows lookback + horizon need."""
    split = _split_rows(n, cfg.val_frac, cfg.test_frac)
    if _split_ok(split, window):
        return split
    need = n
    while not _split_ok(_split_rows(need, cfg.val_frac, cfg.test_frac), window) and need < 10 * n + 10**7:
        need += 1
    sizes = split.sizes()
    raise DataError(
        f"{cfg.path} has {n} rows, too few for --lookback {window.lookback} + --horizon {window.horizon}: "
        f"the parts have train {sizes['train']}, val {sizes['val']}, test {sizes['test']} rows, and training needs "
        f"at least {window.lookback + window.horizon} train rows and {window.horizon} in val and test; "
        f"use at least {need} rows, or a smaller --lookback/--horizon"
    )


@dataclass(frozen=True)
class Scaler:
    """Standardisation per column, fit on the training rows only so no test statistic leaks into training."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        # A constant column would divide by zero; scale it by 1 so it maps to 0, not NaN.
        std = np.where(std > 0, std, 1.0)
        return cls(tuple(float(m) for m in mean), tuple(float(s) for s in std))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return ((values - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)

    def inverse_target(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled target values (any shape) back to the target's original units."""
        return np.asarray(scaled, dtype=np.float64) * self.std[0] + self.mean[0]

    def to_dict(self, columns: tuple[str, ...]) -> dict:
        return {"kind": "standard", "columns": list(columns), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, raw: dict) -> Scaler:
        return cls(tuple(float(m) for m in raw["mean"]), tuple(float(s) for s in raw["std"]))


def make_sine(rows: int, noise: float, seed: int, period: int = 24, start: str = "2020-01-01") -> pd.DataFrame:
    """A sine wave of the given period (in rows) plus Gaussian noise, with hourly timestamps."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    value = np.sin(2 * np.pi * t / period) + noise * rng.standard_normal(rows)
    time = pd.date_range(start, periods=rows, freq="h")
    return pd.DataFrame({"timestamp": time.strftime("%Y-%m-%d %H:%M"), "value": np.round(value, 6)})


def describe_csv(path: Path) -> dict:
    """Rows, columns, time span and frequency of a CSV, for `forecast datasets`."""
    frame = read_frame(path)
    time_col = find_time_column(frame)
    info = {"file": path.name, "rows": len(frame), "columns": ", ".join(map(str, frame.columns)),
            "start": "", "end": "", "freq": ""}
    if time_col is not None:
        time = _parse_dates(frame[time_col]).sort_values()
        fmt = "%Y-%m-%d" if (time == time.normalize()).all() else "%Y-%m-%d %H:%M"
        info.update(start=time[0].strftime(fmt), end=time[-1].strftime(fmt), freq=infer_freq(time) or "irregular")
    return info
