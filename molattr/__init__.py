"""molattr: integrated and interior gradients for molecular graph (weave) networks.

Quick use::

    import molattr
    model = molattr.load_model("w2n2-tox21")
    table = molattr.predict(model, ["CC(=O)Oc1ccccc1C(=O)O"])
    attribution = molattr.IntegratedGradients(model).attribute("CC(=O)Oc1ccccc1C(=O)O", target="NR-AhR")
    atoms = molattr.map_attribution(attribution).atoms()      # one row per atom

Pictures: :mod:`molattr.draw` (2D heatmaps, 3D views, saturation plots); reports: :mod:`molattr.report`.
"""
from molattr.attribution import Attribution, IntegratedGradients, Method, ReferenceBaselines
from molattr.batch import explain, score
from molattr.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from molattr.chem import parse_smiles, to_mol
from molattr.errors import (
    AnalysisInputError,
    CheckpointError,
    FeaturizationMismatchError,
    InputFileError,
    AttributionInputError,
    InvalidMoleculeError,
    MolattrError,
    NonFiniteOutputError,
)
from molattr.featurize import FeatureSpec, featurize
from molattr.mapping import MoleculeMap, map_attribution
from molattr.predict import predict, predict_graphs, predict_table

__version__ = "0.1.0"

load_model = load_checkpoint

__all__ = [
    "AnalysisInputError", "Attribution", "AttributionInputError", "IntegratedGradients", "Method", "NonFiniteOutputError", "ReferenceBaselines",
    "Checkpoint", "CheckpointError", "FeatureSpec", "FeaturizationMismatchError", "InputFileError",
    "InvalidMoleculeError", "MolattrError", "MoleculeMap", "explain", "featurize", "map_attribution", "score", "load_checkpoint", "load_model", "parse_smiles",
    "predict", "predict_graphs", "predict_table", "save_checkpoint", "to_mol",
]
