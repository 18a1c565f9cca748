"""Molecule-level readouts: Gaussian fuzzy histogram (Kearnes et al. 2016) and plain sum."""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx, once_differentiable

# (mean, std) of the 11 Gaussian bins of the paper, for batch-normalized atom features.
GAUSSIAN_BINS: tuple[tuple[float, float], ...] = (
    (-1.645, 0.283), (-1.080, 0.170), (-0.739, 0.134), (-0.468, 0.118), (-0.228, 0.114),
    (0.0, 0.114), (0.228, 0.114), (0.468, 0.118), (0.739, 0.134), (1.080, 0.170), (1.645, 0.283),
)  # fmt: skip

#: Log-memberships more than 60 below a feature's largest are raised to that, i.e. memberships
#: under e^-60 ≈ 9e-27 of the largest bin's become 9e-27 of it: far below float64 resolution, and
#: CPUs take a slow path for exponentials that underflow float32 (below e^-87), which made the
#: plain softmax the slowest step of a weave network's forward and backward passes.
LOG_MEMBERSHIP_FLOOR = -60.0

#: Inputs are clamped to ±8 before their squares are taken. Beyond ±3.5 every bin but the outermost
#: is already at the floor above, so the memberships do not change; without the clamp float32 ``x²``
#: rounds the bins away from about 1e8 and overflows to NaN beyond about 1e19.
INPUT_CLAMP = 8.0

#: Memberships are computed as ``2^(log2(e) · log-membership)``: exp2 is about 1.6x faster than exp on CPUs.
_LOG2_E = math.log2(math.e)


class _GaussianHistogram(torch.autograd.Function):
    """Per-molecule sums of each atom feature's softmax over bins of ``a_k·x² + b_k·x + c_k``.

    One autograd node for memberships and their sum per molecule, with a hand-written backward
    that works in place on the one ``[bins, n_atoms, F]`` buffer it gathers the gradient into.

    Shapes: ``x [n_atoms, F]``, ``quadratic [bins, 3]`` (rows ``a, b, c``), ``batch [n_atoms]``
    -> ``[bins, n_graphs, F]``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, quadratic: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        powers = torch.stack([x * x, x, torch.ones_like(x)]).reshape(3, -1)  # [3, n * F]
        membership = ((quadratic * _LOG2_E) @ powers).reshape(quadratic.shape[0], *x.shape)  # log2, unnormalized
        membership.sub_(membership.amax(0)).clamp_(min=LOG_MEMBERSHIP_FLOOR * _LOG2_E).exp2_()
        membership.div_(membership.sum(0))
        ctx.save_for_backward(x, quadratic, batch, membership)
        return membership.new_zeros(membership.shape[0], num_graphs, x.shape[1]).index_add_(1, batch, membership)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None, None, None]:
        x, quadratic, batch, membership = ctx.saved_tensors
        # each atom's membership gradient is its molecule's; softmax backward,
        # d logit_k = m_k (g_k - sum_j m_j g_j), in place on that one buffer
        d_logit = grad.index_select(1, batch).mul_(membership)
        d_logit.addcmul_(membership, d_logit.sum(0), value=-1)
        # d logit_k / dx = 2 a_k x + b_k
        d_ab = (quadratic[:, :2].T @ d_logit.reshape(d_logit.shape[0], -1)).reshape(2, *x.shape)
        return d_ab[0].mul_(2 * x).add_(d_ab[1]), None, None, None


class GaussianHistogramGather(nn.Module):
    """Fuzzy histogram of each atom feature over 11 Gaussian bins, summed over a molecule's atoms.

    Each atom's membership in the bins is its Gaussian densities normalized to sum to 1 per
    feature (a softmax over ``-z²/2``; values far outside the bins go to the outermost bin), so the
    gathered vector counts (fuzzily) how many atoms fall in each bin. Memberships below
    ``e^-60`` of a feature's largest are raised to that (see :data:`LOG_MEMBERSHIP_FLOOR`), and
    inputs beyond ±8 count as ±8 (see :data:`INPUT_CLAMP`).

    Shapes: ``x [n_atoms, F]``, ``batch [n_atoms]`` -> ``[n_graphs, F * 11]``.
    """

    def __init__(self) -> None:
        super().__init__()
        means, stds = (torch.tensor(v, dtype=torch.float64) for v in zip(*GAUSSIAN_BINS))
        precision = 1.0 / stds**2
        # -z²/2 = a·x² + b·x + c per bin: one small matmul instead of broadcasting over [bins, atoms, F]
        quadratic = torch.stack([-0.5 * precision, precision * means, -0.5 * precision * means**2], dim=1)
        self.register_buffer("quadratic", quadratic.float(), persistent=False)  # [bins, 3]

    @property
    def n_bins(self) -> int:
        return len(GAUSSIAN_BINS)

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        # Bins on the leading dimension: reductions over a short leading axis vectorize over the
        # (atoms x features) block, several times faster on CPU than over a trailing axis of 11.
        x = x.clamp(-INPUT_CLAMP, INPUT_CLAMP)
        summed = _GaussianHistogram.apply(x, self.quadratic.to(x.dtype), batch, num_graphs)  # [bins, n_graphs, F]
        return summed.permute(1, 2, 0).reshape(num_graphs, -1)  # feature-major: column f * n_bins + k


class SumGather(nn.Module):
    """Sum of atom states per molecule. Shapes: ``[n_atoms, F]`` -> ``[n_graphs, F]``."""

    n_bins = 1

    def forward(self, x: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
        return x.new_zeros(num_graphs, x.shape[1]).index_add(0, batch, x)
