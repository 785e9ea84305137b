"""Runs logged to MLflow (`train --mlflow`): the options as parameters, every epoch's loss, validation loss and
seconds, the validation and test scores of the model and the references, and the run folder as artifacts.
MLflow loads only here, inside the functions: it is an optional extra."""

from __future__ import annotations

import os
from pathlib import Path

from forecast.errors import ForecastError, shorten
from forecast.options import options_of

LOCAL_STORE = "sqlite:///mlruns/mlflow.db"  # --mlflow without --mlflow-uri: a file store in ./mlruns
# The database stores MLflow opens through SQLAlchemy, and how each driver is told to wait at most 10 s.
DATABASES = {"sqlite": {"timeout": 10}, "postgresql": {"connect_timeout": 10}, "mysql": {"connect_timeout": 10},
             "mssql": {"timeout": 10}}


def check_store(uri: str, experiment: str) -> None:
    """Before any training: MLflow is installed and the store answers (an HTTP server is tried once, for 10 s)."""
    try:
        import mlflow  # noqa: F401
    except ModuleNotFoundError:
        raise ForecastError("--mlflow needs MLflow, which is not installed; pip install \"forecast[track]\" (or "
                            "mlflow-skinny), or drop --mlflow") from None
    # One try with a short timeout instead of MLflow's minutes of retries; only if the user set nothing else.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    try:
        if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        _probe_database(uri)
    except Exception as exc:  # noqa: BLE001 - the driver's own errors (sqlite3, psycopg2, ...) vary
        raise _store_error(uri, exc) from None
    _experiment(uri, experiment)


def _probe_database(uri: str) -> None:
    """One try, of at most 10 s, to open a database store: MLflow itself retries for about a minute and a half,
    logging each try, before it gives up."""
    scheme = uri.split(":", 1)[0].split("+")[0]
    if scheme not in DATABASES:
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(uri, connect_args=DATABASES[scheme])
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def _store_error(uri: str, exc: BaseException) -> ForecastError:
    detail = shorten(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 160)
    return ForecastError(f"cannot use the MLflow store --mlflow-uri {uri} ({detail}); check the URI and that the "
                         "server is running, or drop --mlflow-uri for a local store in ./mlruns")


def _experiment(uri: str, name: str) -> str:
    import logging

    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its table-creation notes are not for users
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # A local store keeps the artifacts beside its database (MLflow's default is ./mlruns of the current folder).
    artifacts = (Path(uri.removeprefix("sqlite:///")).resolve().parent / "artifacts").as_uri() \
        if uri.startswith("sqlite:///") else None
    try:
        client = MlflowClient(uri)
        found = client.get_experiment_by_name(name)
        return found.experiment_id if found is not None else client.create_experiment(name, artifacts)
    except (MlflowException, OSError, ValueError) as exc:
        raise _store_error(uri, exc) from None


def log_run(uri: str, experiment: str, path: Path, cfg, metrics: dict, history) -> str:
    """One published run folder as an MLflow run; returns its MLflow run id."""
    from mlflow.tracking import MlflowClient

    from forecast.baselines import ALL_REFERENCES

    client = MlflowClient(uri)
    run = client.create_run(_experiment(uri, experiment), run_name=path.name,
                            tags={"forecast.run_folder": str(path.resolve()), "forecast.cell": cfg.model.cell.value})
    run_id = run.info.run_id
    params = {name: ",".join(map(str, value)) if isinstance(value, tuple) else getattr(value, "value", value)
              for name, value in options_of(cfg).items()}
    params["data"] = cfg.data.path
    from mlflow.entities import Metric, Param

    scores = []
    for part in ("val", "test"):
        scored = metrics[part]
        for metric, value in scored["model"].items():
            scores.append((f"{part}_{metric}", value))
        for reference in (r for r in ALL_REFERENCES if r in scored["baselines"]):
            scores += [(f"{part}_{reference}_{metric}", value) for metric, value in scored["baselines"][reference].items()]
    if "recommended" in metrics:
        client.set_tag(run_id, "forecast.recommended", metrics["recommended"]["model"])
    stamp = int(run.info.start_time)
    epochs = [Metric(key, float(row[key]), stamp, int(row["epoch"]))
              for row in history.to_dict("records") for key in ("loss", "val_loss", "seconds") if key in row]
    final = [Metric(key, float(value), stamp, 0) for key, value in scores if value is not None]
    batch = [*epochs, *final]
    for start in range(0, max(len(batch), 1), 1000):  # MLflow takes at most 1,000 metrics per call
        client.log_batch(run_id, metrics=batch[start:start + 1000],
                         params=[Param(k, str(v)) for k, v in params.items()] if start == 0 else [])
    client.log_artifacts(run_id, str(path), artifact_path="run")
    client.set_terminated(run_id)
    return run_id


def log_runs(uri: str, experiment: str, saved: list[tuple[Path, dict]]) -> tuple[list[str], list[str]]:
    """Each published run (folder, metrics) in MLflow: (the MLflow run ids, a note for each run that failed). A
    store that fails now leaves notes, not an error: the run folders are already saved."""
    from forecast import artifacts

    logged, failed = [], []
    for path, metrics in saved:
        info = artifacts.read_run(path)
        try:
            logged.append(log_run(uri, experiment, path, info.config, metrics, info.history))
        except Exception as exc:  # noqa: BLE001 - whatever MLflow raises, the run folder is safe
            failed.append(f"{path} is saved, but logging it to MLflow failed ({type(exc).__name__}: "
                          f"{shorten(str(exc), 200)})")
    return logged, failed
