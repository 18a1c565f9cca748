"""An attribution mapped onto its molecule: per atom, per bond, per non-bonded pair, per named feature.

The rule for atoms (``atom_rule``):

* ``"all_pairs"`` (default): an atom gets the sum of its own atom features plus **half** of the
  attribution of every pair it belongs to, bonded or not. The atoms then add up to the whole
  attribution (the completeness sum), so an atom heatmap shows everything the score came from.
* ``"bonded_pairs"``: half of its bonded pairs only; the non-bonded pairs stay apart as the
  ``non_bonded_remainder``, and atoms + remainder add up to the whole attribution.
* ``"atoms_only"``: its atom features only; every pair is in the remainder.

A bond's attribution is the attribution of its bonded pair (all its pair features). Shares are
fractions of the whole attribution (which equals F(input) - F(baseline) up to the completeness gap).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from rdkit import Chem

from molattr.attribution.result import Attribution
from molattr.chem import input_indices, to_mol
from molattr.errors import AttributionInputError

#: Which pair attributions an atom's value includes (half of each): every pair it is in, its bonded
#: pairs only, or none (its own atom features only).
AtomRule = Literal["all_pairs", "bonded_pairs", "atoms_only"]
ATOM_RULES: tuple[str, ...] = ("all_pairs", "bonded_pairs", "atoms_only")


@dataclass
class MoleculeMap:
    """Attributions of one molecule in chemical terms.

    Shapes: ``atom_values [n_atoms]``, ``bond_values [n_bonds]`` (RDKit bond order),
    ``pair_values [n_pairs]`` (``attribution.pair_index`` order), ``pair_bonded [n_pairs]`` (bool).
    """

    attribution: Attribution
    mol: Chem.Mol
    atom_rule: AtomRule
    atom_values: np.ndarray
    bond_values: np.ndarray
    pair_values: np.ndarray
    pair_bonded: np.ndarray
    atom_feature_values: np.ndarray
    non_bonded_remainder: float

    @property
    def total(self) -> float:
        """The whole attribution (sum over every atom and pair feature)."""
        return self.attribution.total

    def share(self, value: float) -> float:
        """``value / |total|``, NaN when the total is zero: the value's size against the whole
        attribution's, signed as the value (positive raises the score, also where the total is
        negative); shares of parts that add up to the total add up to +1, or -1 for a negative total."""
        return value / abs(self.total) if self.total != 0 else math.nan

    def parts(self) -> dict[str, float]:
        """Attribution carried by atom features, bonded pairs and non-bonded pairs (adds up to ``total``)."""
        return {
            "atom_features": float(self.atom_feature_values.sum(dtype=np.float64)),
            "bonded_pairs": float(self.pair_values[self.pair_bonded].sum(dtype=np.float64)),
            "non_bonded_pairs": float(self.pair_values[~self.pair_bonded].sum(dtype=np.float64)),
        }

    def shares(self) -> dict[str, float]:
        """:meth:`parts` as :meth:`share` s of the total (the paper's 46% bonded vs -3% non-bonded)."""
        return {name: self.share(value) for name, value in self.parts().items()}

    def atoms(self) -> pd.DataFrame:
        """One row per atom: ``atom`` index, ``input_atom`` (its index in the molecule as given:
        the SMILES as RDKit parses it, or the caller's Mol; it differs from ``atom`` where a salt's
        other fragments or explicit hydrogens before it were dropped), ``symbol``,
        ``atom_features``, ``bonded_pairs`` and ``non_bonded_pairs`` (its halves),
        ``attribution`` (by ``atom_rule``), ``share``."""
        n = self.mol.GetNumAtoms()
        i, j = self.attribution.pair_index
        halves = {name: pair_halves(n, i, j, self.pair_values, mask)
                  for name, mask in (("bonded_pairs", self.pair_bonded), ("non_bonded_pairs", ~self.pair_bonded))}
        return pd.DataFrame({
            "atom": np.arange(n),
            "input_atom": input_indices(self.mol),
            "symbol": [a.GetSymbol() for a in self.mol.GetAtoms()],
            "atom_features": self.atom_feature_values,
            **halves,
            "attribution": self.atom_values,
            "share": [self.share(v) for v in self.atom_values],
        })

    def bonds(self) -> pd.DataFrame:
        """One row per RDKit bond: ``bond`` index, ``begin``, ``end``, ``input_begin``, ``input_end``
        (the atoms' indices in the molecule as given, as ``atoms``' ``input_atom``), ``bond_type``,
        ``attribution``, ``share``."""
        bonds = list(self.mol.GetBonds())
        begin = [b.GetBeginAtomIdx() for b in bonds]
        end = [b.GetEndAtomIdx() for b in bonds]
        given = input_indices(self.mol)
        return pd.DataFrame({
            "bond": [b.GetIdx() for b in bonds],
            "begin": begin,
            "end": end,
            "input_begin": [given[k] for k in begin],
            "input_end": [given[k] for k in end],
            "bond_type": [str(b.GetBondType()).lower() for b in bonds],
            "attribution": self.bond_values,
            "share": [self.share(v) for v in self.bond_values],
        })

    def pairs(self) -> pd.DataFrame:
        """One row per kept atom pair: ``i``, ``j``, ``input_i``, ``input_j`` (indices in the molecule
        as given, as ``atoms``' ``input_atom``), ``distance`` (graph), ``bonded``, ``attribution``, ``share``."""
        i, j = self.attribution.pair_index
        distance = self.attribution.pair_distance
        if distance is None:
            distance = Chem.GetDistanceMatrix(self.mol)[i, j] if len(i) else np.zeros(0)
        given = np.asarray(input_indices(self.mol), dtype=np.int64)
        return pd.DataFrame({
            "i": i, "j": j, "input_i": given[np.asarray(i, dtype=np.int64)], "input_j": given[np.asarray(j, dtype=np.int64)],
            "distance": np.asarray(distance, dtype=int), "bonded": self.pair_bonded,
            "attribution": self.pair_values, "share": [self.share(v) for v in self.pair_values],
        })

    def features(self) -> pd.DataFrame:
        """One row per named feature column (``atom:aromatic``, ``pair:distance=2``, ...):
        ``feature``, ``kind`` (atom/pair), ``attribution`` summed over atoms or pairs, ``share``."""
        a = self.attribution
        atom = a.atom_attr.sum(axis=0, dtype=np.float64)
        pair = a.pair_attr.sum(axis=0, dtype=np.float64)
        return pd.DataFrame({
            "feature": list(a.atom_columns) + list(a.pair_columns),
            "kind": ["atom"] * len(atom) + ["pair"] * len(pair),
            "attribution": np.concatenate([atom, pair]),
            "share": [self.share(v) for v in np.concatenate([atom, pair])],
        })

    def top(self, table: pd.DataFrame, n: int = 5) -> pd.DataFrame:
        """The ``n`` rows of ``table`` with the largest absolute attribution."""
        order = table["attribution"].abs().sort_values(ascending=False, kind="stable").index[:n]
        return table.loc[order]


def molecule_of(attribution: Attribution) -> Chem.Mol:
    """The RDKit molecule whose atom ``i`` is row ``i`` of ``attribution.atom_attr``.

    Uses ``attribution.mol`` when set (graphs from :func:`molattr.featurize` carry their molecule);
    otherwise parses ``attribution.smiles`` again, keeping its largest fragment.

    Raises:
        AttributionInputError: no molecule and a SMILES that does not give the same number of atoms.
    """
    if attribution.mol is not None:
        return attribution.mol
    n_atoms = attribution.atom_attr.shape[0]
    try:
        mol = to_mol(attribution.smiles)
    except Exception as exc:
        raise AttributionInputError(f"cannot rebuild the molecule of an attribution from {attribution.smiles!r}: {exc}") from exc
    if mol.GetNumAtoms() != n_atoms:
        raise AttributionInputError(
            f"{attribution.smiles!r} parses to {mol.GetNumAtoms()} atoms but the attribution has {n_atoms}; "
            "attribute from the SMILES or RDKit molecule (not a bare graph) so that it carries its molecule"
        )
    return mol


def map_attribution(attribution: Attribution, atom_rule: AtomRule = "all_pairs") -> MoleculeMap:
    """Map an :class:`Attribution` onto its molecule (see the module docstring for the atom rule).

    NaN attributions stay NaN in every value they enter (an atom with a NaN feature has a NaN
    value); the drawings colour such atoms grey.

    Raises:
        AttributionInputError: an unknown ``atom_rule`` or an attribution without a usable molecule.
    """
    if not isinstance(attribution, Attribution):
        raise AttributionInputError(f"map_attribution needs an Attribution (from IntegratedGradients.attribute), "
                                    f"got {type(attribution).__name__}")
    if atom_rule not in ATOM_RULES:
        raise AttributionInputError(f"atom_rule must be one of {', '.join(ATOM_RULES)} (got {atom_rule!r})")
    mol = molecule_of(attribution)
    n = mol.GetNumAtoms()
    i, j = attribution.pair_index
    if attribution.atom_attr.shape[0] != n or (i.size and max(i.max(), j.max()) >= n):
        raise AttributionInputError(f"the attribution of {attribution.smiles!r} has {attribution.atom_attr.shape[0]} atoms "
                                    f"(pairs up to atom {max(i.max(), j.max()) if i.size else '-'}) but its molecule "
                                    f"{Chem.MolToSmiles(mol)!r} has {n}")
    pair_values = attribution.pair_attr.sum(axis=1, dtype=np.float64)
    bond_of_pair = np.array([_bond_index(mol, a, b) for a, b in zip(i.tolist(), j.tolist())], dtype=int)
    bonded = bond_of_pair >= 0
    bond_values = np.zeros(mol.GetNumBonds())
    bond_values[bond_of_pair[bonded]] = pair_values[bonded]
    atom_feature_values = attribution.atom_attr.sum(axis=1, dtype=np.float64)
    shared = {"all_pairs": np.ones_like(bonded), "bonded_pairs": bonded, "atoms_only": np.zeros_like(bonded)}[atom_rule]
    atom_values = atom_feature_values + pair_halves(n, i, j, pair_values, shared)
    remainder = float(pair_values[~shared].sum(dtype=np.float64))
    return MoleculeMap(attribution, mol, atom_rule, atom_values, bond_values, pair_values, bonded,
                       atom_feature_values, remainder)


def as_map(value: MoleculeMap | Attribution, what: str) -> MoleculeMap:
    """``value`` as a :class:`MoleculeMap`: an :class:`Attribution` is mapped with the default
    atom rule, so pictures take either.

    Raises:
        AttributionInputError: anything else, naming ``what`` needed it.
    """
    if isinstance(value, MoleculeMap):
        return value
    if isinstance(value, Attribution):
        return map_attribution(value)
    raise AttributionInputError(f"{what} needs a MoleculeMap (molattr.map_attribution) or an Attribution, "
                                f"got {type(value).__name__}")


def pair_halves(n_atoms: int, i: np.ndarray, j: np.ndarray, pair_values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each atom's sum of half the value of every pair in ``mask`` it is in.

    Shapes: ``i, j, pair_values, mask [n_pairs]`` -> ``[n_atoms]``.
    """
    halves = np.zeros(n_atoms)
    np.add.at(halves, i[mask], pair_values[mask] / 2)
    np.add.at(halves, j[mask], pair_values[mask] / 2)
    return halves


def _bond_index(mol: Chem.Mol, a: int, b: int) -> int:
    bond = mol.GetBondBetweenAtoms(a, b)
    return -1 if bond is None else bond.GetIdx()
