"""`forecast tune`: a hyperparameter search with Optuna (TPE sampling, a median pruner fed every epoch's validation
loss) over a study kept in a database, so it resumes after an interruption and several processes or machines can
work on it; then the best trial trained again as a normal run folder, the trials table and two figures."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import re
from pathlib import Path

import numpy as np

from forecast.commands import describe_data, warn
from forecast.config import Parallel, RunConfig
from forecast.errors import ForecastError
from forecast.interrupts import deferred_interrupt
from forecast.space import Dimension
from forecast.study import Search, check_resumed, check_search, default_values, finished, open_study, trial_config


def prepare_folds(cfg: RunConfig, folds: int) -> list:
    """What a trial trains on: the usual split (as `train` prepares it), then `folds - 1` earlier validation
    blocks of the same size (split.validation_folds); each fold decides its own automatic choices."""
    from forecast.data import load_csv
    from forecast.prepare import prepare_series, transform_series
    from forecast.split import split_series, validation_folds

    series, model_values = transform_series(load_csv(cfg.data), cfg.data.transform)
    splits = validation_folds(split_series(len(series), cfg.data, cfg.window), folds, cfg.window, cfg.data.path)
    return [prepare_series(series, model_values, cfg.data, cfg.window, split) for split in splits]


def run_worker(job: tuple[Search, int, int], on_epoch, stop=None) -> int:
    """One worker of a study (in this process or its own): at most `share` trials, and none once the study has
    `trials` finished ones or the timeout passed; returns how many it ran."""
    import optuna

    from forecast.backend import fresh_session, start_backend
    from forecast.devices import spread

    search, worker, share = job
    study = open_study(search, worker, draws=len(open_study(search).trials))
    # before Keras loads through training: its start-up is quiet
    device = spread(start_backend(search.base.train.device), search.base.train)
    from forecast.training import train_cell
    prepared: dict = {}

    def objective(trial) -> float:
        values = {name: dim.suggest(trial) for name, dim in search.space.items()}
        trial.set_user_attr("worker", f"{os.uname().nodename}:{os.getpid()}")
        try:
            cfg = trial_config(search.base, values)
            key = (cfg.window, cfg.data.normalize, cfg.data.transform)
            if key not in prepared:
                prepared[key] = prepare_folds(cfg, search.folds)
            preps = prepared[key]
        except ForecastError as exc:  # values this data cannot take (a lookback too long): a failed trial
            trial.set_user_attr("error", str(exc))
            warn([f"trial {trial.number} failed: {exc}"])
            return math.nan

        def report(epoch: int, logs: dict, seconds: float, pruned: bool = True) -> None:
            if stop is not None and stop.is_set():
                raise KeyboardInterrupt
            on_epoch(epoch, {k: v for k, v in logs.items() if k != "val_mse_units"}, seconds)
            if pruned:  # the usual validation part, trained first: every trial reports the same steps
                trial.report(float(logs["val_mse_units"]), epoch)  # original units: every trial compares
                if trial.should_prune():
                    raise optuna.TrialPruned()

        scores = []
        for k, prep in enumerate(preps):
            fresh_session()
            result = train_cell(prep, cfg, device, report if k == 0 else functools.partial(report, pruned=False),
                                score_epochs=k == 0)
            scores.append(float(result.metrics["val"]["model"]["mse"]))
            if k == 0:
                val = result.metrics["val"]
                trial.set_user_attr("val_mae", val["model"]["mae"])
                trial.set_user_attr("val_mase", val["model"]["mase"])
                trial.set_user_attr("epochs_run", result.metrics["epochs_run"])
        trial.set_user_attr("val_mse", scores[0])  # what the best trial's run folder shows again
        trial.set_user_attr("val_mse_folds", scores)
        return float(np.mean(scores))

    left = min(share, search.trials - finished(study))
    if left <= 0:
        return 0
    before = len(study.trials)
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    def between_trials(study, trial) -> None:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt

    study.optimize(objective, n_trials=left, timeout=search.timeout, gc_after_trial=True,
                   callbacks=[optuna.study.MaxTrialsCallback(search.trials, states=states), between_trials])
    return len(study.trials) - before


MAX_JOBS_PER_CORE = 4  # each worker is a process with its own TensorFlow (about 1 GB): more only fill memory


def tune(configs: list[RunConfig], space_file: Path | None, trials: int, timeout: float | None, jobs: int,
         storage: str | None, study_name: str | None, out_dir: Path | None, runs_dir: Path, folds: int = 3) -> dict:
    """Search, then train the best trial again as a run folder; returns what --json prints."""
    from forecast.backend import check_backend, cores, start_backend
    from forecast.files import check_folder
    from forecast.runs import data_stem
    from forecast.space import default_space, read_space
    from forecast.split import validation_folds

    check_backend()
    if trials < 1 or jobs < 1 or (timeout is not None and not timeout > 0):  # NaN is not positive either
        raise ForecastError(f"--trials and --jobs must be at least 1 and --timeout positive (got --trials {trials}, "
                            f"--jobs {jobs}, --timeout {timeout})")
    if jobs > MAX_JOBS_PER_CORE * cores():
        raise ForecastError(f"--jobs {jobs} is more than {MAX_JOBS_PER_CORE} workers per core ({cores()} cores): each "
                            "worker is a process with its own TensorFlow (about 1 GB); use at most "
                            f"{MAX_JOBS_PER_CORE * cores()}, or spread workers over machines (--storage)")
    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise ForecastError("forecast tune needs Optuna, which is not installed; pip install \"forecast[tune]\" "
                            "(or optuna)") from None
    out, prep = describe_data(configs[0], panel=False)
    configs = [dataclasses.replace(cfg, window=prep.window) for cfg in configs]  # the lookback as chosen
    validation_folds(prep.split, folds, prep.window, configs[0].data.path)  # too many folds: an error now
    from forecast.devices import several, spread

    if several(configs[0].train):  # found before the study is created
        if jobs > 1:
            raise ForecastError(f"--jobs {jobs} runs trials side by side, each on one device, and --devices "
                                f"{configs[0].train.devices} trains each trial over several; drop one of them")
        spread(start_backend(configs[0].train.device), configs[0].train)
    cells = tuple(dict.fromkeys(c.model.cell.value for c in configs))
    space = (read_space(space_file) if space_file is not None
             else default_space(prep.window.lookback, cells, prep.season, prep.window.horizon))
    if "cell" not in space and len(cells) > 1:
        space["cell"] = Dimension("cell", cells)
    # the default name from the data file's name, with anything a --study may not hold made an underscore
    study_name = study_name or re.sub(r"[^A-Za-z0-9._-]", "_", f"{data_stem(configs[0].data.path)}-{'-'.join(cells)}"
                                      ).lstrip(".") or "study"
    search = Search(base=configs[0], space=space, study=study_name, storage=storage or "", trials=trials,
                    timeout=timeout, seed=configs[0].train.seed, folds=folds)
    check_search(search)
    out_dir = out_dir or Path("tune") / study_name
    check_folder(out_dir, "--out-dir")
    check_folder(runs_dir, "--runs-dir")
    if storage is None:
        out_dir.mkdir(parents=True, exist_ok=True)
        search = dataclasses.replace(search, storage=f"sqlite:///{out_dir / 'study.db'}")
    study = open_study(search, create=True)
    check_resumed(search, study)
    given = default_values(search)
    if not study.trials and len(given) == len(space):  # a new study tries the options given first (when the space
        study.enqueue_trial(given, user_attrs={"defaults": True})  # holds them): the pick never scores worse
    before = finished(study)
    left = max(trials - before, 0)
    out.print(f"study {study_name} in {search.storage}: {before} finished trials so far, searching to {trials} by "
              f"the {_scored(folds)}; space: " + "; ".join(f"{name} {dim.describe()}" for name, dim in space.items()))
    if jobs > cores():
        warn([f"--jobs {jobs} on {cores()} cores: the workers beyond {cores()} wait for a core"])
    from forecast import report

    # the trials left, split exactly: worker i runs shares[i], so parallel workers never overshoot --trials
    shares = [n for n in (left // jobs + (i < left % jobs) for i in range(jobs)) if n > 0]
    with report.progress(out, configs[0].train.epochs) as tracker:
        if len(shares) == 1:
            with tracker.cell("trials") as on_epoch, deferred_interrupt() as stop:
                run_worker((search, 0, shares[0]), on_epoch, stop)
        elif shares:
            from forecast.parallel import run_jobs

            keys = [f"worker {i + 1}" for i in range(len(shares))]
            run_jobs(run_worker, {k: (search, i, n) for i, (k, n) in enumerate(zip(keys, shares, strict=True))},
                     {k: k for k in keys}, tracker)
    return _finish(search, out, out_dir, runs_dir, prep)


def _finish(search: Search, out, out_dir: Path, runs_dir: Path, prep) -> dict:
    """The trials table, the figures, and the best trial trained again as a run folder."""
    from optuna.trial import TrialState

    from forecast import commands, plots, report
    from forecast.files import write_csv

    study = open_study(search)
    table = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs", "duration"))
    table["duration"] = table["duration"].dt.total_seconds() if "duration" in table else None
    write_csv(out_dir / "trials.csv", table)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    counts = {state.name.lower(): len(study.get_trials(deepcopy=False, states=(state,)))
              for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    out.print(f"{len(table)} trials: {counts['complete']} complete, {counts['pruned']} pruned, {counts['fail']} failed"
              f" -> {out_dir / 'trials.csv'}")
    if not complete:
        errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
        raise ForecastError("no trial completed" + (f"; the first error: {errors[0]}" if errors else "") +
                            "; widen --timeout or change the --space")
    best = study.best_trial
    from forecast.baselines import ALL_REFERENCES
    from forecast.evaluate import actual_targets, part_baselines
    from forecast.metrics import score

    # the simple references on the same validation blocks (of the options given; a trial's lookback may differ)
    preps = prepare_folds(search.base, search.folds)
    baselines = [part_baselines(p, "val") for p in preps]  # a second season's only where every block shows it
    by_reference = [[score(actual_targets(p, "val"), b[name], p.scale_of("val"))["mse"]
                     for p, b in zip(preps, baselines, strict=True)]
                    for name in ALL_REFERENCES if all(name in b for b in baselines)]
    reference = min(float(np.mean(mses)) for mses in by_reference)
    fig, axes = plots.new_figure(2, width=13)
    scored = _scored(search.folds)
    plots.plot_trials(axes[0], [t.number for t in complete], [t.value for t in complete], reference,
                      f"{scored} (original units)")
    importances = _importances(study)
    if importances:
        plots.plot_importances(axes[1], importances)
    else:
        axes[1].set_axis_off()
        axes[1].set_title("Option importance: needs 2 complete trials with different values")
    plots.save_figure(fig, out_dir / "trials.png")
    shown = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in best.params.items())
    given = [t for t in complete if t.user_attrs.get("defaults")]
    start = f"the options given (trial {given[0].number}) {report.fmt(given[0].value)}, " if given else ""
    out.print(f"best: trial {best.number}, {scored} {report.fmt(best.value)} ({start}best reference "
              f"{report.fmt(reference)}): {shown}")
    cfg = trial_config(search.base, best.params)
    name = f"{search.study}-trial{best.number}"
    if (runs_dir / name).is_dir():
        path = runs_dir / name
        _check_same_trial(path, best.user_attrs.get("val_mse", best.value))
        out.print(f"the best trial's run exists already: {path}")
    else:
        out.print(f"training trial {best.number} again as a run folder:")
        doc = commands.train([cfg], runs_dir, name, False, Parallel.off)
        path = Path(doc["runs"][0]["path"])
    return {"command": "tune", "study": search.study, "storage": search.storage, "trials": len(table), **counts,
            "folds": search.folds, "best": {"number": best.number, "value": best.value, "params": best.params,
                                            "val_mse_folds": best.user_attrs.get("val_mse_folds", [best.value])},
            "given": {"number": given[0].number, "value": given[0].value} if given else None,
            "reference_mse": reference,
            "importances": importances, "run": path, "trials_csv": out_dir / "trials.csv", "figure": out_dir / "trials.png"}


def _scored(folds: int) -> str:
    """What a trial's value is, as printed."""
    return f"mean validation MSE of {folds} blocks" if folds > 1 else "validation MSE"


def _check_same_trial(path: Path, value: float) -> None:
    """An existing STUDY-trialN folder is this trial's run only if it has the trial's validation MSE."""
    from forecast import artifacts

    try:
        same = math.isclose(artifacts.read_run(path).metrics["val"]["model"]["mse"], value, rel_tol=1e-9)
    except (ForecastError, KeyError):
        same = False
    if not same:
        raise ForecastError(f"{path} exists but is not this study's trial (its validation MSE differs, or it cannot "
                            "be read); move it away, or pass another --runs-dir or --study")


def _importances(study) -> dict[str, float]:
    from optuna.importance import get_param_importances

    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Optuna's notes on too few trials for its quantiles
            return {k: float(v) for k, v in get_param_importances(study).items()}
    except (RuntimeError, ValueError):  # too few complete trials, or every one with the same values
        return {}

