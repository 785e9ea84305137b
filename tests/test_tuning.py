"""`forecast tune`: two worker processes on one SQLite study, a study that resumes, the best trial trained again as
a run folder with the trial's validation score, and storage mistakes as one line."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.report import fmt as report_fmt
from tests.conftest import cli_ok as run_ok

runner = CliRunner()
SPACE = 'units = {low = 4, high = 8}\nlearning_rate = {low = 0.003, high = 0.03, log = true}\nlookback = [10, 20]\n'
FIXED = ["--epochs", "4", "--batch-size", "512", "--patience", "0", "--folds", "2"]


@pytest.mark.slow
def test_two_workers_share_one_study_that_resumes_and_the_best_trial_becomes_a_run(sine_csv, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    where = ["--space", space, "--out-dir", tmp_path / "study", "--runs-dir", tmp_path / "runs", *FIXED]
    doc = json.loads(run_ok("tune", sine_csv, "--trials", "3", "--jobs", "2", "--json", *where).stdout)
    table = pd.read_csv(tmp_path / "study" / "trials.csv")
    assert len(table) == 3 and set(table["state"]) <= {"COMPLETE", "PRUNED"}  # 2 + 1: never more than asked
    assert table["user_attrs_worker"].nunique() == 2  # both processes ran trials of the one study
    assert set(table["params_lookback"]) <= {10, 20} and table["params_units"].between(4, 8).all()
    assert doc["storage"] == f"sqlite:///{tmp_path / 'study' / 'study.db'}" and doc["trials"] == 3
    assert doc["given"] is None  # the options given (64 units, lookback 48) lie outside this space: not tried
    best = table.loc[table["value"].idxmin()]
    assert doc["best"]["number"] == best["number"] and doc["best"]["value"] == pytest.approx(best["value"], rel=1e-12)
    folds = json.loads(best["user_attrs_val_mse_folds"])
    assert doc["folds"] == 2 and best["value"] == pytest.approx(np.mean(folds), rel=1e-12)  # the two blocks' mean
    run = tmp_path / "runs" / f"sine-lstm-trial{int(best['number'])}"
    assert doc["run"] == str(run) and (run / "run.toml").is_file() and (tmp_path / "study" / "trials.png").is_file()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val"]["model"]["mse"] == pytest.approx(folds[0], rel=1e-9)  # the usual split, trained again
    options = json.loads((run / "config.json").read_text())["options"]
    assert options["window"]["lookback"] == best["params_lookback"] and options["model"]["units"] == best["params_units"]

    again = run_ok("tune", sine_csv, "--trials", "4", *where).stdout
    assert "3 finished trials so far, searching to 4" in again
    table = pd.read_csv(tmp_path / "study" / "trials.csv")
    assert len(table) == 4
    drawn = table[["params_units", "params_learning_rate", "params_lookback"]].apply(tuple, axis=1)
    assert drawn.nunique() == 4  # a resumed study draws new points, not the first ones again

    other = runner.invoke(app, ["tune", str(sine_csv), "--trials", "5", "--horizon", "2",
                                *map(str, where)])
    assert other.exit_code == 1
    assert other.stderr.startswith(f"Error: study sine-lstm in sqlite:///{tmp_path / 'study' / 'study.db'} was "
                                   "started with other options (horizon 1 -> 2); its trials would not compare")


def test_a_timeout_that_is_not_a_positive_number_is_one_error_line(sine_csv, tmp_path):
    for timeout in ("nan", "-1"):
        result = runner.invoke(app, ["tune", str(sine_csv), "--trials", "1", "--timeout", timeout, "--runs-dir",
                                     str(tmp_path / "runs")])
        assert (result.exit_code, result.stderr) == (1, "Error: --trials and --jobs must be at least 1 and --timeout "
                                                        f"positive (got --trials 1, --jobs 1, --timeout {float(timeout)})\n")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("storage, message", [
    ("sqlite:///{tmp}/no/such/folder/x.db", "cannot open --storage sqlite:///{tmp}/no/such/folder/x.db ((sqlite3."
     "OperationalError) unable to open database file); check the URL, that the server is reachable and the database "
     "exists, or use the default SQLite file"),
    ("notaurl", "cannot open --storage notaurl (Could not parse SQLAlchemy URL from given URL string); check the URL"),
])
def test_an_unreachable_storage_is_one_error_line(sine_csv, tmp_path, storage, message):
    storage = storage.format(tmp=tmp_path)
    result = runner.invoke(app, ["tune", str(sine_csv), "--storage", storage, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: " + message.format(tmp=tmp_path))
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, message", [
    (["--study", "a/b c"], "--study 'a/b c' must be a plain name (letters, digits, . _ -, not starting with a dot)"),
    (["--jobs", "1000"], "--jobs 1000 is more than 4 workers per core"),
    (["--folds", "5"], "--folds 5 does not fit {data}: with validation blocks of 60 rows the oldest fold would train "
                       "on 40 rows, fewer than lookback + horizon = 49; use --folds 4 or less, or a smaller --lookback"),
    (["--space", "{space}"], "`dropout` = -0.5 in the search space cannot be trained: --dropout must lie in [0, 1) "
                             "(got -0.5)"),
])
def test_tune_mistakes_stop_before_any_trial(sine_csv, tmp_path, args, message):
    space = tmp_path / "space.toml"
    space.write_text("dropout = {low = -0.5, high = 0.1}\n")
    result = runner.invoke(app, ["tune", str(sine_csv), "--out-dir", str(tmp_path / "s"),
                                 *[a.format(space=space) for a in args]])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: " + message.format(data=sine_csv))
    assert not (tmp_path / "s").exists() and not (tmp_path / "tune").exists()


def test_a_bad_space_file_stops_before_any_trial(sine_csv, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text("unit = [4]\n")
    result = runner.invoke(app, ["tune", str(sine_csv), "--space", str(space), "--out-dir", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: unknown key `unit` in {space} (did you mean `units`?)")
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_a_new_study_tries_the_options_given_first_and_says_how_the_pick_compares(sine_csv, tmp_path):
    space = tmp_path / "space.toml"
    space.write_text("units = [4, 8]\nlookback = [24, 48]\n")
    result = run_ok("tune", sine_csv, "--space", space, "--units", "8", "--trials", "2", "--out-dir",
                    tmp_path / "study", "--runs-dir", tmp_path / "runs", *FIXED)
    table = pd.read_csv(tmp_path / "study" / "trials.csv").set_index("number")
    assert (table.loc[0, "params_units"], table.loc[0, "params_lookback"]) == (8, 48)  # --units 8, the auto lookback
    assert table.loc[0, "user_attrs_defaults"] and table["user_attrs_defaults"].sum() == 1
    given = table.loc[0, "value"]
    assert given >= table["value"].min()
    assert ("by the mean validation MSE of 2 blocks" in result.stdout and
            f"(the options given (trial 0) {report_fmt(given)}, best reference" in result.stdout)


@pytest.mark.slow
def test_tune_reads_its_table_of_a_config_file_and_keeps_the_automatic_lookback(sine_csv, tmp_path):
    (tmp_path / "space.toml").write_text("units = [4, 6]\n")
    config = tmp_path / "experiment.toml"
    config.write_text(f'data = "{sine_csv}"\ncell = "rnn"\nepochs = 2\n\n[tune]\ntrials = 2\nstudy = "cfg"\nfolds = 1\n'
                      f'space = "{tmp_path / "space.toml"}"\nout_dir = "{tmp_path / "study"}"\n'
                      f'runs_dir = "{tmp_path / "runs"}"\n\n[backtest]\nfolds = 2\n')
    doc = json.loads(run_ok("tune", "--config", config, "--json").stdout)
    assert (doc["study"], doc["trials"], set(doc["best"]["params"])) == ("cfg", 2, {"units"})
    assert doc["folds"] == 1  # [tune]'s own, not the default 3 nor [backtest]'s 2
    options = json.loads((tmp_path / "runs" / f"cfg-trial{doc['best']['number']}" / "config.json").read_text())
    assert options["options"]["window"]["lookback"] == 48  # the automatic lookback of an hourly series: 2 days


@pytest.mark.slow
@pytest.mark.parametrize("transform", ["none", "diff"])
def test_the_pruner_sees_the_validation_mse_in_original_units(sine_csv, transform):
    from forecast.backend import start_backend
    from forecast.options import run_configs
    from forecast.prepare import prepare
    from forecast.training import train_cell

    cfg = run_configs(str(sine_csv), "gru", lookback=20, units=4, epochs=3, patience=0, linear=False,
                      anchor="none", transform=transform, horizon=3)[0]
    prep = prepare(cfg.data, cfg.window)
    seen = []
    result = train_cell(prep, cfg, start_backend(), lambda e, logs, s: seen.append(logs["val_mse_units"]),
                        score_epochs=True)
    assert len(seen) == 3  # the last epoch is the model kept (--patience 0): its score is the run's
    assert seen[-1] == pytest.approx(result.metrics["val"]["model"]["mse"], rel=1e-6)


@pytest.mark.slow
def test_ctrl_c_keeps_the_study_and_the_same_command_continues_it(sine_csv, tmp_path):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    args = ["tune", str(sine_csv), "--space", str(space), "--out-dir", str(tmp_path / "study"), "--runs-dir",
            str(tmp_path / "runs"), "--epochs", "8", "--patience", "0", "--folds", "2"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "forecast", *args, "--trials", "50"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    def finished() -> int:  # read-only: opening the study through Optuna would race the tune creating it
        try:
            with sqlite3.connect(f"file:{tmp_path / 'study' / 'study.db'}?mode=ro", uri=True) as db:
                return db.execute("select count(*) from trials where state in ('COMPLETE', 'PRUNED')").fetchone()[0]
        except sqlite3.Error:
            return 0

    deadline = time.time() + 240
    while finished() < 1 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == ("Interrupted: the study keeps its finished trials (a trial under way is "
                                            "lost); run the same command to continue it")
    kept = finished()
    assert kept >= 1
    again = run_ok(*args, "--trials", kept + 1).stdout  # the same command again (in this process: no second start-up)
    assert f"{kept} finished trials so far, searching to {kept + 1}" in again


def test_a_data_file_name_with_spaces_makes_a_valid_default_study_name(sine_csv, tmp_path):
    data = tmp_path / "my data.csv"
    data.write_bytes(sine_csv.read_bytes())
    space = tmp_path / "space.toml"
    space.write_text("dropout = {low = -0.5, high = 0.1}\n")
    result = runner.invoke(app, ["tune", str(data), "--space", str(space), "--out-dir", str(tmp_path / "s")])
    assert result.exit_code == 1  # the space's mistake, not the name made from the file's: my_data-lstm is fine
    assert result.stderr.startswith("Error: `dropout` = -0.5 in the search space cannot be trained")
