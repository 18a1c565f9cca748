"""Score chunks of prepared rows: predictions for every task, optionally attributions and heatmaps."""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from molattr.attribution.integrated_gradients import IntegratedGradients
from molattr.attribution.result import Attribution
from molattr.batch.prepare import PreparedRow
from molattr.checkpoint import Checkpoint
from molattr.data.records import Record
from molattr.draw.heatmap2d import ImageFormat, draw_heatmap
from molattr.errors import MolattrError
from molattr.mapping.each import map_each
from molattr.mapping.molecule_map import MoleculeMap
from molattr.predict import output_values
from molattr.scoring import raw_scores

#: Columns every output has, in order, before the task columns.
BASE_COLUMNS = ["row", "line", "id", "smiles", "canonical_smiles", "status", "error", "n_atoms"]
#: Columns added when attributing, after the task columns.
ATTRIBUTION_COLUMNS = [
    "attributed_task", "attr_prediction", "attr_baseline_prediction", "attr_total", "attr_gap", "attr_relative_gap",
    "attr_evaluations", "share_atom_features", "share_bonded_pairs", "share_non_bonded_pairs", "top_atoms",
    "top_features", "atom_attributions", "heatmap",
]


@dataclass(frozen=True)
class AttributionOptions:
    """What to attribute and how (see :meth:`molattr.IntegratedGradients.attribute`).

    ``top_k`` atoms and features go into the ``top_atoms``/``top_features`` columns
    (``index:symbol:value`` / ``feature:value``, ``;``-separated, by absolute value);
    ``atom_values`` adds every atom's value as a JSON list; ``heatmap_dir`` writes one picture per
    attributed row, ``row-<row>.<format>`` (``row`` as in the table, from 0).
    """

    target: int | str
    output: str = "logit"
    method: str = "adaptive"
    n_steps: int = 50
    tolerance: float = 0.01
    attribution_tolerance: float = 0.1
    max_steps: int = 512
    atom_rule: str = "all_pairs"
    top_k: int = 5
    atom_values: bool = True
    heatmap_dir: Path | None = None
    heatmap_format: ImageFormat = "svg"


@dataclass
class ScoredChunk:
    """One output row per input record (``frame``) and its parsed molecule (``None`` where the input
    did not parse); ``frame["status"]`` says whether it was scored."""

    frame: pd.DataFrame
    mols: list[Chem.Mol | None]


class Scorer:
    """Predicts every task of a checkpoint for prepared rows; optionally attributes one task.

    Shapes: :meth:`score` turns ``n`` records into a frame of ``n`` rows, in order, with
    :data:`BASE_COLUMNS`, one column per task (probability or value) and, when attributing,
    :data:`ATTRIBUTION_COLUMNS`.
    """

    def __init__(self, checkpoint: Checkpoint, attribution: AttributionOptions | None = None,
                 device: str = "auto", batch_size: int = 256) -> None:
        self.checkpoint = checkpoint
        self.attribution = attribution
        self.batch_size = batch_size
        self.ig = IntegratedGradients(checkpoint, device=device)
        if attribution is not None:
            self.ig.model.target(attribution.target, len(checkpoint.tasks))  # an unknown task fails here, not per row
            self.ig.model.check_output(attribution.output)
            if attribution.heatmap_dir is not None:
                Path(attribution.heatmap_dir).mkdir(parents=True, exist_ok=True)

    @property
    def columns(self) -> list[str]:
        """The output table's columns: row bookkeeping, one per task, then the attribution columns."""
        return BASE_COLUMNS + list(self.checkpoint.tasks) + (ATTRIBUTION_COLUMNS if self.attribution else [])

    def score(self, records: Sequence[Record], prepared: Sequence[PreparedRow]) -> ScoredChunk:
        """Score one chunk (``prepared[k]`` belongs to ``records[k]``)."""
        frame = pd.DataFrame({
            "row": [r.row for r in records], "line": [r.line for r in records], "id": [r.id for r in records],
            "smiles": [p.smiles if r.is_molblock else r.text for r, p in zip(records, prepared)],
            "canonical_smiles": [p.smiles for p in prepared], "status": [p.status for p in prepared],
            "error": [p.error for p in prepared],
            "n_atoms": pd.array([p.n_atoms for p in prepared], dtype="Int64"),
        })
        ok = [k for k, p in enumerate(prepared) if p.graph is not None]
        values = np.full((len(records), len(self.checkpoint.tasks)), np.nan)
        if ok:
            raw = raw_scores(self.ig.device_model, [prepared[k].graph for k in ok], self.batch_size)
            values[ok] = output_values(self.checkpoint, raw)
            finite = np.isfinite(raw).all(axis=1)
            for k in (ok[j] for j in np.flatnonzero(~finite)):
                frame.loc[k, ["status", "error"]] = ["model_failed", f"model_failed: {records[k].id!r}: non-finite model output"]
                values[k] = np.nan
        frame = pd.concat([frame, pd.DataFrame(values, columns=list(self.checkpoint.tasks))], axis=1)
        if self.attribution is not None:
            frame = self._attribute(frame, records, prepared)
        return ScoredChunk(frame[self.columns], [p.mol for p in prepared])

    def _attribute(self, frame: pd.DataFrame, records: Sequence[Record], prepared: Sequence[PreparedRow]) -> pd.DataFrame:
        options: AttributionOptions = self.attribution  # type: ignore[assignment]
        extra = pd.DataFrame(index=frame.index, columns=ATTRIBUTION_COLUMNS, dtype=object)
        ok = [k for k in range(len(records)) if prepared[k].graph is not None and frame.at[k, "status"].startswith("ok")]
        maps = map_each(self.ig, [prepared[k].graph for k in ok], options.target, options.atom_rule, output=options.output,
                        method=options.method, n_steps=options.n_steps, tolerance=options.tolerance,
                        attribution_tolerance=options.attribution_tolerance, max_steps=options.max_steps)
        for k, item in zip(ok, maps):
            if isinstance(item, MolattrError):
                frame.loc[k, ["status", "error"]] = ["attribution_failed", f"attribution_failed: {records[k].id!r}: {item}"]
                continue
            values, note = _columns_of(item, records[k], options)
            extra.loc[k] = values
            if note:
                frame.loc[k, "error"] = note
        return pd.concat([frame, extra], axis=1)

def _columns_of(m: MoleculeMap, record: Record, options: AttributionOptions) -> tuple[list, str]:
    """The attribution columns of one row, and a note when its heatmap could not be drawn."""
    a: Attribution = m.attribution
    atoms = m.top(m.atoms(), options.top_k)
    features = m.top(m.features(), options.top_k)
    shares = m.shares()
    heatmap, note = "", ""
    if options.heatmap_dir is not None:
        path = Path(options.heatmap_dir) / f"row-{record.row}.{options.heatmap_format}"
        try:
            heatmap = str(draw_heatmap(m, options.heatmap_format, name=record.id).save(path))
        except MolattrError as exc:
            note = f"heatmap not drawn: {exc}"
    return [
        a.target_name, a.prediction, a.baseline_prediction, a.total, a.gap, a.relative_gap, a.evaluations,
        shares["atom_features"], shares["bonded_pairs"], shares["non_bonded_pairs"],
        ";".join(f"{i}:{s}:{v:+.4g}" for i, s, v in zip(atoms["input_atom"], atoms["symbol"], atoms["attribution"])),
        ";".join(f"{f}:{v:+.4g}" for f, v in zip(features["feature"], features["attribution"])),
        json.dumps([round(float(v), 6) if math.isfinite(v) else None for v in m.atom_values]) if options.atom_values else "",
        heatmap,
    ], note
