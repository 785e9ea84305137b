"""Options of a run as frozen dataclasses: what the CLI collects and every other module reads."""

from __future__ import annotations

import enum
import re
import typing
from dataclasses import asdict, dataclass, field, replace

from forecast.errors import ForecastError, check_distinct

SCHEMA_VERSION = 4  # 4: the seasonal difference among the baselines; 3: scaler.json's `normalize` (global|window)

# The rule of `--normalize auto`, chosen by measurement (benchmarks/normalize.md): window when the training part wanders
# like a random walk (variance ratio above RANDOM_WALK_RATIO at the lookback lag; measured 0.67-1.16 on random-walk-like
# series, 0.001-0.24 on stationary ones) or over OUTSIDE_SHARE of the validation part lies outside the training range.
RANDOM_WALK_RATIO = 0.5
OUTSIDE_SHARE = 0.25
# --calendar: cyclical (sin, cos) features of each row's time (forecast.dates.CALENDAR has their periods).
CALENDAR_FEATURES = ("hour", "dow", "doy", "month")


def input_columns(data: DataConfig) -> tuple[str, ...]:
    """A run's model columns in order: target, --features, --future-features, calendar features."""
    return (data.target, *encoded(data, data.features), *encoded(data, data.future_features),
            *calendar_column_names(data.calendar))


def encoded(data: DataConfig, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The model columns of input columns: a text column's one-hot columns (`weather=rain`, ...), else itself."""
    return tuple(name for col in columns for name in (vocabulary_columns(data, col) or (col,)))


def vocabulary_columns(data: DataConfig, col: str) -> tuple[str, ...]:
    """The one-hot columns of text input column `col` (none for a numeric column)."""
    return tuple(name for name in data.categories if name.startswith(f"{col}="))


def calendar_column_names(calendar: tuple[str, ...]) -> tuple[str, ...]:
    """The input columns of calendar features: `dow_sin`, `dow_cos`, ..."""
    return tuple(f"{name}_{part}" for name in calendar for part in ("sin", "cos"))
# Beyond these a model takes hours per epoch on any device, or more memory than a machine has.
MAX_UNITS = 4096
MAX_LAYERS = 32


class Cell(str, enum.Enum):
    rnn = "rnn"
    lstm = "lstm"
    gru = "gru"


class DeviceChoice(str, enum.Enum):
    """`--device`: auto uses a GPU when the backend sees one."""

    auto = "auto"
    cpu = "cpu"
    gpu = "gpu"


class Dedupe(str, enum.Enum):
    """What to do with rows that share a timestamp: stop (none), or keep one, or combine them."""

    none = "none"
    last = "last"
    first = "first"
    sum = "sum"
    mean = "mean"


class Fill(str, enum.Enum):
    """What to do with missing values in the target and feature columns."""

    interpolate = "interpolate"
    ffill = "ffill"
    drop = "drop"
    error = "error"


class Transform(str, enum.Enum):
    """Applied to the target before scaling, inverted exactly afterwards (outputs stay in original units)."""

    none = "none"
    diff = "diff"
    log = "log"
    logdiff = "logdiff"


class Normalize(str, enum.Enum):
    """global: one scaler fit on the training part; window: each window relative to its last target value;
    auto: the rule above (RANDOM_WALK_RATIO, OUTSIDE_SHARE)."""

    auto = "auto"
    global_ = "global"
    window = "window"


class Jit(str, enum.Enum):
    """XLA compilation of the training and prediction steps: auto picks it where it measured faster."""

    auto = "auto"
    on = "on"
    off = "off"


class Precision(str, enum.Enum):
    """float32 everywhere, or mixed: float16 recurrent layers with a float32 output layer (GPU only)."""

    float32 = "float32"
    mixed = "mixed"


class Parallel(str, enum.Enum):
    """Several cells of one command in separate processes: auto where it measured faster (a multi-core CPU)."""

    auto = "auto"
    on = "on"
    off = "off"


class Anchor(str, enum.Enum):
    """The reference a model starts from and corrects: auto picks one by its error on the training and validation
    origins; none: the network forecasts on its own."""

    auto = "auto"
    none = "none"
    naive = "naive"
    seasonal = "seasonal"
    sdiff = "sdiff"
    seasonal2 = "seasonal2"  # the seasonal naive at the second season (the week or the year: baselines.second_season)
    sdiff2 = "sdiff2"


class Strategy(str, enum.Enum):
    """direct: a Dense(horizon) head; recursive: a one-step model rolled forward on its own forecasts."""

    direct = "direct"
    recursive = "recursive"


@dataclass(frozen=True)
class DataConfig:
    path: str
    target: str | None = None
    time_col: str | None = None
    features: tuple[str, ...] = ()
    val_frac: float = 0.15
    test_frac: float = 0.15
    encoding: str = "utf-8"
    delimiter: str | None = None  # None: detect among , ; tab |
    decimal: str | None = None  # None: "," when the delimiter is not a comma and numbers use commas, else "."
    fill: Fill = Fill.interpolate
    dedupe: Dedupe = Dedupe.none
    transform: Transform = Transform.none
    season: int | None = None  # None: the time column's frequency's, where the training part shows it
    normalize: Normalize = Normalize.auto
    id_col: str | None = None  # long tables: the column naming each row's series
    series: tuple[str, ...] = ()  # with id_col: the series to keep (default all: one model across them)
    calendar: tuple[str, ...] = ()  # cyclical time features (CALENDAR_FEATURES), ("auto",) by the spacing, () none
    future_features: tuple[str, ...] = ()  # columns known in advance: also read at the steps being forecast
    # One-hot columns of text inputs, `column=value` (forecast.categories): read from the file, recorded by a run.
    categories: tuple[str, ...] = ()
    # The Python API's in-memory table, read instead of `path` (a label then); never recorded, never compared.
    frame: typing.Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.season is not None and self.season < 1:
            raise ForecastError(f"--season must be at least 1 (got {self.season})")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ForecastError(f"--delimiter must be one character (got {self.delimiter!r}); use \\t for tab")
        if self.decimal not in (None, ".", ","):
            raise ForecastError(f"--decimal must be . or , (got {self.decimal!r})")
        for name in ("val_frac", "test_frac"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ForecastError(f"--{name.replace('_', '-')} must lie between 0 and 1 (got {value})")
        for flag in ("series", "features", "future_features", "calendar"):
            check_distinct(getattr(self, flag), f"--{flag.replace('_', '-')}")
        check_distinct((self.target or "").split(","), "--target")
        calendar = tuple(self.calendar)
        if "none" in calendar or "auto" in calendar:
            if len(calendar) > 1:
                raise ForecastError(f"--calendar {','.join(calendar)} mixes auto or none with other features; give "
                                    "auto, none, or a list of " + ", ".join(CALENDAR_FEATURES))
            calendar = () if calendar == ("none",) else calendar
        for name in calendar:
            if name not in (*CALENDAR_FEATURES, "auto"):
                raise ForecastError(f"--calendar {name} is not a calendar feature; give auto, none, or a list of "
                                    + ", ".join(CALENDAR_FEATURES))
        object.__setattr__(self, "calendar", calendar)
        if both := set(self.features) & set(self.future_features):
            raise ForecastError(f"column `{sorted(both)[0]}` is in --features and --future-features; a known-future "
                                "column is read in the past too: keep it in --future-features only")
        if self.series and self.id_col is None and "," not in (self.target or ""):  # a wide --target A,B has series
            raise ForecastError("--series picks series of a long table by the values of its --id-col; pass --id-col "
                                "too, e.g. --id-col station --series JFK")
        if self.val_frac + self.test_frac >= 0.9:
            raise ForecastError(
                f"--val-frac ({self.val_frac}) + --test-frac ({self.test_frac}) leave less than 10% "
                "of the rows for training; lower one of them"
            )

    @property
    def several_series(self) -> bool:
        """One model across several series: a long table (--id-col) or a wide one (--target A,B), unless --series
        names one."""
        return (self.id_col is not None or "," in (self.target or "")) and len(self.series) != 1


@dataclass(frozen=True)
class WindowConfig:
    lookback: int | None = None  # None: from the season and the length (split.choose_lookback); a run records it
    horizon: int = 1

    def __post_init__(self) -> None:
        if self.lookback is not None and self.lookback < 1:
            raise ForecastError(f"--lookback must be at least 1 (got {self.lookback})")
        if self.horizon < 1:
            raise ForecastError(f"--horizon must be at least 1 (got {self.horizon})")


@dataclass(frozen=True)
class ModelConfig:
    cell: Cell = Cell.lstm
    units: int = 32
    layers: int = 1
    dropout: float = 0.0
    strategy: Strategy = Strategy.direct
    recurrent_dropout: float = 0.0  # above 0 the fused cuDNN kernel cannot be used
    anchor: Anchor = Anchor.auto  # the reference the output starts from (the untrained model reproduces it)
    linear: bool = True  # a linear autoregressive path over the window beside the recurrent cell (least-squares start)

    def __post_init__(self) -> None:
        if not 1 <= self.units <= MAX_UNITS:
            raise ForecastError(f"--units must lie between 1 and {MAX_UNITS:,} (got {self.units:,})")
        if not 1 <= self.layers <= MAX_LAYERS:
            raise ForecastError(f"--layers must lie between 1 and {MAX_LAYERS} (got {self.layers:,})")
        for name in ("dropout", "recurrent_dropout"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ForecastError(f"--{name.replace('_', '-')} must lie in [0, 1) (got {value})")


# Defaults of the options left unset (None), for one series and for one model across several. With patience 15
# and 60 epochs against 30/5 on benchmarks/accuracy.py (docs/accuracy.md). Several series: an epoch holds every
# series' windows (births by state: 258,672), so a patience in epochs waits 51 times the steps it does for one
# state; larger batches at a higher rate and a shorter patience reached the same accuracy in a third of the time
# (benchmarks/panel_births.md).
TRAIN_DEFAULTS = {"batch_size": 64, "learning_rate": 1e-3, "patience": 15}
SEVERAL_SERIES_TRAIN_DEFAULTS = {"batch_size": 256, "learning_rate": 3e-3, "patience": 5}


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 60
    batch_size: int | None = None  # None: TRAIN_DEFAULTS, or SEVERAL_SERIES_TRAIN_DEFAULTS (RunConfig sets them)
    learning_rate: float | None = None
    patience: int | None = None
    seed: int = 0
    device: DeviceChoice = DeviceChoice.auto
    devices: str = "1"  # a count, or "all": one model trained data parallel over that many devices of its kind
    intervals: tuple[float, ...] = ()  # prediction-interval levels, e.g. (0.9,)
    steps_per_epoch: int | None = None  # None: every training window once per epoch
    jit: Jit = Jit.auto
    precision: Precision = Precision.float32
    tensorboard: bool = False  # per-epoch scalars in the run folder's tensorboard/ (train only)

    def __post_init__(self) -> None:
        for level in self.intervals:
            if not 0 < level < 1:
                raise ForecastError(f"--interval must lie strictly between 0 and 1, e.g. 0.9 for 90% (got {level})")
        check_distinct(self.intervals, "--interval", lambda level: f"{level * 100:g}%")  # as its columns name it
        if self.epochs < 1:
            raise ForecastError(f"--epochs must be at least 1 (got {self.epochs})")
        if self.batch_size is not None and self.batch_size < 1:
            raise ForecastError(f"--batch-size must be at least 1 (got {self.batch_size})")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ForecastError(f"--learning-rate must be positive (got {self.learning_rate})")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise ForecastError(f"--steps-per-epoch must be at least 1 (got {self.steps_per_epoch})")
        if self.patience is not None and self.patience < 0:
            raise ForecastError(f"--patience must be 0 (off) or more (got {self.patience})")
        if self.devices != "all" and not (re.fullmatch("[0-9]+", self.devices) and int(self.devices) >= 1):
            raise ForecastError(f"--devices must be a number of devices, 1 or more, or all (got {self.devices!r})")
        object.__setattr__(self, "devices", self.devices if self.devices == "all" else str(int(self.devices)))
        if not 0 <= self.seed < 2**32:
            raise ForecastError(f"--seed must lie between 0 and 2**32 - 1 = {2**32 - 1:,} (got {self.seed:,})")


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig
    window: WindowConfig = field(default_factory=WindowConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        defaults = SEVERAL_SERIES_TRAIN_DEFAULTS if self.data.several_series else TRAIN_DEFAULTS
        if unset := {name: value for name, value in defaults.items() if getattr(self.train, name) is None}:
            object.__setattr__(self, "train", replace(self.train, **unset))
        if self.model.strategy is Strategy.recursive and (self.data.features or self.data.calendar
                                                          or self.data.future_features):
            drop = ("--features" if self.data.features else "--future-features" if self.data.future_features
                    else "--calendar")
            raise ForecastError("--strategy recursive feeds forecasts back as inputs, which needs a univariate run; "
                                f"drop {drop} or use --strategy direct")

    def to_dict(self) -> dict:
        """JSON-ready: enums become their values, tuples lists (an in-memory table is left out)."""
        bare = replace(self, data=replace(self.data, frame=None))
        data = asdict(bare, dict_factory=lambda items: {k: _plain(v) for k, v in items})
        del data["data"]["frame"]
        return data


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    return list(value) if isinstance(value, tuple) else value

