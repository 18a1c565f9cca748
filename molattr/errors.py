"""Exceptions raised by molattr. Every message names the offending input."""
from __future__ import annotations


class MolattrError(Exception):
    """Base class for all molattr errors."""


class InvalidMoleculeError(MolattrError, ValueError):
    """A molecule could not be parsed, sanitized or featurized.

    Attributes:
        smiles: the input string (or a description of the input).
        reason: a short machine-friendly status (``"unparsable"``, ``"empty"``, ...).
    """

    def __init__(self, smiles: str, reason: str, detail: str = "") -> None:
        self.smiles = smiles
        self.reason = reason
        self.detail = detail
        text = f"{reason}: {smiles!r}"
        super().__init__(f"{text} ({detail})" if detail else text)


class InputFileError(MolattrError, ValueError):
    """Input data (a file, a table or lists of SMILES and ids) is missing, unreadable, lacks a
    required column or does not line up."""


class CheckpointError(MolattrError, ValueError):
    """A checkpoint folder is missing files, malformed or inconsistent."""


class FeaturizationMismatchError(MolattrError, ValueError):
    """Graphs were featurized with a spec other than the one a model was trained on."""


class AttributionInputError(MolattrError, ValueError):
    """An attribution request that cannot be honoured: a target out of range, a baseline of the
    wrong shape or featurization, a model whose output does not depend on its inputs."""


class NonFiniteOutputError(MolattrError, FloatingPointError):
    """The model returned NaN or infinite scores somewhere on the integration path."""


class AnalysisInputError(MolattrError, ValueError):
    """An analysis request that cannot be honoured: no molecules, SMARTS that do not parse, a task the model lacks."""
