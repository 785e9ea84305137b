"""Speed and memory of `forecast` against the code people write by hand, measured side by side in one run.

    python benchmarks/bench.py            # about 10 minutes on 2 CPU cores; prints the table
    python benchmarks/bench.py --quick    # smaller sizes, a minute or two: checks that every part runs

Writes benchmarks/results.md (the table, the targets and the machine). Each figure runs in its own process,
so one measurement's imports, caches and memory do not leak into the next:

- CLI start: `forecast --help` against `python -c "import tensorflow"` (median of several runs).
- windowing: the tool's windows and one epoch of shuffled batches against the classic Python-loop
  `create_sequences` that copies every window; 1M points, lookback 168; time and peak extra memory.
- training: windows per second of `forecast train` per cell (lookback 96, 64 units, batch 256) against a
  minimal hand-written Keras script that passes fully materialised NumPy arrays to `model.fit` with the same
  model, data, batch size, validation data and epochs, alternating twice. Steady state: the median epoch
  after each run's first. Epoch times on this shared 2-core machine swing by up to 30% from run to run.
- prediction: `forecast predict` over every origin of a 100k-row series, and the latency of forecasting one
  window, against a loop of `model.predict` calls (one per window, the tutorial way).
- many series: `forecast train` on 1,000 generated sensors x 2,000 rows (one model across them) against one sensor
  of 2M rows: training windows per second and peak RSS.
- memory: peak RSS of `forecast train` on a generated 5M-row CSV (lookback 168, one epoch capped with
  --steps-per-epoch, validation and test scoring included), and the time to load that CSV.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.md"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
PY = sys.executable
FORECAST = [PY, "-m", "forecast"]

CELLS = ("rnn", "lstm", "gru")
# What `forecast --help` is compared with: loading TensorFlow, or the backend Keras loads where there is none.
HEAVY = "import tensorflow" if importlib.util.find_spec("tensorflow") else "import keras"
TRAIN = {"lookback": 96, "units": 64, "batch": 256}


# ---------------------------------------------------------------------------------------------------- helpers

def run(cmd: list[str]) -> tuple[float, str]:
    """(wall seconds, stdout) of a command that must succeed."""
    began = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=ROOT, check=False)
    wall = time.perf_counter() - began
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def run_rss(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS of the process in MiB, stdout)."""
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=ENV, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code:
            sys.exit(f"failed ({code}): {' '.join(cmd)}\n{err.read()[-3000:]}")
        return wall, usage.ru_maxrss / 1024, out.read()


def worker(mode: str, *args: str) -> dict:
    """Run one of this script's measurement modes in a fresh process and return what it printed (JSON)."""
    _, out = run([PY, __file__, mode, *map(str, args)])
    return json.loads(out.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    info = worker("_versions")
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "memory": mem, "os": platform.platform(), **info}


def make_csv(kind: str, rows: int, path: Path) -> float:
    wall, _ = run([*FORECAST, "datasets", "make", kind, "--rows", str(rows), "--out", str(path)])
    return wall


# ------------------------------------------------------------------------------------------------ measurements

def bench_cli(repeats: int) -> dict:
    helps = [run([*FORECAST, "--help"])[0] for _ in range(repeats)]
    imports = [run([PY, "-c", HEAVY])[0] for _ in range(max(3, repeats // 2))]
    return {"help_s": median(helps), "import_tf_s": median(imports)}


def bench_windowing(points: int, lookback: int, batch: int) -> dict:
    tool = worker("_windows_tool", points, lookback, batch)
    loop = worker("_windows_loop", points, lookback, batch)
    tool_mem = worker("_windows_tool", points, lookback, batch, "memory")
    loop_mem = worker("_windows_loop", points, lookback, batch, "memory")
    return {"tool": {**tool, **tool_mem}, "loop": {**loop, **loop_mem}}


def bench_training(csv: Path, runs: Path, epochs: int, repeats: int) -> dict:
    """Tool and hand-written alternate `repeats` times per cell, so the machine's drift hits both alike."""
    out = {}
    for cell in CELLS:
        tool, hand, firsts = [], [], {"tool": [], "hand": []}
        for rep in range(repeats):
            name = f"bench-{cell}" if rep == 0 else f"bench-{cell}-{rep}"
            run([*FORECAST, "train", str(csv), "--cell", cell, "--lookback", str(TRAIN["lookback"]),
                 "--units", str(TRAIN["units"]), "--batch-size", str(TRAIN["batch"]), "--learning-rate", "0.001",
                 "--epochs", str(epochs), "--patience", "0", "--normalize", "global", "--runs-dir", str(runs),
                 "--name", name])
            folder = runs / name
            seconds = [float(line.split(",")[-1]) for line in (folder / "history.csv").read_text().splitlines()[1:]]
            meta = json.loads((folder / "config.json").read_text())
            n = meta["data"]["split_windows"]["train"]
            written = worker("_handwritten", csv, cell, epochs, meta["data"]["split_rows"]["train"][1],
                             meta["data"]["split_rows"]["val"][1])
            assert written["train_windows"] == n, (written["train_windows"], n)
            tool += seconds[1:]
            hand += written["epochs"][1:]
            firsts["tool"].append(seconds[0])
            firsts["hand"].append(written["epochs"][0])
        out[cell] = {"windows": n, "tool_first_s": median(firsts["tool"]), "tool_epoch_s": median(tool),
                     "hand_first_s": median(firsts["hand"]), "hand_epoch_s": median(hand),
                     "jit": meta["compute"]["jit"], "epochs_timed": len(tool)}
    return out


def bench_prediction(run_dir: Path, csv: Path, out_csv: Path, loop_calls: int) -> dict:
    wall, _ = run([*FORECAST, "predict", str(run_dir), str(csv), "--out", str(out_csv)])
    inner = worker("_predict", run_dir, csv, loop_calls)
    return {"cli_wall_s": wall, **inner}


def bench_memory(csv: Path, runs: Path, steps: int) -> dict:
    load = worker("_load", csv)
    wall, rss, _ = run_rss([*FORECAST, "train", str(csv), "--cell", "lstm", "--lookback", "168", "--epochs", "1",
                              "--steps-per-epoch", str(steps), "--batch-size", "256", "--runs-dir", str(runs),
                              "--name", "bench-5m"])
    meta = json.loads((runs / "bench-5m" / "config.json").read_text())
    windows = sum(meta["data"]["split_windows"].values())
    _, tf_rss, _ = run_rss([PY, "-c", "import keras"])
    return {"rows": meta["data"]["rows"], "windows": windows, "materialised_gb": windows * 168 * 4 / 1e9,
            "peak_rss_mib": rss, "wall_s": wall, "import_tf_rss_mib": tf_rss, **load}


def bench_panel(series: int, rows: int, steps: int, tmp: Path) -> dict:
    """One model across `series` sensors of `rows` rows (a long table) against one sensor of series x rows rows:
    training windows per second (the same batches per epoch) and peak RSS of the whole `forecast train`."""
    out = {}
    for kind, n_series, n_rows in (("panel", series, rows), ("single", 1, series * rows)):
        csv = tmp / f"{kind}.csv"
        run([*FORECAST, "datasets", "make", "sensors", "--series", str(n_series), "--rows", str(n_rows), "--out",
             str(csv)])
        extra = ["--id-col", "sensor"] if kind == "panel" else ["--id-col", "sensor", "--series", "s1"]
        wall, rss, _ = run_rss([*FORECAST, "train", str(csv), *extra, "--target", "value", "--lookback", "48",
                                "--epochs", "3", "--patience", "0", "--steps-per-epoch", str(steps), "--batch-size",
                                "256", "--normalize", "global", "--runs-dir", str(tmp / "runs"), "--name", kind])
        seconds = [float(line.split(",")[-1])
                   for line in (tmp / "runs" / kind / "history.csv").read_text().splitlines()[1:]]
        meta = json.loads((tmp / "runs" / kind / "config.json").read_text())
        out[kind] = {"rows": meta["data"]["rows"], "epoch_s": median(seconds[1:]), "peak_rss_mib": rss,
                     "wall_s": wall, "windows": meta["data"]["split_windows"]["train"],
                     "rate": steps * 256 / median(seconds[1:])}
    return out


# -------------------------------------------------------------------------- modes run in their own processes

def mode_versions() -> dict:
    import keras

    from forecast.backend import gpu_names, versions

    v = versions()
    return {"python": v["python"], "keras": keras.__version__, "backend": v["backend"],
            "tensorflow": v.get("tensorflow", "-"), "numpy": v["numpy"], "gpu": ", ".join(gpu_names()) or "none"}


def _series(points: int):
    import numpy as np

    rng = np.random.default_rng(0)
    t = np.arange(points)
    return (np.sin(2 * np.pi * t / 24) + 0.05 * rng.standard_normal(points)).astype(np.float32)


def mode_windows_tool(points: str, lookback: str, batch: str, what: str = "time") -> dict:
    """The tool's way: Windows over the series (views), then one shuffled epoch of gathered batches."""
    import tracemalloc

    import numpy as np

    from forecast.batches import WindowBatches
    from forecast.windows import Windows, part_origins

    points, lookback, batch = int(points), int(lookback), int(batch)
    values = _series(points)[:, None]
    if what == "memory":
        tracemalloc.start()
    began = time.perf_counter()
    windows = Windows(values, lookback, 1, part_origins((0, points), lookback, 1))
    ready = time.perf_counter() - began
    batches = WindowBatches(windows, batch, shuffle_seed=0)
    for i in range(len(batches)):
        x, _ = batches[i]
    epoch = time.perf_counter() - began - ready
    if what == "memory":
        _, peak = tracemalloc.get_traced_memory()
        return {"peak_mib": peak / 2**20, "n": len(windows), "batch_mib": x.nbytes / 2**20}
    return {"ready_s": ready, "epoch_s": epoch, "n": len(windows), "checksum": float(np.asarray(x).sum())}


def mode_windows_loop(points: str, lookback: str, batch: str, what: str = "time") -> dict:
    """The tutorial way: a Python loop copying every window into lists, then arrays; batches sliced from them."""
    import tracemalloc

    import numpy as np

    points, lookback, batch = int(points), int(lookback), int(batch)
    data = _series(points)

    def create_sequences(data, lookback):
        xs, ys = [], []
        for i in range(len(data) - lookback):
            xs.append(data[i:i + lookback])
            ys.append(data[i + lookback])
        return np.array(xs), np.array(ys)

    if what == "memory":
        tracemalloc.start()
    began = time.perf_counter()
    x_all, y_all = create_sequences(data, lookback)
    x_all = x_all[..., None]
    ready = time.perf_counter() - began
    order = np.random.default_rng(0).permutation(len(x_all))
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        x, y = x_all[idx], y_all[idx]  # noqa: F841 - the copies a training loop would make
    epoch = time.perf_counter() - began - ready
    if what == "memory":
        _, peak = tracemalloc.get_traced_memory()
        return {"peak_mib": peak / 2**20, "n": len(x_all)}
    return {"ready_s": ready, "epoch_s": epoch, "n": len(x_all)}


HANDWRITTEN = '''
# The minimal script people write: scale, materialise every window, model.fit on arrays with shuffle=True.
df = pd.read_csv(csv)
values = df["value"].to_numpy(np.float32)
mean, std = values[:train_end].mean(), values[:train_end].std()
scaled = (values - mean) / std
x = np.lib.stride_tricks.sliding_window_view(scaled[:-1], lookback).copy()[..., None]  # (n, lookback, 1)
y = scaled[lookback:][:, None]                                                            # (n, 1)
target_row = np.arange(lookback, len(scaled))
train, val = target_row < train_end, (target_row >= train_end) & (target_row < val_end)
model = keras.Sequential([keras.Input((lookback, 1)), Cell(units), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
model.fit(x[train], y[train], batch_size=batch, epochs=epochs, validation_data=(x[val], y[val]),
          shuffle=True, verbose=0, callbacks=[timer])
'''


def mode_handwritten(csv: str, cell: str, epochs: str, train_end: str, val_end: str) -> dict:
    import keras
    import numpy as np
    import pandas as pd

    times: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.began)

    Cell = {"rnn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[cell]
    keras.utils.set_random_seed(0)
    scope = {"np": np, "pd": pd, "keras": keras, "Cell": Cell, "csv": csv, "epochs": int(epochs),
             "train_end": int(train_end), "val_end": int(val_end), "timer": Timer(), **TRAIN}
    exec(HANDWRITTEN, scope)  # noqa: S102 - our own constant
    return {"epochs": times, "train_windows": int(scope["train"].sum())}


def mode_predict(run_dir: str, csv: str, loop_calls: str) -> dict:
    """Inside one process: the tool's forecast of every origin and of one window, against model.predict calls."""
    import numpy as np

    from forecast import artifacts
    from forecast.prepare import load_new_series
    from forecast.inference import predict_windows
    from forecast.windows import Windows, forecast_origins

    info = artifacts.read_run(Path(run_dir))
    lookback = info.config.window.lookback
    series, scaled = load_new_series(info.config.data, lookback, info.scaler, csv, None)
    model = artifacts.load_model(info.path)
    origins = forecast_origins(len(series), lookback)
    windows = Windows(scaled, lookback, info.config.window.horizon, origins, info.scaler.normalize)
    predict_windows(model, Windows(scaled, lookback, 1, origins[:2048]))  # compile both paths before timing
    began = time.perf_counter()
    every = predict_windows(model, windows)
    all_s = time.perf_counter() - began

    one = Windows(scaled, lookback, 1, origins[-1:])
    predict_windows(model, one)
    single = []
    for _ in range(loop_calls := int(loop_calls)):
        began = time.perf_counter()
        predict_windows(model, one)
        single.append(time.perf_counter() - began)

    x = windows.inputs(np.arange(loop_calls))
    model.predict(x[:1], verbose=0)
    calls = []
    for i in range(loop_calls):  # the tutorial loop: one model.predict per window
        began = time.perf_counter()
        model.predict(x[i:i + 1], verbose=0)
        calls.append(time.perf_counter() - began)
    return {"origins": len(origins), "all_s": all_s, "one_window_s": median(single),
            "predict_call_s": median(calls), "loop_rate": 1 / statistics.mean(calls), "shape": list(every.shape)}


def mode_load(csv: str) -> dict:
    from forecast.config import DataConfig
    from forecast.data import load_csv

    began = time.perf_counter()
    series = load_csv(DataConfig(csv))
    return {"load_s": time.perf_counter() - began, "loaded_rows": len(series)}


MODES = {"_versions": mode_versions, "_windows_tool": mode_windows_tool, "_windows_loop": mode_windows_loop,
         "_handwritten": mode_handwritten, "_predict": mode_predict, "_load": mode_load}


# ---------------------------------------------------------------------------------------------------- report

def table(r: dict, sizes: dict) -> tuple[list[list[str]], list[str]]:
    """Rows of (figure, forecast, reference, ratio, target, holds) and the lines that explain them."""
    rows = []

    def add(figure, tool, ref, ratio, target, ok):
        rows.append([figure, tool, ref, ratio, target, "yes" if ok else "**no**"])

    c = r["cli"]
    add(f"CLI start: `forecast --help` vs `{HEAVY}`", f"{c['help_s']:.2f} s", f"{c['import_tf_s']:.2f} s",
        f"{c['help_s'] / c['import_tf_s']:.1%}", "at most 10%", c["help_s"] <= 0.10 * c["import_tf_s"])
    w = r["windowing"]
    t, lp = w["tool"], w["loop"]
    pts = f"{sizes['points'] / 1e6:g}M points, lookback 168"
    add(f"windowing, {pts}: windows ready", f"{t['ready_s'] * 1e3:.2f} ms", f"{lp['ready_s']:.2f} s",
        f"{lp['ready_s'] / t['ready_s']:,.0f}x faster", "at least 100x", lp["ready_s"] >= 100 * t["ready_s"])
    add(f"windowing, {pts}: ready + one shuffled epoch of batches (256)",
        f"{t['ready_s'] + t['epoch_s']:.2f} s", f"{lp['ready_s'] + lp['epoch_s']:.2f} s",
        f"{(lp['ready_s'] + lp['epoch_s']) / (t['ready_s'] + t['epoch_s']):.1f}x faster", "(context)", True)
    add(f"windowing, {pts}: peak extra memory", f"{t['peak_mib']:.1f} MiB", f"{lp['peak_mib']:,.0f} MiB",
        f"{lp['peak_mib'] / t['peak_mib']:,.0f}x less", "bounded by the batch", t["peak_mib"] < 0.05 * lp["peak_mib"])
    for cell, tr in r["training"].items():
        tool_rate, hand_rate = tr["windows"] / tr["tool_epoch_s"], tr["windows"] / tr["hand_epoch_s"]
        add(f"training {cell} (lookback 96, 64 units, batch 256), windows/s", f"{tool_rate:,.0f}",
            f"{hand_rate:,.0f}", f"{tool_rate / hand_rate:.2f}x", "at least 0.95x", tool_rate >= 0.95 * hand_rate)
    p = r["prediction"]
    rate = p["origins"] / p["all_s"]
    add(f"prediction, every origin of {p['origins']:,} windows, windows/s", f"{rate:,.0f}",
        f"{p['loop_rate']:,.0f}", f"{rate / p['loop_rate']:,.0f}x", "at least 10x", rate >= 10 * p["loop_rate"])
    add("prediction, one window: latency per call", f"{p['one_window_s'] * 1e3:.1f} ms",
        f"{p['predict_call_s'] * 1e3:.1f} ms", f"{p['predict_call_s'] / p['one_window_s']:.1f}x faster",
        "(context)", True)
    pn = r["panel"]
    a, b = pn["panel"], pn["single"]
    add(f"many series: {sizes['panel_series']:,} series x {sizes['panel_rows']:,} rows vs one series of "
        f"{b['rows']:,} rows, training windows/s", f"{a['rate']:,.0f}", f"{b['rate']:,.0f}",
        f"{a['rate'] / b['rate']:.2f}x", "at least 0.9x", a["rate"] >= 0.9 * b["rate"])
    add("many series: peak RSS of `forecast train`, the same two", f"{a['peak_rss_mib']:,.0f} MiB",
        f"{b['peak_rss_mib']:,.0f} MiB", f"{a['peak_rss_mib'] / b['peak_rss_mib']:.2f}x", "same range (at most 1.5x)",
        a["peak_rss_mib"] <= 1.5 * b["peak_rss_mib"])
    m = r["memory"]
    add(f"memory: peak RSS of `forecast train`, {m['rows'] / 1e6:g}M rows, lookback 168",
        f"{m['peak_rss_mib']:,.0f} MiB", f"{m['materialised_gb']:.2f} GB of windows",
        f"{m['peak_rss_mib'] * 2**20 / 1e9 / m['materialised_gb']:.2f}x", "under 2 GB",
        m["peak_rss_mib"] * 2**20 < 2e9)
    notes = [
        f"- CLI start: medians of {sizes['cli_repeats']} runs of each.",
        f"- windowing: {t['n']:,} windows. 'Ready' is the time until every window can be read: the tool makes "
        f"strided views, the loop copies each window. The epoch gathers every window once in shuffled batches "
        f"of 256 from those views or arrays (the tool's batch is {t['batch_mib']:.2f} MiB). Peak extra memory "
        "is the tracemalloc peak of each, the series itself excluded.",
        f"- training: {sizes['train_rows']:,}-row sine; the tool and the hand-written script ran "
        f"{sizes['repeats']} times each, alternating, {sizes['epochs']} epochs a run. Windows/s from the median "
        "steady-state epoch (every epoch after a run's first, which also traces and compiles), validation "
        "included, with the same windows, batch size, epochs and seed; the tool shuffles every "
        "training window globally each epoch. First epochs, tool vs hand-written: "
        + ", ".join(f"{cell} {tr['tool_first_s']:.1f} s vs {tr['hand_first_s']:.1f} s"
                    for cell, tr in r["training"].items())
        + ". XLA (--jit auto) resolved to: "
        + ", ".join(f"{cell} {tr['jit']}" for cell, tr in r["training"].items()) + ".",
        f"- prediction: an LSTM run (lookback 96, 64 units). The tool forecasts all {p['origins']:,} origins in "
        f"{p['all_s']:.2f} s; the loop rate is from {sizes['loop_calls']} `model.predict` calls of one window "
        f"each. The whole command `forecast predict` (start-up, CSV in, {p['origins']:,} forecasts, CSV out) "
        f"took {p['cli_wall_s']:.1f} s, against {p['origins'] / p['loop_rate'] / 60:.0f} min for the loop's "
        "forecasts alone.",
        f"- memory: {m['windows']:,} windows in all; materialised as float32 with lookback 168 they would take "
        f"{m['materialised_gb']:.2f} GB. The training ran 1 epoch of {sizes['steps']} batches of 256, then "
        f"scored every validation and test window; it took {m['wall_s']:.0f} s in all. Loading the CSV "
        f"({m['loaded_rows']:,} rows) took {m['load_s']:.1f} s. For scale, `import keras` (with its backend) alone "
        f"peaks at {m['import_tf_rss_mib']:,.0f} MiB.",
        f"- many series: `forecast datasets make sensors` tables; both trainings ran 3 epochs of {sizes['steps']} "
        f"batches of 256 (lookback 48, --normalize global), windows/s from the median epoch after the first, "
        f"validation over every validation window included ({a['windows']:,} and {b['windows']:,} training "
        f"windows). The whole commands took {a['wall_s']:.0f} s and {b['wall_s']:.0f} s (reading, checking and "
        "splitting each series, training, scoring, writing).",
    ]
    return rows, notes


def markdown(rows: list[list[str]], notes: list[str], mach: dict, sizes: dict, seconds: float) -> str:
    head = ["figure", "forecast", "hand-written / reference", "ratio", "target", "holds"]
    lines = ["# Benchmarks", "", f"`python benchmarks/bench.py{' --quick' if sizes['quick'] else ''}`, "
             f"{time.strftime('%Y-%m-%d')}, {seconds / 60:.1f} minutes.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", *notes, "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in mach.items()]
    if mach.get("gpu", "none") == "none":
        lines += ["", "No GPU on this machine: every figure above is CPU-only."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, to check that everything runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="markdown file to write")
    args = parser.parse_args()
    q = args.quick
    sizes = {"quick": q, "points": 100_000 if q else 1_000_000, "train_rows": 3_000 if q else 20_000,
             "epochs": 2 if q else 4, "repeats": 1 if q else 2, "predict_rows": 10_000 if q else 100_000, "loop_calls": 20 if q else 100,
             "big_rows": 200_000 if q else 5_000_000, "steps": 10 if q else 100, "cli_repeats": 3 if q else 7,
             "panel_series": 50 if q else 1_000, "panel_rows": 400 if q else 2_000}
    began = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="forecast-bench-"))
    try:
        mach = machine()
        print(f"machine: {mach}", flush=True)
        r = {}
        r["cli"] = bench_cli(sizes["cli_repeats"])
        print(f"cli: {r['cli']}", flush=True)
        r["windowing"] = bench_windowing(sizes["points"], 168, 256)
        print(f"windowing: {r['windowing']}", flush=True)
        make_csv("sine", sizes["train_rows"], tmp / "train.csv")
        r["training"] = bench_training(tmp / "train.csv", tmp / "runs", sizes["epochs"], sizes["repeats"])
        print(f"training: {r['training']}", flush=True)
        make_csv("sine", sizes["predict_rows"], tmp / "predict.csv")
        r["prediction"] = bench_prediction(tmp / "runs" / "bench-lstm", tmp / "predict.csv", tmp / "pred.csv",
                                           sizes["loop_calls"])
        print(f"prediction: {r['prediction']}", flush=True)
        r["panel"] = bench_panel(sizes["panel_series"], sizes["panel_rows"], sizes["steps"], tmp)
        print(f"panel: {r['panel']}", flush=True)
        make_csv("sine", sizes["big_rows"], tmp / "big.csv")
        r["memory"] = bench_memory(tmp / "big.csv", tmp / "runs", sizes["steps"])
        print(f"memory: {r['memory']}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows, notes = table(r, sizes)
    text = markdown(rows, notes, mach, sizes, time.perf_counter() - began)
    print()
    print(text)
    args.out.write_text(text)
    (args.out.with_suffix(".json")).write_text(json.dumps({"sizes": sizes, "machine": mach, "results": r},
                                                          indent=1) + "\n")
    print(f"written: {args.out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in MODES:
        print(json.dumps(MODES[sys.argv[1]](*sys.argv[2:])))
    else:
        main()
