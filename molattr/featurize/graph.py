"""Molecule -> PyTorch Geometric graph: atoms are nodes, kept atom pairs are edges."""
from __future__ import annotations

import torch
from rdkit import Chem
from torch_geometric.data import Data

from molattr.chem import ParsedMolecule, parse_smiles, prepare_mol
from molattr.errors import InvalidMoleculeError
from molattr.featurize.atoms import atom_features
from molattr.featurize.pairs import BondArrays, kept_pairs, pair_features
from molattr.featurize.spec import FeatureSpec

MoleculeLike = str | Chem.Mol


def featurize(molecule: MoleculeLike, spec: FeatureSpec | None = None) -> Data:
    """Featurize one molecule (SMILES or RDKit ``Mol``) into a weave graph.

    Each unordered atom pair ``i < j`` within ``spec.max_distance`` is stored **once**;
    models that need directed edges (most PyG convolutions) add the reverse direction
    themselves (see :class:`molattr.nn.PyGModelWrapper`).

    Shapes:
        ``x [n_atoms, F_a]`` atom features, ``edge_index [2, n_pairs]`` pair atoms (``i < j``),
        ``edge_attr [n_pairs, F_p]`` pair features, ``pair_distance [n_pairs]`` graph distance.
        Also ``smiles`` (the parsed input), ``removed_fragments``, ``spec_hash`` and ``mol`` (the
        checked molecule, after the fragment policy): node ``i`` is atom ``i`` of ``mol``, and
        attributions of the graph map back onto it (parsing ``smiles`` again would give an RDKit
        ``Mol`` input's atoms in canonical order, and a salt under the default fragment policy).

    Raises:
        InvalidMoleculeError: unparsable or empty input, or a featurization failure.
    """
    spec = FeatureSpec() if spec is None else spec
    if not isinstance(spec, FeatureSpec):
        raise TypeError(f"spec must be a FeatureSpec, e.g. FeatureSpec(preset='full') (got {type(spec).__name__})")
    parsed = parse_molecule(molecule, spec)
    graph = featurize_parsed(parsed, spec)
    graph.mol = parsed.mol
    return graph


def featurize_parsed(parsed: ParsedMolecule, spec: FeatureSpec) -> Data:
    """Featurize a molecule that :func:`molattr.chem.parse_smiles` already checked."""
    mol = parsed.mol
    try:
        x = atom_features(mol, spec)
        bonds = BondArrays.of(mol)
        pair_index, distance = kept_pairs(mol, bonds, spec.max_distance)
        edge_attr = pair_features(mol, bonds, pair_index, distance, spec)
    except Exception as exc:  # RDKit perception errors on exotic input
        raise InvalidMoleculeError(parsed.smiles, "featurization_failed", str(exc)) from exc
    return Data(
        x=torch.from_numpy(x),
        edge_index=torch.from_numpy(pair_index),
        edge_attr=torch.from_numpy(edge_attr),
        pair_distance=torch.from_numpy(distance),
        num_nodes=mol.GetNumAtoms(),
        smiles=parsed.smiles,
        removed_fragments=parsed.removed_fragments,
        spec_hash=spec.hash,
    )


def parse_molecule(molecule: MoleculeLike, spec: FeatureSpec) -> ParsedMolecule:
    """A SMILES (:func:`molattr.chem.parse_smiles`) or an RDKit ``Mol`` (:func:`molattr.chem.prepare_mol`),
    checked, under ``spec``'s fragment policy.

    Raises:
        InvalidMoleculeError: see those functions. TypeError: anything else.
    """
    if isinstance(molecule, Chem.Mol):
        return prepare_mol(molecule, spec.fragments)
    if isinstance(molecule, str):
        return parse_smiles(molecule, spec.fragments)
    raise TypeError(f"expected a SMILES string or an RDKit Mol (got {type(molecule).__name__})")
