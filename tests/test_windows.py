import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from forecast.windows import Windows, forecast_origins, part_origins


@given(n=st.integers(2, 300), lookback=st.integers(1, 50), horizon=st.integers(1, 20), f=st.integers(1, 3))
def test_windows_are_slices_of_the_series(n, lookback, horizon, f):
    values = np.arange(n * f, dtype=np.float32).reshape(n, f)
    origins = part_origins((0, n), lookback, horizon)
    assert len(origins) == max(0, n - lookback - horizon + 1)
    w = Windows(values, lookback, horizon, origins)
    if len(w) == 0:
        return
    x, y = w.inputs(slice(None)), w.targets(slice(None))
    assert x.shape == (len(origins), lookback, f)
    assert y.shape == (len(origins), horizon)
    for i, t in enumerate(origins):
        np.testing.assert_array_equal(x[i], values[t - lookback + 1:t + 1])
        np.testing.assert_array_equal(y[i], values[t + 1:t + 1 + horizon, 0])


@given(n=st.integers(10, 400), lookback=st.integers(1, 30), horizon=st.integers(1, 10),
       cut1=st.floats(0.3, 0.6), cut2=st.floats(0.7, 0.9))
def test_targets_never_leave_their_part(n, lookback, horizon, cut1, cut2):
    a, b = int(n * cut1), int(n * cut2)
    for start, end in ((0, a), (a, b), (b, n)):
        origins = part_origins((start, end), lookback, horizon)
        if len(origins):
            assert origins.min() + 1 >= start  # first target inside the part
            assert origins.max() + horizon <= end - 1  # last target inside the part
            assert origins.min() >= lookback - 1  # full lookback of history


def test_val_windows_read_history_before_their_part():
    origins = part_origins((100, 130), lookback=48, horizon=3)
    assert origins[0] == 99 and origins[-1] == 126
    w = Windows(np.arange(200, dtype=np.float32)[:, None], 48, 3, origins)
    assert w.inputs([0])[0, 0, 0] == 52  # inputs start in the training part
    assert w.targets([0])[0].tolist() == [100, 101, 102]


def test_windows_are_views_not_copies():
    values = np.zeros((10_000, 1), dtype=np.float32)
    w = Windows(values, 168, 24, part_origins((0, 10_000), 168, 24))
    assert np.shares_memory(w._inputs, values) and np.shares_memory(w._targets, values)
    assert w.inputs(np.arange(32)).nbytes == 32 * 168 * 4  # only a batch is materialised


def test_forecast_origins_reach_the_last_row_without_targets():
    w = Windows(np.zeros((10, 1), dtype=np.float32), 4, 2, forecast_origins(10, 4))
    assert w.origins.tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert w.origins.max() + w.horizon >= 10  # the last windows reach past the data: no targets there
    assert w.inputs(slice(None)).shape == (7, 4, 1)


def test_training_batches_cover_every_window_once_and_reshuffle_by_epoch():
    from forecast.batches import WindowBatches

    w = Windows(np.arange(120, dtype=np.float32)[:, None], 5, 1, part_origins((0, 120), 5, 1))
    batches = WindowBatches(w, 10, shuffle_seed=0)
    seen = [batches[i][1][:, 0] - 1 for i in range(len(batches))]  # target - 1 = origin row for this series
    assert len(batches) == 12 and [len(b) for b in seen] == [10] * 11 + [5]
    first = np.concatenate(seen)
    assert sorted(first.tolist()) == list(range(4, 119))
    batches.on_epoch_end()
    second = np.concatenate([batches[i][1][:, 0] - 1 for i in range(len(batches))])
    assert sorted(second.tolist()) == sorted(first.tolist()) and second.tolist() != first.tolist()
    again = WindowBatches(w, 10, shuffle_seed=0, epoch=1)  # a resumed training sees the same epoch-1 order
    np.testing.assert_array_equal(np.concatenate([again[i][1][:, 0] - 1 for i in range(len(again))]), second)


def test_steps_per_epoch_takes_a_fresh_random_sample_of_windows_every_epoch():
    from forecast.batches import WindowBatches

    w = Windows(np.arange(120, dtype=np.float32)[:, None], 5, 1, part_origins((0, 120), 5, 1))
    batches = WindowBatches(w, 10, shuffle_seed=0, steps=3)
    assert len(batches) == 3
    epochs = []
    for _ in range(4):
        origins = np.concatenate([batches[i][1][:, 0] - 1 for i in range(len(batches))])
        assert len(origins) == 30 and len(set(origins.tolist())) == 30  # no window twice within an epoch
        epochs.append(set(origins.tolist()))
        batches.on_epoch_end()
    assert all(a != b for a, b in zip(epochs, epochs[1:]))
    assert len(set().union(*epochs)) > 60  # the samples move over the series instead of repeating its start
    assert len(WindowBatches(w, 10, shuffle_seed=0, steps=50)) == 12  # a cap above one pass changes nothing
