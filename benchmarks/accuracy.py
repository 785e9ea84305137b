"""Accuracy of `forecast train --cell all` on real series, beside the simple references and statsforecast's AutoETS,
AutoARIMA and AutoTheta, on the same test origins. Not part of the test suite.

    pip install -e ".[bench]"                  # statsforecast, for the classical references
    python benchmarks/accuracy.py              # every series below, the default and the plain configuration
    python benchmarks/accuracy.py --quick      # the four small seasonal series only
    python benchmarks/accuracy.py --only ukgas,msft

Every series is split 70/15/15 in time (the tool's --val-frac/--test-frac 0.15), and every model forecasts every
test origin (each window whose `horizon` targets lie in the test part); the horizon is stated per series below, the
lookback is the tool's default for each (the tables' L). The statistical models are fit once on
the training and validation rows and then filtered forward (statsforecast's `forward`, no refit) to each origin.
Scores are MSE and MASE in the series' own units; MASE divides by the in-sample seasonal-naive MAE of the
training part, as the tool does. Writes benchmarks/accuracy.md (and accuracy.json) with the machine and versions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "benchmarks" / "accuracy.md"
FORECAST = [sys.executable, "-m", "forecast"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
# The default (anchored on the reference auto chooses, with the linear path) and the plain networks it replaced.
CONFIGS = {"default": ["--interval", "0.9"], "plain": ["--anchor", "none", "--no-linear"]}
STATS_TIMEOUT = 300  # seconds for one statistical model on one series
# The simple references, those of a second season (the week of sub-daily data that shows one) where the tool scored
# them: the best of these is the bar a seasonal series' recommended model must meet.
REFERENCES = ("naive", "seasonal_naive", "seasonal_diff", "seasonal_naive2", "seasonal_diff2")
CLASSICAL = ("AutoETS", "AutoARIMA", "AutoTheta")


@dataclass(frozen=True)
class Case:
    name: str
    source: str  # a CSV in datasets/ or ../shared/datasets
    target: str
    horizon: int
    seasonal: bool  # judged against the seasonal references (random walks are judged against the naive)
    select: dict | None = None  # rows to keep: {"column": value}
    last: int | None = None  # keep only the last rows (stated: long files are trimmed for time)
    total: bool = False  # add up the rows of each time step (the 51 states of the births: the US total)
    quick: bool = False


CASES = [
    Case("ukgas", "ukgas_quarterly.csv", "gas", 4, True, quick=True),
    Case("johnson_johnson", "johnson_johnson_quarterly.csv", "eps", 4, True, quick=True),
    Case("nottingham", "nottingham_temp_monthly.csv", "temp_f", 12, True, quick=True),
    Case("accidental_deaths", "us_accidental_deaths_monthly.csv", "deaths", 6, True, quick=True),  # 72 rows
    Case("seatbelts_drivers", "uk_seatbelts_monthly.csv", "drivers", 12, True),
    Case("electricity", "electricity_demand_halfhourly.csv", "demand_mw", 48, True),
    Case("victoria_electricity", "victoria_electricity_halfhourly.csv", "demand_gw", 48, True, last=8760),
    Case("jfk_temperature", "nyc_airport_weather_hourly.csv", "temp_f", 24, True, select={"station": "JFK"}),
    Case("sine", "sine.csv", "value", 1, True),
    # daily, the next half-year: the horizon at which its training part shows the year (docs/options.md)
    Case("births_us", "births_by_state_daily.csv.xz", "births", 180, True, total=True),
    Case("msft", "msft_daily.csv", "Close", 1, False),
    *[Case(f"eu_{name.lower()}", "eu_stock_indices_daily.csv", name, 1, False) for name in ("DAX", "SMI", "CAC",
                                                                                                  "FTSE")],
]


def source(case: Case) -> Path:
    shipped = ROOT / "datasets" / case.source
    return shipped if shipped.exists() else SHARED / case.source


def series_csv(case: Case, folder: Path) -> Path:
    """The case's series as its own CSV: the time column (if any) and the target."""
    frame = pd.read_csv(source(case))
    for column, value in (case.select or {}).items():
        frame = frame[frame[column] == value]
    time_col = next((c for c in frame.columns if c.lower() in ("date", "time", "timestamp")), None)
    frame = frame[[c for c in (time_col, case.target) if c is not None]]
    if case.total:
        frame = frame.groupby(time_col, as_index=False)[case.target].sum()
    if case.last:
        frame = frame.iloc[-case.last:]
    path = folder / f"{case.name}.csv"
    frame.to_csv(path, index=False)
    return path


def run_tool(case: Case, csv: Path, runs: Path, extra: list[str]) -> dict:
    """`forecast train --cell all` with the case's horizon (the tool's default lookback): each cell's test forecasts
    and scores."""
    began = time.perf_counter()
    n = len(pd.read_csv(csv))
    if "--interval" in extra and int(np.ceil(n * 0.15)) - case.horizon + 1 < 9:
        extra = [a for a in extra if a not in ("--interval", "0.9")]  # 90% needs 9 validation windows
    proc = subprocess.run([*FORECAST, "train", str(csv), "--cell", "all", "--horizon", str(case.horizon), "--target", case.target, "--runs-dir", str(runs), *extra],
                          capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    out = {"seconds": time.perf_counter() - began, "cells": {}}
    for cell in ("rnn", "lstm", "gru"):
        run = runs / f"{case.name}-{cell}"
        metrics = json.loads((run / "metrics.json").read_text())
        config = json.loads((run / "config.json").read_text())
        out["cells"][cell] = {"table": pd.read_csv(run / "test_predictions.csv"), "val_loss": metrics["best_val_loss"],
                              "season": metrics["test"]["season"], "season2": metrics["test"].get("season2", 1),
                              "anchor": config.get("anchor", {}).get("used"),
                              "coverage": metrics["test"].get("intervals", {}).get("0.9", {}).get("coverage")}
        out["kept_start"] = {**out.get("kept_start", {}), cell: metrics.get("start", {}).get("kept")}
        out["recommended"] = metrics["recommended"]["model"]
        out["diebold_mariano"] = metrics["recommended"].get("diebold_mariano")  # best model vs best reference, val
        out["lookback"] = config["options"]["window"]["lookback"]
    return out


def scores(actual: np.ndarray, forecast: np.ndarray, scale: float) -> dict:
    err = np.asarray(actual, float) - np.asarray(forecast, float)
    return {"mse": float(np.mean(err ** 2)), "mase": float(np.mean(np.abs(err)) / scale)}


def stats_forecasts(case: Case, y: np.ndarray, season: int, test_origins: np.ndarray, fit_end: int) -> dict:
    """AutoETS, AutoARIMA and AutoTheta, each in its own process with a time limit: {name: (mean, lower, upper) of
    their forecasts and 90% intervals, each (n, horizon), or the reason there are none}."""
    out = {}
    for name in CLASSICAL:
        with tempfile.TemporaryDirectory() as tmp:
            np.save(Path(tmp) / "y.npy", y)
            np.save(Path(tmp) / "origins.npy", test_origins)
            code = (f"import numpy as np, sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); "
                    f"from accuracy import _stats_worker; _stats_worker({name!r}, {tmp!r}, {season}, {case.horizon}, "
                    f"{fit_end})")
            began = time.perf_counter()
            try:
                proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      timeout=STATS_TIMEOUT, env=ENV)
            except subprocess.TimeoutExpired:
                out[name] = f"not run: over {STATS_TIMEOUT} s"
                continue
            if proc.returncode != 0:
                out[name] = "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:80]
                continue
            out[name] = tuple(np.load(Path(tmp) / f"{file}.npy") for file in ("forecasts", "lo", "hi"))
            print(f"    {name}: {time.perf_counter() - began:.0f} s", flush=True)
    return out


def _stats_worker(name: str, tmp: str, season: int, horizon: int, fit_end: int) -> None:
    import statsforecast.models as models

    y, origins = np.load(Path(tmp) / "y.npy"), np.load(Path(tmp) / "origins.npy")
    model = getattr(models, name)(season_length=season).fit(y[:fit_end])
    out = [model.forward(y=y[:t + 1], h=horizon, level=[90]) for t in origins]
    for key, file in (("mean", "forecasts"), ("lo-90", "lo"), ("hi-90", "hi")):
        np.save(Path(tmp) / f"{file}.npy", np.stack([np.asarray(o[key], dtype=float) for o in out]))


def evaluate(case: Case, folder: Path, carried: dict | None = None) -> dict:
    """Every row of one series; with `carried` (this series' result from a saved accuracy.json), only the default
    configuration is trained and every other row (plain, the classical references) is carried from it."""
    csv = series_csv(case, folder)
    result = {"case": case.name, "horizon": case.horizon, "seasonal": case.seasonal}
    tools = {}
    for label, extra in CONFIGS.items():
        if carried is not None and label != "default":
            continue
        print(f"  {case.name}: forecast train --cell all {' '.join(extra)}", flush=True)
        tools[label] = run_tool(case, csv, folder / f"runs-{label}", extra)
    base = tools["default"]
    if "error" in base:
        return {**result, "error": base["error"]}
    first = base["cells"]["lstm"]["table"]
    season = base["cells"]["lstm"]["season"]
    steps = first["step"].to_numpy()
    actual = first["actual"].to_numpy()
    # MASE scale, as the tool computes it: the in-sample seasonal-naive MAE of the training part
    y = pd.read_csv(csv)[case.target].astype(float).interpolate(limit_direction="both").to_numpy()
    n = len(y)
    train_end = n - 2 * int(np.ceil(n * 0.15))
    scale = float(np.mean(np.abs(y[season:train_end] - y[:train_end - season])))
    result.update(season=season, season2=base["cells"]["lstm"]["season2"], rows=n,
                  test_windows=int((steps == 1).sum()), lookback=base["lookback"])
    models = {ref: scores(actual, first[ref].to_numpy(), scale) for ref in REFERENCES if ref in first.columns}
    for label, tool in tools.items():
        if "error" in tool:
            models[f"{label}: error"] = tool["error"]
            continue
        forecasts = {cell: c["table"]["forecast"].to_numpy() for cell, c in tool["cells"].items()}
        for cell, f in forecasts.items():
            models[f"{label} {cell}"] = {**scores(actual, f, scale), "kept_start": tool["kept_start"][cell]}
        if "start" in first.columns and label == "default":  # the untrained model every cell began at
            models[f"{label} start"] = scores(actual, tool["cells"]["lstm"]["table"]["start"].to_numpy(), scale)
        forecasts["ensemble"] = np.mean(list(forecasts.values()), axis=0)
        models[f"{label} ensemble"] = scores(actual, forecasts["ensemble"], scale)
        chosen = tool["recommended"]  # what the tool's table marks: a cell, the ensemble or a reference
        pick = forecasts[chosen] if chosen in forecasts else first[chosen].to_numpy()
        models[f"{label} recommended"] = {**scores(actual, pick, scale), "cell": chosen,
                                          "diebold_mariano": tool["diebold_mariano"]}
        models[f"{label} seconds"] = round(tool["seconds"], 1)
        if label == "default":
            result["anchor"] = tool["cells"]["lstm"]["anchor"]
            result["coverage_90"] = [c["coverage"] for c in tool["cells"].values()]
    # test origins as row numbers: the tool's test windows have targets in [val_end, n); origins val_end-1 .. n-h-1
    val_end = n - int(np.ceil(n * 0.15))
    test_origins = np.arange(val_end - 1, n - case.horizon)
    assert len(test_origins) == result["test_windows"], (case.name, len(test_origins), result["test_windows"])
    if carried is not None:
        models.update({k: v for k, v in carried["models"].items() if not k.startswith("default")})
        result.update(models=models, kept=f"plain and classical rows from the run of {carried.get('date', 'before')}")
        return result
    stats = stats_forecasts(case, y, season, test_origins, val_end)
    truth = np.stack([y[t + 1:t + 1 + case.horizon] for t in test_origins]).reshape(-1)
    for name, f in stats.items():
        if isinstance(f, str):
            models[name] = f
            continue
        lower, upper = f[1].reshape(-1), f[2].reshape(-1)
        models[name] = {**scores(truth, f[0].reshape(-1), scale),
                        "coverage_90": float(np.mean((truth >= lower) & (truth <= upper)))}
    result["models"] = models
    return result


def fmt(m, key: str) -> str:
    if isinstance(m, str) or m is None:
        return "-"
    value = m[key]
    return f"{value:.3f}" if key == "mase" else (f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}")


def report(results: list[dict], seconds: float, quick: bool) -> str:
    import keras

    versions = {"python": platform.python_version(), "keras": keras.__version__, "numpy": np.__version__,
                "pandas": pd.__version__}
    try:
        import statsforecast
        versions["statsforecast"] = statsforecast.__version__
    except ImportError:
        versions["statsforecast"] = "not installed"
    columns = [*REFERENCES, *CLASSICAL,
               "default start", "default rnn", "default lstm", "default gru", "default ensemble", "default recommended",
               "plain rnn", "plain lstm", "plain gru", "plain ensemble", "plain recommended"]
    lines = ["# Accuracy", "", f"`python benchmarks/accuracy.py{' --quick' if quick else ''}`, "
             f"{time.strftime('%Y-%m-%d')}, {seconds / 60:.0f} minutes, seed 0, CPU. Test MASE (MSE below); "
             "70/15/15 split, every test origin; `default` is `forecast train --cell all` as it ships (anchored on the "
             "reference `auto` chooses, with the linear path), `plain` the networks alone (`--anchor none "
             "--no-linear`, the default before); `recommended` is the model the tool's table marks (the simple model, "
             "drift and mean included, with the lowest MAE over the training and validation windows, unless the cell "
             "or ensemble with the lowest validation MAE beats it on validation by more than one standard error); `seasonal_naive2` and `seasonal_diff2` are "
             "the seasonal references at a second season (the week, `m` shows both) where the tool found one, and count "
             "among the simple references. A row run again alone says so in its note; the minutes are the sum of "
             "every row's.", ""]
    for key in ("mase", "mse"):
        lines += [f"## {key.upper()}", "", "| series | L / H / m | " + " | ".join(columns) + " |",
                  "|---|---|" + "---:|" * len(columns)]
        for r in results:
            if "error" in r:
                lines.append(f"| {r['case']} | error: {r['error']} |")
                continue
            m = r["models"]
            seasons = f"{r['season']} & {r['season2']}" if r.get("season2", 1) > 1 else f"{r['season']}"
            lines.append(f"| {r['case']} | {r['lookback']} / {r['horizon']} / {seasons} | "
                         + " | ".join(fmt(m.get(c), key) for c in columns) + " |")
        lines.append("")
    lines += ["## Notes", ""]
    for r in results:
        if "error" in r:
            continue
        m = r["models"]
        refs = {k: m[k]["mase"] for k in (REFERENCES if r["seasonal"] else ("naive",)) if k in m}
        best_ref = min(refs, key=refs.get)
        notes = [f"{r['rows']:,} rows, {r['test_windows']:,} test origins; best simple reference {best_ref} "
                 f"({refs[best_ref]:.3f})"]
        for label in CONFIGS:
            if f"{label} recommended" in m:
                vb = m[f"{label} recommended"]
                notes.append(f"{label}: recommended {vb['cell']} {vb['mase']:.3f} ({m[f'{label} seconds']} s)")
        if r.get("anchor"):
            notes.append(f"auto anchor: {r['anchor']}")
        if any(c is not None for c in r.get("coverage_90") or []):
            notes.append("90% interval coverage of the cells: " + ", ".join(f"{c:.1%}" for c in r["coverage_90"]))
        elif r.get("coverage_90"):
            notes.append("no 90% intervals: fewer than 9 validation windows")
        classical = {k: m[k]["coverage_90"] for k in CLASSICAL if isinstance(m.get(k), dict) and "coverage_90" in m[k]}
        if classical:
            notes.append("90% interval coverage of " + ", ".join(f"{k} {v:.1%}" for k, v in classical.items()))
        notes += [f"{k}: {v}" for k, v in m.items() if isinstance(v, str)]
        if r.get("kept"):
            notes.append(f"kept from an earlier run: {r['kept']}")
        if r.get("rerun"):
            notes.append(f"run again alone with `--only {r['case']} --merge` ({r['rerun']})")
        lines.append(f"- {r['case']}: " + "; ".join(notes))
    lines += ["", "## Targets (the default's recommended model, MASE)", "", *targets(results)]
    lines += ["", "## Machine", "", f"- {platform.platform()}, {os.cpu_count()} cores",
              *[f"- {k}: {v}" for k, v in versions.items()], ""]
    return "\n".join(lines)


def targets(results: list[dict]) -> list[str]:
    """The accuracy issue's bars, checked on this run's figures."""
    ok = [r for r in results if "error" not in r and "default recommended" in r["models"]]
    out, seasonal = [], [r for r in ok if r["seasonal"]]

    def mase(r, name):
        m = r["models"].get(name)
        return None if isinstance(m, str) or m is None else m["mase"]

    not_worse = beats = 0
    for r in seasonal:
        best = min(v for k in REFERENCES if (v := mase(r, k)) is not None)
        rec = mase(r, "default recommended")
        not_worse += rec <= best + 1e-12
        beats += rec < best - 1e-12
    out.append(f"- seasonal series where it is no worse than the best simple reference: {not_worse}/{len(seasonal)}; "
               f"where it beats it: {beats}/{len(seasonal)}")
    stats_beaten, counted = 0, 0
    for r in ok:
        classical = [v for k in CLASSICAL if (v := mase(r, k)) is not None]
        if classical:
            counted += 1
            stats_beaten += mase(r, "default recommended") < min(classical)
    out.append(f"- series where it beats the best of AutoETS, AutoARIMA and AutoTheta (those that ran): "
               f"{stats_beaten}/{counted}")
    for r in ok:
        if r["case"] in ("ukgas", "johnson_johnson"):
            refs = [v for k in (*REFERENCES, *CLASSICAL) if (v := mase(r, k)) is not None]
            out.append(f"- {r['case']}: recommended {mase(r, 'default recommended'):.3f}, best reference "
                       f"{min(refs):.3f}")
    learned = differ = 0  # issue 34: the cells learn beyond their start
    for r in ok:
        cells = [mase(r, f"default {c}") for c in ("rnn", "lstm", "gru")]
        start = mase(r, "default start")
        learned += start is not None and min(cells) < 0.99 * start
        differ += len({round(c, 3) for c in cells}) > 1
    out.append(f"- series where a cell beats the start by more than 1% on test MASE: {learned}/{len(ok)}; where the "
               f"three cells' MASEs differ at three decimals: {differ}/{len(ok)}")
    for r in ok:
        kept = [c for c in ("rnn", "lstm", "gru") if (r["models"].get(f"default {c}") or {}).get("kept_start")]
        if kept:
            out.append(f"- {r['case']}: kept the start: {', '.join(kept)}")
    structured = [r for r in ok if r["seasonal"]]
    if structured:
        rel = [mase(r, "default recommended") / mase(r, "seasonal_naive") for r in structured]
        out.append(f"- the {len(structured)} structured series: geometric mean of the recommended model's MASE / the "
                   f"seasonal naive's {float(np.exp(np.mean(np.log(rel)))):.3f}")
    for r in ok:
        if not r["seasonal"]:
            gap = mase(r, "default recommended") / mase(r, "naive") - 1
            out.append(f"- {r['case']} (random walk): {gap:+.2%} against the naive")
    cov = [c for r in ok for c in r.get("coverage_90") or [] if c is not None]
    if cov:
        per_series = [float(np.mean(c)) for r in ok if (c := [c for c in r.get("coverage_90") or [] if c is not None])]
        out.append(f"- 90% intervals: mean coverage {np.mean(per_series):.1%} over the series (each series the mean "
                   f"of its cells), lowest series {min(per_series):.1%}")
    for name in CLASSICAL:  # for context: the classical models' own 90% intervals on the same origins
        cov = {r["case"]: m["coverage_90"] for r in ok if isinstance(m := r["models"].get(name), dict)
               and "coverage_90" in m}
        if cov:
            low = min(cov, key=cov.get)
            out.append(f"- for context, {name}'s 90% intervals: mean coverage {np.mean(list(cov.values())):.1%} over "
                       f"{len(cov)} series, lowest {cov[low]:.1%} ({low})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the four small seasonal series only")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--out", type=Path, default=OUT, help="markdown file to write")
    parser.add_argument("--from-json", type=Path, help="write the markdown from a saved accuracy.json, training nothing")
    parser.add_argument("--default-only", action="store_true",
                        help="train only the default configuration; the plain and classical rows of each series come "
                             "from the saved accuracy.json (they do not change with the default's training)")
    parser.add_argument("--merge", action="store_true",
                        help="with --only: replace those series in the saved accuracy.json, keep the others, and write "
                             "the markdown of them all (the notes say which were run again)")
    args = parser.parse_args()
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        seconds = sum(r.get("seconds", 0) for r in results)
        args.out.write_text(report(results, seconds, args.quick))
        return
    cases = [c for c in CASES if (not args.quick or c.quick) and (not args.only or c.name in args.only.split(","))]
    saved = json.loads(args.out.with_suffix(".json").read_text()) if args.merge or args.default_only else []
    earlier = {r["case"]: r for r in saved if "error" not in r}
    began = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="forecast-accuracy-") as tmp:
        for case in cases:
            print(f"{case.name}", flush=True)
            case_began = time.perf_counter()
            carried = earlier.get(case.name) if args.default_only else None
            if args.default_only and carried is None:
                raise SystemExit(f"--default-only: {case.name} has no saved row in {args.out.with_suffix('.json')}")
            results.append({**evaluate(case, Path(tmp), carried), "seconds": round(time.perf_counter() - case_began, 1),
                            "date": time.strftime("%Y-%m-%d")})
            progress = args.out.with_suffix(".partial.json" if args.merge else ".json")
            progress.write_text(json.dumps(results, indent=1, default=str))
    seconds = time.perf_counter() - began
    if args.merge:
        again = {r["case"]: {**r, "rerun": time.strftime("%Y-%m-%d %H:%M")} for r in results}
        results = [again.get(r["case"], r) for r in saved] + [r for r in again.values()
                                                             if r["case"] not in {s["case"] for s in saved}]
        args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
        args.out.with_suffix(".partial.json").unlink(missing_ok=True)  # its rows are in the file above now
        seconds = sum(r.get("seconds", 0) for r in results)
    order = {c.name: i for i, c in enumerate(CASES)}
    results.sort(key=lambda r: order.get(r["case"], len(order)))
    text = report(results, seconds, args.quick)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
