"""Figures from arrays and frames (never a model): forecasts against actuals, loss curves, test MSE bars.

Uses matplotlib's object API (Figure, not pyplot): no global state, no display needed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from forecast.baselines import LABELS, baseline_label
from forecast.errors import printable
from forecast.files import atomic_path

PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
           "tab:cyan", "tab:gray"]


def new_figure(ncols: int = 1, width: float = 10, height: float = 4.5) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def new_grid(nrows: int, ncols: int, width: float = 10, height: float = 4.5) -> tuple[Figure, list]:
    """A figure of `nrows` rows of `ncols` panels, `height` per row: the rows as lists of axes."""
    fig = Figure(figsize=(width, height * nrows), layout="constrained")
    return fig, [list(row) for row in fig.subplots(nrows, ncols, squeeze=False)]


def save_figure(fig: Figure, path: str | Path) -> None:
    """Write a PNG atomically (a temporary file renamed into place)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)


# One colour (and line style) per model in every figure: the cells, their ensemble, the start, the pick, and each
# simple model, none sharing a colour.
STYLES = {"rnn": ("tab:blue", "-"), "lstm": ("tab:orange", "-"), "gru": ("tab:green", "-"),
          "ensemble": ("tab:red", "-"), "start": ("tab:gray", "-"), "recommended": ("black", "-"),
          "naive": ("tab:brown", "-"), "seasonal_naive": ("tab:purple", "--"), "seasonal_diff": ("tab:pink", "--"),
          "seasonal_naive2": ("tab:olive", "--"), "seasonal_diff2": ("tab:cyan", "--"),
          "mean": ("#9edae5", ":"), "drift": ("#c49c94", "-.")}
BASELINE_STYLES = {name: STYLES[name] for name in ("naive", "seasonal_naive", "seasonal_diff", "seasonal_naive2",
                                                   "seasonal_diff2", "mean", "drift")}
# A reference beyond the models' values by more than this many times their size (or spread) is drawn clipped, its
# value written at the edge: the models compared keep the axis (in a backtest, the window mean once set it and the
# cells collapsed into one line at the bottom).
CLIP = 2.5


def scale_to(ax, kept: list, others: dict[str, np.ndarray], labels: dict[str, str]) -> None:
    """Y limits that show the `kept` values (the models compared, the actual series) and the `others` (simple
    models, by name) within CLIP times their span; each one beyond is clipped, with its largest value written."""
    values = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in kept])
    values = values[np.isfinite(values)]
    if not len(values):
        return
    low, high = float(values.min()), float(values.max())
    span = max(high - low, abs(high), abs(low), 1e-12)  # errors near a level: that level sets the reach
    top, bottom = high + CLIP * span, low - CLIP * span
    within = [np.asarray(v, dtype=float) for v in others.values()]
    inside = np.concatenate([v[np.isfinite(v) & (v <= top) & (v >= bottom)] for v in within] + [values])
    ax.set_ylim(float(inside.min()) - 0.05 * span, float(inside.max()) + 0.08 * span)
    beyond = [f"{labels[name]} up to {np.nanmax(np.abs(v)):.3g}" for name, v in others.items()
              if np.any(np.isfinite(v) & ((v > top) | (v < bottom)))]
    if beyond:
        ax.annotate("off the scale: " + "; ".join(beyond), (0.99, 0.98), xycoords="axes fraction", ha="right",
                    va="top", fontsize=7, color="dimgray")


def legend_below(ax, entries: int, fontsize: int = 7) -> None:
    """The legend under the axes, outside the data, at most four rows."""
    ax.legend(fontsize=fontsize, ncol=max(2, math.ceil(entries / 4)), loc="upper left", bbox_to_anchor=(0, -0.14),
              frameon=False)


def plot_forecast(ax, time, actual: np.ndarray, forecast_time, forecast: np.ndarray, *,
                  references: dict | None = None, season: int = 1, season2: int = 1, future_time=None,
                  future: np.ndarray | None = None, bands=(), future_bands=(), title: str = "",
                  ylabel: str = "value") -> None:
    """Actual series, the one-step forecasts over it, and optionally a future path beyond its end.

    `references` are baselines' forecasts over the same times by name (naive, seasonal_naive, ...), labelled with
    the season. `bands` and `future_bands` are (label, lower, upper) prediction intervals, widest first.
    """
    for i, (label, lower, upper) in enumerate(bands):
        ax.fill_between(forecast_time, lower, upper, color="tab:blue", alpha=0.12 + 0.08 * i, lw=0, label=label)
    for i, (_, lower, upper) in enumerate(future_bands):
        ax.fill_between(future_time, lower, upper, color="tab:red", alpha=0.12 + 0.08 * i, lw=0)
    ax.plot(time, actual, color="black", lw=1.2, label="actual")
    ax.plot(forecast_time, forecast, color="tab:blue", lw=1.0, label="forecast (step 1)")
    for name, values in (references or {}).items():  # colours apart from the actual series' black
        ax.plot(forecast_time, values, color=STYLES[name][0], lw=0.8, ls=":",
                label=baseline_label(name, season, season2))
    if future is not None and len(future):
        ax.plot(future_time, future, color="tab:red", lw=1.4, label=f"future ({len(future)} steps)")
    kept = [actual, forecast, *([future] if future is not None and len(future) else []),
            *(b for _, lower, upper in [*bands, *future_bands] for b in (lower, upper))]
    scale_to(ax, kept, dict(references or {}), {n: baseline_label(n, season, season2) for n in references or {}})
    if isinstance(time, pd.DatetimeIndex):  # short labels that do not collide, even on hourly data
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_title(printable(title))  # names may hold bytes that are not UTF-8: matplotlib cannot draw them
    ax.set_ylabel(printable(ylabel))
    ax.grid(alpha=0.3)
    legend_below(ax, 3 + len(references or {}) + len(bands), fontsize=8)


def plot_losses(ax, histories: dict[str, pd.DataFrame], colors: dict[str, str],
                starts: dict[str, float] | None = None) -> None:
    """Train (solid) and validation (dashed) MSE per epoch, one colour per run, on a log scale when they span
    more than a factor of 10; `starts` (by run) draws the untrained start's validation MSE as a dotted line, the
    level a trained epoch had to beat."""
    for name, hist in histories.items():  # one legend entry per run: the line style tells train from validation
        ax.plot(hist["epoch"], hist["loss"], color=colors[name], lw=1.5, label=printable(name))
        ax.plot(hist["epoch"], hist["val_loss"], color=colors[name], lw=1.5, ls="--")
    starts = {name: v for name, v in (starts or {}).items() if v is not None and name in histories}
    for name, value in starts.items():
        ax.axhline(value, color=colors[name], lw=1.0, ls=":")
    if starts:
        ax.plot([], [], color="gray", lw=1.0, ls=":", label="start (untrained), validation")
    values = np.concatenate([np.asarray(h[c], dtype=float) for h in histories.values() for c in ("loss", "val_loss")]
                            + [np.asarray(list(starts.values()), dtype=float)])
    values = values[np.isfinite(values) & (values > 0)]
    if len(values) and values.max() > 10 * values.min():  # a log scale only where the losses span decades
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # labels at 1, 2, 5 of each decade
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())  # no "4x10^0" labels between them
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE (scaled target)")
    ax.set_title("Loss per epoch: train solid, validation dashed" + (", start dotted" if starts else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=max(2, math.ceil(len(histories) / 5)), loc="upper left", bbox_to_anchor=(0, -0.12),
              frameon=False)  # below the curves, at most five rows


def plot_by_step(ax, by_step: list[dict], metric: str, season: int, season2: int = 1) -> None:
    """A metric by horizon step for the model and each baseline it has (from metrics.json's by_step table)."""
    steps = [row["step"] for row in by_step]
    model = [row["model"][metric] for row in by_step]
    ax.plot(steps, model, color="tab:blue", lw=2, marker="o", ms=3, label="model")
    shown = {name: np.array([row[name][metric] for row in by_step], dtype=float) for name in BASELINE_STYLES
             if name in by_step[0]}
    for name, values in shown.items():
        color, ls = BASELINE_STYLES[name]
        ax.plot(steps, values, color=color, ls=ls, lw=1.2, label=baseline_label(name, season, season2))
    scale_to(ax, [model], shown, {n: baseline_label(n, season, season2) for n in shown})
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("horizon step")
    ax.set_ylabel(f"test {metric.upper()} (original units)")
    ax.set_title(f"Test {metric.upper()} by horizon step")
    ax.grid(alpha=0.3)
    legend_below(ax, 1 + len(shown), fontsize=8)


def plot_test_mse(ax, names: list[str], mse: list[float], baselines: dict[str, list[float]],
                  colors: dict[str, str], labels: dict[str, str] | None = None) -> None:
    """A bar of test MSE per run (original units) with baselines on the same windows marked (`labels` by name)."""
    x = np.arange(len(names))
    ax.bar(x, mse, color=[colors[n] for n in names])
    for name, values in baselines.items():
        color, _ = BASELINE_STYLES[name]
        ax.scatter(x, values, marker={"naive": "_", "seasonal_naive": "x"}.get(name, "+"), s=900 if name == "naive" else 80,
                   color=color, linewidths=2, zorder=3, label=(labels or LABELS)[name])
    for xi, value in zip(x, mse):
        ax.annotate(f"{value:.4g}", (xi, value), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [printable(n) for n in names], rotation=20, ha="right", fontsize=8)
    top = max([*mse, *(v for values in baselines.values() for v in values)])
    ax.set_ylim(0, top * 1.22 if top > 0 else 1.0)  # room for the legend above the markers; every MSE 0: a unit axis
    ax.set_ylabel("test MSE (original units)")
    ax.set_title("Test MSE")
    ax.legend(fontsize=8, loc="upper center", ncol=len(baselines), markerscale=0.5)  # the naive's wide bar fits


def plot_by_fold(ax, per_fold: pd.DataFrame, metric: str, season: int, season2: int = 1) -> None:
    """A backtest metric by fold for each model (solid) and baseline (its own style)."""
    models = [m for m in per_fold["model"].unique() if m not in BASELINE_STYLES]
    kept = []
    for i, model in enumerate(models):
        rows = per_fold[per_fold["model"] == model]
        color, _ = STYLES.get(model, (PALETTE[i % len(PALETTE)], "-"))
        wide = model == "recommended"  # drawn under the model it picked, which would hide it
        ax.plot(rows["fold"], rows[metric], color=color, lw=4 if wide else 2, alpha=0.35 if wide else 1.0,
                marker="o", zorder=1 if wide else 2, label=printable(model))
        kept.append(rows[metric].to_numpy(float))
    shown = {name: per_fold.loc[per_fold["model"] == name, metric].to_numpy(float) for name in BASELINE_STYLES
             if (per_fold["model"] == name).any()}
    for name, values in shown.items():
        color, ls = BASELINE_STYLES[name]
        ax.plot(per_fold.loc[per_fold["model"] == name, "fold"], values, color=color, ls=ls, lw=1.2, marker=".",
                label=baseline_label(name, season, season2))
    scale_to(ax, kept, shown, {n: baseline_label(n, season, season2) for n in shown})
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("fold (test block, oldest first)")
    ax.set_ylabel(f"{metric.upper()} (original units)" if metric != "mase" else "MASE")
    ax.set_title(f"Backtest {metric.upper()} by fold")
    ax.grid(alpha=0.3)
    legend_below(ax, len(models) + len(shown))


def plot_trials(ax, numbers: list[int], values: list[float], reference: float | None, ylabel: str) -> None:
    """A search's history: each finished trial's objective, the best so far, and a reference level."""
    ax.scatter(numbers, values, s=18, color="tab:blue", label="trial")
    best = np.minimum.accumulate(np.asarray(values, dtype=float))
    ax.step(numbers, best, where="post", color="tab:red", lw=1.4, label="best so far")
    if reference is not None:
        ax.axhline(reference, color=STYLES["seasonal_naive"][0], ls="--", lw=1.0,
                   label="best reference (validation)")
    if len(values) and max(values) / max(min(values), 1e-300) > 10:
        ax.set_yscale("log")
    ax.set_xlabel("trial")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Optimization history")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8, frameon=False)


def plot_importances(ax, importances: dict[str, float]) -> None:
    """How much of the objective's variance each option explains (Optuna's fANOVA), largest on top."""
    names = list(importances)[::-1]
    ax.barh(names, [importances[n] for n in names], color="tab:blue")
    for i, name in enumerate(names):
        ax.annotate(f"{importances[name]:.2f}", (importances[name], i), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_xlabel("importance (share of the objective's variance)")
    ax.set_title("Option importance")


def plot_mase_spread(ax, mase: dict[str, list[float | None]]) -> None:
    """The distribution of the series' test MASEs of the model and each reference (one box each), with 1 marked."""
    names = [n for n, values in mase.items() if any(v is not None for v in values)]
    data = [[v for v in mase[n] if v is not None] for n in names]
    ax.boxplot(data, tick_labels=[LABELS.get(n, n) for n in names], showmeans=True)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_ylabel("test MASE of each series")
    ax.set_title(f"MASE over {len(data[0]) if data else 0} series (lower is better; triangle: mean)")
