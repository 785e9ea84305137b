"""forecast.png of a run folder: the latest steps of the test part with the one-step forecasts, the references and
the intervals, and MAE by step; for several series, the best, median and worst series and the spread of their MASEs."""

from __future__ import annotations

from pathlib import Path

from forecast import plots
from forecast.baselines import REFERENCES, references
from forecast.config import RunConfig
from forecast.evaluate import interval_bands, ranked_series
from forecast.prepare import Prepared

PLOT_STEPS = 5_000  # forecast.png shows at most the last this many steps of a test part


def plot_run(path: Path, prep: Prepared, cfg: RunConfig, table, scores: dict, intervals: dict) -> None:
    """forecast.png: the test part with the step-1 forecasts and the references, and MAE by step; for several
    series, the best, median and worst series by MASE and the spread of the series' MASEs."""
    time, target, name = prep.series.time, prep.raw_target(), Path(prep.series.path).name
    first = table[table["step"] == 1]
    if not prep.blocks:
        shown = [("", scores, prep.split.val_end - 1, len(target), first)]
    else:
        per = scores["series"]
        ranked = ranked_series(per)
        shown = []
        for label, which in (("best", ranked[0]), ("median", ranked[(len(ranked) - 1) // 2]), ("worst", ranked[-1])):
            block = next(b for b in prep.blocks if b.name == which)
            shown.append((f" {which} ({label} MASE {per[which]['model']['mase']:.3f})", per[which],
                          block.start + block.split.val_end - 1, block.start + block.split.n,
                          first[first["series"] == which]))
    by_step = len(scores["by_step"]) > 1 and not prep.blocks  # a one-step horizon has no curve to draw by step
    if prep.blocks:
        fig, rows = plots.new_grid(2, 2, width=15)
        axes = [*rows[0], *rows[1]]
    else:
        fig, axes = plots.new_figure(2, width=14) if by_step else plots.new_figure(1, width=11)
    for ax, (what, s, start, stop, rows) in zip(axes, shown, strict=False):
        latest = ""
        if stop - start - 1 > PLOT_STEPS:  # a longer line is a blur at this width, and drawing it costs a GB at 5M rows
            latest = f" (the last {PLOT_STEPS:,} of {stop - start - 1:,} steps)"
            start = stop - PLOT_STEPS
            rows = rows[rows["timestamp"] >= time[start]]
        plots.plot_forecast(ax, time[start:stop], target[start:stop], rows["timestamp"], rows["forecast"],
                            references={n: rows[n] for n in references(prep.season2)}, season=prep.season,
                            season2=prep.season2,
                            ylabel=prep.series.target, bands=interval_bands(rows, intervals),
                            title=f"{cfg.model.cell.value} on the test part of {what or name}{latest}: MSE "
                                  f"{s['model']['mse']:.4g} (naive {s['baselines']['naive']['mse']:.4g})")
    if by_step:
        plots.plot_by_step(axes[1], scores["by_step"], "mae", season=prep.season, season2=prep.season2)
    if prep.blocks:
        per = scores["series"]
        plots.plot_mase_spread(axes[3], {"model": [per[n]["model"]["mase"] for n in per],
                                         **{r: [per[n]["baselines"][r]["mase"] for n in per] for r in REFERENCES}})
    plots.save_figure(fig, path)
