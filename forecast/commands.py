"""What each command does, without Typer: the CLI packs its options into configs and calls one function here,
which loads the data, starts the backend, runs the library and prints the results.

User mistakes raise ForecastError, which the CLI prints as one line. Everything heavy (pandas, Keras, matplotlib,
Rich) is imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from forecast.config import DeviceChoice, Parallel, RunConfig
from forecast.errors import ForecastError

MAX_STEPS = 10_000  # predict --steps: each recursive step is one model call
MAX_ROWS = 10_000_000  # datasets make --rows: about 300 MB of CSV


def warn(notes: tuple[str, ...] | list[str]) -> None:
    for note in notes:
        sys.stderr.write(f"Warning: {note}\n")
        sys.stderr.flush()


def describe_data(cfg: RunConfig, per_fold: bool = False):
    """Load, check and describe the data before the backend loads, so bad data fails fast: (console, Prepared).
    With `per_fold` (a backtest) the automatic normalisation is left to each fold, which says its own."""
    from forecast.prepare import prepare
    from forecast.report import console

    prep = prepare(cfg.data, cfg.window)
    warn(prep.series.notes)
    out = console()
    series, sizes = prep.series, prep.split.sizes()
    out.print(f"[bold]{cfg.data.path}[/]: {len(series)} rows, target [bold]{series.target}[/]"
              + (f", features {', '.join(series.columns[1:])}" if len(series.columns) > 1 else "")
              + (f", time `{series.time_col}` ({series.freq or 'irregular'})" if series.time_col else ""))
    lookback = f"{prep.window.lookback}" + (f" (auto: {prep.lookback_reason})" if prep.lookback_reason else "")
    out.print("split (rows / windows): " + ", ".join(f"{p} {sizes[p]} / {len(prep.windows[p])}" for p in sizes)
              + f"; lookback {lookback}, horizon {cfg.window.horizon}")
    how = "--season" if cfg.data.season else (f"inferred from {series.freq}" if series.freq else "no frequency")
    norm = prep.normalize.value + (f" (auto: {prep.normalize_reason})" if prep.normalize_reason else "")
    if per_fold:
        norm = f"{cfg.data.normalize.value} (each fold decides on its own rows)" if prep.normalize_reason else norm
    out.print(f"season {prep.season} ({how}); transform {cfg.data.transform.value}; normalize {norm}; "
              f"strategy {cfg.model.strategy.value}")
    return out, prep


def train(configs: list[RunConfig], runs_dir: Path, name: str | None, resume: bool, parallel: Parallel) -> dict:
    """Train every config (one per cell) on the same data and publish a run folder for each; returns what --json
    prints."""
    from forecast import report, runs
    from forecast.backend import check_backend, choose_device, compute_notes, training_work
    from forecast.evaluate import choose_anchor
    from forecast.files import check_folder
    from forecast.metrics import check_interval_windows

    # Everything that can be refused is refused here, before the backend loads and any training starts.
    check_backend()
    if configs[0].train.tensorboard:
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise ForecastError("--tensorboard needs the tensorboard package, which is not installed; "
                                "pip install \"forecast[track]\" (or tensorboard), or drop --tensorboard")
    check_folder(runs_dir, "--runs-dir")
    runs.run_names(configs[0].data.path, configs, name)
    out, prep = describe_data(configs[0])
    configs = [dataclasses.replace(cfg, window=prep.window) for cfg in configs]  # the lookback as chosen
    check_interval_windows(configs[0].train.intervals, len(prep.windows["val"]))
    anchor, why = choose_anchor(prep, configs[0].model.anchor)
    if anchor.value != "none":
        out.print(f"anchor {anchor.value}" + (f" (auto: {why})" if why else "")
                  + ("; linear path" if configs[0].model.linear else ""))
    work = training_work(len(prep.windows["train"]), configs[0].train)
    device, in_processes = choose_device(configs[0].train.device, parallel, len(configs), work)
    warn(compute_notes(configs, device, work))
    out.print(f"device: {device.label}" + (f"; {len(configs)} cells in parallel processes" if in_processes else ""))
    with report.progress(out, configs[0].train.epochs) as tracker:
        results = runs.train_and_save(prep, configs, runs_dir, name, device, tracker, resume, in_processes)
    results = runs.record_group(prep, results)
    if report.train_summary(out, results):
        warn(("MAPE is undefined because the test part has actual values of zero; it is reported as missing",))
    out.print("runs: " + ", ".join(str(r.path) for r in results))
    first = results[0].metrics
    return {"command": "train", "data": configs[0].data.path, "lookback": prep.window.lookback,
            "horizon": prep.window.horizon, "season": prep.season,
            "runs": [{"cell": r.cell, "path": r.path, "metrics": r.metrics} for r in results],
            "ensemble": first.get("ensemble"), "recommended": first.get("recommended")}


def backtest(configs: list[RunConfig], folds: int, out_csv: Path, plot: Path, forecasts: Path) -> dict:
    """Retrain every config on each fold of a rolling-origin backtest; write the scores, forecasts and figure;
    returns what --json prints."""
    from forecast.backend import check_backend
    from forecast.files import check_output

    check_backend()
    data = Path(configs[0].data.path)
    check_output(out_csv, "--out", ((data, "the input data"),))
    check_output(plot, "--plot", ((data, "the input data"), (out_csv, "the --out file")), ".png")
    check_output(forecasts, "--forecasts", ((data, "the input data"), (out_csv, "the --out file"),
                                            (plot, "the --plot file")))
    out, prep = describe_data(configs[0], per_fold=True)
    configs = [dataclasses.replace(cfg, window=prep.window) for cfg in configs]  # the lookback as chosen
    from forecast.prepare import plan_folds_of

    # too many folds, or folds too small for --interval, fail now
    planned = plan_folds_of(configs[0].data, configs[0].window, folds, configs[0].train.intervals)
    from forecast.backend import compute_notes, start_backend, training_work

    device = start_backend(configs[0].train.device)
    out.print(f"device: {device.label}")
    warn(compute_notes(configs, device, training_work(len(prep.windows["train"]), configs[0].train)))
    from forecast import plots, report
    from forecast.backtest import run_backtest, write_table
    from forecast.evaluate import level_pct
    from forecast.files import write_csv

    def on_fold(k: int, fold) -> None:
        rows = fold.split.sizes()
        norm = fold.normalize.value + (f" (auto: {fold.normalize_reason})" if fold.normalize_reason else "")
        out.print(f"fold {k}/{folds}: train {rows['train']}, val {rows['val']}, test {rows['test']} rows "
                  f"({fold.series.time[fold.split.val_end]} to {fold.series.time[fold.split.n - 1]}); normalize {norm}")

    with report.progress(out, configs[0].train.epochs) as tracker:
        result = run_backtest(configs, planned, tracker, device, on_fold)
    write_csv(out_csv, write_table(result.per_fold))
    write_csv(forecasts, result.forecasts)
    fig, axes = plots.new_figure(2, width=13)
    for ax, metric in zip(axes, ("mse", "mase"), strict=True):
        plots.plot_by_fold(ax, result.per_fold, metric, result.season)
    plots.save_figure(fig, plot)
    report.backtest_table(out, result.summary, folds, result.season)
    picked = result.per_fold.loc[result.per_fold["model"] == "recommended", "picked"].value_counts()
    out.print("validation recommended: " + ", ".join(f"{model} in {n} fold{'s' * (n > 1)}" for model, n in picked.items()))
    for level in configs[0].train.intervals:
        covered = result.per_fold[f"coverage_{level_pct(level)}"].dropna()
        out.print(f"{level:.0%} intervals cover {covered.mean():.1%} of the test values on average over folds and "
                  f"cells (lowest {covered.min():.1%})")
    out.print(f"scores: {out_csv}; forecasts: {forecasts}; figure: {plot}")
    return {"command": "backtest", "data": configs[0].data.path, "folds": folds, "season": result.season,
            "summary": result.summary.to_dict("records"), "per_fold": result.per_fold.to_dict("records"),
            "out": out_csv, "forecasts": forecasts, "figure": plot}


def compare(paths: list[Path], runs_dir: Path, figure: Path) -> dict:
    """Loss curves and test MSE of runs side by side; the table sorted by test MSE; returns what --json prints."""
    from forecast.baselines import REFERENCES
    from forecast.comparison import group_runs, read_runs
    from forecast.errors import printable
    from forecast.files import check_output

    check_output(figure, "--out", suffix=".png")
    names, infos, skipped = read_runs(paths, runs_dir)
    warn([f"skipped a run that cannot be read: {exc}" for exc in skipped])
    from forecast import plots, report

    groups = group_runs(infos)  # scores compare only within a group: each gets its table and figure row
    colors = {n: plots.PALETTE[i % len(plots.PALETTE)] for i, n in enumerate(names)}
    fig, rows = plots.new_grid(len(groups), 2, width=13, height=5)
    out = report.console()
    for (ax_loss, ax_bar), members in zip(rows, groups, strict=True):
        group_names, group = [names[k] for k in members], [infos[k] for k in members]
        plots.plot_losses(ax_loss, {n: i.history for n, i in zip(group_names, group, strict=True)}, colors)
        plots.plot_test_mse(ax_bar, group_names, [i.metrics["test"]["model"]["mse"] for i in group],
                            {b: [i.metrics["test"]["baselines"][b]["mse"] for i in group] for b in REFERENCES}, colors)
        ax_bar.set_title(printable(f"Test MSE: {Path(group[0].meta['data']['path']).name}, horizon "
                                   f"{group[0].config.window.horizon}"))  # a file name may not be UTF-8
        report.compare_table(out, group_names, group)
    plots.save_figure(fig, figure)
    if len(groups) > 1:
        out.print(f"{len(groups)} groups of runs (data file, target, horizon): scores compare only within a group")
    out.print(f"figure: {figure}")
    rows = [{"run": n, "path": i.path, "cell": i.config.model.cell.value, "data": i.meta["data"]["path"],
             "epochs": i.metrics["epochs_run"], "test": i.metrics["test"]["model"],
             "baselines": {b: i.metrics["test"]["baselines"][b] for b in REFERENCES}}
            for n, i in sorted(zip(names, infos, strict=True), key=lambda p: p[1].metrics["test"]["model"]["mse"])]
    return {"command": "compare", "runs": rows, "figure": figure}


def predict(runs: list[Path], data: Path, out_csv: Path, steps: int | None, target: str | None, plot: Path | None,
            device: DeviceChoice, last: int | None = None) -> dict:
    """Forecast every origin of a series with a run, or the mean of several runs (and --steps past its end);
    scores where it has actuals."""
    from forecast import artifacts
    from forecast.backend import check_backend
    from forecast.files import check_output

    check_backend()
    check_output(out_csv, "--out", ((data, "the input data"),))
    if plot is not None:
        check_output(plot, "--plot", ((data, "the input data"), (out_csv, "the --out file")), ".png")

    infos = [artifacts.read_run(run) for run in runs]
    horizons = {info.config.window.horizon for info in infos}
    if len(horizons) > 1:
        shown = ", ".join(f"{info.name} {info.config.window.horizon}" for info in infos)
        raise ForecastError(f"the runs forecast different horizons ({shown}); average only runs trained with the "
                            "same --horizon")
    if last is not None and last < 1:
        raise ForecastError(f"--last must be at least 1 (got {last}); it is the number of latest origins to forecast")
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        raise ForecastError(f"--steps must lie between 1 and {MAX_STEPS:,} (got {steps:,}); a forecast fed on its own "
                            "output that far ahead has no skill left, and computing it would take hours")
    from forecast.prepare import load_new_series

    # Bad data fails here, before the backend loads.
    loaded = [load_new_series(info.config.data, info.config.window.lookback, info.scaler, str(data), target)
              for info in infos]
    series = loaded[0][0]
    warn(series.notes)
    from forecast.backend import start_backend

    start_backend(device)
    from forecast import predict as forecasting
    from forecast import report
    from forecast.baselines import LABELS, REFERENCES
    from forecast.files import write_csv

    predictions = [forecasting.predict_series(info, s, scaled, steps, last)
                   for info, (s, scaled) in zip(infos, loaded, strict=True)]
    names = [info.name if [i.name for i in infos].count(info.name) == 1 else str(info.path) for info in infos]
    result = predictions[0] if len(infos) == 1 else forecasting.average(predictions, names)
    intervals = infos[0].intervals if len(infos) == 1 else {}
    horizon = infos[0].config.window.horizon
    write_csv(out_csv, result.table)
    out = report.console()
    what = "" if len(infos) == 1 else f" (the mean of {len(infos)} runs: {', '.join(names)})"
    lookbacks = sorted({info.config.window.lookback for info in infos})
    out.print(f"{len(result.table)} forecasts{what} from {result.table['origin'].nunique()} origins "
              f"(lookback {'/'.join(map(str, lookbacks))}, horizon {horizon}) -> {out_csv}")
    if result.scores is not None:
        parts = [f"{label} MSE {report.fmt(m['mse'])}, MAE {report.fmt(m['mae'])}"
                 for label, m in (("model", result.scores["model"]),
                                  *((LABELS[r], result.scores[r]) for r in REFERENCES)) if m is not None]
        out.print(f"where {data.name} has actuals ({result.scores['n']} values): " + "; ".join(parts))
        for info in infos:
            note = forecasting.in_sample_note(info, data, series, result.table)
            if note:
                out.print(note)
        for level, iv in result.scores["intervals"].items():
            out.print(f"{float(level):.0%} interval covers {iv['coverage']:.1%} of the {iv['n']} actuals within the "
                      f"trained horizon (split-conformal, from the run's validation part)")
    for info in infos:
        chosen = info.metrics.get("recommended", {}).get("model")
        if chosen in REFERENCES:
            out.print(f"note: validation recommends the {LABELS[chosen]} reference over {info.name} (`recommended` "
                      f"in its metrics.json); its forecasts are the {chosen} column")
    if len(infos) > 1 and any(info.intervals for info in infos):
        out.print("the mean of several runs has no interval bounds: each run's were calibrated for its own forecasts")
    if intervals and steps is not None and steps > horizon:
        out.print(f"steps {horizon + 1}..{steps} lie beyond the trained horizon "
                  f"({horizon}): they have no interval bounds (empty in {out_csv.name})")
    if plot is not None:
        title = f"{names[0]} ({infos[0].config.model.cell.value})" if len(infos) == 1 else f"mean of {', '.join(names)}"
        forecasting.plot_predictions(result, series, f"{title} on {data.name}", max(lookbacks),
                                     infos[0].metrics["test"]["season"], intervals, plot)
        out.print(f"plot: {plot}")
    return {"command": "predict", "runs": [info.path for info in infos], "data": data, "out": out_csv,
            "forecasts": len(result.table), "origins": int(result.table["origin"].nunique()), "horizon": horizon,
            "scores": result.scores, "plot": plot}


def info() -> dict:
    """Versions, the Keras backend and the devices it can use."""
    from forecast.backend import gpu_names, start_backend, versions
    from forecast.report import console

    start_backend(DeviceChoice.auto)
    out = console()
    for key, value in versions().items():
        out.print(f"{key:>11}: {value}")
    gpus = gpu_names()
    out.print(f"{'devices':>11}: {', '.join(gpus) if gpus else 'CPU only'}")
    return {"command": "info", "versions": versions(), "devices": gpus}


def list_datasets(folder: Path) -> dict:
    from forecast import report
    from forecast.datasets import describe_csv

    from forecast.csvfile import CSV_NAMES

    files = sorted(p for p in folder.iterdir() if p.name.lower().endswith(CSV_NAMES)) if folder.is_dir() else []
    if not files:
        raise ForecastError(f"no CSV files in {folder}; run from the project folder or pass --dir")
    rows, skipped = [], []
    for file in files:  # one unreadable file does not hide the others
        try:
            rows.append(describe_csv(file))
        except ForecastError as exc:
            skipped.append(exc)
    if not rows:
        raise ForecastError(f"none of the {len(files)} CSV files in {folder} can be read; the first: {skipped[0]}")
    warn([f"skipped a file that cannot be read: {exc}" for exc in skipped])
    report.datasets_table(report.console(), folder, rows)
    return {"command": "datasets", "folder": folder, "files": [dataclasses.asdict(row) for row in rows]}


def make_dataset(kind: str, out_csv: Path, rows: int, noise: float, period: int, drift: float, seed: int) -> dict:
    if rows < 2 or period < 2 or noise < 0:
        raise ForecastError("--rows and --period must be at least 2 and --noise at least 0")
    if rows > MAX_ROWS:
        raise ForecastError(f"--rows must be at most {MAX_ROWS:,} (got {rows:,}); larger synthetic series belong in a "
                            "script of your own")
    from forecast.datasets import make_series
    from forecast.files import check_output, write_csv

    check_output(out_csv, "--out")
    from forecast.report import console

    write_csv(out_csv, make_series(kind, rows, noise, seed, period, drift))
    console().print(f"wrote {rows} rows to {out_csv}")
    return {"command": "datasets make", "kind": kind, "out": out_csv, "rows": rows}
