"""Read molecule files into tables that remember where each row came from.

Every row of the input becomes one row of the table, blank lines included, with ``line`` the
1-based line number in the file, so errors can name the file, line and value.
Supported: ``.smi``/``.txt`` (SMILES, optional whitespace-separated name), ``.csv``/``.tsv``;
each optionally gzipped (``.gz``). Undecodable bytes are replaced (U+FFFD), which makes that
row's SMILES unparsable rather than the whole file unreadable.
"""
from __future__ import annotations

import csv
import gzip
import io
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from molattr.errors import InputFileError

SMILES_SUFFIXES = (".smi", ".smiles", ".txt")
TABLE_SUFFIXES = (".csv", ".tsv")
SDF_SUFFIXES = (".sdf", ".sd", ".mol")
#: Source name that means standard input.
STDIN = "-"

# Python's csv module refuses fields over 128 KiB with a bare csv.Error that ends the whole read;
# a long field is one row's problem (its SMILES gets a status), so the limit is raised for good.
csv.field_size_limit(2**31 - 1)


def file_kind(path: Path, with_sdf: bool = False) -> str:
    """``"smi"``, ``"csv"``/``"tsv"`` (or, ``with_sdf``, ``"sdf"``) from the suffix (``.gz`` ignored).

    Raises:
        InputFileError: any other suffix, naming the ones accepted.
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in SMILES_SUFFIXES:
        return "smi"
    if suffix in TABLE_SUFFIXES:
        return suffix[1:]
    if with_sdf and suffix in SDF_SUFFIXES:
        return "sdf"
    accepted = SMILES_SUFFIXES + TABLE_SUFFIXES + (SDF_SUFFIXES if with_sdf else ())
    raise InputFileError(f"{path}: unsupported file type {suffix or '(none)'!r}; use one of {', '.join(accepted)} "
                         "(optionally .gz)")


def existing_file(path: Path) -> Path:
    """``path``, once it is known to exist and not to be a directory.

    Raises:
        InputFileError: no such file, or a directory.
    """
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory, expected a molecule file")
    return path


def open_file(path: Path) -> BinaryIO:
    """The raw bytes of a molecule file, gunzipped when it ends in ``.gz``.

    Raises:
        InputFileError: a missing file, a directory, or a file that cannot be opened.
    """
    existing_file(path)
    try:
        return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc})") from exc


def _read_text(path: Path) -> str:
    with open_file(path) as stream:
        try:
            raw = stream.read()
        except (OSError, EOFError) as exc:
            raise InputFileError(f"{path}: cannot read ({exc})") from exc
    return raw.decode("utf-8-sig", errors="replace")  # -sig: a byte-order mark (Excel's "CSV UTF-8") is not text


def read_molecules(
    path: str | Path,
    smiles_column: str = "smiles",
    id_column: str | None = None,
) -> pd.DataFrame:
    """Read a molecule file into a table with columns ``line``, ``id``, ``smiles`` (+ others).

    ``id`` is the name column of a ``.smi`` file, ``id_column`` of a CSV (default: a column
    named ``id`` if there is one), or ``<stem>:<line>`` when there is none. For CSV/TSV every
    other column is kept as text; one named ``line`` (or ``smiles`` when the SMILES are read
    from another column) becomes ``line_input`` (``smiles_input``).

    Raises:
        InputFileError: missing or unreadable file, unknown suffix, missing column.
    """
    path = Path(path)
    kind = file_kind(path)
    text = _read_text(path)
    if kind == "smi":
        return _smi_table(path, text)
    return _csv_table(path, text, kind, smiles_column, id_column)


def check_not_input(output: Path, source: Path | str) -> None:
    """Refuse an output path that is the input file itself (writing it would erase the input).

    Raises:
        InputFileError: ``output`` and ``source`` are the same file.
    """
    if str(source) != STDIN and output.exists() and Path(source).exists() and output.samefile(source):
        raise InputFileError(f"the output {output} is the input file {source}: writing it would erase the "
                             "input; choose another output path")


def file_stem(path: Path) -> str:
    """File name without ``.gz`` and the format suffix: ``mols.smi.gz`` -> ``mols``."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return Path(name).stem


def split_lines(raw_lines: Iterable[str]) -> Iterator[str]:
    r"""Lines as molattr numbers them, from pieces of text that each end at a ``\n`` (or at the end).

    ``\r`` right before the ``\n`` is dropped (``\r\n``, and ``\r\r\n`` from a file converted
    twice, end one line), and any other ``\r`` ends a line (classic Mac files), so line numbers
    match what editors count; form feeds, ``\x85`` or U+2028 inside a line stay in it.
    """
    for raw in raw_lines:
        yield from (raw[:-1] if raw.endswith("\n") else raw).rstrip("\r").split("\r")


def _lines(text: str) -> list[str]:
    """:func:`split_lines` of a whole text (a final line end does not start another line)."""
    pieces = text.split("\n")
    if pieces and pieces[-1] == "":
        pieces.pop()
    return list(split_lines(pieces))


def _smi_table(path: Path, text: str) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(smi_rows(_lines(text), file_stem(path))), columns=["line", "id", "smiles"])


def smi_rows(lines: Iterable[str], stem: str) -> Iterator[tuple[int, str, str]]:
    """``(line number, id, SMILES)`` of each line of a SMILES file: the SMILES, then an optional
    name (``<stem>:<line>`` without one); a first line starting with ``SMILES`` is a header."""
    for number, line in enumerate(lines, start=1):
        parts = line.split(maxsplit=1)
        if number == 1 and parts and parts[0].lower() == "smiles":
            continue
        yield number, parts[1].strip() if len(parts) > 1 else f"{stem}:{number}", parts[0] if parts else ""


def id_column_of(path: Path | str, columns: list[str], smiles_column: str, id_column: str | None) -> str | None:
    """The id column of a table: ``id_column``, else a column named ``id`` (unless it holds the SMILES).

    Raises:
        InputFileError: the SMILES or id column is missing.
    """
    for column in (smiles_column, id_column):
        if column is not None and column not in columns:
            raise InputFileError(f"{path}: no column {column!r} (columns: {', '.join(map(str, columns))})")
    if id_column is None and "id" in columns and smiles_column != "id":
        return "id"
    return id_column


def checked_header(path: Path | str, fields: list[str]) -> list[str]:
    """A CSV/TSV header's column names, stripped.

    Raises:
        InputFileError: a name that appears more than once (which column would be meant?).
    """
    columns = [name.strip() for name in fields]
    repeated = sorted({name for name in columns if columns.count(name) > 1 and name})
    if repeated:
        raise InputFileError(f"{path}, line 1: column(s) {', '.join(map(repr, repeated))} appear more than once in the header")
    return columns


def no_header(path: Path | str, kind: str, smiles_column: str) -> InputFileError:
    """The error for a CSV/TSV file without even a header line."""
    return InputFileError(f"{path}: empty {kind.upper()} file (no header line naming the {smiles_column!r} column)")


def csv_reader(lines: Iterable[str], kind: str) -> Iterator[list[str]]:
    r"""A strict ``csv.reader`` (a quote left open to the end of the file is an error, not one
    field swallowing every later row) of the :func:`split_lines` of a CSV or TSV text, each given
    back its ``\n``. TSV fields are never quoted (a ``"`` is text, as in ``5" pipe``)."""
    return csv.reader((line + "\n" for line in lines), strict=True, **csv_dialect(kind))


def csv_dialect(kind: str) -> dict:
    """``csv`` / pandas reader settings of a CSV or TSV file."""
    return {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if kind == "tsv" else {"delimiter": ","}


def numbered_rows(reader: Iterator[list[str]], source: Path | str) -> Iterator[tuple[int, list[str]]]:
    """Each row still to come from a :func:`csv_reader` with the line it starts on (a quoted field
    may span lines, so a row can end several lines later).

    Raises:
        InputFileError: malformed CSV (an unclosed quote, text after a closing quote), naming the line.
    """
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(f"{source}, line {start}: not valid CSV ({exc})") from None
        yield start, fields
        start = reader.line_num + 1


def _row_lines(path: Path, text: str, kind: str) -> list[int]:
    """The line each data row (after the header) starts on."""
    reader = csv_reader(split_lines(io.StringIO(text)), kind)
    next(reader, None)
    return [line for line, _ in numbered_rows(reader, path)]


def _csv_table(path: Path, text: str, kind: str, smiles_column: str, id_column: str | None) -> pd.DataFrame:
    if not text.strip():
        raise no_header(path, kind, smiles_column)
    text = "".join(line + "\n" for line in _lines(text))  # only "\n" line ends from here on
    checked_header(path, next(csv_reader(split_lines(io.StringIO(text)), kind), []))
    try:
        with warnings.catch_warnings():  # a trailing empty field (a trailing comma) is dropped, as the
            warnings.simplefilter("ignore", pd.errors.ParserWarning)  # streamed reader drops it
            frame = pd.read_csv(
                io.StringIO(text), **csv_dialect(kind), dtype=str, keep_default_na=False,
                skip_blank_lines=False, index_col=False,  # never a first column taken for the index
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{path}: not a valid {kind.upper()} file ({str(exc).strip()})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    id_column = id_column_of(path, list(frame.columns), smiles_column, id_column)
    line = _row_lines(path, text, kind)
    given = frame[id_column].str.strip() if id_column else [""] * len(frame)
    ids = [name or f"{file_stem(path)}:{n}" for name, n in zip(given, line)]
    out = frame.drop(columns=[c for c in (smiles_column, id_column) if c], errors="ignore")
    out = out.rename(columns={c: f"{c}_input" for c in ("line", "id", "smiles") if c in out.columns})
    out.insert(0, "smiles", frame[smiles_column].fillna(""))
    out.insert(0, "id", list(ids))
    out.insert(0, "line", list(line))
    return out
