"""The chronological train/val/test split, and the folds of a rolling-origin backtest."""

from __future__ import annotations

import math
from dataclasses import dataclass

from forecast.config import DataConfig, WindowConfig
from forecast.dates import cycle_name
from forecast.errors import DataError, ForecastError


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


def training_rows(n: int, cfg: DataConfig) -> int:
    """The rows of the training part of n rows, whatever the lookback (it never moves the split)."""
    return _split_rows(n, cfg.val_frac, cfg.test_frac).train_end


def _split_ok(split: Split, window: WindowConfig) -> bool:
    # Train windows need lookback rows of input inside the part; val and test windows read
    # earlier history as input, so they only need room for one full target (horizon rows).
    sizes = split.sizes()
    return (sizes["train"] >= window.lookback + window.horizon
            and sizes["val"] >= window.horizon and sizes["test"] >= window.horizon)


NO_SEASON_LOOKBACK = 48  # the fixed default before, kept for series without a season
# The default lookback is at most 1/LOOKBACK_SHARE of the training rows (a 100-year annual series: 17 of its 70, not
# 35), and at least MIN_LOOKBACK without a season (a seasonal one: the rows its seasonal difference reads).
LOOKBACK_SHARE = 4
MIN_LOOKBACK = 8
MAX_DEFAULT_LOOKBACK = 336  # a week of half-hours: the longest window the default reads without a second season
MAX_SECOND_LOOKBACK = 768  # with one: a week and a day of quarter-hours at most (none of minute data: 11,520)


def choose_lookback(n: int, season: int, horizon: int, cfg: DataConfig, seasons: int = 2,
                    season2: int = 1) -> tuple[int, str]:
    """The default lookback, and why: two seasons (`seasons` of them: four for one model of several series), or
    the m*ceil(h/m) + 1 rows the seasonal difference reads when the horizon is longer; 48 without a season; at most
    a quarter of the training rows (but not below those m*ceil(h/m) + 1 rows, or MIN_LOOKBACK without a season), so
    most of them give windows, never over half, and at most MAX_DEFAULT_LOOKBACK. With a second season
    (the week of sub-daily data, the year of daily data), a week and a day (a year and a week), so that the
    references of the second season fit the window and a model can start from them, where that is at most
    MAX_SECOND_LOOKBACK and half the training rows."""
    train = _split_rows(n, cfg.val_frac, cfg.test_frac).train_end
    if season2 > 1:
        want = max(season2 + season, season2 * -(-horizon // season2) + 1)
        if want <= min(MAX_SECOND_LOOKBACK, train // 2):
            cycle, short = cycle_name(season2), {"week": "day", "year": "week"}[cycle_name(season2)]
            return want, (f"a {cycle} and a {short} ({season2} + {season}), for the references of the {cycle}" if
                          want == season2 + season else f"the {want} rows the seasonal difference of the {cycle} reads")
    if season > 1:
        rows = seasons * season
        want = max(rows, season * -(-horizon // season) + 1)
        count = {2: "two", 4: "four"}.get(seasons, str(seasons))
        why = (f"{count} seasons of {season}" if want == rows else
               f"the {want} rows the seasonal difference reads at horizon {horizon}")
    else:
        want, why = NO_SEASON_LOOKBACK, "no season"
    # at most a quarter of the training rows, so that three quarters of them give windows, but never below the
    # rows the seasonal difference reads (MIN_LOOKBACK without a season); never over half, where windows run out
    floor = season * -(-horizon // season) + 1 if season > 1 else MIN_LOOKBACK
    cap = max(1, train // 2)
    if want > cap and floor >= cap:
        return cap, f"{why} would be {want}, cut to half the {train} training rows"
    if want > max(train // LOOKBACK_SHARE, floor):
        if floor > train // LOOKBACK_SHARE:
            return floor, (f"{why} would be {want}, cut to the {floor} rows the seasonal difference reads ({train} "
                           "training rows)" if season > 1 else f"{why} would be {want}, cut to {floor} ({train} "
                                                                 "training rows)")
        return train // LOOKBACK_SHARE, f"{why} would be {want}, cut to a quarter of the {train} training rows"
    if want > MAX_DEFAULT_LOOKBACK:  # minute data: two days are 2,880 steps of a recurrent cell per window
        return MAX_DEFAULT_LOOKBACK, f"{why} would be {want}, cut to {MAX_DEFAULT_LOOKBACK}"
    return want, why


def split_series(n: int, cfg: DataConfig, window: WindowConfig) -> Split:
    """Chronological train/val/test bounds; an error says how many rows lookback + horizon need."""
    split = _split_rows(n, cfg.val_frac, cfg.test_frac)
    if _split_ok(split, window):
        return split
    # From bounds without rounding, each ceil() costs at most a row: a few steps at most, whatever the lookback.
    lookback, horizon = window.lookback, window.horizon
    # Lower bounds, a row below each to absorb float rounding: train <= n(1 - v - t); ceil(n v) >= H iff n v > H - 1.
    need = max(n, math.ceil((lookback + horizon) / (1 - cfg.val_frac - cfg.test_frac)) - 1,
               math.floor((horizon - 1) / cfg.val_frac), math.floor((horizon - 1) / cfg.test_frac))
    while not _split_ok(_split_rows(need, cfg.val_frac, cfg.test_frac), window):
        need += 1
    sizes = split.sizes()
    raise DataError(
        f"{cfg.path} has {n} rows, too few for --lookback {window.lookback} + --horizon {window.horizon}: "
        f"the parts have train {sizes['train']}, val {sizes['val']}, test {sizes['test']} rows, and training needs "
        f"at least {window.lookback + window.horizon} train rows and {window.horizon} in val and test; "
        f"use at least {need} rows, or a smaller --lookback/--horizon"
    )


def plan_folds(n: int, folds: int, data: DataConfig, window: WindowConfig) -> list[Split]:
    """`folds` test blocks of round(n * test_frac) rows at the end of the series, oldest first; fold k trains on
    the rows before its block (the last val_frac of them for validation)."""
    if folds < 1:
        raise ForecastError(f"--folds must be at least 1 (got {folds})")
    block = max(window.horizon, round(n * data.test_frac))

    def fold(k: int, count: int) -> Split | None:
        test_start = n - (count - k) * block
        val_rows = max(window.horizon, math.ceil(test_start * data.val_frac))
        split = Split(n=test_start + block, train_end=test_start - val_rows, val_end=test_start)
        return split if _split_ok(split, window) else None  # the sizes `train` enforces, for every fold

    if fold(0, folds) is None:
        most = next((f for f in range(folds - 1, 0, -1) if fold(0, f) is not None), 0)
        raise ForecastError(
            f"--folds {folds} does not fit {data.path}: with test blocks of {block} rows (--test-frac "
            f"{data.test_frac}) the first fold would train on fewer than lookback + horizon = "
            f"{window.lookback + window.horizon} rows; use --folds {most} or less" if most else
            f"{data.path} is too short for even one fold of {block} rows; lower --test-frac or --lookback")
    return [fold(k, folds) for k in range(folds)]


def validation_folds(split: Split, folds: int, window: WindowConfig, path) -> list[Split]:
    """`tune --folds`: the usual split first, then `folds - 1` validation blocks of the same size just before its
    validation part, newest first; each trains on the rows before its block, and its scored 'test' block is the
    next one, so the test part is never read."""
    if folds < 1:
        raise ForecastError(f"--folds must be at least 1 (got {folds})")
    block = split.val_end - split.train_end
    planned = [Split(n=split.val_end - k * block + (block if k else split.n - split.val_end),
                     train_end=split.train_end - k * block, val_end=split.val_end - k * block) for k in range(folds)]
    if not all(_split_ok(s, window) for s in planned):
        most = next(f for f in range(folds, 0, -1) if _split_ok(planned[f - 1], window))
        raise ForecastError(f"--folds {folds} does not fit {path}: with validation blocks of {block} rows the oldest "
                            f"fold would train on {max(0, planned[-1].train_end)} rows, fewer than lookback + horizon = "
                            f"{window.lookback + window.horizon}; use --folds {most} or less, or a smaller --lookback")
    return planned
