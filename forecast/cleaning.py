"""Settling what a table's rows leave open, for forecast.data: missing values (--fill), rows sharing a timestamp
(--dedupe, or the error that a long table of several series gets instead), and the calendar features (--calendar)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.config import DataConfig, Dedupe, Fill
from forecast.dates import auto_calendar, calendar_columns
from forecast.errors import DataError, listing, shorten


def fill(values: np.ndarray, columns: tuple[str, ...], fill: Fill, path: str,
          notes: list[str]) -> np.ndarray | None:
    """Fill gaps per `fill`; returns the mask of rows to keep when `drop`, else None (values filled in place)."""
    missing = np.isnan(values)
    if not missing.any():
        return None
    counts = {c: int(n) for c, n in zip(columns, missing.sum(axis=0), strict=True) if n}
    first_row = int(np.argmax(missing.any(axis=1)))
    summary = ", ".join(f"{n} in `{c}`" for c, n in counts.items())
    if fill is Fill.error:
        raise DataError(f"{path} has missing values ({summary}), the first at data row {first_row + 1} in time "
                        "order; pass --fill interpolate, ffill or drop, or fill them in the file")
    empty = missing.all(axis=0)
    if empty.any():  # values were there in the file, but no row that kept them (duplicate timestamps combined)
        raise DataError(f"column `{shorten(columns[int(np.argmax(empty))])}` of {path} has no values left once "
                        "rows of duplicate timestamps are combined; fill it in the file, or choose another column")
    if fill is Fill.drop:
        keep = ~missing.any(axis=1)
        notes.append(f"dropped {int((~keep).sum())} rows with missing values ({summary})")
        return keep
    frame = pd.DataFrame(values)
    # Linear interpolation between neighbours; gaps at either end take the nearest value.
    frame = frame.interpolate(limit_direction="both") if fill is Fill.interpolate else frame.ffill().bfill()
    values[:] = frame.to_numpy()
    notes.append(f"filled {int(missing.sum())} missing values ({summary}) with --fill {fill.value}")
    return None


def calendar_of(cfg: DataConfig, time: pd.Index, time_col: str | None, columns: tuple[str, ...],
              freq: str | None) -> tuple[str, ...]:
    """The calendar features a series gets: --calendar's, or those auto picks by its spacing."""
    if cfg.calendar == ("auto",):
        return auto_calendar(time) if time_col is not None else ()
    if cfg.calendar and time_col is None:
        raise DataError(f"--calendar {','.join(cfg.calendar)} reads the time of each row, and {cfg.path} has no time "
                        "column; name it with --time-col, or drop --calendar")
    for name in cfg.calendar:
        names, extra = calendar_columns(time[:2000], (name,))
        if np.ptp(extra, axis=0).max() < 1e-9:
            raise DataError(f"--calendar {name} is the same for every row of {cfg.path} (steps of {freq or 'irregular'}"
                            f"); drop it, or use --calendar auto")
        if taken := set(names) & set(columns):
            raise DataError(f"{cfg.path} already has a column `{shorten(sorted(taken)[0])}`, the name of a --calendar "
                            "feature; rename that column")
    return cfg.calendar


def check_one_series(frame: pd.DataFrame, time: pd.Index, time_col: str, path: str) -> None:
    """A table of several series (long format: timestamps repeat once per value of a text column) is an error that
    names that column: dropping or combining its duplicate timestamps would merge or lose whole series."""
    for col in frame.columns:
        if col == time_col or pd.api.types.is_numeric_dtype(frame[col]):
            continue
        keys = frame[col].astype("string")
        distinct = keys.nunique(dropna=False)
        if 2 <= distinct <= len(frame) // 2 and not pd.DataFrame({"t": np.asarray(time), "k": keys}).duplicated().any():
            shown = listing([str(k) for k in keys.drop_duplicates().head(4)])
            raise DataError(f"{path} holds {distinct} series in one table: its timestamps repeat once per value of "
                            f"column `{shorten(col)}` ({shown}{', ...' if distinct > 4 else ''}); train one model "
                            f"across them with --id-col {shorten(col)}, pick one with --id-col {shorten(col)} --series "
                            f"{shorten(str(keys.iloc[0]))}, or combine them all with --dedupe sum or mean")


def dedupe(time: pd.DatetimeIndex, values: np.ndarray, col: str, path: str, dedupe: Dedupe,
            notes: list[str]) -> tuple[pd.DatetimeIndex, np.ndarray]:
    dup = time.duplicated(keep="last")
    if not dup.any():
        return time, values
    first = time[int(np.argmax(dup))]
    if dedupe is Dedupe.none:
        raise DataError(f"timestamp {first} appears {int((time == first).sum())} times in `{shorten(col)}` of {path} "
                        f"({int(dup.sum())} duplicate rows in all); remove them, or pass --dedupe last, first, sum "
                        "or mean to keep one row of each timestamp or combine them")
    extra = int(dup.sum())
    if dedupe in (Dedupe.last, Dedupe.first):
        keep = ~time.duplicated(keep=dedupe.value)
        notes.append(f"dropped {extra} rows with duplicate timestamps (kept the {dedupe.value}), the first at {first}")
        return time[keep], values[keep]
    grouped = pd.DataFrame(values).groupby(np.asarray(time), sort=True)
    # min_count=1: a timestamp whose rows are all missing stays missing (for --fill), instead of summing to 0
    combined = grouped.sum(min_count=1) if dedupe is Dedupe.sum else grouped.mean()
    notes.append(f"combined the rows of {int(time[time.duplicated(keep=False)].nunique())} duplicated timestamps by "
                 f"their {dedupe.value} ({extra} rows fewer), the first at {first}")
    return pd.DatetimeIndex(combined.index), combined.to_numpy(dtype=np.float64)
