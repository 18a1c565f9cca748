"""The molattr command line, run in-process with click's CliRunner."""
from __future__ import annotations

import gzip
import json
import shutil
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from rdkit import Chem, RDConfig

import molattr.resources
from molattr.cli import main
from tests.conftest import SHARED_DATA


def _nci_smiles(n: int) -> list[str]:
    lines = Path(os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")).read_text().splitlines()
    out = []
    for line in lines:
        smiles = line.split()[0]
        if Chem.MolFromSmiles(smiles) is not None:
            out.append(smiles)
        if len(out) == n:
            return out
    return out


@pytest.fixture(scope="module")
def labelled_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 NCI molecules labelled 'has a nitrogen', two bad rows, gzipped."""
    rows = [(s, int("N" in s.upper().replace("NA", ""))) for s in _nci_smiles(120)]
    rows += [("C1CC", 1), ("", 0)]
    path = tmp_path_factory.mktemp("data") / "nitrogen.csv.gz"
    frame = pd.DataFrame(rows, columns=["smiles", "has_N"])
    with gzip.open(path, "wt") as handle:
        frame.to_csv(handle, index=False)
    return path


@pytest.fixture(scope="module")
def trained(labelled_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "tiny"
    result = CliRunner().invoke(main, ["train", str(labelled_csv), "-o", str(out), "--layers", "1", "--epochs", "3",
                                       "--batch-size", "32", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "skipped: 1 unparsable, 1 empty" in result.output
    return out


def test_train_writes_checkpoint_and_reports_skipped_rows(trained: Path) -> None:
    config = json.loads((trained / "config.json").read_text())
    assert config["model_family"] == "W1N2"
    assert config["data"]["rows"] == 122 and config["data"]["used"] == 120
    assert config["data"]["skipped"] == {"unparsable": 1, "empty": 1}
    assert any("line 122" in line for line in config["data"]["skipped_examples"])  # header is line 1
    assert set(config["metrics"]) == {"train", "valid", "test"}


def test_train_with_cosine_schedule_and_loss_monitor(labelled_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "cosine"
    result = CliRunner().invoke(main, ["train", str(labelled_csv), "-o", str(out), "--layers", "1", "--epochs", "2",
                                       "--batch-size", "32", "--lr-schedule", "cosine", "--monitor", "loss"])
    assert result.exit_code == 0, result.output
    train = json.loads((out / "config.json").read_text())["training"]
    assert train["lr_schedule"] == "cosine" and train["monitor"] == "loss"
    history = json.loads((out / "history.json").read_text())
    assert [h["learning_rate"] for h in history] == pytest.approx([1e-3, 5e-4])
    assert CliRunner().invoke(main, ["card", str(out)]).exit_code == 0
    card = (out / "README.md").read_text()
    assert "learning rate 0.001 with cosine decay to 0 over 2 epochs" in card
    assert "kept the epoch with the best validation loss" in card


def test_predict_keeps_every_row_with_status(trained: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.smi"
    source.write_text("CCO ethanol\n\nC1CC broken\nCC(=O)[O-].[Na+] sodium_acetate\n[U] uranium\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(main, ["predict", str(source), "-m", str(trained), "-o", str(out), "--no-show"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, keep_default_na=False)
    assert table["line"].tolist() == [1, 2, 3, 4, 5]
    assert table["status"].tolist() == ["ok", "empty", "unparsable", "ok_salt_stripped", "unsupported_element"]
    assert table.loc[2, "error"].startswith("unparsable: 'C1CC'")
    assert table.loc[4, "error"].startswith("unsupported_element: '[U]' (contains U;")
    assert table.loc[1, "has_N"] == "" and 0.0 <= float(table.loc[0, "has_N"]) <= 1.0
    assert f"{source}, line 3: unparsable" in result.output
    anything = CliRunner().invoke(main, ["predict", str(source), "-m", str(trained), "-o", str(out), "--no-show",
                                         "--any-element", "--max-atoms", "2"])
    assert anything.exit_code == 0, anything.output
    statuses = pd.read_csv(out, keep_default_na=False)["status"].tolist()
    assert statuses == ["too_large", "empty", "unparsable", "too_large", "ok"]  # acetate keeps 4 heavy atoms


def test_predict_parquet_and_csv_columns(trained: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    pd.DataFrame({"compound": ["a", "b"], "smi": ["c1ccccc1", "CCN"]}).to_csv(source, index=False)
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(main, ["predict", str(source), "-m", str(trained), "-o", str(out),
                                       "--smiles-column", "smi", "--id-column", "compound"])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert table["id"].tolist() == ["a", "b"] and (table["status"] == "ok").all()


def test_missing_column_is_a_clear_error(trained: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("smi\nCCO\n")
    result = CliRunner().invoke(main, ["predict", str(source), "-m", str(trained)])
    assert result.exit_code == 1
    assert f"{source}: no column 'smiles' (columns: smi)" in result.output


def test_missing_file_and_missing_model(trained: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["predict", str(tmp_path / "nope.smi"), "-m", str(trained)])
    assert result.exit_code == 1 and "nope.smi: no such file" in result.output
    result = CliRunner().invoke(main, ["predict", "-m", "no-such-model"])
    assert result.exit_code == 1 and "no-such-model: no such checkpoint" in result.output


@pytest.mark.parametrize("args, message", [
    (["planted", "evaluate", "-m", "w2n2-tox21", "--data", "{tmp}/missing.csv"], "missing.csv: no such file"),
    (["planted", "build", "-o", "{tmp}/out", "--rules", "{tmp}/missing.json"], "missing.json: No such file"),
    (["card", "{tmp}/missing"], "missing: no readable checkpoint config"),
    (["dead-features", "{tmp}/in.csv", "-t", "NR-AhR", "--label-column", "active"], "in.csv: no column 'active' (--label-column)"),
])
def test_missing_files_and_columns_are_input_errors_in_every_command(args: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("smiles\nCCO\n")
    result = CliRunner().invoke(main, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 1 and message in result.output, result.output


def test_a_task_index_out_of_range_is_a_usage_error_that_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["attribute", "-t", "12", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "task index 12 is out of range 0..11" in result.output, result.output
    assert not list(tmp_path.iterdir())


def test_evaluate_matches_training_data(trained: Path, labelled_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(main, ["evaluate", str(labelled_csv), "-m", str(trained), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "120 rows scored (every usable row; 120 of 122 usable)" in result.output
    assert 0.0 <= json.loads(out.read_text())["mean_roc_auc"] <= 1.0
    # one part of the checkpoint's own split: its test metrics as the card reports them
    test = CliRunner().invoke(main, ["evaluate", str(labelled_csv), "-m", str(trained), "--part", "test", "--json", str(out)])
    assert test.exit_code == 0, test.output
    config = json.loads((trained / "config.json").read_text())
    assert "12 rows scored (the test part of its random split" in test.output
    assert json.loads(out.read_text())["mean_roc_auc"] == pytest.approx(config["metrics"]["test"]["mean_roc_auc"], abs=1e-6)
    other = tmp_path / "other.csv"
    other.write_text("smiles,has_N\nCCN,1\n")
    refused = CliRunner().invoke(main, ["evaluate", str(other), "-m", str(trained), "--part", "test"])
    assert refused.exit_code == 2 and "is not the table" in refused.output


def test_train_writes_the_model_card_with_the_checkpoint(trained: Path) -> None:
    card = (trained / "README.md").read_text()
    config = json.loads((trained / "config.json").read_text())
    assert f"{config['model_family']} weave network" in card and "early stopping on the validation ROC-AUC" in card


@pytest.mark.parametrize("command", ["attribute", "score", "pharmacophores", "dead-features"])
def test_too_few_steps_for_the_rule_is_a_usage_error_before_any_work(command: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [command, "-t", "NR-AhR", "--method", "trapezoid", "--steps", "1",
                                       "-o", str(tmp_path / "out")] if command != "score" else
                                [command, "-a", "NR-AhR", "--method", "trapezoid", "--steps", "1",
                                 "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2, result.output
    assert "--steps" in result.output and ">= 2 for trapezoid" in result.output
    assert not list(tmp_path.iterdir())


def test_card_and_train_usage_errors(trained: Path) -> None:
    result = CliRunner().invoke(main, ["card", str(trained)])
    assert result.exit_code == 0, result.output
    card = (trained / "README.md").read_text()
    assert "W1N2" in card and "has_N" in card
    result = CliRunner().invoke(main, ["train", "-o", "x"])
    assert result.exit_code == 2 and "give either DATA or --dataset" in result.output


def _bad_inputs(tmp: Path) -> list[tuple[list[str], int, str]]:
    """(arguments, exit code, text the output must hold) for bad input caught before any work."""
    (tmp / "a-file").write_text("x")
    (tmp / "broken.json").write_text("{not json")
    (tmp / "empty.json").write_text("{}")
    (tmp / "no-smiles.csv").write_text("name\nx\n")
    (tmp / "empty.csv").write_text("")
    smi = tmp / "in.smi"
    smi.write_text("CCO\n")
    return [
        (["score", str(tmp / "nope.smi")], 1, "nope.smi: no such file"),
        (["score", str(tmp / "empty.csv"), "-o", str(tmp / "s.csv"), "--no-progress"], 1, "empty CSV file (no header line"),
        (["predict", str(tmp / "empty.csv"), "-o", str(tmp / "s.csv")], 1, "empty CSV file (no header line"),
        (["predict", str(tmp / "no-smiles.csv"), "-o", str(tmp / "no-smiles.csv")], 1, "writing it would erase the input"),
        (["score", str(smi), "-o", str(tmp / "a-file" / "x.csv")], 1, "a-file: File exists"),
        (["score", str(smi), "--device", "gpu", "-o", str(tmp / "s.csv")], 2, "unknown device 'gpu'"),
        (["predict", str(smi), "-o", str(tmp / "out.xlsx")], 2, "written as .csv or .parquet"),
        (["attribute", str(smi), "-m", "w2n2-delaney", "--output", "probability", "-o", str(tmp / "r")], 2,
         "w2n2-delaney is a regression model"),
        (["pharmacophores", str(smi), "-m", "w2n2-delaney", "-t", "0", "--min-probability", "0.5", "-o", str(tmp / "p")], 2,
         "Invalid value for --min-probability"),
        (["train", str(smi), "-o", str(tmp / "a-file")], 2, "is a file"),
        (["train", str(smi), "-o", str(tmp / "m"), "--max-distance", "-1"], 2, "a positive integer or 'inf'"),
        (["train", str(smi), "-o", str(tmp / "m"), "--max-distance", "abc"], 2, "a positive integer or 'inf'"),
        (["train", str(smi), "-o", str(tmp / "m"), "--tasks", "a, b,a"], 2, "task 'a' given more than once"),
        (["train", str(smi), "-o", str(tmp / "m"), "--lr", "-1"], 2, "Invalid value for '--lr'"),
        (["planted", "build", "-o", str(tmp / "pb"), "--rules", str(tmp / "broken.json")], 1, "not a JSON recipe"),
        (["planted", "build", "-o", str(tmp / "pb"), "--rules", str(tmp / "empty.json")], 1, "a recipe needs 'patterns'"),
        (["planted", "evaluate", "-m", "w2n2-tox21", "--data", str(tmp / "no-smiles.csv")], 1, "no column 'smiles'"),
    ]


def test_bad_input_is_one_line_before_any_work(tmp_path: Path) -> None:
    for arguments, code, text in _bad_inputs(tmp_path):
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == code, (arguments, result.output)
        assert text in result.output, (arguments, result.output)
        assert "Traceback" not in result.output
    made = {p.name for p in tmp_path.iterdir()}
    assert made == {"a-file", "broken.json", "empty.json", "no-smiles.csv", "empty.csv", "in.smi"}, made
    assert (tmp_path / "no-smiles.csv").read_text() == "name\nx\n"  # predict -o onto its input kept it


def test_set_analyses_name_the_rows_they_could_not_attribute(tmp_path: Path) -> None:
    source = tmp_path / "in.smi"
    source.write_text("CCO ethanol\nC1CC( broken\nc1ccccc1O phenol\n")
    result = CliRunner().invoke(main, ["dead-features", str(source), "-t", "NR-AhR", "--method",
                                                       "gauss_legendre", "--steps", "4", "-o", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "2 molecules analysed for NR-AhR (3 rows selected, 1 could not be attributed)" in result.stdout
    assert f"{source}, line 2: unparsable: 'C1CC('" in result.stderr


def test_set_analyses_tell_rows_with_one_id_apart_by_line(tmp_path: Path) -> None:
    source = tmp_path / "in.smi"
    source.write_text("Oc1ccccc1 cpd\nC1CC( broken\n[Na+].[O-]C(=O)c1ccccc1 cpd\n")
    out = tmp_path / "p"
    result = CliRunner().invoke(main, ["pharmacophores", str(source), "-t", "NR-AhR", "--method", "gauss_legendre",
                                       "--steps", "4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    per_molecule = pd.read_csv(out / "per_molecule.csv")
    assert set(per_molecule["line"]) == {1, 3} and set(per_molecule["id"]) == {"cpd"}
    groups = pd.read_csv(out / "groups.csv")
    assert set(groups["example_line"]) <= {1, 3}
    acid = per_molecule[(per_molecule["line"] == 3) & (per_molecule["name"] == "carboxylic acids (-C(=O)O)")]
    assert len(acid) == 1


def test_max_steps_caps_the_adaptive_evaluations(tmp_path: Path) -> None:
    source = tmp_path / "in.smi"
    source.write_text("CC(=O)Oc1ccccc1C(=O)O aspirin\nc1ccccc1O phenol\n")
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(main, ["score", str(source), "-a", "NR-AhR", "--max-steps", "6", "-o", str(out),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["attr_evaluations"].tolist() == [6, 6]  # 1% is not reached in 6 evaluations


def test_card_refuses_a_run_of_another_model_or_the_same_split(trained: Path) -> None:
    for run, message in ((molattr.resources.models_dir() / "w2n2-delaney", "architecture, data, split, "
                          "task_type, tasks, training differ from"), (trained, "the checkpoint's own")):
        result = CliRunner().invoke(main, ["card", str(trained), "--run", str(run)])
        assert result.exit_code == 1 and message in result.output, result.output


def test_card_runs_need_the_same_settings_and_are_kept(trained: Path, labelled_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(trained, folder)
    common = ["train", str(labelled_csv), "--epochs", "3", "--batch-size", "32", "--seed", "1", "--split", "scaffold"]
    assert CliRunner().invoke(main, [*common, "--layers", "1", "-o", str(tmp_path / "scaffold")]).exit_code == 0
    assert CliRunner().invoke(main, [*common, "--layers", "2", "-o", str(tmp_path / "deeper")]).exit_code == 0
    refused = CliRunner().invoke(main, ["card", str(folder), "--run", str(tmp_path / "deeper")])
    assert refused.exit_code == 1 and "its architecture differ" in refused.output
    assert CliRunner().invoke(main, ["card", str(folder), "--run", str(tmp_path / "scaffold")]).exit_code == 0
    assert CliRunner().invoke(main, ["card", str(folder)]).exit_code == 0  # no --run: the scaffold run stays
    assert set(json.loads((folder / "config.json").read_text())["metrics_by_split"]) == {"random", "scaffold"}
    assert "| scaffold |" in (folder / "README.md").read_text()


def test_a_split_without_validation_molecules_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "benzenes.csv"
    rows = [f"c1ccccc1{'C' * k},{k % 2}" for k in range(12)] + ["CCO,0", "CCN,1"]
    source.write_text("smiles,y\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(main, ["train", str(source), "--split", "scaffold", "--epochs", "1", "-o", str(tmp_path / "m")])
    assert result.exit_code == 1 and "leaves none for validation" in result.output and "--split random" in result.output
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("smiles,y,y\nCCO,1,0\n")
    result = CliRunner().invoke(main, ["train", str(repeated), "-o", str(tmp_path / "r")])
    assert result.exit_code == 1 and "line 1: column(s) 'y' appear more than once" in result.output


def test_main_job_predicts_example_drugs(tmp_path: Path) -> None:
    """The README's main job: shipped W2N2 Tox21 model on the example drugs."""
    out = tmp_path / "predictions.csv"
    result = CliRunner().invoke(main, ["predict", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 38 and table["status"].isin(["ok", "ok_salt_stripped"]).all()
    assert "predicted probability per task" in result.output
    tcdd = table.set_index("id").loc["TCDD (dioxin)"]
    aspirin = table.set_index("id").loc["aspirin"]
    assert tcdd["NR-AhR"] > aspirin["NR-AhR"]  # dioxin is the archetypal AhR agonist


def test_train_refuses_a_folder_that_holds_a_checkpoint(trained: Path, labelled_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(trained, folder)
    before = (folder / "model.safetensors").read_bytes()
    args = ["train", str(labelled_csv), "-o", str(folder), "--layers", "1", "--epochs", "1", "--batch-size", "32"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2 and "already holds a checkpoint (model.safetensors, config.json, README.md" in refused.output
    assert (folder / "model.safetensors").read_bytes() == before
    assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0
    assert (folder / "model.safetensors").read_bytes() != before


def test_a_failed_training_leaves_no_empty_folder_and_suggests_regression(tmp_path: Path) -> None:
    source = tmp_path / "logp.csv"
    source.write_text("smiles,logp\n" + "".join(f"{'C' * k}O,{0.5 * k - 0.77}\n" for k in range(1, 13)))
    result = CliRunner().invoke(main, ["train", str(source), "-o", str(tmp_path / "m"), "--epochs", "1"])
    assert result.exit_code == 1 and "pass --task-type regression" in result.output
    assert not (tmp_path / "m").exists()


def test_train_reports_an_undefined_metric_as_na(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A task with one class in the test part has no ROC-AUC: JSON null, printed n/a (it had crashed after saving)."""
    source = tmp_path / "rare.csv"
    rows = [f"{'C' * k}O,{int(k == 1)},{k % 2}" for k in range(1, 41)]
    source.write_text("smiles,rare,half\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(main, ["train", str(source), "-o", str(tmp_path / "m"), "--epochs", "1", "--layers", "1"])
    assert result.exit_code == 0, result.output
    assert "rare=n/a" in result.output


def test_a_local_folder_named_as_a_shipped_model_is_used_with_a_warning(trained: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(trained, tmp_path / "w2n2-tox21")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="'w2n2-tox21' is both a folder here and a shipped model"):
        assert molattr.load_model("w2n2-tox21").tasks == ["has_N"]


@pytest.mark.skipif(not (SHARED_DATA / "delaney.csv.gz").is_file(), reason="needs the shared MoleculeNet copy")
def test_a_recompressed_copy_of_the_training_table_rebuilds_the_split(tmp_path: Path) -> None:
    """Another gzip of the same table (other time stamp, other bytes) is the training table; a changed label is not."""
    table = gzip.decompress((SHARED_DATA / "delaney.csv.gz").read_bytes())
    copy = tmp_path / "delaney.csv.gz"
    copy.write_bytes(gzip.compress(table, mtime=12345))
    result = CliRunner().invoke(main, ["evaluate", str(copy), "-m", "w2n2-delaney", "--part", "test"])
    assert result.exit_code == 0, result.output
    assert "mean RMSE 0.6071" in result.output
    frame = pd.read_csv(copy)
    frame.loc[0, "logp"] += 1.0
    frame.to_csv(copy, index=False)
    result = CliRunner().invoke(main, ["evaluate", str(copy), "-m", "w2n2-delaney", "--part", "test"])
    assert result.exit_code == 2 and "not the table w2n2-delaney was trained on" in result.output


def test_train_counts_molecules_on_both_sides_of_a_random_split(labelled_csv: Path, tmp_path: Path) -> None:
    """The same molecules again as their hydrochloride salts: the salt and its parent are one molecule to the network."""
    frame = pd.read_csv(labelled_csv)
    salts = frame.assign(smiles=frame["smiles"] + ".Cl")
    doubled = tmp_path / "doubled.csv"
    pd.concat([frame, salts]).to_csv(doubled, index=False)
    out = tmp_path / "m"
    result = CliRunner().invoke(main, ["train", str(doubled), "-o", str(out), "--layers", "1", "--epochs", "1",
                                       "--batch-size", "64"])
    assert result.exit_code == 0, result.output
    repeated = json.loads((out / "config.json").read_text())["split"]["repeated_in_train"]
    assert repeated["test"] > 0 and f"{repeated['test']} test molecules also in train" in result.output
    assert f"{repeated['test']} test molecules are also training molecules" in (out / "README.md").read_text()


def test_set_analyses_take_a_device_and_interruptions_exit_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "two.smi"
    source.write_text("CCO a\nc1ccccc1O b\n")
    common = [str(source), "-t", "NR-AhR", "--method", "gauss_legendre", "--steps", "4"]
    ok = CliRunner().invoke(main, ["dead-features", *common, "--device", "cpu", "-o", str(tmp_path / "d")])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(main, ["pharmacophores", *common, "--device", "gpu", "-o", str(tmp_path / "p")])
    assert bad.exit_code == 2 and "unknown device 'gpu'" in bad.output

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("molattr.report.attribute_rows", interrupted)
    stopped = CliRunner().invoke(main, ["attribute", *common, "-o", str(tmp_path / "r")])
    assert stopped.exit_code == 130 and "interrupted" in stopped.output


def test_a_missing_input_reads_the_same_in_every_command(tmp_path: Path) -> None:
    missing = tmp_path / "none.csv"
    for args in (["score", str(missing), "-o", str(tmp_path / "s.csv"), "--no-progress"], ["predict", str(missing)],
                 ["evaluate", str(missing), "-m", "w2n2-delaney", "--part", "test"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and f"{missing}: no such file" in result.output, (args, result.output)
