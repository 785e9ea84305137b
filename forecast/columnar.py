"""Parquet and Arrow (Feather) files as tables, through pyarrow (the `parquet` extra): the same columns, checks and
messages as a CSV's once read, and a column type that holds no number, text or date refused by name."""

from __future__ import annotations

from pathlib import Path

from forecast.errors import DataError, shorten

# A file is taken for one of these by its first bytes, or by its name (then its first bytes must agree).
MAGIC = {b"PAR1": "Parquet", b"ARROW1": "Arrow"}
SUFFIXES = {".parquet": "Parquet", ".pq": "Parquet", ".feather": "Arrow", ".arrow": "Arrow", ".ipc": "Arrow"}


def kind(p: Path, shown: str) -> str | None:
    """"Parquet", "Arrow", or None for any other file (read as CSV)."""
    with p.open("rb") as f:
        head = f.read(6)
    found = next((what for magic, what in MAGIC.items() if head.startswith(magic)), None)
    named = SUFFIXES.get(p.suffix.lower())
    if named and found != named:
        raise DataError(f"{shown} is named like a {named} file but is not one (it starts with {head[:4]!r}); check the "
                        f"file, or rename it if it is a CSV")
    return found


def read(p: Path, shown: str, what: str):
    """The file's table as a pandas DataFrame (timestamps as datetimes, text as text, numbers as numbers)."""
    try:
        import pyarrow
        import pyarrow.feather
        import pyarrow.parquet
    except ModuleNotFoundError:
        raise DataError(f"{shown} is a {what} file, which needs pyarrow: pip install \"forecast[parquet]\" (or "
                        "pyarrow), or save it as CSV") from None
    try:
        table = pyarrow.parquet.read_table(p) if what == "Parquet" else pyarrow.feather.read_table(p)
    except (pyarrow.ArrowException, OSError, ValueError) as exc:
        detail = shorten(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 120)
        raise DataError(f"{shown} cannot be read as a {what} file ({detail}); check the file") from None
    for field in table.schema:
        t = field.type
        nested = pyarrow.types.is_nested(t) or pyarrow.types.is_dictionary(t) and pyarrow.types.is_nested(t.value_type)
        if nested or pyarrow.types.is_binary(t) or pyarrow.types.is_large_binary(t) or pyarrow.types.is_null(t):
            raise DataError(f"column `{shorten(field.name)}` of {shown} has the {what} type {shorten(t, 60)}, which is "
                            "not a number, text or date; flatten it or leave it out of the file")
    if table.num_rows == 0:
        raise DataError(f"{shown} has columns but no rows; add rows to it")
    return table.to_pandas(split_blocks=True, self_destruct=True)  # no second copy of the columns at once
