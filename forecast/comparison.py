"""The runs `compare` shows: read (one damaged run does not hide the others), named, and grouped by what they
forecast, since scores compare only within one data file, target and horizon."""

from __future__ import annotations

from pathlib import Path

from forecast import artifacts
from forecast.errors import ForecastError


def read_runs(paths: list[Path], runs_dir: Path) -> tuple[list[str], list[artifacts.RunInfo], list[ForecastError]]:
    """(display names, runs, why each unreadable one was skipped) of the named runs, or of every run in runs_dir;
    an error when none can be read. A name is the folder's, or its path where two folders share one."""
    paths = paths or artifacts.list_runs(runs_dir)
    if not paths:
        raise ForecastError(f"no runs in {runs_dir}; train some with `forecast train DATA.csv --cell all` "
                            "or name run folders")
    infos, skipped = [], []
    for path in paths:
        try:
            infos.append(artifacts.read_run(path))
        except ForecastError as exc:
            skipped.append(exc)
    if not infos:
        raise skipped[0] if len(skipped) == 1 else ForecastError(
            f"none of the {len(skipped)} runs can be read; the first: {skipped[0]}")
    names = [i.name if [j.name for j in infos].count(i.name) == 1 else str(i.path) for i in infos]
    return names, infos, skipped


def group_runs(infos: list[artifacts.RunInfo]) -> list[list[int]]:
    """Indexes of the runs whose test scores compare, in order of first appearance: the same data file, target,
    series (--id-col and --series), rows combined the same way (--dedupe), the same test rows and the same horizon."""
    groups: dict[tuple, list[int]] = {}
    for k, info in enumerate(infos):
        data, options = info.meta["data"], info.config.data
        test_rows = [s["split_rows"]["test"] for s in data["series"]] if "series" in data else \
            data.get("split_rows", {}).get("test")
        key = (data["path"], options.target, options.id_col, options.series, options.dedupe.value, str(test_rows),
               info.config.window.horizon)
        groups.setdefault(key, []).append(k)
    return list(groups.values())


def pick_data(names: list[str], infos: list[artifacts.RunInfo], data: str) -> tuple[list[str], list[artifacts.RunInfo]]:
    """Only the runs trained on `data`: the same file (when it exists here), else the same file name."""
    wanted = Path(data)
    exists = wanted.exists()

    def trained_on(info: artifacts.RunInfo) -> bool:
        recorded = Path(str(info.meta["data"]["path"]))
        return recorded == wanted.resolve() if exists else recorded.name == wanted.name

    kept = [(n, i) for n, i in zip(names, infos, strict=True) if trained_on(i)]
    if not kept:
        files = sorted({Path(str(i.meta["data"]["path"])).name for i in infos})
        raise ForecastError(f"none of the {len(infos)} runs was trained on {data}; their data files: "
                            f"{', '.join(files)}; pass one of them to --data")
    return [n for n, _ in kept], [i for _, i in kept]


def show_groups(out, names: list[str], infos: list[artifacts.RunInfo], groups: list[list[int]]):
    """A table and a figure row (loss curves, test MSE beside the references all its runs have) per group of runs
    that forecast the same thing; returns the figure."""
    from forecast import plots, report
    from forecast.baselines import ALL_REFERENCES, baseline_label
    from forecast.errors import printable

    colors = {n: plots.PALETTE[i % len(plots.PALETTE)] for i, n in enumerate(names)}
    fig, rows = plots.new_grid(len(groups), 2, width=13, height=5)
    for (ax_loss, ax_bar), members in zip(rows, groups, strict=True):
        group_names, group = [names[k] for k in members], [infos[k] for k in members]
        plots.plot_losses(ax_loss, {n: i.history for n, i in zip(group_names, group, strict=True)}, colors,
                          {n: i.metrics.get("start", {}).get("val_loss") for n, i in zip(group_names, group, strict=True)})
        shared = [b for b in ALL_REFERENCES if all(b in i.metrics["test"]["baselines"] for i in group)]
        test = group[0].metrics["test"]
        plots.plot_test_mse(ax_bar, group_names, [i.metrics["test"]["model"]["mse"] for i in group],
                            {b: [i.metrics["test"]["baselines"][b]["mse"] for i in group] for b in shared}, colors,
                            {b: baseline_label(b, test["season"], test.get("season2", 1)) for b in shared})
        ax_bar.set_title(printable(f"Test MSE: {Path(group[0].meta['data']['path']).name}, horizon "
                                   f"{group[0].config.window.horizon}"))  # a file name may not be UTF-8
        report.compare_table(out, group_names, group)
    return fig
