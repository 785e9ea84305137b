"""A run folder's JSON and CSV files checked field by field as they are read: the type and range of every value
that a command uses, so that a damaged or hand-edited run gives one `Error:` line, never a traceback."""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing

import pandas as pd

from forecast.baselines import BASELINES, SECOND
from forecast.config import RunConfig
from forecast.errors import ForecastError, shorten

SCORES = ("mse", "rmse", "mae")  # always defined
OPTIONAL_SCORES = ("mape", "smape", "mase")  # None where undefined
HISTORY_COLUMNS = ("epoch", "loss", "val_loss")


class Malformed(ValueError):
    """A value in a run file is missing, of the wrong type, or out of range."""


def _need(ok: bool, where: str, what: str, value: object) -> None:
    if not ok:
        raise Malformed(f"{where} {what} (it is {shorten(repr(value), 40)})")


def obj(value: object, where: str) -> dict:
    _need(isinstance(value, dict), where, "must be a JSON object", value)
    return value


def key(parent: dict, name: str, where: str):
    if name not in parent:
        raise Malformed(f"{where}.{name} is missing")
    return parent[name]


def number(value: object, where: str, low: float | None = None, high: float | None = None,
           optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    _need(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value), where,
          "must be a finite number", value)
    _need((low is None or value >= low) and (high is None or value <= high), where,
          f"must lie in [{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]", value)
    return float(value)


def integer(value: object, where: str, low: int | None = None) -> int:
    _need(isinstance(value, int) and not isinstance(value, bool), where, "must be a whole number", value)
    _need(low is None or value >= low, where, f"must be at least {low}", value)
    return value


def typed(value: object, hint, where: str):
    """`value` read from JSON as the type `hint` of a config field (dataclasses, enums, tuples, optionals)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return typed(value, inner, where)
    if origin is tuple:
        _need(isinstance(value, list), where, "must be a list", value)
        return tuple(typed(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint):
        raw = obj(value, where)
        hints = typing.get_type_hints(hint)
        fields = {f.name: typed(raw[f.name], hints[f.name], f"{where}.{f.name}")
                  for f in dataclasses.fields(hint) if f.name in raw}
        missing = [f.name for f in dataclasses.fields(hint) if f.name not in raw
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise Malformed(f"{where}.{missing[0]} is missing")
        return hint(**fields)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = [m.value for m in hint]
        _need(value in choices, where, f"must be one of {', '.join(choices)}", value)
        return hint(value)
    if hint is bool:
        _need(isinstance(value, bool), where, "must be true or false", value)
        return value
    if hint is int:
        return integer(value, where)
    if hint is float:
        return number(value, where)
    if hint is str:
        _need(isinstance(value, str), where, "must be text", value)
        return value
    raise TypeError(f"no reader for {hint} ({where})")  # a field type this module does not know: a bug


def read_config(meta: object) -> RunConfig:
    """config.json's options, every field typed and range-checked (the dataclasses check the ranges)."""
    meta = obj(meta, "config.json")
    data = obj(key(meta, "data", "config.json"), "config.json data")
    _need(isinstance(key(data, "path", "config.json data"), str), "config.json data.path", "must be text", data["path"])
    options = obj(key(meta, "options", "config.json"), "config.json options")
    raw_data = options.get("data")
    if isinstance(raw_data, dict) and isinstance(raw_data.get("dedupe"), bool):  # a flag before --dedupe MODE
        options = {**options, "data": {**raw_data, "dedupe": "last" if raw_data["dedupe"] else "none"}}
    try:
        config = typed(options, RunConfig, "config.json options")
    except ForecastError as exc:  # a range the options themselves reject, e.g. a lookback of 0
        raise Malformed(f"config.json options: {exc}") from None
    _need(config.window.lookback is not None, "config.json options.window.lookback",
          "must be recorded (a run records the lookback it used)", None)
    return config


def check_scores(raw: object, where: str) -> None:
    raw = obj(raw, where)
    for name in SCORES:
        number(key(raw, name, where), f"{where}.{name}", low=0)
    for name in OPTIONAL_SCORES:
        number(key(raw, name, where), f"{where}.{name}", low=0, optional=True)


def check_metrics(raw: object, horizon: int) -> dict:
    """metrics.json: every score a command prints, for the model and each baseline, and the counts it uses."""
    raw = obj(raw, "metrics.json")
    for name in ("epochs_run", "best_epoch", "model_epoch"):
        integer(key(raw, name, "metrics.json"), f"metrics.json {name}", low=0)
    test = obj(key(raw, "test", "metrics.json"), "metrics.json test")
    check_scores(key(test, "model", "metrics.json test"), "metrics.json test.model")
    baselines = obj(key(test, "baselines", "metrics.json test"), "metrics.json test.baselines")
    for name in BASELINES:
        check_scores(key(baselines, name, "metrics.json test.baselines"), f"metrics.json test.baselines.{name}")
    integer(key(test, "season", "metrics.json test"), "metrics.json test.season", low=1)
    if integer(test.get("season2", 1), "metrics.json test.season2", low=1) > 1:  # runs before it had none
        for name in SECOND:
            check_scores(key(baselines, name, "metrics.json test.baselines"), f"metrics.json test.baselines.{name}")
    integer(key(test, "n_windows", "metrics.json test"), "metrics.json test.n_windows", low=0)
    _need(key(test, "horizon", "metrics.json test") == horizon, "metrics.json test.horizon",
          f"must equal the run's horizon ({horizon})", test["horizon"])
    if "val" in raw:  # runs of forecast 0.x before validation scores were kept lack it
        val = obj(raw["val"], "metrics.json val")
        check_scores(key(val, "model", "metrics.json val"), "metrics.json val.model")
        for name, scores in obj(key(val, "baselines", "metrics.json val"), "metrics.json val.baselines").items():
            check_scores(scores, f"metrics.json val.baselines.{name}")
    if "ensemble" in raw:
        ensemble = obj(raw["ensemble"], "metrics.json ensemble")
        for part in ("val", "test"):
            check_scores(key(ensemble, part, "metrics.json ensemble"), f"metrics.json ensemble.{part}")
    if "start" in raw:  # an anchored run's untrained start (runs before it had none)
        start = obj(raw["start"], "metrics.json start")
        for part in ("val", "test"):
            check_scores(key(start, part, "metrics.json start"), f"metrics.json start.{part}")
        number(start.get("val_loss"), "metrics.json start.val_loss", low=0, optional=True)
        _need(isinstance(key(start, "kept", "metrics.json start"), bool), "metrics.json start.kept",
              "must be true or false", start["kept"])
    if "recommended" in raw:
        chosen = key(obj(raw["recommended"], "metrics.json recommended"), "model", "metrics.json recommended")
        _need(isinstance(chosen, str), "metrics.json recommended.model", "must be text", chosen)
    for level, iv in obj(test.get("intervals", {}), "metrics.json test.intervals").items():
        number(key(obj(iv, f"metrics.json test.intervals.{level}"), "coverage", f"metrics.json test.intervals.{level}"),
               f"metrics.json test.intervals.{level}.coverage", low=0, high=1)
        number(key(iv, "mean_width", f"metrics.json test.intervals.{level}"),
               f"metrics.json test.intervals.{level}.mean_width", low=0)
    return raw


def check_interval_scale(raw: object) -> dict | None:
    """intervals.json `scale` (widths in units of each window's spread), or None when the widths are absolute."""
    if "scale" not in obj(raw, "intervals.json"):
        return None
    scale = obj(raw["scale"], "intervals.json scale")
    integer(key(scale, "lookback", "intervals.json scale"), "intervals.json scale.lookback", low=1)
    if "lag" in scale:  # absent in runs from before it: the one-step change
        integer(scale["lag"], "intervals.json scale.lag", low=1)
    number(key(scale, "floor", "intervals.json scale"), "intervals.json scale.floor", low=0)
    _need(scale["floor"] > 0, "intervals.json scale.floor", "must be above 0", scale["floor"])
    return scale


def check_intervals(raw: object, horizon: int) -> dict[str, list[float]]:
    """intervals.json: a half-width per horizon step for each level in (0, 1)."""
    half_widths = obj(key(obj(raw, "intervals.json"), "half_widths", "intervals.json"), "intervals.json half_widths")
    out = {}
    for level, widths in half_widths.items():
        where = f"intervals.json half_widths.{shorten(level, 20)}"
        try:
            in_range = 0 < float(level) < 1
        except ValueError:
            in_range = False
        _need(in_range, where, "must be keyed by a level in (0, 1)", level)
        _need(isinstance(widths, list) and len(widths) == horizon, where, f"must list {horizon} half-widths", widths)
        out[level] = [number(w, f"{where}[{i}]", low=0) for i, w in enumerate(widths)]
    return out


def check_history(history: pd.DataFrame) -> pd.DataFrame:
    """history.csv: epoch, loss and val_loss, numeric and finite, at least one epoch."""
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise Malformed(f"history.csv lacks the column {missing[0]} (it has {shorten(', '.join(history.columns))})")
    if history.empty:
        raise Malformed("history.csv has no epochs")
    for column in HISTORY_COLUMNS:
        values = pd.to_numeric(history[column], errors="coerce")
        if not values.map(math.isfinite).all():
            raise Malformed(f"history.csv column {column} holds a value that is not a finite number")
    return history
