"""Figures scaled to the models they compare: a reference far off is clipped with its value written, legends sit
outside the data, and every model keeps one colour in every figure."""

import matplotlib.colors
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from forecast.plots import STYLES, plot_by_fold, plot_by_step, plot_forecast, plot_losses


def _axes():
    return Figure(layout="constrained").subplots()


def _annotations(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_every_model_has_a_colour_of_its_own():
    colours = [matplotlib.colors.to_hex(color) for color, _ in STYLES.values()]
    assert len(set(colours)) == len(colours)


def test_a_backtest_figure_keeps_the_models_on_the_scale_and_clips_a_far_reference():
    rows = [(fold, model, mse) for fold in (1, 2, 3) for model, mse in
            (("rnn", 6.0 + fold / 10), ("gru", 6.5), ("ensemble", 6.2), ("recommended", 6.2), ("seasonal_naive", 9.5),
             ("naive", 26.0), ("mean", 82.0))]
    per_fold = pd.DataFrame(rows, columns=["fold", "model", "mse"])
    ax = _axes()
    plot_by_fold(ax, per_fold, "mse", season=12)
    low, high = ax.get_ylim()
    assert low < 6.1 and 9.5 < high < 26.0  # the models and the seasonal naive in view, the naive and mean not
    assert _annotations(ax) == ["off the scale: naive up to 26; mean up to 82"]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["rnn", "gru", "ensemble", "recommended", "naive",
                                                          "seasonal m=12", "mean"]
    assert legend.get_bbox_to_anchor().y0 < ax.get_window_extent().y0  # under the axes, not over the lines
    colours = {line.get_label(): matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines()}
    assert colours["ensemble"] == matplotlib.colors.to_hex(STYLES["ensemble"][0])
    assert colours["seasonal m=12"] == matplotlib.colors.to_hex(STYLES["seasonal_naive"][0])


def test_references_within_reach_keep_the_whole_scale():
    rows = [(fold, model, mse) for fold in (1, 2) for model, mse in (("lstm", 1.0), ("naive", 1.5 + fold))]  # 3.5 at most
    ax = _axes()
    plot_by_fold(ax, pd.DataFrame(rows, columns=["fold", "model", "mse"]), "mse", season=1)
    assert ax.get_ylim()[1] > 3.5 and _annotations(ax) == []


def test_a_forecast_figure_is_scaled_to_the_series_not_a_reference_that_spikes():
    t = np.arange(100)
    actual = np.sin(t / 5)
    spike = actual.copy()
    spike[50] = 40.0  # the seasonal difference at m=1 on a jump
    ax = _axes()
    plot_forecast(ax, t, actual, t, actual + 0.1, references={"seasonal_diff": spike, "naive": actual}, season=1)
    assert ax.get_ylim()[1] < 10 and _annotations(ax) == ["off the scale: seasonal diff m=1 up to 40"]


def test_a_by_step_figure_and_log_scaled_losses_have_readable_axes():
    by_step = [{"step": h, "model": {"mse": 1.0 + h / 10}, "naive": {"mse": 2.0}, "mean": {"mse": 90.0}}
               for h in (1, 2, 3, 4)]
    ax = _axes()
    plot_by_step(ax, by_step, "mse", season=1)
    assert ax.get_ylim()[1] < 90 and "mean up to 90" in _annotations(ax)[0]
    history = pd.DataFrame({"epoch": [1, 2, 3, 4], "loss": [8.0, 2.0, 0.9, 0.5], "val_loss": [9.0, 3.0, 1.2, 0.8]})
    ax = _axes()
    plot_losses(ax, {"run": history}, {"run": "tab:blue"})
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text() and ax.get_ylim()[0] <= t.get_position()[1]
              <= ax.get_ylim()[1]]
    assert ax.get_yscale() == "log" and len(labels) >= 3  # 1, 2, 5 of each decade, not one label


@pytest.mark.parametrize("name", list(STYLES))
def test_every_style_is_a_colour_and_a_line(name):
    color, line = STYLES[name]
    assert matplotlib.colors.is_color_like(color) and line in ("-", "--", ":", "-.")
