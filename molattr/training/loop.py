"""Seeded training with masked multitask loss, an optional cosine learning-rate schedule, and early
stopping on the validation metric or loss."""
from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader
from tqdm.auto import tqdm

from molattr.data.splits import Split
from molattr.nn import WeaveModel
from molattr.scoring import forward_batch, raw_scores
from molattr.training.metrics import headline, task_metrics

TaskType = Literal["classification", "regression"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (stored in the checkpoint).

    ``lr_schedule``: ``"constant"``, or ``"cosine"`` decay from ``learning_rate`` to 0 over ``epochs``.
    ``monitor``: what early stopping and the kept epoch go by, the validation ``"metric"`` (mean
    ROC-AUC, or RMSE) or the validation ``"loss"`` (the training loss on the validation rows).
    """

    epochs: int = 80
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    patience: int = 15
    seed: int = 0
    balance_classes: bool = True
    lr_schedule: Literal["constant", "cosine"] = "constant"
    monitor: Literal["metric", "loss"] = "metric"

    def to_dict(self) -> dict:
        """The settings as stored in a checkpoint's config."""
        return asdict(self)


@dataclass
class TrainResult:
    """Best model (eval mode) and what happened."""

    model: WeaveModel
    best_epoch: int
    epochs_run: int
    history: list[dict] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    monitored: str = "metric"  #: what the kept epoch went by: the config's monitor, or "loss" when the metric was undefined


def masked_loss(outputs: torch.Tensor, labels: torch.Tensor, task_type: TaskType, pos_weight: torch.Tensor | None) -> torch.Tensor:
    """Mean loss over labelled entries only (NaN labels are missing).

    Shapes: ``outputs, labels [B, T]``; ``pos_weight [T]`` or None.
    """
    known = ~torch.isnan(labels)
    target = torch.where(known, labels, torch.zeros_like(labels))
    if task_type == "classification":
        per_entry = nn.functional.binary_cross_entropy_with_logits(outputs, target, pos_weight=pos_weight, reduction="none")
    else:
        per_entry = (outputs - target) ** 2
    return (per_entry * known).sum() / known.sum().clamp(min=1)


def _with_labels(graphs: Sequence[Data], labels: np.ndarray, rows: np.ndarray) -> list[Data]:
    out = []
    for k in rows:
        g = copy.copy(graphs[k])
        g.y = torch.as_tensor(labels[k], dtype=torch.float32).unsqueeze(0)
        out.append(g)
    return out


def train_model(
    model: WeaveModel,
    graphs: Sequence[Data],
    labels: np.ndarray,
    tasks: Sequence[str],
    task_type: TaskType,
    split: Split,
    config: TrainConfig,
    progress: bool = True,
) -> TrainResult:
    """Train ``model`` on ``split.train``; keep the epoch with the best validation metric or loss.

    Regression targets are standardized on the training rows for optimisation and the scaling is
    folded back into the output layer, so the returned model predicts in the label's units.

    Shapes: ``labels [len(graphs), n_tasks]`` with NaN for missing labels.
    """
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    mean, std = _target_scaling(labels[split.train], task_type)
    scaled = (labels - mean) / std
    train_loader = DataLoader(_with_labels(graphs, scaled, split.train), batch_size=config.batch_size,
                              shuffle=True, generator=generator)
    valid_graphs = [graphs[k] for k in split.valid]
    valid_scaled = torch.from_numpy(scaled[split.valid]).float()
    pos_weight = _pos_weight(labels[split.train]) if task_type == "classification" and config.balance_classes else None
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
                 if config.lr_schedule == "cosine" else None)

    best_value, best_state, best_epoch, history = -math.inf, None, 0, []
    monitor = config.monitor
    bar = tqdm(range(1, config.epochs + 1), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        learning_rate = optimizer.param_groups[0]["lr"]
        for batch in train_loader:
            optimizer.zero_grad()
            loss = masked_loss(forward_batch(model, batch), batch.y, task_type, pos_weight)
            loss.backward()
            optimizer.step()
            total += loss.item() * batch.num_graphs
            count += batch.num_graphs
        if scheduler is not None:
            scheduler.step()
        valid_raw = raw_scores(model, valid_graphs)
        name, value = headline(task_type, task_metrics(task_type, labels[split.valid], valid_raw * std + mean, tasks))
        valid_loss = masked_loss(torch.from_numpy(valid_raw), valid_scaled, task_type, pos_weight).item()
        train_loss = total / max(count, 1)
        history.append({"epoch": epoch, "learning_rate": learning_rate, "train_loss": train_loss,
                        f"valid_{name}": abs(value), "valid_loss": valid_loss})
        bar.set_postfix(loss=f"{train_loss:.4f}", **{f"valid_{name}": f"{abs(value):.4f}"}, valid_loss=f"{valid_loss:.4f}")
        if monitor == "metric" and epoch == 1 and math.isnan(value):  # no validation task has both classes
            monitor = "loss"
            warnings.warn(f"the validation {name} is undefined (no task has both classes among the "
                          f"{len(split.valid)} validation molecules): early stopping and the kept epoch go by the "
                          "validation loss", stacklevel=2)
        value = -valid_loss if monitor == "loss" else value
        value = -math.inf if math.isnan(value) else value
        if value > best_value:
            best_value, best_epoch = value, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.scale_outputs(mean, std)
    model.eval()
    metrics = {
        part: task_metrics(task_type, labels[rows], raw_scores(model, [graphs[k] for k in rows]), tasks)
        for part, rows in (("train", split.train), ("valid", split.valid), ("test", split.test))
        if len(rows)
    }
    return TrainResult(model, best_epoch, len(history), history, metrics, monitor)


def _target_scaling(train_labels: np.ndarray, task_type: TaskType) -> tuple[np.ndarray, np.ndarray]:
    n_tasks = train_labels.shape[1]
    if task_type == "classification":
        return np.zeros(n_tasks, np.float32), np.ones(n_tasks, np.float32)
    mean = np.nan_to_num(np.nanmean(train_labels, axis=0))
    std = np.nan_to_num(np.nanstd(train_labels, axis=0), nan=1.0)
    return mean.astype(np.float32), np.where(std > 0, std, 1.0).astype(np.float32)


def _pos_weight(train_labels: np.ndarray) -> torch.Tensor:
    """negatives / positives per task (1 where a task has no positives)."""
    positives = np.nansum(train_labels == 1, axis=0)
    negatives = np.nansum(train_labels == 0, axis=0)
    return torch.as_tensor(np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0), dtype=torch.float32)


