"""Run a model over a list of graphs in batches: raw task scores as a NumPy array."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Batch, Data


def forward_batch(model: nn.Module, batch: Batch) -> torch.Tensor:
    """One forward pass over a PyG batch. Shapes: ``-> [batch.num_graphs, n_tasks]``."""
    return model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)


@torch.no_grad()
def raw_scores(model: nn.Module, graphs: Sequence[Data], batch_size: int = 256) -> np.ndarray:
    """Raw outputs (logits or regression values) in eval mode, on the device that holds the model.

    Shapes: returns ``[len(graphs), n_tasks]`` float32.
    """
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    out = []
    try:
        for start in range(0, len(graphs), batch_size):
            batch = Batch.from_data_list(list(graphs[start : start + batch_size])).to(device)
            out.append(forward_batch(model, batch).float().cpu().numpy())
    finally:
        model.train(was_training)
    n_tasks = out[0].shape[1] if out else 0
    return np.concatenate(out) if out else np.zeros((0, n_tasks), dtype=np.float32)
