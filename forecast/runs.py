"""Training runs end to end: train each cell of a command (here or in worker processes) and publish its run folder
with everything `predict` and `compare` need."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from forecast import __version__, artifacts
from forecast.advice import group_advice
from forecast.backend import Device, versions
from forecast.baselines import simple
from forecast.columnar import SUFFIXES
from forecast.config import SCHEMA_VERSION, RunConfig
from forecast.ensemble import ENSEMBLE, mean_forecast, recommend
from forecast.errors import ForecastError, shorten
from forecast.evaluate import (actual_targets, forecast_table, held_out_evidence, interval_bounds, interval_scale,
                               part_baselines, part_spread, read_forecasts, series_table, with_series)
from forecast.figures import plot_run
from forecast.files import NAME_MAX, TMP_EXTRA, atomic_path, non_finite, write_csv, write_json
from forecast.metrics import score
from forecast.options import run_toml
from forecast.prepare import Prepared

if TYPE_CHECKING:
    from forecast.training import CellResult

# Keras loads only in the function that trains, so that a parent of parallel trainings (forecast.parallel) never
# loads a backend of its own, and a worker unpickling train_one can silence TensorFlow's start-up first.


# Each training window's MAE under the linear start fitted on the other blocks, while the model is that start
HELD_OUT = "heldout_errors.csv"


@dataclass(frozen=True)
class SavedRun:
    cell: str
    path: Path  # the published run folder; before publish_group, the finished one in its partial folder
    metrics: dict
    name: str = ""  # the name it is published under (publish_group): runs_dir/name, or NAME-2, ... when taken


@dataclass(frozen=True)
class TrainJob:
    """One cell to train and publish as runs_dir/run_name."""

    prep: Prepared
    cfg: RunConfig
    runs_dir: Path
    run_name: str
    unique: bool  # a taken name gets a free suffix (default names) instead of an error (explicit --name)
    resume: bool
    device: Device
    command: str = ""  # how the run was asked for, for config.json: the command line, or the Python API call

    @property
    def cell(self) -> str:
        return self.cfg.model.cell.value


def train_and_save(prep: Prepared, configs: list[RunConfig], runs_dir: Path, name: str | None,
                   device: Device, tracker, resume: bool = False, parallel: bool = False) -> list[SavedRun]:
    """Train every config on the same prepared data and save each cell's run as soon as it is finished.

    Each training checkpoints into a hidden partial folder; with `resume`, an interrupted one continues
    from its last completed epoch, and cells whose run folder already exists are not trained again. With
    `parallel`, the cells train at once in separate processes (see forecast.parallel).
    """
    names = run_names(prep.series.path, configs, name)
    done = {n for n in names if resume and (runs_dir / n).is_dir() and not artifacts.partial_dir(runs_dir, n).exists()}
    finished = {n: path for n in names if resume and (path := artifacts.finished_run(runs_dir, n)) is not None}
    if name:  # an explicit name must be free: say so before training, not after
        for run_name in set(names) - done:
            artifacts.check_free(runs_dir, run_name)
    saved: dict[str, SavedRun] = {}
    jobs: dict[str, TrainJob] = {}
    for cfg, run_name in zip(configs, names, strict=True):
        cell = cfg.model.cell.value
        if run_name in done or run_name in finished:
            path = finished.get(run_name, runs_dir / run_name)
            tracker.skip(cell, f"{runs_dir / run_name} is " + ("trained" if run_name in finished else "complete"))
            saved[run_name] = SavedRun(cell=cell, path=path, metrics=artifacts.read_run(path).metrics,
                                       name=run_name if run_name in finished else "")
        else:
            jobs[run_name] = TrainJob(prep=prep, cfg=cfg, runs_dir=runs_dir, run_name=run_name, unique=name is None,
                                      resume=resume, device=device, command=_command(cfg))
    if parallel and len(jobs) > 1:
        from forecast.parallel import run_jobs

        saved.update(run_jobs(train_one, jobs, {key: job.cell for key, job in jobs.items()}, tracker))
    else:
        for run_name, job in jobs.items():
            with tracker.cell(job.cell) as on_epoch:
                saved[run_name] = train_one(job, on_epoch)
    return [saved[n] for n in names]


def train_one(job: TrainJob, on_epoch) -> SavedRun:
    """Train one cell with checkpoints in its partial folder, then publish its run folder atomically.

    A default name that another process is training right now moves on to NAME-2, NAME-3, ...: two trainings
    started at once from the same command both finish, in distinct folders.
    """
    for k in range(1, 10_000):
        run_name = job.run_name if k == 1 else f"{job.run_name}-{k}"
        if k > 1 and (job.runs_dir / run_name).exists():
            continue
        try:
            return _train_as(job, run_name, on_epoch)
        except artifacts.RunBusy:  # raised only on entering the partial folder, before any training
            if not job.unique:
                raise
    raise ForecastError(f"no free run name for {job.run_name} in {job.runs_dir}; clean up old runs")


def _train_as(job: TrainJob, run_name: str, on_epoch) -> SavedRun:
    from forecast.training import train_cell

    with artifacts.partial_run(job.runs_dir, run_name, job.cfg.to_dict(), job.resume) as state_dir:
        result = train_cell(job.prep, job.cfg, job.device, on_epoch, state_dir)
        if not job.unique:
            artifacts.check_free(job.runs_dir, run_name)
        path = artifacts.stage_run(state_dir, functools.partial(_write_run, job=job, result=result,
                                                                state_dir=state_dir))
    return SavedRun(cell=job.cell, path=path, metrics=result.metrics, name=run_name)


# A run name is one folder name that the temporary and partial folders beside it can extend (.tmp-NAME-XXXXXXXX)
RUN_NAME_MAX = NAME_MAX - TMP_EXTRA


def _command(cfg: RunConfig) -> str:
    from forecast.report import python_warnings

    if python_warnings():  # under the Python API: sys.argv is the user's script, not a forecast command
        return f"forecast.train({'DataFrame' if cfg.data.frame is not None else repr(cfg.data.path)}, ...) (Python API)"
    return " ".join(["forecast", *sys.argv[1:]])


def run_names(data_path: str, configs: list[RunConfig], name: str | None) -> list[str]:
    """NAME (NAME-CELL with several cells), or DATA-CELL from the data file's name: checked before any training."""
    cells = [c.model.cell.value for c in configs]
    if name is not None:
        check_run_name(name)
        names = [name] if len(cells) == 1 else [f"{name}-{cell}" for cell in cells]
        for run_name in names:
            check_run_name(run_name)
        return names
    # A default name is never hidden (leading dots dropped) and always fits (a long file name is cut).
    stem = data_stem(data_path).lstrip(".") or "data"
    stem = os.fsencode(stem)[:RUN_NAME_MAX - len("-lstm")]
    return [f"{os.fsdecode(stem)}-{cell}" for cell in cells]


def data_stem(path: str) -> str:
    """A data file's name without its extensions: sine.csv.gz -> sine, fleet.parquet -> fleet."""
    name = Path(path).name
    for suffix in (".gz", ".bz2", ".xz", ".zip", ".zst", ".csv", ".tsv", ".txt", *SUFFIXES):
        name = name.removesuffix(suffix) if name != suffix else name
    return name


def check_run_name(name: str) -> None:
    shown = shorten(repr(name), 80)
    if name in ("", ".", "..") or any(c in name for c in ("/", os.sep, "\0")):
        raise ForecastError(f"--name {shown} is not one folder name; give a plain name such as --name sine-lstm")
    if name.startswith("."):
        raise ForecastError(f"--name {shown} starts with a dot, which hides the run and is kept for temporary "
                            "folders; drop the dot")
    size = len(os.fsencode(name))
    if size > RUN_NAME_MAX:
        raise ForecastError(f"the run name {shorten(name, 40)} is {size} bytes long; the file system allows "
                            f"{RUN_NAME_MAX} for a run name; pass a shorter --name")


def _write_run(folder: Path, job: TrainJob, result: CellResult, state_dir: Path | None = None) -> None:
    prep, cfg = job.prep, job.cfg
    series, split = prep.series, prep.split
    # Record the options as they were resolved (auto-detected target and time column included).
    model = dataclasses.replace(cfg.model, anchor=result.anchor)
    options = dataclasses.replace(cfg, model=model, data=dataclasses.replace(
        cfg.data, target=series.target, time_col=series.time_col, season=prep.season, normalize=prep.normalize,
        calendar=series.calendar, categories=series.categories))
    time = series.time
    meta = {
        "schema_version": SCHEMA_VERSION,
        "forecast_version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": job.command,
        "options": options.to_dict(),
        "data": {
            "path": str(Path(series.path).resolve()) if cfg.data.frame is None else DATAFRAME,
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
        "anchor": {"asked": cfg.model.anchor.value, "used": result.anchor.value, "reason": result.anchor_reason},
        "lookback": {"used": cfg.window.lookback, "reason": prep.lookback_reason},
        "season": {"asked": cfg.data.season, "used": prep.season, "reason": prep.season_reason},
        "versions": versions(),
        "device": job.device.label,
        "compute": result.compute.record(),
        "training_seconds": result.metrics["training_seconds"],
    }
    if prep.blocks:  # the rows above are every series' one after another; each one's own:
        del meta["data"]["split_rows"]  # no single series has these bounds
        meta["data"].update(prep.describe_blocks())
    result.model.save(folder / "model.keras")
    scaler = prep.scaler.to_dict(series.columns)
    if prep.blocks:
        scaler["series"] = {b.name: b.scaler.to_dict(series.columns) for b in prep.blocks}
    for name, payload in (("metrics.json", result.metrics), ("scaler.json", scaler)):
        if (where := non_finite(payload)) is not None:  # the tool could not read such a run back
            raise ForecastError(f"the run was not published: {where} in its {name} is not a finite number; the "
                                "data's magnitudes are too extreme for float32 training; change the target's units")
    write_json(folder / "config.json", meta)
    with atomic_path(folder / "run.toml") as tmp:
        tmp.write_text(run_toml(options, _toml_note(cfg, meta)), encoding="utf-8", errors="backslashreplace")
    write_json(folder / "scaler.json", scaler)
    write_json(folder / "metrics.json", result.metrics)
    write_csv(folder / "history.csv", result.fit.history)
    if cfg.train.tensorboard and state_dir is not None and (state_dir / "tensorboard").is_dir():
        import shutil

        shutil.copytree(state_dir / "tensorboard", folder / "tensorboard")
    if result.intervals:
        write_json(folder / "intervals.json", {"method": "split-conformal on the validation part",
                                               "half_widths": result.intervals, "scale": interval_scale(prep)})

    target = prep.raw_target()
    start = result.start_forecast or {}  # a `start` column beside the references: what the cell changed
    extra = {**part_baselines(prep), **({"start": start["test"]} if start else {}), **interval_bounds(result.test_forecast, result.intervals,
                                                          part_spread(prep, "test"))}
    table = with_series(prep, forecast_table(time, target, prep.windows["test"].origins, result.test_forecast, extra),
                        prep.windows["test"].origins)
    write_csv(folder / "test_predictions.csv", table)
    write_csv(folder / "val_predictions.csv",
              with_series(prep, forecast_table(time, target, prep.windows["val"].origins, result.val_forecast,
                                               {**part_baselines(prep, "val"), **({"start": start["val"]} if start else {})}),
                         prep.windows["val"].origins))
    if result.held_out_mae is not None:  # only while the model is its linear start: one row per training window
        origins = prep.windows["train"].origins
        write_csv(folder / HELD_OUT, with_series(prep, pd.DataFrame({"origin": np.asarray(time)[origins],
                                                                     "mae": result.held_out_mae}), origins))

    if prep.blocks:
        write_csv(folder / "series_scores.csv", series_table(result.metrics["test"]["series"]))
    plot_run(folder / "forecast.png", prep, cfg, table, result.metrics["test"], result.intervals)


DATAFRAME = "(a pandas DataFrame)"  # config.json's data path of a run trained through the Python API


def _toml_note(cfg: RunConfig, meta: dict) -> str:
    how = (f"forecast train --config RUN_FOLDER/run.toml  (from the folder the first training ran in, where "
           f"{cfg.data.path} is)" if cfg.data.frame is None else
           "this run was trained on a pandas DataFrame (forecast.train), so `data` is not set: add data = \"...\" "
           "naming a CSV of that table")
    where = "on the CPU" if cfg.train.devices == "1" else f"over the same devices (--devices {cfg.train.devices})"
    return (f"The options of this run as resolved; trains it again with the same scores {where}:\n  {how}\n"
            f"Written by forecast {meta['forecast_version']} on {meta['created']}; command: {meta['command']}")


def publish_group(prep: Prepared, saved: list[SavedRun], epochs: int, runs_dir: Path, unique: bool) -> list[SavedRun]:
    """The group's facts in every finished run's metrics.json (record_group), then each one published: a run
    folder appears once, complete, and never changes after (a `compare` meanwhile sees it whole or not at all)."""
    saved = record_group(prep, saved, epochs)
    return [dataclasses.replace(r, path=artifacts.publish_finished(runs_dir, r.name, unique), name="") if r.name else r
            for r in saved]


def record_group(prep: Prepared, saved: list[SavedRun], epochs: int = 0) -> list[SavedRun]:
    """The ensemble of several cells (the mean of their forecasts) and the model validation recommends among the
    cells, the ensemble and the simple models (references, drift, mean), added to each finished run's metrics.json
    before it is published (publish_group); a run published earlier, resumed, is left as it is.
    With them, `advice`: a line for each thing training measured that the user should act on (advice.group_advice;
    `epochs` the most each cell was given). Runs from an older version, without validation forecasts, are left as
    they are."""
    if not saved or any("val" not in r.metrics for r in saved):
        return saved
    val = {r.cell: read_forecasts(r.path / "val_predictions.csv") for r in saved}
    held = {r.cell: pd.read_csv(r.path / HELD_OUT)["mae"].to_numpy(np.float64) for r in saved
            if (r.path / HELD_OUT).exists()}
    actual = actual_targets(prep, "val")
    group = {}
    if len(saved) > 1:
        val[ENSEMBLE] = mean_forecast(list(val.values()))
        test = mean_forecast([read_forecasts(r.path / "test_predictions.csv") for r in saved])
        group["ensemble"] = {"members": [r.cell for r in saved], "val": score(actual, val[ENSEMBLE], prep.scale_of("val")),
                             "test": score(actual_targets(prep, "test"), test, prep.scale_of("test"))}
    references = part_baselines(prep, "val")
    group["recommended"] = recommend(actual, {**val, **{name: references[name] for name in simple(prep.season2)}},
                                     prep.scale_of("val") if prep.blocks else None,
                                     held_out_evidence(prep, held, [r.cell for r in saved]))
    group["advice"] = group_advice([(r.cell, r.metrics) for r in saved], tuple(prep.series.columns[1:]), epochs)
    out = []
    for r in saved:
        metrics = {**r.metrics, **group}
        if r.name:  # not yet published: a published run folder is never written again
            write_json(r.path / "metrics.json", metrics)
        out.append(dataclasses.replace(r, metrics=metrics))
    return out
