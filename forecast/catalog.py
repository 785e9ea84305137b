"""The commands about the machine and the data, without Typer: `info` (versions and devices), `datasets` (the CSV
files of a folder) and `datasets make` (a synthetic series). Each returns the document --json prints."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from forecast.commands import warn
from forecast.config import DeviceChoice
from forecast.errors import ForecastError

MAX_ROWS = 10_000_000  # datasets make --rows: about 300 MB of CSV


def info() -> dict:
    """Versions, the Keras backend and the devices it can use."""
    from forecast.backend import gpu_names, start_backend, versions
    from forecast.report import console

    start_backend(DeviceChoice.auto)
    out = console()
    for key, value in versions().items():
        out.print(f"{key:>11}: {value}")
    gpus = gpu_names()
    out.print(f"{'devices':>11}: {', '.join(gpus) if gpus else 'CPU only'}")
    return {"command": "info", "versions": versions(), "devices": gpus}


def list_datasets(folder: Path) -> dict:
    from forecast import report
    from forecast.datasets import describe_csv

    from forecast.csvfile import CSV_NAMES

    files = sorted(p for p in folder.iterdir() if p.name.lower().endswith(CSV_NAMES)) if folder.is_dir() else []
    if not files:
        raise ForecastError(f"no CSV files in {folder}; run from the project folder or pass --dir")
    rows, skipped = [], []
    for file in files:  # one unreadable file does not hide the others
        try:
            rows.append(describe_csv(file))
        except ForecastError as exc:
            skipped.append(exc)
    if not rows:
        raise ForecastError(f"none of the {len(files)} CSV files in {folder} can be read; the first: {skipped[0]}")
    warn([f"skipped a file that cannot be read: {exc}" for exc in skipped])
    report.datasets_table(report.console(), folder, rows)
    return {"command": "datasets", "folder": folder, "files": [dataclasses.asdict(row) for row in rows]}


def make_dataset(kind: str, out_csv: Path, rows: int, noise: float, period: int, drift: float, seed: int,
                 series: int = 1) -> dict:
    if rows < 2 or period < 2 or not 0 <= noise < math.inf or series < 1:
        raise ForecastError("--rows and --period must be at least 2, --noise at least 0 and --series at least 1")
    if not math.isfinite(drift):
        raise ForecastError(f"--drift must be a finite number (got {drift}); it is the change per row")
    if series > 1 and kind != "sensors":
        raise ForecastError(f"--series {series} makes a fleet of sensors; {kind} is one series: drop --series, or "
                            "make sensors")
    if rows * series > MAX_ROWS:
        raise ForecastError(f"--rows x --series must be at most {MAX_ROWS:,} (got {rows * series:,}); larger "
                            "synthetic data belongs in a script of your own")
    import numpy as np

    from forecast.datasets import make_sensors, make_series
    from forecast.files import check_output, write_csv

    check_output(out_csv, "--out")
    from forecast.report import console

    with np.errstate(over="ignore", invalid="ignore"):
        table = (make_sensors(series, rows, noise, seed, period) if kind == "sensors" else
                 make_series(kind, rows, noise, seed, period, drift))
    if not np.isfinite(table.select_dtypes("number").to_numpy(dtype=np.float64)).all():
        raise ForecastError(f"--noise {noise:g} and --drift {drift:g} over {rows:,} rows reach values beyond the "
                            "floating-point range; choose smaller ones")
    write_csv(out_csv, table)
    console().print(f"wrote {len(table)} rows to {out_csv}" + (f" ({series} sensors)" if kind == "sensors" else ""))
    return {"command": "datasets make", "kind": kind, "out": out_csv, "rows": len(table), "series": series}
