"""The backend and the device: which backend and device a command uses, how --jit, --precision, cuDNN and
--parallel resolve for them, and the warnings that name the option costing speed. Speed itself is measured by
benchmarks/bench.py, never asserted here."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.backend import Device
from forecast.cli import app
from forecast.config import Cell, DataConfig, Jit, ModelConfig, Precision, RunConfig, TrainConfig

CPU, GPU = Device("tensorflow", is_gpu=False), Device("tensorflow", is_gpu=True, name="NVIDIA H100")

MIXED_ON_CPU = "--precision mixed needs a GPU (float16 is slower than float32 on a CPU); training in float32"


def cfg(cell=Cell.lstm, jit=Jit.auto, precision=Precision.float32, recurrent_dropout=0.0) -> RunConfig:
    return RunConfig(DataConfig("x.csv"), model=ModelConfig(cell, recurrent_dropout=recurrent_dropout),
                     train=TrainConfig(jit=jit, precision=precision))


def test_defaults_on_the_cpu_follow_the_measured_table():
    from forecast.backend import JIT_MIN_WORK, JIT_ON_CPU, plan_compute

    for cell in Cell:
        plan = plan_compute(cfg(cell), CPU, work=JIT_MIN_WORK)
        assert plan.jit is JIT_ON_CPU[cell.value] and plan.mixed is False and plan.use_cudnn == "auto"
        assert plan.notes == ()
        assert plan_compute(cfg(cell), CPU, work=JIT_MIN_WORK - 1).jit is False  # compiling would not pay
    assert JIT_ON_CPU == {"rnn": False, "lstm": True, "gru": True}
    assert plan_compute(cfg(jit=Jit.on), CPU).jit is True
    assert plan_compute(cfg(jit=Jit.off), CPU).jit is False


def test_on_a_gpu_auto_leaves_xla_to_keras_so_cudnn_layers_keep_their_kernel():
    from forecast.backend import plan_compute

    plan = plan_compute(cfg(Cell.gru), GPU)
    assert plan.jit == "auto" and plan.use_cudnn == "auto" and plan.cudnn == "eligible" and plan.notes == ()
    assert plan_compute(cfg(precision=Precision.mixed), GPU).mixed is True


def test_jit_on_with_tensorflow_on_a_gpu_gives_up_cudnn_and_says_so():
    from forecast.backend import plan_compute

    plan = plan_compute(cfg(Cell.lstm, jit=Jit.on), GPU)
    assert plan.jit is True and plan.use_cudnn is False and plan.cudnn == "off: --jit on"
    assert plan.notes == ("--jit on disables the fused cuDNN kernel of lstm with the TensorFlow backend (XLA cannot "
                          "compile it), which is usually slower on a GPU; use --jit auto",)
    assert plan_compute(cfg(Cell.rnn, jit=Jit.on), GPU).notes == ()  # SimpleRNN has no kernel to lose


def test_mixed_precision_on_jax_runs_lstm_off_its_float32_only_cudnn_kernel():
    from forecast.backend import plan_compute

    jax_gpu = Device("jax", is_gpu=True, name="NVIDIA H100")
    plan = plan_compute(cfg(Cell.lstm, precision=Precision.mixed), jax_gpu)
    assert plan.mixed is True and plan.use_cudnn is False and plan.cudnn == "off: --precision mixed on JAX"
    assert plan.notes == ("--precision mixed with the JAX backend runs LSTM without its fused cuDNN kernel, which "
                          "computes in float32 only; --precision float32 keeps the kernel",)
    for other in (plan_compute(cfg(Cell.gru, precision=Precision.mixed), jax_gpu),  # no fused GRU on JAX anyway
                  plan_compute(cfg(Cell.lstm, precision=Precision.mixed), GPU),  # TensorFlow's kernel takes float16
                  plan_compute(cfg(Cell.lstm), jax_gpu)):
        assert other.use_cudnn == "auto" and other.notes == ()


# Mixed precision as a GPU would run it (float16 recurrent layers, float32 output and loss, loss scaling), forced on
# the CPU here, trained through the on-device gathering on each backend; prints each cell's losses and output dtype.
# 288 training windows and 64 validation windows: whole batches only, so XLA compiles each step once, not twice.
MIXED = """
import json
import keras, numpy as np
from forecast.batches import WindowBatches
from forecast.config import Anchor, Cell, ModelConfig, WindowConfig
from forecast.models import build_model
from forecast.training import on_device
from forecast.windows import Windows
values = np.sin(np.arange(400) / 3.0).astype(np.float32)[:, None]
train, val = Windows(values, 8, 2, np.arange(7, 295)), Windows(values, 8, 2, np.arange(300, 364))
found = {}
for cell in Cell:
    net = build_model(ModelConfig(cell, units=8, linear=True), WindowConfig(8, 2), 1, 1e-2, mixed=True, jit=True,
                      use_cudnn=False if cell is not Cell.rnn else "auto", anchor=Anchor.naive, season=4)
    history = on_device(net, train, val).fit(WindowBatches(train, 32, shuffle_seed=0, origins=True), epochs=2,
                                             validation_data=WindowBatches(val, 64, origins=True), verbose=0)
    found[cell.value] = {"loss": history.history["loss"], "recurrent": net.get_layer(f"{cell.value}_1").compute_dtype,
                         "output": str(net.predict_on_batch(np.zeros((2, 8, 1), np.float32)).dtype)}
print(json.dumps(found))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_mixed_precision_trains_on_each_backend(backend):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", MIXED], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    for cell, found in json.loads(done.stdout.strip().splitlines()[-1]).items():
        assert found["recurrent"] == "float16" and found["output"] == "float32", cell
        assert all(loss == loss for loss in found["loss"]) and found["loss"][1] < found["loss"][0], cell


def test_options_that_cost_speed_are_named():
    from forecast.backend import plan_compute

    assert plan_compute(cfg(precision=Precision.mixed), CPU).notes == (MIXED_ON_CPU,)
    assert plan_compute(cfg(precision=Precision.mixed), CPU).mixed is False
    plan = plan_compute(cfg(Cell.gru, recurrent_dropout=0.2), GPU)
    assert plan.cudnn == "off: --recurrent-dropout"
    assert plan.notes == ("--recurrent-dropout 0.2 disables the fused cuDNN kernel of gru, which makes GPU training "
                          "several times slower; --dropout regularises without that cost",)
    assert plan_compute(cfg(Cell.rnn, recurrent_dropout=0.2), GPU).notes == ()


def test_config_round_trips_the_new_options_and_reads_older_runs():
    from forecast.schema import typed

    full = RunConfig(DataConfig("x.csv"), model=ModelConfig(Cell.gru, recurrent_dropout=0.1),
                     train=TrainConfig(steps_per_epoch=7, jit=Jit.off, precision=Precision.mixed))
    raw = json.loads(json.dumps(full.to_dict()))
    assert raw["train"]["jit"] == "off" and raw["train"]["precision"] == "mixed"
    assert typed(raw, RunConfig, "options") == full
    for key in ("steps_per_epoch", "jit", "precision"):  # written before these options existed
        del raw["train"][key]
    del raw["model"]["recurrent_dropout"]
    old = typed(raw, RunConfig, "options")
    assert old.train.jit is Jit.auto and old.train.steps_per_epoch is None and old.model.recurrent_dropout == 0


@pytest.mark.slow
def test_cli_caps_epochs_warns_once_per_option_and_records_what_ran(sine_csv, tmp_path):
    result = CliRunner().invoke(app, ["train", str(sine_csv), "--cell", "lstm", "--cell", "gru", "--lookback", "10",
                                      "--units", "4", "--epochs", "2", "--batch-size", "16", "--steps-per-epoch",
                                      "3", "--recurrent-dropout", "0.1", "--precision", "mixed", "--jit", "off",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [
        f"Warning: {MIXED_ON_CPU}",
        "Warning: --recurrent-dropout 0.1 disables the fused cuDNN kernel of lstm, which makes GPU training several "
        "times slower; --dropout regularises without that cost",
        "Warning: --recurrent-dropout 0.1 disables the fused cuDNN kernel of gru, which makes GPU training several "
        "times slower; --dropout regularises without that cost",
    ]
    for cell in ("lstm", "gru"):
        run = tmp_path / "runs" / f"sine-{cell}"
        meta = json.loads((run / "config.json").read_text())
        assert meta["options"]["train"]["steps_per_epoch"] == 3
        assert meta["compute"] == {"jit": False, "precision": "float32", "cudnn": "off: --recurrent-dropout"}
        assert len(pd.read_csv(run / "history.csv")) == 2


def test_other_backends_get_their_own_jit_default(monkeypatch):
    from forecast.backend import backend_name, plan_compute

    assert plan_compute(cfg(Cell.gru), Device("jax", True, "H100")).jit is True  # JAX is slow without jit
    assert plan_compute(cfg(Cell.gru), Device("torch", False)).jit == "auto"  # Keras: eager on torch
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert backend_name() == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setenv("KERAS_HOME", "/nonexistent")
    assert backend_name() == "tensorflow"


def test_parallel_auto_needs_several_cells_a_multicore_cpu_and_enough_work(monkeypatch):
    from forecast import backend
    from forecast.config import DeviceChoice, Parallel

    started = []
    monkeypatch.setattr(backend, "start_backend", lambda choice: started.append(choice) or CPU)
    monkeypatch.setattr(backend, "no_gpu_possible", lambda: True)
    monkeypatch.setattr(backend, "cores", lambda: 2)
    monkeypatch.setattr(backend, "check_backend", backend.backend_name)  # torch need not be installed here
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    auto, enough = DeviceChoice.auto, backend.PARALLEL_MIN_WORK
    assert backend.choose_device(auto, Parallel.auto, 3, enough) == (CPU, True)
    assert started == []  # the parent of the worker processes loads no backend
    assert backend.choose_device(auto, Parallel.auto, 3, enough - 1) == (CPU, False)
    assert backend.choose_device(auto, Parallel.auto, 1, 10**9) == (CPU, False)
    assert backend.choose_device(auto, Parallel.off, 3, 10**9) == (CPU, False)
    assert backend.choose_device(auto, Parallel.on, 3, 1) == (CPU, True)
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert backend.choose_device(auto, Parallel.auto, 3, 10**9) == (CPU, False)  # measured for TensorFlow only
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setattr(backend, "cores", lambda: 1)
    assert backend.choose_device(auto, Parallel.auto, 3, 10**9) == (CPU, False)
    assert len(started) == 5


@pytest.mark.slow
def test_parallel_cells_train_while_the_parent_never_loads_tensorflow(sine_csv, tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom forecast.__main__ import main\nsys.argv = ['forecast'] + sys.argv[1:]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('parent imported tensorflow:', 'tensorflow' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code, "train", str(sine_csv), "--cell", "all", "--parallel", "on",
                             "--device", "cpu", "--lookback", "10", "--units", "4", "--epochs", "2",
                             "--runs-dir", str(tmp_path / "runs")], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "device: cpu; 3 cells in parallel processes" in result.stdout
    assert "parent imported tensorflow: False" in result.stdout
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["sine-gru", "sine-lstm", "sine-rnn"]
    for cell in ("rnn", "lstm", "gru"):
        meta = json.loads((tmp_path / "runs" / f"sine-{cell}" / "config.json").read_text())
        assert meta["device"] == "cpu" and meta["versions"]["backend"] == "tensorflow"
        assert len(pd.read_csv(tmp_path / "runs" / f"sine-{cell}" / "history.csv")) == 2


def test_the_device_is_a_typed_value_with_the_label_runs_record():
    assert CPU.label == "cpu" and not CPU.is_gpu
    assert GPU.label == "gpu (NVIDIA H100)" and GPU.is_gpu and GPU.backend == "tensorflow"


def test_start_backend_says_which_backend_and_device():
    import keras

    from forecast.backend import gpu_names, start_backend
    from forecast.config import DeviceChoice

    device = start_backend(DeviceChoice.auto)
    assert device.backend == keras.backend.backend() == "tensorflow"  # the suite's backend (conftest)
    assert device.is_gpu == bool(gpu_names()) and device.name == (", ".join(gpu_names()) or "cpu")


def test_backend_devices_works_on_every_backend(monkeypatch):
    """Keras' list_devices has no torch implementation (it raises on None); torch is asked directly."""
    import sys
    import types

    import keras

    from forecast.backend import backend_devices

    assert "cpu:0" in backend_devices()  # TensorFlow, as installed here
    fake_torch = types.SimpleNamespace(cuda=types.SimpleNamespace(device_count=lambda: 2))
    monkeypatch.setitem(sys.modules, "torch", fake_torch)
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    monkeypatch.setattr(keras.distribution, "list_devices", lambda: pytest.fail("not on torch"))
    assert backend_devices() == ["gpu:0", "gpu:1", "cpu:0"]
