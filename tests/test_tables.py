"""Reading molecule files: every row kept with its file line number, clear file errors."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from molattr.chem import parse_smiles
from molattr.data.records import iter_records
from molattr.data.tables import file_kind, read_molecules
from molattr.errors import InputFileError, InvalidMoleculeError

SMI_WITH_HEADER = (
    "SMILES name\n"        # 1 header
    "CCO ethanol\n"        # 2 space-separated name
    "c1ccccc1\tbenzene\n"  # 3 tab-separated name
    "\n"                   # 4 blank
    "   \t \n"             # 5 whitespace only
    "CC(=O)O acetic acid\n"  # 6 name containing a space
    "CCN\n"                # 7 no name
    "  C  methane  \n"     # 8 surrounding whitespace
)


def write(path: Path, text: str | bytes) -> Path:
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(data)
    return path


def records(frame) -> list[tuple]:
    return list(frame[["line", "id", "smiles"]].itertuples(index=False, name=None))


def test_smi_with_header(tmp_path):
    table = read_molecules(write(tmp_path / "mols.smi", SMI_WITH_HEADER))
    assert list(table.columns[:3]) == ["line", "id", "smiles"]
    assert records(table) == [
        (2, "ethanol", "CCO"),
        (3, "benzene", "c1ccccc1"),
        (4, "mols:4", ""),
        (5, "mols:5", ""),
        (6, "acetic acid", "CC(=O)O"),
        (7, "mols:7", "CCN"),
        (8, "methane", "C"),
    ]


def test_smi_header_is_case_insensitive(tmp_path):
    table = read_molecules(write(tmp_path / "m.smi", "smiles\tID\nCCO a\n"))
    assert records(table) == [(2, "a", "CCO")]


def test_smi_without_header(tmp_path):
    table = read_molecules(write(tmp_path / "plain.smi", "CCO ethanol\n\nCCN\n"))
    assert records(table) == [(1, "ethanol", "CCO"), (2, "plain:2", ""), (3, "plain:3", "CCN")]


def test_smi_crlf_and_missing_final_newline(tmp_path):
    table = read_molecules(write(tmp_path / "w.smi", "CCO a\r\nCCN b\r\nC"))
    assert records(table) == [(1, "a", "CCO"), (2, "b", "CCN"), (3, "w:3", "C")]


@pytest.mark.parametrize("suffix", [".smiles", ".txt", ".SMI"])
def test_other_smiles_suffixes(tmp_path, suffix):
    table = read_molecules(write(tmp_path / f"x{suffix}", "CCO a\nCCN\n"))
    assert [r[2] for r in records(table)] == ["CCO", "CCN"]
    assert [r[0] for r in records(table)] == [1, 2]


def test_empty_smi_file(tmp_path):
    table = read_molecules(write(tmp_path / "empty.smi", ""))
    assert len(table) == 0
    assert list(table.columns) == ["line", "id", "smiles"]


def test_gzipped_smi_reads_like_plain(tmp_path):
    plain = read_molecules(write(tmp_path / "mols.smi", SMI_WITH_HEADER))
    zipped = read_molecules(write(tmp_path / "mols.smi.gz", gzip.compress(SMI_WITH_HEADER.encode())))
    assert zipped["line"].tolist() == plain["line"].tolist()
    assert zipped["smiles"].tolist() == plain["smiles"].tolist()
    named = plain["id"].str.startswith("mols:") == False  # noqa: E712 (pandas mask)
    assert zipped["id"][named].tolist() == plain["id"][named].tolist()


def test_gzipped_default_ids_match_plain(tmp_path):
    plain = read_molecules(write(tmp_path / "mols.smi", "CCO\n"))
    zipped = read_molecules(write(tmp_path / "mols.smi.gz", gzip.compress(b"CCO\n")))
    assert zipped["id"].tolist() == plain["id"].tolist() == ["mols:1"]


CSV_TEXT = (
    "name,SMILES_str,activity,note\n"  # 1 header
    "a,CCO,1.5,first\n"                # 2
    "b,,0,\n"                          # 3 empty smiles and note
    "c,c1ccccc1,,x\n"                  # 4 empty activity
    "d,CCN,2,\n"                       # 5
)


def test_csv_columns_and_lines(tmp_path):
    table = read_molecules(write(tmp_path / "d.csv", CSV_TEXT), smiles_column="SMILES_str", id_column="name")
    assert records(table) == [(2, "a", "CCO"), (3, "b", ""), (4, "c", "c1ccccc1"), (5, "d", "CCN")]
    # other columns are kept as text, empty cells as ""
    assert table["activity"].tolist() == ["1.5", "0", "", "2"]
    assert table["note"].tolist() == ["first", "", "x", ""]
    assert "SMILES_str" not in table.columns and "name" not in table.columns


def test_csv_default_ids(tmp_path):
    table = read_molecules(write(tmp_path / "d.csv", CSV_TEXT), smiles_column="SMILES_str")
    assert table["id"].tolist() == ["d:2", "d:3", "d:4", "d:5"]
    assert table["name"].tolist() == ["a", "b", "c", "d"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_tables_and_streamed_records_agree_on_lines_and_ids(tmp_path, suffix):
    """A quoted field over two lines (CSV; TSV fields are not quoted), a blank line, an empty id:
    predict's table and score's records give every row the same line and id."""
    sep = "," if suffix == ".csv" else "\t"
    second = ['"C\nC"', "b"] if suffix == ".csv" else ["CC", "b"]
    rows = ["smiles", "id"], ["CCO", "a"], second, [], ["", ""], ["c1ccccc1O", ""], ["CCN", "e"]
    path = write(tmp_path / f"m{suffix}", "\n".join(sep.join(r) for r in rows) + "\n")
    table = read_molecules(path)
    streamed = [(r.line, r.id, r.text) for r in iter_records(path)]
    assert records(table) == streamed
    first = 5 if suffix == ".csv" else 4  # the line after the row that spans two
    assert [line for line, _, _ in streamed] == [2, 3, first, first + 1, first + 2, first + 3]
    assert [i for _, i, _ in streamed] == ["a", "b", *(f"m:{first + k}" for k in range(3)), "e"]


def both_readers(path: Path) -> tuple[list[tuple], list[tuple]]:
    """(line, id, SMILES) of every row as predict's table and score's streamed records read them."""
    return records(read_molecules(path)), [(r.line, r.id, r.text) for r in iter_records(path)]


def test_a_trailing_comma_does_not_shift_the_columns(tmp_path):
    """Rows with one field more than the header: pandas used to take the first column for the
    index, so predict scored each row's next column (benzene for ethanol) and called it ok."""
    path = write(tmp_path / "shift.csv", "smiles,parent\nCCO,c1ccccc1,\nCCN,CC(=O)O,\n")
    table, streamed = both_readers(path)
    assert table == streamed == [(2, "shift:2", "CCO"), (3, "shift:3", "CCN")]
    assert read_molecules(path)["parent"].tolist() == ["c1ccccc1", "CC(=O)O"]


@pytest.mark.parametrize("name, text", [
    ("bom.csv", "\ufeffsmiles,name\nCCO,ethanol\n"), ("bom.smi", "\ufeffSMILES\tname\nCCO\tethanol\n"),
    ("bom2.smi", "\ufeffCCO\tethanol\n"),
])
def test_a_byte_order_mark_is_not_text(tmp_path, name, text):
    """Excel's "CSV UTF-8" starts with a byte-order mark: the header is still a header, the first
    SMILES still parses."""
    path = write(tmp_path / name, text)
    table, streamed = both_readers(path)
    line = 1 if name == "bom2.smi" else 2
    assert table == streamed and table[0][0] == line and table[0][2] == "CCO"
    if name == "bom.smi":
        assert table == [(2, "ethanol", "CCO")]


def test_an_unclosed_quote_is_an_error_naming_its_line(tmp_path):
    """score's reader used to read the rest of the file into one field and report one row."""
    path = write(tmp_path / "open.csv", 'smiles,id\nCCO,a\nCCN,"b\nCCC,c\nc1ccccc1,d\n')
    with pytest.raises(InputFileError, match="open.csv, line 3: not valid CSV"):
        list(iter_records(path))
    with pytest.raises(InputFileError, match="not a valid CSV file"):
        read_molecules(path)


def test_a_field_over_128_kib_is_one_rows_problem(tmp_path):
    long = "C" * 140_000
    path = write(tmp_path / "long.csv", f"smiles,id\nCCO,a\n{long},b\nCCN,c\n")
    table, streamed = both_readers(path)
    assert table == streamed and [row[2] for row in table] == ["CCO", long, "CCN"]
    with pytest.raises(InvalidMoleculeError, match="too_large: 'C{40}...' \\(140000 characters"):
        parse_smiles(long)


def test_csv_default_smiles_column(tmp_path):
    table = read_molecules(write(tmp_path / "s.csv", "smiles,y\nCCO,1\nCCN,0\n"))
    assert records(table) == [(2, "s:2", "CCO"), (3, "s:3", "CCN")]
    assert table["y"].tolist() == ["1", "0"]


def test_csv_values_that_look_like_missing_stay_text(tmp_path):
    table = read_molecules(write(tmp_path / "na.csv", "smiles,y\nNA,NaN\nN,null\n"))
    assert table["smiles"].tolist() == ["NA", "N"]  # sodium is "[Na]"; "NA" must not become NaN
    assert table["y"].tolist() == ["NaN", "null"]


def test_tsv(tmp_path):
    table = read_molecules(write(tmp_path / "t.tsv", "id\tsmiles\nm1\tCCO\nm2\tCC,N\n"), id_column="id")
    assert records(table) == [(2, "m1", "CCO"), (3, "m2", "CC,N")]


def test_gzipped_csv_reads_like_plain(tmp_path):
    plain = read_molecules(write(tmp_path / "d.csv", CSV_TEXT), smiles_column="SMILES_str", id_column="name")
    zipped = read_molecules(
        write(tmp_path / "d.csv.gz", gzip.compress(CSV_TEXT.encode())), smiles_column="SMILES_str", id_column="name"
    )
    assert zipped.equals(plain)


@pytest.mark.parametrize("kwargs, missing", [({}, "smiles"), ({"smiles_column": "SMILES_str", "id_column": "ID"}, "ID")])
def test_csv_missing_column(tmp_path, kwargs, missing):
    path = write(tmp_path / "d.csv", CSV_TEXT)
    with pytest.raises(InputFileError) as info:
        read_molecules(path, **kwargs)
    message = str(info.value)
    assert str(path) in message
    assert repr(missing) in message
    for column in ("name", "SMILES_str", "activity", "note"):
        assert column in message


@pytest.mark.parametrize("column", ["id", "line"])
def test_csv_with_id_or_line_column_is_readable(tmp_path, column):
    path = write(tmp_path / "c.csv", f"{column},smiles\nm1,CCO\nm2,CCN\n")
    table = read_molecules(path)
    assert table["smiles"].tolist() == ["CCO", "CCN"]
    assert table["line"].tolist() == [2, 3]
    if column == "id":  # a column named id is the id
        assert table["id"].tolist() == ["m1", "m2"]
    else:  # the file's own "line" column is kept under another name
        assert table["line_input"].tolist() == ["m1", "m2"] and table["id"].tolist() == ["c:2", "c:3"]


def test_non_utf8_bytes(tmp_path):
    data = b"CCO ethanol\nC\xff\xfeC broken\nCCN caf\xe9\nc1ccccc1 benzene\n"
    table = read_molecules(write(tmp_path / "bad.smi", data))
    assert table["line"].tolist() == [1, 2, 3, 4]
    assert table["smiles"].tolist()[0] == "CCO"
    assert table["smiles"].tolist()[2:] == ["CCN", "c1ccccc1"]
    with pytest.raises(InvalidMoleculeError) as info:
        parse_smiles(table["smiles"][1])
    assert info.value.reason == "unparsable"
    parse_smiles(table["smiles"][2])  # a bad byte in the name does not spoil the SMILES


def test_non_utf8_bytes_in_csv(tmp_path):
    data = b"smiles,name\nCCO,ok\nC\xffC,bad\nCCN,caf\xe9\n"
    table = read_molecules(write(tmp_path / "bad.csv", data))
    assert table["line"].tolist() == [2, 3, 4]
    with pytest.raises(InvalidMoleculeError) as info:
        parse_smiles(table["smiles"][1])
    assert info.value.reason == "unparsable"
    assert table["smiles"][2] == "CCN"


@pytest.mark.parametrize("separator", ["\f", "\v", "\x85", "\u2028"])
def test_unusual_line_separators_inside_a_line(tmp_path, separator):
    table = read_molecules(write(tmp_path / "odd.smi", f"CCO name{separator}part\nCCN second\n"))
    assert table["line"].tolist() == [1, 2]
    assert table["smiles"].tolist() == ["CCO", "CCN"]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.smi"
    with pytest.raises(InputFileError) as info:
        read_molecules(path)
    assert str(path) in str(info.value)


def test_directory_is_rejected(tmp_path):
    folder = tmp_path / "folder.smi"
    folder.mkdir()
    with pytest.raises(InputFileError) as info:
        read_molecules(folder)
    assert str(folder) in str(info.value)


@pytest.mark.parametrize("name", ["mols.xyz", "mols", "mols.sdf.gz"])
def test_unsupported_suffix(tmp_path, name):
    path = write(tmp_path / name, "CCO\n")
    with pytest.raises(InputFileError) as info:
        read_molecules(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip(tmp_path):
    path = write(tmp_path / "broken.smi.gz", b"definitely not gzip")
    with pytest.raises(InputFileError) as info:
        read_molecules(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "name, kind",
    [("a.smi", "smi"), ("a.SMILES", "smi"), ("a.txt.gz", "smi"), ("a.csv", "csv"), ("a.b.csv.gz", "csv"),
     ("a.tsv", "tsv")],
)
def test_file_kind(name, kind):
    assert file_kind(Path(name)) == kind


@pytest.mark.parametrize("name, text, lines, ids", [
    ("mac.smi", "SMILES name\rCCO a\rCCN b\r\rCCC c\r", [2, 3, 4, 5], ["a", "b", "mac:4", "c"]),  # classic Mac line ends
    ("twice.smi", "CCO a\r\r\nCCN b\r\r\n", [1, 2], ["a", "b"]),  # \r\n converted to \r\r\n
    ("mac.csv", "smiles,id\rCCO,a\rCCN,b\r", [2, 3], ["a", "b"]),
    ("twice.csv", "smiles,id\r\r\nCCO,a\r\r\nCCN,b\r\r\n", [2, 3], ["a", "b"]),
    ("twice.tsv", "smiles\tid\r\r\nCCO\ta\r\r\nCCN\tb\r\r\n", [2, 3], ["a", "b"]),
])
def test_carriage_returns_end_lines_as_editors_count_them(tmp_path, name, text, lines, ids):
    table, streamed = both_readers(write(tmp_path / name, text))
    assert table == streamed
    assert [line for line, _, _ in streamed] == lines and [i for _, i, _ in streamed] == ids


def test_tsv_quotes_are_text(tmp_path):
    """A quote in a TSV does not open a field that swallows the next lines."""
    path = write(tmp_path / "q.tsv", 'smiles\tname\nCCO\t"ethanol\nCCN\t5" pipe\nCCC\tpropane"\n')
    table, streamed = records(read_molecules(path, id_column="name")), [
        (r.line, r.id, r.text) for r in iter_records(path, id_column="name")]
    assert table == streamed == [(2, '"ethanol', "CCO"), (3, '5" pipe', "CCN"), (4, 'propane"', "CCC")]


def test_a_repeated_column_is_refused_by_both_readers(tmp_path):
    path = write(tmp_path / "dup.csv", "id,smiles,smiles\na,CCO,CCN\n")
    with pytest.raises(InputFileError, match=r"dup.csv, line 1: column\(s\) 'smiles' appear more than once"):
        read_molecules(path)
    with pytest.raises(InputFileError, match=r"dup.csv, line 1: column\(s\) 'smiles' appear more than once"):
        list(iter_records(path))
