"""Adaptive integration: trapezoid nodes added where the attribution still moves or completeness fails.

On each interval ``[a, b]`` of a path, with ``v(α) = ∇F(α) ⊙ (input - baseline)`` (per feature) and
``g = Σ v`` (the path derivative):

* the completeness error ``r = F(b) - F(a) - (b - a)(g(a) + g(b)) / 2`` is known exactly (the
  forward pass gives F at every node); the errors add up to the attribution's completeness gap;
* the variation ``e = (b - a) / 2 · ‖v(b) - v(a)‖₁`` bounds the trapezoid rule's error on the
  interval's attributions when each feature's integrand moves monotonically between the nodes
  (ReLU networks: a jump or a kink), and estimates it otherwise.

A path is done when its gap is within ``tolerance · |F(1) - F(0)|`` AND its summed variation is
within ``attribution_tolerance · ‖A‖₁`` (A: the current attributions), or it has ``max_steps``
nodes. Otherwise the intervals carrying half of the summed ``|r| + e`` are bisected, and every
path's new points go through the same passes. Refining on ``|r|`` alone stops early where
intervals' errors cancel in the sum while the attributions are still off (measured in
``docs/benchmarks.md``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from molattr.attribution.engine import PathIntegrator, PathResult, Selector
from molattr.attribution.paths import GraphSet
from molattr.attribution.result import MIN_DELTA


@dataclass(frozen=True)
class AdaptiveRule:
    """When the adaptive rule stops refining a path.

    Args:
        tolerance: completeness: ``|gap| <= tolerance · |F(input) - F(baseline)|``
            (``10 · MIN_DELTA`` absolute when that difference is below ``MIN_DELTA``).
        attribution_tolerance: ``Σ variation <= attribution_tolerance · ‖A‖₁`` (``math.inf``: off).
        initial_steps: equally spaced nodes, both end points included, before any refinement.
        max_steps: nodes per path at most.
    """

    tolerance: float = 0.01
    attribution_tolerance: float = 0.1
    initial_steps: int = 5
    max_steps: int = 512

    def __post_init__(self) -> None:
        if not 2 <= self.initial_steps <= self.max_steps:
            raise ValueError(f"need 2 <= initial_steps <= max_steps (got {self.initial_steps}, {self.max_steps})")


@dataclass
class _Node:
    """One evaluated point of a path. Shapes: ``gradient [n_atoms * F_a + n_pairs * F_p]`` (atoms first)."""

    score: float
    gradient: Tensor
    gradient_norm: float


def integrate_adaptive(integrator: PathIntegrator, graphs: GraphSet, select: Selector, rule: AdaptiveRule,
                       with_norms: bool = False) -> list[PathResult]:
    """Integrate every path of ``graphs`` with the adaptive trapezoid rule (module docstring)."""
    device, dtype = integrator.device, integrator.dtype
    m = graphs.n_molecules
    n_atoms, n_pairs = graphs.n_atoms().tolist(), graphs.n_pairs().tolist()
    atom_width, pair_width = graphs.x.shape[1], graphs.edge_attr.shape[1]
    differences = [
        torch.cat([dx.flatten(), de.flatten()])
        for dx, de in zip((graphs.x - graphs.x_base).split(n_atoms), (graphs.edge_attr - graphs.edge_base).split(n_pairs))
    ]
    nodes: list[dict[float, _Node]] = [{} for _ in range(m)]
    pending = [(k, float(a)) for k in range(m) for a in np.linspace(0.0, 1.0, rule.initial_steps)]
    active = list(range(m))
    while pending:
        molecule = torch.tensor([k for k, _ in pending], device=device)
        alpha = torch.tensor([a for _, a in pending], device=device, dtype=dtype)
        for p in integrator.passes(graphs, molecule, alpha, select, with_grad=True, with_norms=with_norms):
            sizes_x = torch.bincount(p.batch.atom_point, minlength=p.batch.num_graphs).tolist()
            sizes_e = torch.bincount(p.batch.pair_point, minlength=p.batch.num_graphs).tolist()
            scores = p.scores.tolist()  # one device-to-host copy per pass, not one per node
            norms = p.gradient_norms.tolist() if with_norms else [math.nan] * len(scores)
            rows = zip(p.points.tolist(), p.grad_x.split(sizes_x), p.grad_e.split(sizes_e))
            for i, (j, gx, ge) in enumerate(rows):
                k, a = pending[j]
                nodes[k][a] = _Node(scores[i], torch.cat([gx.flatten(), ge.flatten()]), norms[i])
        refined = {k: _refine(nodes[k], differences[k], rule) for k in active}
        active = [k for k in active if refined[k]]  # a path refine leaves alone gets no more nodes: done
        pending = [(k, a) for k in active for a in refined[k]]
    results = []
    for k in range(m):
        alphas = np.array(sorted(nodes[k]))
        chosen = [nodes[k][a] for a in alphas]
        weights = torch.as_tensor(_trapezoid_weights(alphas), dtype=dtype, device=device)
        mean_gradient = weights @ torch.stack([n.gradient for n in chosen])
        split = n_atoms[k] * atom_width
        results.append(PathResult(
            mean_gradient[:split].view(n_atoms[k], atom_width), mean_gradient[split:].view(n_pairs[k], pair_width),
            chosen[-1].score, chosen[0].score, len(alphas), alphas, np.array([n.score for n in chosen]),
            np.array([n.gradient_norm for n in chosen]) if with_norms else None,
        ))
    return results


def _trapezoid_weights(alphas: np.ndarray) -> np.ndarray:
    """Weights of the trapezoid rule on sorted nodes spanning [0, 1] (they sum to 1)."""
    widths = np.diff(alphas)
    weights = np.zeros(len(alphas))
    weights[:-1] += widths / 2
    weights[1:] += widths / 2
    return weights


def interval_errors(alphas: np.ndarray, scores: np.ndarray, derivatives: np.ndarray) -> np.ndarray:
    """Completeness error of the trapezoid rule on each interval between sorted nodes.

    Shapes: ``[S] -> [S - 1]``; their sum is the gap of the trapezoid attribution.
    """
    return np.diff(scores) - np.diff(alphas) * (derivatives[1:] + derivatives[:-1]) / 2


def _refine(nodes: dict[float, _Node], difference: Tensor, rule: AdaptiveRule) -> list[float]:
    """New alphas for one path, or none when it meets ``rule``. Shapes: ``difference [D]`` as a node's gradient."""
    alphas = np.array(sorted(nodes))
    budget = rule.max_steps - len(alphas)
    if budget <= 0:
        return []
    scores = np.array([nodes[a].score for a in alphas])
    terms = torch.stack([nodes[a].gradient for a in alphas]) * difference  # [S, D]: v at each node
    weights = torch.as_tensor(_trapezoid_weights(alphas), dtype=terms.dtype, device=terms.device)
    # derivatives [S], |v(b) - v(a)|₁ [S - 1] and ‖A‖₁, in one device-to-host copy
    host = torch.cat([terms.sum(1), (terms[1:] - terms[:-1]).abs().sum(1), (weights @ terms).abs().sum().view(1)])
    host = host.double().cpu().numpy()
    n = len(alphas)
    errors = interval_errors(alphas, scores, host[:n])
    variation = np.diff(alphas) / 2 * host[n:-1]
    attribution_norm = float(host[-1])
    delta = scores[-1] - scores[0]
    allowed = rule.tolerance * abs(delta) if abs(delta) >= MIN_DELTA else 10 * MIN_DELTA
    settled = math.isinf(rule.attribution_tolerance) or variation.sum() <= rule.attribution_tolerance * attribution_norm
    if abs(errors.sum()) <= allowed and settled:
        return []
    estimate = np.abs(errors) + variation
    order = np.argsort(-estimate)
    share = np.cumsum(estimate[order]) / estimate.sum()
    chosen = order[: int(np.searchsorted(share, 0.5)) + 1][:budget]
    return [float((alphas[i] + alphas[i + 1]) / 2) for i in chosen]
