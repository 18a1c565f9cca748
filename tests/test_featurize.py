"""Featurization: hand-checked feature values, pair sets against RDKit, invariances, specs."""
from __future__ import annotations

import itertools
import json
import os
from functools import lru_cache

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem, RDConfig
from torch_geometric.data import Batch

from molattr.chem import parse_smiles
from molattr.errors import InvalidMoleculeError
from molattr.featurize import FeatureSpec, featurize
from molattr.featurize.atoms import atom_features
from molattr.featurize.spec import FEATURIZER_VERSION

FULL = FeatureSpec(preset="full", max_distance=2)
ATOM_COLUMNS = FULL.atom_columns
PAIR_COLUMNS = FULL.pair_columns
TYPE_COLUMNS = [c for c in ATOM_COLUMNS if c.startswith("atom:type=")]
BOND_COLUMNS = {
    Chem.BondType.SINGLE: "pair:bond=single",
    Chem.BondType.DOUBLE: "pair:bond=double",
    Chem.BondType.TRIPLE: "pair:bond=triple",
    Chem.BondType.AROMATIC: "pair:bond=aromatic",
}
DISTANCE_COLUMNS = [f"pair:distance={d}" for d in range(1, 8)]


# --------------------------------------------------------------------------- helpers


def atom_col(graph, name: str, spec: FeatureSpec = FULL) -> np.ndarray:
    """One atom feature column, looked up by name."""
    return graph.x[:, spec.atom_columns.index(name)].numpy()


def pair_table(graph, spec: FeatureSpec = FULL) -> dict[tuple[int, int], dict[str, float]]:
    """``{(i, j): {column name: value}}`` for every stored pair."""
    table = {}
    for k, (i, j) in enumerate(graph.edge_index.t().tolist()):
        table[(i, j)] = dict(zip(spec.pair_columns, graph.edge_attr[k].tolist()))
    return table


def bond_block(row: dict[str, float]) -> list[float]:
    return [row[c] for c in BOND_COLUMNS.values()]


def distance_of(row: dict[str, float]) -> int | None:
    """The distance a pair's one-hot block encodes (None for an all-zero block)."""
    hot = [d for d, c in enumerate(DISTANCE_COLUMNS, start=1) if row[c] == 1.0]
    assert sum(row[c] for c in DISTANCE_COLUMNS) == len(hot)  # only 0/1 values
    assert len(hot) <= 1
    return hot[0] if hot else None


@lru_cache(maxsize=1)
def nci_smiles(limit: int = 200, multi_fragment: int = 15) -> tuple[str, ...]:
    """The first ``limit`` SMILES of RDKit's NCI sample that molattr can parse, plus the first
    ``multi_fragment`` parsable multi-fragment ones (salts, mixtures) further down the file."""
    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    first, salts = [], []
    with open(path) as handle:
        for line in handle:
            parts = line.split()
            if not parts:
                continue
            is_salt = "." in parts[0]
            if len(first) == limit and not is_salt:
                continue
            try:
                parse_smiles(parts[0], "all")
            except InvalidMoleculeError:
                continue
            if len(first) < limit:
                first.append(parts[0])
            elif len(salts) < multi_fragment:
                salts.append(parts[0])
            else:
                break
    return tuple(first + salts)


# --------------------------------------------------------------------------- spec / columns


def test_full_preset_columns_are_unique_and_sized():
    assert FULL.n_atom_features == len(ATOM_COLUMNS) == len(set(ATOM_COLUMNS)) == 27
    assert FULL.n_pair_features == len(PAIR_COLUMNS) == len(set(PAIR_COLUMNS)) == 12
    assert len(TYPE_COLUMNS) == 11
    for name in list(BOND_COLUMNS.values()) + DISTANCE_COLUMNS + ["pair:same_ring"]:
        assert name in PAIR_COLUMNS


# --------------------------------------------------------------------------- hand-checked molecules


def test_benzene():
    g = featurize("c1ccccc1", FULL)
    assert g.x.shape == (6, 27)
    for name, value in [
        ("atom:type=C", 1), ("atom:aromatic", 1), ("atom:hybridization=sp2", 1),
        ("atom:hybridization=sp", 0), ("atom:hybridization=sp3", 0), ("atom:ring_size=6", 1),
        ("atom:ring_size=5", 0), ("atom:hbond_donor", 0), ("atom:hbond_acceptor", 0),
        ("atom:formal_charge", 0), ("atom:chirality=R", 0), ("atom:chirality=S", 0),
    ]:
        np.testing.assert_array_equal(atom_col(g, name), np.full(6, value, dtype=np.float32), err_msg=name)
    # all six carbons are equivalent, so their partial charges are equal
    charges = atom_col(g, "atom:partial_charge")
    np.testing.assert_allclose(charges, charges[0], atol=1e-6)

    pairs = pair_table(g)
    ring = [(k, (k + 1) % 6) for k in range(6)]
    bonded = {tuple(sorted(p)) for p in ring}
    second = {tuple(sorted((k, (k + 2) % 6))) for k in range(6)}
    assert len(bonded) == 6 and len(second) == 6
    assert set(pairs) == bonded | second  # para pairs (distance 3) are not kept with N2
    for p in bonded:
        row = pairs[p]
        assert bond_block(row) == [0, 0, 0, 1], p
        assert distance_of(row) == 1
    for p in second:
        row = pairs[p]
        assert bond_block(row) == [0, 0, 0, 0], p
        assert distance_of(row) == 2
    assert all(row["pair:same_ring"] == 1 for row in pairs.values())


def test_pyridine_nitrogen():
    g = featurize("c1ccncc1", FULL)
    n = 3
    assert atom_col(g, "atom:type=N").tolist() == [0, 0, 0, 1, 0, 0]
    assert atom_col(g, "atom:aromatic").tolist() == [1] * 6
    assert atom_col(g, "atom:hbond_acceptor").tolist() == [0, 0, 0, 1, 0, 0]
    assert atom_col(g, "atom:hbond_donor").tolist() == [0] * 6
    assert atom_col(g, "atom:hybridization=sp2")[n] == 1
    assert atom_col(g, "atom:ring_size=6").tolist() == [1] * 6
    # the ring nitrogen is the most electronegative atom
    charges = atom_col(g, "atom:partial_charge")
    assert charges[n] < 0 and charges.argmin() == n


def test_acetic_acid():
    # atoms: 0 CH3, 1 carboxyl C, 2 carbonyl O, 3 hydroxyl O
    g = featurize("CC(=O)O", FULL)
    assert atom_col(g, "atom:type=C").tolist() == [1, 1, 0, 0]
    assert atom_col(g, "atom:type=O").tolist() == [0, 0, 1, 1]
    assert atom_col(g, "atom:hybridization=sp3")[0] == 1
    assert atom_col(g, "atom:hybridization=sp2")[1] == 1
    assert atom_col(g, "atom:hybridization=sp2")[2] == 1
    assert atom_col(g, "atom:hbond_donor").tolist() == [0, 0, 0, 1]
    assert atom_col(g, "atom:hbond_acceptor").tolist() == [0, 0, 1, 1]
    assert atom_col(g, "atom:aromatic").tolist() == [0] * 4
    assert atom_col(g, "atom:ring_size=6").tolist() == [0] * 4
    charges = atom_col(g, "atom:partial_charge")
    assert charges[1] > 0 and charges[2] < 0 and charges[3] < 0

    pairs = pair_table(g)
    assert set(pairs) == {(0, 1), (1, 2), (1, 3), (0, 2), (0, 3), (2, 3)}
    assert bond_block(pairs[(0, 1)]) == [1, 0, 0, 0]
    assert bond_block(pairs[(1, 2)]) == [0, 1, 0, 0]  # C=O
    assert bond_block(pairs[(1, 3)]) == [1, 0, 0, 0]
    for p in [(0, 2), (0, 3), (2, 3)]:
        assert bond_block(pairs[p]) == [0, 0, 0, 0]
        assert distance_of(pairs[p]) == 2
    assert all(row["pair:same_ring"] == 0 for row in pairs.values())

    assert featurize("CC(=O)O", FeatureSpec(max_distance=1)).edge_index.shape == (2, 3)
    assert featurize("CC(=O)O", FeatureSpec(max_distance=None)).edge_index.shape == (2, 6)


def test_triple_bond_and_sp():
    g = featurize("CC#N", FULL)
    assert bond_block(pair_table(g)[(1, 2)]) == [0, 0, 1, 0]
    assert atom_col(g, "atom:hybridization=sp").tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    "smiles, label",
    [
        ("C[C@@H](C(=O)O)N", "S"),  # L-alanine
        ("C[C@H](C(=O)O)N", "R"),  # D-alanine
        ("N[C@@H](C)C(=O)O", "S"),  # L-alanine written from the amine
    ],
)
def test_alanine_stereocentre(smiles, label):
    g = featurize(smiles, FULL)
    mol = Chem.MolFromSmiles(smiles)
    centre = next(a.GetIdx() for a in mol.GetAtoms() if a.GetDegree() == 3 and a.GetSymbol() == "C"
                  and not any(b.GetBondType() == Chem.BondType.DOUBLE for b in a.GetBonds()))
    r, s = atom_col(g, "atom:chirality=R"), atom_col(g, "atom:chirality=S")
    expected_r = np.zeros(len(r))
    expected_s = np.zeros(len(s))
    (expected_r if label == "R" else expected_s)[centre] = 1
    np.testing.assert_array_equal(r, expected_r)
    np.testing.assert_array_equal(s, expected_s)


def test_unspecified_stereocentre_has_no_chirality_flag():
    g = featurize("CC(C(=O)O)N", FULL)
    assert atom_col(g, "atom:chirality=R").sum() == 0
    assert atom_col(g, "atom:chirality=S").sum() == 0


def test_threonine_two_stereocentres():
    # L-threonine is (2S,3R); atoms: 0 C, 1 C3(OH), 2 O, 3 C2(N), 4 N, 5 C, 6 O, 7 O
    g = featurize("C[C@@H](O)[C@H](N)C(=O)O", FULL)
    assert np.flatnonzero(atom_col(g, "atom:chirality=R")).tolist() == [1]
    assert np.flatnonzero(atom_col(g, "atom:chirality=S")).tolist() == [3]


def test_tetramethylammonium_formal_charge():
    g = featurize("C[N+](C)(C)C", FULL)
    assert atom_col(g, "atom:formal_charge").tolist() == [0, 1, 0, 0, 0]
    assert atom_col(g, "atom:type=N").tolist() == [0, 1, 0, 0, 0]
    assert atom_col(g, "atom:hbond_donor")[1] == 0  # no hydrogen on N
    assert atom_col(g, "atom:hybridization=sp3")[1] == 1


def test_negative_formal_charge():
    g = featurize("CC(=O)[O-]", FULL)
    assert atom_col(g, "atom:formal_charge").tolist() == [0, 0, 0, -1]


@pytest.mark.parametrize("smiles", ["[U]", "[Se]", "[Na+]", "OB(O)O", "C[Si](C)(C)C", "[2H]C([2H])([2H])Cl"])
def test_element_types_one_hot(smiles):
    g = featurize(smiles, FULL)
    mol = Chem.MolFromSmiles(smiles)
    known = {c.split("=", 1)[1] for c in TYPE_COLUMNS} - {"other"}
    types = g.x[:, [ATOM_COLUMNS.index(c) for c in TYPE_COLUMNS]].numpy()
    np.testing.assert_array_equal(types.sum(axis=1), np.ones(mol.GetNumAtoms()))
    for atom in mol.GetAtoms():
        column = f"atom:type={atom.GetSymbol()}" if atom.GetSymbol() in known else "atom:type=other"
        assert atom_col(g, column)[atom.GetIdx()] == 1, (smiles, atom.GetSymbol())
    assert np.isfinite(g.x.numpy()).all()


def test_uranium_goes_to_other_with_finite_charge():
    g = featurize("[U]", FULL)
    assert atom_col(g, "atom:type=other").tolist() == [1]
    assert g.x[:, [ATOM_COLUMNS.index(c) for c in TYPE_COLUMNS if c != "atom:type=other"]].sum() == 0
    assert np.isfinite(atom_col(g, "atom:partial_charge")).all()


def test_naphthalene_ring_fusion():
    # atoms 3 and 8 are the fusion atoms; rings A = {0,1,2,3,8,9}, B = {3,4,5,6,7,8}
    g = featurize("c1ccc2ccccc2c1", FULL)
    expected = [2 if k in (3, 8) else 1 for k in range(10)]
    assert atom_col(g, "atom:ring_size=6").tolist() == expected
    pairs = pair_table(g)
    # 11 bonds + 14 paths of length two (sum of C(degree, 2), no 4-rings) = 25 pairs
    assert len(pairs) == 25
    assert sum(1 for row in pairs.values() if distance_of(row) == 1) == 11
    not_same_ring = sorted(p for p, row in pairs.items() if row["pair:same_ring"] == 0)
    assert not_same_ring == [(2, 4), (7, 9)]  # across the fusion bond
    assert pairs[(3, 8)]["pair:same_ring"] == 1


# --------------------------------------------------------------------------- partial charges

CHARGE_MOLECULES = [
    "c1ccccc1", "c1ccncc1", "CC(=O)O", "CC(=O)Nc1ccc(O)cc1", "C[C@@H](C(=O)O)N", "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "FC(F)(F)c1ccc(Cl)cc1Br", "CS(=O)(=O)N", "OP(=O)(O)O",
    "C[N+](C)(C)C", "CC(=O)[O-]", "c1cc[nH+]cc1",
]


@pytest.mark.parametrize("smiles", CHARGE_MOLECULES)
def test_gasteiger_charges_sum_to_net_charge_with_explicit_hydrogens(smiles):
    """The atom featurizer itself, on a molecule with hydrogen atoms (featurize folds them away)."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    x = atom_features(mol, FULL)
    assert x.shape[0] == mol.GetNumAtoms()
    charges = x[:, FULL.atom_columns.index("atom:partial_charge")]
    assert np.isfinite(charges).all()
    net = sum(a.GetFormalCharge() for a in mol.GetAtoms())
    assert abs(float(charges.astype(np.float64).sum()) - net) < 1e-4


@pytest.mark.parametrize("smiles", CHARGE_MOLECULES)
def test_heavy_atom_charges_match_explicit_hydrogen_form(smiles):
    """With implicit hydrogens the heavy-atom charges are the same as in the explicit-H molecule,
    so heavy-atom charges plus the hydrogens' charges again sum to the net charge."""
    mol = Chem.MolFromSmiles(smiles)
    n = mol.GetNumAtoms()
    heavy = atom_col(featurize(mol, FULL), "atom:partial_charge")
    explicit = atom_features(Chem.AddHs(mol), FULL)[:, FULL.atom_columns.index("atom:partial_charge")]
    assert np.isfinite(heavy).all()
    np.testing.assert_allclose(heavy, explicit[:n], atol=1e-6)
    net = Chem.GetFormalCharge(mol)
    assert abs(float(heavy.astype(np.float64).sum() + explicit[n:].astype(np.float64).sum()) - net) < 1e-4


@pytest.mark.parametrize("smiles", ["CC(=O)Oc1ccccc1C(=O)O", "C[C@@H](C(=O)O)N", "[2H]C([2H])([2H])O", "[H][H]"])
def test_explicit_hydrogen_atoms_are_folded_as_the_smiles_parser_does(smiles):
    """Chem.AddHs, or [H] written in the SMILES: the same graph as the plain SMILES (RDKit's kept
    hydrogens, deuterium and H2, stay atoms in both)."""
    plain = featurize(smiles, FULL)
    with_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
    graph = featurize(with_h, FULL)  # AddHs appends the hydrogens: heavy atoms keep their order
    for key in ("x", "edge_index", "edge_attr"):
        assert torch.equal(graph[key], plain[key]), (smiles, key)
    written = featurize(Chem.MolToSmiles(with_h), FULL)  # "[H]..." in RDKit's order: the same rows, permuted
    assert sorted(map(tuple, written.x.tolist())) == sorted(map(tuple, plain.x.tolist()))


def test_partial_charges_finite_on_real_molecules():
    spec = FeatureSpec(fragments="all")
    for smiles in nci_smiles()[:100]:
        g = featurize(smiles, spec)
        assert torch.isfinite(g.x).all(), smiles
        assert torch.isfinite(g.edge_attr).all(), smiles


@pytest.mark.parametrize("smiles, plain", [("OCCc1ccccc1*", "OCCc1ccccc1"), ("OCC[Se]C", "OCC"), ("OCCc1ccc(cc1)[As](=O)(O)O", "OCCc1ccccc1")])
def test_an_atom_without_gasteiger_parameters_gets_zero_and_leaves_its_neighbours_charges(smiles, plain):
    """RDKit makes the charges of the whole fragment NaN; the parameterless atom alone gets 0, and
    atoms far from it keep the charges they have without it."""
    charges = atom_col(featurize(smiles, FULL), "atom:partial_charge")
    unparameterised = [a.GetIdx() for a in Chem.MolFromSmiles(smiles).GetAtoms() if a.GetSymbol() in ("*", "Se", "As")]
    assert charges[unparameterised].tolist() == [0.0]
    assert charges[0] < -0.3  # the hydroxyl oxygen
    np.testing.assert_allclose(charges[:2], atom_col(featurize(plain, FULL), "atom:partial_charge")[:2], atol=1e-2)


# --------------------------------------------------------------------------- simple preset


@pytest.mark.parametrize("smiles", ["c1ccccc1", "CC(=O)O", "C[N+](C)(C)C", "[U]", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"])
def test_simple_preset_is_subset_of_full(smiles):
    simple = FeatureSpec(preset="simple", max_distance=2)
    assert simple.n_atom_features == 11 and simple.n_pair_features == 11
    assert simple.atom_columns == TYPE_COLUMNS
    assert simple.pair_columns == [c for c in PAIR_COLUMNS if c != "pair:same_ring"]
    gs, gf = featurize(smiles, simple), featurize(smiles, FULL)
    assert gs.x.shape == (gf.x.shape[0], 11)
    assert gs.edge_attr.shape == (gf.edge_attr.shape[0], 11)
    assert torch.equal(gs.x, gf.x[:, [ATOM_COLUMNS.index(c) for c in TYPE_COLUMNS]])
    assert torch.equal(gs.edge_index, gf.edge_index)
    assert torch.equal(gs.edge_attr, gf.edge_attr[:, [PAIR_COLUMNS.index(c) for c in simple.pair_columns]])


# --------------------------------------------------------------------------- pairs vs RDKit


def test_nci_sample_is_usable():
    sample = nci_smiles()
    assert len(sample) == 215
    # the sample exercises multi-fragment input (pairs must never cross fragments)
    assert any(len(Chem.GetMolFrags(parse_smiles(s, "all").mol)) > 1 for s in sample)


@pytest.mark.parametrize("max_distance", [1, 2, 3, None])
def test_pairs_match_rdkit_distance_matrix(max_distance):
    spec = FeatureSpec(preset="full", max_distance=max_distance, fragments="all")
    cols = {name: k for k, name in enumerate(spec.pair_columns)}
    for smiles in nci_smiles():
        mol = parse_smiles(smiles, "all").mol
        n = mol.GetNumAtoms()
        dm = Chem.GetDistanceMatrix(mol)
        frag = np.zeros(n, dtype=int)
        for f, atoms in enumerate(Chem.GetMolFrags(mol)):
            frag[list(atoms)] = f
        limit = n if max_distance is None else max_distance
        expected = [(i, j) for i, j in itertools.combinations(range(n), 2)
                    if frag[i] == frag[j] and dm[i, j] <= limit]

        g = featurize(smiles, spec)
        assert g.num_nodes == n
        assert g.edge_index.dtype == torch.int64
        got = [tuple(p) for p in g.edge_index.t().tolist()]
        assert got == expected, smiles  # same pairs, i < j, sorted
        distance = g.pair_distance.numpy()
        np.testing.assert_array_equal(distance, [int(dm[i, j]) for i, j in expected], err_msg=smiles)

        attr = g.edge_attr.numpy()
        for k, (i, j) in enumerate(expected):
            d = int(dm[i, j])
            for dd in range(1, 8):
                assert attr[k, cols[f"pair:distance={dd}"]] == (1.0 if d == dd else 0.0), (smiles, i, j)
            bond = mol.GetBondBetweenAtoms(i, j)
            assert (bond is not None) == (d == 1)
            for bond_type, name in BOND_COLUMNS.items():
                want = 1.0 if bond is not None and bond.GetBondType() == bond_type else 0.0
                assert attr[k, cols[name]] == want, (smiles, i, j, name)


@pytest.mark.parametrize("max_distance", [1, 2, 3, 8])
def test_sparse_pair_search_matches_dense(max_distance):
    """Molecules above DENSE_MAX_ATOMS use the breadth-first search; it finds the same pairs."""
    from molattr.featurize.pairs import BondArrays, kept_pairs, pairs_within

    for smiles in nci_smiles()[::5] + ("N" + "C(C)C(=O)N" * 20 + "CC(=O)O",):
        mol = parse_smiles(smiles, "all").mol
        bonds = BondArrays.of(mol)
        sparse_index, sparse_distance = pairs_within(bonds, max_distance)
        dense_index, dense_distance = kept_pairs(mol, bonds, max_distance)
        np.testing.assert_array_equal(sparse_index, dense_index, err_msg=smiles)
        np.testing.assert_array_equal(sparse_distance, dense_distance, err_msg=smiles)


# --------------------------------------------------------------------------- renumbering invariance

RENUMBER_MOLECULES = [
    "C[C@@H](C(=O)O)N",  # chiral
    "C[C@@H](O)[C@H](N)C(=O)O",  # two stereocentres
    "C[N+](C)(C)C",  # charged
    "CC(=O)[O-]",  # charged
    "c1ccc2ccccc2c1",  # fused rings
    "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O",  # chiral, aromatic
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "OC(=O)C[N+](C)(C)CC#N",
    "C12C3C4C1C5C2C3C45",  # cubane
]


def _check_renumbering(smiles: str, perm: list[int]) -> None:
    mol = Chem.MolFromSmiles(smiles)
    renumbered = Chem.RenumberAtoms(mol, perm)
    for spec in (FULL, FeatureSpec(max_distance=None)):
        a, b = featurize(mol, spec), featurize(renumbered, spec)
        charge = ATOM_COLUMNS.index("atom:partial_charge")
        other = [k for k in range(len(ATOM_COLUMNS)) if k != charge]
        xa, xb = a.x.numpy(), b.x.numpy()
        # new atom k is old atom perm[k]
        np.testing.assert_array_equal(xb[:, other], xa[perm][:, other], err_msg=smiles)
        np.testing.assert_allclose(xb[:, charge], xa[perm, charge], atol=1e-5, err_msg=smiles)

        def keyed(graph, old_index):
            return {
                frozenset((old_index[i], old_index[j])): (tuple(graph.edge_attr[k].tolist()), int(graph.pair_distance[k]))
                for k, (i, j) in enumerate(graph.edge_index.t().tolist())
            }

        assert keyed(b, perm) == keyed(a, list(range(mol.GetNumAtoms()))), smiles


@settings(max_examples=40, deadline=None, database=None)
@given(st.data())
def test_features_invariant_under_atom_renumbering(data):
    smiles = data.draw(st.sampled_from(RENUMBER_MOLECULES))
    n = Chem.MolFromSmiles(smiles).GetNumAtoms()
    perm = data.draw(st.permutations(list(range(n))))
    _check_renumbering(smiles, perm)


@pytest.mark.parametrize("smiles", RENUMBER_MOLECULES)
def test_features_invariant_under_reversed_numbering(smiles):
    n = Chem.MolFromSmiles(smiles).GetNumAtoms()
    _check_renumbering(smiles, list(range(n))[::-1])


# --------------------------------------------------------------------------- shapes, dtypes, edge cases


def test_shapes_and_dtypes():
    g = featurize("CC(C)Cc1ccc(cc1)C(C)C(=O)O", FULL)
    n, p = g.num_nodes, g.edge_index.shape[1]
    assert n == 15 and p > 0
    assert g.x.dtype == torch.float32 and g.x.shape == (n, 27)
    assert g.edge_attr.dtype == torch.float32 and g.edge_attr.shape == (p, 12)
    assert g.edge_index.dtype == torch.int64 and g.edge_index.shape == (2, p)
    assert g.pair_distance.dtype == torch.int64 and g.pair_distance.shape == (p,)
    assert bool((g.edge_index[0] < g.edge_index[1]).all())
    assert g.spec_hash == FULL.hash
    assert g.removed_fragments == 0


@pytest.mark.parametrize("smiles", ["C", "[Na+]", "[U]"])
def test_single_atom_has_no_pairs(smiles):
    for spec in (FULL, FeatureSpec(max_distance=None), FeatureSpec(preset="simple")):
        g = featurize(smiles, spec)
        assert g.x.shape == (1, spec.n_atom_features)
        assert g.edge_index.shape == (2, 0) and g.edge_index.dtype == torch.int64
        assert g.edge_attr.shape == (0, spec.n_pair_features) and g.edge_attr.dtype == torch.float32
        assert g.pair_distance.shape == (0,)


def test_fragments_all_never_pairs_across_fragments():
    g = featurize("CC(=O)[O-].[Na+]", FeatureSpec(max_distance=None, fragments="all"))
    assert g.num_nodes == 5
    assert g.removed_fragments == 0
    assert 4 not in g.edge_index.flatten().tolist()  # the sodium is isolated
    assert g.edge_index.shape[1] == 6  # all pairs within acetate
    salt_stripped = featurize("CC(=O)[O-].[Na+]", FULL)
    assert salt_stripped.num_nodes == 4 and salt_stripped.removed_fragments == 1


def test_featurize_rejects_bad_input():
    with pytest.raises(InvalidMoleculeError):
        featurize("C1CC", FULL)
    with pytest.raises(InvalidMoleculeError):
        featurize("", FULL)
    with pytest.raises(TypeError):
        featurize(42, FULL)  # type: ignore[arg-type]


def test_featurize_mol_does_not_modify_input():
    mol = Chem.MolFromSmiles("CC(=O)[O-].[Na+]")
    featurize(mol, FULL)
    assert mol.GetNumAtoms() == 5


# --------------------------------------------------------------------------- spec hash / serialization


def test_spec_hash_stable_and_sensitive():
    assert FeatureSpec().hash == FeatureSpec(preset="full", max_distance=2, fragments="largest").hash
    h = FULL.hash
    assert isinstance(h, str) and len(h) == 16 and int(h, 16) >= 0
    variants = [
        FeatureSpec(preset="simple", max_distance=2),
        FeatureSpec(preset="full", max_distance=1),
        FeatureSpec(preset="full", max_distance=3),
        FeatureSpec(preset="full", max_distance=None),
        FeatureSpec(preset="full", max_distance=2, fragments="all"),
    ]
    hashes = [h] + [v.hash for v in variants]
    assert len(set(hashes)) == len(hashes)
    assert FULL == FeatureSpec() and hash(FULL) == hash(FeatureSpec())


@pytest.mark.parametrize(
    "spec",
    [FULL, FeatureSpec(preset="simple", max_distance=None), FeatureSpec(max_distance=5, fragments="all")],
)
def test_spec_round_trip(spec):
    data = spec.to_dict()
    assert data["version"] == FEATURIZER_VERSION
    assert data["atom_columns"] == spec.atom_columns and data["pair_columns"] == spec.pair_columns
    assert FeatureSpec.from_dict(data) == spec
    assert FeatureSpec.from_dict(json.loads(json.dumps(data))) == spec  # as stored in a checkpoint
    assert FeatureSpec.from_dict(data).hash == spec.hash


def test_spec_from_dict_rejects_mismatches():
    data = FULL.to_dict()
    swapped = dict(data, atom_columns=[data["atom_columns"][1], data["atom_columns"][0], *data["atom_columns"][2:]])
    with pytest.raises(ValueError):
        FeatureSpec.from_dict(swapped)
    with pytest.raises(ValueError):
        FeatureSpec.from_dict(dict(data, pair_columns=data["pair_columns"][:-1]))
    with pytest.raises(ValueError):
        FeatureSpec.from_dict(dict(data, pair_columns=FeatureSpec(preset="simple").pair_columns))
    with pytest.raises(ValueError, match="unknown featurization keys: bogus"):
        FeatureSpec.from_dict(dict(data, bogus=1))
    with pytest.raises(ValueError, match="max_distance must be a positive integer"):
        FeatureSpec(max_distance=True)
    numpy_distance = FeatureSpec(max_distance=np.int64(3))  # stored as an int: same hash, JSON-able
    assert type(numpy_distance.max_distance) is int and numpy_distance.hash == FeatureSpec(max_distance=3).hash
    with pytest.raises(ValueError):
        FeatureSpec.from_dict(dict(data, version=FEATURIZER_VERSION + 1))
    with pytest.raises(ValueError):
        FeatureSpec.from_dict(dict(data, preset="foo"))


@pytest.mark.parametrize(
    "kwargs",
    [dict(preset="foo"), dict(max_distance=0), dict(max_distance=-1), dict(max_distance=2.5),
     dict(max_distance="2"), dict(fragments="some")],
)
def test_spec_rejects_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        FeatureSpec(**kwargs)


def test_spec_names():
    assert FULL.name == "full-N2"
    assert FeatureSpec(preset="simple", max_distance=None).name == "simple-Ninf"


# --------------------------------------------------------------------------- batching


def test_batch_offsets_edge_index():
    smiles = ["CC(=O)O", "c1ccccc1", "C", "C[N+](C)(C)C"]
    graphs = [featurize(s, FULL) for s in smiles]
    batch = Batch.from_data_list(graphs)
    sizes = [g.num_nodes for g in graphs]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    assert batch.num_nodes == sum(sizes)
    assert torch.equal(batch.x, torch.cat([g.x for g in graphs]))
    assert torch.equal(batch.edge_attr, torch.cat([g.edge_attr for g in graphs]))
    expected = torch.cat([g.edge_index + int(o) for g, o in zip(graphs, offsets)], dim=1)
    assert torch.equal(batch.edge_index, expected)
    assert batch.batch.tolist() == [k for k, n in enumerate(sizes) for _ in range(n)]
    # every pair stays inside its own molecule
    assert torch.equal(batch.batch[batch.edge_index[0]], batch.batch[batch.edge_index[1]])
    for k, g in enumerate(graphs):
        assert torch.equal(batch.get_example(k).edge_index, g.edge_index)


# --------------------------------------------------------------------------- large molecule


def test_long_peptide():
    smiles = Chem.MolToSmiles(Chem.MolFromSequence("A" * 60))
    mol = parse_smiles(smiles).mol
    n = mol.GetNumAtoms()
    assert n == 301  # 60 x (N, CA, C, O, CB) + terminal OH oxygen
    dm = Chem.GetDistanceMatrix(mol)
    upper = dm[np.triu_indices(n, k=1)]

    g = featurize(smiles, FULL)
    assert g.x.shape == (n, 27)
    assert g.edge_index.shape[1] == int(((upper >= 1) & (upper <= 2)).sum())
    assert g.edge_index.shape[1] == int((g.pair_distance == 1).sum() + (g.pair_distance == 2).sum())
    assert int((g.pair_distance == 1).sum()) == mol.GetNumBonds()


def test_all_pairs_beyond_seven_bonds_have_zero_distance_block():
    # N-infinity on a shorter chain (N-infinity cost grows with the chain's diameter)
    smiles = Chem.MolToSmiles(Chem.MolFromSequence("A" * 8))
    mol = parse_smiles(smiles).mol
    n = mol.GetNumAtoms()
    upper = Chem.GetDistanceMatrix(mol)[np.triu_indices(n, k=1)]
    g_all = featurize(smiles, FeatureSpec(max_distance=None))
    assert g_all.edge_index.shape[1] == n * (n - 1) // 2  # one connected chain
    far = g_all.pair_distance > 7
    assert int(far.sum()) == int((upper > 7).sum()) > 0
    distance_block = g_all.edge_attr[:, [PAIR_COLUMNS.index(c) for c in DISTANCE_COLUMNS]]
    assert float(distance_block[far].abs().sum()) == 0.0  # beyond 7 bonds: all-zero distance block
    assert torch.equal(distance_block[~far].sum(dim=1), torch.ones(int((~far).sum())))


@pytest.mark.parametrize("smiles, atom, flags", [
    ("CN(C)C", 1, [1.0, 0.0]),      # BaseFeatures.fdef counts a tertiary amine N as a donor (no H)
    ("CC#N", 2, [0.0, 0.0]),        # ... and not a nitrile N as an acceptor
    ("CC(=O)O", 3, [1.0, 1.0]),     # a hydroxyl O is both
])
def test_hbond_flags_are_rdkit_base_features_quirks_included(smiles, atom, flags):
    """The paper's donor/acceptor flags, as RDKit's feature file defines them (README, Featurization)."""
    spec = FeatureSpec()
    graph = featurize(smiles, spec)
    donor, acceptor = spec.atom_columns.index("atom:hbond_donor"), spec.atom_columns.index("atom:hbond_acceptor")
    assert graph.x[atom, [donor, acceptor]].tolist() == flags
