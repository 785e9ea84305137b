"""Simple forecasts every model must beat, on the same windows and in the same shape as a model's forecasts.

Each takes the target in original units, the windows' origins (row of the last input), the horizon and the
lookback, and returns (n_origins, horizon).
"""

from __future__ import annotations

import numpy as np

from forecast.errors import DataError


def naive(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1, season: int = 1) -> np.ndarray:
    """Last value carried forward: ŷ[t+h] = y[t]."""
    last = np.asarray(target, dtype=np.float64)[origins]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1,
                   season: int = 1) -> np.ndarray:
    """The value one season earlier: ŷ[t+h] = y[t + h - m*ceil(h/m)] for season m (m = 1 is the naive forecast)."""
    h = np.arange(1, horizon + 1)
    back = h - season * np.ceil(h / season).astype(int)  # in (-m, 0]
    rows = origins[:, None] + back[None, :]
    assert rows.min(initial=0) >= 0, "origins must have a full season of history"
    return np.asarray(target, dtype=np.float64)[rows]


def seasonal_difference(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1,
                        season: int = 1) -> np.ndarray:
    """Last season's shape moved to the current level, the forecast of ARIMA(0,1,0)(0,1,0)m:
    ŷ[t+h] = y[t] + y[t+h-m*k] - y[t-m*k] with k = ceil(h/m)."""
    y = np.asarray(target, dtype=np.float64)
    h = np.arange(1, horizon + 1)
    back = season * np.ceil(h / season).astype(int)  # m*k, in [h, h + m)
    rows = origins[:, None] - back[None, :]
    assert rows.min(initial=0) >= 0, "origins must have m*ceil(h/m) rows of history"
    return y[origins][:, None] + y[rows + h[None, :]] - y[rows]


def window_mean(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1,
                season: int = 1) -> np.ndarray:
    """Mean of the lookback window: ŷ[t+h] = mean(y[t-L+1 .. t])."""
    csum = np.concatenate([[0.0], np.cumsum(np.asarray(target, dtype=np.float64))])
    mean = (csum[origins + 1] - csum[origins + 1 - lookback]) / lookback
    return np.repeat(mean[:, None], horizon, axis=1)


def drift(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int = 1, season: int = 1) -> np.ndarray:
    """The line through the first and last value of the lookback window: ŷ[t+h] = y[t] + h (y[t] - y[t-L+1]) / (L-1)."""
    y = np.asarray(target, dtype=np.float64)
    slope = (y[origins] - y[origins - lookback + 1]) / max(lookback - 1, 1)
    return y[origins][:, None] + slope[:, None] * np.arange(1, horizon + 1)[None, :]


BASELINES = {"naive": naive, "seasonal_naive": seasonal_naive, "seasonal_diff": seasonal_difference,
             "mean": window_mean, "drift": drift}
# The three simple references every score is shown next to; mean and drift are context.
REFERENCES = ("naive", "seasonal_naive", "seasonal_diff")
SEASONAL = ("seasonal_naive", "seasonal_diff")
# How every table, legend and message names them (seasonal ones with their season: "seasonal m=24").
LABELS = {"naive": "naive", "seasonal_naive": "seasonal", "seasonal_diff": "seasonal diff", "mean": "mean",
          "drift": "drift"}


# A second, longer cycle where the data shows one (the week of sub-daily data, the year of daily data: see
# second_season): the two seasonal references again at that season, named with a 2 and labelled with their season
# ("seasonal m=336").
SECOND = {"seasonal_naive2": "seasonal_naive", "seasonal_diff2": "seasonal_diff"}
LABELS.update({"seasonal_naive2": "seasonal", "seasonal_diff2": "seasonal diff"})
ALL_REFERENCES = REFERENCES + tuple(SECOND)
# A longer cycle is a season of the data when the seasonal naive at it errs less than this share of the seasonal
# naive at the first season, on the training part
SECOND_GAIN = 0.9


# Drift and the window mean: simple models too, scored on validation and candidates for the recommendation (on a
# short series without a season one of them is often the best forecast), though not references a score must beat.
OTHERS = ("drift", "mean")
SIMPLE = ALL_REFERENCES + OTHERS


def simple(season2: int = 1) -> tuple[str, ...]:
    """The simple models a recommendation chooses from besides the networks: the references and drift and mean."""
    return references(season2) + OTHERS


def references(season2: int = 1) -> tuple[str, ...]:
    """The simple references of a series: naive, seasonal naive and seasonal difference, and the two seasonal ones
    again at the second season where it has one."""
    return ALL_REFERENCES if season2 > 1 else REFERENCES


def naive_error(y: np.ndarray, season: int, horizon: int, start: int) -> float:
    """The mean absolute error of the seasonal naive at `season` over every step of the horizon, each step's lag
    (m*ceil(h/m)) scored on the same target rows: `start` onwards."""
    h = np.arange(1, horizon + 1)
    lags, counts = np.unique(season * np.ceil(h / season).astype(int), return_counts=True)
    return float(sum(c * np.mean(np.abs(y[start:] - y[start - lag:len(y) - lag])) for lag, c in zip(lags, counts))
                 / horizon)


def second_season(train: np.ndarray, season: int, cycles: tuple[int, ...], horizon: int) -> int:
    """The longer cycle (dates.longer_cycles: the week of sub-daily data, the year of daily data) that the training
    part shows, 1 (none) otherwise. A cycle qualifies when the training part holds three of it (and one more than
    its seasonal difference reads back), and the seasonal naive at it, over every step of the horizon and the
    training rows, errs less than SECOND_GAIN times the seasonal naive at the first season; the one that errs
    least wins (the year: 364 days, whole weeks, or 365). Measured on the shipped half-hourly electricity demand:
    0.27 at horizon 48 (its test MASE: seasonal naive 0.876 at one day, 0.233 at one week); the Victorian demand
    of 2014 0.975 and an hourly temperature 1.58 show no week (the Victorian July to December 0.69 does); daily US
    births show the year (364) at horizon 180 (0.75) but not at 28 (1.23) or 90 (0.90)."""
    y = np.asarray(train, dtype=np.float64)
    fits = [c for c in cycles if c > season and len(y) >= max(3 * c, c * -(-horizon // c) + c)]
    if not fits:
        return 1
    start = max(m * -(-horizon // m) for m in (season, *fits))
    errors = {c: naive_error(y, c, horizon, start) for c in fits}
    best = min(errors, key=errors.get)
    return best if errors[best] < SECOND_GAIN * naive_error(y, season, horizon, start) else 1


# The calendar's season is kept when the training part shows it: the autocorrelation of its first differences at
# the season's lag above this many standard errors of a series without one (1.96/sqrt(n): 5% one-sided, about).
# Measured on the training parts (70%) of the shipped and shared series: the seasonal ones pass with 0.26-0.40 (the
# airports' hourly temperature), 0.54-0.91 (monthly, quarterly, half-hourly demand, the sine), births by state 0.22;
# a random walk scores 0.04 at the bar 0.04, the DAX's business days -0.02, 250 days of MSFT -0.01, an airport's
# daily mean temperature -0.04 to -0.09 at 7 and 200 weeks of the DAX -0.12 at 52. The full MSFT record scores
# 0.06 over 0.03 and keeps its 5.
SEASON_BAR = 1.96
# Fewer differences than this many seasons are too few to judge: the calendar's season is kept.
SEASON_CYCLES = 2


def season_evidence(train: np.ndarray, season: int) -> tuple[float, int] | None:
    """(autocorrelation of the first differences of `train` at lag `season`, differences read), or None when the
    part is too short to judge (fewer than SEASON_CYCLES seasons of differences, or constant differences)."""
    d = np.diff(np.asarray(train, dtype=np.float64))
    d = d[np.isfinite(d)]
    if season <= 1 or len(d) < SEASON_CYCLES * season:
        return None
    d = d - d.mean()
    denominator = float(np.dot(d, d))
    if denominator <= 0:
        return None
    return float(np.dot(d[season:], d[:-season]) / denominator), len(d)


def season_shows(evidence: list[tuple[float, int]]) -> tuple[bool, float, float]:
    """Whether the autocorrelations (one per series, weighted by its differences) clear SEASON_BAR/sqrt(n):
    (shows, the pooled autocorrelation, the bar)."""
    n = sum(count for _, count in evidence)
    r = sum(value * count for value, count in evidence) / n
    bar = SEASON_BAR / np.sqrt(n)
    return r > bar, r, float(bar)


def season_of(trains: list[np.ndarray], calendar: int, freq: str | None, given: int | None = None) -> tuple[int, str]:
    """The season and why: `given` (--season), else the calendar's (dates.infer_season) when the training parts
    show it (season_shows) or are too short to judge, 1 (none) when they do not."""
    if given:
        return given, "--season"
    if calendar <= 1:
        return 1, f"no season for {freq}" if freq else "no frequency"
    evidence = [e for train in trains if (e := season_evidence(train, calendar)) is not None]
    if not evidence:
        return calendar, f"inferred from {freq}; too few training rows to test it"
    shows, r, bar = season_shows(evidence)
    parts = "the training part's" if len(evidence) == 1 else f"{len(evidence)} training parts'"
    what = f"{parts} lag-{calendar} autocorrelation of differences {r:.2f}"
    if shows:
        return calendar, f"inferred from {freq}; {what} > {bar:.2f}"
    return 1, f"{freq} suggests {calendar}, but {what} <= {bar:.2f}: no season; --season {calendar} keeps it"


def history(name: str, lookback: int, season: int, horizon: int) -> int:
    """The earliest origin (row) from which a baseline has the history it reads (`season` the second one for the
    references named with a 2)."""
    name = SECOND.get(name, name)
    return {"naive": 0, "seasonal_naive": season - 1, "seasonal_diff": season * -(-horizon // season),
            "mean": lookback - 1, "drift": lookback - 1}[name]


# The references a model can start from (--anchor), by the baseline each reproduces.
ANCHORS = {"naive": "naive", "seasonal": "seasonal_naive", "sdiff": "seasonal_diff", "seasonal2": "seasonal_naive2",
           "sdiff2": "seasonal_diff2"}


def anchor_season(anchor: str, season: int, season2: int) -> int:
    """The season an anchor reads: the second one for seasonal2 and sdiff2, the first for any other."""
    return season2 if ANCHORS.get(anchor) in SECOND else season


def window_rows(anchor: str, season: int, horizon: int) -> int:
    """The window rows a reference reads when a model computes it from its lookback window (`season` its own)."""
    return history(ANCHORS[anchor], 1, season, horizon) + 1


def baseline_label(name: str, season: int, season2: int = 1) -> str:
    if name in SECOND:
        return f"{LABELS[name]} m={season2}"
    return LABELS[name] + (f" m={season}" if name in SEASONAL else "")


def baseline_forecasts(target: np.ndarray, origins: np.ndarray, horizon: int, lookback: int, season: int,
                       names: tuple[str, ...] | None = None, season2: int = 1) -> dict[str, np.ndarray]:
    """The named baselines' forecasts (n_origins, horizon) each (by default every one: the references, those of a
    second season, mean and drift); NaN for origins without the history one needs (only a series given to `predict`
    has those: every scored window of a run has enough)."""
    if names is None:
        names = (*references(season2), *(n for n in BASELINES if n not in REFERENCES))
    out = {}
    for name in names:
        m = season2 if name in SECOND else season
        values = np.full((len(origins), horizon), np.nan)
        ok = origins >= history(name, lookback, m, horizon)
        if ok.any():
            values[ok] = BASELINES[SECOND.get(name, name)](target, origins[ok], horizon, lookback, m)
        out[name] = values
    return out


def check_season(season: int, train_rows: int, path: str, horizon: int = 1) -> None:
    """Every scored origin (the validation and test parts) has the history the seasonal references read."""
    if season >= train_rows:
        raise DataError(f"--season {season} is longer than the training part of {path} ({train_rows} rows); "
                        f"use a season under {train_rows}, or more data")
    back = history("seasonal_diff", 1, season, horizon)
    if back >= train_rows:
        raise DataError(f"--season {season} with --horizon {horizon} makes the seasonal difference read {back} rows "
                        f"back, more than the training part of {path} ({train_rows} rows); use a shorter season or "
                        "horizon, or more data")
