"""SMILES -> sanitized RDKit molecule, with clear errors and documented salt handling."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pandas as pd
from rdkit import Chem, RDConfig, RDLogger
from rdkit.Chem import ChemicalFeatures
from rdkit.Chem.MolStandardize import rdMolStandardize

from molattr.errors import InvalidMoleculeError

FragmentPolicy = Literal["largest", "all"]

_LARGEST = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)


@dataclass(frozen=True)
class ParsedMolecule:
    """A sanitized molecule and what parsing did to it.

    ``removed_fragments`` counts the fragments (counter-ions, solvents) dropped by the
    ``"largest"`` fragment policy; it is 0 for single-fragment input.
    """

    mol: Chem.Mol
    smiles: str
    removed_fragments: int


#: Longer SMILES are ``too_large`` before RDKit sees them (the longest MoleculeNet SMILES has a
#: few hundred characters; RDKit's parser crashes on tens of thousands).
MAX_SMILES_CHARS = 10_000


def smiles_of(item: object) -> object:
    """What a list of molecules holds, as SMILES for :func:`parse_smiles`: a missing value (``None``,
    NaN, ``pd.NA``) is ``""`` (status ``empty``), an RDKit molecule its SMILES (hydrogens written as atoms are
    dropped again when parsed); anything else is passed on for :func:`parse_smiles` to judge."""
    if pd.api.types.is_scalar(item) and pd.isna(item):
        return ""
    if isinstance(item, Chem.Mol):
        return Chem.MolToSmiles(item)
    return item


def parse_smiles(smiles: str, fragments: FragmentPolicy = "largest") -> ParsedMolecule:
    """Parse and sanitize a SMILES string.

    Multi-fragment input (salts, mixtures): with ``fragments="largest"`` (default) the largest
    organic fragment is kept, as RDKit's ``LargestFragmentChooser(preferOrganic=True)`` picks it,
    and the number of dropped fragments is reported; with ``"all"`` every fragment is kept (pairs
    never cross fragments, so each fragment is featurized on its own graph component).

    Raises:
        InvalidMoleculeError: reason ``"empty"`` for blank input or a molecule with no atoms,
            ``"too_large"`` for a SMILES over :data:`MAX_SMILES_CHARS` characters,
            ``"unparsable"`` for non-ASCII text (undecodable bytes), whitespace inside the SMILES,
            or when RDKit cannot parse or sanitize it (the RDKit message is the detail).
    """
    if fragments not in ("largest", "all"):
        raise ValueError(f"fragments must be 'largest' or 'all' (got {fragments!r})")
    text = smiles.strip() if isinstance(smiles, str) else smiles
    if not isinstance(text, str):
        raise InvalidMoleculeError(repr(smiles), "unparsable", f"expected a SMILES string, got {type(smiles).__name__}")
    if not text:
        raise InvalidMoleculeError(smiles, "empty", "no SMILES on this row")
    if len(text) > MAX_SMILES_CHARS:
        raise InvalidMoleculeError(text[:40] + "...", "too_large", f"{len(text)} characters, over {MAX_SMILES_CHARS} "
                                                                     "(RDKit's parser can stall or crash on such input)")
    if not text.isascii():
        raise InvalidMoleculeError(text, "unparsable", "SMILES must be ASCII (non-ASCII or undecodable bytes found)")
    if any(c.isspace() for c in text):
        raise InvalidMoleculeError(text, "unparsable", "SMILES contains whitespace (RDKit would read only the part "
                                                       "before it; a name belongs in its own column)")
    return _finish(_mol_from_smiles(text), text, fragments)


def featurized_molecule(smiles: str) -> Chem.Mol | None:
    """The molecule a network sees for ``smiles`` (a salt's largest organic fragment, as
    featurization keeps it), or ``None`` when it cannot be parsed."""
    try:
        return parse_smiles(smiles).mol
    except InvalidMoleculeError:
        return None


def to_mol(smiles: str, fragments: FragmentPolicy = "largest") -> Chem.Mol:
    """Parse and sanitize a SMILES string; see :func:`parse_smiles` for the fragment policy."""
    return parse_smiles(smiles, fragments).mol


def prepare_mol(mol: Chem.Mol, fragments: FragmentPolicy = "largest") -> ParsedMolecule:
    """Apply the same checks and fragment policy to an RDKit molecule the caller already has.

    Explicit hydrogen atoms (``Chem.AddHs``, an SDF read with ``removeHs=False``) are folded into
    their heavy atoms with ``Chem.RemoveHs``, as RDKit's SMILES parser does, so the molecule gets
    the graph and the scores of its SMILES; the hydrogens RDKit keeps there (isotopes, H2, ...)
    stay here too. Heavy-atom indices shift only past a removed hydrogen listed before them.
    """
    if mol is None:
        raise InvalidMoleculeError("<None>", "unparsable", "RDKit returned no molecule")
    mol = Chem.Mol(mol)
    _tag_input_indices(mol)
    try:
        with quiet_rdkit():
            Chem.SanitizeMol(mol)
            mol = Chem.RemoveHs(mol)
    except Exception as exc:  # RDKit raises several sanitization exception types
        raise InvalidMoleculeError(_safe_smiles(mol), "unparsable", str(exc)) from exc
    return _finish(mol, _safe_smiles(mol), fragments)


#: Atom property holding each atom's index in the molecule as given (the SMILES as RDKit parses
#: it, or the caller's Mol), kept through hydrogen removal and the fragment policy. A parsed SMILES
#: is tagged only when a fragment is dropped (otherwise every atom keeps its index: tagging every
#: parse cost about a third of parse time); a caller's Mol always is, replacing any earlier tags.
INPUT_INDEX = "molattr_input_index"


def _tag_input_indices(mol: Chem.Mol) -> None:
    for atom in mol.GetAtoms():
        atom.SetIntProp(INPUT_INDEX, atom.GetIdx())


def input_indices(mol: Chem.Mol) -> list[int]:
    """Each atom's index in the molecule as given (see :data:`INPUT_INDEX`); its own index for a
    molecule that did not come through :func:`parse_smiles` or :func:`prepare_mol`."""
    return [a.GetIntProp(INPUT_INDEX) if a.HasProp(INPUT_INDEX) else a.GetIdx() for a in mol.GetAtoms()]


def _finish(mol: Chem.Mol, text: str, fragments: FragmentPolicy) -> ParsedMolecule:
    if mol.GetNumAtoms() == 0:
        raise InvalidMoleculeError(text, "empty", "the molecule has no atoms")
    n_fragments = len(Chem.GetMolFrags(mol))
    removed = 0
    if fragments == "largest" and n_fragments > 1:
        if not mol.GetAtomWithIdx(0).HasProp(INPUT_INDEX):  # prepare_mol has tagged it already
            _tag_input_indices(mol)
        with quiet_rdkit():
            mol = _LARGEST.choose(mol)
        removed = n_fragments - 1
    return ParsedMolecule(mol=mol, smiles=text, removed_fragments=removed)


@contextmanager
def quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's logger (its messages become exception details instead)."""
    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        RDLogger.EnableLog("rdApp.*")


def _mol_from_smiles(text: str) -> Chem.Mol:
    """MolFromSmiles with RDKit's own error text captured instead of printed to stderr."""
    with quiet_rdkit():
        mol = Chem.MolFromSmiles(text)
        if mol is not None:
            return mol
        unsanitized = Chem.MolFromSmiles(text, sanitize=False)
        if unsanitized is None:
            raise InvalidMoleculeError(text, "unparsable", "RDKit could not parse the SMILES syntax")
        try:
            Chem.SanitizeMol(unsanitized)
        except Exception as exc:
            raise InvalidMoleculeError(text, "unparsable", f"RDKit sanitization failed: {exc}") from exc
    raise InvalidMoleculeError(text, "unparsable", "RDKit rejected the molecule")


def _safe_smiles(mol: Chem.Mol) -> str:
    try:
        return Chem.MolToSmiles(mol)
    except Exception:
        return "<unprintable molecule>"


@lru_cache(maxsize=1)
def feature_factory() -> ChemicalFeatures.MolChemicalFeatureFactory:
    """RDKit's pharmacophore feature factory (``BaseFeatures.fdef``: Donor, Acceptor, Aromatic, ...),
    built once."""
    return ChemicalFeatures.BuildFeatureFactory(os.path.join(RDConfig.RDDataDir, "BaseFeatures.fdef"))
