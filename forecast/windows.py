"""Windows (lookback rows in -> horizon target values out) as views of the series; batches gathered on demand.
Under `--normalize window` the target column of a window is expressed as offsets from its value at the origin.

Nothing here copies the series: `sliding_window_view` returns strided views, and only the rows of one
batch are ever materialised, so memory is bounded by the batch size, not by rows x lookback.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecast.config import Normalize


class Windows:
    """The windows of one part of a series, identified by their origins.

    The origin `t` of a window is the row of its last input: inputs are rows `t-lookback+1 .. t`, targets
    are the target column (column 0) at rows `t+1 .. t+horizon`. Origins past the end of the series have no
    targets (that is forecasting the future); such windows are input-only.
    """

    def __init__(self, values: np.ndarray, lookback: int, horizon: int, origins: np.ndarray,
                 normalize: Normalize = Normalize.global_, future: tuple[int, int] | None = None):
        assert values.ndim == 2, "values must be (n_rows, n_features)"
        self.values = values
        self.lookback = lookback
        self.horizon = horizon
        self.origins = np.asarray(origins, dtype=np.int64)
        self.normalize = normalize
        # window: inputs and targets of the target column as offsets from the origin's value
        self.per_window = normalize is Normalize.window
        n = len(values)
        assert len(self.origins) == 0 or (self.origins.min() >= lookback - 1 and self.origins.max() < n)
        # (n - lookback + 1, 1, lookback, n_features) view; row i holds inputs of origin i + lookback - 1
        self._inputs = (sliding_window_view(values, (lookback, values.shape[1])) if n >= lookback
                        else np.zeros((0, 1, lookback, values.shape[1]), values.dtype))
        # (n - horizon, horizon) view; row i holds targets of origin i
        self._targets = sliding_window_view(values[1:, 0], horizon) if n > horizon else values[:0, :0]
        # --future-features: columns [a, b) are known ahead; a window also reads them at its target rows
        self.future_columns = future
        self.n_future = 0 if future is None else future[1] - future[0]
        if self.n_future:
            ahead = values[1:, future[0]:future[1]]
            # (n - horizon, 1, horizon, n_future) view; row i holds the known future of origin i
            self._future = (sliding_window_view(ahead, (horizon, self.n_future)) if len(ahead) >= horizon
                            else np.zeros((0, 1, horizon, self.n_future), values.dtype))

    def __len__(self) -> int:
        return len(self.origins)

    def inputs(self, idx: np.ndarray | slice) -> np.ndarray:
        """Gather the inputs of windows `idx`: (batch, lookback, n_features), a fresh array of one batch."""
        rows = self.origins[idx] - (self.lookback - 1)
        x = self._inputs[rows, 0]  # fancy indexing: a fresh array we may change
        if self.per_window:
            x[:, :, 0] -= x[:, -1:, 0]
        return x

    def future(self, idx: np.ndarray | slice) -> np.ndarray:
        """Gather the known-future columns at the target rows of windows `idx`: (batch, horizon, n_future)."""
        return self._future[self.origins[idx], 0]

    def model_inputs(self, idx: np.ndarray | slice):
        """What the model reads for windows `idx`: the window, and with known-future columns (window, future)."""
        x = self.inputs(idx)
        return (x, self.future(idx)) if self.n_future else x

    def targets(self, idx: np.ndarray | slice) -> np.ndarray:
        """Gather the targets of windows `idx`: (batch, horizon)."""
        origins = self.origins[idx]
        y = self._targets[origins]
        return y - self.values[origins, 0][:, None] if self.per_window else y


def part_origins(bounds: tuple[int, int], lookback: int, horizon: int) -> np.ndarray:
    """Origins whose targets all lie inside rows [start, end); inputs may reach back before `start`."""
    start, end = bounds
    first = max(start - 1, lookback - 1)
    return np.arange(first, end - horizon, dtype=np.int64)


def forecast_origins(n: int, lookback: int) -> np.ndarray:
    """Every origin of an n-row series with a full lookback, including the last row (forecasting the future)."""
    return np.arange(lookback - 1, n, dtype=np.int64)
