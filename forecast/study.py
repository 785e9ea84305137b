"""An Optuna study of `forecast tune`: what every worker shares (Search), a trial's options, the study opened in its
storage with its sampler and pruner, and the checks that keep a study's trials comparable."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from forecast.config import RunConfig
from forecast.errors import ForecastError, shorten
from forecast.options import options_of, run_configs
from forecast.space import Dimension

STARTUP_TRIALS = 5  # the pruner and TPE both start after this many finished trials (Optuna's default for the pruner)
WARMUP_EPOCHS = 3  # a trial is never pruned before this many epochs: anchored models start at their reference


@dataclass(frozen=True)
class Search:
    """What every worker of one study needs (pickled to worker processes)."""

    base: RunConfig  # the options given; each trial replaces the searched ones
    space: dict[str, Dimension]
    study: str
    storage: str
    trials: int  # the study's total of finished (complete or pruned) trials
    timeout: float | None  # seconds, per worker
    seed: int  # the sampler's seed (each worker adds its index)
    folds: int = 1  # validation blocks a trial is scored on (their mean validation MSE)


def trial_config(base: RunConfig, values: dict) -> RunConfig:
    options = {**options_of(base), **values}
    cell = options.pop("cell")
    data = base.data.frame if base.data.frame is not None else base.data.path
    return run_configs(data, cell, **{k: v for k, v in options.items() if v is not None})[0]


def open_study(search: Search, worker: int = 0, create: bool = False, draws: int = 0):
    """The study in its storage; its sampler seeded from --seed, the worker, the trials the study holds already
    (`draws`: a resumed study draws new points) and the machine (workers elsewhere draw others)."""
    import socket
    import warnings
    import zlib

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial is a Warning: line of this tool's own
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # the heartbeat is one
    machine = zlib.crc32(socket.gethostname().encode()) % 100_003
    seed = (search.seed + 1_000_003 * worker + 7_919 * draws + machine) % 2**32
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=STARTUP_TRIALS)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS, n_warmup_steps=WARMUP_EPOCHS)
    try:
        storage = optuna.storages.RDBStorage(search.storage, heartbeat_interval=60, grace_period=180)
        if create:
            return optuna.create_study(study_name=search.study, storage=storage, direction="minimize",
                                       sampler=sampler, pruner=pruner, load_if_exists=True)
        return optuna.load_study(study_name=search.study, storage=storage, sampler=sampler, pruner=pruner)
    except ImportError as exc:
        raise ForecastError(f"--storage {search.storage} needs a database driver that is not installed ({exc}); "
                            "install the one for that database (psycopg2-binary for PostgreSQL, pymysql for MySQL, "
                            "with mysql+pymysql:// in the URL), or use a SQLite file") from None
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy's errors for a bad URL or an unreachable server vary
        if type(exc).__module__.split(".")[0] not in ("sqlalchemy", "optuna"):
            raise
        detail = shorten(str(exc).splitlines()[0], 160)
        raise ForecastError(f"cannot open --storage {search.storage} ({detail}); check the URL, that the server is "
                            "reachable and the database exists, or use the default SQLite file") from None


def default_values(search: Search) -> dict:
    """The searched options' values in the options given (the tool's defaults unless set), where the space holds
    them: the first trial of a new study, so the search's pick is never worse than them on its own score."""
    given = {name: getattr(value, "value", value) for name, value in options_of(search.base).items()}
    return {name: given[name] for name, dim in search.space.items()
            if (given[name] in dim.choices if dim.choices else
                given[name] is not None and dim.low <= given[name] <= dim.high)}


def finished(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


def check_search(search: Search) -> None:
    """Before any trial: the study name makes folder names, and every value of the space makes a valid run."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", search.study) or len(search.study) > 200:
        raise ForecastError(f"--study {shorten(repr(search.study), 60)} must be a plain name (letters, digits, . _ -, "
                            "not starting with a dot): it names tune/STUDY and the run STUDY-trialN")
    for name, dim in search.space.items():
        for value in dim.choices or (dim.low, dim.high):
            try:
                trial_config(search.base, {name: value})
            except ForecastError as exc:
                raise ForecastError(f"`{name}` = {value!r} in the search space cannot be trained: {exc}") from None


def _fingerprint(search: Search) -> dict:
    """What a study's trials depend on: the options every trial starts from (the searched ones aside) and the space."""
    base = {k: str(getattr(v, "value", v)) for k, v in options_of(search.base).items() if k not in search.space}
    folds = {"folds": str(search.folds)} if search.folds != 1 else {}  # studies from before --folds had one
    return {"data": str(search.base.data.path), **base, **folds,
            "space": {k: d.describe() for k, d in search.space.items()}}


def check_resumed(search: Search, study) -> None:
    """A study continues only with the options and space it was started with; a new one records them."""
    mine = _fingerprint(search)
    recorded = study.user_attrs.get("forecast")
    if recorded is None:
        study.set_user_attr("forecast", json.dumps(mine))
        return
    theirs = json.loads(recorded)
    changed = [f"{k} {theirs.get(k)} -> {mine.get(k)}" for k in sorted(set(mine) | set(theirs))
               if mine.get(k) != theirs.get(k)]
    if changed:
        raise ForecastError(f"study {search.study} in {search.storage} was started with other options "
                            f"({shorten('; '.join(changed), 200)}); its trials would not compare with new ones: use "
                            "another --study, or the options it was started with")
