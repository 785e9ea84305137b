"""The linear path's starting point: a ridge regression of what the untrained model leaves over, its strength chosen
by blocked cross-validation on the training windows, kept only when it beats the reference alone on validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from forecast.ensemble import beats
from forecast.inference import predict_batch
from forecast.windows import Windows

if TYPE_CHECKING:
    import keras

RIDGE = (1e-6, 1e-4, 1e-2, 1.0, 100.0)  # strengths tried, relative to the mean variance of the window's values
FOLDS = 5  # contiguous blocks of the training windows that choose the strength (blocked cross-validation)
# A start other than the reference (a linear fit, a trained epoch) must lower the validation MSE by this share, and
# by more than one standard error (ensemble.beats): on random walks the gains a fit finds on validation are noise
# (1-2% worse than the naive on test without it).
MIN_GAIN = 0.01
MAX_LINEAR_INPUTS = 1024  # a larger window (lookback x columns) keeps the zero start (a solve grows as its cube)


@dataclass
class LinearStart:
    record: dict  # what was chosen and why, for metrics.json
    # The training windows' forecasts in the model's units, each block's by the fit on the other blocks (at the
    # chosen strength): out-of-sample evidence for the recommendation while the model is this start. None when
    # the zero start is kept.
    held_out: np.ndarray | None = None


def fit_linear_path(model: keras.Model, train: Windows, val: Windows, level_free: bool = False,
                    batch: int = 4096) -> LinearStart:
    """Start the linear path at its least-squares solution: a ridge regression, over the training windows, of what
    the rest of the untrained model leaves over (the target minus the reference, or the target itself) on the
    flattened window. The strength is chosen by blocked cross-validation on the training windows (FOLDS contiguous
    blocks, each scored by the fit on the others; valid for autoregressions, Bergmeir, Hyndman & Koo 2018), and with
    `level_free` (a model anchored on a reference, which moves with the window's level) so is the kind of fit: free
    lag weights, or level-free ones that add up to zero (a correction of the reference that no level changes), so the
    validation part judges the chosen fit once: it is kept only when it beats zero weights (the reference alone)
    there (ensemble.beats: by MIN_GAIN and one standard error). Choosing the strength on validation too overfit the
    random walks' 48 lags (FTSE: -1.8% on validation, +1.2% on test). The sums X'X, X'r and r'r are gathered a
    batch at a time and kept per block, so memory stays bounded by the batch and every fold's error follows from
    them in closed form."""
    layer = model.get_layer("linear")
    d = train.lookback * train.values.shape[1] + train.horizon * train.n_future
    if d > MAX_LINEAR_INPUTS or len(train) <= d:
        return LinearStart({"ridge": None, "reason": f"{len(train)} training windows for {d} window values: zero "
                                                     "start"})

    def gathered(w: Windows):  # (rows, flattened windows with a 1, the reference or zero, what it leaves over)
        for start in range(0, len(w), batch):
            idx = np.arange(start, min(start + batch, len(w)))
            inputs = w.model_inputs(idx)
            rest = predict_batch(model, inputs).astype(np.float64)  # the reference, or zero
            parts = inputs if isinstance(inputs, tuple) else (inputs,)  # the window, then the known future
            x = np.concatenate([p.reshape(len(idx), -1).astype(np.float64) for p in parts]
                               + [np.ones((len(idx), 1))], axis=1)
            yield idx, x, rest, w.targets(idx).astype(np.float64) - rest

    edges = np.linspace(0, len(train), FOLDS + 1).astype(int)
    xtx, xtr = np.zeros((FOLDS, d + 1, d + 1)), np.zeros((FOLDS, d + 1, train.horizon))
    rtr = np.zeros(FOLDS)
    for idx, x, _, r in gathered(train):  # whole batches (one compiled shape), their rows summed by block
        block = np.searchsorted(edges[1:-1], idx, side="right")
        for k in np.unique(block):
            xk, rk = x[block == k], r[block == k]
            xtx[k] += xk.T @ xk
            xtr[k] += xk.T @ rk
            rtr[k] += float(np.sum(rk * rk))
    spread = np.trace(xtx.sum(0)[:d, :d]) / d
    # The level-free fit: weights on the target's lags that add up to zero, so a window moved by a constant moves
    # the forecast by that constant (the reference does): no pull back to the training part's level.
    lags = np.arange(0, train.lookback * train.values.shape[1], train.values.shape[1])
    centre = np.eye(d + 1)
    centre[np.ix_(lags, lags)] -= 1.0 / len(lags)

    def solve(a: np.ndarray, b: np.ndarray, strength: float, centred: bool) -> np.ndarray:
        penalty = np.eye(d + 1) * strength * spread
        penalty[d, d] = 0.0  # the intercept is not shrunk
        if centred:  # the fit on centred lags; its weights then add up to zero (the penalty holds the rest at 0)
            a, b = centre @ a @ centre, centre @ b
        return np.linalg.lstsq(a + penalty, b, rcond=None)[0]

    def folds(choice: tuple[float, bool]) -> list[np.ndarray]:  # each block's weights: the fit on the other blocks
        return [solve(xtx.sum(0) - xtx[k], xtr.sum(0) - xtr[k], *choice) for k in range(FOLDS)]

    def held_out(choice: tuple[float, bool]) -> float:  # the summed squared error of every block, fit on the others
        return sum(rtr[k] - 2 * float(np.sum(w * xtr[k])) + float(np.sum(w * (xtx[k] @ w)))
                   for k, w in enumerate(folds(choice)))

    cv = {(strength, centred): held_out((strength, centred)) for strength in RIDGE
          for centred in (False, True)[:1 + level_free]}
    best = min(cv, key=cv.get)
    fitted = solve(xtx.sum(0), xtr.sum(0), *best)
    errors, zero = np.zeros(len(val)), np.zeros(len(val))  # each validation window's MSE with the fit, without
    for idx, x, _, r in gathered(val):
        errors[idx] = np.mean((r - x @ fitted) ** 2, axis=1)
        zero[idx] = np.mean(r * r, axis=1)
    kind = f"ridge {best[0]:g}{', level-free' if best[1] else ''}"
    reason = ("no strength beats zero weights across the training blocks" if cv[best] >= rtr.sum() else
              f"the fit ({kind}) does not beat zero weights on validation by {MIN_GAIN:.0%} and one standard error"
              if not beats(errors, zero, val.horizon, MIN_GAIN) else "")
    per_value = max(len(train) * train.horizon, 1)
    held = {"cv_mse": {"0": rtr.sum() / per_value, **{f"{k:g}{' level-free' if centred else ''}": v / per_value
                                                      for (k, centred), v in cv.items()}}}
    if reason:  # no better than the reference alone: the zero start
        layer.set_weights([np.zeros((d, train.horizon), np.float32), np.zeros(train.horizon, np.float32)])
        return LinearStart({"ridge": None, "reason": reason,
                            **dict.fromkeys(("val_mse", "val_mse_zero"), float(zero.mean())), **held})
    weights, forecasts = folds(best), np.zeros((len(train), train.horizon))
    for idx, x, rest, _ in gathered(train):  # while the path is still zero: `rest` is the reference alone
        block = np.searchsorted(edges[1:-1], idx, side="right")
        for k in np.unique(block):
            forecasts[idx[block == k]] = rest[block == k] + x[block == k] @ weights[k]
    layer.set_weights([fitted[:d].astype(np.float32), fitted[d].astype(np.float32)])
    return LinearStart({"ridge": best[0], "level_free": best[1], "val_mse": float(errors.mean()),
                        "val_mse_zero": float(zero.mean()), **held}, forecasts)
