"""Inputs beyond CSV content, as an adversarial user or a hostile machine would give them: the environment, special
files, compressed files, names that are not UTF-8, huge fields, damaged run folders, two trainings at once, a full
disk and signals in every command. Each ends in a result or one line, never a traceback, and loses nothing."""

import bz2
import errno
import gzip
import json
import lzma
import math
import os
import signal
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast.cli import app
from tests.conftest import copy_run

runner = CliRunner()
QUICK = ["--cell", "rnn", "--lookback", "10", "--units", "4", "--epochs", "1", "--patience", "0"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")


def one_error(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def sine_rows(n: int = 300) -> str:
    return "y\n" + "".join(f"{math.sin(i / 3):.6f}\n" for i in range(n))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith((".tmp-", ".partial-")))


@pytest.mark.parametrize("backend, message", [
    ("torch", "KERAS_BACKEND is torch, but torch is not installed; install it (pip install torch) or unset "
              "KERAS_BACKEND to use tensorflow"),
    ("thano", "KERAS_BACKEND is 'thano', not a Keras backend this tool can train with; use one of tensorflow, jax, "
              "torch (or unset KERAS_BACKEND for tensorflow)"),
])
def test_a_backend_that_is_not_there_is_one_line_from_every_command(tmp_path, backend, message):
    csv = tmp_path / "y.csv"
    csv.write_text(sine_rows())
    env = {"KERAS_BACKEND": backend}
    for args in (["train", str(csv), "--runs-dir", str(tmp_path / "runs"), "--cell", "all"], ["info"],
                 ["backtest", str(csv), "--out", str(tmp_path / "b.csv")],
                 ["predict", str(tmp_path), str(csv), "--out", str(tmp_path / "p.csv")]):
        assert one_error(runner.invoke(app, args, env=env)) == "Error: " + message, args
    assert list(tmp_path.iterdir()) == [csv]


@pytest.mark.parametrize("packer", [gzip.compress, bz2.compress, lzma.compress, "zip"])
def test_compressed_csvs_read_as_pandas_would(tmp_path, packer):
    from forecast.config import DataConfig
    from forecast.data import load_csv

    text = "t,y\n2024-01-01,1.5\n2024-01-02,2.5\n2024-01-03,4\n"
    path = tmp_path / "d.csv.packed"
    if packer == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("inner.csv", text)
    else:
        path.write_bytes(packer(text.encode()))
    series = load_csv(DataConfig(str(path)))
    assert series.values[:, 0].tolist() == [1.5, 2.5, 4.0] and series.time_col == "t" and series.freq == "D"


def test_a_named_pipe_is_refused_before_it_is_opened(tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)  # opening it would block until a writer comes
    assert one_error(runner.invoke(app, ["train", str(fifo), "--runs-dir", str(tmp_path / "runs")])) == (
        f"Error: {fifo} is a named pipe (FIFO), not a regular file; save the data to a CSV file and pass its path")
    assert one_error(runner.invoke(app, ["datasets", "--dir", str(tmp_path)])).startswith(
        f"Error: none of the 1 CSV files in {tmp_path} can be read; the first: {fifo} is a named pipe (FIFO)")


def test_a_device_is_not_data():
    assert one_error(runner.invoke(app, ["train", "/dev/zero"])) == (
        "Error: /dev/zero is a character device, not a regular file; save the data to a CSV file and pass its path")


def test_messages_cut_huge_fields_and_long_lists(tmp_path):
    path = tmp_path / "wide.csv"
    names = [f"sensor_{i}" for i in range(5000)]
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    line = one_error(runner.invoke(app, ["train", str(path), "--target", "nothing"]))
    assert line.endswith("sensor_10, sensor_11, ... (4,988 more)") and len(line) < 400
    huge = tmp_path / "huge.csv"
    huge.write_text("y\n1\n" + "x" * 1_000_000 + "\n")
    line = one_error(runner.invoke(app, ["train", str(huge)]))
    assert line == (f"Error: column `y` in {huge} has a non-numeric value '{'x' * 59}... (999,942 more characters) at "
                    "row 3 (counting the header as row 1); clean or remove that row")


def test_utf16_text_is_not_called_binary_when_utf16_is_what_the_user_said(tmp_path):
    from forecast.config import DataConfig
    from forecast.data import load_csv

    path = tmp_path / "wide.csv"
    path.write_bytes("y\n1\n2\n3\n".encode("utf-16"))
    assert load_csv(DataConfig(str(path), encoding="utf-16")).values[:, 0].tolist() == [1, 2, 3]


@pytest.mark.slow
def test_compare_and_datasets_skip_what_they_cannot_read(trained, tmp_path):
    runs = tmp_path / "runs"
    for cell in ("rnn", "gru"):
        copy_run(trained.runs / f"sine-{cell}", runs / f"sine-{cell}")
    (runs / "sine-gru" / "metrics.json").write_text("[]")
    result = runner.invoke(app, ["compare", "--runs-dir", str(runs), "--out", str(tmp_path / "c.png")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (f"Warning: skipped a run that cannot be read: run folder {runs / 'sine-gru'} has "
                                     "a malformed file (metrics.json must be a JSON object (it is [])); train it again")
    assert "sine-rnn" in result.stdout and "sine-gru" not in result.stdout and (tmp_path / "c.png").exists()
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "good.csv").write_text(sine_rows(10))
    (folder / "empty.csv").write_text("")
    result = runner.invoke(app, ["datasets", "--dir", str(folder)], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "good.csv" in result.stdout
    assert result.stderr.strip() == (f"Warning: skipped a file that cannot be read: {folder / 'empty.csv'} is empty; "
                                     "it needs a header row and at least one data row")


JSON_FILES = ("config.json", "metrics.json", "scaler.json", "intervals.json")
ODD_VALUES = st.sampled_from([None, True, -1, 0, 1e308, float("nan"), float("inf"), "text", [], {}, [1, 2], 10**30])


def _paths(node, prefix=()):
    """Every key path in a JSON tree."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(file=st.sampled_from(JSON_FILES), pick=st.integers(0, 10**6), value=ODD_VALUES, delete=st.booleans())
def test_a_mutated_run_file_is_read_or_refused_in_one_line(trained, tmp_path_factory, file, pick, value, delete):
    tmp = tmp_path_factory.mktemp("mutated")
    run = copy_run(trained.runs / "sine-lstm", tmp / "run")
    (run / "intervals.json").write_text(json.dumps({"method": "split-conformal", "half_widths": {"0.9": [0.1]}}))
    tree = json.loads((run / file).read_text())
    paths = list(_paths(tree))
    *parent_path, key = paths[pick % len(paths)]
    parent = tree
    for step in parent_path:
        parent = parent[step]
    if delete:
        del parent[key]
    else:
        parent[key] = value
    (run / file).write_text(json.dumps(tree))
    for args in (["predict", str(run), str(trained.csv), "--out", str(tmp / "p.csv")],
                 ["compare", str(run), "--out", str(tmp / "c.png")]):
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 1:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("damage", [("rows", float("inf")), ("split_rows", {"test": [float("inf"), 1]}),
                                    ("split_rows", {"test": [float("nan"), 1]})])
def test_predict_on_a_run_whose_data_description_is_damaged_just_leaves_out_the_in_sample_note(trained, tmp_path,
                                                                                              damage):
    """config.json's `data` only tells predict whether it forecasts the very file the run was trained on (a note);
    an infinite row count once raised OverflowError there (found by the mutation test above)."""
    run = copy_run(trained.runs / "sine-lstm", tmp_path / "run")
    config = json.loads((run / "config.json").read_text())
    config["data"][damage[0]] = damage[1]
    (run / "config.json").write_text(json.dumps(config))
    result = runner.invoke(app, ["predict", str(run), str(trained.csv), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    assert "was trained on" not in result.output and (tmp_path / "p.csv").exists()


def test_no_run_is_published_with_numbers_the_tool_could_not_read_back():
    from forecast.files import non_finite

    assert non_finite({"test": {"model": {"mse": 1.0, "mape": None}}, "by_step": [{"x": 2}]}) is None
    assert non_finite({"test": {"model": {"mse": float("inf")}}}) == "test.model.mse"
    assert non_finite({"by_step": [{"x": 1.0}, {"x": float("nan")}]}) == "by_step.1.x"


def _train(csv: Path, runs: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "forecast", "train", str(csv), "--runs-dir", str(runs), *QUICK,
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


@pytest.mark.slow
def test_two_trainings_started_at_once_with_the_same_default_name_both_finish(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text(sine_rows())
    procs = [_train(csv, tmp_path / "runs", "--epochs", "3") for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["data-rnn", "data-rnn-2"]


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_leaves_nothing_behind(trained, tmp_path, monkeypatch):
    import forecast.runs

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    out = tmp_path / "p.csv"
    line = one_error(runner.invoke(app, ["predict", str(trained.runs / "sine-rnn"), str(trained.csv), "--out",
                                         str(out)]))
    assert line == f"Error: no space left on the device ({tmp_path / 'out'}); free some space and run the command again"
    assert not out.exists() and leftovers(tmp_path) == []
    monkeypatch.undo()
    csv = tmp_path / "data.csv"
    csv.write_text(sine_rows())
    monkeypatch.setattr(forecast.runs, "write_json", disk_full)
    line = one_error(runner.invoke(app, ["train", str(csv), "--runs-dir", str(tmp_path / "runs"), *QUICK]))
    assert line.endswith("free some space and run the command again; an interrupted training continues with the "
                         "same command and --resume")
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [".partial-data-rnn"]  # its checkpoints, to resume


def _signalled(args: list[str], sig: int, after: float, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-m", "forecast", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV, cwd=cwd, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(after)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["predict", "backtest", "compare"])
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "Terminated"), (signal.SIGINT, 130, "Interrupted")])
def test_a_signal_stops_any_command_with_one_line_and_no_partial_output(trained, tmp_path, command, sig, code, word):
    csv = tmp_path / "data.csv"
    csv.write_text(sine_rows(2000))
    runs = tmp_path / "runs"
    # enough runs that comparing them outlasts the signal: a stop that lands in the interpreter's own shutdown, after
    # the output is complete, meets the default handlers that CPython restores there (30 runs took 1.2 s in all)
    for k in range(60):
        copy_run(trained.runs / "sine-rnn", runs / f"run-{k}")
    args = {"predict": ["predict", str(trained.runs / "sine-lstm"), str(trained.csv), "--out", "out.csv"],
            "backtest": ["backtest", str(csv), "--out", "out.csv", "--plot", "out.png", "--folds", "3"],
            "compare": ["compare", "--runs-dir", str(runs), "--out", "out.png"]}[command]
    result = _signalled(args, sig, 0.6, tmp_path)
    assert result.returncode == code, result.stderr
    assert result.stderr.strip().splitlines() == [f"{word}: stopped before finishing; no output was left half-written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "runs"]  # no output
    assert leftovers(tmp_path) == []  # and no temporary file


def test_a_stop_signal_inside_a_weakref_callback_is_still_the_one_line():
    # Python cannot raise from a weakref callback (an import's module lock, in CI): it printed "Exception ignored
    # in: ..." with a traceback, then went on until the boundary raised the remembered stop again
    program = ("import signal, weakref\nfrom forecast import boundary\nclass A: pass\n"
               "with boundary.process(), boundary.user_errors():\n"
               "    a = A()\n    ref = weakref.ref(a, lambda r: boundary._on_sigterm(signal.SIGTERM, None))\n"
               "    del a\n    print('went on')\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=ENV, timeout=60)
    assert (done.returncode, done.stdout) == (143, "went on\n")
    assert done.stderr == "Terminated: stopped before finishing; no output was left half-written\n"


def test_an_output_folder_that_is_a_link_to_nowhere_or_takes_no_files_is_one_line_before_any_work(trained, tmp_path):
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    for option, args in (("--out", ["predict", str(trained.runs / "sine-rnn"), str(trained.csv), "--out",
                                     str(tmp_path / "gone" / "p.csv")]),
                         ("--runs-dir", ["train", str(trained.csv), "--runs-dir", str(tmp_path / "gone"), *QUICK])):
        assert one_error(runner.invoke(app, args)) == (
            f"Error: {option}: {tmp_path / 'gone'} is a link to {tmp_path / 'nowhere'}, which does not exist; "
            "create that folder or choose another location")
    assert [p.name for p in tmp_path.iterdir()] == ["gone"]
    if Path("/proc/self").is_dir():  # a folder that no file can be made in, whatever its permissions say to root
        line = one_error(runner.invoke(app, ["predict", str(trained.runs / "sine-rnn"), str(trained.csv), "--out",
                                             "/proc/p.csv"]))
        assert line.startswith("Error: --out: cannot write into /proc (") and line.endswith("); choose a writable folder")


def test_a_comparison_whose_every_mse_is_zero_plots_without_warnings():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from forecast.plots import plot_test_mse

    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warned of identical low and high ylims on a constant series
        plot_test_mse(ax, ["const-rnn"], [0.0], {"naive": [0.0]}, {"const-rnn": "C0"})
    assert ax.get_ylim() == (0.0, 1.0)
    plt.close(fig)


@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "Terminated"), (signal.SIGINT, 130, "Interrupted")])
def test_a_signal_before_the_command_starts_is_the_same_one_line(sig, code, word):
    # Typer turns a Ctrl-C that lands while it parses the options or a command imports its modules (seconds on a
    # loaded machine) into a silent exit 130; the whole-program boundary answers it instead
    program = ("import os, signal, time, typer\nfrom forecast import boundary\napp = typer.Typer()\n"
               f"@app.command()\ndef go():\n    os.kill(os.getpid(), {int(sig)})\n    time.sleep(30)\n"
               "with boundary.process():\n    app()\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=ENV, timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # xdist workers ignore it
    assert (done.returncode, done.stdout) == (code, "")
    assert done.stderr == f"{word}: stopped before finishing; no output was left half-written\n"


@pytest.mark.slow
def test_names_that_are_not_utf8_reach_every_output_escaped(tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9-\xff.csv"
    time = pd.date_range("2024-01-01", periods=300, freq="h").strftime("%Y-%m-%d %H:%M")
    pd.DataFrame({"timestamp": time, "value": np.sin(np.arange(300) / 3)}).to_csv(os.fsdecode(name), index=False)
    forecast = [sys.executable.encode(), b"-m", b"forecast"]
    runs = os.fsencode(tmp_path) + b"/runs"
    for args in ([b"train", name, b"--runs-dir", runs, *map(str.encode, QUICK)],
                 [b"compare", b"--runs-dir", runs, b"--out", os.fsencode(tmp_path) + b"/c\xfe.png"],
                 [b"predict", runs + b"/caf\xe9-\xff-rnn", name, b"--out", os.fsencode(tmp_path) + b"/p\xfe.csv",
                  b"--plot", os.fsencode(tmp_path) + b"/p\xfe.png"]):
        proc = subprocess.run([*forecast, *args], capture_output=True, env=ENV, timeout=300)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        assert b"caf\\" in proc.stdout and b"Traceback" not in proc.stderr  # the name printed, escaped
    made = set(os.listdir(os.fsencode(tmp_path)))
    assert {b"c\xfe.png", b"p\xfe.csv", b"p\xfe.png"} <= made


def test_row_counts_for_any_lookback_are_computed_not_searched():
    from forecast.config import DataConfig, WindowConfig
    from forecast.errors import DataError
    from forecast.split import _split_ok, _split_rows, split_series

    for v, t, lookback, horizon, n in [(0.15, 0.2, 6, 21, 26), (0.1, 0.05, 80, 40, 3), (0.3, 0.01, 1, 1, 2),
                                       (0.15, 0.15, 10**9, 1, 50)]:
        window, cfg = WindowConfig(lookback, horizon), DataConfig("x", val_frac=v, test_frac=t)
        with pytest.raises(DataError) as caught:
            split_series(n, cfg, window)
        need = int(str(caught.value).split("use at least ")[1].split(" rows")[0])
        assert _split_ok(_split_rows(need, v, t), window) and not _split_ok(_split_rows(need - 1, v, t), window)
        if lookback < 100:  # the smallest such count, by brute force
            assert need == next(k for k in range(n, 10**5) if _split_ok(_split_rows(k, v, t), window))


def test_scaled_values_that_float32_cannot_hold_are_refused(tmp_path):
    from forecast.config import DataConfig, Normalize, WindowConfig
    from forecast.errors import DataError
    from forecast.prepare import prepare

    path = tmp_path / "x.csv"
    pd.DataFrame({"y": 1e12 + np.arange(300.0)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="cannot be scaled precisely in float32"):
        prepare(DataConfig(str(path), normalize=Normalize.window), WindowConfig(10, 1))
    assert np.isfinite(prepare(DataConfig(str(path), normalize=Normalize.global_), WindowConfig(10, 1)).scaled).all()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["compare", "backtest", "datasets make"])
def test_a_full_disk_in_any_command_that_writes(trained, tmp_path, monkeypatch, command):
    from matplotlib.figure import Figure

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    monkeypatch.setattr(Figure, "savefig", disk_full)
    csv = tmp_path / "data.csv"
    csv.write_text(sine_rows())
    args = {"compare": ["compare", "--runs-dir", str(trained.runs), "--out", str(tmp_path / "c.png")],
            "backtest": ["backtest", str(csv), *QUICK, "--folds", "1", "--out", str(tmp_path / "b.csv"), "--plot",
                         str(tmp_path / "b.png")],
            "datasets make": ["datasets", "make", "sine", "--out", str(tmp_path / "s.csv")]}[command]
    line = one_error(runner.invoke(app, args))
    assert line == "Error: no space left on the device; free some space and run the command again"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_a_folder_that_cannot_be_written_is_named_before_any_work(tmp_path, monkeypatch):
    csv = tmp_path / "data.csv"
    csv.write_text(sine_rows())
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked else real_access(p, mode))
    for args, option in ((["train", str(csv), "--runs-dir", str(locked / "runs")], "--runs-dir"),
                         (["backtest", str(csv), "--out", str(locked / "b.csv")], "--out"),
                         (["datasets", "make", "sine", "--out", str(locked / "s.csv")], "--out")):
        assert one_error(runner.invoke(app, args)) == (
            f"Error: {option}: cannot write into {locked} (permission denied); choose a writable folder")
    assert list(locked.iterdir()) == []


@pytest.mark.slow
def test_library_warnings_never_reach_the_user(tmp_path):
    path = tmp_path / "station.csv"
    pd.DataFrame({"温度": np.sin(np.arange(300) / 3)}).to_csv(path, index=False)  # glyphs the plot font lacks
    proc = subprocess.run([sys.executable, "-m", "forecast", "train", str(path), "--runs-dir", str(tmp_path / "runs"),
                           *QUICK], capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # pytest would capture warnings in-process: this is what a user's terminal gets
    assert (tmp_path / "runs" / "station-rnn" / "forecast.png").exists()


def test_compressed_files_are_listed_and_named_like_their_csv(tmp_path):
    from forecast.runs import data_stem

    assert [data_stem(p) for p in ("a/sine.csv.gz", "sine.csv", "x.y.csv.zip", "prices.txt", "data")] == [
        "sine", "sine", "x.y", "prices", "data"]
    (tmp_path / "sine.csv.gz").write_bytes(gzip.compress(sine_rows(30).encode()))
    result = runner.invoke(app, ["datasets", "--dir", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "sine.csv.gz" in result.stdout and " 30 " in result.stdout
