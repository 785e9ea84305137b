"""Scoring forecasts in the target's original units: the model beside every baseline on the same windows, by step,
prediction intervals, and the long-form table of forecasts that runs, predict and the plots share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.baselines import ALL_REFERENCES, baseline_forecasts, references, simple
from forecast.ensemble import ENSEMBLE, window_mae
from forecast.metrics import conformal_quantiles, coverage, score, score_by_step
from forecast.prepare import Prepared
from forecast.windows import Windows


def actual_targets(prep: Prepared, part: str) -> np.ndarray:
    """Targets of a part's windows in original units: (n_windows, horizon)."""
    w = prep.windows[part]
    return Windows(prep.series.values, w.lookback, w.horizon, w.origins).targets(slice(None))


def part_baselines(prep: Prepared, part: str = "test") -> dict[str, np.ndarray]:
    """Every baseline's forecasts of a part's windows (the test part's by default), (n_windows, horizon) each."""
    w = prep.windows[part]
    return baseline_forecasts(prep.raw_target(), w.origins, w.horizon, w.lookback, prep.season, season2=prep.season2)


def score_val(prep: Prepared, forecast: np.ndarray) -> dict:
    """The model's and each simple model's (the references, drift and mean) scores on the validation windows, in
    original units: what a recommendation may look at (the test part never decides)."""
    actual = actual_targets(prep, "val")
    base = part_baselines(prep, "val")
    scale = prep.scale_of("val")
    return {"model": score(actual, forecast, scale),
            "baselines": {name: score(actual, base[name], scale) for name in simple(prep.season2)},
            "n_windows": len(actual)}


def held_out_evidence(prep: Prepared, held: dict[str, np.ndarray], cells: list[str]) -> dict[str, np.ndarray] | None:
    """ensemble.recommend's `held_out`: each training window's MAE, divided by its MASE scale with several series,
    of the cells that have held-out forecasts (`held`: training.CellResult.held_out_mae, in original units), of
    every simple model (baselines.simple), and of the ensemble when every one of several cells has them: the mean of its members' MAEs,
    a bound its own MAE never exceeds (the error of a mean is at most the mean of the errors; equal when the cells
    kept the same start). The simple models always have them: ensemble.best_simple ranks them over these windows
    and the validation windows."""
    per = prep.scale_of("train") if prep.blocks else 1.0
    out = {cell: mae / per for cell, mae in held.items()}
    if len(cells) > 1 and set(cells) <= held.keys():
        out[ENSEMBLE] = np.mean([out[c] for c in cells], axis=0)
    out.update({name: mae / per for name, mae in simple_window_mae(prep, "train").items()})
    return out


def simple_window_mae(prep: Prepared, part: str, chunk: int = 8192) -> dict[str, np.ndarray]:
    """Each window's MAE of every simple model (baselines.simple) on a part, `chunk` windows at a time: the
    training part of a fleet holds millions of windows, and memory stays bounded by the chunk."""
    w, names = prep.windows[part], simple(prep.season2)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, len(w), chunk):
        origins = w.origins[start:start + chunk]
        actual = Windows(prep.series.values, w.lookback, w.horizon, origins).targets(slice(None))
        base = baseline_forecasts(prep.raw_target(), origins, w.horizon, w.lookback, prep.season,
                                  season2=prep.season2)
        for name in names:
            parts[name].append(window_mae(actual, base[name]))
    return {name: np.concatenate(p) if p else np.zeros(0) for name, p in parts.items()}


def score_test(prep: Prepared, forecast: np.ndarray, intervals: dict[str, list[float]] | None = None) -> dict:
    """Model and baseline scores on exactly the same test windows, in original units, overall and by step;
    and the test coverage of each prediction interval."""
    test = prep.windows["test"]
    actual, base = actual_targets(prep, "test"), part_baselines(prep)
    scale = prep.scale_of("test")
    by_step = [{"step": h + 1} for h in range(test.horizon)]
    for name, pred in {"model": forecast, **base}.items():
        for row, s in zip(by_step, score_by_step(actual, pred, scale), strict=True):
            row[name] = s
    out = {
        "model": score(actual, forecast, scale),
        "baselines": {name: score(actual, pred, scale) for name, pred in base.items()},
        "by_step": by_step,
        "season": prep.season,
        "season2": prep.season2,
        "n_windows": len(test),
        "horizon": test.horizon,
    }
    if prep.blocks:
        out["series"] = series_scores(prep, "test", actual, forecast, base)
    if intervals:
        spread = part_spread(prep, "test")
        out["intervals"] = {}
        for level, q in intervals.items():
            half = np.asarray(q)[None, :] * spread[:, None]
            out["intervals"][level] = {"coverage": coverage(actual, forecast, half), "mean_width": 2 * float(np.mean(half))}
    return out


def series_scores(prep: Prepared, part: str, actual: np.ndarray, forecast: np.ndarray,
                  base: dict[str, np.ndarray]) -> dict[str, dict]:
    """A panel's scores of each series on its own windows of a part: the model's and every reference's."""
    which = prep.block_of(prep.windows[part].origins)
    out = {}
    for k, block in enumerate(prep.blocks):
        rows = which == k
        if rows.any():
            out[block.name] = {"n_windows": int(rows.sum()),
                               "model": score(actual[rows], forecast[rows], block.scale),
                               "baselines": {name: score(actual[rows], pred[rows], block.scale)
                                             for name, pred in base.items() if name in ALL_REFERENCES}}
    return out


def train_rows(prep: Prepared) -> list[np.ndarray]:
    """The target of each series' training part, in original units (one array for a single series)."""
    y = prep.raw_target()
    return [y[start:start + split.train_end] for start, split in prep.spans()]


def interval_scale(prep: Prepared) -> dict:
    """How a run's interval widths scale with each window, as intervals.json records it: by the window's mean
    absolute change over one season (`lag` rows: the season when the window holds more than one, else 1), at least
    1% of the training part's, so that a calm stretch gets narrow bounds and a volatile one wide bounds, and each
    of several series bounds in its own units (locally weighted split-conformal; measured in docs/accuracy.md)."""
    lookback = prep.window.lookback
    lag = prep.season if 1 < prep.season < lookback else 1
    # several series share the widths in these units, each scaled by its own windows; the floor is the calmest's
    means = [float(np.mean(np.abs(y[lag:] - y[:-lag]))) for y in (r.astype(np.float64) for r in train_rows(prep))
             if len(y) > lag]
    floor = 0.01 * min(means) if means else 0.0
    return {"by": "mean absolute change over `lag` rows within the window", "lookback": lookback, "lag": lag,
            "floor": floor if floor > 0 else float(np.finfo(np.float64).tiny)}


def window_spread(target: np.ndarray, origins: np.ndarray, scale: dict | None) -> np.ndarray | None:
    """Each origin's interval scale (see interval_scale): the mean of |y[s] - y[s - lag]| over the rows s of its
    window whose both ends lie in it, (n,); None when the widths do not scale (a run from before they did)."""
    if scale is None:
        return None
    y = np.asarray(target, dtype=np.float64)
    lag = scale.get("lag", 1)  # runs from before `lag` scaled by the one-step change
    total = np.zeros(len(y))
    total[lag:] = np.cumsum(np.abs(y[lag:] - y[:-lag]))  # total[k]: the changes ending at rows lag..k
    before = np.maximum(origins - scale["lookback"] + lag, lag - 1)
    spread = (total[origins] - total[before]) / np.maximum(origins - before, 1)
    return np.maximum(spread, scale["floor"])


def interval_half_widths(prep: Prepared, val_forecast: np.ndarray, levels: tuple[float, ...]) -> dict[str, list[float]]:
    """Split-conformal half-widths per step from the validation part's residuals, keyed by level ("0.9"), in
    units of each window's spread (interval_scale)."""
    residuals = scaled_residuals(prep, val_forecast)
    return {f"{level:g}": conformal_quantiles(residuals, level) for level in levels}


def scaled_residuals(prep: Prepared, val_forecast: np.ndarray) -> np.ndarray:
    """The validation windows' residuals in units of each window's spread: what the intervals are fit on."""
    return (actual_targets(prep, "val") - val_forecast) / part_spread(prep, "val")[:, None]


def interval_check(prep: Prepared, val_forecast: np.ndarray, levels: tuple[float, ...]) -> dict[str, dict]:
    """A held-out check of the intervals' calibration: half-widths fit on the earlier half of the validation windows,
    as interval_half_widths fits them on all, and the share of the later half's values they cover, by level ("0.9":
    {"coverage", "n", "n_fit"}: the later and the earlier half's windows); a level the earlier half is too small for
    is left out. Split
    conformal covers its own calibration windows by construction; this says whether it holds on windows it did not
    see, as the test part's must."""
    residuals = scaled_residuals(prep, val_forecast)
    half = len(residuals) // 2
    out = {}
    for level in levels:
        widths = np.asarray(conformal_quantiles(residuals[:half], level))
        if half and np.isfinite(widths).all():
            out[f"{level:g}"] = {"coverage": coverage(np.zeros_like(residuals[half:]), residuals[half:], widths),
                                 "n": len(residuals) - half, "n_fit": half}
    return out


def part_spread(prep: Prepared, part: str) -> np.ndarray:
    """The interval scale of each window of a part."""
    return window_spread(prep.raw_target(), prep.windows[part].origins, interval_scale(prep))


def level_pct(level: str | float) -> str:
    """An interval level as the columns name it: 0.9 -> "90" (lower_90, upper_90, coverage_90)."""
    return f"{float(level) * 100:g}"


def interval_bounds(forecast: np.ndarray, intervals: dict[str, list[float]],
                    spread: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """lower_90/upper_90 columns (n, steps) from half-widths per step (times each origin's `spread` when the
    run's intervals scale); empty past the trained horizon."""
    out = {}
    for level, half in intervals.items():
        width = np.full(forecast.shape[1], np.nan)
        k = min(len(half), forecast.shape[1])
        width[:k] = half[:k]
        if spread is not None:
            width = width[None, :] * spread[:, None]
        pct = level_pct(level)
        out[f"lower_{pct}"] = forecast - width
        out[f"upper_{pct}"] = forecast + width
    return out


def interval_bands(table: pd.DataFrame, intervals: dict[str, list[float]]) -> list[tuple[str, pd.Series, pd.Series]]:
    """(label, lower, upper) of each interval in a forecast table, widest first, for plots.plot_forecast."""
    pcts = sorted((level_pct(level) for level in intervals), key=float, reverse=True)
    return [(f"{p}% interval", table[f"lower_{p}"], table[f"upper_{p}"]) for p in pcts]


def forecast_table(time: pd.Index, target: np.ndarray, origins: np.ndarray, forecasts: np.ndarray,
                   extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Long form, one row per origin and step: origin, step, timestamp, forecast, actual, error, then `extra`
    columns of the same (n_origins, n_steps) shape (baselines, interval bounds).

    `time` must reach at least max(origin) + n_steps (see dates.extend_time); `actual` is empty past the data.
    """
    n_origins, n_steps = forecasts.shape
    steps = np.tile(np.arange(1, n_steps + 1), n_origins)
    at = np.repeat(origins, n_steps) + steps  # row of each forecast value
    n = len(target)
    actual = np.full(at.shape, np.nan)
    inside = at < n
    actual[inside] = target[at[inside]]
    table = pd.DataFrame({
        "origin": np.asarray(time)[np.repeat(origins, n_steps)],
        "step": steps,
        "timestamp": np.asarray(time)[at],
        "forecast": forecasts.reshape(-1),
        "actual": actual,
    })
    table["error"] = table["actual"] - table["forecast"]
    for name, values in (extra or {}).items():
        table[name] = values.reshape(-1)
    return table


def table_scores(table: pd.DataFrame, baselines: tuple[str, ...], intervals: tuple[str, ...] = ()) -> dict | None:
    """MSE, MAE, ... of the forecasts and of each baseline column where the table has actuals (None without);
    a baseline is scored where it has a value, and is None where it has none. For each interval level ("0.9"),
    the share of actuals inside its bounds and how many had bounds ("coverage", "n")."""
    known = table["actual"].notna()
    if not known.any():
        return None
    rows = table[known]
    scores = {"n": int(known.sum()), "model": score(rows["actual"], rows["forecast"]), "intervals": {}}
    for name in baselines:
        has = rows[name].notna()
        scores[name] = score(rows.loc[has, "actual"], rows.loc[has, name]) if has.any() else None
    for level in intervals:
        pct = level_pct(level)
        lower, upper = rows[f"lower_{pct}"], rows[f"upper_{pct}"]
        has = lower.notna()
        if has.any():
            inside = (rows["actual"][has] >= lower[has]) & (rows["actual"][has] <= upper[has])
            scores["intervals"][level] = {"coverage": float(inside.mean()), "n": int(has.sum())}
    return scores


def with_series(prep: Prepared, table, origins: np.ndarray):
    """A panel's forecast table with the `series` of each row first (a single series' table as it is)."""
    if prep.blocks:
        names = np.array([b.name for b in prep.blocks], dtype=object)[prep.block_of(origins)]
        table.insert(0, "series", np.repeat(names, len(table) // max(len(origins), 1)))
    return table


def series_table(scores: dict[str, dict]):
    """series_scores.csv: one row per series, the model's and each reference's MSE, MAE and MASE."""
    rows = []
    for name, s in scores.items():
        row = {"series": name, "n_windows": s["n_windows"]}
        for who, sc in {"model": s["model"], **s["baselines"]}.items():
            row.update({f"{who}_{m}": sc[m] for m in ("mse", "mae", "mase")})
        rows.append(row)
    return pd.DataFrame(rows)


def ranked_series(scores: dict[str, dict]) -> list[str]:
    """The series of a panel from the lowest model MASE to the highest (an undefined one last)."""
    return sorted(scores, key=lambda n: (scores[n]["model"]["mase"] is None, scores[n]["model"]["mase"] or 0.0))


def read_forecasts(path: Path) -> np.ndarray:
    """The forecasts of a long-form predictions CSV as (n_origins, steps)."""
    table = pd.read_csv(path)
    steps = int(table["step"].max())
    return table["forecast"].to_numpy(np.float64).reshape(-1, steps)
