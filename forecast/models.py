"""build_model: a stack of SimpleRNN, LSTM or GRU layers and a Dense(horizon) head, with the keras API only."""

from __future__ import annotations

import keras

from forecast.backend import FUSED
from forecast.config import Cell, ModelConfig, WindowConfig

CELLS = {Cell.rnn: keras.layers.SimpleRNN, Cell.lstm: keras.layers.LSTM, Cell.gru: keras.layers.GRU}


def build_model(model: ModelConfig, window: WindowConfig, n_features: int, learning_rate: float, *,
                jit: bool = False, mixed: bool = False, use_cudnn: bool | str = "auto") -> keras.Model:
    """A compiled model mapping (batch, lookback, n_features) to (batch, horizon), trained on MSE.

    The recurrent layers keep their defaults (tanh/sigmoid, no unroll) so LSTM and GRU stay eligible for
    the fused cuDNN kernel on GPU; dropout sits in separate layers between them, and only a
    `recurrent_dropout` above 0 (which the user asks for, and is warned about) gives the kernel up.

    `jit` compiles the steps with XLA. `mixed` computes the recurrent layers in float16 with float32
    weights and loss scaling, while the output layer stays float32 so forecasts and the loss keep their
    precision. `use_cudnn=True` makes Keras fail rather than fall back when the fused kernel cannot run.
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
    outputs = keras.layers.Dense(window.horizon, dtype="float32", name="forecast")(x)  # (batch, horizon)
    net = keras.Model(inputs, outputs, name=f"{model.cell.value}_forecaster")
    # Clipping keeps SimpleRNN (no gates) from the occasional exploding step; it costs nothing for LSTM/GRU.
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=1.0)
    if mixed:  # float16 gradients underflow without it
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    net.compile(optimizer=optimizer, loss="mse", jit_compile=jit)
    return net
