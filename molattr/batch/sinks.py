"""Output files written chunk by chunk, durable after each chunk, and resumable at a recorded position.

CSV and SDF append to one file; their position is its size in bytes after the last complete
chunk, so a resumed run first truncates whatever a crash left beyond it. Parquet writes one part
file per chunk into ``<output>.parts/`` (position: the number of parts) and merges them into
``<output>`` at the end, one part at a time.
"""
from __future__ import annotations

import io
import math
import os
import re
import shutil
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from rdkit import Chem

from molattr.batch.scorer import ScoredChunk
from molattr.errors import InputFileError

OUTPUT_SUFFIXES = (".csv", ".parquet", ".sdf")
#: Columns stored as integers (nullable) and as text; every other column is float64.
INTEGER_COLUMNS = ("row", "line", "n_atoms", "attr_evaluations")
TEXT_COLUMNS = ("id", "smiles", "canonical_smiles", "status", "error", "attributed_task", "top_atoms", "top_features",
                "atom_attributions", "heatmap")


class Sink(Protocol):
    """Where scored chunks go, resumably: each chunk is on disk once :meth:`write` returns."""

    def write(self, chunk: ScoredChunk) -> None:
        """Append a chunk's rows and flush them to disk."""

    def position(self) -> int:
        """Where a resumed run cuts the output back to (bytes or rows written)."""

    def finish(self) -> None:
        """Complete the file after the last chunk."""

    def close(self) -> None:
        """Release the file (after :meth:`finish`, or on an interruption)."""


def output_kind(path: Path) -> str:
    """``csv``, ``parquet`` or ``sdf`` from the suffix.

    Raises:
        InputFileError: any other suffix.
    """
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputFileError(f"{path}: unsupported output type {suffix or '(none)'!r}; use {', '.join(OUTPUT_SUFFIXES)}")
    return suffix[1:]


def open_sink(path: Path, columns: list[str], resume_at: int | None) -> Sink:
    """A sink for ``path``: a new file when ``resume_at`` is ``None``, else the file cut back to ``resume_at``."""
    kind = output_kind(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        return ParquetSink(path, columns, resume_at)
    return AppendSink(path, columns, resume_at, kind)


def rows_written_to(path: Path) -> Path:
    """Where an unfinished run's rows are: the output file itself, or a Parquet output's parts folder
    (merged into the file when the run completes)."""
    return parts_folder(path) if output_kind(path) == "parquet" else path


def parts_folder(path: Path) -> Path:
    """The folder of a Parquet output's part files while its run is unfinished."""
    return path.with_name(path.name + ".parts")


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in their output types: nullable integers, text (missing -> None), float64."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if column in INTEGER_COLUMNS:
            out[column] = pd.array(pd.to_numeric(values, errors="coerce"), dtype="Int64")
        elif column in TEXT_COLUMNS:
            out[column] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values]
        else:
            out[column] = pd.to_numeric(values, errors="coerce").astype("float64")
    return pd.DataFrame(out, index=frame.index)


class AppendSink:
    """CSV or SDF, appended and fsync'ed chunk by chunk."""

    def __init__(self, path: Path, columns: list[str], resume_at: int | None, kind: str) -> None:
        self.path, self.columns, self.kind = path, columns, kind
        if resume_at is None:
            self.handle = open(path, "wb")  # noqa: SIM115 (closed in close())
            if kind == "csv":
                self._append(pd.DataFrame(columns=columns).to_csv(index=False).encode())
        else:
            if not path.exists() or path.stat().st_size < resume_at:
                raise InputFileError(f"{path}: shorter than the interrupted run recorded ({resume_at} bytes); cannot resume")
            self.handle = open(path, "r+b")  # noqa: SIM115
            self.handle.truncate(resume_at)
            self.handle.seek(resume_at)

    def _append(self, data: bytes) -> None:
        self.handle.write(data)
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def write(self, chunk: ScoredChunk) -> None:
        frame = typed(chunk.frame)
        if self.kind == "csv":
            self._append(frame.to_csv(index=False, header=False, float_format="%.6g").encode())
        else:
            self._append(_sdf_text(frame, chunk.mols).encode())

    def position(self) -> int:
        return self.handle.tell()

    def finish(self) -> None:
        self.close()

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()


def _sdf_text(frame: pd.DataFrame, mols: list[Chem.Mol | None]) -> str:
    """One SDF record per row, its molecule as parsed (rows whose input did not parse get an empty
    one) with the row's columns as data fields. Line breaks in the title or a value become spaces:
    the title is one line, and a blank line would end a data field early."""
    buffer = io.StringIO()
    writer = Chem.SDWriter(buffer)
    for (_, row), mol in zip(frame.iterrows(), mols):
        record = Chem.Mol(mol) if mol is not None else Chem.Mol()
        record.SetProp("_Name", _one_line(row["id"]))
        for column, value in row.items():
            if value is not None and value is not pd.NA and not (isinstance(value, float) and math.isnan(value)):
                record.SetProp(str(column), _one_line(value))
        writer.write(record)
    writer.close()
    return buffer.getvalue()


def _one_line(value: object) -> str:
    return re.sub(r"[\r\n]+", " ", str(value))


class ParquetSink:
    """Parquet via one part file per chunk, merged at the end."""

    def __init__(self, path: Path, columns: list[str], resume_at: int | None) -> None:
        self.path, self.columns = path, columns
        self.parts = parts_folder(path)
        if resume_at is None:
            shutil.rmtree(self.parts, ignore_errors=True)
            self.count = 0
        else:
            self.count = resume_at
            for part in self.parts.glob("part-*.parquet"):
                if int(part.stem.split("-")[1]) >= resume_at:
                    part.unlink()
        self.parts.mkdir(parents=True, exist_ok=True)
        self.schema: pa.Schema | None = None

    def write(self, chunk: ScoredChunk) -> None:
        table = pa.Table.from_pandas(typed(chunk.frame), preserve_index=False, schema=self._schema())
        temporary = self.parts / f".part-{self.count:06d}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, self.parts / f"part-{self.count:06d}.parquet")
        self.count += 1

    def _schema(self) -> pa.Schema:
        if self.schema is None:
            fields = []
            for column in self.columns:
                kind = pa.int64() if column in INTEGER_COLUMNS else pa.string() if column in TEXT_COLUMNS else pa.float64()
                fields.append(pa.field(column, kind))
            self.schema = pa.schema(fields)
        return self.schema

    def position(self) -> int:
        return self.count

    def finish(self) -> None:
        """Merge the parts, in order, into the output (one part in memory at a time)."""
        temporary = self.path.with_name(self.path.name + ".tmp")
        with pq.ParquetWriter(temporary, self._schema()) as writer:
            for k in range(self.count):
                writer.write_table(pq.read_table(self.parts / f"part-{k:06d}.parquet", schema=self._schema()))
        os.replace(temporary, self.path)
        shutil.rmtree(self.parts, ignore_errors=True)

    def close(self) -> None:
        """Nothing open between chunks."""
