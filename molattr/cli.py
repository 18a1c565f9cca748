"""The ``molattr`` command line. Nothing in the package imports this module.

Exit codes: 0 success (rows that could not be scored are reported in the output's ``status``
column and the summary, not as failure); 1 an input, checkpoint or data error (message on
stderr, no traceback); 2 a usage error.
"""
from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from click.core import ParameterSource
import pandas as pd

from molattr import jsonio
from molattr.attribution.quadrature import Method, check_n_steps
from molattr.checkpoint import CHECKPOINT_FILES, Checkpoint, load_checkpoint
from molattr.data.moleculenet import locate, recipe
from molattr.data.row_limits import DEFAULT_MAX_ATOMS, NAMED_ELEMENTS, RowLimits
from molattr.data.tables import check_not_input, existing_file, read_molecules
from molattr.errors import AttributionInputError, InputFileError, MolattrError
from molattr.featurize import FeatureSpec
from molattr.predict import predict_table
from molattr.resources import datasets_dir, models_dir

if TYPE_CHECKING:
    from molattr.report.attribute_rows import RowOutcome

DEFAULT_MODEL = "w2n2-tox21"


def _example_input() -> Path:
    return datasets_dir() / "examples" / "drugs.smi"


class _Group(click.Group):
    """Turn molattr errors and file-system errors (a missing input, an unwritable output) into one
    clean line and exit code 1, and an interruption (Ctrl-C) into exit code 130."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except MolattrError as exc:
            _fail(str(exc))
        except (KeyboardInterrupt, click.Abort):
            click.secho("interrupted", fg="yellow", err=True)
            sys.exit(130)
        except OSError as exc:
            _fail(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc))


def _device_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--device``: ``auto`` or a device torch knows (whether CUDA is present is checked on use)."""
    if value != "auto":
        import torch

        try:
            torch.device(value)
        except RuntimeError:
            raise click.BadParameter(f"unknown device {value!r} (use auto, cpu or cuda)") from None
    return value


#: Options several commands share, spelled once.
_device_option = click.option("--device", default="auto", show_default=True, callback=_device_name,
                              help="auto (CUDA when present), cpu or cuda.")
_id_column_option = click.option("--id-column", default=None,
                                 help="Identifier column of a CSV/TSV input (default: a column named 'id', else "
                                      "<file>:<line>).")


def _fail(message: str) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="molattr")
def main() -> None:
    """Explain molecular graph networks: weave featurization, models, predictions, attributions."""


def _table_path(path: Path) -> Path:
    """An output table's path, refused unless it ends in .csv or .parquet."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise click.BadParameter(f"{path}: the table is written as .csv or .parquet (got {path.suffix or 'no suffix'!r})",
                                 param_hint="--output")
    return path


def _scores_path(path: Path) -> Path:
    """``score``'s output path, refused as a usage error unless it ends in .csv, .parquet or .sdf."""
    from molattr.batch.sinks import output_kind  # the batch modules load only for score

    try:
        output_kind(path)
    except InputFileError as error:
        raise click.BadParameter(str(error), param_hint="--output") from None
    return path


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, float_format="%.6g")


def _counts(counts: dict[str, int]) -> str:
    """``"3 ok, 1 unparsable"``, most frequent first; ``"none"`` when empty."""
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda item: -item[1])) or "none"


def _summary(status: pd.Series) -> str:
    return _counts(status.value_counts().to_dict())


#: a click command's function, before or after its options are added
Command = Callable[..., Any]


def _apply(decorators: list[Callable[[Command], Command]], function: Command) -> Command:
    """``function`` under ``decorators``, listed in the order they appear in ``--help``."""
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _quadrature_options(function: Command) -> Command:
    """The integration options of every command that attributes: --method, --steps, the tolerances."""
    return _apply([
        click.option("--method", type=click.Choice([m.value for m in Method]), default="adaptive", show_default=True,
                     help="Quadrature rule; adaptive refines each path until both tolerances are met."),
        click.option("--steps", type=click.IntRange(1), default=50, show_default=True,
                     help="Nodes of a fixed rule (adaptive chooses its own nodes)."),
        click.option("--tolerance", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.01,
                     show_default=True, help="Relative completeness tolerance (adaptive)."),
        click.option("--attribution-tolerance", type=click.FloatRange(0, min_open=True), default=0.1, show_default=True,
                     help="Bound on the attributions' quadrature error relative to their L1 norm (adaptive; inf: off)."),
        click.option("--max-steps", type=click.IntRange(2), default=512, show_default=True,
                     help="Most gradient evaluations per molecule (adaptive; a molecule that reaches it keeps its gap)."),
        _checked_steps,
    ], function)


def _limit_options(function: Command) -> Command:
    """--max-atoms and --any-element, passed to ``function`` as one ``limits`` (:class:`RowLimits`)."""

    @functools.wraps(function)
    def with_limits(*args: Any, max_atoms: int, any_element: bool, **kwargs: Any) -> Any:
        return function(*args, limits=RowLimits(max_atoms, None if any_element else NAMED_ELEMENTS), **kwargs)

    return _apply([
        click.option("--max-atoms", type=click.IntRange(1), default=DEFAULT_MAX_ATOMS, show_default=True,
                     help="Heavy atoms above which a molecule is 'too_large'."),
        click.option("--any-element", is_flag=True,
                     help="Score elements the featurizer does not name (metals, B, Si, ...) as 'other' "
                          "instead of 'unsupported_element'."),
    ], with_limits)


def _checked_steps(function: Command) -> Command:
    """``function``, after refusing a fixed rule with too few --steps (the trapezoid rule needs 2) as a usage error."""

    @functools.wraps(function)
    def checked(*args: Any, method: str, steps: int, **kwargs: Any) -> Any:
        if method != Method.ADAPTIVE.value:
            try:
                check_n_steps(Method(method), steps)
            except AttributionInputError as error:
                raise click.BadParameter(str(error), param_hint="--steps") from None
        return function(*args, method=method, steps=steps, **kwargs)

    return checked


@main.command()
@click.argument("input_file", required=False, type=click.Path(path_type=Path))
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True, help="Shipped model name or checkpoint folder.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("predictions.csv"),
              show_default=True, callback=lambda ctx, param, value: _table_path(value), help="Output table (.csv or .parquet).")
@click.option("--smiles-column", default="smiles", show_default=True, help="SMILES column of a CSV/TSV input.")
@_id_column_option
@_limit_options
@click.option("--show/--no-show", default=True, show_default=True, help="Print the predictions as a table.")
def predict(input_file: Path | None, model: str, output: Path, smiles_column: str, id_column: str | None,
            limits: RowLimits, show: bool) -> None:
    """Predict every task for each molecule of INPUT_FILE (.smi, .csv, .tsv, optionally .gz).

    Without INPUT_FILE, the example drugs shipped in datasets/examples/drugs.smi are used.
    Every input row comes out once, in order, with a status (ok, ok_salt_stripped, empty,
    unparsable, unsupported_element, too_large, featurization_failed) and, for errors, the reason.
    """
    input_file = input_file or _example_input()
    check_not_input(output, input_file)
    checkpoint = load_checkpoint(model)
    table = read_molecules(input_file, smiles_column=smiles_column, id_column=id_column)
    result = predict_table(checkpoint, table, progress=len(table) > 1000, limits=limits)
    _write_table(result, output)
    kind = "probability" if checkpoint.task_type == "classification" else "value"
    if show and len(result):
        shown = result.set_index("id")[checkpoint.tasks].round(2)
        shown.insert(0, "status", result["status"].to_numpy())
        with pd.option_context("display.max_rows", 200, "display.width", 200, "display.max_columns", 50):
            click.echo(f"{checkpoint.name}: predicted {kind} per task\n")
            click.echo(shown.to_string(na_rep="-"))
    click.echo(f"\n{len(result)} rows ({_summary(result['status'])}) -> {output}")
    for _, row in result[result["error"] != ""].iterrows():
        click.echo(f"  {input_file}, line {row['line']}: {row['error']}", err=True)


#: ``score`` options that only shape attributions (``--attribute``).
_ATTRIBUTION_ONLY = ("method", "steps", "tolerance", "attribution_tolerance", "max_steps", "top_k", "atom_values",
                     "heatmap_dir", "heatmap_format")


def _options_given(names: tuple[str, ...]) -> list[str]:
    """How the options among ``names`` that the current command line sets are spelled there (``--heatmaps``)."""
    ctx = click.get_current_context()
    return [param.opts[-1] for param in ctx.command.params
            if param.name in names and ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE]


@main.command()
@click.argument("input_file", required=False)
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True, help="Shipped model name or checkpoint folder.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("scores.csv"),
              show_default=True, callback=lambda ctx, param, value: _scores_path(value),
              help="Output file: .csv, .parquet or .sdf.")
@click.option("--format", "input_format", type=click.Choice(["smi", "csv", "tsv", "sdf"]),
              help="Input format (default: from the suffix; smi for standard input).")
@click.option("--smiles-column", default="smiles", show_default=True, help="SMILES column of a CSV/TSV input.")
@click.option("--id-column", default=None, help="Identifier column (CSV/TSV) or property (SDF) (default: a column "
              "named 'id' or the SDF title, else <file>:<line>).")
@click.option("-a", "--attribute", "attribute_task", default=None,
              help="Also explain this task (name or index) with integrated gradients.")
@_quadrature_options
@click.option("--top-k", type=click.IntRange(1), default=5, show_default=True, help="Atoms and features in top_atoms/top_features.")
@click.option("--atom-values/--no-atom-values", default=True, show_default=True,
              help="Write every atom's attribution as a JSON list (column atom_attributions).")
@click.option("--heatmaps", "heatmap_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write a heatmap per attributed molecule into this folder (row-<row>.<format>, the row column's "
                   "number).")
@click.option("--heatmap-format", type=click.Choice(["svg", "png"]), default="svg", show_default=True,
              help="Image format of --heatmaps.")
@_limit_options
@click.option("--chunk-size", type=click.IntRange(1), default=1000, show_default=True,
              help="Rows per chunk (memory and resume granularity).")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True, help="Featurization processes.")
@_device_option
@click.option("--resume", is_flag=True, help="Continue an interrupted run of the same command and output.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
@click.option("--fail-on-row-errors", is_flag=True, help="Exit with code 3 when any row has an error status.")
def score(input_file: str | None, model: str, output: Path, input_format: str | None, smiles_column: str,
          id_column: str | None, attribute_task: str | None, method: str, steps: int, tolerance: float,
          attribution_tolerance: float, max_steps: int, top_k: int,
          atom_values: bool, heatmap_dir: Path | None, heatmap_format: str, limits: RowLimits,
          chunk_size: int, workers: int, device: str, resume: bool, progress: bool, fail_on_row_errors: bool) -> None:
    """Score every molecule of INPUT_FILE (.smi, .csv, .tsv, .sdf, optionally .gz; '-' for
    standard input) with every task of the model, optionally with attributions.

    Streams in chunks (memory stays flat however long the file). Every input row comes out
    exactly once, in input order, with a status: ok, ok_salt_stripped, empty, unparsable,
    unsupported_element, too_large, featurization_failed, model_failed, attribution_failed; errors
    carry their reason in 'error'. Task columns hold probabilities (values for regression); with
    --attribute, the attr_* columns are in the explained score's units: the logit for
    classification. After an interruption, the same command with --resume continues where it
    stopped. Without INPUT_FILE, the example drugs are scored.

    Exit codes: 0 done (row errors are statuses), 1 input/model error, 2 usage error,
    3 row errors with --fail-on-row-errors, 130 interrupted (resume with --resume).
    """
    from molattr.batch import AttributionOptions, InputSpec, Scorer, score_file
    from molattr.batch.progress import progress_path
    from molattr.batch.sinks import rows_written_to

    if attribute_task is None and (ignored := _options_given(_ATTRIBUTION_ONLY)):
        raise click.UsageError(f"{', '.join(ignored)} only appl{'ies' if len(ignored) == 1 else 'y'} with --attribute TASK")
    source = input_file or str(_example_input())
    checkpoint = load_checkpoint(model)
    options = None
    if attribute_task is not None:
        options = AttributionOptions(_task(checkpoint.tasks, attribute_task, "--attribute"), method=method, n_steps=steps,
                                     tolerance=tolerance, attribution_tolerance=attribution_tolerance, max_steps=max_steps,
                                     top_k=top_k, atom_values=atom_values,
                                     heatmap_dir=heatmap_dir, heatmap_format=heatmap_format)
    scorer = Scorer(checkpoint, options, device)
    spec = InputSpec(source, input_format, smiles_column, id_column)
    try:
        summary = score_file(spec, output, scorer, limits, workers, chunk_size, resume, progress)
    except KeyboardInterrupt:
        if progress_path(output).exists():
            click.secho(f"interrupted: the rows done so far are in {rows_written_to(output)}; run the same command with --resume "
                        "to continue", fg="yellow", err=True)
        else:
            click.secho("interrupted before the first chunk was written: run the same command again", fg="yellow", err=True)
        sys.exit(130)
    resumed = f", {summary.resumed_rows} of them from the interrupted run" if summary.resumed_rows else ""
    click.echo(f"{summary.rows} rows ({_counts(summary.counts)})"
               f"{resumed} in {summary.seconds:.1f} s ({summary.rate:.1f} molecules/s) -> {output}", err=True)
    errors = sum(n for status, n in summary.counts.items() if not status.startswith("ok"))
    if fail_on_row_errors and errors:
        sys.exit(3)


@main.command()
@click.argument("input_file", required=False, type=click.Path(path_type=Path))
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True, help="Shipped model name or checkpoint folder.")
@click.option("-t", "--target", default=None, help="Task name or index to explain (default: the model's first task).")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("attribution-report"),
              show_default=True, help="Report folder (report.html, tables, SDF, images).")
@click.option("--output", "output_kind", type=click.Choice(["logit", "probability"]), default="logit", show_default=True,
              help="Explain the raw logit or the probability.")
@_quadrature_options
@click.option("--atom-rule", type=click.Choice(["all_pairs", "bonded_pairs", "atoms_only"]), default="all_pairs",
              show_default=True, help="Which pair attributions each atom receives half of.")
@click.option("--max-cards", type=click.IntRange(0), default=200, show_default=True,
              help="Molecule cards drawn in report.html (the tables cover every row).")
@click.option("--3d/--no-3d", "with_3d", default=True, show_default=True, help="Write a 3D view per card.")
@click.option("--smiles-column", default="smiles", show_default=True, help="SMILES column of a CSV/TSV input.")
@_id_column_option
@_device_option
def attribute(input_file: Path | None, model: str, target: str | None, out: Path, output_kind: str, method: str,
              steps: int, tolerance: float, attribution_tolerance: float, max_steps: int, atom_rule: str, max_cards: int, with_3d: bool, smiles_column: str,
              id_column: str | None, device: str) -> None:
    """Explain one task's score for each molecule of INPUT_FILE with integrated gradients.

    Writes OUT/report.html (a card per molecule: 2D heatmap, top atoms, bonds and features,
    saturation curve, completeness gap, 3D view), molecules.csv (one row per input row, with its
    status), atoms/bonds/pairs/features.csv and attributions.sdf. Without INPUT_FILE, the example
    drugs in datasets/examples/drugs.smi are used.
    """
    from molattr.attribution import IntegratedGradients
    from molattr.report import ReportContext, attribute_rows, write_report

    input_file = input_file or _example_input()
    checkpoint = load_checkpoint(model)
    task = _task(checkpoint.tasks, target)
    _check_output_kind(checkpoint, output_kind)
    table = read_molecules(input_file, smiles_column=smiles_column, id_column=id_column)
    ig = IntegratedGradients(checkpoint, device=device)
    outcomes = attribute_rows(ig, table, task, atom_rule, progress=len(table) > 20, output=output_kind, method=method,
                              n_steps=steps, tolerance=tolerance, attribution_tolerance=attribution_tolerance, max_steps=max_steps,
                              return_interior=True)
    context = ReportContext(checkpoint.name, str(input_file), task, output_kind, method, atom_rule)
    report = write_report(outcomes, out, context, max_cards, with_3d)
    statuses = pd.Series([o.status for o in outcomes], dtype=str)
    click.echo(f"{len(outcomes)} rows ({_summary(statuses)}) -> {report}")
    _echo_row_errors(input_file, outcomes)


def _echo_row_errors(input_file: Path, outcomes: list[RowOutcome]) -> None:
    """Each row that could not be attributed, with its file, line and reason, on stderr."""
    for o in outcomes:
        if o.error:
            click.echo(f"  {input_file}, line {o.line}: {o.error}", err=True)


def _check_output_kind(checkpoint: Checkpoint, output_kind: str, option: str = "--output") -> None:
    """Refuse probabilities of a regression model's values as a usage error, before any work."""
    if output_kind == "probability" and checkpoint.task_type != "classification":
        raise click.BadParameter(f"{checkpoint.name} is a {checkpoint.task_type} model: its outputs are values, "
                                 "not probabilities", param_hint=option)


def _set_options(function: Command) -> Command:
    """Options shared by the set-level analyses (pharmacophores, dead-features)."""
    options = [
        click.argument("input_file", required=False, type=click.Path(path_type=Path)),
        click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True, help="Shipped model name or checkpoint folder."),
        click.option("-t", "--target", required=True, help="Task name or index to explain."),
        click.option("--label-column", help="CSV column of 0/1 labels: only rows labelled 1 (the actives) are used."),
        click.option("--min-probability", type=click.FloatRange(0, 1),
                     help="Only molecules the model scores at least this probability for the task."),
        _quadrature_options,
        click.option("--smiles-column", default="smiles", show_default=True, help="SMILES column of a CSV/TSV input."),
        _id_column_option,
        _device_option,
    ]
    return _apply(options, function)


def _attributed_set(input_file: Path | None, model: str, target: str, label_column: str | None,
                    min_probability: float | None, method: str, steps: int, tolerance: float,
                    attribution_tolerance: float, max_steps: int, smiles_column: str, id_column: str | None,
                    device: str):
    """Attribute the selected rows of INPUT_FILE: (checkpoint, task, maps, ids, lines), with a line on what was used.

    ``--min-probability`` is applied to a plain prediction before attributing, so molecules below
    it cost no integrated gradients."""
    from molattr.attribution import IntegratedGradients
    from molattr.errors import AnalysisInputError
    from molattr.report import attribute_rows

    input_file = input_file or _example_input()
    checkpoint = load_checkpoint(model)
    task = _task(checkpoint.tasks, target)
    if min_probability is not None:
        _check_output_kind(checkpoint, "probability", "--min-probability")
    table = read_molecules(input_file, smiles_column=smiles_column, id_column=id_column)
    if label_column is not None:
        if label_column not in table.columns:
            raise InputFileError(f"{input_file}: no column {label_column!r} (--label-column)")
        table = table[pd.to_numeric(table[label_column], errors="coerce") == 1]
    selected, below = len(table), ""
    if min_probability is not None:
        low = (predict_table(checkpoint, table)[task] < min_probability).to_numpy()  # rows that fail stay, as errors
        table, below = table[~low], f", {int(low.sum())} below probability {min_probability:g}"
    outcomes = attribute_rows(IntegratedGradients(checkpoint, device=device), table, task, progress=len(table) > 20,
                              method=method, n_steps=steps, tolerance=tolerance,
                              attribution_tolerance=attribution_tolerance, max_steps=max_steps)
    kept = [o for o in outcomes if o.molecule_map is not None]
    if not kept:
        raise AnalysisInputError(f"no molecules left to analyse in {input_file} (rows: {selected}; "
                                 f"label and probability filters: {label_column or 'none'}, {min_probability or 'none'})")
    click.echo(f"{len(kept)} molecules analysed for {task} ({selected} rows selected, "
               f"{len(outcomes) - len(kept)} could not be attributed{below})")
    _echo_row_errors(input_file, outcomes)
    return checkpoint, task, [o.molecule_map for o in kept], [o.id for o in kept], [o.line for o in kept]


@main.command()
@_set_options
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("pharmacophores"),
              show_default=True, help="Report folder (tables, ranking plot, summary.html).")
@click.option("--smarts", "smarts", multiple=True, help="Extra group NAME=SMARTS (repeatable).")
def pharmacophores(input_file, model, target, label_column, min_probability, method, steps, tolerance,
                   attribution_tolerance, max_steps, smiles_column, id_column, device: str, out: Path,
                   smarts: tuple[str, ...]) -> None:
    """Rank the groups that carry a task's score across the molecules of INPUT_FILE.

    Groups: RDKit pharmacophore families (Donor, Acceptor, Aromatic, Hydrophobe, PosIonizable,
    NegIonizable, ...), functional groups, ring systems and --smarts patterns. Use --label-column
    or --min-probability to keep the actives. Writes OUT/groups.csv, per_molecule.csv,
    ranking.png, summary.html and the example heatmaps it shows (examples/*.svg).
    """
    from molattr.analysis import compile_smarts
    from molattr.report.analysis_report import write_pharmacophore_report

    named = {}
    for item in smarts:
        name, sep, pattern = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=SMARTS (got {item!r})", param_hint="--smarts")
        if name in named:
            raise click.BadParameter(f"the name {name!r} is given twice", param_hint="--smarts")
        named[name] = pattern
    patterns = compile_smarts(named)
    checkpoint, task, maps, ids, lines = _attributed_set(input_file, model, target, label_column, min_probability, method,
                                                         steps, tolerance, attribution_tolerance, max_steps, smiles_column,
                                                         id_column, device)
    ranking = write_pharmacophore_report(maps, ids, out, f"{checkpoint.name}, {task}: groups carrying the score", patterns,
                                         lines)
    for _, row in ranking.head(5).iterrows():
        click.echo(f"  {row['score']:+.3f}  {row['name']} [{row['kind']}] in {100 * row['prevalence']:.0f}% of molecules")
    unmatched = sorted(set(named) - set(ranking.loc[ranking["kind"] == "smarts", "name"]))
    if unmatched:
        click.echo(f"--smarts patterns that match no molecule: {', '.join(unmatched)}", err=True)
    click.echo(f"report -> {out / 'summary.html'}")


@main.command("dead-features")
@_set_options
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("dead-features"),
              show_default=True, help="Report folder (tables, collision plot, summary.html).")
@click.option("--values", type=click.Choice(["atom_features", "atoms"]), default="atom_features", show_default=True,
              help="Compare each atom's own feature attributions, or its full atom value (with pair shares).")
@click.option("--rtol", type=click.FloatRange(0, min_open=True), default=1e-5, show_default=True,
              help="Ties: values within rtol x the molecule's largest |value|.")
def dead_features(input_file, model, target, label_column, min_probability, method, steps, tolerance,
                  attribution_tolerance, max_steps, smiles_column, id_column, device: str, out: Path, values: str,
                  rtol: float) -> None:
    """Find atoms with identical attributions that are not symmetry-equivalent (dead features).

    Reports, per molecule, the tied atoms, the radius at which their neighbourhoods first differ
    and their environments at that radius; over the set, the fraction of molecules with such ties
    (all, and with different neighbours), the environments that collide and the feature columns whose
    attribution is always zero. Writes OUT/collisions.csv, environment_pairs.csv, summary.json,
    summary.html and, when any atoms tie, collisions.png.
    """
    from molattr.report.analysis_report import write_dead_feature_report

    checkpoint, task, maps, ids, lines = _attributed_set(input_file, model, target, label_column, min_probability, method,
                                                         steps, tolerance, attribution_tolerance, max_steps, smiles_column,
                                                         id_column, device)
    summary = write_dead_feature_report(maps, ids, out, f"{checkpoint.name}, {task}: dead features", values, rtol, lines)
    click.echo(f"{summary['with_collisions']} of {summary['molecules']} molecules ({100 * summary['fraction']:.1f}%) "
               f"have tied non-equivalent atoms ({100 * summary['within_radius'][1]:.1f}% with different neighbours); "
               f"always-zero columns: {len(summary['zero_columns'])}")
    click.echo(f"report -> {out / 'summary.html'}")


@main.group()
def planted() -> None:
    """Planted ground truth: tasks labelled by SMARTS rules, to check attributions against known atoms."""


@planted.command("build")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for train.csv and eval.csv.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Recipe JSON (default: the shipped datasets/planted/rules.json).")
@click.option("--with-tox21/--without-tox21", default=True, show_default=True,
              help="Add the Tox21 molecules (local MoleculeNet file or download) to RDKit's NCI set.")
@click.option("--eval-fraction", type=click.FloatRange(0.05, 0.5), default=0.2, show_default=True,
              help="Share of the molecules written to eval.csv (the rest to train.csv).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the train/eval shuffle.")
def planted_build(out: Path, rules_path: Path | None, with_tox21: bool, eval_fraction: float, seed: int) -> None:
    """Label RDKit's NCI molecules (and Tox21's) with every rule; write OUT/train.csv and OUT/eval.csv."""
    import numpy as np
    from rdkit import RDConfig

    from molattr.analysis.planted import PlantedRecipe, label_table
    from molattr.chem import quiet_rdkit

    rules = PlantedRecipe.load(rules_path)
    nci = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"
    smiles = [line.split()[0] for line in nci.read_text(encoding="utf-8").splitlines() if line.strip()]
    if with_tox21:
        smiles += pd.read_csv(locate("tox21"))[recipe("tox21").smiles_column].astype(str).tolist()
    with quiet_rdkit():
        table = label_table(list(dict.fromkeys(smiles)), rules)
    order = np.random.default_rng(seed).permutation(len(table))
    cut = int(len(table) * eval_fraction)
    out.mkdir(parents=True, exist_ok=True)
    table.iloc[order[cut:]].to_csv(out / "train.csv", index=False)
    table.iloc[order[:cut]].to_csv(out / "eval.csv", index=False)
    rates = ", ".join(f"{r} {100 * table[r].mean():.1f}%" for r in rules.rules)
    click.echo(f"{len(table)} molecules ({len(table) - cut} train, {cut} eval); positives: {rates} -> {out}")


@planted.command("evaluate")
@click.option("-m", "--model", required=True, help="Checkpoint trained on the planted tasks.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), required=True, help="eval.csv of `planted build`.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Recipe JSON the data was built with (default: the shipped datasets/planted/rules.json).")
@click.option("--max-positives", type=click.IntRange(1), default=200, show_default=True,
              help="Positive molecules scored per rule (drawn at random, seeded, when DATA has more).")
@click.option("--steps", type=click.IntRange(1), default=50, show_default=True, help="Gauss–Legendre nodes.")
@click.option("--baseline", type=click.Choice(["zero", "expected"]), default="zero", show_default=True,
              help="IG baseline: all-zero features (the paper's), or expected gradients over baselines drawn from DATA's molecules.")
@click.option("--samples", type=click.IntRange(1), default=16, show_default=True,
              help="Baselines per molecule with --baseline expected (drawn from 200 random molecules of DATA).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Also write the table as JSON.")
def planted_evaluate(model: str, data: Path, rules_path: Path | None, max_positives: int, steps: int, baseline: str,
                     samples: int, json_out: Path | None) -> None:
    """Per-molecule AUROC of the planted atoms (IG vs gradient vs gradient × input), per pattern of
    each rule, and the set-level rank of the planted pattern, per rule."""
    from molattr.analysis.planted import PlantedRecipe
    from molattr.analysis.planted_evaluation import evaluate_planted

    checkpoint = load_checkpoint(model)
    table = read_molecules(data)
    result = evaluate_planted(checkpoint, table["smiles"].tolist(), PlantedRecipe.load(rules_path),
                              max_positives, n_steps=steps, baseline=baseline, n_samples=samples)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        click.echo(result.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(result.to_json(orient="records", indent=2) + "\n", encoding="utf-8")


@main.command()
@click.argument("data", required=False, type=click.Path(path_type=Path))
@click.option("--dataset", help="MoleculeNet data set name (tox21, delaney, ...) instead of DATA.")
@click.option("-o", "--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Checkpoint folder to write (created before training starts; one that holds a checkpoint is refused "
                   "without --overwrite).")
@click.option("--overwrite", is_flag=True, help="Replace the checkpoint already in --out.")
@click.option("--tasks", help="Comma-separated task columns (default: every column but the SMILES).")
@click.option("--task-type", type=click.Choice(["classification", "regression"]), help="Default: from the recipe, else classification.")
@click.option("--smiles-column", default=None, help="SMILES column (default: the recipe's, else 'smiles').")
@click.option("--layers", type=click.IntRange(1, 4), default=2, show_default=True, help="Weave modules: k in W{k}N{d}.")
@click.option("--max-distance", default="2", show_default=True, callback=lambda ctx, param, value: _max_distance(value),
              help="Pair graph distance: d in W{k}N{d} (a positive integer), or 'inf' for all pairs.")
@click.option("--preset", type=click.Choice(["full", "simple"]), default="full", show_default=True,
              help="Featurization: full (27 atom / 12 pair features) or simple (the paper's atom type, bond and distance).")
@click.option("--split", "split_kind", type=click.Choice(["random", "scaffold"]), default="random", show_default=True,
              help="Train/validation/test split (80/10/10): random rows, or Bemis-Murcko scaffolds kept together.")
@click.option("--epochs", type=click.IntRange(1), default=80, show_default=True, help="Most epochs to train.")
@click.option("--patience", type=click.IntRange(1), default=15, show_default=True, help="Early stopping patience (epochs).")
@click.option("--batch-size", type=click.IntRange(1), default=64, show_default=True, help="Molecules per training batch.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=1e-3, show_default=True, help="Adam learning rate.")
@click.option("--lr-schedule", type=click.Choice(["constant", "cosine"]), default="constant", show_default=True,
              help="Learning rate over the epochs: constant, or cosine decay from --lr to 0 at --epochs.")
@click.option("--monitor", type=click.Choice(["metric", "loss"]), default="metric", show_default=True,
              help="What early stopping and the kept epoch go by: the validation metric (mean ROC-AUC or RMSE) "
                   "or the validation loss.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split, the initial weights and the batch order.")
@click.option("--description", default="", help="One paragraph for the model card (what the tasks mean, units).")
def train(data: Path | None, dataset: str | None, out: Path, tasks: str | None, task_type: str | None,
          smiles_column: str | None, layers: int, max_distance: int | None, preset: str, split_kind: str, epochs: int,
          patience: int, batch_size: int, lr: float, lr_schedule: str, monitor: str, seed: int, description: str,
          overwrite: bool) -> None:
    """Train a weave network on DATA (CSV of SMILES and task columns, gzipped or not).

    Missing labels (empty cells) are masked in the loss. Rows that cannot be used are counted by
    reason and reported. The checkpoint (weights, config with metrics) is written to --out.
    """
    from molattr.training.loop import TrainConfig
    from molattr.training.pipeline import train_from_file

    if (data is None) == (dataset is None):
        raise click.UsageError("give either DATA or --dataset")
    task_list = _task_list(tasks)
    if dataset:
        r = recipe(dataset)
        data = locate(dataset)
        smiles_column = smiles_column or r.smiles_column
        task_type = task_type or r.task_type
        task_list = task_list or list(r.tasks)
    held = [name for name in CHECKPOINT_FILES if (out / name).exists()]
    if held and not overwrite:
        raise click.BadParameter(f"{out} already holds a checkpoint ({', '.join(held)}); choose another folder or pass "
                                 "--overwrite to replace it", param_hint="--out")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)  # an unwritable folder fails now, not after training
    try:
        summary = train_from_file(
            data, out, task_type or "classification", task_list, smiles_column or "smiles",
            FeatureSpec(preset=preset, max_distance=max_distance), layers, split_kind,
            train_config=TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=lr, lr_schedule=lr_schedule,
                                      monitor=monitor, patience=patience, seed=seed),
            description=description,
        )
    except BaseException:
        if created and not any(out.iterdir()):  # a run that failed leaves no empty folder behind
            out.rmdir()
        raise
    account = summary["data"]
    click.echo(f"rows: {account['rows']}, used: {account['used']}, skipped: {_counts(account['skipped'])}")
    for line in account["skipped_examples"]:
        click.echo(f"  skipped {line}")
    repeated = summary["split"]["repeated_in_train"]
    if any(repeated.values()):
        click.echo(f"the {split_kind} split puts {repeated['valid']} validation and {repeated['test']} test molecules also "
                   "in train (the same molecule in other rows, or a salt and its parent): those metrics are not all "
                   "on new molecules; --split scaffold keeps them apart")
    click.echo(_metrics_text(summary["metrics"]))
    click.echo(f"checkpoint -> {out}")


def _max_distance(text: str) -> int | None:
    """--max-distance: a positive integer, or inf/none/all for every pair."""
    if text.lower() in ("inf", "none", "all"):
        return None
    try:
        distance = int(text)
    except ValueError:
        distance = 0
    if distance < 1:
        raise click.BadParameter(f"a positive integer or 'inf' (got {text!r})", param_hint="--max-distance")
    return distance


def _task_list(text: str | None) -> list[str] | None:
    """--tasks: comma-separated names, spaces around them ignored; empty or repeated names refused."""
    if not text:
        return None
    names = [name.strip() for name in text.split(",")]
    if "" in names:
        raise click.BadParameter(f"an empty task name in {text!r}", param_hint="--tasks")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise click.BadParameter(f"task {', '.join(map(repr, repeated))} given more than once", param_hint="--tasks")
    return names


@main.command()
@click.argument("data", required=False, type=click.Path(path_type=Path))
@click.option("--dataset", help="MoleculeNet data set name instead of DATA.")
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True, help="Shipped model name or checkpoint folder.")
@click.option("--smiles-column", default=None, help="SMILES column (default: the recipe's, else 'smiles').")
@click.option("--part", type=click.Choice(["all", "train", "valid", "test"]), default="all", show_default=True,
              help="Score every usable row, or one part of the checkpoint's own split (DATA must hold the table it was "
                   "trained on: that file, or a copy with the same SMILES and task columns): --part test reproduces "
                   "the model card's test metrics.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Also write the metrics as JSON.")
def evaluate(data: Path | None, dataset: str | None, model: str, smiles_column: str | None, part: str,
             json_out: Path | None) -> None:
    """Score a checkpoint on the labelled rows of DATA (its task columns must be the model's)."""
    from molattr.data.splits import make_split
    from molattr.scoring import raw_scores
    from molattr.training.metrics import task_metrics
    from molattr.training.pipeline import is_training_table, load_labelled

    if (data is None) == (dataset is None):
        raise click.UsageError("give either DATA or --dataset")
    if dataset:
        smiles_column = smiles_column or recipe(dataset).smiles_column
        data = locate(dataset)
    checkpoint = load_checkpoint(model)
    existing_file(Path(data))
    if part != "all" and not is_training_table(Path(data), checkpoint.config, smiles_column or "smiles"):
        raise click.BadParameter(f"{data} is not the table {checkpoint.name} was trained on (its SMILES and task columns "
                                 "differ), so its split cannot be rebuilt; use --part all", param_hint="--part")
    labelled = load_labelled(data, checkpoint.tasks, checkpoint.task_type, checkpoint.spec, smiles_column or "smiles")
    graphs, labels = labelled.graphs, labelled.labels
    if part != "all":
        split = checkpoint.config["split"]
        rows = getattr(make_split(split["kind"], labelled.smiles, tuple(split["fractions"]), split["seed"]), part)
        graphs, labels = [graphs[k] for k in rows], labels[rows]
    metrics = task_metrics(checkpoint.task_type, labels, raw_scores(checkpoint.model, graphs), checkpoint.tasks)
    scored = "every usable row" if part == "all" else f"the {part} part of its {checkpoint.config['split']['kind']} split"
    click.echo(f"{checkpoint.name} on {data}: {len(graphs)} rows scored ({scored}; {len(labelled.graphs)} of "
               f"{labelled.n_rows} usable), skipped: {_counts(labelled.skipped)}")
    for line in labelled.skipped_examples:
        click.echo(f"  skipped {line}")
    click.echo(_metrics_text({"all rows" if part == "all" else part: metrics}))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(jsonio.dumps(metrics), encoding="utf-8")


@main.command()
@click.argument("checkpoint", type=click.Path(file_okay=False, path_type=Path))
@click.option("--run", "runs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="Another checkpoint trained on another split, whose metrics the card also reports (repeatable).")
def card(checkpoint: Path, runs: tuple[Path, ...]) -> None:
    """Write CHECKPOINT/README.md, the model card, from its config and other split runs.

    Each --run must be the same model (tasks, task type, architecture, featurization, training
    settings) trained on another split; its test metrics are stored in CHECKPOINT/config.json (metrics_by_split) and shown on the card.
    """
    from molattr.model_card import write_model_card

    click.echo(f"model card -> {write_model_card(checkpoint, list(runs))}")


@main.command("models")
def list_models() -> None:
    """List the shipped checkpoints with their test metrics."""
    for folder in sorted(p for p in models_dir().glob("*") if (p / "config.json").is_file()):
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        test = config.get("metrics", {}).get("test", {})
        score = " ".join(f"{k}={v:.3f}" for k, v in test.items() if k.startswith("mean_") and isinstance(v, float))
        click.echo(f"{folder.name:24s} {config.get('model_family', ''):6s} {config['task_type']:14s} "
                   f"{len(config['tasks']):3d} task{'s' if len(config['tasks']) != 1 else ' '}  test {score}")


def _task(tasks: list[str], target: str | None, option: str = "--target") -> str:
    """The task named (or numbered) by ``--target`` (or ``option``); the first task without one."""
    if target is None:
        return tasks[0]
    if target in tasks:
        return target
    if target.isdigit():
        if int(target) < len(tasks):
            return tasks[int(target)]
        raise click.BadParameter(f"task index {target} is out of range 0..{len(tasks) - 1}; the model's tasks: "
                                 f"{', '.join(tasks)}", param_hint=option)
    raise click.BadParameter(f"no task {target!r}; the model's tasks: {', '.join(tasks)}", param_hint=option)


def _number(value: float | None, digits: int) -> str:
    """A metric, or ``n/a`` where it is undefined (NaN, or ``null`` read back from JSON)."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _metrics_text(metrics: dict) -> str:
    lines = []
    for part, values in metrics.items():
        per_task = values.get("roc_auc") or values.get("rmse") or {}
        name = "ROC-AUC" if "roc_auc" in values else "RMSE"
        mean = values.get("mean_roc_auc", values.get("mean_rmse"))
        lines.append(f"{part:8s} mean {name} {_number(mean, 4)}")
        lines.append("  " + "  ".join(f"{t}={_number(v, 3)}" for t, v in per_task.items()))
        if "mean_r2" in values:
            lines.append(f"  R2={_number(values['mean_r2'], 4)}  MAE={_number(values['mean_mae'], 4)}")
    return "\n".join(lines)
