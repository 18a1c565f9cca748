"""Adaptive integration: trapezoid nodes added where the attribution still moves or completeness fails.

On each interval ``[a, b]`` of a path, with ``v(α) = ∇F(α) ⊙ (input - baseline)`` (per feature) and
``g = Σ v`` (the path derivative):

* the completeness error ``r = F(b) - F(a) - (b - a)(g(a) + g(b)) / 2`` is known exactly (the
  forward pass gives F at every node); the errors add up to the attribution's completeness gap;
* the variation ``e = (b - a) / 2 · ‖v(b) - v(a)‖₁`` bounds the trapezoid rule's error on the
  interval's attributions when each feature's integrand moves monotonically between the nodes
  (ReLU networks: a jump or a kink), and estimates it otherwise.

A path is done when its gap is within ``tolerance · |F(1) - F(0)|`` (or the path's own
``gap_allowance``: the paths of one molecule's expected gradients are each held to the tolerance of
their mean, ``tolerance · |F(input) - mean F(baselines)|``) AND its summed variation is
within ``attribution_tolerance · ‖A‖₁`` (A: the current attributions), or it has ``max_steps``
nodes. Otherwise the intervals carrying half of the summed ``|r| + e`` are bisected, and every
path's new points go through the same passes. Refining on ``|r|`` alone stops early where
intervals' errors cancel in the sum while the attributions are still off (measured in
``docs/benchmarks.md``).

Only the forward and backward passes run on the integrator's device. The nodes' gradients come
to the CPU once per pass, and the per-path bookkeeping runs there: on a GPU, its many small
operations per path would each cost a kernel launch, and each round's norms a synchronization.
"""
from __future__ import annotations

import itertools
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

    def allowed_gap(self, delta: float) -> float:
        """The completeness gap accepted for ``delta = F(input) - F(baseline)``."""
        return self.tolerance * abs(delta) if abs(delta) >= MIN_DELTA else 10 * MIN_DELTA


@dataclass
class _Node:
    """One evaluated point of a path; its gradient is row ``row`` of the path's gradient buffer."""

    score: float
    derivative: float
    row: int
    gradient_norm: float


class _Path:
    """One path's nodes, its trapezoid mean gradient and its intervals' variations, kept up to date.

    Each round only the new nodes cost work proportional to the features: a new node ``m`` bisects
    an interval ``[a, b]`` of counted nodes, which changes the mean gradient by
    ``(b - a) / 4 · (2 g(m) - g(a) - g(b))`` and replaces that interval's variation by those of
    ``[a, m]`` and ``[m, b]``. The nodes' gradients live in one buffer per path (rows added in
    arrival order, capacity doubled when full) rather than a tensor per node: thousands of small
    long-lived tensors between each pass's large temporaries fragment the heap, which on 200-atom
    molecules held 10× the live memory.
    The bookkeeping is NumPy on the host: its arrays are small, and NumPy calls on them cost a
    fraction of torch's dispatch.
    Shapes: ``difference [D]``, input minus baseline as a node's gradient is laid out (atoms first);
    ``buffer [capacity, D]``, ``mean_gradient [D]``.
    """

    def __init__(self, difference: np.ndarray, capacity: int, gap_allowance: float | None = None) -> None:
        self.difference = difference
        self.gap_allowance = gap_allowance
        self.nodes: dict[float, _Node] = {}
        self.buffer = np.empty((capacity, difference.size), dtype=difference.dtype)
        self.mean_gradient: np.ndarray | None = None
        self._variation: dict[tuple[float, float], float] = {}

    def add(self, alphas: list[float], scores: list[float], derivatives: list[float], grad_x: Tensor, grad_e: Tensor,
            gradient_norms: list[float]) -> None:
        """Store ``c`` nodes of one pass, their gradients copied into the buffer in one block each.

        Shapes: ``grad_x [c * n_atoms, F_a]``, ``grad_e [c * n_pairs, F_p]`` (rows ordered by node).
        """
        first, count = len(self.nodes), len(alphas)
        if first + count > self.buffer.shape[0]:
            grown = np.empty((max(2 * self.buffer.shape[0], first + count), self.buffer.shape[1]), dtype=self.buffer.dtype)
            grown[:first] = self.buffer[:first]
            self.buffer = grown
        split = grad_x.numel() // count
        self.buffer[first : first + count, :split] = grad_x.reshape(count, split).numpy()
        self.buffer[first : first + count, split:] = grad_e.reshape(count, self.buffer.shape[1] - split).numpy()
        for row, (alpha, score, derivative, norm) in enumerate(zip(alphas, scores, derivatives, gradient_norms), first):
            self.nodes[alpha] = _Node(score, derivative, row, norm)

    def _gradients(self, alphas: list[float]) -> np.ndarray:
        """Shapes: ``-> [len(alphas), D]``."""
        return self.buffer[[self.nodes[a].row for a in alphas]]

    def refine(self, rule: AdaptiveRule) -> list[float]:
        """New alphas for this path, or none when it meets ``rule`` or has ``max_steps`` nodes."""
        alphas = sorted(self.nodes)
        attribution_norm = self._count(alphas)
        budget = rule.max_steps - len(alphas)
        if budget <= 0:
            return []
        points = np.array(alphas)
        scores = np.array([self.nodes[a].score for a in alphas])
        errors = interval_errors(points, scores, np.array([self.nodes[a].derivative for a in alphas]))
        variation = np.array([self._variation[interval] for interval in zip(alphas[:-1], alphas[1:])])
        delta = scores[-1] - scores[0]
        allowed = self.gap_allowance if self.gap_allowance is not None else rule.allowed_gap(delta)
        settled = math.isinf(rule.attribution_tolerance) or variation.sum() <= rule.attribution_tolerance * attribution_norm
        if abs(errors.sum()) <= allowed and settled:
            return []
        estimate = np.abs(errors) + variation
        order = np.argsort(-estimate)
        share = np.cumsum(estimate[order]) / estimate.sum()
        chosen = order[: int(np.searchsorted(share, 0.5)) + 1][:budget]
        midpoints = [float((points[i] + points[i + 1]) / 2) for i in chosen]
        return [m for m in midpoints if m not in self.nodes]  # intervals at float resolution cannot be split

    def _count(self, alphas: list[float]) -> float:
        """Bring the mean gradient and the variations up to ``alphas``; returns ``‖A‖₁`` (A: the attributions)."""
        if self.mean_gradient is None:  # the initial nodes
            gradients = self._gradients(alphas)
            self.mean_gradient = _trapezoid_weights(np.array(alphas)).astype(gradients.dtype) @ gradients
            intervals = list(zip(alphas[:-1], alphas[1:]))
            jumps = _weighted_l1(gradients[1:] - gradients[:-1], self.difference)
        else:  # each new node bisects an interval of counted ones: mean += (b - a) / 4 · (2 g(m) - g(a) - g(b))
            new = [i for i in range(1, len(alphas) - 1) if (alphas[i - 1], alphas[i + 1]) in self._variation]
            left, middle, right = ([alphas[i + shift] for i in new] for shift in (-1, 0, 1))
            triples = self._gradients(left + middle + right).reshape(3, len(new), -1)  # one gather for all three
            widths = np.array([b - a for a, b in zip(left, right)])
            weights = np.concatenate([-widths / 4, widths / 2, -widths / 4]).astype(triples.dtype)
            self.mean_gradient += weights @ triples.reshape(3 * len(new), -1)
            for a, b in zip(left, right):
                del self._variation[(a, b)]
            intervals = list(zip(left, middle)) + list(zip(middle, right))
            jumps = _weighted_l1(triples[1:] - triples[:-1], self.difference).ravel()  # [a, m] then [m, b]
        self._variation.update({(a, b): (b - a) / 2 * float(jump) for (a, b), jump in zip(intervals, jumps)})
        return float(np.abs(self.mean_gradient * self.difference).sum())


def integrate_adaptive(integrator: PathIntegrator, graphs: GraphSet, select: Selector, rule: AdaptiveRule,
                       with_norms: bool = False) -> list[PathResult]:
    """Integrate every path of ``graphs`` with the adaptive trapezoid rule (module docstring)."""
    device, dtype = integrator.device, integrator.dtype
    n_atoms, n_pairs = graphs.n_atoms().tolist(), graphs.n_pairs().tolist()
    atom_width, pair_width = graphs.x.shape[1], graphs.edge_attr.shape[1]
    capacity = min(4 * rule.initial_steps, rule.max_steps)
    atom_difference, pair_difference = graphs.x - graphs.x_base, graphs.edge_attr - graphs.edge_base
    allowances = graphs.gap_allowance or [None] * graphs.n_molecules
    paths = [
        _Path(torch.cat([dx.flatten(), de.flatten()]).numpy(), capacity, allowance)
        for dx, de, allowance in zip(atom_difference.cpu().split(n_atoms), pair_difference.cpu().split(n_pairs), allowances)
    ]
    pending = [(k, float(a)) for k in range(len(paths)) for a in np.linspace(0.0, 1.0, rule.initial_steps)]
    active = list(range(len(paths)))
    while pending:
        molecule = torch.tensor([k for k, _ in pending], device=device)
        alpha = torch.tensor([a for _, a in pending], device=device, dtype=dtype)
        for p in integrator.passes(graphs, molecule, alpha, select, with_grad=True, with_norms=with_norms):
            b = p.batch
            derivative = torch.zeros(b.num_graphs, dtype=dtype, device=device)
            along_x = (p.grad_x * atom_difference.index_select(0, b.atom_rows)).sum(1)
            along_e = (p.grad_e * pair_difference.index_select(0, b.pair_rows)).sum(1)
            derivative = derivative.index_add(0, b.atom_point, along_x).index_add(0, b.pair_point, along_e)
            # one device-to-host copy per pass, not one per node
            scores, derivatives = p.scores.tolist(), derivative.tolist()
            norms = p.gradient_norms.tolist() if with_norms else [math.nan] * len(scores)
            # a pass holds consecutive pending points, so each path's nodes in it are one block of rows
            points = p.points.tolist()
            runs = [(k, len(list(run))) for k, run in itertools.groupby(pending[j][0] for j in points)]
            blocks_x = p.grad_x.cpu().split([c * n_atoms[k] for k, c in runs])
            blocks_e = p.grad_e.cpu().split([c * n_pairs[k] for k, c in runs])
            start = 0
            for (k, c), gx, ge in zip(runs, blocks_x, blocks_e):
                end = start + c
                alphas = [pending[j][1] for j in points[start:end]]
                paths[k].add(alphas, scores[start:end], derivatives[start:end], gx, ge, norms[start:end])
                start = end
        refined = {k: paths[k].refine(rule) for k in active}
        active = [k for k in active if refined[k]]  # a path refine leaves alone gets no more nodes: done
        pending = [(k, a) for k in active for a in refined[k]]
    results = []
    for k, path in enumerate(paths):
        alphas = np.array(sorted(path.nodes))
        chosen = [path.nodes[a] for a in alphas]
        split = n_atoms[k] * atom_width
        results.append(PathResult(
            torch.from_numpy(path.mean_gradient[:split]).view(n_atoms[k], atom_width),
            torch.from_numpy(path.mean_gradient[split:]).view(n_pairs[k], pair_width),
            chosen[-1].score, chosen[0].score, len(alphas), alphas, np.array([n.score for n in chosen]),
            np.array([n.gradient_norm for n in chosen]) if with_norms else None,
        ))
    return results


def _weighted_l1(changes: np.ndarray, difference: np.ndarray) -> np.ndarray:
    """``‖change ⊙ difference‖₁`` over the last axis, in place (``changes`` is a temporary). Shapes: ``[..., D] -> [...]``."""
    changes *= difference
    return np.abs(changes, out=changes).sum(-1)


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
