"""Training pieces: masked loss, metrics, splits, label parsing, seeded reproducibility."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from rdkit.Chem.Scaffolds import MurckoScaffold

from molattr.data.splits import Split, make_split, random_split, scaffold_split
from molattr.errors import InputFileError
from molattr.scoring import raw_scores
from molattr.featurize import FeatureSpec, featurize
from molattr.training.loop import TrainConfig, _pos_weight, masked_loss, train_model
from molattr.training.metrics import classification_metrics, headline, regression_metrics
from molattr.training.pipeline import parse_labels
from tests.conftest import make_weave

SMILES = [
    "c1ccccc1", "Cc1ccccc1", "Oc1ccccc1", "Nc1ccccc1", "c1ccncc1", "Cc1ccncc1", "C1CCCCC1", "CC1CCCCC1",
    "CCO", "CCCO", "CCN", "CC(=O)O", "c1ccc2ccccc2c1", "Cc1ccc2ccccc2c1", "C1CCNCC1", "CC1CCNCC1",
    "c1ccoc1", "Cc1ccoc1", "CCCl", "CCBr",
]


def test_masked_loss_ignores_missing_labels():
    outputs = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    labels = torch.tensor([[1.0, float("nan")], [float("nan"), 0.0]])
    expected = (math.log(2.0) + math.log(1 + math.e**-1)) / 2  # BCE(0, 1) and BCE(-1, 0)
    assert masked_loss(outputs, labels, "classification", None).item() == pytest.approx(expected, rel=1e-6)
    squared = masked_loss(outputs, torch.tensor([[1.0, float("nan")], [3.0, float("nan")]]), "regression", None)
    assert squared.item() == pytest.approx((1.0 + 4.0) / 2)
    # gradients never flow from missing entries
    out = outputs.clone().requires_grad_(True)
    masked_loss(out, labels, "classification", None).backward()
    assert out.grad[0, 1] == 0 and out.grad[1, 0] == 0


def test_masked_loss_all_missing_is_zero_not_nan():
    labels = torch.full((2, 2), float("nan"))
    assert masked_loss(torch.ones(2, 2), labels, "classification", None).item() == 0.0


def test_classification_metrics_by_hand():
    labels = np.array([[1, 0], [0, np.nan], [1, 1], [0, 1]], dtype=float)
    scores = np.array([[0.9, 0.2], [0.1, 5.0], [0.4, 0.1], [0.5, 0.3]])
    m = classification_metrics(labels, scores, ["a", "b"])
    # task a: positives 0.9, 0.4; negatives 0.1, 0.5 -> 3 of 4 pairs ordered right
    assert m["roc_auc"]["a"] == pytest.approx(0.75)
    # task b (row 2 unlabelled): positives 0.1, 0.3; negative 0.2 -> 1 of 2
    assert m["roc_auc"]["b"] == pytest.approx(0.5)
    assert m["mean_roc_auc"] == pytest.approx(0.625)
    one_class = classification_metrics(np.array([[1.0], [1.0]]), np.array([[0.2], [0.3]]), ["c"])
    assert math.isnan(one_class["roc_auc"]["c"]) and math.isnan(one_class["mean_roc_auc"])


def test_regression_metrics_by_hand():
    labels = np.array([[1.0], [2.0], [3.0], [np.nan]])
    predictions = np.array([[1.0], [2.0], [5.0], [100.0]])
    m = regression_metrics(labels, predictions, ["y"])
    assert m["rmse"]["y"] == pytest.approx(math.sqrt(4 / 3))
    assert m["mae"]["y"] == pytest.approx(2 / 3)
    assert m["r2"]["y"] == pytest.approx(1 - 4 / 2)
    assert headline("regression", m) == ("mean_rmse", pytest.approx(-math.sqrt(4 / 3)))


def test_random_split_is_a_seeded_partition():
    split = random_split(101, (0.8, 0.1, 0.1), seed=3)
    rows = np.concatenate([split.train, split.valid, split.test])
    assert sorted(rows.tolist()) == list(range(101))
    assert split.sizes() == {"train": 81, "valid": 10, "test": 10}
    again = random_split(101, (0.8, 0.1, 0.1), seed=3)
    assert np.array_equal(split.train, again.train) and np.array_equal(split.test, again.test)
    assert not np.array_equal(split.train, random_split(101, (0.8, 0.1, 0.1), seed=4).train)


def test_scaffold_split_never_shares_a_scaffold_between_parts():
    split = scaffold_split(SMILES, (0.6, 0.2, 0.2))
    rows = np.concatenate([split.train, split.valid, split.test])
    assert sorted(rows.tolist()) == list(range(len(SMILES)))
    scaffold = [MurckoScaffold.MurckoScaffoldSmiles(smiles=s, includeChirality=False) for s in SMILES]
    parts = [{scaffold[k] for k in part} for part in (split.train, split.valid, split.test)]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    assert len(split.test) > 0


def test_scaffold_split_keeps_a_salt_with_its_parent():
    parent, salt, dimer = "OC(=O)Cc1ccccc1", "[O-]C(=O)Cc1ccccc1.[Na+]", "OC(=O)Cc1ccccc1.OC(=O)Cc1ccccc1"
    smiles = [parent, *SMILES, salt, dimer]
    split = scaffold_split(smiles, (0.6, 0.2, 0.2))
    part_of = {int(k): name for name in ("train", "valid", "test") for k in getattr(split, name)}
    assert part_of[0] == part_of[len(smiles) - 2] == part_of[len(smiles) - 1]


def test_undefined_validation_metric_falls_back_to_the_loss():
    with pytest.warns(UserWarning, match="undefined .* go by the validation loss"):
        result, *_ = _train(TrainConfig(epochs=4, batch_size=8, seed=6, patience=10), 6, unlabelled=(3,))
    losses = [h["valid_loss"] for h in result.history]
    assert result.monitored == "loss" and result.best_epoch == 1 + int(np.argmin(losses))


def test_split_arguments_are_checked():
    with pytest.raises(ValueError, match="sum"):
        random_split(10, (0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="random' or 'scaffold"):
        make_split("stratified", SMILES, (0.8, 0.1, 0.1), 0)


def test_parse_labels_names_file_line_and_value(tmp_path: Path):
    table = pd.DataFrame({"line": [2, 3, 4], "smiles": ["C", "CC", "CCC"], "t": ["1", "", "2"]})
    path = tmp_path / "labels.csv"
    with pytest.raises(InputFileError, match=r"labels.csv, line 4: column 't' has '2'; expected 0, 1"):
        parse_labels(table, ["t"], "classification", path)
    for infinite in ("inf", "-inf", "1e999", "1e39"):  # 1e39 overflows float32
        with pytest.raises(InputFileError, match="expected a finite number"):
            parse_labels(pd.DataFrame({"line": [2], "t": [infinite]}), ["t"], "regression", path)
    values = parse_labels(table, ["t"], "regression", path)
    assert values[0, 0] == 1.0 and math.isnan(values[1, 0]) and values[2, 0] == 2.0
    with pytest.raises(InputFileError, match="no task column"):
        parse_labels(table, ["u"], "regression", path)


def _train(config: TrainConfig, seed: int = 0, unlabelled: tuple[int, ...] = ()):
    """A one-task weave trained on SMILES (label: aromatic); ``unlabelled`` rows get no label."""
    spec = FeatureSpec()
    graphs = [featurize(s, spec) for s in SMILES]
    labels = np.array([[float("c1" in s or "c2" in s)] for s in SMILES], dtype=np.float32)
    labels[list(unlabelled), 0] = np.nan
    split = make_split("random", SMILES, (0.6, 0.2, 0.2), seed)
    result = train_model(make_weave(spec, n_tasks=1, seed=seed), graphs, labels, ["aromatic"], "classification", split,
                         config, progress=False)
    return result, graphs, labels, split


def _fit(seed: int) -> tuple[dict, dict]:
    result, *_ = _train(TrainConfig(epochs=3, batch_size=8, seed=seed), seed, unlabelled=(3,))
    return result.model.state_dict(), result.metrics


@pytest.mark.filterwarnings("ignore:the validation mean_roc_auc is undefined")
def test_training_is_reproducible_with_a_seed():
    first, metrics = _fit(5)
    second, again = _fit(5)
    for key in first:
        assert torch.equal(first[key], second[key]), key
    assert metrics == again
    different, _ = _fit(6)
    assert any(not torch.equal(first[k], different[k]) for k in first)


def test_regression_model_predicts_in_label_units():
    spec = FeatureSpec()
    graphs = [featurize(s, spec) for s in SMILES]
    labels = np.array([[1000.0 + 10 * g.x.shape[0]] for g in graphs], dtype=np.float32)
    split = make_split("random", SMILES, (0.6, 0.2, 0.2), 0)
    result = train_model(make_weave(spec, n_tasks=1), graphs, labels, ["size"], "regression", split,
                         TrainConfig(epochs=2, batch_size=8), progress=False)
    # scaling folded into the output layer: predictions are near the label scale, not near 0
    assert np.abs(raw_scores(result.model, graphs) - labels).mean() < 100


def test_cosine_schedule_decays_the_learning_rate_epoch_by_epoch():
    result, *_ = _train(TrainConfig(epochs=4, batch_size=8, learning_rate=1e-3, lr_schedule="cosine", patience=10))
    expected = [1e-3 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)]  # 1e-3, 8.5e-4, 5e-4, 1.5e-4
    assert [h["learning_rate"] for h in result.history] == pytest.approx(expected)
    constant, *_ = _train(TrainConfig(epochs=3, batch_size=8, learning_rate=1e-3, patience=10))
    assert [h["learning_rate"] for h in constant.history] == pytest.approx([1e-3] * 3)


def test_monitor_loss_keeps_the_epoch_with_the_lowest_validation_loss():
    # a high learning rate makes the validation loss and ROC-AUC peak at different epochs
    config = TrainConfig(epochs=8, batch_size=8, learning_rate=0.03, monitor="loss", patience=20)
    result, graphs, labels, split = _train(config)
    losses = [h["valid_loss"] for h in result.history]
    assert result.best_epoch == 1 + int(np.argmin(losses))
    by_metric, *_ = _train(replace(config, monitor="metric"))
    assert by_metric.best_epoch == 1 + int(np.argmax([h["valid_mean_roc_auc"] for h in by_metric.history]))
    assert by_metric.best_epoch != result.best_epoch
    kept = masked_loss(torch.from_numpy(raw_scores(result.model, [graphs[k] for k in split.valid])),
                       torch.from_numpy(labels[split.valid]), "classification", _pos_weight(labels[split.train])).item()
    assert kept == pytest.approx(min(losses), rel=1e-5)


def test_repeated_molecules_across_a_random_split_are_counted():
    split = Split(train=np.array([0, 1, 2]), valid=np.array([3, 4]), test=np.array([5, 6]))
    keys = ["CCO", "CCN", "c1ccccc1", "CCO", "CCC", "CCN", "CCCl"]
    assert split.repeated_in_train(keys) == {"valid": 1, "test": 1}
