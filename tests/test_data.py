import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.config import DataConfig, Dedupe, Fill, WindowConfig
from forecast.data import load_csv, load_panel
from forecast.datasets import make_series
from forecast.dates import extend_time, infer_freq
from forecast.errors import DataError, ForecastError
from forecast.prepare import prepare
from forecast.scaling import Scaler
from forecast.split import split_series


def test_load_detects_time_and_target_and_sorts(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("when,y\n2024-01-03,3\n2024-01-01,1\n2024-01-02,2\n")
    s = load_csv(DataConfig(str(path)))
    assert (s.time_col, s.target, s.freq) == ("when", "y", "D")
    assert s.values[:, 0].tolist() == [1, 2, 3]


def test_a_usually_named_column_mostly_of_non_dates_is_not_the_time_column(tmp_path, monkeypatch):
    from forecast import data, dates

    stamp = pd.date_range("2024-01-01", periods=3000, freq="h").strftime("%Y-%m-%d %H:%M")
    time = list(stamp[:1000]) + ["n/a"] * 2000  # dates first, then mostly not
    path = tmp_path / "d.csv"
    pd.DataFrame({"time": time, "stamp": stamp, "y": np.arange(3000.0)}).to_csv(path, index=False)
    parsed = []
    for module in (data, dates):
        monkeypatch.setattr(module, "parse_dates", lambda column, real=dates.parse_dates: parsed.append(column.name)
                            or real(column))
    s = load_csv(DataConfig(str(path)))
    assert (s.time_col, s.freq) == ("stamp", "h")
    assert parsed == ["time", "stamp"]  # each tried once: the time index reuses the detected column's dates


def test_a_column_of_years_is_the_time_column(tmp_path):
    path = tmp_path / "flow.csv"
    path.write_text("year,volume\n" + "".join(f"{1871 + i},{1000 + 7 * i % 13}\n" for i in range(100)))
    s = load_csv(DataConfig(str(path)))
    assert (s.time_col, s.target, s.freq) == ("year", "volume", "YS-JAN")
    assert s.time[0] == pd.Timestamp("1871-01-01") and s.time[-1] == pd.Timestamp("1970-01-01")
    assert s.values[:3, 0].tolist() == [1000, 1007, 1001]


@pytest.mark.parametrize("header, years, target", [
    ("year,volume", [1871 + 2 * i for i in range(10)], "volume"),  # not one apart
    ("year,volume", [1871, 1872, 1874, 1875], "volume"),  # a year missing
    ("year,volume", list(range(1871, 1881)), "year"),  # a --target is never the time
    ("n,y", list(range(10)), "y"),  # row numbers are no years
])
def test_only_consecutive_years_are_taken_as_time(tmp_path, header, years, target):
    path = tmp_path / "d.csv"
    path.write_text(header + "\n" + "".join(f"{year},{i * 0.5}\n" for i, year in enumerate(years)))
    s = load_csv(DataConfig(str(path), target=target))
    assert (s.time_col, s.target) == (None, target)


def test_years_alone_are_the_target_and_two_numbers_name_both_flags(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("volume\n" + "".join(f"{1871 + i}\n" for i in range(10)))
    assert (load_csv(DataConfig(str(path))).time_col, load_csv(DataConfig(str(path))).target) == (None, "volume")
    path.write_text("year,volume\n" + "".join(f"{1871 + 2 * i},{i}\n" for i in range(10)))
    with pytest.raises(DataError, match=r"choose one with --target \(and the time column with --time-col, if one"):
        load_csv(DataConfig(str(path)))


def test_load_without_time_column_uses_row_numbers(multi_csv):
    s = load_csv(DataConfig(str(multi_csv), target="sales", features=("price",)))
    assert s.time_col is None and s.columns == ("sales", "price")
    assert s.values.shape == (300, 2) and list(s.time[:3]) == [0, 1, 2]


@pytest.mark.parametrize("content, cfg, message", [
    (None, {}, "no such file; check the path"),
    ("", {}, "is empty; it needs a header row"),
    ("a,b\n", {}, "has a header but no data rows"),
    ("t,y\n2024-01-01,1\n", {"target": "value"}, "column `value` not found in {p}; available: t, y"),
    ("t,sales\n2024-01-01,1\n", {"target": "sale"}, "column `sale` not found in {p}; did you mean `sales`? available: t, sales"),
    ("a,b\n1,2\n", {}, "has 2 numeric columns (a, b); choose one with --target (and the time column with "
                       "--time-col, if one of them holds the time)"),
    ("t,y\n2024-01-01,1\n2024-01-02,N/A\n", {}, "column `y` in {p} has a non-numeric value 'N/A' at row 3"),
    ("t,y\n2024-01-01,1\n2024-01-02,\n", {"fill": Fill.error},
     "{p} has missing values (1 in `y`), the first at data row 2 in time order"),
    ("t,y\n2024-01-01,1\n2024-01-02,inf\n", {}, "column `y` in {p} has an infinite value at row 3"),
])
def test_bad_csv_gives_clear_errors(tmp_path, content, cfg, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError) as err:
        load_csv(DataConfig(str(path), **cfg))
    assert message.format(p=path) in str(err.value)


def test_a_directory_is_not_a_csv(tmp_path):
    with pytest.raises(DataError, match="is a directory, not a CSV file"):
        load_csv(DataConfig(str(tmp_path)))


def test_split_is_chronological_and_leaves_no_gap():
    split = split_series(1000, DataConfig("x", val_frac=0.15, test_frac=0.15), WindowConfig(48, 1))
    assert [split.bounds(p) for p in ("train", "val", "test")] == [(0, 700), (700, 850), (850, 1000)]


def test_too_few_rows_says_how_many_are_needed():
    with pytest.raises(DataError) as err:
        split_series(50, DataConfig("d.csv"), WindowConfig(48, 12))
    assert "d.csv has 50 rows, too few for --lookback 48 + --horizon 12" in str(err.value)
    assert "use at least 86 rows" in str(err.value)
    # and that number really is enough
    split_series(86, DataConfig("d.csv"), WindowConfig(48, 12))


def test_scaler_is_fit_on_training_rows_only(tmp_path):
    n = 200
    values = np.r_[np.zeros(140), np.full(60, 1000.0)]  # the future is at another level
    path = tmp_path / "lvl.csv"
    pd.DataFrame({"y": values}).to_csv(path, index=False)
    prep = prepare(DataConfig(str(path)), WindowConfig(10, 1))
    assert prep.split.train_end == n - 30 - 30
    assert prep.scaler.mean == (0.0,) and prep.scaler.std == (1.0,)  # constant train part: std 1, not NaN


@given(arrays(np.float64, (30, 2), elements=st.floats(-1e9, 1e9)))
def test_scaler_round_trip(values):
    scaler = Scaler.fit(values)
    restored = Scaler.from_dict(scaler.to_dict(("a", "b")), ("a", "b"))
    assert restored == scaler
    back = restored.inverse_target(restored.transform(values)[:, 0].astype(np.float64))
    np.testing.assert_allclose(back, values[:, 0], rtol=1e-5, atol=1e-6 * (np.abs(values).max() + 1))


def test_config_rejects_nonsense():
    with pytest.raises(ForecastError, match="--lookback must be at least 1"):
        WindowConfig(0, 1)
    with pytest.raises(ForecastError, match="leave less than 10% of the rows for training"):
        DataConfig("x", val_frac=0.5, test_frac=0.45)


def test_sine_generator_and_frequencies():
    frame = make_series("sine", 100, 0.0, 0, period=10)
    assert list(frame.columns) == ["timestamp", "value"]
    assert frame["value"].iloc[0] == 0 and frame["value"].iloc[5] == pytest.approx(0, abs=1e-6)
    assert infer_freq(pd.DatetimeIndex(frame["timestamp"])) == "h"
    bdays = pd.bdate_range("2024-01-01", periods=40).delete([7, 20])  # holidays
    assert infer_freq(bdays) == "B"
    assert list(extend_time(pd.DatetimeIndex(frame["timestamp"][:2]), 2, "h").strftime("%H")) == ["00", "01", "02", "03"]


@pytest.mark.parametrize("name", ["sine.csv", "randomwalk.csv", "trend_seasonal.csv"])
def test_generated_datasets_are_reproduced_by_their_documented_command(tmp_path, name):
    import re
    import shlex

    from tests.conftest import ROOT, cli_ok

    readme = (ROOT / "datasets" / "README.md").read_text()
    command = re.search(rf"`forecast (datasets make [^`]*--out datasets/{re.escape(name)})`", readme).group(1)
    args = [a if a != f"datasets/{name}" else str(tmp_path / name) for a in shlex.split(command)]
    cli_ok(*args)
    assert (tmp_path / name).read_bytes() == (ROOT / "datasets" / name).read_bytes()


CELLS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:g}"),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["", "N/A", "-", "nan", "inf", "1,5", '"1,234.5"', "2024-01-01", "01/02/2024", "abc", " 7 ",
                     "2024-01-01T00:00+01:00", "1e308", "1e-320", '"', "\u00e9"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
)


@given(
    header=st.lists(st.sampled_from(["t", "date", "y", "value", "x", " y ", "a;b", ""]), min_size=1, max_size=4),
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=12),
    sep=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]),
    fill=st.sampled_from(list(Fill)),
    dedupe=st.sampled_from(list(Dedupe)),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_messy_tables_load_or_raise_the_tools_error(tmp_path, header, rows, sep, encoding, fill, dedupe):
    text = sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows) + "\n"
    path = tmp_path / "messy.csv"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        return
    try:
        series = load_csv(DataConfig(str(path), fill=fill, dedupe=dedupe))
    except ForecastError:
        return
    assert len(series) >= 1 and series.values.shape[1] == len(series.columns)
    assert np.isfinite(series.values).all()
    if series.time_col is not None:
        assert series.time.is_monotonic_increasing


@pytest.mark.parametrize("flag, mode", [(False, "none"), (True, "last")])
def test_runs_from_before_dedupe_modes_read_their_flag_as_a_mode(flag, mode):
    from forecast.config import RunConfig
    from forecast.schema import read_config

    options = RunConfig(DataConfig("x.csv"), WindowConfig(lookback=24)).to_dict()  # a run records its lookback
    options["data"]["dedupe"] = flag  # --dedupe was a flag that kept the last row
    assert read_config({"data": {"path": "x.csv"}, "options": options}).data.dedupe is Dedupe(mode)


def test_a_dataframes_index_is_used_as_documented():
    from forecast.csvfile import from_frame

    t = pd.date_range("2024-01-01", periods=4, freq="D")
    multi = pd.DataFrame({"y": range(8)}, index=pd.MultiIndex.from_product([["a", "b"], t], names=["store", "day"]))
    flat = from_frame(multi)
    assert list(flat.columns) == ["store", "day", "y"] and flat["store"].tolist() == ["a"] * 4 + ["b"] * 4
    periods = multi.set_axis(pd.MultiIndex.from_product([["a", "b"], t.to_period("D")], names=["store", "day"]))
    assert from_frame(periods)["day"].tolist() == flat["day"].tolist()  # a level of periods: their start times
    assert list(from_frame(pd.DataFrame({"y": [1.0, 2.0]}, index=pd.Index([1990, 1991], name="year"))).columns) == [
        "year", "y"]  # a named index is a column, as a CSV's would be
    filtered = pd.DataFrame({"y": [1.0, 2.0, 3.0]}, index=[0, 2, 5])  # row labels left by a filter: not data
    assert list(from_frame(filtered).columns) == ["y"]
    counted = pd.DataFrame({"y": [1.0, 2.0]}).rename_axis("row")  # a named RangeIndex still only counts rows
    assert list(from_frame(counted).columns) == ["y"]
    # the long table in a (store, day) MultiIndex trains one model across its series, as the same CSV does
    values = np.sin(np.arange(120) / 3)
    long = pd.DataFrame({"y": np.r_[values, values + 1]}, index=pd.MultiIndex.from_product(
        [["a", "b"], pd.date_range("2024-01-01", periods=120, freq="D")], names=["store", "day"]))
    loaded = load_panel(DataConfig(path="dataframe", frame=long, id_col="store"))
    assert [name for name, _ in loaded] == ["a", "b"] and loaded[1][1].time_col == "day"
    np.testing.assert_array_equal(loaded[1][1].values[:, 0], values + 1)
    with pytest.raises(DataError, match=r"holds 2 series in one table: its timestamps repeat once per value of "
                                        r"column `store`"):
        load_csv(DataConfig(path="dataframe", frame=long))


def test_series_ids_are_read_as_text_exactly_as_written(tmp_path):
    rows = [f"2024-01-{d:02d},{sid},{v + d}" for sid, v in (("007", 0), ("7", 100), ("A", 200), ("a ", 300))
            for d in range(1, 11)]
    csv = tmp_path / "ids.csv"
    csv.write_text("date,station,t\n" + "\n".join(rows) + "\n")
    loaded = dict(load_panel(DataConfig(path=str(csv), id_col="station")))
    assert list(loaded) == ["007", "7", "A", "a "]  # four series: none trimmed, parsed or merged
    assert loaded["7"].values[0, 0] == 101 and loaded["a "].values[0, 0] == 301
    assert loaded["007"].notes == ("its id `007` differs from `7` only in case, spaces or leading zeros; they are "
                                   "read as two series: make them one id in the file if they are one series",)
    assert loaded["a "].notes[0].startswith("its id `a ` differs from `A` only in case")
    # --dedupe combines rows of one series only: the two stations stay apart
    deduped = dict(load_panel(DataConfig(path=str(csv), id_col="station", dedupe=Dedupe.mean)))
    assert deduped["7"].values[0, 0] == 101
    one = load_panel(DataConfig(path=str(csv), id_col="station", series=("7",)))
    assert one[0][1].notes[-1].startswith("its id `7` differs from `007`")


def test_a_series_too_short_for_a_frequency_is_left_out_like_any_short_series(tmp_path):
    rows = [f"2024-01-{d:02d},a,{d}" for d in range(1, 29)] + ["2024-01-01,b,5"]
    csv = tmp_path / "short.csv"
    csv.write_text("date,id,y\n" + "\n".join(rows) + "\n")
    prep = prepare(DataConfig(path=str(csv), id_col="id"), WindowConfig(lookback=4, horizon=1))
    assert [b.name for b in prep.blocks] == ["a"]
    assert prep.series.notes == ("left out 1 series too short for --lookback 4 + --horizon 1 (season 7): b",)


def test_frequencies_that_space_rows_alike():
    from forecast.dates import same_spacing

    assert same_spacing("MS", "ME") and same_spacing("W-SUN", "W-MON") and same_spacing("h", "h")
    assert not same_spacing("h", "D") and not same_spacing("B", "D") and not same_spacing("30min", "h")
    assert not same_spacing("2D", "D") and not same_spacing("QS", "MS")


def test_parquet_and_arrow_files_load_as_their_csv_does(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 40
    frame = pd.DataFrame({"time": np.tile(pd.date_range("2024-01-01", periods=n, freq="h"), 2),
                          "station": np.repeat(["007", "JFK"], n), "temp": np.arange(2 * n, dtype=float)})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_feather(tmp_path / "t.feather")
    loaded = {suffix: dict(load_panel(DataConfig(path=str(tmp_path / f"t.{suffix}"), id_col="station")))
              for suffix in ("csv", "parquet", "feather")}
    for suffix in ("parquet", "feather"):
        assert list(loaded[suffix]) == ["007", "JFK"]  # the id stays text in every format
        for name in ("007", "JFK"):
            np.testing.assert_array_equal(loaded[suffix][name].values, loaded["csv"][name].values)
            assert loaded[suffix][name].time.equals(loaded["csv"][name].time)
            assert loaded[suffix][name].freq == "h"
    nested = pa.table({"time": pa.array(pd.date_range("2024-01-01", periods=3, freq="D")),
                       "y": [1.0, 2.0, 3.0], "tags": [[1], [2, 3], []]})
    pq.write_table(nested, tmp_path / "nested.parquet")
    with pytest.raises(DataError, match=r"^column `tags` of .*nested.parquet has the Parquet type list<element: int64>, "
                                        r"which is not a number, text or date; flatten it or leave it out of the file$"):
        load_csv(DataConfig(path=str(tmp_path / "nested.parquet")))
    pq.write_table(nested.slice(0, 0).drop(["tags"]), tmp_path / "empty.parquet")
    with pytest.raises(DataError, match=r"empty.parquet has columns but no rows; add rows to it$"):
        load_csv(DataConfig(path=str(tmp_path / "empty.parquet")))
    (tmp_path / "fake.parquet").write_text("t,y\n1,2\n")
    with pytest.raises(DataError, match=r"fake.parquet is named like a Parquet file but is not one \(it starts with "
                                        r"b't,y\\n'\); check the file, or rename it if it is a CSV$"):
        load_csv(DataConfig(path=str(tmp_path / "fake.parquet")))


def test_a_parquet_file_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    import sys

    pd.DataFrame({"y": [1.0, 2.0, 3.0]}).to_parquet(tmp_path / "t.parquet")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(DataError, match=r"t.parquet is a Parquet file, which needs pyarrow: pip install "
                                        r"\"forecast\[parquet\]\" \(or pyarrow\), or save it as CSV$"):
        load_csv(DataConfig(path=str(tmp_path / "t.parquet")))
