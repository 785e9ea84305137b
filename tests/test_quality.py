"""Baselines everywhere, both strategies, transforms, prediction intervals and the rolling-origin backtest."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.config import DataConfig, Normalize, Transform, WindowConfig
from forecast.data import load_csv
from forecast.prepare import prepare, prepare_series, transform_series
from forecast.split import plan_folds
from tests.conftest import cli_ok as ok

TINY = ["--lookback", "24", "--units", "8", "--epochs", "4", "--batch-size", "32", "--learning-rate", "0.01",
        "--patience", "0"]


def noisy_sine(path: Path, n: int = 500, noise: float = 0.1, level: float = 0.0) -> Path:
    t = np.arange(n)
    value = level + np.sin(2 * np.pi * t / 24) + noise * np.random.default_rng(1).standard_normal(n)
    time = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M")
    pd.DataFrame({"timestamp": time, "value": value}).to_csv(path, index=False)
    return path


def ramp(tmp_path: Path, n: int, lookback: int, horizon: int):
    """A CSV of y = 0, 1, 2, ... (so a scaler's range shows which rows it saw), its configs, and its values."""
    path = tmp_path / "s.csv"
    pd.DataFrame({"y": np.arange(n, dtype=float)}).to_csv(path, index=False)
    data = DataConfig(str(path))
    return (data, WindowConfig(lookback, horizon), *transform_series(load_csv(data), Transform.none))


@pytest.mark.parametrize("n, folds, lookback, horizon", [(1000, 5, 48, 12), (400, 3, 10, 1), (4032, 5, 96, 48)])
def test_backtest_folds_never_train_on_their_test_block(tmp_path, n, folds, lookback, horizon):
    data, window, series, values = ramp(tmp_path, n, lookback, horizon)
    splits = plan_folds(n, folds, data, window)
    assert len(splits) == folds and splits[-1].n == n
    for before, after in zip(splits, splits[1:]):
        assert after.val_end == before.n  # test blocks are back to back
        assert after.train_end > before.train_end  # the training window expands
    for split in splits:
        prep = prepare_series(series, values, data, window, split)
        test_start, test_end = split.bounds("test")
        for part in ("train", "val"):
            w = prep.windows[part]
            assert w.origins.max() + horizon < test_start  # no target of training or validation in the block
        test = prep.windows["test"]
        assert test.origins.min() + 1 >= test_start and test.origins.max() + horizon < test_end
        # the scaler saw only the fold's training rows (the series is 0, 1, 2, ...)
        assert (prep.scaler.low, prep.scaler.high) == (0, split.train_end - 1)


@pytest.mark.parametrize("lookback, horizon", [(40, 4), (10, 1), (30, 12)])
def test_every_backtest_fold_has_the_sizes_train_requires(tmp_path, lookback, horizon):
    from forecast.errors import ForecastError
    from forecast.split import _split_ok

    n, data, window = 300, DataConfig(str(tmp_path / "s.csv")), WindowConfig(lookback, horizon)
    most = max(f for f in range(1, 20) if _fits(n, f, data, window))
    for split in plan_folds(n, most, data, window):
        assert _split_ok(split, window)
        sizes = split.sizes()
        assert sizes["train"] >= lookback + horizon and sizes["val"] >= horizon and sizes["test"] >= horizon
    with pytest.raises(ForecastError, match=f"--folds {most + 1} does not fit .*; use --folds {most} or less"):
        plan_folds(n, most + 1, data, window)


@pytest.mark.parametrize("n, folds, lookback, horizon", [(4032, 3, 96, 48), (400, 2, 10, 1), (2000, 5, 48, 1)])
def test_tune_folds_are_earlier_validation_blocks_that_never_read_the_test_part(tmp_path, n, folds, lookback, horizon):
    from forecast.split import split_series, validation_folds

    data, window, series, values = ramp(tmp_path, n, lookback, horizon)
    usual = split_series(n, data, window)
    splits = validation_folds(usual, folds, window, data.path)
    assert splits[0] == usual and len(splits) == folds  # the usual split first: the run folder's own scores
    block = usual.val_end - usual.train_end
    for k, split in enumerate(splits[1:], start=1):
        assert split.sizes() == {"train": usual.train_end - k * block, "val": block, "test": block}
        assert split.n <= usual.val_end and split.n == splits[k - 1].val_end  # its 'test' is the next block
        prep = prepare_series(series, values, data, window, split)
        assert prep.windows["test"].origins.max() + horizon < usual.val_end  # no fold reads the test part
        assert (prep.scaler.low, prep.scaler.high) == (0, split.train_end - 1)  # scaled on its own training rows


def test_too_many_tune_folds_say_how_many_fit():
    from forecast.errors import ForecastError
    from forecast.split import Split, validation_folds

    usual = Split(n=2000, train_end=1400, val_end=1700)  # the shipped sine: validation blocks of 300 rows
    assert len(validation_folds(usual, 5, WindowConfig(48, 1), "s.csv")) == 5  # the oldest trains on 200 rows
    with pytest.raises(ForecastError, match=r"^--folds 6 does not fit s.csv: with validation blocks of 300 rows the "
                       r"oldest fold would train on 0 rows, fewer than lookback \+ horizon = 49; use --folds 5 or "
                       r"less, or a smaller --lookback$"):
        validation_folds(usual, 6, WindowConfig(48, 1), "s.csv")


def _fits(n, folds, data, window) -> bool:
    from forecast.errors import ForecastError

    try:
        return bool(plan_folds(n, folds, data, window))
    except ForecastError:
        return False


def test_seasonal_naive_and_mase_on_the_shipped_sine():
    prep = prepare(DataConfig("datasets/sine.csv"), WindowConfig(48, 1))
    assert prep.season == 24
    assert prep.scale == pytest.approx(0.05 * 2 / np.sqrt(np.pi), rel=0.1)  # E|e1 - e2| for noise sd 0.05


def test_interval_widths_scale_with_each_windows_change_over_one_season():
    from forecast.evaluate import interval_scale, part_spread, window_spread

    prep = prepare(DataConfig("datasets/sine.csv"), WindowConfig(48, 1))
    scale = interval_scale(prep)
    y = prep.raw_target().astype(np.float64)
    train = y[:prep.split.train_end]
    # the season (24) fits in the 48-row window: changes over 24 rows, floored at 1% of the training part's
    assert scale["lag"] == 24 and scale["lookback"] == 48
    assert scale["floor"] == pytest.approx(0.01 * np.mean(np.abs(train[24:] - train[:-24])))
    origins = prep.windows["val"].origins
    by_hand = [max(np.mean(np.abs(y[o - 23:o + 1] - y[o - 47:o - 23])), scale["floor"]) for o in origins]
    np.testing.assert_allclose(part_spread(prep, "val"), by_hand, rtol=1e-9)
    # a season the window cannot hold twice: the one-step change; a run from before `lag` existed reads the same
    short = interval_scale(prepare(DataConfig("datasets/sine.csv"), WindowConfig(24, 1)))
    assert short["lag"] == 1
    one_step = [np.mean(np.abs(np.diff(y[o - 23:o + 1]))) for o in origins]
    old = {k: v for k, v in short.items() if k != "lag"}
    np.testing.assert_allclose(window_spread(y, origins, short), one_step, rtol=1e-9)
    np.testing.assert_allclose(window_spread(y, origins, old), one_step, rtol=1e-9)
    assert window_spread(y, origins, None) is None  # a run from before the widths scaled: one width per step


@pytest.mark.slow
def test_recursive_strategy_with_intervals_end_to_end(tmp_path):
    csv = noisy_sine(tmp_path / "s.csv")
    runs = tmp_path / "runs"
    # window normalisation: the roll-forward re-centres every window on its new last value
    result = ok("train", csv, "--cell", "gru", "--horizon", "6", "--strategy", "recursive", "--interval", "0.9",
                "--interval", "0.5", "--normalize", "window", "--runs-dir", runs, *TINY)
    run = runs / "s-gru"
    metrics = json.loads((run / "metrics.json").read_text())["test"]
    assert metrics["horizon"] == 6 and len(metrics["by_step"]) == 6 and metrics["season"] == 24
    assert set(metrics["baselines"]) == {"naive", "seasonal_naive", "seasonal_diff", "mean", "drift"}
    # 6 steps ahead on a sine; a 4-epoch model under window scaling (weaker on stationary series, see the
    # normalisation benchmark) still beats the naive forecast clearly
    assert metrics["model"]["mse"] < 0.8 * metrics["baselines"]["naive"]["mse"]
    widths = json.loads((run / "intervals.json").read_text())["half_widths"]
    assert set(widths) == {"0.9", "0.5"} and all(len(w) == 6 for w in widths.values())
    assert all(a > b for a, b in zip(widths["0.9"], widths["0.5"]))
    assert 0.8 <= metrics["intervals"]["0.9"]["coverage"] <= 0.98
    assert "90% interval covers" in result.stdout and "seasonal m=24" in result.stdout
    config = json.loads((run / "config.json").read_text())["options"]
    assert config["model"]["strategy"] == "recursive" and config["train"]["intervals"] == [0.9, 0.5]
    preds = pd.read_csv(run / "test_predictions.csv")
    assert {"lower_90", "upper_90", "lower_50", "upper_50", "seasonal_naive"} <= set(preds.columns)
    assert (preds["lower_90"] <= preds["lower_50"]).all() and (preds["upper_50"] <= preds["upper_90"]).all()
    # the widths scale with each window's mean absolute change over one season; lookback 24 cannot hold the
    # season 24 twice, so over one row
    scale = json.loads((run / "intervals.json").read_text())["scale"]
    assert scale["lookback"] == 24 and scale["lag"] == 1 and scale["floor"] > 0
    data = pd.read_csv(csv)
    y = data["value"].to_numpy()
    rows = pd.Index(data["timestamp"]).get_indexer(pd.to_datetime(preds["origin"]).dt.strftime("%Y-%m-%d %H:%M"))
    spread = np.array([max(np.mean(np.abs(np.diff(y[o - 23:o + 1]))), scale["floor"]) for o in rows])
    np.testing.assert_allclose(preds["upper_90"] - preds["forecast"],
                               np.array(widths["0.9"])[preds["step"] - 1] * spread, rtol=1e-6)
    test_preds = preds
    # predict: intervals for every step of the horizon, none past it
    out = tmp_path / "p.csv"
    result = ok("predict", run, csv, "--steps", "10", "--out", out, "--plot", tmp_path / "p.png")
    preds = pd.read_csv(out)
    same = preds.merge(test_preds, on=["origin", "step"], suffixes=("", "_test"))
    assert len(same) == len(test_preds)  # the same bounds for the same windows, from the saved run
    np.testing.assert_allclose(same["lower_90"], same["lower_90_test"], rtol=1e-5)
    scored = preds[preds["actual"].notna() & preds["lower_90"].notna()]
    inside = ((scored["actual"] >= scored["lower_90"]) & (scored["actual"] <= scored["upper_90"])).mean()
    import re

    printed = re.search(r"90% interval covers ([0-9.]+)% of the (\d+) actuals within the trained horizon "
                        r"\(split-conformal, from the run's validation part\)", result.stdout)
    assert printed and int(printed[2]) == len(scored)
    # p.csv's bounds are the printed floats: an actual on a bound may fall either side of it, one value at most
    assert abs(float(printed[1]) / 100 - inside) <= 1 / len(scored) + 0.0005
    assert "steps 7..10 lie beyond the trained horizon (6): they have no interval bounds (empty in p.csv)" in result.stdout
    future = preds[preds["origin"] == preds["origin"].iloc[-1]]  # the last origin: all in the future
    assert future["actual"].isna().all()
    assert future["step"].tolist() == list(range(1, 11))
    assert future["lower_90"].notna().tolist() == [True] * 6 + [False] * 4


@pytest.mark.slow
def test_logdiff_forecasts_levels_in_original_units(tmp_path):
    rng = np.random.default_rng(0)
    price = 50 * np.exp(np.cumsum(0.01 * rng.standard_normal(400)))
    dates = pd.bdate_range("2020-01-01", periods=400).strftime("%Y-%m-%d")
    pd.DataFrame({"Date": dates, "Close": price, "Volume": 1000}).to_csv(tmp_path / "p.csv", index=False)
    ok("train", tmp_path / "p.csv", "--target", "Close", "--transform", "logdiff", "--cell", "lstm", "--horizon", "3",
       "--runs-dir", tmp_path / "runs", *TINY)
    run = tmp_path / "runs" / "p-lstm"
    metrics = json.loads((run / "metrics.json").read_text())["test"]
    assert metrics["season"] == 1  # business days, but a random walk's differences show no week
    naive = metrics["baselines"]["naive"]
    # forecasts of log returns near zero put the model close to the random walk, in price units
    assert metrics["model"]["mae"] < 1.3 * naive["mae"]
    preds = pd.read_csv(run / "test_predictions.csv")
    assert preds["forecast"].between(price.min() * 0.8, price.max() * 1.2).all()
    assert json.loads((run / "config.json").read_text())["data"]["rows"] == 399  # first row has no return


@pytest.mark.slow
def test_backtest_end_to_end(tmp_path):
    csv = noisy_sine(tmp_path / "s.csv", n=400)
    out, plot, forecasts = tmp_path / "bt.csv", tmp_path / "bt.png", tmp_path / "f.csv"
    result = ok("backtest", csv, "--cell", "rnn", "--cell", "gru", "--folds", "3", "--out", out, "--plot", plot,
                "--forecasts", forecasts, "--test-frac", "0.1", "--interval", "0.8", *TINY)
    table = pd.read_csv(out)
    models = {"rnn", "gru", "ensemble", "start", "recommended", "naive", "seasonal_naive", "seasonal_diff", "mean",
              "drift"}
    per_fold = table[~table["fold"].isin(["mean", "std"])]
    assert set(per_fold["model"]) == models and sorted(per_fold["fold"].astype(int).unique()) == [1, 2, 3]
    assert per_fold["windows"].astype(int).eq(40).all()  # blocks of 40 rows, horizon 1: 40 origins each
    means = table[table["fold"] == "mean"].set_index("model")
    assert means.loc["rnn", "mse"] == pytest.approx(per_fold[per_fold["model"] == "rnn"]["mse"].mean())
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert "Backtest over 3 folds" in result.stdout and "seasonal m=24" in result.stdout
    # counts are whole numbers in the file, empty (not NaN-floats) on the mean and std rows
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[-9:-6] == ["train_rows", "val_rows", "windows"]
    assert lines[1].split(",")[-9:-6] == ["238", "42", "40"] and lines[-1].split(",")[-9:-6] == ["", "", ""]
    assert lines[0].split(",")[-3:] == ["picked", "diebold_mariano", "held_out_windows"]
    # each fold's recommended row carries the scores of the model its validation part picked
    picks = per_fold[per_fold["model"] == "recommended"]
    assert len(picks) == 3 and set(picks["picked"]) <= {"rnn", "gru", "ensemble", "naive", "seasonal_naive",
                                                         "seasonal_diff"}
    for pick in picks.itertuples():
        chosen = per_fold[(per_fold["fold"] == pick.fold) & (per_fold["model"] == pick.picked)].iloc[0]
        assert pick.mse == chosen["mse"]
    assert "validation recommended: " in result.stdout and "recommended (by validation)" in result.stdout
    # each fold states its own choice, made on its own rows
    header = [line for line in result.stdout.splitlines() if line.startswith("fold ")]
    assert [line.split(":")[0] for line in header] == ["fold 1/3", "fold 2/3", "fold 3/3"]
    assert header[0].startswith("fold 1/3: train 238, val 42, test 40 rows (2024-01-12 16:00:00 to 2024-01-14 "
                                "07:00:00); normalize ")
    assert "normalize auto (each fold decides on its own rows)" in result.stdout
    # every fold's forecasts in the long form of predict, scored exactly as the table says
    f = pd.read_csv(forecasts)
    assert list(f.columns[:8]) == ["fold", "model", "origin", "step", "timestamp", "forecast", "actual", "error"]
    assert {"naive", "seasonal_naive", "seasonal_diff", "lower_80", "upper_80"} <= set(f.columns)
    assert len(f) == 4 * 3 * 40 and set(f["model"]) == {"rnn", "gru", "ensemble", "start"}
    cells = f[f["model"].isin(["rnn", "gru"])].groupby(["fold", "origin", "step"])["forecast"].mean().to_numpy()
    np.testing.assert_allclose(f[f["model"] == "ensemble"]["forecast"], cells)
    fold2 = f[(f["fold"] == 2) & (f["model"] == "gru")]
    row = per_fold[(per_fold["fold"].astype(int) == 2) & (per_fold["model"] == "gru")].iloc[0]
    assert ((fold2["actual"] - fold2["forecast"]) ** 2).mean() == pytest.approx(row["mse"])
    start = f[(f["fold"] == 2) & (f["model"] == "start")]  # the untrained start the fold's cells began at
    row_start = per_fold[(per_fold["fold"].astype(int) == 2) & (per_fold["model"] == "start")].iloc[0]
    assert ((start["actual"] - start["forecast"]) ** 2).mean() == pytest.approx(row_start["mse"])
    assert "start (untrained)" in result.stdout
    inside = ((fold2["actual"] >= fold2["lower_80"]) & (fold2["actual"] <= fold2["upper_80"])).mean()
    assert row["coverage_80"] == pytest.approx(inside)
    assert "80% intervals cover" in result.stdout


@pytest.mark.slow
def test_backtest_prints_no_backend_noise(tmp_path):
    import os
    import subprocess
    import sys

    csv = noisy_sine(tmp_path / "s.csv", n=300)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell has it
    proc = subprocess.run([sys.executable, "-m", "forecast", "backtest", str(csv), "--folds", "1", "--cell", "rnn",
                           "--out", str(tmp_path / "b.csv"), "--plot", str(tmp_path / "b.png"), *TINY],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.parametrize("kind, chosen", [("walk", "naive"), ("seasonal", "seasonal"), ("trend", "sdiff")])
def test_auto_anchor_picks_the_reference_with_the_lowest_error_before_the_test_part(tmp_path, kind, chosen):
    from forecast.config import Anchor
    from forecast.anchors import choose_anchor

    rng, t = np.random.default_rng(0), np.arange(600)
    value = {"walk": np.cumsum(rng.standard_normal(600)),
             "seasonal": np.sin(2 * np.pi * t / 24) + 0.3 * rng.standard_normal(600),
             "trend": 0.3 * np.cumsum(rng.standard_normal(600)) + 3 * np.sin(2 * np.pi * t / 24)}[kind]
    time = pd.date_range("2024-01-01", periods=600, freq="h").strftime("%Y-%m-%d %H:%M")
    path = tmp_path / "s.csv"
    pd.DataFrame({"timestamp": time, "value": value}).to_csv(path, index=False)
    prep = prepare(DataConfig(str(path), normalize=Normalize.global_), WindowConfig(48, 6))
    anchor, why = choose_anchor(prep, Anchor.auto)
    assert anchor.value == chosen
    # every origin with 24 rows of history whose six targets lie in the training or validation part
    assert why.startswith(f"mean absolute error over {prep.split.val_end - 6 - 47:,} training and validation "
                          "origins: naive ")
    assert choose_anchor(prep, Anchor.none) == (Anchor.none, "")


@pytest.mark.slow
def test_an_anchored_run_records_its_reference_and_predicts_from_its_saved_model(tmp_path):
    csv = noisy_sine(tmp_path / "s.csv", noise=0.3)
    result = ok("train", csv, "--cell", "gru", "--horizon", "4", "--anchor", "auto", "--linear", "--runs-dir",
                tmp_path / "runs", *TINY)
    assert "anchor seasonal (auto: mean absolute error over " in result.stdout and "; linear path" in result.stdout
    run = tmp_path / "runs" / "s-gru"
    meta = json.loads((run / "config.json").read_text())
    assert meta["anchor"]["asked"] == "auto" and meta["anchor"]["used"] == "seasonal"
    assert meta["options"]["model"]["anchor"] == "seasonal" and meta["options"]["model"]["linear"] is True
    test = pd.read_csv(run / "test_predictions.csv")
    out = tmp_path / "p.csv"
    ok("predict", run, csv, "--out", out)  # the saved model, its Reference layer included, loads in safe mode
    preds = pd.read_csv(out)
    same = preds.merge(test, on=["origin", "step"], suffixes=("", "_test"))
    assert len(same) == len(test)  # every test window, forecast again from the saved model
    np.testing.assert_allclose(same["forecast"], same["forecast_test"], rtol=1e-5)


@pytest.mark.parametrize("n, season, horizon, lookback, why", [
    (108, 4, 4, 8, "two seasons of 4"),
    (240, 12, 18, 25, "the 25 rows the seasonal difference reads at horizon 18"),
    (2000, 1, 1, 48, "no season"),
    (60, 24, 1, 21, "two seasons of 24 would be 48, cut to half the 42 training rows"),
    # at most a quarter of the training rows (a 100-year annual series: 17 of 70), but not below the rows the
    # seasonal difference reads (its floor), or 8 without a season; never over half
    (100, 1, 1, 17, "no season would be 48, cut to a quarter of the 70 training rows"),
    (120, 12, 12, 21, "two seasons of 12 would be 24, cut to a quarter of the 84 training rows"),
    (72, 12, 6, 13, "two seasons of 12 would be 24, cut to the 13 rows the seasonal difference reads (50 training rows)"),
    (40, 1, 1, 8, "no season would be 48, cut to 8 (28 training rows)"),
    (20, 1, 1, 7, "no season would be 48, cut to half the 14 training rows"),
    (8000, 48, 48, 96, "two seasons of 48"),
    (100_000, 1440, 1, 336, "two seasons of 1440 would be 2880, cut to 336"),
])
def test_the_default_lookback_follows_the_season_and_the_length(n, season, horizon, lookback, why):
    from forecast.split import choose_lookback

    assert choose_lookback(n, season, horizon, DataConfig("s.csv")) == (lookback, why)


def test_an_explicit_lookback_is_kept_and_the_default_is_printed(tmp_path):
    csv = noisy_sine(tmp_path / "s.csv", n=300)
    assert prepare(DataConfig(str(csv)), WindowConfig(30, 2)).window == WindowConfig(30, 2)
    prep = prepare(DataConfig(str(csv)), WindowConfig(None, 2))
    assert (prep.window, prep.lookback_reason) == (WindowConfig(48, 2), "two seasons of 24")


@pytest.mark.slow
def test_a_model_that_is_still_its_linear_start_brings_its_held_out_training_forecasts_to_the_recommendation(
        tmp_path):
    from forecast.ensemble import diebold_mariano

    rng, t = np.random.default_rng(0), np.arange(400)
    noise = np.zeros(400)
    for i in range(1, 400):  # AR(1) around a daily cycle: a linear fit on the window beats the seasonal naive
        noise[i] = 0.8 * noise[i - 1] + 0.3 * rng.standard_normal()
    time = pd.date_range("2024-01-01", periods=400, freq="h").strftime("%Y-%m-%d %H:%M")
    csv = tmp_path / "ar.csv"
    pd.DataFrame({"timestamp": time, "value": 10 + np.sin(2 * np.pi * t / 24) + noise}).to_csv(csv, index=False)
    # a learning rate too small to move: no epoch beats the start, so both cells keep their linear start
    ok("train", csv, "--cell", "rnn", "--cell", "gru", "--horizon", "4", "--lookback", "48", "--units", "4",
       "--epochs", "2", "--learning-rate", "1e-9", "--runs-dir", tmp_path / "runs")
    runs = [tmp_path / "runs" / f"ar-{cell}" for cell in ("rnn", "gru")]
    metrics = [json.loads((run / "metrics.json").read_text()) for run in runs]
    assert all(m["model_epoch"] == 0 and m["linear_start"]["ridge"] is not None for m in metrics)
    held = [pd.read_csv(run / "heldout_errors.csv") for run in runs]
    n_train = 280 - 4 - 47  # the training windows: 48 rows of history, 4 targets inside the first 280 rows
    assert list(held[0].columns) == ["origin", "mae"] and len(held[0]) == n_train
    assert held[0]["origin"].iloc[0] == time[47] + ":00"
    np.testing.assert_allclose(held[0]["mae"], held[1]["mae"])  # both cells kept the same start
    chosen = metrics[0]["recommended"]
    assert chosen["best_model"] == "ensemble" and chosen["held_out_windows"] == n_train

    y, origins = pd.read_csv(csv)["value"].to_numpy(), np.arange(47, 47 + n_train)
    # the backtest's folds bring the same evidence: its held-out training windows, counted in the recommended row
    ok("backtest", csv, "--cell", "rnn", "--cell", "gru", "--folds", "2", "--horizon", "4", "--lookback", "48",
       "--units", "4", "--epochs", "2", "--learning-rate", "1e-9", "--out", tmp_path / "bt.csv", "--plot", tmp_path / "bt.png")
    table = pd.read_csv(tmp_path / "bt.csv")
    picks = table[(table["model"] == "recommended") & ~table["fold"].isin(["mean", "std"])]
    assert (picks["held_out_windows"] == picks["train_rows"] - 4 - 47).all() and picks["diebold_mariano"].lt(0).all()
    assert table.loc[table["model"] != "recommended", "held_out_windows"].isna().all()
    steps = np.arange(1, 5)
    reference = {"naive": lambda t: np.repeat(y[t], 4), "seasonal_naive": lambda t: y[t + steps - 24],
                 "seasonal_diff": lambda t: y[t] + y[t + steps - 24] - y[t - 24]}[chosen["best_reference"]]
    ref_mae = np.array([np.abs(y[t + steps] - reference(t)).mean() for t in origins])
    val = [pd.read_csv(run / "val_predictions.csv") for run in runs]
    val_mae = {name: np.abs(val[0]["actual"] - value).to_numpy().reshape(-1, 4).mean(axis=1)
               for name, value in (("ensemble", (val[0]["forecast"] + val[1]["forecast"]) / 2),
                                   ("reference", val[0][chosen["best_reference"]]))}
    # the ensemble's held-out error: the mean of its members' (exact here, where they are the same start)
    diff = np.concatenate([held[0]["mae"].to_numpy() - ref_mae, val_mae["ensemble"] - val_mae["reference"]])
    assert chosen["diebold_mariano"] == pytest.approx(diebold_mariano(diff, 4))
