"""How a cell will be computed (XLA, precision, cuDNN) for the backend and device in use, decided without
importing Keras, so the CLI can warn, and run cells in parallel processes, before any backend loads."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from forecast.config import Cell, Jit, Precision, RunConfig
from forecast.prepare import Prepared

FUSED = (Cell.lstm, Cell.gru)  # the cells with a fused cuDNN kernel on GPU


def backend_name() -> str:
    """The Keras backend that `import keras` will load, read the way Keras reads it (environment, then
    ~/.keras/keras.json), without importing it."""
    name = os.environ.get("KERAS_BACKEND")
    if name:
        return name
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def no_gpu_possible() -> bool:
    """True when this machine certainly has no GPU a backend could use (no NVIDIA or ROCm driver)."""
    return not any(os.path.exists(p) for p in ("/proc/driver/nvidia", "/dev/nvidia0", "/dev/nvidiactl", "/dev/kfd",
                                               "/dev/dxg"))


# XLA on the CPU with the TensorFlow backend, by cell, as measured (benchmarks/defaults.md and the README):
# over eight measurements each, the median steady-state speed-up was 1.08x for LSTM and 1.12x for GRU (with a
# wide spread, 0.76x-1.48x), while SimpleRNN was slower in the median (0.76x) and at batch 256. Compiling costs 1-3 s more in the
# first epoch, so XLA is used only for trainings long enough to win that back.
JIT_ON_CPU: dict[str, bool] = {"rnn": False, "lstm": True, "gru": True}
JIT_MIN_WORK = 100_000  # training windows x epochs


def training_work(prep: Prepared, cfg: RunConfig) -> int:
    """Training windows passed over at most: windows per epoch (capped by --steps-per-epoch) x epochs."""
    per_epoch = len(prep.windows["train"])
    if cfg.train.steps_per_epoch is not None:
        per_epoch = min(per_epoch, cfg.train.steps_per_epoch * cfg.train.batch_size)
    return per_epoch * cfg.train.epochs


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


def plan_compute(cfg: RunConfig, on_gpu: bool, work: int = 0, backend: str = "tensorflow") -> Compute:
    """Resolve --jit, --precision and cuDNN eligibility for one cell; explain every choice that costs speed.

    `work` is training_work(): with `--jit auto` on the CPU, short trainings skip XLA's compile time.
    """
    cell, train = cfg.model.cell, cfg.train
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
    if train.jit is Jit.off:
        jit: bool | str = False
    elif train.jit is Jit.on:
        jit = True
        if fused and on_gpu and backend == "tensorflow" and cudnn == "eligible":
            # TensorFlow cannot compile its cuDNN RNN ops with XLA: one or the other.
            use_cudnn, cudnn = False, "off: --jit on"
            notes.append(f"--jit on disables the fused cuDNN kernel of {cell.value} with the TensorFlow backend "
                         "(XLA cannot compile it), which is usually slower on a GPU; use --jit auto")
    elif backend == "jax":
        jit = True  # JAX runs eagerly op by op without it; its cuDNN RNN is an ordinary op inside jit
    elif backend == "tensorflow" and not on_gpu:
        jit = JIT_ON_CPU[cell.value] and work >= JIT_MIN_WORK
    else:
        jit = "auto"  # torch: eager; TensorFlow on GPU: XLA except for layers on the cuDNN kernel
    if fused and not on_gpu and cudnn == "eligible":
        cudnn = "eligible (no GPU in use)"
    return Compute(jit=jit, mixed=mixed, use_cudnn=use_cudnn, cudnn=cudnn, notes=tuple(notes))
