"""Score a molecule file in chunks: streaming, flat memory, every row once, resumable."""
from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from molattr.batch.prepare import Preparer
from molattr.batch.progress import Progress, fingerprint, progress_path
from molattr.batch.scorer import Scorer
from molattr.batch.sinks import open_sink
from molattr.data.records import STDIN, Record, count_records, iter_records
from molattr.data.row_limits import RowLimits
from molattr.data.tables import check_not_input, existing_file
from molattr.errors import InputFileError

DEFAULT_CHUNK_SIZE = 1000


@dataclass(frozen=True)
class InputSpec:
    """Where the rows come from and how to read them."""

    source: str
    input_format: str | None = None
    smiles_column: str = "smiles"
    id_column: str | None = None

    def identity(self) -> dict:
        """The input's name, size and modification time (a changed file cannot be resumed)."""
        if self.source == STDIN:
            return {"source": STDIN}
        stat = existing_file(Path(self.source)).stat()
        return {"source": str(Path(self.source).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


@dataclass
class RunSummary:
    """Counts per status, rows, seconds, and whether this run resumed an earlier one."""

    counts: Counter
    rows: int
    seconds: float
    resumed_rows: int

    @property
    def rate(self) -> float:
        """Rows scored per second in this run (rows of a resumed run's earlier part not counted)."""
        done = self.rows - self.resumed_rows
        return done / self.seconds if self.seconds > 0 else float("nan")


def chunked(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def score_file(spec: InputSpec, output: Path, scorer: Scorer, limits: RowLimits = RowLimits(), workers: int = 1,
               chunk_size: int = DEFAULT_CHUNK_SIZE, resume: bool = False, progress: bool = True) -> RunSummary:
    """Score every row of ``spec.source`` into ``output`` (``.csv``, ``.parquet`` or ``.sdf``).

    After each chunk the output is flushed to disk and ``<output>.progress.json`` records the rows
    done; an interrupted run (Ctrl-C, kill, power loss) continues with ``resume=True`` where the
    last complete chunk ended, with no row duplicated or missing. The progress file is removed
    when the run completes.

    Raises:
        InputFileError: unreadable input, an output that is the input file, an interrupted run's
            progress file without ``resume``, ``resume`` without one (or from standard input), or a
            progress file of other settings.
    """
    if chunk_size < 1:
        raise InputFileError(f"chunk size must be >= 1 (got {chunk_size})")
    check_not_input(output, spec.source)
    state_path = progress_path(output)
    reader = {k: v for k, v in asdict(spec).items() if k != "source"}  # the source as identity() resolves it
    key = fingerprint({"input": spec.identity(), "reader": reader, "columns": scorer.columns,
                       "model": scorer.checkpoint.name, "spec": scorer.checkpoint.spec.hash,
                       "attribution": asdict(scorer.attribution) if scorer.attribution else None,
                       "limits": {"max_atoms": limits.max_atoms, "elements": sorted(limits.elements or [])},
                       "output": str(output.resolve())})
    if resume:
        if spec.source == STDIN:
            raise InputFileError("--resume needs an input file (standard input cannot be read again)")
        if not state_path.exists():
            raise InputFileError(f"nothing to resume: no {state_path} (the run finished, or never started)")
        state = Progress.load(state_path, key)
    else:
        if state_path.exists():
            raise InputFileError(
                f"{state_path} exists: an interrupted run of this output; pass --resume to continue it, "
                "or delete it to start over"
            )
        state = Progress(key)
    started = time.perf_counter()
    resumed = state.rows_done
    counts = state.counter
    records = itertools.islice(iter_records(spec.source, spec.input_format, spec.smiles_column, spec.id_column),
                               state.rows_done, None)
    first = list(itertools.islice(records, 1))  # reads the header: a bad input fails before the output is created
    records = itertools.chain(first, records)
    total = count_records(spec.source, spec.input_format) if progress else None
    sink = open_sink(output, scorer.columns, state.position if resume else None)
    try:
        with Preparer(scorer.checkpoint.spec, limits, workers) as preparer, \
                tqdm(total=total, initial=state.rows_done, unit="mol", desc="scoring", disable=not progress,
                     smoothing=0.1) as bar:
            for chunk, prepared in preparer.stream(chunked(records, chunk_size)):
                scored = scorer.score(chunk, prepared)
                sink.write(scored)
                counts.update(scored.frame["status"])
                state.rows_done += len(chunk)
                state.position = sink.position()
                state.counts = dict(counts)
                state.save(state_path)
                bar.update(len(chunk))
        sink.finish()
    finally:
        sink.close()
    state_path.unlink(missing_ok=True)
    return RunSummary(counts, state.rows_done, time.perf_counter() - started, resumed)
