"""Attributions mapped onto molecules: per atom, bond, pair and named feature; RDKit properties and SDF."""
from molattr.mapping.annotate import annotate_mol, write_sdf
from molattr.mapping.molecule_map import ATOM_RULES, AtomRule, MoleculeMap, map_attribution, molecule_of

__all__ = ["ATOM_RULES", "AtomRule", "MoleculeMap", "annotate_mol", "map_attribution", "molecule_of", "write_sdf"]
