"""Integrated and interior gradients for molecular graph networks, batched over molecules and alphas."""
from molattr.attribution.baselines import ReferenceBaselines
from molattr.attribution.comparators import input_gradients, smoothgrad_integrated_gradients
from molattr.attribution.each import attribute_each
from molattr.attribution.integrated_gradients import IntegratedGradients
from molattr.attribution.quadrature import Method, nodes_and_weights
from molattr.attribution.result import Attribution, InteriorCurve

__all__ = [
    "Attribution", "IntegratedGradients", "InteriorCurve", "attribute_each", "Method", "ReferenceBaselines", "input_gradients",
    "nodes_and_weights", "smoothgrad_integrated_gradients",
]
