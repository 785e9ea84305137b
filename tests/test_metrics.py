import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.baselines import drift, naive, seasonal_naive, window_mean
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
