"""`train --mlflow`: every run logged with its options, per-epoch losses, scores and folder, read back through
MLflow's own client; a store that cannot be reached stops before any training."""

import json

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from tests.conftest import TINY
from tests.conftest import cli_ok as run_ok

runner = CliRunner()


@pytest.mark.slow
def test_train_logs_every_run_to_mlflow(sine_csv, tmp_path):
    from mlflow.tracking import MlflowClient

    store = f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    (tmp_path / "mlflow").mkdir()
    result = run_ok("train", sine_csv, "-c", "rnn", "-c", "gru", "--runs-dir", tmp_path / "runs", "--mlflow-uri", store,
                    *TINY)
    assert f"MLflow: 2 runs logged to {store}, experiment sine" in result.stdout
    client = MlflowClient(store)
    experiment = client.get_experiment_by_name("sine")
    logged = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert set(logged) == {"sine-rnn", "sine-gru"}
    run = logged["sine-gru"]
    metrics = json.loads((tmp_path / "runs" / "sine-gru" / "metrics.json").read_text())
    assert run.data.params["cell"] == "gru" and run.data.params["lookback"] == "20" and run.data.params["units"] == "8"
    assert run.data.metrics["test_mse"] == metrics["test"]["model"]["mse"]
    assert run.data.metrics["val_seasonal_naive_mae"] == metrics["val"]["baselines"]["seasonal_naive"]["mae"]
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert [m.step for m in history] == list(range(1, 13))  # every epoch, TINY trains 12
    assert run.data.tags["forecast.recommended"] == metrics["recommended"]["model"]
    files = {a.path for a in client.list_artifacts(run.info.run_id, "run")}
    assert {"run/model.keras", "run/metrics.json", "run/run.toml"} <= files
    assert run.info.artifact_uri.startswith((tmp_path / "mlflow" / "artifacts").as_uri())


def test_an_unreachable_mlflow_server_stops_before_training(sine_csv, tmp_path):
    result = runner.invoke(app, ["train", str(sine_csv), "--runs-dir", str(tmp_path / "runs"), "--mlflow-uri",
                                 "http://127.0.0.1:1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot use the MLflow store --mlflow-uri http://127.0.0.1:1 (API request to")
    assert result.stderr.rstrip().endswith("check the URI and that the server is running, or drop --mlflow-uri for a "
                                           "local store in ./mlruns")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
@pytest.mark.parametrize("uri, detail", [
    ("sqlite:////proc/forecast-mlflow.db", "((sqlite3.OperationalError) unable to open database file)"),
    ("sqlite:///a-file/mlflow.db", "([Errno 17] File exists: 'a-file')"),  # its folder would be a file
])
def test_a_database_store_that_cannot_be_opened_is_one_line_before_training(sine_csv, tmp_path, monkeypatch, uri,
                                                                           detail):
    # MLflow alone retries such a store for about a minute and a half, logging each try, then raises
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    result = runner.invoke(app, ["train", str(sine_csv), "--runs-dir", str(tmp_path / "runs"), "--mlflow-uri", uri])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [f"Error: cannot use the MLflow store --mlflow-uri {uri} "
                                          f"{detail}; check the URI and that the server is running, "
                                          "or drop --mlflow-uri for a local store in ./mlruns"]
    assert not (tmp_path / "runs").exists()
