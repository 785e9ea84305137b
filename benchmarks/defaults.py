"""How the speed defaults of `forecast train` were chosen: measured, not guessed.

    python benchmarks/defaults.py              # about 30 minutes on 2 CPU cores
    python benchmarks/defaults.py --only jit   # one part: grid, jit or parallel

Writes benchmarks/defaults.md with three tables:

- grid: time to accuracy for batch size x learning rate, every cell, on the shipped datasets: the training
  time (epochs summed, validation included) until the validation MSE first comes within 5% of what the old
  default (batch 64, learning rate 0.001) ended with; the test MSE of the model kept is shown next to it.
- jit: steady-state epoch time (median after the first) and the first epoch (which traces and compiles) with
  XLA off and on, per cell, at the default model and at a larger one, on a 20k-row series.
- parallel: wall time of `forecast train DATA --cell all --parallel off` (one process, cells one after
  another) against `--parallel on` (a process per cell, one thread each), twice each, interleaved.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "defaults.md"

DATASETS = {"sine": ("datasets/sine.csv", None), "electricity": ("datasets/electricity_demand_halfhourly.csv", None),
            "msft (Close)": ("datasets/msft_daily.csv", "Close")}
CELLS = ("rnn", "lstm", "gru")
BATCHES = (64, 128, 256)
RATES = (1e-3, 3e-3, 1e-2)
TOLERANCE = 0.05
OLD = (64, 1e-3)  # batch size and learning rate before this measurement


def train_once(prep, cell: str, batch: int, rate: float, epochs: int = 30, patience: int = 5, jit: str = "auto",
               lookback: int = 48, units: int = 32) -> dict:
    """One training in this process; per-epoch wall time and validation loss, and the test MSE."""
    from forecast.config import Cell, DataConfig, Jit, ModelConfig, RunConfig, TrainConfig, WindowConfig
    from forecast.backend import start_backend
    from forecast.training import train_cell

    log: list[tuple[float, float]] = []
    cfg = RunConfig(DataConfig("x.csv"), WindowConfig(lookback, 1), ModelConfig(Cell(cell), units=units),
                    TrainConfig(epochs=epochs, batch_size=batch, learning_rate=rate, patience=patience, jit=Jit(jit)))
    result = train_cell(prep, cfg, start_backend(), on_epoch=lambda e, logs, s: log.append((s, logs["val_loss"])))
    return {"seconds": [s for s, _ in log], "val": [v for _, v in log], "test_mse": result.metrics["test"]["model"]["mse"],
            "mase": result.metrics["test"]["model"]["mase"], "naive_mse": result.metrics["test"]["baselines"]["naive"]["mse"]}


def time_to(run: dict, target: float) -> float | None:
    elapsed = 0.0
    for seconds, val in zip(run["seconds"], run["val"], strict=True):
        elapsed += seconds
        if val <= target:
            return elapsed
    return None


def part_grid() -> list[str]:
    from forecast.config import DataConfig, WindowConfig
    from forecast.prepare import prepare

    preps = {name: prepare(DataConfig(str(ROOT / path), target=target), WindowConfig())
             for name, (path, target) in DATASETS.items()}
    old = OLD
    results: dict[tuple, dict] = {}
    for cell, (name, prep) in itertools.product(CELLS, preps.items()):
        for batch, rate in itertools.product(BATCHES, RATES):
            r = results[cell, name, batch, rate] = train_once(prep, cell, batch, rate)
            print(cell, name, batch, rate, f"{sum(r['seconds']):.1f}s", flush=True)

    def reach(cell: str, name: str, key: tuple) -> float | None:
        """Seconds until this configuration's validation MSE first matches what the old default ended with."""
        target = min(results[(cell, name, *old)]["val"]) * (1 + TOLERANCE)
        return time_to(results[(cell, name, *key)], target)

    configs = list(itertools.product(BATCHES, RATES))
    totals = {}
    for key in configs:
        times = [reach(c, n, key) for c in CELLS for n in preps]
        totals[key] = None if None in times else sum(times)
    ratio = {key: statistics.geometric_mean([results[(c, n, *key)]["test_mse"] / results[(c, n, *old)]["test_mse"]
                                              for c in CELLS for n in preps]) for key in configs}
    ranked = sorted(configs, key=lambda k: (totals[k] is None, totals[k] or 0))
    best = ranked[0]

    lines = ["## Batch size and learning rate: time to accuracy", "",
             "Seconds of training until the validation MSE first comes within "
             f"{TOLERANCE:.0%} of the best validation MSE that the old default (batch {old[0]}, learning rate "
             f"{old[1]:g}) reached on that cell and dataset (- : never within 30 epochs), summed over the three "
             "cells (rnn + lstm + gru) per dataset. Test MSE ratio: geometric mean over the 9 cell x dataset pairs "
             "of the test MSE of the model kept, divided by the old default's (below 1 is more accurate). "
             "Otherwise the defaults: lookback 48, 32 units, 30 epochs, patience 5, seed 0, XLA as --jit auto.",
             "", "| batch | lr | " + " | ".join(f"{n} s" for n in preps) + " | total s | test MSE ratio |",
             "|" + "---|" * (len(preps) + 4)]
    for key in ranked:
        cols = []
        for name in preps:
            times = [reach(c, name, key) for c in CELLS]
            cols.append("-" if None in times else f"{sum(times):.1f}")
        total = "-" if totals[key] is None else f"{totals[key]:.1f}"
        lines.append(f"| {key[0]} | {key[1]:g} | " + " | ".join(cols) + f" | {total} | {ratio[key]:.3f} |")
    lines += ["", f"Fastest to the old default's accuracy everywhere: batch {best[0]}, learning rate {best[1]:g} "
              f"({totals[best]:.1f} s against {totals[old]:.1f} s; test MSE ratio {ratio[best]:.3f}).", "",
              "Test MSE per cell and dataset, old default -> fastest:", ""]
    for cell, name in itertools.product(CELLS, preps):
        a, b = results[(cell, name, *old)]["test_mse"], results[(cell, name, *best)]["test_mse"]
        naive = results[(cell, name, *old)]["naive_mse"]
        lines.append(f"- {cell}, {name}: {a:.4g} -> {b:.4g} (naive {naive:.4g})")
    return lines + [""]


def part_jit() -> list[str]:
    from forecast.config import DataConfig, WindowConfig
    from forecast.datasets import make_series
    from forecast.prepare import prepare

    tmp = Path(tempfile.mkdtemp())
    make_series("sine", 20_000, 0.05, 0).to_csv(tmp / "sine20k.csv", index=False)
    lines = ["## XLA (--jit) on the CPU", "",
             "20k-row sine, 3 epochs per run, patience off. Steady: median epoch after the first (seconds); "
             "first: the first epoch, which also traces and compiles.", "",
             "| cell | lookback / units / batch | steady off | steady on | speed-up | first off | first on |",
             "|---|---|---|---|---|---|---|"]
    for lookback, units, batch in ((48, 32, 64), (96, 64, 256)):
        prep = prepare(DataConfig(str(tmp / "sine20k.csv")), WindowConfig(lookback, 1))
        for cell in ("rnn", "lstm", "gru"):
            runs = {}
            for jit in ("off", "on", "off", "on"):  # interleaved twice: the machine's drift hits both alike
                r = train_once(prep, cell, batch, 1e-3, epochs=3, patience=0, jit=jit, lookback=lookback, units=units)
                runs.setdefault(jit, []).append(r["seconds"])
            steady = {j: statistics.median(s for run in rs for s in run[1:]) for j, rs in runs.items()}
            first = {j: statistics.median(run[0] for run in rs) for j, rs in runs.items()}
            lines.append(f"| {cell} | {lookback} / {units} / {batch} | {steady['off']:.2f} | {steady['on']:.2f} | "
                         f"{steady['off'] / steady['on']:.2f}x | {first['off']:.2f} | {first['on']:.2f} |")
            print(lines[-1], flush=True)
    return lines + [""]


def part_parallel() -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    lines = ["## Cells in parallel processes", "",
             "`forecast train DATA --cell all` with the defaults: wall time of the whole command with the cells "
             "trained one after another in one process (`--parallel off`), against one process per cell with "
             "one thread each (`--parallel on`; each process also loads TensorFlow).", "",
             "| dataset | --parallel off | --parallel on | speed-up |", "|---|---|---|---|"]
    for name, (path, target) in DATASETS.items():
        extra = ["--target", target] if target else []
        walls = {}
        with tempfile.TemporaryDirectory() as tmp:
            for mode in ("off", "on", "off", "on"):  # interleaved twice
                began = time.perf_counter()
                subprocess.run([sys.executable, "-m", "forecast", "train", str(ROOT / path), "--cell", "all", *extra,
                                "--parallel", mode, "--runs-dir", f"{tmp}/{mode}{len(walls.get(mode, []))}"],
                               env=env, check=True, capture_output=True)
                walls.setdefault(mode, []).append(time.perf_counter() - began)
        off, on = statistics.median(walls["off"]), statistics.median(walls["on"])
        lines.append(f"| {name} | {off:.1f} s | {on:.1f} s | {off / on:.2f}x |")
        print(lines[-1], flush=True)
    return lines + [""]


PARTS = {"grid": part_grid, "jit": part_jit, "parallel": part_parallel}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=sorted(PARTS), action="append")
    args = parser.parse_args()
    chosen = args.only or list(PARTS)
    began = time.perf_counter()
    sections = {}
    for part in chosen:
        sections[part] = PARTS[part]()
    saved = json.loads(OUT.with_suffix(".json").read_text()) if OUT.with_suffix(".json").exists() else {}
    saved.update(sections)
    OUT.with_suffix(".json").write_text(json.dumps(saved, indent=1) + "\n")
    text = ["# How the speed defaults were chosen", "",
            f"`python benchmarks/defaults.py` on 2 CPU cores (last run {time.strftime('%Y-%m-%d')}: "
            f"{', '.join(chosen)}, {(time.perf_counter() - began) / 60:.1f} min). Conclusions are in docs/performance.md.", ""]
    for part in PARTS:
        text += saved.get(part, [])
    OUT.write_text("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
