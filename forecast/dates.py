"""Time columns: which column holds dates, how they parse, the series' frequency and its natural season, and
the time index continued into the future."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from forecast.config import calendar_column_names

TIME_NAMES = ("timestamp", "datetime", "date", "time", "ds")
# A date has a letter, a - / : separator, or two dots (31.12.2024); "1,5" or "7" alone is no date.
DATE_LIKE = re.compile(r"[-/:A-Za-z]|\d\.\d+\.\d")
# Steps per natural cycle for common frequencies: a day for sub-daily data, a week for daily, a year beyond.
# Whole numbers in this range, one apart, are read as years when no column holds dates.
YEARS = (1000, 2999)
SEASONS = {"B": 5, "C": 5, "D": 7, "W": 52, "M": 12, "MS": 12, "ME": 12, "Q": 4, "QS": 4, "QE": 4}


def parse_dates(column: pd.Series) -> tuple[pd.DatetimeIndex | None, int, str | None]:
    """(dates, number of values that failed, note). Time zones are converted to UTC (noted). A column that holds
    datetimes already (a DataFrame's, a Parquet file's) is taken as it is, not written out and parsed again."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return (pd.DatetimeIndex(column.dt.tz_convert(None)), int(column.isna().sum()),
                f"timestamps in `{column.name}` carry time zones; converted to UTC")
    if pd.api.types.is_datetime64_dtype(column):
        return pd.DatetimeIndex(column), int(column.isna().sum()), None
    values = column.astype(str).str.strip()
    note = None
    with warnings.catch_warnings():
        # pandas warns when it falls back to parsing each value on its own; failures are counted below
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)  # pandas 2 warns of mixed offsets; both paths are handled
        try:
            parsed = pd.to_datetime(values, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            parsed = None
        if parsed is None or parsed.dtype == object or getattr(parsed.dt, "tz", None) is not None:
            try:  # time zone offsets, possibly mixed (daylight saving): compare instants in UTC
                parsed = pd.to_datetime(values, errors="coerce", utc=True).dt.tz_convert(None)
                note = f"timestamps in `{column.name}` carry time zones; converted to UTC"
            except (ValueError, TypeError, OverflowError):
                return None, len(values), None
    bad = int(parsed.isna().sum())
    return pd.DatetimeIndex(parsed), bad, note


def is_year_column(column: pd.Series) -> bool:
    """Whole numbers from YEARS, one apart and strictly increasing, none missing: a column of years (1871, 1872,
    ...), which a time column of annual data often is."""
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column) or len(column) < 3:
        return False
    values = column.to_numpy(dtype=float, na_value=np.nan)
    return bool(np.isfinite(values).all() and (values == np.round(values)).all()
                and YEARS[0] <= values.min() and values.max() <= YEARS[1] and (np.diff(values) == 1).all())


def find_time_column(frame: pd.DataFrame, parsed: dict | None = None, skip: tuple = ()) -> str | None:
    """The first non-numeric column that parses as dates (mostly), preferring the usual names; else a column of
    years (is_year_column) beside another numeric column, the target it dates, unless `skip` names it (the target
    and the features given). With `parsed`, the chosen column's parse_dates result is kept there under
    its name, for the time index to reuse: parsing millions of dates twice cost seconds and half a GB."""
    candidates = sorted(frame.columns, key=lambda c: str(c).lower() not in TIME_NAMES)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    for col in candidates:
        if pd.api.types.is_numeric_dtype(frame[col]):
            if col not in skip and len(numeric) > 1 and is_year_column(frame[col]):
                if parsed is not None:
                    parsed[str(col)] = parse_dates(frame[col])
                return str(col)
            continue
        dated = pd.api.types.is_datetime64_any_dtype(frame[col])
        if not dated and not all(DATE_LIKE.search(str(v)) for v in frame[col].dropna()):
            continue
        result = parse_dates(frame[col])
        bad = result[1]
        # A column of dates with a few broken ones is still the time column: it gets a precise error later.
        if bad == 0 or (bad < 0.5 * len(frame) and str(col).lower() in TIME_NAMES):
            if parsed is not None:
                parsed[str(col)] = result
            return str(col)
    return None


MIN_FREQ_ROWS = 3  # fewer timestamps than this have no frequency to infer


def infer_freq(time: pd.DatetimeIndex) -> str | None:
    """Pandas' inferred frequency, else the most common step (business days when steps skip weekends)."""
    if len(time) < MIN_FREQ_ROWS:
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
    if step % pd.Timedelta(days=1) == pd.Timedelta(0):
        days = step // pd.Timedelta(days=1)
        return "D" if days == 1 else f"{days}D"
    return pd.tseries.frequencies.to_offset(step).freqstr


def _pandas_freq(time: pd.DatetimeIndex) -> str | None:
    if len(time) < 3:
        return None
    try:  # pandas 3 warns unless asked for its future behaviour (an offset object)
        with pd.option_context("future.infer_freq_returns_offset", True):
            freq = pd.infer_freq(time)
    except (KeyError, pd.errors.OptionError):
        freq = pd.infer_freq(time)
    return None if freq is None else pd.tseries.frequencies.to_offset(freq).freqstr


def irregular_note(time: pd.DatetimeIndex, freq: str | None) -> str | None:
    """A note for the user when the steps between timestamps vary, else None."""
    if len(time) < 3 or _pandas_freq(time) is not None or freq == "B":
        return None
    steps = pd.Series(time[1:] - time[:-1])
    usual = steps.mode().iloc[0]
    odd = steps != usual
    if not odd.any():
        return None
    return (f"timestamps are irregular: {int(odd.sum())} of {len(steps)} steps differ from the usual "
            f"{freq or usual} (the first after {time[int(np.argmax(odd.to_numpy()))]}); the model treats "
            "rows as equally spaced")


def infer_season(freq: str | None) -> int:
    """Steps per natural cycle for a pandas frequency: 24 for hourly, 48 for half-hourly, 7 daily, 5 business
    days, 12 monthly; 1 (none) when unknown."""
    if freq is None:
        return 1
    offset = pd.tseries.frequencies.to_offset(freq)
    base = offset.rule_code.split("-")[0]  # W-SUN, QS-JAN, ... are weeks and quarters
    if base in SEASONS and offset.n == 1:
        return SEASONS[base]
    if per_day := steps_per_day(freq):
        return per_day
    try:
        return 7 if pd.Timedelta(offset) == pd.Timedelta(days=1) else 1
    except (ValueError, TypeError):
        return 1


def same_spacing(a: str, b: str) -> bool:
    """Whether two frequencies space rows alike: `MS` and `ME` (month start or end), `W-SUN` and `W-MON` do."""
    def spacing(freq: str) -> tuple[int, str]:
        offset = pd.tseries.frequencies.to_offset(freq)
        base = offset.rule_code.split("-")[0]
        return offset.n, base[:-1] if base in ("MS", "ME", "QS", "QE", "YS", "YE", "AS") else base
    try:
        return spacing(a) == spacing(b)
    except ValueError:
        return a == b


def steps_per_day(freq: str | None) -> int:
    """Rows per day of sub-daily data whose step divides the day (48 half-hourly), 0 for any other frequency."""
    if freq is None:
        return 0
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (ValueError, TypeError):
        return 0
    if pd.Timedelta(0) < step < pd.Timedelta(days=1) and pd.Timedelta(days=1) % step == pd.Timedelta(0):
        return int(pd.Timedelta(days=1) / step)
    return 0


# The year of daily data as a second season: 364 days (52 whole weeks, so each weekday meets itself) or 365.
YEAR = (364, 365)


def longer_cycles(freq: str | None) -> tuple[int, ...]:
    """The longer cycles a series of this spacing may show beside its season: the week of sub-daily data whose step
    divides the day (336 half-hourly), the year of daily data (YEAR); none for any other."""
    if per_day := steps_per_day(freq):
        return (7 * per_day,)
    if freq is not None and infer_season(freq) == 7 and pd.tseries.frequencies.to_offset(freq).n == 1:
        return YEAR
    return ()


def cycle_name(season2: int) -> str:
    """What a second season is: the year of daily data (YEAR), the week of sub-daily data otherwise."""
    return "year" if season2 in YEAR else "week"


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
    start = int(time[0]) if len(time) else 0  # row numbers, which start at 1 after differencing
    return pd.RangeIndex(start, start + len(time) + extra)


# --calendar: cyclical features of each row's time, each a (sin, cos) pair of its phase in a cycle of `period`.
CALENDAR = {"hour": 24.0, "dow": 7.0, "doy": 365.25, "month": 12.0}


def auto_calendar(time: pd.Index) -> tuple[str, ...]:
    """The calendar features that vary within a series of this spacing (median step): hour and day of week for
    sub-daily data, day of week and of year for daily, day of year for weekly, month for monthly and quarterly."""
    if not isinstance(time, pd.DatetimeIndex) or len(time) < 2:
        return ()
    step = float(np.median(np.diff(time[:1000].to_numpy()) / np.timedelta64(1, "D")))  # in days, any resolution
    if step < 1:
        return ("hour", "dow")
    if step < 2:
        return ("dow", "doy")
    if step < 10:
        return ("doy",)
    return ("month",) if step < 100 else ()


def calendar_columns(time: pd.DatetimeIndex, names: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray]:
    """Column names (`dow_sin`, `dow_cos`, ...) and values (n_rows, 2 * len(names)) of the calendar features."""
    phase = {"hour": lambda t: t.hour + t.minute / 60, "dow": lambda t: t.day_of_week + t.hour / 24,
             "doy": lambda t: t.day_of_year - 1 + t.hour / 24, "month": lambda t: t.month - 1 + (t.day - 1) / 31}
    values = []
    for name in names:
        angle = 2 * np.pi * np.asarray(phase[name](time), dtype=np.float64) / CALENDAR[name]
        values += [np.sin(angle), np.cos(angle)]
    return calendar_column_names(names), np.column_stack(values) if values else np.zeros((len(time), 0))
