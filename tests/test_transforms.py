import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.config import Transform
from forecast.errors import DataError
from forecast.transforms import check_positive, forward, inverse


@given(y=arrays(np.float64, st.integers(3, 60), elements=st.floats(0.01, 1e6)),
       transform=st.sampled_from(list(Transform)), horizon=st.integers(1, 5), data=st.data())
def test_inverse_of_forward_is_exact(y, transform, horizon, data):
    if len(y) <= horizon + 1:
        return
    t = data.draw(st.integers(1, len(y) - horizon - 1))  # an origin with a previous row
    z = forward(y, transform)
    back = inverse(z[None, t + 1:t + 1 + horizon], y[[t]], transform)
    np.testing.assert_allclose(back[0], y[t + 1:t + 1 + horizon], rtol=1e-9, atol=1e-9 * np.abs(y).max())


def test_differences_start_with_nan():
    assert np.isnan(forward(np.array([1.0, 3.0, 6.0]), Transform.diff)[0])
    np.testing.assert_allclose(forward(np.array([1.0, 3.0, 6.0]), Transform.diff)[1:], [2, 3])
    np.testing.assert_allclose(forward(np.array([1.0, np.e]), Transform.logdiff)[1:], [1 - 0])


def test_zero_offset_reproduces_the_naive_forecast():
    y0 = np.array([5.0, 7.0])
    for transform in (Transform.diff, Transform.logdiff):
        np.testing.assert_allclose(inverse(np.zeros((2, 3)), y0, transform), [[5] * 3, [7] * 3])


@pytest.mark.parametrize("transform", [Transform.log, Transform.logdiff])
def test_logs_need_positive_values(transform):
    with pytest.raises(DataError) as err:
        check_positive(np.array([1.0, 0.0, 2.0]), transform, "price", "p.csv")
    assert str(err.value) == (f"--transform {transform.value} needs positive values, but `price` in p.csv is 0 at data "
                              "row 2 in time order; use --transform diff or none")
    check_positive(np.array([-1.0, 0.0]), Transform.diff, "price", "p.csv")  # diff accepts any sign
