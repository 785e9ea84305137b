import numpy as np
import pytest

from forecast.config import Anchor, Cell, ModelConfig, WindowConfig


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


@pytest.mark.slow
@pytest.mark.parametrize("cell", list(Cell))
def test_mixed_precision_keeps_the_output_layer_and_forecasts_in_float32(cell, tmp_path):
    import keras

    from forecast.models import build_model

    model = build_model(ModelConfig(cell, units=4), WindowConfig(6, 2), 1, 1e-3, mixed=True)
    recurrent, head = model.get_layer(f"{cell.value}_1"), model.get_layer("forecast")
    assert recurrent.compute_dtype == "float16" and recurrent.variable_dtype == "float32"
    assert head.compute_dtype == "float32" and model.output.dtype == "float32"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    x = np.linspace(0, 1, 16 * 6, dtype=np.float32).reshape(16, 6, 1)
    model.fit(x, x[:, -2:, 0], epochs=1, verbose=0)
    before = model.predict_on_batch(x)
    assert before.dtype == np.float32 and np.isfinite(before).all()
    model.save(tmp_path / "model.keras")  # and it loads back under safe mode, the way `predict` loads runs
    again = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_array_equal(again.predict_on_batch(x), before)


def test_recurrent_dropout_and_jit_reach_the_model():
    from forecast.models import build_model

    model = build_model(ModelConfig(Cell.gru, units=4, recurrent_dropout=0.25), WindowConfig(6, 1), 1, 1e-3,
                        jit=True)
    assert model.get_layer("gru_1").get_config()["recurrent_dropout"] == 0.25
    assert model.jit_compile is True
    assert build_model(ModelConfig(Cell.gru, units=4), WindowConfig(6, 1), 1, 1e-3).jit_compile is False


def _gpu() -> bool:
    from forecast.backend import backend_devices

    return any(d.startswith("gpu") for d in backend_devices())


@pytest.mark.parametrize("cell", [Cell.lstm, Cell.gru])
def test_the_fused_cudnn_kernel_runs_on_a_gpu(cell):
    """use_cudnn=True makes Keras raise instead of falling back, so passing proves the fused kernel ran."""
    if not _gpu():
        pytest.skip("needs a GPU: the fused cuDNN kernel exists only there")
    from forecast.models import build_model

    model = build_model(ModelConfig(cell, units=8, layers=2), WindowConfig(16, 2), 1, 1e-3, use_cudnn=True)
    x = np.random.default_rng(0).standard_normal((64, 16, 1)).astype(np.float32)
    history = model.fit(x, x[:, -2:, 0], batch_size=32, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict_on_batch(x).shape == (64, 2)


def _seasonal_series(n: int = 240, season: int = 12) -> np.ndarray:
    t = np.arange(n)
    return (0.05 * t + np.sin(2 * np.pi * t / season) + 0.1 * np.random.default_rng(0).standard_normal(n))


@pytest.mark.parametrize("anchor, baseline, linear, horizon", [
    ("naive", "naive", False, 1), ("seasonal", "seasonal_naive", True, 5), ("sdiff", "seasonal_diff", True, 15),
    ("sdiff", "seasonal_diff", False, 1), ("seasonal2", "seasonal_naive", True, 5),
    ("sdiff2", "seasonal_diff", True, 15),
])
def test_the_untrained_anchored_model_is_its_reference_exactly(anchor, baseline, linear, horizon):
    from forecast.baselines import BASELINES
    from forecast.models import build_model
    from forecast.windows import Windows, part_origins

    season, lookback = 12, 30
    values = _seasonal_series().astype(np.float32)[:, None]
    windows = Windows(values, lookback, horizon, part_origins((0, 240), lookback, horizon))
    model = build_model(ModelConfig(Cell.gru, units=4, anchor=Anchor(anchor), linear=linear),
                        WindowConfig(lookback, horizon), 1, 1e-3, anchor=Anchor(anchor), season=season)
    out = model.predict(windows.inputs(np.arange(len(windows))), verbose=0)
    y = values[:, 0]  # the baselines, computed in float32 in the same order as the layer
    expected = BASELINES[baseline](y, windows.origins, horizon, lookback, season).astype(np.float32)
    if anchor in ("sdiff", "sdiff2"):  # the layer reads the season given, the second one for the "2" anchors
        back = season * np.ceil(np.arange(1, horizon + 1) / season).astype(int)
        rows = windows.origins[:, None] - back[None, :]
        expected = (y[windows.origins][:, None] + y[rows + np.arange(1, horizon + 1)]) - y[rows]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.slow
def test_early_stopping_never_keeps_a_state_worse_than_the_start():
    from forecast.config import Anchor, TrainConfig
    from forecast.models import build_model
    from forecast.training import fit_model
    from forecast.windows import Windows, part_origins

    values = _seasonal_series().astype(np.float32)[:, None]
    values = (values - values[:160].mean()) / values[:160].std()
    train = Windows(values, 24, 3, part_origins((0, 160), 24, 3))
    val = Windows(values, 24, 3, part_origins((160, 240), 24, 3))
    for patience in (0, 3):
        # a learning rate that can only make things worse: every state after the start is worse on validation
        model = build_model(ModelConfig(Cell.rnn, units=8, anchor=Anchor.seasonal, linear=True), WindowConfig(24, 3),
                            1, 5.0, anchor=Anchor.seasonal, season=12)
        start = model.predict(val.inputs(np.arange(len(val))), verbose=0)
        fit = fit_model(model, train, val, TrainConfig(epochs=3, batch_size=16, patience=patience), keep_start=True)
        assert fit.model_epoch == 0 and fit.best_epoch == 0 and fit.history["val_loss"].min() > 0
        np.testing.assert_array_equal(model.predict(val.inputs(np.arange(len(val))), verbose=0), start)


@pytest.mark.slow
@pytest.mark.parametrize("cell, rate", [(Cell.rnn, 0.0), (Cell.lstm, 0.0), (Cell.gru, 0.0), (Cell.gru, 1 / 64)])
def test_holding_the_start_keeps_the_untrained_model_equal_to_it_and_training_never_moves_the_linear_path(cell, rate):
    from forecast.config import TrainConfig
    from forecast.linear import fit_linear_path
    from forecast.models import build_model
    from forecast.training import Scheme, fit_model, hold_start, window_errors
    from forecast.windows import Windows, part_origins

    values = _seasonal_series(400).astype(np.float32)[:, None]
    values = (values - values[:280].mean()) / values[:280].std()
    train = Windows(values, 24, 3, part_origins((0, 280), 24, 3))
    val = Windows(values, 24, 3, part_origins((280, 400), 24, 3))
    model = build_model(ModelConfig(cell, units=4, anchor=Anchor.seasonal, linear=True), WindowConfig(24, 3), 1,
                        1e-2, anchor=Anchor.seasonal, season=12)
    fit_linear_path(model, train, val, level_free=True, season=12)
    x = val.inputs(np.arange(len(val)))
    start, linear = model.predict(x, verbose=0), model.get_layer("linear").get_weights()
    loss = hold_start(model, train, Scheme(linear_rate=rate))
    # the correction's scale: the start's root mean squared training error; the forecasts are still the start's
    scale = float(model.get_layer("correction").scale.numpy())
    assert loss == pytest.approx(float(np.mean(window_errors(model, train))), rel=1e-6)
    assert scale == pytest.approx(np.sqrt(loss), rel=1e-6) and scale > 0
    assert model.get_layer("linear").trainable == (rate > 0)
    assert float(model.get_layer("linear_scale").scale.numpy()) == (rate or 1.0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), start)  # a power of two: exactly the start
    fit = fit_model(model, train, val, TrainConfig(epochs=3, batch_size=16, patience=0))
    assert len(fit.history) == 3
    moved = [after * (rate or 1.0) - before for after, before in zip(model.get_layer("linear").get_weights(), linear,
                                                                     strict=True)]
    if rate == 0:  # frozen: exactly the least-squares start
        assert all(not m.any() for m in moved)
    else:  # steps 64 times smaller than the cell's: at most 3 epochs x 15 steps x the rate x 1e-2, and some move
        assert 0 < max(np.abs(m).max() for m in moved) <= 45 * rate * 1e-2 * 1.01
    assert not np.array_equal(model.predict(x, verbose=0), start)  # the cell did move
    if rate == 0:
        model.get_layer("correction").scale.assign(0.0)  # without the cell's correction: the start again, exactly
        np.testing.assert_array_equal(model.predict(x, verbose=0), start)
        model.get_layer("linear").trainable = True  # unfrozen: the same weights, the same forecasts
        np.testing.assert_array_equal(model.predict(x, verbose=0), start)


def test_a_trained_state_replaces_its_start_only_when_better_by_one_percent_and_one_standard_error():
    from forecast.ensemble import beats

    start = 1.0 + np.random.default_rng(0).random(200)  # each validation window's MSE at the start
    swings = np.where(np.arange(200) % 2 == 0, -0.5, 0.46)  # 1.3% lower on average, but by luck: DM -0.59
    assert (start + swings).mean() < 0.99 * start.mean() and not beats(start + swings, start, horizon=1, min_gain=0.01)
    steady = np.where(np.arange(200) % 2 == 0, -0.021, -0.019)  # 1.3% lower in every window
    assert beats(start + steady, start, horizon=1, min_gain=0.01)
    assert beats(start - 0.02, start, horizon=1, min_gain=0.01)  # the same gain everywhere: no spread, still a gain
    assert not beats(start - 0.001, start, horizon=1, min_gain=0.01)  # steady, but less than 1%
    assert not beats(start + 0.02, start, horizon=1, min_gain=0.01)


def _ar2(n: int, phi: tuple[float, float], seed: int = 0) -> np.ndarray:
    rng, y = np.random.default_rng(seed), np.zeros(n)
    for t in range(2, n):
        y[t] = phi[0] * y[t - 1] + phi[1] * y[t - 2] + 0.1 * rng.standard_normal()
    return y


def _linear_start(values: np.ndarray, lookback: int, horizon: int, train_end: int, cell: Cell = Cell.gru):
    """The training windows before `train_end`, the validation windows after it, a model with a linear path, and
    what fit_linear_path chose for it (linear.LinearStart)."""
    from forecast.models import build_model
    from forecast.linear import fit_linear_path
    from forecast.windows import Windows, part_origins

    values = values.astype(np.float32)[:, None]
    train = Windows(values, lookback, horizon, part_origins((0, train_end), lookback, horizon))
    val = Windows(values, lookback, horizon, part_origins((train_end, len(values)), lookback, horizon))
    model = build_model(ModelConfig(cell, units=4, linear=True), WindowConfig(lookback, horizon), 1, 1e-3)
    return fit_linear_path(model, train, val), model, train, val


def test_the_linear_path_starts_at_its_least_squares_fit():
    start, model, _, val = _linear_start(_ar2(3000, (0.6, -0.3)), 4, 1, 2000, Cell.lstm)
    chosen = start.record
    kernel, bias = model.get_layer("linear").get_weights()
    # rows of the window oldest first: lags 4, 3, 2, 1
    np.testing.assert_allclose(kernel[:, 0], [0.0, 0.0, -0.3, 0.6], atol=0.05)
    assert abs(float(bias[0])) < 0.01 and chosen["ridge"] is not None
    assert chosen["val_mse"] < 0.8 * chosen["val_mse_zero"]
    x = val.inputs(np.arange(len(val)))
    np.testing.assert_allclose(model.predict(x, verbose=0)[:, 0], x[:, :, 0] @ kernel[:, 0] + bias[0], atol=1e-5)


def test_the_linear_paths_ridge_is_chosen_by_blocked_cross_validation_on_the_training_windows():
    from forecast.linear import FOLDS, RIDGE

    start, _, train, _ = _linear_start(_ar2(1500, (0.6, -0.3)), 6, 2, 1000)
    chosen = start.record
    # by hand: each of five contiguous blocks of windows scored by the ridge fit on the other four
    idx = np.arange(len(train))
    x = np.concatenate([train.inputs(idx).reshape(len(idx), -1), np.ones((len(idx), 1))], axis=1).astype(np.float64)
    r = train.targets(idx).astype(np.float64)
    spread = np.trace(x[:, :6].T @ x[:, :6]) / 6
    edges = np.linspace(0, len(idx), FOLDS + 1).astype(int)
    expected, held_out = {"0": float(np.mean(r ** 2))}, {}
    for strength in RIDGE:
        sse, held_out[strength] = 0.0, np.zeros_like(r)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            out = (idx >= lo) & (idx < hi)
            penalty = np.diag([strength * spread] * 6 + [0.0])
            w = np.linalg.solve(x[~out].T @ x[~out] + penalty, x[~out].T @ r[~out])
            sse += float(np.sum((r[out] - x[out] @ w) ** 2))
            held_out[strength][out] = x[out] @ w
        expected[f"{strength:g}"] = sse / r.size
    assert chosen["cv_mse"] == pytest.approx(expected, rel=1e-6)
    assert chosen["ridge"] == float(min(RIDGE, key=lambda k: expected[f"{k:g}"]))
    # each block's forecasts by the fit on the other four, at the chosen strength (no reference: the path alone)
    np.testing.assert_allclose(start.held_out, held_out[chosen["ridge"]], rtol=1e-6, atol=1e-9)
    assert chosen["val_mse"] < 0.9 * chosen["val_mse_zero"]


def test_an_anchored_linear_path_may_start_level_free_chosen_by_the_same_cross_validation():
    """Beside each strength, the fit whose lag weights add up to zero: a window moved by a constant moves the whole
    untrained model's forecast by that constant, as the reference does (no pull back to the training level)."""
    from forecast.linear import FOLDS, RIDGE, fit_linear_path
    from forecast.models import build_model
    from forecast.windows import Windows, part_origins

    rng, t = np.random.default_rng(0), np.arange(1200)
    level = np.cumsum(rng.standard_normal(1200)) * 0.5  # a wandering level under a season of 4
    y = (level + 2 * np.sin(2 * np.pi * t / 4) + 0.3 * rng.standard_normal(1200)).astype(np.float32)[:, None]
    train = Windows(y, 8, 2, part_origins((0, 800), 8, 2))
    val = Windows(y, 8, 2, part_origins((800, 1200), 8, 2))
    model = build_model(ModelConfig(Cell.gru, units=4, linear=True), WindowConfig(8, 2), 1, 1e-3,
                        anchor=Anchor.seasonal, season=4)
    start = fit_linear_path(model, train, val, level_free=True)
    chosen = start.record
    # by hand: the lags centred on their window's mean, each block scored by the ridge fit on the other blocks
    idx = np.arange(len(train))
    lags = train.inputs(idx).reshape(len(idx), -1).astype(np.float64)
    seasonal = lags[:, [-4, -3]]  # the reference: the value a season before each of the two steps
    r = train.targets(idx).astype(np.float64) - seasonal
    spread = np.trace(lags.T @ lags) / 8
    edges = np.linspace(0, len(idx), FOLDS + 1).astype(int)
    for strength in RIDGE:
        for key, x in ((f"{strength:g}", lags), (f"{strength:g} level-free", lags - lags.mean(1, keepdims=True))):
            x, sse = np.concatenate([x, np.ones((len(idx), 1))], axis=1), 0.0
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                out = (idx >= lo) & (idx < hi)
                w = np.linalg.solve(x[~out].T @ x[~out] + np.diag([strength * spread] * 8 + [0.0]),
                                    x[~out].T @ r[~out])
                sse += float(np.sum((r[out] - x[out] @ w) ** 2))
            assert chosen["cv_mse"][key] == pytest.approx(sse / r.size, rel=1e-5), key
    assert chosen["level_free"] is True and chosen["ridge"] == 1e-4  # a wandering level: level-free wins
    assert chosen["val_mse"] < 0.6 * chosen["val_mse_zero"]
    kernel, _ = model.get_layer("linear").get_weights()
    np.testing.assert_allclose(kernel.sum(axis=0), 0.0, atol=1e-5)
    x = val.inputs(np.arange(len(val)))
    np.testing.assert_allclose(model.predict(x + 10.0, verbose=0) - model.predict(x, verbose=0), 10.0, atol=1e-3)
    # without a reference (the path alone predicts the level) only free weights are tried
    assert not any("level-free" in key for key in _linear_start(_ar2(1500, (0.6, -0.3)), 6, 2, 1000)[0]
                   .record["cv_mse"])


def test_the_linear_path_keeps_its_zero_start_when_validation_prefers_it():
    # the sign of the dependence flips between the parts: the training fit only hurts on validation
    start, model, _, _ = _linear_start(np.concatenate([_ar2(1000, (0.9, 0.0)), _ar2(500, (-0.9, 0.0), seed=1)]),
                                       3, 1, 1000)
    chosen = start.record
    assert start.held_out is None  # the zero start has no held-out evidence to offer
    assert chosen["ridge"] is None and chosen["val_mse"] == chosen["val_mse_zero"]
    assert chosen["reason"] == ("the fit (ridge 0.0001) does not beat zero weights on validation by 1% and one "
                                "standard error")
    tried = chosen["val_mse_tried"]  # the fit's own validation error, worse than the zero start's, is recorded
    assert list(tried) == ["0.0001"] and tried["0.0001"] > chosen["val_mse_zero"]
    assert all(not w.any() for w in model.get_layer("linear").get_weights())


def test_the_linear_path_of_a_random_walk_starts_at_zero():
    # the lags of white noise carry nothing: no ridge strength beats zero weights on held-out blocks
    start, model, _, _ = _linear_start(np.random.default_rng(0).standard_normal(3000), 24, 1, 2000)
    chosen = start.record
    assert chosen["ridge"] is None and chosen["reason"] == "no strength beats zero weights across the training blocks"
    assert min(chosen["cv_mse"].values()) == chosen["cv_mse"]["0"]
    assert all(not w.any() for w in model.get_layer("linear").get_weights())


def test_validation_recommends_the_lowest_error_and_the_simpler_model_in_a_tie():
    from forecast.ensemble import mean_forecast, recommend

    actual = np.zeros((4, 2))
    same = np.ones((4, 2))
    tie = recommend(actual, {"lstm": same, "ensemble": same + 1e-16, "seasonal_naive": same})
    assert tie == {"model": "seasonal_naive", "by": tie["by"], "val_mae": {"lstm": 1.0, "ensemble": 1.0,
                                                                          "seasonal_naive": 1.0},
                   "best_model": "ensemble"}  # the ensemble before a single cell, a simple model before both
    assert recommend(actual, {"gru": same, "ensemble": same})["model"] == "ensemble"  # no reference to test against
    # drift and mean are simple models too: they win a tie, and a model must beat them as it must a reference
    assert recommend(actual, {"lstm": same, "drift": same, "naive": same + 1})["model"] == "drift"
    assert recommend(actual, {"lstm": same + 1, "mean": same, "naive": same + 2})["model"] == "mean"
    np.testing.assert_array_equal(mean_forecast([np.ones((2, 3)), 3 * np.ones((2, 3))]), 2 * np.ones((2, 3)))
    with pytest.raises(ValueError, match="different windows"):
        mean_forecast([np.ones((2, 3)), np.ones((3, 3))])


def test_a_model_replaces_the_best_reference_only_when_better_by_more_than_a_standard_error():
    from forecast.ensemble import SIGNIFICANCE, diebold_mariano, recommend

    rng = np.random.default_rng(0)
    actual = rng.standard_normal((200, 1))
    naive = actual + rng.standard_normal((200, 1))  # errors of size ~0.8
    lucky = actual + 0.99 * rng.standard_normal((200, 1))  # a little lower MAE on this sample, by chance
    good = actual + 0.3 * rng.standard_normal((200, 1))
    close = recommend(actual, {"rnn": lucky, "naive": naive, "seasonal_naive": naive + 1})
    assert close["val_mae"]["rnn"] < close["val_mae"]["naive"]
    assert close["model"] == "naive" and close["best_model"] == "rnn" and close["best_reference"] == "naive"
    assert -SIGNIFICANCE < close["diebold_mariano"] < 0
    clear = recommend(actual, {"rnn": lucky, "gru": good, "naive": naive})
    assert clear["model"] == "gru" and clear["diebold_mariano"] < -SIGNIFICANCE
    # the statistic by hand: mean difference over its standard error, with one Bartlett-weighted lag at horizon 2
    d = np.array([1.0, -1.0, 2.0, 0.0, -3.0, -2.0])
    x = d - d.mean()
    gamma0, gamma1 = x @ x / 6, x[1:] @ x[:-1] / 6
    assert diebold_mariano(d, 1) == pytest.approx(d.mean() / np.sqrt(gamma0 / 6))
    assert diebold_mariano(d, 2) == pytest.approx(d.mean() / np.sqrt((gamma0 + 2 * 0.5 * gamma1) / 6))
    assert diebold_mariano(np.zeros(1), 1) == 0.0


def test_held_out_training_forecasts_of_a_linear_start_count_as_evidence_for_the_recommendation():
    from forecast.ensemble import SIGNIFICANCE, diebold_mariano, recommend, recommendation_note

    rng = np.random.default_rng(3)
    actual = rng.standard_normal((12, 2))  # a short validation part: a real gain does not clear the noise
    reference = actual + rng.standard_normal((12, 2))
    model = actual + 0.9 * (reference - actual) + 0.3 * rng.standard_normal((12, 2))
    alone = recommend(actual, {"gru": model, "seasonal_naive": reference})
    assert alone["best_model"] == "gru" and alone["model"] == "seasonal_naive"
    assert -SIGNIFICANCE < alone["diebold_mariano"] < 0 and "held_out_windows" not in alone
    h_actual = rng.standard_normal((60, 2))
    h_reference = h_actual + rng.standard_normal((60, 2))
    h_reference[:3] = np.nan  # the first windows hold too little history for this reference
    h_model = h_actual + 0.8 * (h_reference - h_actual) + 0.3 * rng.standard_normal((60, 2))
    h_model[:3] = h_actual[:3]
    held = {"gru": np.abs(h_actual - h_model).mean(1), "seasonal_naive": np.abs(h_actual - h_reference).mean(1)}
    pooled = recommend(actual, {"gru": model, "seasonal_naive": reference}, held_out=held)
    assert pooled["model"] == "gru" and pooled["held_out_windows"] == 57 and pooled["simple_windows"] == 57 + 12
    by_hand = np.concatenate([np.abs(h_actual - h_model).mean(1) - np.abs(h_actual - h_reference).mean(1),
                              np.abs(actual - model).mean(1) - np.abs(actual - reference).mean(1)])
    assert pooled["diebold_mariano"] == pytest.approx(diebold_mariano(by_hand[3:], 2))
    assert pooled["diebold_mariano"] < -SIGNIFICANCE
    assert pooled["val_mae"] == alone["val_mae"]  # validation alone still ranks the models
    assert recommendation_note(pooled, str) == (
        f"gru, the lowest validation MAE, better than seasonal_naive, the simple model with the lowest MAE over 69 "
        f"training and validation windows, by more than one standard error (Diebold-Mariano statistic "
        f"{pooled['diebold_mariano']:.2f} over the validation windows and 57 held-out training windows of the linear "
        "start)")
    # a model without held-out forecasts (it trained past its start) is judged on validation alone
    other = recommend(actual, {"gru": model, "seasonal_naive": reference},
                      held_out={"lstm": held["gru"], "seasonal_naive": held["seasonal_naive"]})
    assert {k: other[k] for k in alone} == alone


def test_the_simple_models_are_ranked_over_the_training_and_validation_windows_together():
    from forecast.ensemble import recommend, recommendation_note

    actual = np.random.default_rng(5).standard_normal((10, 3))
    # on ten validation windows the naive is closer; over 200 training windows the seasonal naive is clearly
    # better, and it is the one a network must beat
    naive, seasonal = actual + 0.5, actual - 0.6
    held = {"naive": np.full(200, 1.2), "seasonal_naive": np.full(200, 0.6), "mean": np.full(200, 2.0)}
    held["naive"][:5] = np.nan  # a window without a forecast from one of them is left out for all of them
    forecasts = {"naive": naive, "seasonal_naive": seasonal, "mean": actual + 3}
    alone, pooled = recommend(actual, forecasts), recommend(actual, forecasts, held_out=held)
    assert alone["model"] == "naive" and "simple_windows" not in alone
    assert pooled["model"] == "seasonal_naive" and pooled["simple_windows"] == 195 + 10
    assert pooled["simple_mae"]["seasonal_naive"] == pytest.approx(
        (195 * 0.6 + 10 * 0.6) / 205)
    assert pooled["val_mae"] == alone["val_mae"]
    assert recommendation_note(pooled, str) == ("seasonal_naive, the simple model with the lowest MAE over 205 "
                                                "training and validation windows")
    # a network no better than the seasonal naive on validation is not judged against it
    worse = recommend(actual, {**forecasts, "gru": actual + 0.7}, held_out=held)
    assert worse["model"] == "seasonal_naive" and worse["best_model"] == "gru" and "diebold_mariano" not in worse
    assert recommendation_note(worse, str).endswith("; gru, the best network, is not lower on validation")


def test_a_linear_fit_that_gains_less_than_one_percent_on_validation_keeps_the_zero_start(monkeypatch):
    import forecast.linear
    from forecast.models import build_model
    from forecast.windows import Windows, part_origins

    # a weak dependence (AR(1), phi 0.05): the fit is real but gains about phi^2 = 0.25% of the MSE
    rng, y = np.random.default_rng(3), np.zeros(40_000)
    noise = rng.standard_normal(40_000)
    for t in range(1, 40_000):
        y[t] = 0.05 * y[t - 1] + noise[t]
    values = y.astype(np.float32)[:, None]
    train = Windows(values, 8, 1, part_origins((0, 20_000), 8, 1))
    val = Windows(values, 8, 1, part_origins((20_000, 40_000), 8, 1))

    def start(min_gain: float) -> dict:
        monkeypatch.setattr(forecast.linear, "MIN_GAIN", min_gain)
        model = build_model(ModelConfig(Cell.gru, units=4, linear=True), WindowConfig(8, 1), 1, 1e-3)
        return forecast.linear.fit_linear_path(model, train, val).record, model

    free, _ = start(0.0)
    assert free["ridge"] is not None and 0.99 * free["val_mse_zero"] < free["val_mse"] < free["val_mse_zero"]
    kept, model = start(0.01)
    assert kept["ridge"] is None and kept["val_mse"] == kept["val_mse_zero"]
    assert all(not w.any() for w in model.get_layer("linear").get_weights())


@pytest.mark.parametrize("normalize", ["global", "window"])
@pytest.mark.parametrize("horizon, future", [(1, None), (4, None), (3, (2, 4))])
def test_windows_gathered_on_the_device_are_the_windows_of_the_host(normalize, horizon, future):
    from forecast.config import Normalize
    from forecast.models import Gather
    from forecast.windows import Windows

    values = np.random.default_rng(0).standard_normal((60, 4)).astype(np.float32)
    origins = np.array([9, 30, 12, 55 - horizon], dtype=np.int64)  # any order, up to the last with a full target
    windows = Windows(values, 10, horizon, origins, Normalize(normalize), future)
    gather = Gather(values, 10, horizon, windows.per_window, future)
    inputs = gather(origins.astype(np.int32))
    host = windows.model_inputs(np.arange(len(origins)))
    for device, expected in zip(*((inputs, host) if future else ((inputs,), (host,))), strict=True):
        np.testing.assert_array_equal(np.asarray(device), expected)
    np.testing.assert_allclose(np.asarray(gather.targets(origins)), windows.targets(np.arange(len(origins))),
                               rtol=0, atol=1e-6)


def test_a_model_trained_on_origins_learns_what_it_learns_on_windows():
    import keras

    from forecast.batches import WindowBatches
    from forecast.models import Gather, OnDevice, build_model
    from forecast.windows import Windows

    values = np.sin(np.arange(400) / 3.0).astype(np.float32)[:, None]
    windows = Windows(values, 8, 2, np.arange(7, 397))

    def trained(on_device: bool) -> list[np.ndarray]:
        keras.utils.set_random_seed(0)
        net = build_model(ModelConfig(Cell.gru, units=4), WindowConfig(8, 2), 1, 1e-2)
        if on_device:
            model = OnDevice(net, Gather(values, 8, 2, False))
            model.compile(optimizer=net.optimizer, loss="mse")
        else:
            model = net
        model.fit(WindowBatches(windows, 32, shuffle_seed=0, origins=on_device), epochs=2, shuffle=False, verbose=0)
        assert model.get_weights()[0].shape == net.get_weights()[0].shape  # the net's weights, never the series
        return net.get_weights()

    for a, b in zip(trained(True), trained(False), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # the same batches, steps and updates


def test_forecasts_gathered_on_the_device_equal_those_gathered_on_the_host():
    from forecast.config import Normalize
    from forecast.inference import predict_windows
    from forecast.models import Gather, OnDevice, build_model
    from forecast.windows import Windows

    values = np.random.default_rng(1).standard_normal((300, 3)).astype(np.float32)
    windows = Windows(values, 12, 4, np.arange(11, 296), Normalize.window, (1, 3))
    net = build_model(ModelConfig(Cell.lstm, units=4), WindowConfig(12, 4), 3, 1e-3, n_future=2)
    device = OnDevice(net, Gather(values, 12, 4, True, (1, 3)))
    host = np.asarray(net.predict_on_batch(windows.model_inputs(np.arange(len(windows)))))  # windows from the host
    assert host.shape == (285, 4)
    np.testing.assert_allclose(predict_windows(net, windows, batch_size=64, on_device=device), host, atol=1e-6)
    # without one given (`predict` on a new series), predict_windows gathers on the device over the windows' series
    np.testing.assert_allclose(predict_windows(net, windows, batch_size=64), host, atol=1e-6)


def _seasonal_trend(n: int, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    """A season of 4 on a rising level, with a little AR(1) noise."""
    rng, e = np.random.default_rng(seed), np.zeros(n)
    for i in range(1, n):
        e[i] = 0.7 * e[i - 1] + noise * rng.standard_normal()
    return 0.05 * np.arange(n) + np.tile([1.0, -0.5, 0.3, -0.8], n // 4 + 1)[:n] + e


def _anchored_start(y: np.ndarray, train_end: int, anchor: Anchor = Anchor.seasonal, lookback: int = 8,
                    horizon: int = 6):
    from forecast.linear import fit_linear_path
    from forecast.models import build_model
    from forecast.windows import Windows, part_origins

    values = y.astype(np.float32)[:, None]
    train = Windows(values, lookback, horizon, part_origins((0, train_end), lookback, horizon))
    val = Windows(values, lookback, horizon, part_origins((train_end, len(y)), lookback, horizon))
    model = build_model(ModelConfig(Cell.gru, units=4, linear=True), WindowConfig(lookback, horizon), 1, 1e-3,
                        anchor=anchor, season=4)
    return fit_linear_path(model, train, val, level_free=anchor is not Anchor.none, season=4), model, train, val


def test_an_anchored_linear_path_may_start_at_the_seasonal_drift_exactly():
    """Too few training windows for a ridge (7 for 9 window values): the seasonal drift, which fits nothing, is the
    one start; the untrained model then forecasts y[t+h-4k] + k (mean of the last 4 values - mean of the 4 before)."""
    y = _seasonal_trend(60)
    start, model, train, val = _anchored_start(y, 20)
    chosen = start.record
    assert len(train) == 7 and chosen["fit"] == "seasonal drift" and chosen["season"] == 4
    assert chosen["ridge"] is None and chosen["level_free"] is True
    assert set(chosen["cv_mse"]) == {"0", "seasonal drift"}

    def by_hand(w):
        t = w.origins[:, None]
        h = np.arange(1, 7)[None, :]
        k = np.ceil(h / 4).astype(int)
        last = np.mean(y[t + np.arange(-3, 1)], axis=1, keepdims=True)
        before = np.mean(y[t + np.arange(-7, -3)], axis=1, keepdims=True)
        return y[t + h - 4 * k] + k * (last - before)

    targets = train.targets(np.arange(len(train)))
    assert chosen["cv_mse"]["seasonal drift"] == pytest.approx(np.mean((targets - by_hand(train)) ** 2), rel=1e-4)
    assert chosen["cv_mse"]["0"] == pytest.approx(np.mean((targets - y[train.origins[:, None] + np.array(
        [[-3, -2, -1, 0, -3, -2]])]) ** 2), rel=1e-4)  # the seasonal naive alone
    np.testing.assert_allclose(start.held_out, by_hand(train), atol=1e-4)  # nothing fitted: held out as it is
    x = val.inputs(np.arange(len(val)))
    np.testing.assert_allclose(model.predict(x, verbose=0), by_hand(val), atol=1e-4)
    kernel, bias = model.get_layer("linear").get_weights()
    np.testing.assert_allclose(kernel.sum(axis=0), 0.0, atol=1e-6)  # on top of the reference: level-free
    assert not bias.any()
    # an unanchored model (its path forecasts the level itself) is offered no seasonal drift
    assert "seasonal drift" not in _anchored_start(y, 40, Anchor.none)[0].record["cv_mse"]


def test_a_start_that_fails_validation_gives_way_to_the_other_in_the_order_of_their_training_errors(monkeypatch):
    from forecast import linear

    y = _seasonal_trend(600, noise=0.1)
    first = _anchored_start(y, 400)[0].record
    cv = first["cv_mse"]
    ridge = min((k for k in cv if k not in ("0", "seasonal drift")), key=cv.get)
    assert cv[ridge] < cv["seasonal drift"] < cv["0"]  # both beat the reference alone across the blocks
    assert first["fit"] == "ridge" and "rejected" not in first  # and the ridge on validation
    ridge_name = f"ridge {ridge.replace(' ', ', ')}"
    verdicts = iter([False, True])  # validation turns the ridge down: the seasonal drift is tried next
    monkeypatch.setattr(linear, "beats", lambda *args: next(verdicts))
    chosen = _anchored_start(y, 400)[0].record
    assert chosen["fit"] == "seasonal drift" and chosen["rejected"] == [ridge_name]
    assert chosen["val_mse"] < chosen["val_mse_zero"]
    verdicts = iter([False, False])
    refused, model, _, _ = _anchored_start(y, 400)
    assert not any(w.any() for w in model.get_layer("linear").get_weights())
    refused = refused.record
    assert refused["ridge"] is None and "fit" not in refused
    assert refused["reason"] == (f"the fit ({ridge_name} nor seasonal drift m=4) does not beat zero weights on "
                                 "validation by 1% and one standard error")
