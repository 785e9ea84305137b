"""forecast: train SimpleRNN, LSTM and GRU forecasters from a CSV, compare them honestly, predict.

The Python API (docs/api.md): train, load_run, backtest, compare, predict and Run; Keras loads only when a model is
trained or loaded."""

__version__ = "0.1.0"

from forecast.api import Run, backtest, compare, load_run, predict, train  # noqa: E402
from forecast.errors import ForecastError, ForecastWarning  # noqa: E402

__all__ = ["ForecastError", "ForecastWarning", "Run", "backtest", "compare", "load_run", "predict", "train"]
