"""Pictures: colours on the right atoms, symmetric scales, PNG/SVG/HTML files, saturation plots, fallbacks."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from rdkit import Chem
from rdkit.Chem import AllChem, rdDepictor

import molattr
from molattr.draw import (
    DivergingScale, EmbeddingWarning, draw_comparison, draw_grid, draw_heatmap, embed, plot_saturation, view_3d,
    write_3d_html,
)
from molattr.draw import heatmap2d
from molattr.draw.heatmap2d import depiction, legend_text
from molattr.errors import AttributionInputError
from molattr.mapping import map_attribution
from tests.conftest import make_weave, planted_attribution

PHENOL = "Oc1ccccc1"  # atom 0 is the oxygen


def atom_fills(svg: str) -> dict[int, str]:
    """Fill colour of each atom's highlight ellipse in an RDKit SVG."""
    fills = {}
    for match in re.finditer(r"<ellipse[^>]*class='atom-(\d+)'[^>]*style='fill:(#[0-9A-Fa-f]{6})", svg):
        fills.setdefault(int(match.group(1)), match.group(2).lower())
    return fills


def same_colour(a: str, b: str) -> bool:
    """Equal up to RDKit's rounding of colour channels (one unit in 255)."""
    return all(abs(int(a[k:k + 2], 16) - int(b[k:k + 2], 16)) <= 1 for k in (1, 3, 5))


def test_scale_is_symmetric_and_centred_on_zero():
    scale = DivergingScale.symmetric([np.array([-0.5, 2.0, np.nan])])
    assert scale.vmax == 2.0
    assert scale.colour(0.0) == pytest.approx(scale.colour(-0.0))
    low, high = scale.colour(-2.0), scale.colour(2.0)
    assert low[2] > low[0] and high[0] > high[2]  # blue for negative, red for positive (RdBu_r)
    assert scale.colour(5.0) == high  # clipped
    assert scale.colour(float("nan")) == scale.nan_colour
    assert DivergingScale.symmetric([np.zeros(3)]).vmax == 1.0  # all-zero: a valid scale, everything at the centre
    with pytest.raises((KeyError, ValueError)):
        DivergingScale.symmetric([np.ones(2)], cmap="no-such-map")


def test_planted_colours_land_on_the_planted_atoms():
    m = map_attribution(planted_attribution(PHENOL, {0: -1.0, 4: 2.0}), "atoms_only")
    fills = atom_fills(draw_heatmap(m, "svg", bonds=False).data)
    scale = DivergingScale.symmetric([m.atom_values])
    assert same_colour(fills[4], scale.hex(2.0)) and same_colour(fills[0], scale.hex(-1.0))
    assert not same_colour(fills[0], scale.hex(-2.0))  # half the limit: paler than the end of the scale
    assert all(same_colour(fills[k], scale.hex(0.0)) for k in (1, 2, 3, 5, 6))


def test_bond_colours_follow_bonded_pairs():
    m = map_attribution(planted_attribution("CCO", pair_values={(1, 2): 1.0}), "atoms_only")
    svg = draw_heatmap(m, "svg").data
    scale = DivergingScale.symmetric([m.atom_values, m.bond_values])
    bond_fills = dict(re.findall(r"<path class='bond-(\d+) [^']*' d='[^']*' style='fill:(#[0-9A-Fa-f]{6})", svg))
    assert same_colour(bond_fills["1"].lower(), scale.hex(1.0)) and same_colour(bond_fills["0"].lower(), scale.hex(0.0))


def test_shared_scale_in_grids():
    weak = map_attribution(planted_attribution(PHENOL, {4: 0.5}), "atoms_only")
    strong = map_attribution(planted_attribution(PHENOL, {4: 2.0}), "atoms_only")
    shared = atom_fills(draw_grid([weak, strong], "svg", shared_scale=True).data)
    own = atom_fills(draw_grid([weak, strong], "svg", shared_scale=False).data)
    # one SVG, panels drawn in order: the first panel's atom 4 is paler on the shared scale
    scale = DivergingScale.symmetric([np.array([2.0])])
    assert any(same_colour(f, scale.hex(0.5)) for f in shared.values())
    assert not any(same_colour(f, scale.hex(0.5)) for f in own.values())  # own scales: both atoms 4 at full colour
    for bad, match in (({"per_row": 0}, "per_row must be a positive integer"), ({"size": (0, 0)}, "size must be")):
        with pytest.raises(AttributionInputError, match=match):
            draw_grid([weak, strong], **bad)


def test_a_picture_is_saved_under_its_own_format(tmp_path):
    picture = draw_heatmap(map_attribution(planted_attribution(PHENOL, {0: 1.0})))  # SVG by default
    with pytest.raises(AttributionInputError, match=r"this picture is SVG; draw it with image_format='png'"):
        picture.save(tmp_path / "heat.png")
    assert not (tmp_path / "heat.png").exists()
    assert picture.save(tmp_path / "heat.svg").read_text().startswith("<?xml")


def test_own_scales_are_named_in_the_legends(monkeypatch):
    """Without a shared colour bar each panel's legend gives its limit."""
    weak = map_attribution(planted_attribution(PHENOL, {4: 0.5}), "atoms_only")
    strong = map_attribution(planted_attribution(PHENOL, {4: 2.0}), "atoms_only")
    drawn = []
    monkeypatch.setattr(heatmap2d, "draw_panels", lambda panels, *args, **kwargs: drawn.append(panels))
    draw_grid([weak, strong], shared_scale=False, names=["weak", "strong"])
    draw_grid([weak, strong], shared_scale=True, names=["weak", "strong"])
    own, shared = ([p.legend.split("\n")[0] for p in panels] for panels in drawn)
    assert own == ["weak | task (logit, IG) (scale max 0.5)", "strong | task (logit, IG) (scale max 2)"]
    assert shared == ["weak | task (logit, IG)", "strong | task (logit, IG)"]


def test_nan_atoms_are_grey_and_all_zero_attributions_draw():
    nan_map = map_attribution(planted_attribution(PHENOL, {0: float("nan"), 3: 1.0}), "atoms_only")
    fills = atom_fills(draw_heatmap(nan_map, "svg").data)
    assert same_colour(fills[0], DivergingScale(1.0).hex(float("nan"))) and same_colour(fills[3], DivergingScale(1.0).hex(1.0))
    zero = map_attribution(planted_attribution(PHENOL))
    assert all(same_colour(f, DivergingScale(1.0).hex(0.0)) for f in atom_fills(draw_heatmap(zero, "svg").data).values())


def test_png_and_svg_files(tmp_path):
    m = map_attribution(planted_attribution(PHENOL, {0: -1.0, 4: 2.0}))
    png = draw_heatmap(m, "png", size=(400, 300), atom_notes=True, name="phenol").save(tmp_path / "a.png")
    image = Image.open(png)
    assert image.size == (400, 300 + 58)
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 50  # a real picture, not a blank canvas
    svg = draw_heatmap(m, "svg", name="phenol").save(tmp_path / "a.svg").read_text()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "+0.01" not in svg  # no atom notes unless asked
    with pytest.raises(AttributionInputError, match="image format"):
        draw_heatmap(m, "gif")


def test_legend_reports_prediction_baseline_and_gap():
    a = planted_attribution(PHENOL, {4: 2.0})
    a.prediction, a.baseline_prediction = 3.0, 0.5  # total 2.0 vs delta 2.5: a 20% gap
    legend = legend_text(map_attribution(a), "phenol")
    for expected in ("phenol", "task (logit, IG)", "F=3.000", "F(baseline)=0.500", "gap 20.00%"):
        assert expected in legend
    a.prediction, a.baseline_prediction = 2.00006, 0.0  # a 0.003% gap is shown as such, not as 0.00%
    assert "gap < 0.01%" in legend_text(map_attribution(a))
    a.prediction = 2.0  # no gap at all
    assert "gap 0.00%" in legend_text(map_attribution(a))
    a.prediction = a.baseline_prediction = 0.5  # no difference: the absolute gap is shown
    assert "gap +2.0e+00 abs." in legend_text(map_attribution(a))
    for method, shown in (("gradient", "(logit, gradient)"), ("gradient_x_input", "(logit, gradient x input)"),
                          ("smoothgrad_gauss_legendre", "(logit, SmoothGrad IG)"), ("adaptive", "(logit, IG)")):
        a.method = method
        legend = legend_text(map_attribution(a))
        assert shown in legend
        assert ("gap" in legend and "F(baseline)" in legend) is (method not in ("gradient", "gradient_x_input"))
    # RDKit draws non-ASCII letters as blanks: in pictures accents are dropped, anything else is a "?"
    assert "phénol-β 日本 |" in legend_text(map_attribution(a), "phénol-β 日本")
    drawn = draw_heatmap(map_attribution(a), "svg", name="phénol-β 日本").data
    assert drawn == draw_heatmap(map_attribution(a), "svg", name="phenol-? ??").data


def test_a_salts_legend_names_the_fragment_drawn():
    salt = planted_attribution("[Na+].O=C([O-])c1ccccc1", {0: 1.0})
    assert salt.atom_attr.shape[0] == 9  # the benzoate only
    assert legend_text(map_attribution(salt)).startswith("O=C([O-])c1ccccc1 (salt stripped) | task")
    assert legend_text(map_attribution(planted_attribution(PHENOL))).startswith(f"{PHENOL} | task")


def test_vmax_must_be_positive_and_finite():
    m = map_attribution(planted_attribution(PHENOL, {0: 1.0}))
    for bad in (0, -1.0, float("inf"), float("nan"), "1"):
        with pytest.raises(AttributionInputError, match="vmax must be a positive finite number"):
            draw_heatmap(m, vmax=bad)
    assert DivergingScale.symmetric([np.zeros(3)]).vmax == 1.0  # all-zero values: any scale, drawn white


def test_gradient_next_to_integrated_gradients():
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec), spec=spec, device="cpu")
    from molattr.attribution import input_gradients

    maps = [map_attribution(input_gradients(ig, PHENOL)), map_attribution(ig.attribute(PHENOL))]
    png = draw_comparison(maps, ["gradient at input", "integrated gradients"], "png", size=(300, 250))
    assert png._repr_png_() == png.data and png._repr_svg_() is None
    assert Image.open(io.BytesIO(png.data)).size == (600, 250)
    with pytest.raises(AttributionInputError, match="titles"):
        draw_comparison(maps, ["one"])


def test_3d_view_colours_every_atom_and_writes_html(tmp_path):
    m = map_attribution(planted_attribution(PHENOL, {0: -1.0, 4: 2.0}), "atoms_only")
    view = view_3d(m)
    script = view.write_html()
    scale = DivergingScale.symmetric([m.atom_values])
    assert script.count('"index"') == 7
    assert scale.hex(2.0) in script and scale.hex(-1.0) in script
    page = write_3d_html(m, tmp_path / "v.html", name="phenol").read_text()
    assert "phenol" in page and "addModel" in page and "could not embed" not in page
    m.bond_values[0] = 5.0  # a bond beyond every atom sets the 2D heatmap's scale, and so the 3D view's
    page = write_3d_html(m, tmp_path / "v.html").read_text()
    assert "+5 (raises it)" in page and DivergingScale(5.0).hex(2.0) in page
    conformer = embed(m.mol)
    assert conformer.is_3d and conformer.mol.GetNumAtoms() == 7
    tert_butanol = embed(Chem.MolFromSmiles("CC(C)(C)O")).mol.GetConformer().GetPositions()
    assert np.linalg.matrix_rank(tert_butanol - tert_butanol.mean(0), tol=0.1) == 3  # really 3D, not a flat layout


def test_3d_view_keeps_explicit_hydrogens_at_their_indices():
    """A molecule with an attributed hydrogen atom (deuterium, which RDKit keeps as an atom), listed
    first: the 3D model holds the same atoms in the same order, so each sphere gets its own atom's colour."""
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec), spec=spec, device="cpu")
    m = map_attribution(ig.attribute("[2H]OC(=O)c1ccccc1", method="gauss_legendre", n_steps=4))
    conformer = embed(m.mol)
    assert conformer.is_3d
    assert [a.GetSymbol() for a in conformer.mol.GetAtoms()] == [a.GetSymbol() for a in m.mol.GetAtoms()]
    assert [a.GetSymbol() for a in m.mol.GetAtoms()][0] == "H" and len(m.atom_values) == 10
    assert view_3d(m).write_html().count('"index"') == 10


def test_3d_falls_back_to_2d_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(AllChem, "EmbedMolecule", lambda *args, **kwargs: -1)
    m = map_attribution(planted_attribution(PHENOL, {0: 1.0}))
    with pytest.warns(EmbeddingWarning, match="could not embed"):
        page = write_3d_html(m, tmp_path / "v.html").read_text()
    assert "2D layout is shown" in page


def test_saturation_plot():
    spec = molattr.FeatureSpec(preset="full", max_distance=2)
    ig = molattr.IntegratedGradients(make_weave(spec), spec=spec, device="cpu")
    curves = ig.attribute(["CCO", PHENOL, "CC(=O)O"], method="gauss_legendre", n_steps=20, return_interior=True)
    figure = plot_saturation(curves)
    score_axes, gradient_axes = figure.axes
    assert len(score_axes.lines) == len(gradient_axes.lines) == 3
    for line in score_axes.lines:  # normalized: 0 at the first alpha, largest absolute value 1
        y = line.get_ydata()
        assert y[0] == pytest.approx(0.0) and np.abs(y).max() == pytest.approx(1.0)
    for line in gradient_axes.lines:
        assert max(line.get_ydata()) == pytest.approx(1.0)
    many = plot_saturation(curves * 3)  # beyond 8 molecules: faint curves under their median
    assert len(many.axes[0].lines) == 10 and many.axes[0].lines[-1].get_label() == "median of 9"
    raw = plot_saturation(curves[1])
    np.testing.assert_allclose(raw.axes[0].lines[0].get_ydata(), curves[1].interior.scores)
    buffer = io.BytesIO()
    raw.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(AttributionInputError, match="return_interior=True"):
        plot_saturation(ig.attribute("CCO", method="gauss_legendre", n_steps=4))
    with pytest.raises(AttributionInputError, match="labels"):
        plot_saturation(curves, labels=["a"])
    mapped = plot_saturation(map_attribution(curves[1]))  # a MoleculeMap stands for its attribution
    np.testing.assert_array_equal(mapped.axes[0].lines[0].get_ydata(), raw.axes[0].lines[0].get_ydata())
    with pytest.raises(AttributionInputError, match="plot_saturation needs Attributions or MoleculeMaps, got str"):
        plot_saturation(["CCO"])
    # ids are shown as written: not mathtext (an unbalanced $ had failed the picture), not hidden by a leading _
    odd = plot_saturation(curves[:2], labels=[r"cmpd $\alpha_{x$", "_hidden"])
    odd.savefig(io.BytesIO(), format="png")
    shown = [text.get_text() for text in odd.axes[0].get_legend().get_texts()]
    assert shown == [r"cmpd \$\alpha_{x\$", " _hidden"]


def test_pictures_take_an_attribution_and_name_what_they_need():
    attribution = planted_attribution(PHENOL, {0: 1.0, 3: -0.5})
    mapped = map_attribution(attribution)
    assert draw_heatmap(attribution).data == draw_heatmap(mapped).data
    assert draw_grid([attribution, mapped]).data == draw_grid([mapped, mapped]).data
    assert view_3d(attribution).write_html().count('"index"') == view_3d(mapped).write_html().count('"index"')
    for call, name in ((lambda: draw_heatmap("Oc1ccccc1"), "draw_heatmap"), (lambda: draw_grid([None]), "draw_grid"),
                       (lambda: view_3d(3), "view_3d")):
        with pytest.raises(AttributionInputError, match=f"{name} needs a MoleculeMap .* or an Attribution, got"):
            call()
    with pytest.raises(AttributionInputError, match="map_attribution needs an Attribution .*, got str"):
        map_attribution("Oc1ccccc1")


def test_a_molecule_without_2d_layout_gets_a_clear_error(monkeypatch):
    from rdkit.Chem import rdDepictor

    def refuse(*args, **kwargs):
        raise ValueError("no layout")

    monkeypatch.setattr(rdDepictor, "Compute2DCoords", refuse)
    m = map_attribution(planted_attribution(PHENOL, {0: 1.0}))
    with pytest.raises(AttributionInputError, match="cannot lay out 'Oc1ccccc1' in 2D"):
        draw_heatmap(m)


def test_single_atom_molecule_draws():
    methane = map_attribution(planted_attribution("C", {0: 0.7}))
    fills = atom_fills(draw_heatmap(methane, "svg").data)
    assert list(fills) == [0] and same_colour(fills[0], DivergingScale(0.7).hex(0.7))


@pytest.mark.parametrize("ring, coordgen", [(6, True), (30, True), (31, False), (80, False)])
def test_large_rings_skip_coordgen(monkeypatch, ring, coordgen):
    """CoordGen takes minutes on a 40-membered ring: larger rings go to RDKit's own depictor."""
    preferred = []
    real = rdDepictor.Compute2DCoords

    def recording(mol, *args, **kwargs):
        preferred.append(rdDepictor.GetPreferCoordGen())
        return real(mol, *args, **kwargs) if not rdDepictor.GetPreferCoordGen() or ring <= 30 else 0

    monkeypatch.setattr(rdDepictor, "Compute2DCoords", recording)
    drawn = depiction(Chem.MolFromSmiles("C1" + "C" * (ring - 1) + "1"))
    assert preferred == [coordgen] and drawn.GetNumConformers() == 1
    assert not rdDepictor.GetPreferCoordGen()  # the global preference is left as it was
