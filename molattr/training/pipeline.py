"""CSV of SMILES and task columns -> trained, evaluated, saved checkpoint (``molattr train``)."""
from __future__ import annotations

import json
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import rdkit
import torch
from rdkit import Chem

from molattr import jsonio
from molattr.checkpoint import save_checkpoint
from molattr.chem import parse_smiles
from molattr.data.featurize_rows import featurize_rows
from molattr.data.splits import SplitKind, make_split
from molattr.data.tables import read_molecules
from molattr.errors import InputFileError
from molattr.featurize import FeatureSpec
from molattr.model_card import write_model_card
from molattr.nn import WeaveConfig, WeaveModel
from molattr.training.loop import TaskType, TrainConfig, train_model
from molattr.data.moleculenet import columns_sha256, sha256_of


@dataclass
class LabelledData:
    """Rows of a labelled file that can be trained on, and an account of every other row."""

    graphs: list
    labels: np.ndarray
    smiles: list[str]
    tasks: list[str]
    n_rows: int
    skipped: Counter = field(default_factory=Counter)
    skipped_examples: list[str] = field(default_factory=list)


def parse_labels(table: pd.DataFrame, tasks: list[str], task_type: TaskType, path: Path) -> np.ndarray:
    """Task columns as floats with NaN for empty cells.

    Raises:
        InputFileError: a missing task column, a non-numeric cell, or a class label other than 0/1,
            naming the file, line, column and value.
    """
    missing = [t for t in tasks if t not in table.columns]
    if missing:
        others = [c for c in table.columns if c not in ("line", "id", "smiles")]  # read_molecules' own columns
        raise InputFileError(f"{path}: no task column(s) {missing} (label columns: {', '.join(others) or 'none'})")
    labels = np.full((len(table), len(tasks)), np.nan, dtype=np.float32)
    for t, task in enumerate(tasks):
        text = table[task].astype(str).str.strip()
        values = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = values.isna() & (text != "")
        with np.errstate(over="ignore"):
            bad |= values.notna() & ~np.isfinite(values.to_numpy(dtype=np.float32, na_value=0.0))  # inf, or beyond float32
        if task_type == "classification":
            bad |= values.notna() & ~values.isin([0, 1])
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputFileError(
                f"{path}, line {table['line'].iloc[k]}: column {task!r} has {table[task].iloc[k]!r}; "
                f"expected {'0, 1' if task_type == 'classification' else 'a finite number'} or an empty cell"
                + (" (values of a regression task? pass --task-type regression)"
                   if task_type == "classification" and pd.notna(values.iloc[k]) else "")
            )
        labels[:, t] = values.to_numpy(dtype=np.float32, na_value=np.nan)
    return labels


def load_labelled(
    path: str | Path, tasks: list[str] | None, task_type: TaskType, spec: FeatureSpec,
    smiles_column: str = "smiles", progress: bool = True,
) -> LabelledData:
    """Read, featurize and label a CSV; rows that cannot be used are counted by reason."""
    path = Path(path)
    table = read_molecules(path, smiles_column=smiles_column)
    tasks = tasks or [c for c in table.columns if c not in ("line", "id", "smiles")]
    if not tasks:
        raise InputFileError(f"{path}: no task columns besides {smiles_column!r}")
    labels = parse_labels(table, tasks, task_type, path)
    rows = featurize_rows(table["smiles"].tolist(), spec, progress=progress)
    keep, skipped, examples = [], Counter(), []
    for k, status in enumerate(rows.status):
        reason = None if rows.graphs[k] is not None else status
        if reason is None and np.isnan(labels[k]).all():
            reason = "no_labels"
        if reason is None:
            keep.append(k)
            continue
        skipped[reason] += 1
        if len(examples) < 5:
            detail = rows.errors[k] or "every task label is empty"
            examples.append(f"{path}, line {table['line'].iloc[k]}: {detail}")
    return LabelledData(
        graphs=[rows.graphs[k] for k in keep], labels=labels[keep],
        smiles=[table["smiles"].iloc[k] for k in keep], tasks=tasks, n_rows=len(table),
        skipped=skipped, skipped_examples=examples,
    )


def _molecule_keys(smiles: list[str], spec: FeatureSpec) -> list[str]:
    """Canonical SMILES of the molecule a network sees for each (usable) row."""
    return [Chem.MolToSmiles(parse_smiles(text, spec.fragments).mol) for text in smiles]


def is_training_table(path: Path, config: dict, smiles_column: str = "smiles") -> bool:
    """Whether ``path`` holds the table a checkpoint (its ``config``) was trained on: the same file,
    or the same SMILES and task columns (:func:`~molattr.data.moleculenet.columns_sha256`) in another
    copy, compressed again or downloaded.

    Raises:
        InputFileError: the file cannot be read.
    """
    data = config.get("data", {})
    if sha256_of(path) == data.get("sha256"):
        return True
    if "table_sha256" not in data:
        return False
    columns = [data.get("smiles_column", smiles_column), *config["tasks"]]
    try:
        return columns_sha256(path, columns) == data["table_sha256"]
    except InputFileError:
        return False


def train_from_file(
    path: str | Path,
    out: str | Path,
    task_type: TaskType,
    tasks: list[str] | None = None,
    smiles_column: str = "smiles",
    spec: FeatureSpec | None = None,
    n_layers: int = 2,
    split: SplitKind = "random",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    train_config: TrainConfig | None = None,
    name: str | None = None,
    progress: bool = True,
    description: str = "",
) -> dict:
    """Train a W{n_layers}N{d} weave network on a labelled file and save a checkpoint to ``out``.

    Returns the checkpoint's config dict (data account, split, training, metrics).
    """
    spec = spec or FeatureSpec()
    train_config = train_config or TrainConfig()
    started = time.time()
    data = load_labelled(path, tasks, task_type, spec, smiles_column, progress)
    if len(data.graphs) < 10:
        raise InputFileError(f"{path}: only {len(data.graphs)} usable rows; need at least 10 to train")
    parts = make_split(split, data.smiles, fractions, train_config.seed)
    if not len(parts.valid):
        raise InputFileError(f"{path}: the {split} split of {len(data.graphs)} molecules leaves none for validation "
                             f"({parts.sizes()}), which early stopping needs: give more molecules"
                             + (" or use --split random" if split == "scaffold" else ""))
    torch.manual_seed(train_config.seed)  # initial weights depend on the seed too, not on earlier RNG use
    model = WeaveModel(WeaveConfig(spec.n_atom_features, spec.n_pair_features, len(data.tasks), n_layers=n_layers))
    result = train_model(model, data.graphs, data.labels, data.tasks, task_type, parts, train_config, progress)
    d = "inf" if spec.max_distance is None else spec.max_distance
    extra = {
        "name": name or Path(out).resolve().name,
        "model_family": f"W{n_layers}N{d}",
        "description": description,
        "data": {
            "file": Path(path).name, "sha256": sha256_of(Path(path)),
            "table_sha256": columns_sha256(Path(path), [smiles_column, *data.tasks]), "smiles_column": smiles_column,
            "rows": data.n_rows,
            "used": len(data.graphs), "skipped": dict(data.skipped), "skipped_examples": data.skipped_examples,
        },
        "split": {"kind": split, "fractions": list(fractions), "seed": train_config.seed, "sizes": parts.sizes(),
                  "repeated_in_train": parts.repeated_in_train(_molecule_keys(data.smiles, spec))},
        "training": {
            **train_config.to_dict(), "monitored": result.monitored, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
            "seconds": round(time.time() - started, 1), "torch": torch.__version__, "rdkit": rdkit.__version__,
            "python": platform.python_version(),
        },
        "metrics": result.metrics,
    }
    save_checkpoint(out, result.model, spec, data.tasks, task_type, extra)
    write_model_card(out)  # a folder trained again gets its card again, never a stale one
    (Path(out) / "history.json").write_text(jsonio.dumps(result.history, indent=1), encoding="utf-8")
    return json.loads((Path(out) / "config.json").read_text(encoding="utf-8"))
