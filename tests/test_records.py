"""Streaming record readers: every row once with its line, for .smi, CSV/TSV, SDF, gzip and stdin."""
from __future__ import annotations

import gzip
import io
import os
import sys

import pytest
from rdkit import Chem

from molattr.data.records import count_records, iter_records, record_format
from molattr.errors import InputFileError


def test_smi_rows_lines_ids_and_header(tmp_path):
    path = tmp_path / "m.smi"
    path.write_bytes(b"SMILES name\nCCO ethanol\n\n   \nC1CC( broken one\r\nc1ccccc1\xff benz\nCC\n")
    records = list(iter_records(path))
    assert [(r.row, r.line, r.id, r.text) for r in records] == [
        (0, 2, "ethanol", "CCO"), (1, 3, "m:3", ""), (2, 4, "m:4", ""), (3, 5, "broken one", "C1CC("),
        (4, 6, "benz", "c1ccccc1\ufffd"), (5, 7, "m:7", "CC"),
    ]
    assert count_records(path) == 6


def test_gzip_and_form_feed_stay_in_their_line(tmp_path):
    path = tmp_path / "m.smi.gz"
    path.write_bytes(gzip.compress("CCO a\x0cb\nCC\u2028x\n".encode()))
    records = list(iter_records(path))
    assert len(records) == 2 and records[0].id == "a\x0cb" and records[1].line == 2
    assert count_records(path) == 2


def test_csv_quoted_newlines_blank_rows_and_columns(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('name,smiles\nA,CCO\nB,"C\nC"\n\nD,c1ccccc1\n')
    records = list(iter_records(path, id_column="name"))
    assert [(r.row, r.line, r.id, r.text) for r in records] == [
        (0, 2, "A", "CCO"), (1, 3, "B", "C\nC"), (2, 5, "m:5", ""), (3, 6, "D", "c1ccccc1")]
    with pytest.raises(InputFileError, match="no column 'smi'"):
        list(iter_records(path, smiles_column="smi"))
    tsv = tmp_path / "m.tsv"
    tsv.write_text("smiles\tid\nCCO\tx\n")
    assert [(r.id, r.text) for r in iter_records(tsv)] == [("x", "CCO")]


def test_sdf_records_titles_properties_and_a_trailing_record(tmp_path):
    path = tmp_path / "m.sdf"
    with Chem.SDWriter(str(path)) as writer:
        for smiles in ("CCO", "c1ccccc1"):
            mol = Chem.MolFromSmiles(smiles)
            mol.SetProp("_Name", f"title {smiles}")
            mol.SetProp("cid", f"id-{smiles}")
            writer.write(mol)
    with open(path, "a") as handle:
        handle.write("not a mol block\n")
    records = list(iter_records(path))
    assert [r.id for r in records] == ["title CCO", "title c1ccccc1", "not a mol block"]
    assert all(r.is_molblock for r in records) and records[1].line > records[0].line
    assert [r.id for r in iter_records(path, id_column="cid")][:2] == ["id-CCO", "id-c1ccccc1"]
    assert Chem.MolToSmiles(Chem.MolFromMolBlock(records[1].text)) == "c1ccccc1"
    assert count_records(path) == 2  # terminated records; the trailing one is still read


def test_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"CCO x\nCC\n")))
    assert [(r.id, r.text) for r in iter_records("-")] == [("x", "CCO"), ("stdin:2", "CC")]
    assert count_records("-") is None
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(b"CCO x\nCC\n"))))
    assert [(r.id, r.text) for r in iter_records("-")] == [("x", "CCO"), ("stdin:2", "CC")]  # gzip piped in


def test_bad_sources(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        list(iter_records(tmp_path / "none.smi"))
    with pytest.raises(InputFileError, match="unsupported file type"):
        record_format(tmp_path / "x.xlsx")
    with pytest.raises(InputFileError, match="unknown input format"):
        record_format("-", "xml")
    broken = tmp_path / "b.smi.gz"
    broken.write_bytes(gzip.compress(b"CCO\n" * 1000)[:40])
    with pytest.raises(InputFileError, match="cannot read"):
        list(iter_records(broken))


def test_counting_reads_only_regular_files_and_names_a_truncated_one(tmp_path):
    """A pipe cannot be read twice: counting it would drain the rows the reader has yet to read."""
    fifo = tmp_path / "rows.smi"
    os.mkfifo(fifo)
    assert count_records(fifo) is None
    broken = tmp_path / "b.smi.gz"
    broken.write_bytes(gzip.compress(b"CCO\n" * 1000)[:40])
    with pytest.raises(InputFileError, match=r"b.smi.gz: cannot read \(Compressed file ended"):
        count_records(broken)
    mac = tmp_path / "mac.smi"
    mac.write_bytes(b"SMILES\rCCO\rCCN\r")
    assert count_records(mac) == 2
