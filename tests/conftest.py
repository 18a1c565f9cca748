"""Shared fixtures: small specs, models and files built on the fly (no network, no ../shared)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from molattr.featurize import FeatureSpec
from molattr.nn import WeaveConfig, WeaveModel

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "moleculenet"


@pytest.fixture
def full_spec() -> FeatureSpec:
    return FeatureSpec(preset="full", max_distance=2)


def make_weave(spec: FeatureSpec, n_tasks: int = 3, n_layers: int = 2, seed: int = 0) -> WeaveModel:
    """A small random weave model in eval mode."""
    torch.manual_seed(seed)
    config = WeaveConfig(spec.n_atom_features, spec.n_pair_features, n_tasks, n_layers=n_layers, hidden=16,
                         readout=8, mlp_hidden=16)
    return WeaveModel(config).eval()


@pytest.fixture
def small_weave(full_spec: FeatureSpec) -> WeaveModel:
    return make_weave(full_spec)


def planted_attribution(smiles: str, atom_values: dict[int, float] | None = None,
                        pair_values: dict[tuple[int, int], float] | None = None, spec: FeatureSpec | None = None):
    """An Attribution of ``smiles`` whose values are planted by hand: ``atom_values[k]`` on atom
    k's first feature column, ``pair_values[(i, j)]`` on pair (i, j)'s first column, zero elsewhere."""
    import numpy as np

    from molattr.attribution import Attribution
    from molattr.featurize import featurize

    spec = spec or FeatureSpec(preset="full", max_distance=2)
    graph = featurize(smiles, spec)
    atom = np.zeros(tuple(graph.x.shape))
    pair = np.zeros(tuple(graph.edge_attr.shape))
    for k, value in (atom_values or {}).items():
        atom[k, 0] = value
    index = graph.edge_index.numpy()
    for (i, j), value in (pair_values or {}).items():
        column = np.flatnonzero(((index[0] == i) & (index[1] == j)) | ((index[0] == j) & (index[1] == i)))
        pair[column[0], 0] = value
    total = float(atom.sum() + pair.sum())
    return Attribution(smiles=smiles, atom_attr=atom, pair_attr=pair, pair_index=index,
                       atom_columns=spec.atom_columns, pair_columns=spec.pair_columns, target=0, target_name="task",
                       output="logit", method="planted", prediction=total + 0.5, baseline_prediction=0.5,
                       evaluations=0, pair_distance=graph.pair_distance.numpy())
