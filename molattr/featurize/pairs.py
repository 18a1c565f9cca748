"""Atom pairs within a graph distance and their features: from RDKit's distance matrix, or a
vectorized breadth-first search for large molecules."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from molattr.featurize.spec import BOND_TYPES, MAX_ENCODED_DISTANCE, FeatureSpec

_BOND_CODE = {
    Chem.BondType.SINGLE: 1,
    Chem.BondType.DOUBLE: 2,
    Chem.BondType.TRIPLE: 3,
    Chem.BondType.AROMATIC: 4,
}


@dataclass(frozen=True)
class BondArrays:
    """Bonds as arrays: ``begin``, ``end`` atom indices and ``code`` (1..4 single..aromatic, 0 other)."""

    n_atoms: int
    begin: np.ndarray
    end: np.ndarray
    code: np.ndarray

    @classmethod
    def of(cls, mol: Chem.Mol) -> "BondArrays":
        """The bonds of ``mol``, in RDKit's bond order."""
        bonds = list(mol.GetBonds())
        return cls(
            n_atoms=mol.GetNumAtoms(),
            begin=np.array([b.GetBeginAtomIdx() for b in bonds], dtype=np.int64),
            end=np.array([b.GetEndAtomIdx() for b in bonds], dtype=np.int64),
            code=np.array([_BOND_CODE.get(b.GetBondType(), 0) for b in bonds], dtype=np.int64),
        )

    def pair_keys(self) -> np.ndarray:
        """``min * n + max`` for each bond (the key of its unordered pair)."""
        return np.minimum(self.begin, self.end) * self.n_atoms + np.maximum(self.begin, self.end)


#: Up to this many atoms, pairs are read off RDKit's dense distance matrix (at most 2 MiB).
DENSE_MAX_ATOMS = 512


def kept_pairs(mol: Chem.Mol, bonds: BondArrays, max_distance: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Unordered atom pairs ``i < j`` at graph distance ``1..max_distance`` (all if ``None``).

    All pairs, and any pairs of molecules up to ``DENSE_MAX_ATOMS`` atoms, come from RDKit's
    distance matrix (C++, fastest); larger molecules with a finite distance use
    :func:`pairs_within`, whose memory grows with the kept pairs only, not with ``n_atoms**2``.
    Atoms in different fragments are never paired. Pairs are sorted by ``(i, j)``.

    Shapes: returns ``pair_index [2, n_pairs]`` int64 and ``distance [n_pairs]`` int64.
    """
    n = mol.GetNumAtoms()
    if max_distance is not None and n > DENSE_MAX_ATOMS:
        return pairs_within(bonds, max_distance)
    matrix = Chem.GetDistanceMatrix(mol)
    i, j = np.triu_indices(n, 1)
    d = matrix[i, j]
    keep = d < (n if max_distance is None else max_distance + 0.5)  # RDKit puts 1e8 between fragments
    return np.stack([i[keep], j[keep]]).astype(np.int64), d[keep].astype(np.int64)


def pairs_within(bonds: BondArrays, max_distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Unordered atom pairs ``i < j`` at graph distance ``1..max_distance``, sorted by ``(i, j)``.

    A frontier of (source, atom) pairs is expanded one bond at a time with NumPy; memory grows
    with the number of pairs within ``max_distance``, never with ``n_atoms**2``. Atoms in
    different fragments are never paired.

    Shapes: returns ``pair_index [2, n_pairs]`` int64 and ``distance [n_pairs]`` int64.
    """
    n = bonds.n_atoms
    source = np.concatenate([bonds.begin, bonds.end])
    target = np.concatenate([bonds.end, bonds.begin])
    neighbours = target[np.argsort(source, kind="stable")]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(source, minlength=n))])

    start = np.arange(n, dtype=np.int64)
    frontier_s, frontier_v = start, start
    reached = start * n + start
    keys_by_distance: list[np.ndarray] = []
    for _ in range(max_distance):
        degree = indptr[frontier_v + 1] - indptr[frontier_v]
        s = np.repeat(frontier_s, degree)
        offsets = np.arange(len(s)) - np.repeat(np.cumsum(degree) - degree, degree)
        t = neighbours[np.repeat(indptr[frontier_v], degree) + offsets]
        keys = np.unique(s * n + t)
        keys = keys[~np.isin(keys, reached, assume_unique=True)]
        if len(keys) == 0:
            break
        reached = np.union1d(reached, keys)
        frontier_s, frontier_v = np.divmod(keys, n)
        keys_by_distance.append(keys[frontier_s < frontier_v])
    if not keys_by_distance:
        return np.zeros((2, 0), dtype=np.int64), np.zeros(0, dtype=np.int64)
    distance = np.concatenate([np.full(len(k), d + 1, dtype=np.int64) for d, k in enumerate(keys_by_distance)])
    keys = np.concatenate(keys_by_distance)
    order = np.argsort(keys, kind="stable")
    i, j = np.divmod(keys[order], n)
    return np.stack([i, j]), distance[order]


def pair_features(
    mol: Chem.Mol, bonds: BondArrays, pair_index: np.ndarray, distance: np.ndarray, spec: FeatureSpec
) -> np.ndarray:
    """Pair feature matrix: bond type (4, zero when not bonded), exact distance one-hot 1..7 (7),
    and for the full preset same ring (1).

    Shapes: ``pair_index [2, n_pairs]``, ``distance [n_pairs]`` -> ``[n_pairs, spec.n_pair_features]``.
    """
    n_pairs = pair_index.shape[1]
    out = np.zeros((n_pairs, spec.n_pair_features), dtype=np.float32)
    rows = np.arange(n_pairs)
    i, j = pair_index

    bond_keys = bonds.pair_keys()
    order = np.argsort(bond_keys)
    pair_keys = i * bonds.n_atoms + j
    position = np.searchsorted(bond_keys[order], pair_keys)
    position = np.minimum(position, max(len(bond_keys) - 1, 0))
    if len(bond_keys):
        is_bond = bond_keys[order][position] == pair_keys
        code = bonds.code[order][position]
        typed = is_bond & (code > 0)
        out[rows[typed], code[typed] - 1] = 1.0

    encoded = distance <= MAX_ENCODED_DISTANCE
    out[rows[encoded], len(BOND_TYPES) + distance[encoded] - 1] = 1.0

    if spec.preset == "full":
        out[:, -1] = _same_ring(mol, i, j)
    return out


def _same_ring(mol: Chem.Mol, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """1 where both atoms lie in one ring of RDKit's symmetrized SSSR, else 0."""
    rings = mol.GetRingInfo().AtomRings()
    if not rings or len(i) == 0:
        return np.zeros(len(i), dtype=np.float32)
    membership = np.zeros((mol.GetNumAtoms(), len(rings)), dtype=bool)
    for r, ring in enumerate(rings):
        membership[list(ring), r] = True
    return (membership[i] & membership[j]).any(axis=1).astype(np.float32)
