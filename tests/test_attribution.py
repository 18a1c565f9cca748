"""Integrated gradients engine: quadrature, exactness, completeness, Captum agreement, invariances, errors."""
from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdkit import Chem
from torch import nn
from torch_geometric.data import Data
from torch_geometric.transforms import ToUndirected

from benchmarks.routes import captum_attribute
from molattr.attribution import (
    IntegratedGradients, attribute_each, Method, ReferenceBaselines, input_gradients, nodes_and_weights,
    smoothgrad_integrated_gradients,
)
from molattr.attribution.pass_threads import torch_threads
from molattr.checkpoint import Checkpoint, load_checkpoint
from molattr.errors import AttributionInputError, FeaturizationMismatchError, InvalidMoleculeError, NonFiniteOutputError
from molattr.featurize import FeatureSpec, featurize
from molattr.nn import PyGModelWrapper
from tests.conftest import make_weave
from tests.test_nn import _GINE

MOLECULES = ["CC(=O)Oc1ccccc1C(=O)O", "c1ccncc1", "C[C@H](N)C(=O)O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
             "O=C([O-])CC[N+](C)(C)C", "Clc1cc2Oc3cc(Cl)c(Cl)cc3Oc2cc1Cl"]
FIXED = [m for m in Method if m is not Method.ADAPTIVE]
SPEC = FeatureSpec()


def weave(n_tasks: int = 3, n_layers: int = 2, seed: int = 0, dtype: torch.dtype = torch.float64) -> nn.Module:
    return make_weave(SPEC, n_tasks=n_tasks, n_layers=n_layers, seed=seed).to(dtype)


def ig64(model: nn.Module, **kwargs) -> IntegratedGradients:
    return IntegratedGradients(model, spec=SPEC, device="cpu", dtype=torch.float64, **kwargs)


class LinearSum(nn.Module):
    """F(graph) = sum_atoms x @ wa + sum_pairs e @ wp + c: integrated gradients are exact."""

    def __init__(self, n_tasks: int = 2, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.wa = nn.Parameter(torch.randn(SPEC.n_atom_features, n_tasks, generator=g, dtype=torch.float64))
        self.wp = nn.Parameter(torch.randn(SPEC.n_pair_features, n_tasks, generator=g, dtype=torch.float64))
        self.c = nn.Parameter(torch.randn(n_tasks, generator=g, dtype=torch.float64))

    def forward(self, x, edge_index, edge_attr, batch=None, num_graphs=None):
        if batch is None:
            batch, num_graphs = torch.zeros(x.shape[0], dtype=torch.long), 1
        pair_graph = batch[edge_index[0]]
        out = self.c.expand(num_graphs, -1).clone()
        out = out.index_add(0, batch, x @ self.wa).index_add(0, pair_graph, edge_attr @ self.wp)
        return out


# --------------------------------------------------------------------------- quadrature


@pytest.mark.parametrize("method", FIXED)
@pytest.mark.parametrize("n", [2, 3, 7, 50])
def test_weights_sum_to_one_and_nodes_in_unit_interval(method, n):
    alphas, weights = nodes_and_weights(method, n)
    assert len(alphas) == len(weights) == n
    assert math.isclose(weights.sum(), 1.0, rel_tol=0, abs_tol=1e-14)
    assert alphas.min() >= 0 and alphas.max() <= 1


def test_captum_trapezoid_weights_are_biased_ours_are_not():
    from captum.attr._utils.approximation_methods import approximation_parameters

    step_sizes, _ = approximation_parameters("riemann_trapezoid")
    assert math.isclose(sum(step_sizes(10)), 1 - 1 / 10, rel_tol=1e-12)
    assert math.isclose(nodes_and_weights("trapezoid", 10)[1].sum(), 1.0, rel_tol=1e-14)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_gauss_legendre_exact_to_degree_2n_minus_1(n):
    alphas, weights = nodes_and_weights("gauss_legendre", n)
    for degree in range(2 * n):
        assert math.isclose((weights * alphas**degree).sum(), 1 / (degree + 1), rel_tol=1e-12)


@pytest.mark.parametrize("method", ["trapezoid", "riemann_middle"])
def test_second_order_rules_integrate_linear_functions_exactly(method):
    alphas, weights = nodes_and_weights(method, 7)
    assert math.isclose((weights * (3 * alphas + 1)).sum(), 2.5, rel_tol=1e-12)


def test_quadrature_rejects_bad_arguments():
    with pytest.raises(ValueError, match="adaptive is not a fixed rule"):
        nodes_and_weights("adaptive", 10)
    with pytest.raises(ValueError, match=">= 2 for trapezoid"):
        nodes_and_weights("trapezoid", 1)
    with pytest.raises(AttributionInputError, match="unknown method 'simpson'"):
        nodes_and_weights("simpson", 10)
    with pytest.raises(AttributionInputError, match="n_steps must be an integer"):
        nodes_and_weights("gauss_legendre", True)
    assert len(nodes_and_weights("gauss_legendre", np.int64(6))[0]) == 6


# --------------------------------------------------------------------------- exact values


@pytest.mark.parametrize("method", [*FIXED, Method.ADAPTIVE])
def test_linear_model_attributions_are_exact(method):
    model = LinearSum()
    ig = ig64(model)
    for smiles in MOLECULES[:3]:
        g = featurize(smiles, SPEC)
        a = ig.attribute(g, target=1, method=method, n_steps=3)
        np.testing.assert_allclose(a.atom_attr, (g.x.double() * model.wa[:, 1].detach()).numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.pair_attr, (g.edge_attr.double() * model.wp[:, 1].detach()).numpy(), rtol=1e-12, atol=1e-12)
        assert abs(a.gap) < 1e-10
        assert a.baseline_prediction == pytest.approx(float(model.c[1].detach()))
        if method is Method.ADAPTIVE:  # constant gradient: no variation, no completeness error, nothing to refine
            assert a.evaluations == 5


def test_benzene_by_hand():
    """Benzene under the linear model: each carbon gets w[C] + w[aromatic] + w[sp2] + w[ring 6]
    + q * w[partial charge], q its Gasteiger charge (about -0.062)."""
    model = LinearSum(n_tasks=1, seed=3)
    a = ig64(model).attribute("c1ccccc1", n_steps=1, method="riemann_middle")
    wa = dict(zip(SPEC.atom_columns, model.wa[:, 0].tolist()))
    charge = float(featurize("c1ccccc1", SPEC).x[0, SPEC.atom_columns.index("atom:partial_charge")])
    assert charge == pytest.approx(-0.0622, abs=1e-3)
    per_carbon = (wa["atom:type=C"] + wa["atom:aromatic"] + wa["atom:hybridization=sp2"] + wa["atom:ring_size=6"]
                  + charge * wa["atom:partial_charge"])
    np.testing.assert_allclose(a.atom_attr.sum(1), [per_carbon] * 6, rtol=1e-12)
    wp = dict(zip(SPEC.pair_columns, model.wp[:, 0].tolist()))
    bonded = wp["pair:bond=aromatic"] + wp["pair:distance=1"] + wp["pair:same_ring"]
    meta = wp["pair:distance=2"] + wp["pair:same_ring"]
    per_pair = a.pair_attr.sum(1)
    assert len(per_pair) == 12  # 6 bonds + 6 pairs at distance 2
    assert sorted(np.round(per_pair, 10).tolist()) == sorted([round(bonded, 10)] * 6 + [round(meta, 10)] * 6)


# --------------------------------------------------------------------------- completeness


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(smiles=st.sampled_from(MOLECULES), seed=st.integers(0, 1000), n_layers=st.integers(1, 3),
       tolerance=st.sampled_from([0.01, 0.001]), output=st.sampled_from(["logit", "probability"]))
def test_adaptive_meets_its_tolerance(smiles, seed, n_layers, tolerance, output):
    ig = ig64(weave(seed=seed, n_layers=n_layers))
    a = ig.attribute(smiles, target=seed % 3, output=output, method="adaptive", tolerance=tolerance, max_steps=4096)
    assert a.evaluations < 4096
    allowed = tolerance * abs(a.delta) if abs(a.delta) >= 1e-6 else 1e-5
    assert abs(a.gap) <= allowed + 1e-12
    assert a.total == pytest.approx(a.delta, abs=allowed + 1e-12)


def _relative_l1_error(a, reference) -> float:
    ours = np.concatenate([a.atom_attr.ravel(), a.pair_attr.ravel()])
    exact = np.concatenate([reference.atom_attr.ravel(), reference.pair_attr.ravel()])
    return float(np.abs(ours - exact).sum() / np.abs(exact).sum())


@pytest.mark.parametrize("seed", [0, 2])
@pytest.mark.parametrize("attribution_tolerance", [0.1, 0.03])
def test_attribution_tolerance_bounds_the_attribution_error(seed, attribution_tolerance):
    ig = ig64(weave(seed=seed))
    references = ig.attribute(MOLECULES, method="riemann_middle", n_steps=4096)
    results = ig.attribute(MOLECULES, method="adaptive", tolerance=0.01, attribution_tolerance=attribution_tolerance)
    for a, reference in zip(results, references):
        assert _relative_l1_error(a, reference) <= attribution_tolerance, a.smiles
        assert abs(a.gap) <= 0.01 * abs(a.delta) + 1e-12


class KinkedSum(LinearSum):
    """F = relu(c + linear sum): along the path from zero the gradient jumps once, at alpha* = -c / s."""

    def forward(self, x, edge_index, edge_attr, batch=None, num_graphs=None):
        return torch.relu(super().forward(x, edge_index, edge_attr, batch, num_graphs))


def test_adaptive_nodes_go_to_the_kink_and_attributions_match_by_hand():
    model = KinkedSum(n_tasks=1, seed=5)
    g = featurize(MOLECULES[0], SPEC)
    per_feature = np.concatenate([(g.x.double() * model.wa[:, 0].detach()).numpy().ravel(),
                                  (g.edge_attr.double() * model.wp[:, 0].detach()).numpy().ravel()])
    s = per_feature.sum()
    with torch.no_grad():
        model.wa.mul_(np.sign(s))
        model.wp.mul_(np.sign(s))
        model.c.fill_(-0.37 * abs(s))  # kink at alpha* = 0.37, inside the initial interval [0.25, 0.5]
    exact = (1 - 0.37) * per_feature * np.sign(s)  # the gradient is w on (alpha*, 1], zero before
    a = ig64(model).attribute(g, method="adaptive", tolerance=0.01, attribution_tolerance=0.1, return_interior=True)
    ours = np.concatenate([a.atom_attr.ravel(), a.pair_attr.ravel()])
    assert np.abs(ours - exact).sum() <= 0.1 * np.abs(exact).sum()
    assert abs(a.gap) <= 0.01 * abs(a.delta)
    added = sorted(set(a.interior.alphas.tolist()) - {0.0, 0.25, 0.5, 0.75, 1.0})
    assert added and all(0.25 < alpha < 0.5 for alpha in added)


def test_completeness_alone_stops_while_attributions_are_off():
    """Interval errors can cancel: pyridine meets a 1% gap on the first 5 nodes with attributions 14% off."""
    ig = ig64(weave(seed=0))
    reference = ig.attribute("c1ccncc1", method="riemann_middle", n_steps=4096)
    gap_only = ig.attribute("c1ccncc1", method="adaptive", tolerance=0.01, attribution_tolerance=math.inf)
    both = ig.attribute("c1ccncc1", method="adaptive", tolerance=0.01, attribution_tolerance=0.1)
    assert gap_only.evaluations == 5 and abs(gap_only.gap) <= 0.01 * abs(gap_only.delta)
    assert _relative_l1_error(gap_only, reference) > 0.1
    assert both.evaluations > 5 and _relative_l1_error(both, reference) <= 0.1


@pytest.mark.parametrize("method", ["gauss_legendre", "riemann_middle", "trapezoid"])
def test_fixed_rules_converge_to_completeness(method):
    ig = ig64(weave(seed=4))
    gaps = [abs(ig.attribute(MOLECULES[0], method=method, n_steps=n).gap) for n in (8, 512)]
    assert gaps[1] < gaps[0] and gaps[1] < 1e-3


def test_gap_fields_and_tiny_delta():
    ig = ig64(weave())
    g = featurize(MOLECULES[1], SPEC)
    a = ig.attribute(g, baseline=g)  # baseline == input: nothing to attribute, delta is exactly 0
    assert abs(a.delta) < 1e-12 and a.total == 0 and abs(a.gap) < 1e-12
    assert math.isnan(a.relative_gap)
    assert "n/a" in a.summary()
    b = ig.attribute(g)
    assert b.relative_gap == pytest.approx(abs(b.gap) / abs(b.delta))


def test_default_settings_reach_one_percent_on_drugs():
    """DESIGN §8: the defaults give a completeness gap under 1% on drug-like molecules (float32, shipped model)."""
    from molattr.checkpoint import load_checkpoint

    ig = IntegratedGradients(load_checkpoint("w2n2-tox21"), device="cpu")
    for a in ig.attribute(MOLECULES, target="SR-MMP"):
        assert a.method == "adaptive"
        assert abs(a.gap) <= 0.01 * abs(a.delta) + 1e-5, a.summary()


# --------------------------------------------------------------------------- reference implementation


@pytest.mark.parametrize("method", ["gauss_legendre", "riemann_left", "riemann_right", "riemann_middle"])
@pytest.mark.parametrize("n_steps", [7, 50])
def test_agrees_with_captum_molecule_by_molecule(method, n_steps):
    model = weave(seed=11)
    graphs = [featurize(s, SPEC) for s in MOLECULES]
    ours = ig64(model).attribute(graphs, target=1, n_steps=n_steps, method=method)
    for g, a in zip(graphs, ours):
        atom, pair = captum_attribute(model, Data(x=g.x.double(), edge_attr=g.edge_attr.double(),
                                                  edge_index=g.edge_index, num_nodes=g.num_nodes), 1, n_steps, method)
        scale = max(np.abs(a.atom_attr).max(), np.abs(a.pair_attr).max())
        assert np.abs(a.atom_attr - atom.numpy()).max() <= 1e-5 * scale
        assert np.abs(a.pair_attr - pair.numpy()).max() <= 1e-5 * scale


def test_agrees_with_captum_in_float32_on_the_shipped_model():
    from molattr.checkpoint import load_checkpoint

    checkpoint = load_checkpoint("w2n2-tox21")
    graphs = [featurize(s, checkpoint.spec) for s in MOLECULES[:3]]
    ours = IntegratedGradients(checkpoint, device="cpu").attribute(graphs, target="NR-AhR", method="gauss_legendre")
    for g, a in zip(graphs, ours):
        atom, _ = captum_attribute(checkpoint.model, g, checkpoint.tasks.index("NR-AhR"))
        np.testing.assert_allclose(a.atom_attr, atom.numpy(), rtol=1e-4, atol=1e-5 * np.abs(a.atom_attr).max())


# --------------------------------------------------------------------------- batching and invariances


@pytest.mark.parametrize("method", ["gauss_legendre", "adaptive"])
def test_batched_equals_one_by_one_and_any_chunk_size(method):
    model = weave(seed=5)
    together = ig64(model).attribute(MOLECULES, method=method)
    tiny_chunks = ig64(model, max_atoms_per_pass=7).attribute(MOLECULES, method=method)
    for k, smiles in enumerate(MOLECULES):
        alone = ig64(model).attribute(smiles, method=method)
        for other in (alone, tiny_chunks[k]):
            np.testing.assert_allclose(together[k].atom_attr, other.atom_attr, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(together[k].pair_attr, other.pair_attr, rtol=1e-9, atol=1e-12)
            assert together[k].evaluations == other.evaluations


@pytest.mark.parametrize("method", ["gauss_legendre", "adaptive"])
def test_passes_side_by_side_give_the_same_bits(method):
    model = weave(seed=5)
    with torch_threads(1):  # passes one after another then run the same single-threaded kernels
        runs = [ig64(model, max_atoms_per_pass=40, threads=t).attribute(MOLECULES, method=method, return_interior=True)
                for t in (1, 3)]
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a.atom_attr, b.atom_attr)
        np.testing.assert_array_equal(a.pair_attr, b.pair_attr)
        np.testing.assert_array_equal(a.interior.scores, b.interior.scores)
        np.testing.assert_array_equal(a.interior.gradient_norms, b.interior.gradient_norms)
        assert a.evaluations == b.evaluations


def test_adaptive_groups_bounded_by_features_give_the_same_attributions(monkeypatch):
    import molattr.attribution.integrated_gradients as module

    model = weave(seed=5)
    together = ig64(model).attribute(MOLECULES)
    sizes = [featurize(m, SPEC).x.numel() + featurize(m, SPEC).edge_attr.numel() for m in MOLECULES]
    monkeypatch.setattr(module, "ADAPTIVE_FEATURES_PER_GROUP", max(sizes) + min(sizes))  # groups of one or two paths
    calls = []
    original = module.integrate_adaptive
    monkeypatch.setattr(module, "integrate_adaptive", lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs))
    grouped = ig64(model).attribute(MOLECULES)
    assert len(calls) >= len(MOLECULES) // 2  # split into several groups (one group without the bound)
    for a, b in zip(together, grouped):
        np.testing.assert_allclose(a.atom_attr, b.atom_attr, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.pair_attr, b.pair_attr, rtol=1e-9, atol=1e-12)
        assert a.evaluations == b.evaluations


def _equivalent_network(model: nn.Module) -> nn.Module:
    """Same function, other weights: permute the head's hidden units and rescale them (ReLU is
    positively homogeneous), and permute the per-atom readout units with their batch norm."""
    twin = copy.deepcopy(model)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        first, last = twin.head[0], twin.head[-1]
        perm = torch.randperm(first.out_features, generator=g)
        scale = torch.rand(first.out_features, generator=g, dtype=first.weight.dtype) * 3 + 0.5
        first.weight.copy_(first.weight[perm] * scale[:, None])
        first.bias.copy_(first.bias[perm] * scale)
        last.weight.copy_(last.weight[:, perm] / scale[None, :])
        readout = torch.randperm(twin.atom_dense.out_features, generator=g)
        twin.atom_dense.weight.copy_(twin.atom_dense.weight[readout])
        twin.atom_dense.bias.copy_(twin.atom_dense.bias[readout])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(twin.atom_norm, name).copy_(getattr(twin.atom_norm, name)[readout])
        bins = twin.gather.n_bins
        columns = (readout[:, None] * bins + torch.arange(bins)[None, :]).reshape(-1)
        first.weight.copy_(first.weight[:, columns])
    return twin


def test_implementation_invariance():
    model = weave(seed=8)
    twin = _equivalent_network(model)
    assert not torch.equal(model.head[0].weight, twin.head[0].weight)
    a = ig64(model).attribute(MOLECULES, target=2)
    b = ig64(twin).attribute(MOLECULES, target=2)
    for x, y in zip(a, b):
        assert x.prediction == pytest.approx(y.prediction, rel=1e-10)
        np.testing.assert_allclose(x.atom_attr, y.atom_attr, rtol=1e-8, atol=1e-11)
        np.testing.assert_allclose(x.pair_attr, y.pair_attr, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize("smiles", MOLECULES[:4])
def test_invariant_under_atom_renumbering(smiles):
    ig = ig64(weave(seed=9))
    mol = Chem.MolFromSmiles(smiles)
    order = np.random.default_rng(1).permutation(mol.GetNumAtoms()).tolist()
    renumbered = Chem.RenumberAtoms(mol, order)  # new atom k is old atom order[k]
    a, b = ig.attribute(mol), ig.attribute(renumbered)
    assert a.prediction == pytest.approx(b.prediction, rel=1e-10)
    np.testing.assert_allclose(b.atom_attr, a.atom_attr[order], rtol=1e-8, atol=1e-11)
    old_pairs = {tuple(p): k for k, p in enumerate(a.pair_index.T.tolist())}
    for k, (i, j) in enumerate(b.pair_index.T.tolist()):
        key = tuple(sorted((order[i], order[j])))
        np.testing.assert_allclose(b.pair_attr[k], a.pair_attr[old_pairs[key]], rtol=1e-8, atol=1e-11)


def test_target_by_name_or_index_and_against_a_single_output_model():
    model = weave(n_tasks=3, seed=10)
    checkpoint = Checkpoint(model, SPEC, ["a", "b", "c"], "classification", {}, None)
    ig = IntegratedGradients(checkpoint, device="cpu", dtype=torch.float64)
    by_name = ig.attribute(MOLECULES[0], target="b")
    by_index = ig.attribute(MOLECULES[0], target=1)
    by_numpy = ig.attribute(MOLECULES[0], target=np.int64(1))  # e.g. an argmax
    assert ig.attribute(MOLECULES[0], target=torch.tensor(1)).target == 1
    assert by_name.target == 1 and by_name.target_name == "b"
    assert type(by_numpy.target) is int and by_numpy.target_name == "b"
    np.testing.assert_array_equal(by_name.atom_attr, by_index.atom_attr)
    np.testing.assert_array_equal(by_numpy.atom_attr, by_index.atom_attr)
    for bad in (True, -1, 3, 1.0):
        with pytest.raises(AttributionInputError, match="target must be a task index in 0..2"):
            ig.attribute(MOLECULES[0], target=bad)
    single = copy.deepcopy(model)
    with torch.no_grad():
        last = single.head[-1]
        sliced = nn.Linear(last.in_features, 1, dtype=last.weight.dtype)
        sliced.weight.copy_(last.weight[1:2])
        sliced.bias.copy_(last.bias[1:2])
        single.head[-1] = sliced
    alone = ig64(single).attribute(MOLECULES[0], target=0)
    np.testing.assert_allclose(by_name.atom_attr, alone.atom_attr, rtol=1e-10, atol=1e-13)
    other = ig.attribute(MOLECULES[0], target="c")
    assert not np.allclose(other.atom_attr, by_name.atom_attr)


# --------------------------------------------------------------------------- baselines


def test_custom_baseline_graph():
    model = weave(seed=12)
    ig = ig64(model)
    g = featurize(MOLECULES[0], SPEC)
    base = g.clone()
    base.x = g.x * 0.5
    a = ig.attribute(g, baseline=base, method="adaptive", tolerance=1e-4, max_steps=4096)
    with torch.no_grad():
        expected = float(model(base.x.double(), base.edge_index, base.edge_attr.double())[0, 0])
    assert a.baseline_prediction == pytest.approx(expected, rel=1e-10)
    assert abs(a.gap) <= 1e-4 * abs(a.delta) + 1e-12
    np.testing.assert_allclose(a.pair_attr, 0, atol=1e-15)  # pair features did not move


def test_expected_gradients_completeness_against_mean_baseline():
    ig = ig64(weave(seed=13))
    references = ReferenceBaselines([featurize(s, SPEC) for s in MOLECULES[2:]], n_samples=5, seed=1)
    a = ig.attribute(MOLECULES[0], baseline=references, method="adaptive", tolerance=1e-4, max_steps=4096)
    assert a.extra["paths"] == 5
    assert abs(a.gap) <= 1e-4 * abs(a.delta)  # the mean's tolerance, not each path's own
    zero = ig.attribute(MOLECULES[0])
    assert a.baseline_prediction != pytest.approx(zero.baseline_prediction)


def test_expected_gradients_adaptive_meets_the_tolerance_when_paths_differ_in_sign():
    """Paths whose F(input) - F(baseline) differ in sign have a mean difference smaller than each:
    held to their own tolerance, their mean's gap was 1.9% of it (4 paths of 21-91 nodes, none at max_steps)."""
    model = load_checkpoint("w2n2-tox21")
    ig = IntegratedGradients(model, device="cpu", dtype=torch.float64)
    references = ReferenceBaselines([featurize(s, model.spec) for s in ["CCO", "c1ccccc1", "CC(=O)Nc1ccc(O)cc1", "C"]],
                                    n_samples=4, seed=1)
    a = ig.attribute("O", target=2, baseline=references)
    assert abs(a.relative_gap) <= 0.01 and a.evaluations < 4 * 512


def test_expected_gradients_draws_depend_on_the_molecule_and_seed_only():
    """Same baselines in every call and at any place in a list; another seed draws others."""
    ig = ig64(weave(seed=13))
    references = [featurize(s, SPEC) for s in MOLECULES[2:]]
    drawn = ReferenceBaselines(references, n_samples=3, seed=1)
    kwargs = {"method": "gauss_legendre", "n_steps": 8}
    first = ig.attribute(MOLECULES[0], baseline=drawn, **kwargs)
    again = ig.attribute(MOLECULES[0], baseline=drawn, **kwargs)
    second_in_list = ig.attribute([MOLECULES[1], MOLECULES[0]], baseline=ReferenceBaselines(references, 3, seed=1), **kwargs)[1]
    for other in (again, second_in_list):
        assert other.baseline_prediction == pytest.approx(first.baseline_prediction, rel=1e-12)  # batch rounding
        np.testing.assert_allclose(other.atom_attr, first.atom_attr, rtol=1e-10, atol=1e-14)
    reseeded = ig.attribute(MOLECULES[0], baseline=ReferenceBaselines(references, 3, seed=2), **kwargs)
    assert reseeded.baseline_prediction != pytest.approx(first.baseline_prediction, rel=1e-6)


def test_interior_curve_over_several_adaptive_paths():
    """Expected gradients with the adaptive rule: each baseline's path has nodes of its own; the
    curve is their mean on the union of alphas, from F(baselines) to F(input)."""
    ig = ig64(weave(seed=13))
    references = ReferenceBaselines([featurize(s, SPEC) for s in MOLECULES[2:]], n_samples=3, seed=1)
    a = ig.attribute(MOLECULES[0], baseline=references, method="adaptive", return_interior=True)
    curve = a.interior
    assert curve is not None and np.all(np.diff(curve.alphas) > 0) and curve.alphas[0] == 0 and curve.alphas[-1] == 1
    assert curve.scores[0] == pytest.approx(a.baseline_prediction, rel=1e-9)
    assert curve.scores[-1] == pytest.approx(a.prediction, rel=1e-9)
    assert len(curve.alphas) == len(curve.scores) == len(curve.gradient_norms)


def test_baseline_errors():
    ig = ig64(weave())
    g = featurize(MOLECULES[0], SPEC)
    with pytest.raises(AttributionInputError, match="baseline has atom/pair features"):
        ig.attribute(g, baseline=featurize("CCO", SPEC))
    other_spec = featurize(MOLECULES[0], FeatureSpec(max_distance=3))
    with pytest.raises(AttributionInputError):
        ig.attribute(g, baseline=other_spec)
    with pytest.raises(AttributionInputError, match="needs at least one reference"):
        ReferenceBaselines([])
    with pytest.raises(AttributionInputError, match="reference graphs featurized with spec"):
        ig.attribute(g, baseline=ReferenceBaselines([featurize("CCO", FeatureSpec(preset="simple"))]))
    with pytest.raises(AttributionInputError, match="n_samples must be an integer"):
        ReferenceBaselines([g], n_samples=2.5)
    with pytest.raises(AttributionInputError, match="baseline must be"):
        ig.attribute(g, baseline="zeros")
    with pytest.raises(AttributionInputError, match="2 baseline graphs for 1 molecules"):
        ig.attribute([g], baseline=[g, g])


def test_a_baseline_graph_must_have_the_inputs_pairs_in_order():
    ig = ig64(weave())
    g = featurize("CCO", SPEC)
    shuffled = g.clone()
    order = torch.tensor([2, 0, 1])
    shuffled.edge_index, shuffled.edge_attr, shuffled.pair_distance = g.edge_index[:, order], g.edge_attr[order], g.pair_distance[order]
    with pytest.raises(AttributionInputError, match="atom pairs"):
        ig.attribute(g, baseline=shuffled)
    with pytest.raises(AttributionInputError, match="pair distances"):  # same shapes and pairs, other distances
        ig.attribute(g, baseline=featurize("C1CC1", SPEC))
    assert ig.attribute(g, baseline=g, method="gauss_legendre", n_steps=4).total == 0  # the input itself: nothing moves


def test_reference_graphs_need_pair_distances():
    g = featurize("CCO", SPEC)
    bare = Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr)
    with pytest.raises(AttributionInputError, match="reference graph 0 has no pair_distance"):
        ReferenceBaselines([bare])
    with pytest.raises(AttributionInputError, match="has no pair_distance"):
        ig64(weave()).attribute(bare, baseline=ReferenceBaselines([g]))


@pytest.mark.parametrize("broken, match", [
    ({"edge_attr": None}, "needs pair features"),
    ({"edge_index": "first two"}, "edge_index shape"),
    ({"edge_index": torch.tensor([[0], [7]]), "edge_attr": "first"}, "outside 0..2"),
])
def test_malformed_graphs_are_refused_by_name(broken, match):
    g = featurize("CCO", SPEC)
    fields = {"x": g.x, "edge_index": g.edge_index, "edge_attr": g.edge_attr}
    for key, value in broken.items():
        fields[key] = {"first two": g.edge_index[:, :2], "first": g.edge_attr[:1]}.get(value, value) if isinstance(value, str) else value
    with pytest.raises(FeaturizationMismatchError, match=match):
        ig64(weave()).attribute(Data(**fields))


def test_graphs_with_a_pair_stored_twice_are_refused():
    g = featurize("CCO", SPEC)
    undirected = ToUndirected()(Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr))
    assert undirected.edge_index.shape[1] == 2 * g.edge_index.shape[1]
    with pytest.raises(FeaturizationMismatchError, match=r"pair \(0, 1\) more than once .* not in both directions"):
        ig64(weave()).attribute(undirected)
    repeated = Data(x=g.x, edge_index=g.edge_index[:, [0, 1, 2, 2]], edge_attr=g.edge_attr[[0, 1, 2, 2]])
    with pytest.raises(FeaturizationMismatchError, match=r"pair \(1, 2\) more than once"):
        ig64(weave()).attribute(repeated)


def test_graphs_without_atoms_are_refused():
    empty = Data(x=torch.zeros(0, SPEC.n_atom_features), edge_index=torch.zeros(2, 0, dtype=torch.long),
                 edge_attr=torch.zeros(0, SPEC.n_pair_features))
    with pytest.raises(FeaturizationMismatchError, match="has no atoms"):
        ig64(weave()).attribute(empty)


# --------------------------------------------------------------------------- interior gradients and comparators


def test_interior_curve():
    model = weave(seed=14)
    a = ig64(model).attribute(MOLECULES[0], method="riemann_right", n_steps=20, return_interior=True)
    curve = a.interior
    assert np.all(np.diff(curve.alphas) > 0) and curve.alphas[-1] == 1.0
    assert curve.scores[-1] == pytest.approx(a.prediction, rel=1e-12)
    g = featurize(MOLECULES[0], SPEC)
    x, e = g.x.double().requires_grad_(True), g.edge_attr.double().requires_grad_(True)
    gx, ge = torch.autograd.grad(model(x, g.edge_index, e)[0, 0], (x, e))
    assert curve.gradient_norms[-1] == pytest.approx(float(torch.sqrt((gx**2).sum() + (ge**2).sum())), rel=1e-10)
    assert ig64(model).attribute(MOLECULES[0]).interior is None


def test_input_gradients_match_autograd():
    model = weave(seed=15)
    ig = ig64(model)
    g = featurize(MOLECULES[3], SPEC)
    x, e = g.x.double().requires_grad_(True), g.edge_attr.double().requires_grad_(True)
    gx, ge = torch.autograd.grad(model(x, g.edge_index, e)[0, 2], (x, e))
    plain = input_gradients(ig, g, target=2)
    times = input_gradients(ig, g, target=2, times_input=True)
    np.testing.assert_allclose(plain.atom_attr, gx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(times.pair_attr, (ge * e).detach().numpy(), rtol=1e-12)
    assert plain.method == "gradient" and times.method == "gradient_x_input" and times.evaluations == 1


def test_a_molecules_arrays_hold_no_larger_buffer():
    """Keeping one molecule's result must not keep its whole batch's gradient buffer alive."""

    def held_bytes(array: np.ndarray) -> int:
        base = array.base
        if isinstance(base, torch.Tensor):
            return base.untyped_storage().nbytes()
        return array.nbytes if base is None else base.nbytes

    ig = ig64(weave(seed=15))
    for results in (ig.attribute(MOLECULES, method="gauss_legendre", n_steps=4), ig.attribute(MOLECULES),
                    input_gradients(ig, MOLECULES, target=2), input_gradients(ig, MOLECULES, target=2, times_input=True)):
        for a in results:
            assert held_bytes(a.atom_attr) == a.atom_attr.nbytes and held_bytes(a.pair_attr) == a.pair_attr.nbytes


def test_smoothgrad_noise_depends_on_the_molecule_and_seed_only():
    ig = ig64(weave(seed=16))
    kwargs = {"n_samples": 4, "seed": 0, "n_steps": 8}
    alone = smoothgrad_integrated_gradients(ig, MOLECULES[0], **kwargs)
    second = smoothgrad_integrated_gradients(ig, [MOLECULES[1], MOLECULES[0]], **kwargs)[1]
    twice = smoothgrad_integrated_gradients(ig, [MOLECULES[0], MOLECULES[0]], **kwargs)
    for other in (second, *twice):
        np.testing.assert_allclose(other.atom_attr, alone.atom_attr, rtol=1e-10, atol=1e-14)
    reseeded = smoothgrad_integrated_gradients(ig, MOLECULES[0], **{**kwargs, "seed": 1})
    assert reseeded.total != pytest.approx(alone.total, rel=1e-6)


def test_smoothgrad_without_noise_is_integrated_gradients():
    ig = ig64(weave(seed=16))
    plain = ig.attribute(MOLECULES[1], method="gauss_legendre")
    smooth = smoothgrad_integrated_gradients(ig, MOLECULES[1], n_samples=3, noise_level=0.0)
    np.testing.assert_allclose(smooth.atom_attr, plain.atom_attr, rtol=1e-12)
    noisy = smoothgrad_integrated_gradients(ig, MOLECULES[1], n_samples=4, noise_level=0.2)
    assert noisy.extra["clean_prediction"] == pytest.approx(plain.prediction)
    assert not np.allclose(noisy.atom_attr, plain.atom_attr)
    assert abs(noisy.gap) < 0.05 * max(abs(noisy.delta), 1e-3) + 1e-3
    np.testing.assert_allclose(ig.attribute(MOLECULES[1], method="gauss_legendre", n_steps=np.int64(50)).atom_attr,
                               plain.atom_attr, rtol=1e-12)  # a NumPy integer is a step count too
    for bad, match in (({"method": "bogus"}, "unknown method 'bogus'"), ({"n_steps": 0}, "n_steps must be"),
                       ({"n_samples": True}, "n_samples must be")):
        with pytest.raises(AttributionInputError, match=match):
            smoothgrad_integrated_gradients(ig, MOLECULES[1], **bad)


def test_wrapped_pyg_model_is_attributed_completely():
    torch.manual_seed(0)
    wrapped = PyGModelWrapper(_GINE(SPEC.n_atom_features, SPEC.n_pair_features, 2), n_tasks=2).double().eval()
    results = ig64(wrapped).attribute(MOLECULES, target=1, method="adaptive", tolerance=1e-3, max_steps=4096)
    assert all(abs(a.gap) <= 1e-3 * abs(a.delta) + 1e-12 for a in results)
    assert results[0].atom_columns == SPEC.atom_columns


def test_model_left_in_training_mode_is_attributed_in_eval_mode_and_restored():
    model = weave(seed=19, dtype=torch.float32)
    ig = IntegratedGradients(model, spec=SPEC, device="cpu")  # same device and dtype: runs the caller's module
    assert ig.integrator.model is model
    expected = ig.attribute(MOLECULES[:2], method="gauss_legendre")
    model.train()  # dropout and batch statistics would make attributions random and batch-dependent
    again = ig.attribute(MOLECULES[:2], method="gauss_legendre")
    assert model.training
    for a, b in zip(expected, again):
        np.testing.assert_array_equal(a.atom_attr, b.atom_attr)


def test_single_molecule_gives_one_attribution_and_lists_give_lists():
    ig = ig64(weave())
    single = ig.attribute("CCO")
    assert single.smiles == "CCO" and single.atom_attr.shape == (3, SPEC.n_atom_features)
    assert single.pair_attr.shape == (3, SPEC.n_pair_features) and single.pair_index.shape == (2, 3)
    assert isinstance(ig.attribute(["CCO"]), list)
    assert ig.attribute(Chem.MolFromSmiles("CCO")).smiles == "CCO"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("target, message", [(3, "task index in 0..2"), (-1, "task index"), (True, "task index"),
                                             ("nope", "no task named 'nope'")])
def test_bad_targets(target, message):
    with pytest.raises(AttributionInputError, match=message):
        ig64(weave()).attribute("CCO", target=target)


def test_bad_requests():
    ig = ig64(weave())
    with pytest.raises(AttributionInputError, match="output must be"):
        ig.attribute("CCO", output="softmax")
    with pytest.raises(AttributionInputError, match="unknown method 'simpson'"):
        ig.attribute("CCO", method="simpson")
    with pytest.raises(AttributionInputError, match="n_steps must be an integer >= 1"):
        ig.attribute("CCO", n_steps=0, method="gauss_legendre")
    with pytest.raises(AttributionInputError, match="tolerance"):
        ig.attribute("CCO", method="adaptive", tolerance=0)
    with pytest.raises(AttributionInputError, match="attribution_tolerance must be > 0"):
        ig.attribute("CCO", method="adaptive", attribution_tolerance=float("nan"))
    with pytest.raises(AttributionInputError, match="empty list"):
        ig.attribute([])
    for nothing in (None, 5):
        with pytest.raises(AttributionInputError, match=f"a list of them \\(got {type(nothing).__name__}\\)"):
            ig.attribute(nothing)
    with pytest.raises(FeaturizationMismatchError, match="featurized with spec"):
        ig.attribute(featurize("CCO", FeatureSpec(max_distance=3)))
    with pytest.raises(AttributionInputError, match="no featurization spec"):
        IntegratedGradients(weave(), device="cpu").attribute("CCO")
    for budget in ({"max_atoms_per_pass": 0}, {"threads": 0}, {"threads": 1.5}):
        with pytest.raises(AttributionInputError, match="must be a positive integer"):
            ig64(weave(), **budget)
    with pytest.raises(AttributionInputError, match="max_steps must be an integer >= 2"):
        ig.attribute("CCO", method="adaptive", max_steps=True)
    assert ig.attribute("CCO", method="adaptive", max_steps=np.int64(64)).evaluations <= 64
    with pytest.raises(AttributionInputError, match="references must be featurized graphs.* \\(got str\\)"):
        ReferenceBaselines(["CCO"])
    with pytest.raises(TypeError, match="spec must be a FeatureSpec"):
        featurize("CCO", "full")

    class PlainPyG(nn.Module):  # PyG's own calling convention: no num_graphs
        def forward(self, x, edge_index, edge_attr, batch):
            return x.sum().reshape(1, 1)

    with pytest.raises(AttributionInputError, match="PlainPyG.forward cannot be called .*PyGModelWrapper"):
        IntegratedGradients(PlainPyG(), spec=SPEC, device="cpu")
    regression = Checkpoint(weave(n_tasks=1), SPEC, ["y"], "regression", {}, None)
    with pytest.raises(AttributionInputError, match="needs a classification model"):
        IntegratedGradients(regression, device="cpu").attribute("CCO", output="probability")


class _Constant(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.tensor([value], dtype=torch.float64))

    def forward(self, x, edge_index, edge_attr, batch=None, num_graphs=None):
        n = 1 if num_graphs is None else num_graphs
        return self.value.expand(n, 1) + 0 * x.sum()  # formally depends on x, with zero gradient


class _Detached(nn.Module):
    """Scores from trainable weights on detached inputs: a score with a gradient, none to the inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.weights = nn.Linear(SPEC.n_atom_features, 1).double()

    def forward(self, x, edge_index, edge_attr, batch=None, num_graphs=None):
        n = 1 if num_graphs is None else num_graphs
        batch = torch.zeros(x.shape[0], dtype=torch.long) if batch is None else batch
        return torch.zeros(n, 1, dtype=x.dtype).index_add(0, batch, self.weights(x.detach()))


def test_model_that_ignores_its_inputs_is_refused():
    with pytest.raises(AttributionInputError, match="does not depend on the atom or pair features"):
        ig64(_Constant(1.0)).attribute("CCO")
    # detached inputs had given all-zero attributions and a 100% gap, with no error
    for method in ("trapezoid", "adaptive"):
        with pytest.raises(AttributionInputError, match="no gradient path from the inputs"):
            ig64(_Detached()).attribute("CCO", method=method, n_steps=4)
    # the comparators refuse such a model as integrated gradients does
    for comparator in (lambda ig: input_gradients(ig, "CCO"),
                       lambda ig: smoothgrad_integrated_gradients(ig, "CCO", n_steps=3, n_samples=2)):
        with pytest.raises(AttributionInputError, match="does not depend on the atom or pair features"):
            comparator(ig64(_Constant(1.0)))


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "adaptive", "tolerance": "0.1"}, r"tolerance must be in \(0, 1\) \(got '0.1'\)"),
    ({"method": "adaptive", "attribution_tolerance": True}, "attribution_tolerance must be > 0"),
    ({"method": "gauss_legendre", "n_steps": 10**6}, "over 4096 Gauss-Legendre nodes"),
    ({"baseline": [None]}, "baseline 0 of the list is a NoneType, not a featurized graph"),
])
def test_bad_real_arguments_and_baseline_entries_are_named(kwargs, match):
    with pytest.raises(AttributionInputError, match=match):
        ig64(weave()).attribute(["CCO"], **kwargs)


def test_smoothgrad_noise_level_must_be_a_number():
    for bad in (True, None, "0.1", -0.1):
        with pytest.raises(AttributionInputError, match="noise_level must be >= 0"):
            smoothgrad_integrated_gradients(ig64(weave()), "CCO", n_steps=3, n_samples=2, noise_level=bad)


@pytest.mark.parametrize("passes", [{}, {"max_atoms_per_pass": 5, "threads": 2}])
def test_non_finite_outputs_are_refused(passes):
    with pytest.raises(NonFiniteOutputError, match="non-finite"):
        ig64(_Constant(float("nan")), **passes).attribute(MOLECULES)


class _SqrtOfSquares(nn.Module):
    """F = sum over atoms of sqrt(sum of squared features): finite everywhere, its gradient NaN at zero."""

    def forward(self, x, edge_index, edge_attr, batch, num_graphs):
        return torch.zeros(num_graphs, 1, dtype=x.dtype).index_add(0, batch, torch.sqrt((x * x).sum(1, keepdim=True)))


@pytest.mark.parametrize("method", ["adaptive", "trapezoid", "riemann_left"])
def test_non_finite_gradients_are_refused(method):
    with pytest.raises(NonFiniteOutputError, match="gradients are non-finite"):
        ig64(_SqrtOfSquares()).attribute("CCO", method=method, n_steps=8)


class _OneRowPerBatch(nn.Module):
    """Sums the whole batch into one row: the scores of a batch of graphs would be broadcast."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(SPEC.n_atom_features, 1, dtype=torch.float64))

    def forward(self, x, edge_index, edge_attr, batch, num_graphs):
        return (x @ self.w).sum(0, keepdim=True)


@pytest.mark.parametrize("method, molecules", [("gauss_legendre", "CCO"), ("adaptive", "CCO"), ("adaptive", ["CCO", "C"])])
def test_a_model_must_give_one_row_per_graph(method, molecules):
    with pytest.raises(AttributionInputError, match="one row per graph"):
        ig64(_OneRowPerBatch()).attribute(molecules, method=method)


class _BufferWeights(nn.Module):
    """A linear model holding its weights as a buffer, not a parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("w", torch.linspace(-1, 1, SPEC.n_atom_features).unsqueeze(1))

    def forward(self, x, edge_index, edge_attr, batch, num_graphs):
        return torch.zeros(num_graphs, 1, dtype=x.dtype).index_add(0, batch, x @ self.w)


def test_buffer_weights_are_cast_to_the_attribution_dtype():
    a = ig64(_BufferWeights()).attribute("CCO", method="gauss_legendre", n_steps=2)
    assert a.atom_attr.dtype == np.float64 and abs(a.gap) < 1e-12  # linear: exact


def test_attribute_each_raises_wrong_arguments_once_and_splits_baseline_lists():
    ig = ig64(weave())
    with pytest.raises(AttributionInputError, match="no task named 'bogus'"):
        attribute_each(ig, ["CCO", "c1ccccc1"], target="bogus")
    graphs = [featurize(s, SPEC) for s in ("CCO", "CCN", "C1CC1")]
    halves = []
    for g in graphs:
        half = g.clone()
        half.x = g.x / 2
        halves.append(half)
    # one molecule with no pairs fails the batched call (its baseline has another shape), the others keep their own baselines
    wrong = halves[:2] + [halves[0]]
    results = attribute_each(ig, graphs, target=0, baseline=wrong, method="gauss_legendre", n_steps=4)
    assert isinstance(results[2], AttributionInputError)
    for g, base, a in zip(graphs[:2], halves[:2], results[:2]):
        expected = ig.attribute(g, baseline=base, method="gauss_legendre", n_steps=4)
        np.testing.assert_allclose(a.atom_attr, expected.atom_attr, rtol=1e-12)


def test_attribute_each_takes_one_molecule_or_any_collection():
    """One SMILES is one molecule (not its characters); a Series, an array or a generator is a list."""
    ig = ig64(weave())
    kwargs = {"target": 0, "method": "gauss_legendre", "n_steps": 4}
    one = attribute_each(ig, "CCO", **kwargs)
    assert len(one) == 1 and one[0].smiles == "CCO"
    for given in (pd.Series(["CCO", "c1ccncc1"]), np.array(["CCO", "c1ccncc1"]), (s for s in ["CCO", "c1ccncc1"])):
        assert [a.smiles for a in attribute_each(ig, given, **kwargs)] == ["CCO", "c1ccncc1"]
    mixed = attribute_each(ig, (s for s in ["CCO", "C1CC("]), **kwargs)  # the one-by-one fallback of a generator
    assert mixed[0].smiles == "CCO" and isinstance(mixed[1], InvalidMoleculeError)
    with pytest.raises(AttributionInputError, match=r"got bytes"):
        ig.attribute(b"CCO")


def test_cuda_device_refused_without_cuda_or_matches_cpu():
    model = weave(seed=17)
    if not torch.cuda.is_available():
        with pytest.raises(AttributionInputError, match="CUDA is not available"):
            IntegratedGradients(model, spec=SPEC, device="cuda")
        return
    cpu = ig64(model).attribute(MOLECULES)
    gpu = IntegratedGradients(model, spec=SPEC, device="cuda", dtype=torch.float64).attribute(MOLECULES)
    for a, b in zip(cpu, gpu):
        np.testing.assert_allclose(a.atom_attr, b.atom_attr, rtol=1e-8, atol=1e-11)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_float32_shipped_model_agrees_with_captum_on_cuda():
    checkpoint = load_checkpoint("w2n2-tox21")
    model = copy.deepcopy(checkpoint.model).to("cuda").eval()
    ig = IntegratedGradients(checkpoint, device="cuda", dtype=torch.float32)
    graphs = [featurize(s, checkpoint.spec) for s in MOLECULES]
    ours = ig.attribute(graphs, target="NR-AhR", method="gauss_legendre", n_steps=50)
    for graph, a in zip(graphs, ours):
        atom, pair = captum_attribute(model, graph.clone().to("cuda"), target=2, n_steps=50)
        scale = max(float(atom.abs().max()), float(pair.abs().max()))
        np.testing.assert_allclose(a.atom_attr, atom.cpu().numpy(), rtol=0, atol=1e-5 * scale)
        np.testing.assert_allclose(a.pair_attr, pair.cpu().numpy(), rtol=0, atol=1e-5 * scale)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_float32_adaptive_meets_tolerance():
    ig = IntegratedGradients(weave(seed=18, dtype=torch.float32), spec=SPEC, device="cuda")
    assert ig.device.type == "cuda"
    for a in ig.attribute(MOLECULES, method="adaptive", tolerance=0.01, max_steps=1024):
        assert abs(a.gap) <= 0.01 * abs(a.delta) + 1e-4


def test_path_batch_points_are_exact_at_the_ends():
    """Rows at alpha 0 are the baseline's and at alpha 1 the input's, bit for bit; each copy keeps its own edges."""
    from molattr.attribution.paths import GraphSet, build_path_batch

    gen = torch.Generator().manual_seed(0)
    x, x_base = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    e, e_base = torch.randn(3, 2, generator=gen), torch.randn(3, 2, generator=gen)
    graphs = GraphSet(x=x, x_base=x_base, edge_attr=e, edge_base=e_base,
                      edge_index=torch.tensor([[0, 0, 1], [1, 2, 2]]),  # local: (0, 1) | (0, 2), (1, 2)
                      atom_ptr=torch.tensor([0, 2, 5]), pair_ptr=torch.tensor([0, 1, 3]))
    molecule, alpha = torch.tensor([1, 0, 1, 1]), torch.tensor([1.0, 0.0, 0.0, 0.3])
    batch = build_path_batch(graphs, molecule, alpha)
    assert torch.equal(batch.x[:3], x[2:]) and torch.equal(batch.x[3:5], x_base[:2]) and torch.equal(batch.x[5:8], x_base[2:])
    assert torch.equal(batch.edge_attr[:2], e[1:]) and torch.equal(batch.edge_attr[2:3], e_base[:1])
    torch.testing.assert_close(batch.x[8:], x_base[2:] + 0.3 * (x[2:] - x_base[2:]))
    torch.testing.assert_close(batch.edge_attr[5:], e_base[1:] + 0.3 * (e[1:] - e_base[1:]))
    assert batch.edge_index.tolist() == [[0, 1, 3, 5, 6, 8, 9], [2, 2, 4, 7, 7, 10, 10]]
    assert batch.batch.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 3] and batch.num_graphs == 4
