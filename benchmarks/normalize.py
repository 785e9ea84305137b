"""MASE of the baselines and of each cell under --normalize global, --normalize window and --transform logdiff,
on the shipped series and two generated trending ones. Prints the table, checks the targets of the
window-normalisation issue, and writes benchmarks/normalize.md.

    python benchmarks/normalize.py            # about 15 minutes on 2 CPU cores

Every run uses the defaults of `forecast train` (lookback 48, horizon 1, 30 epochs, early stopping) apart
from the option studied, and the same seed.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecast.config import (  # noqa: E402
    Cell,
    DataConfig,
    ModelConfig,
    Normalize,
    RunConfig,
    TrainConfig,
    Transform,
    WindowConfig,  # noqa: E402
)
from forecast.errors import ForecastError  # noqa: E402
from forecast.prepare import prepare  # noqa: E402

DATASETS = {
    "msft_daily (Close)": ("datasets/msft_daily.csv", "Close"),
    "random walk with drift": ("datasets/randomwalk.csv", None),
    "trending seasonal": ("datasets/trend_seasonal.csv", None),
    "electricity_demand_halfhourly": ("datasets/electricity_demand_halfhourly.csv", None),
    "sine": ("datasets/sine.csv", None),
}
MODES = {"global": (Normalize.global_, Transform.none), "window": (Normalize.window, Transform.none),
         "logdiff": (Normalize.global_, Transform.logdiff)}


def default_mode(path: str, target: str | None) -> tuple[str, str]:
    """What the default (--normalize auto) picks for a series, and why."""
    prep = prepare(DataConfig(str(ROOT / path), target=target), WindowConfig())
    return prep.normalize.value, prep.normalize_reason


def run(path: str, target: str | None, normalize: Normalize, transform: Transform) -> dict | None:
    from forecast.backend import start_backend
    from forecast.training import train_cell

    data = DataConfig(str(ROOT / path), target=target, normalize=normalize, transform=transform)
    try:
        prep = prepare(data, WindowConfig())
    except ForecastError as exc:  # e.g. logdiff of a series with values <= 0
        return {"error": str(exc)}
    out = {"baselines": None, "cells": {}}
    for cell in Cell:
        cfg = RunConfig(data, WindowConfig(), dataclasses.replace(ModelConfig(), cell=cell), TrainConfig())
        test = train_cell(prep, cfg, start_backend()).metrics["test"]
        out["baselines"] = test["baselines"]
        out["cells"][cell.value] = test["model"]["mase"]
    return out


def main() -> None:
    start = time.perf_counter()
    results = {}
    for name, (path, target) in DATASETS.items():
        for mode, (normalize, transform) in MODES.items():
            t0 = time.perf_counter()
            results[name, mode] = run(path, target, normalize, transform)
            print(f"{name:32s} {mode:8s} {time.perf_counter() - t0:6.1f} s", flush=True)

    header = ("| series | auto picks | naive | seasonal naive | "
              + " | ".join(f"{c} {m}" for m in MODES for c in ("rnn", "lstm", "gru")) + " |")
    lines = [header, "|" + "---|" * (4 + 3 * len(MODES))]
    checks, reasons = [], []
    for name in DATASETS:
        default, why = default_mode(*DATASETS[name])
        reasons.append(f"- {name}: `{default}` ({why})")
        base = results[name, "global"]["baselines"]
        cells = []
        for mode in MODES:
            r = results[name, mode]
            cells += (["n/a"] * 3 if "error" in r else [f"{r['cells'][c.value]:.3f}" for c in Cell])
        lines.append(f"| {name} | {default} | {base['naive']['mase']:.3f} | {base['seasonal_naive']['mase']:.3f} | "
                     + " | ".join(cells) + " |")
        best = {m: min(results[name, m]["cells"].values()) for m in MODES if "error" not in results[name, m]}
        naive, seasonal = base["naive"]["mase"], base["seasonal_naive"]["mase"]
        if name in ("msft_daily (Close)", "random walk with drift"):
            checks.append((f"{name}: best cell with the default (auto: {default}) within 2% of the naive MASE",
                           best[default] <= 1.02 * naive, f"{best[default]:.3f} vs {naive:.3f}"))
        if name == "trending seasonal":
            checks.append((f"{name}: best cell with the default beats the seasonal naive",
                           best[default] < seasonal, f"{best[default]:.3f} vs {seasonal:.3f}"))
        if name in ("electricity_demand_halfhourly", "sine"):
            checks.append((f"{name}: default (auto: {default}) not worse than global by more than 5% MASE (best cell)",
                           best[default] <= 1.05 * best["global"], f"{best[default]:.3f} vs {best['global']:.3f}"))
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True,
                         text=True).stdout.strip()
    report = "\n".join([
        "# Normalisation benchmark", "",
        "MASE on the test part (horizon 1; below 1 beats the in-sample seasonal naive). The default, "
        "`--normalize auto`, picks `window` when the training part's variance ratio at the lookback lag exceeds 0.5 "
        "(random-walk-like) or over 25% of the validation part lies outside the training range, else `global`; "
        "it never looks at the test part. What it picked:", "", *reasons,
        "", f"Machine: {cpu or platform.processor()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{time.perf_counter() - start:.0f} s in all. Rerun: `python benchmarks/normalize.py`.", "",
        *lines, "", "| target | holds | measured |", "|---|---|---|",
        *[f"| {what} | {'yes' if ok else 'NO'} | {value} |" for what, ok, value in checks], "",
    ])
    (ROOT / "benchmarks" / "normalize.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
