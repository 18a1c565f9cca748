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
