"""Score attributions against planted ground truth: per-molecule AUROC and the set-level ranking."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from molattr.analysis.planted import PlantedRecipe, attribution_auroc, pattern_auroc
from molattr.analysis.ranking import rank_groups
from molattr.attribution.baselines import ReferenceBaselines
from molattr.attribution.comparators import input_gradients
from molattr.attribution.integrated_gradients import IntegratedGradients
from molattr.checkpoint import Checkpoint
from molattr.chem import featurized_molecule
from molattr.data.featurize_rows import featurize_rows
from molattr.errors import AnalysisInputError
from molattr.mapping.molecule_map import MoleculeMap, map_attribution

METHODS = ("integrated_gradients", "gradient", "gradient_x_input")
BaselineKind = Literal["zero", "expected"]


def evaluate_planted(checkpoint: Checkpoint, smiles: Sequence[str], recipe: PlantedRecipe, max_positives: int = 200,
                     method: str = "gauss_legendre", n_steps: int = 50, seed: int = 0,
                     baseline: BaselineKind = "zero", n_samples: int = 16, n_references: int = 200) -> pd.DataFrame:
    """For each rule that is a task of ``checkpoint``: attribute up to ``max_positives`` positive
    molecules of ``smiles`` (drawn at random, ``seed``) and score the maps.

    ``baseline`` of the integrated gradients: ``"zero"`` (the paper's all-zero features) or
    ``"expected"`` (expected gradients: ``n_samples`` baselines per molecule drawn from
    ``n_references`` random molecules of ``smiles``, positives and negatives alike).

    One row per rule: ``kind``, ``positives`` (attributed), ``scored`` (with planted and other
    atoms), the mean per-molecule AUROC of the planted atoms for integrated gradients
    (``auroc_integrated_gradients``), the gradient at the input (``auroc_gradient``) and gradient ×
    input (``auroc_gradient_x_input``), ``auroc_by_pattern`` (integrated gradients, each un-negated
    pattern's atoms against the atoms of no planted pattern: which part of a logic the
    attributions find), ``planted_rank`` (rank of the best planted pattern in the
    set-level ranking of the positives' IG maps, ties sharing the better rank),
    ``planted_share_rank`` (the same by ``share_score``, which does not correct for group size),
    ``top_group`` and ``score_below_top`` (how far the planted pattern's score is below the first group's).

    Raises:
        AnalysisInputError: no rule of the recipe is a task of the model.
    """
    rules = [r for r in recipe.rules if r in checkpoint.tasks]
    if not rules:
        raise AnalysisInputError(f"none of the rules {sorted(recipe.rules)} is a task of {checkpoint.name!r} "
                                 f"(tasks: {', '.join(checkpoint.tasks)})")
    parsed = [(s, featurized_molecule(s)) for s in smiles]  # labels and planted atoms on the molecule attributed
    mols = [(s, m, recipe.present(m)) for s, m in parsed if m is not None]  # pattern matches once per molecule
    ig = IntegratedGradients(checkpoint)
    rng = np.random.default_rng(seed)
    path_baseline = _baseline(baseline, [s for s, _, _ in mols], checkpoint, n_samples, n_references, seed)
    rows = []
    for rule in rules:
        positives = [(s, m) for s, m, present in mols if recipe.rules[rule].holds(present)]
        if len(positives) > max_positives:
            positives = [positives[k] for k in sorted(rng.choice(len(positives), max_positives, replace=False))]
        if not positives:
            rows.append({"rule": rule, "kind": recipe.rules[rule].kind, "positives": 0, "scored": 0})
            continue
        batch = [m for _, m in positives]
        maps = {
            "integrated_gradients": [map_attribution(a) for a in ig.attribute(batch, target=rule, method=method, n_steps=n_steps,
                                                                               baseline=path_baseline)],
            "gradient": [map_attribution(a) for a in input_gradients(ig, batch, target=rule)],
            "gradient_x_input": [map_attribution(a) for a in input_gradients(ig, batch, target=rule, times_input=True)],
        }
        by_pattern = [recipe.planted_atoms_by_pattern(m.mol, rule) for m in maps["integrated_gradients"]]
        planted = [set().union(*found.values()) for found in by_pattern]
        row = {"rule": rule, "kind": recipe.rules[rule].kind, "positives": len(positives)}
        for name in METHODS:
            scores = np.array([attribution_auroc(m.atom_values, p) for m, p in zip(maps[name], planted)])
            row[f"auroc_{name}"] = _mean(scores)
            row["scored"] = int(np.isfinite(scores).sum())
        names = recipe.rules[rule].positive_names
        row["auroc_by_pattern"] = "; ".join(
            f"{n} {_mean(_pattern_aurocs(maps['integrated_gradients'], by_pattern, n)):.3f}" for n in names)
        ranking = rank_groups(maps["integrated_gradients"], {n: recipe.patterns[n] for n in names})
        planted_rows = ranking.loc[(ranking["kind"] == "smarts") & ranking["name"].isin(names)]
        for key, column in (("planted_rank", "score"), ("planted_share_rank", "share_score")):
            row[key] = int((ranking[column] > planted_rows[column].max()).sum()) + 1 if len(planted_rows) else -1
        row["top_group"] = f"{ranking.iloc[0]['name']} [{ranking.iloc[0]['kind']}]"
        row["score_below_top"] = (float(ranking["score"].iloc[0] - planted_rows["score"].max()) if len(planted_rows)
                                  else float("nan"))
        rows.append(row)
    return pd.DataFrame(rows)


def _baseline(kind: BaselineKind, smiles: Sequence[str], checkpoint: Checkpoint, n_samples: int, n_references: int,
              seed: int) -> ReferenceBaselines | None:
    """``None`` for the zero baseline; else reference baselines from ``smiles`` (drawn with their
    own generator, so both baselines attribute the same positives)."""
    if kind == "zero":
        return None
    if kind != "expected":
        raise AnalysisInputError(f"baseline must be 'zero' or 'expected' (got {kind!r})")
    chosen = np.random.default_rng([seed, 1]).choice(len(smiles), min(n_references, len(smiles)), replace=False)
    rows = featurize_rows([smiles[k] for k in sorted(chosen)], checkpoint.spec)
    return ReferenceBaselines([rows.graphs[k] for k in rows.ok_indices], n_samples=n_samples, seed=seed)


def _pattern_aurocs(maps: Sequence[MoleculeMap], by_pattern: Sequence[dict[str, set[int]]], name: str) -> np.ndarray:
    """:func:`pattern_auroc` of pattern ``name`` in each molecule that holds it."""
    return np.array([pattern_auroc(m.atom_values, found, name) for m, found in zip(maps, by_pattern) if name in found],
                    dtype=float)


def _mean(scores: np.ndarray) -> float:
    return float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")
