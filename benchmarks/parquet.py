"""A fleet as one long table, read from CSV and from Parquet side by side: the time and peak memory of loading it
as the tool does (every series validated, sorted and checked for one frequency), each read in a fresh process.
Not part of the test suite.

    pip install -e ".[parquet]"
    python benchmarks/parquet.py                 # 1,000 series x 2,000 hourly rows; writes benchmarks/parquet.md
    python benchmarks/parquet.py --series 100    # a smaller fleet
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "parquet.md"
READ = ("import json, resource, sys, time; from forecast.config import DataConfig; from forecast.data import load_panel; "
        "from forecast.csvfile import read_frame; cfg = DataConfig(path=sys.argv[1], id_col='sensor', target='value'); "
        "t = time.perf_counter(); frame = read_frame(cfg.path, cfg); read = time.perf_counter() - t; "
        "loaded = load_panel(cfg, frame); del frame; "
        "seconds = time.perf_counter() - t; print(json.dumps({'read': read, 'seconds': seconds, 'series': len(loaded), "
        "'rows': sum(len(s) for _, s in loaded), 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")


def fleet(series: int, rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    values = (np.sin(2 * np.pi * t / 24)[None, :] * rng.uniform(0.5, 2, (series, 1)) + rng.uniform(0, 10, (series, 1))
              + 0.1 * rng.standard_normal((series, rows)))
    return pd.DataFrame({"time": np.tile(pd.date_range("2024-01-01", periods=rows, freq="h"), series),
                         "sensor": np.repeat([f"s{i:04d}" for i in range(series)], rows),
                         "value": values.reshape(-1).round(4)})


def measure(path: Path) -> dict:
    """Load `path` in a fresh Python: its own timing of load_panel, the process's wall time and peak memory."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    return {**json.loads(done.stdout), "wall": time.perf_counter() - began, "file_mb": path.stat().st_size / 2 ** 20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forecast-parquet-") as tmp:
        frame = fleet(args.series, args.rows)
        csv, parquet = Path(tmp) / "fleet.csv", Path(tmp) / "fleet.parquet"
        frame.to_csv(csv, index=False)
        frame.to_parquet(parquet, index=False)
        del frame
        results = {"Parquet": measure(parquet), "CSV": measure(csv)}
    p, c = results["Parquet"], results["CSV"]
    lines = ["# Parquet against CSV", "",
             f"`python benchmarks/parquet.py`, {time.strftime('%Y-%m-%d')}, CPU. A long table of {args.series:,} "
             f"series x {args.rows:,} hourly rows (time, sensor, value) loaded as `forecast train --id-col sensor` "
             "loads it (`forecast.data.load_panel`: every series validated, sorted, checked for one frequency), each "
             "format in a fresh Python process; peak memory is the process's maximum resident set.", "",
             "| format | file MB | read s | load s (read and every series checked) | process wall s | peak memory MB |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['file_mb']:.1f} | {r['read']:.2f} | {r['seconds']:.2f} | {r['wall']:.2f} | "
                     f"{r['peak_mb']:.0f} |")
    lines += ["", f"- Parquet reads {c['read'] / p['read']:.1f}x faster than CSV and loads {c['seconds'] / p['seconds']:.1f}x "
                  f"faster ({c['wall'] / p['wall']:.1f}x with the process start), and peaks at "
                  f"{p['peak_mb'] / c['peak_mb']:.0%} of CSV's memory; both give {p['series']:,} series of "
                  f"{p['rows']:,} rows in all.", "", "## Machine", "",
              f"- {platform.platform()}, {__import__('os').cpu_count()} cores", f"- python {platform.python_version()}",
              f"- pandas {pd.__version__}, pyarrow {__import__('pyarrow').__version__}", ""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
