"""Shared fixtures: small synthetic CSVs in tmp_path. Keras' environment is set before anything imports it."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def pytest_xdist_auto_num_workers(config):
    """pyproject's `-n auto`: a worker per core this process may use, at most 8 (each loads TensorFlow, and some tests
    start processes of their own). On 2 cores the suite took 9-12 minutes so, 15 in one process (measured
    2026-12-01); `-n 0` runs it in this process (one test, a debugger)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, 8))


KERAS_BEFORE = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    item.stash[KERAS_BEFORE] = "keras" in sys.modules  # before its fixtures too: a trained run loads Keras
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """The unit tier (tests not marked slow) never loads Keras, in its fixtures or its body: a test that does is
    marked slow, or mends its code. Judged only where Keras was not loaded before the test (a slow test earlier in
    this worker loads it for good; `-m "not slow"` judges every test)."""
    outcome = yield
    newly = not item.stash.get(KERAS_BEFORE, True) and "keras" in sys.modules
    if newly and item.get_closest_marker("slow") is None and outcome.excinfo is None:
        pytest.fail(f"{item.nodeid} is not marked slow but loaded Keras; mark it slow, or keep Keras out of its path",
                    pytrace=False)


def cli_ok(*args):
    """Run the CLI in-process (wide terminal, exceptions raised) and require exit code 0."""
    from typer.testing import CliRunner

    from forecast.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result


# A tiny, quick configuration that still learns a clean sine wave.
TINY = ["--lookback", "20", "--units", "8", "--epochs", "12", "--batch-size", "32", "--learning-rate", "0.01",
        "--patience", "0"]


@dataclass(frozen=True)
class Trained:
    csv: Path  # the clean sine wave the runs were trained on
    runs: Path  # runs/sine-rnn, runs/sine-lstm, runs/sine-gru
    stdout: str  # what `forecast train` printed


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """`forecast train --cell all` once for the whole suite, on a clean sine wave (400 hourly rows, period 20),
    shared by the xdist workers (the first to ask trains, under a lock; the others wait and read). Tests read these
    runs; a test that changes one works on a copy (copy_run)."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    tmp = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "trained"
    tmp.mkdir(exist_ok=True)
    with (tmp / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        csv, printed = tmp / "sine.csv", tmp / "stdout.txt"
        if not printed.exists():
            t = np.arange(400)
            time = pd.date_range("2024-01-01", periods=400, freq="h").strftime("%Y-%m-%d %H:%M")
            write_csv(csv, pd.DataFrame({"timestamp": time, "value": np.sin(2 * np.pi * t / 20)}))
            stdout = cli_ok("train", csv, "--cell", "all", "--runs-dir", tmp / "runs", *TINY).stdout
            printed.write_text(stdout)
    return Trained(csv=csv, runs=tmp / "runs", stdout=printed.read_text())


def copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def sine_csv(tmp_path: Path) -> Path:
    """A clean sine wave, period 20, hourly, 400 rows: easy for any cell, hard for the naive forecast."""
    t = np.arange(400)
    time = pd.date_range("2024-01-01", periods=400, freq="h").strftime("%Y-%m-%d %H:%M")
    return write_csv(tmp_path / "sine.csv", pd.DataFrame({"timestamp": time, "value": np.sin(2 * np.pi * t / 20)}))


@pytest.fixture
def multi_csv(tmp_path: Path) -> Path:
    """Several numeric columns, no time column."""
    rng = np.random.default_rng(0)
    n = 300
    x = np.cumsum(rng.standard_normal(n))
    return write_csv(tmp_path / "multi.csv", pd.DataFrame({"sales": x, "price": x * 0.5 + 3, "units": np.arange(n)}))
