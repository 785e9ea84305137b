"""One global model across several series of a long table (--id-col): split, scaling, windows, scores, outputs
and predictions per series; and --calendar features."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.config import DataConfig, Normalize, WindowConfig
from forecast.datasets import make_sensors
from forecast.dates import auto_calendar, calendar_columns
from forecast.metrics import naive_scale
from forecast.prepare import prepare

runner = CliRunner()
TINY = ["--epochs", "2", "--units", "4", "--lookback", "24", "--horizon", "6", "--batch-size", "256"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Three hourly sensors of different lengths (the third too short for the windows) in one long table."""
    path = tmp_path_factory.mktemp("fleet") / "fleet.csv"
    table = make_sensors(3, 300, noise=0.1, seed=1)
    short = make_sensors(1, 40, noise=0.1, seed=2).assign(sensor="tiny")
    table = pd.concat([table[table["sensor"] != "s3"], table[table["sensor"] == "s3"].head(200), short])
    table.to_csv(path, index=False)
    return path


def test_each_series_is_split_and_scaled_on_its_own_and_no_window_crosses_series(fleet):
    prep = prepare(DataConfig(str(fleet), target="value", id_col="sensor", normalize=Normalize.global_),
                   WindowConfig(24, 6))
    assert [b.name for b in prep.blocks] == ["s1", "s2", "s3"]  # `tiny` (40 rows) is left out, with a note
    assert any("left out 1 series too short for --lookback 24 + --horizon 6" in n and "tiny" in n
               for n in prep.series.notes)
    raw = pd.read_csv(fleet)
    for block, rows in zip(prep.blocks, (300, 300, 200), strict=True):
        assert block.split.n == rows
        assert block.split.sizes() == {"train": rows - 2 * int(np.ceil(rows * 0.15)),
                                       "val": int(np.ceil(rows * 0.15)), "test": int(np.ceil(rows * 0.15))}
        own = raw[raw["sensor"] == block.name]["value"].to_numpy()
        train = own[:block.split.train_end]
        assert block.scaler.mean[0] == pytest.approx(train.mean())
        assert block.scaler.std[0] == pytest.approx(train.std())
        assert block.scale == pytest.approx(naive_scale(train, 24))
        assert np.allclose(prep.raw_target()[block.start:block.start + rows], own)
    for part, w in prep.windows.items():
        which = prep.block_of(w.origins)
        starts = np.array([b.start for b in prep.blocks])[which]
        ends = starts + np.array([b.split.n for b in prep.blocks])[which]
        assert (w.origins - 23 >= starts).all() and (w.origins + 6 < ends).all(), part
        # the windows of each series are exactly those of that series on its own
        for k, block in enumerate(prep.blocks):
            lo, hi = block.split.bounds(part)
            expected = np.arange(max(lo - 1, 23), hi - 6) + block.start
            assert np.array_equal(w.origins[which == k], expected)
    # windows are views of the one scaled array: nothing of size series x rows x lookback
    assert np.shares_memory(prep.windows["train"]._inputs, prep.scaled)
    x = prep.windows["train"].inputs(np.arange(5))
    assert x.shape == (5, 24, 1)


def test_a_panel_gives_each_series_its_own_scale_and_the_mase_is_their_mean(fleet):
    prep = prepare(DataConfig(str(fleet), target="value", id_col="sensor"), WindowConfig(24, 6))
    from forecast.evaluate import actual_targets, part_baselines
    from forecast.metrics import mase, score

    actual, base = actual_targets(prep, "test"), part_baselines(prep)
    which = prep.block_of(prep.windows["test"].origins)
    own = [mase(actual[which == k], base["naive"][which == k], b.scale) for k, b in enumerate(prep.blocks)]
    assert score(actual, base["naive"], prep.scale_of("test"))["mase"] == pytest.approx(np.mean(own))


@pytest.fixture(scope="module")
def panel_run(fleet, tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    result = runner.invoke(app, ["train", str(fleet), "--id-col", "sensor", "--target", "value", "--runs-dir",
                                 str(runs), "--name", "fleet", *TINY])
    assert result.exit_code == 0, result.output
    return runs / "fleet", result


@pytest.mark.slow
def test_train_on_a_long_table_scores_every_series_beside_its_references(fleet, panel_run, tmp_path):
    run, result = panel_run
    assert "3 series of `sensor`, one model" in result.output
    assert "Warning: left out 1 series too short for --lookback 24 + --horizon 6 (season 24): tiny" in result.output
    metrics = json.loads((run / "metrics.json").read_text())
    per = metrics["test"]["series"]
    assert list(per) == ["s1", "s2", "s3"]
    assert [per[s]["n_windows"] for s in per] == [40, 40, 25]
    assert metrics["test"]["n_windows"] == 105
    assert metrics["test"]["model"]["mase"] == pytest.approx(np.mean([per[s]["model"]["mase"] for s in per]))
    table = pd.read_csv(run / "series_scores.csv")
    assert table["series"].tolist() == ["s1", "s2", "s3"]
    assert table["model_mase"].tolist() == pytest.approx([per[s]["model"]["mase"] for s in per])
    test = pd.read_csv(run / "test_predictions.csv")
    assert test.columns[0] == "series" and test.groupby("series").size().to_dict() == {"s1": 240, "s2": 240,
                                                                                         "s3": 150}
    config = json.loads((run / "config.json").read_text())
    assert [s["name"] for s in config["data"]["series"]] == ["s1", "s2", "s3"]
    assert config["data"]["series"][2]["split_rows"] == {"train": [0, 140], "val": [140, 170], "test": [170, 200]}
    scaler = json.loads((run / "scaler.json").read_text())
    assert set(scaler["series"]) == {"s1", "s2", "s3"}
    # each series' references are those a run of that series alone scores: the split and scale are its own
    alone = tmp_path / "runs"
    single = runner.invoke(app, ["train", str(fleet), "--id-col", "sensor", "--target", "value", "--series", "s2",
                                 "--runs-dir", str(alone), "--name", "s2", *TINY])
    assert single.exit_code == 0, single.output
    own = json.loads((alone / "s2" / "metrics.json").read_text())["test"]
    for name, scores in own["baselines"].items():
        if name in per["s2"]["baselines"]:
            assert per["s2"]["baselines"][name] == pytest.approx(scores), name


@pytest.mark.slow
def test_intervals_of_several_series_are_each_in_its_own_units(tmp_path):
    # b is a in other units (100 a + 50): scaled alike, forecast alike, so its bounds are exactly 100 times as wide
    t = np.arange(300)
    a = np.sin(2 * np.pi * t / 24) + 0.2 * np.random.default_rng(0).standard_normal(300)
    time = pd.date_range("2024-01-01", periods=300, freq="h").strftime("%Y-%m-%d %H:%M")
    path = tmp_path / "two.csv"
    pd.concat([pd.DataFrame({"time": time, "id": name, "y": y}) for name, y in (("a", a), ("b", 100 * a + 50))]
              ).to_csv(path, index=False)
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(path), "--id-col", "id", "--normalize", "global", "--interval", "0.9",
                                 "--runs-dir", str(runs), "--name", "two", *TINY])
    assert result.exit_code == 0, result.output
    scale = json.loads((runs / "two" / "intervals.json").read_text())["scale"]
    assert scale["lag"] == 1 and scale["lookback"] == 24  # the season (24) does not fit twice in 24 rows
    test = pd.read_csv(runs / "two" / "test_predictions.csv")
    one, other = (test[test["series"] == name].reset_index(drop=True) for name in ("a", "b"))
    assert len(one) == len(other) > 0 and (one["origin"] == other["origin"]).all()
    np.testing.assert_allclose(other["forecast"], 100 * one["forecast"] + 50, rtol=1e-4)
    np.testing.assert_allclose(other["upper_90"] - other["forecast"], 100 * (one["upper_90"] - one["forecast"]),
                               rtol=1e-4)
    assert (one["upper_90"] > one["lower_90"]).all()
    out = tmp_path / "p.csv"
    predicted = runner.invoke(app, ["predict", str(runs / "two"), str(path), "--out", str(out)])
    assert predicted.exit_code == 0, predicted.output
    bounds = pd.read_csv(out).merge(test, on=["series", "origin", "step"], suffixes=("", "_test"))
    assert len(bounds) == len(test)  # the same bounds for the same windows, from the saved run
    np.testing.assert_allclose(bounds["upper_90"], bounds["upper_90_test"], rtol=1e-5)
    assert "90% interval covers" in predicted.output


@pytest.mark.slow
def test_predict_with_a_panel_run_forecasts_each_series_with_its_own_scaler(fleet, panel_run, tmp_path):
    run, _ = panel_run
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(run), str(fleet), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "of 3 series" in result.output
    assert "Warning: left out 1 series of" in result.output and "tiny" in result.output
    table = pd.read_csv(out)
    assert table.columns[0] == "series" and sorted(table["series"].unique()) == ["s1", "s2", "s3"]
    # on the training file, the forecasts of the test origins are the run's own test forecasts
    test = pd.read_csv(run / "test_predictions.csv")
    merged = test.merge(table, on=["series", "origin", "step"], suffixes=("", "_p"))
    assert len(merged) == len(test)
    assert np.allclose(merged["forecast"], merged["forecast_p"], rtol=1e-4, atol=1e-4)
    some = runner.invoke(app, ["predict", str(run), str(fleet), "--series", "s3,s1", "--last", "1", "--out",
                               str(tmp_path / "q.csv"), "--json"])
    assert some.exit_code == 0, some.output
    q = pd.read_csv(tmp_path / "q.csv")
    assert q["series"].drop_duplicates().tolist() == ["s3", "s1"] and len(q) == 12
    # a note about one series is shown whichever series it is (here the second, its rows in reverse order)
    table = pd.read_csv(fleet)
    table = pd.concat([table[table["sensor"] != "s2"], table[table["sensor"] == "s2"].iloc[::-1]])
    table.to_csv(tmp_path / "shuffled.csv", index=False)
    noted = runner.invoke(app, ["predict", str(run), str(tmp_path / "shuffled.csv"), "--out", str(out)])
    assert noted.exit_code == 0, noted.output
    assert "Warning: series `s2`: rows were not in time order; sorted them by `timestamp`" in noted.output
    bad = runner.invoke(app, ["predict", str(run), str(fleet), "--series", "tiny"])
    assert bad.exit_code == 1
    assert bad.stderr.strip() == ("Error: series `tiny` was not among the 3 series fleet was trained on, and each "
                                  "series is scaled by its own training part: pick some of s1, s2, s3")


def test_calendar_features_are_the_phase_of_each_row_in_its_cycle():
    time = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 06:00", "2024-01-03 00:00"])  # a Monday
    names, values = calendar_columns(time, ("hour", "dow"))
    assert names == ("hour_sin", "hour_cos", "dow_sin", "dow_cos")
    assert values[1, :2] == pytest.approx([1.0, 0.0])  # 06:00: a quarter of the day
    assert values[2, 2:] == pytest.approx([np.sin(2 * np.pi * 2 / 7), np.cos(2 * np.pi * 2 / 7)])  # Wednesday
    assert auto_calendar(pd.date_range("2024-01-01", periods=5, freq="h")) == ("hour", "dow")
    assert auto_calendar(pd.date_range("2024-01-01", periods=5, freq="D")) == ("dow", "doy")
    assert auto_calendar(pd.date_range("2024-01-01", periods=5, freq="B")) == ("dow", "doy")
    assert auto_calendar(pd.date_range("2024-01-01", periods=5, freq="W")) == ("doy",)
    assert auto_calendar(pd.date_range("2024-01-01", periods=5, freq="MS")) == ("month",)
    assert auto_calendar(pd.date_range("2024-01-01", periods=5, freq="YS")) == ()
    assert auto_calendar(pd.RangeIndex(5)) == ()


def test_calendar_columns_join_the_inputs_and_none_is_the_default(fleet):
    prep = prepare(DataConfig(str(fleet), target="value", id_col="sensor", series=("s1",), calendar=("auto",)),
                   WindowConfig(24, 6))
    assert prep.series.columns == ("value", "hour_sin", "hour_cos", "dow_sin", "dow_cos")
    assert prep.series.calendar == ("hour", "dow")
    assert prep.windows["train"].inputs(np.arange(2)).shape == (2, 24, 5)
    plain = prepare(DataConfig(str(fleet), target="value", id_col="sensor", series=("s1",)), WindowConfig(24, 6))
    assert plain.series.columns == ("value",)
    assert DataConfig("x.csv", calendar=("none",)).calendar == ()


@pytest.mark.slow
def test_a_calendar_run_records_its_features_and_predicts(fleet, tmp_path):
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(fleet), "--id-col", "sensor", "--target", "value", "--series", "s1",
                                 "--calendar", "auto", "--runs-dir", str(runs), "--name", "cal", *TINY])
    assert result.exit_code == 0, result.output
    assert 'calendar = ["hour", "dow"]' in (runs / "cal" / "run.toml").read_text()
    assert json.loads((runs / "cal" / "scaler.json").read_text())["columns"] == [
        "value", "hour_sin", "hour_cos", "dow_sin", "dow_cos"]
    predicted = runner.invoke(app, ["predict", str(runs / "cal"), str(fleet), "--series", "s1", "--last", "2",
                                    "--out", str(tmp_path / "p.csv")])
    assert predicted.exit_code == 0, predicted.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 12


@pytest.mark.slow
def test_a_wide_table_is_one_series_per_target_column(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(300)
    wide = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=300, freq="h").strftime("%Y-%m-%d %H:%M"),
                         "north": 10 + np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(300),
                         "south": 50 + 5 * np.sin(2 * np.pi * t / 24) + 0.1 * rng.standard_normal(300)})
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(path), "--target", "north,south", "--runs-dir", str(runs), "--name",
                                 "wide", *TINY])
    assert result.exit_code == 0, result.output
    assert "2 series of --target, one model;" in " ".join(result.output.split())
    metrics = json.loads((runs / "wide" / "metrics.json").read_text())
    assert list(metrics["test"]["series"]) == ["north", "south"]
    assert 'target = "north,south"' in (runs / "wide" / "run.toml").read_text()
    out = tmp_path / "p.csv"
    predicted = runner.invoke(app, ["predict", str(runs / "wide"), str(path), "--last", "1", "--out", str(out)])
    assert predicted.exit_code == 0, predicted.output
    table = pd.read_csv(out)
    assert table["series"].tolist() == ["north"] * 6 + ["south"] * 6
    # each series back in its own units: south's forecasts near 50, north's near 10
    assert table.groupby("series")["forecast"].mean().round(-1).to_dict() == {"north": 10.0, "south": 50.0}


def test_windows_read_the_known_future_at_their_target_rows():
    from forecast.windows import Windows

    values = np.column_stack([np.arange(10.0), 100 + np.arange(10.0), 200 + np.arange(10.0)]).astype(np.float32)
    w = Windows(values, lookback=3, horizon=2, origins=np.array([2, 5, 7]), future=(2, 3))
    assert w.n_future == 1
    assert w.future(np.arange(3))[:, :, 0].tolist() == [[203, 204], [206, 207], [208, 209]]
    x, f = w.model_inputs(np.array([1]))
    assert x[0, :, 1].tolist() == [103, 104, 105] and f.shape == (1, 2, 1)
    assert not isinstance(Windows(values, 3, 2, np.array([2])).model_inputs(np.array([0])), tuple)


@pytest.mark.slow
def test_known_future_columns_feed_the_forecast_steps_and_predict_needs_their_future_rows(fleet, tmp_path):
    one = pd.read_csv(fleet).query("sensor == 's1'").drop(columns="sensor")
    path = tmp_path / "s1.csv"
    one.to_csv(path, index=False)
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(path), "--target", "value", "--future-features", "maintenance",
                                 "--runs-dir", str(runs), "--name", "fut", *TINY])
    assert result.exit_code == 0, result.output
    assert 'future_features = ["maintenance"]' in (runs / "fut" / "run.toml").read_text()
    from forecast.artifacts import load_model

    model = load_model(runs / "fut")
    assert [tuple(s[1:]) for s in model.input_shape] == [(24, 2), (6, 1)]
    # without future rows the forecasts stop where the known future ends, with a note
    out = tmp_path / "p.csv"
    plain = runner.invoke(app, ["predict", str(runs / "fut"), str(path), "--out", str(out)])
    assert plain.exit_code == 0, plain.output
    assert "Warning: forecasts end at origin 2020-01-13 05:00" in plain.output
    assert pd.read_csv(out)["origin"].max() == "2020-01-13 05:00:00"
    # with them, the last origin is forecast into the future
    future = pd.DataFrame({"timestamp": pd.date_range("2020-01-13 12:00", periods=6, freq="h").strftime(
        "%Y-%m-%d %H:%M"), "value": np.nan, "maintenance": [0, 0, 1, 1, 1, 1]})
    ahead = tmp_path / "ahead.csv"
    pd.concat([one, future]).to_csv(ahead, index=False)
    result = runner.invoke(app, ["predict", str(runs / "fut"), str(ahead), "--steps", "6", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    last = table[table["origin"] == table["origin"].max()]
    assert last["timestamp"].tolist()[-1] == "2020-01-13 17:00:00" and last["actual"].isna().all()
    short = runner.invoke(app, ["predict", str(runs / "fut"), str(path), "--steps", "3", "--out", str(out)])
    assert short.exit_code == 1
    assert short.stderr.strip() == (
        f"Error: --steps 3 forecasts from the last row, which reads the known-future column(s) maintenance at the 6 "
        f"rows after it (2020-01-13 11:00:00), and {path} gives 0; add those rows with an empty target and every "
        "known-future value")


@pytest.mark.slow
def test_the_python_api_trains_and_predicts_a_long_dataframe(tmp_path):
    import forecast

    table = make_sensors(2, 200, noise=0.1, seed=3)
    table["timestamp"] = pd.to_datetime(table["timestamp"])
    run = forecast.train(table, id_col="sensor", target="value", runs_dir=tmp_path, verbose=False, epochs=1,
                         units=4, lookback=24, horizon=3)
    assert list(run.metrics["test"]["series"]) == ["s1", "s2"]
    out = run.predict(table, series=["s2"], last=1)
    assert out["series"].tolist() == ["s2"] * 3


def test_a_series_without_any_target_value_is_left_out_with_a_note(tmp_path):
    rows = [(d.strftime("%Y-%m-%d"), s, np.nan if s == "c" else float(i % 7))
            for s in "abc" for i, d in enumerate(pd.date_range("2024-01-01", periods=120, freq="D"))]
    path = tmp_path / "t.csv"
    pd.DataFrame(rows, columns=["date", "id", "y"]).to_csv(path, index=False)
    prep = prepare(DataConfig(str(path), id_col="id"), WindowConfig(14, 1))
    assert [b.name for b in prep.blocks] == ["a", "b"]
    assert "left out 1 series without any target value: c" in prep.series.notes


def test_a_wide_column_without_any_value_is_left_out_like_a_long_series(tmp_path):
    t = np.arange(120)
    path = tmp_path / "w.csv"
    pd.DataFrame({"date": pd.date_range("2024-01-01", periods=120, freq="D").strftime("%Y-%m-%d"),
                  "a": t % 7, "b": (t % 7) * 2.0, "c": np.nan}).to_csv(path, index=False)
    prep = prepare(DataConfig(str(path), target="a,b,c"), WindowConfig(14, 1))
    assert [b.name for b in prep.blocks] == ["a", "b"]
    assert "left out 1 series without any target value: c" in prep.series.notes


def test_several_series_train_with_larger_batches_a_higher_rate_and_less_patience_unless_told():
    from forecast.config import RunConfig, TrainConfig

    def train(**data) -> tuple:
        t = RunConfig(DataConfig("f.csv", **data)).train
        return t.batch_size, t.learning_rate, t.patience

    assert train() == (64, 1e-3, 15)
    assert train(id_col="state") == train(target="a,b") == (256, 3e-3, 5)
    assert train(id_col="state", series=("CA",)) == (64, 1e-3, 15)  # one series of a long table
    told = RunConfig(DataConfig("f.csv", id_col="state"), train=TrainConfig(batch_size=32, patience=0)).train
    assert (told.batch_size, told.learning_rate, told.patience) == (32, 3e-3, 0)
