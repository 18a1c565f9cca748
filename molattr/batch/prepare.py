"""Input records -> featurized graphs or error statuses, in this process or in worker processes."""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import torch
from rdkit import Chem
from torch_geometric.data import Data

from molattr.chem import ParsedMolecule, parse_smiles, prepare_mol, quiet_rdkit
from molattr.data.featurize_rows import featurize_checked
from molattr.data.records import Record
from molattr.data.row_limits import RowLimits
from molattr.errors import InvalidMoleculeError
from molattr.featurize import FeatureSpec

@dataclass
class PreparedRow:
    """A record after parsing, checks and featurization: ``graph`` (carrying ``mol``) when
    ``status`` is ``ok``/``ok_salt_stripped``, else ``None`` and ``error`` says why; ``mol`` is
    the parsed molecule (with an SDF record's data fields) whenever parsing succeeded."""

    graph: Data | None
    status: str
    error: str
    smiles: str = ""
    n_atoms: int | None = None
    mol: Chem.Mol | None = None


def prepare_records(records: Sequence[Record], spec: FeatureSpec, limits: RowLimits) -> list[PreparedRow]:
    """Prepare each record; failures become statuses (``empty``, ``unparsable``,
    ``unsupported_element``, ``too_large``, ``featurization_failed``), never exceptions."""
    return [_prepare(record, spec, limits) for record in records]


def _prepare(record: Record, spec: FeatureSpec, limits: RowLimits) -> PreparedRow:
    try:
        parsed = _parse(record, spec)
    except InvalidMoleculeError as exc:
        return PreparedRow(None, exc.reason, str(exc))
    smiles = Chem.MolToSmiles(parsed.mol)
    n_atoms = parsed.mol.GetNumAtoms()
    try:
        graph, ok = featurize_checked(parsed, spec, limits)
    except InvalidMoleculeError as exc:
        return PreparedRow(None, exc.reason, str(exc), smiles, n_atoms, parsed.mol)
    graph.mol = parsed.mol
    return PreparedRow(graph, ok, "", smiles, n_atoms, parsed.mol)


def _parse(record: Record, spec: FeatureSpec) -> ParsedMolecule:
    if not record.is_molblock:
        return parse_smiles(record.text, spec.fragments)
    if not record.text.strip():
        raise InvalidMoleculeError(record.id, "empty", "empty SDF record")
    with quiet_rdkit():  # a supplier, not MolFromMolBlock: it also reads the record's data fields
        supplier = Chem.SDMolSupplier()
        supplier.SetData(record.text + "$$$$\n", sanitize=False, removeHs=False)
        mol = next(iter(supplier), None)
    if mol is None:
        raise InvalidMoleculeError(record.id, "unparsable", "RDKit could not read the mol block")
    parsed = prepare_mol(mol, spec.fragments)
    for name, value in mol.GetPropsAsDict(includePrivate=False).items():  # carried to SDF output
        parsed.mol.SetProp(name, str(value))
    return parsed


class Preparer:
    """Prepares chunks of records, in this process (``workers=1``) or in a pool of spawned
    worker processes; :meth:`stream` keeps one chunk in preparation while the caller scores the
    previous one, so featurization overlaps the model. Use as a context manager."""

    def __init__(self, spec: FeatureSpec, limits: RowLimits, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1 (got {workers})")
        self.spec, self.limits, self.workers = spec, limits, workers
        self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 1 else None

    def __enter__(self) -> "Preparer":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def submit(self, records: Sequence[Record]) -> Future | list[PreparedRow]:
        """Start preparing ``records``: the prepared rows at once in this process, else a future of them."""
        if self.pool is None:
            return prepare_records(records, self.spec, self.limits)
        size = max(1, -(-len(records) // self.workers))
        parts = [self.pool.submit(_prepare_portable, records[k : k + size], self.spec, self.limits)
                 for k in range(0, len(records), size)]
        return _Joined(parts)

    def stream(self, chunks: Iterator[list[Record]]) -> Iterator[tuple[list[Record], list[PreparedRow]]]:
        """``(records, prepared)`` per chunk, in order, one chunk prepared ahead."""
        pending = None
        for chunk in chunks:
            job = (chunk, self.submit(chunk))
            if pending is not None:
                yield pending[0], _result(pending[1])
            pending = job
        if pending is not None:
            yield pending[0], _result(pending[1])


@dataclass
class _Joined:
    parts: list[Future]

    def result(self) -> list[PreparedRow]:
        return [_restore(row) for part in self.parts for row in part.result()]


#: Graph attributes sent between processes as NumPy arrays (torch tensors would each go through
#: torch's shared-memory pickling, which costs more than featurizing).
_ARRAYS = ("x", "edge_index", "edge_attr", "pair_distance")


def _prepare_portable(records: Sequence[Record], spec: FeatureSpec, limits: RowLimits) -> list[PreparedRow]:
    """:func:`prepare_records` in a worker, graphs as plain dicts of arrays and values; molecules
    are pickled with their properties (input atom indices, an SDF record's data fields)."""
    Chem.SetDefaultPickleProperties(Chem.PropertyPickleOptions.AllProps)
    rows = prepare_records(records, spec, limits)
    for row in rows:
        if row.graph is not None:
            graph = row.graph
            row.graph = {key: (graph[key].numpy() if key in _ARRAYS else graph[key]) for key in graph.keys()}
    return rows


def _restore(row: PreparedRow) -> PreparedRow:
    if isinstance(row.graph, dict):
        values = {key: (torch.from_numpy(value) if key in _ARRAYS else value) for key, value in row.graph.items()}
        mol = values.pop("mol")
        row.graph = Data(**values)
        row.graph.mol = mol
    return row


def _result(job) -> list[PreparedRow]:
    return job if isinstance(job, list) else job.result()
