"""Let any PyTorch Geometric model that reads node and edge features stand in for a weave net."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from molattr.errors import AttributionInputError


class PyGModelWrapper(nn.Module):
    """Give a PyG model molattr's calling convention.

    molattr graphs store each atom pair once (``i < j``); message-passing layers such as
    ``GINEConv`` expect both directions, so by default the wrapper appends the reversed edges
    (same features) before calling the model. Gradients reach ``x`` and ``edge_attr`` through
    the concatenation.

    Args:
        model: a module called as ``model(x, edge_index, edge_attr, batch)`` returning
            ``[n_graphs, n_tasks]`` (or ``[n_graphs]`` for one task). Its pooling sees only
            ``batch``, which gives every graph its row as long as each has an atom (molattr
            refuses graphs without atoms); when the caller gives ``num_graphs``, a different number
            of output rows is an error rather than scores silently shifted onto other molecules.
        n_tasks: number of outputs.
        symmetrize: add reversed edges (``True``) or pass pairs as they are.

    Shapes:
        same as :class:`molattr.nn.WeaveModel`: ``-> [n_graphs, n_tasks]``.
    """

    def __init__(self, model: nn.Module, n_tasks: int = 1, symmetrize: bool = True) -> None:
        super().__init__()
        self.model = model
        self.n_tasks = n_tasks
        self.symmetrize = symmetrize

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
        if self.symmetrize:
            edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)
            edge_attr = torch.cat([edge_attr, edge_attr], dim=0)
        out = self.model(x, edge_index, edge_attr, batch)
        if not isinstance(out, Tensor) or out.dim() not in (1, 2):
            raise AttributionInputError(
                f"wrapped model {type(self.model).__name__} returned {_described(out)}; it must return "
                f"[n_graphs, n_tasks] (or [n_graphs] for one task)"
            )
        if out.dim() == 1:
            out = out.unsqueeze(1)
        if num_graphs is not None and out.shape[0] != num_graphs:
            raise AttributionInputError(
                f"wrapped model {type(self.model).__name__} returned {out.shape[0]} rows for {num_graphs} graphs: its "
                "pooling must give one row per graph of the batch vector (global_add_pool(h, batch) does)"
            )
        if out.shape[1] != self.n_tasks:
            raise AttributionInputError(f"wrapped model {type(self.model).__name__} returned {out.shape[1]} outputs per "
                                        f"graph (expected n_tasks={self.n_tasks})")
        return out


def _described(value: object) -> str:
    return f"a tensor of shape {tuple(value.shape)}" if isinstance(value, Tensor) else f"a {type(value).__name__}"
