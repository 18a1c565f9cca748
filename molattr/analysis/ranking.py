"""Across a set of molecules: which groups carry the score (the paper's "next step")."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from molattr.analysis.groups import Patterns, as_patterns, group_table, molecule_groups
from molattr.errors import AnalysisInputError
from molattr.mapping.molecule_map import MoleculeMap


def set_group_tables(maps: Sequence[MoleculeMap], patterns: Patterns | None = None) -> pd.DataFrame:
    """Every molecule's :func:`group_table`, stacked, with a ``molecule`` column (its index in ``maps``).
    ``patterns``: named user SMARTS (text or compiled).

    Raises:
        AnalysisInputError: an empty set.
    """
    if not maps:
        raise AnalysisInputError("no molecules to tabulate groups of (got an empty set)")
    patterns = as_patterns(patterns)  # parsed once, not per molecule
    tables = []
    for k, m in enumerate(maps):
        table = group_table(m, molecule_groups(m.mol, patterns))
        table.insert(0, "molecule", k)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


#: Columns of :func:`rank_groups`' table.
RANKING_COLUMNS = ["kind", "name", "molecules", "prevalence", "mean_share", "std_share", "max_share", "share_score",
                   "score", "mean_attribution", "example"]


def rank_groups(maps: Sequence[MoleculeMap], patterns: Patterns | None = None,
                tables: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank every group (pharmacophore family, functional group, ring system, user SMARTS) over
    a set of molecules, e.g. the actives of a task. ``tables``: :func:`set_group_tables` of
    ``maps`` when the caller already has them.

    Shares are ``norm_share`` (a group's attribution ÷ the sum of its molecule's |atom values|,
    in [-1, 1], so molecules whose attributions nearly cancel do not dominate). One row per
    (``kind``, ``name``): ``molecules`` having it, ``prevalence`` (their fraction),
    ``mean_share`` and ``std_share`` over the molecules having it, ``share_score`` = the mean
    share over **all** molecules (absent counts as 0: a common denominator of the set ranks
    first, a rare group with a large share does not), ``score`` = the same mean of
    ``excess_share`` (the share beyond an even spread over the group's atoms, see
    :func:`group_table`), ``mean_attribution``, ``max_share`` and ``example`` (the index of the
    molecule where its share is largest). Sorted by ``score``: a family that holds the
    responsible atoms plus others (an RDKit Acceptor or LumpedHydrophobe around a nitro group)
    carries at least their share, but not more than their excess, so the specific group comes first.

    Raises:
        AnalysisInputError: an empty set.
    """
    if not maps:
        raise AnalysisInputError("no molecules to rank groups over (got an empty set)")
    every = set_group_tables(maps, patterns) if tables is None else tables
    n = len(maps)
    rows = []
    for (kind, name), part in every.groupby(["kind", "name"], sort=False):
        shares = part["norm_share"].to_numpy(dtype=float)
        excess = part["excess_share"].to_numpy(dtype=float)
        finite = np.isfinite(shares)
        rows.append({
            "kind": kind, "name": name, "molecules": len(part), "prevalence": len(part) / n,
            "mean_share": float(shares[finite].mean()) if finite.any() else np.nan,
            "std_share": float(shares[finite].std()) if finite.any() else np.nan,
            "max_share": float(shares[finite].max()) if finite.any() else np.nan,
            "share_score": float(shares[finite].sum()) / n,
            "score": float(excess[finite].sum()) / n,
            "mean_attribution": float(part["attribution"].mean()),
            "example": int(part["molecule"].to_numpy()[np.nanargmax(np.where(finite, shares, -np.inf))]) if finite.any() else -1,
        })
    ranking = pd.DataFrame(rows, columns=RANKING_COLUMNS)  # no rows when no molecule has any group
    return ranking.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
