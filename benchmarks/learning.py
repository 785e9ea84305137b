"""Why the recurrent cells kept their start, and which training scheme lets them learn: each benchmark series trained
as `forecast train` trains it by default (anchored, with the linear path), under training schemes that change one
thing at a time. Not part of the test suite.

    python benchmarks/learning.py                         # the series below, lstm, every scheme
    python benchmarks/learning.py --only ukgas,sine --cells rnn,lstm,gru --schemes shipped,chosen

For each series, cell and scheme: the validation loss (MSE in the model's scaled units) of the untrained start and
of every epoch, the epoch kept, and the test MASE of the start and of the model kept. Writes benchmarks/learning.md
(and learning.json) with the machine and versions.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accuracy import CASES, series_csv  # noqa: E402

OUT = Path(__file__).resolve().parent / "learning.md"
# The scheme that shipped before this measurement, and each hypothesis of issue 34 changed alone.
SCHEMES = {
    "shipped": dict(linear_rate=1.0, scale_correction=False),
    "freeze": dict(linear_rate=0.0, scale_correction=False),  # 1: the linear path held at its start
    "slow_linear": dict(linear_rate=1 / 64, scale_correction=False),  # 1: its steps 64 times smaller
    "scale": dict(linear_rate=1.0, scale_correction=True),  # 3: the correction in units of what the start leaves
    "patience": dict(linear_rate=1.0, scale_correction=False, patience=30),  # 4: more patience
    "keep_lower": dict(linear_rate=1.0, scale_correction=False, keep_gain=0.0, keep_significance=0.0),  # 4
    "freeze_scale": dict(linear_rate=0.0, scale_correction=True),
    "slow_scale": dict(linear_rate=1 / 64, scale_correction=True),
    "chosen": {},  # training.Scheme's defaults: freeze_scale, the linear path frozen only where it was fitted
}
DEFAULT_CASES = ("ukgas", "johnson_johnson", "nottingham", "accidental_deaths", "seatbelts_drivers", "sine",
                 "jfk_temperature", "electricity", "msft", "eu_smi")


# Many series, one global model (hypothesis 5): the options of benchmarks/panel.py's cases
PANELS = {
    "births_by_state": {"data": "datasets/births_by_state_daily.csv.xz", "id_col": "state", "target": "births",
                        "dedupe": "sum", "horizon": 14, "calendar": "auto"},
    "airports": {"data": "datasets/nyc_airport_weather_hourly.csv.gz", "id_col": "station", "target": "temp_f",
                 "horizon": 24, "calendar": "auto"},
}
ROOT = Path(__file__).resolve().parent.parent


def mean_mase(scores: dict) -> float:
    """The mean of a panel's per-series test MASEs (metrics.json's series scores, {name: score})."""
    values = [one["mase"] for one in scores.values()]
    return sum(values) / len(values)


def run_case(name: str, data: str, options: dict, cells: list[str], schemes: list[str]) -> list[dict]:
    from forecast.backend import start_backend
    from forecast.options import run_configs
    from forecast.prepare import prepare
    from forecast.training import Scheme, train_cell

    configs = run_configs(data, ",".join(cells), **options)
    prep = prepare(configs[0].data, configs[0].window)
    device = start_backend()
    rows = []
    for cfg in configs:
        cfg = type(cfg)(data=cfg.data, window=prep.window, model=cfg.model, train=cfg.train)
        for scheme in schemes:
            curve: list[tuple[float, float]] = []  # (train, validation) loss of each epoch
            began = time.perf_counter()
            result = train_cell(prep, cfg, device, on_epoch=lambda e, logs, s: curve.append((logs["loss"], logs["val_loss"])),
                                scheme=Scheme(**SCHEMES[scheme]))
            m = result.metrics
            row = {"case": name, "cell": cfg.model.cell.value, "scheme": scheme,
                   "start_val_loss": m["start"]["val_loss"], "val_loss": [v for _, v in curve],
                   "start_train_loss": m["start"]["train_loss"], "train_loss": [t for t, _ in curve],
                   "best_epoch": m["best_epoch"], "model_epoch": m["model_epoch"],
                   "start_mase": m["start"]["test"]["mase"], "mase": m["test"]["model"]["mase"],
                   "seconds": round(time.perf_counter() - began, 1)}
            if "series" in m["start"]:  # a panel: the mean of the series' MASEs, as benchmarks/panel.py reports
                row.update(start_mase=mean_mase(m["start"]["series"]),
                           mase=mean_mase({k: v["model"] for k, v in m["test"]["series"].items()}))
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "val_loss"}), flush=True)
    return rows


def report(rows: list[dict], seconds: float) -> str:
    import keras
    import numpy as np

    lines = [
        "# What the cells learn beyond their start",
        "",
        f"`python benchmarks/learning.py`, {time.strftime('%Y-%m-%d')}, {seconds / 60:.0f} minutes, seed 0, CPU. "
        "Each series as `forecast train` trains it by default (anchored on the reference `auto` chooses, with the "
        "linear path, the tool's lookback, 70/15/15); `start` is the untrained model (reference + linear start). "
        "Losses: MSE in the model's scaled units (the training loss of an epoch is Keras' mean over its batches); "
        "`min` is the lowest epoch's validation loss, `gain` its share below the start's; `kept` the epoch whose weights the model keeps (0: the start); test MASE of the start and of the "
        "model kept.",
        "",
        "Schemes: `shipped` the training before this measurement (every weight trained from the start, the cell's "
        "output in the scaled units, a trained state kept when it beats the start by 1% and one standard error); "
        "`freeze` the linear path held at its start (hypothesis 1); `scale` the cell's output multiplied by the "
        "spread of the start's training errors (hypothesis 3); `patience` 30 epochs of patience instead of 15 "
        "(hypothesis 4); `keep_lower` any lower validation loss replaces the start (hypothesis 4, selection); "
        "`chosen` the scheme that ships now (training.Scheme).",
        "",
        "| series | cell | scheme | start train loss | last train loss | start val loss | min val loss (epoch) | "
        "gain | epochs | kept | start MASE | MASE | s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        curve = np.asarray(r["val_loss"])
        low = int(np.argmin(curve))
        gain = 1 - curve[low] / r["start_val_loss"]
        train = (f"{r['start_train_loss']:.4g} | {r['train_loss'][-1]:.4g}" if "train_loss" in r else "- | -")
        lines.append(f"| {r['case']} | {r['cell']} | {r['scheme']} | {train} | {r['start_val_loss']:.4g} | {curve[low]:.4g} ({low + 1}) | "
                     f"{gain:+.1%} | {len(curve)} | {r['model_epoch']} | {r['start_mase']:.3f} | {r['mase']:.3f} | "
                     f"{r['seconds']:.0f} |")
    lines += ["", "## By scheme", ""]
    for name in dict.fromkeys(r["scheme"] for r in rows):
        mine = [r for r in rows if r["scheme"] == name]
        left = sum(r["model_epoch"] > 0 for r in mine)
        better = sum(r["mase"] < 0.99 * r["start_mase"] for r in mine)
        worse = sum(r["mase"] > 1.01 * r["start_mase"] for r in mine)
        ratio = float(np.exp(np.mean([np.log(r["mase"] / r["start_mase"]) for r in mine])))
        below = sum(min(r["val_loss"]) < r["start_val_loss"] for r in mine)
        lines.append(f"- {name}: left the start on {left}/{len(mine)}; some epoch below the start on validation "
                     f"{below}/{len(mine)}; test MASE more than 1% better than the start {better}/{len(mine)}, "
                     f"more than 1% worse {worse}/{len(mine)}; geometric mean of MASE / start MASE {ratio:.3f}")
    lines += ["", "## The hypotheses, measured", "", *hypotheses(rows)]
    lines += ["", "## Machine", "", f"- {platform.platform()}, {os.cpu_count()} cores",
              f"- python {platform.python_version()}, keras {keras.__version__} ({keras.backend.backend()})", ""]
    return "\n".join(lines)


def hypotheses(rows: list[dict]) -> list[str]:
    """Issue 34's hypotheses, each checked on this run's rows (single series and panels apart)."""
    import numpy as np

    def of(scheme: str, panel: bool) -> dict[tuple[str, str], dict]:
        return {(r["case"], r["cell"]): r for r in rows if r["scheme"] == scheme and (r["case"] in PANELS) == panel}

    out = []
    shipped, frozen = of("shipped", False), of("freeze", False)
    if shipped and frozen:
        up = [r["val_loss"][0] / r["start_val_loss"] for r in shipped.values()]
        up_frozen = [r["val_loss"][0] / r["start_val_loss"] for r in frozen.values()]
        out.append(f"- 1, Adam moves the fitted linear path off its optimum: after epoch 1 the validation loss is "
                   f"above the start's on {sum(u > 1 for u in up)}/{len(up)} series when every weight trains "
                   f"(median ratio {np.median(up):.3f}, largest {max(up):.3f}), on {sum(u > 1 for u in up_frozen)}/"
                   f"{len(up_frozen)} with the fitted path frozen (median {np.median(up_frozen):.3f}, largest "
                   f"{max(up_frozen):.3f}).")
    for name, number, what in (("scale", 3, "the correction scaled to what the start leaves"),
                               ("patience", 4, "patience 30"), ("keep_lower", 4, "any lower validation loss kept"),
                               ("slow_linear", 1, "the fitted path's steps 64 times smaller"),
                               ("freeze", 1, "the fitted path frozen"), ("chosen", 0, "the scheme that ships")):
        mine = of(name, False)
        if not mine or not shipped:
            continue
        pairs = [(r, shipped[k]) for k, r in mine.items() if k in shipped]
        ratio = float(np.exp(np.mean([np.log(r["mase"] / s["mase"]) for r, s in pairs])))
        out.append(f"- {f'{number}, ' if number else ''}{what} (`{name}`): left the start on "
                   f"{sum(r['model_epoch'] > 0 for r, _ in pairs)}/{len(pairs)} series (shipped: "
                   f"{sum(s['model_epoch'] > 0 for _, s in pairs)}); test MASE against the shipped scheme's, "
                   f"geometric mean {ratio:.3f}, better by more than 1% on {sum(r['mase'] < 0.99 * s['mase'] for r, s in pairs)}, "
                   f"worse on {sum(r['mase'] > 1.01 * s['mase'] for r, s in pairs)}.")
    chosen = [r for r in of("chosen", False).values() if "train_loss" in r]
    if chosen:
        train_gain = [1 - min(r["train_loss"]) / r["start_train_loss"] for r in chosen]
        val_gain = [1 - min(r["val_loss"]) / r["start_val_loss"] for r in chosen]
        out.append(f"- Learning against generalising (`chosen`): the lowest epoch's training loss is below the start's "
                   f"by a median {np.median(train_gain):.1%} (largest {max(train_gain):.1%}); its validation loss by a "
                   f"median {np.median(val_gain):.1%} (largest {max(val_gain):.1%}).")
    for name in ("shipped", "chosen"):
        for (case, cell), r in of(name, True).items():
            out.append(f"- 5, global training, {case} ({cell}, `{name}`): mean test MASE {r['mase']:.3f} against its "
                       f"start's {r['start_mase']:.3f} (epoch {r['model_epoch']} kept)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated case names: accuracy.py's series and PANELS (default: "
                                       "DEFAULT_CASES)")
    parser.add_argument("--cells", default="lstm", help="comma-separated cells")
    parser.add_argument("--schemes", default=",".join(SCHEMES), help="comma-separated schemes")
    parser.add_argument("--out", type=Path, default=OUT, help="markdown file to write")
    parser.add_argument("--from-json", type=Path, help="write the markdown from a saved learning.json")
    args = parser.parse_args()
    if args.from_json:
        rows = json.loads(args.from_json.read_text())
        args.out.write_text(report(rows, sum(r["seconds"] for r in rows)))
        return
    names = args.only.split(",") if args.only else DEFAULT_CASES
    began, rows = time.perf_counter(), []
    cells, schemes = args.cells.split(","), args.schemes.split(",")
    with tempfile.TemporaryDirectory(prefix="forecast-learning-") as tmp:
        for case in (c for c in CASES if c.name in names):
            options = {"horizon": case.horizon, "target": case.target}
            rows += run_case(case.name, str(series_csv(case, Path(tmp))), options, cells, schemes)
            args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
        for name, options in PANELS.items():
            if name in names:
                options = dict(options)
                rows += run_case(name, str(ROOT / options.pop("data")), options, cells, schemes)
                args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    args.out.write_text(report(rows, time.perf_counter() - began))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
