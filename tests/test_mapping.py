"""Attributions mapped onto molecules: sums, hand-computed values, tables, RDKit properties and SDF."""
from __future__ import annotations

import math

import numpy as np
import pytest
from rdkit import Chem

import molattr
from molattr.errors import AttributionInputError
from molattr.mapping import ATOM_RULES, annotate_mol, map_attribution, molecule_of, write_sdf
from tests.conftest import make_weave, planted_attribution

DRUGS = ["CC(=O)Oc1ccccc1C(=O)O", "CN1CCC[C@H]1c1cccnc1", "O=C(O)c1ccccc1O", "Clc1ccc(Cl)c(Cl)c1", "C"]


@pytest.fixture(scope="module")
def real_attributions() -> list[molattr.Attribution]:
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec, n_tasks=2, seed=3), spec=spec, device="cpu", dtype=__import__("torch").float64)
    return ig.attribute(DRUGS, target=1, method="gauss_legendre", n_steps=32)


@pytest.mark.parametrize("rule", ATOM_RULES)
def test_atoms_plus_remainder_add_up_to_the_whole_attribution(real_attributions, rule):
    for a in real_attributions:
        m = map_attribution(a, rule)
        assert m.atom_values.sum() + m.non_bonded_remainder == pytest.approx(a.total, abs=1e-9)
        atoms = m.atoms()
        parts = {"all_pairs": ["atom_features", "bonded_pairs", "non_bonded_pairs"],
                 "bonded_pairs": ["atom_features", "bonded_pairs"], "atoms_only": ["atom_features"]}[rule]
        np.testing.assert_allclose(atoms["attribution"], atoms[parts].sum(axis=1), atol=1e-12)
        assert atoms["bonded_pairs"].sum() == pytest.approx(m.parts()["bonded_pairs"], abs=1e-9)
        assert sum(m.parts().values()) == pytest.approx(a.total, abs=1e-9)
        if a.total != 0:
            assert sum(m.shares().values()) == pytest.approx(math.copysign(1.0, a.total))
            # a share has its value's sign: an atom that raises the score has a positive share
            assert (np.sign(atoms["share"]) == np.sign(atoms["attribution"])).all()
        assert m.features()["attribution"].sum() == pytest.approx(a.total, abs=1e-9)
        assert m.pairs()["attribution"].sum() == pytest.approx(a.pair_attr.sum(), abs=1e-9)


def test_all_pairs_rule_has_no_remainder_and_bonded_rule_keeps_exactly_the_non_bonded_pairs(real_attributions):
    a = real_attributions[0]
    assert map_attribution(a, "all_pairs").non_bonded_remainder == 0
    bonded = map_attribution(a, "bonded_pairs")
    assert bonded.non_bonded_remainder == pytest.approx(bonded.parts()["non_bonded_pairs"])
    assert map_attribution(a, "atoms_only").non_bonded_remainder == pytest.approx(a.pair_attr.sum())


def test_hand_computed_ethanol():
    # CCO: atoms 0-1-2, bonds (0,1) and (1,2), non-bonded pair (0,2)
    a = planted_attribution("CCO", {0: 1.0, 2: -2.0}, {(0, 1): 0.4, (1, 2): 0.6, (0, 2): 3.0})
    m = map_attribution(a)
    np.testing.assert_allclose(m.atom_values, [1.0 + 0.2 + 1.5, 0.2 + 0.3, -2.0 + 0.3 + 1.5])
    np.testing.assert_allclose(m.bond_values, [0.4, 0.6])
    assert m.parts() == pytest.approx({"atom_features": -1.0, "bonded_pairs": 1.0, "non_bonded_pairs": 3.0})
    assert m.shares()["non_bonded_pairs"] == pytest.approx(1.0)  # 3 of a total of 3
    b = map_attribution(a, "bonded_pairs")
    np.testing.assert_allclose(b.atom_values, [1.2, 0.5, -1.7])
    assert b.non_bonded_remainder == pytest.approx(3.0)
    pairs = m.pairs().set_index(["i", "j"])
    assert pairs.loc[(0, 2), "distance"] == 2 and not pairs.loc[(0, 2), "bonded"]
    assert list(m.bonds()["bond_type"]) == ["single", "single"]
    features = m.features().set_index("feature")
    assert features.loc[a.atom_columns[0], "attribution"] == pytest.approx(-1.0)
    assert features.loc[a.pair_columns[0], "attribution"] == pytest.approx(4.0)


def test_top_rows_by_absolute_value():
    m = map_attribution(planted_attribution("CCO", {0: 1.0, 2: -2.0}))
    assert list(m.top(m.atoms(), 2)["atom"]) == [2, 0]


def test_map_is_invariant_under_atom_renumbering():
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec, seed=1), spec=spec, device="cpu", dtype=__import__("torch").float64)
    mol = Chem.MolFromSmiles("CC(=O)Nc1ccc(O)cc1")
    order = list(np.random.default_rng(0).permutation(mol.GetNumAtoms()))
    renumbered = Chem.RenumberAtoms(mol, [int(k) for k in order])
    first = map_attribution(ig.attribute(mol, method="gauss_legendre", n_steps=16))
    second = map_attribution(ig.attribute(renumbered, method="gauss_legendre", n_steps=16))
    np.testing.assert_allclose(second.atom_values, first.atom_values[order], atol=1e-10)
    by_atoms = {frozenset((b.GetBeginAtomIdx(), b.GetEndAtomIdx())): v for b, v in zip(first.mol.GetBonds(), first.bond_values)}
    for bond, value in zip(second.mol.GetBonds(), second.bond_values):
        assert value == pytest.approx(by_atoms[frozenset((order[bond.GetBeginAtomIdx()], order[bond.GetEndAtomIdx()]))], abs=1e-10)
    assert second.shares() == pytest.approx(first.shares())


def test_a_graph_featurized_from_a_molecule_maps_back_onto_that_molecule():
    """A Mol in non-canonical atom order: its graph's attributions land on its own atoms, not on
    those of the canonical SMILES parsed again (aspirin written acid first: atom 0 is O, not C)."""
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec, seed=2), spec=spec, device="cpu", dtype=__import__("torch").float64)
    mol = Chem.MolFromSmiles("OC(=O)c1ccccc1OC(C)=O")
    graph = molattr.featurize(mol, spec)
    from_graph = map_attribution(ig.attribute(graph, method="gauss_legendre", n_steps=8))
    from_mol = map_attribution(ig.attribute(mol, method="gauss_legendre", n_steps=8))
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    assert [a.GetSymbol() for a in from_graph.mol.GetAtoms()] == symbols
    np.testing.assert_array_equal(from_graph.atom_values, from_mol.atom_values)


def test_a_graph_of_a_salt_with_every_fragment_kept_maps_back_onto_all_its_atoms():
    """Parsing the SMILES again would keep only the largest fragment; the graph carries its molecule."""
    spec = molattr.FeatureSpec(preset="full", max_distance=2, fragments="all")
    ig = molattr.IntegratedGradients(make_weave(spec, seed=3), spec=spec, device="cpu", dtype=__import__("torch").float64)
    mapped = map_attribution(ig.attribute(molattr.featurize("CC(=O)[O-].[Na+]", spec), method="gauss_legendre", n_steps=8))
    assert [a.GetSymbol() for a in mapped.mol.GetAtoms()] == ["C", "C", "O", "O", "Na"]
    assert mapped.atom_values.sum() == pytest.approx(mapped.attribution.atom_attr.sum() + mapped.attribution.pair_attr.sum())


def test_atoms_keep_their_index_in_the_input_through_salt_stripping_and_hydrogen_removal():
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec), spec=spec, device="cpu")
    kwargs = {"method": "gauss_legendre", "n_steps": 4}
    salt_map = map_attribution(ig.attribute("[Na+].[O-]C(=O)c1ccccc1", **kwargs))
    salt = salt_map.atoms()
    assert salt["atom"].tolist() == list(range(9)) and salt["input_atom"].tolist() == list(range(1, 10))
    bonds, pairs = salt_map.bonds(), salt_map.pairs()  # bonds and pairs name the same input atoms
    assert (bonds["input_begin"] == bonds["begin"] + 1).all() and (bonds["input_end"] == bonds["end"] + 1).all()
    assert (pairs["input_i"] == pairs["i"] + 1).all() and (pairs["input_j"] == pairs["j"] + 1).all()
    given = Chem.MolFromSmiles("Cl.CCN(CC)CC")
    amine = map_attribution(ig.attribute(given, **kwargs)).atoms()
    assert [given.GetAtomWithIdx(k).GetSymbol() for k in amine["input_atom"]] == amine["symbol"].tolist()
    keep_h = Chem.SmilesParserParams()
    keep_h.removeHs = False
    hydrogen_first = Chem.MolFromSmiles("[H]OC(C)=O", keep_h)  # the hydrogen is atom 0 of the caller's Mol
    acid = map_attribution(ig.attribute(hydrogen_first, **kwargs)).atoms()
    assert hydrogen_first.GetAtomWithIdx(0).GetSymbol() == "H" and acid["input_atom"].tolist() == [1, 2, 3, 4]
    plain = map_attribution(planted_attribution("CCO", {0: 1.0})).atoms()  # no parse: its own indices
    assert plain["input_atom"].tolist() == [0, 1, 2]


def test_attribution_carries_the_featurized_molecule_even_for_salts(real_attributions):
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec), spec=spec, device="cpu")
    a = ig.attribute("[Na+].CC(=O)[O-]", method="gauss_legendre", n_steps=4)
    assert a.mol.GetNumAtoms() == a.atom_attr.shape[0] == 4  # the acetate, not the sodium
    assert molecule_of(real_attributions[0]) is real_attributions[0].mol


def test_molecule_rebuilt_from_smiles_or_refused():
    a = planted_attribution("CCO", {0: 1.0})
    assert molecule_of(a).GetNumAtoms() == 3
    a.smiles = "CCCC"
    with pytest.raises(AttributionInputError, match="4 atoms but the attribution has 3"):
        molecule_of(a)
    with pytest.raises(AttributionInputError, match="atom_rule"):
        map_attribution(planted_attribution("CCO"), "half")
    smaller = planted_attribution("CCO", {0: 1.0})
    smaller.mol = Chem.MolFromSmiles("CC")  # a molecule with fewer atoms than the attribution
    with pytest.raises(AttributionInputError, match="the attribution of 'CCO' has 3 atoms .* but its molecule 'CC' has 2"):
        map_attribution(smaller)


def test_rdkit_properties_and_sdf_round_trip(tmp_path, real_attributions):
    maps = [map_attribution(a) for a in real_attributions]
    mol = annotate_mol(maps[0])
    assert [atom.GetDoubleProp("molattr_attribution") for atom in mol.GetAtoms()] == pytest.approx(list(maps[0].atom_values))
    assert [bond.GetDoubleProp("molattr_attribution") for bond in mol.GetBonds()] == pytest.approx(list(maps[0].bond_values))
    with pytest.raises(AttributionInputError, match="1 property mappings for 2 molecules"):
        write_sdf(maps[:2], tmp_path / "short.sdf", properties=[{"id": "a"}])
    assert not (tmp_path / "short.sdf").exists()
    path = write_sdf(maps, tmp_path / "out.sdf")
    back = list(Chem.SDMolSupplier(str(path)))
    assert len(back) == len(maps)
    for m, read in zip(maps, back):
        assert Chem.MolToSmiles(read) == Chem.MolToSmiles(m.mol)
        values = [atom.GetDoubleProp("molattr_attribution") for atom in read.GetAtoms()]
        np.testing.assert_allclose(values, m.atom_values, rtol=1e-12, atol=1e-15)
        bonds = [float(v) for v in read.GetProp("molattr_bond_attributions").split()] if read.GetNumBonds() else []
        np.testing.assert_allclose(bonds, m.bond_values)
        assert read.GetDoubleProp("molattr_prediction") == pytest.approx(m.attribution.prediction)
        assert read.GetProp("molattr_atom_rule") == "all_pairs"


def test_single_atom_molecule_maps(real_attributions):
    methane = map_attribution(real_attributions[-1])
    assert methane.atom_values.shape == (1,) and methane.bond_values.shape == (0,)
    assert methane.atom_values[0] == pytest.approx(real_attributions[-1].total)
    assert len(methane.pairs()) == 0 and len(methane.bonds()) == 0


def test_nan_values_stay_on_their_atom():
    a = planted_attribution("CCO", {0: float("nan"), 2: 1.0})
    m = map_attribution(a, "atoms_only")
    assert np.isnan(m.atom_values[0]) and m.atom_values[2] == 1.0 and m.atom_values[1] == 0.0


def test_a_named_molecule_keeps_its_title_in_sdf(tmp_path):
    mol = Chem.MolFromSmiles("NC(=O)c1ccccc1O")
    mol.SetProp("_Name", "CHEMBL-like")
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec, n_tasks=1), spec=spec, device="cpu")
    named, plain = (map_attribution(a) for a in ig.attribute([mol, "NC(=O)c1ccccc1O"], target=0, method="gauss_legendre",
                                                             n_steps=4))
    assert annotate_mol(named).GetProp("_Name") == "CHEMBL-like"
    assert annotate_mol(plain).GetProp("_Name") == "NC(=O)c1ccccc1O"
    titles = [m.GetProp("_Name") for m in Chem.SDMolSupplier(str(write_sdf([named, plain], tmp_path / "t.sdf")))]
    assert titles == ["CHEMBL-like", "NC(=O)c1ccccc1O"]
