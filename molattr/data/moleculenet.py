"""MoleculeNet loaders: a local file, the shared data folder, a cache, or the public download."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from molattr.data.tables import csv_dialect, file_kind
from molattr.errors import InputFileError
from molattr.resources import datasets_dir

CACHE = Path("~/.cache/molattr").expanduser()


def default_search() -> list[Path]:
    """Folders searched before downloading: ``MOLATTR_DATA_DIR`` when set, a ``shared/data/moleculenet``
    beside the working directory or beside the source checkout, then the cache."""
    env = [Path(os.environ["MOLATTR_DATA_DIR"])] if os.environ.get("MOLATTR_DATA_DIR") else []
    beside = [Path.cwd().parent, Path(__file__).resolve().parents[3]]
    return env + [p / "shared" / "data" / "moleculenet" for p in beside] + [CACHE]


@dataclass(frozen=True)
class Recipe:
    """How to get one MoleculeNet data set and which columns it has."""

    name: str
    file: str
    table_sha256: str
    url: str
    smiles_column: str
    tasks: tuple[str, ...]
    rename: dict[str, str]
    task_type: str


def recipes() -> dict[str, Recipe]:
    """All recipes in ``datasets/moleculenet.json``, by lower-case name."""
    raw = json.loads((datasets_dir() / "moleculenet.json").read_text(encoding="utf-8"))
    return {
        name: Recipe(name, r["file"], r["table_sha256"], r["url"], r["smiles_column"], tuple(r["tasks"]),
                     dict(r["rename"]), r["task_type"])
        for name, r in raw.items() if not name.startswith("_")
    }


def recipe(name: str) -> Recipe:
    """The recipe of a MoleculeNet data set, by name (any case).

    Raises:
        InputFileError: an unknown name, listing the known ones.
    """
    known = recipes()
    if name.lower() not in known:
        raise InputFileError(f"unknown MoleculeNet data set {name!r} (known: {', '.join(sorted(known))})")
    return known[name.lower()]


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes (a checkpoint records its training file's)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_sha256(path: Path, r: Recipe) -> str:
    """:func:`columns_sha256` of the recipe's SMILES and task columns: the same for the copy the
    shipped models were trained on and for a download of the public file.

    Raises:
        InputFileError: a column of the recipe is missing, or the file cannot be read.
    """
    return columns_sha256(path, [r.smiles_column, *r.tasks], f"the {r.name} table")


def columns_sha256(path: Path, columns: list[str], what: str = "the training table") -> str:
    """Hex SHA-256 of a CSV's ``columns`` as pandas writes them back: the same whatever the file's
    compression (gzip headers carry a time stamp), other columns or number formatting.

    Raises:
        InputFileError: a column is missing (``what`` names the expected table), or the file cannot be read.
    """
    dialect = csv_dialect(file_kind(Path(path)))
    try:
        frame = pd.read_csv(path, usecols=columns, **dialect)[columns]
    except ValueError as exc:  # a column is missing
        raise InputFileError(f"{path}: not {what} ({exc})") from None
    except (OSError, EOFError) as exc:  # a truncated or corrupt gzip stream
        raise InputFileError(f"{path}: cannot read ({exc})") from exc
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def locate(name: str, search: list[Path] | None = None, download: bool = True) -> Path:
    """Path of a MoleculeNet CSV: the first found in ``search`` (default :func:`default_search`),
    else downloaded to ``~/.cache/molattr`` when ``download`` and the network allows.

    A file whose table differs from the recipe's (:func:`table_sha256`) is used with a warning
    (the shipped models' metrics were measured on the recipe's table); so is a download.

    Raises:
        InputFileError: not found locally and the download failed or was not allowed.
    """
    r = recipe(name)
    folders = default_search() if search is None else search
    for folder in folders:
        path = Path(folder).expanduser() / r.file
        if path.is_file():
            _check_table(path, r)
            return path
    if not download:
        raise InputFileError(f"{r.file} not found in {', '.join(map(str, folders))} and downloading is off")
    path = _download(r, CACHE)
    _check_table(path, r)
    return path


def _check_table(path: Path, r: Recipe) -> None:
    if table_sha256(path, r) != r.table_sha256:
        warnings.warn(f"{path}: its {r.name} table differs from the one the shipped models were trained on "
                      f"(table checksum {r.table_sha256[:12]}…)", stacklevel=3)


def _download(r: Recipe, cache: Path) -> Path:
    try:
        with urllib.request.urlopen(r.url, timeout=60) as response:
            raw = response.read()
    except OSError as exc:
        raise InputFileError(f"{r.name}: not found locally and the download from {r.url} failed ({exc})") from exc
    if r.url.endswith(".gz"):
        raw = gzip.decompress(raw)
    frame = pd.read_csv(io.BytesIO(raw)).rename(columns=r.rename)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / r.file
    frame[[r.smiles_column, *r.tasks]].to_csv(target, index=False, compression="gzip")
    return target
