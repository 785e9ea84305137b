"""Keras' view of the windows: a PyDataset that gathers one batch at a time from the zero-copy windows (or hands
over only the batch's origins, for a model that gathers its windows on the device), with a global reshuffle every
epoch that depends only on (seed, epoch), so a resumed training sees the same batches."""

from __future__ import annotations

import math

import keras
import numpy as np

from forecast.devices import shards
from forecast.windows import Windows


def padded(idx: np.ndarray, multiple: int) -> np.ndarray:
    """`idx` repeated cyclically up to a multiple of `multiple` rows, for a batch split evenly over that many devices;
    a forecast keeps its first len(idx) rows."""
    return idx if len(idx) % multiple == 0 else np.resize(idx, -(-len(idx) // multiple) * multiple)


def padded_origins(origins: np.ndarray, multiple: int) -> np.ndarray:
    """A batch of origins filled up to a multiple of `multiple` with copies of its own origins, marked as padding by
    a negative sign (-1 - origin): models.OnDevice gathers their windows but gives them no weight in the loss, so the
    devices' even shares of an uneven last batch train and score what one device would."""
    full = padded(np.arange(len(origins)), multiple)
    return np.concatenate([origins, -1 - origins[full[len(origins):]]]).astype(np.int32)


class WindowBatches(keras.utils.PyDataset):
    """Feeds Keras one gathered batch at a time; training batches are reshuffled globally every epoch.

    The permutation of epoch k depends only on (seed, k), so a resumed training sees the same batches
    as an uninterrupted one. With `steps`, an epoch is the first `steps` batches of that permutation: a
    fresh random sample of the windows every epoch, for series too long to pass over in one.
    """

    def __init__(self, windows: Windows, batch_size: int, shuffle_seed: int | None = None,
                 epoch: int = 0, steps: int | None = None, workers: int = 1, origins: bool = False):
        # workers > 1: Keras gathers the next batches in threads, in order, while the current step runs.
        super().__init__(workers=workers, use_multiprocessing=False)
        self.windows = windows
        self.batch_size = batch_size
        self.steps = steps
        # batches of origins alone: models.OnDevice gathers windows and targets (else gathered windows and targets
        # here, as the benchmark's hand-written comparison and the tests use them, on one device)
        self.origins = origins
        self.seed = shuffle_seed
        self.epoch = epoch
        self.multiple = shards()  # data parallel: every batch of origins divides evenly over the devices
        self._order = self._new_order()

    def _new_order(self) -> np.ndarray:
        n = len(self.windows)
        if self.seed is None:
            return np.arange(n)
        return np.random.default_rng([self.seed, self.epoch]).permutation(n)

    def __len__(self) -> int:
        full = math.ceil(len(self.windows) / self.batch_size)
        return full if self.steps is None else min(full, self.steps)

    def __getitem__(self, i: int):
        idx = self._order[i * self.batch_size:(i + 1) * self.batch_size]
        if self.origins:
            return (padded_origins(self.windows.origins[idx], self.multiple),)
        x = self.windows.model_inputs(idx)  # (batch, lookback, n_features), and the known future if any
        return x, self.windows.targets(idx)  # (batch, horizon)

    def on_epoch_end(self) -> None:
        if self.seed is not None:
            self.epoch += 1
            self._order = self._new_order()
