"""The search space of `forecast tune`: the default one, one read from a TOML file (`--space`), checked key by key,
and each trial's values drawn from it through Optuna's `trial.suggest_*` (passed in: no Optuna import here)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from forecast.baselines import ANCHORS, SECOND, window_rows
from forecast.errors import ForecastError
from forecast.options import RUN_OPTIONS, closest, coerce, option_type

# Options a trial may change; the others fix what is scored (horizon, split, season, target) or how it runs.
TUNABLE = ("cell", "lookback", "units", "layers", "dropout", "anchor", "linear", "strategy", "batch_size",
           "learning_rate", "normalize", "transform", "epochs", "patience")


@dataclass(frozen=True)
class Dimension:
    """One option's range: `choices` (categorical), or `low`..`high` (ints when the option takes ints)."""

    name: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False

    def suggest(self, trial):
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if option_type(self.name) is int:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)

    def describe(self) -> str:
        if self.choices:
            return "{" + ", ".join(str(c) for c in self.choices) + "}"
        return f"{self.low:g}..{self.high:g}" + (" (log)" if self.log else "")


def default_space(lookback: int, cells: tuple[str, ...], season: int = 1, horizon: int = 1) -> dict[str, Dimension]:
    """Around the tool's defaults: the automatic lookback halved and doubled, 16-128 units, one or two layers,
    dropout up to 0.3, learning rates 1e-4..1e-2, batches 32-256, either normalisation or the automatic choice,
    differencing or not; the reference the model starts from (auto, or each one the shortest lookback holds), never
    none: unanchored networks won the validation blocks and lost on test (docs/options.md); the cells given with
    --cell when there are several."""
    lookbacks = tuple(sorted({max(2, lookback // 2), lookback, 2 * lookback}))
    anchors = [a for a in ANCHORS if ANCHORS[a] not in SECOND  # auto takes a second season's where it fits
               and window_rows(a, season, horizon) <= lookbacks[0] and (season > 1 or a == "naive")]
    space = {
        "lookback": Dimension("lookback", lookbacks),
        "units": Dimension("units", low=16, high=128, log=True),
        "layers": Dimension("layers", (1, 2)),
        "dropout": Dimension("dropout", low=0.0, high=0.3),
        "learning_rate": Dimension("learning_rate", low=1e-4, high=1e-2, log=True),
        "batch_size": Dimension("batch_size", (32, 64, 128, 256)),
        "normalize": Dimension("normalize", ("auto", "global", "window")),
        "transform": Dimension("transform", ("none", "diff")),
        "anchor": Dimension("anchor", ("auto", *anchors)),
    }
    if len(cells) > 1:
        space["cell"] = Dimension("cell", cells)
    return space


def read_space(path: Path) -> dict[str, Dimension]:
    """A space file: `key = [choices]`, `key = {low = .., high = .., log = true}`, or `key = value` (fixed)."""
    from forecast.options import read_toml

    space = {}
    for name, value in read_toml(path, "--space").items():
        where = f"`{name}` in {path}"
        if name not in TUNABLE:
            if name in RUN_OPTIONS:
                raise ForecastError(f"{where} cannot be searched: it changes what is scored or how it runs; set it "
                                    f"as an option (--{name.replace('_', '-')}). Searchable: {', '.join(TUNABLE)}")
            raise ForecastError(f"unknown key {where}{closest(name, TUNABLE)}; searchable: {', '.join(TUNABLE)}")
        space[name] = _dimension(name, value, where)
    if not space:
        raise ForecastError(f"{path} names no option to search; add e.g. units = {{low = 16, high = 128}}")
    return space


def _dimension(name: str, value, where: str) -> Dimension:
    kind = option_type(name)
    if isinstance(value, dict):
        unknown = set(value) - {"low", "high", "log"}
        if unknown or not {"low", "high"} <= set(value):
            raise ForecastError(f"{where} must be a list of choices or a table {{low = .., high = .., log = true}} "
                                f"(got keys {', '.join(sorted(value))})")
        if kind not in (int, float):
            raise ForecastError(f"{where} takes choices, not a range: give a list, e.g. {name} = [...]")
        low, high = (coerce(value[k], kind, f"{where}: {k}") for k in ("low", "high"))
        log = coerce(value.get("log", False), bool, f"{where}: log")
        if not low <= high:
            raise ForecastError(f"{where} is an empty range ({low} > {high}); give low <= high")
        if log and low <= 0:
            raise ForecastError(f"{where} has log = true with low = {low}; a log range needs low > 0")
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ForecastError(f"{where} needs finite low and high")
        return Dimension(name, low=low, high=high, log=log)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ForecastError(f"{where} is an empty list of choices; give at least one")
    choices = tuple(dict.fromkeys(_choice(name, v, kind, where) for v in values))
    return Dimension(name, choices)


def _choice(name: str, value, kind, where: str):
    if name == "cell":
        from forecast.config import Cell

        return coerce(value, Cell, where).value
    checked = coerce(value, kind, where)
    return checked.value if hasattr(checked, "value") else checked
