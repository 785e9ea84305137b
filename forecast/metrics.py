"""Error metrics in the target's original units. Each takes (y_true, y_pred) of equal shape and returns a float
(MAPE, sMAPE and MASE return None where they are undefined, never inf)."""

from __future__ import annotations

import math

import numpy as np

from forecast.errors import ForecastError


def _err(y_true, y_pred) -> np.ndarray:
    return np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean squared error: mean((y - ŷ)²)."""
    return float(np.mean(_err(y_true, y_pred) ** 2))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error: sqrt(mean((y - ŷ)²))."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error: mean(|y - ŷ|)."""
    return float(np.mean(np.abs(_err(y_true, y_pred))))


def mape(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    """Mean absolute percentage error: 100 · mean(|y - ŷ| / |y|); None when an actual is zero (undefined)."""
    y = np.asarray(y_true, dtype=np.float64)
    if (y == 0).any():
        return None
    return float(100 * np.mean(np.abs(_err(y, y_pred)) / np.abs(y)))


def smape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Symmetric MAPE: 100 · mean(2|y - ŷ| / (|y| + |ŷ|)), a term being 0 where y = ŷ = 0. Lies in [0, 200]."""
    y, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    denom = np.abs(y) + np.abs(p)
    terms = np.divide(2 * np.abs(y - p), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100 * np.mean(terms))


def mase(y_true: np.ndarray, y_pred: np.ndarray, scale: float | np.ndarray) -> float | None:
    """Mean absolute scaled error: MAE / scale, where scale is the in-sample MAE of the seasonal naive forecast
    on the training part (see naive_scale); below 1 beats that in-sample benchmark. None when scale is 0.
    `scale` may also hold one value per window (row) of several series scored together."""
    if np.ndim(scale) == 0:
        return mae(y_true, y_pred) / scale if scale > 0 else None
    scale = np.asarray(scale, dtype=np.float64)
    if not (scale > 0).all():
        return None
    err = np.abs(_err(y_true, y_pred))
    return float(np.mean(err / (scale[:, None] if err.ndim == 2 else scale)))


def naive_scale(train_target: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast on the training part: mean(|y[t] - y[t-m]|), t = m .. n-1."""
    y = np.asarray(train_target, dtype=np.float64)
    if len(y) <= season:
        return math.nan
    return float(np.mean(np.abs(y[season:] - y[:-season])))


def score(y_true: np.ndarray, y_pred: np.ndarray, scale: float = math.nan) -> dict[str, float | None]:
    """Every metric over all windows and horizon steps."""
    return {"mse": mse(y_true, y_pred), "rmse": rmse(y_true, y_pred), "mae": mae(y_true, y_pred),
            "mape": mape(y_true, y_pred), "smape": smape(y_true, y_pred), "mase": mase(y_true, y_pred, scale)}


def score_by_step(y_true: np.ndarray, y_pred: np.ndarray, scale: float = math.nan) -> list[dict]:
    """score() of each horizon step (column) of (n_windows, horizon) arrays."""
    return [score(y_true[:, h], y_pred[:, h], scale) for h in range(y_true.shape[1])]


def conformal_quantiles(residuals: np.ndarray, level: float) -> list[float]:
    """Split-conformal half-widths per horizon step from (n, horizon) validation residuals.

    q_h is the ⌈(n+1)·level⌉-th smallest |residual| of step h, which gives coverage of at least `level` on
    exchangeable data; inf when the validation part is too small for that level.
    """
    abs_res = np.sort(np.abs(np.asarray(residuals, dtype=np.float64)), axis=0)
    n = abs_res.shape[0]
    k = math.ceil((n + 1) * level)
    if k > n:
        return [math.inf] * abs_res.shape[1]
    return [float(q) for q in abs_res[k - 1]]


def coverage(y_true: np.ndarray, y_pred: np.ndarray, half_widths) -> float:
    """Share of actuals inside forecast ± half-width: one per step, or (n, steps) of their own."""
    half = np.asarray(half_widths)
    inside = np.abs(_err(y_true, y_pred)) <= (half if half.ndim == 2 else half[None, :])
    return float(np.mean(inside))


def conformal_min_windows(level: float) -> int:
    """The fewest validation windows for which conformal_quantiles gives a finite half-width at `level`:
    the least n with ⌈(n+1)·level⌉ <= n."""
    n = 1
    while math.ceil((n + 1) * level) > n:
        n += 1
    return n


def check_interval_windows(levels: tuple[float, ...], val_windows: int, where: str = "the validation part") -> None:
    """Split-conformal bounds at a level need enough validation windows: an error before training, not infinite
    widths after it."""
    for level in levels:
        if val_windows < (need := conformal_min_windows(level)):
            raise ForecastError(f"--interval {level:g} needs at least {need} validation windows for split-conformal "
                                f"bounds; {where} has {val_windows}; lower the level, or raise --val-frac "
                                "(or use more data)")
