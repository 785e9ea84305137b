"""build_model: a stack of SimpleRNN, LSTM or GRU layers and a Dense(horizon) head, with the keras API only;
optionally added to a simple reference forecast and a linear autoregressive path, both computed from the window;
and the wrapper that trains it on batches of origins, gathering their windows on the device."""

from __future__ import annotations

import keras
import numpy as np

from forecast.backend import FUSED
from forecast.config import Anchor, Cell, ModelConfig, WindowConfig

CELLS = {Cell.rnn: keras.layers.SimpleRNN, Cell.lstm: keras.layers.LSTM, Cell.gru: keras.layers.GRU}


@keras.saving.register_keras_serializable(package="forecast")
class Reference(keras.layers.Layer):
    """A simple reference forecast of `horizon` steps from the window's target column (column 0), in the model's
    scaled units: naive y[t], seasonal naive y[t+h-m*k], or seasonal difference y[t] + y[t+h-m*k] - y[t-m*k] with
    k = ceil(h/m), as forecast.baselines computes them in original units. Linear in the window, so it holds for
    globally scaled values and for offsets from the window's last value alike."""

    def __init__(self, anchor: str, horizon: int, season: int, **kwargs):
        super().__init__(**kwargs)
        self.anchor, self.horizon, self.season = Anchor(anchor), horizon, season

    def call(self, window):
        y = window[:, :, 0]  # (batch, lookback)
        last = window.shape[1] - 1
        h = np.arange(1, self.horizon + 1)
        back = self.season * np.ceil(h / self.season).astype("int32")  # m*k
        repeated = keras.ops.repeat(y[:, last:], self.horizon, axis=1)  # (batch, horizon)
        if self.anchor is Anchor.naive:
            return repeated
        ahead = keras.ops.take(y, last + h - back, axis=1)  # one season back from each step
        if self.anchor in (Anchor.seasonal, Anchor.seasonal2):  # the season given is the anchor's own
            return ahead
        return repeated + ahead - keras.ops.take(y, last - back, axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "anchor": self.anchor.value, "horizon": self.horizon, "season": self.season}


@keras.saving.register_keras_serializable(package="forecast")
class Correction(keras.layers.Layer):
    """A layer's output times a fixed scale (a non-trainable weight, saved with the model), 1 until training sets it.
    The optimizer's steps are about the learning rate whatever the gradient, so the scale sets how far a step moves
    the output: after the recurrent head, the spread of what the start leaves on the training windows (the
    correction moves in proportion to what there is to correct, not to the series); after the linear path, a power
    of two below 1 with the weights divided by it (the same forecasts, exactly, and steps that much smaller)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="scale")

    def call(self, x):
        return x * keras.ops.cast(self.scale, x.dtype)


def build_model(model: ModelConfig, window: WindowConfig, n_features: int, learning_rate: float, *,
                jit: bool = False, mixed: bool = False, use_cudnn: bool | str = "auto",
                anchor: Anchor = Anchor.none, season: int = 1, n_future: int = 0) -> keras.Model:
    """A compiled model mapping (batch, lookback, n_features) to (batch, horizon), trained on MSE.

    The recurrent layers keep their defaults (tanh/sigmoid, no unroll) so LSTM and GRU stay eligible for
    the fused cuDNN kernel on GPU; dropout sits in separate layers between them, and only a
    `recurrent_dropout` above 0 (which the user asks for, and is warned about) gives the kernel up.

    `jit` compiles the steps with XLA. `mixed` computes the recurrent layers in float16 with float32
    weights and loss scaling, while the output layer stays float32 so forecasts and the loss keep their
    precision. `use_cudnn=True` makes Keras fail rather than fall back when the fused kernel cannot run.

    `anchor` (resolved, never auto) adds the network's output to that reference forecast of the window, and
    `model.linear` a linear path over the window; both corrections start at zero weights. With `n_future`
    known-future columns the model takes a second input, their values at the horizon steps (batch, horizon,
    n_future), which the head and the linear path read beside the recurrent state and the window.
    """
    layer = CELLS[model.cell]
    policy = "mixed_float16" if mixed else None
    options = {"use_cudnn": use_cudnn} if model.cell in FUSED else {}
    inputs = keras.Input(shape=(window.lookback, n_features), name="window")
    x = inputs
    for i in range(model.layers):
        last = i == model.layers - 1
        x = layer(model.units, return_sequences=not last, recurrent_dropout=model.recurrent_dropout,
                  dtype=policy, name=f"{model.cell.value}_{i + 1}", **options)(x)
        if model.dropout > 0:
            x = keras.layers.Dropout(model.dropout, dtype=policy, name=f"dropout_{i + 1}")(x)
    anchored = anchor not in (Anchor.none, Anchor.auto)
    # Corrections start at zero, so the untrained model is exactly its reference (or zero without one).
    zero = "zeros" if anchored or model.linear else "glorot_uniform"
    future = keras.Input(shape=(window.horizon, n_future), name="future") if n_future else None
    if future is not None:
        ahead = keras.layers.Flatten(name="future_flat")(future)  # (batch, horizon * n_future)
        x = keras.layers.Concatenate(dtype="float32", name="state_and_future")([x, ahead])
    outputs = keras.layers.Dense(window.horizon, dtype="float32", kernel_initializer=zero,
                                 name="forecast")(x)  # (batch, horizon)
    if anchored or model.linear:
        outputs = Correction(dtype="float32", name="correction")(outputs)
    parts = [outputs]
    if model.linear:  # the autoregressive highway of LSTNet: a linear map of the whole window
        flat = keras.layers.Flatten(name="window_flat")(inputs)  # (batch, lookback * n_features)
        if future is not None:
            flat = keras.layers.Concatenate(name="window_and_future")([flat, ahead])
        linear = keras.layers.Dense(window.horizon, kernel_initializer="zeros", name="linear")(flat)
        parts.append(Correction(dtype="float32", name="linear_scale")(linear))  # its rate (training.hold_start)
    if anchored:
        parts.append(Reference(anchor.value, window.horizon, season, dtype="float32", name="reference")(inputs))
    if len(parts) > 1:
        outputs = keras.layers.Add(dtype="float32", name="anchored")(parts)
    net = keras.Model(inputs if future is None else [inputs, future], outputs, name=f"{model.cell.value}_forecaster")
    # Clipping keeps SimpleRNN (no gates) from the occasional exploding step; it costs nothing for LSTM/GRU.
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=1.0)
    if mixed:  # float16 gradients underflow without it
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    net.compile(optimizer=optimizer, loss="mse", jit_compile=jit)
    return net


class Gather(keras.layers.Layer):
    """The windows of a batch of origins, gathered inside the compiled step from the whole scaled series, which
    goes to the device once (a non-trainable variable): a step receives only its origins, not its windows.
    The same windows as forecast.windows.Windows: inputs are rows t-lookback+1 .. t, targets the target column
    at rows t+1 .. t+horizon, known-future columns [a, b) at those rows; under window normalisation the target
    column is an offset from its value at the origin."""

    def __init__(self, values: np.ndarray, lookback: int, horizon: int, per_window: bool,
                 future: tuple[int, int] | None = None, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.series = keras.Variable(np.asarray(values, dtype=np.float32), trainable=False, name="series")
        self.back = np.arange(-lookback + 1, 1, dtype="int32")
        self.ahead = np.arange(1, horizon + 1, dtype="int32")
        self.per_window, self.future = per_window, future
        self.built = True  # its one variable exists already

    @staticmethod
    def origins(origins):
        """The origins of a batch, with padding (marked -1 - origin by batches.padded_origins) read as its origin."""
        origins = keras.ops.cast(origins, "int32")
        return keras.ops.where(keras.ops.less(origins, 0), -1 - origins, origins)

    def _rows(self, origins, offsets):
        return keras.ops.expand_dims(self.origins(origins), 1) + offsets  # (batch, len(offsets))

    def call(self, origins):
        x = keras.ops.take(self.series, self._rows(origins, self.back), axis=0)  # (batch, lookback, columns)
        if self.per_window:
            y = x[:, :, :1] - x[:, -1:, :1]
            x = keras.ops.concatenate([y, x[:, :, 1:]], axis=-1) if x.shape[-1] > 1 else y
        if self.future is None:
            return x
        a, b = self.future
        return x, keras.ops.take(self.series[:, a:b], self._rows(origins, self.ahead), axis=0)

    def targets(self, origins):
        y = keras.ops.take(self.series[:, 0], self._rows(origins, self.ahead), axis=0)  # (batch, horizon)
        if self.per_window:
            y = y - keras.ops.expand_dims(keras.ops.take(self.series[:, 0], self.origins(origins)), 1)
        return y


class OnDevice(keras.Model):
    """Trains and scores `net` (which maps windows to forecasts, and is what a run saves) on batches of origins:
    the windows and targets are gathered on the device by `gather`. Weights are the net's (early stopping copies
    them, not the series)."""

    def __init__(self, net: keras.Model, gather: Gather, **kwargs):
        super().__init__(**kwargs)
        self.net, self.gather = net, gather
        self.built = True  # both parts are built: BackupAndRestore may restore into it before the first step

    def call(self, origins, training=False):
        return self.net(self.gather(origins), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        real = keras.ops.cast(keras.ops.greater_equal(x, 0), "float32")  # padding (a negative origin) weighs nothing
        return super().compute_loss(x, self.gather.targets(x), y_pred, real, training)

    def get_weights(self):
        return self.net.get_weights()

    def set_weights(self, weights):
        self.net.set_weights(weights)
