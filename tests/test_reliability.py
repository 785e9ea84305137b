"""Interrupted, killed and resumed trainings; safe loading; same seed, same numbers; numeric extremes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast import __version__
from forecast.config import SCHEMA_VERSION
from tests.conftest import cli_ok as _ok
from tests.conftest import copy_run

runner = CliRunner()
ARGS = ["--cell", "gru", "--lookback", "20", "--units", "8", "--epochs", "8", "--batch-size", "16",
        "--learning-rate", "0.01", "--patience", "3", "--seed", "3"]


def _sine(path: Path, n: int = 600) -> Path:
    t = np.arange(n)
    value = np.sin(2 * np.pi * t / 20) + 0.1 * np.random.default_rng(0).standard_normal(n)
    pd.DataFrame({"value": value}).to_csv(path, index=False)
    return path


def _train(csv: Path, runs: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    # A shell may start background jobs with SIGINT ignored; give the child the default, as a terminal would.
    return subprocess.Popen([sys.executable, "-m", "forecast", "train", str(csv), "--runs-dir", str(runs), *ARGS,
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_epochs(partial: Path, epochs: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    meta = partial / "backup" / "training_metadata.json"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"training ended before it could be interrupted: {proc.communicate()}")
        try:
            if json.loads(meta.read_text())["epoch"] >= epochs:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    pytest.fail("training made no progress")


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_uninterrupted_result(tmp_path):
    csv = _sine(tmp_path / "data.csv")
    # the reference: one uninterrupted training
    ref = _train(csv, tmp_path / "ref")
    out, err = ref.communicate(timeout=300)
    assert ref.returncode == 0, err
    # the same training, killed with SIGKILL after its second epoch, then resumed
    runs = tmp_path / "runs"
    proc = _train(csv, runs)
    _wait_for_epochs(runs / ".partial-data-gru", 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # reap it and close its pipes
    assert [p.name for p in runs.iterdir()] == [".partial-data-gru"]  # no run folder, only the checkpoint
    resumed = _train(csv, runs, "--resume")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert sorted(p.name for p in runs.iterdir()) == ["data-gru"]  # complete, checkpoint gone
    history = pd.read_csv(runs / "data-gru" / "history.csv")
    reference = pd.read_csv(tmp_path / "ref" / "data-gru" / "history.csv")
    assert history["epoch"].tolist() == reference["epoch"].tolist()  # same number of epochs, each once
    np.testing.assert_allclose(history["val_loss"], reference["val_loss"], rtol=1e-4)  # same batches, same state
    metrics = json.loads((runs / "data-gru" / "metrics.json").read_text())
    ref_metrics = json.loads((tmp_path / "ref" / "data-gru" / "metrics.json").read_text())
    assert metrics["epochs_run"] == ref_metrics["epochs_run"] and metrics["best_epoch"] == ref_metrics["best_epoch"]
    result = runner.invoke(app, ["predict", str(runs / "data-gru"), str(csv), "--out", str(tmp_path / "p.csv")],
                           catch_exceptions=False)
    assert result.exit_code == 0 and len(pd.read_csv(tmp_path / "p.csv")) == 600 - 19


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "Terminated"), (signal.SIGINT, 130, "Interrupted")])
def test_a_signal_exits_with_one_line_and_publishes_nothing(tmp_path, sig, code, word):
    csv = _sine(tmp_path / "data.csv")
    runs = tmp_path / "runs"
    proc = _train(csv, runs)
    _wait_for_epochs(runs / ".partial-data-gru", 1, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.strip().splitlines() == [f"{word}: no run was published (cells already trained wait with their "
                                        "checkpoints); continue the training with the same command and --resume"]
    assert "Traceback" not in err
    assert [p.name for p in runs.iterdir()] == [".partial-data-gru"]
    # a plain re-run does not silently throw the interrupted training away
    again = runner.invoke(app, ["train", str(csv), "--runs-dir", str(runs), *ARGS])
    assert again.exit_code == 1
    assert again.stderr.strip() == (f"Error: {runs / '.partial-data-gru'} holds an interrupted training of data-gru; "
                                    "continue it with --resume, or delete that folder to start over")
    changed = runner.invoke(app, ["train", str(csv), "--runs-dir", str(runs), *ARGS, "--units", "4", "--resume"])
    assert changed.exit_code == 1
    assert changed.stderr.startswith("Error: the interrupted training of data-gru used --units 8, not 4;")


def test_a_stop_signal_that_a_library_swallowed_still_stops_the_command(tmp_path, capsys):
    # matplotlib's optional import of its 3D axes catches every exception: a SIGTERM landing there became a warning
    # and `compare` went on to write its figure and exit 0 (seen once in CI)
    from forecast.boundary import Terminated, user_errors
    from forecast.files import write_csv
    from forecast.interrupts import stop_signal

    def swallowed() -> None:
        try:
            stop_signal(Terminated())  # what the SIGTERM handler raises
        except BaseException:  # a library that turns it into its own exception and carries on
            pass

    out = tmp_path / "out.csv"
    for writes in (True, False):  # stopped at the next file it would publish, or at the command's end
        with pytest.raises(SystemExit) as stop, user_errors():
            swallowed()
            if writes:
                write_csv(out, pd.DataFrame({"a": [1]}))
        assert stop.value.code == 143
        assert capsys.readouterr().err == "Terminated: stopped before finishing; no output was left half-written\n"
        assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary
    write_csv(out, pd.DataFrame({"a": [1]}))  # answered once: the next command writes as usual
    assert out.exists()


def test_ctrl_c_that_a_library_turned_into_another_exception_still_exits_130(capsys):
    # a KeyboardInterrupt landing in Keras' import of optree came out as `ImportError: ... you need to have optree
    # installed`: a traceback and exit 1 (seen once on a loaded machine)
    from forecast.boundary import user_errors
    from forecast.interrupts import deferred_interrupt, on_interrupt

    def keras_import() -> None:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
        except KeyboardInterrupt:
            raise ImportError("To use Keras, you need to have `optree` installed.") from None

    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal gives it
    try:
        with pytest.raises(SystemExit) as stop, user_errors():
            keras_import()
        assert stop.value.code == 130
        assert capsys.readouterr().err == "Interrupted: stopped before finishing; no output was left half-written\n"
        assert signal.getsignal(signal.SIGINT) is on_interrupt
        with deferred_interrupt():  # our own handler is still Python's own for a fit: held, restored after
            assert signal.getsignal(signal.SIGINT) is not on_interrupt
        assert signal.getsignal(signal.SIGINT) is on_interrupt
        with pytest.raises(ImportError), user_errors():  # answered: the same exception without a signal is a bug
            raise ImportError("To use Keras, you need to have `optree` installed.")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job: Ctrl-C is not ours to answer
        with pytest.raises(ImportError), user_errors():
            raise ImportError("no optree")
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_ctrl_c_during_a_fit_is_held_for_our_own_code_to_raise():
    before = signal.getsignal(signal.SIGINT)
    # Python's own Ctrl-C handler, as a terminal gives it (a shell may start background jobs with SIGINT ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _held_then_raised()
    finally:
        signal.signal(signal.SIGINT, before)


def test_ctrl_c_that_lands_in_code_run_from_a_string_still_exits_130(tmp_path):
    # an import defining a dataclass runs code from a string: CPython then remembers the KeyboardInterrupt and,
    # under `python -m`, ended the process by SIGINT (-2) after the boundary had printed its line
    (tmp_path / "interrupted.py").write_text("from forecast.boundary import user_errors\n"
                                             "with user_errors():\n    exec('raise KeyboardInterrupt')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(Path(__file__).parents[1])]))
    proc = subprocess.run([sys.executable, "-m", "interrupted"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 130
    assert proc.stderr == "Interrupted: stopped before finishing; no output was left half-written\n"


def _held_then_raised() -> None:
    from forecast.callbacks import StopOnInterrupt
    from forecast.interrupts import deferred_interrupt

    with pytest.raises(KeyboardInterrupt), deferred_interrupt() as stop:
        os.kill(os.getpid(), signal.SIGINT)  # held: the block goes on
        time.sleep(0.01)
        assert stop.is_set()
        with deferred_interrupt() as inner:  # a nested block (a fit inside a search) shares the event
            assert inner is stop
        with pytest.raises(KeyboardInterrupt):
            StopOnInterrupt(stop).on_train_batch_end(0)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt), deferred_interrupt() as stop:  # a second Ctrl-C raises at once
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        pytest.fail("the second Ctrl-C was held too")
    with deferred_interrupt() as stop:  # nothing pressed: nothing raised
        StopOnInterrupt(stop).on_epoch_end(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a parallel worker: Ctrl-C is its parent's
    with deferred_interrupt() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
    assert not stop.is_set()


@pytest.mark.slow
def test_parallel_cells_stop_together_and_resume(tmp_path):
    """Stopped by SIGTERM, resumed, stopped again by Ctrl-C (SIGINT) in the resumed training, resumed to the end:
    each stop ends every worker and publishes nothing, and each resume continues every cell where it stopped."""
    import fcntl

    csv = _sine(tmp_path / "data.csv")
    runs = tmp_path / "runs"
    # 20 epochs without early stopping: a worker that started late still finds the other one training (with 8 and
    # patience 3, a loaded machine once saw the LSTM finish before the GRU's first epoch)
    more = ("--epochs", "20", "--patience", "0")
    resume: tuple[str, ...] = ()
    for sig, code, word in ((signal.SIGTERM, 143, "Terminated"), (signal.SIGINT, 130, "Interrupted")):
        reached = {cell: _checkpoint_epoch(runs / f".partial-data-{cell}") if resume else 0 for cell in ("gru", "lstm")}
        proc = _train(csv, runs, "--cell", "lstm", "--parallel", "on", *more, *resume)
        for cell in ("gru", "lstm"):  # each worker trains (again): an epoch past where it stopped
            _wait_for_epochs(runs / f".partial-data-{cell}", reached[cell] + 1, proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == code, err
        assert "2 cells in parallel processes" in out
        assert err.strip().splitlines() == [f"{word}: no run was published (cells already trained wait with their "
                                            "checkpoints); continue the training with the same command and --resume"]
        assert sorted(p.name for p in runs.iterdir()) == [".partial-data-gru", ".partial-data-lstm"]
        for cell in ("gru", "lstm"):  # every worker is gone: nobody holds the checkpoint locks any more
            with (runs / f".partial-data-{cell}" / "lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        resume = ("--resume",)
    resumed = _train(csv, runs, "--cell", "lstm", "--parallel", "on", *more, *resume)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0 and err == "", err
    assert sorted(p.name for p in runs.iterdir()) == ["data-gru", "data-lstm"]
    for cell in ("gru", "lstm"):
        history = pd.read_csv(runs / f"data-{cell}" / "history.csv")
        assert history["epoch"].tolist() == list(range(1, len(history) + 1))


def _checkpoint_epoch(partial: Path) -> int:
    return json.loads((partial / "backup" / "training_metadata.json").read_text())["epoch"]


@pytest.mark.slow
def test_workers_stop_when_their_parent_is_killed(tmp_path):
    """SIGKILL (or the out-of-memory killer) gives the parent no chance to stop its workers: they notice at the
    next epoch and exit, instead of training on for nobody."""
    import fcntl

    csv = _sine(tmp_path / "data.csv")
    runs = tmp_path / "runs"
    proc = _train(csv, runs, "--cell", "lstm", "--parallel", "on", "--epochs", "500", "--patience", "0")
    _wait_for_epochs(runs / ".partial-data-gru", 1, proc)
    proc.kill()
    proc.communicate(timeout=60)
    deadline = time.time() + 60
    locked = ["gru", "lstm"]
    while locked and time.time() < deadline:
        time.sleep(0.2)
        for cell in list(locked):  # a worker alive holds its checkpoint lock
            with (runs / f".partial-data-{cell}" / "lock").open("w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    locked.remove(cell)
                except BlockingIOError:
                    pass
    assert not locked, f"workers of {locked} kept training after their parent was killed"


@pytest.mark.slow
def test_an_error_in_a_parallel_cell_is_one_line(tmp_path):
    csv = _sine(tmp_path / "data.csv", 300)
    result = runner.invoke(app, ["train", str(csv), "--runs-dir", str(tmp_path / "runs"), "--cell", "rnn", "--cell",
                                 "gru", "--parallel", "on", "--lookback", "10", "--units", "4", "--epochs", "3",
                                 "--learning-rate", "1e30"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: training diverged: the loss became NaN or infinite in epoch 1; lower "
                                     "--learning-rate (it is 1e+30) or scale the target down (e.g. change its units)")
    assert list((tmp_path / "runs").iterdir()) == []


QUICK = ["--lookback", "10", "--units", "4", "--epochs", "2", "--batch-size", "32", "--patience", "0"]


@pytest.mark.slow
def test_a_model_carrying_code_is_refused_and_never_runs(trained, tmp_path):
    import keras

    run, csv = trained.runs / "sine-lstm", trained.csv
    evil = copy_run(run, tmp_path / "evil")
    marker = tmp_path / "pwned"
    inp = keras.Input((10, 1))
    x = keras.layers.Lambda(lambda t, m=str(marker): (__import__("pathlib").Path(m).touch(), t)[1])(inp)
    keras.Model(inp, keras.layers.Dense(1)(keras.layers.LSTM(4)(x))).save(evil / "model.keras")
    marker.unlink(missing_ok=True)  # building the model ran the lambda once; loading must not
    result = runner.invoke(app, ["predict", str(evil), str(csv), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 1 and not marker.exists() and not (tmp_path / "p.csv").exists()
    assert result.stderr.strip() == (f"Error: {evil / 'model.keras'} contains layers that forecast never builds "
                                     "(Lambda); refused to load it, since such a layer can run arbitrary code; "
                                     "train the run again")
    # and Keras' safe mode is on underneath, should the layer check ever be bypassed
    from forecast import artifacts

    artifacts.ALLOWED_LAYERS.add("Lambda")
    try:
        result = runner.invoke(app, ["predict", str(evil), str(csv), "--out", str(tmp_path / "p.csv")])
    finally:
        artifacts.ALLOWED_LAYERS.discard("Lambda")
    assert result.exit_code == 1 and not marker.exists()
    assert "contains code that Keras' safe mode refuses to run; refused to load it" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("damage, message", [
    (lambda run: (run / "model.keras").write_bytes((run / "model.keras").read_bytes()[:200]),
     "model.keras is not a Keras model file (not a zip archive: truncated or corrupted); train the run again"),
    (lambda run: (run / "scaler.json").write_text('{"normalize": "global", "columns": ["value"], "mean": [0], "std": [0]}'),
     "has a malformed file (ValueError: scaler.json has a non-finite mean or a non-positive std); train it again"),
    (lambda run: (run / "scaler.json").write_text('{"normalize": "global", "columns": ["value"], "mean": [0], '
                                                  '"std": [1e308], "train_range": [-1, 1]}'),
     "has a malformed file (ValueError: scaler.json's target mean 0 and std 1e+308 do not fit its train_range [-1, 1])"
     "; train it again"),
    (lambda run: (run / "config.json").write_text((run / "config.json").read_text().replace(
        f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 99')),
     f"has schema version 99 (written by forecast {__version__}), this forecast reads {SCHEMA_VERSION}; train it "
     "again with this version: forecast train --config "),
    (lambda run: (run / "metrics.json").write_text("{not json"),
     "metrics.json cannot be read as JSON"),
])
def test_damaged_runs_get_the_tools_own_error(trained, tmp_path, damage, message):
    run, csv = trained.runs / "sine-lstm", trained.csv
    bad = copy_run(run, tmp_path / "bad")
    damage(bad)
    result = runner.invoke(app, ["predict", str(bad), str(csv), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr


@pytest.mark.slow
def test_same_seed_same_numbers(tmp_path):
    csv = _sine(tmp_path / "data.csv", 300)
    for name in ("a", "b"):
        _ok("train", csv, "--runs-dir", tmp_path / "runs", "--cell", "gru", "--name", name, *QUICK)
        _ok("predict", tmp_path / "runs" / name, csv, "--out", tmp_path / f"{name}.csv")
    a, b = (json.loads((tmp_path / "runs" / n / "metrics.json").read_text())["test"] for n in ("a", "b"))
    assert a == b
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


@pytest.mark.slow
def test_nan_loss_stops_with_the_epoch_and_a_fix(tmp_path):
    csv = _sine(tmp_path / "data.csv", 300)
    result = runner.invoke(app, ["train", str(csv), "--runs-dir", str(tmp_path / "runs"), "--cell", "rnn",
                                 "--lookback", "10", "--units", "4", "--epochs", "3", "--learning-rate", "1e30"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("Error: training diverged: the loss became NaN or infinite in epoch 1; lower "
                                     "--learning-rate (it is 1e+30) or scale the target down (e.g. change its units)")
    assert list((tmp_path / "runs").iterdir()) == []  # neither a run nor a checkpoint is left


@pytest.mark.slow
@pytest.mark.parametrize("scale, offset", [(1e12, 5e12), (1e-9, 0.0), (0.0, 7.0)])
def test_extreme_and_constant_series_train_without_nan(tmp_path, scale, offset):
    n = 300
    value = offset + scale * np.sin(2 * np.pi * np.arange(n) / 20)
    pd.DataFrame({"value": value}).to_csv(tmp_path / "x.csv", index=False)
    _ok("train", tmp_path / "x.csv", "--runs-dir", tmp_path / "runs", "--cell", "gru", *QUICK)
    metrics = json.loads((tmp_path / "runs" / "x-gru" / "metrics.json").read_text())["test"]
    assert all(np.isfinite(metrics[p][k]) for p in ("model",) for k in ("mse", "rmse", "mae", "smape"))
    assert all(np.isfinite(metrics["baselines"]["naive"][k]) for k in ("mse", "rmse", "mae"))
    if scale == 0:  # a constant series: both forecasts exact, scores zero, not NaN
        assert metrics["baselines"]["naive"]["mse"] == 0 and metrics["model"]["mse"] < 1e-6
    else:  # errors come back in the series' own units
        assert metrics["baselines"]["naive"]["rmse"] == pytest.approx(scale * 2 * np.sin(np.pi / 20) / np.sqrt(2), rel=0.05)


def test_a_name_being_trained_elsewhere_is_refused(tmp_path):
    import fcntl

    csv = _sine(tmp_path / "data.csv", 300)
    partial = tmp_path / "runs" / ".partial-busy"
    partial.mkdir(parents=True)
    with (partial / "lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a concurrent `forecast train --name busy` would hold it
        result = runner.invoke(app, ["train", str(csv), "--runs-dir", str(tmp_path / "runs"), "--name", "busy",
                                     *QUICK])
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: another training is writing busy right now ({partial}); wait for it "
                                     "to finish or pass another --name")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [".partial-busy"]


@pytest.mark.slow
def test_default_names_never_clobber(tmp_path):
    csv = _sine(tmp_path / "data.csv", 300)
    for _ in range(2):
        _ok("train", csv, "--runs-dir", tmp_path / "runs", "--cell", "rnn", *QUICK)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["data-rnn", "data-rnn-2"]


@pytest.mark.slow
def test_a_first_checkpoint_cut_off_mid_write_restarts_instead_of_crashing(tmp_path):
    """Killed while writing epoch 1's checkpoint: no earlier copy exists, so the training starts over."""
    from forecast.config import Cell, ModelConfig, TrainConfig, WindowConfig
    from forecast.models import build_model
    from forecast.training import fit_model
    from forecast.windows import Windows, part_origins

    values = np.sin(np.arange(200) / 3).astype(np.float32)[:, None]
    train = Windows(values, 8, 1, part_origins((0, 150), 8, 1))
    val = Windows(values, 8, 1, part_origins((150, 200), 8, 1))
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)  # a cut-off HDF5 file
    (backup / "training_metadata.json").write_text('{"epoch": 1, "batch": -1}')
    model = build_model(ModelConfig(Cell.gru, units=4), WindowConfig(8, 1), 1, 1e-2)
    fit = fit_model(model, train, val, TrainConfig(epochs=2, batch_size=32, patience=0), state_dir=tmp_path)
    assert fit.history["epoch"].tolist() == [1, 2]


@pytest.mark.slow
def test_a_compare_during_a_group_of_cells_never_sees_a_run_without_its_final_metrics(tmp_path, monkeypatch):
    """Every cell of a command is published once, after the last one trained, with the group's ensemble,
    recommendation and advice already in its metrics.json: a `compare` (or any reader) started meanwhile sees no
    run of the group, then every run whole. A run folder never changes after it is published."""
    import forecast
    import forecast.training
    from forecast import artifacts

    csv = _sine(tmp_path / "data.csv", 300)
    runs = tmp_path / "runs"
    seen, real = [], forecast.training.train_cell

    def train_cell(prep, cfg, *args, **kwargs):  # what a reader finds as each cell starts training
        seen.append([(p.name, json.loads((p / "metrics.json").read_text())) for p in artifacts.list_runs(runs)])
        return real(prep, cfg, *args, **kwargs)

    monkeypatch.setattr(forecast.training, "train_cell", train_cell)
    trained = forecast.train(csv, cell=["rnn", "gru", "lstm"], runs_dir=runs, parallel="off", epochs=2, units=4,
                             verbose=False)
    assert seen == [[], [], []]  # two cells finished while the third trained, and no reader saw either
    stamps = {}
    for run in trained:
        metrics = json.loads((run.path / "metrics.json").read_text())
        assert {"ensemble", "recommended", "advice"} <= set(metrics)
        stamps[run.name] = (run.path / "metrics.json").stat().st_mtime_ns
    assert sorted(p.name for p in runs.iterdir()) == ["data-gru", "data-lstm", "data-rnn"]  # no partial folder left
    # --resume of a complete command publishes nothing again and rewrites nothing
    forecast.train(csv, cell=["rnn", "gru", "lstm"], runs_dir=runs, parallel="off", epochs=2, units=4, resume=True,
                   verbose=False)
    assert {run.name: (run.path / "metrics.json").stat().st_mtime_ns for run in trained} == stamps


@pytest.mark.slow
def test_a_cell_trained_before_an_interrupt_waits_for_resume_and_is_published_with_its_group(tmp_path, monkeypatch):
    import forecast
    import forecast.training

    csv = _sine(tmp_path / "data.csv", 300)
    runs = tmp_path / "runs"
    real = forecast.training.train_cell

    def stopped_at_the_second(prep, cfg, *args, **kwargs):
        if cfg.model.cell.value == "gru":
            raise KeyboardInterrupt
        return real(prep, cfg, *args, **kwargs)

    monkeypatch.setattr(forecast.training, "train_cell", stopped_at_the_second)
    options = dict(cell=["rnn", "gru"], runs_dir=runs, parallel="off", epochs=2, units=4, verbose=False)
    with pytest.raises(KeyboardInterrupt):
        forecast.train(csv, **options)
    assert sorted(p.name for p in runs.iterdir()) == [".partial-data-gru", ".partial-data-rnn"]
    assert (runs / ".partial-data-rnn" / "finished" / "metrics.json").is_file()  # trained, not published
    # a plain re-run under that name is told, before training anything, that the cell waits for --resume
    with pytest.raises(forecast.ForecastError, match=r"^data-rnn is trained and waits for the other cells of its "
                                                     r"command \(.*\): another training is running, or one was "
                                                     r"interrupted; continue it with --resume, or pass another --name$"):
        forecast.train(csv, **{**options, "name": "data"})
    monkeypatch.setattr(forecast.training, "train_cell", real)
    resumed = forecast.train(csv, **options, resume=True)
    assert [r.name for r in resumed] == ["data-rnn", "data-gru"]
    assert sorted(p.name for p in runs.iterdir()) == ["data-gru", "data-rnn"]
    for run in resumed:  # published once, with the group's recommendation
        recommended = json.loads((run.path / "metrics.json").read_text())["recommended"]
        assert set(recommended["val_mae"]) >= {"rnn", "gru", "ensemble"}


GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.slow
def test_a_run_folder_written_by_an_earlier_version_predicts_the_same(tmp_path):
    """tests/golden/sine-gru was written by forecast 0.1.0 (schema 4, Keras 3 on TensorFlow): every later version
    must load it in safe mode and forecast what it forecast then, its interval bounds included, or refuse it with
    an error that names the version that wrote it (a format change needs a migration, or a new golden run)."""
    run = copy_run(GOLDEN / "sine-gru", tmp_path / "sine-gru")  # predict writes nothing into the fixture
    out = tmp_path / "p.csv"
    _ok("predict", run, GOLDEN / "data.csv", "--steps", "5", "--out", out)
    got, expected = pd.read_csv(out), pd.read_csv(GOLDEN / "expected.csv")
    assert got[["origin", "step"]].equals(expected[["origin", "step"]])
    for column in ("forecast", "lower_90", "upper_90"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-5, atol=1e-6, err_msg=column)
    assert got.loc[got["step"] > 3, "lower_90"].isna().all()  # past the trained horizon: no bounds, as then
