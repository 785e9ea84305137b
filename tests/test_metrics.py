import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.baselines import naive
from forecast.metrics import mae, mse, rmse, score


def test_metrics_match_hand_computed_values():
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 1.0, 4.0])
    # errors 0, -1, 2, 0
    assert mse(y, p) == pytest.approx(5 / 4)
    assert rmse(y, p) == pytest.approx(np.sqrt(5 / 4))
    assert mae(y, p) == pytest.approx(3 / 4)
    assert score(y, p) == {"mse": pytest.approx(1.25), "rmse": pytest.approx(1.1180339), "mae": pytest.approx(0.75)}


@given(arrays(np.float64, st.integers(1, 50), elements=st.floats(-1e6, 1e6)))
def test_metrics_are_zero_on_a_perfect_forecast(y):
    assert score(y, y.copy()) == {"mse": 0.0, "rmse": 0.0, "mae": 0.0}


def test_naive_repeats_the_value_at_each_origin():
    target = np.array([5.0, 6.0, 7.0, 8.0, 9.0])
    np.testing.assert_array_equal(naive(target, np.array([1, 3]), 3), [[6, 6, 6], [8, 8, 8]])
