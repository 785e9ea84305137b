"""--devices: one model trained data parallel over several devices, checked on virtual CPU devices of both engines
(JAX: XLA_FLAGS=--xla_force_host_platform_device_count=2; TensorFlow: two logical CPU devices), each in a process of
its own because either must be set before its backend starts."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from forecast import devices
from forecast.backend import Device, plan_compute
from forecast.batches import padded
from forecast.config import Cell, DataConfig, DeviceChoice, Jit, ModelConfig, Parallel, RunConfig, TrainConfig
from forecast.devices import share_clipping, spread
from forecast.errors import ForecastError
from forecast.options import run_configs
from tests.conftest import ROOT, cli_ok


def test_padded_repeats_a_batch_up_to_a_multiple():
    assert padded(np.arange(5), 2).tolist() == [0, 1, 2, 3, 4, 0]
    assert padded(np.arange(3), 4).tolist() == [0, 1, 2, 0]
    assert padded(np.array([7]), 3).tolist() == [7, 7, 7]
    idx = np.arange(6)
    assert padded(idx, 3) is idx  # an even batch is left as it is


def test_padding_origins_are_marked_and_gathered_as_their_own_windows():
    from forecast.batches import padded_origins
    from forecast.models import Gather

    origins = np.array([30, 12, 7], dtype=np.int64)
    batch = padded_origins(origins, 4)
    assert batch.tolist() == [30, 12, 7, -31] and batch.dtype == np.int32  # the pad copies 30, marked negative
    assert padded_origins(origins, 3).tolist() == [30, 12, 7]
    values = np.arange(80, dtype=np.float32).reshape(40, 2)
    gather = Gather(values, 5, 2, per_window=False)
    windows, targets = np.asarray(gather(batch)), np.asarray(gather.targets(batch))
    np.testing.assert_array_equal(windows[3], windows[0])
    np.testing.assert_array_equal(windows[0], values[26:31])
    np.testing.assert_array_equal(targets[3], values[31:33, 0])


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "", "\u00b2", "ALL"])
def test_devices_is_a_count_or_all(value):
    with pytest.raises(ForecastError) as err:
        TrainConfig(devices=value)
    assert str(err.value) == f"--devices must be a number of devices, 1 or more, or all (got {value!r})"


def test_devices_from_a_config_file_or_the_api_may_be_a_number(sine_csv, tmp_path):
    assert run_configs(sine_csv, devices=2)[0].train.devices == "2"
    assert TrainConfig(devices="02").devices == "2"  # one spelling of each count, as recorded
    config = tmp_path / "c.toml"
    config.write_text("devices = 2\n")
    from forecast.cli import app

    result = CliRunner().invoke(app, ["train", str(sine_csv), "--config", str(config), "--device", "cpu",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.stderr.startswith("Error: --devices 2, but Keras' tensorflow backend sees 1 CPU device")
    assert run_configs(sine_csv, devices="all")[0].train.devices == "all"
    assert run_configs(sine_csv)[0].train.devices == "1"


def test_torch_has_no_data_parallel_engine():
    with pytest.raises(ForecastError) as err:
        spread(Device(backend="torch", is_gpu=True, name="H100"), TrainConfig(devices="2", batch_size=64))
    assert str(err.value) == ("--devices 2: Keras' torch backend has no data-parallel engine this tool can use (jax "
                              "and tensorflow have); use --devices 1, or KERAS_BACKEND=jax")


def test_more_devices_than_there_are(monkeypatch):
    monkeypatch.setattr(devices, "visible", lambda device: ["gpu:0", "gpu:1"])
    with pytest.raises(ForecastError) as err:
        spread(Device(backend="jax", is_gpu=True, name="H100"), TrainConfig(devices="4", batch_size=64))
    assert str(err.value) == ("--devices 4, but Keras' jax backend sees 2 GPU devices (gpu:0, gpu:1); use --devices 2 "
                              "or less, or all")


def test_a_batch_that_does_not_split_evenly_is_padded_not_refused(monkeypatch):
    monkeypatch.setattr(devices, "visible", lambda device: ["gpu:0", "gpu:1", "gpu:2"])
    three = spread(Device(backend="jax", is_gpu=True, name="H100"), TrainConfig(devices="all", batch_size=64))
    assert three.replicas == ("gpu:0", "gpu:1", "gpu:2")  # each batch of 64 gets 2 windows of no weight


def test_all_of_one_device_is_one_device_on_every_backend(monkeypatch):
    cpu = Device(backend="torch", is_gpu=False)
    assert spread(cpu, TrainConfig(devices="all", batch_size=64)) == cpu  # torch has no engine, but needs none
    monkeypatch.setattr(devices, "visible", lambda device: ["cuda:0", "cuda:1"])
    with pytest.raises(ForecastError, match="^--devices all: Keras' torch backend has no data-parallel engine"):
        spread(Device(backend="torch", is_gpu=True, name="H100"), TrainConfig(devices="all", batch_size=64))
    # on a machine without a GPU, all devices are the one CPU: cells may still train in processes
    from forecast import backend

    monkeypatch.setattr(backend, "no_gpu_possible", lambda: True)
    device, in_processes = devices.choose(TrainConfig(devices="all", batch_size=64), Parallel.on, 3, 10**6)
    assert in_processes and device.replicas == ()


def test_spread_names_the_devices_and_all_of_one_is_one(monkeypatch):
    gpu = Device(backend="tensorflow", is_gpu=True, name="H100")
    monkeypatch.setattr(devices, "visible", lambda device: ["/device:GPU:0", "/device:GPU:1"])
    two = spread(gpu, TrainConfig(devices="all", batch_size=64))
    assert two.replicas == ("/device:GPU:0", "/device:GPU:1")
    assert two.label == "gpu (H100) x 2, data parallel"
    monkeypatch.setattr(devices, "visible", lambda device: ["/device:GPU:0"])
    assert spread(gpu, TrainConfig(devices="all", batch_size=64)) == gpu
    assert spread(gpu, TrainConfig(devices="1", batch_size=63)) == gpu


def test_tensorflow_trains_without_xla_over_several_devices():
    cfg = RunConfig(DataConfig(path="x.csv"), model=ModelConfig(cell=Cell.lstm), train=TrainConfig(jit=Jit.on))
    two = Device(backend="tensorflow", is_gpu=False, replicas=("/cpu:0", "/cpu:1"))
    compute = plan_compute(cfg, two)
    assert compute.jit is False
    assert compute.notes == ("--jit on is not used with --devices on TensorFlow (XLA cannot read the variables that "
                             "MirroredStrategy copies to each device); training without XLA",)
    assert plan_compute(cfg, Device(backend="jax", is_gpu=False, replicas=("cpu:0", "cpu:1"))).jit is True


def test_clipping_is_shared_between_devices_on_tensorflow():
    import keras

    for backend, expected in (("tensorflow", 0.5), ("jax", 1.0)):
        optimizer = keras.optimizers.Adam(clipnorm=1.0)
        share_clipping(optimizer, Device(backend=backend, is_gpu=False, replicas=("a", "b")))
        assert optimizer.clipnorm == expected
    optimizer = keras.optimizers.Adam(clipnorm=1.0)
    share_clipping(optimizer, Device(backend="tensorflow", is_gpu=False))
    assert optimizer.clipnorm == 1.0


def test_cells_in_processes_or_over_devices_not_both():
    with pytest.raises(ForecastError) as err:
        devices.choose(TrainConfig(device=DeviceChoice.cpu, devices="2", batch_size=64), Parallel.on, 3, 10**6)
    assert str(err.value) == ("--parallel on trains each cell in a process of its own on one device, and --devices 2 "
                              "trains each over several devices; drop one of them")


def test_two_devices_on_a_one_cpu_machine_is_an_error(sine_csv, tmp_path):
    from forecast.cli import app

    result = CliRunner().invoke(app, ["train", str(sine_csv), "--devices", "2", "--device", "cpu",
                                      "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert result.stderr == ("Error: --devices 2, but Keras' tensorflow backend sees 1 CPU device "
                             "(/device:CPU:0); use --devices 1 (the default)\n")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_run_toml_says_which_devices_give_the_same_scores_again():
    from forecast.runs import _toml_note

    meta = {"forecast_version": "1", "created": "today", "command": "forecast train data.csv"}
    one, two = (RunConfig(DataConfig(path="data.csv"), train=TrainConfig(devices=n)) for n in ("1", "2"))
    assert _toml_note(one, meta).startswith("The options of this run as resolved; trains it again with the same "
                                            "scores on the CPU:\n")
    assert _toml_note(two, meta).startswith("The options of this run as resolved; trains it again with the same "
                                            "scores over the same devices (--devices 2):\n")


# Trains a GRU on one device and on two (virtual CPU devices), with batches that split evenly and with uneven last
# batches (horizon 2: 259 training windows, 59 validation and 59 test windows); prints their scores as JSON.
DRIVER = """
import json, os, sys
if os.environ["KERAS_BACKEND"] == "tensorflow":  # two logical CPU devices, before TensorFlow starts
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import forecast
found = {}
for horizon in (1, 2):
    for n in (1, 2):
        run = forecast.train(sys.argv[1], "gru", runs_dir=sys.argv[2], name=f"d{n}-{horizon}", devices=n,
                             lookback=20, horizon=horizon, units=8, epochs=3, batch_size=32, learning_rate=0.01, patience=0,
                             anchor="none", linear=False, verbose=False)
        found[f"{n}-{horizon}"] = {"test": run.metrics["test"]["model"], "windows": run.metrics["test"]["n_windows"],
                                    "loss": run.history["loss"].tolist()}
print(json.dumps(found))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_two_devices_train_as_one_does(backend, sine_csv, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": backend, "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", DRIVER, str(sine_csv), str(tmp_path / "runs")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    config = json.loads((tmp_path / "runs" / "d2-1" / "config.json").read_text())
    assert config["device"] == "cpu x 2, data parallel"
    assert config["options"]["train"]["devices"] == "2"
    # The stated tolerance (docs/options.md): JAX computes the same steps on two devices as on one, to float rounding
    # (measured 9e-7 and 3e-7 apart here); on TensorFlow, Keras clips each device's share of the gradient before
    # the sum (measured 1.1% and 2.4% apart).
    rtol = 1e-5 if backend == "jax" else 0.05
    for horizon in (1, 2):  # batches that split evenly; uneven last batches, filled up with padding of no weight
        one, two = found[f"1-{horizon}"], found[f"2-{horizon}"]
        np.testing.assert_allclose(two["test"]["mse"], one["test"]["mse"], rtol=rtol)
        # An epoch's mean loss, as Keras reports it, weighs the last batch by its size with the padding (0.4% apart)
        np.testing.assert_allclose(two["loss"], one["loss"], rtol=rtol if horizon == 1 else max(rtol, 0.01))
        assert two["windows"] == one["windows"] == 61 - horizon  # every window forecast once
    # The run trained over two devices forecasts on one, in a process without any distribution.
    out = tmp_path / "forecasts.csv"
    cli_ok("predict", tmp_path / "runs" / "d2-2", sine_csv, "--out", out, "--last", "5")
    assert out.exists()
