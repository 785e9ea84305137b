"""A run end to end: train each cell and save its folder; load a run and forecast a new series with it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast import __version__, artifacts, plots
from forecast.baselines import naive, seasonal_naive
from forecast.config import SCHEMA_VERSION, RunConfig
from forecast.data import Series
from forecast.errors import ForecastError
from forecast.files import write_csv, write_json
from forecast.metrics import score
from forecast.prepare import Prepared, baseline_forecasts, extend_time, forecast_table, to_target
from forecast.windows import Windows, forecast_origins

if TYPE_CHECKING:
    from forecast.train import CellResult

# Keras loads only in the functions that train or forecast, so that a parent of parallel trainings
# (forecast.parallel) never loads a backend of its own.


@dataclass
class SavedRun:
    cell: str
    path: Path
    metrics: dict


def train_and_save(prep: Prepared, configs: list[RunConfig], runs_dir: Path, name: str | None,
                   device: str, tracker, resume: bool = False, parallel: bool = False) -> list[SavedRun]:
    """Train every config on the same prepared data and save each cell's run as soon as it is finished.

    Each training checkpoints into a hidden partial folder; with `resume`, an interrupted one continues
    from its last completed epoch, and cells whose run folder already exists are not trained again. With
    `parallel`, the cells train at once in separate processes (see forecast.parallel).
    """
    stem = Path(prep.series.path).stem
    names = [(name if len(configs) == 1 else f"{name}-{c.model.cell.value}") if name
             else f"{stem}-{c.model.cell.value}" for c in configs]
    done = {n for n in names if resume and (runs_dir / n).is_dir() and not artifacts.partial_dir(runs_dir, n).exists()}
    if name:  # an explicit name must be free: say so before training, not after
        for run_name in set(names) - done:
            artifacts.check_free(runs_dir, run_name)
    saved: dict[str, SavedRun] = {}
    jobs = {}
    for cfg, run_name in zip(configs, names, strict=True):
        cell = cfg.model.cell.value
        if run_name in done:
            tracker.skip(cell, f"{runs_dir / run_name} is complete")
            saved[run_name] = SavedRun(cell=cell, path=runs_dir / run_name,
                                       metrics=artifacts.read_run(runs_dir / run_name).metrics)
        else:
            jobs[run_name] = {"prep": prep, "cfg": cfg, "runs_dir": runs_dir, "run_name": run_name,
                              "unique": name is None, "resume": resume, "device": device}
    if parallel and len(jobs) > 1:
        from forecast import parallel as processes

        saved.update(processes.run_jobs(jobs, tracker))
    else:
        for run_name, job in jobs.items():
            with tracker.cell(job["cfg"].model.cell.value) as on_epoch:
                saved[run_name] = train_one(**job, on_epoch=on_epoch)
    return [saved[n] for n in names]


def train_one(prep: Prepared, cfg: RunConfig, runs_dir: Path, run_name: str, unique: bool, resume: bool,
              device: str, on_epoch) -> SavedRun:
    """Train one cell with checkpoints in its partial folder, then publish its run folder atomically."""
    from forecast.train import train_cell

    with artifacts.partial_run(runs_dir, run_name, cfg.to_dict(), resume) as state_dir:
        result = train_cell(prep, cfg, on_epoch, state_dir, on_gpu=device.startswith("gpu"))
        path = artifacts.save_run(runs_dir, run_name, unique=unique,
                                  write=functools.partial(_write_run, prep=prep, cfg=cfg, result=result, device=device))
    return SavedRun(cell=cfg.model.cell.value, path=path, metrics=result.metrics)


def _write_run(folder: Path, prep: Prepared, cfg: RunConfig, result: CellResult, device: str) -> None:
    from forecast.train import versions

    series, split = prep.series, prep.split
    # Record the options as they were resolved (auto-detected target and time column included).
    options = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, target=series.target,
                                                                time_col=series.time_col, season=prep.season,
                                                                normalize=prep.normalize))
    time = series.time
    meta = {
        "schema_version": SCHEMA_VERSION,
        "forecast_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["forecast", *sys.argv[1:]]),
        "options": options.to_dict(),
        "data": {
            "path": str(Path(series.path).resolve()),
            "rows": len(series),
            "target": series.target,
            "features": list(series.columns[1:]),
            "time_col": series.time_col,
            "freq": series.freq,
            "start": str(time[0]),
            "end": str(time[-1]),
            "split_rows": {p: list(split.bounds(p)) for p in ("train", "val", "test")},
            "split_windows": {p: len(w) for p, w in prep.windows.items()},
        },
        "normalize": {"asked": cfg.data.normalize.value, "used": prep.normalize.value,
                      "reason": prep.normalize_reason},
        "versions": versions(),
        "device": device,
        "compute": result.compute.record(),
        "training_seconds": result.metrics["training_seconds"],
    }
    result.model.save(folder / "model.keras")
    write_json(folder / "config.json", meta)
    write_json(folder / "scaler.json", prep.scaler.to_dict(series.columns))
    write_json(folder / "metrics.json", result.metrics)
    write_csv(folder / "history.csv", result.fit.history)
    if result.intervals:
        write_json(folder / "intervals.json", {"method": "split-conformal on the validation part",
                                               "half_widths": result.intervals})

    test = prep.windows["test"]
    target = prep.raw_target()
    extra = baseline_forecasts(target, test.origins, test.horizon, test.lookback, prep.season)
    extra.update(_bounds(result.test_forecast, result.intervals))
    table = forecast_table(time, target, test.origins, result.test_forecast, extra)
    write_csv(folder / "test_predictions.csv", table)

    scores = result.metrics["test"]
    first = table[table["step"] == 1]
    start = split.val_end - 1
    fig, (ax, ax_step) = plots.new_figure(2, width=14)
    plots.plot_forecast(ax, time[start:], target[start:], first["timestamp"], first["forecast"],
                        naive=first["naive"], ylabel=series.target, bands=_bands(first, result.intervals),
                        title=f"{cfg.model.cell.value} on the test part of {Path(series.path).name}: MSE "
                              f"{scores['model']['mse']:.4g} (naive {scores['baselines']['naive']['mse']:.4g})")
    plots.plot_by_step(ax_step, scores["by_step"], "mae", season=prep.season)
    plots.save_figure(fig, folder / "forecast.png")


def _bounds(forecast: np.ndarray, intervals: dict[str, list[float]]) -> dict[str, np.ndarray]:
    """lower_90/upper_90 columns (n, steps) from half-widths per step; empty past the trained horizon."""
    out = {}
    for level, half in intervals.items():
        width = np.full(forecast.shape[1], np.nan)
        k = min(len(half), forecast.shape[1])
        width[:k] = half[:k]
        pct = f"{float(level) * 100:g}"
        out[f"lower_{pct}"] = forecast - width
        out[f"upper_{pct}"] = forecast + width
    return out


def _bands(table: pd.DataFrame, intervals: dict[str, list[float]]) -> list[tuple[str, pd.Series, pd.Series]]:
    pcts = sorted((f"{float(level) * 100:g}" for level in intervals), key=float, reverse=True)
    return [(f"{p}% interval", table[f"lower_{p}"], table[f"upper_{p}"]) for p in pcts]


@dataclass
class Prediction:
    table: pd.DataFrame
    scores: dict | None  # model and baseline scores where the data has actuals


def predict_series(info: artifacts.RunInfo, series: Series, scaled: np.ndarray, steps: int | None) -> Prediction:
    """Forecast every origin with a full lookback (horizon steps each); the last origin gets --steps."""
    from forecast.train import forecast_recursive, forecast_windows

    cfg = info.config
    lookback, horizon, strategy = cfg.window.lookback, cfg.window.horizon, cfg.model.strategy
    if steps is not None and steps > horizon and scaled.shape[1] > 1:
        raise ForecastError(
            f"--steps {steps} exceeds the run's horizon ({horizon}) and the run reads input features "
            f"({', '.join(series.columns[1:])}) whose future values are unknown; use --steps {horizon} or less"
        )
    model = artifacts.load_model(info.path)
    expected = (lookback, scaled.shape[1])
    if tuple(model.input_shape[1:]) != expected:
        raise ForecastError(f"{info.path}/model.keras expects windows of shape {tuple(model.input_shape[1:])}, "
                            f"the run's config says {expected}; the run folder is inconsistent, train it again")
    target = series.values[:, 0]
    relative = info.scaler.relative

    def in_units(scaled_forecast: np.ndarray, origins: np.ndarray) -> np.ndarray:
        return to_target(scaled_forecast, origins, scaled, target, info.scaler, cfg.data.transform)

    origins = forecast_origins(len(series), lookback)
    windows = Windows(scaled, lookback, horizon, origins, relative)
    forecasts = in_units(forecast_windows(model, windows, strategy), origins)
    last = forecasts[-1]
    if steps is not None:
        last = (in_units(forecast_recursive(model, scaled[-lookback:], steps, relative)[None, :], origins[-1:])[0]
                if steps > horizon else last[:steps])
    time = extend_time(series.time, max(horizon, len(last)), series.freq)
    season = info.metrics["test"]["season"]
    parts = [(origins[:-1], forecasts[:-1]), (origins[-1:], last[None, :])]
    table = pd.concat([forecast_table(time, target, o, f, {**_predict_baselines(target, o, f.shape[1], lookback, season),
                                                           **_bounds(f, info.intervals)})
                       for o, f in parts if len(o)], ignore_index=True)
    known = table["actual"].notna()
    scores = None
    if known.any():
        rows = table[known]
        scores = {"n": int(known.sum()), "model": score(rows["actual"], rows["forecast"])}
        for name in ("naive", "seasonal_naive"):
            has = rows[name].notna()
            scores[name] = score(rows.loc[has, "actual"], rows.loc[has, name]) if has.any() else None
    return Prediction(table=table, scores=scores)


def _predict_baselines(target: np.ndarray, origins: np.ndarray, steps: int, lookback: int,
                       season: int) -> dict[str, np.ndarray]:
    """Naive and seasonal naive for the printed scores; the seasonal one is empty where history is too short."""
    seasonal = np.full((len(origins), steps), np.nan)
    ok = origins >= season - 1
    if ok.any():
        seasonal[ok] = seasonal_naive(target, origins[ok], steps, lookback, season)
    return {"naive": naive(target, origins, steps), "seasonal_naive": seasonal}


def plot_predictions(result: Prediction, series: Series, info: artifacts.RunInfo, path: Path) -> None:
    """History with the one-step forecasts over it and the last origin's path into the future."""
    table = result.table
    # The last stretch of history (a few lookbacks) keeps the future path readable on long series.
    start = max(0, len(series) - max(5 * info.config.window.lookback, 300))
    first = table[(table["step"] == 1) & (table["timestamp"] >= series.time[start])]
    last_origin = table["origin"].iloc[-1]
    future = table[(table["origin"] == last_origin) & table["actual"].isna()]
    fig, (ax,) = plots.new_figure(width=11)
    plots.plot_forecast(ax, series.time[start:], series.values[start:, 0], first["timestamp"], first["forecast"],
                        future_time=future["timestamp"], future=future["forecast"].to_numpy(),
                        bands=_bands(first, info.intervals), future_bands=_bands(future, info.intervals),
                        ylabel=series.target,
                        title=f"{info.name} ({info.config.model.cell.value}) on {Path(series.path).name}")
    plots.save_figure(fig, path)
