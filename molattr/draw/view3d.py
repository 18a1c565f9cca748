"""3D attribution views with py3Dmol: an ETKDG conformer, atoms coloured by attribution.

The HTML loads the 3Dmol.js viewer from its CDN (as py3Dmol does in notebooks), so a browser
needs the network to show it; everything else (molecule, colours, legend) is in the file.
"""
from __future__ import annotations

import html
import warnings
from dataclasses import dataclass
from pathlib import Path

import py3Dmol
from rdkit import Chem
from rdkit.Chem import AllChem

from molattr.attribution.result import Attribution
from molattr.draw.colors import DEFAULT_CMAP, DivergingScale
from molattr.draw.heatmap2d import depiction, legend_text, scale_for
from molattr.mapping.molecule_map import MoleculeMap, as_map


class EmbeddingWarning(UserWarning):
    """RDKit could not embed the molecule in 3D; the view shows its flat 2D layout."""


@dataclass(frozen=True)
class Conformer:
    """A molecule with one conformer; ``is_3d`` is False when the 2D layout stood in."""

    mol: Chem.Mol
    is_3d: bool


def embed(mol: Chem.Mol, seed: int = 0) -> Conformer:
    """A 3D conformer by ETKDG (v3) with hydrogens for the geometry, then only those added removed
    again, so every atom of ``mol`` (explicit hydrogens too) keeps its index. Falls back to random
    coordinates, then to the 2D layout with an :class:`EmbeddingWarning`."""
    with_h = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(with_h, params) != 0:
        params.useRandomCoords = True
        if AllChem.EmbedMolecule(with_h, params) != 0:
            warnings.warn(f"RDKit could not embed {Chem.MolToSmiles(mol)!r} in 3D; showing its 2D layout",
                          EmbeddingWarning, stacklevel=3)
            return Conformer(depiction(mol), False)
    positions = with_h.GetConformer().GetPositions()  # AddHs appends the new atoms after mol's own
    conformer = Chem.Conformer(mol.GetNumAtoms())
    for index in range(mol.GetNumAtoms()):
        conformer.SetAtomPosition(index, positions[index].tolist())
    conformer.Set3D(True)
    embedded = Chem.Mol(mol)
    embedded.RemoveAllConformers()
    embedded.AddConformer(conformer, assignId=True)
    return Conformer(embedded, True)


def view_3d(molecule_map: MoleculeMap | Attribution, width: int = 480, height: int = 380, cmap: str = DEFAULT_CMAP,
            vmax: float | None = None, seed: int = 0) -> py3Dmol.view:
    """A py3Dmol view (shows inline in Jupyter): sticks plus spheres coloured by each atom's
    attribution on the symmetric scale of :func:`molattr.draw.draw_heatmap`; NaN atoms grey."""
    return _view(as_map(molecule_map, "view_3d"), width, height, cmap, vmax, seed)[0]


def _view(molecule_map: MoleculeMap, width: int, height: int, cmap: str, vmax: float | None,
          seed: int) -> tuple[py3Dmol.view, Conformer, DivergingScale]:
    conformer = embed(molecule_map.mol, seed)
    scale = scale_for([molecule_map], cmap, vmax)  # atoms and bonds, as the 2D heatmap
    view = py3Dmol.view(width=width, height=height)
    view.addModel(Chem.MolToMolBlock(conformer.mol), "mol")
    view.setStyle({"stick": {"radius": 0.12, "color": "#888888"}})
    for k, value in enumerate(molecule_map.atom_values):
        colour = scale.hex(float(value))
        view.setStyle({"index": k}, {"stick": {"radius": 0.12, "color": colour},
                                     "sphere": {"scale": 0.32, "color": colour}})
    view.setBackgroundColor("white")
    view.zoomTo()
    return view, conformer, scale


def write_3d_html(molecule_map: MoleculeMap | Attribution, path: str | Path, name: str | None = None, cmap: str = DEFAULT_CMAP,
                  vmax: float | None = None, seed: int = 0) -> Path:
    """A standalone HTML page: the 3D view, the legend of the 2D heatmap and the colour limits."""
    molecule_map = as_map(molecule_map, "write_3d_html")
    view, conformer, scale = _view(molecule_map, 640, 480, cmap, vmax, seed)
    title, numbers = legend_text(molecule_map, name).split("\n")
    note = "" if conformer.is_3d else "<p><b>RDKit could not embed this molecule in 3D: the 2D layout is shown.</b></p>"
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body style="font-family: sans-serif; margin: 1em;">
<h3>{html.escape(title)}</h3>
<p>{html.escape(numbers)}</p>
<p>Atom colour: attribution from <span style="color:{scale.hex(-scale.vmax)}">{-scale.vmax:+.3g} (lowers the score)</span>
through white (0) to <span style="color:{scale.hex(scale.vmax)}">{scale.vmax:+.3g} (raises it)</span>.</p>
{note}
{view.write_html()}
</body></html>
"""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
