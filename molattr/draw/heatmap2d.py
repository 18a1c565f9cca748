"""2D attribution heatmaps drawn with RDKit's MolDraw2D: coloured atoms and bonds, legend, colour bar.

Computing the values (:mod:`molattr.mapping`) is kept apart from drawing them, as in RDKit's
SimilarityMaps; the caller picks SVG or PNG.
"""
from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rdkit import Chem, Geometry
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

from molattr.attribution.result import Attribution, format_percent
from molattr.draw.colors import DEFAULT_CMAP, DivergingScale
from molattr.errors import AttributionInputError
from molattr.integers import is_integer_at_least
from molattr.mapping.molecule_map import MoleculeMap, as_map

ImageFormat = Literal["svg", "png"]
#: Height in pixels of the colour bar band under the molecules.
COLOURBAR_HEIGHT = 58
ATOM_RADIUS = 0.45


@dataclass(frozen=True)
class Picture:
    """A drawn picture: SVG text or PNG bytes. Shows inline in Jupyter; ``save(path)`` writes it."""

    format: ImageFormat
    data: str | bytes

    def save(self, path: str | Path) -> Path:
        """Write the picture to ``path``; returns the path.

        Raises:
            AttributionInputError: a ``.png``/``.svg`` name for a picture of the other format.
        """
        path = Path(path)
        suffix = path.suffix.lower().lstrip(".")
        if suffix in ("png", "svg") and suffix != self.format:
            raise AttributionInputError(f"{path}: this picture is {self.format.upper()}; draw it with "
                                        f"image_format={suffix!r} to save a .{suffix}, or name the file .{self.format}")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(self.data, bytes):
            path.write_bytes(self.data)
        else:
            path.write_text(self.data, encoding="utf-8")
        return path

    def _repr_svg_(self) -> str | None:
        return self.data if self.format == "svg" else None

    def _repr_png_(self) -> bytes | None:
        return self.data if self.format == "png" else None


@dataclass(frozen=True)
class Panel:
    """What one panel shows: the molecule with 2D coordinates, colours per atom and bond, a legend."""

    mol: Chem.Mol
    atom_colours: dict[int, tuple[float, float, float]]
    bond_colours: dict[int, tuple[float, float, float]]
    legend: str


#: Legend names of the comparators' methods; every other method is a rule of integrated gradients.
METHOD_NAMES = {"gradient": "gradient", "gradient_x_input": "gradient x input"}  # ASCII: RDKit's PNG font has no ×


def legend_text(molecule_map: MoleculeMap, name: str | None = None) -> str:
    """Two lines: name (or SMILES) and task; F(input), F(baseline) and the completeness gap (F(input)
    alone for the gradient comparators).

    Without a name, the title is the attribution's SMILES, or, for a salt or mixture whose other
    fragments the featurization dropped, the SMILES of the fragment drawn, marked "salt stripped".
    """
    a = molecule_map.attribution
    title = name or _drawn_smiles(molecule_map)
    if len(title) > 48:
        title = title[:45] + "..."
    method = METHOD_NAMES.get(a.method, "SmoothGrad IG" if a.method.startswith("smoothgrad") else "IG")
    second = f"F={a.prediction:.3f}"
    if a.method not in METHOD_NAMES:  # a plain gradient (x input) has no baseline and no completeness
        gap = format_percent(a.relative_gap) if not math.isnan(a.relative_gap) else f"{a.gap:+.1e} abs."
        second += f"  F(baseline)={a.baseline_prediction:.3f}  gap {gap}"
    return f"{title} | {a.target_name} ({a.output}, {method})\n{second}"


def _ascii(text: str) -> str:
    """``text`` in the ASCII that RDKit's legend fonts draw: accents dropped (``é`` -> ``e``), any
    other character ``?`` (RDKit drew them as blanks)."""
    letters = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return letters.encode("ascii", "replace").decode("ascii")


def _drawn_smiles(molecule_map: MoleculeMap) -> str:
    given = molecule_map.attribution.smiles
    drawn = Chem.MolToSmiles(molecule_map.mol)
    if given and given.count(".") > drawn.count("."):
        return f"{drawn} (salt stripped)"
    return given or drawn


def scale_for(maps: Sequence[MoleculeMap], cmap: str = DEFAULT_CMAP, vmax: float | None = None, bonds: bool = True) -> DivergingScale:
    """The symmetric scale covering every atom (and bond) value of ``maps``."""
    values = [m.atom_values for m in maps] + ([m.bond_values for m in maps] if bonds else [])
    return DivergingScale.symmetric(values, cmap, vmax)


def panel_of(molecule_map: MoleculeMap, scale: DivergingScale, bonds: bool = True, atom_notes: bool = False,
             name: str | None = None, legend: str | None = None) -> Panel:
    """A panel for one molecule map on a given scale (NaN values are drawn grey)."""
    mol = depiction(molecule_map.mol)
    if atom_notes:
        for atom, value in zip(mol.GetAtoms(), molecule_map.atom_values):
            atom.SetProp("atomNote", "nan" if math.isnan(value) else f"{value:+.2f}")
    atom_colours = {k: scale.colour(float(v)) for k, v in enumerate(molecule_map.atom_values)}
    bond_colours = {k: scale.colour(float(v)) for k, v in enumerate(molecule_map.bond_values)} if bonds else {}
    return Panel(mol, atom_colours, bond_colours, legend if legend is not None else legend_text(molecule_map, name))


#: Rings larger than this are laid out by RDKit's own depictor: CoordGen's time grows steeply with
#: a ring's size (a 30-membered carbon ring 0.16 s, 34 atoms 3.5 s, 40 atoms over a minute).
COORDGEN_MAX_RING = 30


def depiction(mol: Chem.Mol) -> Chem.Mol:
    """A copy with fresh 2D coordinates (3D conformers are dropped; CoordGen, then RDKit's default;
    RDKit's default alone for rings over :data:`COORDGEN_MAX_RING` atoms).

    Raises:
        AttributionInputError: RDKit cannot lay the molecule out in 2D.
    """
    copy = Chem.Mol(mol)
    copy.RemoveAllConformers()
    try:
        rdDepictor.SetPreferCoordGen(max(map(len, Chem.GetSymmSSSR(copy)), default=0) <= COORDGEN_MAX_RING)
        rdDepictor.Compute2DCoords(copy)
    except Exception:
        try:
            rdDepictor.SetPreferCoordGen(False)
            rdDepictor.Compute2DCoords(copy)
        except Exception as exc:
            raise AttributionInputError(f"RDKit cannot lay out {Chem.MolToSmiles(mol)!r} in 2D: {exc}") from exc
    finally:
        rdDepictor.SetPreferCoordGen(False)
    return copy


def draw_panels(panels: Sequence[Panel], scale: DivergingScale, per_row: int = 3, size: tuple[int, int] = (420, 340),
                image_format: ImageFormat = "svg", colourbar: bool = True, colourbar_label: str = "attribution: blue lowers the score, red raises it") -> Picture:
    """Draw panels in a grid (``per_row`` wide) with one colour bar for the shared ``scale``.

    Returns a :class:`Picture` (SVG or PNG).

    Raises:
        AttributionInputError: no panels, an unknown format, ``per_row`` < 1 or a size under 50 pixels.
    """
    if not panels:
        raise AttributionInputError("nothing to draw (got no molecules)")
    if image_format not in ("svg", "png"):
        raise AttributionInputError(f"image format must be 'svg' or 'png' (got {image_format!r})")
    if not is_integer_at_least(per_row, 1):
        raise AttributionInputError(f"per_row must be a positive integer (got {per_row!r})")
    if len(size) != 2 or min(size) < 50:
        raise AttributionInputError(f"size must be (width, height) of at least 50 pixels each (got {size!r})")
    width, height = size
    cols = min(int(per_row), len(panels))
    rows = math.ceil(len(panels) / cols)
    band = COLOURBAR_HEIGHT if colourbar else 0
    canvas = (cols * width, rows * height + band)
    drawer_class = rdMolDraw2D.MolDraw2DSVG if image_format == "svg" else rdMolDraw2D.MolDraw2DCairo
    drawer = drawer_class(canvas[0], canvas[1], width, height)
    options = drawer.drawOptions()
    options.legendFontSize = 15
    options.legendFraction = 0.14
    options.annotationFontScale = 0.6
    options.clearBackground = True
    options.fixedBondLength = min(width, height) / 8  # small molecules are not blown up; large ones shrink to fit
    options.setBackgroundColour((1, 1, 1, 1))
    drawer.DrawMolecules(
        [p.mol for p in panels],
        highlightAtoms=[list(p.atom_colours) for p in panels],
        highlightBonds=[list(p.bond_colours) for p in panels],
        highlightAtomColors=[p.atom_colours for p in panels],
        highlightBondColors=[p.bond_colours for p in panels],
        highlightAtomRadii=[{k: ATOM_RADIUS for k in p.atom_colours} for p in panels],
        legends=[_ascii(p.legend) for p in panels],
    )
    if colourbar:
        _draw_colourbar(drawer, scale, canvas, rows * height, colourbar_label)
    drawer.FinishDrawing()
    return Picture(image_format, drawer.GetDrawingText())


def _draw_colourbar(drawer: rdMolDraw2D.MolDraw2D, scale: DivergingScale, canvas: tuple[int, int], top: int,
                    label: str) -> None:
    """A horizontal bar of ``-vmax ... +vmax`` centred under the grid, labelled at both ends and zero."""
    drawer.SetOffset(0, 0)
    bar_width = max(0.6 * canvas[0], min(320, canvas[0] - 60))
    left = (canvas[0] - bar_width) / 2
    y0, y1 = top + 6, top + 20
    steps = 64
    drawer.SetFillPolys(True)
    for k in range(steps):
        value = scale.vmax * (2 * (k + 0.5) / steps - 1)
        drawer.SetColour(scale.colour(value))
        x0 = left + bar_width * k / steps
        drawer.DrawRect(Geometry.Point2D(x0, y0), Geometry.Point2D(x0 + bar_width / steps + 0.6, y1), rawCoords=True)
    drawer.SetColour((0.2, 0.2, 0.2))
    drawer.SetFontSize(12)
    y_text = y1 + 12
    for text, x in ((f"{-scale.vmax:+.2g}", left), ("0", left + bar_width / 2), (f"{scale.vmax:+.2g}", left + bar_width)):
        drawer.DrawString(text, Geometry.Point2D(x, y_text), rawCoords=True)
    # RDKit cannot measure text: about 0.6 em per character, shrunk to fit the canvas (at least 6 px)
    drawer.SetFontSize(max(6.0, min(12.0, (canvas[0] - 10) / (0.6 * max(len(label), 1)))))
    drawer.DrawString(label, Geometry.Point2D(canvas[0] / 2, y_text + 14), rawCoords=True)


def draw_heatmap(molecule_map: MoleculeMap | Attribution, image_format: ImageFormat = "svg", size: tuple[int, int] = (460, 380),
                 cmap: str = DEFAULT_CMAP, vmax: float | None = None, bonds: bool = True, atom_notes: bool = False,
                 name: str | None = None, colourbar: bool = True) -> Picture:
    """One molecule's heatmap: atoms (and bonds) coloured by attribution on a symmetric diverging
    scale, a legend (name, task, F(input), F(baseline), completeness gap) and a colour bar.

    ``vmax`` fixes the limits (``±vmax``) to compare pictures; by default ``±max |value|``.
    ``atom_notes`` writes each atom's value next to it. An :class:`Attribution` is mapped with the
    default atom rule. Returns a :class:`Picture`.
    """
    molecule_map = as_map(molecule_map, "draw_heatmap")
    scale = scale_for([molecule_map], cmap, vmax, bonds)
    panel = panel_of(molecule_map, scale, bonds, atom_notes, name)
    return draw_panels([panel], scale, 1, size, image_format, colourbar)


def draw_grid(maps: Sequence[MoleculeMap | Attribution], image_format: ImageFormat = "svg", per_row: int = 3,
              size: tuple[int, int] = (360, 300), cmap: str = DEFAULT_CMAP, vmax: float | None = None,
              shared_scale: bool = True, bonds: bool = True, atom_notes: bool = False,
              names: Sequence[str | None] | None = None) -> Picture:
    """Many molecules in a grid. ``shared_scale=True`` puts them all on one scale (one colour bar);
    ``False`` scales each panel to its own ``±max |value|`` (no colour bar: the limits differ)."""
    maps = [as_map(m, "draw_grid") for m in maps]
    names = list(names) if names is not None else [None] * len(maps)
    if len(names) != len(maps):
        raise AttributionInputError(f"{len(names)} names for {len(maps)} molecules")
    shared = scale_for(maps, cmap, vmax, bonds)
    if shared_scale:
        panels = [panel_of(m, shared, bonds, atom_notes, n) for m, n in zip(maps, names)]
    else:
        panels = [_own_scale_panel(m, legend_text(m, n).split("\n")[0], cmap, vmax, bonds, atom_notes)
                  for m, n in zip(maps, names)]
    return draw_panels(panels, shared, per_row, size, image_format, colourbar=shared_scale)


def draw_comparison(maps: Sequence[MoleculeMap | Attribution], titles: Sequence[str], image_format: ImageFormat = "svg",
                    size: tuple[int, int] = (380, 320), cmap: str = DEFAULT_CMAP, bonds: bool = True) -> Picture:
    """The same molecule under several attribution methods side by side (e.g. the gradient at the
    input next to integrated gradients, the paper's Fig. 4), each on its own symmetric scale
    (the methods' units differ), with ``titles`` heading the legends."""
    maps = [as_map(m, "draw_comparison") for m in maps]
    if len(titles) != len(maps):
        raise AttributionInputError(f"{len(titles)} titles for {len(maps)} maps")
    panels = [_own_scale_panel(m, title, cmap, None, bonds) for m, title in zip(maps, titles)]
    return draw_panels(panels, scale_for(maps, cmap, None, bonds), len(panels), size, image_format, colourbar=False)


def _own_scale_panel(molecule_map: MoleculeMap, title: str, cmap: str, vmax: float | None, bonds: bool,
                     atom_notes: bool = False) -> Panel:
    """A panel on the molecule's own scale (no colour bar can show it): its limit follows the title."""
    own = scale_for([molecule_map], cmap, vmax, bonds)
    legend = f"{title} (scale max {own.vmax:.2g})\n" + legend_text(molecule_map).split("\n")[1]
    return panel_of(molecule_map, own, bonds, atom_notes, legend=legend)

