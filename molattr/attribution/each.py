"""Attribute many molecules so that one molecule's failure does not cost the others."""
from __future__ import annotations

from collections.abc import Sequence

from molattr.attribution.inputs import Molecule
from molattr.attribution.integrated_gradients import IntegratedGradients
from molattr.attribution.result import Attribution
from molattr.errors import MolattrError


def attribute_each(ig: IntegratedGradients, molecules: Sequence[Molecule], target: int | str,
                   **kwargs) -> list[Attribution | MolattrError]:
    """One attribution per molecule, or the error that molecule raised.

    All molecules go through one batched call; when it fails (e.g. a non-finite score on one
    path), they are redone one by one so that only the culprits get their error.
    ``kwargs`` are :meth:`IntegratedGradients.attribute`'s.
    """
    if not molecules:
        return []
    try:
        return list(ig.attribute(list(molecules), target=target, **kwargs))
    except MolattrError as exc:
        if len(molecules) == 1:
            return [exc]
    out: list[Attribution | MolattrError] = []
    for molecule in molecules:
        try:
            out.append(ig.attribute([molecule], target=target, **kwargs)[0])
        except MolattrError as exc:
            out.append(exc)
    return out
