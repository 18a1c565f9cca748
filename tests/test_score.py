"""Batch scoring: every row once with the right status, outputs in three formats, resume after a kill."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from rdkit import Chem, RDConfig

import molattr
from molattr.batch import AttributionOptions, InputSpec, RowLimits, Scorer, score_file
from molattr.batch.progress import progress_path
from molattr.cli import main
from molattr.errors import InputFileError

PEPTIDE = "NCC(=O)" * 75 + "O"  # 301 heavy atoms
PLANTED = [  # (id, SMILES bytes, expected status)
    (b"aspirin", b"CC(=O)Oc1ccccc1C(=O)O", "ok"),
    (b"garbage", b"C1CC(", "unparsable"),
    (None, b"", "empty"),
    (b"peptide", PEPTIDE.encode(), "too_large"),
    (b"methylmercury", b"C[Hg]Cl", "unsupported_element"),
    (b"tin", b"CCCC[Sn](CCCC)(CCCC)Cl", "unsupported_element"),
    (b"salt", b"CC(=O)[O-].[Na+]", "ok_salt_stripped"),
    (b"aspirin", b"CC(=O)Oc1ccccc1C(=O)O", "ok"),  # a duplicated id: both rows come out
    (None, b"   \t ", "empty"),
    (b"latin1", b"CC\xe9O", "unparsable"),
    (b"phenol", b"c1ccccc1O", "ok"),
]


@pytest.fixture(scope="module")
def checkpoint():
    return molattr.load_model("w2n2-tox21")


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    path = tmp_path / "planted.smi"
    path.write_bytes(b"".join(smiles + (b" " + name if name else b"") + b"\n" for name, smiles, _ in PLANTED))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".sdf"])
def test_planted_bad_rows_each_come_back_once_with_the_right_status(planted, tmp_path, checkpoint, suffix):
    out = tmp_path / f"out{suffix}"
    summary = score_file(InputSpec(str(planted)), out, Scorer(checkpoint), chunk_size=4, progress=False)
    table = _read(out)
    assert list(table["status"]) == [status for _, _, status in PLANTED]
    assert list(table["row"]) == list(range(len(PLANTED))) and list(table["line"]) == list(range(1, len(PLANTED) + 1))
    assert summary.rows == len(PLANTED) and sum(summary.counts.values()) == len(PLANTED)
    assert summary.counts["ok"] == 3 and summary.counts["unsupported_element"] == 2 and summary.counts["empty"] == 2
    errors = table[~table["status"].str.startswith("ok")]
    assert all(e.startswith(s) for e, s in zip(errors["error"], errors["status"]))
    assert table.loc[3, "n_atoms"] == 301 and "limit 200" in table.loc[3, "error"]
    assert "Hg" in table.loc[4, "error"] and "Sn" in table.loc[5, "error"]
    ok = table[table["status"].str.startswith("ok")]
    assert ok[checkpoint.tasks].notna().all().all() and table.loc[errors.index, checkpoint.tasks].isna().all().all()
    assert not progress_path(out).exists()


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".sdf":
        rows = [m.GetPropsAsDict() for m in Chem.SDMolSupplier(str(path), sanitize=False)]
        table = pd.DataFrame(rows).astype({"row": int, "line": int})
        table["error"] = table["error"].fillna("") if "error" in table else ""
        return table
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def test_predictions_and_attributions_agree_with_the_direct_api(planted, tmp_path, checkpoint):
    out = tmp_path / "out.csv"
    options = AttributionOptions("NR-AhR", method="gauss_legendre", n_steps=16, heatmap_dir=tmp_path / "maps")
    score_file(InputSpec(str(planted)), out, Scorer(checkpoint, options), chunk_size=3, progress=False)
    table = pd.read_csv(out)
    direct = molattr.predict(checkpoint, ["c1ccccc1O"])
    assert table.loc[10, "NR-AhR"] == pytest.approx(direct.loc[0, "NR-AhR"], rel=1e-5)
    ig = molattr.IntegratedGradients(checkpoint).attribute("c1ccccc1O", target="NR-AhR", method="gauss_legendre", n_steps=16)
    assert table.loc[10, "attr_total"] == pytest.approx(ig.total, rel=1e-4)
    values = json.loads(table.loc[10, "atom_attributions"])
    np.testing.assert_allclose(values, molattr.map_attribution(ig).atom_values, rtol=1e-4, atol=1e-6)
    strongest = int(np.argmax(np.abs(values)))
    symbol = Chem.MolFromSmiles("c1ccccc1O").GetAtomWithIdx(strongest).GetSymbol()
    assert table.loc[10, "top_atoms"].split(";")[0].split(":")[:2] == [str(strongest), symbol]
    assert (tmp_path / "maps" / "row-10.svg").is_file() and table.loc[10, "heatmap"].endswith("row-10.svg")
    assert table.loc[1, "attributed_task"] != "NR-AhR"  # error rows carry no attribution


def test_resume_after_an_interruption_equals_an_uninterrupted_run(tmp_path, checkpoint, monkeypatch):
    # on the CPU, where runs are bitwise reproducible (CUDA's atomic scatter-adds are not: README)
    source = tmp_path / "in.smi"
    source.write_text("".join(f"{s} m{k}\n" for k, s in enumerate(PLANTED_SMILES * 6)))
    full = tmp_path / "full.csv"
    score_file(InputSpec(str(source)), full, Scorer(checkpoint, device="cpu"), chunk_size=5, progress=False)
    out = tmp_path / "cut.csv"
    scorer = Scorer(checkpoint, device="cpu")
    real, calls = scorer.score, []

    def interrupted(records, prepared):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(records, prepared)

    monkeypatch.setattr(scorer, "score", interrupted)
    with pytest.raises(KeyboardInterrupt):
        score_file(InputSpec(str(source)), out, scorer, chunk_size=5, progress=False)
    state = json.loads(progress_path(out).read_text())
    assert state["rows_done"] == 15
    with open(out, "ab") as handle:  # a crash mid-write leaves a partial chunk beyond the recorded position
        handle.write(b"99,99,half a row")
    with pytest.raises(InputFileError, match="--resume"):
        score_file(InputSpec(str(source)), out, Scorer(checkpoint, device="cpu"), chunk_size=5, progress=False)
    summary = score_file(InputSpec(str(source)), out, Scorer(checkpoint, device="cpu"), chunk_size=5, resume=True, progress=False)
    assert summary.resumed_rows == 15 and summary.rows == len(PLANTED_SMILES) * 6
    assert out.read_bytes() == full.read_bytes()
    with pytest.raises(InputFileError, match="nothing to resume"):
        score_file(InputSpec(str(source)), out, Scorer(checkpoint, device="cpu"), chunk_size=5, resume=True, progress=False)


PLANTED_SMILES = ["CC(=O)Oc1ccccc1C(=O)O", "C1CC(", "", "CC(=O)[O-].[Na+]", "c1ccccc1O", "CN1CCC[C@H]1c1cccnc1"]


def test_parquet_resume_and_other_settings_refused(tmp_path, checkpoint, monkeypatch):
    source = tmp_path / "in.smi"
    source.write_text("".join(f"{s} m{k}\n" for k, s in enumerate(PLANTED_SMILES * 4)))
    full, out = tmp_path / "full.parquet", tmp_path / "cut.parquet"
    score_file(InputSpec(str(source)), full, Scorer(checkpoint), chunk_size=4, progress=False)
    scorer = Scorer(checkpoint)
    real = scorer.score
    monkeypatch.setattr(scorer, "score", lambda r, p: real(r, p) if r[0].row < 12 else (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        score_file(InputSpec(str(source)), out, scorer, chunk_size=4, progress=False)
    with pytest.raises(InputFileError, match="other settings"):
        score_file(InputSpec(str(source)), out, Scorer(checkpoint), chunk_size=4, resume=True, progress=False,
                   limits=RowLimits(max_atoms=10))
    score_file(InputSpec(str(source)), out, Scorer(checkpoint), chunk_size=4, resume=True, progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(full))
    assert not out.with_name(out.name + ".parts").exists()


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, checkpoint):
    source = tmp_path / "hits.sdf"
    with Chem.SDWriter(str(source)) as writer:
        writer.write(Chem.MolFromSmiles("c1ccccc1O"))
    before = source.read_bytes()
    with pytest.raises(InputFileError, match="is the input file"):
        score_file(InputSpec(str(source)), tmp_path / "." / "hits.sdf", Scorer(checkpoint), progress=False)
    assert source.read_bytes() == before


@pytest.mark.slow
def test_kill_9_mid_run_then_resume(tmp_path):
    """A real crash: the process is killed with SIGKILL between chunks or mid-write."""
    nci = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    source = tmp_path / "nci.smi"
    source.write_text(nci.read_text())
    command = [sys.executable, "-m", "molattr", "score", str(source), "--chunk-size", "50", "--no-progress"]
    subprocess.run(command + ["-o", str(tmp_path / "full.csv")], check=True, capture_output=True)
    out = tmp_path / "cut.csv"
    process = subprocess.Popen(command + ["-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = progress_path(out)
    deadline = time.time() + 120
    while time.time() < deadline:
        if state.exists() and json.loads(state.read_text() or "{}").get("rows_done", 0) >= 300:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert state.exists(), "the run finished before it could be killed"
    done = json.loads(state.read_text())["rows_done"]
    n_rows = len(nci.read_text().splitlines())
    assert 300 <= done < n_rows
    resumed = subprocess.run(command + ["-o", str(out), "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "of them from the interrupted run" in resumed.stderr
    first, second = pd.read_csv(tmp_path / "full.csv"), pd.read_csv(out)
    assert len(second) == len(first) == n_rows and list(second["row"]) == list(range(n_rows))
    pd.testing.assert_frame_equal(first, second)


def test_workers_give_the_same_rows(planted, tmp_path, checkpoint):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    options = AttributionOptions("NR-AhR", method="gauss_legendre", n_steps=4)  # maps need the molecules workers send back
    # on the CPU, where runs are bitwise reproducible (CUDA's atomic scatter-adds are not: README)
    score_file(InputSpec(str(planted)), one, Scorer(checkpoint, options, "cpu"), chunk_size=4, progress=False)
    score_file(InputSpec(str(planted)), two, Scorer(checkpoint, options, "cpu"), workers=2, chunk_size=4, progress=False)
    pd.testing.assert_frame_equal(pd.read_csv(one), pd.read_csv(two))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_scoring_on_cuda_gives_the_cpu_rows(planted, tmp_path, checkpoint):
    options = AttributionOptions("NR-AhR", method="gauss_legendre", n_steps=16)
    tables = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / f"{device}.csv"
        score_file(InputSpec(str(planted)), out, Scorer(checkpoint, options, device), chunk_size=4, progress=False)
        tables[device] = pd.read_csv(out, keep_default_na=False, na_values=[""])
    cpu, gpu = tables["cpu"], tables["cuda"]
    assert list(gpu["status"]) == list(cpu["status"])
    numeric = checkpoint.tasks + ["attr_total"]
    np.testing.assert_allclose(gpu[numeric].to_numpy(float), cpu[numeric].to_numpy(float), rtol=1e-4, atol=1e-5)
    ok = cpu["status"].str.startswith("ok")
    for a, b in zip(gpu.loc[ok, "atom_attributions"], cpu.loc[ok, "atom_attributions"]):
        np.testing.assert_allclose(json.loads(a), json.loads(b), rtol=1e-4, atol=1e-5)


def test_model_failure_is_a_row_status(planted, tmp_path, checkpoint, monkeypatch):
    import molattr.batch.scorer as scorer_module

    real = scorer_module.raw_scores

    def poisoned(model, graphs, *args):
        out = real(model, graphs, *args)
        out[[g.smiles == "c1ccccc1O" for g in graphs]] = np.nan
        return out

    monkeypatch.setattr(scorer_module, "raw_scores", poisoned)
    out = tmp_path / "out.csv"
    score_file(InputSpec(str(planted)), out, Scorer(checkpoint), progress=False)
    table = pd.read_csv(out)
    assert table.loc[10, "status"] == "model_failed" and "non-finite" in table.loc[10, "error"]
    assert table.loc[0, "status"] == "ok"


def test_cli_score_stdin_sdf_output_and_exit_codes(tmp_path, planted):
    runner = CliRunner()
    result = runner.invoke(main, ["score", "-", "-o", str(tmp_path / "o.sdf"), "--no-progress"], input=planted.read_bytes())
    assert result.exit_code == 0, result.output
    assert "11 rows (" in result.output and "2 unsupported_element" in result.output
    assert len(list(Chem.SDMolSupplier(str(tmp_path / "o.sdf"), sanitize=False))) == 11
    strict = runner.invoke(main, ["score", str(planted), "-o", str(tmp_path / "s.csv"), "--fail-on-row-errors", "--no-progress"])
    assert strict.exit_code == 3
    lenient = runner.invoke(main, ["score", str(planted), "-o", str(tmp_path / "l.csv"), "--any-element", "--max-atoms", "400",
                                   "--no-progress"])
    assert lenient.exit_code == 0 and "unsupported_element" not in lenient.output and "too_large" not in lenient.output
    for bad, code in ((["-o", str(tmp_path / "x.xlsx")], 2), (["-a", "NO-TASK"], 2), (["--resume", "-o", str(tmp_path / "n.csv")], 1)):
        outcome = runner.invoke(main, ["score", str(planted), "--no-progress", *bad])
        assert outcome.exit_code == code, (bad, outcome.output)


def test_python_api_on_lists_and_frames(checkpoint):
    table = molattr.score(checkpoint, ["CCO", "C1CC(", "c1ccccc1O"])
    assert list(table["status"]) == ["ok", "unparsable", "ok"]
    frame = pd.DataFrame({"name": ["a", "b"], "smi": ["CCO", None]})
    by_frame = molattr.score("w2n2-tox21", frame, attribute="SR-MMP", smiles_column="smi", id_column="name",
                             method="gauss_legendre", n_steps=8)
    assert list(by_frame["id"]) == ["a", "b"] and list(by_frame["status"]) == ["ok", "empty"]
    assert by_frame.loc[0, "attributed_task"] == "SR-MMP"
    with pytest.raises(InputFileError, match="without attribute"):
        molattr.score(checkpoint, ["CCO"], n_steps=8)
    phenol = molattr.explain(checkpoint, "c1ccccc1O", target="NR-AhR", method="gauss_legendre", n_steps=32)
    assert phenol.atoms()["attribution"].sum() == pytest.approx(phenol.attribution.total)


@pytest.mark.parametrize("workers", [1, 2])
def test_sdf_output_keeps_the_input_records_fields_and_input_atom_numbers(tmp_path, workers):
    """A salt with hydrogens and a data field, in SDF: its record comes out with the field, and
    top_atoms number the atoms of the input (the carboxyl carbon is atom 2, after Na+ and O-),
    also when worker processes prepare the records."""
    source = tmp_path / "in.sdf"
    with Chem.SDWriter(str(source)) as writer:
        for smiles, cas in (("[Na+].[O-]C(=O)c1ccccc1", "532-32-1"), ("CC(=O)Oc1ccccc1C(=O)O", "50-78-2")):
            mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
            mol.SetProp("_Name", cas)
            mol.SetProp("CAS", cas)
            writer.write(mol)
    out = tmp_path / "out.sdf"
    result = CliRunner().invoke(main, ["score", str(source), "-a", "NR-AhR", "--method", "gauss_legendre", "--steps", "4",
                                       "--top-k", "20", "--workers", str(workers), "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    records = list(Chem.SDMolSupplier(str(out)))
    assert [m.GetProp("CAS") for m in records] == ["532-32-1", "50-78-2"]
    given = [Chem.MolFromSmiles("[Na+].[O-]C(=O)c1ccccc1"), Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")]
    for record, mol in zip(records, given):
        top = [entry.split(":") for entry in record.GetProp("top_atoms").split(";")]
        assert all(mol.GetAtomWithIdx(int(index)).GetSymbol() == symbol for index, symbol, _ in top)
    assert {int(index) for index, _, _ in (e.split(":") for e in records[0].GetProp("top_atoms").split(";"))} == set(range(1, 10))


def test_sdf_output_keeps_parsed_molecules_of_error_rows_and_one_line_titles(tmp_path):
    """An SDF record that parsed but was not scored keeps its structure and data fields; a line
    break in an id or value does not break the output's records."""
    source = tmp_path / "in.sdf"
    with Chem.SDWriter(str(source)) as writer:
        for smiles, vendor in (("CCO", "V1"), ("C[Sn](C)(C)C", "V2")):
            mol = Chem.MolFromSmiles(smiles)
            mol.SetProp("VENDOR_ID", vendor)
            writer.write(mol)
    out = tmp_path / "out.sdf"
    assert CliRunner().invoke(main, ["score", str(source), "-o", str(out), "--no-progress"]).exit_code == 0
    records = list(Chem.SDMolSupplier(str(out)))
    assert [(m.GetNumAtoms(), m.GetProp("VENDOR_ID"), m.GetProp("status")) for m in records] == [
        (3, "V1", "ok"), (5, "V2", "unsupported_element")]
    lines = tmp_path / "ids.csv"
    lines.write_text('id,smiles\n"multi\nline id",CCO\n"x\n\ny",XX\nlast,CCC\n')
    out = tmp_path / "ids.sdf"
    assert CliRunner().invoke(main, ["score", str(lines), "-o", str(out), "--no-progress"]).exit_code == 0
    records = list(Chem.SDMolSupplier(str(out), sanitize=False))
    assert [(m.GetProp("_Name"), m.GetNumAtoms(), m.GetProp("status")) for m in records] == [
        ("multi line id", 3, "ok"), ("x y", 0, "unparsable"), ("last", 3, "ok")]


def test_attribution_options_without_attribute_are_a_usage_error(tmp_path, planted):
    result = CliRunner().invoke(main, ["score", str(planted), "--heatmaps", str(tmp_path / "maps"), "--steps", "8",
                                       "-o", str(tmp_path / "s.csv"), "--no-progress"])
    assert result.exit_code == 2 and "--steps, --heatmaps only apply with --attribute TASK" in result.output
    assert not (tmp_path / "maps").exists() and not (tmp_path / "s.csv").exists()


def test_resume_accepts_another_spelling_of_the_input_path(tmp_path, checkpoint, monkeypatch):
    source = tmp_path / "in.smi"
    source.write_text("".join(f"{s} m{k}\n" for k, s in enumerate(PLANTED_SMILES * 2)))
    out = tmp_path / "cut.csv"
    scorer = Scorer(checkpoint, device="cpu")
    real = scorer.score
    monkeypatch.setattr(scorer, "score", lambda r, p: real(r, p) if r[0].row < 4 else (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        score_file(InputSpec(str(source)), out, scorer, chunk_size=4, progress=False)
    monkeypatch.chdir(tmp_path)
    summary = score_file(InputSpec("./in.smi"), out, Scorer(checkpoint, device="cpu"), chunk_size=4, resume=True,
                         progress=False)
    assert summary.resumed_rows == 4 and summary.rows == len(PLANTED_SMILES) * 2


def test_an_interrupted_parquet_run_names_its_parts_folder(tmp_path, planted, monkeypatch):
    real = Scorer.score
    calls = []

    def interrupted(self, records, prepared):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, records, prepared)

    monkeypatch.setattr(Scorer, "score", interrupted)
    out = tmp_path / "s.parquet"
    result = CliRunner().invoke(main, ["score", str(planted), "-o", str(out), "--chunk-size", "4", "--no-progress"])
    assert result.exit_code == 130
    assert f"the rows done so far are in {out}.parts;" in result.output and (tmp_path / "s.parquet.parts").is_dir()


def test_molecules_given_as_rdkit_mols_or_missing_values(checkpoint):
    """predict and score take RDKit molecules (as their SMILES) and treat None and NaN as empty rows."""
    with_h = Chem.AddHs(Chem.MolFromSmiles("c1ccccc1O"))
    predicted = molattr.predict(checkpoint, [with_h, "c1ccccc1O", None, float("nan")])
    assert list(predicted["status"]) == ["ok", "ok", "empty", "empty"]
    np.testing.assert_allclose(predicted.iloc[0, 4:].to_numpy(float), predicted.iloc[1, 4:].to_numpy(float), rtol=1e-6)
    assert list(molattr.predict(checkpoint, with_h)["status"]) == ["ok"]
    scored = molattr.score(checkpoint, [with_h, None, float("nan"), "c1ccccc1O"])
    assert list(scored["status"]) == ["ok", "empty", "empty", "ok"]
    assert scored.loc[0, "NR-AhR"] == pytest.approx(scored.loc[3, "NR-AhR"], rel=1e-6)
    with pytest.raises(InputFileError, match="for a table use molattr.score"):
        molattr.predict(checkpoint, pd.DataFrame({"smiles": ["CCO"]}))
    strings = pd.DataFrame({"smiles": pd.array(["CCO", pd.NA], dtype="string")})  # pandas' own missing value
    assert list(molattr.score(checkpoint, strings)["status"]) == ["ok", "empty"]


def test_score_takes_target_as_an_alias_and_names_unknown_options(checkpoint):
    aliased = molattr.score(checkpoint, ["CCO"], target="NR-AhR", method="gauss_legendre", n_steps=8)
    assert aliased.loc[0, "attributed_task"] == "NR-AhR"
    with pytest.raises(InputFileError, match="the task is given twice"):
        molattr.score(checkpoint, ["CCO"], attribute="NR-AhR", target=1)
    with pytest.raises(InputFileError, match=r"unknown attribution option\(s\) \['return_interior'\]; score takes output"):
        molattr.score(checkpoint, ["CCO"], attribute="NR-AhR", return_interior=True)
    # explain passes the engine's settings on
    mapped = molattr.explain(checkpoint, "CCO", target=0, threads=1, dtype=torch.float64, method="gauss_legendre", n_steps=8)
    assert mapped.attribution.atom_attr.dtype == np.float64
