"""The CLI end to end on small data: files, columns and numbers; every error path is one line, exit 1."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.cli import app
from tests.conftest import TINY
from tests.conftest import cli_ok as run_ok

runner = CliRunner()


def run_error(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    assert result.stdout == "" or "Error" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.slow
def test_train_all_writes_a_complete_run_per_cell(trained):
    runs = trained.runs
    assert sorted(p.name for p in runs.iterdir()) == ["sine-gru", "sine-lstm", "sine-rnn"]
    for cell in ("rnn", "lstm", "gru"):
        run = runs / f"sine-{cell}"
        assert {p.name for p in run.iterdir()} == {"model.keras", "config.json", "scaler.json", "metrics.json",
                                                   "history.csv", "test_predictions.csv", "val_predictions.csv",
                                                   "forecast.png", "run.toml"}
        meta = json.loads((run / "config.json").read_text())
        assert meta["options"]["model"]["cell"] == cell
        assert meta["options"]["data"]["target"] == "value" and meta["data"]["time_col"] == "timestamp"
        assert meta["data"]["split_rows"] == {"train": [0, 280], "val": [280, 340], "test": [340, 400]}
        assert meta["device"] == "cpu" and meta["versions"]["keras"].startswith("3.")
        history = pd.read_csv(run / "history.csv")
        assert list(history.columns) == ["epoch", "loss", "val_loss", "seconds"] and len(history) == 12
        assert (history["seconds"] > 0).all()
        # 280 windows x 12 epochs: too short to win back XLA's compile time, so --jit auto leaves it off
        assert meta["compute"] == {"jit": False, "precision": "float32",
                                   "cudnn": "none for rnn (SimpleRNN has no fused kernel)" if cell == "rnn"
                                   else "eligible (no GPU in use)"}
        metrics = json.loads((run / "metrics.json").read_text())["test"]
        # A clean sine wave is easy for any cell and hard for "tomorrow = today".
        assert metrics["model"]["mse"] < 0.1 * metrics["baselines"]["naive"]["mse"]
        assert metrics["baselines"]["naive"]["mse"] == pytest.approx(0.0489, rel=0.02)
        assert metrics["n_windows"] == 60
        preds = pd.read_csv(run / "test_predictions.csv")
        assert list(preds.columns) == ["origin", "step", "timestamp", "forecast", "actual", "error", "naive",
                                       "seasonal_naive", "seasonal_diff", "mean", "drift", "start"]
        assert len(preds) == 60 and preds["actual"].notna().all()
        assert preds["timestamp"].iloc[0] == "2024-01-15 04:00:00"  # row 340, the first test row
        assert ((preds["actual"] - preds["forecast"]) ** 2).mean() == pytest.approx(metrics["model"]["mse"])
    assert "naive" in trained.stdout and "sine-lstm" in trained.stdout


@pytest.mark.slow
def test_identical_split_scaling_and_seed_across_cells(trained):
    scalers = {(trained.runs / f"sine-{c}" / "scaler.json").read_text() for c in ("rnn", "lstm", "gru")}
    naive_mse = {json.loads((trained.runs / f"sine-{c}" / "metrics.json").read_text())["test"]["baselines"]["naive"]["mse"]
                 for c in ("rnn", "lstm", "gru")}
    assert len(scalers) == 1 and len(naive_mse) == 1


@pytest.mark.slow
def test_compare_plots_and_sorts_by_test_mse(trained, tmp_path):
    out = tmp_path / "compare.png"
    result = run_ok("compare", "--runs-dir", trained.runs, "--out", out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mse = {c: json.loads((trained.runs / f"sine-{c}" / "metrics.json").read_text())["test"]["model"]["mse"]
           for c in ("rnn", "lstm", "gru")}
    order = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ sine-")]
    assert order == [f"sine-{c}" for c in sorted(mse, key=mse.get)]
    # the three cells' one untrained start, once, in its place by test MSE
    start = json.loads((trained.runs / "sine-rnn" / "metrics.json").read_text())["start"]["test"]["mse"]
    rows = [line.split()[1] for line in result.stdout.splitlines() if line.startswith(("│ sine-", "│ start"))]
    assert rows == [name for name, _ in sorted({**{f"sine-{c}": v for c, v in mse.items()}, "start": start}.items(),
                                               key=lambda kv: kv[1])]


@pytest.mark.slow
def test_compare_groups_runs_by_data_target_and_horizon(trained, tmp_path):
    from tests.conftest import copy_run

    other = copy_run(trained.runs / "sine-gru", tmp_path / "runs" / "sine-gru-h2")
    for name in ("config.json", "metrics.json"):  # the same data, another horizon: not comparable
        (other / name).write_text((other / name).read_text().replace('"horizon": 1', '"horizon": 2'))
    # the same file, target and horizon, another test part (as --test-frac 0.2 gives): its scores do not compare
    split = copy_run(trained.runs / "sine-rnn", tmp_path / "runs" / "sine-rnn-split")
    config = json.loads((split / "config.json").read_text())
    config["data"]["split_rows"]["test"][0] -= 20
    (split / "config.json").write_text(json.dumps(config))
    out = tmp_path / "compare.png"
    result = run_ok("compare", trained.runs / "sine-lstm", trained.runs / "sine-rnn", other, split, "--out", out)
    text = " ".join(result.stdout.split())
    assert text.count("Runs by test MSE on sine.csv, target value, horizon 1") == 2
    assert text.count("Runs by test MSE on sine.csv, target value, horizon 2") == 1
    assert "3 groups of runs (data, target, series, test rows, horizon): scores compare within one" in text
    rows = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ sine-")]
    assert sorted(rows[:2]) == ["sine-lstm", "sine-rnn"] and rows[2:] == ["sine-gru-h2", "sine-rnn-split"]
    # the automatic choices and the lookback of each run
    assert "│ sine-lstm │ lstm │ global, anchor naive + linear │       20 │" in result.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    elsewhere = copy_run(trained.runs / "sine-rnn", tmp_path / "runs" / "other-rnn")
    meta = json.loads((elsewhere / "config.json").read_text())
    meta["data"]["path"] = str(tmp_path / "other.csv")
    (elsewhere / "config.json").write_text(json.dumps(meta))
    picked = json.loads(run_ok("compare", "--runs-dir", tmp_path / "runs", "--data", trained.csv, "--json",
                               "--out", out).stdout)
    assert [r["run"] for r in picked["runs"]] == ["sine-gru-h2", "sine-rnn-split"]
    by_name = json.loads(run_ok("compare", "--runs-dir", tmp_path / "runs", "--data", "other.csv", "--json",
                                "--out", out).stdout)
    assert [r["run"] for r in by_name["runs"]] == ["other-rnn"]
    missing = runner.invoke(app, ["compare", "--runs-dir", str(tmp_path / "runs"), "--data", "nope.csv"])
    assert missing.exit_code == 1 and missing.stderr == (
        "Error: none of the 3 runs was trained on nope.csv; their data files: other.csv, sine.csv; pass one of them "
        "to --data\n")


@pytest.mark.slow
def test_predict_every_origin_and_steps_beyond_the_end(trained, tmp_path):
    out, plot = tmp_path / "pred.csv", tmp_path / "pred.png"
    result = run_ok("predict", trained.runs / "sine-lstm", trained.csv, "--steps", "30", "--out", out, "--plot", plot)
    preds = pd.read_csv(out)
    assert list(preds.columns) == ["origin", "step", "timestamp", "forecast", "actual", "error", "naive",
                                   "seasonal_naive", "seasonal_diff"]
    # origins 19..398 forecast one step each; the last origin (row 399) forecasts 30 steps recursively
    assert len(preds) == 380 + 30 and preds["origin"].nunique() == 381
    future = preds[preds["actual"].isna()]
    assert len(future) == 30 and future["step"].tolist() == list(range(1, 31))
    assert future["timestamp"].iloc[0] == "2024-01-17 16:00:00" and future["timestamp"].iloc[-1] == "2024-01-18 21:00:00"
    # recursive forecasts of a clean sine stay on the wave
    truth = np.sin(2 * np.pi * np.arange(400, 430) / 20)
    assert np.abs(future["forecast"].to_numpy() - truth).max() < 0.25
    assert "model MSE" in result.stdout and "naive MSE" in result.stdout
    assert "seasonal diff m=24 MSE" in result.stdout
    # season 24 (hourly): the seasonal naive needs origins from row 23, the seasonal difference from row 24
    y = np.sin(2 * np.pi * np.arange(400) / 20)
    rows = preds.iloc[:10]  # origins 19..28, one step each
    assert rows["seasonal_naive"].isna().tolist() == [True] * 4 + [False] * 6
    assert rows["seasonal_diff"].isna().tolist() == [True] * 5 + [False] * 5
    assert rows["seasonal_naive"].iloc[4] == pytest.approx(y[0]) and rows["seasonal_diff"].iloc[5] == pytest.approx(
        y[24] + y[1] - y[0])
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_predict_on_another_series_with_a_renamed_target(trained, tmp_path):
    other = tmp_path / "other.csv"
    pd.DataFrame({"reading": 5 + 2 * np.sin(2 * np.pi * np.arange(60) / 20)}).to_csv(other, index=False)
    out = tmp_path / "p.csv"
    run_ok("predict", trained.runs / "sine-gru", other, "--target", "reading", "--out", out)
    preds = pd.read_csv(out)
    assert preds["origin"].tolist()[0] == 19 and preds["timestamp"].tolist()[-1] == 60  # row numbers
    assert preds["forecast"].between(-3, 10).all()


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["train", "--help"]])
def test_help_and_version_do_not_import_tensorflow(args):
    code = ("import sys; from typer.testing import CliRunner; from forecast.cli import app; "
            f"r = CliRunner().invoke(app, {args!r}); assert r.exit_code == 0; "
            "print(','.join(m for m in ('tensorflow', 'keras', 'pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_version_and_help_panels():
    from forecast import __version__

    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout == f"forecast {__version__}\n"
    top = " ".join(runner.invoke(app, ["--help"]).stdout.split())
    assert "compare them with simple and classical references" in top and "naive baseline" not in top
    text = runner.invoke(app, ["train", "--help"], terminal_width=100).stdout
    panels = [line.split("─")[1].strip() for line in text.splitlines() if line.startswith("╭─")]
    assert panels == ["Arguments", "Options", "Model", "Data", "Training", "Evaluation and search", "Speed", "Output"]
    for flag, panel in (("--lookback", "Model"), ("--id-col", "Data"), ("--patience", "Training"),
                        ("--interval", "Evaluation and search"), ("--jit", "Speed"), ("--runs-dir", "Output")):
        start = text.index(f"╭─ {panel} ")
        assert flag in text[start:text.index("╰", start)], (flag, panel)


def test_datasets_make_and_list(tmp_path):
    out = tmp_path / "sine.csv"
    run_ok("datasets", "make", "sine", "--rows", "100", "--noise", "0", "--seed", "0", "--out", out)
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["timestamp", "value"] and len(frame) == 100
    result = run_ok("datasets", "--dir", tmp_path)
    assert "sine.csv" in result.stdout and "100" in result.stdout and "h" in result.stdout


def test_shipped_datasets_are_listed():
    result = runner.invoke(app, ["datasets", "--dir", str(Path(__file__).parent.parent / "datasets")],
                           catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name, rows, freq in (("electricity_demand_halfhourly.csv", "4032", "30min"),
                             ("msft_daily.csv", "7983", "B"), ("sine.csv", "2000", "h"),
                             ("births_by_state_daily.csv.xz", "372864", "D (long table)"),
                             ("nyc_airport_weather_hourly.csv.gz", "26115", "h (long table)")):
        line = next(line for line in result.stdout.splitlines() if name in line)
        assert rows in line and freq in line


def test_bad_flag_is_exit_2(tmp_path):
    result = runner.invoke(app, ["train", str(tmp_path / "x.csv"), "--cell", "transformer"])
    assert result.exit_code == 2 and "transformer" in result.output


def test_predict_needs_a_run_and_a_csv(tmp_path):
    result = runner.invoke(app, ["predict", str(tmp_path / "runs" / "sine-lstm")], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "Missing argument 'run'" in result.output


@pytest.mark.slow
def test_predict_with_several_runs_averages_their_forecasts(trained, tmp_path):
    runs = [trained.runs / f"sine-{cell}" for cell in ("rnn", "gru")]
    for run, out in zip(runs, ("a.csv", "b.csv"), strict=True):
        run_ok("predict", run, trained.csv, "--out", tmp_path / out, "--steps", "3")
    result = run_ok("predict", *runs, trained.csv, "--out", tmp_path / "mean.csv", "--steps", "3",
                    "--plot", tmp_path / "mean.png")
    a, b, mean = (pd.read_csv(tmp_path / f) for f in ("a.csv", "b.csv", "mean.csv"))
    assert list(mean.columns) == ["origin", "step", "timestamp", "forecast", "actual", "error", "naive",
                                  "seasonal_naive", "seasonal_diff", "forecast_sine-rnn", "forecast_sine-gru"]
    assert len(mean) == len(a) and mean["step"].iloc[-3:].tolist() == [1, 2, 3]
    np.testing.assert_allclose(mean["forecast"], (a["forecast"] + b["forecast"]) / 2)
    np.testing.assert_allclose(mean["forecast_sine-gru"], b["forecast"])
    known = mean.dropna(subset=["actual"])
    line = next(line for line in result.stdout.splitlines() if line.startswith("where "))
    assert f"model MSE {np.mean(known['error'] ** 2):.4g}" in line
    assert "(the mean of 2 runs: sine-rnn, sine-gru)" in result.stdout
    assert (tmp_path / "mean.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_without_runs(tmp_path):
    assert run_error("compare", "--runs-dir", tmp_path) == (
        f"Error: no runs in {tmp_path}; train some with `forecast train DATA.csv --cell all` or name run folders")


@pytest.mark.slow
def test_features_are_inputs_and_unknown_in_the_future(multi_csv, tmp_path):
    runs = tmp_path / "runs"
    run_ok("train", multi_csv, "--target", "sales", "--features", "price", "--lookback", "10", "--horizon", "2",
           "--units", "4", "--epochs", "2", "--runs-dir", runs, "--name", "feat")
    meta = json.loads((runs / "feat" / "config.json").read_text())
    assert meta["data"]["features"] == ["price"] and meta["data"]["time_col"] is None
    assert json.loads((runs / "feat" / "scaler.json").read_text())["columns"] == ["sales", "price"]
    assert run_error("predict", runs / "feat", multi_csv, "--steps", "5") == (
        "Error: --steps 5 exceeds the run's horizon (2) and the run reads input features (price) whose future "
        "values are unknown; use --steps 2 or less")
    out = tmp_path / "p.csv"
    run_ok("predict", runs / "feat", multi_csv, "--steps", "1", "--out", out)
    assert pd.read_csv(out)["step"].iloc[-1] == 1
    # the same explicit name again is refused before any training, and nothing is left behind
    assert run_error("train", multi_csv, "--target", "sales", "--runs-dir", runs, "--name", "feat") == (
        f"Error: run folder {runs / 'feat'} already exists; choose another --name or remove it")
    assert sorted(p.name for p in runs.iterdir()) == ["feat"]


@pytest.mark.slow
def test_patience_zero_keeps_the_last_epoch(trained):
    metrics = json.loads((trained.runs / "sine-rnn" / "metrics.json").read_text())
    assert metrics["model_epoch"] == metrics["epochs_run"] == 12


def test_python_dash_m_forecast():
    out = subprocess.run([sys.executable, "-m", "forecast", "--help"], capture_output=True, text=True, check=True)
    assert "train" in out.stdout and "predict" in out.stdout


def _options(*command: str) -> set[str]:
    import typer

    group = typer.main.get_command(app)
    for name in command:
        group = group.commands[name]
    return {opt for param in group.params for opt in param.opts}


def test_train_and_backtest_share_every_data_model_and_training_option():
    from forecast.cli import RUN_OPTIONS

    train, backtest = _options("train"), _options("backtest")
    shared = {f"--{name.replace('_', '-')}" for name in RUN_OPTIONS} - {"--data"} | {"data", "-c"}
    assert shared <= train and shared <= backtest
    assert train - backtest == {"--parallel", "--runs-dir", "--name", "--resume", "--tensorboard", "--mlflow",
                                "--mlflow-uri"}
    assert backtest - train == {"--folds", "--out", "--plot", "--forecasts"}


def test_run_options_become_configs_explicitly():
    from forecast.cli import CellChoice, run_options
    from forecast.config import Dedupe, DeviceChoice, Fill, Normalize

    configs = run_options(Path("x.csv"), cell=[CellChoice.gru, CellChoice.all], features=["a,b", " c"],
                          delimiter="tab", lookback=7, units=5, dedupe=Dedupe.sum, normalize=Normalize.window,
                          fill=Fill.drop, device=DeviceChoice.cpu, steps_per_epoch=3)
    assert [c.model.cell.value for c in configs] == ["gru", "rnn", "lstm"]
    data = configs[0].data
    assert (data.path, data.features, data.delimiter, data.dedupe, data.normalize, data.fill) == (
        "x.csv", ("a", "b", "c"), "\t", Dedupe.sum, Normalize.window, Fill.drop)
    assert configs[0].window.lookback == 7 and configs[0].model.units == 5
    assert configs[0].train.device is DeviceChoice.cpu and configs[0].train.steps_per_epoch == 3
    assert len({(c.data, c.window, c.train) for c in configs}) == 1  # every cell sees the same options


@pytest.mark.parametrize("command", ["train", "backtest", "compare", "predict", "info", "datasets"])
def test_flags_show_no_value_and_normalize_states_its_rule(command):
    help_text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "300"}).stdout
    assert "<bool>" not in help_text  # `--resume true` does not work: flags take no value
    if command in ("train", "backtest"):
        assert ("auto (chosen by measurement): window when the training part wanders like a random walk (variance "
                "ratio above 0.5 at the lookback lag) or over 25% of the validation part lies outside the training "
                "range, else global.") in " ".join(help_text.replace("│", " ").split())


def test_the_start_row_is_the_reference_plus_the_linear_path_that_every_cell_began_at(trained):
    import keras

    from forecast import artifacts
    from forecast.inference import predict_windows
    from forecast.prepare import prepare

    runs = {cell: trained.runs / f"sine-{cell}" for cell in ("rnn", "lstm", "gru")}
    starts = {cell: json.loads((run / "metrics.json").read_text())["start"] for cell, run in runs.items()}
    first = starts["rnn"]
    assert all(s["test"] == first["test"] and s["val"] == first["val"] for s in starts.values())  # one start
    assert first["val_loss"] > 0 and first["train_loss"] > 0 and not first["kept"]  # --patience 0: the last epoch
    info = artifacts.read_run(runs["lstm"])
    prep = prepare(info.config.data, info.config.window)
    model = keras.saving.load_model(runs["lstm"] / "model.keras", safe_mode=True)
    model.get_layer("correction").scale.assign(0.0)  # the trained model without its cell's correction
    for part in ("val", "test"):
        table = pd.read_csv(runs["lstm"] / f"{part}_predictions.csv")
        start = table["start"].to_numpy().reshape(-1, info.config.window.horizon)
        # the linear path never moved while the cell trained: reference + linear start, as the start column says
        np.testing.assert_allclose(prep.to_target(predict_windows(model, prep.windows[part]), prep.windows[part].origins),
                                   start, rtol=1e-6, atol=1e-6)
        assert first[part]["mse"] == pytest.approx(np.mean((table["actual"] - table["start"]) ** 2))
    assert "start (untrained)" in trained.stdout


@pytest.mark.slow
def test_train_all_scores_the_ensemble_and_marks_the_model_validation_recommends(trained):
    from forecast.baselines import REFERENCES, SIMPLE

    runs = {cell: json.loads((trained.runs / f"sine-{cell}" / "metrics.json").read_text())
            for cell in ("rnn", "lstm", "gru")}
    metrics = runs["rnn"]
    assert all(m["ensemble"] == metrics["ensemble"] and m["recommended"] == metrics["recommended"]
               for m in runs.values())
    assert metrics["ensemble"]["members"] == ["rnn", "lstm", "gru"]
    for part in ("val", "test"):  # the ensemble is the mean of the cells' forecasts of the same windows
        tables = [pd.read_csv(trained.runs / f"sine-{cell}" / f"{part}_predictions.csv") for cell in runs]
        mean = np.mean([t["forecast"] for t in tables], axis=0)
        assert metrics["ensemble"][part]["mse"] == pytest.approx(np.mean((tables[0]["actual"] - mean) ** 2))
        for cell, table in zip(runs, tables, strict=True):
            assert runs[cell][part]["model"]["mse"] == pytest.approx(np.mean(table["error"] ** 2))
    chosen = metrics["recommended"]
    val_mae = chosen["val_mae"]
    assert set(val_mae) == {"rnn", "lstm", "gru", "ensemble", *REFERENCES, "drift", "mean"}  # drift, mean: candidates
    for name in ("naive", "drift", "mean"):
        assert val_mae[name] == pytest.approx(metrics["val"]["baselines"][name]["mae"])
    assert val_mae["lstm"] == pytest.approx(runs["lstm"]["val"]["model"]["mae"])
    best = min(val_mae, key=val_mae.get)
    # a clean sine: the cells beat every reference by far, and the test says so
    assert best not in REFERENCES and chosen["model"] == best == chosen["best_model"]
    # the simple models are ranked over the training and validation windows together
    pooled, windows = chosen["simple_mae"], chosen["simple_windows"]
    assert set(pooled) == {*REFERENCES, "drift", "mean"} and windows > 4 * metrics["val"]["n_windows"]
    assert chosen["diebold_mariano"] < -1 and chosen["best_reference"] == min(pooled, key=pooled.get)
    ref = {"naive": "naive", "seasonal_naive": "seasonal m=24", "seasonal_diff": "seasonal diff m=24", "drift": "drift",
           "mean": "mean"}[chosen["best_reference"]]
    assert (f"* recommended: {best}, the lowest validation MAE, better than {ref}, the simple model with the lowest "
            f"MAE over {windows:,} training and validation windows, by more than one standard error (Diebold-Mariano "
            f"statistic {chosen['diebold_mariano']:.2f})") in trained.stdout
    assert f"{best} *" in trained.stdout


@pytest.mark.slow
def test_predict_says_when_validation_preferred_a_reference(trained, tmp_path):
    from tests.conftest import copy_run

    run = copy_run(trained.runs / "sine-lstm", tmp_path / "copy")
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["recommended"]["model"] = "seasonal_diff"
    (run / "metrics.json").write_text(json.dumps(metrics))
    result = run_ok("predict", run, trained.csv, "--out", tmp_path / "p.csv")
    assert ("note: validation recommends the seasonal diff m=24 reference over copy (`recommended` in its "
            "metrics.json); its forecasts are the seasonal_diff column") in result.stdout
    plain = run_ok("predict", trained.runs / "sine-lstm", trained.csv, "--out", tmp_path / "q.csv")
    chosen = json.loads((trained.runs / "sine-lstm" / "metrics.json").read_text())["recommended"]["model"]
    assert ("note:" in plain.stdout) == (chosen in ("naive", "seasonal_naive", "seasonal_diff", "drift", "mean"))
    metrics["recommended"]["model"] = "drift"  # drift and mean are candidates too: predict then writes their column
    (run / "metrics.json").write_text(json.dumps(metrics))
    result = run_ok("predict", run, trained.csv, "--out", tmp_path / "d.csv")
    assert "its forecasts are the drift column" in result.stdout and "drift MSE" in result.stdout
    table = pd.read_csv(tmp_path / "d.csv")
    assert "drift" in table.columns and "mean" not in table.columns
    data, row = pd.read_csv(trained.csv), table.dropna(subset=["drift"]).iloc[-1]
    lookback = json.loads((run / "config.json").read_text())["options"]["window"]["lookback"]
    y, t = data["value"].to_numpy(), int(np.flatnonzero(pd.to_datetime(data["timestamp"]) == row["origin"])[0])
    # the drift over the window: y[t] + h (y[t] - y[t-L+1]) / (L-1), from the file's values
    assert row["drift"] == pytest.approx(y[t] + row["step"] * (y[t] - y[t - lookback + 1]) / (lookback - 1))


def test_predict_on_the_training_file_scores_the_runs_own_test_windows(sine_csv, tmp_path):
    """At a horizon above one, forecasts from validation origins reach into the test part too; the note counts only
    the windows the run's test score counts, and reproduces that score."""
    import re

    run_ok("train", sine_csv, "--cell", "gru", "--horizon", "3", "--runs-dir", tmp_path, "--name", "h3", *TINY)
    result = run_ok("predict", tmp_path / "h3", sine_csv, "--out", tmp_path / "p.csv")
    test = json.loads((tmp_path / "h3" / "metrics.json").read_text())["test"]
    assert test["n_windows"] == 60 - 3 + 1
    assert ("on its test windows alone (the 58 whose 3-step targets lie in its test part, from 2024-01-15 "
            "04:00:00, as its test score counts them): model MSE ") in result.stdout
    model_mse, naive_mse = map(float, re.search(r"model MSE (\S+), naive MSE (\S+)\n", result.stdout).groups())
    assert model_mse == pytest.approx(test["model"]["mse"], rel=1e-3)
    assert naive_mse == pytest.approx(test["baselines"]["naive"]["mse"], rel=1e-3)


@pytest.mark.slow
def test_predict_last_k_origins_and_the_in_sample_part_of_the_training_file(trained, tmp_path):
    run = trained.runs / "sine-lstm"
    full = run_ok("predict", run, trained.csv, "--out", tmp_path / "all.csv")
    meta = json.loads((run / "config.json").read_text())["data"]
    metrics = json.loads((run / "metrics.json").read_text())["test"]
    test_rows = meta["split_rows"]["test"][1] - meta["split_rows"]["test"][0]
    known = len(pd.read_csv(tmp_path / "all.csv").dropna(subset=["actual"]))
    assert (f"sine.csv is the file sine-lstm was trained on: {known - test_rows} of the {known} scored values lie in "
            f"its training and validation rows (in-sample, the model saw them); on its test windows alone (the "
            f"{test_rows} whose 1-step targets lie in its test part, from ") in full.stdout
    import re

    model_mse, naive_mse = map(float, re.search(r"test windows alone .*: model MSE (\S+), naive MSE (\S+)\n",
                                                full.stdout).groups())
    assert model_mse == pytest.approx(metrics["model"]["mse"], rel=1e-3)  # the run's own test score, recomputed
    assert naive_mse == pytest.approx(metrics["baselines"]["naive"]["mse"], rel=1e-3)
    last = run_ok("predict", run, trained.csv, "--out", tmp_path / "last.csv", "--last", "3", "--steps", "2")
    table, everything = pd.read_csv(tmp_path / "last.csv"), pd.read_csv(tmp_path / "all.csv")
    assert table["origin"].nunique() == 3 and len(table) == 2 + 2  # two one-step origins, then two future steps
    assert table["origin"].unique().tolist() == everything["origin"].unique()[-3:].tolist()
    np.testing.assert_allclose(table["forecast"].iloc[:2], everything["forecast"].iloc[-3:-1], rtol=1e-6)
    assert "in-sample" not in last.stdout  # the three latest origins are all in the test part


def test_datasets_json_is_one_document_on_stdout(tmp_path):
    result = runner.invoke(app, ["datasets", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["command"] == "datasets" and doc["folder"] == "datasets"
    sine = next(f for f in doc["files"] if f["file"] == "sine.csv")
    assert sine == {"file": "sine.csv", "columns": "timestamp, value", "rows": 2000, "start": sine["start"],
                    "end": sine["end"], "freq": "h"}
    assert "Datasets in datasets" in result.stderr  # the table is for people: on stderr
    made = runner.invoke(app, ["datasets", "make", "sine", "--rows", "50", "--out", str(tmp_path / "s.csv"), "--json"])
    assert json.loads(made.stdout) == {"command": "datasets make", "kind": "sine", "out": str(tmp_path / "s.csv"),
                                       "rows": 50, "series": 1}
    bad = runner.invoke(app, ["datasets", "--dir", str(tmp_path / "none"), "--json"])
    assert bad.exit_code == 1 and bad.stdout == "" and bad.stderr.startswith("Error: no CSV files in ")


@pytest.mark.slow
def test_json_of_train_backtest_compare_predict_and_info(trained, tmp_path):
    from tests.conftest import TINY

    result = run_ok("train", trained.csv, "--cell", "gru", "--runs-dir", tmp_path / "runs", "--json", *TINY)
    doc = json.loads(result.stdout)
    run = tmp_path / "runs" / "sine-gru"
    assert doc["command"] == "train" and doc["lookback"] == 20 and doc["horizon"] == 1 and doc["season"] == 24
    assert doc["runs"][0]["path"] == str(run) and doc["runs"][0]["cell"] == "gru"
    assert doc["runs"][0]["metrics"] == json.loads((run / "metrics.json").read_text())
    assert doc["recommended"]["model"] in ("gru", "naive", "seasonal_naive", "seasonal_diff") and doc["ensemble"] is None
    assert "Test scores in original units" in result.stderr
    bt = json.loads(run_ok("backtest", trained.csv, "--cell", "rnn", "--folds", "1", "--out", tmp_path / "b.csv",
                           "--plot", tmp_path / "b.png", "--forecasts", tmp_path / "f.csv", "--json", *TINY).stdout)
    assert bt["folds"] == 1 and {r["model"] for r in bt["summary"]} >= {"rnn", "recommended", "naive"}
    assert len(bt["per_fold"]) == len(pd.read_csv(tmp_path / "b.csv")) - 2 * len(bt["summary"])
    cmp = json.loads(run_ok("compare", "--runs-dir", trained.runs, "--out", tmp_path / "c.png", "--json").stdout)
    assert [r["run"] for r in cmp["runs"]] == sorted([r["run"] for r in cmp["runs"]],
                                                     key=lambda n: next(r["test"]["mse"] for r in cmp["runs"]
                                                                        if r["run"] == n))
    assert {r["cell"] for r in cmp["runs"]} == {"rnn", "lstm", "gru"} and set(cmp["runs"][0]["baselines"]) == {
        "naive", "seasonal_naive", "seasonal_diff"}
    pred = json.loads(run_ok("predict", trained.runs / "sine-lstm", trained.csv, "--out", tmp_path / "p.csv",
                             "--json").stdout)
    table = pd.read_csv(tmp_path / "p.csv")
    assert pred["forecasts"] == len(table) and pred["scores"]["n"] == int(table["actual"].notna().sum())
    assert pred["scores"]["model"]["mse"] == pytest.approx(float(np.mean(table["error"].dropna() ** 2)))
    info = json.loads(run_ok("info", "--json").stdout)
    assert info["command"] == "info" and info["versions"]["keras"].startswith("3.") and isinstance(info["devices"], list)


@pytest.mark.slow
def test_tensorboard_scalars_are_written_to_the_run_folder(sine_csv, tmp_path):
    import tensorflow as tf

    from tests.conftest import TINY

    run_ok("train", sine_csv, "--cell", "gru", "--runs-dir", tmp_path / "runs", "--tensorboard", *TINY)
    board = tmp_path / "runs" / "sine-gru" / "tensorboard"

    def scalars(part: str) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for events in (board / part).glob("events.out.tfevents.*"):
            for event in tf.compat.v1.train.summary_iterator(str(events)):
                for value in event.summary.value:
                    out.setdefault(value.tag, []).append(float(tf.make_ndarray(value.tensor)))
        return out

    train, validation = scalars("train"), scalars("validation")
    history = pd.read_csv(tmp_path / "runs" / "sine-gru" / "history.csv")
    assert len(train["epoch_loss"]) == len(validation["epoch_loss"]) == len(history) == 12
    np.testing.assert_allclose(train["epoch_loss"], history["loss"], rtol=1e-5)
    np.testing.assert_allclose(validation["epoch_loss"], history["val_loss"], rtol=1e-5)
    assert train["epoch_learning_rate"] == pytest.approx([0.01] * 12)
    assert len(train["epoch_seconds"]) == 12 and all(s > 0 for s in train["epoch_seconds"])
    config = json.loads((tmp_path / "runs" / "sine-gru" / "config.json").read_text())
    assert config["options"]["train"]["tensorboard"] is True


def test_tensorboard_without_the_package_is_an_error(sine_csv, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    result = runner.invoke(app, ["train", str(sine_csv), "--runs-dir", str(tmp_path / "runs"), "--tensorboard"])
    assert result.exit_code == 1 and not (tmp_path / "runs").exists()
    assert result.stderr.strip() == ('Error: --tensorboard needs the tensorboard package, which is not installed; '
                                     'pip install "forecast[track]" (or tensorboard), or drop --tensorboard')


@pytest.mark.parametrize("spread, scale", [(1.2, "linear"), (1000.0, "log")])
def test_loss_curves_use_a_log_scale_only_when_they_span_decades(spread, scale):
    from forecast import plots

    epochs = np.arange(1, 6)
    history = pd.DataFrame({"epoch": epochs, "loss": np.geomspace(spread, 1, 5), "val_loss": np.geomspace(spread, 1, 5)})
    _, (ax,) = plots.new_figure()
    plots.plot_losses(ax, {"a": history, "b": history}, {"a": "tab:blue", "b": "tab:orange"})
    assert ax.get_yscale() == scale
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]  # one entry per run


@pytest.mark.slow
def test_one_series_of_a_long_table_trains_and_predicts(tmp_path):
    from tests.conftest import TINY

    time = pd.date_range("2024-01-01", periods=300, freq="h").strftime("%Y-%m-%d %H:%M")
    t = np.arange(300)
    long = pd.concat([pd.DataFrame({"time": time, "station": name, "temp": level + np.sin(2 * np.pi * t / 24)})
                      for name, level in (("EWR", 10.0), ("JFK", 50.0))])
    csv = tmp_path / "weather.csv"
    long.sample(frac=1, random_state=0).to_csv(csv, index=False)  # rows in any order
    result = run_ok("train", csv, "--id-col", "station", "--series", "JFK", "--cell", "rnn", "--runs-dir",
                    tmp_path / "runs", *TINY)
    assert "kept series `JFK` (300 rows), one of the 2 in column `station`" in result.stderr
    run = tmp_path / "runs" / "weather-rnn"
    meta = json.loads((run / "config.json").read_text())
    assert meta["options"]["data"]["id_col"] == "station" and meta["options"]["data"]["series"] == ["JFK"]
    assert meta["data"]["rows"] == 300 and 'series = ["JFK"]' in (run / "run.toml").read_text()

    run_ok("predict", run, csv, "--out", tmp_path / "jfk.csv", "--last", "5")
    run_ok("predict", run, csv, "--series", "EWR", "--out", tmp_path / "ewr.csv", "--last", "5")
    jfk, ewr = pd.read_csv(tmp_path / "jfk.csv"), pd.read_csv(tmp_path / "ewr.csv")
    assert jfk["actual"].dropna().between(48, 52).all() and ewr["actual"].dropna().between(8, 12).all()
    single = tmp_path / "ewr_only.csv"
    long[long["station"] == "EWR"].drop(columns="station").to_csv(single, index=False)
    run_ok("predict", run, single, "--out", tmp_path / "single.csv", "--last", "5")
    np.testing.assert_allclose(pd.read_csv(tmp_path / "single.csv")["forecast"], ewr["forecast"])


def test_datasets_make_sensors_has_the_ground_truth_it_states(tmp_path):
    from forecast.datasets import SENSOR_SHIFT

    out = tmp_path / "sensors.csv"
    doc = json.loads(run_ok("datasets", "make", "sensors", "--series", "4", "--rows", "240", "--noise", "0",
                            "--out", out, "--json").stdout)
    assert (doc["rows"], doc["series"]) == (960, 4)
    table = pd.read_csv(out)
    assert list(table.columns) == ["timestamp", "sensor", "value", "maintenance"]
    assert sorted(table["sensor"].unique()) == ["s1", "s2", "s3", "s4"]
    levels = []
    for _, one in table.groupby("sensor"):
        t = np.arange(240)
        flag = one["maintenance"].to_numpy()
        assert set(flag) <= {0, 1} and (flag.reshape(10, 24) == flag.reshape(10, 24)[:, :1]).all()  # whole days
        design = np.column_stack([np.ones(240), np.sin(2 * np.pi * t / 24), flag])
        coef, residual, *_ = np.linalg.lstsq(design, one["value"].to_numpy(), rcond=None)
        assert np.abs(design @ coef - one["value"].to_numpy()).max() < 1e-5  # exactly level + amplitude * ...
        if flag.any():
            assert coef[2] / coef[1] == pytest.approx(SENSOR_SHIFT, rel=1e-5)
        levels.append(coef[0])
    assert len(set(np.round(levels, 3))) == 4  # each sensor its own level
    wrong = runner.invoke(app, ["datasets", "make", "sine", "--series", "3", "--out", str(tmp_path / "x.csv")])
    assert wrong.exit_code == 1 and wrong.stderr == (
        "Error: --series 3 makes a fleet of sensors; sine is one series: drop --series, or make sensors\n")
    for args, message in ((["sine", "--noise", "nan"], "--rows and --period must be at least 2, --noise at least 0 "
                                                    "and --series at least 1"),
                          (["randomwalk", "--drift", "inf"], "--drift must be a finite number (got inf); it is the "
                                                             "change per row"),
                          (["trend", "--drift", "1e308", "--rows", "50"], "--noise 0.05 and --drift 1e+308 over 50 rows "
                                                                          "reach values beyond the floating-point "
                                                                          "range; choose smaller ones")):
        wrong = runner.invoke(app, ["datasets", "make", *args, "--out", str(tmp_path / "x.csv")])
        assert (wrong.exit_code, wrong.stderr) == (1, f"Error: {message}\n")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.slow
def test_forecast_png_shows_the_latest_steps_of_a_long_test_part(sine_csv, tmp_path, monkeypatch):
    from forecast import figures, plots

    drawn = []
    monkeypatch.setattr(figures, "PLOT_STEPS", 10)  # a long test part, in miniature
    monkeypatch.setattr(plots, "plot_forecast", lambda ax, time, actual, forecast_time, forecast, **kw:
                        drawn.append((len(time), len(actual), len(forecast_time), kw["title"])))
    run_ok("train", sine_csv, "--runs-dir", tmp_path / "runs", "--name", "long", "--cell", "gru", "--lookback", "20",
           "--units", "4", "--epochs", "1")
    [(times, actual, forecasts, title)] = drawn
    assert (times, actual, forecasts) == (10, 10, 10)  # the last 10 test steps and their one-step forecasts
    assert title.startswith("gru on the test part of sine.csv (the last 10 of 60 steps): MSE ")
    assert (tmp_path / "runs" / "long" / "forecast.png").exists()


@pytest.mark.slow
def test_train_on_parquet_and_predict_on_feather(tmp_path):
    t = np.arange(300)
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=300, freq="h"), "load": np.sin(2 * np.pi * t / 24)})
    frame.to_parquet(tmp_path / "fleet.parquet")
    frame.to_feather(tmp_path / "fleet.feather")
    run_ok("train", tmp_path / "fleet.parquet", "--cell", "rnn", "--runs-dir", tmp_path / "runs", *TINY)
    config = json.loads((tmp_path / "runs" / "fleet-rnn" / "config.json").read_text())
    assert config["data"]["time_col"] == "time" and config["data"]["freq"] == "h"
    out = tmp_path / "p.csv"
    run_ok("predict", tmp_path / "runs" / "fleet-rnn", tmp_path / "fleet.feather", "--out", out)
    assert len(pd.read_csv(out)) == 300 - 20 + 1  # every origin with a full lookback, one step each


@pytest.mark.slow
def test_predict_past_the_horizon_computes_the_calendar_of_the_future_steps(sine_csv, tmp_path):
    run_ok("train", sine_csv, "--cell", "gru", "--calendar", "hour", "--horizon", "4", "--runs-dir", tmp_path, *TINY)
    run = tmp_path / "sine-gru"
    tables = {}
    for steps in (4, 20):
        out = tmp_path / f"p{steps}.csv"
        run_ok("predict", run, sine_csv, "--steps", str(steps), "--out", out)
        table = pd.read_csv(out)
        tables[steps] = table[table["origin"] == table["origin"].iloc[-1]]
    beyond = tables[20]
    assert len(beyond) == 20 and beyond["forecast"].notna().all()
    assert pd.to_datetime(beyond["timestamp"]).diff().dropna().eq(pd.Timedelta(hours=1)).all()
    # the first horizon of the recursion is the direct forecast from the last origin, calendar and all
    np.testing.assert_allclose(beyond["forecast"].to_numpy()[:4], tables[4]["forecast"].to_numpy(), rtol=1e-5)
    assert beyond["forecast"].std() > 0.1  # the cycle goes on past the horizon, not a flat line
