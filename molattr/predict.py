"""Predictions for tables of molecules: one output row per input row, with a status."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from rdkit import Chem
from torch_geometric.data import Data

from molattr.attribution.inputs import molecule_list
from molattr.checkpoint import Checkpoint, Model, as_checkpoint
from molattr.chem import smiles_of
from molattr.data.featurize_rows import featurize_rows
from molattr.data.row_limits import RowLimits
from molattr.errors import FeaturizationMismatchError, InputFileError
from molattr.scoring import raw_scores


def check_spec(checkpoint: Checkpoint, spec_hashes: Sequence[str]) -> None:
    """Refuse graphs featurized with another spec than the model's.

    Raises:
        FeaturizationMismatchError: naming both hashes.
    """
    wrong = {h for h in spec_hashes if h != checkpoint.spec.hash}
    if wrong:
        raise FeaturizationMismatchError(
            f"graphs featurized with spec {sorted(wrong)} but model {checkpoint.name!r} needs "
            f"{checkpoint.spec.name} ({checkpoint.spec.hash})"
        )


def output_values(checkpoint: Checkpoint, raw: np.ndarray) -> np.ndarray:
    """Probabilities (sigmoid of logits) for classification, values for regression."""
    if checkpoint.task_type == "classification":
        return torch.sigmoid(torch.from_numpy(raw)).numpy()
    return raw


def predict_graphs(checkpoint: Checkpoint, graphs: Sequence[Data], batch_size: int = 256) -> np.ndarray:
    """Probabilities or values for featurized graphs, after checking their featurization.

    Shapes: returns ``[len(graphs), n_tasks]``.
    """
    check_spec(checkpoint, [g.spec_hash for g in graphs])
    return output_values(checkpoint, raw_scores(checkpoint.model, graphs, batch_size))


def predict_table(checkpoint: Checkpoint, table: pd.DataFrame, batch_size: int = 256, progress: bool = False,
                  limits: RowLimits = RowLimits()) -> pd.DataFrame:
    """Predict every row of a table with a ``smiles`` column (``id``/``line`` kept if present).

    Returns the table's ``line``/``id``/``smiles`` columns, then ``status`` (``ok``,
    ``ok_salt_stripped`` or an error reason: ``empty``, ``unparsable``, ``unsupported_element``,
    ``too_large``, ``featurization_failed``), ``error`` (message or empty) and one column per task
    (probability or value; NaN on error rows). Row order and count equal the input's. ``limits``
    are :func:`molattr.score`'s: by default elements the featurizer does not name (metals, B, Si,
    ...) and molecules over 200 heavy atoms get an error status instead of a prediction.
    """
    rows = featurize_rows(table["smiles"].tolist(), checkpoint.spec, progress=progress, limits=limits)
    ok = rows.ok_indices
    values = np.full((len(table), len(checkpoint.tasks)), np.nan, dtype=np.float32)
    if ok:
        values[ok] = predict_graphs(checkpoint, [rows.graphs[k] for k in ok], batch_size)
    keep = [c for c in ("line", "id", "smiles") if c in table.columns]
    out = table[keep].reset_index(drop=True).copy()
    out["status"] = rows.status
    out["error"] = [e or "" for e in rows.errors]
    return pd.concat([out, pd.DataFrame(values, columns=checkpoint.tasks)], axis=1)


def predict(model: Model, smiles: str | Chem.Mol | Sequence[str | Chem.Mol], ids: Sequence[str] | None = None,
            limits: RowLimits = RowLimits()) -> pd.DataFrame:
    """Predict one SMILES or a list of them with ``model`` (a loaded checkpoint, a shipped name or a
    checkpoint folder); see :func:`predict_table` for the columns and ``limits``. RDKit molecules
    are predicted as their SMILES; ``None`` or NaN is an ``empty`` row.

    Raises:
        InputFileError: ``ids`` of another length than ``smiles``, or a DataFrame (use :func:`molattr.score`).
    """
    if isinstance(smiles, pd.DataFrame):
        raise InputFileError("predict takes SMILES or RDKit molecules; for a table use "
                             "molattr.score(model, table, smiles_column=..., id_column=...)")
    smiles = [smiles_of(s) for s in molecule_list(smiles)[0]]
    ids = [str(k) for k in range(len(smiles))] if ids is None else list(ids)
    if len(ids) != len(smiles):
        raise InputFileError(f"{len(ids)} ids for {len(smiles)} SMILES")
    table = pd.DataFrame({"id": ids, "smiles": smiles})
    return predict_table(as_checkpoint(model), table, limits=limits)
