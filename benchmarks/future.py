"""Known-future and calendar inputs on Victoria's half-hourly electricity demand: the same `forecast train` run with
and without `--future-features workday --calendar auto`, test MSE and MASE side by side. Writes
benchmarks/future.md.

    python benchmarks/future.py     # about 15 minutes on 2 CPU cores

Both runs use the defaults of `forecast train` with --horizon 48 (a day ahead), one seed, every test origin.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import forecast  # noqa: E402

DATA = ROOT / "datasets" / "victoria_electricity_halfhourly.csv.gz"
VARIANTS = {"plain": {}, "workday + calendar": {"future_features": "workday", "calendar": "auto"}}


def main() -> None:
    runs = Path(tempfile.mkdtemp(prefix="future-bench-"))
    rows = {}
    for label, extra in VARIANTS.items():
        run = forecast.train(str(DATA), cell="lstm", target="demand_gw", horizon=48, runs_dir=runs,
                             name=label.replace(" + ", "-"), verbose=False, **extra)
        test = run.metrics["test"]
        rows[label] = (test["model"], test["baselines"], run.metrics["epochs_run"], run.metrics["training_seconds"])
        print(label, test["model"]["mse"], test["model"]["mase"], flush=True)
    lines = ["# Known-future and calendar inputs: Victoria electricity demand, horizon 48", "",
             "Written by `python benchmarks/future.py`: `forecast train datasets/victoria_electricity_halfhourly.csv.gz"
             " --target demand_gw --horizon 48` with the options below, defaults otherwise, one seed.",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
             f"Keras {__import__('keras').__version__}.", "",
             "| inputs | test MSE | test MASE | epochs | training seconds |", "|---|---|---|---|---|"]
    for label, (model, _, epochs, seconds) in rows.items():
        options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in VARIANTS[label].items()) or "(none)"
        lines.append(f"| {label}: `{options}` | {model['mse']:.4g} | {model['mase']:.3f} | {epochs} | {seconds:.0f} |")
    base = rows["plain"][1]
    lines += [f"| {name} (reference) | {base[name]['mse']:.4g} | {base[name]['mase']:.3f} | | |"
              for name in ("naive", "seasonal_naive", "seasonal_diff")]
    (ROOT / "benchmarks" / "future.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
