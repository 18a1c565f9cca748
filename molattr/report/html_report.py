"""The HTML attribution report: one card per molecule, plus the tables and an SDF beside it.

Layout of ``out_dir``::

    report.html        summary + one card per row (2D heatmap, top atoms/bonds/features,
                       saturation curve, completeness gap, link to the 3D view)
    molecules.csv      one row per input row (status, error, predictions, gap, shares)
    atoms.csv, bonds.csv, pairs.csv, features.csv   tidy tables of every attributed row
    attributions.sdf   attributed molecules with atom/bond/molecule properties, titled by id, with
                       their row, line and status
    images/row-<k>.svg, images/row-<k>-saturation.png, 3d/row-<k>.html   (k: the row column, from 0)

A picture that cannot be made (a molecule RDKit cannot lay out or embed) becomes a note on its
card; the report is always written.
"""
from __future__ import annotations

import html
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from molattr.attribution.result import format_percent
from molattr.draw.heatmap2d import draw_heatmap
from molattr.draw.saturation import plot_saturation
from molattr.draw.view3d import write_3d_html
from molattr.errors import MolattrError
from molattr.mapping.annotate import write_sdf
from molattr.report.attribute_rows import RowOutcome, gap_statistics, summary_table, tidy_tables

#: Cards drawn by default; the tables always cover every row.
DEFAULT_MAX_CARDS = 200

_STYLE = """
body { font-family: -apple-system, 'Segoe UI', sans-serif; margin: 1.5em; color: #222; }
.cards { display: flex; flex-wrap: wrap; gap: 1em; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.8em; width: 900px; }
.card.error { width: 600px; background: #fff4f4; }
.row { display: flex; gap: 1em; align-items: flex-start; }
table { border-collapse: collapse; font-size: 12px; margin-bottom: 0.6em; }
td, th { border-bottom: 1px solid #eee; padding: 2px 6px; text-align: right; }
th { background: #f6f6f6; } td:first-child, th:first-child { text-align: left; }
.note { color: #a05000; font-size: 13px; }
code { font-size: 12px; }
"""


@dataclass(frozen=True)
class ReportContext:
    """What the report's header says about the run."""

    model: str
    input_name: str
    target: str
    output: str
    method: str
    atom_rule: str


def write_report(outcomes: Sequence[RowOutcome], out_dir: str | Path, context: ReportContext,
                 max_cards: int = DEFAULT_MAX_CARDS, with_3d: bool = True) -> Path:
    """Write the report folder (see the module docstring); returns the path of ``report.html``."""
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    summary = summary_table(outcomes)
    summary.to_csv(out / "molecules.csv", index=False, float_format="%.6g")
    for name, table in tidy_tables(outcomes).items():
        table.to_csv(out / f"{name}.csv", index=False, float_format="%.6g")
    attributed = [o for o in outcomes if o.molecule_map is not None]
    write_sdf([o.molecule_map for o in attributed], out / "attributions.sdf",
              [{"id": o.id, "row": o.row, "line": o.line, "status": o.status} for o in attributed])
    cards = [_card(o, out, with_3d) for o in outcomes[:max_cards]]
    more = len(outcomes) - len(cards)
    page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>molattr: {html.escape(context.input_name)}</title>
<style>{_STYLE}</style></head><body>
{_header(summary, outcomes, context)}
<div class="cards">
{''.join(cards)}
</div>
{f'<p>{more} more rows are in molecules.csv and the other tables (cards are drawn for the first {len(cards)}).</p>' if more > 0 else ''}
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


def _header(summary: pd.DataFrame, outcomes: Sequence[RowOutcome], c: ReportContext) -> str:
    counts = ", ".join(f"{n} {s}" for s, n in summary["status"].value_counts().items()) if len(summary) else "no rows"
    gaps = gap_statistics(outcomes)
    gap_text = "n/a" if math.isnan(gaps["median"]) else f"median {format_percent(gaps['median'])}, max {format_percent(gaps['max'])}"
    return f"""<h2>Integrated gradients: {html.escape(c.input_name)}</h2>
<p>Model <b>{html.escape(c.model)}</b>, task <b>{html.escape(c.target)}</b> ({html.escape(c.output)}), method
{html.escape(c.method)}, zero baseline. Rows: {len(summary)} ({html.escape(counts)}). Relative completeness gap: {gap_text}.</p>
<p>Colours: red raises the score, blue lowers it, white is zero; each card has its own symmetric scale. An atom's
value is {_RULES[c.atom_rule]}; a bond's value is its bonded pair's. Tables: <a href="molecules.csv">molecules</a>,
<a href="atoms.csv">atoms</a>, <a href="bonds.csv">bonds</a>, <a href="pairs.csv">pairs</a>,
<a href="features.csv">features</a>, <a href="attributions.sdf">SDF</a>.</p>"""


_RULES = {
    "all_pairs": "its atom features plus half of every pair it belongs to (atoms add up to the whole attribution)",
    "bonded_pairs": "its atom features plus half of its bonded pairs (non-bonded pairs are reported apart)",
    "atoms_only": "its atom features only (pairs are reported apart)",
}


def _card(o: RowOutcome, out: Path, with_3d: bool) -> str:
    title = f"row {o.row}" + (f", line {o.line}" if o.line is not None else "") + f": {html.escape(o.id)}"
    if o.molecule_map is None:
        return (f'<div class="card error"><b>{title}</b> — <code>{html.escape(o.smiles)}</code><br>'
                f"status <b>{html.escape(o.status)}</b>: {html.escape(o.error)}</div>\n")
    m = o.molecule_map
    a = m.attribution
    notes = _value_notes(m.atom_values)
    picture = _safe(lambda: _image_tag(draw_heatmap(m, "svg", size=(400, 330), name=o.id).save(
        out / "images" / f"row-{o.row}.svg"), out), notes)
    curve = ""
    if a.interior is not None:
        def saturation() -> str:
            path = out / "images" / f"row-{o.row}-saturation.png"
            plot_saturation(a, labels=[o.id], figsize=(6.4, 2.5)).savefig(path, dpi=80)
            return _image_tag(path, out)
        curve = _safe(saturation, notes)
    link = ""
    if with_3d:
        def view() -> str:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                write_3d_html(m, out / "3d" / f"row-{o.row}.html", name=o.id)
            notes.extend(str(w.message) for w in caught)
            return f'<a href="3d/row-{o.row}.html">3D view</a>'
        link = _safe(view, notes)
    gap = f"{format_percent(a.relative_gap)} relative" if not math.isnan(a.relative_gap) else "relative gap undefined (F(input) ≈ F(baseline))"
    shares = m.shares()
    share_text = ", ".join(f"{k.replace('_', ' ')} {100 * v:.0f}%" for k, v in shares.items() if not math.isnan(v))
    # atoms by their index in the input SMILES shown on the card (a salt's kept fragment renumbers them)
    bonds = m.bonds().drop(columns=["begin", "end"]).rename(columns={"input_begin": "begin", "input_end": "end"})
    tables = "".join(_table(caption, m.top(table, 5)[columns]) for caption, table, columns in (
        ("Top atoms", m.atoms().rename(columns={"atom": "kept_atom", "input_atom": "atom"}),
         ["atom", "symbol", "attribution", "share"]),
        ("Top bonds", bonds, ["begin", "end", "bond_type", "attribution"]),
        ("Top features", m.features(), ["feature", "attribution", "share"]),
    ))
    note_html = "".join(f'<div class="note">{html.escape(n)}</div>' for n in notes)
    return f"""<div class="card"><b>{title}</b> — <code>{html.escape(o.smiles)}</code> ({html.escape(o.status)})
<div class="row"><div>{picture}</div><div>{tables}</div></div>
<div class="row"><div>{curve}</div><div style="font-size:13px">F(input) {a.prediction:.4f}, F(baseline) {a.baseline_prediction:.4f},
sum of attributions {a.total:.4f}<br>completeness gap {a.gap:+.2e} ({gap}), {a.evaluations} gradient evaluations<br>
shares: {html.escape(share_text)}<br>{link}</div></div>{note_html}</div>
"""


def _value_notes(values: np.ndarray) -> list[str]:
    if np.isnan(values).any():
        return [f"{int(np.isnan(values).sum())} atoms have NaN attributions (drawn grey)"]
    if not np.any(values):
        return ["every attribution is zero: the score does not change along the path"]
    return []


def _safe(make, notes: list[str]) -> str:
    """Run a picture maker; a failure becomes a note instead of stopping the report."""
    try:
        return make()
    except (MolattrError, ValueError, RuntimeError) as exc:
        notes.append(f"picture not drawn: {exc}")
        return ""


def _image_tag(path: Path, out: Path) -> str:
    return f'<img src="{html.escape(path.relative_to(out).as_posix())}" alt="{html.escape(path.stem)}">'


def _table(caption: str, table: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v, c)}</td>" for c, v in zip(table.columns, row)) + "</tr>"
                   for row in table.itertuples(index=False))
    return f"<table><caption style='text-align:left'><b>{caption}</b></caption><tr>{head}</tr>{body}</table>"


def _cell(value, column: str) -> str:
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "nan"
        return f"{100 * value:+.1f}%" if column == "share" else f"{value:+.3f}"
    return html.escape(str(value))
