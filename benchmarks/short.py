"""The tool's recommendation on short series (40-250 rows), beside the simple references, drift, mean and
statsforecast's AutoETS, AutoARIMA and AutoTheta, on the same test origins. Not part of the test suite.

    pip install -e ".[bench]"            # statsforecast (and statsmodels, whose annual series two cases read)
    python benchmarks/short.py           # every case below; writes benchmarks/short.md and short.json
    python benchmarks/short.py --only nile,msft_250

The cases are the last rows of the shipped series (or their daily and weekly aggregates), two annual series that
statsmodels ships (the Nile's flow, 1871-1970, Durbin and Koopman; yearly sunspot numbers, 1700-2008, SIDC), some
with features, some whose calendar suggests a season they do not have. Each is trained as a user would,
`forecast train data.csv --cell all --horizon H` with nothing else, split 70/15/15 in time. MASE divides by the
in-sample MAE of the seasonal naive at the case's own `m` (the cycle it really has, 1 for none) on the training part,
the same for every row and every version of the tool, so that rows and runs compare; the classical models get the
same `m`. `drift` and `mean` are the tool's (over its lookback window). The statistical models are fit once on the
training and validation rows and filtered forward to each test origin, as in benchmarks/accuracy.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import CLASSICAL, ENV, FORECAST, ROOT, SHARED, stats_forecasts  # noqa: E402

sys.path.insert(0, str(ROOT))
from forecast.baselines import drift, window_mean  # noqa: E402

OUT = ROOT / "benchmarks" / "short.md"
SIMPLE = ("naive", "seasonal_naive", "seasonal_diff", "drift", "mean")
TOLERANCE = 0.05  # the bars: the pick within 5% of the naive, within 5% of the best classical model


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # annual, quarterly, monthly, weekly, daily
    horizon: int
    m: int  # the cycle the series has (1: none), for the MASE scale and the classical models
    features: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""


CASES = [
    Case("nile", "annual", 1, 1, note="statsmodels' Nile flow, 100 years (a column of years)"),
    Case("sunspots_250", "annual", 3, 1, note="statsmodels' yearly sunspots, the last 250 years (an 11-year cycle "
                                              "that no calendar names)"),
    Case("johnson_johnson", "quarterly", 4, 4, note="84 quarters"),
    Case("ukgas", "quarterly", 4, 4, note="108 quarters"),
    Case("accidental_deaths", "monthly", 6, 12, note="72 months"),
    Case("nottingham_120", "monthly", 12, 12, note="the last 120 months"),
    Case("seatbelts_features", "monthly", 12, 12, ("PetrolPrice", "law"), "192 months, with the petrol price and the "
                                                                          "seat-belt law as features"),
    Case("victoria_daily_200", "daily", 7, 7, ("workday", "temperature_c"), "daily mean demand, the last 200 days, "
                                                                             "with the workday flag and temperature"),
    Case("jfk_daily_200", "daily", 7, 1, note="JFK's daily mean temperature, the last 200 days: daily dates, no week"),
    Case("msft_250", "daily", 1, 1, note="the last 250 closes: business days, a random walk"),
    Case("dax_weekly_200", "weekly", 4, 1, note="the DAX's weekly mean, the last 200 weeks: weekly dates, no year"),
    Case("births_weekly_150", "weekly", 4, 52, note="US births a week, the last 150 weeks: a yearly cycle seen twice"),
]


def _shared(name: str) -> Path:
    shipped = ROOT / "datasets" / name
    return shipped if shipped.exists() else SHARED / name


def build(case: Case) -> pd.DataFrame:
    """The case's table: a time column, the target (always `y`) and its features."""
    name = case.name
    if name == "nile":
        import statsmodels.datasets as sm
        frame = sm.nile.load_pandas().data.astype({"year": int})
        return frame.rename(columns={"volume": "y"})
    if name == "sunspots_250":
        import statsmodels.datasets as sm
        frame = sm.sunspots.load_pandas().data.astype({"YEAR": int}).rename(columns={"YEAR": "year",
                                                                                    "SUNACTIVITY": "y"})
        return frame.iloc[-250:]
    if name in ("johnson_johnson", "ukgas", "accidental_deaths", "nottingham_120", "seatbelts_features"):
        source, target, last = {"johnson_johnson": ("johnson_johnson_quarterly.csv", "eps", None),
                                "ukgas": ("ukgas_quarterly.csv", "gas", None),
                                "accidental_deaths": ("us_accidental_deaths_monthly.csv", "deaths", None),
                                "nottingham_120": ("nottingham_temp_monthly.csv", "temp_f", 120),
                                "seatbelts_features": ("uk_seatbelts_monthly.csv", "drivers", None)}[name]
        frame = pd.read_csv(_shared(source))
        frame = frame[[frame.columns[0], target, *case.features]].rename(columns={target: "y"})
        return frame.iloc[-last:] if last else frame
    if name == "victoria_daily_200":
        frame = pd.read_csv(_shared("victoria_electricity_halfhourly.csv.gz"), parse_dates=["timestamp"])
        daily = frame.set_index("timestamp").resample("D").agg({"demand_gw": "mean", "workday": "max",
                                                                "temperature_c": "mean"})
        return daily.rename(columns={"demand_gw": "y"}).rename_axis("date").reset_index().iloc[-200:]
    if name == "jfk_daily_200":
        frame = pd.read_csv(_shared("nyc_airport_weather_hourly.csv.gz"), parse_dates=["time"])
        frame = frame[frame["station"] == "JFK"].set_index("time")["temp_f"].resample("D").mean()
        return frame.rename("y").rename_axis("date").reset_index().iloc[-200:]
    if name == "msft_250":
        frame = pd.read_csv(_shared("msft_daily.csv"))[["Date", "Close"]].rename(columns={"Close": "y"})
        return frame.iloc[-250:]
    if name == "dax_weekly_200":
        dax = pd.read_csv(_shared("eu_stock_indices_daily.csv"))["DAX"].to_numpy()
        weeks = len(dax) // 5
        y = dax[:weeks * 5].reshape(weeks, 5).mean(axis=1)[-200:]
        return pd.DataFrame({"week": pd.date_range(end="1998-08-30", periods=len(y), freq="W-SUN"), "y": y})
    if name == "births_weekly_150":
        frame = pd.read_csv(_shared("births_by_state_daily.csv.xz"), parse_dates=["date"])
        daily = frame.groupby("date")["births"].sum()
        weekly = daily.resample("W-SUN").sum().iloc[1:-1]  # whole weeks only
        return weekly.rename("y").rename_axis("week").reset_index().iloc[-150:]
    raise ValueError(name)


def scores(actual: np.ndarray, forecast: np.ndarray, scale: float) -> dict:
    err = np.asarray(actual, float) - np.asarray(forecast, float)
    return {"mse": float(np.mean(err ** 2)), "mase": float(np.mean(np.abs(err)) / scale)}


def evaluate(case: Case, folder: Path) -> dict:
    import subprocess

    frame = build(case)
    csv = folder / f"{case.name}.csv"
    frame.to_csv(csv, index=False)
    n = len(frame)
    command = [*FORECAST, "train", str(csv), "--cell", "all", "--horizon", str(case.horizon), "--target", "y",
               "--runs-dir", str(folder / "runs"), "--json"]
    if case.features:
        command += ["--features", ",".join(case.features)]
    began = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - began
    result = {"case": case.name, "kind": case.kind, "rows": n, "horizon": case.horizon, "m": case.m,
              "features": list(case.features), "note": case.note, "seconds": round(seconds, 1)}
    if proc.returncode != 0:
        return {**result, "error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    runs = {cell: folder / "runs" / f"{case.name}-{cell}" for cell in ("rnn", "lstm", "gru")}
    metrics = {cell: json.loads((run / "metrics.json").read_text()) for cell, run in runs.items()}
    config = json.loads((runs["lstm"] / "config.json").read_text())
    tables = {cell: pd.read_csv(run / "test_predictions.csv") for cell, run in runs.items()}
    first = tables["lstm"]
    y = frame["y"].astype(float).interpolate(limit_direction="both").to_numpy()
    train_end = n - 2 * int(np.ceil(n * 0.15))
    val_end = n - int(np.ceil(n * 0.15))
    scale = float(np.mean(np.abs(y[case.m:train_end] - y[:train_end - case.m])))
    lookback = config["options"]["window"]["lookback"]
    origins = np.arange(val_end - 1, n - case.horizon)
    actual = first["actual"].to_numpy()
    truth = np.stack([y[t + 1:t + 1 + case.horizon] for t in origins]).reshape(-1)
    assert np.allclose(truth, actual), case.name  # the tool's test windows are these origins
    models = {ref: scores(actual, first[ref].to_numpy(), scale) for ref in SIMPLE[:3] if ref in first.columns}
    for name, fn in (("drift", drift), ("mean", window_mean)):
        models[name] = scores(truth, fn(y, origins, case.horizon, lookback).reshape(-1), scale)
    forecasts = {cell: t["forecast"].to_numpy() for cell, t in tables.items()}
    forecasts["ensemble"] = np.mean([forecasts[c] for c in ("rnn", "lstm", "gru")], axis=0)
    for name, f in forecasts.items():
        models[name] = scores(actual, f, scale)
    if "start" in first.columns:
        models["start"] = scores(actual, first["start"].to_numpy(), scale)
    recommended = metrics["lstm"]["recommended"]
    pick = recommended["model"]
    models["pick"] = {**models[pick], "model": pick}
    stats = stats_forecasts(case, y, case.m, origins, val_end)
    for name, f in stats.items():
        models[name] = f if isinstance(f, str) else scores(truth, f[0].reshape(-1), scale)
    notes = [line for line in proc.stderr.splitlines() if line.startswith("Warning:")]
    return {**result, "lookback": lookback, "season": metrics["lstm"]["test"]["season"], "models": models,
            "recommended": {k: v for k, v in recommended.items() if k != "val_mae"},
            "val_mae": recommended.get("val_mae"), "notes": notes,
            "coverage": {cell: m["test"].get("intervals", {}) for cell, m in metrics.items()}}


def mase(r: dict, name: str):
    m = r["models"].get(name)
    return None if not isinstance(m, dict) else m["mase"]


def report(results: list[dict], seconds: float) -> str:
    columns = [*SIMPLE, *CLASSICAL, "start", "rnn", "lstm", "gru", "ensemble", "pick"]
    lines = ["# Short series", "",
             f"`python benchmarks/short.py`, {time.strftime('%Y-%m-%d')}, {seconds / 60:.0f} minutes, seed 0, CPU. "
             "Test MASE (scaled by the in-sample seasonal naive at the case's own `m`, the cycle it has); "
             "`forecast train data.csv --cell all --horizon H` with nothing else, 70/15/15 in time, every test origin; "
             "`pick` is the model the tool's table recommends; `L` the tool's lookback and `s` its season.", "",
             "| series | kind | rows | H / m | L / s | " + " | ".join(columns) + " | pick is |",
             "|---|---|---:|---|---|" + "---:|" * len(columns) + "---|"]
    ok = [r for r in results if "error" not in r]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['case']} | {r['kind']} | {r['rows']} | error: {r['error']} |")
            continue
        cells = [f"{v:.3f}" if (v := mase(r, c)) is not None else "-" for c in columns]
        lines.append(f"| {r['case']} | {r['kind']}{' + features' if r['features'] else ''} | {r['rows']} | "
                     f"{r['horizon']} / {r['m']} | {r['lookback']} / {r['season']} | " + " | ".join(cells)
                     + f" | {r['models']['pick']['model']} |")
    lines += ["", "## The pick against the bars", ""]
    worse_naive, near_classical, counted, ratios = [], 0, 0, []
    for r in ok:
        pick, naive = mase(r, "pick"), mase(r, "naive")
        best = min(v for k in columns[:-1] if (v := mase(r, k)) is not None)
        ratios.append(pick / best)
        if pick > (1 + TOLERANCE) * naive:
            worse_naive.append(f"{r['case']} ({pick / naive - 1:+.1%})")
        classical = [v for k in CLASSICAL if (v := mase(r, k)) is not None]
        if classical:
            counted += 1
            near_classical += pick <= (1 + TOLERANCE) * min(classical)
        lines.append(f"- {r['case']}: pick {r['models']['pick']['model']} {pick:.3f}, naive {naive:.3f}, best row "
                     f"{best:.3f}, best classical {min(classical) if classical else float('nan'):.3f}; "
                     f"recommendation: {r['recommended'].get('model')}"
                     + (f" (Diebold-Mariano {r['recommended']['diebold_mariano']:.2f})"
                        if "diebold_mariano" in r["recommended"] else ""))
    lines += ["", f"- worse than the naive by more than {TOLERANCE:.0%}: {len(worse_naive)}/{len(ok)}"
              + (f" ({', '.join(worse_naive)})" if worse_naive else ""),
              f"- within {TOLERANCE:.0%} of the best of AutoETS, AutoARIMA and AutoTheta: {near_classical}/{counted}",
              f"- the pick's MASE over the best row's (any model in the table): geometric mean "
              f"{float(np.exp(np.mean(np.log(ratios)))):.3f}, largest {max(ratios):.3f}" if ratios else "- no rows"]
    notes = [f"- {r['case']}: {r['note']}" + (f"; the tool's notes: {' / '.join(r['notes'])}" if r["notes"] else "")
             for r in ok]
    lines += ["", "## Cases", "", *notes, "", "## Machine", "", f"- {platform.platform()}, {os.cpu_count()} cores",
              f"- python {platform.python_version()}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--from-json", type=Path, help="write the markdown from a saved short.json")
    args = parser.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        args.out.write_text(report(results, sum(r.get("seconds", 0) for r in results)))
        return
    cases = [c for c in CASES if not args.only or c.name in args.only.split(",")]
    began, results = time.perf_counter(), []
    with tempfile.TemporaryDirectory(prefix="forecast-short-") as tmp:
        for case in cases:
            print(case.name, flush=True)
            folder = Path(tmp) / case.name
            folder.mkdir()
            results.append(evaluate(case, folder))
            args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    args.out.write_text(report(results, time.perf_counter() - began))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
