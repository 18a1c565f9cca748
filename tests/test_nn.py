"""Weave modules, gathers, W{k}N{d} models and the PyG wrapper."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch
from torch_geometric.nn import GINEConv, global_add_pool

from molattr.errors import AttributionInputError
from molattr.featurize import FeatureSpec, featurize
from molattr.nn import GaussianHistogramGather, PyGModelWrapper, SumGather, WeaveConfig, WeaveLayer
from molattr.nn.gather import GAUSSIAN_BINS, LOG_MEMBERSHIP_FLOOR
from molattr.scoring import forward_batch, raw_scores
from tests.conftest import make_weave

MOLECULES = ["c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "C"]


def _renumbered(smiles: str, seed: int):
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    order = np.random.default_rng(seed).permutation(mol.GetNumAtoms()).tolist()
    return Chem.RenumberAtoms(mol, order)


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
def test_gradients_reach_atom_and_pair_features(full_spec, n_layers):
    model = make_weave(full_spec, n_layers=n_layers, seed=n_layers)
    g = featurize("CC(=O)Oc1ccccc1C(=O)O", full_spec)
    x = g.x.clone().requires_grad_(True)
    e = g.edge_attr.clone().requires_grad_(True)
    model(x, g.edge_index, e).sum().backward()
    assert x.grad is not None and e.grad is not None
    assert x.grad.abs().sum() > 0 and e.grad.abs().sum() > 0
    # every atom and every pair influences the output
    assert (x.grad.abs().sum(1) > 0).all()
    assert (e.grad.abs().sum(1) > 0).all()


def test_output_shape_and_batch_equals_single(full_spec):
    model = make_weave(full_spec, n_tasks=4)
    graphs = [featurize(s, full_spec) for s in MOLECULES]
    batched = raw_scores(model, graphs, batch_size=3)
    assert batched.shape == (len(MOLECULES), 4)
    for k, g in enumerate(graphs):
        single = model(g.x, g.edge_index, g.edge_attr).detach().numpy()
        np.testing.assert_allclose(batched[k], single[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_invariant_under_atom_renumbering(full_spec, n_layers):
    model = make_weave(full_spec, n_layers=n_layers)
    for smiles in MOLECULES[:3]:
        reference = raw_scores(model, [featurize(smiles, full_spec)])
        for seed in range(3):
            permuted = raw_scores(model, [featurize(_renumbered(smiles, seed), full_spec)])
            np.testing.assert_allclose(permuted, reference, rtol=1e-5, atol=1e-6)


def test_weave_layer_pair_update_is_symmetric_in_pair_order():
    torch.manual_seed(0)
    layer = WeaveLayer(5, 3, hidden=7, atom_out=6, pair_out=4)
    x, e = torch.randn(4, 5), torch.randn(3, 3)
    edges = torch.tensor([[0, 1, 2], [1, 2, 3]])
    atoms, pairs = layer(x, edges, e)
    atoms_flipped, pairs_flipped = layer(x, edges.flip(0), e)
    torch.testing.assert_close(pairs, pairs_flipped)
    torch.testing.assert_close(atoms, atoms_flipped)
    assert atoms.shape == (4, 6) and pairs.shape == (3, 4)


def test_pair_to_atom_sums_over_each_atoms_pairs():
    """With A→A switched off and identity-like maps, an atom's state is the sum of its pairs."""
    layer = WeaveLayer(1, 1, hidden=1, atom_out=1, update_pairs=False)
    with torch.no_grad():
        layer.atom_to_atom.weight.zero_(); layer.atom_to_atom.bias.zero_()
        layer.pair_to_atom.weight.fill_(1.0); layer.pair_to_atom.bias.zero_()
        layer.atom_out.weight.copy_(torch.tensor([[0.0, 1.0]])); layer.atom_out.bias.zero_()
    edges = torch.tensor([[0, 0, 1], [1, 2, 2]])
    pairs = torch.tensor([[1.0], [2.0], [4.0]])
    atoms, none = layer(torch.zeros(3, 1), edges, pairs)
    assert none is None
    torch.testing.assert_close(atoms, torch.tensor([[3.0], [5.0], [6.0]]))


def test_gaussian_gather_counts_atoms():
    gather = GaussianHistogramGather()
    x = torch.tensor([[0.0], [1.645], [-9.0], [0.1]])
    out = gather(x, torch.tensor([0, 0, 0, 1]), 2)
    assert out.shape == (2, len(GAUSSIAN_BINS))
    # memberships of each atom sum to 1, so each molecule's histogram sums to its atom count
    torch.testing.assert_close(out.sum(1), torch.tensor([3.0, 1.0]))
    # an atom at a bin centre sits mostly in that bin; far outside goes to the outermost bin
    single = gather(x[:3], torch.tensor([0, 1, 2]), 3)
    assert single[0].argmax() == 5 and single[1].argmax() == 10 and single[2].argmax() == 0
    assert single[2, 0] > 0.999


def _softmax_memberships(x: torch.Tensor) -> torch.Tensor:
    """Reference: plain softmax over bins of the gather's own -z²/2 = a·x² + b·x + c. ``[n, F] -> [n, F, bins]``."""
    a, b, c = GaussianHistogramGather().quadratic.to(x.dtype).T
    return torch.softmax(a * x.unsqueeze(-1) ** 2 + b * x.unsqueeze(-1) + c, dim=-1)


def test_gaussian_gather_bins_are_the_papers():
    x = torch.linspace(-3.0, 3.0, 61).reshape(-1, 1)
    means, stds = (torch.tensor(v) for v in zip(*GAUSSIAN_BINS))
    densities = torch.exp(-0.5 * ((x - means) / stds) ** 2)
    torch.testing.assert_close(_softmax_memberships(x)[:, 0], densities / densities.sum(1, keepdim=True))


def test_gaussian_gather_matches_plain_softmax_histogram():
    x = torch.linspace(-3.0, 3.0, 241, dtype=torch.float64).reshape(-1, 1).repeat(1, 3)
    x[:, 1] *= 0.5
    batch = torch.arange(x.shape[0]) % 4
    out = GaussianHistogramGather().double()(x, batch, 4)
    expected = torch.zeros(4, 3, len(GAUSSIAN_BINS), dtype=torch.float64).index_add(0, batch, _softmax_memberships(x))
    # memberships under e^-60 of a feature's largest are raised to that: a change of at most 11 * 9e-27 per atom
    torch.testing.assert_close(out, expected.reshape(4, -1), rtol=1e-12, atol=1e-24)


def test_gaussian_gather_gradient_is_exact():
    gather = GaussianHistogramGather().double()
    x = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).mul(1.5).requires_grad_()
    batch = torch.tensor([0, 0, 1, 1, 1, 2, 2])
    assert torch.autograd.gradcheck(lambda t: gather(t, batch, 3), (x,))
    # against autograd through the plain softmax
    weights = torch.randn(3, 5 * len(GAUSSIAN_BINS), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    (ours,) = torch.autograd.grad((gather(x, batch, 3) * weights).sum(), x)
    reference = torch.zeros(3, 5, len(GAUSSIAN_BINS), dtype=torch.float64).index_add(0, batch, _softmax_memberships(x))
    (expected,) = torch.autograd.grad((reference.reshape(3, -1) * weights).sum(), x)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gaussian_gather_far_outside_the_bins(dtype):
    x = torch.tensor([[-1e4], [-60.0], [60.0], [1e4]], dtype=dtype, requires_grad=True)
    out = GaussianHistogramGather().to(dtype)(x, torch.arange(4), 4)
    assert torch.isfinite(out).all()
    floor = float(np.exp(LOG_MEMBERSHIP_FLOOR))
    torch.testing.assert_close(out[:, [0, -1]], torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=dtype),
                               rtol=0, atol=20 * floor)
    (grad,) = torch.autograd.grad(out[:, 0].sum(), x)
    # the backward is the softmax's at the raised memberships: e^-60 · |d logit/dx| ≈ 1e-26 · |x| at most
    assert torch.isfinite(grad).all() and grad.abs().max() < 1e-15


@pytest.mark.parametrize("value", [1e8, 1e20, 3e38])
def test_gaussian_gather_keeps_huge_float32_inputs_in_the_outermost_bin(value):
    # x² of such values loses every bin to float32 rounding (1e8) or overflows (1e20): they are clamped first
    x = torch.tensor([[value], [-value]], requires_grad=True)
    out = GaussianHistogramGather()(x, torch.arange(2), 2)
    torch.testing.assert_close(out[:, [0, -1]], torch.tensor([[0.0, 1.0], [1.0, 0.0]]), rtol=0, atol=1e-6)
    (grad,) = torch.autograd.grad(out[:, 0].sum(), x)
    assert torch.equal(grad, torch.zeros_like(x))


@pytest.mark.parametrize("gather", [GaussianHistogramGather(), SumGather()])
def test_gathers_of_a_pass_without_atoms_are_zero(gather):
    x = torch.zeros(0, 3, requires_grad=True)
    out = gather(x, torch.zeros(0, dtype=torch.long), 2)
    assert torch.equal(out, torch.zeros(2, 3 * gather.n_bins))
    out.sum().backward()
    assert x.grad.shape == (0, 3)


def test_gaussian_gather_refuses_second_derivatives():
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(GaussianHistogramGather().double()(x, torch.zeros(3, dtype=torch.long), 1).sum(), x,
                                  create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad|once_differentiable"):
        grad.sum().backward()


def test_sum_gather():
    out = SumGather()(torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), torch.tensor([0, 1, 1]), 2)
    torch.testing.assert_close(out, torch.tensor([[1.0, 2.0], [8.0, 10.0]]))


def test_scale_outputs_folds_regression_scaling(full_spec):
    model = make_weave(full_spec, n_tasks=2)
    graphs = [featurize(s, full_spec) for s in MOLECULES]
    before = raw_scores(model, graphs)
    model.scale_outputs([1.5, -2.0], [3.0, 0.5])
    np.testing.assert_allclose(raw_scores(model, graphs), before * [3.0, 0.5] + [1.5, -2.0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [({"n_layers": 0}, "n_layers must be positive"), ({"n_layers": 5}, "n_layers must be 1..4"),
     ({"gather": "max"}, "gather"), ({"hidden": 0}, "hidden"), ({"dropout": 1.0}, "dropout must be a number in"),
     ({"dropout": -0.1}, "dropout"), ({"dropout": "0.1"}, r"dropout .*got '0.1'"), ({"dropout": None}, "dropout")],
)
def test_config_rejects_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WeaveConfig(27, 12, 1, **kwargs)


def test_config_checks_types_before_ranges():
    with pytest.raises(TypeError, match=r"n_layers must be an integer \(got '2'\)"):
        WeaveConfig(27, 12, 1, n_layers="2")


def test_config_round_trips_through_dict():
    config = WeaveConfig(27, 12, 12, n_layers=3, gather="sum")
    assert WeaveConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["name"] == "weave"


class _GINE(torch.nn.Module):
    def __init__(self, n_atom: int, n_pair: int, n_tasks: int) -> None:
        super().__init__()
        self.embed = torch.nn.Linear(n_atom, 16)
        self.conv = GINEConv(torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.ReLU()), edge_dim=n_pair)
        self.out = torch.nn.Linear(16, n_tasks)

    def forward(self, x, edge_index, edge_attr, batch):
        h = self.conv(self.embed(x), edge_index, edge_attr)
        return self.out(global_add_pool(h, batch))


def test_wrapper_runs_gine_with_gradients_to_inputs(full_spec):
    torch.manual_seed(0)
    wrapped = PyGModelWrapper(_GINE(full_spec.n_atom_features, full_spec.n_pair_features, 2), n_tasks=2).eval()
    graphs = [featurize(s, full_spec) for s in MOLECULES]
    batch = Batch.from_data_list(graphs)
    x = batch.x.clone().requires_grad_(True)
    e = batch.edge_attr.clone().requires_grad_(True)
    out = wrapped(x, batch.edge_index, e, batch.batch, batch.num_graphs)
    assert out.shape == (len(MOLECULES), 2)
    out.sum().backward()
    assert x.grad.abs().sum() > 0 and e.grad.abs().sum() > 0
    np.testing.assert_allclose(out.detach().numpy(), raw_scores(wrapped, graphs), rtol=1e-5, atol=1e-5)


def test_wrapper_symmetrizes_pairs(full_spec):
    """A directed model sees both directions: the result does not depend on how a pair is stored."""
    torch.manual_seed(1)
    wrapped = PyGModelWrapper(_GINE(full_spec.n_atom_features, full_spec.n_pair_features, 1)).eval()
    g = featurize("CCO", full_spec)
    forward = wrapped(g.x, g.edge_index, g.edge_attr)
    flipped = wrapped(g.x, g.edge_index.flip(0), g.edge_attr)
    torch.testing.assert_close(forward, flipped)


def test_wrapper_rejects_wrong_task_count(full_spec):
    wrapped = PyGModelWrapper(_GINE(full_spec.n_atom_features, full_spec.n_pair_features, 3), n_tasks=2)
    g = featurize("CCO", full_spec)
    with pytest.raises(AttributionInputError, match="_GINE returned 3 outputs per graph .*n_tasks=2"):
        wrapped(g.x, g.edge_index, g.edge_attr)


class _ScalarOut(torch.nn.Module):
    def forward(self, x, edge_index, edge_attr, batch):
        return x.sum()


def test_wrapper_refuses_an_output_without_a_row_per_graph(full_spec):
    g = featurize("CCO", full_spec)
    with pytest.raises(AttributionInputError, match=r"_ScalarOut returned a tensor of shape \(\); it must return \[n_graphs"):
        PyGModelWrapper(_ScalarOut())(g.x, g.edge_index, g.edge_attr)


def test_wrapper_refuses_a_row_count_other_than_num_graphs(full_spec):
    """A pooling that infers its size from ``batch`` drops a trailing graph without atoms: refused,
    not scores shifted onto other molecules."""
    wrapped = PyGModelWrapper(_GINE(full_spec.n_atom_features, full_spec.n_pair_features, 1))
    g = featurize("CCO", full_spec)
    batch = torch.zeros(g.num_nodes, dtype=torch.long)
    assert wrapped(g.x, g.edge_index, g.edge_attr, batch, 1).shape == (1, 1)
    with pytest.raises(AttributionInputError, match=r"1 rows for 2 graphs: .*global_add_pool\(h, batch\) does"):
        wrapped(g.x, g.edge_index, g.edge_attr, batch, 2)


def test_simple_preset_model_and_all_pairs():
    spec = FeatureSpec(preset="simple", max_distance=None)
    model = make_weave(spec, n_tasks=1)
    batch = Batch.from_data_list([featurize(s, spec) for s in MOLECULES])
    assert forward_batch(model, batch).shape == (len(MOLECULES), 1)
