"""One weave module (Kearnes et al. 2016, Fig. 3)."""
from __future__ import annotations

import torch
from torch import Tensor, nn


class WeaveLayer(nn.Module):
    """Weave module: A→A, P→A, A→P, P→P, then new atom and pair states.

    * A→A: ``relu(W_aa a_i)``
    * P→A: ``sum_j relu(W_pa p_ij)`` over every pair the atom belongs to
    * A→P: ``relu(W_ap [a_i, a_j]) + relu(W_ap [a_j, a_i])`` (symmetric in the pair's order)
    * P→P: ``relu(W_pp p_ij)``
    * ``a' = relu(W_a [A→A, P→A])``, ``p' = relu(W_p [A→P, P→P])``

    Pairs are unordered and stored once (``edge_index[0] < edge_index[1]``).

    Args:
        atom_in, pair_in: input widths.
        hidden: width of the four intermediate states.
        atom_out, pair_out: output widths.
        update_pairs: ``False`` for the last module, whose pair output nothing reads.

    Shapes:
        ``x [n_atoms, atom_in]``, ``edge_index [2, n_pairs]``, ``edge_attr [n_pairs, pair_in]``
        -> ``(x' [n_atoms, atom_out], edge_attr' [n_pairs, pair_out] or None)``.
    """

    def __init__(
        self,
        atom_in: int,
        pair_in: int,
        hidden: int = 50,
        atom_out: int = 50,
        pair_out: int = 50,
        update_pairs: bool = True,
    ) -> None:
        super().__init__()
        self.atom_to_atom = nn.Linear(atom_in, hidden)
        self.pair_to_atom = nn.Linear(pair_in, hidden)
        self.atom_out = nn.Linear(2 * hidden, atom_out)
        self.update_pairs = update_pairs
        if update_pairs:
            self.atom_to_pair = nn.Linear(2 * atom_in, hidden)
            self.pair_to_pair = nn.Linear(pair_in, hidden)
            self.pair_out = nn.Linear(2 * hidden, pair_out)

    def _atom_to_pair_halves(self, x: Tensor) -> Tensor:
        """``[x @ W_first.T | x @ W_second.T]`` for ``W = [W_first | W_second]`` of A→P (no bias).

        Shapes: ``x [n_atoms, atom_in]`` -> ``[n_atoms, 2 * hidden]``.
        """
        weight = self.atom_to_pair.weight  # [hidden, 2 * atom_in]
        n_in = weight.shape[1] // 2
        return x @ torch.cat([weight[:, :n_in], weight[:, n_in:]], dim=0).T

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor | None]:
        i, j = edge_index[0], edge_index[1]
        pair_message = torch.relu(self.pair_to_atom(edge_attr))
        to_atoms = x.new_zeros(x.shape[0], pair_message.shape[1])
        to_atoms = to_atoms.index_add(0, i, pair_message).index_add(0, j, pair_message)
        atoms = torch.relu(self.atom_out(torch.cat([torch.relu(self.atom_to_atom(x)), to_atoms], dim=1)))
        if not self.update_pairs:
            return atoms, None
        # W [a_i, a_j] = W_first a_i + W_second a_j: project each atom once (both halves at once),
        # then gather per pair, instead of multiplying a [n_pairs, 2 * atom_in] concatenation twice.
        # index_select, not advanced indexing: its backward is a plain index_add.
        halves = self._atom_to_pair_halves(x)
        at_i, at_j = halves.index_select(0, i), halves.index_select(0, j)  # [n_pairs, 2 * hidden]
        h, bias = self.atom_to_pair.out_features, self.atom_to_pair.bias
        from_atoms = torch.relu(at_i[:, :h] + at_j[:, h:] + bias) + torch.relu(at_j[:, :h] + at_i[:, h:] + bias)
        pairs = torch.relu(self.pair_out(torch.cat([from_atoms, torch.relu(self.pair_to_pair(edge_attr))], dim=1)))
        return atoms, pairs
