"""The mean of several cells' forecasts as one more model, and the model that validation recommends among the
cells, their ensemble and the simple references (the test part never decides)."""

from __future__ import annotations

import numpy as np

from forecast.baselines import REFERENCES

ENSEMBLE = "ensemble"
CRITERION = "validation MAE"


def mean_forecast(forecasts: list[np.ndarray]) -> np.ndarray:
    """The ensemble: the mean of the members' forecasts of the same windows, (n_windows, horizon)."""
    shapes = {f.shape for f in forecasts}
    if len(shapes) != 1:
        raise ValueError(f"the members forecast different windows: shapes {sorted(shapes)}")
    return np.mean(np.stack(forecasts), axis=0)


def recommend(val_mae: dict[str, float]) -> str:
    """The model with the lowest validation MAE. A tie goes to the simpler model: a reference before the ensemble,
    the ensemble before a single cell (an anchored cell that kept its start ties with its reference)."""
    rank = {name: (0 if name in REFERENCES else 1 if name == ENSEMBLE else 2) for name in val_mae}
    # 12 significant digits: the mean of identical forecasts is not always bit-identical to them
    return min(val_mae, key=lambda name: (float(f"{val_mae[name]:.12g}"), rank[name]))


def group_scores(val: dict[str, dict], ensemble: dict[str, dict] | None) -> dict:
    """What metrics.json records of a group of cells trained on the same data: the ensemble's validation and test
    scores (`ensemble`: {"val": ..., "test": ...}, with several cells), and the recommended model with its
    criterion and every candidate's validation MAE (`val`: cells and references by name)."""
    val_mae = {name: s["mae"] for name, s in val.items()}
    if ensemble is not None:
        val_mae[ENSEMBLE] = ensemble["val"]["mae"]
    out = {"recommended": {"model": recommend(val_mae), "by": CRITERION, "val_mae": val_mae}}
    if ensemble is not None:
        members = [name for name in val if name not in REFERENCES]
        out["ensemble"] = {"members": members, **ensemble}
    return out
