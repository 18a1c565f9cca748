"""Baselines for the counterfactual path: zeros (the paper), a custom graph, or reference samples."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch_geometric.data import Data

from molattr.attribution.engine import PathInput
from molattr.errors import AttributionInputError
from molattr.integers import is_integer_at_least


def zero_paths(graph: Data) -> list[PathInput]:
    """The paper's baseline: every atom and pair feature zero."""
    return [PathInput(graph.x, graph.edge_attr, torch.zeros_like(graph.x), torch.zeros_like(graph.edge_attr), graph.edge_index)]


def graph_paths(graph: Data, baseline: Data) -> list[PathInput]:
    """A custom baseline graph with the same atoms and pairs as the input.

    Raises:
        AttributionInputError: the baseline's shapes or featurization differ from the input's.
    """
    if baseline.x.shape != graph.x.shape or baseline.edge_attr.shape != graph.edge_attr.shape:
        raise AttributionInputError(
            f"baseline has atom/pair features {tuple(baseline.x.shape)}/{tuple(baseline.edge_attr.shape)} but "
            f"{getattr(graph, 'smiles', 'the molecule')!r} has {tuple(graph.x.shape)}/{tuple(graph.edge_attr.shape)}"
        )
    if getattr(baseline, "spec_hash", None) not in (None, getattr(graph, "spec_hash", None)):
        raise AttributionInputError(f"baseline featurized with spec {baseline.spec_hash} but the molecule with {graph.spec_hash}")
    # row k of the baseline's pair features must describe the input's pair k
    if not torch.equal(baseline.edge_index.cpu(), graph.edge_index.cpu()):
        raise AttributionInputError(f"the baseline's atom pairs (edge_index) are not those of {getattr(graph, 'smiles', 'the molecule')!r}, "
                                    "in the same order: a baseline graph needs the input's atoms and pairs")
    mine, theirs = getattr(graph, "pair_distance", None), getattr(baseline, "pair_distance", None)
    if mine is not None and theirs is not None and not torch.equal(mine.cpu(), theirs.cpu()):
        raise AttributionInputError(f"the baseline's pair distances differ from those of {getattr(graph, 'smiles', 'the molecule')!r}")
    return [PathInput(graph.x, graph.edge_attr, baseline.x.to(graph.x), baseline.edge_attr.to(graph.edge_attr), graph.edge_index)]


def graph_generator(seed: int, graph: Data) -> torch.Generator:
    """A generator seeded by ``seed`` and the bytes of ``graph``'s features and pairs: a molecule's
    random draws are the same in every call, at any place in a list."""
    digest = hashlib.sha256(str(seed).encode())
    for tensor in (graph.x, graph.edge_index, graph.edge_attr):
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return torch.Generator().manual_seed(int.from_bytes(digest.digest()[:7], "little"))


@dataclass
class ReferenceBaselines:
    """Expected gradients: baselines drawn from a set of reference molecules.

    For each molecule, ``n_samples`` baselines keep the molecule's graph and draw every atom
    feature row from the reference molecules' atom rows, and every pair row from their pair rows
    at the same graph distance (any pair row where the reference has none at that distance),
    uniformly with replacement. The attribution is the mean of the paths' integrated gradients and
    ``baseline_prediction`` the mean of F over the baselines, so completeness still holds.

    Args:
        references: featurized reference graphs (same spec as the molecules).
        n_samples: baselines per molecule.
        seed: random seed for the draws. A molecule's draws depend on ``seed`` and its graph
            only, so it gets the same baselines in every call, at any place in a list.
    """

    references: Sequence[Data]
    n_samples: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.references:
            raise AttributionInputError("ReferenceBaselines needs at least one reference graph")
        stray = next((r for r in self.references if not isinstance(r, Data)), None)
        if stray is not None:
            raise AttributionInputError(f"references must be featurized graphs, e.g. molattr.featurize(smiles, model.spec) "
                                        f"(got {type(stray).__name__})")
        if not is_integer_at_least(self.n_samples, 1):
            raise AttributionInputError(f"n_samples must be an integer >= 1 (got {self.n_samples!r})")
        specs = {getattr(g, "spec_hash", None) for g in self.references} - {None}
        if len(specs) > 1:
            raise AttributionInputError(f"reference graphs featurized with several specs: {sorted(specs)}")
        self._spec = next(iter(specs), None)
        self._atoms = torch.cat([g.x for g in self.references])
        pairs = torch.cat([g.edge_attr for g in self.references])
        missing = next((k for k, g in enumerate(self.references) if "pair_distance" not in g), None)
        if missing is not None:
            raise AttributionInputError(f"reference graph {missing} has no pair_distance: featurize references with "
                                        "molattr.featurize(smiles, model.spec)")
        distance = torch.cat([g.pair_distance for g in self.references])
        self._pairs_by_distance = {int(d): pairs[distance == d] for d in distance.unique()}
        self._pairs = pairs


    def paths(self, graph: Data) -> list[PathInput]:
        """``n_samples`` paths to ``graph``, each from a baseline of atom rows and pair rows (of the
        same graph distance) drawn from the references.

        Raises:
            AttributionInputError: references featurized with another spec than ``graph``.
        """
        if self._spec is not None and getattr(graph, "spec_hash", self._spec) != self._spec:
            raise AttributionInputError(f"reference graphs featurized with spec {self._spec} but the molecule "
                                        f"with {graph.spec_hash}")
        if "pair_distance" not in graph:
            raise AttributionInputError(f"{getattr(graph, 'smiles', 'the molecule')!r} has no pair_distance: expected "
                                        "gradients draw pair rows by graph distance (featurize with molattr.featurize)")
        generator = graph_generator(self.seed, graph)
        out = []
        for _ in range(self.n_samples):
            atoms = self._atoms[torch.randint(len(self._atoms), (graph.x.shape[0],), generator=generator)]
            pairs = torch.zeros_like(graph.edge_attr)
            for d in graph.pair_distance.unique().tolist():
                mask = graph.pair_distance == d
                pool = self._pairs_by_distance.get(int(d), self._pairs)
                if len(pool):
                    pairs[mask] = pool[torch.randint(len(pool), (int(mask.sum()),), generator=generator)]
            out.append(PathInput(graph.x, graph.edge_attr, atoms.to(graph.x), pairs, graph.edge_index))
        return out
