"""A CSV's columns -> a validated, time-sorted series: target, features and time column, numbers, dates, gaps and
duplicates (forecast.csvfile reads the file itself).

Problems the tool can settle (sorting, filling gaps) are settled and reported in `Series.notes`;
anything else raises DataError naming the file, column, row and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.categories import one_hot, with_categories
from forecast.cleaning import calendar_of, check_one_series, dedupe, fill
from forecast.config import DataConfig, Dedupe, encoded, vocabulary_columns
from forecast.columns import numeric_column
from forecast.csvfile import read_frame
from forecast.dates import MIN_FREQ_ROWS, calendar_columns, find_time_column, infer_freq, irregular_note, parse_dates
from forecast.errors import DataError, listing, shorten

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
    similar = confusable_ids([name for name, _ in parts] if not cfg.series else
                             list(pd.unique(frame[cfg.id_col].dropna().astype("string").to_numpy())))
    cfg = with_categories(frame, cfg)  # one vocabulary for every series of the table
    if len(parts) == 1:
        name, part = parts[0]
        available = frame[cfg.id_col].nunique(dropna=False)
        notes = [f"kept series `{shorten(name)}` ({len(part)} rows), one of the {available} in "
                 f"{_id_name(cfg.id_col)}"] if available > 1 else []
        return [(name, _load_one(part, cfg, notes + [n for n in [similar.get(name)] if n]))]
    # Values are validated on the whole table first, so that an error names the row of the file.
    for col in (cfg.target, *_inputs(cfg)):
        if col is not None and not vocabulary_columns(cfg, col):
            numeric_column(frame, col, path, [], cfg.decimal)
    # a series without a single target value is left out (None here; prepare_panel says so)
    target = cfg.target or _time_and_target(frame.drop(columns=[cfg.id_col]), cfg)[1]
    loaded = [(name, None if target is not None and part[target].isna().all() else
               _load_one(part, dataclasses.replace(cfg, path=f"series `{shorten(name)}` of {path}"),
                         [n for n in [similar.get(name)] if n]))
              for name, part in parts]
    freqs = {}
    for name, series in loaded:  # under three rows there is no frequency to read: too short, left out later
        if series is not None and len(series) >= MIN_FREQ_ROWS:
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
            numeric_column(frame, col, cfg.path, [], cfg.decimal)
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
                              numeric_column(frame, c, path, notes, cfg.decimal) for c in (target, *_inputs(cfg))])
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


def confusable_ids(names: list[str]) -> dict[str, str]:
    """Ids that differ only in case, surrounding spaces or leading zeros (`A` and `a `, `007` and `7`): for each, a
    note naming the other. They stay two series; a user who meant one can merge them in the file."""
    def key(name: str) -> str:
        bare = name.strip().casefold()
        return bare.lstrip("0") or "0" if bare.isdigit() else bare
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(key(name), []).append(name)
    return {name: (f"its id `{shorten(name)}` differs from `{shorten(next(o for o in group if o != name))}` only in "
                   "case, spaces or leading zeros; they are read as two series: make them one id in the file if they "
                   "are one series")
            for group in groups.values() if len(group) > 1 for name in group}


def select_series(frame: pd.DataFrame, cfg: DataConfig) -> list[tuple[str, pd.DataFrame]]:
    """The rows of each series that --series names (all by default) in a long table, without its id column,
    in the order of first appearance (or of --series)."""
    col, path = cfg.id_col, cfg.path
    if col in (cfg.target, cfg.time_col, *_inputs(cfg)):
        raise DataError(f"column `{shorten(col)}` is the --id-col of {path} and cannot also be the target, time or a "
                        "feature; choose another --id-col")
    raw = frame[col]
    # every id a number, some fractional (1.5, 2.5): a measurement chosen by mistake, not names of series
    distinct = pd.Series(pd.unique(raw.dropna()))  # judged on each id once: a fleet repeats each thousands of times
    known = (distinct if pd.api.types.is_numeric_dtype(distinct) else pd.to_numeric(distinct, errors="coerce")).dropna()
    if len(known) and len(known) == len(distinct) and not (known == np.round(known)).all():
        raise DataError(f"column `{shorten(col)}` of {path} holds fractional numbers such as "
                        f"{known[known != np.round(known)].iloc[0]:g}, not series names: an --id-col names each "
                        "row's series (text or whole numbers); choose another column")
    if pd.api.types.is_float_dtype(raw):
        raw = raw.astype("Int64")  # a DataFrame's whole numbers held as floats because of gaps: 7.0 is series 7
    missing = np.flatnonzero(raw.isna().to_numpy())
    if len(missing):
        rows = ", ".join(str(i + 2) for i in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise DataError(f"column `{shorten(col)}` of {path} has no series id in {len(missing)} rows ({rows}, counting "
                        "the header as row 1); fill in the id of each row's series, or drop those rows")
    ids = raw.astype("string")  # exactly as written: `007` and `7`, `A` and `A ` are different series
    available = list(pd.unique(ids.to_numpy()))  # in order of first appearance
    shown = listing(available[:8]) + (f", ... ({len(available)} in all)" if len(available) > 8 else "")
    for name in cfg.series:
        if name not in available:
            raise DataError(f"series `{shorten(name)}` is not in {_id_name(col)} of {path}; "
                            f"{_closest(name, available)}available: {shown}")
    chosen = list(dict.fromkeys(cfg.series)) or available
    groups = dict(list(frame.drop(columns=[col]).groupby(ids.to_numpy(), sort=False)))
    return [(name, groups[name].reset_index(drop=True)) for name in chosen]
