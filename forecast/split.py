"""The chronological train/val/test split, and the scaler fit on the training part only."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forecast.config import DataConfig, WindowConfig
from forecast.errors import DataError


@dataclass(frozen=True)
class Split:
    """Row bounds of the three chronological parts: train [0, train_end), val [train_end, val_end), test [val_end, n)."""

    n: int
    train_end: int
    val_end: int

    def bounds(self, part: str) -> tuple[int, int]:
        return {"train": (0, self.train_end), "val": (self.train_end, self.val_end),
                "test": (self.val_end, self.n)}[part]

    def sizes(self) -> dict[str, int]:
        return {p: b - a for p, (a, b) in ((p, self.bounds(p)) for p in ("train", "val", "test"))}


def _split_rows(n: int, val_frac: float, test_frac: float) -> Split:
    n_test = math.ceil(n * test_frac)
    n_val = math.ceil(n * val_frac)
    return Split(n=n, train_end=n - n_val - n_test, val_end=n - n_test)


def _split_ok(split: Split, window: WindowConfig) -> bool:
    # Train windows need lookback rows of input inside the part; val and test windows read
    # earlier history as input, so they only need room for one full target (horizon rows).
    sizes = split.sizes()
    return (sizes["train"] >= window.lookback + window.horizon
            and sizes["val"] >= window.horizon and sizes["test"] >= window.horizon)


def split_series(n: int, cfg: DataConfig, window: WindowConfig) -> Split:
    """Chronological train/val/test bounds; an error says how many rows lookback + horizon need."""
    split = _split_rows(n, cfg.val_frac, cfg.test_frac)
    if _split_ok(split, window):
        return split
    need = n
    while not _split_ok(_split_rows(need, cfg.val_frac, cfg.test_frac), window) and need < 10 * n + 10**7:
        need += 1
    sizes = split.sizes()
    raise DataError(
        f"{cfg.path} has {n} rows, too few for --lookback {window.lookback} + --horizon {window.horizon}: "
        f"the parts have train {sizes['train']}, val {sizes['val']}, test {sizes['test']} rows, and training needs "
        f"at least {window.lookback + window.horizon} train rows and {window.horizon} in val and test; "
        f"use at least {need} rows, or a smaller --lookback/--horizon"
    )


@dataclass(frozen=True)
class Scaler:
    """Standardisation per column, fit on the training rows only so no test statistic leaks into training."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        # A constant column would divide by zero; scale it by 1 so it maps to 0, not NaN.
        std = np.where(std > 0, std, 1.0)
        return cls(tuple(float(m) for m in mean), tuple(float(s) for s in std))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return ((values - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)

    def inverse_target(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled target values (any shape) back to the target's original units."""
        return np.asarray(scaled, dtype=np.float64) * self.std[0] + self.mean[0]

    def to_dict(self, columns: tuple[str, ...]) -> dict:
        return {"kind": "standard", "columns": list(columns), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, raw: dict) -> Scaler:
        return cls(tuple(float(m) for m in raw["mean"]), tuple(float(s) for s in raw["std"]))
