"""Attributions written onto RDKit molecules (atom, bond and molecule properties) and to SDF."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from rdkit import Chem

from molattr.errors import AttributionInputError
from molattr.mapping.molecule_map import MoleculeMap

#: Property names on atoms and bonds (double) and the molecule.
ATOM_PROPERTY = "molattr_attribution"
BOND_PROPERTY = "molattr_attribution"
BOND_LIST_PROPERTY = "molattr_bond_attributions"


def annotate_mol(molecule_map: MoleculeMap) -> Chem.Mol:
    """A copy of the molecule with the attributions as properties.

    Atoms and bonds get the double property ``molattr_attribution``; the molecule gets the
    target, output, prediction, baseline prediction, completeness gap, method, evaluations and atom
    rule as ``molattr_*`` properties, plus the per-atom values as an RDKit atom property list
    (so SDF keeps them: ``atom.dprop.molattr_attribution``) and the per-bond values, in bond
    order, as ``molattr_bond_attributions`` (space-separated, SDF has no bond property block).
    The title (``_Name``) is the molecule's own, or the attributed SMILES where it has none.
    """
    mol = Chem.Mol(molecule_map.mol)
    a = molecule_map.attribution
    for atom, value in zip(mol.GetAtoms(), molecule_map.atom_values):
        atom.SetDoubleProp(ATOM_PROPERTY, float(value))
    for bond, value in zip(mol.GetBonds(), molecule_map.bond_values):
        bond.SetDoubleProp(BOND_PROPERTY, float(value))
    Chem.CreateAtomDoublePropertyList(mol, ATOM_PROPERTY)
    mol.SetProp(BOND_LIST_PROPERTY, " ".join(repr(float(v)) for v in molecule_map.bond_values))
    mol.SetProp("molattr_target", a.target_name)
    mol.SetProp("molattr_output", a.output)
    mol.SetProp("molattr_method", a.method)
    mol.SetProp("molattr_atom_rule", molecule_map.atom_rule)
    mol.SetIntProp("molattr_evaluations", int(a.evaluations))
    for name, value in (("prediction", a.prediction), ("baseline_prediction", a.baseline_prediction),
                        ("gap", a.gap), ("relative_gap", a.relative_gap), ("non_bonded_remainder", molecule_map.non_bonded_remainder)):
        mol.SetDoubleProp(f"molattr_{name}", float(value))
    if a.smiles and not (mol.HasProp("_Name") and mol.GetProp("_Name").strip()):  # a named molecule keeps its name
        mol.SetProp("_Name", a.smiles)
    return mol


def write_sdf(maps: Iterable[MoleculeMap], path: str | Path,
              properties: Iterable[Mapping[str, str | int | None]] | None = None) -> Path:
    """Write annotated molecules (see :func:`annotate_mol`) to an SDF file; returns its path.

    ``properties``, one mapping per molecule, adds record properties (e.g. ``id``, ``row``,
    ``line``, ``status``, to find each record's input row; ``None`` values are left out); an ``id``
    is also the record's title.

    Raises:
        AttributionInputError: ``properties`` not one mapping per molecule (nothing is written).
    """
    maps = list(maps)
    extras = [{}] * len(maps) if properties is None else list(properties)
    if len(extras) != len(maps):
        raise AttributionInputError(f"write_sdf: {len(extras)} property mappings for {len(maps)} molecules (one each)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Chem.SDWriter(str(path)) as writer:
        for molecule_map, extra in zip(maps, extras):
            mol = annotate_mol(molecule_map)
            for name, value in extra.items():
                if value is None:
                    continue
                if isinstance(value, int):
                    mol.SetIntProp(name, value)
                else:
                    mol.SetProp(name, str(value))
            if extra.get("id") is not None:  # the given id, not a data field the molecule brought along
                mol.SetProp("_Name", str(extra["id"]))
            writer.write(mol)
    return path
