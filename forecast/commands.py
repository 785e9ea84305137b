"""What each command does, without Typer: the CLI packs its options into configs and calls one function here,
which loads the data, starts the backend, runs the library and prints the results.

User mistakes raise ForecastError, which the CLI prints as one line. Everything heavy (pandas, Keras, matplotlib,
Rich) is imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from forecast.config import DeviceChoice, Parallel, RunConfig
from forecast.errors import ForecastError, check_distinct

MAX_STEPS = 10_000  # predict --steps: each recursive step is one model call


def warn(notes: tuple[str, ...] | list[str]) -> None:
    """Notes for the user (report.warn: `Warning:` lines, or Python warnings under the Python API)."""
    from forecast.report import warn as report_warn

    report_warn(notes)


def describe_data(cfg: RunConfig, per_fold: bool = False, panel: bool = True):
    """Load, check and describe the data before the backend loads, so bad data fails fast: (console, Prepared).
    With `per_fold` (a backtest) the automatic normalisation is left to each fold, which says its own. Without
    `panel` (backtest, tune) a long table must name one series."""
    from forecast.dates import cycle_name
    from forecast.prepare import prepare
    from forecast.report import console

    prep = prepare(cfg.data, cfg.window, panel=panel and not per_fold)
    warn(prep.series.notes)
    out = console()
    series, sizes = prep.series, prep.split.sizes()
    panel = (f"{len(prep.blocks)} series of " + (f"`{cfg.data.id_col}`" if cfg.data.id_col else "--target")
             + ", one model; each split by time and scaled on its own training part; " if prep.blocks else "")
    out.print(f"[bold]{cfg.data.path}[/]: {panel}{len(series)} rows, target [bold]{series.target}[/]"
              + (f", features {', '.join(series.columns[1:])}" if len(series.columns) > 1 else "")
              + (f", time `{series.time_col}` ({series.freq or 'irregular'})" if series.time_col else ""))
    lookback = f"{prep.window.lookback}" + (f" (auto: {prep.lookback_reason})" if prep.lookback_reason else "")
    out.print("split (rows / windows): " + ", ".join(f"{p} {sizes[p]} / {len(prep.windows[p])}" for p in sizes)
              + f"; lookback {lookback}, horizon {cfg.window.horizon}")
    how = prep.season_reason or ("--season" if cfg.data.season else "no frequency")
    norm = prep.normalize.value + (f" (auto: {prep.normalize_reason})" if prep.normalize_reason else "")
    if per_fold:
        norm = f"{cfg.data.normalize.value} (each fold decides on its own rows)" if prep.normalize_reason else norm
    fit = f"; batch {cfg.train.batch_size}, rate {cfg.train.learning_rate:g}, patience {cfg.train.patience}"
    week = f" and {prep.season2} (the {cycle_name(prep.season2)}, which its training part shows)" if prep.season2 > 1 \
        else ""
    out.print(f"season {prep.season} ({how}){week}; transform {cfg.data.transform.value}; normalize {norm}; "
              f"strategy {cfg.model.strategy.value}{fit if cfg.data.several_series else ''}")
    return out, prep


def train(configs: list[RunConfig], runs_dir: Path, name: str | None, resume: bool, parallel: Parallel,
          mlflow: str | None = None) -> dict:
    """Train every config (one per cell) on the same data and publish a run folder for each (logged to the MLflow
    store `mlflow` too, when given); returns what --json prints."""
    from forecast import devices, report, runs
    from forecast.backend import check_backend, compute_notes, training_work
    from forecast.anchors import choose_anchor
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
    experiment = runs.data_stem(configs[0].data.path) or "forecast"  # MLflow: one experiment per data file
    if mlflow is not None:
        from forecast import tracking

        tracking.check_store(mlflow, experiment)
    out, prep = describe_data(configs[0])
    configs = [dataclasses.replace(cfg, window=prep.window) for cfg in configs]  # the lookback as chosen
    check_interval_windows(configs[0].train.intervals, len(prep.windows["val"]))
    anchor, why = choose_anchor(prep, configs[0].model.anchor)
    if anchor.value != "none":
        out.print(f"anchor {anchor.value}" + (f" (auto: {why})" if why else "")
                  + ("; linear path" if configs[0].model.linear else ""))
    work = training_work(len(prep.windows["train"]), configs[0].train)
    device, in_processes = devices.choose(configs[0].train, parallel, len(configs), work)
    warn(compute_notes(configs, device, work))
    out.print(f"device: {device.label}" + (f"; {len(configs)} cells in parallel processes" if in_processes else ""))
    with report.progress(out, configs[0].train.epochs) as tracker:
        results = runs.train_and_save(prep, configs, runs_dir, name, device, tracker, resume, in_processes)
    results = runs.publish_group(prep, results, configs[0].train.epochs, runs_dir, unique=name is None)
    if report.train_summary(out, results):
        warn(("MAPE is undefined because the test part has actual values of zero; it is reported as missing",))
    out.print("runs: " + ", ".join(str(r.path) for r in results))
    if mlflow is not None:
        logged, failed = tracking.log_runs(mlflow, experiment, [(r.path, r.metrics) for r in results])
        warn(failed)
        out.print(f"MLflow: {len(logged)} runs logged to {mlflow}, experiment {experiment}")
    first = results[0].metrics
    return {"command": "train", "data": configs[0].data.path, "lookback": prep.window.lookback,
            "horizon": prep.window.horizon, "season": prep.season, "season2": prep.season2,
            "runs": [{"cell": r.cell, "path": r.path, "metrics": r.metrics} for r in results],
            "ensemble": first.get("ensemble"), "recommended": first.get("recommended"),
            "advice": first.get("advice", [])}


def check_outputs(data, outputs: list[tuple[Path | None, str, str]]) -> None:
    """Before any work: each output (path, option, suffix) that is asked for can be written, and is neither the
    input data (a file, not the Python API's DataFrame) nor an earlier output."""
    from forecast.files import check_output

    taken = [] if data.frame is not None else [(Path(data.path), "the input data")]
    for path, option, suffix in outputs:
        if path is not None:
            check_output(path, option, tuple(taken), suffix)
            taken.append((path, f"the {option} file"))


def backtest(configs: list[RunConfig], folds: int, out_csv: Path | None, plot: Path | None,
             forecasts: Path | None) -> dict:
    """Retrain every config on each fold of a rolling-origin backtest; write the scores, forecasts and figure (each
    when given a path); returns what --json prints, with the scores per fold as `table` (which --json leaves out)."""
    from forecast.backend import check_backend

    check_backend()
    check_outputs(configs[0].data, [(out_csv, "--out", ".csv"), (plot, "--plot", ".png"),
                                    (forecasts, "--forecasts", ".csv")])
    out, prep = describe_data(configs[0], per_fold=True)
    configs = [dataclasses.replace(cfg, window=prep.window) for cfg in configs]  # the lookback as chosen
    from forecast.backend import compute_notes, start_backend, training_work
    from forecast.devices import spread
    from forecast.prepare import plan_folds_of

    # too many folds, or folds too small for --interval, fail now
    planned = plan_folds_of(configs[0].data, configs[0].window, folds, configs[0].train.intervals)
    device = spread(start_backend(configs[0].train.device), configs[0].train)
    out.print(f"device: {device.label}")
    warn(compute_notes(configs, device, training_work(len(prep.windows["train"]), configs[0].train)))
    from forecast import plots, report
    from forecast.backtesting import run_backtest, write_table
    from forecast.evaluate import level_pct
    from forecast.files import write_csv

    def on_fold(k: int, fold) -> None:
        rows = fold.split.sizes()
        norm = fold.normalize.value + (f" (auto: {fold.normalize_reason})" if fold.normalize_reason else "")
        out.print(f"fold {k}/{folds}: train {rows['train']}, val {rows['val']}, test {rows['test']} rows "
                  f"({fold.series.time[fold.split.val_end]} to {fold.series.time[fold.split.n - 1]}); normalize {norm}")

    with report.progress(out, configs[0].train.epochs) as tracker:
        result = run_backtest(configs, planned, tracker, device, on_fold)
    if out_csv is not None:
        write_csv(out_csv, write_table(result.per_fold))
    if forecasts is not None:
        write_csv(forecasts, result.forecasts)
    if plot is not None:
        fig, axes = plots.new_figure(2, width=13)
        for ax, metric in zip(axes, ("mse", "mase"), strict=True):
            plots.plot_by_fold(ax, result.per_fold, metric, result.season, result.season2)
        plots.save_figure(fig, plot)
    report.backtest_table(out, result.summary, folds, result.season, result.season2)
    picked = result.per_fold.loc[result.per_fold["model"] == "recommended", "picked"].value_counts()
    out.print("validation recommended: " + ", ".join(f"{model} in {n} fold{'s' * (n > 1)}" for model, n in picked.items()))
    for level in configs[0].train.intervals:
        covered = result.per_fold[f"coverage_{level_pct(level)}"].dropna()
        out.print(f"{level * 100:g}% intervals cover {covered.mean():.1%} of the test values on average over folds and "
                  f"cells (lowest {covered.min():.1%})")
    written = [f"{what}: {path}" for what, path in (("scores", out_csv), ("forecasts", forecasts), ("figure", plot))
               if path is not None]
    if written:
        out.print("; ".join(written))
    return {"command": "backtest", "data": configs[0].data.path, "folds": folds, "season": result.season,
            "summary": result.summary.to_dict("records"), "per_fold": result.per_fold.to_dict("records"),
            "out": out_csv, "forecasts": forecasts, "figure": plot, "table": result.per_fold,
            "forecasts_table": result.forecasts}


def compare(paths: list[Path], runs_dir: Path, figure: Path | None, data: str | None = None) -> dict:
    """Loss curves and test MSE of runs side by side (the figure when given a path); the table sorted by test MSE;
    returns what --json prints. With `data`, only the runs trained on that file."""
    from forecast.baselines import ALL_REFERENCES
    from forecast.comparison import group_runs, pick_data, read_runs, show_groups
    from forecast.files import check_output

    if figure is not None:
        check_output(figure, "--out", suffix=".png")
    check_distinct(paths, "the list of runs", lambda p: str(Path(p).resolve()))
    names, infos, skipped = read_runs(paths, runs_dir)
    warn([f"skipped a run that cannot be read: {exc}" for exc in skipped])
    if data is not None:
        names, infos = pick_data(names, infos, data)
    from forecast import plots, report

    groups = group_runs(infos)  # scores compare only within a group: each gets its table and figure row
    out = report.console()
    fig = show_groups(out, names, infos, groups)
    if figure is not None:
        plots.save_figure(fig, figure)
    if len(groups) > 1:
        out.print(f"{len(groups)} groups of runs (data, target, series, test rows, horizon): scores compare within one")
    if figure is not None:
        out.print(f"figure: {figure}")
    rows = [{"run": n, "path": i.path, "cell": i.config.model.cell.value, "data": i.meta["data"]["path"],
             "target": i.config.data.target, "lookback": i.config.window.lookback,
             "horizon": i.config.window.horizon, "epochs": i.metrics["epochs_run"], "test": i.metrics["test"]["model"],
             "start": i.metrics.get("start"),
             "baselines": {b: s for b, s in i.metrics["test"]["baselines"].items() if b in ALL_REFERENCES}}
            for n, i in sorted(zip(names, infos, strict=True), key=lambda p: p[1].metrics["test"]["model"]["mse"])]
    return {"command": "compare", "runs": rows, "figure": figure}


def predict(runs: list[Path], data, out_csv: Path | None, steps: int | None, target: str | None, plot: Path | None,
            device: DeviceChoice, last: int | None = None, series_name=None) -> dict:
    """Forecast every origin of a series (a CSV path, or the Python API's DataFrame) with a run, or the mean of
    several runs (and --steps past its end); scores where it has actuals. Returns what --json prints, and the
    forecasts as `table` (which --json leaves out)."""
    from forecast import artifacts
    from forecast.backend import check_backend
    from forecast.files import check_output

    check_backend()
    frame = None if isinstance(data, (str, Path)) else data
    data = Path(data) if frame is None else Path("dataframe")
    if out_csv is not None:
        check_output(out_csv, "--out", ((data, "the input data"),) if frame is None else ())
    if plot is not None:
        taken = (((data, "the input data"),) if frame is None else ()) + (((out_csv, "the --out file"),) if out_csv else ())
        check_output(plot, "--plot", taken, ".png")

    check_distinct(runs, "the list of runs", lambda p: str(Path(p).resolve()))  # ./runs/x is runs/x
    infos = [artifacts.read_run(run) for run in runs]
    horizons = {info.config.window.horizon for info in infos}
    if len(horizons) > 1:
        shown = ", ".join(f"{info.name} {info.config.window.horizon}" for info in infos)
        raise ForecastError(f"the runs forecast different horizons ({shown}); average only runs trained with the "
                            "same --horizon")
    if len({info.config.data.target for info in infos}) > 1:
        shown = ", ".join(f"{info.name} `{info.config.data.target}`" for info in infos)
        raise ForecastError(f"the runs forecast different columns ({shown}); average only runs trained on the same "
                            "--target")
    if last is not None and last < 1:
        raise ForecastError(f"--last must be at least 1 (got {last}); it is the number of latest origins to forecast")
    if steps is not None and not 1 <= steps <= MAX_STEPS:
        raise ForecastError(f"--steps must lie between 1 and {MAX_STEPS:,} (got {steps:,}); a forecast fed on its own "
                            "output that far ahead has no skill left, and computing it would take hours")
    from forecast.prediction import load_inputs

    loaded, asked, notes = load_inputs(infos, str(data), target, frame, series_name)  # bad data fails before Keras
    panel = bool(infos[0].series_scalers)
    series = loaded[0][1]
    warn(notes)
    from forecast.backend import start_backend

    start_backend(device)
    from forecast import prediction as forecasting
    from forecast import report
    from forecast.baselines import SIMPLE, baseline_label
    from forecast.files import write_csv

    predictions = ([forecasting.predict_panel(infos[0], loaded, steps, last)] if panel else
                   [forecasting.predict_series(info, s, scaled, steps, last)
                    for info, (_, s, scaled) in zip(infos, loaded, strict=True)])
    names = [info.name if [i.name for i in infos].count(info.name) == 1 else str(info.path) for info in infos]
    warn([note for p in predictions for note in p.notes])
    result = predictions[0] if len(infos) == 1 else forecasting.average(predictions, names)
    intervals = infos[0].intervals if len(infos) == 1 else {}
    horizon = infos[0].config.window.horizon
    if out_csv is not None:
        write_csv(out_csv, result.table)
    out = report.console()
    what = "" if len(infos) == 1 else f" (the mean of {len(infos)} runs: {', '.join(names)})"
    lookbacks = sorted({info.config.window.lookback for info in infos})
    origins = len(result.table.drop_duplicates(["series", "origin"])) if panel else result.table["origin"].nunique()
    what += f" of {len(loaded)} series" if panel else ""
    out.print(f"{len(result.table)} forecasts{what} from {origins} origins "
              f"(lookback {'/'.join(map(str, lookbacks))}, horizon {horizon})" + (f" -> {out_csv}" if out_csv else ""))
    test = infos[0].metrics["test"]
    if result.scores is not None:
        parts = [f"{label} MSE {report.fmt(m['mse'])}, MAE {report.fmt(m['mae'])}"
                 for label, m in (("model", result.scores["model"]),
                                  *((baseline_label(r, test["season"], test.get("season2", 1)), result.scores[r])
                                    for r in SIMPLE if r in result.scores)) if m is not None]
        out.print(f"where {data.name} has actuals ({result.scores['n']} values): " + "; ".join(parts))
        # a DataFrame, or another series of a long table, is never the data a run saw
        for info in infos:
            note = forecasting.in_sample_note(info, data, series, result.table) \
                if frame is None and asked in ((), info.config.data.series) else ""
            if note:
                out.print(note)
        for level, iv in result.scores["intervals"].items():
            out.print(f"{float(level) * 100:g}% interval covers {iv['coverage']:.1%} of the {iv['n']} actuals within the "
                      f"trained horizon (split-conformal, from the run's validation part)")
    for info in infos:
        chosen = info.metrics.get("recommended", {}).get("model")
        if chosen in SIMPLE:
            label = baseline_label(chosen, info.metrics["test"]["season"], info.metrics["test"].get("season2", 1))
            out.print(f"note: validation recommends the {label} reference over {info.name} (`recommended` "
                      f"in its metrics.json); its forecasts are the {chosen} column")
    if len(infos) > 1 and any(info.intervals for info in infos):
        out.print("the mean of several runs has no interval bounds: each run's were calibrated for its own forecasts")
    if intervals and steps is not None and steps > horizon:
        out.print(f"steps {horizon + 1}..{steps} lie beyond the trained horizon ({horizon}): they have no interval "
                  f"bounds (empty in {out_csv.name if out_csv else 'the table'})")
    if plot is not None:
        title = f"{names[0]} ({infos[0].config.model.cell.value})" if len(infos) == 1 else f"mean of {', '.join(names)}"
        shown = result
        if panel:  # the first series
            shown = dataclasses.replace(result, table=result.table[result.table["series"] == loaded[0][0]])
            title += f", series {loaded[0][0]}"
        forecasting.plot_predictions(shown, series, f"{title} on {data.name}", max(lookbacks),
                                     test["season"], intervals, plot, test.get("season2", 1))
        out.print(f"plot: {plot}")
    return {"command": "predict", "runs": [info.path for info in infos], "data": data, "out": out_csv,
            "forecasts": len(result.table), "origins": int(origins), "horizon": horizon,
            "scores": result.scores, "plot": plot, "table": result.table}
