"""Train/validation/test splits: seeded random, and Bemis–Murcko scaffold."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rdkit.Chem.Scaffolds import MurckoScaffold

from molattr.chem import featurized_molecule, quiet_rdkit

SplitKind = Literal["random", "scaffold"]


@dataclass(frozen=True)
class Split:
    """Row positions of each part (into the list that was split)."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}

    def repeated_in_train(self, keys: Sequence[str]) -> dict[str, int]:
        """Validation and test rows whose ``keys[row]`` (e.g. the canonical SMILES of the molecule a
        network sees) is also a training row's: a random split of rows can put one molecule, or a
        salt and its parent, on both sides, so that test metrics are not all on new molecules."""
        seen = {keys[k] for k in self.train}
        return {part: int(sum(keys[k] in seen for k in rows)) for part, rows in (("valid", self.valid), ("test", self.test))}


def _check_fractions(fractions: tuple[float, float, float]) -> None:
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1 (got {fractions})")


def random_split(n: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0) -> Split:
    """Shuffle ``range(n)`` with ``seed`` and cut it by ``fractions``."""
    _check_fractions(fractions)
    order = np.random.default_rng(seed).permutation(n)
    n_train = int(round(fractions[0] * n))
    n_valid = int(round(fractions[1] * n))
    return Split(order[:n_train], order[n_train : n_train + n_valid], order[n_train + n_valid :])


def scaffold_split(smiles: Sequence[str], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> Split:
    """Group molecules by Bemis–Murcko scaffold; the largest groups fill train, then valid, then
    test (DeepChem's deterministic rule), so test scaffolds are never seen in training. The
    scaffold is that of the molecule a network sees (a salt's largest organic fragment), so a salt
    and its parent share one; SMILES that cannot be parsed are grouped by their text."""
    _check_fractions(fractions)
    groups: dict[str, list[int]] = defaultdict(list)
    with quiet_rdkit():
        for k, text in enumerate(smiles):
            mol = featurized_molecule(text)
            scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False) if mol is not None else text
            groups[scaffold].append(k)
    ordered = sorted(groups.values(), key=lambda g: (len(g), g[0]), reverse=True)
    n = len(smiles)
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for group in ordered:
        if len(train) + len(group) <= fractions[0] * n:
            train += group
        elif len(valid) + len(group) <= fractions[1] * n:
            valid += group
        else:
            test += group
    return Split(np.array(train, dtype=np.int64), np.array(valid, dtype=np.int64), np.array(test, dtype=np.int64))


def make_split(kind: SplitKind, smiles: Sequence[str], fractions: tuple[float, float, float], seed: int) -> Split:
    """A ``random`` or ``scaffold`` split of ``smiles`` into train/validation/test by ``fractions``."""
    if kind == "random":
        return random_split(len(smiles), fractions, seed)
    if kind == "scaffold":
        return scaffold_split(smiles, fractions)
    raise ValueError(f"split must be 'random' or 'scaffold' (got {kind!r})")
