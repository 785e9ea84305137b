"""Everything a run needs from its data before Keras: the target transform, the split, the normalisation and its
train-only scaler, the windows of each part, the season; and the way back from scaled forecasts to original units."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from forecast import transforms
from forecast.baselines import check_season, season_of, second_season
from forecast.config import DataConfig, Normalize, Transform, WindowConfig, encoded, vocabulary_columns
from forecast.csvfile import read_frame
from forecast.data import Series, load_csv, load_panel
from forecast.dates import infer_season, longer_cycles
from forecast.errors import DataError, listing, shorten
from forecast.metrics import check_interval_windows, naive_scale
from forecast.scaling import Scaler, choose_normalize, outside_note
from forecast.split import Split, choose_lookback, plan_folds, split_series, training_rows
from forecast.windows import Windows, part_origins

PARTS = ("train", "val", "test")
# The default lookback of one model across several series, in seasons: on births by state (daily, 51 states) four
# seasons (28 days) gave a mean test MASE of 0.726 against 0.747 for two; on three airports' hourly temperature
# 0.999 against 1.054 (benchmarks/panel_*.md).
PANEL_SEASONS = 4


@dataclass(frozen=True)
class Block:
    """One series of a panel (several series, one model): its rows are `start .. start + split.n` of the panel's
    arrays, split, scaled and scored on its own."""

    name: str
    start: int
    split: Split  # rows counted from `start`
    scaler: Scaler  # fit on this series' training rows
    scale: float  # its MASE denominator


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
    window: WindowConfig  # as used: the lookback never None
    lookback_reason: str = ""  # why the default chose it ("" when given)
    season2: int = 1  # a second season the seasonal references also use (baselines.second_season), 1 for none
    season_reason: str = ""  # how the season was chosen: "--season", or the calendar's and the evidence for it
    # Several series: each one's rows, split and scaler. Then `series` and `scaled` hold them one after another,
    # `split` only the parts' total sizes, `scaler` the first series' and `scale` is NaN (see scale_of).
    blocks: tuple[Block, ...] = ()

    def raw_target(self) -> np.ndarray:
        return self.series.values[:, 0]

    def spans(self) -> list[tuple[int, Split]]:
        """(first row, split) of each series: the one series, or every series of a panel."""
        return [(b.start, b.split) for b in self.blocks] or [(0, self.split)]

    def origins(self, part: str, lookback: int, horizon: int) -> np.ndarray:
        """Origins of a part's windows; in a panel those of every series, none crossing from one into the next."""
        return np.concatenate([start + part_origins(split.bounds(part), lookback, horizon)
                               for start, split in self.spans()])

    def block_of(self, rows: np.ndarray) -> np.ndarray:
        """The index in `blocks` of the series each row belongs to (a panel only)."""
        return np.searchsorted([b.start for b in self.blocks], rows, side="right") - 1

    def scale_of(self, part: str) -> float | np.ndarray:
        """The MASE denominator of a part's windows. In a panel, one per window, each series' own divided by its
        share of the windows: the MASE over all windows is then the mean of the series' MASEs."""
        if not self.blocks:
            return self.scale
        which = self.block_of(self.windows[part].origins)
        counts = np.bincount(which, minlength=len(self.blocks))
        scales = np.array([b.scale for b in self.blocks])
        used = int((counts > 0).sum())
        return scales[which] * counts[which] * used / len(which)

    def describe_blocks(self) -> dict:
        """config.json's account of a panel's series: the time they span, and each one's rows and split."""
        time = self.series.time
        return {"start": str(min(time)), "end": str(max(time)),
                "series": [{"name": b.name, "rows": b.split.n, "start": str(time[b.start]),
                            "end": str(time[b.start + b.split.n - 1]),
                            "split_rows": {p: list(b.split.bounds(p)) for p in PARTS}} for b in self.blocks]}

    def to_target(self, scaled_forecast: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Scaled, transformed forecasts (n, H) of the given origins back to the target's original units."""
        if not self.blocks:
            return to_target(scaled_forecast, origins, self.scaled, self.raw_target(), self.scaler, self.transform)
        which = self.block_of(origins)
        mean = np.array([b.scaler.mean[0] for b in self.blocks])[which][:, None]
        std = np.array([b.scaler.std[0] for b in self.blocks])[which][:, None]
        base = self.scaled[origins, 0][:, None].astype(np.float64) if self.scaler.per_window else 0.0
        z = (np.asarray(scaled_forecast, dtype=np.float64) + base) * std + mean
        return transforms.inverse(z, self.raw_target()[origins], self.transform)


def to_target(scaled_forecast: np.ndarray, origins: np.ndarray, scaled: np.ndarray, target: np.ndarray,
              scaler: Scaler, transform: Transform) -> np.ndarray:
    """Undo, in order, per-window offsets (add the origin's value), scaling and the target transform."""
    base = scaled[origins, 0][:, None].astype(np.float64) if scaler.per_window else 0.0
    z = scaler.inverse_target(scaled_forecast + base)
    return transforms.inverse(z, target[origins], transform)


def future_columns(data: DataConfig) -> tuple[int, int] | None:
    """The model columns [a, b) of --future-features (after the target and --features), or None."""
    first = 1 + len(encoded(data, data.features))
    return (first, first + len(encoded(data, data.future_features))) if data.future_features else None


def transform_series(series: Series, transform: Transform) -> tuple[Series, np.ndarray]:
    """(series in original units, model inputs with the transformed target), row-aligned."""
    transforms.check_positive(series.values[:, 0], transform, series.target, series.path)
    model_values = series.values.copy()
    model_values[:, 0] = transforms.forward(series.values[:, 0], transform)
    if transform in transforms.DIFFERENCED:  # the first row has no difference: start one row later
        series = dataclasses.replace(series, values=series.values[1:], time=series.time[1:])
        model_values = model_values[1:]
    return series, model_values


def prepare(data: DataConfig, window: WindowConfig, panel: bool = True) -> Prepared:
    """Load and validate the CSV, transform the target, choose the lookback if not given, split by time, fit the
    scaler on training rows only (several series of a long table: see prepare_panel; an error without `panel`)."""
    loaded = load_panel(data) if panel else [("", load_csv(data))]
    if len(loaded) > 1:
        return prepare_panel(data, window, loaded)
    series, model_values = transform_series(loaded[0][1], data.transform)
    why, season2 = "", None
    if window.lookback is None:
        train = series.values[:training_rows(len(series), data), 0]
        season, _ = season_of([train], infer_season(series.freq), series.freq, data.season)
        season2 = second_season(train, season, longer_cycles(series.freq), window.horizon)
        lookback, why = choose_lookback(len(series), season, window.horizon, data, season2=season2)
        window = dataclasses.replace(window, lookback=lookback)
    prep = prepare_series(series, model_values, data, window, split_series(len(series), data, window), season2=season2)
    return dataclasses.replace(prep, lookback_reason=why)


def prepare_series(series: Series, model_values: np.ndarray, data: DataConfig, window: WindowConfig,
                   split: Split, make_windows: bool = True, season2: int | None = None) -> Prepared:
    """Scaler, windows and season for a given split (a fold of a backtest, or the usual three parts); `season2`
    when the caller has already found it on the same training part."""
    data = dataclasses.replace(data, categories=series.categories)  # the one-hot columns of text inputs
    season, season_why = season_of([series.values[:split.train_end, 0]], infer_season(series.freq), series.freq,
                                   data.season)
    check_season(season, split.train_end, data.path, window.horizon)
    train_values = model_values[:split.train_end]
    normalize, why = data.normalize, ""
    if normalize is Normalize.auto:
        normalize, why = choose_normalize(train_values[:, 0], model_values[slice(*split.bounds("val")), 0],
                                          window.lookback)
    scaler = Scaler.fit(train_values, normalize)
    scaled, beyond = scaler.transform_checked(model_values)
    bad = beyond.any(axis=0)
    if bad.any():
        col = int(np.argmax(bad))
        raise DataError(f"column `{shorten(series.columns[col])}` of {data.path} cannot be scaled precisely in float32 "
                        f"(--normalize {normalize.value}): its values reach {np.abs(model_values[:, col]).max():.3g} "
                        f"while its spread on the training part is {scaler.std[col]:.3g}; "
                        + ("use --transform diff or --normalize global" if normalize is Normalize.window else
                           "use --normalize window or change its units"))
    windows = {part: Windows(scaled, window.lookback, window.horizon,
                             part_origins(split.bounds(part), window.lookback, window.horizon), normalize,
                             future_columns(data)) for part in PARTS} if make_windows else {}
    notes = [*series.notes, *(note for part in ("val", "test") if (note := outside_note(
        scaler, model_values[slice(*split.bounds(part)), 0], f"the {part} part")))]
    # check_season keeps season < train_end, so every scored (val/test) origin has a season of history.
    series = dataclasses.replace(series, notes=tuple(notes))
    train_target = series.values[:split.train_end, 0]
    return Prepared(series=series, transform=data.transform, normalize=normalize, normalize_reason=why,
                    split=split, scaler=scaler, scaled=scaled,
                    windows=windows, season=season, scale=naive_scale(train_target, season), window=window,
                    season2=season2 or second_season(train_target, season, longer_cycles(series.freq), window.horizon),
                    season_reason=season_why)


def series_notes(noted: list[tuple[str, tuple[str, ...]]]) -> list[str]:
    """The notes of the first of several series that have some, and how many more do: thousands of series must
    not print thousands of lines."""
    more = [f"{len(noted) - 1} more series have notes like these"] if len(noted) > 1 else []
    return [f"series `{shorten(name)}`: {note}" for name, these in noted[:1] for note in these] + more


def prepare_panel(data: DataConfig, window: WindowConfig, loaded: list[tuple[str, Series]]) -> Prepared:
    """Several series for one model. Each is transformed, split chronologically by the same fractions of its own
    rows, and scaled on its own training part; the windows of every series, none crossing into another, are the
    windows of the panel. Series too short for the lookback and horizon are left out with a note."""
    empty = [name for name, series in loaded if series is None]
    if len(empty) == len(loaded):
        raise DataError(f"no series of {data.path} has a target value; choose another --target")
    prepared = [(name, *transform_series(series, data.transform)) for name, series in loaded if series is not None]
    data = dataclasses.replace(data, categories=prepared[0][1].categories)  # the one-hot columns of text inputs
    season, season_why = season_of([s.values[:training_rows(len(s), data), 0] for _, s, _ in prepared],
                                   infer_season(prepared[0][1].freq), prepared[0][1].freq, data.season)
    why = ""
    if window.lookback is None:  # from the median length: the few shortest series may be left out
        lengths = sorted(len(series) for _, series, _ in prepared)
        # Four seasons, not two: measured better for one model across series (docs/options.md, several series)
        lookback, why = choose_lookback(lengths[len(lengths) // 2], season, window.horizon, data, PANEL_SEASONS)
        why += ", for several series"
        window = dataclasses.replace(window, lookback=lookback)
    kept, short = [], []
    for name, series, model_values in prepared:
        try:
            split = split_series(len(series), data, window)
            check_season(season, split.train_end, data.path, window.horizon)
        except DataError:
            short.append(name)
            continue
        kept.append((name, series, model_values, split))
    what = f"--lookback {window.lookback} + --horizon {window.horizon} (season {season})"
    if not kept:
        raise DataError(f"every series of {data.path} is too short for {what}; use a smaller --lookback or --horizon, "
                        "or longer series")
    normalize, reason = data.normalize, ""
    if normalize is Normalize.auto:
        # One model across series whose levels drift apart (births by state) must not read levels: window, as
        # measured on births_by_state (docs/options.md, several series), whatever one series' own rule would say.
        normalize, reason = Normalize.window, "several series: each window relative to its own last value"
    blocks, scaled, with_notes, start = [], [], [], 0
    for name, series, model_values, split in kept:
        single = prepare_series(series, model_values, dataclasses.replace(data, normalize=normalize, season=season,
                                                                          path=f"series `{shorten(name)}` of {data.path}"),
                                window, split, make_windows=False)
        blocks.append(Block(name, start, split, single.scaler, single.scale))
        scaled.append(single.scaled)
        if single.series.notes:
            with_notes.append((name, single.series.notes))
        start += len(series)
    first = kept[0][1]
    notes = [f"left out {len(empty)} series without any target value: {listing(empty[:8])}"
             + (", ..." if len(empty) > 8 else "")] if empty else []
    if short:
        notes.append(f"left out {len(short)} series too short for {what}: {listing(short[:8])}"
                     + (", ..." if len(short) > 8 else ""))
    notes += series_notes(with_notes)
    series = Series(path=data.path, values=np.concatenate([s.values for _, s, _, _ in kept]), columns=first.columns,
                    time=first.time.append([s.time for _, s, _, _ in kept[1:]]), time_col=first.time_col,
                    freq=first.freq, notes=tuple(notes), calendar=first.calendar,
                    categories=first.categories)
    sizes = [b.split.sizes() for b in blocks]
    train_rows, val_rows = sum(z["train"] for z in sizes), sum(z["val"] for z in sizes)
    prep = Prepared(series=series, transform=data.transform, normalize=normalize, normalize_reason=reason,
                    split=Split(n=start, train_end=train_rows, val_end=train_rows + val_rows),
                    scaler=blocks[0].scaler, scaled=np.concatenate(scaled), windows={}, season=season,
                    scale=float("nan"), window=window, lookback_reason=why, blocks=tuple(blocks),
                    season_reason=season_why)
    windows = {part: Windows(prep.scaled, window.lookback, window.horizon,
                             prep.origins(part, window.lookback, window.horizon), normalize, future_columns(data))
               for part in PARTS}
    return dataclasses.replace(prep, windows=windows)


def load_new_series(run_data: DataConfig, lookback: int, scaler: Scaler, path: str,
                    target: str | None = None, frame=None, series: str | None = None) -> tuple[Series, np.ndarray]:
    """Read a series to forecast (a file, or the API's DataFrame `frame` labelled `path`) with a run's columns
    (target renamed by `target`; in a long table, the run's series or `series`), transform and scaler."""
    # Another file may have another delimiter, decimal mark or time column name: detect those again.
    cfg = dataclasses.replace(run_data, path=path, target=target or run_data.target, delimiter=None, decimal=None,
                              frame=frame)
    frame = read_frame(path, cfg)
    if cfg.time_col is not None and cfg.time_col not in frame.columns:
        cfg = dataclasses.replace(cfg, time_col=None)
    if series is not None and (cfg.id_col is None or cfg.id_col not in frame.columns):
        raise DataError("--series picks a series by the run's --id-col, "
                        + (f"column `{shorten(cfg.id_col)}`, which {path} lacks; pass a long table with it"
                           if cfg.id_col else "but the run was trained without one; drop --series"))
    if cfg.id_col is not None:  # a file of one series may drop the id column
        cfg = dataclasses.replace(cfg, series=(series,) if series else cfg.series) if cfg.id_col in frame.columns \
            else dataclasses.replace(cfg, id_col=None, series=())
    series, model_values = transform_series(load_csv(cfg, frame), run_data.transform)
    if series.categories != run_data.categories:  # a recorded vocabulary is kept: a new one is a new text column
        col = next(c for c in (*run_data.features, *run_data.future_features) if not vocabulary_columns(run_data, c)
                   and vocabulary_columns(dataclasses.replace(run_data, categories=series.categories), c))
        raise DataError(f"column `{shorten(col)}` of {path} holds text where the run was trained on numbers in it; "
                        "give it numbers, as in the training file")
    if len(series) < lookback:
        extra = " after differencing" if run_data.transform in transforms.DIFFERENCED else ""
        raise DataError(f"{path} has {len(series)} rows{extra}, fewer than the run's lookback ({lookback}); "
                        f"give at least {lookback} rows")
    note = outside_note(scaler, model_values[:, 0], Path(path).name)
    if note:
        series = dataclasses.replace(series, notes=(*series.notes, note))
    scaled, beyond = scaler.transform_checked(model_values)
    far = (beyond & ~np.isnan(model_values)).any(axis=0)  # an empty target to forecast is no fault
    if far.any():  # the forecasts would be NaN or infinite: values in other units, or a damaged scaler.json
        col = int(np.argmax(far))
        raise DataError(f"column `{shorten(series.columns[col])}` of {path} lies too far from what the run was "
                        f"trained on: its values reach {scaler.scales_away(model_values, col):.3g} times the run's "
                        f"scale ({scaler.std[col]:.3g} in scaler.json) from its centre; check the file's units, or "
                        "train a run on data like it")
    return series, scaled


Folds = tuple[Series, np.ndarray, list[Split]]  # a backtest's series, its model values, and its folds


def plan_folds_of(data: DataConfig, window: WindowConfig, folds: int, intervals: tuple[float, ...] = ()) -> Folds:
    """A backtest's series (in original units and transformed) and its folds; a fold too small for an --interval
    level is an error before any training."""
    series, model_values = transform_series(load_csv(data), data.transform)
    splits = plan_folds(len(series), folds, data, window)
    for k, split in enumerate(splits, start=1):
        val_windows = len(part_origins(split.bounds("val"), window.lookback, window.horizon))
        check_interval_windows(intervals, val_windows, f"fold {k}'s validation part")
    return series, model_values, splits
