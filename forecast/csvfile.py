"""Reading the CSV file itself: what kind of file it is (a regular file, plain or gzip/bz2/xz/zip-compressed), its
encoding, delimiter and decimal mark, into a frame of strings-or-numbers. Every problem is a DataError with the fix."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import re
import stat
import warnings
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from forecast import columnar
from forecast.config import DataConfig
from forecast.errors import DataError, printable, shorten

DELIMITERS = ",;\t|"
SAMPLE_BYTES = 1 << 16
DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
# Magic bytes of the compressed formats pandas reads; zstd needs a package we do not install.
COMPRESSION = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip",
               b"\x28\xb5\x2f\xfd": "zstd"}
CSV_NAMES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip")  # what `forecast datasets` lists
OPENERS = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
WIDE_ENCODINGS = ("utf-16", "utf16", "utf-32", "utf32")  # their text holds NUL bytes
FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
              (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_file(p: Path) -> None:
    """A path that names a regular file, before anything opens it (a pipe or a device could block or never end)."""
    if str(p) == "-":
        raise DataError("reading the data from standard input (-) is not supported; save it to a CSV file and pass "
                        "its path")
    if not p.exists():
        raise DataError(f"{printable(p)}: no such file; check the path")
    if p.is_dir():
        raise DataError(f"{printable(p)} is a directory, not a CSV file; pass the path of a .csv file inside it")
    mode = p.stat().st_mode
    kind = next((what for test, what in FILE_KINDS if test(mode)), None if stat.S_ISREG(mode) else "a special file")
    if kind is not None:
        raise DataError(f"{printable(p)} is {kind}, not a regular file; save the data to a CSV file and pass its path")


def compression(p: Path) -> str | None:
    with p.open("rb") as f:
        head = f.read(6)
    return next((kind for magic, kind in COMPRESSION.items() if head.startswith(magic)), None)


def _raw_sample(p: Path, packed: str | None) -> bytes:
    """The first 64 KiB of the file's content, decompressed."""
    shown = printable(p)
    if packed == "zstd":
        raise DataError(f"{shown} is zstd-compressed, which this tool does not read; decompress it (zstd -d) first, "
                        "or compress it with gzip, bz2, xz or zip")
    try:
        if packed == "zip":
            with zipfile.ZipFile(p) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise DataError(f"{shown} is a zip archive of {len(names)} files; it must hold exactly one CSV")
                with archive.open(names[0]) as f:
                    return f.read(SAMPLE_BYTES)
        with (OPENERS[packed](p, "rb") if packed else p.open("rb")) as f:
            return f.read(SAMPLE_BYTES)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, zipfile.BadZipFile) as exc:
        raise DataError(f"{shown} looks {packed}-compressed but cannot be decompressed ({shorten(exc, 80)}); check "
                        "the file, or decompress it yourself") from None


def _sniff(p: Path, packed: str | None, encoding: str, shown: str) -> str:
    """The decoded first 64 KiB; a binary or wrongly encoded file is an error that names the fix."""
    sample = _raw_sample(p, packed)
    if b"\x00" in sample and not shown.lower().replace("_", "-").startswith(WIDE_ENCODINGS):
        raise DataError(f"{printable(p)} looks like a binary file (it contains NUL bytes), not CSV text; "
                        "export it as CSV, or pass --encoding utf-16 if it is UTF-16 text")
    try:
        return sample.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4 and len(sample) == SAMPLE_BYTES:
            return sample[:exc.start].decode(encoding)  # a character cut at the end of the sample
        raise DataError(f"{printable(p)} is not valid {shown} text (byte 0x{sample[exc.start]:02x} at offset "
                        f"{exc.start}); pass --encoding latin-1 (or the file's encoding), or re-save it as UTF-8"
                        ) from None
    except LookupError:
        raise DataError(f"unknown --encoding {shorten(repr(encoding))}; use a Python codec name such as utf-8 or "
                        "latin-1") from None


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


def _detect_decimal(text: str, sep: str) -> str:
    """Decimal commas are only unambiguous when the delimiter is not a comma."""
    if sep == ",":
        return "."
    fields = [f.strip().strip('"') for line in text.splitlines()[1:50] for f in line.split(sep)]
    return "," if any(DECIMAL_COMMA.match(f) for f in fields) else "."


def read_frame(path: str | Path, cfg: DataConfig | None = None) -> pd.DataFrame:
    """Read a CSV as strings-or-numbers, keeping text such as "N/A" visible for clear errors (or a Parquet or Arrow
    file, or take the Python API's DataFrame)."""
    cfg = cfg or DataConfig(str(path))
    if cfg.frame is not None:
        return from_frame(cfg.frame)
    p = Path(path)
    check_file(p)
    shown = printable(p)
    if (what := columnar.kind(p, shown)) is not None:  # Parquet or Arrow: typed columns, no text to parse
        return from_frame(columnar.read(p, shown, what), owned=True)
    packed = compression(p)
    encoding = "utf-8-sig" if cfg.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else cfg.encoding
    text = _sniff(p, packed, encoding, cfg.encoding)  # utf-8-sig drops a byte-order mark
    if not text.strip():
        raise DataError(f"{shown} is empty; it needs a header row and at least one data row")
    sep = cfg.delimiter or _detect_delimiter(text)
    # pandas can only read decimal commas when the delimiter is not a comma; _numeric_column converts the rest.
    decimal = "," if sep != "," and (cfg.decimal or _detect_decimal(text, sep)) == "," else "."
    try:
        with warnings.catch_warnings():
            # More fields in a row than in the header: pandas would drop them (or make them an index) quietly.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # series ids are text exactly as written (`007` is not series 7); a missing column is named later
            ids = {cfg.id_col: "string"} if cfg.id_col else None
            frame = pd.read_csv(p, sep=sep, decimal=decimal, encoding=encoding, keep_default_na=False,
                                na_values=[""], skipinitialspace=True, index_col=False, compression=packed, dtype=ids)
    except pd.errors.ParserWarning:
        raise DataError(f"{shown} has rows with more fields than its header when split by {sep!r}; check the "
                        "delimiter (--delimiter) and quoting, or name every column in the header") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{shown} is empty; it needs a header row and at least one data row") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{shown} is not valid {cfg.encoding} text (byte {exc.start}); pass --encoding latin-1 "
                        "(or the file's encoding), or re-save it as UTF-8") from None
    except pd.errors.ParserError as exc:
        detail = shorten(str(exc).strip().splitlines()[-1], 120)
        raise DataError(f"{shown} is not a well-formed CSV with delimiter {sep!r} ({detail}); check its delimiter "
                        "(--delimiter) and quoting") from None
    except (OSError, EOFError, lzma.LZMAError, zlib.error, zipfile.BadZipFile) as exc:
        if packed is None:
            raise
        raise DataError(f"{shown} is {packed}-compressed but damaged ({shorten(exc, 80)}); check the file") from None
    _check_header(text, sep, shown)
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataError(f"{shown} has a header but no data rows; add rows below the header")
    return frame


def _check_header(text: str, sep: str, shown: str) -> None:
    """No two columns of the header share a name (pandas would call the second `y.1` and the tool read the first
    without a word; names equal once trimmed would clash)."""
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True), [])
    seen: dict[str, int] = {}
    for i, name in enumerate(h.strip() for h in header):
        if name and name in seen:
            raise DataError(f"{shown} names two columns `{shorten(name)}` in its header (columns {seen[name] + 1} and "
                            f"{i + 1}); rename one of them so that each column has its own name")
        seen.setdefault(name, i)


def from_frame(frame, owned: bool = False) -> pd.DataFrame:
    """A DataFrame given to the Python API as if read from a CSV. Its index is used or refused, never dropped
    unread: a DatetimeIndex (or PeriodIndex) becomes the time column, each named level of a MultiIndex a column
    (time and id, as a long CSV has them), a named index of any other kind a column; a RangeIndex (named or not) or
    an unnamed integer index is row labels. A TimedeltaIndex, unnamed levels and an unnamed index of other labels are refused."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"data must be a CSV path or a pandas DataFrame (got {type(frame).__name__})")
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        if any(name is None for name in index.names):
            raise DataError(f"the DataFrame's MultiIndex has unnamed levels ({', '.join(str(n) for n in index.names)}"
                            "); name them (df.rename_axis([\"time\", \"id\"])) so that time_col= and id_col= can "
                            "choose them, or make them columns (df.reset_index())")
        _check_index_names(frame, [str(n) for n in index.names])
        frame = frame.reset_index()
        for name in index.names:  # a level of periods: their start times, as a PeriodIndex gives
            if isinstance(frame[name].dtype, pd.PeriodDtype):
                frame[name] = frame[name].dt.to_timestamp()
    elif isinstance(index, pd.TimedeltaIndex):
        raise DataError("the DataFrame's index holds durations (a TimedeltaIndex), not dates; give them a start "
                        "(df.index = pd.Timestamp(\"2024-01-01\") + df.index) or count rows instead "
                        "(df.reset_index(drop=True))")
    elif isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        if isinstance(index, pd.PeriodIndex):
            frame = frame.set_axis(index.to_timestamp(), axis=0)
        name = index.name or "time"
        _check_index_names(frame, [name], "time ")
        frame = frame.reset_index(names=name)
    elif index.name is not None and not isinstance(index, pd.RangeIndex):  # a RangeIndex, named or not, counts rows
        _check_index_names(frame, [str(index.name)])
        frame = frame.reset_index()
    elif not pd.api.types.is_integer_dtype(index.dtype):
        kind = "text" if index.inferred_type in ("string", "mixed") else index.inferred_type  # alike in pandas 2 and 3
        raise DataError(f"the DataFrame's index holds {kind} labels such as {shorten(repr(index[0]))} and has no "
                        "name; name it (df.rename_axis(\"time\")) to use it as a column, or drop it "
                        "(df.reset_index(drop=True))")
    frame = frame if owned else frame.copy()  # the caller's DataFrame is never changed; a file's is ours
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataError("the DataFrame has no rows; pass at least one row")
    return frame


def _check_index_names(frame: pd.DataFrame, names: list[str], what: str = "") -> None:
    for name in names:
        if name in frame.columns:
            raise DataError(f"the DataFrame's {what}index is named `{shorten(name)}` like one of its columns; rename "
                            "the index (df.rename_axis(...)) or the column")
