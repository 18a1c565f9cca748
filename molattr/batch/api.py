"""The script API: score and explain molecules in a few calls."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import pandas as pd
import torch
from rdkit import Chem
from tqdm.auto import tqdm

from molattr.attribution.inputs import Molecules, molecule_list
from molattr.attribution.integrated_gradients import IntegratedGradients
from molattr.batch.prepare import Preparer
from molattr.chem import smiles_of
from molattr.data.row_limits import RowLimits
from molattr.batch.run import DEFAULT_CHUNK_SIZE, chunked
from molattr.batch.scorer import AttributionOptions, Scorer
from molattr.checkpoint import Model, as_checkpoint
from molattr.data.records import Record
from molattr.errors import InputFileError
from molattr.mapping.molecule_map import AtomRule, MoleculeMap, map_attribution

def score(model: Model, molecules: Sequence[str | Chem.Mol] | pd.DataFrame, attribute: int | str | None = None,
          smiles_column: str = "smiles", id_column: str | None = None, limits: RowLimits = RowLimits(),
          workers: int = 1, chunk_size: int = DEFAULT_CHUNK_SIZE, device: str = "auto", progress: bool = False,
          **attribution_options) -> pd.DataFrame:
    """Predictions for every task of ``model`` (a shipped name, a checkpoint folder or a loaded
    checkpoint) and, with ``attribute=<task>``, integrated-gradients columns for that task.

    ``molecules``: SMILES strings or RDKit molecules (scored as their SMILES), or a DataFrame with
    ``smiles_column`` (and ``id_column``); a missing value is an ``empty`` row.
    ``attribution_options``: :class:`AttributionOptions` fields (``method``, ``n_steps``,
    ``tolerance``, ``top_k``, ``heatmap_dir``, ...). ``progress``: a progress bar on stderr.
    Returns one row per molecule, in order, with ``status`` and ``error`` (the columns and
    statuses are the ``molattr score`` output's, listed in the README).

    Example::

        table = molattr.score("w2n2-tox21", ["CCO", "c1ccccc1O"], attribute="NR-AhR")
    """
    checkpoint = as_checkpoint(model)
    records = _records(molecules, smiles_column, id_column)
    if "target" in attribution_options:  # explain's and attribute's name for the task
        if attribute is not None:
            raise InputFileError("the task is given twice: pass attribute=<task> (or its alias target=), not both")
        attribute = attribution_options.pop("target")
    known = [f.name for f in fields(AttributionOptions) if f.name != "target"]
    unknown = sorted(set(attribution_options) - set(known))
    if unknown:
        raise InputFileError(f"unknown attribution option(s) {unknown}; score takes {', '.join(known)}")
    options = AttributionOptions(target=attribute, **attribution_options) if attribute is not None else None
    if options is None and attribution_options:
        raise InputFileError(f"attribution options {sorted(attribution_options)} given without attribute=<task>")
    scorer = Scorer(checkpoint, options, device)
    frames = []
    with Preparer(checkpoint.spec, limits, workers) as preparer, \
            tqdm(total=len(records), unit="mol", desc="scoring", disable=not progress) as bar:
        for chunk, prepared in preparer.stream(chunked(records, chunk_size)):
            frames.append(scorer.score(chunk, prepared).frame)
            bar.update(len(chunk))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=scorer.columns)


def explain(model: Model, molecules: Molecules, target: int | str, atom_rule: AtomRule = "all_pairs", device: str = "auto",
            dtype: torch.dtype = torch.float32, max_atoms_per_pass: int | None = None, threads: int | None = None,
            **attribute_kwargs) -> MoleculeMap | list[MoleculeMap]:
    """Integrated gradients of ``target`` mapped onto each molecule (SMILES, RDKit ``Mol`` or a
    list): a :class:`MoleculeMap` with ``atoms()``, ``bonds()``, ``features()``, ``shares()``,
    ready for :func:`molattr.draw.draw_heatmap`. ``device``, ``dtype``, ``max_atoms_per_pass`` and
    ``threads`` are :class:`IntegratedGradients`'; ``attribute_kwargs`` go to
    :meth:`IntegratedGradients.attribute` (``method``, ``n_steps``, ``return_interior`` ...).

    Example::

        aspirin = molattr.explain("w2n2-tox21", "CC(=O)Oc1ccccc1C(=O)O", target="SR-MMP")
        aspirin.top(aspirin.atoms(), 3)
    """
    ig = IntegratedGradients(as_checkpoint(model), device=device, dtype=dtype, max_atoms_per_pass=max_atoms_per_pass,
                             threads=threads)
    result = ig.attribute(molecules, target=target, **attribute_kwargs)
    if isinstance(result, list):
        return [map_attribution(a, atom_rule) for a in result]
    return map_attribution(result, atom_rule)


def _records(molecules: Sequence[str] | pd.DataFrame, smiles_column: str, id_column: str | None) -> list[Record]:
    if isinstance(molecules, pd.DataFrame):
        for column in (smiles_column, id_column):
            if column is not None and column not in molecules.columns:
                raise InputFileError(f"no column {column!r} in the table (columns: {', '.join(map(str, molecules.columns))})")
        smiles = [str(smiles_of(s)) for s in molecules[smiles_column]]
        ids = [str(v) for v in molecules[id_column]] if id_column else [str(v) for v in molecules.index]
    else:
        smiles = [str(smiles_of(s)) for s in molecule_list(molecules)[0]]
        ids = [str(k) for k in range(len(smiles))]
    return [Record(row=k, line=k + 1, id=i, text=s) for k, (i, s) in enumerate(zip(ids, smiles))]
