"""build_model: a stack of SimpleRNN, LSTM or GRU layers and a Dense(horizon) head, with the keras API only."""

from __future__ import annotations

import keras

from forecast.config import Cell, ModelConfig, WindowConfig

CELLS = {Cell.rnn: keras.layers.SimpleRNN, Cell.lstm: keras.layers.LSTM, Cell.gru: keras.layers.GRU}


def build_model(model: ModelConfig, window: WindowConfig, n_features: int, learning_rate: float) -> keras.Model:
    """A compiled model mapping (batch, lookback, n_features) to (batch, horizon), trained on MSE.

    The recurrent layers keep their defaults (tanh/sigmoid, no recurrent dropout, no unroll) so LSTM and
    GRU stay eligible for the fused cuDNN kernel on GPU; dropout sits in separate layers between them.
    """
    layer = CELLS[model.cell]
    inputs = keras.Input(shape=(window.lookback, n_features), name="window")
    x = inputs
    for i in range(model.layers):
        last = i == model.layers - 1
        x = layer(model.units, return_sequences=not last, name=f"{model.cell.value}_{i + 1}")(x)
        if model.dropout > 0:
            x = keras.layers.Dropout(model.dropout, name=f"dropout_{i + 1}")(x)
    outputs = keras.layers.Dense(window.horizon, name="forecast")(x)  # (batch, horizon)
    net = keras.Model(inputs, outputs, name=f"{model.cell.value}_forecaster")
    # Clipping keeps SimpleRNN (no gates) from the occasional exploding step; it costs nothing for LSTM/GRU.
    net.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=1.0), loss="mse")
    return net
