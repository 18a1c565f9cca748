"""Attribution results: per-atom and per-pair feature attributions with the completeness gap."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem

#: |F(input) - F(baseline)| below this is "no difference": the relative gap is undefined (NaN).
MIN_DELTA = 1e-6


@dataclass
class InteriorCurve:
    """The path seen from inside (the saturation curves of "Gradients of Counterfactuals").

    Shapes: ``alphas [S]`` sorted, ``scores [S]`` the target score at each alpha,
    ``gradient_norms [S]`` the L2 norm of the gradient over all atom and pair features.
    """

    alphas: np.ndarray
    scores: np.ndarray
    gradient_norms: np.ndarray


@dataclass
class Attribution:
    """Attributions of one molecule's target score.

    Shapes:
        ``atom_attr [n_atoms, F_a]``, ``pair_attr [n_pairs, F_p]``, ``pair_index [2, n_pairs]``,
        ``pair_distance [n_pairs]`` (graph distance of each pair, when the graph had it).

    ``mol`` is the RDKit molecule whose atom ``i`` is row ``i`` of ``atom_attr`` (set when the
    molecule was given as SMILES or ``Mol``, or as a graph carrying ``mol``); the maps and
    pictures of :mod:`molattr.mapping` and :mod:`molattr.draw` use it.

    ``prediction`` is F(input), ``baseline_prediction`` F(baseline) (the mean over baselines for
    expected gradients); ``gap = total - (prediction - baseline_prediction)``, and
    ``relative_gap = |gap| / |prediction - baseline_prediction|`` (NaN when that difference is
    below ``MIN_DELTA``: report the absolute gap then). ``evaluations`` counts gradient evaluations
    (one molecule at one alpha) spent on this molecule.
    """

    smiles: str
    atom_attr: np.ndarray
    pair_attr: np.ndarray
    pair_index: np.ndarray
    atom_columns: list[str]
    pair_columns: list[str]
    target: int
    target_name: str
    output: str
    method: str
    prediction: float
    baseline_prediction: float
    evaluations: int
    interior: InteriorCurve | None = None
    pair_distance: np.ndarray | None = None
    mol: Chem.Mol | None = None
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Sum of all attributions."""
        return float(self.atom_attr.sum(dtype=np.float64) + self.pair_attr.sum(dtype=np.float64))

    @property
    def delta(self) -> float:
        """F(input) - F(baseline)."""
        return self.prediction - self.baseline_prediction

    @property
    def gap(self) -> float:
        """Completeness gap: total attribution minus F(input) - F(baseline)."""
        return self.total - self.delta

    @property
    def relative_gap(self) -> float:
        """``|gap| / |delta|``, NaN when ``|delta| < MIN_DELTA``."""
        return abs(self.gap) / abs(self.delta) if abs(self.delta) >= MIN_DELTA else math.nan

    def summary(self) -> str:
        """One line: SMILES, target, F(input), F(baseline), the attributions' sum, the gap and the evaluations."""
        rel = "n/a" if math.isnan(self.relative_gap) else format_percent(self.relative_gap)
        return (f"{self.smiles} [{self.target_name}, {self.output}] F(input)={self.prediction:.4f} "
                f"F(baseline)={self.baseline_prediction:.4f} sum={self.total:.4f} gap={self.gap:+.2e} ({rel}), "
                f"{self.evaluations} gradient evaluations ({self.method})")


def format_percent(fraction: float) -> str:
    """A fraction as a percentage with two decimals; ``"< 0.01%"`` for a positive one that would
    round to ``"0.00%"`` (a tiny completeness gap is not no gap)."""
    if 0 < abs(fraction) < 5e-5:
        return "< 0.01%"
    return f"{100 * fraction:.2f}%"
