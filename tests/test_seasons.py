"""A second season: the week of sub-daily data that shows one, with its seasonal references in every score, the
default lookback that holds them, and anchors on them."""

import json

import numpy as np
import pandas as pd
import pytest

from forecast.baselines import (baseline_forecasts, baseline_label, references, season_evidence, season_of,
                                second_season)
from forecast.config import DataConfig, WindowConfig
from forecast.prepare import prepare
from tests.conftest import cli_ok as ok
from tests.conftest import write_csv


def weekly(n: int, per_day: int, weekend: float = 3.0, noise: float = 0.2, seed: int = 0) -> np.ndarray:
    """A daily cycle of `per_day` steps, five working days and a weekend `weekend` lower, and noise."""
    t = np.arange(n)
    day = (t // per_day) % 7
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * t / per_day) - weekend * (day >= 5) + noise * rng.standard_normal(n)


def test_the_week_is_a_second_season_only_where_the_training_part_shows_it():
    assert second_season(weekly(600, 4), 4, (28,), 2) == 28  # 6-hourly: a week is 28 steps
    assert second_season(weekly(600, 4, weekend=0.0), 4, (28,), 2) == 1  # a daily cycle alone: the day back is as close
    assert second_season(weekly(83, 4), 4, (28,), 2) == 1  # under three weeks
    assert second_season(weekly(600, 4), 4, (), 2) == 1  # no longer cycle at this spacing
    assert second_season(weekly(600, 4), 28, (28,), 2) == 1  # --season 28 is the week already
    assert second_season(weekly(600, 4), 4, (28,), 600) == 1  # the seasonal difference of the week would read too far


def yearly(n: int, weekend: float = 3.0, noise: float = 1.0, period: float = 365.25, seed: int = 0) -> np.ndarray:
    """Daily: a yearly cycle of amplitude 10, a weekend `weekend` lower, and noise."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 10 * np.sin(2 * np.pi * t / period) - weekend * (t % 7 >= 5) + noise * rng.standard_normal(n)


def test_the_year_is_a_second_season_of_daily_data_at_horizons_where_the_training_part_shows_it():
    from forecast.baselines import naive_error
    from forecast.dates import YEAR, cycle_name, longer_cycles

    assert longer_cycles("D") == YEAR == (364, 365) and longer_cycles("30min") == (336,) and longer_cycles("h") == (
        168,)
    assert longer_cycles("B") == longer_cycles("MS") == longer_cycles("W-SUN") == longer_cycles(None) == ()
    assert cycle_name(364) == cycle_name(365) == "year" and cycle_name(336) == "week"
    y = yearly(1400)
    assert second_season(y, 7, YEAR, 90) == 364  # 13 weeks back is a quarter of the year away; 52 weeks back is not
    noisy = yearly(1400, noise=3.0)
    assert second_season(noisy, 7, YEAR, 90) == 364
    assert second_season(noisy, 7, YEAR, 1) == 1  # the next day: a week back is about as close as a year back
    assert second_season(yearly(1400, weekend=0.0, noise=0.2, period=365.0), 7, YEAR, 90) == 365  # no weekday to keep
    assert second_season(y[:1000], 7, YEAR, 90) == 1  # under three years
    # by hand: the seasonal naive at 2 for horizon 3 reads 2, 2 and 4 rows back, scored on rows 4 and 5
    z = np.array([0.0, 1, 3, 6, 10, 15])
    assert naive_error(z, 2, 3, 4) == pytest.approx((2 * (7 + 9) / 2 + (10 + 14) / 2) / 3)


def test_the_references_of_the_second_season_by_hand():
    y = np.arange(40, dtype=float) ** 2
    out = baseline_forecasts(y, np.array([30]), 3, 1, 4, season2=14)
    assert list(out) == ["naive", "seasonal_naive", "seasonal_diff", "seasonal_naive2", "seasonal_diff2", "mean",
                         "drift"]
    # one week (14 rows) back from each step: y[30 + h - 14]
    np.testing.assert_array_equal(out["seasonal_naive2"][0], [17 ** 2, 18 ** 2, 19 ** 2])
    # last week's shape moved to the current level: y[30] + y[16 + h] - y[16]
    np.testing.assert_array_equal(out["seasonal_diff2"][0], [900 + 17 ** 2 - 16 ** 2, 900 + 18 ** 2 - 16 ** 2,
                                                              900 + 19 ** 2 - 16 ** 2])
    np.testing.assert_array_equal(out["seasonal_naive"][0], [27 ** 2, 28 ** 2, 29 ** 2])  # the first season's
    assert list(baseline_forecasts(y, np.array([30]), 3, 1, 4)) == ["naive", "seasonal_naive", "seasonal_diff",
                                                                     "mean", "drift"]
    assert np.isnan(baseline_forecasts(y, np.array([10]), 3, 1, 4, season2=14)["seasonal_diff2"]).all()
    assert baseline_label("seasonal_diff2", 4, 14) == "seasonal diff m=14"
    assert baseline_label("seasonal_naive2", 4, 14) == "seasonal m=14" and baseline_label("seasonal_naive", 4) == \
        "seasonal m=4"
    assert references(14)[3:] == ("seasonal_naive2", "seasonal_diff2") and len(references(1)) == 3


@pytest.mark.parametrize("n, season, horizon, season2, lookback, why", [
    (4032, 48, 48, 336, 384, "a week and a day (336 + 48), for the references of the week"),
    (2000, 24, 24, 168, 192, "a week and a day (168 + 24), for the references of the week"),
    (2000, 24, 200, 168, 337, "the 337 rows the seasonal difference of the week reads"),
    (1000, 48, 48, 336, 96, "two seasons of 48"),  # a week and a day is over half the 700 training rows
    (100_000, 96, 1, 672, 768, "a week and a day (672 + 96), for the references of the week"),
    (100_000, 288, 1, 2016, 336, "two seasons of 288 would be 576, cut to 336"),  # 5-minute data: over 768
    (1826, 7, 60, 364, 371, "a year and a week (364 + 7), for the references of the year"),  # daily, five years
])
def test_the_default_lookback_holds_the_week_where_there_is_one(n, season, horizon, season2, lookback, why):
    from forecast.split import choose_lookback

    assert choose_lookback(n, season, horizon, DataConfig("s.csv"), season2=season2) == (lookback, why)


def test_validation_recommends_the_reference_over_a_model_that_forecasts_the_same():
    from forecast.ensemble import SIGNIFICANCE, recommend, recommendation_note

    rng = np.random.default_rng(0)
    actual = rng.standard_normal((300, 2))
    reference = actual + rng.standard_normal((300, 2))
    kept = reference + 1e-7 * np.sign(actual - reference)  # an anchored model that kept its start: float rounding
    chosen = recommend(actual, {"lstm": kept, "seasonal_diff2": reference, "naive": reference + 1})
    assert chosen["diebold_mariano"] < -SIGNIFICANCE  # consistently closer, by nothing that matters
    assert chosen["model"] == "seasonal_diff2" and chosen["best_model"] == "lstm" and chosen["same_forecasts"]
    assert recommendation_note(chosen, str) == ("seasonal_diff2, the simple model with the lowest validation MAE: lstm "
                                                "forecasts the same to within 1e-04 of its errors (it kept the reference it started "
                                                "from)")
    better = recommend(actual, {"lstm": actual + 0.5 * (reference - actual), "seasonal_diff2": reference})
    assert better["model"] == "lstm" and "same_forecasts" not in better


@pytest.fixture(scope="module")
def hourly_week(tmp_path_factory):
    """Hourly, five working days and a lower weekend, 6 weeks: the week (168) shows on the training part."""
    tmp = tmp_path_factory.mktemp("week")
    n = 24 * 7 * 6
    time = pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M")
    csv = write_csv(tmp / "week.csv", pd.DataFrame({"timestamp": time, "load": weekly(n, 24)}))
    result = ok("train", csv, "--cell", "gru", "--horizon", "6", "--units", "4", "--epochs", "2", "--runs-dir",
                tmp / "runs")
    return csv, tmp / "runs" / "week-gru", result.stdout


def test_train_scores_the_references_of_the_week_and_starts_from_one(hourly_week, tmp_path):
    csv, run, stdout = hourly_week
    assert "season 24 (inferred from h; the training part's lag-24 autocorrelation of differences 0.15 > 0.07) and 168 (the week, which its training part shows);" in stdout
    assert "lookback 192 (auto: a week and a day (168 + 24), for the references of the week)" in stdout
    assert "seasonal m=168" in stdout and "seasonal diff m=168" in stdout and "seasonal m=24" in stdout
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["season"] == 24 and metrics["test"]["season2"] == 168
    assert {"seasonal_naive2", "seasonal_diff2"} <= set(metrics["test"]["baselines"]) <= set(
        metrics["test"]["by_step"][0])
    assert {"seasonal_naive2", "seasonal_diff2"} <= set(metrics["val"]["baselines"])
    config = json.loads((run / "config.json").read_text())
    assert config["anchor"]["used"] in ("seasonal2", "sdiff2")  # a week back is far closer than a day back here
    assert "seasonal2 " in config["anchor"]["reason"] and "sdiff2 " in config["anchor"]["reason"]
    table = pd.read_csv(run / "test_predictions.csv")
    assert {"seasonal_naive2", "seasonal_diff2"} <= set(table.columns)
    result = ok("predict", run, csv, "--out", tmp_path / "p.csv")
    assert "seasonal m=168 MSE" in result.stdout and "seasonal diff m=168 MSE" in result.stdout
    preds = pd.read_csv(tmp_path / "p.csv")
    same = preds.merge(table, on=["origin", "step"], suffixes=("", "_test"))
    np.testing.assert_allclose(same["seasonal_diff2"], same["seasonal_diff2_test"])  # the same references again
    compared = ok("compare", run, "--out", tmp_path / "c.png")
    assert "seasonal m=168" in compared.stdout and "seasonal diff m=24" in compared.stdout


def test_data_without_a_week_keeps_the_three_references(trained):
    metrics = json.loads((trained.runs / "sine-gru" / "metrics.json").read_text())
    assert metrics["test"]["season2"] == 1
    assert not {"seasonal_naive2", "seasonal_diff2"} & set(metrics["test"]["baselines"])
    assert "m=168" not in trained.stdout and "the week" not in trained.stdout


def test_backtest_scores_the_references_of_the_week_in_every_fold(hourly_week, tmp_path):
    csv, _, _ = hourly_week
    result = ok("backtest", csv, "--cell", "gru", "--folds", "2", "--horizon", "6", "--units", "4", "--epochs", "1",
                "--out", tmp_path / "b.csv", "--plot", tmp_path / "b.png")
    assert "seasonal m=168" in result.stdout and "seasonal diff m=168" in result.stdout
    per_fold = pd.read_csv(tmp_path / "b.csv")
    for name in ("seasonal_naive2", "seasonal_diff2"):
        assert per_fold.loc[per_fold["model"] == name, "fold"].astype(str).tolist() == ["1", "2", "mean", "std"]
    assert (tmp_path / "b.png").stat().st_size > 0


def test_train_on_daily_data_scores_the_references_of_the_year_where_the_horizon_reaches_it(tmp_path):
    n = 5 * 365
    time = pd.date_range("2019-01-01", periods=n, freq="D").strftime("%Y-%m-%d")
    csv = write_csv(tmp_path / "daily.csv", pd.DataFrame({"date": time, "value": yearly(n, noise=3.0)}))
    result = ok("train", csv, "--cell", "gru", "--horizon", "60", "--units", "4", "--epochs", "1", "--runs-dir",
                tmp_path / "runs")
    assert "season 7 (inferred from D; the training part's lag-7 autocorrelation of differences 0.16 > 0.05) and 364 (the year, which its training part shows);" in result.stdout
    assert "lookback 371 (auto: a year and a week (364 + 7), for the references of the year)" in result.stdout
    assert "seasonal m=364" in result.stdout and "seasonal diff m=364" in result.stdout
    metrics = json.loads((tmp_path / "runs" / "daily-gru" / "metrics.json").read_text())
    assert metrics["test"]["season"] == 7 and metrics["test"]["season2"] == 364
    test = metrics["test"]["baselines"]
    assert test["seasonal_naive2"]["mse"] < 0.6 * test["seasonal_naive"]["mse"]  # up to 63 days off at m=7
    config = json.loads((tmp_path / "runs" / "daily-gru" / "config.json").read_text())
    assert config["anchor"]["used"] in ("seasonal2", "sdiff2")
    short = ok("train", csv, "--cell", "gru", "--horizon", "1", "--units", "4", "--epochs", "1", "--lookback", "14",
               "--runs-dir", tmp_path / "runs", "--name", "next-day")
    assert "(the year" not in short.stdout and "m=364" not in short.stdout  # the next day: the week back is as close


def test_the_calendar_season_is_kept_only_where_the_training_part_shows_it():
    rng = np.random.default_rng(0)
    cycle = np.sin(2 * np.pi * np.arange(400) / 12) + 0.3 * rng.standard_normal(400)
    walk = np.cumsum(rng.standard_normal(400))
    assert season_of([cycle], 12, "MS") == (12, "inferred from MS; the training part's lag-12 autocorrelation of "
                                                "differences 0.45 > 0.10")
    assert season_of([walk], 12, "MS") == (1, "MS suggests 12, but the training part's lag-12 autocorrelation of "
                                              "differences -0.01 <= 0.10: no season; --season 12 keeps it")
    # too short to judge (under two seasons of differences): the calendar's season stays
    assert season_of([walk[:20]], 12, "MS") == (12, "inferred from MS; too few training rows to test it")
    assert season_evidence(walk[:24], 12) is None and season_evidence(walk[:25], 12) is not None
    assert season_evidence(np.arange(50.0), 12) is None  # constant differences: nothing to correlate
    assert season_of([walk], 1, "YS-JAN") == (1, "no season for YS-JAN")
    assert season_of([walk], 1, None) == (1, "no frequency")
    # several series pool their evidence, weighted by their rows, against the bar of all their rows
    walks = [np.cumsum(np.random.default_rng(seed).standard_normal(400)) for seed in range(1, 6)]
    assert season_of(walks, 12, "MS")[0] == 1
    assert season_of([cycle, *walks[:2]], 12, "MS") == (12, "inferred from MS; 3 training parts' lag-12 "
                                                            "autocorrelation of differences 0.13 > 0.06")


def test_a_calendar_season_the_data_does_not_show_is_dropped_from_the_defaults(tmp_path):
    rng = np.random.default_rng(1)
    n = 300
    time = pd.date_range("2020-01-06", periods=n, freq="B").strftime("%Y-%m-%d")
    walk = write_csv(tmp_path / "walk.csv", pd.DataFrame({"date": time, "close": 100 + np.cumsum(rng.standard_normal(n))}))
    prep = prepare(DataConfig(path=str(walk)), WindowConfig(horizon=1))
    assert prep.season == 1 and prep.season_reason.startswith("B suggests 5, but the training part's lag-5 ")
    assert (prep.window.lookback, prep.lookback_reason) == (48, "no season")  # not two seasons of 5
    kept = prepare(DataConfig(path=str(walk), season=5), WindowConfig(horizon=1))
    assert (kept.season, kept.season_reason, kept.window.lookback) == (5, "--season", 10)
