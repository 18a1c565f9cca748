"""The checkpoints shipped in models/: they load, their cards carry their measured numbers, and
the recorded test metric is reproduced from the data (when the MoleculeNet files are present)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from molattr.checkpoint import load_checkpoint
from molattr.data.moleculenet import locate, recipe
from molattr.data.splits import make_split
from molattr.errors import InputFileError
from molattr.resources import models_dir
from molattr.scoring import raw_scores
from molattr.training.metrics import task_metrics
from molattr.training.pipeline import load_labelled

SHIPPED = ["w2n2-tox21", "w1n2-tox21", "w2n2-delaney", "w1n2-simple-tox21", "w2n2-simple-tox21"]


def _config(name: str) -> dict:
    return json.loads((models_dir() / name / "config.json").read_text())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_with_card(name: str):
    checkpoint = load_checkpoint(name)
    config = _config(name)
    card = (models_dir() / name / "README.md").read_text()
    assert config["model_family"] in card
    for split in ("random", "scaffold"):
        test = config["metrics_by_split"][split]["test"]
        headline = test.get("mean_roc_auc", test.get("mean_rmse"))
        assert f"{headline:.3f}" in card, (name, split)
    assert checkpoint.spec.hash == config["featurization_hash"]


def test_w2n2_tox21_meets_the_target():
    assert _config("w2n2-tox21")["metrics"]["test"]["mean_roc_auc"] >= 0.80
    assert len(_config("w2n2-tox21")["tasks"]) == 12


@pytest.mark.parametrize("name", ["w2n2-tox21", "w2n2-delaney"])
def test_recorded_test_metric_is_reproduced(name: str):
    config = _config(name)
    dataset = config["data"]["file"].split(".")[0]
    try:
        path = locate(dataset, download=False)
    except InputFileError as exc:  # no local MoleculeNet copy: nothing to reproduce against
        pytest.skip(f"{dataset} data not available here ({exc})")
    checkpoint = load_checkpoint(name)
    data = load_labelled(path, checkpoint.tasks, checkpoint.task_type, checkpoint.spec,
                         recipe(dataset).smiles_column, progress=False)
    assert len(data.graphs) == config["data"]["used"]
    split = make_split(config["split"]["kind"], data.smiles, tuple(config["split"]["fractions"]), config["split"]["seed"])
    test = split.test
    metrics = task_metrics(checkpoint.task_type, data.labels[test], raw_scores(checkpoint.model, [data.graphs[k] for k in test]),
                           checkpoint.tasks)
    key = "mean_roc_auc" if checkpoint.task_type == "classification" else "mean_rmse"
    np.testing.assert_allclose(metrics[key], config["metrics"]["test"][key], rtol=1e-4)
