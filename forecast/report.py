"""What the commands print: Rich tables of scores, the live training progress, number formatting.

Rich only (no typer): the CLI passes the results in, this module lays them out for a terminal or a log.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path

from forecast.baselines import ALL_REFERENCES, LABELS, SECOND, baseline_label
from forecast.ensemble import ENSEMBLE, START, recommendation_note


_TO_STDERR = False  # under --json everything meant for people goes to stderr (json_mode)
WIDE = 200  # columns for tables written to a file or a pipe
_LIBRARY: dict | None = None  # under the Python API: {"verbose": bool} (library_mode)


@contextlib.contextmanager
def json_mode(enabled: bool) -> Iterator[None]:
    """While on, every console() writes to stderr, keeping stdout for the one JSON document of --json."""
    global _TO_STDERR
    before = _TO_STDERR
    _TO_STDERR = before or enabled
    try:
        yield
    finally:
        _TO_STDERR = before


@contextlib.contextmanager
def library_mode(verbose: bool) -> Iterator[None]:
    """While on (the Python API), the tables and progress print only when `verbose`, and warnings are Python
    warnings (ForecastWarning) instead of lines on stderr."""
    global _LIBRARY
    before = _LIBRARY
    _LIBRARY = {"verbose": verbose}
    try:
        yield
    finally:
        _LIBRARY = before


def python_warnings() -> bool:
    """Whether notes for the user go out as Python warnings (under the Python API)."""
    return _LIBRARY is not None


def console(stderr: bool = False):
    from rich.console import Console

    quiet = _LIBRARY is not None and not _LIBRARY["verbose"]
    to_stderr = stderr or _TO_STDERR
    stream = sys.stderr if to_stderr else sys.stdout
    # Piped into a file or a log there is no terminal to fit: Rich's 80 columns would squeeze a wide table's names
    # to nothing, so tables get room instead.
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(stderr=to_stderr, highlight=False, soft_wrap=True, quiet=quiet, width=None if tty else WIDE)


def plain(value):
    """JSON-ready: NaN and infinities become null, paths and other objects text, numpy numbers Python ones."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) or hasattr(value, "item"):
        number = value.item() if hasattr(value, "item") else value
        return None if isinstance(number, float) and not math.isfinite(number) else number
    return str(value)


def emit_json(doc: dict) -> None:
    """The one JSON document of --json, on stdout."""
    sys.stdout.write(json.dumps(plain(doc), indent=1, allow_nan=False) + "\n")
    sys.stdout.flush()


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1e15:
        return f"{x:.4g}"
    if abs(x) >= 1e4:
        return f"{x:,.0f}"
    return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.3e}"


def opt(x: float | None, spec: str = "{:.3f}") -> str:
    return "-" if x is None else spec.format(x)


def ratio(x: float, base: float) -> str:
    return f"{x / base:.3f}" if base > 0 else "-"


def table(title: str, columns: tuple[str, ...], text_columns: int):
    """A Rich table whose first `text_columns` may wrap, so numbers are never cut short."""
    from rich.table import Table

    out = Table(title=title)
    for i, col in enumerate(columns):
        text = i < text_columns
        out.add_column(col, justify="left" if text else "right", no_wrap=not text, overflow="fold")
    return out


@contextlib.contextmanager
def progress(out, epochs: int) -> Iterator:
    """One live line per trained model (epoch, train MSE, val MSE, time) that stays on screen when done."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description:>4}"), BarColumn(bar_width=12),
        TextColumn("epoch {task.completed:>3.0f}/{task.fields[epochs]}"),
        TextColumn("train MSE {task.fields[loss]:<9} val MSE {task.fields[val]:<9}"),
        TimeElapsedColumn(), TextColumn("{task.fields[note]}"),
        console=out,
    )

    class Tracker:
        @contextlib.contextmanager
        def cell(self, name: str) -> Iterator:
            task = bar.add_task(name, total=epochs, epochs=epochs, loss="-", val="-", note="")

            def on_epoch(epoch: int, logs: dict, seconds: float) -> None:
                bar.update(task, completed=epoch, loss=fmt(logs.get("loss", float("nan"))),
                           val=fmt(logs.get("val_loss", float("nan"))))

            yield on_epoch
            done = bar.tasks[task].completed
            bar.update(task, total=done, note="early stop" if done < epochs else "")
            bar.stop_task(task)

        def skip(self, name: str, why: str) -> None:
            bar.console.print(f"{name:>4} skipped: {why}")

    with bar:
        yield Tracker()


START_LABEL = "start (untrained)"


def train_summary(out, results) -> bool:
    """The test scores of trained cells (and their ensemble) beside every baseline, the validation MASE that the
    recommendation compares, and which model it recommends; returns whether MAPE was undefined."""
    first = results[0].metrics
    test = first["test"]
    naive_mse = test["baselines"]["naive"]["mse"]
    val = first.get("val", {}).get("baselines", {})
    panel = len(test.get("series", ()))
    what = (f"{panel} series, {test['n_windows']} windows x {test['horizon']} steps, sorted by MASE, the mean of the "
            "series' MASEs; MSE pooled" if panel else f"{test['n_windows']} windows x {test['horizon']} steps")
    t = table(f"Test scores in original units, {what} "
              "(ratio = MSE / naive MSE; MASE < 1 beats the in-sample seasonal naive)",
              ("model", "MSE", "RMSE", "MAE", "MASE", "MAPE %", "ratio", "val MASE"), 1)
    rows = [(r.cell, r.cell + (" (kept its start)" if r.metrics.get("start", {}).get("kept") else ""),
             r.metrics["test"]["model"], r.metrics.get("val", {}).get("model")) for r in results]
    if "start" in first:  # the untrained model every cell began at (the same for each): what training added
        rows.append((START, START_LABEL, first["start"]["test"], first["start"]["val"]))
    if "ensemble" in first:
        rows.append((ENSEMBLE, ENSEMBLE, first["ensemble"]["test"], first["ensemble"]["val"]))
    rows += [(n, baseline_label(n, test["season"], test.get("season2", 1)), m, val.get(n))
             for n, m in test["baselines"].items()]
    chosen = first.get("recommended", {}).get("model")
    order = (lambda row: (row[2]["mase"] is None, row[2]["mase"] or 0.0)) if panel else (lambda row: row[2]["mse"])
    for name, label, m, v in sorted(rows, key=order):
        t.add_row(label + (" *" if name == chosen else ""), fmt(m["mse"]), fmt(m["rmse"]), fmt(m["mae"]),
                  opt(m["mase"]), opt(m["mape"], "{:.2f}"), ratio(m["mse"], naive_mse), opt(v and v["mase"]))
    out.print(t)
    if chosen is not None:
        labels = {name: label for name, label, _, _ in rows}
        out.print("* recommended: " + recommendation_note(first["recommended"], labels.get))
    for r in results:
        for level, iv in r.metrics["test"].get("intervals", {}).items():
            out.print(f"{r.cell}: {float(level) * 100:g}% interval covers {iv['coverage']:.1%} of the test values "
                      f"(mean width {fmt(iv['mean_width'])})")
    for line in first.get("advice", []):
        out.print(f"note: {line}")
    return any(m["mape"] is None for _, _, m, _ in rows)


def compare_table(out, names: list[str], infos) -> None:
    """One table of runs that forecast the same thing (data, target, horizon: see commands.compare's groups),
    sorted by test MSE, with each run's lookback and automatic choices."""
    first = infos[0]
    title = (f"Runs by test MSE on {Path(first.meta['data']['path']).name}, target {first.config.data.target}, "
             f"horizon {first.config.window.horizon} (original units; ratio = MSE / naive MSE)")
    shared = [r for r in ALL_REFERENCES if all(r in info.metrics["test"]["baselines"] for info in infos)]
    test = first.metrics["test"]  # with a second season, every seasonal reference is named with its season
    week = any(r in SECOND for r in shared)
    references = tuple(baseline_label(r, test["season"], test["season2"]) if week else LABELS[r] for r in shared)
    t = table(title, ("run", "cell", "choices", "lookback", "epochs", "test MSE", *references, "ratio", "MASE"), 3)
    rows = []
    for name, info in zip(names, infos):
        m, base = info.metrics["test"]["model"], info.metrics["test"]["baselines"]
        choices = [info.config.data.normalize.value,  # a run records its options as resolved (never auto)
                   f"anchor {info.config.model.anchor.value}" + (" + linear" if info.config.model.linear else "")]
        if info.series_scalers:  # one model of several series: MASE is the mean of theirs, MSE pooled
            choices.insert(0, f"{len(info.series_scalers)} series")
        start = info.metrics.get("start")
        epochs = str(info.metrics["epochs_run"]) + (", kept its start" if start and start["kept"] else "")
        rows.append((m["mse"], name, info.config.model.cell.value, ", ".join(choices), str(info.config.window.lookback),
                     epochs, m, base))
    # Each run's untrained start (reference + linear start); cells trained together share one, shown once
    starts = {}
    for name, info in zip(names, infos):
        if (start := info.metrics.get("start")) is not None:
            starts.setdefault(round(start["test"]["mse"], 9), (name, info, start))
    for name, info, start in starts.values():
        rows.append((start["test"]["mse"], START if len(starts) == 1 else f"{START} of {name}", "-", "untrained",
                     str(info.config.window.lookback), "0", start["test"], info.metrics["test"]["baselines"]))
    for _, name, cell, choices, lookback, epochs, m, base in sorted(rows, key=lambda row: row[0]):
        t.add_row(name, cell, choices, lookback, epochs, fmt(m["mse"]), *(fmt(base[r]["mse"]) for r in shared),
                  ratio(m["mse"], base["naive"]["mse"]), opt(m["mase"]))
    out.print(t)


def backtest_table(out, summary, folds: int, season: int, season2: int = 1) -> None:
    """Mean and spread over folds of each model's and baseline's scores."""
    t = table(f"Backtest over {folds} folds (mean ± sd across folds, original units)",
              ("model", "MSE", "± sd", "MAE", "MASE", "± sd", "wins"), 1)
    for row in summary.itertuples():
        label = (baseline_label(row.model, season, season2) if row.model in LABELS else
                 "recommended (by validation)" if row.model == "recommended" else
                 START_LABEL if row.model == START else row.model)
        t.add_row(label, fmt(row.mse_mean), fmt(row.mse_std), fmt(row.mae_mean), opt(row.mase_mean),
                  opt(row.mase_std), f"{row.wins}/{folds}")
    out.print(t)
    out.print("wins: folds in which the model's MSE is below the seasonal naive's")


def datasets_table(out, folder: Path, rows) -> None:
    """One line per datasets.CsvSummary."""
    t = table(f"Datasets in {folder}", ("file", "columns", "rows", "start", "end", "freq"), 2)
    for d in rows:
        t.add_row(d.file, d.columns, str(d.rows), d.start, d.end, d.freq)
    out.print(t)


def warn(notes: tuple[str, ...] | list[str]) -> None:
    """Notes for the user: `Warning:` lines on stderr, or Python warnings under the Python API."""
    for note in notes:
        if python_warnings():
            import warnings

            from forecast.errors import ForecastWarning

            warnings.warn(note, ForecastWarning, stacklevel=_caller_level())
        else:
            sys.stderr.write(f"Warning: {note}\n")
            sys.stderr.flush()


def _caller_level() -> int:
    """The stacklevel of the first frame outside this package: a warning points at the user's own line."""
    package = str(Path(__file__).parent)  # forecast/
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level
