"""Weave networks W{k}N{d}: k weave modules over pairs kept to graph distance d."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from molattr.nn.gather import GaussianHistogramGather, SumGather
from molattr.nn.weave_layer import WeaveLayer


@dataclass(frozen=True)
class WeaveConfig:
    """Architecture of a weave network (stored in checkpoints as JSON).

    Args:
        n_atom_features, n_pair_features: input widths (from the featurization spec).
        n_tasks: outputs, one raw score (logit or regression value) per task.
        n_layers: weave modules, ``k`` in W{k}N{d} (1..4).
        hidden: width of atom and pair states inside and between modules (the paper's 50).
        readout: width of the per-atom dense layer before the gather (the paper's 128).
        gather: ``"gaussian"`` fuzzy histogram (paper) or ``"sum"``.
        mlp_hidden: width of the molecule-level hidden layer.
        dropout: dropout before the output layer (training only).
    """

    n_atom_features: int
    n_pair_features: int
    n_tasks: int
    n_layers: int = 2
    hidden: int = 50
    readout: int = 128
    gather: Literal["gaussian", "sum"] = "gaussian"
    mlp_hidden: int = 256
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("n_atom_features", "n_pair_features", "n_tasks", "n_layers", "hidden", "readout", "mlp_hidden"):
            value = getattr(self, name)
            if type(value) is not int:
                raise TypeError(f"{name} must be an integer (got {value!r})")
            if value < 1:
                raise ValueError(f"{name} must be positive (got {value})")
        if self.n_layers > 4:
            raise ValueError(f"n_layers must be 1..4 (got {self.n_layers})")
        if self.gather not in ("gaussian", "sum"):
            raise ValueError(f"gather must be 'gaussian' or 'sum' (got {self.gather!r})")
        if type(self.dropout) not in (float, int) or not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1) (got {self.dropout!r})")

    def to_dict(self) -> dict[str, Any]:
        """The architecture as stored in a checkpoint's config (``name`` plus every field)."""
        return {"name": "weave", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "WeaveConfig":
        """The inverse of :meth:`to_dict`."""
        fields = {k: v for k, v in data.items() if k != "name"}
        return cls(**fields)


class WeaveModel(nn.Module):
    """Weave network: weave modules, per-atom dense + batch norm, gather, MLP head.

    Gradients flow from the outputs to both ``x`` and ``edge_attr`` (no detached copies, no
    per-molecule loops), which is what attribution needs.

    Shapes:
        ``x [n_atoms, F_a]``, ``edge_index [2, n_pairs]`` (unordered pairs, each once),
        ``edge_attr [n_pairs, F_p]``, ``batch [n_atoms]`` graph of each atom
        -> ``[n_graphs, n_tasks]`` raw scores.
    """

    def __init__(self, config: WeaveConfig) -> None:
        super().__init__()
        self.config = config
        layers = []
        atom_in, pair_in = config.n_atom_features, config.n_pair_features
        for k in range(config.n_layers):
            layers.append(
                WeaveLayer(atom_in, pair_in, config.hidden, config.hidden, config.hidden,
                           update_pairs=k < config.n_layers - 1)
            )
            atom_in = pair_in = config.hidden
        self.layers = nn.ModuleList(layers)
        self.atom_dense = nn.Linear(config.hidden, config.readout)
        self.atom_norm = nn.BatchNorm1d(config.readout)
        self.gather = GaussianHistogramGather() if config.gather == "gaussian" else SumGather()
        self.head = nn.Sequential(
            nn.Linear(config.readout * self.gather.n_bins, config.mlp_hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.mlp_hidden, config.n_tasks),
        )

    @torch.no_grad()
    def scale_outputs(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Fold ``output * std + mean`` into the output layer (regression targets in label units)."""
        last = self.head[-1]
        scale = torch.as_tensor(std, dtype=last.weight.dtype)
        last.weight.mul_(scale.unsqueeze(1))
        last.bias.mul_(scale).add_(torch.as_tensor(mean, dtype=last.bias.dtype))

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        if batch is None:
            batch = x.new_zeros(x.shape[0], dtype=torch.long)
            num_graphs = 1
        elif num_graphs is None:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        atoms, pairs = x, edge_attr
        for layer in self.layers:
            atoms, pairs = layer(atoms, edge_index, pairs)
        atoms = self.atom_norm(torch.relu(self.atom_dense(atoms)))
        return self.head(self.gather(atoms, batch, num_graphs))
