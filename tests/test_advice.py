"""The advice under the train table: each line on a case built to trigger it, and its absence otherwise."""

import pytest

from forecast.advice import epochs_note, group_advice, inputs_note, interval_note


def _metrics(**extra):
    return {"epochs_run": 60, "best_epoch": 40, "best_val_loss": 0.5, "start": {"val_loss": 1.0},
            "test": {"horizon": 1}, "val": {}, **extra}


def test_a_cell_still_improving_at_its_last_epoch_is_told_to_train_longer():
    improving = _metrics(epochs_run=60, best_epoch=60)
    assert epochs_note("lstm", improving, 60) == ("lstm was still improving on validation at its last epoch (60 of "
                                                  "60); train longer (--epochs 120)")
    assert epochs_note("lstm", _metrics(), 60) is None  # its best epoch came earlier
    assert epochs_note("lstm", _metrics(epochs_run=30, best_epoch=30), 60) is None  # stopped early: not the budget
    # the last epoch the lowest, but still above the untrained start: it never improved on it
    assert epochs_note("lstm", {**improving, "best_val_loss": 1.5}, 60) is None
    assert epochs_note("gru", {**improving, "start": {}}, 60) is not None  # no start (a plain network)


def test_intervals_that_under_cover_held_out_validation_windows_are_flagged():
    def at(coverage, n=100, horizon=1):
        check = {"0.9": {"coverage": coverage, "n": n, "n_fit": n}}
        return _metrics(test={"horizon": horizon}, val={"interval_check": check})

    assert interval_note("rnn", at(0.6)) == (
        "rnn's intervals under-cover on validation: fit on its earlier half, the 90% covers 60.0% of its later half; "
        "the errors change over time, so treat the bounds with care (a longer --val-frac calibrates on more)")
    # at 90%, bounds fit on 100 windows and checked on 100 others: three standard errors are 12.7 points
    assert interval_note("rnn", at(0.78)) is None and interval_note("rnn", at(0.76)) is not None
    assert interval_note("rnn", at(0.76, horizon=4)) is None  # 100 overlapping 4-step windows count as 25
    assert interval_note("rnn", _metrics()) is None  # no intervals asked for


def test_inputs_that_make_the_linear_start_worse_on_validation_are_named():
    worse = {"linear_start": {"inputs": {"val_mse_with": 0.143, "val_mse_without": 0.079, "worse": True}}}
    assert inputs_note(worse, ("gdp", "cpi")) == (
        "the inputs (gdp, cpi) make validation worse: the linear start's validation MSE is 0.143 with them against "
        "0.079 on the target's own lags (scaled units); try training without them (drop --features, --calendar or "
        "--future-features)")
    fine = {"linear_start": {"inputs": {"val_mse_with": 0.08, "val_mse_without": 0.079, "worse": False}}}
    assert inputs_note(fine, ("gdp",)) is None and inputs_note({}, ("gdp",)) is None
    assert inputs_note(worse, ()) is None


def test_a_group_says_the_inputs_once_and_each_cells_own_notes():
    shared = {"linear_start": {"inputs": {"val_mse_with": 2.0, "val_mse_without": 1.0, "worse": True}}}
    runs = [("rnn", _metrics(**shared, epochs_run=5, best_epoch=5)), ("gru", _metrics(**shared))]
    lines = group_advice(runs, ("x",), 5)
    assert len(lines) == 2 and lines[0].startswith("the inputs (x)") and lines[1].startswith("rnn was still")
    assert group_advice([("gru", _metrics())], (), 60) == []


def _regime_csv(path, flip: bool):
    """y follows the feature x of the hour before (0.8 x plus a little noise); with `flip` the relation turns to
    -0.8 x halfway through the validation part: x then misleads, and errors grow where the intervals were not fit."""
    import numpy as np
    import pandas as pd

    rng, n = np.random.default_rng(0), 1000
    x, y = rng.standard_normal(n), np.zeros(n)
    for t in range(n - 1):
        y[t + 1] = (-0.8 if flip and t + 1 >= int(0.775 * n) else 0.8) * x[t] + 0.2 * rng.standard_normal()
    time = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M")
    pd.DataFrame({"timestamp": time, "y": y, "x": x}).to_csv(path, index=False)


@pytest.mark.slow
def test_train_prints_the_advice_a_regime_change_calls_for_and_none_without_one(tmp_path):
    import json

    from tests.conftest import cli_ok

    options = ["--target", "y", "--features", "x", "--cell", "gru", "--lookback", "20", "--units", "8", "--epochs",
               "12", "--batch-size", "32", "--learning-rate", "0.01", "--interval", "0.9", "--runs-dir", tmp_path]
    for flip in (True, False):
        _regime_csv(tmp_path / f"{flip}.csv", flip)
        result = cli_ok("train", tmp_path / f"{flip}.csv", *options, "--name", str(flip), "--patience", "0")
        metrics = json.loads((tmp_path / str(flip) / "metrics.json").read_text())
        advice = metrics["advice"]
        assert [line for line in result.stdout.splitlines() if line.startswith("note: ")] == [
            f"note: {line}" for line in advice]
        check = metrics["linear_start"]["inputs"]  # the ridge with x, and on y's own lags, on validation
        assert check["worse"] == flip and (check["val_mse_with"] > check["val_mse_without"]) == flip
        coverage = metrics["val"]["interval_check"]["0.9"]
        assert (coverage["n"], coverage["n_fit"]) == (75, 75) and (coverage["coverage"] < 0.5) == flip
        if flip:
            assert advice[0].startswith("the inputs (x) make validation worse: the linear start's validation MSE is")
            assert advice[1].startswith("gru's intervals under-cover on validation: fit on its earlier half, the 90% "
                                        "covers")
        else:
            assert [a for a in advice if not a.startswith("gru was still improving")] == []
