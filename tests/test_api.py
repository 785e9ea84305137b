"""The Python API: the same numbers as the CLI, DataFrames in and out, ForecastError and ForecastWarning, a light
`import forecast`, and the example of docs/api.md run as written."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import forecast
from tests.conftest import ROOT, TINY
from tests.conftest import cli_ok as run_ok

OPTIONS = {k.strip("-").replace("-", "_"): float(v) if "." in v else int(v)
           for k, v in zip(TINY[::2], TINY[1::2], strict=True)}


def test_import_forecast_loads_neither_keras_nor_pandas():
    code = "import sys, forecast; print(sorted(m for m in ('keras', 'tensorflow', 'pandas', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_bad_options_and_data_raise_forecast_error(tmp_path):
    with pytest.raises(forecast.ForecastError, match=r"^unknown option `epoch` \(did you mean `epochs`\?\)"):
        forecast.train("x.csv", epoch=3)
    with pytest.raises(forecast.ForecastError, match=r"^--cell must be one of rnn, lstm, gru, all \(got 'cnn'\)$"):
        forecast.backtest("x.csv", cell="cnn")
    with pytest.raises(forecast.ForecastError, match=r"^data must be a CSV path or a pandas DataFrame \(got int\)$"):
        forecast.train(3, runs_dir=tmp_path / "runs", verbose=False)
    with pytest.raises(forecast.ForecastError, match=r"^the DataFrame has no rows; pass at least one row$"):
        forecast.train(pd.DataFrame({"y": []}), runs_dir=tmp_path / "runs", verbose=False)
    with pytest.raises(forecast.ForecastError, match="does not exist"):
        forecast.load_run(tmp_path / "nothing")
    with pytest.raises(forecast.ForecastError, match=r"^path must be a path \(got 5\)$"):
        forecast.load_run(5)
    with pytest.raises(forecast.ForecastError, match=r"^runs names no run; pass a Run, a run folder, or a list"):
        forecast.predict([], pd.DataFrame({"y": [1.0]}))
    with pytest.raises(forecast.ForecastError, match=r"^steps must be a whole number \(got '3'\)$"):
        forecast.predict(tmp_path, pd.DataFrame({"y": [1.0]}), steps="3")
    with pytest.raises(forecast.ForecastError, match=r"^verbose must be true or false \(got 'no'\)$"):
        forecast.compare(tmp_path, verbose="no")
    with pytest.raises(forecast.ForecastError, match=r"^mlflow must be True \(a local store in ./mlruns\) or a "):
        forecast.train("x.csv", mlflow=3)
    frame = pd.DataFrame({"value": [1.0, 2.0]}, index=pd.date_range("2024-01-01", periods=2, name="value"))
    with pytest.raises(forecast.ForecastError, match=r"^the DataFrame's time index is named `value` like one of"):
        forecast.train(frame, runs_dir=tmp_path / "runs", verbose=False)
    with pytest.raises(forecast.ForecastError, match=r"^every numeric column of dataframe is a feature \(value\)"):
        forecast.train(frame.rename_axis("day"), features="value", runs_dir=tmp_path / "runs", verbose=False)
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_the_cli_and_the_api_give_identical_numbers(sine_csv, tmp_path):
    run_ok("train", sine_csv, "--cell", "gru", "--horizon", "3", "--runs-dir", tmp_path / "cli", *TINY)
    run_ok("predict", tmp_path / "cli" / "sine-gru", sine_csv, "--out", tmp_path / "p.csv", "--steps", "5")
    frame = pd.read_csv(sine_csv, parse_dates=["timestamp"])
    run = forecast.train(frame, cell="gru", horizon=3, runs_dir=tmp_path / "api", verbose=False, **OPTIONS)
    assert isinstance(run, forecast.Run) and run.name == "dataframe-gru" and run.cell == "gru"
    cli = json.loads((tmp_path / "cli" / "sine-gru" / "metrics.json").read_text())
    assert run.metrics["test"] == cli["test"] and run.metrics["val"] == cli["val"]
    assert run.scores().loc["model", "mse"] == cli["test"]["model"]["mse"]
    assert list(run.scores().index) == ["model", "naive", "seasonal_naive", "seasonal_diff"]
    assert run.config.window.lookback == 20 and len(run.history) == 12

    table = run.predict(frame, steps=5)
    expected = pd.read_csv(tmp_path / "p.csv", dtype=str)  # the exact floats written, read by Python's float()
    assert len(table) == len(expected) and table["step"].max() == 5
    np.testing.assert_array_equal(table["forecast"].to_numpy(), expected["forecast"].map(float).to_numpy())
    assert json.loads((run.path / "config.json").read_text())["data"]["path"] == "(a pandas DataFrame)"
    assert "\ndata = " not in (run.path / "run.toml").read_text()

    table = forecast.compare([run, tmp_path / "cli" / "sine-gru"])
    assert list(table["run"]) == ["dataframe-gru", "sine-gru"] and table["test_mse"].nunique() == 1
    assert {"lookback", "horizon", "test_mase", "seasonal_diff_mse", "start_mase", "kept_start"} <= set(table.columns)
    assert table["start_mse"].iloc[0] == run.metrics["start"]["test"]["mse"]


@pytest.mark.slow
def test_a_datetime_index_is_the_time_column_and_notes_are_warnings(tmp_path):
    t = np.arange(300)
    frame = pd.DataFrame({"y": np.sin(2 * np.pi * t / 12)},
                         index=pd.date_range("2020-01-01", periods=300, freq="D", name="day"))
    frame.iloc[100, 0] = np.nan
    with pytest.warns(forecast.ForecastWarning, match=r"filled 1 missing values \(1 in `y`\)") as caught:
        runs = forecast.train(frame, cell=["rnn", "gru"], runs_dir=tmp_path, name="s", verbose=False,
                              epochs=np.int64(1), units=4)
    assert [r.name for r in runs] == ["s-rnn", "s-gru"]
    assert caught[0].filename == __file__  # the warning points at the caller's line, not inside the package
    assert "(Python API)" in json.loads((runs[0].path / "config.json").read_text())["command"]
    assert "\ndata =" not in (runs[0].path / "run.toml").read_text()  # a DataFrame has no path to repeat
    with pytest.raises(forecast.ForecastError, match=r'^part must be "test" or "val" \(got \'train\'\)$'):
        runs[0].scores("train")
    by_period = forecast.train(frame.ffill().to_period("D"), cell=["rnn"], runs_dir=tmp_path, name="p",
                               verbose=False, epochs=1, units=4)
    assert isinstance(by_period, list) and by_period[0].config.data.time_col == "day"  # a list asked, a list given
    # a cycle of 12 days: its training part shows no week
    assert runs[0].config.data.time_col == "day" and runs[0].metrics["test"]["season"] == 1
    assert json.loads((runs[0].path / "config.json").read_text())["season"]["reason"].startswith("D suggests 7, but ")
    folds = forecast.backtest(frame.ffill(), cell="rnn", folds=2, epochs=1, units=4, verbose=False)
    assert set(folds["fold"]) == {1, 2} and {"rnn", "recommended", "seasonal_naive"} <= set(folds["model"])
    # predict reads a DataFrame as train does: an index it cannot use and values it cannot represent are refused
    with pytest.raises(forecast.ForecastError, match=r"^the DataFrame's index holds durations \(a TimedeltaIndex\)"):
        runs[0].predict(frame.ffill().set_axis(pd.to_timedelta(t, unit="D")))
    with pytest.raises(forecast.ForecastError, match=r"^column `y` in dataframe holds complex numbers such as"):
        forecast.predict(runs[0].path, frame.ffill() + 1j)


@pytest.mark.slow
def test_the_example_in_docs_api_md_runs(tmp_path):
    code = "\n".join(re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "api.md").read_text(), flags=re.S))
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    (tmp_path / "example.py").write_text(code)
    out = subprocess.run([sys.executable, "example.py"], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("dataframe-gru 48\n")
    assert "unknown option `epoch` (did you mean `epochs`?)" in out.stdout
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["dataframe-gru", "dataframe-lstm", "dataframe-rnn"]
