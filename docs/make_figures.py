"""Regenerate the pictures in README.md and docs/pictures.md from the shipped W2N2 Tox21 model.

    python docs/make_figures.py            # needs tox21.csv.gz: ../shared or the MoleculeNet download

Pictures go to docs/images/; the numbers printed at the end are the ones docs/pictures.md quotes.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import molattr
from molattr.attribution import input_gradients
from molattr.data.moleculenet import locate
from molattr.draw import draw_comparison, draw_grid, draw_heatmap, plot_saturation
from molattr.mapping import map_attribution

TASK = "NR-AhR"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "images")
    parser.add_argument("--actives", type=int, default=100, help="NR-AhR actives for the saturation curves and shares")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    model = molattr.load_model("w2n2-tox21")
    ig = molattr.IntegratedGradients(model, device="cpu")
    data = pd.read_csv(locate("tox21"))
    actives = data.loc[data[TASK] == 1, "smiles"].tolist()
    rng = np.random.default_rng(0)
    chosen = [actives[k] for k in rng.choice(len(actives), size=min(args.actives, len(actives)), replace=False)]
    attributions = ig.attribute(chosen, target=TASK, return_interior=True)
    maps = [map_attribution(a) for a in attributions]

    # the four actives the model scores highest, on one shared scale
    top = sorted(range(len(maps)), key=lambda k: -maps[k].attribution.prediction)[:4]
    draw_grid([maps[k] for k in top], "png", per_row=2, size=(420, 330)).save(args.out / "tox21_ahr_grid.png")
    best = maps[top[0]]
    draw_heatmap(best, "png", atom_notes=True, name=f"Tox21 {TASK} active").save(args.out / "tox21_ahr_single.png")
    gradient = map_attribution(input_gradients(ig, best.mol, target=TASK))
    draw_comparison([gradient, best], ["gradient at the input", "integrated gradients"], "png",
                    size=(420, 330)).save(args.out / "gradient_vs_ig.png")
    plot_saturation(best.attribution, labels=[best.attribution.smiles[:40]]).savefig(args.out / "saturation_one.png", dpi=110)
    plot_saturation(attributions).savefig(args.out / "saturation_actives.png", dpi=110)

    shares = pd.DataFrame([m.shares() for m in maps])
    gaps = np.array([a.relative_gap for a in attributions])
    print(f"{len(maps)} {TASK} actives: median share atom features {shares['atom_features'].median():.2f}, "
          f"bonded pairs {shares['bonded_pairs'].median():.2f}, non-bonded pairs {shares['non_bonded_pairs'].median():.2f}; "
          f"relative gap median {np.nanmedian(gaps):.4f}, max {np.nanmax(gaps):.4f}")
    print(f"shown: {best.attribution.summary()}")
    print(f"pictures -> {args.out}")


if __name__ == "__main__":
    main()
