"""Stream molecule records from ``.smi``, ``.csv``/``.tsv`` or ``.sdf`` files (gzipped or not) or stdin.

Unlike :func:`molattr.data.tables.read_molecules`, nothing is read ahead: records come one at a
time, so memory does not grow with the file. Every input row is one record (blank lines
included) with its 0-based ``row`` and the 1-based ``line`` where it starts; undecodable bytes
become U+FFFD, which makes that row's SMILES unparsable rather than the file unreadable.
"""
from __future__ import annotations

import codecs
import gzip
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from molattr.data.tables import (
    STDIN, checked_header, csv_reader, file_kind, file_stem, id_column_of, no_header, numbered_rows, open_file,
    smi_rows, split_lines,
)
from molattr.errors import InputFileError

RecordFormat = Literal["smi", "csv", "tsv", "sdf"]
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Record:
    """One input row. ``text`` is a SMILES, or a mol block when ``is_molblock``."""

    row: int
    line: int
    id: str
    text: str
    is_molblock: bool = False


def record_format(source: str | Path, given: str | None = None) -> RecordFormat:
    """The format of ``source``: ``given`` if set, else from the suffix (``.gz`` ignored);
    standard input defaults to ``smi``."""
    if given is not None:
        if given not in ("smi", "csv", "tsv", "sdf"):
            raise InputFileError(f"unknown input format {given!r} (use smi, csv, tsv or sdf)")
        return given  # type: ignore[return-value]
    if str(source) == STDIN:
        return "smi"
    return file_kind(Path(source), with_sdf=True)  # type: ignore[return-value]


def open_binary(source: str | Path) -> BinaryIO:
    """The raw bytes of a file (gunzipped when it ends in ``.gz``) or of standard input (gunzipped
    when it starts with gzip's magic bytes: ``molattr score - < big.smi.gz``).

    Raises:
        InputFileError: a missing file, a directory, or a file that cannot be opened.
    """
    if str(source) != STDIN:
        return open_file(Path(source))
    stream = sys.stdin.buffer
    if not hasattr(stream, "peek"):  # a replaced stdin (tests, embedding) may be unbuffered
        stream = io.BufferedReader(stream)
    if stream.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")
    return stream


def iter_records(source: str | Path, input_format: str | None = None, smiles_column: str = "smiles",
                 id_column: str | None = None) -> Iterator[Record]:
    """Records of ``source`` in order (see the module docstring).

    ``id`` is the name after the SMILES (``.smi``), ``id_column`` (CSV; default a column named
    ``id``), the title line or the ``id_column`` property (SDF), or ``<name>:<line>``.

    Raises:
        InputFileError: unreadable input, a missing column, a truncated gzip stream.
    """
    kind = record_format(source, input_format)
    name = "stdin" if str(source) == STDIN else file_stem(Path(source))
    stream = open_binary(source)
    try:
        if kind == "smi":
            yield from _smi_records(stream, name)
        elif kind == "sdf":
            yield from _sdf_records(stream, name, id_column)
        else:
            yield from _csv_records(stream, name, str(source), kind, smiles_column, id_column)
    except (OSError, EOFError) as exc:  # gzip errors surface while reading
        raise InputFileError(f"{source}: cannot read ({exc})") from exc
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()


def count_records(source: str | Path, input_format: str | None = None) -> int | None:
    r"""Rows in a file, by a fast pass over its bytes, for progress bars (``None`` for standard input
    and anything else that is not a regular file: a pipe cannot be read twice).

    ``.smi``: lines, minus a ``SMILES`` header; CSV/TSV: lines minus the header (more than the
    rows when quoted fields span lines); SDF: ``$$$$`` terminators. Lines end as in
    :func:`~molattr.data.tables.split_lines` (a lone ``\r`` ends one too; not counted across blocks).

    Raises:
        InputFileError: a file that cannot be read to its end (a truncated gzip stream).
    """
    if str(source) == STDIN or not Path(source).is_file():
        return None
    kind = record_format(source, input_format)
    lines = terminators = 0
    first = b""
    last = b"\n"
    with open_binary(source) as stream:
        try:
            while block := stream.read(1 << 20):
                first = first or block[:256].removeprefix(codecs.BOM_UTF8)
                lines += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n") - block.count(b"\r\r\n")
                terminators += block.count(b"$$$$") if kind == "sdf" else 0
                last = block[-1:]
        except (OSError, EOFError) as exc:  # gzip errors surface while reading
            raise InputFileError(f"{source}: cannot read ({exc})") from exc
    lines += last not in (b"\n", b"\r")
    if kind == "sdf":
        return terminators
    if kind == "smi":
        words = first.split(maxsplit=1)
        return lines - int(bool(words) and words[0].lower() == b"smiles")
    return max(lines - 1, 0)


def _text_lines(stream: BinaryIO) -> Iterator[str]:
    """The :func:`~molattr.data.tables.split_lines` of a byte stream, decoded with replacement; a
    byte-order mark at the start of the file is dropped."""
    return split_lines(raw.decode("utf-8-sig" if number == 0 else "utf-8", errors="replace")
                       for number, raw in enumerate(stream))


def _smi_records(stream: BinaryIO, name: str) -> Iterator[Record]:
    for row, (number, ident, smiles) in enumerate(smi_rows(_text_lines(stream), name)):
        yield Record(row, number, ident, smiles)


def _csv_records(stream: BinaryIO, name: str, source: str, kind: str, smiles_column: str,
                 id_column: str | None) -> Iterator[Record]:
    reader = csv_reader(_text_lines(stream), kind)
    header = next(numbered_rows(reader, source), (0, None))[1]
    if header is None:
        raise no_header(source, kind, smiles_column)
    columns = checked_header(source, header)
    id_column = id_column_of(source, columns, smiles_column, id_column)
    s_index = columns.index(smiles_column)
    i_index = columns.index(id_column) if id_column else None
    for row, (line, fields) in enumerate(numbered_rows(reader, source)):
        smiles = fields[s_index].strip() if s_index < len(fields) else ""
        given = fields[i_index].strip() if i_index is not None and i_index < len(fields) else ""
        yield Record(row, line, given or f"{name}:{line}", smiles)


def _sdf_records(stream: BinaryIO, name: str, id_column: str | None) -> Iterator[Record]:
    block: list[str] = []
    start = 1
    row = 0
    for number, line in enumerate(_text_lines(stream), start=1):
        if line.startswith("$$$$"):
            yield _sdf_record(row, start, block, name, id_column)
            row += 1
            block, start = [], number + 1
        else:
            block.append(line)
    if any(line.strip() for line in block):
        yield _sdf_record(row, start, block, name, id_column)


def _sdf_record(row: int, start: int, block: list[str], name: str, id_column: str | None) -> Record:
    title = block[0].strip() if block else ""
    given = ""
    if id_column is not None:
        tag = f"<{id_column}>"
        for k, line in enumerate(block[:-1]):
            if line.startswith(">") and tag in line:
                given = block[k + 1].strip()
                break
    return Record(row, start, given or title or f"{name}:{start}", "\n".join(block) + "\n", is_molblock=True)
