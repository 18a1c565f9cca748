"""Batch scoring: stream molecule files through featurization, the model and (optionally) integrated gradients."""
from molattr.batch.api import explain, score
from molattr.data.row_limits import DEFAULT_MAX_ATOMS, NAMED_ELEMENTS, RowLimits
from molattr.batch.run import InputSpec, RunSummary, score_file
from molattr.batch.scorer import AttributionOptions, Scorer

__all__ = [
    "AttributionOptions", "DEFAULT_MAX_ATOMS", "InputSpec", "NAMED_ELEMENTS", "RowLimits", "RunSummary", "Scorer",
    "explain", "score", "score_file",
]
