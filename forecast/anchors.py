"""The reference forecast a model starts from (--anchor): the one asked for, checked against the lookback, or the
one `auto` finds closest over the training and validation origins."""

from __future__ import annotations

import numpy as np

from forecast.baselines import ANCHORS, BASELINES, SECOND, anchor_season, history, window_rows
from forecast.config import Anchor
from forecast.errors import ForecastError
from forecast.prepare import Prepared


def choose_anchor(prep: Prepared, asked: Anchor) -> tuple[Anchor, str]:
    """The reference a model starts from, and why. `auto` takes the one with the lowest mean absolute error over
    every origin of the training and validation parts (the test part never decides), among those the lookback
    window holds; an explicit one must fit in the window."""
    window = prep.windows["train"]
    lookback, horizon, season = window.lookback, window.horizon, prep.season
    if asked is Anchor.none:
        return asked, ""
    if asked is not Anchor.auto:
        if ANCHORS[asked.value] in SECOND and prep.season2 == 1:
            raise ForecastError(f"--anchor {asked.value} starts from the reference of a second season, and "
                                f"{prep.series.path} shows none (the week of sub-daily data or the year of daily "
                                "data, where the seasonal naive at it beats the first season's on the training part); "
                                "use --anchor "
                                f"{asked.value[:-1]} or auto")
        m = anchor_season(asked.value, season, prep.season2)
        need = window_rows(asked.value, m, horizon)
        if need > lookback:
            raise ForecastError(f"--anchor {asked.value} reads {need} rows of each window (season {m}, horizon "
                                f"{horizon}); --lookback {lookback} is too short: use --lookback {need} or more")
        return asked, ""
    seasons = {a: anchor_season(a, season, prep.season2) for a in ANCHORS}
    fits = [a for a in ANCHORS if window_rows(a, seasons[a], horizon) <= lookback
            and (a == "naive" or seasons[a] > 1)]
    y = prep.scaled[:, 0].astype(np.float64)  # the model's own units: the ranking is the same in any affine scale
    first = max(history(ANCHORS[a], lookback, seasons[a], horizon) for a in fits)
    origins = np.concatenate([start + np.arange(max(first, lookback - 1), split.val_end - horizon)
                              for start, split in prep.spans()])
    actual = np.lib.stride_tricks.sliding_window_view(y[1:], horizon)[origins]  # (n, horizon)
    errors = {a: float(np.mean(np.abs(BASELINES[SECOND.get(ANCHORS[a], ANCHORS[a])](
        y, origins, horizon, lookback, seasons[a]) - actual))) for a in fits}
    best = min(errors, key=errors.get)
    shown = ", ".join(f"{a} {e:.3g}" for a, e in errors.items())
    return Anchor(best), f"mean absolute error over {len(origins):,} training and validation origins: {shown}"
