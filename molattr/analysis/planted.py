"""Planted ground truth: tasks whose label is a SMARTS rule, so the responsible atoms are known.

A recipe (``datasets/planted/rules.json``) names SMARTS patterns and rules over them: a pattern
name (``nitro``) or a logic of names with ``and``, ``or``, ``not`` and parentheses
(``carboxylic_acid and not haloarene``). A molecule is positive when its rule is true. The
**planted atoms** of a positive molecule are the atoms of every pattern that is present and
appears un-negated in the rule: for ``A or not B`` a molecule positive only through ``not B``
has none and is left out of the per-molecule scores.
"""
from __future__ import annotations

import ast
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem
from sklearn.metrics import roc_auc_score

from molattr.analysis.groups import compile_smarts
from molattr.chem import featurized_molecule
from molattr.errors import AnalysisInputError
from molattr.resources import datasets_dir


@dataclass(frozen=True)
class Rule:
    """One planted task: ``expression`` over pattern names, and the names it uses un-negated."""

    name: str
    kind: str
    expression: str
    tree: ast.Expression
    positive_names: tuple[str, ...]

    def holds(self, present: dict[str, bool]) -> bool:
        """Whether the rule is true given which patterns are present."""
        return _evaluate(self.tree.body, present)


@dataclass(frozen=True)
class PlantedRecipe:
    """Named SMARTS (text and compiled) and the rules over them."""

    smarts: dict[str, str]
    patterns: dict[str, Chem.Mol]
    rules: dict[str, Rule]

    @classmethod
    def load(cls, path: str | Path | None = None) -> "PlantedRecipe":
        """Read a recipe (default: the shipped ``datasets/planted/rules.json``).

        Raises:
            AnalysisInputError: a file that is not JSON or lacks ``patterns`` / ``rules`` (each rule
                with ``kind`` and ``expression``), SMARTS that do not parse, a rule using an unknown
                name or other syntax.
        """
        path = Path(path) if path is not None else datasets_dir() / "planted" / "rules.json"
        shape = "a recipe needs 'patterns' (an object of name: SMARTS) and 'rules' (an object of name: {'kind', 'expression'}, both text)"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            pattern_text, rule_specs = data["patterns"], data["rules"]
            kinds = {name: (spec["kind"], spec["expression"]) for name, spec in rule_specs.items()}
        except json.JSONDecodeError as error:
            raise AnalysisInputError(f"{path}: not a JSON recipe ({error})") from None
        except (KeyError, TypeError, AttributeError) as error:
            raise AnalysisInputError(f"{path}: {shape}; missing or malformed: {error}") from None
        if not isinstance(pattern_text, dict) or not all(isinstance(v, str) for v in pattern_text.values()):
            raise AnalysisInputError(f"{path}: {shape}; 'patterns' is {json.dumps(pattern_text)[:80]}")
        stray = next((name for name, (kind, expression) in kinds.items()
                      if not isinstance(kind, str) or not isinstance(expression, str)), None)
        if stray is not None:
            raise AnalysisInputError(f"{path}: {shape}; rule {stray!r} is {json.dumps(rule_specs[stray])[:80]}")
        patterns = compile_smarts(pattern_text)
        rules = {name: parse_rule(name, kind, expression, set(patterns)) for name, (kind, expression) in kinds.items()}
        return cls(pattern_text, patterns, rules)

    def present(self, mol: Chem.Mol) -> dict[str, bool]:
        """Whether ``mol`` matches each pattern, by pattern name."""
        return {name: mol.HasSubstructMatch(pattern) for name, pattern in self.patterns.items()}

    def planted_atoms(self, mol: Chem.Mol, rule: str) -> set[int]:
        """Atoms of the present, un-negated patterns of ``rule`` (empty for negatives)."""
        return set().union(*self.planted_atoms_by_pattern(mol, rule).values())

    def planted_atoms_by_pattern(self, mol: Chem.Mol, rule: str) -> dict[str, set[int]]:
        """For a positive molecule, each present un-negated pattern of ``rule`` and its atoms
        (empty for negatives)."""
        r = self.rules[rule]
        present = self.present(mol)
        if not r.holds(present):
            return {}
        return {name: {a for match in mol.GetSubstructMatches(self.patterns[name]) for a in match}
                for name in r.positive_names if present[name]}


def parse_rule(name: str, kind: str, expression: str, known: set[str]) -> Rule:
    """Parse ``expression`` (names, ``and``, ``or``, ``not``, parentheses).

    Raises:
        AnalysisInputError: other syntax or an unknown pattern name.
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise AnalysisInputError(f"rule {name!r}: cannot parse {expression!r} ({exc.msg})") from exc
    positive: list[str] = []
    _check(tree.body, known, name, expression, negated=False, positive=positive)
    return Rule(name, kind, expression, tree, tuple(dict.fromkeys(positive)))


def _check(node: ast.AST, known: set[str], name: str, expression: str, negated: bool, positive: list[str]) -> None:
    if isinstance(node, ast.Name):
        if node.id not in known:
            raise AnalysisInputError(f"rule {name!r}: unknown pattern {node.id!r} in {expression!r}")
        if not negated:
            positive.append(node.id)
    elif isinstance(node, ast.BoolOp) and isinstance(node.op, (ast.And, ast.Or)):
        for value in node.values:
            _check(value, known, name, expression, negated, positive)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, known, name, expression, not negated, positive)
    else:
        raise AnalysisInputError(f"rule {name!r}: only pattern names, and, or, not and parentheses are allowed ({expression!r})")


def _evaluate(node: ast.AST, present: dict[str, bool]) -> bool:
    if isinstance(node, ast.Name):
        return present[node.id]
    if isinstance(node, ast.UnaryOp):
        return not _evaluate(node.operand, present)
    values = (_evaluate(v, present) for v in node.values)  # type: ignore[attr-defined]
    return all(values) if isinstance(node.op, ast.And) else any(values)  # type: ignore[attr-defined]


def label_table(smiles: Sequence[str], recipe: PlantedRecipe) -> pd.DataFrame:
    """A ``smiles`` column and one 0/1 column per rule, each rule judged on the molecule a network
    sees (:func:`featurized_molecule`: a counter-ion's nitrate or oxalate labels nothing). SMILES
    that cannot be parsed are left out, and so is every molecule whose featurized structure
    (canonical SMILES) came before: a salt and its parent are one molecule."""
    rows, seen = [], set()
    for text in smiles:
        mol = featurized_molecule(text)
        if mol is None:
            continue
        canonical = Chem.MolToSmiles(mol)
        if canonical in seen:
            continue
        seen.add(canonical)
        present = recipe.present(mol)
        rows.append({"smiles": text, **{name: int(rule.holds(present)) for name, rule in recipe.rules.items()}})
    return pd.DataFrame(rows, columns=["smiles", *recipe.rules])


def attribution_auroc(values: np.ndarray, planted: set[int]) -> float:
    """ROC AUC of atom values ranking the planted atoms above the others (NaN when all or none are planted)."""
    labels = np.zeros(len(values), dtype=int)
    labels[sorted(planted)] = 1
    if labels.min() == labels.max():
        return float("nan")
    return float(roc_auc_score(labels, values))


def pattern_auroc(values: np.ndarray, by_pattern: dict[str, set[int]], name: str) -> float:
    """ROC AUC of pattern ``name``'s atoms against the atoms of no planted pattern (the other
    patterns' atoms are left out): which part of a logic the attributions find.

    Shapes: ``values [n_atoms]``; ``by_pattern`` as :meth:`PlantedRecipe.planted_atoms_by_pattern`.
    """
    others = set(range(len(values))) - set().union(*by_pattern.values())
    keep = sorted(by_pattern[name] | others)
    return attribution_auroc(values[keep], {keep.index(a) for a in by_pattern[name]})
