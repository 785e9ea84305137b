import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.baselines import drift, naive, seasonal_difference, seasonal_naive, window_mean
from forecast.dates import infer_season
from forecast.metrics import (
    conformal_quantiles,
    coverage,
    mae,
    mape,
    mase,
    mse,
    naive_scale,
    rmse,
    score,
    score_by_step,
    smape,
)


def test_metrics_match_hand_computed_values():
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 1.0, 4.0])
    # errors 0, -1, 2, 0
    assert mse(y, p) == pytest.approx(5 / 4)
    assert rmse(y, p) == pytest.approx(math.sqrt(5 / 4))
    assert mae(y, p) == pytest.approx(3 / 4)
    assert mape(y, p) == pytest.approx(100 * (0 + 1 / 2 + 2 / 3 + 0) / 4)
    assert smape(y, p) == pytest.approx(100 * (0 + 2 / 5 + 4 / 4 + 0) / 4)
    assert mase(y, p, scale=0.5) == pytest.approx(1.5)
    assert score(y, p, 0.5) == {"mse": 1.25, "rmse": pytest.approx(1.1180340), "mae": 0.75,
                                "mape": pytest.approx(29.1666667), "smape": pytest.approx(35.0), "mase": 1.5}


def test_undefined_metrics_are_missing_not_inf():
    y, p = np.array([0.0, 2.0]), np.array([1.0, 2.0])
    assert mape(y, p) is None  # an actual of zero
    assert smape(np.zeros(3), np.zeros(3)) == 0.0  # 0/0 terms count as exact
    assert mase(y, p, scale=0.0) is None and mase(y, p, scale=math.nan) is None


def test_mase_scale_is_the_in_sample_seasonal_naive_mae():
    y = np.array([1.0, 5.0, 2.0, 7.0, 4.0, 6.0])
    assert naive_scale(y, 1) == pytest.approx((4 + 3 + 5 + 3 + 2) / 5)
    assert naive_scale(y, 2) == pytest.approx((1 + 2 + 2 + 1) / 4)


def test_scores_by_step_are_per_column():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[1.0, 0.0], [3.0, 0.0]])
    steps = score_by_step(y, p)
    assert [s["mse"] for s in steps] == [0.0, (4 + 16) / 2]


@given(arrays(np.float64, st.integers(1, 50), elements=st.floats(1e-3, 1e6)))
def test_metrics_are_zero_on_a_perfect_forecast(y):
    s = score(y, y.copy(), scale=1.0)
    assert s == {"mse": 0.0, "rmse": 0.0, "mae": 0.0, "mape": 0.0, "smape": 0.0, "mase": 0.0}


TARGET = np.array([10.0, 11.0, 12.0, 13.0, 14.0, 20.0, 21.0, 22.0])


def test_naive_repeats_the_value_at_each_origin():
    np.testing.assert_array_equal(naive(TARGET, np.array([1, 3]), 3), [[11, 11, 11], [13, 13, 13]])


def test_seasonal_naive_repeats_the_last_season():
    # season 3, origin 4: steps 1..4 take rows 2, 3, 4, 2+3=5? no: row t+h-3*ceil(h/3) -> 2, 3, 4, 2
    np.testing.assert_array_equal(seasonal_naive(TARGET, np.array([4]), 4, season=3), [[12, 13, 14, 12]])
    np.testing.assert_array_equal(seasonal_naive(TARGET, np.array([4]), 2, season=1), naive(TARGET, np.array([4]), 2))


def test_seasonal_difference_moves_last_season_to_the_current_level():
    # y = 3, 1, 4, 1, 5, 9, 2, 6 at rows 0..7; season 3, origin 6 (y = 2), horizon 4:
    # h=1: k=1, y6 + y4 - y3 = 2 + 5 - 1 = 6;  h=2: y6 + y5 - y3 = 2 + 9 - 1 = 10;  h=3: y6 + y6 - y3 = 3;
    # h=4: k=2, y6 + y4 - y0 = 2 + 5 - 3 = 4
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=float)
    np.testing.assert_array_equal(seasonal_difference(y, np.array([6]), 4, season=3), [[6, 10, 3, 4]])
    # season 1: k = h, y[t] + y[t] - y[t-h], a straight line through the last two steps' ends
    np.testing.assert_array_equal(seasonal_difference(y, np.array([7]), 2, season=1), [[6 + 6 - 2, 6 + 6 - 9]])
    # a series that repeats its season on a rising level is forecast exactly
    t = np.arange(40.0)
    y = 0.5 * t + np.tile([0.0, 3.0, -1.0, 2.0], 10)
    origins = np.arange(20, 30)
    future = y[origins[:, None] + np.arange(1, 7)[None, :]]
    np.testing.assert_allclose(seasonal_difference(y, origins, 6, season=4), future)


def test_baselines_without_enough_history_are_missing_only_there():
    from forecast.baselines import baseline_forecasts, history

    y = np.arange(30.0)
    assert history("seasonal_diff", 10, 7, 9) == 14  # k = ceil(9/7) = 2 seasons back
    out = baseline_forecasts(y, np.arange(30), 9, 10, 7)
    assert np.isnan(out["seasonal_diff"][:14]).all() and not np.isnan(out["seasonal_diff"][14:]).any()
    assert np.isnan(out["seasonal_naive"][:6]).all() and not np.isnan(out["seasonal_naive"][6:]).any()
    assert not np.isnan(out["naive"]).any() and np.isnan(out["mean"][:9]).all()


def test_window_mean_and_drift_use_the_lookback():
    np.testing.assert_allclose(window_mean(TARGET, np.array([4, 5]), 2, lookback=3), [[13, 13], [(13 + 14 + 20) / 3] * 2])
    # drift over rows 2..5 (12 -> 20): slope 8/3
    np.testing.assert_allclose(drift(TARGET, np.array([5]), 3, lookback=4), [[20 + 8 / 3, 20 + 16 / 3, 28]])


@pytest.mark.parametrize("freq, season", [("h", 24), ("30min", 48), ("15min", 96), ("D", 7), ("B", 5),
                                          ("MS", 12), ("ME", 12), ("W-SUN", 52), (None, 1), ("7D", 1)])
def test_season_is_inferred_from_the_frequency(freq, season):
    assert infer_season(freq) == season


def test_conformal_intervals_cover_their_level_on_known_noise():
    rng = np.random.default_rng(0)
    for level in (0.5, 0.8, 0.9, 0.95):
        val = rng.normal(0, 2.0, size=(500, 3))  # residuals of a forecast with Gaussian noise, sd 2
        q = conformal_quantiles(val, level)
        test = rng.normal(0, 2.0, size=(20_000, 3))
        assert coverage(test, np.zeros_like(test), q) == pytest.approx(level, abs=0.03)
        # the half-width is the noise's |quantile|: 2 * z_{(1+level)/2}
        z = {0.5: 0.674, 0.8: 1.282, 0.9: 1.645, 0.95: 1.960}[level]
        np.testing.assert_allclose(q, 2 * z, rtol=0.12)
    assert conformal_quantiles(np.ones((5, 2)), 0.9) == [math.inf, math.inf]  # too few residuals for 90%
