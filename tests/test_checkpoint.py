"""Checkpoints: round-trip, and clear errors for tampered, missing or malformed files."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rdkit
import torch

from molattr.checkpoint import CONFIG, WEIGHTS, load_checkpoint, save_checkpoint
from molattr.errors import CheckpointError, FeaturizationMismatchError, InputFileError
from molattr.featurize import FeatureSpec, featurize
from molattr.predict import predict, predict_graphs
from molattr.scoring import raw_scores
from tests.conftest import make_weave

SMILES = ["CCO", "c1ccncc1", "CC(=O)O", "C[C@H](N)C(=O)O", "O=C([O-])CC[N+](C)(C)C"]


@pytest.fixture
def saved(tmp_path: Path, full_spec: FeatureSpec) -> Path:
    model = make_weave(full_spec, n_tasks=2)
    return save_checkpoint(tmp_path / "ckpt", model, full_spec, ["a", "b"], "classification", {"name": "demo"})


def _edit_config(folder: Path, change) -> None:
    config = json.loads((folder / CONFIG).read_text())
    change(config)
    (folder / CONFIG).write_text(json.dumps(config))


def test_round_trip_gives_identical_outputs(saved: Path, full_spec: FeatureSpec):
    original = make_weave(full_spec, n_tasks=2)
    loaded = load_checkpoint(saved)
    assert loaded.tasks == ["a", "b"] and loaded.task_type == "classification" and loaded.name == "demo"
    assert loaded.spec == full_spec and not loaded.model.training
    graphs = [featurize(s, full_spec) for s in SMILES]
    np.testing.assert_array_equal(raw_scores(loaded.model, graphs), raw_scores(original, graphs))
    for key, value in original.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[key], value), key


def test_weights_file_is_safetensors_not_pickle(saved: Path):
    head = (saved / WEIGHTS).read_bytes()[:16]
    assert not head.startswith(b"\x80")  # pickle protocol marker
    header_length = int.from_bytes(head[:8], "little")
    header = json.loads((saved / WEIGHTS).read_bytes()[8 : 8 + header_length])
    assert "layers.0.atom_to_atom.weight" in header


def test_predictions_are_probabilities(saved: Path):
    table = predict(load_checkpoint(saved), SMILES + ["not a smiles"])
    assert list(table.columns[-2:]) == ["a", "b"]
    ok = table["status"] == "ok"
    assert ok.sum() == len(SMILES)
    values = table.loc[ok, ["a", "b"]].to_numpy()
    assert ((values > 0) & (values < 1)).all()
    assert table.loc[~ok, "status"].item() == "unparsable" and np.isnan(table.loc[~ok, "a"].item())


def test_predict_takes_a_checkpoint_its_folder_or_a_shipped_name(saved: Path):
    by_folder = predict(saved, SMILES)
    pd.testing.assert_frame_equal(by_folder, predict(load_checkpoint(saved), SMILES))
    shipped = predict("w2n2-tox21", SMILES)
    assert list(shipped.columns[-12:]) == load_checkpoint("w2n2-tox21").tasks
    assert (shipped["status"] == "ok").all()


def test_predict_takes_one_smiles_as_one_row_and_checks_ids(saved: Path):
    one = predict(saved, "CCO")  # not three one-letter molecules
    assert len(one) == 1 and one["smiles"].item() == "CCO" and one["status"].item() == "ok"
    pd.testing.assert_frame_equal(one, predict(saved, ["CCO"]))
    with pytest.raises(InputFileError, match="1 ids for 2 SMILES"):
        predict(saved, ["CCO", "CCN"], ids=["a"])


def test_tampered_spec_is_rejected(saved: Path):
    _edit_config(saved, lambda c: c["featurization"].update(max_distance=3))
    with pytest.raises(CheckpointError, match="does not match its hash"):
        load_checkpoint(saved)


def test_spec_from_another_featurizer_version_is_rejected(saved: Path):
    from molattr.featurize.spec import spec_dict_hash

    def bump(config):
        config["featurization"]["version"] = 999
        config["featurization_hash"] = spec_dict_hash(config["featurization"])

    _edit_config(saved, bump)
    with pytest.raises(CheckpointError, match="cannot reproduce.*version 999"):
        load_checkpoint(saved)


def test_graphs_with_another_spec_are_refused(saved: Path):
    checkpoint = load_checkpoint(saved)
    other = featurize("CCO", FeatureSpec(max_distance=3))
    with pytest.raises(FeaturizationMismatchError, match="full-N2"):
        predict_graphs(checkpoint, [other])


@pytest.mark.parametrize("missing", [CONFIG, WEIGHTS])
def test_missing_file(saved: Path, missing: str):
    (saved / missing).unlink()
    with pytest.raises(CheckpointError, match=f"missing {missing}"):
        load_checkpoint(saved)


def test_unknown_name_lists_shipped_models(tmp_path: Path):
    with pytest.raises(CheckpointError, match="no-such-model: no such checkpoint folder or shipped model"):
        load_checkpoint("no-such-model")


def test_malformed_json(saved: Path):
    (saved / CONFIG).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(saved)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda c: c.pop("tasks"), "'tasks' missing"),
        (lambda c: c.update(format="other"), "is not 'molattr-checkpoint'"),
        (lambda c: c.update(task_type="ranking"), "task_type"),
        (lambda c: c["architecture"].update(n_layers=9), "invalid architecture"),
        (lambda c: c["architecture"].update(name="gat"), "unknown architecture"),
        (lambda c: c.update(tasks=["a"]), "1 task names for 2 outputs"),
        (lambda c: c["architecture"].update(n_atom_features=11), "features"),
        (lambda c: c["architecture"].update(hidden=8), "weights do not fit"),
        (lambda c: c["architecture"].update(n_tasks=2.0), "n_tasks must be an integer"),
        (lambda c: c["architecture"].update(dropout="0.1"), r"invalid architecture \(dropout must be a number"),
        (lambda c: c.update(tasks=[5, "b"]), "distinct non-empty names"),
        (lambda c: c.update(tasks=["a", "a"]), "distinct non-empty names"),
        (lambda c: c.update(format_version=True), "is not 'molattr-checkpoint'"),
    ],
)
def test_malformed_config(saved: Path, change, message: str):
    _edit_config(saved, change)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(saved)


def test_truncated_weights(saved: Path):
    data = (saved / WEIGHTS).read_bytes()
    (saved / WEIGHTS).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a valid safetensors file"):
        load_checkpoint(saved)


def test_non_finite_weights_are_refused(saved: Path):
    from safetensors.torch import load_file, save_file

    state = load_file(str(saved / WEIGHTS))
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name][0] = float("nan")
    save_file(state, str(saved / WEIGHTS))
    with pytest.raises(CheckpointError, match="non-finite weights"):
        load_checkpoint(saved)


def test_json_files_hold_no_nan_or_infinity(tmp_path: Path, full_spec: FeatureSpec):
    """Undefined metrics are written as null: strict JSON readers (JavaScript, jq) can read configs."""
    import math

    from molattr import jsonio

    extra = {"metrics": {"test": {"mean_roc_auc": float("nan"), "roc_auc": {"a": 0.5, "b": float("inf")}}}}
    folder = save_checkpoint(tmp_path / "nan", make_weave(full_spec, n_tasks=2), full_spec, ["a", "b"], "classification", extra)
    text = (folder / CONFIG).read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["metrics"]["test"] == {"mean_roc_auc": None, "roc_auc": {"a": 0.5, "b": None}}
    assert jsonio.finite_or_none([1.0, (math.nan, -math.inf)]) == [1.0, [None, None]]


def test_a_checkpoint_of_another_rdkit_version_loads_with_a_warning(saved: Path):
    _edit_config(saved, lambda c: c.setdefault("training", {}).update(rdkit="2001.01.1"))
    with pytest.warns(UserWarning, match=r"trained with RDKit 2001.01.1; this is RDKit .* may give other features"):
        load_checkpoint(saved)
    _edit_config(saved, lambda c: c["training"].update(rdkit=rdkit.__version__))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_checkpoint(saved)
