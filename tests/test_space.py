"""The search space of `forecast tune`: the default around the automatic lookback, a space file read key by key,
and its mistakes as one message naming the key."""

import pytest

from forecast.errors import ForecastError
from forecast.space import Dimension, default_space, read_space


class FakeTrial:
    """Records what a Dimension asks of an Optuna trial, and answers with the low end or the first choice."""

    def __init__(self):
        self.asked = []

    def suggest_categorical(self, name, choices):
        self.asked.append(("categorical", name, choices))
        return choices[0]

    def suggest_int(self, name, low, high, log=False):
        self.asked.append(("int", name, low, high, log))
        return low

    def suggest_float(self, name, low, high, log=False):
        self.asked.append(("float", name, low, high, log))
        return low


def test_the_default_space_halves_and_doubles_the_lookback_and_adds_several_cells():
    space = default_space(24, ("lstm",))
    assert space["lookback"].choices == (12, 24, 48) and "cell" not in space
    assert set(space) == {"lookback", "units", "layers", "dropout", "learning_rate", "batch_size", "normalize",
                          "transform", "anchor"}
    assert default_space(3, ("rnn", "gru"))["cell"].choices == ("rnn", "gru")
    assert default_space(3, ("rnn",))["lookback"].choices == (2, 3, 6)


def test_the_default_space_anchors_every_trial_on_a_reference_the_shortest_lookback_holds():
    assert default_space(24, ("lstm",))["anchor"].choices == ("auto", "naive")  # no season: the naive only
    # season 12, horizon 6: the seasonal naive reads 12 rows, the seasonal difference 13; the shortest lookback is 12
    assert default_space(24, ("lstm",), season=12, horizon=6)["anchor"].choices == ("auto", "naive", "seasonal")
    assert default_space(48, ("lstm",), season=12, horizon=6)["anchor"].choices == ("auto", "naive", "seasonal", "sdiff")


def test_a_space_file_gives_ranges_choices_and_fixed_values(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text('units = {low = 8, high = 64, log = true}\nlearning_rate = {low = 1e-4, high = 0.01}\n'
                    'lookback = [24, 48, 24]\ncell = ["gru", "lstm"]\nlinear = false\nnormalize = "window"\n')
    space = read_space(path)
    trial = FakeTrial()
    values = {name: dim.suggest(trial) for name, dim in space.items()}
    assert values == {"units": 8, "learning_rate": 1e-4, "lookback": 24, "cell": "gru", "linear": False,
                      "normalize": "window"}
    assert trial.asked == [("int", "units", 8, 64, True), ("float", "learning_rate", 1e-4, 0.01, False),
                           ("categorical", "lookback", [24, 48]), ("categorical", "cell", ["gru", "lstm"]),
                           ("categorical", "linear", [False]), ("categorical", "normalize", ["window"])]
    assert space["units"].describe() == "8..64 (log)" and Dimension("x", (1, 2)).describe() == "{1, 2}"


@pytest.mark.parametrize("text, message", [
    ("unit = [8]\n", "unknown key `unit` in {p} (did you mean `units`?); searchable: cell, lookback, units"),
    ("horizon = [1, 2]\n", "`horizon` in {p} cannot be searched: it changes what is scored or how it runs; set it as "
                           "an option (--horizon)"),
    ("units = {low = 64, high = 8}\n", "`units` in {p} is an empty range (64 > 8); give low <= high"),
    ("units = []\n", "`units` in {p} is an empty list of choices; give at least one"),
    ("dropout = {low = 0.0, high = 0.5, log = true}\n",
     "`dropout` in {p} has log = true with low = 0.0; a log range needs low > 0"),
    ("units = {low = 8}\n", "`units` in {p} must be a list of choices or a table {{low = .., high = .., log = true}}"),
    ("normalize = {low = 1, high = 2}\n", "`normalize` in {p} takes choices, not a range"),
    ("normalize = ['minmax']\n", "`normalize` in {p} must be one of auto, global, window (got 'minmax')"),
    ("units = {low = 8.5, high = 16}\n", "`units` in {p}: low must be a whole number (got 8.5)"),
    ("cell = ['cnn']\n", "`cell` in {p} must be one of rnn, lstm, gru (got 'cnn')"),
    ("", "{p} names no option to search"),
    ("units = [8\n", "--space file {p} is not valid TOML"),
])
def test_space_file_mistakes_name_the_key(tmp_path, text, message):
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(ForecastError) as caught:
        read_space(path)
    assert str(caught.value).startswith(message.format(p=path))
