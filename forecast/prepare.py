"""Everything a run needs from its data before Keras: the target transform, the split, the train-only
scaler, the windows of each part, the season; and scoring forecasts against the baselines."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import transforms
from forecast.baselines import BASELINES, check_season, infer_season
from forecast.config import DataConfig, Normalize, Transform, WindowConfig
from forecast.data import Series, load_csv, read_frame
from forecast.errors import DataError
from forecast.metrics import conformal_quantiles, coverage, naive_scale, score, score_by_step
from forecast.split import Scaler, Split, split_series, variance_ratio
from forecast.windows import Windows, part_origins

PARTS = ("train", "val", "test")


@dataclass(frozen=True)
class Prepared:
    series: Series  # original units (the first row dropped for differenced transforms)
    transform: Transform
    normalize: Normalize  # as used: never auto
    normalize_reason: str  # why auto chose it ("" when given)
    split: Split
    scaler: Scaler  # fit on the training rows of the transformed values
    scaled: np.ndarray  # (n_rows, n_columns) float32: transformed, then scaled
    windows: dict[str, Windows]  # "train", "val", "test", horizon steps each
    season: int
    scale: float  # MASE denominator: in-sample seasonal-naive MAE on the training part

    def raw_target(self) -> np.ndarray:
        return self.series.values[:, 0]

    def to_target(self, scaled_forecast: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Scaled, transformed forecasts (n, H) of the given origins back to the target's original units."""
        return to_target(scaled_forecast, origins, self.scaled, self.raw_target(), self.scaler, self.transform)


def to_target(scaled_forecast: np.ndarray, origins: np.ndarray, scaled: np.ndarray, target: np.ndarray,
              scaler: Scaler, transform: Transform) -> np.ndarray:
    """Undo, in order, window-relative offsets (add the origin's value), scaling and the target transform."""
    base = scaled[origins, 0][:, None].astype(np.float64) if scaler.relative else 0.0
    z = scaler.inverse_target(scaled_forecast + base)
    return transforms.inverse(z, target[origins], transform)


def transform_series(series: Series, transform: Transform) -> tuple[Series, np.ndarray]:
    """(series in original units, model inputs with the transformed target), row-aligned."""
    transforms.check_positive(series.values[:, 0], transform, series.target, series.path)
    model_values = series.values.copy()
    model_values[:, 0] = transforms.forward(series.values[:, 0], transform)
    if transform in transforms.DIFFERENCED:  # the first row has no difference: start one row later
        series = dataclasses.replace(series, values=series.values[1:], time=series.time[1:])
        model_values = model_values[1:]
    return series, model_values


def prepare(data: DataConfig, window: WindowConfig) -> Prepared:
    """Load and validate the CSV, transform the target, split by time, fit the scaler on training rows only."""
    series, model_values = transform_series(load_csv(data), data.transform)
    return prepare_series(series, model_values, data, window, split_series(len(series), data, window))


def prepare_series(series: Series, model_values: np.ndarray, data: DataConfig, window: WindowConfig,
                   split: Split) -> Prepared:
    """Scaler, windows and season for a given split (a fold of a backtest, or the usual three parts)."""
    season = data.season or infer_season(series.freq)
    check_season(season, split.train_end, data.path)
    train_values = model_values[:split.train_end]
    normalize, why = data.normalize, ""
    if normalize is Normalize.auto:
        # Decided on training and validation rows only: does the series wander like a random walk, or has it
        # left the levels it was trained on? Then levels cannot be learned, only changes.
        ratio = variance_ratio(train_values[:, 0], window.lookback)
        share = Scaler.fit(train_values).outside(model_values[slice(*split.bounds("val")), 0])
        normalize = Normalize.window if ratio > RANDOM_WALK_RATIO or share > OUTSIDE_SHARE else Normalize.global_
        why = (f"variance ratio {ratio:.2f} at lag {window.lookback} on the training part, {share:.0%} of the "
               "validation part outside the training range")
    relative = normalize is Normalize.window
    scaler = Scaler.fit(train_values, relative)
    scaled = scaler.transform(model_values)
    windows = {part: Windows(scaled, window.lookback, window.horizon,
                             part_origins(split.bounds(part), window.lookback, window.horizon), relative)
               for part in PARTS}
    notes = list(series.notes)
    if not relative:
        for part in ("val", "test"):
            _warn_outside(scaler, model_values[slice(*split.bounds(part)), 0], f"the {part} part", notes)
    # check_season keeps season < train_end, so every scored (val/test) origin has a season of history.
    series = dataclasses.replace(series, notes=tuple(notes))
    return Prepared(series=series, transform=data.transform, normalize=normalize, normalize_reason=why,
                    split=split, scaler=scaler, scaled=scaled,
                    windows=windows, season=season, scale=naive_scale(series.values[:split.train_end, 0], season))


OUTSIDE_SHARE = 0.25  # above this share of values outside the training range, levels cannot be trusted
RANDOM_WALK_RATIO = 0.5  # measured: 0.67-1.16 on random-walk-like series, 0.001-0.24 on stationary ones


def _warn_outside(scaler: Scaler, target: np.ndarray, what: str, notes) -> None:
    share = scaler.outside(target)
    if share > OUTSIDE_SHARE:
        notes.append(f"{share:.0%} of the target in {what} lies outside its training range "
                     f"[{scaler.low:.4g}, {scaler.high:.4g}]; a model of levels scaled globally cannot extrapolate "
                     "there: use --normalize window or --transform diff|logdiff")


def load_new_series(run_data: DataConfig, lookback: int, scaler: Scaler, path: str,
                    target: str | None = None) -> tuple[Series, np.ndarray]:
    """Read a series to forecast with a run's columns (target renamed by `target`), transform and scaler."""
    # Another file may have another delimiter, decimal mark or time column name: detect those again.
    cfg = dataclasses.replace(run_data, path=path, target=target or run_data.target, delimiter=None, decimal=None)
    frame = read_frame(path, cfg)
    if cfg.time_col is not None and cfg.time_col not in frame.columns:
        cfg = dataclasses.replace(cfg, time_col=None)
    series, model_values = transform_series(load_csv(cfg, frame), run_data.transform)
    if len(series) < lookback:
        extra = " after differencing" if run_data.transform in transforms.DIFFERENCED else ""
        raise DataError(f"{path} has {len(series)} rows{extra}, fewer than the run's lookback ({lookback}); "
                        f"give at least {lookback} rows")
    if not scaler.relative:
        notes = list(series.notes)
        _warn_outside(scaler, model_values[:, 0], Path(path).name, notes)
        series = dataclasses.replace(series, notes=tuple(notes))
    return series, scaler.transform(model_values)


def extend_time(time: pd.Index, extra: int, freq: str | None) -> pd.Index:
    """The series' time index continued by `extra` steps at its frequency (row numbers without one)."""
    if extra <= 0:
        return time
    if isinstance(time, pd.DatetimeIndex) and freq is not None:
        future = pd.date_range(time[-1], periods=extra + 1, freq=freq)[1:]
        return time.append(future)
    if isinstance(time, pd.DatetimeIndex):
        step = time[-1] - time[-2] if len(time) > 1 else pd.Timedelta(0)
        return time.append(pd.DatetimeIndex([time[-1] + step * (k + 1) for k in range(extra)]))
    start = int(time[0]) if len(time) else 0  # row numbers, which start at 1 after differencing
    return pd.RangeIndex(start, start + len(time) + extra)


def forecast_table(time: pd.Index, target: np.ndarray, origins: np.ndarray, forecasts: np.ndarray,
                   extra: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Long form, one row per origin and step: origin, step, timestamp, forecast, actual, error, then `extra`
    columns of the same (n_origins, n_steps) shape (baselines, interval bounds).

    `time` must reach at least max(origin) + n_steps (see extend_time); `actual` is empty past the data.
    """
    n_origins, n_steps = forecasts.shape
    steps = np.tile(np.arange(1, n_steps + 1), n_origins)
    at = np.repeat(origins, n_steps) + steps  # row of each forecast value
    n = len(target)
    actual = np.full(at.shape, np.nan)
    inside = at < n
    actual[inside] = target[at[inside]]
    table = pd.DataFrame({
        "origin": np.asarray(time)[np.repeat(origins, n_steps)],
        "step": steps,
        "timestamp": np.asarray(time)[at],
        "forecast": forecasts.reshape(-1),
        "actual": actual,
    })
    table["error"] = table["actual"] - table["forecast"]
    for name, values in (extra or {}).items():
        table[name] = values.reshape(-1)
    return table


def actual_targets(prep: Prepared, part: str) -> np.ndarray:
    """Targets of a part's windows in original units: (n_windows, horizon)."""
    w = prep.windows[part]
    return Windows(prep.series.values, w.lookback, w.horizon, w.origins).targets(slice(None))


def baseline_forecasts(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int,
                       season: int) -> dict[str, np.ndarray]:
    return {name: fn(target, origins, horizon, lookback, season) for name, fn in BASELINES.items()}


def _test_baselines(prep: Prepared) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Actual test targets and every baseline's forecasts of them, (n_windows, horizon) each."""
    test = prep.windows["test"]
    base = baseline_forecasts(prep.raw_target(), test.origins, test.horizon, test.lookback, prep.season)
    return actual_targets(prep, "test"), base


def baseline_scores(prep: Prepared) -> dict[str, dict]:
    """Scores of every baseline on the test windows, in original units."""
    actual, base = _test_baselines(prep)
    return {name: score(actual, pred, prep.scale) for name, pred in base.items()}


def test_scores(prep: Prepared, forecast: np.ndarray, intervals: dict[str, list[float]] | None = None) -> dict:
    """Model and baseline scores on exactly the same test windows, in original units, overall and by step;
    and the test coverage of each prediction interval."""
    test = prep.windows["test"]
    actual, base = _test_baselines(prep)
    by_step = [{"step": h + 1} for h in range(test.horizon)]
    for name, pred in {"model": forecast, **base}.items():
        for row, s in zip(by_step, score_by_step(actual, pred, prep.scale), strict=True):
            row[name] = s
    out = {
        "model": score(actual, forecast, prep.scale),
        "baselines": {name: score(actual, pred, prep.scale) for name, pred in base.items()},
        "by_step": by_step,
        "season": prep.season,
        "n_windows": len(test),
        "horizon": test.horizon,
    }
    if intervals:
        out["intervals"] = {level: {"coverage": coverage(actual, forecast, q), "mean_width": 2 * float(np.mean(q))}
                            for level, q in intervals.items()}
    return out


def interval_half_widths(prep: Prepared, val_forecast: np.ndarray, levels: tuple[float, ...]) -> dict[str, list[float]]:
    """Split-conformal half-widths per step from the validation part's residuals, keyed by level ("0.9")."""
    residuals = actual_targets(prep, "val") - val_forecast
    return {f"{level:g}": conformal_quantiles(residuals, level) for level in levels}

