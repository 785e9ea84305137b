"""A CSV's columns -> a validated, time-sorted series: target, features and time column, numbers, dates, gaps and
duplicates (forecast.csvfile reads the file itself).

Problems the tool can settle (sorting, filling gaps) are settled and reported in `Series.notes`;
anything else raises DataError naming the file, column, row and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.categories import one_hot, with_categories
from forecast.cleaning import calendar_of, check_one_series, dedupe, fill
from forecast.config import DataConfig, Dedupe, encoded, vocabulary_columns
from forecast.csvfile import DECIMAL_COMMA, read_frame
from forecast.dates import calendar_columns, find_time_column, infer_freq, irregular_note, parse_dates
from forecast.errors import DataError, listing, shorten

MAX_MAGNITUDE = 1e150  # beyond, squares (errors, variances) overflow float64 and a run could not be read back
MIN_MAGNITUDE = 1e-150  # below, squares underflow to 0 in float64: every MSE would read 0
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class Series:
    """A time series ready for windowing: the target is column 0 of `values`."""

    path: str
    values: np.ndarray  # (n_rows, 1 + n_features) float64, target first
    columns: tuple[str, ...]  # names of the `values` columns, target first
    time: pd.Index  # DatetimeIndex when the CSV has a time column, else RangeIndex
    time_col: str | None
    freq: str | None  # pandas offset alias, e.g. "h", "30min", "B"; None without a time column
    notes: tuple[str, ...] = field(default=())  # what loading changed or noticed, for the user
    calendar: tuple[str, ...] = ()  # the calendar features among the columns (their sin and cos, last)
    future: np.ndarray | None = None  # --future-features: their values in the rows after the last target
    categories: tuple[str, ...] = ()  # the one-hot columns of text inputs (DataConfig.categories)

    @property
    def target(self) -> str:
        return self.columns[0]

    def __len__(self) -> int:
        return len(self.values)


def _closest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f"did you mean `{shorten(close[0])}`? " if close else ""


def _numeric_column(frame: pd.DataFrame, col: str, path: str, notes: list[str], decimal: str | None) -> np.ndarray:
    """Numbers of one column, NaN where empty; thousands separators (or, with --decimal ,, decimal commas)
    are converted and noted."""
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = (values.isna() & raw.notna()).to_numpy()
    if bad.any():
        text = raw.astype(str).str.strip()
        if decimal == ",":
            pattern, fixed, what = DECIMAL_COMMA, text.str.replace(",", ".", regex=False), "decimal commas"
        else:
            pattern, fixed, what = THOUSANDS, text.str.replace(",", "", regex=False), "thousands separators"
        convertible = text.map(lambda v: bool(pattern.match(v))).to_numpy()
        if (bad & ~convertible).any():
            i = int(np.argmax(bad & ~convertible))
            hint = ("it uses a decimal comma: pass --decimal ," if DECIMAL_COMMA.match(text.iloc[i]) and decimal != ","
                    else "clean or remove that row")
            raise DataError(f"column `{shorten(col)}` in {path} has a non-numeric value {shorten(repr(raw.iloc[i]))} at row {i + 2} "
                            f"(counting the header as row 1); {hint}")
        values[bad] = pd.to_numeric(fixed[bad])
        notes.append(f"column `{shorten(col)}`: converted {int(bad.sum())} values written with {what}")
    out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(out).any():
        i = int(np.argmax(np.isinf(out)))
        raise DataError(f"column `{shorten(col)}` in {path} has an infinite value at row {i + 2}; remove or replace it")
    big = float(np.nanmax(np.abs(out))) if not np.isnan(out).all() else 0.0
    if big > MAX_MAGNITUDE:
        raise DataError(f"column `{shorten(col)}` in {path} has values up to {big:.3g} in magnitude; squared errors "
                        f"and variances overflow beyond about 1e154, so the tool takes at most {MAX_MAGNITUDE:.0e}: "
                        f"divide the column by 1e{int(np.log10(big)) - 3} (or change its units)")
    if 0 < big < MIN_MAGNITUDE:
        raise DataError(f"column `{shorten(col)}` in {path} has values of at most {big:.3g} in magnitude; squared "
                        f"errors and variances underflow to 0 below about 1e-154, so the tool needs values beyond "
                        f"{MIN_MAGNITUDE:.0e}: multiply the column by 1e{-int(np.floor(np.log10(big)))} (or change its "
                        "units)")
    if np.isnan(out).all():
        raise DataError(f"column `{shorten(col)}` in {path} has no values (all {len(out)} rows are empty); "
                        "choose another --target or fill the column")
    return out


def _time_index(frame: pd.DataFrame, col: str, path: str, notes: list[str], parsed=None) -> pd.DatetimeIndex:
    time, bad, note = parse_dates(frame[col]) if parsed is None else parsed  # parsed: already, on detecting it
    if time is None or bad:
        if time is None or bad == len(frame):
            raise DataError(f"column `{shorten(col)}` in {path} does not parse as dates; pick another --time-col")
        i = int(np.argmax(time.isna()))
        raise DataError(f"column `{shorten(col)}` in {path} has {bad} value(s) that are not dates in the format of the "
                        f"first row, the first {shorten(repr(frame[col].iloc[i]))} at row {i + 2}; use one date format "
                        "throughout")
    if note:
        notes.append(note)
    return time


def load_csv(cfg: DataConfig, frame: pd.DataFrame | None = None) -> Series:
    """Read `cfg.path` (or use its already read `frame`), pick time, target and feature columns, validate
    them and sort by time: one series (a long table must select one with --series)."""
    loaded = load_panel(cfg, frame)
    if len(loaded) > 1:
        names = [name for name, _ in loaded]
        raise DataError(f"{_id_name(cfg.id_col)} of {cfg.path} holds {len(names)} series "
                        f"({listing(names[:8])}{', ...' if len(names) > 8 else ''}); this command takes one series "
                        f"(train fits one model across several): pick it with --series {shorten(names[0])}")
    return loaded[0][1]


def load_panel(cfg: DataConfig, frame: pd.DataFrame | None = None) -> list[tuple[str, Series | None]]:
    """Every series a run reads, with its name: one for a plain table; in a long table (--id-col) those --series
    names (all by default), each validated and time-sorted on its own, all of one frequency; None for a series
    of several whose target is empty throughout."""
    frame = read_frame(cfg.path, cfg) if frame is None else frame
    path = cfg.path
    names = list(frame.columns)
    if wide_targets(cfg, names):
        frame, spec = melt_wide(frame, cfg), cfg.target
        loaded = load_panel(dataclasses.replace(cfg, target=WIDE_VALUE, id_col=WIDE_ID), frame)
        return [(name, s and dataclasses.replace(s, columns=(spec, *s.columns[1:]), notes=tuple(
            note.replace(f"`{WIDE_VALUE}`", f"`{shorten(name)}`") for note in s.notes))) for name, s in loaded]
    for col in [cfg.target, cfg.time_col, *_inputs(cfg), cfg.id_col]:
        if col is not None and col not in names:
            raise DataError(f"column `{shorten(col)}` not found in {path}; {_closest(col, names)}available: {listing(names)}")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DataError(f"{path} has two columns named `{shorten(dup)}`; rename one in the header")
    if cfg.id_col is None:
        return [("", _load_one(frame, with_categories(frame, cfg), []))]
    parts = select_series(frame, cfg)
    cfg = with_categories(frame, cfg)  # one vocabulary for every series of the table
    if len(parts) == 1:
        name, part = parts[0]
        available = frame[cfg.id_col].nunique(dropna=False)
        notes = [f"kept series `{shorten(name)}` ({len(part)} rows), one of the {available} in "
                 f"{_id_name(cfg.id_col)}"] if available > 1 else []
        return [(name, _load_one(part, cfg, notes))]
    # Values are validated on the whole table first, so that an error names the row of the file.
    for col in (cfg.target, *_inputs(cfg)):
        if col is not None and not vocabulary_columns(cfg, col):
            _numeric_column(frame, col, path, [], cfg.decimal)
    # a series without a single target value is left out (None here; prepare_panel says so)
    target = cfg.target or _time_and_target(frame.drop(columns=[cfg.id_col]), cfg)[1]
    loaded = [(name, None if target is not None and part[target].isna().all() else
               _load_one(part, dataclasses.replace(cfg, path=f"series `{shorten(name)}` of {path}"), []))
              for name, part in parts]
    freqs = {}
    for name, series in loaded:
        if series is not None:
            freqs.setdefault(series.freq, name)
    if len(freqs) > 1:
        (f1, a), (f2, b) = list(freqs.items())[:2]
        raise DataError(f"the series of {path} have different frequencies: `{shorten(a)}` is {f1 or 'irregular'}, "
                        f"`{shorten(b)}` {f2 or 'irregular'}; one model takes series of one frequency: pick those "
                        "that share one with --series, or resample the others")
    return [(name, series and dataclasses.replace(series, path=path)) for name, series in loaded]


# A wide table (--target A,B,C: each column one series) is read as the long table of these two columns.
WIDE_ID, WIDE_VALUE = "\x00series", "\x00value"


def _id_name(col: str) -> str:
    """How messages name an id column: `column `state``, or the --target columns of a wide table."""
    return "the --target columns" if col == WIDE_ID else f"column `{shorten(col)}`"


def wide_targets(cfg: DataConfig, columns: list) -> tuple[str, ...]:
    """The columns of a wide --target (several, comma-separated), or () for one target."""
    if cfg.target is None or "," not in cfg.target or cfg.target in columns:
        return ()
    return tuple(dict.fromkeys(t.strip() for t in cfg.target.split(",") if t.strip()))


def melt_wide(frame: pd.DataFrame, cfg: DataConfig) -> pd.DataFrame:
    """A wide table as a long one (WIDE_ID, WIDE_VALUE and every other column), each target column checked as a
    number column first so that an error names the file's own column and row."""
    names = list(frame.columns)
    targets = wide_targets(cfg, names)
    if cfg.id_col is not None:
        raise DataError(f"--target {shorten(cfg.target)} names several columns, each one series of a wide table; "
                        "--id-col is for long tables: drop one of them")
    for col in targets:
        if col not in names:
            raise DataError(f"column `{shorten(col)}` of --target {shorten(cfg.target)} not found in {cfg.path}; "
                            f"{_closest(col, names)}available: {listing(names)}")
        if col in (cfg.time_col, *_inputs(cfg)):
            raise DataError(f"column `{shorten(col)}` is both a --target series and the time column or a feature of "
                            f"{cfg.path}; drop it from one of them")
        if frame[col].notna().any():  # an empty one is left out later, as an empty series of a long table
            _numeric_column(frame, col, cfg.path, [], cfg.decimal)
    keep = [c for c in names if c not in targets]
    return frame.melt(id_vars=keep, value_vars=list(targets), var_name=WIDE_ID, value_name=WIDE_VALUE)


def _time_and_target(frame: pd.DataFrame, cfg: DataConfig, parsed: dict | None = None) -> tuple[str | None, str]:
    """The time column (given or detected; with `parsed`, a detected one's parsed dates are kept there) and the
    target (given, or the one numeric column left)."""
    path = cfg.path
    names = list(frame.columns)
    time_col = (cfg.time_col if cfg.time_col is not None else
                find_time_column(frame, parsed, skip=(cfg.target, *_inputs(cfg))))
    target = cfg.target
    if target is None:
        candidates = [c for c in names if c != time_col and c not in _inputs(cfg)]
        numeric = [c for c in candidates if pd.api.types.is_numeric_dtype(frame[c])]
        if not numeric and len(candidates) == 1:
            numeric = candidates  # the only column left: validate it, naming its first bad value
        if not numeric and any(pd.api.types.is_numeric_dtype(frame[c]) for c in _inputs(cfg)):
            raise DataError(f"every numeric column of {path} is a feature ({listing(list(_inputs(cfg)))}); name the "
                            "target with --target, or drop it from --features")
        if len(numeric) != 1:
            found = listing(numeric) if numeric else "none"
            raise DataError(f"{path} has {len(numeric)} numeric columns ({found}); choose one with --target"
                            + (f"; available: {listing(names)}" if not numeric else
                               " (and the time column with --time-col, if one of them holds the time)"))
        target = numeric[0]
    if target == time_col:
        raise DataError(f"column `{shorten(target)}` is the time column of {path}; choose a numeric --target")
    if target in _inputs(cfg):
        raise DataError(f"column `{shorten(target)}` is both the target and a feature; drop it from --features")
    return time_col, target


def _load_one(frame: pd.DataFrame, cfg: DataConfig, notes: list[str]) -> Series:
    """One series from a table without an id column."""
    path = cfg.path
    parsed: dict = {}
    time_col, target = _time_and_target(frame, cfg, parsed)
    columns = (target, *encoded(cfg, _inputs(cfg)))
    values = np.column_stack([one_hot(frame[c], c, cfg, notes) if vocabulary_columns(cfg, c) else
                              _numeric_column(frame, c, path, notes, cfg.decimal) for c in (target, *_inputs(cfg))])
    freq = None
    if time_col is None:
        time: pd.Index = pd.RangeIndex(len(frame))
    else:
        time = _time_index(frame, time_col, path, notes, parsed.get(time_col))
        if cfg.dedupe is Dedupe.none and time.has_duplicates:
            check_one_series(frame, time, time_col, path)  # rows still in file order, aligned with the frame
        if not time.is_monotonic_increasing:
            order = np.argsort(time.to_numpy(), kind="stable")
            time, values = time[order], values[order]
            notes.append(f"rows were not in time order; sorted them by `{shorten(time_col)}`")
        time, values = dedupe(time, values, time_col, path, cfg.dedupe, notes)
        freq = infer_freq(time)
        note = irregular_note(time, freq)
        if note:
            notes.append(note)
    width = len(encoded(cfg, cfg.future_features))
    future = np.zeros((0, width))
    if cfg.future_features:  # trailing rows without a target: the known future, for predict
        observed = np.flatnonzero(~np.isnan(values[:, 0]))
        end = int(observed[-1]) + 1 if len(observed) else 0
        first = 1 + len(encoded(cfg, cfg.features))
        future = values[end:, first:first + width]
        values, time = values[:end], time[:end]
    keep = fill(values, columns, cfg.fill, path, notes)
    if keep is not None:
        values, time = values[keep], (time[keep] if time_col is not None else pd.RangeIndex(int(keep.sum())))
    calendar = calendar_of(cfg, time, time_col, columns, freq)
    if calendar:
        names, extra = calendar_columns(time, calendar)
        columns, values = (*columns, *names), np.column_stack([values, extra])
    return Series(path=path, values=values, columns=columns, time=time, time_col=time_col, freq=freq,
                  notes=tuple(notes), calendar=calendar, future=future, categories=cfg.categories)


def _inputs(cfg: DataConfig) -> tuple[str, ...]:
    """The input columns a file must hold besides the target: --features, then --future-features."""
    return (*cfg.features, *cfg.future_features)


def select_series(frame: pd.DataFrame, cfg: DataConfig) -> list[tuple[str, pd.DataFrame]]:
    """The rows of each series that --series names (all by default) in a long table, without its id column,
    in the order of first appearance (or of --series)."""
    col, path = cfg.id_col, cfg.path
    if col in (cfg.target, cfg.time_col, *_inputs(cfg)):
        raise DataError(f"column `{shorten(col)}` is the --id-col of {path} and cannot also be the target, time or a "
                        "feature; choose another --id-col")
    raw = frame[col]
    if pd.api.types.is_float_dtype(raw):
        known = raw.dropna()
        if not (known == np.round(known)).all():
            raise DataError(f"column `{shorten(col)}` of {path} holds fractional numbers such as "
                            f"{known[known != np.round(known)].iloc[0]:g}, not series names: an --id-col names each "
                            "row's series (text or whole numbers); choose another column")
        raw = raw.astype("Int64")  # whole numbers read as floats because of empty cells: 7.0 is series 7
    ids = raw.astype("string").str.strip().fillna("")
    available = list(dict.fromkeys(ids))
    shown = listing(available[:8]) + (f", ... ({len(available)} in all)" if len(available) > 8 else "")
    for name in cfg.series:
        if name not in available:
            raise DataError(f"series `{shorten(name)}` is not in {_id_name(col)} of {path}; "
                            f"{_closest(name, available)}available: {shown}")
    chosen = list(dict.fromkeys(cfg.series)) or available
    groups = dict(list(frame.drop(columns=[col]).groupby(ids.to_numpy(), sort=False)))
    return [(name, groups[name].reset_index(drop=True)) for name in chosen]
