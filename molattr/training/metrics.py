"""Per-task metrics with missing labels (NaN) ignored."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score


def classification_metrics(labels: np.ndarray, scores: np.ndarray, tasks: Sequence[str]) -> dict:
    """ROC-AUC per task over labelled rows; NaN where a task has one class only.

    Shapes: ``labels [n, T]`` (0/1/NaN), ``scores [n, T]``.
    Returns ``{"roc_auc": {task: value}, "mean_roc_auc": mean over defined tasks}``.
    """
    per_task = {}
    for t, task in enumerate(tasks):
        known = ~np.isnan(labels[:, t])
        y = labels[known, t]
        per_task[task] = float(roc_auc_score(y, scores[known, t])) if len(np.unique(y)) == 2 else math.nan
    defined = [v for v in per_task.values() if not math.isnan(v)]
    return {"roc_auc": per_task, "mean_roc_auc": float(np.mean(defined)) if defined else math.nan}


def regression_metrics(labels: np.ndarray, predictions: np.ndarray, tasks: Sequence[str]) -> dict:
    """RMSE, MAE and R² per task over labelled rows, and their means."""
    out: dict = {"rmse": {}, "mae": {}, "r2": {}}
    for t, task in enumerate(tasks):
        known = ~np.isnan(labels[:, t])
        y, p = labels[known, t], predictions[known, t]
        if len(y) == 0:
            out["rmse"][task] = out["mae"][task] = out["r2"][task] = math.nan
            continue
        residual = y - p
        total = float(((y - y.mean()) ** 2).sum())
        out["rmse"][task] = float(np.sqrt((residual**2).mean()))
        out["mae"][task] = float(np.abs(residual).mean())
        out["r2"][task] = 1.0 - float((residual**2).sum()) / total if total > 0 else math.nan
    for name in ("rmse", "mae", "r2"):
        out[f"mean_{name}"] = float(np.nanmean(list(out[name].values()))) if out[name] else math.nan
    return out


def task_metrics(task_type: str, labels: np.ndarray, outputs: np.ndarray, tasks: Sequence[str]) -> dict:
    """Per-task ROC-AUC (classification) or RMSE (regression) and their mean, over labelled cells.

    Shapes: ``labels, outputs [n_molecules, n_tasks]`` (NaN labels are skipped).
    """
    if task_type == "classification":
        return classification_metrics(labels, outputs, tasks)
    return regression_metrics(labels, outputs, tasks)


def headline(task_type: str, metrics: dict) -> tuple[str, float]:
    """The one number early stopping maximizes: mean ROC-AUC, or minus the mean RMSE."""
    if task_type == "classification":
        return "mean_roc_auc", metrics["mean_roc_auc"]
    return "mean_rmse", -metrics["mean_rmse"]
