"""Rolling-origin evaluation with an expanding training window: each fold retrains on everything before
its test block and forecasts every origin in the block; models and baselines are scored fold by fold."""

from __future__ import annotations

import pandas as pd

from forecast.backend import Device
from forecast.config import RunConfig
from forecast.data import load_csv
from forecast.evaluate import baseline_scores
from forecast.prepare import prepare_series, transform_series
from forecast.split import plan_folds
from forecast.train import train_cell

METRICS = ("mse", "rmse", "mae", "mape", "smape", "mase")


def run_backtest(configs: list[RunConfig], folds: int, tracker,
                 device: Device) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(per-fold scores, summary by model, season): every cell and baseline on every fold's test windows."""
    data, window = configs[0].data, configs[0].window
    series, model_values = transform_series(load_csv(data), data.transform)
    rows = []
    season = 1
    for k, split in enumerate(plan_folds(len(series), folds, data, window), start=1):
        prep = prepare_series(series, model_values, data, window, split)
        season = prep.season
        start, end = split.bounds("test")
        fold = {"fold": k, "train_rows": split.train_end, "test_start": str(series.time[start]),
                "test_end": str(series.time[end - 1]), "windows": len(prep.windows["test"])}
        scores = {}
        for cfg in configs:
            with tracker.cell(f"{cfg.model.cell.value} {k}/{folds}") as on_epoch:
                scores[cfg.model.cell.value] = train_cell(prep, cfg, device, on_epoch).metrics["test"]["model"]
        baselines = baseline_scores(prep)
        for model, s in {**scores, **baselines}.items():
            rows.append({**fold, "model": model, **{m: s[m] for m in METRICS}})
    per_fold = pd.DataFrame(rows)
    return per_fold, summarize(per_fold), season


def summarize(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over folds per model, and in how many folds it beat the seasonal naive."""
    seasonal = per_fold[per_fold["model"] == "seasonal_naive"].set_index("fold")["mse"]
    per_fold = per_fold.assign(win=per_fold["mse"].to_numpy() < seasonal.loc[per_fold["fold"]].to_numpy())
    grouped = per_fold.groupby("model", sort=False)
    summary = grouped[["mse", "mae", "mase"]].agg(["mean", "std"])
    summary.columns = [f"{m}_{s}" for m, s in summary.columns]
    summary["wins"] = grouped["win"].sum().astype(int)
    return summary.reset_index().sort_values("mse_mean", ignore_index=True)


def write_table(per_fold: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """One CSV: a row per fold and model, then `mean` and `std` rows per model."""
    rows = [per_fold]
    for stat in ("mean", "std"):
        agg = per_fold.groupby("model", sort=False)[list(METRICS)].agg(stat).reset_index()
        rows.append(agg.assign(fold=stat))
    return pd.concat(rows, ignore_index=True)[["fold", "model", *METRICS, "train_rows", "test_start", "test_end",
                                                "windows"]]
