"""What a parsed molecule must satisfy to be scored: elements the featurizer names, a size limit."""
from __future__ import annotations

from dataclasses import dataclass

from rdkit import Chem

from molattr.errors import InvalidMoleculeError
from molattr.featurize.spec import ATOM_TYPES

#: Elements the featurizer names (anything else is featurized as ``atom:type=other``).
NAMED_ELEMENTS: frozenset[str] = frozenset(ATOM_TYPES)
#: Heavy atoms above which a molecule is ``too_large`` by default (Tox21's largest has 132).
DEFAULT_MAX_ATOMS = 200


@dataclass(frozen=True)
class RowLimits:
    """What a row must satisfy to be scored.

    ``max_atoms``: heavy atoms of the kept fragment (``None``: no limit). ``elements``: allowed
    element symbols (``None``: any element; default: those the featurizer names, so metals, B,
    Si, Se ... give ``unsupported_element`` instead of a score from the catch-all ``other`` column).
    """

    max_atoms: int | None = DEFAULT_MAX_ATOMS
    elements: frozenset[str] | None = NAMED_ELEMENTS


def check_limits(mol: Chem.Mol, limits: RowLimits) -> None:
    """Refuse a molecule outside ``limits``.

    Raises:
        InvalidMoleculeError: reason ``unsupported_element`` or ``too_large``, naming the molecule's SMILES.
    """
    if limits.elements is not None:
        unknown = sorted({a.GetSymbol() for a in mol.GetAtoms()} - limits.elements)
        if unknown:
            raise InvalidMoleculeError(Chem.MolToSmiles(mol), "unsupported_element",
                                       f"contains {', '.join(unknown)}; the model's atom types: {', '.join(ATOM_TYPES)}")
    if limits.max_atoms is not None and mol.GetNumAtoms() > limits.max_atoms:
        raise InvalidMoleculeError(Chem.MolToSmiles(mol), "too_large",
                                   f"{mol.GetNumAtoms()} heavy atoms, limit {limits.max_atoms}")
