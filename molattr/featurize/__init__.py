"""Weave featurization (Kearnes et al. 2016): atom features, atom-pair features, named columns."""
from molattr.featurize.graph import featurize, featurize_parsed, parse_molecule
from molattr.featurize.spec import FeatureSpec

__all__ = ["FeatureSpec", "featurize", "featurize_parsed", "parse_molecule"]
