"""Advice on a trained group of runs, one line each, from what training measured: inputs that made validation
worse, cells still improving at their last epoch, intervals that cover less than asked on validation windows they
were not fit on. The library returns the lines (metrics.json `advice`, --json); the CLI prints them under the table."""

from __future__ import annotations

import math

# A held-out coverage this many standard errors below the level asked is a shortfall worth a word: the error of a
# coverage measured on m windows with bounds fit on n others, sqrt(p (1 - p) (1/n + 1/m)), overlapping multi-step
# windows counting as one per horizon of them. Two were crossed by chance on a steady series (80.0% of 75 windows at
# 90%); a shift in the errors falls far below three (10.7%, tests/test_advice.py).
COVERAGE_ERRORS = 3.0


def inputs_note(metrics: dict, inputs: tuple[str, ...]) -> str | None:
    """When the linear start's ridge on the target's own lags beats the same ridge with the inputs on validation
    (by 1% and one standard error: linear.fit_linear_path records it), a line naming the inputs."""
    check = metrics.get("linear_start", {}).get("inputs")
    if not check or not check.get("worse") or not inputs:
        return None
    names = ", ".join(inputs[:6]) + (f", ... ({len(inputs)} in all)" if len(inputs) > 6 else "")
    return (f"the inputs ({names}) make validation worse: the linear start's validation MSE is "
            f"{check['val_mse_with']:.4g} with them against {check['val_mse_without']:.4g} on the target's own lags "
            "(scaled units); try training without them (drop --features, --calendar or --future-features)")


def epochs_note(cell: str, metrics: dict, epochs: int) -> str | None:
    """When a cell ran every epoch it was given and its lowest validation loss came at the last one, below its
    untrained start's (an anchored model's; one that never beat its start is not improving, only less bad)."""
    ran = metrics.get("epochs_run")
    start = metrics.get("start", {}).get("val_loss")
    if not epochs or ran != epochs or metrics.get("best_epoch") != ran or (
            start is not None and not metrics.get("best_val_loss", math.inf) < start):
        return None
    return (f"{cell} was still improving on validation at its last epoch ({ran} of {epochs}); train longer "
            f"(--epochs {2 * epochs})")


def interval_note(cell: str, metrics: dict) -> str | None:
    """When the intervals, fit on the earlier half of the validation windows, cover the later half clearly less
    than their level (evaluate.interval_check): the test part may fare no better."""
    horizon = metrics.get("test", {}).get("horizon", 1)
    short = []
    for level, check in sorted(metrics.get("val", {}).get("interval_check", {}).items()):
        p = float(level)
        m, n = (max(1, count // max(horizon, 1)) for count in (check["n"], check.get("n_fit", check["n"])))
        if check["coverage"] < p - COVERAGE_ERRORS * math.sqrt(p * (1 - p) * (1 / n + 1 / m)):
            short.append(f"{p * 100:g}% covers {check['coverage']:.1%}")
    if not short:
        return None
    return (f"{cell}'s intervals under-cover on validation: fit on its earlier half, the "
            f"{' and '.join(short)} of its later half; the errors change over time, so treat the bounds with care "
            "(a longer --val-frac calibrates on more)")


def group_advice(runs: list[tuple[str, dict]], inputs: tuple[str, ...], epochs: int) -> list[str]:
    """Every line for a group of runs trained together, (cell, metrics.json) each: the inputs' note once (every cell
    shares the linear start), then each cell's notes."""
    lines = [note] if runs and (note := inputs_note(runs[0][1], inputs)) else []
    for cell, metrics in runs:
        lines += [n for n in (epochs_note(cell, metrics, epochs), interval_note(cell, metrics)) if n]
    return lines
