"""The mean of several cells' forecasts as one more model, and the model that validation recommends among the
cells, their ensemble and the simple references (the test part never decides)."""

from __future__ import annotations

import numpy as np

from forecast.baselines import SIMPLE

ENSEMBLE = "ensemble"
START = "start"  # the untrained model (reference + linear start) the cells of a command began at: a row, not a candidate
CRITERION = ("the simple models by MAE over the training and validation windows, the networks by validation MAE; a "
             "network replaces the best simple model only when it is better on validation by more than one standard "
             "error (Diebold-Mariano)")
# The one-standard-error rule: the simplest model unless another beats it by more than one standard error of the
# difference. Measured on benchmarks/accuracy.py against one-sided 5% (1.645) and the plain lowest MAE: 1.645 kept
# the references on short seasonal series where the networks won on test (ukgas, nottingham); the lowest MAE alone
# took networks that lost to the naive on random walks (docs/accuracy.md).
SIGNIFICANCE = 1.0
# A model whose validation errors differ from the reference's by less than this share of them on average forecasts
# the same (an anchored model that kept its start differs by float32 rounding alone): the reference is recommended.
SAME = 1e-4


def mean_forecast(forecasts: list[np.ndarray]) -> np.ndarray:
    """The ensemble: the mean of the members' forecasts of the same windows, (n_windows, horizon)."""
    shapes = {f.shape for f in forecasts}
    if len(shapes) != 1:
        raise ValueError(f"the members forecast different windows: shapes {sorted(shapes)}")
    return np.mean(np.stack(forecasts), axis=0)


def diebold_mariano(diff: np.ndarray, horizon: int) -> float:
    """The Diebold-Mariano statistic of per-origin loss differences (negative: the first forecast is better), with
    the long-run variance over horizon - 1 lags (Bartlett weights) that overlapping multi-step forecasts need;
    0 when there is nothing to judge."""
    d = np.asarray(diff, dtype=np.float64)
    n = len(d)
    if n < 2:
        return 0.0
    x = d - d.mean()
    variance = float(x @ x) / n
    for lag in range(1, min(horizon, n)):
        variance += 2 * (1 - lag / horizon) * float(x[lag:] @ x[:-lag]) / n
    if variance <= 0:  # the weighted sum can dip below zero on a few origins: fall back to the plain variance
        variance = float(x @ x) / n
    return float(d.mean() / np.sqrt(variance / n)) if variance > 0 else 0.0


def beats(errors: np.ndarray, start: np.ndarray, horizon: int, min_gain: float,
          significance: float = SIGNIFICANCE) -> bool:
    """Whether a fit's per-window validation errors beat its start's: by `min_gain` of the mean, and by more than
    `significance` standard errors (by default the Diebold-Mariano statistic below -1, as the recommendation asks of
    a model against a reference)."""
    diff = errors - start
    steady = np.ptp(diff) == 0  # no spread to judge by (the statistic is 0 there): the sign says it all
    return bool(errors.mean() <= (1 - min_gain) * start.mean()
                and (steady or diebold_mariano(diff, horizon) < -significance))


def _key(mae: float) -> float:
    return float(f"{mae:.12g}")  # the mean of identical forecasts is not always bit-identical to them


PANEL_CRITERION = CRITERION.replace("MAE", "mean MASE over series")


def window_mae(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Each window's mean absolute error, (n,): NaN where the forecast has no value."""
    return np.mean(np.abs(np.asarray(actual, np.float64) - forecast), axis=1)


def best_simple(names: list[str], errors: dict[str, np.ndarray],
                held_out: dict[str, np.ndarray] | None) -> tuple[str, dict[str, float], int]:
    """The simple model to recommend unless a network beats it: the lowest MAE over the held-out training windows
    (every window where all of them have a forecast) and the validation windows together, the several origins a
    simple model can be scored on without fitting it there; validation alone where the training windows are not
    given. Returns (name, each one's MAE over those windows, how many windows)."""
    earlier = [held_out[n] for n in names] if held_out is not None and set(names) <= held_out.keys() else []
    mask = np.all(np.isfinite(np.stack(earlier)), axis=0) if earlier else np.zeros(0, dtype=bool)
    pooled = {n: np.concatenate([held_out[n][mask], errors[n]]) if earlier else errors[n] for n in names}
    mae = {n: float(e.mean()) for n, e in pooled.items()}
    return min(names, key=lambda n: _key(mae[n])), mae, int(mask.sum()) + len(errors[names[0]])


def recommend(actual: np.ndarray, forecasts: dict[str, np.ndarray], scale: np.ndarray | None = None,
              held_out: dict[str, np.ndarray] | None = None) -> dict:
    """The model validation recommends, as metrics.json records it. `forecasts` holds every candidate's
    (n_origins, horizon) validation forecasts by name (cells, the ensemble, the simple models), `actual` the
    targets.

    The simple models (the references, drift and mean) are ranked over several origins: the training windows of
    `held_out` and the validation windows (best_simple), so that a few validation windows do not choose between
    them. The network (a cell or the ensemble) with the lowest validation MAE replaces that simple model only when
    its validation MAE is lower and better by more than one standard error (the Diebold-Mariano statistic below
    -1, on the per-origin absolute errors, with the long-run variance that overlapping multi-step forecasts need):
    a few validation windows cannot tell a small gain from luck. A Bonferroni bar (1.75 for three cells and their
    ensemble) was measured and not kept: nottingham's pick went from 0.621 to 0.710 (the note of 2026-12-07).
    A tie goes to the simpler model (the ensemble before a single cell). With several series, each window's
    errors are divided by its `scale` (scale_of), so that every series counts alike: the MAE is then the mean MASE.

    `held_out` adds each window's MAE (divided by its scale, as above) of out-of-sample forecasts of the training
    windows, by name (evaluate.held_out_evidence): every simple model has them, and so has a model that is still
    its linear start (each block forecast by the fit on the other blocks). When both the best network and the
    simple model have them, the standard error is judged on those windows and the validation windows together
    (the validation MAE still ranks the networks)."""
    horizon = actual.shape[1]
    per = 1.0 if scale is None else np.asarray(scale, dtype=np.float64)
    errors = {name: window_mae(actual, f) / per for name, f in forecasts.items()}
    val_mae = {name: float(e.mean()) for name, e in errors.items()}
    out = {"model": "", "by": CRITERION if scale is None else PANEL_CRITERION, "val_mae": val_mae}
    simple_models = [name for name in val_mae if name in SIMPLE]
    networks = [name for name in val_mae if name not in SIMPLE]
    best = min(networks, key=lambda name: (_key(val_mae[name]), name != ENSEMBLE)) if networks else ""
    if not simple_models:
        return {**out, "model": best}
    reference, simple_mae, windows = best_simple(simple_models, errors, held_out)
    if windows > len(actual):
        out.update(simple_mae=simple_mae, simple_windows=windows)
    if not networks or _key(val_mae[best]) >= _key(val_mae[reference]):
        return {**out, "model": reference, **({"best_model": best} if networks else {})}
    diff = errors[best] - errors[reference]
    same = bool(np.mean(np.abs(diff)) <= SAME * np.mean(errors[reference]))
    earlier = np.zeros(0)
    if held_out is not None and {best, reference} <= held_out.keys():
        earlier = held_out[best] - held_out[reference]
        earlier = earlier[np.isfinite(earlier)]  # a reference needs more history than the first windows hold
    stat = diebold_mariano(np.concatenate([earlier, diff]), horizon)
    return {**out, "model": best if stat < -SIGNIFICANCE and not same else reference, "best_model": best,
            "best_reference": reference, "diebold_mariano": stat,
            **({"held_out_windows": len(earlier)} if len(earlier) else {}),
            **({"same_forecasts": True} if same else {})}


def recommendation_note(chosen: dict, label) -> str:
    """One line on why the recommended model was chosen; `label` names a model for the reader."""
    panel = chosen.get("by") == PANEL_CRITERION
    mae = "mean validation MASE" if panel else "validation MAE"
    windows = chosen.get("simple_windows")
    among = (f"the simple model with the lowest {'mean MASE' if panel else 'MAE'} over {windows:,} training and "
             "validation windows" if windows else f"the simple model with the lowest {mae}")
    if "diebold_mariano" not in chosen:
        if chosen["model"] not in SIMPLE:
            return f"{label(chosen['model'])}, the lowest {mae}"
        lower = f"; {label(chosen['best_model'])}, the best network, is not lower on validation" \
            if "best_model" in chosen else ""
        return f"{label(chosen['model'])}, {among}{lower}"
    stat, best, ref = chosen["diebold_mariano"], label(chosen["best_model"]), label(chosen["best_reference"])
    if chosen.get("same_forecasts"):
        return (f"{ref}, {among}: {best} forecasts the same to within {SAME:.0e} of its errors (it kept the "
                "reference it started from)")
    over = (f" over the validation windows and {chosen['held_out_windows']:,} held-out training windows of the "
            "linear start" if chosen.get("held_out_windows") else "")
    if chosen["model"] == chosen["best_model"]:
        return (f"{best}, the lowest {mae}, better than {ref}, {among}, by more than one standard error "
                f"(Diebold-Mariano statistic {stat:.2f}{over})")
    return (f"{ref}, {among}: {best}'s lower {mae} is within noise "
            f"(Diebold-Mariano statistic {stat:.2f}{over}, not below -{SIGNIFICANCE:g})")
