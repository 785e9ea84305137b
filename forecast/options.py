"""Options by name, as the flags spell them: from the command line, a config file (TOML) or the Python API into
RunConfigs, with the same checks and messages; and the run.toml that repeats a run."""

from __future__ import annotations

import difflib
import enum
import numbers
import types
import typing
from dataclasses import fields
from pathlib import Path

from forecast.config import (OUTSIDE_SHARE, RANDOM_WALK_RATIO, Cell, DataConfig, ModelConfig, RunConfig, TrainConfig,
                             WindowConfig)
from forecast.errors import ForecastError, check_distinct


# Every option of `train` and `backtest` (the flag without its dashes, underscores for dashes; config files and the
# Python API use the same names) -> (section of RunConfig, field). `data` is the path; `cell` may name several.
SECTIONS = {"data": DataConfig, "window": WindowConfig, "model": ModelConfig, "train": TrainConfig}
RENAMED = {"intervals": "interval"}  # the field holds every level; the flag (and key) names one, repeated
# tensorboard: an option of train only; categories: read from the data, not chosen
NOT_OPTIONS = {"path", "frame", "tensorboard", "categories"}
RUN_OPTIONS = {RENAMED.get(f.name, f.name): (section, f.name) for section, cls in SECTIONS.items()
               for f in fields(cls) if f.name not in NOT_OPTIONS}


COLUMN_NAMES = {"target", "time_col", "id_col"}  # options that name a column


# `--help` groups the options by what they set; any other option is under Options.
PANELS = {**dict.fromkeys(("target", "time_col", "features", "future_features", "id_col", "series", "calendar",
                           "val_frac", "test_frac", "transform", "normalize", "season", "fill", "dedupe", "encoding",
                           "delimiter", "decimal", "last", "steps"), "Data"),
          **dict.fromkeys(("cell", "lookback", "horizon", "units", "layers", "dropout", "recurrent_dropout", "anchor",
                           "linear", "strategy"), "Model"),
          **dict.fromkeys(("epochs", "batch_size", "learning_rate", "patience", "steps_per_epoch", "seed", "resume"),
                          "Training"),
          **dict.fromkeys(("interval", "folds", "trials", "timeout", "space", "study", "storage"), "Evaluation and search"),
          **dict.fromkeys(("device", "devices", "jit", "precision", "parallel", "jobs"), "Speed"),
          **dict.fromkeys(("runs_dir", "name", "out", "out_dir", "plot", "forecasts", "tensorboard", "mlflow",
                           "mlflow_uri", "json_out", "config"), "Output")}


NORMALIZE_HELP = (
    "global: one scaler fit on the training part; window: each window relative to its last target value, so models "
    "carry over to levels never seen in training; auto (chosen by measurement): window when the training part "
    f"wanders like a random walk (variance ratio above {RANDOM_WALK_RATIO:g} at the lookback lag) or over "
    f"{OUTSIDE_SHARE:.0%} of the validation part lies outside the training range, else global.")


def closest(name: str, options) -> str:
    """` (did you mean `x`?)` for the closest of `options`, or nothing."""
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def coerce(value, kind, option: str):
    """A value from a config file or the Python API as the type an option takes (enums from their values, a tuple
    from a list or a comma-separated string); anything else is a ForecastError naming the option."""
    if typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return None if value is None else coerce(value, args[0], option)
    if typing.get_origin(kind) in (tuple, list):
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if args[0] is str:  # names: each item may be a comma-separated list
            items = [part.strip() for v in items for part in str(v.value if isinstance(v, enum.Enum) else v).split(",")
                     if part.strip()]
        return tuple(coerce(v, args[0], option) for v in items)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        raw = value.value if isinstance(value, enum.Enum) else value
        try:
            return kind(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise ForecastError(f"{option} must be one of {allowed} (got {raw!r})") from None
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text", Path: "a path"}
    flag = isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")  # NumPy's numpy.bool too
    ok = (flag if kind is bool else
          isinstance(value, numbers.Integral) and not flag if kind is int else  # NumPy's integers too
          isinstance(value, numbers.Real) and not flag if kind is float else
          isinstance(value, (str, Path)) if kind in (str, Path) else True)
    if not ok:
        raise ForecastError(f"{option} must be {names.get(kind, kind)} (got {value!r})")
    converted = {bool: bool, int: int, float: float, Path: Path, str: str}.get(kind)
    return converted(value) if converted else value


def run_configs(data, cell="lstm", **options) -> list[RunConfig]:
    """One RunConfig per cell from options named as the flags (`RUN_OPTIONS`), as plain values or as the enums:
    what the CLI, config files and the Python API all build runs with. `data` is a path or a pandas DataFrame."""
    sections: dict[str, dict] = {name: {} for name in SECTIONS}
    for name, value in options.items():
        if name in COLUMN_NAMES | {"devices"} and isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = str(value)  # a DataFrame's columns may be numbers, and `devices = 2` a count: both held as text
        if name not in RUN_OPTIONS:
            raise ForecastError(f"unknown option `{name}`{closest(name, [*RUN_OPTIONS, 'cell', 'data'])}; the "
                                "options are those of `forecast train --help`, with _ for -")
        section, key = RUN_OPTIONS[name]
        hints = typing.get_type_hints(SECTIONS[section])
        value = coerce(value, hints[key], f"--{name.replace('_', '-')}")
        if key == "delimiter" and value in ("\\t", "tab"):
            value = "\t"
        sections[section][key] = value
    frame = None
    if not isinstance(data, (str, Path)):
        frame, data = data, "dataframe"
    chosen: list[Cell] = []
    names = coerce(cell, tuple[str, ...], "--cell")
    check_distinct(names, "--cell")
    for c in names:
        if c not in ("all", *(member.value for member in Cell)):
            raise ForecastError(f"--cell must be one of rnn, lstm, gru, all (got {c!r})")
        # all with named cells: every cell, the named ones first (--cell gru --cell all: gru, rnn, lstm)
        chosen += [one for one in (list(Cell) if c == "all" else [Cell(c)]) if one not in chosen]
    if not chosen:
        raise ForecastError("--cell names no cell; give rnn, lstm, gru or all")
    base = DataConfig(path=str(data), frame=frame, **sections["data"])
    return [RunConfig(data=base, window=WindowConfig(**sections["window"]), train=TrainConfig(**sections["train"]),
                      model=ModelConfig(cell=c, **sections["model"])) for c in chosen]


def read_toml(path: Path, flag: str) -> dict:
    """A TOML file's settings; a missing, unreadable or malformed file is a ForecastError."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ForecastError(f"{flag} file {path} does not exist; check the {flag} path") from None
    except IsADirectoryError:
        raise ForecastError(f"{flag} {path} is a folder; pass a TOML file") from None
    except UnicodeDecodeError:
        raise ForecastError(f"{flag} file {path} is not UTF-8 text; save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ForecastError(f"{flag} file {path} is not valid TOML ({exc}); fix that line") from None


def option_type(name: str):
    """The type a run option takes (without None): int, float, bool, str, an enum, or a tuple type."""
    if name == "cell":
        return Cell
    section, key = RUN_OPTIONS[name]
    kind = typing.get_type_hints(SECTIONS[section])[key]
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    return args[0] if typing.get_origin(kind) in (typing.Union, types.UnionType) else kind


def read_config(path: Path, command: str, own: dict[str, dict]) -> tuple[dict, dict]:
    """(run options, `command`'s own options) from a TOML file, every value checked. Top-level keys are the run
    options (with `data` and `cell`); a command's own options (`own`: command -> option -> type) sit in its table
    ([train], [backtest], [tune]), and one file can serve all of them: each command checks every table. Paths in
    it are relative to the current folder, as on the command line."""
    settings = read_toml(path, "--config")
    top = {*RUN_OPTIONS, "data", "cell"}
    run, tables = {}, {}
    for key, value in settings.items():
        if key in own:
            if not isinstance(value, dict):
                raise ForecastError(f"`{key}` in {path} must be a table of {key}'s options, e.g. [{key}]")
            for name in value:
                if name not in own[key]:
                    raise ForecastError(f"unknown key `{name}` in [{key}] of {path}{closest(name, own[key])}; "
                                        f"[{key}] takes {', '.join(sorted(own[key]))}")
            tables[key] = {name: coerce(v, own[key][name], f"`{name}` in [{key}] of {path}") for name, v in value.items()}
        elif key == "cell":  # one cell, a list of them, or "all"
            run[key] = coerce(value, tuple[str, ...], f"`{key}` in {path}")
        elif key in RUN_OPTIONS:
            if key == "devices" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # `devices = 2`, held as text beside "all"
            run[key] = coerce(value, option_type(key), f"`{key}` in {path}")
        elif key in top:
            run[key] = coerce(value, Path if key == "data" else tuple[str, ...], f"`{key}` in {path}")
        else:
            owner = [name for name, keys in own.items() if key in keys]
            where = f"; it is an option of {owner[0]}: put it under [{owner[0]}]" if owner else ""
            raise ForecastError(f"unknown key `{key}` in {path}{closest(key, [*top, *own]) if not owner else ''}"
                                f"{where or '; the keys are the options of `forecast ' + command + ' --help`, with _ for -'}")
    return run, tables.get(command, {})


def _toml_value(value) -> str:
    import json

    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float
    return json.dumps(value) if isinstance(value, str) else str(value)  # JSON's string escapes are TOML's


def options_of(cfg: RunConfig) -> dict:
    """A RunConfig's options by name (`cell` included, `data` not): what run_configs takes back."""
    return {"cell": cfg.model.cell.value, **{name: getattr(getattr(cfg, section), key)
                                             for name, (section, key) in RUN_OPTIONS.items()}}


def run_toml(cfg: RunConfig, note: str) -> str:
    """The config file that trains this run again: `forecast train --config run.toml` (the options as resolved)."""
    lines = [f"# {line}" for line in note.splitlines()]
    if cfg.data.frame is None:  # a DataFrame has no path: `data` stays unset, and the note says so
        lines.append(f"data = {_toml_value(cfg.data.path)}")
    lines += [f"{name} = {_toml_value(value)}" for name, value in options_of(cfg).items() if value is not None]
    if cfg.train.tensorboard:
        lines += ["", "[train]", "tensorboard = true"]
    return "\n".join(lines) + "\n"
