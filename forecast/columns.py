"""One column of a table as numbers: thousands separators and decimal commas converted, and what cannot be a real
number refused (text, infinities, magnitudes float64 squares cannot hold, complex numbers, dates, durations)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from forecast.csvfile import DECIMAL_COMMA
from forecast.errors import DataError, shorten

MAX_MAGNITUDE = 1e150  # beyond, squares (errors, variances) overflow float64 and a run could not be read back
MIN_MAGNITUDE = 1e-150  # below, squares underflow to 0 in float64: every MSE would read 0
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def numeric_column(frame: pd.DataFrame, col: str, path: str, notes: list[str], decimal: str | None) -> np.ndarray:
    """Numbers of one column, NaN where empty; thousands separators (or, with --decimal ,, decimal commas)
    are converted and noted."""
    raw = frame[col]
    check_representable(raw, col, path)
    values = pd.to_numeric(raw, errors="coerce")
    if values.dtype.kind == "c":  # complex Python numbers in an object column
        check_representable(values, col, path)
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


def check_representable(raw: pd.Series, col: str, path: str) -> None:
    """A column whose values are not real numbers (a DataFrame's complex numbers, dates or durations; integers
    beyond 2**53, which float64 rounds) is refused rather than cast."""
    dtype = raw.dtype
    if dtype.kind == "c":
        unreal = raw[np.asarray(raw.to_numpy().imag != 0)]
        example = f" such as {unreal.iloc[0]}" if len(unreal) else ""
        raise DataError(f"column `{shorten(col)}` in {path} holds complex numbers{example}; the tool forecasts real "
                        "values: pass their real part (df[col].real) or their magnitude (df[col].abs())")
    if dtype.kind in "mM" or isinstance(dtype, (pd.DatetimeTZDtype, pd.PeriodDtype)):
        what = "durations" if dtype.kind == "m" else "dates"
        raise DataError(f"column `{shorten(col)}` in {path} holds {what}, not numbers; convert it to a number "
                        "(df[col].dt.total_seconds() for durations) or leave it out of --target and --features")
    if dtype.kind in "iu" and len(raw) and max(abs(int(raw.max())), abs(int(raw.min()))) > 2 ** 53:
        raise DataError(f"column `{shorten(col)}` in {path} holds integers beyond 2**53 ({max(raw.max(), -raw.min())})"
                        ", which floating point cannot represent exactly; subtract an offset or change its units")
