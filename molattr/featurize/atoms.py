"""Atom features (Kearnes et al. 2016), one row per heavy atom, columns as in ``FeatureSpec``."""
from __future__ import annotations

import functools

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdPartialCharges

from molattr.chem import feature_factory
from molattr.featurize.spec import ATOM_TYPES, RING_SIZES, FeatureSpec

_TYPE_INDEX = {symbol: i for i, symbol in enumerate(ATOM_TYPES)}
_OTHER = len(ATOM_TYPES)
_HYBRIDIZATION_INDEX = {
    Chem.HybridizationType.SP: 0,
    Chem.HybridizationType.SP2: 1,
    Chem.HybridizationType.SP3: 2,
}


def atom_type_onehot(mol: Chem.Mol) -> np.ndarray:
    """One-hot element type; elements outside H,C,N,O,F,P,S,Cl,Br,I go to ``other``.

    Shapes: returns ``[n_atoms, 11]``.
    """
    index = np.array([_TYPE_INDEX.get(a.GetSymbol(), _OTHER) for a in mol.GetAtoms()], dtype=np.int64)
    out = np.zeros((mol.GetNumAtoms(), _OTHER + 1), dtype=np.float32)
    out[np.arange(len(index)), index] = 1.0
    return out


def atom_features(mol: Chem.Mol, spec: FeatureSpec) -> np.ndarray:
    """Atom feature matrix for ``spec``.

    Shapes: returns ``[n_atoms, spec.n_atom_features]`` float32.
    """
    types = atom_type_onehot(mol)
    if spec.preset == "simple":
        return types
    n = mol.GetNumAtoms()
    atoms = list(mol.GetAtoms())
    return np.concatenate(
        [
            types,
            _chirality(mol, n),
            np.array([[a.GetFormalCharge()] for a in atoms], dtype=np.float32).reshape(n, 1),
            _gasteiger(mol).reshape(n, 1),
            _ring_size_counts(mol, n),
            _hybridization(atoms, n),
            _donor_acceptor(mol, n),
            np.array([a.GetIsAromatic() for a in atoms], dtype=np.float32).reshape(n, 1),
        ],
        axis=1,
    )


def _chirality(mol: Chem.Mol, n: int) -> np.ndarray:
    """CIP label of assigned stereocentres: columns R, S; unassigned centres stay zero."""
    out = np.zeros((n, 2), dtype=np.float32)
    for index, label in Chem.FindMolChiralCenters(mol, includeUnassigned=False, useLegacyImplementation=False):
        if label in ("R", "S"):
            out[index, 0 if label == "R" else 1] = 1.0
    return out


def _gasteiger(mol: Chem.Mol) -> np.ndarray:
    """Gasteiger partial charges, ``[n_atoms]``.

    RDKit has no parameters for some atoms (``*``, Se, As, Sn, hypervalent P or I, ...), and one
    such atom makes the charges of its whole fragment NaN. Those atoms get 0 and the others are
    computed with them detached (their bonds removed).
    """
    charges = _gasteiger_of(mol)
    if np.isfinite(charges).all():
        return charges.astype(np.float32)
    unparameterised = [a.GetIdx() for a in mol.GetAtoms() if not _has_gasteiger_parameters(a.GetSymbol(), a.GetHybridization())]
    detached = Chem.RWMol(mol)
    for bond in mol.GetBonds():
        if bond.GetBeginAtomIdx() in unparameterised or bond.GetEndAtomIdx() in unparameterised:
            detached.RemoveBond(bond.GetBeginAtomIdx(), bond.GetEndAtomIdx())
    charges = _gasteiger_of(detached.GetMol())
    charges[unparameterised] = 0.0
    charges[~np.isfinite(charges)] = 0.0
    return charges.astype(np.float32)


def _gasteiger_of(mol: Chem.Mol) -> np.ndarray:
    """RDKit's Gasteiger charges of a copy of ``mol`` (NaN where parameters are missing), ``[n_atoms]``."""
    work = Chem.Mol(mol)
    rdPartialCharges.ComputeGasteigerCharges(work, throwOnParamFailure=False)
    return np.array([a.GetDoubleProp("_GasteigerCharge") for a in work.GetAtoms()], dtype=np.float64)


@functools.lru_cache(maxsize=None)
def _has_gasteiger_parameters(symbol: str, hybridization: Chem.HybridizationType) -> bool:
    """Whether RDKit has Gasteiger parameters for this element in this hybridization."""
    probe = Chem.RWMol()
    atom = Chem.Atom(symbol)
    atom.SetNoImplicit(True)
    probe.AddAtom(atom)
    probe = probe.GetMol()
    probe.UpdatePropertyCache(strict=False)
    probe.GetAtomWithIdx(0).SetHybridization(hybridization)
    try:
        rdPartialCharges.ComputeGasteigerCharges(probe, throwOnParamFailure=True)
    except ValueError:  # RDKit: no parameters
        return False
    return True


def _ring_size_counts(mol: Chem.Mol, n: int) -> np.ndarray:
    """Number of rings (RDKit's symmetrized SSSR) of each size 3..8 that contain the atom."""
    out = np.zeros((n, len(RING_SIZES)), dtype=np.float32)
    for ring in mol.GetRingInfo().AtomRings():
        if 3 <= len(ring) <= 8:
            out[list(ring), len(ring) - 3] += 1.0
    return out


def _hybridization(atoms: list[Chem.Atom], n: int) -> np.ndarray:
    out = np.zeros((n, 3), dtype=np.float32)
    for i, atom in enumerate(atoms):
        column = _HYBRIDIZATION_INDEX.get(atom.GetHybridization())
        if column is not None:
            out[i, column] = 1.0
    return out


def _donor_acceptor(mol: Chem.Mol, n: int) -> np.ndarray:
    """H-bond donor / acceptor flags from RDKit's ``BaseFeatures.fdef`` families, as the paper used
    them, quirks included: a tertiary amine or N,N-dialkyl amide N is a "donor"; a carboxylate O⁻,
    a nitrile N or a furan O is not an "acceptor". Changing that would change the shipped models'
    inputs."""
    out = np.zeros((n, 2), dtype=np.float32)
    factory = feature_factory()
    for column, family in enumerate(("Donor", "Acceptor")):
        for feature in factory.GetFeaturesForMol(mol, includeOnly=family):
            out[list(feature.GetAtomIds()), column] = 1.0
    return out
