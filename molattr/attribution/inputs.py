"""What an attribution method is given: a model (checkpoint or module), molecules, a target."""
from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from rdkit import Chem
from torch import Tensor, nn
from torch_geometric.data import Data

from molattr.checkpoint import Checkpoint
from molattr.errors import AttributionInputError, FeaturizationMismatchError
from molattr.featurize import FeatureSpec, featurize_parsed, parse_molecule
from molattr.integers import is_integer_at_least

Molecule = str | Chem.Mol | Data
Molecules = Molecule | Sequence[Molecule]


def _check_calling_convention(module: nn.Module) -> None:
    """Refuse a module that cannot be called as ``module(x, edge_index, edge_attr, batch, num_graphs)``.

    Raises:
        AttributionInputError: pointing a plain PyG model to :class:`molattr.nn.PyGModelWrapper`.
    """
    try:
        inspect.signature(module.forward).bind(*range(5))
    except TypeError:
        raise AttributionInputError(
            f"{type(module).__name__}.forward cannot be called as model(x, edge_index, edge_attr, batch, num_graphs); "
            "wrap a PyTorch Geometric model in molattr.nn.PyGModelWrapper(model, n_tasks)"
        ) from None
    except ValueError:  # no signature to read (a compiled or C++ module): let the call itself tell
        return


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/``"auto"``: CUDA when available, else CPU.

    Raises:
        AttributionInputError: a device torch does not know, or CUDA asked for where there is none.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except RuntimeError:
        raise AttributionInputError(f"unknown device {device!r} (use 'auto', 'cpu' or 'cuda')") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AttributionInputError(f"device {str(device)!r} requested but CUDA is not available (use 'cpu' or 'auto')")
    return device


def molecule_list(molecules: Molecules) -> tuple[list[Molecule], bool]:
    """``molecules`` as a list (a list, tuple, Series, array or generator of them), and whether one
    molecule (a SMILES, RDKit Mol or graph) was given rather than a collection.

    Raises:
        AttributionInputError: neither a molecule nor a collection of them (``bytes`` included).
    """
    if isinstance(molecules, (str, Chem.Mol, Data)):
        return [molecules], True
    if isinstance(molecules, (bytes, bytearray)) or not isinstance(molecules, Iterable):
        raise AttributionInputError(f"expected a SMILES, an RDKit Mol, a featurized graph or a list of them "
                                    f"(got {type(molecules).__name__})")
    return list(molecules), False


@dataclass
class AttributedModel:
    """A model with what attribution needs to know about it.

    ``spec`` featurizes SMILES and RDKit molecules and is checked against featurized graphs;
    ``tasks`` names the outputs (``None``: named by index); ``task_type`` decides whether
    ``output="probability"`` makes sense.
    """

    module: nn.Module
    spec: FeatureSpec | None
    tasks: list[str] | None
    task_type: str | None

    @classmethod
    def of(cls, model: Checkpoint | nn.Module, spec: FeatureSpec | None = None,
           tasks: Sequence[str] | None = None) -> "AttributedModel":
        """A checkpoint with its spec, tasks and task type (``spec``/``tasks`` override them), or a
        bare module with the given ``spec`` and ``tasks``."""
        if isinstance(model, Checkpoint):
            return cls(model.model, spec or model.spec, list(tasks or model.tasks), model.task_type)
        if isinstance(model, nn.Module):
            _check_calling_convention(model)
            return cls(model, spec, list(tasks) if tasks is not None else None, None)
        raise TypeError(f"expected a molattr Checkpoint or a torch nn.Module (got {type(model).__name__})")

    def graphs(self, molecules: Molecules) -> tuple[list[Data], bool]:
        """Featurized graphs, and whether a single molecule (not a list) was given.

        Graphs made here carry ``mol``, the parsed RDKit molecule whose atom ``i`` is node ``i``
        (after the spec's fragment policy); a given graph keeps the ``mol`` it has, if any.

        Raises:
            InvalidMoleculeError: a SMILES or molecule that cannot be featurized.
            FeaturizationMismatchError: a graph featurized with another spec, or of other widths.
        """
        items, single = molecule_list(molecules)
        if not items:
            raise AttributionInputError("no molecules to attribute (got an empty list)")
        return [self._graph(item) for item in items], single

    def _graph(self, item: Molecule) -> Data:
        if isinstance(item, Data):
            self._check_graph(item)
            return item
        if self.spec is None:
            raise AttributionInputError(
                f"cannot featurize {item if isinstance(item, str) else 'an RDKit molecule'}: this model has no "
                "featurization spec; pass spec=FeatureSpec(...) or featurized graphs"
            )
        if not isinstance(item, (str, Chem.Mol)):
            raise AttributionInputError(f"expected a SMILES, an RDKit Mol or a featurized graph (got {type(item).__name__})")
        parsed = parse_molecule(item, self.spec)
        graph = featurize_parsed(parsed, self.spec)
        graph.mol = parsed.mol  # atom i of the graph is atom i of this molecule: attributions map back onto it
        return graph

    def _check_graph(self, graph: Data) -> None:
        _check_structure(graph)
        if self.spec is None:
            return
        stored = getattr(graph, "spec_hash", None)
        if stored is not None and stored != self.spec.hash:
            raise FeaturizationMismatchError(
                f"graph {getattr(graph, 'smiles', '')!r} featurized with spec {stored} but the model needs "
                f"{self.spec.name} ({self.spec.hash})"
            )
        widths = (graph.x.shape[1], graph.edge_attr.shape[1])
        if widths != (self.spec.n_atom_features, self.spec.n_pair_features):
            raise FeaturizationMismatchError(
                f"graph {getattr(graph, 'smiles', '')!r} has {widths[0]} atom / {widths[1]} pair features; "
                f"the model's {self.spec.name} featurization has {self.spec.n_atom_features} / {self.spec.n_pair_features}"
            )

    def target(self, target: int | str, n_outputs: int) -> tuple[int, str]:
        """Task index and name.

        Raises:
            AttributionInputError: an unknown task name or an index outside ``[0, n_outputs)``.
        """
        if self.tasks is not None and len(self.tasks) != n_outputs:
            raise AttributionInputError(f"{len(self.tasks)} task names given but the model has {n_outputs} outputs")
        if isinstance(target, str):
            if self.tasks is None or target not in self.tasks:
                known = ", ".join(self.tasks) if self.tasks else "none (give an index)"
                raise AttributionInputError(f"no task named {target!r} (tasks: {known})")
            return self.tasks.index(target), target
        if not is_integer_at_least(target, 0) or target >= n_outputs:
            raise AttributionInputError(f"target must be a task index in 0..{n_outputs - 1} or a task name (got {target!r})")
        return int(target), self.tasks[target] if self.tasks else str(target)

    def check_output(self, output: str) -> None:
        """Refuse an output other than ``logit``/``probability``, and probabilities of a regression model.

        Raises:
            AttributionInputError: naming the output.
        """
        if output not in ("logit", "probability"):
            raise AttributionInputError(f"output must be 'logit' or 'probability' (got {output!r})")
        if output == "probability" and self.task_type == "regression":
            raise AttributionInputError("output='probability' needs a classification model; this one is regression")

    def columns(self, n_atom: int, n_pair: int) -> tuple[list[str], list[str]]:
        """Feature column names (generic ``atom:k``/``pair:k`` without a spec)."""
        if self.spec is not None:
            return self.spec.atom_columns, self.spec.pair_columns
        return [f"atom:{k}" for k in range(n_atom)], [f"pair:{k}" for k in range(n_pair)]


def _check_structure(graph: Data) -> None:
    """A featurized graph's tensors fit together: ``x [n_atoms, F_a]``, ``edge_attr [n_pairs, F_p]``,
    ``edge_index [2, n_pairs]`` of atom indices in ``[0, n_atoms)``.

    Raises:
        FeaturizationMismatchError: naming the graph and what is wrong.
    """
    name = repr(getattr(graph, "smiles", "")) if getattr(graph, "smiles", "") else "a featurized graph"
    x, edge_attr, edge_index = graph.x, graph.edge_attr, graph.edge_index
    if not isinstance(x, Tensor) or x.dim() != 2:
        raise FeaturizationMismatchError(f"{name} needs atom features x [n_atoms, F_a] (got {_shape(x)})")
    if not isinstance(edge_attr, Tensor) or edge_attr.dim() != 2:
        raise FeaturizationMismatchError(f"{name} needs pair features edge_attr [n_pairs, F_p] (got {_shape(edge_attr)})")
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.shape[0] != 2 \
            or edge_index.shape[1] != edge_attr.shape[0]:
        raise FeaturizationMismatchError(f"{name} has edge_index {_shape(edge_index)} for {edge_attr.shape[0]} pair "
                                         f"feature rows (need [2, {edge_attr.shape[0]}])")
    if x.shape[0] == 0:
        raise FeaturizationMismatchError(f"{name} has no atoms (x has shape {tuple(x.shape)})")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= x.shape[0]):
        raise FeaturizationMismatchError(f"{name} has pairs of atoms outside 0..{x.shape[0] - 1} (edge_index)")
    _check_pairs_once(edge_index, x.shape[0], name)


def _check_pairs_once(edge_index: Tensor, n_atoms: int, name: str) -> None:
    """Each atom pair is one row of ``edge_index [2, n_pairs]``: molattr's networks sum over pairs, so a pair
    stored twice (or in both directions, as PyG's ``ToUndirected`` stores it) would count twice.

    Raises:
        FeaturizationMismatchError: naming the graph and the first repeated pair.
    """
    if edge_index.shape[1] < 2:
        return
    low, high = edge_index.min(0).values, edge_index.max(0).values
    keys = low * n_atoms + high
    unique, counts = torch.unique(keys, return_counts=True)
    if len(unique) == len(keys):
        return
    i, j = divmod(int(unique[counts > 1][0]), n_atoms)
    raise FeaturizationMismatchError(
        f"{name} lists the atom pair ({i}, {j}) more than once in edge_index; molattr graphs store each pair "
        "once (i < j as featurize() writes them), not in both directions"
    )


def _shape(value: object) -> str:
    return f"shape {tuple(value.shape)}" if isinstance(value, Tensor) else ("nothing" if value is None else type(value).__name__)
