"""Reports of the set-level analyses: the pharmacophore ranking and the dead-feature scan.

``write_pharmacophore_report`` writes ``groups.csv`` (the ranking), ``per_molecule.csv`` (every
group of every molecule), ``ranking.png`` and ``summary.html`` (the ranking with, for the top
groups, the molecule where each carries the largest share). ``write_dead_feature_report`` writes
``collisions.csv``, ``environment_pairs.csv``, ``summary.json``, ``collisions.png`` (molecules with
collisions, each group of tied atoms in its own colour) and ``summary.html``.
"""
from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from molattr import jsonio
from molattr.analysis.dead_features import (
    MAX_ENVIRONMENT_RADIUS, Collision, Values, closest_radius, collisions, dead_feature_summary,
)
from molattr.analysis.groups import Patterns
from molattr.analysis.ranking import rank_groups, set_group_tables
from molattr.chem import input_indices
from molattr.draw.colors import DivergingScale
from molattr.draw.heatmap2d import Panel, depiction, draw_heatmap, draw_panels
from molattr.mapping.molecule_map import MoleculeMap

#: Groups shown in the ranking plot, and groups given an example picture in the summary.
PLOTTED_GROUPS = 15
#: longer group names are shortened in the ranking plot
PLOTTED_NAME_CHARS = 40
EXAMPLE_GROUPS = 5
#: Molecules drawn in the dead-feature picture.
DRAWN_COLLISIONS = 12


def write_pharmacophore_report(maps: Sequence[MoleculeMap], ids: Sequence[str], out_dir: Path, title: str,
                               patterns: Patterns | None = None, lines: Sequence[int | None] | None = None) -> pd.DataFrame:
    """Rank the groups of ``maps`` (see :func:`molattr.analysis.rank_groups`) and write the report; returns the ranking.

    ``lines``, each molecule's input line, go into the tables next to ``ids`` (which need not be unique)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = set_group_tables(maps, patterns)
    ranking = rank_groups(maps, patterns, tables)
    ranking["example_id"] = [ids[k] if k >= 0 else "" for k in ranking["example"]]
    if lines is not None:
        ranking["example_line"] = pd.array([lines[k] if k >= 0 else None for k in ranking["example"]], dtype="Int64")
    ranking.to_csv(out_dir / "groups.csv", index=False, float_format="%.6g")
    per_molecule = tables.drop(columns="molecule")
    given = [input_indices(m.mol) for m in maps]  # atoms numbered as in the input, as in collisions.csv
    per_molecule["atoms"] = [tuple(given[k][a] for a in atoms) for k, atoms in zip(tables["molecule"], tables["atoms"])]
    per_molecule.insert(0, "id", [ids[k] for k in tables["molecule"]])
    if lines is not None:
        per_molecule.insert(1, "line", pd.array([lines[k] for k in tables["molecule"]], dtype="Int64"))
    per_molecule.to_csv(out_dir / "per_molecule.csv", index=False, float_format="%.6g")
    ranking_plot(ranking, title).savefig(out_dir / "ranking.png", dpi=110)
    examples = []
    for _, row in ranking.head(EXAMPLE_GROUPS).iterrows():
        k = int(row["example"])
        picture = draw_heatmap(maps[k], "svg", size=(360, 300), name=str(row["example_id"])).save(
            out_dir / "examples" / f"{len(examples) + 1}.svg")
        held = tables[(tables["molecule"] == k) & (tables["kind"] == row["kind"]) & (tables["name"] == row["name"])]
        atoms = ", ".join(str(given[k][a]) for a in held["atoms"].iloc[0]) if len(held) else ""
        examples.append(f"<figure><img src='examples/{picture.name}'><figcaption>{html.escape(row['kind'])}: "
                        f"<b>{html.escape(row['name'])}</b> in {html.escape(str(row['example_id']))} (atoms {atoms}): "
                        f"share {100 * row['max_share']:+.0f}%</figcaption></figure>")
    shown = ranking.head(20)[["kind", "name", "molecules", "prevalence", "mean_share", "std_share", "share_score", "score",
                              "example_id"]]
    (out_dir / "summary.html").write_text(_summary_page(title, f"""<p>{len(maps)} molecules. A group's share in a molecule is its attribution ÷ the sum of the molecule's |atom
attributions| (between −1 and 1); <b>mean_share</b>/<b>std_share</b> over the molecules that have it;
<b>share_score</b> = the mean share over all molecules, absent counted as 0 (a group common to the set ranks
high). <b>score</b> ranks the groups: the same mean of the share beyond an even spread over the group's atoms
(its atom values minus the molecule's mean atom value), so a wide family holding the responsible atoms plus
others does not outrank the specific group.
Full tables: <a href="groups.csv">groups.csv</a>, <a href="per_molecule.csv">per_molecule.csv</a>.</p>
<img src="ranking.png" style="max-width:900px">
{shown.to_html(index=False, float_format=lambda v: f"{v:.3f}", escape=True)}
<h3>Where the top groups carry the most</h3>
<p>Each group in the molecule where its share is largest (atoms numbered as in the input).</p>
{''.join(examples)}"""), encoding="utf-8")
    return ranking


def _collision_panel(m: MoleculeMap, identifier: str, found: Sequence[Collision]) -> Panel:
    """The molecule with each group of tied atoms in its own colour."""
    colours = {}
    for k, collision in enumerate(found):
        for atom in collision.atoms:
            colours[atom] = tuple(colormaps["tab10"](k % 10)[:3])
    radius = closest_radius(found)
    reach = f"; the closest differ within {radius} bond{'s' * (radius != 1)}" if radius is not None else ""
    groups = f"{len(found)} group{'s' * (len(found) != 1)}"
    return Panel(depiction(m.mol), colours, {}, f"{identifier}: {groups} of tied atoms (one colour each{reach})")


def ranking_plot(ranking: pd.DataFrame, title: str) -> Figure:
    """Horizontal bars of the top groups' scores, each labelled with its prevalence. Names longer
    than :data:`PLOTTED_NAME_CHARS` (ring systems' SMILES) are shortened with an ellipsis (the
    table has them whole); the title wraps to the figure's width."""
    top = ranking.head(PLOTTED_GROUPS).iloc[::-1]
    figure = Figure(figsize=(8, 0.32 * len(top) + 1.5), layout="constrained")
    axes = figure.subplots()
    labels = [f"{_shortened(name)} [{kind.replace('_', ' ')}]" for kind, name in zip(top["kind"], top["name"])]
    bars = axes.barh(range(len(top)), top["score"], color=["#b2182b" if v >= 0 else "#2166ac" for v in top["score"]])
    axes.set_yticks(range(len(top)), labels)  # by position: two groups may share a shortened label
    axes.bar_label(bars, [f"{100 * p:.0f}% of molecules" for p in top["prevalence"]], padding=3, fontsize=7)
    axes.axvline(0, color="black", lw=0.8)
    axes.set(xlabel="score: mean share beyond an even spread\nover the group's atoms (absent = 0)")
    figure.suptitle(textwrap.fill(title, 80), fontsize=11)
    low, high = axes.get_xlim()
    axes.set_xlim(low, high + 0.35 * (high - low))  # room for the prevalence labels
    axes.xaxis.set_major_locator(MaxNLocator(5))
    axes.tick_params(axis="y", labelsize=8)
    return figure


def _shortened(name: str) -> str:
    return name if len(name) <= PLOTTED_NAME_CHARS else name[: PLOTTED_NAME_CHARS - 1] + "…"


def write_dead_feature_report(maps: Sequence[MoleculeMap], ids: Sequence[str], out_dir: Path, title: str,
                              values: Values = "atom_features", rtol: float = 1e-5,
                              lines: Sequence[int | None] | None = None) -> dict:
    """Scan ``maps`` for dead features and write the report; returns the summary (see
    :func:`molattr.analysis.dead_feature_summary`). ``collisions.csv`` numbers atoms as in the
    input (see ``MoleculeMap.atoms``'s ``input_atom``) and gives each molecule's input ``line``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    per_molecule = [collisions(m, values, rtol) for m in maps]
    summary = dead_feature_summary(maps, values, rtol, per_molecule)
    rows = []
    for k, (m, identifier, found) in enumerate(zip(maps, ids, per_molecule)):
        given = input_indices(m.mol)
        for c in found:
            rows.append({"id": identifier, "line": lines[k] if lines is not None else None, "smiles": m.attribution.smiles,
                         "value": c.value, "radius": c.radius, "atoms": " ".join(str(given[a]) for a in c.atoms),
                         "classes": " | ".join(" ".join(str(given[a]) for a in atoms) for atoms in c.classes),
                         "environments": " | ".join(c.environments)})
    table = pd.DataFrame(rows, columns=["id", "line", "smiles", "value", "radius", "atoms", "classes", "environments"])
    table.astype({"radius": "Int64", "line": "Int64"}).to_csv(out_dir / "collisions.csv", index=False, float_format="%.6g")
    # the molecules whose tied atoms differ closest to them first: the clearest dead features
    order = sorted((k for k, found in enumerate(per_molecule) if found),
                   key=lambda k: (closest_radius(per_molecule[k]) or MAX_ENVIRONMENT_RADIUS + 1, k))
    drawn = [_collision_panel(maps[k], ids[k], per_molecule[k]) for k in order[:DRAWN_COLLISIONS]]
    summary["environment_pairs"].to_csv(out_dir / "environment_pairs.csv", index=False)
    plain = {k: v for k, v in summary.items() if k != "environment_pairs"}
    (out_dir / "summary.json").write_text(jsonio.dumps({**plain, "values": values, "rtol": rtol}), encoding="utf-8")
    if drawn:
        draw_panels(drawn, DivergingScale(1.0), per_row=3, image_format="png", colourbar=False).save(out_dir / "collisions.png")
    pairs = summary["environment_pairs"].head(20)
    (out_dir / "summary.html").write_text(_summary_page(title, f"""<p>{summary['with_collisions']} of {summary['molecules']} molecules ({100 * summary['fraction']:.1f}%) have atoms whose
attributions ({html.escape(values.replace('_', ' '))}) tie within {rtol:g} of the molecule's largest value although they are
not symmetry-equivalent; {summary['collisions']} such groups in all (<a href="collisions.csv">collisions.csv</a>).
In {100 * summary['within_radius'][1]:.1f}% of the molecules tied atoms have different neighbours, in
{100 * summary['within_radius'][2]:.1f}% their neighbourhoods differ within two bonds
(<code>radius</code>: the bonds within which the tied atoms' surroundings first differ; 0: the atoms themselves differ, which is no dead feature).</p>
<p>Feature columns whose attribution is zero in every molecule: {html.escape(', '.join(summary['zero_columns']) or 'none')}.</p>
<h3>Atom environments that collide most often (each at the radius that tells them apart)</h3>
{pairs.to_html(index=False, escape=True)}
{'<h3>Molecules with collisions (atoms of one colour tie; details in collisions.csv)</h3><img src="collisions.png">' if drawn else ''}"""), encoding="utf-8")
    return summary


def _summary_page(title: str, body: str) -> str:
    """A standalone HTML page: ``title`` as its title and heading, then ``body``."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse;font-size:13px}}
td,th{{border-bottom:1px solid #ddd;padding:2px 8px}} figure{{display:inline-block;margin:0.5em}}</style></head><body>
<h2>{html.escape(title)}</h2>
{body}
</body></html>
"""
