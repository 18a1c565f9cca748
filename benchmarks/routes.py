"""Other ways to compute integrated gradients on the same model, for tests and benchmarks.

* :func:`captum_attribute` — Captum's ``IntegratedGradients`` one molecule at a time, all steps
  of the molecule in one batch (Captum's best per-molecule route).
* :func:`pyg_captum_explainer` — PyTorch Geometric's ``Explainer`` + ``CaptumExplainer``, which
  attributes node features only and runs one step per pass (its ``CaptumModel`` takes one sample).

Captum is a test/benchmark dependency only; molattr itself never imports it.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from captum.attr import IntegratedGradients as CaptumIG
from torch import Tensor, nn
from torch_geometric.data import Data

#: molattr method name -> Captum method name
CAPTUM_METHODS = {
    "gauss_legendre": "gausslegendre", "riemann_left": "riemann_left", "riemann_right": "riemann_right",
    "riemann_middle": "riemann_middle", "trapezoid": "riemann_trapezoid",
}


def captum_forward(model: nn.Module, graph: Data) -> Callable[[Tensor, Tensor], Tensor]:
    """Captum-style forward: stacked copies of one molecule's features -> ``[copies, n_tasks]``.

    Captum concatenates the n_steps scaled inputs along dim 0; the copies' edges and batch
    vector are rebuilt here from the molecule's graph.
    """
    n_atoms, n_pairs = graph.num_nodes, graph.edge_index.shape[1]

    def forward(x: Tensor, edge_attr: Tensor) -> Tensor:
        copies = x.shape[0] // n_atoms
        offsets = torch.arange(copies, device=x.device).repeat_interleave(n_pairs) * n_atoms
        edge_index = graph.edge_index.to(x.device).repeat(1, copies) + offsets
        batch = torch.arange(copies, device=x.device).repeat_interleave(n_atoms)
        return model(x, edge_index, edge_attr, batch, copies)

    return forward


def captum_attribute(model: nn.Module, graph: Data, target: int, n_steps: int = 50,
                     method: str = "gauss_legendre") -> tuple[Tensor, Tensor]:
    """Captum IG of one molecule with the zero baseline. Shapes: ``-> ([n_atoms, F_a], [n_pairs, F_p])``."""
    ig = CaptumIG(captum_forward(model, graph))
    inputs = (graph.x, graph.edge_attr)
    baselines = (torch.zeros_like(graph.x), torch.zeros_like(graph.edge_attr))
    atom, pair = ig.attribute(inputs, baselines=baselines, target=target, n_steps=n_steps, method=CAPTUM_METHODS[method])
    return atom.detach(), pair.detach()


class _TargetScore(nn.Module):
    """PyG-explainer view of a molattr model: ``(x, edge_index, edge_attr) -> [1]`` target score."""

    def __init__(self, model: nn.Module, target: int) -> None:
        super().__init__()
        self.model, self.target = model, target

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        return self.model(x, edge_index, edge_attr)[:, self.target]


def pyg_captum_explainer(model: nn.Module, target: int, n_steps: int = 50):
    """A PyG ``Explainer`` running Captum's IG on node features (call it as ``explainer(x, edge_index, edge_attr=...)``)."""
    from torch_geometric.explain import Explainer
    from torch_geometric.explain.algorithm import CaptumExplainer

    # PyG's Explainer leaves the model it explains in training mode: give it its own copy.
    return Explainer(
        model=_TargetScore(copy.deepcopy(model), target),
        algorithm=CaptumExplainer("IntegratedGradients", n_steps=n_steps),
        explanation_type="model",
        node_mask_type="attributes",
        edge_mask_type=None,
        model_config=dict(mode="regression", task_level="graph", return_type="raw"),
    )
