"""Normalisation per window or global: inverted exactly, level-free, the rule of `auto`, and the warning for
global scaling."""

import json

import numpy as np
import pandas as pd
import pytest

from forecast.config import DataConfig, Normalize, Transform, WindowConfig
from forecast.prepare import prepare
from forecast.windows import Windows, part_origins
from tests.conftest import cli_ok

TINY = ["--lookback", "24", "--units", "8", "--epochs", "4", "--batch-size", "32", "--learning-rate", "0.01",
        "--patience", "0"]


def walk(path, n=400, level=100.0, seed=0):
    value = level + np.cumsum(np.random.default_rng(seed).standard_normal(n))
    pd.DataFrame({"value": value}).to_csv(path, index=False)
    return path


def test_windows_normalised_per_window_are_offsets_from_the_origin():
    values = np.arange(20, dtype=np.float32)[:, None] * 2 + 100
    w = Windows(values, 4, 2, part_origins((0, 20), 4, 2), Normalize.window)
    np.testing.assert_array_equal(w.inputs([0])[0, :, 0], [-6, -4, -2, 0])
    np.testing.assert_array_equal(w.targets([0])[0], [2, 4])
    assert values[0, 0] == 100  # the series itself is untouched


@pytest.mark.parametrize("transform", [Transform.none, Transform.diff, Transform.logdiff])
def test_a_zero_offset_forecast_is_the_naive_forecast(tmp_path, transform):
    prep = prepare(DataConfig(str(walk(tmp_path / "w.csv")), normalize=Normalize.window, transform=transform),
                   WindowConfig(10, 3))
    test = prep.windows["test"]
    forecast = prep.to_target(np.zeros((len(test), 3)), test.origins)
    raw = pd.read_csv(tmp_path / "w.csv")["value"].to_numpy()
    shift = 0 if transform is Transform.none else 1  # differencing drops the first row
    last, before = raw[test.origins + shift], raw[test.origins + shift - 1]
    h = np.arange(1, 4)[None, :]
    expected = {  # offset 0 from the last value: that value; from the last change: that change repeated
        Transform.none: np.repeat(last[:, None], 3, axis=1),
        Transform.diff: last[:, None] + h * (last - before)[:, None],
        Transform.logdiff: last[:, None] * (last / before)[:, None] ** h,
    }[transform]
    np.testing.assert_allclose(forecast, expected, rtol=1e-6)  # the scaled series is float32


def test_the_scale_is_learned_on_the_training_part(tmp_path):
    prep = prepare(DataConfig(str(walk(tmp_path / "w.csv")), normalize=Normalize.window), WindowConfig(10, 1))
    train = prep.raw_target()[:prep.split.train_end]
    assert prep.scaler.mean[0] == 0 and prep.scaler.std[0] == pytest.approx(np.diff(train).std())


def test_global_scaling_warns_when_the_test_part_leaves_the_training_range(tmp_path):
    path = tmp_path / "trend.csv"
    pd.DataFrame({"value": np.arange(300.0)}).to_csv(path, index=False)
    notes = prepare(DataConfig(str(path), normalize=Normalize.global_), WindowConfig(10, 1)).series.notes
    assert ("100% of the target in the test part lies outside its training range [0, 209]; a model of levels "
            "scaled globally cannot extrapolate there: use --normalize window or --transform diff|logdiff") in notes
    assert prepare(DataConfig(str(path)), WindowConfig(10, 1)).series.notes == ()  # the default is window


@pytest.mark.slow
def test_a_shifted_copy_is_forecast_with_the_same_error(tmp_path):
    csv = walk(tmp_path / "w.csv")
    cli_ok("train", csv, "--cell", "gru", "--runs-dir", tmp_path / "runs", *TINY)
    run = tmp_path / "runs" / "w-gru"
    shifted = tmp_path / "shifted.csv"
    frame = pd.read_csv(csv)
    (frame + 5000).to_csv(shifted, index=False)  # levels far outside anything seen in training
    for data, out in ((csv, tmp_path / "a.csv"), (shifted, tmp_path / "b.csv")):
        cli_ok("predict", run, data, "--out", out)
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    np.testing.assert_allclose(b["forecast"] - a["forecast"], 5000, atol=1e-2)
    np.testing.assert_allclose(b["error"], a["error"], atol=1e-2)
    assert json.loads((run / "scaler.json").read_text())["normalize"] == "window"


@pytest.mark.parametrize("name, target, used, ratio, lag, outside", [
    ("sine", None, "global", "0.00", 48, "0%"), ("electricity_demand_halfhourly", None, "global", "0.03", 384, "0%"),
    ("msft_daily", "Close", "window", "0.99", 10, "0%"), ("randomwalk", None, "window", "1.07", 48, "85%"),
    ("trend_seasonal", None, "window", "0.01", 48, "43%"),
])
def test_auto_picks_window_for_random_walks_and_series_that_leave_their_range(name, target, used, ratio, lag,
                                                                              outside):
    prep = prepare(DataConfig(f"datasets/{name}.csv", target=target), WindowConfig())  # the default lookback
    assert prep.normalize.value == used and prep.window.lookback == lag
    assert prep.normalize_reason == (f"variance ratio {ratio} at lag {lag} on the training part, {outside} of the "
                                     "validation part outside the training range")


def test_variance_ratio_separates_random_walks_from_stationary_series():
    from forecast.scaling import variance_ratio

    rng = np.random.default_rng(0)
    assert 0.8 < variance_ratio(np.cumsum(rng.standard_normal(5000)), 48) < 1.2
    assert variance_ratio(rng.standard_normal(5000), 48) < 0.05
    assert variance_ratio(np.ones(100), 48) == 0.0  # constant: no division by zero


@pytest.mark.slow
def test_the_run_records_what_auto_chose(tmp_path):
    cli_ok("train", walk(tmp_path / "w.csv"), "--cell", "rnn", "--runs-dir", tmp_path / "runs", *TINY)
    meta = json.loads((tmp_path / "runs" / "w-rnn" / "config.json").read_text())
    assert meta["options"]["data"]["normalize"] == "window"
    assert meta["normalize"]["asked"] == "auto" and meta["normalize"]["used"] == "window"
    assert "variance ratio" in meta["normalize"]["reason"]


class _RepeatLastStep:
    """A stand-in model for relative windows: the next change equals the last one."""

    output_shape = (None, 1)

    def predict_on_batch(self, x):
        return (x[:, -1, :] - x[:, -2, :])  # (batch, 1): relative inputs, so the last value is 0


@pytest.mark.parametrize("normalize", [Normalize.window, Normalize.global_])
def test_recursive_roll_forward_continues_a_line_exactly(normalize):
    from forecast.config import Strategy
    from forecast.inference import forecast_recursive, forecast_windows

    values = (100 + 2 * np.arange(50, dtype=np.float32))[:, None]
    w = Windows(values, 5, 4, np.array([10, 30]), normalize)
    out = forecast_windows(_RepeatLastStep(), w, Strategy.recursive)
    if normalize is Normalize.window:  # offsets from the origin's value: 2, 4, 6, 8
        np.testing.assert_allclose(out, np.tile(2 * np.arange(1, 5), (2, 1)))
        np.testing.assert_allclose(forecast_recursive(_RepeatLastStep(), values[-5:], 6, per_window=True),
                                   2 * np.arange(1, 7))
    else:  # absolute inputs: the stub's "change" is then the next absolute value, constant 2
        np.testing.assert_allclose(out[:, 0], 2)
