"""Saturation plots (interior gradients): score vs alpha and gradient magnitude vs alpha.

As in "Gradients of Counterfactuals" (Fig. 2 and 13): the score often changes over a small range
of alpha and stays flat elsewhere, where the gradients are small: the network saturates.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from molattr.attribution.result import Attribution
from molattr.errors import AttributionInputError


def plot_saturation(attributions: Attribution | Sequence[Attribution], labels: Sequence[str] | None = None,
                    normalize: bool | None = None, figsize: tuple[float, float] = (9.0, 3.4)) -> Figure:
    """Two panels: the target score at each alpha, and the gradient magnitude at each alpha.

    With ``normalize`` (default: when there is more than one molecule) each score curve is
    rescaled to ``(F(alpha) - F(0)) / (F(1) - F(0))`` and each gradient curve to its maximum, so
    molecules of different scores share the axes (the paper's Fig. 13). Needs attributions made
    with ``return_interior=True``. Returns a matplotlib ``Figure`` (``fig.savefig(path)``).

    Raises:
        AttributionInputError: no attributions, a missing interior curve, or labels of the wrong length.
    """
    items = [attributions] if isinstance(attributions, Attribution) else list(attributions)
    if not items:
        raise AttributionInputError("no attributions to plot")
    missing = [a.smiles for a in items if a.interior is None]
    if missing:
        raise AttributionInputError(
            f"no interior curve for {missing[0]!r}: attribute with return_interior=True (one path per molecule)"
        )
    labels = list(labels) if labels is not None else [a.smiles for a in items]
    if len(labels) != len(items):
        raise AttributionInputError(f"{len(labels)} labels for {len(items)} attributions")
    normalize = len(items) > 1 if normalize is None else normalize
    figure = Figure(figsize=figsize, layout="constrained")
    score_axes, gradient_axes = figure.subplots(1, 2)
    for a, label in zip(items, labels):
        curve = a.interior
        scores, norms = curve.scores.astype(float), curve.gradient_norms.astype(float)
        if normalize:
            span = scores[-1] - scores[0]
            scores = (scores - scores[0]) / span if abs(span) > 0 else np.zeros_like(scores)
            top = norms.max() if norms.size else 0.0
            norms = norms / top if top > 0 else norms
        kwargs = {"label": label if len(items) <= 8 else None, "lw": 1.4, "alpha": 0.9 if len(items) <= 8 else 0.35}
        score_axes.plot(curve.alphas, scores, **kwargs)
        gradient_axes.plot(curve.alphas, norms, **kwargs)
    task = items[0].target_name
    score_axes.set(xlabel="alpha (atom and pair features × alpha)",
                   ylabel="normalized score" if normalize else f"{task} score ({items[0].output})",
                   title="Score")
    gradient_axes.set(xlabel="alpha", ylabel="normalized |gradient|" if normalize else "|gradient| (L2)",
                      title="Gradient magnitude")
    for axes in (score_axes, gradient_axes):
        axes.set_xlim(0, 1)
        axes.grid(alpha=0.3)
    if len(items) <= 8:
        score_axes.legend(fontsize=7, loc="best")
    return figure
