"""Disjoint-union batches of path points: (molecule, alpha) copies of graphs, built without loops."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class GraphSet:
    """Several molecules' features concatenated, with a baseline of the same shapes.

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

    @property
    def n_molecules(self) -> int:
        return self.atom_ptr.numel() - 1

    def n_atoms(self) -> Tensor:
        return self.atom_ptr[1:] - self.atom_ptr[:-1]

    def n_pairs(self) -> Tensor:
        return self.pair_ptr[1:] - self.pair_ptr[:-1]


def ranges(starts: Tensor, counts: Tensor) -> Tensor:
    """Concatenation of ``range(s, s + c)`` for each start/count pair. Shapes: ``[K] -> [sum(counts)]``."""
    total = int(counts.sum())
    if total == 0:
        return starts.new_zeros(0)
    offsets = torch.arange(total, device=starts.device) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    return torch.repeat_interleave(starts, counts) + offsets


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


def build_path_batch(graphs: GraphSet, molecule: Tensor, alpha: Tensor, requires_grad: bool = True) -> PathBatch:
    """Batch the points ``baseline + alpha * (input - baseline)`` of molecules ``molecule[k]``.

    Shapes: ``molecule [K]`` long, ``alpha [K]`` (the features' dtype) -> a batch of K graphs.
    """
    n_atoms, n_pairs = graphs.n_atoms()[molecule], graphs.n_pairs()[molecule]
    points = torch.arange(molecule.numel(), device=molecule.device)
    atom_rows = ranges(graphs.atom_ptr[molecule], n_atoms)
    pair_rows = ranges(graphs.pair_ptr[molecule], n_pairs)
    atom_point = torch.repeat_interleave(points, n_atoms)
    pair_point = torch.repeat_interleave(points, n_pairs)
    # lerp: one fused op, and exactly the baseline at alpha 0 and the input at alpha 1
    x = torch.lerp(graphs.x_base[atom_rows], graphs.x[atom_rows], alpha[atom_point].unsqueeze(1))
    e = torch.lerp(graphs.edge_base[pair_rows], graphs.edge_attr[pair_rows], alpha[pair_point].unsqueeze(1))
    new_start = torch.cumsum(n_atoms, 0) - n_atoms
    edge_index = graphs.edge_index[:, pair_rows] + new_start[pair_point].unsqueeze(0)
    return PathBatch(
        x=x.detach().requires_grad_(requires_grad), edge_attr=e.detach().requires_grad_(requires_grad),
        edge_index=edge_index, batch=atom_point, num_graphs=molecule.numel(),
        atom_rows=atom_rows, pair_rows=pair_rows, atom_point=atom_point, pair_point=pair_point,
    )
