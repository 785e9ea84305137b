"""CSV -> a validated, time-sorted series: encoding, delimiter, numbers, dates, gaps and duplicates.

Problems the tool can settle (sorting, filling gaps) are settled and reported in `Series.notes`;
anything else raises DataError naming the file, column, row and the fix.
"""

from __future__ import annotations

import csv
import difflib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.config import DataConfig, Fill
from forecast.dates import find_time_column, infer_freq, irregular_note, parse_dates
from forecast.errors import DataError

DELIMITERS = ",;\t|"
SAMPLE_BYTES = 1 << 16
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")


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

    @property
    def target(self) -> str:
        return self.columns[0]

    def __len__(self) -> int:
        return len(self.values)


def _sniff(path: Path, encoding: str, shown: str) -> str:
    """The decoded first 64 KiB; a binary or wrongly encoded file is an error that names the fix."""
    with path.open("rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if b"\x00" in sample:
        raise DataError(f"{path} looks like a binary file (it contains NUL bytes), not CSV text; "
                        "export it as CSV, or pass --encoding utf-16 if it is UTF-16 text")
    try:
        return sample.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4 and len(sample) == SAMPLE_BYTES:
            return sample[:exc.start].decode(encoding)  # a character cut at the end of the sample
        raise DataError(f"{path} is not valid {shown} text (byte 0x{sample[exc.start]:02x} at offset {exc.start}); "
                        "pass --encoding latin-1 (or the file's encoding), or re-save it as UTF-8") from None
    except LookupError:
        raise DataError(f"unknown --encoding {encoding!r}; use a Python codec name such as utf-8 or latin-1") from None


def _detect_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_frame(path: str | Path, cfg: DataConfig | None = None) -> pd.DataFrame:
    """Read a CSV as strings-or-numbers, keeping text such as "N/A" visible for clear errors."""
    cfg = cfg or DataConfig(str(path))
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise DataError(f"{p} is a directory, not a CSV file; pass the path of a .csv file inside it")
    encoding = "utf-8-sig" if cfg.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else cfg.encoding
    text = _sniff(p, encoding, cfg.encoding)  # utf-8-sig drops a byte-order mark
    if not text.strip():
        raise DataError(f"{p} is empty; it needs a header row and at least one data row")
    sep = cfg.delimiter or _detect_delimiter(text)
    # pandas can only read decimal commas when the delimiter is not a comma; _numeric_column converts the rest.
    decimal = "," if sep != "," and (cfg.decimal or _detect_decimal(text, sep)) == "," else "."
    try:
        with warnings.catch_warnings():
            # More fields in a row than in the header: pandas would drop them (or make them an index) quietly.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(p, sep=sep, decimal=decimal, encoding=encoding, keep_default_na=False,
                                na_values=[""], skipinitialspace=True, index_col=False)
    except pd.errors.ParserWarning:
        raise DataError(f"{p} has rows with more fields than its header when split by {sep!r}; check the "
                        "delimiter (--delimiter) and quoting, or name every column in the header") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{p} is empty; it needs a header row and at least one data row") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{p} is not valid {cfg.encoding} text (byte {exc.start}); pass --encoding latin-1 "
                        "(or the file's encoding), or re-save it as UTF-8") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise DataError(f"{p} is not a well-formed CSV with delimiter {sep!r} ({detail}); check its delimiter "
                        "(--delimiter) and quoting") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataError(f"{p} has a header but no data rows; add rows below the header")
    return frame


def _detect_decimal(text: str, sep: str) -> str:
    """Decimal commas are only unambiguous when the delimiter is not a comma."""
    if sep == ",":
        return "."
    fields = [f.strip().strip('"') for line in text.splitlines()[1:50] for f in line.split(sep)]
    return "," if any(DECIMAL_COMMA.match(f) for f in fields) else "."


def _closest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f"did you mean `{close[0]}`? " if close else ""


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
            raise DataError(f"column `{col}` in {path} has a non-numeric value {raw.iloc[i]!r} at row {i + 2} "
                            f"(counting the header as row 1); {hint}")
        values[bad] = pd.to_numeric(fixed[bad])
        notes.append(f"column `{col}`: converted {int(bad.sum())} values written with {what}")
    out = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(out).any():
        i = int(np.argmax(np.isinf(out)))
        raise DataError(f"column `{col}` in {path} has an infinite value at row {i + 2}; remove or replace it")
    if np.isnan(out).all():
        raise DataError(f"column `{col}` in {path} has no values (all {len(out)} rows are empty); "
                        "choose another --target or fill the column")
    return out


def _time_index(frame: pd.DataFrame, col: str, path: str, notes: list[str]) -> pd.DatetimeIndex:
    time, bad, note = parse_dates(frame[col])
    if time is None or bad:
        if time is None or bad == len(frame):
            raise DataError(f"column `{col}` in {path} does not parse as dates; pick another --time-col")
        i = int(np.argmax(time.isna()))
        raise DataError(f"column `{col}` in {path} has {bad} value(s) that are not dates in the format of the "
                        f"first row, the first {frame[col].iloc[i]!r} at row {i + 2}; use one date format "
                        "throughout")
    if note:
        notes.append(note)
    return time


def _fill(values: np.ndarray, columns: tuple[str, ...], fill: Fill, path: str,
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


def load_csv(cfg: DataConfig, frame: pd.DataFrame | None = None) -> Series:
    """Read `cfg.path` (or use its already read `frame`), pick time, target and feature columns, validate
    them and sort by time."""
    frame = read_frame(cfg.path, cfg) if frame is None else frame
    path = cfg.path
    names = list(frame.columns)
    for col in [cfg.target, cfg.time_col, *cfg.features]:
        if col is not None and col not in names:
            raise DataError(f"column `{col}` not found in {path}; {_closest(col, names)}available: {', '.join(names)}")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise DataError(f"{path} has two columns named `{dup}`; rename one in the header")

    time_col = cfg.time_col if cfg.time_col is not None else find_time_column(frame)
    target = cfg.target
    if target is None:
        candidates = [c for c in names if c != time_col and c not in cfg.features]
        numeric = [c for c in candidates if pd.api.types.is_numeric_dtype(frame[c])]
        if not numeric and len(candidates) == 1:
            numeric = candidates  # the only column left: validate it, naming its first bad value
        if len(numeric) != 1:
            found = ", ".join(numeric) if numeric else "none"
            raise DataError(f"{path} has {len(numeric)} numeric columns ({found}); choose one with --target"
                            + (f"; available: {', '.join(names)}" if not numeric else ""))
        target = numeric[0]
    if target == time_col:
        raise DataError(f"column `{target}` is the time column of {path}; choose a numeric --target")
    if target in cfg.features:
        raise DataError(f"column `{target}` is both the target and a feature; drop it from --features")

    notes: list[str] = []
    columns = (target, *cfg.features)
    values = np.column_stack([_numeric_column(frame, c, path, notes, cfg.decimal) for c in columns])
    freq = None
    if time_col is None:
        time: pd.Index = pd.RangeIndex(len(frame))
    else:
        time = _time_index(frame, time_col, path, notes)
        if not time.is_monotonic_increasing:
            order = np.argsort(time.to_numpy(), kind="stable")
            time, values = time[order], values[order]
            notes.append(f"rows were not in time order; sorted them by `{time_col}`")
        time, values = _dedupe(time, values, time_col, path, cfg.dedupe, notes)
        freq = infer_freq(time)
        note = irregular_note(time, freq)
        if note:
            notes.append(note)
    keep = _fill(values, columns, cfg.fill, path, notes)
    if keep is not None:
        values, time = values[keep], (time[keep] if time_col is not None else pd.RangeIndex(int(keep.sum())))
    return Series(path=path, values=values, columns=columns, time=time, time_col=time_col, freq=freq,
                  notes=tuple(notes))


def _dedupe(time: pd.DatetimeIndex, values: np.ndarray, col: str, path: str, dedupe: bool,
            notes: list[str]) -> tuple[pd.DatetimeIndex, np.ndarray]:
    dup = time.duplicated(keep="last")
    if not dup.any():
        return time, values
    first = time[int(np.argmax(dup))]
    if not dedupe:
        raise DataError(f"timestamp {first} appears {int((time == first).sum())} times in `{col}` of {path} "
                        f"({int(dup.sum())} duplicate rows in all); remove them, or pass --dedupe to keep the "
                        "last row of each timestamp")
    notes.append(f"dropped {int(dup.sum())} rows with duplicate timestamps (kept the last), the first at {first}")
    return time[~dup], values[~dup]
