"""The attribution report: every input row kept, cards, tables, SDF; failures become statuses and notes."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner
from rdkit import Chem
from rdkit.Chem import AllChem

import molattr
from molattr.attribution import IntegratedGradients
from molattr.cli import main
from molattr.errors import NonFiniteOutputError
from molattr.mapping import map_attribution
from molattr.report import ReportContext, RowOutcome, attribute_rows, write_report
from tests.conftest import planted_attribution

ROWS = [
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O", "ok"),
    ("blank", "", "empty"),
    ("garbage", "C1CC(", "unparsable"),
    ("methane", "C", "ok"),
    ("salt", "[Na+].CC(=O)[O-]", "ok_salt_stripped"),
    ("tcdd", "Clc1cc2Oc3cc(Cl)c(Cl)cc3Oc2cc1Cl", "ok"),
]


@pytest.fixture(scope="module")
def ig() -> IntegratedGradients:
    return IntegratedGradients(molattr.load_model("w2n2-tox21"), device="cpu")


def table() -> pd.DataFrame:
    return pd.DataFrame({"id": [r[0] for r in ROWS], "smiles": [r[1] for r in ROWS], "line": range(1, len(ROWS) + 1)})


def test_every_row_comes_out_once_with_its_status(ig, tmp_path):
    outcomes = attribute_rows(ig, table(), "NR-AhR", method="gauss_legendre", n_steps=8, return_interior=True)
    assert [o.status for o in outcomes] == [r[2] for r in ROWS]
    assert [o.id for o in outcomes] == [r[0] for r in ROWS]
    context = ReportContext("w2n2-tox21", "planted.smi", "NR-AhR", "logit", "gauss_legendre", "all_pairs")
    report = write_report(outcomes, tmp_path / "report", context)
    page = report.read_text()
    assert len(re.findall(r'<div class="card( error)?">', page)) == len(ROWS)
    assert page.count('class="card error"') == 2 and "unparsable" in page and "empty" in page
    molecules = pd.read_csv(tmp_path / "report" / "molecules.csv", keep_default_na=False)
    assert list(molecules["status"]) == [r[2] for r in ROWS] and list(molecules["id"]) == [r[0] for r in ROWS]
    attributed = molecules[molecules["status"].str.startswith("ok")].astype(
        {c: float for c in ("gap", "total_attribution", "prediction", "baseline_prediction")})
    gap = attributed["total_attribution"] - (attributed["prediction"] - attributed["baseline_prediction"])
    assert (attributed["gap"] - gap).abs().max() < 1e-4
    atoms = pd.read_csv(tmp_path / "report" / "atoms.csv")
    assert set(atoms["row"]) == {0, 3, 4, 5}
    sums = atoms.groupby("row")["attribution"].sum()
    for row, total in zip(attributed["row"], attributed["total_attribution"].astype(float)):
        assert sums[row] == pytest.approx(total, rel=1e-5, abs=1e-6)
    salt_bonds = pd.read_csv(tmp_path / "report" / "bonds.csv").query("row == 4")  # the sodium was input atom 0
    assert len(salt_bonds) == 3 and (salt_bonds["input_begin"] == salt_bonds["begin"] + 1).all()
    records = list(Chem.SDMolSupplier(str(tmp_path / "report" / "attributions.sdf")))
    assert [(m.GetProp("_Name"), m.GetIntProp("row"), m.GetIntProp("line"), m.GetProp("status")) for m in records] == [
        (ROWS[k][0], k, k + 1, ROWS[k][2]) for k in (0, 3, 4, 5)]  # each record finds its input row
    for k in (0, 3, 4, 5):  # pictures are named by the row column
        assert (tmp_path / "report" / "images" / f"row-{k}.svg").stat().st_size > 2000
        assert (tmp_path / "report" / "images" / f"row-{k}-saturation.png").stat().st_size > 5000
        assert "addModel" in (tmp_path / "report" / "3d" / f"row-{k}.html").read_text()
    for src in re.findall(r'src="([^"]+)"', page):
        assert (tmp_path / "report" / src).is_file()


def test_a_failing_molecule_is_isolated(ig, monkeypatch):
    real = IntegratedGradients.attribute

    def failing(self, molecules, **kwargs):
        items = molecules if isinstance(molecules, list) else [molecules]
        if any(getattr(g, "smiles", "") == "C" for g in items):
            raise NonFiniteOutputError("non-finite score for 'C'")
        return real(self, molecules, **kwargs)

    monkeypatch.setattr(IntegratedGradients, "attribute", failing)
    outcomes = attribute_rows(ig, table(), 2, method="gauss_legendre", n_steps=4)
    assert [o.status for o in outcomes][3] == "attribution_failed" and "non-finite" in outcomes[3].error
    assert [o.status for o in outcomes][:3] + [o.status for o in outcomes][4:] == [r[2] for r in ROWS[:3] + ROWS[4:]]


def test_pictures_that_fail_become_notes(ig, tmp_path, monkeypatch):
    monkeypatch.setattr(AllChem, "EmbedMolecule", lambda *args, **kwargs: -1)
    outcomes = attribute_rows(ig, table().iloc[:1], 2, method="gauss_legendre", n_steps=4)
    page = write_report(outcomes, tmp_path, ReportContext("m", "f", "t", "logit", "gl", "all_pairs")).read_text()
    assert "could not embed" in page and "3D view" in page


def test_all_zero_attributions_are_noted(tmp_path):
    outcome = RowOutcome(0, 1, "phenol", "Oc1ccccc1", "ok", "", map_attribution(planted_attribution("Oc1ccccc1")))
    page = write_report([outcome], tmp_path, ReportContext("m", "f", "t", "logit", "gl", "all_pairs")).read_text()
    assert "every attribution is zero" in page and (tmp_path / "images" / "row-0.svg").is_file()


def test_a_model_that_ignores_its_inputs_gives_a_status():
    spec = molattr.FeatureSpec()
    zero_model = molattr.nn.WeaveModel(molattr.nn.WeaveConfig(spec.n_atom_features, spec.n_pair_features, 1)).eval()
    for p in zero_model.parameters():
        p.data.zero_()
    ig = IntegratedGradients(zero_model, spec=spec, device="cpu")
    table_ = pd.DataFrame({"smiles": ["CCO"]})
    outcomes = attribute_rows(ig, table_, 0, method="gauss_legendre", n_steps=4)
    assert outcomes[0].status == "attribution_failed" and "does not depend" in outcomes[0].error


def test_cli_attribute(tmp_path):
    source = tmp_path / "in.smi"
    source.write_text("CC(=O)Oc1ccccc1C(=O)O aspirin\nnot_a_smiles broken\nc1ccccc1O phenol\n")
    result = CliRunner().invoke(main, ["attribute", str(source), "-o", str(tmp_path / "out"), "-t", "NR-AhR",
                                       "--method", "gauss_legendre", "--steps", "8", "--no-3d"])
    assert result.exit_code == 0, result.output
    assert "3 rows (2 ok, 1 unparsable)" in result.output
    assert "line 2" in result.output
    assert not (tmp_path / "out" / "3d").exists()
    assert (tmp_path / "out" / "report.html").stat().st_size > 2000
    bad = CliRunner().invoke(main, ["attribute", str(source), "-o", str(tmp_path / "o2"), "-t", "NO-SUCH-TASK"])
    assert bad.exit_code == 2 and "NO-SUCH-TASK" in bad.output and "NR-AhR" in bad.output
    assert not (tmp_path / "o2").exists()
    for option in (["--method", "simpson"], ["--tolerance", "1.5"]):
        assert CliRunner().invoke(main, ["attribute", str(source), "-o", str(tmp_path / "o3"), *option]).exit_code == 2


def test_a_molecule_without_2d_layout_becomes_a_note(ig, tmp_path, monkeypatch):
    from rdkit.Chem import rdDepictor

    outcomes = attribute_rows(ig, table().iloc[:1], 2, method="gauss_legendre", n_steps=4, return_interior=True)

    def refuse(*args, **kwargs):
        raise ValueError("no layout")

    monkeypatch.setattr(rdDepictor, "Compute2DCoords", refuse)
    page = write_report(outcomes, tmp_path, ReportContext("m", "f", "t", "logit", "gl", "all_pairs"), with_3d=False).read_text()
    assert "picture not drawn" in page and "cannot lay out" in page
    assert (tmp_path / "images" / "row-0-saturation.png").is_file()  # the rest of the card is still made


def test_no_rows_still_give_a_readable_molecules_table(ig, tmp_path):
    context = ReportContext("w2n2-tox21", "none.smi", "NR-AhR", "logit", "gauss_legendre", "all_pairs")
    write_report([], tmp_path / "report", context)
    molecules = pd.read_csv(tmp_path / "report" / "molecules.csv")
    assert len(molecules) == 0 and list(molecules.columns)[:5] == ["row", "line", "id", "smiles", "status"]


def test_report_html_is_well_formed(ig, tmp_path):
    from html.parser import HTMLParser

    class Balance(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag not in ("br", "img", "meta"):
                self.stack.append(tag)

        def handle_endtag(self, tag):
            assert self.stack and self.stack.pop() == tag, tag

    outcomes = attribute_rows(ig, table(), 2, method="gauss_legendre", n_steps=4, return_interior=True)
    parser = Balance()
    parser.feed(write_report(outcomes, tmp_path, ReportContext("m", "f<&>", "t", "logit", "gl", "all_pairs"),
                             with_3d=False).read_text())
    assert parser.stack == []


@pytest.mark.slow
def test_main_job_explains_the_example_drugs(tmp_path, monkeypatch):
    """The README's main job: `molattr attribute -t NR-AhR` on the shipped example drugs."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["attribute", "-t", "NR-AhR"])
    assert result.exit_code == 0, result.output
    assert "38 rows (37 ok, 1 ok_salt_stripped)" in result.output
    out = tmp_path / "attribution-report"
    molecules = pd.read_csv(out / "molecules.csv").set_index("id")
    assert (molecules["relative_gap"] < 0.02).all()  # adaptive default: held to 1% (a little slack per molecule)
    assert molecules.loc["TCDD (dioxin)", "prediction"] > molecules.loc["aspirin", "prediction"]
    assert len(re.findall(r'<div class="card">', (out / "report.html").read_text())) == 38
    assert len(list((out / "3d").glob("row-*.html"))) == 38


@pytest.mark.parametrize("command", ["attribute", "pharmacophores", "dead-features"])
def test_reports_are_utf8_whatever_the_locale(tmp_path, command):
    """Pages say charset=utf-8 and carry '—', '−' and the ids' own letters: they are written as UTF-8
    also where the locale's encoding is ASCII (it had raised UnicodeEncodeError)."""
    source = tmp_path / "one.smi"
    source.write_text("CC(=O)Oc1ccccc1C(=O)O phénol-β\n", encoding="utf-8")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "molattr", command, str(source), "-t", "NR-AhR", "-o", str(out),
                             "--method", "gauss_legendre", "--steps", "4"], env=env, capture_output=True, text=True,
                            encoding="utf-8", timeout=300)
    assert result.returncode == 0, result.stderr
    page = out / ("report.html" if command == "attribute" else "summary.html")
    text = page.read_text(encoding="utf-8")
    assert 'charset="utf-8"' in text.lower() or "charset=utf-8" in text.lower()
    if command == "attribute":
        assert "phénol-β" in text and "—" in text
