"""Figures from arrays and frames (never a model): forecasts against actuals, loss curves, test MSE bars.

Uses matplotlib's object API (Figure, not pyplot): no global state, no display needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from forecast.files import atomic_path


def new_figure(ncols: int = 1, width: float = 10, height: float = 4.5) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def save_figure(fig: Figure, path: str | Path) -> None:
    """Write a PNG atomically (a temporary file renamed into place)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def plot_forecast(ax, time, actual: np.ndarray, forecast_time, forecast: np.ndarray, *,
                  naive: np.ndarray | None = None, future_time=None, future: np.ndarray | None = None,
                  title: str = "", ylabel: str = "value") -> None:
    """Actual series, the one-step forecasts over it, and optionally a future path beyond its end."""
    ax.plot(time, actual, color="black", lw=1.2, label="actual")
    ax.plot(forecast_time, forecast, color="tab:blue", lw=1.0, label="forecast (step 1)")
    if naive is not None:
        ax.plot(forecast_time, naive, color="tab:gray", lw=0.8, ls=":", label="naive (last value)")
    if future is not None and len(future):
        ax.plot(future_time, future, color="tab:red", lw=1.4, label=f"future ({len(future)} steps)")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)


def plot_losses(ax, histories: dict[str, pd.DataFrame], colors: dict[str, str]) -> None:
    """Train (solid) and validation (dashed) MSE per epoch, one colour per run, log scale."""
    for name, hist in histories.items():
        ax.plot(hist["epoch"], hist["loss"], color=colors[name], lw=1.5, label=f"{name} train")
        ax.plot(hist["epoch"], hist["val_loss"], color=colors[name], lw=1.5, ls="--", label=f"{name} val")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled target)")
    ax.set_title("Loss per epoch: train solid, validation dashed")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)


def plot_test_mse(ax, names: list[str], mse: list[float], naive_mse: list[float], colors: dict[str, str]) -> None:
    """A bar of test MSE per run (original units) with the naive baseline on the same windows marked."""
    x = np.arange(len(names))
    ax.bar(x, mse, color=[colors[n] for n in names])
    ax.scatter(x, naive_mse, marker="_", s=900, color="black", linewidths=2, zorder=3,
               label="naive (last value)")
    for xi, value in zip(x, mse):
        ax.annotate(f"{value:.4g}", (xi, value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("test MSE (original units)")
    ax.set_title("Test MSE")
    ax.legend(fontsize=8, loc="upper left")
