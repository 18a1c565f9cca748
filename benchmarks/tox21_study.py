"""The paper's molecule study, reproduced on Tox21 with the shipped W1N2 and W2N2 models.

For a few tasks, over random labelled actives: the share of the attribution carried by atom
features, bonded pairs and non-bonded pairs, pooled over the actives (each part summed over the
molecules, divided by the summed attribution) (the paper: 46% bonded vs -3% non-bonded on one
molecule); the fraction of molecules with dead features (tied, non-equivalent atoms) for the
one-layer W1N2 against W2N2; and the groups that carry the score across the actives (W2N2),
with a ranking plot per task written to ``--pictures``.

    python benchmarks/tox21_study.py --actives 150 --pictures docs/images
    python benchmarks/tox21_study.py --models runs/w2n2-simple-tox21,runs/w1n2-simple-tox21   # other networks

The first of ``--models`` is the one whose group ranking is reported and plotted.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import molattr
from molattr.analysis import dead_feature_summary, rank_groups
from molattr.data.moleculenet import locate
from molattr.report.analysis_report import ranking_plot

TASKS = ("NR-AhR", "SR-MMP", "SR-ARE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actives", type=int, default=150, help="random actives per task")
    parser.add_argument("--pictures", type=Path, help="folder for the ranking plots")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="w2n2-tox21,w1n2-tox21",
                        help="comma-separated shipped model names or checkpoint folders (default: the shipped two)")
    args = parser.parse_args()
    data = pd.read_csv(locate("tox21"))
    rng = np.random.default_rng(args.seed)
    names = args.models.split(",")
    models = {name: molattr.load_model(name) for name in names}
    shares, dead, tops = [], [], []
    for task in TASKS:
        actives = data.loc[data[task] == 1, "smiles"].tolist()
        chosen = [actives[k] for k in rng.choice(len(actives), min(args.actives, len(actives)), replace=False)]
        for name, model in models.items():
            maps = molattr.explain(model, chosen, target=task, method="gauss_legendre", n_steps=50)
            parts = pd.DataFrame([m.parts() for m in maps]).sum()  # pooled: robust to molecules whose parts cancel
            gaps = np.array([m.attribution.relative_gap for m in maps])
            shares.append({"task": task, "model": name, "molecules": len(maps), **(parts / parts.sum()).to_dict(),
                           "median_gap": float(np.nanmedian(gaps))})
            summary = dead_feature_summary(maps)
            dead.append({"task": task, "model": name, "molecules": summary["molecules"],
                         "with_collisions": summary["with_collisions"], "fraction": summary["fraction"],
                         "within_1": summary["within_radius"][1], "within_2": summary["within_radius"][2]})
            if name == names[0]:
                ranking = rank_groups(maps)
                tops.append((task, ranking.head(5)))
                if args.pictures:
                    args.pictures.mkdir(parents=True, exist_ok=True)
                    ranking_plot(ranking, f"{name}, {task}: groups carrying the score of {len(maps)} actives").savefig(
                        args.pictures / f"tox21_groups_{task}.png", dpi=100)
    print("| task | model | actives | share of the summed attribution: atom features | bonded pairs | non-bonded pairs | median relative gap (GL-50) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in shares:
        print(f"| {r['task']} | {r['model']} | {r['molecules']} | {r['atom_features']:.2f} | {r['bonded_pairs']:.2f} | "
              f"{r['non_bonded_pairs']:.2f} | {100 * r['median_gap']:.2f}% |")
    print("\n| task | model | actives | with tied non-equivalent atoms | fraction | tied atoms' neighbours differ |"
          " neighbourhoods differ within 2 bonds |\n|---|---|---:|---:|---:|---:|---:|")
    for r in dead:
        print(f"| {r['task']} | {r['model']} | {r['molecules']} | {r['with_collisions']} | {r['fraction']:.3f} | "
              f"{r['within_1']:.3f} | {r['within_2']:.3f} |")
    print(f"\n| task | top groups ({names[0]}): score = mean share beyond an even spread over the group's atoms, prevalence |\n|---|---|")
    for task, top in tops:
        cells = "; ".join(f"{n} [{k.replace('_', ' ')}] {s:+.2f}, {100 * p:.0f}%"
                          for k, n, s, p in zip(top["kind"], top["name"], top["score"], top["prevalence"]))
        print(f"| {task} | {cells} |")


if __name__ == "__main__":
    main()
