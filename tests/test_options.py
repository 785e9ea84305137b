"""Options by name: run_configs (the Python API's and config files' way in), TOML config files with flags that
override them, and the run.toml that trains a run again."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast.config import Cell, Normalize
from forecast.errors import ForecastError
from forecast.options import read_config, run_configs, run_toml
from tests.conftest import TINY
from tests.conftest import cli_ok as run_ok

runner = CliRunner()
OWN = {"train": {"runs_dir", "name"}, "backtest": {"folds", "out"}}


def test_run_configs_take_plain_values_and_every_cell():
    configs = run_configs("x.csv", cell=["gru", "all"], features="a, b", interval=0.9, normalize="window",
                          delimiter="tab", lookback=7, dropout=0)
    assert [c.model.cell for c in configs] == [Cell.gru, Cell.rnn, Cell.lstm]
    assert configs[0].data.features == ("a", "b") and configs[0].data.delimiter == "\t"
    assert configs[0].train.intervals == (0.9,) and configs[0].data.normalize is Normalize.window
    assert configs[0].model.dropout == 0.0 and isinstance(configs[0].model.dropout, float)


@pytest.mark.parametrize("options, message", [
    ({"epoch": 3}, "unknown option `epoch` (did you mean `epochs`?)"),
    ({"epochs": "ten"}, "--epochs must be a whole number (got 'ten')"),
    ({"units": 2.5}, "--units must be a whole number (got 2.5)"),
    ({"dropout": True}, "--dropout must be a number (got True)"),
    ({"normalize": "minmax"}, "--normalize must be one of auto, global, window (got 'minmax')"),
    ({"cell": "lsmt"}, "--cell must be one of rnn, lstm, gru, all (got 'lsmt')"),
    ({"cell": []}, "--cell names no cell"),
    ({"horizon": 0}, "--horizon must be at least 1 (got 0)"),
])
def test_run_configs_refuse_bad_options_by_name(options, message):
    with pytest.raises(ForecastError, match=None) as caught:
        run_configs("x.csv", **options)
    assert str(caught.value).startswith(message)


def test_run_toml_reads_back_as_the_same_config(tmp_path):
    cfg = run_configs("dir/x y.csv", cell="gru", features=["a", "b"], interval=[0.9, 0.8], delimiter=";",
                      lookback=7, learning_rate=0.1 + 0.2, target='say "hi"')[0]
    path = tmp_path / "run.toml"
    path.write_text(run_toml(cfg, "a note\non two lines"))
    assert path.read_text().startswith("# a note\n# on two lines\ndata = \"dir/x y.csv\"\ncell = \"gru\"\n")
    run, own = read_config(path, "train", OWN)
    assert run_configs(**run) == [cfg] and own == {}


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "x.toml"
    path.write_text(text)
    return path


def test_a_missing_config_file_is_one_error_line(tmp_path):
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: --config file {tmp_path / 'none.toml'} does not exist; check the --config path\n"


def test_train_needs_data_from_the_command_line_or_the_config(tmp_path):
    result = runner.invoke(app, ["train", "--config", str(_toml(tmp_path, "epochs = 2\n"))])
    assert result.exit_code == 1
    assert result.stderr == "Error: no data: give the CSV file as DATA, or set `data` in the --config file\n"


@pytest.mark.slow
def test_flags_override_the_config_file_and_run_toml_trains_the_run_again(sine_csv, tmp_path):
    config = _toml(tmp_path, f'data = "{sine_csv}"\ncell = "gru"\nlookback = 20\nunits = 8\nepochs = 50\n'
                             f'batch_size = 32\nlearning_rate = 0.01\npatience = 0\n\n[train]\nname = "from-file"\n'
                             f'runs_dir = "{tmp_path / "runs"}"\n\n[backtest]\nfolds = 2\n')
    run_ok("train", "--config", config, "--epochs", "3", "--cell", "rnn")
    first = tmp_path / "runs" / "from-file"
    meta = json.loads((first / "config.json").read_text())["options"]
    assert (meta["model"]["cell"], meta["train"]["epochs"], meta["model"]["units"]) == ("rnn", 3, 8)
    assert len((first / "history.csv").read_text().splitlines()) == 1 + 3

    run_ok("train", "--config", first / "run.toml", "--runs-dir", tmp_path / "again")
    again = tmp_path / "again" / "sine-rnn"
    scores = [json.loads((run / "metrics.json").read_text())["test"] for run in (first, again)]
    assert scores[0] == scores[1]
    assert json.loads((again / "config.json").read_text())["options"] == meta


@pytest.mark.slow
def test_backtest_reads_its_own_table(sine_csv, tmp_path):
    config = _toml(tmp_path, f'data = "{sine_csv}"\ncell = "rnn"\n' + "\n".join(
        f"{k.strip('-').replace('-', '_')} = {v}" for k, v in zip(TINY[::2], TINY[1::2], strict=True)
        if k != "--epochs")
        + f'\nepochs = 2\n\n[backtest]\nfolds = 2\nout = "{tmp_path / "b.csv"}"\nplot = "{tmp_path / "b.png"}"\n'
          f'forecasts = "{tmp_path / "f.csv"}"\n')
    doc = json.loads(run_ok("backtest", "--config", config, "--json").stdout)
    assert doc["folds"] == 2 and Path(doc["out"]) == tmp_path / "b.csv" and (tmp_path / "b.csv").is_file()


def test_a_config_file_names_one_cell_several_or_all(tmp_path):
    for text, cells in (('cell = "gru"', ("gru",)), ('cell = ["rnn", "gru"]', ("rnn", "gru")), ('cell = "all"', ("all",))):
        path = tmp_path / "x.toml"
        path.write_text(f'data = "x.csv"\n{text}\n[tune]\ntrials = 3\n')
        run, own = read_config(path, "train", {"train": {"name": str}, "tune": {"trials": int}})
        assert run["cell"] == cells and own == {}
        assert len(run_configs(**run)) == (3 if cells == ("all",) else len(cells))


def test_every_table_is_checked_by_every_command(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('[tune]\ntrials = "x"\n')
    with pytest.raises(ForecastError, match=r"^`trials` in \[tune\] of .* must be a whole number \(got 'x'\)$"):
        read_config(path, "train", {"train": {"name": str}, "tune": {"trials": int}})


def test_numpy_numbers_are_numbers_and_a_seed_fits_32_bits():
    import numpy as np

    cfg = run_configs("x.csv", units=np.int64(4), dropout=np.float32(0.25), linear=np.bool_(False), target=0)[0]
    assert (cfg.model.units, cfg.model.linear, cfg.data.target) == (4, False, "0")
    assert type(cfg.model.units) is int and cfg.model.dropout == 0.25
    with pytest.raises(ForecastError, match=r"^--seed must lie between 0 and 2\*\*32 - 1 = 4,294,967,295 \(got -1\)$"):
        run_configs("x.csv", seed=-1)
    with pytest.raises(ForecastError, match=r"^--units must be a whole number \(got True\)$"):
        run_configs("x.csv", units=True)
