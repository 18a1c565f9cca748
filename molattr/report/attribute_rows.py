"""Attribute every row of a molecule table, keeping every row: an attribution or an error status."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from molattr.attribution.integrated_gradients import IntegratedGradients
from molattr.attribution.result import Attribution
from molattr.batch.prepare import prepare_records
from molattr.data.row_limits import RowLimits
from molattr.data.records import Record
from molattr.errors import MolattrError
from molattr.mapping.each import map_each
from molattr.mapping.molecule_map import AtomRule, MoleculeMap

#: Molecules attributed per engine call (one progress-bar step).
MOLECULES_PER_CALL = 32


@dataclass
class RowOutcome:
    """One input row: where it came from, its status, and its attribution map when it has one.

    ``status`` is ``ok``/``ok_salt_stripped`` with a ``molecule_map``, or an error reason
    (``empty``, ``unparsable``, ``featurization_failed``, ``attribution_failed``) with ``error``.
    """

    row: int
    line: int | None
    id: str
    smiles: str
    status: str
    error: str
    molecule_map: MoleculeMap | None = None

    @property
    def attribution(self) -> Attribution | None:
        """The row's attribution, ``None`` for an error row."""
        return self.molecule_map.attribution if self.molecule_map is not None else None


def attribute_rows(ig: IntegratedGradients, table: pd.DataFrame, target: int | str, atom_rule: AtomRule = "all_pairs",
                   progress: bool = False, **attribute_kwargs) -> list[RowOutcome]:
    """Attribute each row of ``table`` (a ``smiles`` column; ``id`` and ``line`` kept when present).

    Molecules are attributed ``MOLECULES_PER_CALL`` at a time by :func:`molattr.mapping.each.map_each`, so
    that only a failing molecule gets the status ``attribution_failed``. Returns one outcome per
    row, in order.
    """
    smiles = [str(s) for s in table["smiles"].tolist()]
    ids = [str(v) for v in table["id"]] if "id" in table.columns else [str(k + 1) for k in range(len(table))]
    lines = [int(v) for v in table["line"]] if "line" in table.columns else [None] * len(table)
    if ig.model.spec is None:
        raise MolattrError("attributing a table needs a model with a featurization spec (a molattr checkpoint)")
    # graphs prepared here carry their RDKit molecule, so the maps need not parse the SMILES again
    rows = prepare_records([Record(k, lines[k] or k + 1, ids[k], smiles[k]) for k in range(len(table))], ig.model.spec,
                           RowLimits(max_atoms=None, elements=None))
    outcomes = [RowOutcome(k, lines[k], ids[k], smiles[k], row.status, row.error) for k, row in enumerate(rows)]
    ok = [k for k, row in enumerate(rows) if row.graph is not None]
    with tqdm(total=len(ok), desc="attributing", unit="mol", disable=not progress) as bar:
        for start in range(0, len(ok), MOLECULES_PER_CALL):
            chunk = ok[start : start + MOLECULES_PER_CALL]
            for k, item in zip(chunk, map_each(ig, [rows[k].graph for k in chunk], target, atom_rule, **attribute_kwargs)):
                if isinstance(item, MolattrError):
                    outcomes[k].status, outcomes[k].error = "attribution_failed", str(item)
                else:
                    outcomes[k].molecule_map = item
            bar.update(len(chunk))
    return outcomes


def summary_table(outcomes: Sequence[RowOutcome]) -> pd.DataFrame:
    """One row per input row: provenance, status, error, and for attributed rows the target,
    F(input), F(baseline), total attribution, completeness gap (absolute and relative),
    gradient evaluations and the shares of atom features, bonded and non-bonded pairs."""
    records = []
    for o in outcomes:
        record = {"row": o.row, "line": o.line, "id": o.id, "smiles": o.smiles, "status": o.status, "error": o.error}
        m = o.molecule_map
        if m is not None:
            a = m.attribution
            record.update(target=a.target_name, output=a.output, method=a.method, prediction=a.prediction,
                          baseline_prediction=a.baseline_prediction, total_attribution=a.total, gap=a.gap,
                          relative_gap=a.relative_gap, evaluations=a.evaluations,
                          **{f"share_{k}": v for k, v in m.shares().items()})
        records.append(record)
    provenance = ["row", "line", "id", "smiles", "status", "error"]  # the header even without any row
    return pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=provenance)


def tidy_tables(outcomes: Sequence[RowOutcome]) -> dict[str, pd.DataFrame]:
    """The per-atom, per-bond, per-pair and per-feature tables of every attributed row, stacked,
    each prefixed with the input ``row`` and ``id`` (keys ``atoms``, ``bonds``, ``pairs``, ``features``)."""
    out = {}
    for name in ("atoms", "bonds", "pairs", "features"):
        parts = []
        for o in outcomes:
            if o.molecule_map is not None:
                part = getattr(o.molecule_map, name)()
                part.insert(0, "id", o.id)
                part.insert(0, "row", o.row)
                parts.append(part)
        out[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out


def gap_statistics(outcomes: Sequence[RowOutcome]) -> dict[str, float]:
    """Median and maximum relative completeness gap over attributed rows (NaN gaps left out)."""
    gaps = np.array([o.attribution.relative_gap for o in outcomes if o.attribution is not None], dtype=float)
    gaps = gaps[np.isfinite(gaps)]
    return {"median": float(np.median(gaps)) if gaps.size else float("nan"),
            "max": float(gaps.max()) if gaps.size else float("nan")}
