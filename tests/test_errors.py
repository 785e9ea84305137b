"""The catalogue of bad inputs: each gives exit code 1, one line `Error: ...` on stderr naming what is wrong,
where, and the fix, and leaves no run folder. docs/errors.md lists the same catalogue (tests/test_docs.py checks)."""


import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast.cli import app
from forecast import __version__
from forecast.config import SCHEMA_VERSION
from tests.conftest import copy_run

runner = CliRunner()
DAYS = "\n".join(f"2024-01-{d:02d},{d}" for d in range(1, 29))
ROWS = "t,y\n" + DAYS + "\n"


LEVEL = "y\n" + "".join(f"{1e12 + math.sin(i / 3):.6f}\n" for i in range(300))
SINE120 = "y\n" + "".join(f"{math.sin(i / 3):.6f}\n" for i in range(120))


def _zip_of_two() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", "y\n1\n")
        archive.writestr("b.csv", "y\n2\n")
    return buffer.getvalue()


ZIP_OF_TWO = _zip_of_two()
LONG = (b"date,state,births\n2024-01-01,AK,14\n2024-01-01,AL,20\n2024-01-02,AK,15\n2024-01-02,AL,21\n"
        b"2024-01-03,AK,16\n2024-01-03,AL,22\n")


def dates(n: int) -> str:
    return "\n".join(f"2024-01-01 {h:02d}:00" for h in range(n))


# (id, file bytes or None for no file, extra train options, expected message with {p} for the path)
TRAIN = [
    ("missing file", None, [], "{p}: no such file; check the path"),
    ("empty file", b"", [], "{p} is empty; it needs a header row and at least one data row"),
    ("header only", b"t,y\n", [], "{p} has a header but no data rows; add rows below the header"),
    ("binary file", b"\x89PNG\r\n\x1a\n\x00\x00binary", [],
     "{p} looks like a binary file (it contains NUL bytes), not CSV text; export it as CSV, or pass --encoding "
     "utf-16 if it is UTF-16 text"),
    ("not UTF-8", "t,y\n2024-01-01,1\ncaf\u00e9,2\n".encode("latin-1"), [],
     "{p} is not valid utf-8 text (byte 0xe9 at offset 20); pass --encoding latin-1 (or the file's "
     "encoding), or re-save it as UTF-8"),
    ("more fields than the header", b"y\n1,2\n3\n", [],
     "{p} has rows with more fields than its header when split by ','; check the delimiter (--delimiter) and "
     "quoting, or name every column in the header"),
    ("unknown encoding", ROWS.encode(), ["--encoding", "klingon"],
     "unknown --encoding 'klingon'; use a Python codec name such as utf-8 or latin-1"),
    ("unknown target", ROWS.encode(), ["--target", "sales"], "column `sales` not found in {p}; available: t, y"),
    ("misspelt target", b"t,sales\n2024-01-01,1\n", ["--target", "sale"],
     "column `sale` not found in {p}; did you mean `sales`? available: t, sales"),
    ("unknown feature", b"t,y,price\n2024-01-01,1,2\n", ["--features", "prices"],
     "column `prices` not found in {p}; did you mean `price`? available: t, y, price"),
    ("unknown time column", ROWS.encode(), ["--time-col", "when"], "column `when` not found in {p}; available: t, y"),
    ("several numeric columns", b"a,b\n1,2\n", [], "{p} has 2 numeric columns (a, b); choose one with --target (and the time column with --time-col, if one "
     "of them holds the time)"),
    ("target is the time column", ROWS.encode(), ["--target", "t"],
     "column `t` is the time column of {p}; choose a numeric --target"),
    ("target also a feature", b"y,x\n1,2\n", ["--target", "y", "--features", "y"],
     "column `y` is both the target and a feature; drop it from --features"),
    ("text N/A in the target", b"t,y\n2024-01-01,1\n2024-01-02,N/A\n", [],
     "column `y` in {p} has a non-numeric value 'N/A' at row 3 (counting the header as row 1); clean or remove "
     "that row"),
    ("a dash in the target", b"y\n1\n-\n", [],
     "column `y` in {p} has a non-numeric value '-' at row 3 (counting the header as row 1); clean or remove "
     "that row"),
    ("words in the target", b"y\n1\n2\nabout 3\n", [],
     "column `y` in {p} has a non-numeric value 'about 3' at row 4 (counting the header as row 1); clean or "
     "remove that row"),
    ("decimal commas, comma-delimited", b'y\n"1,5"\n"2,5"\n', [],
     "column `y` in {p} has a non-numeric value '1,5' at row 2 (counting the header as row 1); it uses a "
     "decimal comma: pass --decimal ,"),
    ("all values missing", b"t,y\n2024-01-01,\n2024-01-02,\n", ["--target", "y"],
     "column `y` in {p} has no values (all 2 rows are empty); choose another --target or fill the column"),
    ("infinite value", b"y\n1\ninf\n", [], "column `y` in {p} has an infinite value at row 3; remove or replace it"),
    ("gaps with --fill error", b"t,y\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n", ["--fill", "error"],
     "{p} has missing values (1 in `y`), the first at data row 2 in time order; pass --fill interpolate, ffill "
     "or drop, or fill them in the file"),
    ("duplicate timestamps", b"t,y\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n", [],
     "timestamp 2024-01-02 00:00:00 appears 2 times in `t` of {p} (1 duplicate rows in all); remove them, or "
     "pass --dedupe last, first, sum or mean to keep one row of each timestamp or combine them"),
    ("several series in one long table", b"date,state,births\n2024-01-01,AK,14\n2024-01-01,AL,20\n2024-01-02,AK,15\n"
     b"2024-01-02,AL,21\n2024-01-03,AK,16\n2024-01-03,AL,22\n", [],
     "{p} holds 2 series in one table: its timestamps repeat once per value of column `state` (AK, AL); train one "
     "model across them with --id-col state, pick one with --id-col state --series AK, or combine them all with "
     "--dedupe sum or mean"),
    ("every series too short", LONG, ["--id-col", "state"],
     "every series of {p} is too short for --lookback 1 + --horizon 1 (season 7); use a smaller --lookback or "
     "--horizon, or longer series"),
    ("wide targets where one column is text", b"t,a,b\n2024-01-01,1,x\n2024-01-02,2,y\n", ["--target", "a,b"],
     "column `b` in {p} has a non-numeric value 'x' at row 2 (counting the header as row 1); clean or remove that "
     "row"),
    ("a text input with too many values",
     ("t,y,shop\n" + "".join(f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00,{i},s{i}\n" for i in range(72))).encode(),
     ["--features", "shop"],
     "text column `shop` of {p} has 72 distinct values (s0, s1, s10, ...); a text input becomes one 0/1 column per "
     "value, at most 64: group its values into fewer, or drop it from the features"),
    ("a numeric input with a stray text value", b"t,y,b\n2024-01-01,1,1\n2024-01-02,2,x\n2024-01-03,3,3\n",
     ["--features", "b"],
     "column `b` in {p} has a non-numeric value 'x' at row 3 (counting the header as row 1); clean or remove that "
     "row"),
    ("wide targets naming a missing column", b"t,a,b\n2024-01-01,1,2\n", ["--target", "a,c"],
     "column `c` of --target a,c not found in {p}; available: t, a, b"),
    ("wide targets and an unknown --series", b"t,a,b\n2024-01-01,1,2\n", ["--target", "a,b", "--series", "c"],
     "series `c` is not in the --target columns of {p}; available: a, b"),
    ("wide targets with --id-col", LONG, ["--target", "births,date", "--id-col", "state"],
     "--target births,date names several columns, each one series of a wide table; --id-col is for long tables: "
     "drop one of them"),
    ("a column in --features and --future-features", LONG, ["--features", "births", "--future-features", "births"],
     "column `births` is in --features and --future-features; a known-future column is read in the past too: keep "
     "it in --future-features only"),
    ("an unknown --future-features column", LONG, ["--future-features", "workday"],
     "column `workday` not found in {p}; available: date, state, births"),
    ("a column emptied by --dedupe", b"t,y\n2024-01-01,1\n2024-01-01,\n", ["--dedupe", "last"],
     "column `y` of {p} has no values left once rows of duplicate timestamps are combined; fill it in the file, or "
     "choose another column"),
    ("an unknown --id-col", LONG, ["--id-col", "station"],
     "column `station` not found in {p}; did you mean `state`? available: date, state, births"),
    ("an --id-col of fractional numbers", b"date,sensor,y\n2024-01-01,1.5,3\n2024-01-01,2.5,4\n", ["--id-col", "sensor"],
     "column `sensor` of {p} holds fractional numbers such as 1.5, not series names: an --id-col names each row's "
     "series (text or whole numbers); choose another column"),
    ("a cell given twice", ROWS.encode(), ["--cell", "rnn", "--cell", "rnn"], "--cell names rnn twice; give each once"),
    ("an interval level given twice", ROWS.encode(), ["--interval", "0.9", "--interval", "0.90"],
     "--interval names 90% twice; give each once"),
    ("a series given twice", LONG, ["--id-col", "state", "--series", "AK,AK"],
     "--series names AK twice; give each once"),
    ("a wide target given twice", LONG, ["--target", "births,births"], "--target names births twice; give each once"),
    ("rows without a series id", b"date,sensor,y\n2024-01-01,a,3\n2024-01-01,,4\n2024-01-02,a,5\n",
     ["--id-col", "sensor"],
     "column `sensor` of {p} has no series id in 1 rows (3, counting the header as row 1); fill in the id of each "
     "row's series, or drop those rows"),
    ("series of different frequencies", ("date,id,y\n" + "".join(f"2024-01-{d:02d},a,{d}\n" for d in range(1, 29))
                                          + "".join(f"2024-01-01 {h:02d}:00,b,{h}\n" for h in range(24))).encode(),
     ["--id-col", "id"],
     "the series of {p} have different frequencies: `a` is D, `b` h; one model takes series of one frequency: pick "
     "those that share one with --series, or resample the others"),
    ("--calendar without a time column", ("y\n" + "1\n" * 50).encode(), ["--calendar", "dow"],
     "--calendar dow reads the time of each row, and {p} has no time column; name it with --time-col, or drop "
     "--calendar"),
    ("a --calendar feature that never changes", ("t,y\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 29))).encode(),
     ["--calendar", "hour"], "--calendar hour is the same for every row of {p} (steps of D); drop it, or use "
     "--calendar auto"),
    ("an unknown --series", LONG, ["--id-col", "state", "--series", "ALL"],
     "series `ALL` is not in column `state` of {p}; did you mean `AL`? available: AK, AL"),
    ("--series without --id-col", LONG, ["--series", "AK"],
     "--series picks series of a long table by the values of its --id-col; pass --id-col too, e.g. --id-col "
     "station --series JFK"),
    ("an --id-col that is the target", LONG, ["--id-col", "births", "--target", "births"],
     "column `births` is the --id-col of {p} and cannot also be the target, time or a feature; choose another "
     "--id-col"),
    ("mixed date formats", b"date,y\n2024-01-01,1\n2024-01-02,2\n03/01/2024,3\n", [],
     "column `date` in {p} has 1 value(s) that are not dates in the format of the first row, the first "
     "'03/01/2024' at row 4; use one date format throughout"),
    ("time column of non-dates", b"t,y\nmonday,1\ntuesday,2\n", ["--time-col", "t"],
     "column `t` in {p} does not parse as dates; pick another --time-col"),
    ("too few rows", ("y\n" + "1\n" * 50).encode(), ["--lookback", "48", "--horizon", "12"],
     "{p} has 50 rows, too few for --lookback 48 + --horizon 12: the parts have train 34, val 8, test 8 rows, and "
     "training needs at least 60 train rows and 12 in val and test; use at least 86 rows, or a smaller "
     "--lookback/--horizon"),
    ("lookback 0", ROWS.encode(), ["--lookback", "0"], "--lookback must be at least 1 (got 0)"),
    ("horizon 0", ROWS.encode(), ["--horizon", "0"], "--horizon must be at least 1 (got 0)"),
    ("epochs 0", ROWS.encode(), ["--epochs", "0"], "--epochs must be at least 1 (got 0)"),
    ("batch size 0", ROWS.encode(), ["--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
    ("units 0", ROWS.encode(), ["--units", "0"], "--units must lie between 1 and 4,096 (got 0)"),
    ("a million units", ROWS.encode(), ["--units", "1000000"], "--units must lie between 1 and 4,096 (got 1,000,000)"),
    ("a thousand layers", ROWS.encode(), ["--layers", "1000"], "--layers must lie between 1 and 32 (got 1,000)"),
    ("dropout 1", ROWS.encode(), ["--dropout", "1"], "--dropout must lie in [0, 1) (got 1.0)"),
    ("recurrent dropout 1", ROWS.encode(), ["--recurrent-dropout", "1"],
     "--recurrent-dropout must lie in [0, 1) (got 1.0)"),
    ("steps per epoch 0", ROWS.encode(), ["--steps-per-epoch", "0"], "--steps-per-epoch must be at least 1 (got 0)"),
    ("learning rate 0", ROWS.encode(), ["--learning-rate", "0"], "--learning-rate must be positive (got 0.0)"),
    ("fractions summing to 1", ROWS.encode(), ["--val-frac", "0.5", "--test-frac", "0.5"],
     "--val-frac (0.5) + --test-frac (0.5) leave less than 10% of the rows for training; lower one of them"),
    ("a fraction outside (0, 1)", ROWS.encode(), ["--test-frac", "1.5"], "--test-frac must lie between 0 and 1 (got 1.5)"),
    ("interval level outside (0, 1)", ROWS.encode(), ["--interval", "1.5"],
     "--interval must lie strictly between 0 and 1, e.g. 0.9 for 90% (got 1.5)"),
    ("season longer than the training part", ("y\n" + "1\n" * 100).encode(), ["--lookback", "5", "--season", "80"],
     "--season 80 is longer than the training part of {p} (70 rows); use a season under 70, or more data"),
    ("log of values that are not positive", ("y\n" + "1\n0\n" * 50).encode(), ["--transform", "log"],
     "--transform log needs positive values, but `y` in {p} is 0 at data row 2 in time order; use --transform "
     "diff or none"),
    ("recursive strategy with features", b"y,x\n1,2\n", ["--target", "y", "--features", "x", "--strategy",
                                                         "recursive"],
     "--strategy recursive feeds forecasts back as inputs, which needs a univariate run; drop --features or use "
     "--strategy direct"),
    ("a long delimiter", ROWS.encode(), ["--delimiter", ";;"],
     "--delimiter must be one character (got ';;'); use \\t for tab"),
    ("--device gpu without a GPU", ("y\n" + "1\n" * 100).encode(), ["--device", "gpu", "--lookback", "5"],
     "--device gpu, but Keras' tensorflow backend sees no GPU; use --device auto or cpu, or install GPU support "
     "with pip install -e '.[gpu]'"),
    ("--devices that is not a count", ROWS.encode(), ["--devices", "two"],
     "--devices must be a number of devices, 1 or more, or all (got 'two')"),
    ("--devices 2 on a machine with one", ("y\n" + "1\n" * 100).encode(), ["--devices", "2", "--lookback", "5",
                                                                           "--device", "cpu"],
     "--devices 2, but Keras' tensorflow backend sees 1 CPU device (/device:CPU:0); use --devices 1 (the default)"),
    ("--name with a slash", ROWS.encode(), ["--name", "../escape"],
     "--name '../escape' is not one folder name; give a plain name such as --name sine-lstm"),
    ("--name starting with a dot", ROWS.encode(), ["--name", ".hidden"],
     "--name '.hidden' starts with a dot, which hides the run and is kept for temporary folders; drop the dot"),
    ("--name too long for the file system", ROWS.encode(), ["--name", "x" * 250],
     "the run name " + "x" * 40 + "... (210 more characters) is 250 bytes long; the file system allows 241 for a "
     "run name; pass a shorter --name"),
    ("--runs-dir that is a file", ROWS.encode(), ["--runs-dir", "{p}"],
     "--runs-dir: {p} is a file, not a folder; choose another location"),
    ("standard input as the data", None, ["-"],
     "reading the data from standard input (-) is not supported; save it to a CSV file and pass its path"),
    ("a zstd-compressed file", b"\x28\xb5\x2f\xfd" + b"\x00" * 16, [],
     "{p} is zstd-compressed, which this tool does not read; decompress it (zstd -d) first, or compress it with "
     "gzip, bz2, xz or zip"),
    ("a zip archive of two files", ZIP_OF_TWO, [], "{p} is a zip archive of 2 files; it must hold exactly one CSV"),
    ("a damaged gzip file", b"\x1f\x8b\x08\x00broken", [],
     "{p} looks gzip-compressed but cannot be decompressed (Compressed file ended before the end-of-stream marker "
     "was reached); check the file, or decompress it yourself"),
    ("values too large to square", b"y\n1e200\n-3e200\n", [],
     "column `y` in {p} has values up to 3e+200 in magnitude; squared errors and variances overflow beyond about "
     "1e154, so the tool takes at most 1e+150: divide the column by 1e197 (or change its units)"),
    ("a header naming a column twice", b"date,y, y\n2024-01-01,1,2\n", [],
     "{p} names two columns `y` in its header (columns 2 and 3); rename one of them so that each column has its own "
     "name"),
    ("values too small to square", b"y\n1e-300\n-3e-300\n", [],
     "column `y` in {p} has values of at most 3e-300 in magnitude; squared errors and variances underflow to 0 below "
     "about 1e-154, so the tool needs values beyond 1e-150: multiply the column by 1e300 (or change its units)"),
    ("a level far beyond its steps, normalised per window", LEVEL.encode(), ["--lookback", "10", "--normalize",
                                                                            "window"],
     "column `y` of {p} cannot be scaled precisely in float32 (--normalize window): its values reach 1e+12 while "
     "its spread on the training part is 0.235; use --transform diff or --normalize global"),
    ("an interval level the validation part cannot support", SINE120.encode(), ["--lookback", "10", "--interval",
                                                                               "0.95"],
     "--interval 0.95 needs at least 19 validation windows for split-conformal bounds; the validation part has 18; "
     "lower the level, or raise --val-frac (or use more data)"),
    ("an anchor the lookback window cannot hold", SINE120.encode(), ["--lookback", "3", "--anchor", "sdiff",
                                                                    "--season", "4", "--horizon", "2"],
     "--anchor sdiff reads 5 rows of each window (season 4, horizon 2); --lookback 3 is too short: use --lookback 5 "
     "or more"),
    ("an anchor on a second season the data does not show", SINE120.encode(), ["--lookback", "10", "--anchor",
                                                                             "seasonal2"],
     "--anchor seasonal2 starts from the reference of a second season, and {p} shows none (the week of sub-daily "
     "data or the year of daily data, where the seasonal naive at it beats the first season's on the training part); "
     "use --anchor seasonal or auto"),
    ("a lookback of a billion", ("y\n" + "1\n" * 50).encode(), ["--lookback", "1000000000"],
     "{p} has 50 rows, too few for --lookback 1000000000 + --horizon 1: the parts have train 34, val 8, test 8 rows, "
     "and training needs at least 1000000001 train rows and 1 in val and test; use at least 1428571431 rows, or a "
     "smaller --lookback/--horizon"),
]


BACKTEST = [
    ("several series under --id-col", LONG, ["--id-col", "state"],
     "column `state` of {p} holds 2 series (AK, AL); this command takes one series (train fits one model across "
     "several): pick it with --series AK"),
    ("more folds than the series holds", ("y\n" + "1\n" * 100).encode(), ["--folds", "20", "--lookback", "5"],
     "--folds 20 does not fit {p}: with test blocks of 15 rows (--test-frac 0.15) the first fold would train on "
     "fewer than lookback + horizon = 6 rows; use --folds 6 or less"),
    ("zero folds", ("y\n" + "1\n" * 100).encode(), ["--folds", "0", "--lookback", "5"],
     "--folds must be at least 1 (got 0)"),
    ("--out is the input data", ROWS.encode(), ["--out", "{p}"], "--out {p} is the input data; write to another file"),
    ("an interval level a fold cannot support", SINE120.encode(), ["--lookback", "10", "--interval", "0.95",
                                                                  "--folds", "2"],
     "--interval 0.95 needs at least 19 validation windows for split-conformal bounds; fold 1's validation part has "
     "13; lower the level, or raise --val-frac (or use more data)"),
    ("--plot is a folder", ROWS.encode(), ["--plot", "{d}"],
     "--plot {d} is a folder; give a file path inside it, e.g. --plot {d}/out.png"),
]


@pytest.mark.parametrize("command, case, content, extra, message",
                         [("train", *c) for c in TRAIN] + [("backtest", *c) for c in BACKTEST],
                         ids=[c[0] for c in TRAIN + BACKTEST])
def test_train_catalogue(tmp_path, command, case, content, extra, message):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    runs = tmp_path / "runs"
    where = ["--runs-dir", str(runs)] if command == "train" else ["--out", str(runs / "b.csv"), "--plot",
                                                                  str(runs / "b.png")]
    extra = [a.format(p=path, d=tmp_path) for a in extra]
    if extra[:1] == ["-"]:  # the data argument itself
        path, extra = "-", extra[1:]
    result = runner.invoke(app, [command, str(path), *where, *extra])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines == ["Error: " + message.format(p=path, d=tmp_path)]
    assert not runs.exists() or list(runs.iterdir()) == []


# (id, config file text, expected message with {c} for its path): `forecast train data.csv --config x.toml`
CONFIG = [
    ("config: an unknown key", "epoch = 3\n", "unknown key `epoch` in {c} (did you mean `epochs`?); the keys are the "
     "options of `forecast train --help`, with _ for -"),
    ("config: another command's option at the top", "folds = 3\n",
     "unknown key `folds` in {c}; it is an option of backtest: put it under [backtest]"),
    ("config: an unknown key in a command's table", "[train]\nrun_dir = 'r'\n",
     "unknown key `run_dir` in [train] of {c} (did you mean `runs_dir`?); [train] takes mlflow, mlflow_uri, name, "
     "parallel, resume, runs_dir, tensorboard"),
    ("config: a command's name not as a table", "train = 3\n",
     "`train` in {c} must be a table of train's options, e.g. [train]"),
    ("config: a value of the wrong type", "epochs = 'ten'\n", "`epochs` in {c} must be a whole number (got 'ten')"),
    ("config: a bad choice", "normalize = 'minmax'\n",
     "`normalize` in {c} must be one of auto, global, window (got 'minmax')"),
    ("config: a bad value of a command's option", "[train]\nparallel = 'yes'\n",
     "`parallel` in [train] of {c} must be one of auto, on, off (got 'yes')"),
    ("config: not TOML", "cell = lstm\n",
     "--config file {c} is not valid TOML (Invalid value (at line 1, column 8)); fix that line"),
]


@pytest.mark.parametrize("case, text, message", CONFIG, ids=[c[0] for c in CONFIG])
def test_config_file_catalogue(tmp_path, case, text, message):
    path, config = tmp_path / "data.csv", tmp_path / "x.toml"
    path.write_text(ROWS)
    config.write_text(text)
    result = runner.invoke(app, ["train", str(path), "--runs-dir", str(tmp_path / "runs"), "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == ["Error: " + message.format(c=config)]
    assert not (tmp_path / "runs").exists()


def test_train_on_a_directory(tmp_path):
    result = runner.invoke(app, ["train", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {tmp_path} is a directory, not a CSV file; pass the path of a .csv file inside it"


@pytest.mark.parametrize("content, extra, values, warning", [
    (b"t;y\n2024-01-01;1\n2024-01-02;2\n", [], [1, 2], None),  # semicolons detected
    (b"t\ty\n2024-01-01\t1\n2024-01-02\t2\n", [], [1, 2], None),  # tabs detected
    (b"t;y\n2024-01-01;1,5\n2024-01-02;2,25\n", [], [1.5, 2.25], None),  # decimal commas detected
    (b'y\n"1,5"\n"2,5"\n', ["--decimal", ","], [1.5, 2.5], "column `y`: converted 2 values written with decimal commas"),
    (b'y\n"1,234.5"\n7\n', [], [1234.5, 7], "column `y`: converted 1 values written with thousands separators"),
    ("\ufefft,y\n2024-01-01,1\n2024-01-02,2\n".encode(), [], [1, 2], None),  # byte-order mark
    ("t,y\n2024-01-01,1\ncaf\u00e9,2\n".encode("latin-1"), ["--encoding", "latin-1", "--target", "y"], [1, 2], None),
    (b"t,y\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n", [], [1, 2, 3],
     "filled 1 missing values (1 in `y`) with --fill interpolate"),
    (b"t,y\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n", ["--fill", "ffill"], [1, 1, 3],
     "filled 1 missing values (1 in `y`) with --fill ffill"),
    (b"t,y\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n", ["--fill", "drop"], [1, 3],
     "dropped 1 rows with missing values (1 in `y`)"),
    (b"t,y\n2024-01-02,2\n2024-01-01,1\n2024-01-03,3\n", [], [1, 2, 3], "rows were not in time order; sorted them by `t`"),
    (b"t,y\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n", ["--dedupe", "last"], [1, 3],
     "dropped 1 rows with duplicate timestamps (kept the last), the first at 2024-01-02 00:00:00"),
    (b"t,y\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n", ["--dedupe", "first"], [1, 2],
     "dropped 1 rows with duplicate timestamps (kept the first), the first at 2024-01-02 00:00:00"),
    (b"t,y\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n2024-01-03,4\n", ["--dedupe", "sum"], [1, 5, 4],
     "combined the rows of 1 duplicated timestamps by their sum (1 rows fewer), the first at 2024-01-02 00:00:00"),
    (b"t,y\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n2024-01-03,4\n", ["--dedupe", "mean"], [1, 2.5, 4],
     "combined the rows of 1 duplicated timestamps by their mean (1 rows fewer), the first at 2024-01-02 00:00:00"),
    # a state column with sums wanted: the user asked for it, so no error about several series
    (b"date,state,births\n2024-01-01,AK,14\n2024-01-01,AL,20\n2024-01-02,AK,15\n2024-01-02,AL,21\n"
     b"2024-01-03,AK,16\n2024-01-03,AL,22\n", ["--dedupe", "sum"], [34, 36, 38],
     "combined the rows of 3 duplicated timestamps by their sum (3 rows fewer), the first at 2024-01-01 00:00:00"),
    (b"t,y\n2024-03-31T00:00+01:00,1\n2024-03-31T01:00+01:00,2\n2024-03-31T03:00+02:00,3\n", [], [1, 2, 3],
     "timestamps in `t` carry time zones; converted to UTC"),
    (b"t,y\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n2024-01-05,4\n2024-01-06,5\n", [], [1, 2, 3, 4, 5],
     "timestamps are irregular: 1 of 4 steps differ from the usual D (the first after 2024-01-03 00:00:00); "
     "the model treats rows as equally spaced"),
])
def test_messy_tables_that_load(tmp_path, content, extra, values, warning):
    from forecast.config import DataConfig, Dedupe, Fill
    from forecast.data import load_csv

    path = tmp_path / "d.csv"
    path.write_bytes(content)
    opts = dict(zip(extra[::2], extra[1::2]))
    series = load_csv(DataConfig(str(path), target=opts.get("--target"), encoding=opts.get("--encoding", "utf-8"),
                                 decimal=opts.get("--decimal"), fill=Fill(opts.get("--fill", "interpolate")),
                                 dedupe=Dedupe(opts.get("--dedupe", "none"))))
    assert series.values[:, 0].tolist() == values
    assert (warning in series.notes) if warning else series.notes == ()


PREDICT = [
    ("a file of another frequency", lambda run, tmp: [str(run), _write(tmp, "timestamp,value\n" + "".join(
        f"2024-{1 + d // 28:02d}-{1 + d % 28:02d},{math.sin(d / 3):.4f}\n" for d in range(56)))],
     "{tmp}/new.csv has rows every D and sine-lstm was trained on rows every h (its lookback, horizon and season 24 "
     "count those steps); predict with a run trained on D data, or resample the file to h"),
    ("a series given twice", lambda run, tmp: [str(run), "{csv}", "--series", "a,a"],
     "--series names a twice; give each once"),
    ("one run given twice", lambda run, tmp: [str(run), str(run.parent / ".." / run.parent.name / run.name), "{csv}"],
     "the list of runs names {run} twice (as {run} and {run_again}); give each once"),
    ("run folder missing", lambda run, tmp: [str(tmp / "nope"), "{csv}"],
     "run folder {tmp}/nope does not exist; list runs with `ls runs/` or train one with `forecast train`"),
    ("run folder is a file", lambda run, tmp: ["{csv}", "{csv}"],
     "{csv} is not a run folder; pass the folder that `forecast train` wrote, e.g. runs/sine-lstm"),
    ("run folder incomplete", lambda run, tmp: [str(_without(run, tmp, "scaler.json")), "{csv}"],
     "run folder {tmp}/copy is incomplete (missing scaler.json); train it again"),
    ("run from another version", lambda run, tmp: [str(_edit(run, tmp, "config.json", f'"schema_version": {SCHEMA_VERSION}',
                                                              '"schema_version": 1')), "{csv}"],
     f"run folder {{tmp}}/copy has schema version 1 (written by forecast {__version__}), this forecast reads "
     f"{SCHEMA_VERSION}; train it again with this version: forecast train --config {{tmp}}/copy/run.toml"),
    ("CSV lacking the run's target", lambda run, tmp: [str(run), _write(tmp, "z\n" + "1\n" * 30)],
     "column `value` not found in {tmp}/new.csv; available: z"),
    ("values in other units than the run's", lambda run, tmp: [str(run), _write(tmp, "value\n" + "2e12\n" * 30)],
     "column `value` of {tmp}/new.csv lies too far from what the run was trained on: its values reach 2.83e+12 times "
     "the run's scale (0.707 in scaler.json) from its centre; check the file's units, or train a run on data like "
     "it"),
    ("a damaged mean in scaler.json", lambda run, tmp: [str(_scaler_mean(run, tmp, 1e308)), "{csv}"],
     "run folder {tmp}/copy has a malformed file (ValueError: scaler.json's target mean 1e+308 and std 0.707 do not "
     "fit its train_range [-1, 1]); train it again"),
    ("CSV shorter than the lookback", lambda run, tmp: [str(run), _write(tmp, "value\n" + "1\n" * 5)],
     "{tmp}/new.csv has 5 rows, fewer than the run's lookback (20); give at least 20 rows"),
    ("--steps 0", lambda run, tmp: [str(run), "{csv}", "--steps", "0"],
     "--steps must lie between 1 and 10,000 (got 0); a forecast fed on its own output that far ahead has no skill "
     "left, and computing it would take hours"),
    ("--steps a billion", lambda run, tmp: [str(run), "{csv}", "--steps", "1000000000"],
     "--steps must lie between 1 and 10,000 (got 1,000,000,000); a forecast fed on its own output that far ahead has "
     "no skill left, and computing it would take hours"),
    ("--last 0", lambda run, tmp: [str(run), "{csv}", "--last", "0"],
     "--last must be at least 1 (got 0); it is the number of latest origins to forecast"),
    ("--out is the input data", lambda run, tmp: [str(run), "{csv}", "--out", "{csv}"],
     "--out {csv} is the input data; write to another file"),
    ("--out inside the run folder", lambda run, tmp: [str(run), "{csv}", "--out", str(run / "p.csv")],
     "--out {run}/p.csv lies inside the run folder {run}, which holds only what `forecast train` wrote; write it "
     "outside the run folder"),
    ("--plot is the --out file", lambda run, tmp: [str(run), "{csv}", "--out", str(tmp / "p.csv"), "--plot",
                                                   str(tmp / "p.csv")],
     "--plot {tmp}/p.csv is the --out file; write to another file"),
    ("metrics.json that is a list", lambda run, tmp: [str(_replace(run, tmp, "metrics.json", "[]")), "{csv}"],
     "run folder {tmp}/copy has a malformed file (metrics.json must be a JSON object (it is [])); train it again"),
    ("scaler.json that is null", lambda run, tmp: [str(_replace(run, tmp, "scaler.json", "null")), "{csv}"],
     "run folder {tmp}/copy has a malformed file (scaler.json must be a JSON object (it is None)); train it again"),
    ("a lookback of 0 in config.json", lambda run, tmp: [str(_edit(run, tmp, "config.json", '"lookback": 20',
                                                                     '"lookback": 0')), "{csv}"],
     "run folder {tmp}/copy has a malformed file (config.json options: --lookback must be at least 1 (got 0)); "
     "train it again"),
    ("a text horizon in config.json", lambda run, tmp: [str(_edit(run, tmp, "config.json", '"horizon": 1',
                                                                    '"horizon": "1"')), "{csv}"],
     "run folder {tmp}/copy has a malformed file (config.json options.window.horizon must be a whole number (it is "
     "'1')); train it again"),
    ("a NaN score in metrics.json", lambda run, tmp: [str(_edit(run, tmp, "metrics.json", '"mse": ', '"mse": NaN, '
                                                                  '"was": ', count=1)), "{csv}"],
     "run folder {tmp}/copy has a malformed file (metrics.json test.model.mse must be a finite number (it is nan)); "
     "train it again"),
    ("runs of different horizons averaged", lambda run, tmp: [str(run), str(_horizon(run, tmp, 2)), "{csv}"],
     "the runs forecast different horizons (sine-lstm 1, copy 2); average only runs trained with the same --horizon"),
    ("runs of different targets averaged", lambda run, tmp: [str(run), str(_retarget(run, tmp, "load")), "{csv}"],
     "the runs forecast different columns (sine-lstm `value`, copy `load`); average only runs trained on the same "
     "--target"),
    ("history.csv without val_loss", lambda run, tmp: [str(_replace(run, tmp, "history.csv", "epoch,loss\n1,0.5\n")),
                                                        "{csv}"],
     "run folder {tmp}/copy has a malformed file (history.csv lacks the column val_loss (it has epoch, loss)); "
     "train it again"),
]


def _without(run, tmp, name):
    dst = copy_run(run, tmp / "copy")
    (dst / name).unlink()
    return dst


def _edit(run, tmp, name, old, new, count=-1):
    dst = copy_run(run, tmp / "copy")
    text = (dst / name).read_text()
    assert old in text
    (dst / name).write_text(text.replace(old, new, count))
    return dst


def _retarget(run, tmp, column):
    """The run as if trained on another column of the same file."""
    dst = copy_run(run, tmp / "copy")
    for name in ("config.json", "scaler.json"):
        (dst / name).write_text((dst / name).read_text().replace('"value"', f'"{column}"'))
    return dst


def _scaler_mean(run, tmp, mean):
    dst = copy_run(run, tmp / "copy")
    scaler = json.loads((dst / "scaler.json").read_text())
    scaler["mean"][0] = mean
    (dst / "scaler.json").write_text(json.dumps(scaler))
    return dst


def _horizon(run, tmp, horizon):
    dst = _edit(run, tmp, "config.json", '"horizon": 1', f'"horizon": {horizon}')
    metrics = (dst / "metrics.json").read_text()
    (dst / "metrics.json").write_text(metrics.replace('"horizon": 1', f'"horizon": {horizon}'))
    return dst


def _replace(run, tmp, name, text):
    dst = copy_run(run, tmp / "copy")
    (dst / name).write_text(text)
    return dst


def _write(tmp, text):
    (tmp / "new.csv").write_text(text)
    return str(tmp / "new.csv")


@pytest.mark.slow
@pytest.mark.parametrize("case, args, message", PREDICT, ids=[c[0] for c in PREDICT])
def test_predict_catalogue(trained, tmp_path, case, args, message):
    run_dir, csv = trained.runs / "sine-lstm", trained.csv
    argv = [a.format(csv=csv) for a in args(run_dir, tmp_path)]
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", *argv, *([] if "--out" in argv else ["--out", str(out)])])
    assert result.exit_code == 1, result.output
    again = run_dir.parent / ".." / run_dir.parent.name / run_dir.name
    assert result.stderr.strip().splitlines() == ["Error: " + message.format(tmp=tmp_path, csv=csv, run=run_dir,
                                                                            run_again=again)]
    assert not out.exists() and not (run_dir / "p.csv").exists()
    assert csv.read_text().startswith("timestamp,value")  # the input is untouched


def _frames() -> dict:
    t = np.arange(60)
    y = np.sin(t / 3)
    return {
        "a MultiIndex with an unnamed level": pd.DataFrame(
            {"y": np.r_[y, y]}, index=pd.MultiIndex.from_product([["a", "b"], pd.date_range("2024-01-01", periods=60)],
                                                                 names=["store", None])),
        "a TimedeltaIndex": pd.DataFrame({"y": y}, index=pd.to_timedelta(t, unit="h")),
        "an unnamed index of text labels": pd.DataFrame({"y": y}, index=[f"r{i}" for i in t]),
        "a named index like a column": pd.DataFrame({"y": y, "k": t}, index=pd.Index(t, name="k")),
        "a complex target": pd.DataFrame({"y": y + 0.5j}),
        "a column of durations as a feature": pd.DataFrame({"y": y, "d": pd.to_timedelta(t, unit="min")}),
        "a column of dates as the target": pd.DataFrame({"t": t, "y": pd.date_range("2024-01-01", periods=60)}),
        "integers beyond 2**53": pd.DataFrame({"y": 2 ** 60 + t}),
    }


# (case, the options of forecast.train, message): DataFrames through the Python API (_frames above)
API = [
    ("a MultiIndex with an unnamed level", {}, "the DataFrame's MultiIndex has unnamed levels (store, None); name "
     "them (df.rename_axis([\"time\", \"id\"])) so that time_col= and id_col= can choose them, or make them columns "
     "(df.reset_index())"),
    ("a TimedeltaIndex", {}, "the DataFrame's index holds durations (a TimedeltaIndex), not dates; give them a start "
     "(df.index = pd.Timestamp(\"2024-01-01\") + df.index) or count rows instead (df.reset_index(drop=True))"),
    ("an unnamed index of text labels", {}, "the DataFrame's index holds text labels such as 'r0' and has no name; "
     "name it (df.rename_axis(\"time\")) to use it as a column, or drop it (df.reset_index(drop=True))"),
    ("a named index like a column", {"target": "y"}, "the DataFrame's index is named `k` like one of its columns; "
     "rename the index (df.rename_axis(...)) or the column"),
    ("a complex target", {}, "column `y` in dataframe holds complex numbers such as 0.5j; the tool forecasts real "
     "values: pass their real part (df[col].real) or their magnitude (df[col].abs())"),
    ("a column of durations as a feature", {"target": "y", "features": ["d"]}, "column `d` in dataframe holds "
     "durations, not numbers; convert it to a number (df[col].dt.total_seconds() for durations) or leave it out of "
     "--target and --features"),
    ("a column of dates as the target", {"target": "y", "time_col": "t"}, "column `y` in dataframe holds dates, not "
     "numbers; convert it to a number (df[col].dt.total_seconds() for durations) or leave it out of --target and "
     "--features"),
    ("integers beyond 2**53", {}, "column `y` in dataframe holds integers beyond 2**53 (1152921504606847035), which "
     "floating point cannot represent exactly; subtract an offset or change its units"),
]


@pytest.mark.parametrize("case, options, message", API, ids=[c[0] for c in API])
def test_api_catalogue(tmp_path, case, options, message):
    import forecast

    with pytest.raises(forecast.ForecastError) as caught:
        forecast.train(_frames()[case], cell="rnn", runs_dir=tmp_path / "runs", verbose=False, **options)
    assert str(caught.value) == message
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def catalogue() -> list[tuple[str, str]]:
    """(input, message) rows for docs/errors.md (docs/make_errors_table.py writes them there)."""
    return ([(c[0], c[3].format(p="data.csv", d="plots")) for c in TRAIN]
            + [(f"backtest: {c[0]}", c[3].format(p="data.csv", d="plots")) for c in BACKTEST]
            + [(c[0], c[2].format(c="x.toml")) for c in CONFIG]
            + [(f"predict: {c[0]}", c[2].format(tmp="...", csv="data.csv", run="runs/sine-lstm",
                                                 run_again="./runs/sine-lstm")) for c in PREDICT]
            + [(f"Python API, a DataFrame with {c[0]}", c[2]) for c in API])
