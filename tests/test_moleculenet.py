"""MoleculeNet loaders: the table checksum matches a download of the public file, not just our copy's bytes."""
from __future__ import annotations

import io
import urllib.request
import warnings

import pandas as pd
import pytest

from molattr.data import moleculenet
from molattr.data.moleculenet import locate, recipe, table_sha256
from molattr.errors import InputFileError
from tests.conftest import SHARED_DATA


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _public_delaney() -> bytes:
    """Delaney as the public file has it: the original task column name, other columns, plain CSV."""
    ours = pd.read_csv(SHARED_DATA / "delaney.csv.gz")
    public = pd.DataFrame({"Compound ID": [f"c{k}" for k in range(len(ours))],
                           "measured log solubility in mols per litre": ours["logp"],
                           "Molecular Weight": 1.0, "smiles": ours["smiles"]})
    return public.to_csv(index=False).encode()


@pytest.mark.skipif(not (SHARED_DATA / "delaney.csv.gz").is_file(), reason="needs the shared MoleculeNet copy")
def test_a_download_of_the_same_data_matches_the_recipe(tmp_path, monkeypatch):
    monkeypatch.setattr(moleculenet, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: _Response(_public_delaney()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "differs" warning: the same table
        path = locate("delaney", search=[tmp_path / "nowhere"])
    assert path == tmp_path / "cache" / "delaney.csv.gz"
    assert table_sha256(path, recipe("delaney")) == table_sha256(SHARED_DATA / "delaney.csv.gz", recipe("delaney"))
    changed = pd.read_csv(path)
    changed.loc[0, "logp"] += 1
    changed.to_csv(path, index=False)
    with pytest.warns(UserWarning, match="differs from the one the shipped models were trained on"):
        locate("delaney", search=[tmp_path / "cache"])


def test_a_table_without_the_recipes_columns_is_named(tmp_path):
    path = tmp_path / "delaney.csv.gz"
    pd.DataFrame({"smiles": ["CCO"]}).to_csv(path, index=False)
    with pytest.raises(InputFileError, match="not the delaney table"):
        locate("delaney", search=[tmp_path])


def test_a_truncated_or_mislabelled_file_is_named(tmp_path):
    """A cut-off download or a plain CSV named .csv.gz: an error naming the file (the CLI had said only 'Aborted!')."""
    import gzip

    cut = tmp_path / "delaney.csv.gz"
    rows = "".join(f"{'C' * (k % 30 + 1)}O,{k / 7:.6f}\n" for k in range(20000)).encode()
    cut.write_bytes(gzip.compress(b"smiles,logp\n" + rows)[:20000])
    with pytest.raises(InputFileError, match=r"delaney.csv.gz: cannot read"):
        locate("delaney", search=[tmp_path], download=False)
    cut.write_bytes(b"smiles,logp\nCCO,1.0\n")
    with pytest.raises(InputFileError, match=r"delaney.csv.gz: cannot read \(Not a gzipped file"):
        locate("delaney", search=[tmp_path], download=False)
