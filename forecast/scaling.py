"""Normalisation: the scaler fit on the training part only, global or per window, the rule `--normalize auto`
applies, and scaler.json (written and read back with every field checked)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from forecast.config import OUTSIDE_SHARE, RANDOM_WALK_RATIO, Normalize

# Beyond this many spreads from its scale's centre a float32 value resolves a change of one spread only to 6%.
FLOAT32_SAFE = 1e6


def variance_ratio(y: np.ndarray, lag: int) -> float:
    """Var(y[t+q] - y[t]) / (q · Var(y[t+1] - y[t])): about 1 for a random walk, near 0 for a stationary series."""
    y = np.asarray(y, dtype=np.float64)
    lag = max(2, min(lag, len(y) // 2))
    step = np.var(np.diff(y)) if len(y) > 2 else 0.0
    if not step > 0 or len(y) <= lag:
        return 0.0
    return float(np.var(y[lag:] - y[:-lag]) / (lag * step))


@dataclass(frozen=True)
class Scaler:
    """Per-column scaling fit on the training rows only, so no later statistic leaks into training.

    `global`: standardisation. `window`: the target column is only divided by the spread of its one-step changes
    on the training part (its mean stays, since every window subtracts its own last value), so windows at any
    level look alike. `low`/`high` is the training range of the (transformed) target, kept to warn when data
    lies outside it.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    normalize: Normalize = Normalize.global_  # global or window, never auto
    low: float = -np.inf
    high: float = np.inf

    @classmethod
    def fit(cls, values: np.ndarray, normalize: Normalize = Normalize.global_) -> Scaler:
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        if normalize is Normalize.window:
            mean[0] = 0.0
            std[0] = np.diff(values[:, 0]).std() if len(values) > 1 else 0.0
        # A constant column would divide by zero; scale it by 1 so it maps to 0, not NaN.
        std = np.where(std > 0, std, 1.0)
        return cls(tuple(float(m) for m in mean), tuple(float(s) for s in std), normalize,
                   float(values[:, 0].min()), float(values[:, 0].max()))

    @property
    def per_window(self) -> bool:
        return self.normalize is Normalize.window

    def transform(self, values: np.ndarray) -> np.ndarray:
        return ((values - np.asarray(self.mean)) / np.asarray(self.std)).astype(np.float32)

    def transform_checked(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """transform, without numpy's overflow warnings, and where the scaled values leave float32's safe range
        (FLOAT32_SAFE; NaN and inf included): a boolean array shaped like `values`."""
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = self.transform(values)
            return scaled, ~(np.abs(scaled) <= FLOAT32_SAFE)

    def scales_away(self, values: np.ndarray, col: int) -> float:
        """How many of the column's scales its farthest value lies from the scale's centre (in float64)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.nanmax(np.abs((values[:, col] - self.mean[col]) / self.std[col])))

    def inverse_target(self, scaled: np.ndarray) -> np.ndarray:
        """Scaled target values (any shape) back to the target's (transformed) units."""
        return np.asarray(scaled, dtype=np.float64) * self.std[0] + self.mean[0]

    def outside(self, target: np.ndarray) -> float:
        """Share of (transformed) target values outside the training range."""
        target = np.asarray(target, dtype=np.float64)
        return float(np.mean((target < self.low) | (target > self.high))) if len(target) else 0.0

    def to_dict(self, columns: tuple[str, ...]) -> dict:
        return {"normalize": self.normalize.value, "columns": list(columns), "mean": list(self.mean),
                "std": list(self.std), "train_range": [self.low, self.high]}

    @classmethod
    def from_dict(cls, raw: dict, columns: tuple[str, ...]) -> Scaler:
        """Read scaler.json for a run with these columns; ValueError, KeyError or TypeError say what is wrong."""
        if raw.get("normalize") not in ("global", "window") or raw.get("columns") != list(columns):
            raise ValueError(f"scaler.json describes columns {raw.get('columns')} normalised "
                             f"{raw.get('normalize')!r}, the run uses {list(columns)}")
        mean, std = [float(m) for m in raw["mean"]], [float(s) for s in raw["std"]]
        if len(mean) != len(columns) or len(std) != len(columns):
            raise ValueError("scaler.json needs one mean and one std per column")
        if not all(math.isfinite(v) for v in mean + std) or min(std) <= 0:
            raise ValueError("scaler.json has a non-finite mean or a non-positive std")
        low, high = (float(v) for v in raw["train_range"])
        tol = 1e-9 * max(abs(low), abs(high), 1.0)  # the training part's mean lies in its range (0 per window), and
        centred = mean[0] == 0.0 if raw["normalize"] == "window" else low - tol <= mean[0] <= high + tol
        if not centred or std[0] > max(high - low, 1.0) * (1 + 1e-9):  # its spread (of steps) within its width
            raise ValueError(f"scaler.json's target mean {mean[0]:.3g} and std {std[0]:.3g} do not fit its "
                             f"train_range [{low:.3g}, {high:.3g}]")
        return cls(tuple(mean), tuple(std), Normalize(raw["normalize"]), low, high)


def choose_normalize(train_target: np.ndarray, val_target: np.ndarray, lookback: int) -> tuple[Normalize, str]:
    """`--normalize auto`, decided on training and validation rows only: does the series wander like a random walk,
    or has it left the levels it was trained on? Then levels cannot be learned, only changes: window; else global.
    Returns the choice and its reason."""
    ratio = variance_ratio(train_target, lookback)
    share = Scaler.fit(train_target[:, None]).outside(val_target)
    chosen = Normalize.window if ratio > RANDOM_WALK_RATIO or share > OUTSIDE_SHARE else Normalize.global_
    return chosen, (f"variance ratio {ratio:.2f} at lag {lookback} on the training part, {share:.0%} of the "
                    "validation part outside the training range")


def outside_note(scaler: Scaler, target: np.ndarray, what: str) -> str | None:
    """A warning when most of `target` lies outside the training range of a globally scaled model."""
    share = scaler.outside(target)
    if scaler.per_window or share <= OUTSIDE_SHARE:
        return None
    return (f"{share:.0%} of the target in {what} lies outside its training range [{scaler.low:.4g}, "
            f"{scaler.high:.4g}]; a model of levels scaled globally cannot extrapolate there: use --normalize "
            "window or --transform diff|logdiff")
