"""Target transforms applied before scaling and inverted exactly: none, diff, log, logdiff.

A forecast in transformed units is turned back into original units with the target's value at the
forecast's origin, so differences and log returns forecast levels again.
"""

from __future__ import annotations

import numpy as np

from forecast.config import Transform
from forecast.errors import DataError

DIFFERENCED = (Transform.diff, Transform.logdiff)


def check_positive(y: np.ndarray, transform: Transform, column: str, path: str) -> None:
    if transform in (Transform.log, Transform.logdiff) and (y <= 0).any():
        i = int(np.argmax(y <= 0))
        raise DataError(f"--transform {transform.value} needs positive values, but `{column}` in {path} is {y[i]:g} at "
                        f"data row {i + 1} in time order; use --transform diff or none")


def forward(y: np.ndarray, transform: Transform) -> np.ndarray:
    """z with z[t] the transformed target at row t; differenced transforms have z[0] = NaN (no previous row)."""
    y = np.asarray(y, dtype=np.float64)
    if transform is Transform.none:
        return y.copy()
    if transform is Transform.log:
        return np.log(y)
    base = np.log(y) if transform is Transform.logdiff else y
    return np.concatenate([[np.nan], np.diff(base)])


def inverse(z: np.ndarray, y_origin: np.ndarray, transform: Transform) -> np.ndarray:
    """Forecasts of z for steps 1..H after each origin, (n, H), back to the target: (n, H).

    diff: y[t+h] = y[t] + z[t+1] + ... + z[t+h];  logdiff: y[t+h] = y[t] * exp(z[t+1] + ... + z[t+h]).
    """
    z = np.asarray(z, dtype=np.float64)
    if transform is Transform.none:
        return z
    if transform is Transform.log:
        return np.exp(z)
    y0 = np.asarray(y_origin, dtype=np.float64)[:, None]
    steps = np.cumsum(z, axis=1)
    return y0 + steps if transform is Transform.diff else y0 * np.exp(steps)
