"""`--devices N|all`: one model trained data parallel over several devices, on the engines Keras already has:
`keras.distribution.DataParallel` on JAX and `tf.distribute.MirroredStrategy` on TensorFlow (torch has none here).
Each batch is split across the devices, each holds a copy of the weights (and of the series its windows are
gathered from), and the gradients are summed, so one step computes what it would on one device (but for where
TensorFlow clips the gradient: see share_clipping).

Keras (and TensorFlow) are imported only inside functions: these run after the backend has started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterator

from forecast import backend
from forecast.backend import Device
from forecast.config import Parallel, TrainConfig
from forecast.errors import ForecastError

ENGINES = {"jax": "keras.distribution.DataParallel", "tensorflow": "tf.distribute.MirroredStrategy"}


def visible(device: Device) -> list[str]:
    """The devices of the kind in use (GPUs, or CPUs without one) that the started backend could split a batch over,
    as its engine names them: ["gpu:0", "gpu:1"] on JAX, ["/device:GPU:0", ...] on TensorFlow. Virtual CPU devices
    count too (JAX: XLA_FLAGS=--xla_force_host_platform_device_count=N; TensorFlow: logical CPU devices)."""
    if device.backend == "jax":
        import jax

        return [f"{d.platform}:{d.id}" for d in jax.devices("gpu" if device.is_gpu else "cpu")]
    if device.backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_logical_devices("GPU" if device.is_gpu else "CPU")]
    if device.is_gpu:  # torch
        import torch

        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu"]


def several(train: TrainConfig) -> bool:
    """Whether --devices asks for more than one device: a count above 1, or all where there may be a GPU (all the
    devices of a machine without one is its CPU)."""
    return train.devices != "1" and not (train.devices == "all" and backend.cpu_only(train.device))


def choose(train: TrainConfig, parallel: Parallel, cells: int, work: int) -> tuple[Device, bool]:
    """backend.choose_device, spread over the devices --devices asks for: then the cells train one after another,
    each over every device, in this process."""
    if not several(train):
        device, in_processes = backend.choose_device(train.device, parallel, cells, work)
        return (device if in_processes else spread(device, train)), in_processes
    if parallel is Parallel.on and cells > 1:
        raise ForecastError(f"--parallel on trains each cell in a process of its own on one device, and --devices "
                            f"{train.devices} trains each over several devices; drop one of them")
    return spread(backend.start_backend(train.device), train), False


def spread(device: Device, train: TrainConfig) -> Device:
    """The device in use, over `train.devices` ("all" or a count) of its kind: an Error where there are fewer, or
    where the backend has no data-parallel engine. One device (or all of one) leaves it as it is. A batch that
    does not split evenly is filled up with padding of no weight (batches.padded_origins)."""
    devices = train.devices
    if devices == "1":
        return device
    engine_error = ForecastError(f"--devices {devices}: Keras' {device.backend} backend has no data-parallel engine "
                                 "this tool can use (jax and tensorflow have); use --devices 1, or KERAS_BACKEND=jax")
    if device.backend not in ENGINES and devices != "all":
        raise engine_error
    found = visible(device)
    wanted = len(found) if devices == "all" else int(devices)
    if wanted > len(found):
        kind = "GPU" if device.is_gpu else "CPU"
        fix = "1 (the default)" if len(found) == 1 else f"{len(found)} or less, or all"
        raise ForecastError(f"--devices {devices}, but Keras' {device.backend} backend sees {len(found)} {kind} "
                            f"device{'s' if len(found) != 1 else ''} ({', '.join(found)}); use --devices {fix}")
    if wanted > 1 and device.backend not in ENGINES:
        raise engine_error
    return dataclasses.replace(device, replicas=tuple(found[:wanted]) if wanted > 1 else ())


@contextlib.contextmanager
def data_parallel(device: Device) -> Iterator[None]:
    """Build, train and forecast inside this: the variables made here are copied to every device of
    `device.replicas`, and the batches are split across them. Nothing changes with one device."""
    if not device.replicas:
        yield
        return
    if device.backend == "jax":
        import keras

        with keras.distribution.DataParallel(devices=list(device.replicas)).scope():
            yield
        return
    with _mirrored(device.replicas).scope():
        yield


@functools.cache
def _mirrored(replicas: tuple[str, ...]):
    """One MirroredStrategy per set of devices for the whole process: a second one over the same devices would
    reuse the first one's collective-op keys for other shapes, and its gradient sums fail."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(list(replicas))


def shards() -> int:
    """Into how many equal parts every batch is split: the device count inside data_parallel, else 1. Both engines
    need even parts (JAX cannot shard an uneven batch; MirroredStrategy's reductions fail on unequal ones)."""
    import keras

    if keras.backend.backend() == "jax":
        distribution = keras.distribution.distribution()
        return 1 if distribution is None else int(distribution.device_mesh.devices.size)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync if tf.distribute.has_strategy() else 1
    return 1


def share_clipping(optimizer, device: Device) -> None:
    """On TensorFlow, Keras clips each device's share of the gradient (already divided by the device count) before
    MirroredStrategy sums them, so a clipnorm of 1 would bound the summed gradient's norm by the device count:
    clip each share at 1/N instead. Measured on the test's toy, test MSE against one device: 4% apart with the
    clipnorm as is, 1.1% with this (JAX clips the summed gradient, and matches one device to float precision)."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # under a LossScaleOptimizer (mixed precision)
    if device.replicas and device.backend == "tensorflow" and inner.clipnorm:
        inner.clipnorm = inner.clipnorm / len(device.replicas)
