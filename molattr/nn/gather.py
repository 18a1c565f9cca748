"""Molecule-level readouts: Gaussian fuzzy histogram (Kearnes et al. 2016) and plain sum."""
from __future__ import annotations

import torch
from torch import Tensor, nn

# (mean, std) of the 11 Gaussian bins of the paper, for batch-normalized atom features.
GAUSSIAN_BINS: tuple[tuple[float, float], ...] = (
    (-1.645, 0.283), (-1.080, 0.170), (-0.739, 0.134), (-0.468, 0.118), (-0.228, 0.114),
    (0.0, 0.114), (0.228, 0.114), (0.468, 0.118), (0.739, 0.134), (1.080, 0.170), (1.645, 0.283),
)  # fmt: skip


class GaussianHistogramGather(nn.Module):
    """Fuzzy histogram of each atom feature over 11 Gaussian bins, summed over a molecule's atoms.

    Each atom's membership in the bins is its Gaussian densities normalized to sum to 1 per
    feature (a softmax over ``-z²/2``; exact normalization, and values far outside the bins go to
    the outermost bin), so the gathered vector counts (fuzzily) how many atoms fall in each bin.

    Shapes: ``x [n_atoms, F]``, ``batch [n_atoms]`` -> ``[n_graphs, F * 11]``.
    """

    def __init__(self) -> None:
        super().__init__()
        means, stds = zip(*GAUSSIAN_BINS)
        self.register_buffer("means", torch.tensor(means), persistent=False)
        self.register_buffer("inv_stds", 1.0 / torch.tensor(stds), persistent=False)

    @property
    def n_bins(self) -> int:
        return len(GAUSSIAN_BINS)

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        z = (x.unsqueeze(-1) - self.means.to(x.dtype)) * self.inv_stds.to(x.dtype)
        membership = torch.softmax(-0.5 * z * z, dim=-1)
        flat = membership.reshape(x.shape[0], -1)
        return flat.new_zeros(num_graphs, flat.shape[1]).index_add(0, batch, flat)


class SumGather(nn.Module):
    """Sum of atom states per molecule. Shapes: ``[n_atoms, F]`` -> ``[n_graphs, F]``."""

    n_bins = 1

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        return x.new_zeros(num_graphs, x.shape[1]).index_add(0, batch, x)
