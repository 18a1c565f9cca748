"""SMILES parsing, salt handling and row-wise featurization statuses."""
from __future__ import annotations

from collections import Counter

import pytest
from rdkit import Chem

from molattr.chem import input_indices, parse_smiles, prepare_mol, to_mol
from molattr.data.featurize_rows import featurize_rows
from molattr.errors import InvalidMoleculeError, MolattrError
from molattr.featurize import FeatureSpec


@pytest.mark.parametrize("smiles", ["", " ", "   ", "\t", "\n", " \t \n "])
def test_empty_input(smiles):
    with pytest.raises(InvalidMoleculeError) as info:
        parse_smiles(smiles)
    assert info.value.reason == "empty"
    assert isinstance(info.value, ValueError) and isinstance(info.value, MolattrError)


@pytest.mark.parametrize(
    "smiles",
    [
        "C1CC",  # unclosed ring
        "not a smiles",
        "C(C)(C)(C)(C)C",  # pentavalent carbon: parses, fails sanitization
        "c1cccc1",  # cannot be kekulized
        "CC(",
        "[Xx]",
    ],
)
def test_unparsable_input(smiles):
    with pytest.raises(InvalidMoleculeError) as info:
        parse_smiles(smiles)
    assert info.value.reason == "unparsable"
    assert info.value.smiles == smiles
    assert smiles in str(info.value)


def test_sanitization_failure_detail_mentions_valence():
    with pytest.raises(InvalidMoleculeError) as info:
        parse_smiles("C(C)(C)(C)(C)C")
    assert "valence" in info.value.detail.lower()


@pytest.mark.parametrize("value", [None, 5, b"CCO"])
def test_non_string_input_is_unparsable(value):
    with pytest.raises(InvalidMoleculeError) as info:
        parse_smiles(value)  # type: ignore[arg-type]
    assert info.value.reason == "unparsable"


def test_surrounding_whitespace_is_ignored():
    parsed = parse_smiles("  CCO \n")
    assert parsed.mol.GetNumAtoms() == 3
    assert parsed.smiles == "CCO"


def test_salt_default_keeps_acetate():
    parsed = parse_smiles("CC(=O)[O-].[Na+]")
    mol = parsed.mol
    # acetate: CH3, carboxylate C and two oxygens
    assert mol.GetNumAtoms() == 4
    assert sorted(a.GetSymbol() for a in mol.GetAtoms()) == ["C", "C", "O", "O"]
    assert Chem.GetFormalCharge(mol) == -1
    assert parsed.removed_fragments == 1
    assert len(Chem.GetMolFrags(mol)) == 1


def test_salt_order_does_not_matter():
    a = parse_smiles("CC(=O)[O-].[Na+]")
    b = parse_smiles("[Na+].CC(=O)[O-]")
    assert Chem.MolToSmiles(a.mol) == Chem.MolToSmiles(b.mol)
    assert a.removed_fragments == b.removed_fragments == 1


def test_salt_keep_all_fragments():
    parsed = parse_smiles("CC(=O)[O-].[Na+]", fragments="all")
    assert parsed.mol.GetNumAtoms() == 5
    assert parsed.removed_fragments == 0
    assert len(Chem.GetMolFrags(parsed.mol)) == 2
    assert Chem.GetFormalCharge(parsed.mol) == 0


def test_several_removed_fragments_are_counted():
    parsed = parse_smiles("O.O.c1ccccc1CCN.Cl")
    assert parsed.removed_fragments == 3
    assert parsed.mol.GetNumAtoms() == 9  # phenethylamine heavy atoms
    assert parsed.mol.GetNumAtoms() == Chem.MolFromSmiles("c1ccccc1CCN").GetNumAtoms()


def test_single_fragment_removes_nothing():
    parsed = parse_smiles("c1ccccc1O")
    assert parsed.removed_fragments == 0
    assert parsed.mol.GetNumAtoms() == 7


def test_invalid_fragment_policy():
    with pytest.raises(ValueError):
        parse_smiles("CCO", fragments="smallest")  # type: ignore[arg-type]


@pytest.mark.parametrize("smiles, symbol", [("C", "C"), ("[Na+]", "Na"), ("[U]", "U"), ("O", "O")])
def test_single_atom_molecule(smiles, symbol):
    parsed = parse_smiles(smiles)
    assert parsed.mol.GetNumAtoms() == 1
    assert parsed.mol.GetAtomWithIdx(0).GetSymbol() == symbol
    assert parsed.removed_fragments == 0


def test_to_mol_matches_parse_smiles():
    assert Chem.MolToSmiles(to_mol("CC(=O)[O-].[Na+]")) == Chem.MolToSmiles(parse_smiles("CC(=O)[O-].[Na+]").mol)


def test_prepare_mol_none_raises():
    with pytest.raises(InvalidMoleculeError) as info:
        prepare_mol(None)  # type: ignore[arg-type]
    assert info.value.reason == "unparsable"


def test_prepare_mol_applies_fragment_policy_without_touching_input():
    mol = Chem.MolFromSmiles("CC(=O)[O-].[Na+]")
    parsed = prepare_mol(mol)
    assert parsed.mol.GetNumAtoms() == 4 and parsed.removed_fragments == 1
    assert mol.GetNumAtoms() == 5
    assert prepare_mol(mol, "all").mol.GetNumAtoms() == 5


def test_input_indices_follow_the_molecule_as_given():
    assert input_indices(parse_smiles("c1ccccc1O").mol) == list(range(7))  # nothing dropped: own indices
    kept = parse_smiles("[Na+].[O-]C(=O)c1ccccc1").mol
    assert input_indices(kept) == list(range(1, 10))  # the sodium was atom 0
    assert input_indices(prepare_mol(kept).mol) == list(range(9))  # a caller's Mol is the new input
    with_h = Chem.AddHs(Chem.MolFromSmiles("OC(=O)C"))
    reordered = Chem.RenumberAtoms(with_h, [4, 0, 5, 1, 2, 3, 6, 7])  # a hydrogen first
    assert input_indices(prepare_mol(reordered).mol) == [1, 3, 4, 5]
    assert input_indices(prepare_mol(Chem.MolFromSmiles("Cl.CCN")).mol) == [1, 2, 3]


def test_prepare_mol_rejects_unsanitizable_and_empty():
    bad = Chem.MolFromSmiles("C(C)(C)(C)(C)C", sanitize=False)
    with pytest.raises(InvalidMoleculeError) as info:
        prepare_mol(bad)
    assert info.value.reason == "unparsable"
    with pytest.raises(InvalidMoleculeError) as info:
        prepare_mol(Chem.Mol())
    assert info.value.reason == "empty"


# --------------------------------------------------------------------------- featurize_rows


def test_featurize_rows_aligns_statuses():
    smiles = ["CCO", "", "C1CC", "CC(=O)[O-].[Na+]", "   ", "c1ccccc1", "C(C)(C)(C)(C)C"]
    spec = FeatureSpec()
    result = featurize_rows(smiles, spec)
    assert len(result.graphs) == len(result.status) == len(result.errors) == len(smiles)
    assert result.status == ["ok", "empty", "unparsable", "ok_salt_stripped", "empty", "ok", "unparsable"]
    for graph, status, error in zip(result.graphs, result.status, result.errors):
        assert (graph is None) == (error is not None)
        assert (graph is not None) == status.startswith("ok")
    assert result.ok_indices == [0, 3, 5]
    assert [result.graphs[k].num_nodes for k in result.ok_indices] == [3, 4, 6]
    assert result.graphs[3].removed_fragments == 1
    assert result.graphs[0].removed_fragments == 0
    assert all(result.graphs[k].spec_hash == spec.hash for k in result.ok_indices)
    assert "C1CC" in result.errors[2]
    assert "C(C)(C)(C)(C)C" in result.errors[6]
    assert result.counts == Counter({"ok": 2, "empty": 2, "unparsable": 2, "ok_salt_stripped": 1})
    assert sum(result.counts.values()) == len(smiles)


def test_featurize_rows_keep_all_fragments():
    result = featurize_rows(["CC(=O)[O-].[Na+]"], FeatureSpec(fragments="all"))
    assert result.status == ["ok"]
    assert result.graphs[0].num_nodes == 5


def test_featurize_rows_matches_single_featurize():
    from molattr.featurize import featurize

    spec = FeatureSpec(preset="simple", max_distance=3)
    smiles = ["CCO", "c1ccncc1", "CC(=O)[O-].[Na+]"]
    result = featurize_rows(smiles, spec)
    for s, g in zip(smiles, result.graphs):
        ref = featurize(s, spec)
        assert g.x.equal(ref.x) and g.edge_index.equal(ref.edge_index) and g.edge_attr.equal(ref.edge_attr)


def test_featurize_rows_empty_input():
    result = featurize_rows([], FeatureSpec())
    assert result.graphs == [] and result.status == [] and result.errors == [] and result.ok_indices == []
