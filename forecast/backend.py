"""The Keras backend and the device it computes on, in one place: which backend `import keras` will load, starting it
quietly (GPUs hidden when asked), the device in use as a typed `Device`, versions and seeding; and how each cell is
computed there (XLA, precision, cuDNN) and whether several cells train in processes.

Keras is imported only inside the functions that start or query a backend, so every decision here can be made, and
warned about, before any backend loads (a parent of parallel trainings never loads one).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from forecast.config import Cell, DeviceChoice, Jit, Parallel, Precision, RunConfig, TrainConfig
from forecast.errors import ForecastError, shorten


@dataclass(frozen=True)
class Device:
    """The device a command computes on."""

    backend: str  # the Keras backend: tensorflow, jax or torch
    is_gpu: bool
    name: str = "cpu"  # the GPUs' names, e.g. "NVIDIA H100", or "cpu"
    replicas: tuple[str, ...] = ()  # with --devices above 1: the devices a model trains data parallel over

    @property
    def label(self) -> str:
        """As printed and recorded in config.json: "cpu", "gpu (H100)", "gpu (H100) x 2, data parallel"."""
        label = f"gpu ({self.name})" if self.is_gpu else "cpu"
        return f"{label} x {len(self.replicas)}, data parallel" if self.replicas else label


TRAINING_BACKENDS = ("tensorflow", "jax", "torch")  # the Keras backends that can train (numpy, openvino cannot)


def _keras_config() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"


def backend_name() -> str:
    """The Keras backend that `import keras` will load, read the way Keras reads it (environment, then
    ~/.keras/keras.json), without importing it."""
    name = os.environ.get("KERAS_BACKEND")
    if name:
        return name
    try:
        return json.loads(_keras_config().read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def check_backend() -> str:
    """The backend's name, once it is known to be one that trains and is installed; an Error otherwise (Keras
    itself would fail with a long traceback, in every worker process too)."""
    name = backend_name()
    source = "KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else f"the backend in {_keras_config()}"
    if name not in TRAINING_BACKENDS:
        raise ForecastError(f"{source} is {shorten(repr(name))}, not a Keras backend this tool can train with; "
                            f"use one of {', '.join(TRAINING_BACKENDS)} (or unset KERAS_BACKEND for tensorflow)")
    if importlib.util.find_spec(name) is None:
        extra = " (pip install -e '.[jax]' or pip install jax)" if name == "jax" else f" (pip install {name})"
        raise ForecastError(f"{source} is {name}, but {name} is not installed; install it{extra} or unset "
                            "KERAS_BACKEND to use tensorflow")
    return name


def no_gpu_possible() -> bool:
    """True when this machine certainly has no GPU a backend could use (no NVIDIA or ROCm driver)."""
    return not any(os.path.exists(p) for p in ("/proc/driver/nvidia", "/dev/nvidia0", "/dev/nvidiactl", "/dev/kfd",
                                               "/dev/dxg"))


def hide_gpus() -> None:
    """Before a backend starts (here or in a worker process): the only reliable switch for every backend."""
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C++ log lines that TensorFlow writes to fd 2 while it loads, before its own log level applies."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        sys.stderr.flush()
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def load_keras() -> None:
    """Import Keras and its backend without TensorFlow's start-up log lines."""
    check_backend()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr():
        import keras  # noqa: F401
    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notices are not for users


def start_backend(choice: DeviceChoice = DeviceChoice.auto) -> Device:
    """Load Keras for the chosen device and return the device that will be used."""
    if choice is DeviceChoice.cpu:
        hide_gpus()
    load_keras()
    import keras

    backend = keras.backend.backend()
    gpus = gpu_names()
    if choice is DeviceChoice.gpu and not gpus:
        raise ForecastError(f"--device gpu, but Keras' {backend} backend sees no GPU; use --device auto or cpu, "
                            "or install GPU support with pip install -e '.[gpu]'")
    if gpus and choice is not DeviceChoice.cpu:
        return Device(backend=backend, is_gpu=True, name=", ".join(gpus))
    return Device(backend=backend, is_gpu=False)


def backend_devices() -> list[str]:
    """The devices the started backend can use, lower case, e.g. ["gpu:0", "cpu:0"], on every Keras backend
    (Keras' own list_devices has no torch implementation)."""
    import keras

    if keras.backend.backend() == "torch":
        import torch

        return [f"gpu:{i}" for i in range(torch.cuda.device_count())] + ["cpu:0"]
    return [d.lower() for d in keras.distribution.list_devices()]


def gpu_names() -> list[str]:
    """Human names of the GPUs the started backend sees (empty when CPU only)."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax
            return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if backend == "tensorflow":
            import tensorflow as tf
            return [tf.config.experimental.get_device_details(g).get("device_name", g.name)
                    for g in tf.config.list_physical_devices("GPU")]
    except Exception:  # noqa: BLE001 - a name is only for display
        pass
    return [d for d in backend_devices() if d.startswith("gpu")]


def versions() -> dict[str, str]:
    """Versions that decide whether a run can be reproduced or loaded elsewhere."""
    import platform

    import keras
    import numpy as np
    import pandas as pd

    found = {"python": platform.python_version(), "forecast": _version("forecast"),
             "keras": keras.__version__, "backend": keras.backend.backend(),
             "numpy": np.__version__, "pandas": pd.__version__}
    for pkg in ("tensorflow", "jax", "torch"):
        v = _version(pkg)
        if v:
            found[pkg] = v
    return found


def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return ""


def fresh_session() -> None:
    """Forget the models built so far (one process training many, as the trials of `tune`), so memory stays flat."""
    import keras

    keras.backend.clear_session()


def seed_everything(seed: int) -> None:
    """Same seed, same initial weights and shuffles: several cells of one command start alike."""
    import keras

    with quiet_stderr():  # it seeds TensorFlow too where installed: loading it under JAX logs its start-up
        keras.utils.set_random_seed(seed)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


FUSED = (Cell.lstm, Cell.gru)  # the cells with a fused cuDNN kernel on GPU

# XLA on the CPU with the TensorFlow backend, by cell, as measured (benchmarks/defaults.md): over eight
# measurements each, the median steady-state speed-up was 1.08x for LSTM and 1.12x for GRU (with a wide spread,
# 0.76x-1.48x), while SimpleRNN was slower in the median (0.76x) and at batch 256. Compiling costs 1-3 s more in
# the first epoch, so XLA is used only for trainings long enough to win that back.
JIT_ON_CPU: dict[str, bool] = {"rnn": False, "lstm": True, "gru": True}
JIT_MIN_WORK = 100_000  # training windows x epochs
# Training windows x epochs from which `--parallel auto` trains in processes. Measured with `--cell all`
# (benchmarks/defaults.md): 1.10x faster on the shipped sine (40,560), 1.30x on electricity (83,220), 1.26x on MSFT
# (166,110). The sine's 10% is within this machine's run-to-run swing, so the bar sits between it and electricity.
PARALLEL_MIN_WORK = 60_000


def training_work(train_windows: int, train: TrainConfig) -> int:
    """Training windows passed over at most: windows per epoch (capped by --steps-per-epoch) x epochs."""
    per_epoch = train_windows
    if train.steps_per_epoch is not None:
        per_epoch = min(per_epoch, train.steps_per_epoch * train.batch_size)
    return per_epoch * train.epochs


def cpu_only(choice: DeviceChoice) -> bool:
    """Whether --device rules out a GPU: `cpu`, or `auto` on a machine certainly without one."""
    return choice is DeviceChoice.cpu or (choice is DeviceChoice.auto and no_gpu_possible())


def choose_device(choice: DeviceChoice, parallel: Parallel, cells: int, work: int) -> tuple[Device, bool]:
    """(the device, whether the cells train in worker processes). In processes on the CPU, the parent starts no
    backend: each worker loads its own, and `auto` picks them only where they measured faster (several cells, a
    multi-core CPU, the TensorFlow backend, at least PARALLEL_MIN_WORK windows x epochs)."""
    backend = check_backend()
    worth_it = backend == "tensorflow" and cores() > 1 and work >= PARALLEL_MIN_WORK
    if cells > 1 and cpu_only(choice) and (parallel is Parallel.on or (parallel is Parallel.auto and worth_it)):
        if choice is DeviceChoice.cpu:
            hide_gpus()
        return Device(backend=backend, is_gpu=False), True
    return start_backend(choice), cells > 1 and parallel is Parallel.on


@dataclass(frozen=True)
class Compute:
    """How a cell is compiled and in which precision, resolved for the backend and device in use."""

    jit: bool | str  # True/False, or "auto": Keras' own choice (which skips XLA for cuDNN layers)
    mixed: bool
    use_cudnn: bool | str  # "auto": the fused kernel when the device and layer allow it
    cudnn: str  # for the record: "eligible", "off: ..." or "no GPU"
    notes: tuple[str, ...] = ()  # warnings for the user

    def record(self) -> dict:
        return {"jit": self.jit, "precision": "mixed" if self.mixed else "float32", "cudnn": self.cudnn}


def plan_compute(cfg: RunConfig, device: Device, work: int = 0) -> Compute:
    """Resolve --jit, --precision and cuDNN eligibility for one cell; explain every choice that costs speed.

    `work` is training_work(): with `--jit auto` on the CPU, short trainings skip XLA's compile time.
    """
    cell, train, on_gpu = cfg.model.cell, cfg.train, device.is_gpu
    fused = cell in FUSED
    notes: list[str] = []
    mixed = train.precision is Precision.mixed
    if mixed and not on_gpu:
        notes.append("--precision mixed needs a GPU (float16 is slower than float32 on a CPU); training in float32")
        mixed = False
    use_cudnn: bool | str = "auto"
    cudnn = "eligible" if fused else "none for rnn (SimpleRNN has no fused kernel)"
    if fused and cfg.model.recurrent_dropout > 0:
        cudnn = "off: --recurrent-dropout"
        notes.append(f"--recurrent-dropout {cfg.model.recurrent_dropout:g} disables the fused cuDNN kernel of "
                     f"{cell.value}, which makes GPU training several times slower; --dropout regularises "
                     "without that cost")
    if mixed and cell is Cell.lstm and device.backend == "jax" and cudnn == "eligible":  # float16 crashes its lowering
        use_cudnn, cudnn = False, "off: --precision mixed on JAX"
        notes.append("--precision mixed with the JAX backend runs LSTM without its fused cuDNN kernel, which computes "
                     "in float32 only; --precision float32 keeps the kernel")
    if train.jit is Jit.off:
        jit: bool | str = False
    elif train.jit is Jit.on:
        jit = True
        if fused and on_gpu and device.backend == "tensorflow" and cudnn == "eligible":
            # TensorFlow cannot compile its cuDNN RNN ops with XLA: one or the other.
            use_cudnn, cudnn = False, "off: --jit on"
            notes.append(f"--jit on disables the fused cuDNN kernel of {cell.value} with the TensorFlow backend "
                         "(XLA cannot compile it), which is usually slower on a GPU; use --jit auto")
    elif device.backend == "jax":
        jit = True  # JAX runs eagerly op by op without it; its cuDNN RNN is an ordinary op inside jit
    elif device.backend == "tensorflow" and not on_gpu:
        jit = JIT_ON_CPU[cell.value] and work >= JIT_MIN_WORK
    else:
        jit = "auto"  # torch: eager; TensorFlow on GPU: XLA except for layers on the cuDNN kernel
    if device.replicas and device.backend == "tensorflow" and jit is not False:  # XLA cannot read MirroredVariables
        if train.jit is Jit.on:
            notes.append("--jit on is not used with --devices on TensorFlow (XLA cannot read the variables that "
                         "MirroredStrategy copies to each device); training without XLA")
        jit = False
    if fused and not on_gpu and cudnn == "eligible":
        cudnn = "eligible (no GPU in use)"
    return Compute(jit=jit, mixed=mixed, use_cudnn=use_cudnn, cudnn=cudnn, notes=tuple(notes))


def compute_notes(configs: list[RunConfig], device: Device, work: int) -> tuple[str, ...]:
    """Every option of these configs that costs speed on this device, each warning once."""
    return tuple(dict.fromkeys(n for c in configs for n in plan_compute(c, device, work).notes))
