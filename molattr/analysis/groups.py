"""Chemical groups of a molecule: RDKit pharmacophore features, functional groups, ring systems, user SMARTS.

Each group is a named set of atoms; :func:`group_table` sums a molecule map's atom values over
them (atoms counted once per group name, however many matches overlap).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from rdkit import Chem, RDConfig
from rdkit.Chem import FunctionalGroups

from molattr.chem import feature_factory, quiet_rdkit
from molattr.errors import AnalysisInputError
from molattr.mapping.molecule_map import MoleculeMap

GROUP_KINDS: tuple[str, ...] = ("pharmacophore", "functional_group", "ring_system", "smarts")


@dataclass(frozen=True)
class Group:
    """One match: ``kind`` (see :data:`GROUP_KINDS`), ``name`` and the matched ``atoms``."""

    kind: str
    name: str
    atoms: tuple[int, ...]


#: ``FunctionalGroups.txt`` entries left out: its "terminal aldehyde" SMARTS ``*-C(=O)-[C;D1]`` is
#: an acetyl (a carbonyl with a methyl), which the "carbonyl methyl" entry already names.
_LEFT_OUT = frozenset({"-C(=O)H"})
#: Names for entries whose RDKit name says nothing.
_RENAMED = {"=N": "primary imines"}


@lru_cache(maxsize=1)
def _functional_groups() -> tuple[tuple[str, Chem.Mol, tuple[int, ...]], ...]:
    """(name, pattern, indices of the pattern's real atoms), larger groups first (file order among
    equals): the attachment ``*``, each pattern's first atom, is not part of the group (an atomic
    number cannot tell it: the halogens' query atom ``[#9,#17,#35,#53]`` reports 0 as ``*`` does)."""
    hierarchy = FunctionalGroups.BuildFuncGroupHierarchy(os.path.join(RDConfig.RDDataDir, "FunctionalGroups.txt"))
    out = []
    stack = list(hierarchy)
    while stack:
        node = stack.pop(0)
        stack.extend(node.children)
        if node.label in _LEFT_OUT:
            continue
        real = tuple(range(1, node.pattern.GetNumAtoms()))  # the file's first atom is the attachment
        out.append((f"{_RENAMED.get(node.label, node.name)} ({node.label})", node.pattern, real))
    return tuple(sorted(out, key=lambda entry: -len(entry[2])))


def pharmacophore_groups(mol: Chem.Mol) -> list[Group]:
    """RDKit ``BaseFeatures.fdef`` features (families Donor, Acceptor, Aromatic, Hydrophobe,
    LumpedHydrophobe, PosIonizable, NegIonizable, ZnBinder), named by family."""
    return [Group("pharmacophore", f.GetFamily(), tuple(f.GetAtomIds())) for f in feature_factory().GetFeaturesForMol(mol)]


def functional_groups(mol: Chem.Mol) -> list[Group]:
    """RDKit ``FunctionalGroups.txt`` groups (carboxylic acids, nitro, halogens, ...).

    Each atom belongs to at most one: the file's patterns overlap (a nitro group also matches
    nitroso, oxime and side-chain hydroxyl), so larger patterns claim their atoms first, as the
    file's notes intend, and a match that touches a claimed atom is not a group of its own.
    """
    groups = []
    claimed: set[int] = set()
    for name, pattern, real in _functional_groups():
        # every match, not one per set of matched atoms: for a group of one real atom bonded to
        # another of its kind (I-Cl, HO-OH) the two directions cover the same atoms, and RDKit's
        # uniquified matches kept one of them, which one depending on the atom order
        matches = mol.GetSubstructMatches(pattern, uniquify=False, maxMatches=100_000)
        for atoms in sorted({tuple(sorted(match[k] for k in real)) for match in matches}):
            if claimed.isdisjoint(atoms):
                claimed.update(atoms)
                groups.append(Group("functional_group", name, atoms))
    return groups


def ring_systems(mol: Chem.Mol) -> list[Group]:
    """Fused ring systems (rings sharing a bond merged), each named by its SMILES."""
    systems: list[set[int]] = []
    for ring in mol.GetRingInfo().BondRings():
        atoms = {a for b in ring for a in (mol.GetBondWithIdx(b).GetBeginAtomIdx(), mol.GetBondWithIdx(b).GetEndAtomIdx())}
        bonds = set(ring)
        for system in [s for s in systems if len(s & atoms) >= 2 and _share_bond(mol, s, bonds)]:
            atoms |= system
            systems.remove(system)
        systems.append(atoms)
    return [Group("ring_system", Chem.MolFragmentToSmiles(mol, sorted(s)), tuple(sorted(s))) for s in systems]


def _share_bond(mol: Chem.Mol, atoms: set[int], ring_bonds: set[int]) -> bool:
    return any(mol.GetBondWithIdx(b).GetBeginAtomIdx() in atoms and mol.GetBondWithIdx(b).GetEndAtomIdx() in atoms
               for b in ring_bonds)


def compile_smarts(smarts: Mapping[str, str]) -> dict[str, Chem.Mol]:
    """Parse named SMARTS patterns.

    Raises:
        AnalysisInputError: naming each pattern that does not parse.
    """
    compiled, bad = {}, []
    for name, text in smarts.items():
        with quiet_rdkit():  # the error below names the pattern; RDKit's own log lines would only repeat it
            pattern = Chem.MolFromSmarts(text) if isinstance(text, str) and text.strip() else None
        if pattern is None:
            bad.append(f"{name}={text!r}")
        compiled[name] = pattern
    if bad:
        raise AnalysisInputError(f"SMARTS that do not parse: {', '.join(bad)}")
    return compiled


Patterns = Mapping[str, Chem.Mol | str]


def as_patterns(patterns: Patterns | None) -> dict[str, Chem.Mol]:
    """User patterns as compiled queries: SMARTS text is parsed (:func:`compile_smarts`, which
    names the ones that do not parse), compiled queries are kept."""
    patterns = patterns or {}
    text = {name: p for name, p in patterns.items() if not isinstance(p, Chem.Mol)}
    compiled = compile_smarts(text) if text else {}
    return {name: p if isinstance(p, Chem.Mol) else compiled[name] for name, p in patterns.items()}


def smarts_groups(mol: Chem.Mol, patterns: Patterns) -> list[Group]:
    """Matches of user patterns (compiled queries or SMARTS text)."""
    return [Group("smarts", name, tuple(match)) for name, pattern in as_patterns(patterns).items()
            for match in mol.GetSubstructMatches(pattern)]


def molecule_groups(mol: Chem.Mol, patterns: Patterns | None = None) -> list[Group]:
    """Every group of every kind (user SMARTS when ``patterns`` is given)."""
    return pharmacophore_groups(mol) + functional_groups(mol) + ring_systems(mol) + smarts_groups(mol, patterns or {})


def group_table(molecule_map: MoleculeMap, groups: Sequence[Group] | None = None) -> pd.DataFrame:
    """Attribution per group name: one row per (``kind``, ``name``) with ``matches``, ``atoms``
    (sorted union of matched atoms), ``attribution`` (sum of the map's atom values over that
    union), ``share`` (÷ the size of the whole attribution, unbounded when that is small), ``norm_share``
    (÷ the sum of the molecule's |atom values|: in [-1, 1], comparable across molecules) and
    ``excess_share`` (the group's atom values minus the molecule's mean atom value, summed and
    ÷ the same sum: what the group carries beyond an even spread over its atoms; 0 for the whole
    molecule, so a group does not gain by merely being larger). Sorted by absolute attribution."""
    groups = molecule_groups(molecule_map.mol) if groups is None else groups
    union: dict[tuple[str, str], set[int]] = {}
    matches: dict[tuple[str, str], int] = {}
    for group in groups:
        union.setdefault((group.kind, group.name), set()).update(group.atoms)
        matches[(group.kind, group.name)] = matches.get((group.kind, group.name), 0) + 1
    values = molecule_map.atom_values
    magnitude = float(np.nansum(np.abs(values)))
    mean_value = float(np.nanmean(values)) if len(values) else 0.0
    rows = []
    for (kind, name), atoms in union.items():
        value = float(np.sum(values[sorted(atoms)]))
        rows.append({"kind": kind, "name": name, "matches": matches[(kind, name)], "atoms": tuple(sorted(atoms)),
                     "attribution": value, "share": molecule_map.share(value),
                     "norm_share": value / magnitude if magnitude > 0 else np.nan,
                     "excess_share": (value - len(atoms) * mean_value) / magnitude if magnitude > 0 else np.nan})
    table = pd.DataFrame(rows, columns=["kind", "name", "matches", "atoms", "attribution", "share", "norm_share", "excess_share"])
    return table.reindex(table["attribution"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)
