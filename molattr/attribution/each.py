"""Attribute many molecules so that one molecule's failure does not cost the others."""
from __future__ import annotations

from molattr.attribution.inputs import Molecules, molecule_list
from molattr.attribution.integrated_gradients import IntegratedGradients, is_baseline_list
from molattr.attribution.result import Attribution
from molattr.errors import MolattrError


def attribute_each(ig: IntegratedGradients, molecules: Molecules, target: int | str,
                   **kwargs) -> list[Attribution | MolattrError]:
    """One attribution per molecule, or the error that molecule raised.

    All molecules go through one batched call; when it fails (e.g. a non-finite score on one
    path), they are redone one by one so that only the culprits get their error (a list of
    baseline graphs is split with them). ``kwargs`` are :meth:`IntegratedGradients.attribute`'s.

    Raises:
        AttributionInputError: arguments wrong for every molecule (an unknown target, method or
            step count), once, before any molecule is attributed.
    """
    request = {k: kwargs[k] for k in ("output", "method", "n_steps", "tolerance", "attribution_tolerance", "max_steps")
               if k in kwargs}
    ig.check_request(target, **request)
    molecules, _ = molecule_list(molecules)  # one SMILES is one molecule, not its characters
    if not molecules:
        return []
    try:
        return list(ig.attribute(molecules, target=target, **kwargs))
    except MolattrError as exc:
        if len(molecules) == 1:
            return [exc]
    baseline = kwargs.get("baseline")
    per_molecule = is_baseline_list(baseline)
    out: list[Attribution | MolattrError] = []
    for k, molecule in enumerate(molecules):
        try:
            own = {**kwargs, "baseline": [baseline[k]]} if per_molecule else kwargs
            out.append(ig.attribute([molecule], target=target, **own)[0])
        except MolattrError as exc:
            out.append(exc)
    return out
