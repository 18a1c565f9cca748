"""Disjoint-union batches of path points: (molecule, alpha) copies of graphs, built without loops."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class GraphSet:
    """Several molecules' features concatenated, with a baseline of the same shapes.

    ``gap_allowance``: each path's :attr:`PathInput.gap_allowance <molattr.attribution.engine.PathInput>`
    (``None`` entries, or no list, where a path has none).

    Shapes:
        ``x, x_base [N, F_a]``, ``edge_attr, edge_base [P, F_p]``, ``edge_index [2, P]`` (local
        atom indices, i.e. within each molecule), ``atom_ptr [M + 1]``, ``pair_ptr [M + 1]``.
    """

    x: Tensor
    x_base: Tensor
    edge_attr: Tensor
    edge_base: Tensor
    edge_index: Tensor
    atom_ptr: Tensor
    pair_ptr: Tensor
    gap_allowance: list[float | None] | None = None

    @property
    def n_molecules(self) -> int:
        """M, the number of molecules (paths)."""
        return self.atom_ptr.numel() - 1

    def n_atoms(self) -> Tensor:
        """Atoms of each molecule. Shapes: ``[M]``."""
        return self.atom_ptr[1:] - self.atom_ptr[:-1]

    def n_pairs(self) -> Tensor:
        """Pairs of each molecule. Shapes: ``[M]``."""
        return self.pair_ptr[1:] - self.pair_ptr[:-1]


@dataclass
class PathBatch:
    """Inputs for one forward pass over K path points, and where their rows came from.

    Shapes: ``x [sum atoms, F_a]``, ``edge_attr [sum pairs, F_p]`` (both leaves requiring grad),
    ``edge_index [2, sum pairs]``, ``batch [sum atoms]``, ``atom_rows``/``pair_rows`` index into
    the :class:`GraphSet` rows, ``atom_point``/``pair_point`` give each row's point.
    """

    x: Tensor
    edge_attr: Tensor
    edge_index: Tensor
    batch: Tensor
    num_graphs: int
    atom_rows: Tensor
    pair_rows: Tensor
    atom_point: Tensor
    pair_point: Tensor


def _row_layout(ptr: Tensor, molecule: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Rows of the points ``molecule[k]`` laid end to end, point k's rows copied from graph-set rows
    ``ptr[molecule[k]]`` to ``ptr[molecule[k] + 1]``: each row's point, each point's first row, each
    row's source row.

    Shapes: ``ptr [M + 1]``, ``molecule [K]`` -> ``([R], [K], [R])``, R rows in all.
    """
    first = ptr.index_select(0, molecule)
    counts = ptr.index_select(0, molecule + 1) - first
    point = torch.repeat_interleave(counts)
    start = torch.cumsum(counts, 0) - counts
    rows = (first - start).index_select(0, point)
    rows += torch.arange(rows.numel(), device=rows.device)
    return point, start, rows


def build_path_batch(graphs: GraphSet, molecule: Tensor, alpha: Tensor, requires_grad: bool = True) -> PathBatch:
    """Batch the points ``baseline + alpha * (input - baseline)`` of molecules ``molecule[k]``.

    Shapes: ``molecule [K]`` long, ``alpha [K]`` (the features' dtype) -> a batch of K graphs.
    """
    # index_select, not advanced indexing: its CPU path is the faster one for these small gathers
    atom_point, atom_start, atom_rows = _row_layout(graphs.atom_ptr, molecule)
    pair_point, _, pair_rows = _row_layout(graphs.pair_ptr, molecule)
    # lerp: one fused op, and exactly the baseline at alpha 0 and the input at alpha 1
    x = torch.lerp(graphs.x_base.index_select(0, atom_rows), graphs.x.index_select(0, atom_rows),
                   alpha.index_select(0, atom_point).unsqueeze(1))
    e = torch.lerp(graphs.edge_base.index_select(0, pair_rows), graphs.edge_attr.index_select(0, pair_rows),
                   alpha.index_select(0, pair_point).unsqueeze(1))
    edge_index = graphs.edge_index.index_select(1, pair_rows) + atom_start.index_select(0, pair_point).unsqueeze(0)
    return PathBatch(
        x=x.detach().requires_grad_(requires_grad), edge_attr=e.detach().requires_grad_(requires_grad),
        edge_index=edge_index, batch=atom_point, num_graphs=molecule.numel(),
        atom_rows=atom_rows, pair_rows=pair_rows, atom_point=atom_point, pair_point=pair_point,
    )
