"""Dead features: atoms with identical attributions although they are not symmetry-equivalent.

In a one-layer weave network (W1N2) an atom's own features reach the score only through its
own neighbourhood up to the pair distance, so atoms of the same type whose pairs look alike get
exactly the same attribution, however different the rest of the molecule around them: the
symptom Sundararajan et al. reported. Symmetry-equivalent atoms (RDKit canonical ranking
without tie-breaking, stereo ignored: the graph's symmetry) are expected to tie and are not
reported. Each tie carries the radius at which the atoms' neighbourhoods first differ: ties
whose neighbours already differ (radius 1) are what a network that sees its atoms' surroundings
should never show. Radius 0 marks atoms that differ themselves (element, charge, hydrogens,
aromaticity): a coincidence of values, or a difference the featurization does not encode (the
simple preset has no hydrogen counts), not a dead feature.
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from rdkit import Chem

from molattr.errors import AnalysisInputError
from molattr.mapping.molecule_map import MoleculeMap

Values = Literal["atom_features", "atoms"]
#: Two values tie when they differ by at most this fraction of the molecule's largest |value|.
DEFAULT_RTOL = 1e-5
#: Largest radius (bonds) at which tied atoms' environments are compared and named.
MAX_ENVIRONMENT_RADIUS = 6


@dataclass(frozen=True)
class Collision:
    """Atoms of one molecule whose values tie, from at least two symmetry classes.

    ``classes`` holds one tuple of atoms per symmetry class. ``radius`` is the smallest number
    of bonds within which two classes alike in themselves differ (1: their neighbours differ; 0:
    every two classes differ in themselves), or ``None`` when those agree up to
    :data:`MAX_ENVIRONMENT_RADIUS`;
    ``environments`` holds one SMILES per class, the atom's neighbourhood of that radius (or of
    the largest), rooted at it (at radius 0 the atom with its hydrogens).
    A network whose reach is shorter than ``radius`` cannot tell the atoms apart; a tie at a
    small radius is a dead feature.
    """

    atoms: tuple[int, ...]
    value: float
    classes: tuple[tuple[int, ...], ...]
    environments: tuple[str, ...]
    radius: int | None


def values_of(molecule_map: MoleculeMap, values: Values) -> np.ndarray:
    """``"atom_features"``: each atom's own feature attributions (default for dead features);
    ``"atoms"``: the map's atom values (atom features plus pair shares, by its atom rule)."""
    if values == "atom_features":
        return molecule_map.atom_feature_values
    if values == "atoms":
        return molecule_map.atom_values
    raise AnalysisInputError(f"values must be 'atom_features' or 'atoms' (got {values!r})")


def collisions(molecule_map: MoleculeMap, values: Values = "atom_features", rtol: float = DEFAULT_RTOL) -> list[Collision]:
    """Groups of tied atoms that span two or more symmetry classes (see the module docstring).

    Ties are runs of sorted values within ``rtol * max |value|`` of the run's first (so every
    two tied values are that close); atoms whose value is exactly zero are left out (nothing
    flows through them).
    """
    mol = molecule_map.mol
    v = values_of(molecule_map, values)
    finite = np.isfinite(v)
    scale = float(np.abs(v[finite]).max()) if finite.any() else 0.0
    if scale == 0.0:
        return []
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False, includeChirality=False))
    order = [int(k) for k in np.argsort(v, kind="stable") if finite[k] and v[k] != 0]
    out, run = [], order[:1]
    for atom in order[1:]:
        if v[atom] - v[run[0]] <= rtol * scale:
            run.append(atom)
            continue
        out += _collision(mol, v, run, ranks)
        run = [atom]
    out += _collision(mol, v, run, ranks)
    return out


def _collision(mol: Chem.Mol, v: np.ndarray, run: list[int], ranks: list[int]) -> list[Collision]:
    classes: dict[int, list[int]] = {}
    for atom in run:
        classes.setdefault(ranks[atom], []).append(atom)
    if len(classes) < 2:
        return []
    grouped = tuple(tuple(sorted(atoms)) for _, atoms in sorted(classes.items()))
    firsts = [atoms[0] for atoms in grouped]
    radius = _closest_difference([_first_difference(mol, list(pair))[0] for pair in itertools.combinations(firsts, 2)])
    environments = tuple(environment(mol, atom, MAX_ENVIRONMENT_RADIUS if radius is None else radius) for atom in firsts)
    return [Collision(tuple(sorted(run)), float(np.mean(v[run])), grouped, environments, radius)]


def _closest_difference(radii: list[int | None]) -> int | None:
    """A tie's radius from its pairs of classes': the smallest among pairs of atoms alike in
    themselves (a third atom that differs in itself does not hide them), ``None`` when such
    pairs agree up to :data:`MAX_ENVIRONMENT_RADIUS`, 0 when every pair differs in itself."""
    alike = [r for r in radii if r != 0]
    if not alike:
        return 0
    return min((r for r in alike if r is not None), default=None)


def _first_difference(mol: Chem.Mol, atoms: list[int]) -> tuple[int | None, tuple[str, ...]]:
    """The smallest radius at which the atoms' environments differ (0: the atoms themselves;
    ``None``: not up to the largest), and the environments at that radius (or at the largest)."""
    for radius in range(0, MAX_ENVIRONMENT_RADIUS + 1):
        environments = tuple(environment(mol, atom, radius) for atom in atoms)
        if len(set(environments)) > 1:
            return radius, environments
    return None, environments


def environment(mol: Chem.Mol, atom: int, radius: int = MAX_ENVIRONMENT_RADIUS) -> str:
    """SMILES of the atom's neighbourhood (bonds within ``radius``), rooted at the atom, without
    stereo marks (written from the root, @/@@ depend on the order, not on the neighbourhood); at
    radius 0 the atom alone with its hydrogens (``[CH2]``, ``[nH]``)."""
    if radius == 0:
        return Chem.MolFragmentToSmiles(mol, [atom], allHsExplicit=True, isomericSmiles=False)
    for r in range(radius, 0, -1):
        bonds = Chem.FindAtomEnvironmentOfRadiusN(mol, r, atom)
        if bonds:
            atoms = sorted({atom} | {a for b in bonds for a in (mol.GetBondWithIdx(b).GetBeginAtomIdx(),
                                                                   mol.GetBondWithIdx(b).GetEndAtomIdx())})
            return Chem.MolFragmentToSmiles(mol, atoms, bondsToUse=list(bonds), rootedAtAtom=atom, isomericSmiles=False)
    return Chem.MolFragmentToSmiles(mol, [atom], isomericSmiles=False)


def dead_feature_summary(maps: Sequence[MoleculeMap], values: Values = "atom_features",
                         rtol: float = DEFAULT_RTOL, per_molecule: Sequence[list[Collision]] | None = None) -> dict:
    """Over a set of molecules: ``molecules``, ``with_collisions`` (count and ``fraction``),
    ``collisions`` (total), ``within_radius`` (``{r: fraction of molecules with a collision of
    atoms alike in themselves whose neighbourhoods differ within r bonds}`` for r = 1 ...
    :data:`MAX_ENVIRONMENT_RADIUS`: the dead features a network of that reach should not have),
    ``environment_pairs`` (a table of colliding pairs of symmetry classes, each pair's
    environments at the radius that tells those two apart, with counts, most frequent first; a
    pair of equal strings means the atoms differ only beyond :data:`MAX_ENVIRONMENT_RADIUS`
    bonds) and ``zero_columns`` (feature columns whose attribution is zero in every molecule).
    ``per_molecule``: the :func:`collisions` of each map, when the caller already has them.

    Raises:
        AnalysisInputError: an empty set.
    """
    if not maps:
        raise AnalysisInputError("no molecules to analyse (got an empty set)")
    if per_molecule is None:
        per_molecule = [collisions(m, values, rtol) for m in maps]
    pairs: Counter = Counter()
    for m, found in zip(maps, per_molecule):
        for collision in found:
            firsts = [atoms[0] for atoms in collision.classes]
            for k, a in enumerate(firsts):  # each pair of classes at its own radius
                for b in firsts[k + 1 :]:
                    radius, envs = _first_difference(m.mol, [a, b])
                    pairs[(*sorted(envs), radius)] += 1
    table = pd.DataFrame([(a, b, r, n) for (a, b, r), n in pairs.most_common()],
                         columns=["environment_a", "environment_b", "radius", "count"]).astype({"radius": "Int64"})
    with_collisions = sum(bool(found) for found in per_molecule)
    closest = [closest_radius(found) for found in per_molecule]
    return {
        "molecules": len(maps),
        "with_collisions": with_collisions,
        "fraction": with_collisions / len(maps),
        "within_radius": {r: sum(c is not None and c <= r for c in closest) / len(maps)
                          for r in range(1, MAX_ENVIRONMENT_RADIUS + 1)},
        "collisions": sum(len(found) for found in per_molecule),
        "environment_pairs": table,
        "zero_columns": zero_columns(maps),
    }


def closest_radius(found: Sequence[Collision]) -> int | None:
    """The smallest radius among a molecule's collisions of atoms alike in themselves (``None``:
    none differ within :data:`MAX_ENVIRONMENT_RADIUS`, or no such collisions)."""
    return min((c.radius for c in found if c.radius), default=None)


def zero_columns(maps: Sequence[MoleculeMap]) -> list[str]:
    """Feature columns whose attribution is exactly zero in every molecule of ``maps``."""
    if not maps:
        return []
    first = maps[0].attribution
    atom = np.zeros(len(first.atom_columns), dtype=bool)
    pair = np.zeros(len(first.pair_columns), dtype=bool)
    for m in maps:
        atom |= (m.attribution.atom_attr != 0).any(axis=0)
        if m.attribution.pair_attr.size:
            pair |= (m.attribution.pair_attr != 0).any(axis=0)
    return [c for c, used in zip(first.atom_columns, atom) if not used] + [c for c, used in zip(first.pair_columns, pair) if not used]
