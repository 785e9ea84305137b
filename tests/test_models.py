import numpy as np
import pytest

from forecast.config import Cell, ModelConfig, WindowConfig


@pytest.mark.parametrize("cell", list(Cell))
@pytest.mark.parametrize("layers", [1, 2])
def test_build_model_maps_windows_to_horizon(cell, layers):
    from forecast.models import build_model

    model = build_model(ModelConfig(cell, units=4, layers=layers, dropout=0.1), WindowConfig(12, 3), 2, 1e-3)
    assert model.input_shape == (None, 12, 2) and model.output_shape == (None, 3)
    assert model.predict(np.zeros((5, 12, 2), np.float32), verbose=0).shape == (5, 3)
    recurrent = [layer for layer in model.layers if cell.value in layer.name]
    assert len(recurrent) == layers
    assert type(recurrent[0]).__name__ == {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[cell.value]


@pytest.mark.parametrize("cell", [Cell.lstm, Cell.gru])
def test_recurrent_layers_stay_cudnn_eligible(cell):
    from forecast.models import build_model

    model = build_model(ModelConfig(cell, units=4, layers=2, dropout=0.2), WindowConfig(8, 1), 1, 1e-3)
    for layer in model.layers:
        if cell.value in layer.name:
            cfg = layer.get_config()
            assert cfg["activation"] == "tanh" and cfg["recurrent_activation"] == "sigmoid"
            assert cfg["recurrent_dropout"] == 0 and cfg["unroll"] is False and cfg["use_bias"] is True
            if cell is Cell.gru:
                assert cfg["reset_after"] is True
