"""Groups and dead features on planted attributions with hand-known answers."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from molattr.analysis import (
    collisions, compile_smarts, dead_feature_summary, functional_groups, group_table, molecule_groups, rank_groups, ring_systems, set_group_tables,
    smarts_groups,
    zero_columns,
)
from molattr.errors import AnalysisInputError
from molattr.mapping import map_attribution
from tests.conftest import planted_attribution


def test_group_sums_on_planted_phenol():
    # Oc1ccccc1: atom 0 is the OH oxygen, atoms 1-6 the ring
    m = map_attribution(planted_attribution("Oc1ccccc1", {0: 2.0, 1: 0.5, 4: 0.25}), "atoms_only")
    table = group_table(m).set_index(["kind", "name"])
    assert table.loc[("pharmacophore", "Aromatic"), "attribution"] == pytest.approx(0.75)
    assert table.loc[("pharmacophore", "Aromatic"), "atoms"] == (1, 2, 3, 4, 5, 6)
    assert table.loc[("pharmacophore", "Donor"), "attribution"] == pytest.approx(2.0)
    assert table.loc[("ring_system", "c1ccccc1"), "share"] == pytest.approx(0.75 / 2.75)
    # beyond an even spread (mean atom value 2.75 / 7): the hydroxyl carries more, the ring less than its size
    assert table.loc[("pharmacophore", "Donor"), "excess_share"] == pytest.approx((2.0 - 2.75 / 7) / 2.75)
    assert table.loc[("ring_system", "c1ccccc1"), "excess_share"] == pytest.approx((0.75 - 6 * 2.75 / 7) / 2.75)
    assert table.loc[("functional_group", "side-chain hydroxyls (-O)"), "atoms"] == (0,)  # the attachment '*' is not in it
    assert abs(table["attribution"].iloc[0]) == table["attribution"].abs().max()


@pytest.mark.parametrize("smiles, expected", [
    # a nitro group is not also nitroso, oxime, side-chain hydroxyl and carbonyl
    ("O=[N+]([O-])c1ccccc1", {"nitro (-NO2)": (0, 1, 2)}),
    # aspirin's acetyl is a carbonyl methyl, not RDKit's mislabelled "terminal aldehyde"
    ("CC(=O)Oc1ccccc1C(=O)O", {"carbonyl methyl (-C(=O)CH3)": (0, 1, 2), "carboxylic acids (-C(=O)O)": (10, 11, 12)}),
    # halogens hold their atom (their query atom is no '*'); the CF3's fluorines belong to it
    ("FC(F)(F)c1ccc(Cl)cc1", {"trifluoromethyl (-CF3)": (0, 1, 2, 3), "halogens (-X)": (8,)}),
    ("CC=N", {"primary imines (=N)": (2,)}),
])
def test_functional_groups_claim_each_atom_once_larger_first(smiles, expected):
    groups = functional_groups(Chem.MolFromSmiles(smiles))
    assert {g.name: tuple(sorted(g.atoms)) for g in groups} == expected and len(groups) == len(expected)


@pytest.mark.parametrize("smiles", ["ICl", "ClI", "ClCl"])
def test_a_group_bonded_to_its_own_kind_claims_both_atoms(smiles):
    """Both directions of an X-X bond cover the same atoms; RDKit's uniquified matches kept one."""
    assert [(g.name, g.atoms) for g in functional_groups(Chem.MolFromSmiles(smiles))] == [
        ("halogens (-X)", (0,)), ("halogens (-X)", (1,))]


def test_overlapping_matches_count_each_atom_once():
    mol = Chem.MolFromSmiles("OCCO")
    m = map_attribution(planted_attribution("OCCO", {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0}), "atoms_only")
    groups = smarts_groups(mol, compile_smarts({"C-O": "CO"}))
    assert len(groups) == 2
    row = group_table(m, groups).iloc[0]
    assert row["matches"] == 2 and row["attribution"] == pytest.approx(4.0)


def test_ring_systems_fused_spiro_and_separate():
    mol = Chem.MolFromSmiles("c1ccc2ccccc2c1C1CC12CC2")  # naphthalene, then a spiro pair of cyclopropanes
    names = sorted(g.name for g in ring_systems(mol))
    assert names == sorted(["c1ccc2ccccc2c1", "C1CC1", "C1CC1"])


def test_bad_smarts_are_named():
    with pytest.raises(AnalysisInputError, match="nitro=.*banana="):
        compile_smarts({"ok": "c1ccccc1", "nitro": "[N+](=O", "banana": ""})
    assert molecule_groups(Chem.MolFromSmiles("CCO"), compile_smarts({"alcohol": "[OX2H]"}))[-1].name == "alcohol"
    # SMARTS text works too, and a bad one is named, not a Boost error
    assert smarts_groups(Chem.MolFromSmiles("CCO"), {"alcohol": "[OX2H]"})[0].atoms == (2,)
    with pytest.raises(AnalysisInputError, match="banana="):
        rank_groups([map_attribution(planted_attribution("CCO", {2: 1.0}), "atoms_only")], {"banana": "C(("})


def test_collisions_need_two_symmetry_classes():
    # hexan-1-ol: C2 and C3 are not symmetry-equivalent; planting the same value on them is a dead-feature collision
    m = map_attribution(planted_attribution("CCCCCCO", {2: 0.3, 3: 0.3, 6: 1.0}), "atoms_only")
    found = collisions(m)
    assert len(found) == 1 and found[0].atoms == (2, 3) and found[0].value == pytest.approx(0.3)
    assert len(found[0].classes) == 2 and found[0].environments[0] != found[0].environments[1]
    # C2 and C3 see the same chain within two bonds; at three bonds C3 reaches the oxygen
    assert found[0].radius == 3 and sorted(found[0].environments) == ["C(CC)CCC", "C(CCC)CCO"]
    # butan-1-ol's C2 and C3 are CH2s whose neighbours differ (a carbon against an oxygen) ->
    # radius 1, the paper's dead feature
    near = collisions(map_attribution(planted_attribution("CCCCO", {2: 0.5, 3: 0.5, 4: 1.0}), "atoms_only"))
    assert [(c.atoms, c.radius, c.environments) for c in near] == [((2, 3), 1, ("C(C)O", "C(C)C"))]
    # ethanol's CH3 and CH2 differ in themselves (hydrogens), as a nitrogen and a carbon do -> radius 0
    itself = collisions(map_attribution(planted_attribution("CCO", {0: 0.5, 1: 0.5, 2: 1.0}), "atoms_only"))
    assert [(c.atoms, c.radius, c.environments) for c in itself] == [((0, 1), 0, ("[CH3]", "[CH2]"))]
    assert dead_feature_summary([map_attribution(planted_attribution("CCO", {0: 0.5, 1: 0.5}), "atoms_only")])[
        "within_radius"][1] == 0  # not a dead feature
    # stereo does not break symmetry: trans-1,4-dimethylcyclohexane's four CH2s, a meso diol's CH carbons
    trans = map_attribution(planted_attribution("C[C@H]1CC[C@@H](C)CC1", {2: 0.5, 3: 0.5, 6: 0.5, 7: 0.5, 0: 1.0}), "atoms_only")
    meso = map_attribution(planted_attribution("C[C@@H](O)[C@H](C)O", {1: 0.5, 3: 0.5, 2: 1.0}), "atoms_only")
    assert collisions(trans) == [] and collisions(meso) == []
    # a tie holds every two of its values within the tolerance: no chains of small steps
    chained = map_attribution(planted_attribution("CCCCCCO", {1: 1 - 1.8e-5, 2: 1 - 0.9e-5, 3: 1.0, 4: 1 - 2.7e-5}), "atoms_only")
    assert [c.atoms for c in collisions(chained)] == [(1, 4), (2, 3)]
    # a third atom that differs in itself does not hide two CH2s whose neighbours differ (butan-1-ol's
    # C2 and C3 against its O): the tie's radius is that of its classes alike in themselves
    third = collisions(map_attribution(planted_attribution("CCCCO", {2: 0.5, 3: 0.5, 4: 0.5, 0: 1.0}), "atoms_only"))
    assert [(c.atoms, c.radius, c.environments) for c in third] == [((2, 3, 4), 1, ("OC", "C(C)O", "C(C)C"))]
    # stereo marks in a neighbourhood written from its root do not make it differ: the two CH(OH)
    # carbons of heptane-2,4-diol see C, C and O; they differ at two bonds (a methyl against a propyl side)
    stereo = map_attribution(planted_attribution("C[C@H](O)C[C@@H](O)CCC", {1: 0.5, 4: 0.5, 0: 1.0}), "atoms_only")
    assert [(c.atoms, c.radius) for c in collisions(stereo)] == [((1, 4), 2)]
    # isobutane: the three methyls are symmetry-equivalent, so equal values are expected, not dead
    symmetric = map_attribution(planted_attribution("CC(C)C", {0: 0.5, 2: 0.5, 3: 0.5, 1: 1.0}), "atoms_only")
    assert collisions(symmetric) == []
    # a difference above the tolerance is not a tie
    apart = map_attribution(planted_attribution("CCCCCCO", {2: 0.3, 3: 0.3 + 1e-3, 6: 1.0}), "atoms_only")
    assert collisions(apart) == [] and len(collisions(apart, rtol=1e-2)) == 1


def test_dead_feature_summary_and_zero_columns():
    maps = [map_attribution(planted_attribution("CCCCCCO", {2: 0.3, 3: 0.3, 6: 1.0}), "atoms_only"),
            map_attribution(planted_attribution("CC(C)C", {0: 0.5, 2: 0.5, 3: 0.5}), "atoms_only")]
    summary = dead_feature_summary(maps)
    assert summary["molecules"] == 2 and summary["with_collisions"] == 1 and summary["fraction"] == 0.5
    assert summary["environment_pairs"]["count"].tolist() == [1] and summary["environment_pairs"]["radius"].tolist() == [3]
    assert summary["within_radius"] == {1: 0.0, 2: 0.0, 3: 0.5, 4: 0.5, 5: 0.5, 6: 0.5}
    # three classes tie: C1 differs from C2 and C3 at two bonds, C2 from C3 only at three; each pair is listed
    three = dead_feature_summary([map_attribution(planted_attribution("CCCCCCO", {1: 0.3, 2: 0.3, 3: 0.3, 6: 1.0}), "atoms_only")])
    assert sorted(three["environment_pairs"]["radius"].tolist()) == [2, 3]
    assert three["environment_pairs"].set_index("radius").loc[2, "count"] == 2
    columns = zero_columns(maps)
    assert maps[0].attribution.atom_columns[0] not in columns  # planted values sit in the first column
    assert set(columns) == set(maps[0].attribution.atom_columns[1:] + maps[0].attribution.pair_columns)
    with pytest.raises(AnalysisInputError, match="empty set"):
        dead_feature_summary([])
    assert np.isfinite(summary["fraction"])


def test_shipped_one_layer_network_shows_the_papers_dead_features():
    # the paper's featurization (atom type; bond type, distance): one weave layer cannot see an
    # atom's neighbours, two can (measured on the example drugs: 54% vs 0% at radius 1)
    import molattr
    from molattr.data.tables import read_molecules
    from molattr.resources import datasets_dir

    smiles = [s for s in read_molecules(datasets_dir() / "examples" / "drugs.smi")["smiles"] if "." not in s]
    one, two = (dead_feature_summary(molattr.explain(name, smiles, target="NR-AhR", method="gauss_legendre", n_steps=8))
                for name in ("w1n2-simple-tox21", "w2n2-simple-tox21"))
    assert one["fraction"] > 0.8 and one["within_radius"][1] > 0.4
    assert two["within_radius"][2] < 0.1 and two["fraction"] < 0.3


def test_set_ranking_puts_the_common_denominator_first():
    # every molecule carries its score on a nitro group; one also has a large share on a rare bromine
    maps = [
        map_attribution(planted_attribution("O=[N+]([O-])c1ccccc1", {0: 0.4, 1: 0.4, 2: 0.2}), "atoms_only"),
        map_attribution(planted_attribution("O=[N+]([O-])CCC", {0: 0.3, 1: 0.5, 2: 0.2}), "atoms_only"),
        map_attribution(planted_attribution("O=[N+]([O-])CCBr", {0: 0.1, 1: 0.1, 2: 0.1, 5: 0.7}), "atoms_only"),
    ]
    ranking = rank_groups(maps, {"nitro": "[N+](=O)[O-]", "bromo": "Br", "nitro and its carbon": "[N+](=O)([O-])[#6]"})
    top = ranking.iloc[0]
    by_name = ranking.set_index("name")
    nitro = by_name.loc["nitro"]
    # groups on the same three atoms (RDKit's nitro functional group, its LumpedHydrophobe) tie with the SMARTS
    assert nitro["share_score"] == pytest.approx((1.0 + 1.0 + 0.3) / 3) and nitro["prevalence"] == 1.0
    # excess: each molecule's attribution sums to 1 over 9, 6 and 6 atoms, so its mean atom value is 1/9, 1/6, 1/6
    assert nitro["score"] == top["score"] == pytest.approx(((1 - 3 / 9) + (1 - 3 / 6) + (0.3 - 3 / 6)) / 3)
    # the nitro group plus a zero-valued carbon has the same share but less excess: the specific group ranks first
    wider = by_name.loc["nitro and its carbon"]
    assert wider["share_score"] == pytest.approx(nitro["share_score"]) and wider["score"] < nitro["score"]
    bromo = by_name.loc["bromo"]
    assert bromo["prevalence"] == pytest.approx(1 / 3) and bromo["mean_share"] == pytest.approx(0.7)
    assert bromo["score"] == pytest.approx((0.7 - 1 / 6) / 3)
    assert bromo["example"] == 2 and bromo["score"] < top["score"]
    with pytest.raises(AnalysisInputError, match="empty set"):
        rank_groups([])
    with pytest.raises(AnalysisInputError, match="empty set"):
        set_group_tables([])


def test_a_set_without_any_group_ranks_to_an_empty_table():
    helium = map_attribution(planted_attribution("[He]", {0: 1.0}), "atoms_only")
    ranking = rank_groups([helium])
    assert ranking.empty and "score" in ranking.columns


def test_norm_share_is_bounded_when_attributions_cancel():
    m = map_attribution(planted_attribution("Oc1ccccc1", {0: 2.0, 1: -1.9}), "atoms_only")
    donor = group_table(m).set_index("name").loc["Donor"]
    assert donor["share"] == pytest.approx(2.0 / 0.1)  # of the (small) whole attribution
    assert donor["norm_share"] == pytest.approx(2.0 / 3.9)  # of the absolute attribution


def test_pharmacophores_and_dead_features_commands(tmp_path):
    from click.testing import CliRunner

    from molattr.cli import main

    source = tmp_path / "set.csv"
    source.write_text("smiles,active\nO=[N+]([O-])c1ccc2ccccc2c1,1\nc1ccc2cc3ccccc3cc2c1,1\nCCO,0\n"
                      "Clc1cc2Oc3cc(Cl)c(Cl)cc3Oc2cc1Cl,1\nCCCCCCCCO,\n")
    runner = CliRunner()
    common = ["-t", "NR-AhR", "--method", "gauss_legendre", "--steps", "8", "--label-column", "active"]
    result = runner.invoke(main, ["pharmacophores", str(source), *common, "-o", str(tmp_path / "ph"),
                                  "--smarts", "naphthalene=c1ccc2ccccc2c1"])
    assert result.exit_code == 0, result.output
    assert "3 molecules analysed" in result.output
    ranking = pd.read_csv(tmp_path / "ph" / "groups.csv")
    assert list(ranking["score"]) == sorted(ranking["score"], reverse=True)
    assert ranking.set_index("name").loc["naphthalene", "molecules"] == 2  # nitronaphthalene and anthracene
    assert (tmp_path / "ph" / "ranking.png").stat().st_size > 10000 and (tmp_path / "ph" / "summary.html").is_file()
    assert len(list((tmp_path / "ph" / "examples").glob("*.svg"))) == 5
    dead = runner.invoke(main, ["dead-features", str(source), *common, "-m", "w1n2-tox21", "-o", str(tmp_path / "df")])
    assert dead.exit_code == 0, dead.output
    summary = json.loads((tmp_path / "df" / "summary.json").read_text())
    assert summary["molecules"] == 3 and 0 <= summary["fraction"] <= 1 and "atom:type=I" in summary["zero_columns"]
    bad_smarts = runner.invoke(main, ["pharmacophores", str(source), *common, "-o", str(tmp_path / "x"), "--smarts", "bad=c1(("])
    assert bad_smarts.exit_code == 1 and "bad='c1(('" in bad_smarts.output
    no_task = runner.invoke(main, ["pharmacophores", str(source), "-t", "NO-TASK", "-o", str(tmp_path / "y")])
    assert no_task.exit_code == 2 and "NO-TASK" in no_task.output
    nothing = runner.invoke(main, ["dead-features", str(source), *common, "--min-probability", "1.0", "-o", str(tmp_path / "z")])
    assert nothing.exit_code == 1 and "no molecules left" in nothing.output
    twice = runner.invoke(main, ["pharmacophores", str(source), *common, "--smarts", "a=c", "--smarts", "a=n"])
    assert twice.exit_code == 2 and "'a' is given twice" in twice.output
    xenon = runner.invoke(main, ["pharmacophores", str(source), *common, "-o", str(tmp_path / "xe"), "--smarts", "xenon=[Xe]"])
    assert xenon.exit_code == 0 and "match no molecule: xenon" in xenon.output


def test_pharmacophore_tables_number_atoms_as_in_the_input(tmp_path):
    from molattr.report.analysis_report import write_pharmacophore_report

    salt = map_attribution(planted_attribution("[Na+].[O-]C(=O)c1ccccc1O", {0: 0.5, 9: 0.5}), "atoms_only")
    write_pharmacophore_report([salt], ["salicylate"], tmp_path, "salt", {"phenol OH": "[OX2H]c"}, lines=[3])
    table = pd.read_csv(tmp_path / "per_molecule.csv").set_index("name")
    assert table.loc["phenol OH", "atoms"] == "(9, 10)" and set(table["line"]) == {3}  # kept atoms 8, 9
    assert "<b>phenol OH</b> in salicylate (atoms 9, 10)" in (tmp_path / "summary.html").read_text()


def test_planted_rules_labels_and_atoms():
    from molattr.analysis.planted import PlantedRecipe, attribution_auroc, label_table, parse_rule, pattern_auroc

    recipe = PlantedRecipe.load()
    assert {"nitro", "phenol_and_carbonyl", "acid_and_not_haloarene"} <= set(recipe.rules)
    table = label_table(["O=[N+]([O-])c1ccccc1", "OC(=O)c1ccccc1Cl", "OC(=O)CC", "Oc1ccc(C=O)cc1", "C1CC("], recipe)
    assert list(table["smiles"]) == ["O=[N+]([O-])c1ccccc1", "OC(=O)c1ccccc1Cl", "OC(=O)CC", "Oc1ccc(C=O)cc1"]
    assert list(table["nitro"]) == [1, 0, 0, 0] and list(table["acid_and_not_haloarene"]) == [0, 0, 1, 0]
    assert list(table["phenol_and_carbonyl"]) == [0, 0, 0, 1]
    # rules are judged on the molecule a network sees: a nitrate or oxalate counter-ion labels nothing,
    # and a salt of a molecule already listed is the same molecule
    salts = label_table(["NC(=N)NC(N)=N.O[N+]([O-])=O", "CNc1ccc(NC)cc1.OC(=O)C(O)=O", "OC(=O)CC.[Na+]", "OC(=O)CC"], recipe)
    assert list(salts["smiles"]) == ["NC(=N)NC(N)=N.O[N+]([O-])=O", "CNc1ccc(NC)cc1.OC(=O)C(O)=O", "OC(=O)CC.[Na+]"]
    assert salts["nitro"].sum() == 0 and list(salts["carboxylic_acid"]) == [0, 0, 1]
    mol = Chem.MolFromSmiles("Oc1ccc(C=O)cc1")  # phenol O-c (atoms 0, 1) and the aldehyde C=O (atoms 5, 6)
    assert recipe.planted_atoms(mol, "phenol_and_carbonyl") == {0, 1, 5, 6}
    by_pattern = recipe.planted_atoms_by_pattern(mol, "phenol_and_carbonyl")
    assert by_pattern == {"phenol": {0, 1}, "carbonyl": {5, 6}}
    # unplanted atoms 2, 3, 4, 7 (0.3, 0.1, 0.5, 0.6): the phenol tops them all; the carbonyl C (0.4) beats
    # two of them, its O (0.2) one: 3 of 8 pairs
    values = np.array([0.9, 0.8, 0.3, 0.1, 0.5, 0.4, 0.2, 0.6])
    assert pattern_auroc(values, by_pattern, "phenol") == 1.0
    assert pattern_auroc(values, by_pattern, "carbonyl") == pytest.approx(3 / 8)
    assert recipe.planted_atoms(Chem.MolFromSmiles("OC(=O)CC"), "acid_and_not_haloarene") == {0, 1, 2}
    assert recipe.planted_atoms(Chem.MolFromSmiles("CCO"), "nitro") == set()
    either = parse_rule("r", "logic", "a or not b", {"a", "b"})
    assert either.positive_names == ("a",) and either.holds({"a": False, "b": False})
    for bad, message in (("a and c", "unknown pattern 'c'"), ("a + b", "only pattern names"), ("a and (", "cannot parse")):
        with pytest.raises(AnalysisInputError, match=message):
            parse_rule("r", "logic", bad, {"a", "b"})
    assert attribution_auroc(np.array([0.9, 0.1, 0.5, -1.0]), {0, 2}) == 1.0
    assert attribution_auroc(np.array([0.1, 0.9]), {0}) == 0.0
    assert np.isnan(attribution_auroc(np.array([0.1, 0.9]), {0, 1}))


def test_planted_evaluation_needs_the_rules_as_tasks():
    import molattr
    from molattr.analysis.planted import PlantedRecipe
    from molattr.analysis.planted_evaluation import evaluate_planted

    with pytest.raises(AnalysisInputError, match="none of the rules"):
        evaluate_planted(molattr.load_model("w2n2-tox21"), ["CCO"], PlantedRecipe.load())


def test_planted_evaluation_scores_a_model(tmp_path):
    import molattr
    from molattr.analysis.planted import PlantedRecipe
    from molattr.analysis.planted_evaluation import evaluate_planted
    from molattr.checkpoint import load_checkpoint, save_checkpoint
    from tests.conftest import make_weave

    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    save_checkpoint(tmp_path / "m", make_weave(spec, n_tasks=2), spec, ["nitro", "haloarene"], "classification")
    result = evaluate_planted(load_checkpoint(tmp_path / "m"), ["O=[N+]([O-])c1ccccc1", "Clc1ccccc1", "CCO", "O=[N+]([O-])CC"],
                              PlantedRecipe.load(), n_steps=8)
    assert list(result["rule"]) == ["nitro", "haloarene"] and list(result["positives"]) == [2, 1]
    for column in ("auroc_integrated_gradients", "auroc_gradient", "auroc_gradient_x_input"):
        assert result[column].between(0, 1).all()
    assert (result["planted_rank"] >= 1).all()
    nitro, haloarene = result["auroc_integrated_gradients"]  # one pattern per rule: its AUROC is the rule's
    assert list(result["auroc_by_pattern"]) == [f"nitro {nitro:.3f}", f"haloarene {haloarene:.3f}"]
    expected = evaluate_planted(load_checkpoint(tmp_path / "m"), ["O=[N+]([O-])c1ccccc1", "Clc1ccccc1", "CCO", "O=[N+]([O-])CC"],
                                PlantedRecipe.load(), n_steps=8, baseline="expected", n_samples=2)
    assert list(expected["positives"]) == [2, 1]  # the same positives as with the zero baseline
    assert expected["auroc_integrated_gradients"].between(0, 1).all()
    assert (expected["auroc_gradient"] == result["auroc_gradient"]).all()  # the baseline only changes IG
    with pytest.raises(AnalysisInputError, match="baseline must be"):
        evaluate_planted(load_checkpoint(tmp_path / "m"), ["CCO"], PlantedRecipe.load(), baseline="ones")
    # a nitrate counter-ion is not a planted nitro group: the molecule attributed has none
    salted = evaluate_planted(load_checkpoint(tmp_path / "m"), ["O=[N+]([O-])c1ccccc1", "NC(=N)NC(N)=N.O[N+]([O-])=O"],
                              PlantedRecipe.load(), n_steps=8)
    assert list(salted["positives"]) == [1, 0]


@pytest.mark.parametrize("recipe, message", [
    ({"patterns": {"a": "CC"}, "rules": {"r": {"kind": "single", "expression": 5}}}, "rule 'r' is"),
    ({"patterns": ["CC"], "rules": {}}, "'patterns' is"),
    ({"patterns": {"a": "CC"}}, "missing or malformed"),
])
def test_malformed_recipes_are_named(tmp_path, recipe, message):
    from molattr.analysis.planted import PlantedRecipe

    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    with pytest.raises(AnalysisInputError, match=message):
        PlantedRecipe.load(path)


def test_dead_feature_table_numbers_atoms_as_in_the_input(tmp_path):
    """A salt whose sodium comes first: the benzoate's tied atoms are reported by their input
    indices (1-9), and each molecule with its input line."""
    from molattr.report.analysis_report import write_dead_feature_report

    salt = map_attribution(planted_attribution("[Na+].[O-]C(=O)c1ccccc1", {0: 0.5, 3: 0.5}), "atoms_only")
    write_dead_feature_report([salt], ["benzoate"], tmp_path, "salt", lines=[7])
    table = pd.read_csv(tmp_path / "collisions.csv")
    assert len(table) and set(table["line"]) == {7}
    assert {tuple(int(a) for a in cell.split()) for cell in table["atoms"]} == {(1, 4)}  # the O- and the ipso carbon
