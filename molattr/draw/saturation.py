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
from molattr.mapping.molecule_map import MoleculeMap

#: Up to this many molecules each curve is labelled; beyond, the median is drawn over faint curves.
MAX_LABELLED = 8


def plot_saturation(attributions: Attribution | MoleculeMap | Sequence[Attribution | MoleculeMap],
                    labels: Sequence[str] | None = None, normalize: bool | None = None,
                    figsize: tuple[float, float] = (9.0, 3.4)) -> Figure:
    """Two panels: the target score at each alpha, and the gradient magnitude at each alpha.

    With ``normalize`` (default: when there is more than one molecule) each score curve is shifted
    to start at 0 and divided by its largest absolute value, each gradient curve by its maximum, so molecules of different scores share
    the axes (the paper's Fig. 13); beyond ``MAX_LABELLED`` molecules the curves are drawn faint
    under their median (on a common grid of alphas) and not labelled. Needs attributions made
    with ``return_interior=True``. Returns a matplotlib ``Figure`` (``fig.savefig(path)``).

    Raises:
        AttributionInputError: no attributions, a missing interior curve, or labels of the wrong length.
    """
    single = isinstance(attributions, (Attribution, MoleculeMap))
    items = [_attribution_of(a) for a in ([attributions] if single else list(attributions))]
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
    many = len(items) > MAX_LABELLED
    figure = Figure(figsize=figsize, layout="constrained")
    score_axes, gradient_axes = figure.subplots(1, 2)
    grid = np.linspace(0.0, 1.0, 101)
    resampled: list[tuple[np.ndarray, np.ndarray]] = []
    for a, label in zip(items, labels):
        curve = a.interior
        scores, norms = curve.scores.astype(float), curve.gradient_norms.astype(float)
        if normalize:
            scores = _normalized(scores)
            norms = norms / norms.max() if norms.size and norms.max() > 0 else norms
        kwargs = {"label": None if many else _plain(label), "lw": 1.0 if many else 1.4, "alpha": 0.25 if many else 0.9}
        score_axes.plot(curve.alphas, scores, **kwargs)
        gradient_axes.plot(curve.alphas, norms, **kwargs)
        resampled.append((np.interp(grid, curve.alphas, scores), np.interp(grid, curve.alphas, norms)))
    if many:
        for axes, k in ((score_axes, 0), (gradient_axes, 1)):
            axes.plot(grid, np.median([r[k] for r in resampled], axis=0), color="black", lw=2.2,
                      label=f"median of {len(items)}")
    task = items[0].target_name
    score_axes.set(xlabel="alpha (atom and pair features × alpha)",
                   ylabel="normalized score" if normalize else _plain(f"{task} score ({items[0].output})"),
                   title="Score")
    gradient_axes.set(xlabel="alpha", ylabel="normalized |gradient|" if normalize else "|gradient| (L2)",
                      title="Gradient magnitude")
    for axes in (score_axes, gradient_axes):
        axes.set_xlim(0, 1)
        axes.grid(alpha=0.3)
    score_axes.legend(fontsize=7, loc="best")
    return figure


def _plain(text: str) -> str:
    """``text`` as matplotlib shows it literally: ``$`` escaped (not mathtext), and a space before a
    leading ``_`` (a legend skips labels that start with one)."""
    text = str(text).replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def _attribution_of(value: Attribution | MoleculeMap) -> Attribution:
    if isinstance(value, MoleculeMap):
        return value.attribution
    if isinstance(value, Attribution):
        return value
    raise AttributionInputError(f"plot_saturation needs Attributions or MoleculeMaps, got {type(value).__name__}")


def _normalized(values: np.ndarray) -> np.ndarray:
    """Shifted to start at 0 and divided by the largest absolute value (zeros stay zeros)."""
    shifted = values - values[0]
    top = np.abs(shifted).max() if shifted.size else 0.0
    return shifted / top if top > 0 else shifted
