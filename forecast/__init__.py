"""forecast: train SimpleRNN, LSTM and GRU forecasters from a CSV, compare them honestly, predict."""

__version__ = "0.1.0"
