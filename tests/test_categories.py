"""Text input columns (--features / --future-features holding words) become one-hot columns with a vocabulary that
a run records and predict reuses."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.categories import is_text, one_hot
from forecast.cli import app
from forecast.config import DataConfig, WindowConfig, input_columns
from forecast.errors import DataError
from forecast.prepare import prepare

runner = CliRunner()
SHIFT = {"clear": 0.0, "drizzle": 1.5, "rain": 3.0}


def weather_table(n: int = 480, seed: int = 0) -> pd.DataFrame:
    """An hourly daily cycle lifted by the weather of the hour: a text column the forecast needs."""
    rng = np.random.default_rng(seed)
    weather = rng.choice(list(SHIFT), n)
    y = np.sin(2 * np.pi * np.arange(n) / 24) + np.array([SHIFT[w] for w in weather]) + 0.05 * rng.standard_normal(n)
    return pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%d %H:%M"),
                         "y": y.round(5), "weather": weather})


def test_text_is_a_column_of_mostly_words_and_encodes_one_hot_with_empty_cells_missing():
    assert is_text(pd.Series(["rain", "clear", "rain"]))
    assert not is_text(pd.Series(["1", "2", "x"]))  # a numeric column with a stray value: that stays an error
    assert not is_text(pd.Series([1.0, 2.0]))
    assert not is_text(pd.Series([True, None, False], dtype=object))  # true/false with a gap: numbers, as without
    cfg = DataConfig("f.csv", categories=("weather=clear", "weather=rain"))
    notes: list[str] = []
    out = one_hot(pd.Series(["rain", " clear", None, "hail", "rain"]), "weather", cfg, notes)
    np.testing.assert_array_equal(out, [[0, 1], [1, 0], [np.nan, np.nan], [0, 0], [0, 1]])
    assert notes == ["column `weather`: 1 row holds values the run was not trained on (hail), encoded as none of its "
                     "2 known values"]
    # a value is matched as written, however pandas read the column: 1.0 is the `1` of the training file
    numbers = DataConfig("f.csv", categories=("level=1", "level=2", "level=high"))
    np.testing.assert_array_equal(one_hot(pd.Series([1.0, np.nan, 2.0]), "level", numbers, notes),
                                  [[1, 0, 0], [np.nan] * 3, [0, 1, 0]])
    with pytest.raises(DataError, match=r"^column `weather` in f.csv holds none of the 2 values the run was trained "
                                        r"on \(clear, rain\) but 7, 8; give it those values$"):
        one_hot(pd.Series([7, 8]), "weather", cfg, [])
    with pytest.raises(DataError, match=r"^column `weather` in f.csv has no values \(all 2 rows are empty\); fill "
                                        "it or drop it from the features$"):
        one_hot(pd.Series([None, " "]), "weather", cfg, [])


def test_a_long_table_shares_one_vocabulary_across_its_series(tmp_path):
    a, b = weather_table(200, 1), weather_table(200, 2)
    a.loc[:, "weather"], b.loc[:, "weather"] = "sun", np.where(np.arange(200) % 2, "rain", "snow")
    path = tmp_path / "long.csv"
    pd.concat([a.assign(site="a"), b.assign(site="b")]).to_csv(path, index=False)
    prep = prepare(DataConfig(str(path), id_col="site", features=("weather",), target="y"), WindowConfig(24, 1))
    assert prep.series.columns == ("y", "weather=rain", "weather=snow", "weather=sun")
    first_b = prep.blocks[1].start
    np.testing.assert_array_equal(prep.series.values[:2, 1:], [[0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(prep.series.values[first_b:first_b + 2, 1:], [[0, 1, 0], [1, 0, 0]])
    assert input_columns(DataConfig(str(path), target="y", features=("weather",),
                                    categories=prep.series.categories)) == prep.series.columns


def test_a_run_learns_a_text_known_future_column_records_its_vocabulary_and_predicts_with_it(tmp_path):
    table = weather_table()
    path, runs = tmp_path / "w.csv", tmp_path / "runs"
    table.to_csv(path, index=False)
    result = runner.invoke(app, ["train", str(path), "--future-features", "weather", "--runs-dir", str(runs),
                                 "--name", "w", "--epochs", "3", "--units", "8", "--horizon", "2"])
    assert result.exit_code == 0, result.output
    config = json.loads((runs / "w" / "config.json").read_text())
    assert config["options"]["data"]["categories"] == ["weather=clear", "weather=drizzle", "weather=rain"]
    assert config["data"]["features"] == ["weather=clear", "weather=drizzle", "weather=rain"]
    assert "categories =" not in (runs / "w" / "run.toml").read_text()  # read from the data again, not an option
    from forecast.artifacts import load_model

    assert [tuple(s[1:]) for s in load_model(runs / "w").input_shape] == [(48, 4), (2, 3)]
    test = json.loads((runs / "w" / "metrics.json").read_text())["test"]
    # the weather of the target hour moves it by up to 3: known in advance, it leaves little to guess
    assert test["model"]["mase"] < 0.5 * min(test["baselines"][b]["mase"] for b in test["baselines"])
    # the future rows say the weather ahead; a value never seen in training is none of the known ones
    ahead = pd.concat([table, pd.DataFrame({"time": ["2024-01-21 00:00", "2024-01-21 01:00"], "y": np.nan,
                                            "weather": ["rain", "hail"]})])
    new = tmp_path / "ahead.csv"
    ahead.to_csv(new, index=False)
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(runs / "w"), str(new), "--steps", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert ("Warning: column `weather`: 1 row holds values the run was not trained on (hail), encoded as none of "
            "its 3 known values") in result.output
    last = pd.read_csv(out).tail(2)
    assert last["timestamp"].tolist() == ["2024-01-21 00:00:00", "2024-01-21 01:00:00"]
    assert last["actual"].isna().all() and np.isfinite(last["forecast"]).all()
    # a run that read numbers in a column refuses text there (it would have no columns for it)
    numeric = table.assign(weather=np.arange(len(table)) % 3)
    numeric.to_csv(path, index=False)
    result = runner.invoke(app, ["train", str(path), "--future-features", "weather", "--runs-dir", str(runs),
                                 "--name", "n", "--epochs", "1", "--units", "4", "--horizon", "2"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["predict", str(runs / "n"), str(new), "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: column `weather` of {new} holds text where the run was trained on "
                                     "numbers in it; give it numbers, as in the training file")
