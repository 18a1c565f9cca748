"""Featurization specs: presets, named feature columns and the spec hash.

Two presets follow Kearnes et al. 2016 (DESIGN.md §2):

* ``"full"``: 27 atom / 12 pair features.
* ``"simple"``: 11 atom (type) / 11 pair (bond type + graph distance) features, as in
  "Gradients of Counterfactuals".

Graph distance is encoded as an **exact one-hot** over 1..7 (``pair:distance=k``); pairs farther
apart than 7 bonds (kept only when ``max_distance`` is ``None`` or > 7) have an all-zero distance
block. ``max_distance`` decides which pairs exist (2 = "N2", ``None`` = all pairs, "N∞").
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from molattr.integers import is_integer_at_least

Preset = Literal["full", "simple"]

#: Bumped whenever a feature's computation changes, so old checkpoints are refused.
FEATURIZER_VERSION = 1

ATOM_TYPES: tuple[str, ...] = ("H", "C", "N", "O", "F", "P", "S", "Cl", "Br", "I")
RING_SIZES: tuple[int, ...] = (3, 4, 5, 6, 7, 8)
HYBRIDIZATIONS: tuple[str, ...] = ("sp", "sp2", "sp3")
BOND_TYPES: tuple[str, ...] = ("single", "double", "triple", "aromatic")
MAX_ENCODED_DISTANCE = 7


def _atom_type_columns() -> list[str]:
    return [f"atom:type={t}" for t in ATOM_TYPES] + ["atom:type=other"]


def _pair_bond_distance_columns() -> list[str]:
    return [f"pair:bond={b}" for b in BOND_TYPES] + [
        f"pair:distance={d}" for d in range(1, MAX_ENCODED_DISTANCE + 1)
    ]


_ATOM_COLUMNS: dict[str, list[str]] = {
    "full": _atom_type_columns()
    + ["atom:chirality=R", "atom:chirality=S", "atom:formal_charge", "atom:partial_charge"]
    + [f"atom:ring_size={r}" for r in RING_SIZES]
    + [f"atom:hybridization={h}" for h in HYBRIDIZATIONS]
    + ["atom:hbond_donor", "atom:hbond_acceptor", "atom:aromatic"],
    "simple": _atom_type_columns(),
}
_PAIR_COLUMNS: dict[str, list[str]] = {
    "full": _pair_bond_distance_columns() + ["pair:same_ring"],
    "simple": _pair_bond_distance_columns(),
}


@dataclass(frozen=True)
class FeatureSpec:
    """What a molecule is turned into; hashed into every checkpoint.

    Args:
        preset: ``"full"`` (27 atom / 12 pair features) or ``"simple"`` (11 / 11).
        max_distance: keep atom pairs up to this graph distance (2 = "N2"); ``None`` keeps all
            pairs within a fragment ("N∞").
        fragments: ``"largest"`` keeps the largest organic fragment of a salt or mixture,
            ``"all"`` keeps every fragment.
    """

    preset: Preset = "full"
    max_distance: int | None = 2
    fragments: Literal["largest", "all"] = "largest"

    def __post_init__(self) -> None:
        if self.preset not in _ATOM_COLUMNS:
            raise ValueError(f"preset must be one of {sorted(_ATOM_COLUMNS)} (got {self.preset!r})")
        if self.max_distance is not None:
            if not is_integer_at_least(self.max_distance, 1):
                raise ValueError(f"max_distance must be a positive integer or None (got {self.max_distance!r})")
            # stored as an int (a NumPy integer would not go into the hash's JSON)
            object.__setattr__(self, "max_distance", int(self.max_distance))
        if self.fragments not in ("largest", "all"):
            raise ValueError(f"fragments must be 'largest' or 'all' (got {self.fragments!r})")

    @property
    def atom_columns(self) -> list[str]:
        """Names of the atom feature columns, in order (length ``F_a``)."""
        return list(_ATOM_COLUMNS[self.preset])

    @property
    def pair_columns(self) -> list[str]:
        """Names of the pair feature columns, in order (length ``F_p``)."""
        return list(_PAIR_COLUMNS[self.preset])

    @property
    def n_atom_features(self) -> int:
        """Columns of the atom features ``x [n_atoms, F_a]``."""
        return len(_ATOM_COLUMNS[self.preset])

    @property
    def n_pair_features(self) -> int:
        """Columns of the pair features ``edge_attr [n_pairs, F_p]``."""
        return len(_PAIR_COLUMNS[self.preset])

    @property
    def name(self) -> str:
        """Short label such as ``full-N2`` or ``simple-Ninf``."""
        return f"{self.preset}-N{'inf' if self.max_distance is None else self.max_distance}"

    def to_dict(self) -> dict[str, Any]:
        """Everything that defines the features, including the column names and version."""
        return {
            **asdict(self),
            "version": FEATURIZER_VERSION,
            "atom_columns": self.atom_columns,
            "pair_columns": self.pair_columns,
        }

    @property
    def hash(self) -> str:
        """SHA-256 (first 16 hex digits) of :meth:`to_dict` as canonical JSON."""
        return spec_dict_hash(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FeatureSpec":
        """Rebuild a spec and check that the stored columns and version match this molattr.

        Raises:
            ValueError: unknown keys, or a dict written by another featurizer version.
        """
        known = {"preset", "max_distance", "fragments"}
        unknown = set(data) - known - {"version", "atom_columns", "pair_columns"}
        if unknown:
            raise ValueError(f"unknown featurization keys: {', '.join(sorted(unknown))}")
        spec = cls(**{k: data[k] for k in known if k in data})
        if data.get("version", FEATURIZER_VERSION) != FEATURIZER_VERSION:
            raise ValueError(
                f"featurization version {data.get('version')!r} is not this molattr's "
                f"({FEATURIZER_VERSION})"
            )
        for key in ("atom_columns", "pair_columns"):
            if key in data and list(data[key]) != getattr(spec, key):
                raise ValueError(f"{key} differ from molattr's {spec.preset!r} preset")
        return spec


def spec_dict_hash(data: dict[str, Any]) -> str:
    """Hash of a spec dict, as stored in checkpoints."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
