"""forecast: train SimpleRNN, LSTM and GRU forecasters from a CSV, compare them honestly, predict.

The Python API (docs/api.md): train, load_run, backtest, compare, predict and Run; Keras loads only when a model is
trained or loaded, and the API itself on first use (so that `forecast` on the command line starts at once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forecast.errors import ForecastError, ForecastWarning

__version__ = "0.1.0"
_API = frozenset({"Run", "backtest", "compare", "load_run", "predict", "train"})  # forecast.api's, on first use
__all__ = ["ForecastError", "ForecastWarning", *sorted(_API)]

if TYPE_CHECKING:
    from forecast.api import Run, backtest, compare, load_run, predict, train


def __getattr__(name: str):
    if name in _API:
        from forecast import api

        return getattr(api, name)
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
