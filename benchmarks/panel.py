"""One global model across the series of a long table against the same cell trained on each series alone: mean
test MASE (each series scaled by its own training part) and training time, measured side by side in one process.
Writes benchmarks/panel_<case>.md.

    python benchmarks/panel.py births     # 51 states, daily, horizon 14: about 40 minutes on 2 CPU cores
    python benchmarks/panel.py weather    # 3 airports, hourly temperature, horizon 24: about 10 minutes

Both sides use the defaults of `forecast train` plus the options of the case (the same for both), one seed, and
score every test origin of every series (70/15/15 by time within each series). "Training seconds" is the sum of
each run's fit time (metrics.json `training_seconds`: epochs, validation and early stopping), without start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import forecast  # noqa: E402

CASES = {
    "births": {"data": "datasets/births_by_state_daily.csv.xz", "id_col": "state", "target": "births",
               "dedupe": "sum", "horizon": 14, "calendar": "auto"},
    "weather": {"data": "datasets/nyc_airport_weather_hourly.csv.gz", "id_col": "station", "target": "temp_f",
                "horizon": 24, "calendar": "auto"},
}


def mean_mase(series_scores: dict[str, float]) -> float:
    return sum(series_scores.values()) / len(series_scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--series", default=None, help="comma-separated subset of the series (default all)")
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--lookback", type=int, default=None, help="for both sides (default: the tool's)")
    parser.add_argument("--global-run", type=Path, default=None,
                        help="a run folder of the global model trained with the same options, reused instead of "
                             "training it again")
    args = parser.parse_args()
    case = dict(CASES[args.case])
    data = str(ROOT / case.pop("data"))
    if args.series:
        case["series"] = args.series
    if args.lookback:
        case["lookback"] = args.lookback
    runs = Path(tempfile.mkdtemp(prefix="panel-bench-"))
    started = time.perf_counter()
    glob = (forecast.load_run(args.global_run) if args.global_run else
            forecast.train(data, cell=args.cell, runs_dir=runs / "global", verbose=False, **case))
    wall_global = time.perf_counter() - started if args.global_run is None else float("nan")
    per = glob.metrics["test"]["series"]
    names = list(per)
    global_mase = {n: per[n]["model"]["mase"] for n in names}
    references = {ref: mean_mase({n: per[n]["baselines"][ref]["mase"] for n in names})
                  for ref in ("naive", "seasonal_naive", "seasonal_diff")}
    alone_mase, alone_seconds = {}, 0.0
    started = time.perf_counter()
    for name in names:
        run = forecast.train(data, cell=args.cell, runs_dir=runs / "alone", name=f"alone-{name}", verbose=False,
                             **{**case, "series": name})
        alone_mase[name] = run.metrics["test"]["model"]["mase"]
        alone_seconds += run.metrics["training_seconds"]
        print(f"{name}: global {global_mase[name]:.3f}, alone {alone_mase[name]:.3f}", flush=True)
    wall_alone = time.perf_counter() - started
    wins = sum(global_mase[n] < alone_mase[n] for n in names)
    result = {
        "case": args.case, "options": case, "cell": args.cell, "series": len(names),
        "global": {"mean_mase": mean_mase(global_mase), "training_seconds": glob.metrics["training_seconds"],
                   "epochs": glob.metrics["epochs_run"], "wall_seconds": round(wall_global, 1)},
        "alone": {"mean_mase": mean_mase(alone_mase), "training_seconds": round(alone_seconds, 1),
                  "wall_seconds": round(wall_alone, 1)},
        "references_mean_mase": references, "global_wins": wins,
        "speedup_training": alone_seconds / glob.metrics["training_seconds"],
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "versions": {"python": platform.python_version(), "keras": __import__("keras").__version__},
    }
    print(json.dumps(result, indent=2))
    write_report(result, global_mase, alone_mase)


def write_report(r: dict, global_mase: dict, alone_mase: dict) -> None:
    lines = [f"# One model across series vs one per series: {r['case']}", "",
             "Written by `python benchmarks/panel.py " + r["case"] + (f" --lookback {r['options']['lookback']}" if "lookback"
             in r["options"] else "") + "`; options " +
             ", ".join(f"`{k}={v}`" for k, v in r["options"].items()) + f", cell {r['cell']}, defaults otherwise.",
             f"Machine: {r['machine']}; Python {r['versions']['python']}, Keras {r['versions']['keras']}.", "",
             "| model | mean test MASE | training seconds | wall seconds |", "|---|---|---|---|",
             f"| one global model ({r['global']['epochs']} epochs) | {r['global']['mean_mase']:.3f} | "
             f"{r['global']['training_seconds']:.0f} | "
             + (f"{r['global']['wall_seconds']:.0f} |" if r["global"]["wall_seconds"] == r["global"]["wall_seconds"]
                else "(--global-run: trained before with the same options) |"),
             f"| one model per series ({r['series']} runs) | {r['alone']['mean_mase']:.3f} | "
             f"{r['alone']['training_seconds']:.0f} | {r['alone']['wall_seconds']:.0f} |"]
    lines += [f"| {ref} | {v:.3f} | | |" for ref, v in r["references_mean_mase"].items()]
    lines += ["", f"Training time ratio (per series / global): {r['speedup_training']:.2f}x; the global model has "
              f"the lower MASE on {r['global_wins']} of {r['series']} series.", "",
              "| series | global MASE | alone MASE |", "|---|---|---|"]
    lines += [f"| {n} | {global_mase[n]:.3f} | {alone_mase[n]:.3f} |" for n in global_mase]
    suffix = f"_lookback{r['options']['lookback']}" if "lookback" in r["options"] else ""
    (ROOT / "benchmarks" / f"panel_{r['case']}{suffix}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
