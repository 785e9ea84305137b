"""Fit a model on windowed batches with early stopping, and forecast every window of a part in batches."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from forecast import callbacks
from forecast.anchors import choose_anchor
from forecast.backend import Compute, Device, plan_compute, seed_everything, training_work
from forecast.baselines import anchor_season
from forecast.batches import WindowBatches
from forecast.config import Anchor, RunConfig, Strategy, TrainConfig, WindowConfig
from forecast.devices import data_parallel, share_clipping
from forecast.errors import ForecastError
from forecast.evaluate import actual_targets, interval_check, interval_half_widths, score_test, score_val
from forecast.ensemble import SIGNIFICANCE, beats, window_mae
from forecast.inference import forecast_windows, predict_windows
from forecast.interrupts import deferred_interrupt
from forecast.linear import MIN_GAIN, fit_linear_path
from forecast.models import Gather, OnDevice, build_model
from forecast.prepare import Prepared
from forecast.windows import Windows


class TrainingDiverged(ForecastError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class Scheme:
    """How an anchored model's cell is trained on what its start (the reference and the linear path) leaves over.
    The defaults are the scheme benchmarks/learning.py chose; the other settings are there to measure it."""

    # How far an optimizer step moves a fitted linear path, against the cell's: 0 holds it at its least-squares start,
    # 1 trains it like any weight; between, a power of two (exact: the untrained model stays its start to the bit)
    linear_rate: float = 0.0
    scale_correction: bool = True  # the cell's output times the spread of the start's training errors (Correction)
    keep_gain: float = MIN_GAIN  # share of the start's validation MSE a trained state must gain to replace it
    keep_significance: float = SIGNIFICANCE  # and by this many standard errors (Diebold-Mariano)
    patience: int | None = None  # None: the run's own patience


@dataclass
class FitResult:
    history: pd.DataFrame  # columns epoch, loss, val_loss (MSE on the scaled target)
    seconds: float
    best_epoch: int  # epoch of the lowest validation loss
    model_epoch: int  # epoch whose weights the model holds
    on_device: keras.Model  # models.OnDevice around the model, over the training windows' series
    start_loss: float | None = None  # the untrained model's validation loss (keep_start or score_start)


def resumed_epoch(state_dir: Path | None) -> int:
    """Epochs already completed by an interrupted training whose state is in `state_dir` (0 if none)."""
    meta = state_dir / "backup" / "training_metadata.json" if state_dir is not None else None
    if meta is None or not meta.exists():
        return 0
    try:
        return int(json.loads(meta.read_text())["epoch"])
    except (ValueError, KeyError, TypeError):
        return 0


def discard_unreadable_checkpoint(backup: Path) -> None:
    """A kill in the middle of writing the first checkpoint leaves a damaged weights file with no previous
    copy to fall back on (Keras' double checkpointing keeps one only from the second epoch on): start over."""
    import shutil

    import h5py

    weights = backup / "latest.weights.h5"
    if not weights.exists() or Path(f"{weights}.bkp").exists():
        return
    try:
        h5py.File(weights, "r").close()
    except OSError:
        shutil.rmtree(backup, ignore_errors=True)


def fit_model(model: keras.Model, train: Windows, val: Windows, cfg: TrainConfig,
              on_epoch: Callable[[int, dict, float], None] | None = None,
              state_dir: Path | None = None, gather_threads: int = 1, keep_start: bool = False,
              tensorboard: Path | None = None, score: Callable[[keras.Model], float] | None = None,
              keep_gain: float = MIN_GAIN, keep_significance: float = SIGNIFICANCE,
              score_start: bool = False) -> FitResult:
    """Train with early stopping on validation loss; the best epoch's weights are restored so the
    model that is saved and scored is the one that generalised best, not the last one.

    With `state_dir`, the training checkpoints itself every epoch (Keras' BackupAndRestore with double
    checkpointing) and a later call with the same `state_dir` continues from the last completed epoch.

    `gather_threads` above 1 gathers the next batches in threads while a step runs (Keras' ordered enqueuer).
    It measured faster for an LSTM on the CPU, but one full test run then saw the SIGTERM test fail once (not
    reproduced since), so every caller keeps the default of 1 until that is understood.

    With `tensorboard`, per-epoch scalars go to that folder, readable by `tensorboard --logdir`. With `score`, its
    value of the model after each epoch reaches `on_epoch` as logs["val_mse_units"].

    With `keep_start` the untrained model (a reference forecast, for an anchored model) is a candidate too: when
    the kept epoch does not beat its validation errors (ensemble.beats), its weights are put back and the model
    epoch is 0. `keep_gain` is the share of the start's mean error the kept epoch must gain, `keep_significance` the
    standard errors it must gain by. With `score_start` (or `keep_start`) the untrained model's validation loss is
    FitResult.start_loss.
    """
    if state_dir is not None:
        discard_unreadable_checkpoint(state_dir / "backup")
    first_epoch = resumed_epoch(state_dir)
    history = callbacks.HistoryLog(state_dir / "history.csv" if state_dir is not None else None, first_epoch)
    guard = callbacks.NanGuard()
    extra: list[keras.callbacks.Callback] = [history, guard]
    if cfg.patience > 0:
        extra.append(callbacks.ResumableEarlyStopping(cfg.patience, state_dir, first_epoch))
    if state_dir is not None:
        # Last, so the small state files above are written before the checkpoint that commits the epoch.
        extra.append(keras.callbacks.BackupAndRestore(str(state_dir / "backup"), double_checkpoint=True,
                                                          delete_checkpoint=False))
    if score is not None:
        extra.append(callbacks.EpochScore("val_mse_units", score))
    if on_epoch is not None:
        extra.append(callbacks.EpochReporter(on_epoch))
    if tensorboard is not None:  # loss, val_loss, learning rate and the epoch's seconds, per epoch
        extra += [callbacks.EpochSeconds(), keras.callbacks.TensorBoard(str(tensorboard), write_graph=False,
                                                                       profile_batch=0)]
    began = time.perf_counter()
    trainer = on_device(model, train, val)
    val_batches = WindowBatches(val, max(cfg.batch_size, 1024), origins=True)
    if keep_start or score_start:  # before fit: a resumed training restores its checkpoint inside fit, after this
        start_weights, start_errors = model.get_weights(), window_errors(model, val, trainer)
    batches = WindowBatches(train, cfg.batch_size, shuffle_seed=cfg.seed, epoch=first_epoch,
                            steps=cfg.steps_per_epoch, workers=gather_threads, origins=True)
    with deferred_interrupt() as stop:  # Ctrl-C raised from our own callback, never from inside the backend
        trainer.fit(batches,
                    validation_data=val_batches,
                    # Our dataset already shuffles globally by (seed, epoch); Keras' own batch-order shuffle would
                    # draw from the process-wide RNG and make a resumed training differ from an uninterrupted one.
                    shuffle=False, epochs=cfg.epochs, callbacks=[callbacks.StopOnInterrupt(stop), *extra], verbose=0)
    seconds = time.perf_counter() - began
    if guard.bad_epoch is not None:
        raise TrainingDiverged(
            f"training diverged: the loss became NaN or infinite in epoch {guard.bad_epoch}; lower "
            f"--learning-rate (it is {cfg.learning_rate:g}) or scale the target down (e.g. change its units)")
    hist = history.frame()
    best = int(hist["epoch"][hist["val_loss"].idxmin()])
    # Early stopping restores the best epoch's weights at the end; without it the last epoch's stay.
    kept = best if cfg.patience > 0 else len(hist)
    if keep_start and not beats(window_errors(model, val, trainer), start_errors, val.horizon,
                                    keep_gain, keep_significance):
        model.set_weights(start_weights)  # training never beat where it started: keep the start
        best = kept = 0
    return FitResult(history=hist, seconds=seconds, best_epoch=best, model_epoch=kept, on_device=trainer,
                     start_loss=float(start_errors.mean()) if keep_start or score_start else None)


def window_errors(model: keras.Model, windows: Windows, trainer: keras.Model | None = None) -> np.ndarray:
    """Each window's mean squared error (the training loss) in the model's units, (n,); the targets are gathered a
    chunk at a time."""
    forecast, out = predict_windows(model, windows, on_device=trainer), np.zeros(len(windows))
    for start in range(0, len(windows), 65_536):
        idx = np.arange(start, min(start + 65_536, len(windows)))
        out[idx] = np.mean((forecast[idx].astype(np.float64) - windows.targets(idx)) ** 2, axis=1)
    return out


def on_device(model: keras.Model, train: Windows, val: Windows) -> keras.Model:
    """`model` trained on batches of origins whose windows are gathered inside the compiled step, from the scaled
    series sent to the device once (the training and validation windows read the same series); compiled with the
    model's own optimizer, so the optimizer state is the model's."""
    assert train.values is val.values and (train.lookback, train.horizon) == (val.lookback, val.horizon)
    gather = Gather(train.values, train.lookback, train.horizon, train.per_window, train.future_columns)
    trainer = OnDevice(model, gather, name=f"{model.name}_on_device")
    # The mean over the real windows of a batch: padding that evens out a batch over several devices weighs nothing
    loss = keras.losses.MeanSquaredError(reduction="mean_with_sample_weight")
    trainer.compile(optimizer=model.optimizer, loss=loss, jit_compile=model.jit_compile)
    return trainer


@dataclass
class CellResult:
    """One trained cell: its model, training history and test forecasts in original units."""

    model: keras.Model
    fit: FitResult
    test_forecast: np.ndarray  # (n_test_windows, horizon), original units
    val_forecast: np.ndarray  # (n_val_windows, horizon), original units
    metrics: dict
    intervals: dict[str, list[float]]  # level ("0.9") -> conformal half-width per horizon step
    compute: Compute
    anchor: Anchor  # as used: never auto
    anchor_reason: str  # why auto chose it ("" when given)
    # While the model is its linear start (direct, epoch 0): each training window's MAE in original units under the
    # held-out forecasts (linear.LinearStart.held_out), more evidence for the recommendation; else None.
    held_out_mae: np.ndarray | None = None
    # The untrained model's forecasts (the reference and the linear start), original units, of an anchored model:
    # {"val": (n_val_windows, horizon), "test": (n_test_windows, horizon)}; None for a plain network.
    start_forecast: dict[str, np.ndarray] | None = None


def hold_start(model: keras.Model, train: Windows, scheme: Scheme, fitted: bool = True) -> float:
    """Set an anchored model up to train its cell on what the start leaves, as `scheme` says: the correction's scale
    (the root mean squared error of the start on the training windows) and, when the linear path was `fitted` (its
    least-squares start passed validation), its rate: frozen by default, before the trainer compiles, so that its
    optimizer never moves it. A linear path left at zero is no optimum to protect: it trains like any weight. The
    forecasts stay the start's, exactly: the head is still zero. Returns the start's training loss (MSE in the
    model's units)."""
    loss = float(np.mean(window_errors(model, train)))
    if scheme.scale_correction:
        model.get_layer("correction").scale.assign(max(np.sqrt(loss), 1e-6))  # a perfect start still lets it move
    if fitted and "linear" in (layer.name for layer in model.layers):
        if scheme.linear_rate == 0:
            model.get_layer("linear").trainable = False
        elif scheme.linear_rate != 1:
            exponent = np.log2(scheme.linear_rate)
            assert exponent == round(exponent) and exponent < 0, scheme.linear_rate  # exact: a power of two below 1
            layer = model.get_layer("linear")
            layer.set_weights([w / scheme.linear_rate for w in layer.get_weights()])
            model.get_layer("linear_scale").scale.assign(scheme.linear_rate)
    return loss


def one_step_windows(prep: Prepared, part: str) -> Windows:
    """A part's windows with one-step targets, for training a recursive model."""
    lookback = prep.windows[part].lookback
    return Windows(prep.scaled, lookback, 1, prep.origins(part, lookback, 1), prep.normalize)


def train_cell(prep: Prepared, cfg: RunConfig, device: Device,
               on_epoch: Callable[[int, dict, float], None] | None = None,
               state_dir: Path | None = None, score_epochs: bool = False, scheme: Scheme = Scheme()) -> CellResult:
    """Build, fit and score one cell; every cell of a command sees the same split, scaler and seed. With
    `score_epochs`, every epoch's validation MSE in the target's original units reaches `on_epoch` too
    (logs["val_mse_units"]: comparable across normalisations and transforms, for `tune`'s pruner). With
    `device.replicas`, data parallel over those devices."""
    with data_parallel(device):
        return _train_cell(prep, cfg, device, on_epoch, state_dir, score_epochs, scheme)


def _train_cell(prep: Prepared, cfg: RunConfig, device: Device, on_epoch, state_dir: Path | None,
                score_epochs: bool, scheme: Scheme) -> CellResult:
    recursive = cfg.model.strategy is Strategy.recursive
    compute = plan_compute(cfg, device, training_work(len(prep.windows["train"]), cfg.train))
    anchor, anchor_reason = choose_anchor(prep, cfg.model.anchor)
    seed_everything(cfg.train.seed)
    outputs = WindowConfig(cfg.window.lookback, 1 if recursive else cfg.window.horizon)
    model = build_model(cfg.model, outputs, prep.scaled.shape[1], cfg.train.learning_rate, jit=compute.jit,
                        mixed=compute.mixed, use_cudnn=compute.use_cudnn, anchor=anchor,
                        season=anchor_season(anchor.value, prep.season, prep.season2),
                        n_future=prep.windows["train"].n_future)
    share_clipping(model.optimizer, device)
    train, val = ((one_step_windows(prep, "train"), one_step_windows(prep, "val")) if recursive
                  else (prep.windows["train"], prep.windows["val"]))
    linear_start = (fit_linear_path(model, train, val, level_free=anchor is not Anchor.none,
                                    season=anchor_season(anchor.value, prep.season, prep.season2))
                    if cfg.model.linear else None)
    anchored = anchor is not Anchor.none or cfg.model.linear
    fitted = linear_start is not None and "fit" in linear_start.record  # a zero start records only its reason
    start_train_loss = hold_start(model, train, scheme, fitted) if anchored else None
    board = state_dir / "tensorboard" if cfg.train.tensorboard and state_dir is not None else None
    actual = actual_targets(prep, "val") if score_epochs else None

    def forecast(model: keras.Model, part: str, trainer: keras.Model | None = None) -> np.ndarray:
        w = prep.windows[part]
        return prep.to_target(forecast_windows(model, w, cfg.model.strategy, on_device=trainer), w.origins)

    def val_mse(trainer: keras.Model) -> float:  # the OnDevice in training, around `model`
        w = prep.windows["val"]
        scaled = forecast_windows(model, w, cfg.model.strategy, on_device=trainer)
        return float(np.mean((prep.to_target(scaled, w.origins) - actual) ** 2))

    # The start's own forecasts, before any training: the `start` row of every table, what each cell adds to
    start = {part: forecast(model, part) for part in ("val", "test")} if anchored else None
    fitting = cfg.train if scheme.patience is None else dataclasses.replace(cfg.train, patience=scheme.patience)
    fit = fit_model(model, train, val, fitting, on_epoch, state_dir, tensorboard=board,
                    score=val_mse if score_epochs else None,
                    # --patience 0 keeps the last epoch, whatever its validation loss
                    keep_start=anchored and fitting.patience > 0,
                    keep_gain=scheme.keep_gain, keep_significance=scheme.keep_significance, score_start=anchored)

    test_forecast, val_forecast = forecast(model, "test", fit.on_device), forecast(model, "val", fit.on_device)
    intervals = interval_half_widths(prep, val_forecast, cfg.train.intervals) if cfg.train.intervals else {}
    metrics = {
        "test": score_test(prep, test_forecast, intervals),
        "val": {**score_val(prep, val_forecast),
                **({"interval_check": interval_check(prep, val_forecast, cfg.train.intervals)}
                   if cfg.train.intervals else {})},
        "best_epoch": fit.best_epoch,
        "model_epoch": fit.model_epoch,
        "epochs_run": len(fit.history),
        "best_val_loss": float(fit.history["val_loss"].min()),
        "training_seconds": round(fit.seconds, 3),
    }
    if start is not None:
        tested = score_test(prep, start["test"])
        metrics["start"] = {"test": tested["model"], "val": score_val(prep, start["val"])["model"],
                            "train_loss": start_train_loss, "val_loss": fit.start_loss, "kept": fit.model_epoch == 0}
        if "series" in tested:  # each series' test scores, beside the model's in metrics["test"]["series"]
            metrics["start"]["series"] = {name: one["model"] for name, one in tested["series"].items()}
    held_out = None
    if linear_start is not None:
        metrics["linear_start"] = linear_start.record
        if linear_start.held_out is not None and fit.model_epoch == 0 and not recursive:
            held_out = window_mae(actual_targets(prep, "train"), prep.to_target(linear_start.held_out, train.origins))
    return CellResult(model=model, fit=fit, test_forecast=test_forecast, val_forecast=val_forecast, metrics=metrics,
                      intervals=intervals, compute=compute, anchor=anchor, anchor_reason=anchor_reason,
                      held_out_mae=held_out, start_forecast=start)
