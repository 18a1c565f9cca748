"""Path integrals of gradients over weave features, batched over molecules and alphas.

The counterfactuals ``baseline + alpha * (input - baseline)`` scale atom AND pair features
together. All (path, alpha) points of a chunk go through one forward and one backward pass as a
disjoint-union batch; chunks hold at most ``max_atoms_per_pass`` atoms (counting every alpha
copy), which bounds memory. This module knows torch and graph tensors only (no RDKit).
"""
from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from molattr.attribution.pass_threads import map_in_threads
from molattr.attribution.paths import GraphSet, PathBatch, build_path_batch
from molattr.attribution.quadrature import Method, nodes_and_weights
from molattr.errors import AttributionInputError, NonFiniteOutputError
from molattr.integers import is_integer_at_least

Output = Literal["logit", "probability"]
Selector = Callable[[Tensor], Tensor]


@dataclass
class PathInput:
    """One integration path: an input graph and a baseline of the same shapes.

    ``gap_allowance``: the absolute completeness gap the adaptive rule accepts on this path (set
    when several paths share one molecule's tolerance; ``None``: its own ``tolerance · |ΔF|``).

    Shapes: ``x, x_base [n_atoms, F_a]``, ``edge_attr, edge_base [n_pairs, F_p]``, ``edge_index [2, n_pairs]``.
    """

    x: Tensor
    edge_attr: Tensor
    x_base: Tensor
    edge_base: Tensor
    edge_index: Tensor
    gap_allowance: float | None = None


@dataclass
class PathResult:
    """Path-averaged gradient of one path (not yet multiplied by ``input - baseline``) and its curve.

    Shapes: ``grad_x [n_atoms, F_a]``, ``grad_e [n_pairs, F_p]``, on the CPU; ``alphas, scores,
    gradient_norms [S]`` sorted by alpha (norms only when interior curves were asked for).
    """

    grad_x: Tensor
    grad_e: Tensor
    f_input: float
    f_baseline: float
    evaluations: int
    alphas: np.ndarray
    scores: np.ndarray
    gradient_norms: np.ndarray | None


@dataclass
class PassOutput:
    """One forward/backward pass over ``points`` (positions in the request).

    Shapes: ``scores, gradient_norms [len(points)]``; ``grad_x [batch atoms, F_a]``,
    ``grad_e [batch pairs, F_p]`` laid out as ``batch`` (None without gradients).
    """

    points: Tensor
    batch: PathBatch
    scores: Tensor
    grad_x: Tensor | None
    grad_e: Tensor | None
    gradient_norms: Tensor | None


class PathIntegrator:
    """Evaluates a model's target score (and its input gradients) at many path points.

    Callers run passes inside :meth:`evaluating`, so a model left in training mode is still
    attributed as it predicts.

    Args:
        model: called as ``model(x, edge_index, edge_attr, batch, num_graphs) -> [n_graphs, n_tasks]``.
        device, dtype: where and in which precision the passes run (the model is copied if needed).
        max_atoms_per_pass: atoms (counting each alpha copy) in one forward/backward pass.
        threads: passes run side by side on the CPU, each on one core (see
            :mod:`molattr.attribution.pass_threads`); 1 runs them one after another with torch's
            own threading, as always on CUDA.
    """

    def __init__(self, model: nn.Module, device: torch.device, dtype: torch.dtype, max_atoms_per_pass: int,
                 threads: int = 1) -> None:
        for name, value in (("max_atoms_per_pass", max_atoms_per_pass), ("threads", threads)):
            if not is_integer_at_least(value, 1):
                raise AttributionInputError(f"{name} must be a positive integer (got {value!r})")
        tensors = itertools.chain(model.parameters(), model.buffers())  # a model may hold its weights as buffers
        if any(t.device != device or (t.is_floating_point() and t.dtype != dtype) for t in tensors):
            model = copy.deepcopy(model).to(device=device, dtype=dtype)
        self.model = model
        self.device = device
        self.dtype = dtype
        self.max_atoms_per_pass = max_atoms_per_pass
        self.threads = threads if device.type == "cpu" else 1

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """Run the model in eval mode (batch norm statistics fixed, no dropout), then restore its mode."""
        was_training = self.model.training
        self.model.eval()
        try:
            yield
        finally:
            self.model.train(was_training)

    def passes(self, graphs: GraphSet, molecule: Tensor, alpha: Tensor, select: Selector,
               with_grad: bool, with_norms: bool = False) -> Iterator[PassOutput]:
        """Score (and differentiate) the points ``(molecule[k], alpha[k])``, one budgeted chunk per
        pass, yielded in order; ``with_norms`` adds each point's gradient norm (for interior curves)."""
        chunks = split_by_budget(graphs.n_atoms()[molecule], self.max_atoms_per_pass)

        def run(chunk: Tensor) -> PassOutput:
            return self._pass(graphs, molecule[chunk], alpha[chunk], chunk, select, with_grad, with_norms)

        if self.threads > 1 and len(chunks) > 1:
            yield from map_in_threads(run, chunks, self.threads)
        else:
            yield from map(run, chunks)

    def _pass(self, graphs: GraphSet, molecule: Tensor, alpha: Tensor, points: Tensor, select: Selector,
              with_grad: bool, with_norms: bool) -> PassOutput:
        """One forward (and backward) pass over the points ``(molecule[k], alpha[k])``, request positions ``points``."""
        batch = build_path_batch(graphs, molecule, alpha, requires_grad=with_grad)
        with torch.set_grad_enabled(with_grad):
            score = select(self.model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs))
        if score.shape != (batch.num_graphs,):
            raise AttributionInputError(
                f"the model returned {score.shape[0] if score.dim() else 'one'} score(s) for a batch of {batch.num_graphs} "
                "graphs: it must give one row per graph (pool with the batch vector and num_graphs, e.g. "
                "global_add_pool(x, batch, num_graphs))"
            )
        if not torch.isfinite(score).all():
            raise NonFiniteOutputError(
                "the model returned non-finite scores (NaN or inf) on the integration path; "
                "check the inputs, or run with dtype=torch.float64"
            )
        if not with_grad:
            return PassOutput(points, batch, score.detach(), None, None, None)
        # no gradient path: a score that needs no gradient, or one from parameters only (inputs detached)
        gx, ge = (torch.autograd.grad(score.sum(), (batch.x, batch.edge_attr), allow_unused=True)
                  if score.requires_grad else (None, None))
        if gx is None and ge is None:
            raise AttributionInputError("the model's output does not depend on the atom or pair features "
                                        "(no gradient path from the inputs); nothing to attribute")
        gx = torch.zeros_like(batch.x) if gx is None else gx
        ge = torch.zeros_like(batch.edge_attr) if ge is None else ge
        if not (torch.isfinite(gx).all() and torch.isfinite(ge).all()):
            raise NonFiniteOutputError(
                "the model's gradients are non-finite (NaN or inf) on the integration path although its scores are "
                "finite (e.g. sqrt or log of features that the baseline makes zero); try another baseline"
            )
        norms = None
        if with_norms:
            squares = torch.zeros(batch.num_graphs, dtype=gx.dtype, device=gx.device)
            squares = squares.index_add(0, batch.atom_point, (gx * gx).sum(1))
            norms = squares.index_add(0, batch.pair_point, (ge * ge).sum(1)).sqrt()
        return PassOutput(points, batch, score.detach(), gx, ge, norms)

    def scores(self, graphs: GraphSet, molecule: Tensor, alpha: Tensor, select: Selector) -> Tensor:
        """Target scores only (no gradients). Shapes: ``[K] -> [K]``."""
        out = torch.empty(molecule.numel(), dtype=self.dtype, device=self.device)
        for p in self.passes(graphs, molecule, alpha, select, with_grad=False):
            out[p.points] = p.scores
        return out


def split_by_budget(sizes: Tensor, budget: int) -> list[Tensor]:
    """Consecutive index chunks whose summed sizes stay within ``budget`` (a lone larger item is its own chunk)."""
    values = sizes.tolist()
    chunks, start, running = [], 0, 0
    for k, size in enumerate(values):
        if running + size > budget and k > start:
            chunks.append(torch.arange(start, k, device=sizes.device))
            start, running = k, 0
        running += size
    if start < len(values):
        chunks.append(torch.arange(start, len(values), device=sizes.device))
    return chunks


def graph_set(paths: Sequence[PathInput], device: torch.device, dtype: torch.dtype) -> GraphSet:
    """Concatenate paths' features into one :class:`GraphSet` on ``device``."""
    n_atoms = torch.tensor([p.x.shape[0] for p in paths], dtype=torch.long)
    n_pairs = torch.tensor([p.edge_attr.shape[0] for p in paths], dtype=torch.long)
    zero = torch.zeros(1, dtype=torch.long)

    def cat(tensors: list[Tensor]) -> Tensor:
        return torch.cat(tensors).to(device=device, dtype=dtype)

    return GraphSet(
        gap_allowance=[p.gap_allowance for p in paths],
        x=cat([p.x for p in paths]), x_base=cat([p.x_base for p in paths]),
        edge_attr=cat([p.edge_attr for p in paths]), edge_base=cat([p.edge_base for p in paths]),
        edge_index=torch.cat([p.edge_index for p in paths], dim=1).to(device),
        atom_ptr=torch.cat([zero, n_atoms.cumsum(0)]).to(device),
        pair_ptr=torch.cat([zero, n_pairs.cumsum(0)]).to(device),
    )


def end_scores(integrator: PathIntegrator, graphs: GraphSet, select: Selector) -> np.ndarray:
    """F(baseline) and F(input) of every path. Shapes: ``-> [M, 2]`` float64."""
    m = graphs.n_molecules
    molecule = torch.arange(m, device=integrator.device).repeat_interleave(2)
    alpha = torch.tensor([0.0, 1.0], device=integrator.device, dtype=integrator.dtype).repeat(m)
    return integrator.scores(graphs, molecule, alpha, select).view(m, 2).double().cpu().numpy()


def _split_rows(graphs: GraphSet, acc_x: Tensor, acc_e: Tensor) -> list[tuple[Tensor, Tensor]]:
    """Each path's rows, on the CPU: one device-to-host copy per group, and the per-molecule work
    after it launches no GPU kernels and waits on no synchronization."""
    atoms = acc_x.cpu().split(graphs.n_atoms().tolist())
    pairs = acc_e.cpu().split(graphs.n_pairs().tolist())
    return list(zip(atoms, pairs))


def integrate_fixed(integrator: PathIntegrator, graphs: GraphSet, select: Selector,
                    method: Method, n_steps: int, with_norms: bool = False) -> list[PathResult]:
    """Integrate every path with the same fixed rule; gradients are accumulated pass by pass."""
    alphas_np, weights_np = nodes_and_weights(method, n_steps)
    device, dtype = integrator.device, integrator.dtype
    m, s = graphs.n_molecules, len(alphas_np)
    molecule = torch.arange(m, device=device).repeat_interleave(s)
    alpha = torch.as_tensor(alphas_np, device=device, dtype=dtype).repeat(m)
    weight = torch.as_tensor(weights_np, device=device, dtype=dtype).repeat(m)
    acc_x, acc_e = torch.zeros_like(graphs.x), torch.zeros_like(graphs.edge_attr)
    scores = torch.empty(m * s, device=device, dtype=dtype)
    norms = torch.zeros(m * s, device=device, dtype=dtype)
    for p in integrator.passes(graphs, molecule, alpha, select, with_grad=True, with_norms=with_norms):
        w = weight.index_select(0, p.points)
        acc_x.index_add_(0, p.batch.atom_rows, p.grad_x * w.index_select(0, p.batch.atom_point).unsqueeze(1))
        acc_e.index_add_(0, p.batch.pair_rows, p.grad_e * w.index_select(0, p.batch.pair_point).unsqueeze(1))
        scores[p.points] = p.scores
        if with_norms:
            norms[p.points] = p.gradient_norms
    ends = end_scores(integrator, graphs, select)
    order = np.argsort(alphas_np)
    score_np = scores.view(m, s).double().cpu().numpy()[:, order]
    norm_np = norms.view(m, s).double().cpu().numpy()[:, order]
    return [
        PathResult(gx, ge, float(ends[k, 1]), float(ends[k, 0]), s, alphas_np[order], score_np[k],
                   norm_np[k] if with_norms else None)
        for k, (gx, ge) in enumerate(_split_rows(graphs, acc_x, acc_e))
    ]


def make_selector(target: int, output: Output) -> Selector:
    """Score of one task from raw outputs ``[n_graphs, n_tasks] -> [n_graphs]``."""
    if output == "logit":
        return lambda out: out[:, target]
    if output == "probability":
        return lambda out: torch.sigmoid(out[:, target])
    raise ValueError(f"output must be 'logit' or 'probability' (got {output!r})")
