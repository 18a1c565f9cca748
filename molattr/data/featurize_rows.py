"""Featurize many molecules, keeping every row: a graph or an error status per input."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from torch_geometric.data import Data
from tqdm.auto import tqdm

from molattr.chem import ParsedMolecule, parse_smiles
from molattr.data.row_limits import RowLimits, check_limits
from molattr.errors import InvalidMoleculeError
from molattr.featurize import FeatureSpec, featurize_parsed


@dataclass
class FeaturizedRows:
    """Result of :func:`featurize_rows`: ``graphs[k]`` is ``None`` exactly when ``errors[k]`` is set.

    ``status[k]`` is ``"ok"``, ``"ok_salt_stripped"`` or an error reason
    (``"empty"``, ``"unparsable"``, ``"unsupported_element"``, ``"too_large"``, ``"featurization_failed"``).
    """

    graphs: list[Data | None]
    status: list[str]
    errors: list[str | None]
    counts: Counter = field(default_factory=Counter)

    @property
    def ok_indices(self) -> list[int]:
        return [k for k, g in enumerate(self.graphs) if g is not None]


def featurize_checked(parsed: ParsedMolecule, spec: FeatureSpec, limits: RowLimits | None) -> tuple[Data, str]:
    """The graph of a parsed molecule within ``limits`` (``None``: no limits) and its status,
    ``ok`` or ``ok_salt_stripped``.

    Raises:
        InvalidMoleculeError: ``unsupported_element``, ``too_large`` or ``featurization_failed``.
    """
    if limits is not None:
        check_limits(parsed.mol, limits)
    return featurize_parsed(parsed, spec), "ok_salt_stripped" if parsed.removed_fragments else "ok"


def featurize_rows(smiles: Sequence[str], spec: FeatureSpec, progress: bool = False,
                   limits: RowLimits | None = None) -> FeaturizedRows:
    """Featurize each SMILES; failures become statuses, never exceptions. With ``limits``, molecules
    outside them get ``unsupported_element`` or ``too_large`` (see :class:`RowLimits`)."""
    graphs: list[Data | None] = []
    status: list[str] = []
    errors: list[str | None] = []
    for text in tqdm(smiles, desc="featurizing", unit="mol", disable=not progress):
        try:
            graph, ok = featurize_checked(parse_smiles(text, spec.fragments), spec, limits)
        except InvalidMoleculeError as exc:
            graphs.append(None)
            status.append(exc.reason)
            errors.append(str(exc))
            continue
        graphs.append(graph)
        status.append(ok)
        errors.append(None)
    return FeaturizedRows(graphs, status, errors, Counter(status))
