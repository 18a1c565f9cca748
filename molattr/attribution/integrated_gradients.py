"""Integrated gradients for molecular graph networks (Sundararajan, Taly & Yan)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from statistics import fmean

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from molattr.attribution.adaptive import AdaptiveRule, integrate_adaptive
from molattr.attribution.baselines import ReferenceBaselines, graph_paths, zero_paths
from molattr.attribution.engine import (
    Output, PathInput, PathIntegrator, PathResult, end_scores, graph_set, integrate_fixed, make_selector, split_by_budget,
)
from molattr.attribution.inputs import AttributedModel, Molecules, resolve_device
from molattr.attribution.paths import GraphSet
from molattr.attribution.quadrature import Method, check_n_steps, parse_method
from molattr.attribution.result import Attribution, InteriorCurve
from molattr.checkpoint import Checkpoint
from molattr.errors import AttributionInputError
from molattr.featurize import FeatureSpec
from molattr.integers import is_integer_at_least, is_real_number

Baseline = None | Data | Sequence[Data] | ReferenceBaselines
#: Atoms per forward/backward pass when not given: CPU caches favour small passes, GPUs large ones.
DEFAULT_ATOMS_PER_PASS = {"cpu": 1024, "cuda": 65536}
#: Paths integrated together by a fixed rule; bounds the bookkeeping of one call.
PATHS_PER_GROUP = 4096
#: Paths refined together by the adaptive rule, which keeps every node's gradients (in host memory)
#: until the end: at most this many paths, and at most this many atom and pair feature values over
#: their inputs (256 drug-sized molecules; 23 of 200 atoms, so that their nodes stay within a few hundred MiB).
ADAPTIVE_PATHS_PER_GROUP = 256
ADAPTIVE_FEATURES_PER_GROUP = 2**18


class IntegratedGradients:
    """Integrated gradients of a task score with respect to atom and pair features.

    The path ``baseline + alpha * (input - baseline)`` scales atom AND pair features together
    (the paper's counterfactuals); the gradients of the score along it are integrated with a
    quadrature rule, every (molecule, alpha) point of a chunk in one forward and one backward.

    Args:
        model: a :class:`molattr.Checkpoint` (spec and task names come with it) or any module
            called as ``model(x, edge_index, edge_attr, batch, num_graphs)`` returning
            ``[n_graphs, n_tasks]`` (a weave network, or a PyG model in :class:`molattr.nn.PyGModelWrapper`).
        spec: featurization for SMILES and RDKit molecules (default: the checkpoint's).
        tasks: task names (default: the checkpoint's).
        device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
        dtype: ``torch.float32`` (default) or ``torch.float64`` for exactness checks.
        max_atoms_per_pass: memory budget of one pass, in atoms counting every alpha copy;
            default 1024 on CPU (about 75 MiB with a W2N2 model, and as fast as any size there)
            and 65536 on CUDA (1.6 GiB of GPU memory, measured on an H200). See ``docs/benchmarks.md``.
        threads: on the CPU, passes run side by side in this many threads, each pass on one core
            (default: ``torch.get_num_threads()``, the cores torch uses; each thread holds one
            pass's memory). ``1`` runs passes one after another with torch's own threading.
            Ignored on CUDA.

    Example::

        ig = IntegratedGradients(molattr.load_model("w2n2-tox21"))
        attribution = ig.attribute("Clc1cc2Oc3cc(Cl)c(Cl)cc3Oc2cc1Cl", target="NR-AhR")
        print(attribution.summary())
    """

    def __init__(self, model: Checkpoint | nn.Module, spec: FeatureSpec | None = None, tasks: Sequence[str] | None = None,
                 device: str | torch.device | None = "auto", dtype: torch.dtype = torch.float32,
                 max_atoms_per_pass: int | None = None, threads: int | None = None) -> None:
        if dtype not in (torch.float32, torch.float64):
            raise AttributionInputError(f"dtype must be torch.float32 or torch.float64 (got {dtype})")
        self.model = AttributedModel.of(model, spec, tasks)
        device = resolve_device(device)
        if max_atoms_per_pass is None:
            max_atoms_per_pass = DEFAULT_ATOMS_PER_PASS["cuda" if device.type == "cuda" else "cpu"]
        threads = torch.get_num_threads() if threads is None else threads
        self.integrator = PathIntegrator(self.model.module, device, dtype, max_atoms_per_pass, threads)

    @property
    def device(self) -> torch.device:
        """Where the forward and backward passes run."""
        return self.integrator.device

    @property
    def device_model(self) -> nn.Module:
        """The model as the passes run it: on :attr:`device`, in the attribution dtype (a copy when those differ)."""
        return self.integrator.model

    def attribute(
        self,
        molecules: Molecules,
        target: int | str = 0,
        output: Output = "logit",
        baseline: Baseline = None,
        n_steps: int = 50,
        method: Method | str = Method.ADAPTIVE,
        tolerance: float = 0.01,
        attribution_tolerance: float = 0.1,
        max_steps: int = 512,
        return_interior: bool = False,
    ) -> Attribution | list[Attribution]:
        """Attributions of ``target``'s score for each molecule.

        Args:
            molecules: a SMILES, an RDKit molecule, a featurized graph, or a list of them.
            target: task index or name.
            output: attribute the raw ``"logit"`` or the sigmoid ``"probability"``.
            baseline: ``None`` (all features zero, the paper's), a featurized graph with the
                molecule's atoms and pairs (or one per molecule), or :class:`ReferenceBaselines`
                (expected gradients: the mean over baselines drawn from reference molecules).
            n_steps: nodes of a fixed rule (ignored by ``"adaptive"``).
            method: a :class:`Method`. The default ``"adaptive"`` refines each path until its
                completeness gap is within ``tolerance`` (relative to F(input) - F(baseline))
                and its attributions' trapezoid error bound within ``attribution_tolerance``
                (relative to their L1 norm; ``math.inf`` turns it off), or it has ``max_steps``
                nodes (see :mod:`molattr.attribution.adaptive`); ``"gauss_legendre"`` with
                ``n_steps=50`` is Captum's default (faster, but on weave networks its median gap
                is a few percent and no molecule's gap is bounded).
            return_interior: keep the score and gradient norm at every alpha (``Attribution.interior``;
                over several baselines, their mean, see ``_mean_curve``).

        Returns:
            One :class:`Attribution` per molecule (a single one for a single molecule).

        Raises:
            AttributionInputError: bad target, output, baseline or steps, or a model whose
                output does not depend on its inputs.
            InvalidMoleculeError, FeaturizationMismatchError: molecules that cannot be used.
            NonFiniteOutputError: NaN or infinite scores on the path.
        """
        method = self.check_request(target, output, method, n_steps, tolerance, attribution_tolerance, max_steps)
        graphs, single = self.model.graphs(molecules)
        index, name, select = self.selector(graphs[0], target, output)
        _check_baseline_count(baseline, len(graphs))
        paths = [self.baseline_paths(k, g, baseline) for k, g in enumerate(graphs)]
        if method is Method.ADAPTIVE:
            paths = [self.shared_tolerance(p, tolerance, select) if len(p) > 1 else p for p in paths]

        def integrate(group: GraphSet) -> list[PathResult]:
            if method is Method.ADAPTIVE:
                rule = AdaptiveRule(tolerance, attribution_tolerance, min(5, int(max_steps)), int(max_steps))
                return integrate_adaptive(self.integrator, group, select, rule, return_interior)
            return integrate_fixed(self.integrator, group, select, method, n_steps, return_interior)

        if method is Method.ADAPTIVE:
            per_path = self.integrate_paths(paths, integrate, ADAPTIVE_PATHS_PER_GROUP, ADAPTIVE_FEATURES_PER_GROUP)
        else:
            per_path = self.integrate_paths(paths, integrate)
        results = [
            self.combine(g, p, rs, index, name, output, method.value, return_interior)
            for g, p, rs in zip(graphs, paths, per_path)
        ]
        check_dependence(results, per_path)
        return results[0] if single else results

    # -- building blocks, shared with the comparators ---------------------------------------

    def check_request(self, target: int | str = 0, output: str = "logit", method: Method | str = Method.ADAPTIVE,
                      n_steps: int = 50, tolerance: float = 0.01, attribution_tolerance: float = 0.1,
                      max_steps: int = 512) -> Method:
        """Check the arguments of :meth:`attribute` that do not depend on the molecules (a task name
        against the model's tasks when it has them); returns the parsed method.

        Raises:
            AttributionInputError: naming the argument.
        """
        method = parse_method(method)
        _check_steps(method, n_steps, tolerance, attribution_tolerance, max_steps)
        self.model.check_output(output)
        if self.model.tasks is not None:
            self.model.target(target, len(self.model.tasks))
        elif isinstance(target, str):  # no names to find it among; an index waits for the model's output width
            self.model.target(target, 0)
        return method

    def shared_tolerance(self, paths: list[PathInput], tolerance: float, select: Callable[[Tensor], Tensor]) -> list[PathInput]:
        """One molecule's several paths (expected gradients) share its completeness tolerance: the
        attribution is their mean, whose gap is the mean of theirs, so each path is held to
        ``tolerance · |F(input) - mean F(baselines)|`` rather than to its own difference (which
        may be larger, and of the other sign)."""
        with self.integrator.evaluating():
            ends = end_scores(self.integrator, graph_set(paths, self.device, self.integrator.dtype), select)
        allowed = AdaptiveRule(tolerance).allowed_gap(float(ends[0, 1] - ends[:, 0].mean()))
        return [replace(p, gap_allowance=allowed) for p in paths]

    def input_scores(self, graphs: Sequence[Data], select: Callable[[Tensor], Tensor]) -> np.ndarray:
        """F(input) of each graph. Shapes: ``-> [len(graphs)]``."""
        group = graph_set([zero_paths(g)[0] for g in graphs], self.device, self.integrator.dtype)
        m = group.n_molecules
        ones = torch.ones(m, device=self.device, dtype=self.integrator.dtype)
        with self.integrator.evaluating():
            scores = self.integrator.scores(group, torch.arange(m, device=self.device), ones, select)
        return scores.double().cpu().numpy()

    def selector(self, probe: Data, target: int | str, output: str) -> tuple[int, str, Callable[[Tensor], Tensor]]:
        """The target's index, its name and the function taking raw outputs ``[n_graphs, n_tasks]``
        to the attributed score ``[n_graphs]``, after checking the model's output shape on ``probe``.

        Raises:
            AttributionInputError: an unknown output or target, or a model whose output is not 2D.
        """
        self.model.check_output(output)
        with torch.no_grad(), self.integrator.evaluating():
            x = probe.x.to(self.device, self.integrator.dtype)
            e = probe.edge_attr.to(self.device, self.integrator.dtype)
            out = self.integrator.model(x, probe.edge_index.to(self.device), e,
                                        torch.zeros(x.shape[0], dtype=torch.long, device=self.device), 1)
        if out.dim() != 2 or out.shape[0] != 1:
            raise AttributionInputError(f"the model must return [n_graphs, n_tasks] scores (got shape {tuple(out.shape)})")
        index, name = self.model.target(target, out.shape[1])
        return index, name, make_selector(index, output)

    def baseline_paths(self, k: int, graph: Data, baseline: Baseline) -> list[PathInput]:
        """The integration paths of molecule ``k`` (``graph``): one from the zero or given baseline,
        or one per drawn baseline with :class:`ReferenceBaselines`."""
        if baseline is None:
            return zero_paths(graph)
        if isinstance(baseline, ReferenceBaselines):
            return baseline.paths(graph)
        if isinstance(baseline, Data):
            return graph_paths(graph, baseline)
        if is_baseline_list(baseline):
            if not isinstance(baseline[k], Data):
                raise AttributionInputError(f"baseline {k} of the list is a {type(baseline[k]).__name__}, not a featurized "
                                            "graph of its molecule")
            return graph_paths(graph, baseline[k])
        raise AttributionInputError(
            f"baseline must be None, a featurized graph, a list of graphs or ReferenceBaselines (got {type(baseline).__name__})"
        )

    def integrate_paths(self, paths: list[list[PathInput]], integrate: Callable[[GraphSet], list[PathResult]],
                        group_size: int = PATHS_PER_GROUP, max_features: int | None = None) -> list[list[PathResult]]:
        """Integrate every path, in groups of consecutive paths: at most ``group_size`` of them and, when
        given, at most ``max_features`` atom and pair feature values (a larger lone path is its own
        group); results regrouped per molecule."""
        flat = [p for molecule_paths in paths for p in molecule_paths]
        sizes = torch.tensor([p.x.numel() + p.edge_attr.numel() if max_features else 1 for p in flat], dtype=torch.long)
        results: list[PathResult] = []
        for chunk in split_by_budget(sizes, max_features or group_size):
            for start in range(0, len(chunk), group_size):
                members = chunk[start : start + group_size].tolist()
                group = graph_set([flat[k] for k in members], self.device, self.integrator.dtype)
                with self.integrator.evaluating():
                    results += integrate(group)
        out, position = [], 0
        for molecule_paths in paths:
            out.append(results[position : position + len(molecule_paths)])
            position += len(molecule_paths)
        return out

    def combine(self, graph: Data, paths: list[PathInput], results: list[PathResult], index: int, name: str,
                 output: str, method: str, return_interior: bool,
                 attribute_as: Callable[[PathInput, PathResult], tuple[Tensor, Tensor]] | None = None) -> Attribution:
        """Mean over a molecule's paths of ``gradient * (input - baseline)`` (or ``attribute_as``)."""
        attribute_as = attribute_as or _times_difference
        atom_parts, pair_parts = zip(*(attribute_as(p, r) for p, r in zip(paths, results)))
        atom, pair = _mean_of(atom_parts).cpu().numpy(), _mean_of(pair_parts).cpu().numpy()
        atom_columns, pair_columns = self.model.columns(atom.shape[1], pair.shape[1])
        interior = _mean_curve(results) if return_interior else None
        return Attribution(
            smiles=str(getattr(graph, "smiles", "")), atom_attr=atom, pair_attr=pair,
            pair_index=graph.edge_index.cpu().numpy(),
            pair_distance=graph.pair_distance.cpu().numpy() if "pair_distance" in graph else None,
            mol=getattr(graph, "mol", None), atom_columns=atom_columns, pair_columns=pair_columns,
            target=index, target_name=name, output=output, method=method,
            prediction=fmean(r.f_input for r in results), baseline_prediction=fmean(r.f_baseline for r in results),
            evaluations=sum(r.evaluations for r in results), interior=interior,
            extra={"paths": len(results)} if len(results) > 1 else {},
        )


def _mean_of(parts: Sequence[Tensor]) -> Tensor:
    """Mean of same-shaped tensors; a lone one (one path per molecule, the usual case) as it is."""
    return parts[0] if len(parts) == 1 else torch.stack(list(parts)).mean(0)


def _times_difference(path: PathInput, result: PathResult) -> tuple[Tensor, Tensor]:
    return (result.grad_x * (path.x.to(result.grad_x) - path.x_base.to(result.grad_x)),
            result.grad_e * (path.edge_attr.to(result.grad_e) - path.edge_base.to(result.grad_e)))


def _mean_curve(results: list[PathResult]) -> InteriorCurve:
    """The paths' mean score and gradient norm at each alpha. Paths with nodes of their own (the
    adaptive rule over several baselines) are averaged on the union of their alphas, each curve
    interpolated linearly between its own nodes."""
    first = results[0].alphas
    if all(len(r.alphas) == len(first) and np.allclose(r.alphas, first) for r in results):
        return InteriorCurve(first, np.mean([r.scores for r in results], 0), np.mean([r.gradient_norms for r in results], 0))
    alphas = np.unique(np.concatenate([r.alphas for r in results]))
    return InteriorCurve(alphas, np.mean([np.interp(alphas, r.alphas, r.scores) for r in results], 0),
                         np.mean([np.interp(alphas, r.alphas, r.gradient_norms) for r in results], 0))


def is_baseline_list(baseline: Baseline) -> bool:
    """Whether ``baseline`` is a list of graphs, one per molecule."""
    return isinstance(baseline, Sequence) and not isinstance(baseline, (str, Data))


def _check_baseline_count(baseline: Baseline, n_molecules: int) -> None:
    """A list of baseline graphs needs exactly one per molecule (a longer one hides misaligned lists)."""
    if is_baseline_list(baseline) and len(baseline) != n_molecules:
        raise AttributionInputError(f"{len(baseline)} baseline graphs for {n_molecules} molecules (need one per molecule)")


def _check_steps(method: Method, n_steps: int, tolerance: float, attribution_tolerance: float, max_steps: int) -> None:
    if method is Method.ADAPTIVE:
        if not (is_real_number(tolerance) and 0 < tolerance < 1):
            raise AttributionInputError(f"tolerance must be in (0, 1) (got {tolerance!r})")
        if not (is_real_number(attribution_tolerance) and attribution_tolerance > 0):
            raise AttributionInputError(f"attribution_tolerance must be > 0 (math.inf: off) (got {attribution_tolerance!r})")
        if not is_integer_at_least(max_steps, 2):
            raise AttributionInputError(f"max_steps must be an integer >= 2 (got {max_steps!r})")
        return
    check_n_steps(method, n_steps)


def check_dependence(attributions: list[Attribution], per_path: list[list[PathResult]]) -> None:
    """A model whose integrated gradients are all zero and whose score never moves ignores its inputs."""
    moved = any(abs(a.delta) > 0 for a in attributions)
    gradient = any(bool(r.grad_x.any()) or bool(r.grad_e.any()) for rs in per_path for r in rs)
    if not moved and not gradient:
        raise AttributionInputError(
            "the model's target score does not depend on the atom or pair features (zero gradient everywhere "
            "on every path, F(input) == F(baseline)); nothing to attribute"
        )
