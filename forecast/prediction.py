"""Forecasting a series with a saved run: every origin with a full lookback, the last one continued into the
future, the naive and seasonal naive beside it, scores where the series has actuals, and the figure."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import artifacts, plots
from forecast.baselines import OTHERS, SIMPLE, baseline_forecasts, references
from forecast.config import Strategy
from forecast.csvfile import read_frame
from forecast.data import WIDE_ID, WIDE_VALUE, Series, melt_wide, select_series
from forecast.dates import calendar_columns, extend_time, same_spacing
from forecast.errors import ForecastError, check_distinct, listing, shorten
from forecast.evaluate import forecast_table, interval_bands, interval_bounds, table_scores, window_spread
from forecast.prepare import future_columns, load_new_series, series_notes, to_target
from forecast.windows import Windows, forecast_origins, part_origins


def run_references(info: artifacts.RunInfo) -> tuple[str, ...]:
    """The baselines beside a run's predictions: the three simple references, the seasonal ones at its second
    season where its data showed one, and drift or mean where validation recommends it over the run."""
    chosen = info.metrics.get("recommended", {}).get("model")
    return references(info.metrics["test"].get("season2", 1)) + ((chosen,) if chosen in OTHERS else ())


def table_references(table: pd.DataFrame) -> tuple[str, ...]:
    return tuple(name for name in SIMPLE if name in table.columns)


@dataclass(frozen=True)
class Prediction:
    table: pd.DataFrame
    scores: dict | None  # model and baseline scores where the data has actuals
    notes: tuple[str, ...] = ()  # for the user: what could not be forecast


def load_inputs(infos: list[artifacts.RunInfo], path: str, target: str | None, frame: pd.DataFrame | None,
                series) -> tuple[list[tuple[str, Series, np.ndarray]], tuple[str, ...], list[str]]:
    """What predict forecasts, read and scaled before any model loads: (name, series, scaled) for each run (its one
    series), or for each series of a run of several; the --series names asked; and notes for the user."""
    names = tuple(n.strip() for v in ([series] if isinstance(series, str) else series or ())
                  for n in str(v).split(",") if n.strip())
    check_distinct(names, "--series")
    if infos[0].series_scalers:
        if len(infos) > 1:
            raise ForecastError(f"{infos[0].name} is one model of several series; predict with it alone (the mean "
                                "of such runs is not built)")
        loaded, notes = panel_series(infos[0], path, target, frame, names)
        for _, one, _ in loaded[:1]:  # the series of one table share one frequency (data.load_panel)
            check_frequency(infos[0], one, path)
        return loaded, names, [*notes, *series_notes([(name, s.notes) for name, s, _ in loaded if s.notes])]
    if len(names) > 1:
        raise ForecastError(f"{infos[0].name} forecasts one series; pass one --series (got {len(names)})")
    loaded = [("", *load_new_series(info.config.data, info.config.window.lookback, info.scaler, path, target, frame,
                                    names[0] if names else None)) for info in infos]
    for info in infos:
        check_frequency(info, loaded[0][1], path)
    return loaded, names, list(loaded[0][1].notes)


def check_frequency(info: artifacts.RunInfo, series: Series, path: str) -> None:
    """The new rows must be spaced as the run's were: its lookback, horizon and season count steps of that spacing."""
    trained = info.meta["data"].get("freq")
    if trained and series.freq and not same_spacing(trained, series.freq):
        raise ForecastError(f"{path} has rows every {series.freq} and {info.name} was trained on rows every {trained} "
                            f"(its lookback, horizon and season {info.config.data.season} count those steps); predict "
                            f"with a run trained on {series.freq} data, or resample the file to {trained}")


def panel_series(info: artifacts.RunInfo, path: str, target: str | None, frame: pd.DataFrame | None,
                 names: tuple[str, ...]) -> tuple[list[tuple[str, Series, np.ndarray]], list[str]]:
    """The series of a long table that a run of several series forecasts, each scaled by its own scaler from
    training: those `names`, else every one the run knows; and the notes on what was left out."""
    data = info.config.data
    cfg = dataclasses.replace(data, path=path, target=target or data.target, delimiter=None, decimal=None,
                              frame=frame, series=names)
    table = read_frame(path, cfg)
    if data.id_col is None:  # a wide table: one column per series
        table = melt_wide(table, cfg)
        cfg = dataclasses.replace(cfg, target=WIDE_VALUE, id_col=WIDE_ID)
        target = WIDE_VALUE
    elif data.id_col not in table.columns:
        raise ForecastError(f"{info.name} is one model of several series named by column `{shorten(data.id_col)}`, "
                            f"which {path} lacks; pass a long table with that column")
    known = info.series_scalers
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ForecastError(f"series `{shorten(unknown[0])}` was not among the {len(known)} series {info.name} was "
                            f"trained on, and each series is scaled by its own training part: pick some of "
                            f"{listing(list(known)[:8])}{', ...' if len(known) > 8 else ''}")
    parts = select_series(table, cfg)
    notes = []
    if not names:
        left = [name for name, _ in parts if name not in known]
        parts = [(name, part) for name, part in parts if name in known]
        if not parts:
            raise ForecastError(f"none of the series in column `{shorten(data.id_col)}` of {path} is one of the "
                                f"{len(known)} {info.name} was trained on ({listing(list(known)[:8])}"
                                f"{', ...' if len(known) > 8 else ''}); predict needs series the run knows")
        if left:
            notes.append(f"left out {len(left)} series of {path} that {info.name} was not trained on: "
                         f"{listing(left[:8])}{', ...' if len(left) > 8 else ''}")
    loaded = [(name, *load_new_series(data, info.config.window.lookback, known[name], f"series `{shorten(name)}` of "
                                      f"{path}", target, part)) for name, part in parts]
    return loaded, notes


def predict_panel(info: artifacts.RunInfo, loaded: list[tuple[str, Series, np.ndarray]], steps: int | None,
                  last_origins: int | None = None) -> Prediction:
    """predict_series of every series of a run of several, one table with a `series` column first."""
    model = artifacts.load_model(info.path)
    tables, notes = [], []
    for name, series, scaled in loaded:
        one = predict_series(info, series, scaled, steps, last_origins, model, name)
        one.table.insert(0, "series", name)
        tables.append(one.table)
        notes += [f"series `{name}`: {note}" for note in one.notes]
    table = pd.concat(tables, ignore_index=True)
    return Prediction(table=table, scores=table_scores(table, run_references(info), tuple(info.intervals)),
                      notes=tuple(notes))


def predict_series(info: artifacts.RunInfo, series: Series, scaled: np.ndarray, steps: int | None,
                   last_origins: int | None = None, model=None, name: str = "") -> Prediction:
    """Forecast every origin with a full lookback (horizon steps each), or only the `last_origins` latest; the
    last origin gets --steps. `model`: the run's, when already loaded; `name`: the series of a run of several."""
    from forecast.inference import forecast_recursive, forecast_windows

    cfg = info.config
    lookback, horizon, strategy = cfg.window.lookback, cfg.window.horizon, cfg.model.strategy
    # calendar inputs alone are known at every future timestamp: past the horizon they are computed, not fed back
    calendar_only = scaled.shape[1] - 1 == 2 * len(series.calendar) and isinstance(series.time, pd.DatetimeIndex)
    if steps is not None and steps > horizon and scaled.shape[1] > 1 and not calendar_only:
        raise ForecastError(
            f"--steps {steps} exceeds the run's horizon ({horizon}) and the run reads input features "
            f"({', '.join(series.columns[1:])}) whose future values are unknown; use --steps {horizon} or less"
        )
    model = artifacts.load_model(info.path) if model is None else model
    expected = (lookback, scaled.shape[1])
    outputs = 1 if strategy is Strategy.recursive else horizon
    shape = model.input_shape[0] if isinstance(model.input_shape, list) else model.input_shape  # the window's
    if tuple(shape[1:]) != expected or model.output_shape[-1] != outputs:
        raise ForecastError(f"{info.path}/model.keras maps windows of shape {tuple(shape[1:])} to "
                            f"{model.output_shape[-1]} values, the run's config says {expected} to {outputs}; the run "
                            "folder is inconsistent, train it again")
    target = series.values[:, 0]
    scaler = info.series_scalers[name] if name else info.scaler
    normalize = scaler.normalize

    def in_units(scaled_forecast: np.ndarray, origins: np.ndarray) -> np.ndarray:
        return to_target(scaled_forecast, origins, scaled, target, scaler, cfg.data.transform)

    origins = forecast_origins(len(series), lookback)
    notes = []
    columns = future_columns(cfg.data)
    if columns is not None:  # the known future: the file's own rows, then its rows without a target
        scaled, known = known_future(series, scaled, scaler, columns, steps, horizon, cfg.data.future_features)
        if origins[-1] + horizon > known:
            notes.append(f"forecasts end at origin {series.time[known - horizon]}: the later origins need "
                         f"{', '.join(cfg.data.future_features)} beyond the file; add rows with an empty target "
                         "and those values to forecast them")
            origins = origins[origins + horizon <= known]
    if last_origins is not None:
        origins = origins[-last_origins:]  # only these are forecast, not computed and then dropped
    windows = Windows(scaled, lookback, horizon, origins, normalize, columns)
    forecasts = in_units(forecast_windows(model, windows, strategy), origins)
    last = forecasts[-1]
    if steps is not None:
        last = (in_units(forecast_recursive(model, scaled[-lookback:], steps, scaler.per_window,
                                            future_calendar(series, scaler, steps + horizon))[None, :],
                         origins[-1:])[0]
                if steps > horizon else last[:steps])
    time = extend_time(series.time, max(horizon, len(last)), series.freq)
    season = info.metrics["test"]["season"]
    parts = [(origins[:-1], forecasts[:-1]), (origins[-1:], last[None, :])]
    table = pd.concat([forecast_table(time, target, o, f, {
        **baseline_forecasts(target, o, f.shape[1], lookback, season, run_references(info),
                             info.metrics["test"].get("season2", 1)),
        **interval_bounds(f, info.intervals, window_spread(target, o, info.interval_scale))})
        for o, f in parts if len(o)], ignore_index=True)
    return Prediction(table=table, scores=table_scores(table, run_references(info), tuple(info.intervals)),
                      notes=tuple(notes))


def future_calendar(series: Series, scaler, rows: int) -> np.ndarray | None:
    """The scaled calendar columns of the `rows` timestamps after the series' end, None without a calendar."""
    if not series.calendar:
        return None
    _, values = calendar_columns(extend_time(series.time, rows, series.freq)[len(series):], series.calendar)
    return scaler.transform(np.column_stack([np.zeros(rows), values]))[:, 1:]


def known_future(series: Series, scaled: np.ndarray, scaler, columns: tuple[int, int], steps: int | None,
                 horizon: int, names: tuple[str, ...]) -> tuple[np.ndarray, int]:
    """The scaled rows with the file's future rows of the known-future columns appended (the other columns NaN,
    never read), and the number of rows whose known future is given. --steps forecasts from the last row, whose
    window reads the known future of every horizon step, whatever the steps kept."""
    future = series.future if series.future is not None else np.zeros((0, columns[1] - columns[0]))
    given = len(future) if not np.isnan(future).any() else int(np.argmax(np.isnan(future).any(axis=1)))
    if steps is not None and given < horizon:
        raise ForecastError(f"--steps {steps} forecasts from the last row, which reads the known-future column(s) "
                            f"{', '.join(names)} at the {horizon} rows after it ({series.time[-1]}), and "
                            f"{series.path} gives {given}; add those rows with an empty target and every known-future "
                            "value")
    rows = np.full((given, scaled.shape[1]), np.nan, np.float32)
    a, b = columns
    rows[:, a:b] = (future[:given] - np.asarray(scaler.mean[a:b])) / np.asarray(scaler.std[a:b])
    return np.concatenate([scaled, rows]), len(series) - 1 + given


def in_sample_note(info: artifacts.RunInfo, data: Path, series: Series, table: pd.DataFrame) -> str:
    """On the very file a run was trained on, which of the scored values the model saw in training or validation
    (in-sample), and the scores of its test windows alone (those its test score counts: every target inside the
    test part); "" for any other file."""
    meta = info.meta.get("data")
    if not isinstance(meta, dict):
        return ""
    if info.series_scalers:
        same = Path(data).resolve() == Path(str(meta.get("path")))
        return (f"{data.name} is the file {info.name} was trained on: the scores above include the training and "
                f"validation rows of its series (in-sample, the model saw them); {info.name}/series_scores.csv has "
                "each series' test part alone") if same else ""
    try:  # config.json's description of the data is informative only: a damaged one just says nothing here
        same = Path(data).resolve() == Path(meta["path"]) and len(series) == int(meta["rows"])
        first_test, end = map(int, meta["split_rows"]["test"])
    except (KeyError, TypeError, ValueError, IndexError, OverflowError):  # OverflowError: an infinite count
        return ""
    if not same or not 1 <= first_test < len(series) or end != len(series):
        return ""
    test_start = series.time[first_test]
    known = table["actual"].notna()
    seen = int((known & (table["timestamp"] < test_start)).sum())
    if seen == 0:
        return ""
    text = (f"{data.name} is the file {info.name} was trained on: {seen} of the {int(known.sum())} scored values lie "
            f"in its training and validation rows (in-sample, the model saw them)")
    window = info.config.window
    horizon = window.horizon
    test = table[table["origin"].isin(series.time[part_origins((first_test, end), window.lookback, horizon)])]
    if len(test) and test["actual"].notna().all():
        scores = table_scores(test, run_references(info))
        windows = test["origin"].nunique()
        text += (f"; on its test windows alone (the {windows} whose {horizon}-step targets lie in its test part, "
                 f"from {test_start}, as its test score counts them): model MSE {scores['model']['mse']:.4g}, naive "
                 f"MSE {scores['naive']['mse']:.4g}")
    return text


def average(predictions: list[Prediction], names: list[str]) -> Prediction:
    """The mean of several runs' forecasts of the same series, on the origins and steps all of them forecast
    (runs with a longer lookback start later); each run's own forecast stays beside it as forecast_<name>."""
    key = ["origin", "step"]
    first = predictions[0].table
    table = first[[*key, "timestamp", "actual", *table_references(first)]]
    members = [f"forecast_{name}" for name in names]
    for column, p in zip(members, predictions, strict=True):
        table = table.merge(p.table[[*key, "forecast"]].rename(columns={"forecast": column}), on=key, how="inner")
    table.insert(3, "forecast", table[members].mean(axis=1))
    table.insert(5, "error", table["actual"] - table["forecast"])
    return Prediction(table=table, scores=table_scores(table, table_references(table)))


def plot_predictions(result: Prediction, series: Series, title: str, lookback: int, season: int, intervals: dict,
                     path: Path, season2: int = 1) -> None:
    """History with the one-step forecasts over it and the last origin's path into the future."""
    table = result.table
    # The last stretch of history (a few lookbacks) keeps the future path readable on long series.
    start = max(0, len(series) - max(5 * lookback, 300))
    first = table[(table["step"] == 1) & (table["timestamp"] >= series.time[start])]
    last_origin = table["origin"].iloc[-1]
    future = table[(table["origin"] == last_origin) & table["actual"].isna()]
    fig, (ax,) = plots.new_figure(width=11)
    plots.plot_forecast(ax, series.time[start:], series.values[start:, 0], first["timestamp"], first["forecast"],
                        references={name: first[name] for name in table_references(first)}, season=season,
                        season2=season2,
                        future_time=future["timestamp"], future=future["forecast"].to_numpy(),
                        bands=interval_bands(first, intervals), future_bands=interval_bands(future, intervals),
                        ylabel=series.target, title=title)
    plots.save_figure(fig, path)
