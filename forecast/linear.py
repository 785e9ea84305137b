"""The linear path's starting point: a ridge regression of what the untrained model leaves over, or the seasonal
drift, chosen by blocked cross-validation on the training windows, kept only when it beats the reference alone on
validation."""

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
MAX_LINEAR_INPUTS = 1024  # a larger window (lookback x columns) fits no ridge (a solve grows as its cube)
DRIFT = "seasonal drift"  # the fixed start: see drift_weights


@dataclass
class LinearStart:
    record: dict  # what was chosen and why, for metrics.json
    # The training windows' forecasts in the model's units, each block's by the fit on the other blocks (at the
    # chosen strength): out-of-sample evidence for the recommendation while the model is this start. None when
    # the zero start is kept.
    held_out: np.ndarray | None = None


def drift_weights(model: keras.Model, w: Windows, season: int) -> np.ndarray | None:
    """The seasonal drift, as the linear path's weights (window values and a 1, by horizon steps) on top of the
    model's reference: the value a season back from each step, y[t+h-m*k] with k = ceil(h/m), moved by k times the
    change between the means of the window's last two seasons, mean(y[t-m+1..t]) - mean(y[t-2m+1..t-m]). The
    seasonal difference moved by one value's yearly change; this by the season's mean one, which a single noisy
    value does not throw. Level-free (its lag weights, less the reference's, add up to zero). None when the window
    holds fewer than two seasons."""
    lookback, columns, horizon = w.lookback, w.values.shape[1], w.horizon
    if season < 2 or 2 * season > lookback:
        return None
    d = lookback * columns + horizon * w.n_future
    weights = np.zeros((d + 1, horizon))
    last = lookback - 1
    for step in range(1, horizon + 1):
        k = -(-step // season)
        weights[(last + step - season * k) * columns, step - 1] += 1.0
        weights[np.arange(lookback - season, lookback) * columns, step - 1] += k / season
        weights[np.arange(lookback - 2 * season, lookback - season) * columns, step - 1] -= k / season
    if "reference" in (layer.name for layer in model.layers):  # the reference's own weights, read off unit windows
        import keras

        units = np.zeros((lookback, lookback, columns), np.float32)
        units[np.arange(lookback), np.arange(lookback), 0] = 1.0
        reference = keras.ops.convert_to_numpy(model.get_layer("reference")(units)).astype(np.float64)
        weights[np.arange(lookback) * columns] -= reference
    return weights


def fit_linear_path(model: keras.Model, train: Windows, val: Windows, level_free: bool = False, season: int = 1,
                    batch: int = 4096) -> LinearStart:
    """Start the linear path where the training windows point: at a ridge regression of what the rest of the
    untrained model leaves over (the target minus the reference, or the target itself) on the flattened window, or
    at the seasonal drift (drift_weights: with a `season` the window holds twice; an anchored model only).

    The ridge's strength is chosen by blocked cross-validation on the training windows (FOLDS contiguous blocks,
    each scored by the fit on the others; valid for autoregressions, Bergmeir, Hyndman & Koo 2018), and with
    `level_free` (a model anchored on a reference, which moves with the window's level) so is the kind of fit: free
    lag weights, or level-free ones that add up to zero (a correction of the reference that no level changes). The
    seasonal drift fits nothing, so its cross-validated error is its training error. The two starts that beat zero
    weights (the reference alone) across the blocks go to the validation part in the order of those errors, and
    the first that beats zero weights on validation (ensemble.beats: by MIN_GAIN and one standard error) is
    kept; with none, the zero start. Choosing the strength on validation too overfit the random walks' 48 lags
    (FTSE: -1.8% on validation, +1.2% on test). The sums X'X, X'r and r'r are gathered a batch at a time and kept
    per block, so memory stays bounded by the batch and every fold's error follows from them in closed form."""
    layer = model.get_layer("linear")
    d = train.lookback * train.values.shape[1] + train.horizon * train.n_future
    drift = drift_weights(model, train, season) if level_free else None
    ridge = d <= MAX_LINEAR_INPUTS and len(train) > d
    if not ridge and drift is None:
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
    size = d + 1 if ridge else 0
    xtx, xtr = np.zeros((FOLDS, size, size)), np.zeros((FOLDS, size, train.horizon))
    rtr, drift_sse = np.zeros(FOLDS), 0.0
    for idx, x, _, r in gathered(train):  # whole batches (one compiled shape), their rows summed by block
        block = np.searchsorted(edges[1:-1], idx, side="right")
        if drift is not None:
            drift_sse += float(np.sum((r - x @ drift) ** 2))
        for k in np.unique(block):
            xk, rk = x[block == k], r[block == k]
            rtr[k] += float(np.sum(rk * rk))
            if ridge:
                xtx[k] += xk.T @ xk
                xtr[k] += xk.T @ rk
    spread = np.trace(xtx.sum(0)[:d, :d]) / d if ridge else 0.0
    # The level-free fit: weights on the target's lags that add up to zero, so a window moved by a constant moves
    # the forecast by that constant (the reference does): no pull back to the training part's level.
    lags = np.arange(0, train.lookback * train.values.shape[1], train.values.shape[1])
    centre = np.eye(size)
    if ridge:
        centre[np.ix_(lags, lags)] -= 1.0 / len(lags)

    def solve(a: np.ndarray, b: np.ndarray, strength: float, centred: bool) -> np.ndarray:
        penalty = np.eye(d + 1) * strength * spread
        penalty[d, d] = 0.0  # the intercept is not shrunk
        if centred:  # the fit on centred lags; its weights then add up to zero (the penalty holds the rest at 0)
            a, b = centre @ a @ centre, centre @ b
        return np.linalg.lstsq(a + penalty, b, rcond=None)[0]

    def folds(choice) -> list[np.ndarray]:  # each block's weights: the fit on the other blocks
        if choice == DRIFT:
            return [drift] * FOLDS
        return [solve(xtx.sum(0) - xtx[k], xtr.sum(0) - xtr[k], *choice) for k in range(FOLDS)]

    def held_out(choice: tuple[float, bool]) -> float:  # the summed squared error of every block, fit on the others
        return sum(rtr[k] - 2 * float(np.sum(w * xtr[k])) + float(np.sum(w * (xtx[k] @ w)))
                   for k, w in enumerate(folds(choice)))

    cv = {(strength, centred): held_out((strength, centred)) for strength in (RIDGE if ridge else ())
          for centred in (False, True)[:1 + level_free]}
    starts = [min(cv, key=cv.get)] if cv else []  # the ridge cross-validation chose
    # The inputs (features, calendar, known future) judged cheaply: the same ridge on the target's lags alone
    own = np.concatenate([lags, [d]]) if ridge and size > len(lags) + 1 else None
    if own is not None:
        choice = starts[0]
        with_inputs = solve(xtx.sum(0), xtr.sum(0), *choice)
        a, b = xtx.sum(0)[np.ix_(own, own)], xtr.sum(0)[own]
        if choice[1]:  # level-free: the lags' weights add up to zero
            c = np.eye(len(own))
            c[:-1, :-1] -= 1.0 / len(lags)
            a, b = c @ a @ c, c @ b
        penalty = np.eye(len(own)) * choice[0] * spread
        penalty[-1, -1] = 0.0
        without = np.linalg.lstsq(a + penalty, b, rcond=None)[0]
        inputs = {"with": np.zeros(len(val)), "without": np.zeros(len(val))}
    if drift is not None:
        cv[DRIFT] = drift_sse
        starts.append(DRIFT)
    starts = sorted((s for s in starts if cv[s] < rtr.sum()), key=cv.get)
    per_value = max(len(train) * train.horizon, 1)
    held = {"cv_mse": {"0": rtr.sum() / per_value, **{label(key): v / per_value for key, v in cv.items()}}}
    fitted = {start: drift if start == DRIFT else solve(xtx.sum(0), xtr.sum(0), *start) for start in starts}
    errors, zero = {start: np.zeros(len(val)) for start in starts}, np.zeros(len(val))  # per window, with each start
    for idx, x, _, r in gathered(val):  # one pass: the reference is predicted once for every start
        zero[idx] = np.mean(r * r, axis=1)
        for start, w in fitted.items():
            errors[start][idx] = np.mean((r - x @ w) ** 2, axis=1)
        if own is not None:
            inputs["with"][idx] = np.mean((r - x @ with_inputs) ** 2, axis=1)
            inputs["without"][idx] = np.mean((r - x[:, own] @ without) ** 2, axis=1)
    if own is not None:  # whether the target's own lags do better on validation than the fit with the inputs
        held["inputs"] = {"val_mse_with": float(inputs["with"].mean()),
                          "val_mse_without": float(inputs["without"].mean()),
                          "worse": beats(inputs["without"], inputs["with"], val.horizon, MIN_GAIN)}
    chosen = next((start for start in starts if beats(errors[start], zero, val.horizon, MIN_GAIN)), None)
    held["val_mse_tried"] = {label(start): float(errors[start].mean()) for start in starts}  # why one was turned down
    rejected = [named(start, season) for start in starts[:starts.index(chosen) if chosen is not None else len(starts)]]
    if chosen is None:  # no better than the reference alone: the zero start
        kinds = "strength" if drift is None else "strength nor the seasonal drift"
        reason = (f"no {kinds} beats zero weights across the training blocks" if not starts else
                  f"the fit ({' nor '.join(rejected)}) does not beat zero weights on validation by {MIN_GAIN:.0%} "
                  "and one standard error")
        layer.set_weights([np.zeros((d, train.horizon), np.float32), np.zeros(train.horizon, np.float32)])
        return LinearStart({"ridge": None, "reason": reason,
                            **dict.fromkeys(("val_mse", "val_mse_zero"), float(zero.mean())), **held})
    weights, forecasts = folds(chosen), np.zeros((len(train), train.horizon))
    for idx, x, rest, _ in gathered(train):  # while the path is still zero: `rest` is the reference alone
        block = np.searchsorted(edges[1:-1], idx, side="right")
        for k in np.unique(block):
            forecasts[idx[block == k]] = rest[block == k] + x[block == k] @ weights[k]
    layer.set_weights([fitted[chosen][:d].astype(np.float32), fitted[chosen][d].astype(np.float32)])
    kind = {"fit": DRIFT, "season": season} if chosen == DRIFT else {"fit": "ridge"}
    return LinearStart({"ridge": None if chosen == DRIFT else chosen[0], "level_free": chosen == DRIFT or chosen[1],
                        **kind, **({"rejected": rejected} if rejected else {}),
                        "val_mse": float(errors[chosen].mean()), "val_mse_zero": float(zero.mean()), **held},
                       forecasts)


def label(choice) -> str:
    """A start as metrics.json's cv_mse names it: "0.01", "0.01 level-free", "seasonal drift"."""
    return DRIFT if choice == DRIFT else f"{choice[0]:g}{' level-free' if choice[1] else ''}"


def named(choice, season: int) -> str:
    """A start as a reason names it: "ridge 0.01, level-free", "seasonal drift m=12"."""
    return f"{DRIFT} m={season}" if choice == DRIFT else f"ridge {choice[0]:g}{', level-free' if choice[1] else ''}"
