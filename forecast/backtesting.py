"""Rolling-origin evaluation with an expanding training window: each fold retrains on everything before
its test block and forecasts every origin in the block; models and baselines are scored fold by fold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from forecast.backend import Device
from forecast.config import RunConfig
from forecast.baselines import simple
from forecast.ensemble import ENSEMBLE, START, mean_forecast, recommend
from forecast.evaluate import (actual_targets, forecast_table, held_out_evidence, interval_bounds, level_pct,
                               part_baselines, part_spread)
from forecast.metrics import score
from forecast.prepare import Folds, Prepared, prepare_series
from forecast.training import train_cell

METRICS = ("mse", "rmse", "mae", "mape", "smape", "mase")
COUNTS = ("train_rows", "val_rows", "windows")
# Each fold's row for the model its validation part recommends (a cell, the ensemble or a reference; `picked`
# names it): the score of choosing by validation, which is what a user of the tool gets. The row also has the
# evidence behind a model picked over the best reference (ensemble.recommend): the Diebold-Mariano statistic and
# how many held-out training windows of a linear start counted beside the validation windows.
RECOMMENDED = "recommended"


@dataclass(frozen=True)
class Backtest:
    per_fold: pd.DataFrame  # a row per fold and model: scores, interval coverage, the fold's rows and dates
    summary: pd.DataFrame  # mean and sd over folds per model
    forecasts: pd.DataFrame  # every fold's test forecasts, long form, with fold and model columns
    season: int
    season2: int = 1  # the second season of the folds that show one (the seasonal references' rows)


def run_backtest(configs: list[RunConfig], planned: Folds, tracker, device: Device,
                 on_fold: Callable[[int, Prepared], None] = lambda k, prep: None) -> Backtest:
    """Every cell and baseline on every fold's test windows; each fold decides its own automatic choices
    (normalisation) on its own training and validation rows, and `on_fold` hears of them before it trains."""
    data, window = configs[0].data, configs[0].window
    series, model_values, splits = planned
    folds = len(splits)
    rows, tables = [], []
    season, season2 = 1, 1
    for k, split in enumerate(splits, start=1):
        prep = prepare_series(series, model_values, data, window, split)
        on_fold(k, prep)
        season, season2 = prep.season, max(season2, prep.season2)
        start, end = split.bounds("test")
        fold = {"fold": k, "train_rows": split.train_end, "val_rows": split.val_end - split.train_end,
                "test_start": str(series.time[start]), "test_end": str(series.time[end - 1]),
                "windows": len(prep.windows["test"]), "normalize": prep.normalize.value}
        test, target = prep.windows["test"], prep.raw_target()
        references = part_baselines(prep)
        scores, by_model, held = {}, {}, {}
        for cfg in configs:
            cell = cfg.model.cell.value
            with tracker.cell(f"{cell} {k}/{folds}") as on_epoch:
                result = train_cell(prep, cfg, device, on_epoch)
            scores[cell] = result.metrics["test"]
            by_model[cell] = (result.val_forecast, result.test_forecast, result.intervals)
            if result.held_out_mae is not None:
                held[cell] = result.held_out_mae
        if result.start_forecast is not None:  # the untrained start, the same for every cell: what training added
            scores[START] = {"model": result.metrics["start"]["test"]}
            tables.append(forecast_table(series.time, target, test.origins, result.start_forecast["test"], references)
                          .assign(fold=k, model=START))
        if len(configs) > 1:  # the mean of the cells' forecasts, scored as one more model
            means = [mean_forecast([f[part] for f in by_model.values()]) for part in (0, 1)]
            by_model[ENSEMBLE] = (*means, {})
            scores[ENSEMBLE] = {"model": score(actual_targets(prep, "test"), means[1], prep.scale_of("test"))}
        spread = part_spread(prep, "test")
        for model, (_, test_forecast, intervals) in by_model.items():
            table = forecast_table(series.time, target, test.origins, test_forecast,
                                   {**references, **interval_bounds(test_forecast, intervals, spread)})
            tables.append(table.assign(fold=k, model=model))
        for name, s in result.metrics["test"]["baselines"].items():  # the same windows for every cell
            scores[name] = {"model": s}
        val_references = part_baselines(prep, "val")
        candidates = {**{name: f[0] for name, f in by_model.items()},
                      **{r: val_references[r] for r in simple(prep.season2)}}
        choice = recommend(actual_targets(prep, "val"), candidates,
                           held_out=held_out_evidence(prep, held, [cfg.model.cell.value for cfg in configs]))
        picked = choice["model"]
        scores[RECOMMENDED] = {"model": scores[picked]["model"]}
        evidence = {"diebold_mariano": choice.get("diebold_mariano"),
                    "held_out_windows": choice.get("held_out_windows", 0)}
        for model, s in scores.items():
            coverage = {f"coverage_{level_pct(level)}": iv["coverage"]
                        for level, iv in s.get("intervals", {}).items()}
            rows.append({**fold, "model": model, "picked": picked if model == RECOMMENDED else "",
                         **{m: s["model"][m] for m in METRICS}, **coverage,
                         **(evidence if model == RECOMMENDED else dict.fromkeys(evidence))})
    per_fold = pd.DataFrame(rows)
    forecasts = pd.concat(tables, ignore_index=True)
    forecasts = forecasts[["fold", "model", *[c for c in forecasts.columns if c not in ("fold", "model")]]]
    return Backtest(per_fold=per_fold, summary=summarize(per_fold), forecasts=forecasts, season=season,
                    season2=season2)


def summarize(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over folds per model, and in how many folds it beat the seasonal naive."""
    seasonal = per_fold[per_fold["model"] == "seasonal_naive"].set_index("fold")["mse"]
    per_fold = per_fold.assign(win=per_fold["mse"].to_numpy() < seasonal.loc[per_fold["fold"]].to_numpy())
    grouped = per_fold.groupby("model", sort=False)
    summary = grouped[["mse", "mae", "mase"]].agg(["mean", "std"])
    summary.columns = [f"{m}_{s}" for m, s in summary.columns]
    summary["wins"] = grouped["win"].sum().astype(int)
    return summary.reset_index().sort_values("mse_mean", ignore_index=True)


def write_table(per_fold: pd.DataFrame) -> pd.DataFrame:
    """One CSV: a row per fold and model, then `mean` and `std` rows per model; counts stay whole numbers."""
    scores = [c for c in per_fold.columns if c in METRICS or c.startswith("coverage_")]
    rows = [per_fold]
    for stat in ("mean", "std"):
        agg = per_fold.groupby("model", sort=False)[scores].agg(stat).reset_index()
        rows.append(agg.assign(fold=stat))
    table = pd.concat(rows, ignore_index=True)
    for count in (*COUNTS, "held_out_windows"):
        table[count] = table[count].astype("Int64")
    return table[["fold", "model", *scores, *COUNTS, "test_start", "test_end", "normalize", "picked",
                  "diebold_mariano", "held_out_windows"]]
