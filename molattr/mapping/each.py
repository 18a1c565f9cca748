"""Attribute and map many molecules, one molecule's failure costing only that molecule."""
from __future__ import annotations

from collections.abc import Sequence

from molattr.attribution.each import attribute_each
from molattr.attribution.inputs import Molecule
from molattr.attribution.integrated_gradients import IntegratedGradients
from molattr.errors import MolattrError
from molattr.mapping.molecule_map import AtomRule, MoleculeMap, map_attribution


def map_each(ig: IntegratedGradients, molecules: Sequence[Molecule], target: int | str, atom_rule: AtomRule = "all_pairs",
             **kwargs) -> list[MoleculeMap | MolattrError]:
    """:func:`molattr.attribution.attribute_each`, then :func:`map_attribution` on each result:
    one map per molecule, or the error its attribution or mapping raised."""
    out: list[MoleculeMap | MolattrError] = []
    for result in attribute_each(ig, molecules, target, **kwargs):
        if isinstance(result, MolattrError):
            out.append(result)
            continue
        try:
            out.append(map_attribution(result, atom_rule))
        except MolattrError as exc:
            out.append(exc)
    return out
