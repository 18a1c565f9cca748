"""Comparators for evaluating attributions: gradient at the input, gradient × input, SmoothGrad over IG."""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from molattr.attribution.baselines import graph_generator
from molattr.attribution.engine import Output, PathInput, PathResult, integrate_fixed
from molattr.attribution.inputs import Molecules
from molattr.attribution.integrated_gradients import Baseline, IntegratedGradients, check_dependence
from molattr.attribution.quadrature import Method, check_n_steps, parse_method
from molattr.attribution.result import Attribution
from molattr.errors import AttributionInputError
from molattr.integers import is_integer_at_least, is_real_number


def input_gradients(ig: IntegratedGradients, molecules: Molecules, target: int | str = 0, output: Output = "logit",
                    times_input: bool = False) -> Attribution | list[Attribution]:
    """The plain gradient of the score at the input (``times_input=False``), or gradient × input.

    One gradient evaluation per molecule, with ``ig``'s model, device and precision. The
    result's ``baseline_prediction`` is F(all features zero), so its ``gap`` shows how far these
    maps are from completeness.

    Shapes: ``atom_attr [n_atoms, F_a]``, ``pair_attr [n_pairs, F_p]`` as for integrated gradients.
    """
    graphs, single = ig.model.graphs(molecules)
    index, name, select = ig.selector(graphs[0], target, output)
    paths = [ig.baseline_paths(k, g, None) for k, g in enumerate(graphs)]
    per_path = ig.integrate_paths(paths, lambda group: integrate_fixed(ig.integrator, group, select, Method.RIEMANN_RIGHT, 1))

    def as_gradient(path: PathInput, result: PathResult) -> tuple[Tensor, Tensor]:
        if times_input:
            return result.grad_x * path.x.to(result.grad_x), result.grad_e * path.edge_attr.to(result.grad_e)
        return result.grad_x.clone(), result.grad_e.clone()  # own memory, not views of the group's buffer

    method = "gradient_x_input" if times_input else "gradient"
    results = [ig.combine(g, p, r, index, name, output, method, False, as_gradient) for g, p, r in zip(graphs, paths, per_path)]
    check_dependence(results, per_path)
    return results[0] if single else results


def smoothgrad_integrated_gradients(
    ig: IntegratedGradients, molecules: Molecules, target: int | str = 0, output: Output = "logit",
    n_samples: int = 16, noise_level: float = 0.1, seed: int = 0, n_steps: int = 50,
    method: Method | str = Method.GAUSS_LEGENDRE, baseline: Baseline = None,
) -> Attribution | list[Attribution]:
    """SmoothGrad over integrated gradients: the mean of IG over noisy copies of each input.

    Each copy adds Gaussian noise of standard deviation ``noise_level * (max - min)`` of the
    molecule's features to every atom and pair feature (Smilkov et al.); the baseline is kept.
    A molecule's noise depends on ``seed`` and the molecule only, not on its place in a list.
    The attributions add up to the mean of F(noisy input) minus F(baseline), which is what
    ``prediction`` reports (``extra["clean_prediction"]`` holds F(input)).
    """
    if not is_integer_at_least(n_samples, 1):
        raise AttributionInputError(f"n_samples must be a positive integer (got {n_samples!r})")
    fixed = parse_method(method)
    if fixed is Method.ADAPTIVE:
        raise AttributionInputError("smoothgrad needs a fixed rule (got method='adaptive')")
    check_n_steps(fixed, n_steps)
    if not (is_real_number(noise_level) and noise_level >= 0):
        raise AttributionInputError(f"noise_level must be >= 0 (got {noise_level!r})")
    graphs, single = ig.model.graphs(molecules)
    index, name, select = ig.selector(graphs[0], target, output)
    clean = ig.input_scores(graphs, select)
    paths = [_noisy(ig.baseline_paths(k, g, baseline), n_samples, noise_level, graph_generator(seed, g))
             for k, g in enumerate(graphs)]
    per_path = ig.integrate_paths(paths, lambda group: integrate_fixed(ig.integrator, group, select, fixed, n_steps))
    results = []
    for g, p, r, c in zip(graphs, paths, per_path, clean):
        attribution = ig.combine(g, p, r, index, name, output, f"smoothgrad_{fixed.value}", False)
        attribution.extra.update(clean_prediction=float(c), n_samples=n_samples, noise_level=noise_level)
        results.append(attribution)
    check_dependence(results, per_path)
    return results[0] if single else results


def _noisy(paths: Sequence[PathInput], n_samples: int, noise_level: float, generator: torch.Generator) -> list[PathInput]:
    out = []
    for path in paths:
        spread = torch.cat([path.x.flatten(), path.edge_attr.flatten()])
        sigma = noise_level * float(spread.max() - spread.min()) if spread.numel() else 0.0
        for _ in range(n_samples):
            x = path.x + sigma * torch.randn(path.x.shape, generator=generator, dtype=path.x.dtype)
            e = path.edge_attr + sigma * torch.randn(path.edge_attr.shape, generator=generator, dtype=path.edge_attr.dtype)
            out.append(PathInput(x, e, path.x_base, path.edge_base, path.edge_index))
    return out
