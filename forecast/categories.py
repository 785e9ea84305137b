"""Text input columns (`--features weather` holding 'rain', 'drizzle', ...) as one-hot columns.

A --features or --future-features column whose non-empty values are mostly not numbers is a text column: each of
its values becomes a 0/1 input column `weather=rain`. The vocabulary is read from the training file (every row of
every series, sorted) and recorded in config.json, so `predict` builds the same columns; a value the run never saw
is encoded as none of the known ones (all zeros) with a note. An empty cell is missing in every one of its columns,
so --fill treats it like an empty number.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from forecast.config import DataConfig, vocabulary_columns
from forecast.errors import DataError, listing, shorten

MAX_CATEGORIES = 64  # one input column each: beyond, a category column is more likely an identifier than a state


def _text_of(value) -> str | None:
    """A cell as the text it was written as, whatever pandas read it as: 1.0 and 1 are `1`, True is `true`; None
    for an empty cell."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip() or None


def _cells(raw: pd.Series) -> pd.Series:
    """The non-empty cells of a column as text, NA where empty."""
    return raw.map(_text_of).astype("string")


def is_text(raw: pd.Series) -> bool:
    """Mostly not numbers: a column of states, not a numeric column with a stray bad value (that is an error)."""
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return False
    known = raw[_cells(raw).notna()]
    return len(known) > 0 and pd.to_numeric(known, errors="coerce").isna().mean() > 0.5


def with_categories(frame: pd.DataFrame, cfg: DataConfig) -> DataConfig:
    """`cfg` with the vocabulary of each text input column of `frame` that it does not record yet (a run's own
    recorded vocabularies are kept, so predict encodes a new file as the run was trained)."""
    known = list(cfg.categories)
    for col in (*cfg.features, *cfg.future_features):
        if vocabulary_columns(cfg, col) or col not in frame.columns or not is_text(frame[col]):
            continue
        values = sorted(set(_cells(frame[col]).dropna()))
        if len(values) > MAX_CATEGORIES:
            raise DataError(f"text column `{shorten(col)}` of {cfg.path} has {len(values):,} distinct values "
                            f"({listing([shorten(v) for v in values[:3]])}, ...); a text input becomes one 0/1 "
                            f"column per value, at most {MAX_CATEGORIES}: group its values into fewer, or drop it "
                            "from the features")
        known += [f"{col}={value}" for value in values]
    return dataclasses.replace(cfg, categories=tuple(known))


def one_hot(raw: pd.Series, col: str, cfg: DataConfig, notes: list[str]) -> np.ndarray:
    """(rows, one per known value) 0/1 columns of text column `col`; NaN on rows whose cell is empty."""
    vocabulary = [name[len(col) + 1:] for name in vocabulary_columns(cfg, col)]
    text = _cells(raw)
    empty = text.isna().to_numpy()
    if empty.all():
        raise DataError(f"column `{shorten(col)}` in {cfg.path} has no values (all {len(raw):,} rows are empty); "
                        "fill it or drop it from the features")
    codes = text.map({value: i for i, value in enumerate(vocabulary)}).fillna(-1).to_numpy(dtype=np.int64)
    out = np.zeros((len(raw), len(vocabulary)))
    seen = codes >= 0
    out[np.flatnonzero(seen), codes[seen]] = 1.0
    out[empty] = np.nan
    unknown = ~seen & ~empty
    if unknown.any():
        new = list(dict.fromkeys(text[unknown]))
        shown = listing([shorten(v) for v in new[:3]]) + (", ..." if len(new) > 3 else "")
        if not seen.any():
            raise DataError(f"column `{shorten(col)}` in {cfg.path} holds none of the {len(vocabulary)} values the run "
                            f"was trained on ({listing([shorten(v) for v in vocabulary[:5]])}"
                            f"{', ...' if len(vocabulary) > 5 else ''}) but {shown}; give it those values")
        count = int(unknown.sum())
        notes.append(f"column `{shorten(col)}`: {count:,} row{'s' if count > 1 else ''} hold{'' if count > 1 else 's'} "
                     f"values the run was not trained on ({shown}), encoded as none of its {len(vocabulary)} known "
                     "values")
    return out
