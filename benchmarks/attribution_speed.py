"""Integrated-gradients speed, memory and evaluations per accuracy: molattr against other routes.

Everything runs in one process (memory on the CPU: one child process per chunk size) on the same
model (``w2n2-tox21``), target task (``--target``, default 2 = NR-AhR, raw logit), zero baseline,
``--device`` (CPU with ``--threads`` torch threads, or CUDA), over the first ``--molecules`` molecules of RDKit's
``NCI/first_5K.smi`` that featurize AND have at least one atom pair: Captum cannot attribute an
empty pair tensor, so molecules without pairs (a lone heavy atom) are left out of every route.
glibc's allocator settings come from the environment and hold for every route and child, e.g.
``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456`` (fewer page faults, part 2).

1. Throughput, 50-step Gauss–Legendre, float32, molecules/s (every route warmed up on a few
   molecules, then all timed in turn ``--repeats`` times, best kept, so that the machine's slow
   spells fall on all routes alike):

   * molattr ``IntegratedGradients.attribute`` over all molecules at once, for each ``--chunks``
     value of ``max_atoms_per_pass``; the fastest is "molattr" in the comparisons;
   * molattr with its defaults (adaptive rule, CPU pass size), for what a user gets unasked;
   * Captum's ``IntegratedGradients``, one molecule at a time, its 50 steps in one batch;
     it and PyG get their graphs already on the device, molattr gets them on the CPU;
   * PyG ``Explainer`` + ``CaptumExplainer`` (node features only, one step per pass), timed on
     the first ``--pyg-molecules`` molecules, its rate extrapolated to all;
   * the floor, for each ``--chunks`` value: the same 50 copies of every molecule in ``Batch``
     objects of at most that many atoms, built before timing, then one forward +
     ``torch.autograd.grad`` w.r.t. atom and pair features per batch (no IG bookkeeping, no
     end-point scores); molattr's time over the floor's is reported per pass size.

   With ``--threads`` N > 1 on the CPU, molattr runs N passes side by side, one core each (its
   default), and the floor runs its batches the same way; Captum and PyG run with torch's N
   intra-op threads and, as more routes, with one; the ratios are taken against the faster of each.

   In passing, the largest relative difference between molattr's and Captum's atom
   attributions on the first 20 molecules (``max |a - c| / max |c|`` per molecule).
2. Peak memory per ``max_atoms_per_pass`` (``--memory-chunks``): molattr on the same molecules in
   a fresh subprocess per size (and, in one more, the default adaptive rule on 64 copies of a
   201-atom poly-alanine, whose nodes' gradients it keeps until the end), warmed up on one molecule (lazy library set-up is not counted); its
   peak RSS (``VmHWM``, reset just before attributing) minus its RSS then (``VmRSS``), its
   molecules/s, and its minor page faults and user and system CPU time (``getrusage``; large
   passes fault in fresh pages from the kernel on every pass). Not ``ru_maxrss``: Linux carries
   it over ``exec``, so a child's value is at least
   its parent's RSS when it was spawned (here the parent holds a few hundred MiB more than the child).
   On CUDA, in this process: torch's peak device allocation during the run minus what it held before.
3. Gradient evaluations for a 1% median completeness gap, in float64 (so float32 rounding does not
   blur the gap), on the first ``--gap-molecules`` molecules: the smallest n of Gauss–Legendre and
   of Riemann middle (n = 8 ... 512) whose median relative gap is <= 1%, and the adaptive rule
   (max_steps 512) over (tolerance, attribution_tolerance) settings; the headline is the fewest
   mean evaluations per molecule of a setting whose median gap is <= 1%. Every row also gives the
   fraction of molecules whose own gap is <= 1% and the attributions' error against a
   2048-node Riemann-middle reference: the gap is one number per molecule and can be small while
   the attributions are still off (errors of intervals cancelling), so the error column says what
   the evaluations bought.

Run: ``python benchmarks/attribution_speed.py [--molecules 1000] [--threads 1] [--json results.json]``;
on a GPU: ``--device cuda --parts throughput,memory --chunks 16384,65536,262144``.
"""
from __future__ import annotations

import argparse
import copy
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem, RDConfig
from torch import nn
from torch_geometric.data import Batch, Data

import molattr
from molattr.attribution.integrated_gradients import DEFAULT_ATOMS_PER_PASS, IntegratedGradients
from molattr.attribution.pass_threads import map_in_threads, torch_threads
from molattr.attribution.result import Attribution
from molattr.checkpoint import Checkpoint
from molattr.errors import InvalidMoleculeError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from routes import captum_attribute, pyg_captum_explainer  # noqa: E402

MODEL = "w2n2-tox21"
N_STEPS = 50
METHOD = "gauss_legendre"
WARMUP_MOLECULES = 3
CHECK_MOLECULES = 20
GAP = 0.01
FIXED_STEPS = (8, 16, 32, 64, 96, 128, 160, 192, 256, 384, 512)
#: (tolerance, attribution_tolerance) of the adaptive rule; the default is (0.01, 0.1)
ADAPTIVE_SETTINGS = ((0.05, math.inf), (0.03, math.inf), (0.02, math.inf), (0.01, math.inf), (0.01, 0.3),
                     (0.01, 0.2), (0.01, 0.1), (0.01, 0.05))
REFERENCE_METHOD, REFERENCE_STEPS = "riemann_middle", 2048
#: the adaptive rule's memory: this many copies of a poly-alanine of this many residues (201 heavy atoms)
PEPTIDE_COPIES, PEPTIDE_RESIDUES = 64, 40
ADAPTIVE_MAX_STEPS = 512
PARTS = ("throughput", "memory", "evaluations")
CAPTUM = "Captum, per molecule"
THREADS_NOTE = ", torch's threads"



# -- data and machine -----------------------------------------------------------------------

def nci_graphs(spec: molattr.FeatureSpec, n: int) -> list[Data]:
    """The first ``n`` molecules of ``NCI/first_5K.smi`` that featurize and have at least one pair."""
    graphs = []
    with open(os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")) as handle:
        for line in handle:
            if len(graphs) == n:
                break
            if not line.strip():
                continue
            try:
                graph = molattr.featurize(line.split()[0], spec)
            except InvalidMoleculeError:
                continue
            if graph.edge_index.shape[1] > 0:
                graphs.append(graph)
    return graphs


def machine(threads: int, device: torch.device) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {"python": platform.python_version(), "torch": torch.__version__, "threads": threads, "cpu": cpu,
            "device": str(device), "gpu": gpu}


# -- 1. throughput ----------------------------------------------------------------------------

def molattr_run(checkpoint: Checkpoint, chunk: int, target: int,
                device: torch.device) -> Callable[[Sequence[Data]], list[Attribution]]:
    ig = IntegratedGradients(checkpoint, device=device, dtype=torch.float32, max_atoms_per_pass=chunk)
    return lambda graphs: ig.attribute(list(graphs), target=target, n_steps=N_STEPS, method=METHOD)


class DefaultRun:
    """molattr with its defaults; keeps the last run's attributions (for their evaluations)."""

    def __init__(self, checkpoint: Checkpoint, target: int, device: torch.device) -> None:
        self.ig, self.target, self.last = IntegratedGradients(checkpoint, device=device), target, []

    def __call__(self, graphs: Sequence[Data]) -> list[Attribution]:
        self.last = self.ig.attribute(list(graphs), target=self.target)
        return self.last


def captum_run(model: nn.Module, target: int) -> Callable[[Sequence[Data]], list[torch.Tensor]]:
    return lambda graphs: [captum_attribute(model, g, target, N_STEPS, METHOD)[0] for g in graphs]


def pyg_run(model: nn.Module, target: int) -> Callable[[Sequence[Data]], None]:
    explainer = pyg_captum_explainer(model, target, N_STEPS)

    def run(graphs: Sequence[Data]) -> None:
        for g in graphs:
            explainer(g.x, g.edge_index, edge_attr=g.edge_attr)

    return run


def floor_batches(graphs: Sequence[Data], copies: int, budget: int, device: torch.device) -> list[Batch]:
    """Each graph ``copies`` times in a row, in batches of at most ``budget`` atoms on ``device``,
    features requiring grad.

    Split like molattr's passes: a copy that would overflow the budget starts a new batch.
    """
    batches: list[Batch] = []
    current: list[Data] = []
    atoms = 0
    for graph in graphs:
        bare = Data(x=graph.x, edge_index=graph.edge_index, edge_attr=graph.edge_attr)
        for _ in range(copies):
            if current and atoms + graph.num_nodes > budget:
                batches.append(_grad_batch(current, device))
                current, atoms = [], 0
            current.append(bare)
            atoms += graph.num_nodes
    if current:
        batches.append(_grad_batch(current, device))
    return batches


def _grad_batch(graphs: list[Data], device: torch.device) -> Batch:
    batch = Batch.from_data_list(graphs).to(device)
    batch.x.requires_grad_(True)
    batch.edge_attr.requires_grad_(True)
    return batch


def floor_run(model: nn.Module, target: int, threads: int) -> Callable[[Sequence[Batch]], None]:
    """Forward + backward per batch; ``threads`` > 1 runs batches side by side as molattr runs its passes."""

    def one(b: Batch) -> None:
        score = model(b.x, b.edge_index, b.edge_attr, b.batch, b.num_graphs)[:, target]
        torch.autograd.grad(score.sum(), (b.x, b.edge_attr))

    def run(batches: Sequence[Batch]) -> None:
        for _ in map_in_threads(one, batches, threads) if threads > 1 else map(one, batches):
            pass

    return run


def on_threads(run: Callable[[Sequence], object], threads: int) -> Callable[[Sequence], object]:
    """``run`` with torch set to ``threads`` intra-op threads, then set back."""

    def wrapped(items: Sequence) -> object:
        with torch_threads(threads):
            return run(items)

    return wrapped


@dataclass
class Route:
    """A timed route: ``run(timed)`` processes ``n_molecules`` molecules."""

    name: str
    run: Callable[[Sequence], object]
    warmup: Sequence
    timed: Sequence
    n_molecules: int
    chunk: int | None = None


def time_round_robin(routes: list[Route], repeats: int, device: torch.device) -> list[dict]:
    """Warm every route up, then time them in turn ``repeats`` times (best kept), so that a slow
    spell of the machine falls on all routes alike rather than on whichever ran then. On CUDA the
    clock stops when the device has finished the route's work."""

    def finish() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for route in routes:
        route.run(route.warmup)
    finish()
    best = [float("inf")] * len(routes)
    for _ in range(repeats):
        for k, route in enumerate(routes):
            start = time.perf_counter()
            route.run(route.timed)
            finish()
            best[k] = min(best[k], time.perf_counter() - start)
    return [{"route": r.name, "chunk": r.chunk, "molecules": r.n_molecules, "seconds": t, "mol_per_s": r.n_molecules / t}
            for r, t in zip(routes, best)]


def max_relative_difference(ours: Sequence[Attribution], captum: Sequence[torch.Tensor]) -> float:
    """Largest ``max |a - c| / max |c|`` over molecules (atom attributions)."""
    return max(float(np.abs(a.atom_attr - c.numpy()).max() / np.abs(c.numpy()).max()) for a, c in zip(ours, captum))


def throughput(args: argparse.Namespace, checkpoint: Checkpoint, graphs: list[Data]) -> dict:
    """Part 1. molattr gets the featurized graphs on the CPU (it moves them itself); the other
    routes get them already on ``args.device`` (their transfers are not timed)."""
    device, target, n = args.device, args.target, len(graphs)
    model = copy.deepcopy(checkpoint.model).to(device).eval()
    on_device = [g.clone().to(device) for g in graphs]
    warmup, device_warmup = graphs[:WARMUP_MOLECULES], on_device[:WARMUP_MOLECULES]
    pyg_graphs = on_device[: args.pyg_molecules]
    ours = [Route(f"molattr, {c} atoms per pass", molattr_run(checkpoint, c, target, device), warmup, graphs, n, c)
            for c in args.chunks]
    cpu_threads = args.threads if device.type == "cpu" else 1
    side_by_side = f", {cpu_threads} batches at a time, one core each" if cpu_threads > 1 else ""
    floors = [Route(f"floor: forward + backward only, {c}-atom batches built beforehand{side_by_side}",
                    floor_run(model, target, cpu_threads),
                    floor_batches(warmup, N_STEPS, c, device), floor_batches(graphs, N_STEPS, c, device), n, c)
              for c in args.chunks]
    default = DefaultRun(checkpoint, target, device)
    default_pass = DEFAULT_ATOMS_PER_PASS[device.type]
    pyg_name = f"PyG Explainer + CaptumExplainer (first {len(pyg_graphs)} molecules, rate extrapolated)"
    others = [
        Route(f"molattr, default adaptive rule (tolerance 0.01, attribution tolerance 0.1), {default_pass} atoms per pass",
              default, warmup, graphs, n),
        Route(f"{CAPTUM}{THREADS_NOTE if cpu_threads > 1 else ''}", captum_run(model, target), device_warmup, on_device, n),
        Route(f"{pyg_name}{THREADS_NOTE if cpu_threads > 1 else ''}", pyg_run(model, target), device_warmup, pyg_graphs,
              len(pyg_graphs)),
    ]
    if cpu_threads > 1:  # the per-molecule routes' passes are small: one thread may serve them better
        others += [Route(f"{CAPTUM}, 1 thread", on_threads(captum_run(model, target), 1), device_warmup, on_device, n),
                   Route(f"{pyg_name}, 1 thread", on_threads(pyg_run(model, target), 1), device_warmup, pyg_graphs,
                         len(pyg_graphs))]
    rows = time_round_robin(ours + others + floors, args.repeats, device)
    split = len(ours) + len(others)
    chunk_rows, other_rows, floor_rows = rows[: len(ours)], rows[len(ours) : split], rows[split:]
    best = min(chunk_rows, key=lambda r: r["seconds"])
    best_floor = next(r for r in floor_rows if r["chunk"] == best["chunk"])
    ours_best = molattr_run(checkpoint, best["chunk"], target, device)(graphs[:CHECK_MOLECULES])
    captum_atoms = [c.cpu() for c in captum_run(model, target)(on_device[:CHECK_MOLECULES])]
    fastest = {name: max(r["mol_per_s"] for r in other_rows if r["route"].startswith(prefix))
               for name, prefix in (("captum", CAPTUM), ("pyg", "PyG"))}
    return {
        "chunks": chunk_rows, "best_chunk": best["chunk"], "routes": other_rows + floor_rows,
        "molattr_over_captum": best["mol_per_s"] / fastest["captum"], "molattr_over_pyg": best["mol_per_s"] / fastest["pyg"],
        "molattr_over_floor_time": best["seconds"] / best_floor["seconds"],
        "molattr_over_floor_time_per_chunk": {o["chunk"]: o["seconds"] / f["seconds"] for o, f in zip(chunk_rows, floor_rows)},
        "max_relative_difference_vs_captum": max_relative_difference(ours_best, captum_atoms),
        "default_mean_evaluations": float(np.mean([a.evaluations for a in default.last])),  # its last timed run
    }


def print_throughput(r: dict, n: int, repeats: int) -> None:
    best = next(row for row in r["chunks"] if row["chunk"] == r["best_chunk"])
    print(f"## Throughput: {n} NCI molecules, {N_STEPS}-step Gauss–Legendre, float32, best of {repeats}\n")
    print("| route | molecules timed | seconds | molecules/s | rate ÷ molattr's |")
    print("|---|---:|---:|---:|---:|")
    for row in r["chunks"] + r["routes"]:
        print(f"| {row['route']} | {row['molecules']} | {row['seconds']:.2f} | {row['mol_per_s']:.1f} | "
              f"{row['mol_per_s'] / best['mol_per_s']:.2f}× |")
    print(f"\nThe default adaptive rule used {r['default_mean_evaluations']:.1f} gradient evaluations per molecule "
          f"(the other routes {N_STEPS}).")
    print(f"\nmolattr (fastest pass size) ÷ the faster Captum route: {r['molattr_over_captum']:.2f}×; "
          f"÷ the faster PyG route: {r['molattr_over_pyg']:.1f}×")
    per_chunk = ", ".join(f"{c} atoms {v:.2f}" for c, v in r["molattr_over_floor_time_per_chunk"].items())
    print(f"\nmolattr time ÷ floor time at the same pass size: {per_chunk} (fastest molattr: {r['molattr_over_floor_time']:.2f})")
    print(f"max relative difference of atom attributions, molattr vs Captum, first {CHECK_MOLECULES} molecules: "
          f"{r['max_relative_difference_vs_captum']:.1e}\n")


# -- 2. peak memory ---------------------------------------------------------------------------

def status_kib(field: str) -> int:
    """A memory field of ``/proc/self/status`` (``VmRSS`` now, ``VmHWM`` peak), KiB."""
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1])


Measure = Callable[[Callable[[], object]], tuple[dict, object]]


def chunk_memory_row(checkpoint: Checkpoint, graphs: list[Data], chunk: int, target: int, device: torch.device,
                     measure: Measure) -> dict:
    """Attribute every molecule with one chunk size, after a warm-up (lazy library set-up is not counted)."""
    ig = IntegratedGradients(checkpoint, device=device, dtype=torch.float32, max_atoms_per_pass=chunk)
    ig.attribute(graphs[:1], target=target, n_steps=N_STEPS, method=METHOD)
    peak, _ = measure(lambda: ig.attribute(graphs, target=target, n_steps=N_STEPS, method=METHOD))
    return {"chunk": chunk, **peak, "mol_per_s": len(graphs) / peak["seconds"]}


def adaptive_memory_row(checkpoint: Checkpoint, copies: int, target: int, device: torch.device, measure: Measure) -> dict:
    """The default adaptive rule on ``copies`` poly-alanines, after a warm-up on one."""
    peptide = molattr.featurize(Chem.MolToSmiles(Chem.MolFromSequence("A" * PEPTIDE_RESIDUES)), checkpoint.spec)
    ig = IntegratedGradients(checkpoint, device=device)
    ig.attribute(peptide, target=target)
    peak, results = measure(lambda: ig.attribute([peptide] * copies, target=target))
    return {"copies": copies, "atoms": peptide.num_nodes, "mean_evaluations": float(np.mean([a.evaluations for a in results])),
            "peak_extra_mib": peak["peak_extra_mib"], "seconds": peak["seconds"]}


def memory_child(args: argparse.Namespace) -> None:
    """Child process: attribute every molecule with one chunk size; print one JSON line."""
    checkpoint = molattr.load_model(MODEL)
    graphs = nci_graphs(checkpoint.spec, args.molecules)
    print(json.dumps(chunk_memory_row(checkpoint, graphs, args.memory_child, args.target, torch.device("cpu"), measure_peak)))


def measure_peak(run: Callable[[], object]) -> tuple[dict, object]:
    """``run``'s ``rss_before_mib``, the peak resident memory it adds (``peak_extra_mib``), its
    ``seconds``, minor page faults and user and system CPU seconds, with its result. The caller
    warms up first."""
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS, so the warm-up's peak is not counted
    before, usage = status_kib("VmRSS"), resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"rss_before_mib": before / 1024, "peak_extra_mib": (status_kib("VmHWM") - before) / 1024,
            "seconds": seconds, "minor_faults": after.ru_minflt - usage.ru_minflt,
            "user_s": after.ru_utime - usage.ru_utime, "system_s": after.ru_stime - usage.ru_stime}, result


def adaptive_memory_child(args: argparse.Namespace) -> None:
    """Child process: the default adaptive rule on copies of a poly-alanine; print one JSON line."""
    checkpoint = molattr.load_model(MODEL)
    print(json.dumps(adaptive_memory_row(checkpoint, args.adaptive_memory_child, args.target, torch.device("cpu"),
                                         measure_peak)))


def peak_memory(args: argparse.Namespace, checkpoint: Checkpoint, graphs: list[Data]) -> list[dict]:
    """Part 2: one row per ``--memory-chunks`` value, then the adaptive poly-alanine row."""
    if args.device.type == "cuda":
        return cuda_peak_memory(args, checkpoint, graphs)
    rows = []
    for chunk in args.memory_chunks:
        command = [sys.executable, __file__, "--memory-child", str(chunk), "--molecules", str(args.molecules),
                   "--target", str(args.target), "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"the memory child for {chunk} atoms per pass failed:\n{done.stderr}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    command = [sys.executable, __file__, "--adaptive-memory-child", str(PEPTIDE_COPIES), "--target", str(args.target),
               "--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the adaptive memory child failed:\n{done.stderr}")
    rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def cuda_peak_memory(args: argparse.Namespace, checkpoint: Checkpoint, graphs: list[Data]) -> list[dict]:
    """Part 2 on CUDA, in this process: the peak of the memory torch allocates on the device during
    each run (``max_memory_allocated`` after a reset) minus what it held before, after a warm-up."""

    def measure(run: Callable[[], object]) -> tuple[dict, object]:
        torch.cuda.synchronize(args.device)
        torch.cuda.reset_peak_memory_stats(args.device)
        before = torch.cuda.memory_allocated(args.device)
        start = time.perf_counter()
        result = run()
        torch.cuda.synchronize(args.device)
        seconds = time.perf_counter() - start
        return {"peak_extra_mib": (torch.cuda.max_memory_allocated(args.device) - before) / 2**20, "seconds": seconds}, result

    rows = [chunk_memory_row(checkpoint, graphs, chunk, args.target, args.device, measure) for chunk in args.memory_chunks]
    return rows + [adaptive_memory_row(checkpoint, PEPTIDE_COPIES, args.target, args.device, measure)]


def print_memory(rows: list[dict], n: int, device: torch.device) -> None:
    if device.type == "cuda":
        print(f"## Peak GPU memory per chunk size: {n} molecules, torch's allocations on the device, one timed run each\n")
        print("| chunk size (atoms per pass) | peak extra MiB | molecules/s |")
        print("|---:|---:|---:|")
        for row in rows[:-1]:
            print(f"| {row['chunk']} | {row['peak_extra_mib']:.1f} | {row['mol_per_s']:.1f} |")
        _print_adaptive_memory(rows[-1], DEFAULT_ATOMS_PER_PASS["cuda"])
        return
    print(f"## Peak memory per chunk size: {n} molecules, one fresh process and one timed run each\n")
    print("| chunk size (atoms per pass) | peak extra MiB | molecules/s | minor page faults | user s | system s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows[:-1]:
        print(f"| {row['chunk']} | {row['peak_extra_mib']:.1f} | {row['mol_per_s']:.1f} | {row['minor_faults']} | "
              f"{row['user_s']:.2f} | {row['system_s']:.2f} |")
    _print_adaptive_memory(rows[-1], DEFAULT_ATOMS_PER_PASS["cpu"])


def _print_adaptive_memory(row: dict, atoms_per_pass: int) -> None:
    print(f"\nDefault adaptive rule, {atoms_per_pass} atoms per pass, {row['copies']} copies of a {row['atoms']}-atom "
          f"poly-alanine: peak extra {row['peak_extra_mib']:.1f} MiB, {row['mean_evaluations']:.1f} evaluations per "
          f"molecule, {row['seconds']:.1f} s\n")


# -- 3. evaluations for a 1% median gap -------------------------------------------------------

def gap_stats(attributions: Sequence[Attribution], reference: Sequence[np.ndarray]) -> dict:
    """Mean evaluations per molecule, the relative gaps' median, 90th percentile and fraction <= 1%,
    and the attributions' relative L2 error against ``reference`` (median and 90th percentile)."""
    gaps = np.array([a.relative_gap for a in attributions])
    defined = gaps[~np.isnan(gaps)]
    errors = [np.linalg.norm(attribution_vector(a) - r) / np.linalg.norm(r) for a, r in zip(attributions, reference)]
    return {"mean_evaluations": float(np.mean([a.evaluations for a in attributions])),
            "median_gap": float(np.nanmedian(gaps)), "p90_gap": float(np.nanpercentile(gaps, 90)),
            "within_gap": float(np.mean(defined <= GAP)), "undefined_gaps": int(np.isnan(gaps).sum()),
            "median_error": float(np.median(errors)), "p90_error": float(np.percentile(errors, 90))}


def attribution_vector(a: Attribution) -> np.ndarray:
    """Every atom and pair feature attribution of a molecule, flattened. Shapes: ``-> [n_atoms * F_a + n_pairs * F_p]``."""
    return np.concatenate([a.atom_attr.ravel(), a.pair_attr.ravel()])


def fixed_sweep(ig: IntegratedGradients, graphs: list[Data], target: int, method: str,
                reference: Sequence[np.ndarray]) -> dict:
    """Increase n until the median gap is <= 1%; ``n_steps`` is None when 512 is not enough."""
    sweep = []
    for n in FIXED_STEPS:
        sweep.append({"n_steps": n, **gap_stats(ig.attribute(graphs, target=target, n_steps=n, method=method), reference)})
        if sweep[-1]["median_gap"] <= GAP:
            return {"method": method, "n_steps": n, "sweep": sweep}
    return {"method": method, "n_steps": None, "sweep": sweep}


def adaptive_sweep(ig: IntegratedGradients, graphs: list[Data], target: int, reference: Sequence[np.ndarray]) -> dict:
    """Every setting; ``chosen`` is the one with the fewest evaluations whose median gap is <= 1% (None if none is)."""
    sweep = [{"tolerance": tol, "attribution_tolerance": attribution_tol,
              **gap_stats(ig.attribute(graphs, target=target, method="adaptive", tolerance=tol,
                                       attribution_tolerance=attribution_tol, max_steps=ADAPTIVE_MAX_STEPS), reference)}
             for tol, attribution_tol in ADAPTIVE_SETTINGS]
    meeting = [row for row in sweep if row["median_gap"] <= GAP]
    return {"chosen": min(meeting, key=lambda row: row["mean_evaluations"]) if meeting else None, "sweep": sweep}


def evaluations_for_gap(args: argparse.Namespace, checkpoint: Checkpoint, graphs: list[Data], chunk: int) -> dict:
    ig = IntegratedGradients(checkpoint, device=args.device, dtype=torch.float64, max_atoms_per_pass=chunk)
    gap_graphs = graphs[: args.gap_molecules]
    exact = ig.attribute(gap_graphs, target=args.target, method=REFERENCE_METHOD, n_steps=REFERENCE_STEPS)
    reference = [attribution_vector(a) for a in exact]
    fixed = {method: fixed_sweep(ig, gap_graphs, args.target, method, reference) for method in ("gauss_legendre", "riemann_middle")}
    adaptive = adaptive_sweep(ig, gap_graphs, args.target, reference)
    n_gl, chosen = fixed["gauss_legendre"]["n_steps"], adaptive["chosen"]
    ratio = chosen["mean_evaluations"] / n_gl if chosen and n_gl else None
    gaps = np.array([a.relative_gap for a in exact])
    return {"molecules": len(gap_graphs), "reference": {"method": REFERENCE_METHOD, "n_steps": REFERENCE_STEPS,
                                                        "median_gap": float(np.nanmedian(gaps))},
            "fixed": fixed, "adaptive": adaptive, "adaptive_over_gauss_legendre": ratio}


def print_evaluations(r: dict) -> None:
    ref = r["reference"]
    print(f"## Gradient evaluations for a {GAP:.0%} median completeness gap: {r['molecules']} molecules, float64\n")
    print(f"Attribution error: ‖A − A_ref‖₂ / ‖A_ref‖₂ over all atom and pair features of a molecule, A_ref from "
          f"{ref['method']} with {ref['n_steps']} nodes (its median gap {ref['median_gap']:.4%}).\n")
    print("| rule | setting | mean evaluations/molecule | median gap | 90th pct gap | molecules with gap ≤ 1% "
          "| median attribution error | 90th pct error |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    rows = [(name, f"n {row['n_steps']}", row) for name, f in r["fixed"].items() for row in f["sweep"]]
    rows += [("adaptive", f"tolerance {row['tolerance']}, attribution {row['attribution_tolerance']}", row)
             for row in r["adaptive"]["sweep"]]
    for name, setting, row in rows:
        print(f"| {name} | {setting} | {row['mean_evaluations']:.1f} | {row['median_gap']:.2%} | {row['p90_gap']:.2%} | "
              f"{row['within_gap']:.0%} | {row['median_error']:.4f} | {row['p90_error']:.4f} |")
    undefined = max(row["undefined_gaps"] for _, _, row in rows)
    if undefined:
        print(f"\n{undefined} molecule(s) with |F(input) - F(baseline)| < 1e-6 have no relative gap and are left out.")
    print()
    for name, f in r["fixed"].items():
        print(f"{name}: smallest n with median gap ≤ 1%: {f['n_steps'] or '> 512'}")
    chosen, ratio = r["adaptive"]["chosen"], r["adaptive_over_gauss_legendre"]
    if chosen is None:
        print("adaptive: no setting reaches a median gap ≤ 1%")
    else:
        print(f"adaptive: fewest evaluations with median gap ≤ 1%: tolerance {chosen['tolerance']}, attribution "
              f"{chosen['attribution_tolerance']}, {chosen['mean_evaluations']:.1f} mean evaluations/molecule"
              + (f" ({ratio:.2f}× Gauss–Legendre's n)" if ratio else "") + f", attribution error {chosen['median_error']:.4f}")
    gl = r["fixed"]["gauss_legendre"]["sweep"][-1]
    as_good = [row for row in r["adaptive"]["sweep"] if row["median_error"] <= gl["median_error"]]
    if as_good:
        best = min(as_good, key=lambda row: row["mean_evaluations"])
        print(f"adaptive with attribution error ≤ Gauss–Legendre n={gl['n_steps']}'s ({gl['median_error']:.4f}): fewest "
              f"evaluations {best['mean_evaluations']:.1f} (tolerance {best['tolerance']}, attribution "
              f"{best['attribution_tolerance']}; {best['mean_evaluations'] / gl['n_steps']:.2f}× its n)")


# -- main -------------------------------------------------------------------------------------

def chunk_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--molecules", type=int, default=1000, help="NCI molecules for throughput and memory")
    parser.add_argument("--target", type=int, default=2, help="task index (2 = NR-AhR)")
    parser.add_argument("--chunks", type=chunk_list, default=[512, 1024, 4096], help="max_atoms_per_pass values timed")
    parser.add_argument("--pyg-molecules", type=int, default=100, help="molecules timed for the PyG explainer")
    parser.add_argument("--memory-chunks", type=chunk_list, default=[1024, 4096, 16384, 65536])
    parser.add_argument("--gap-molecules", type=int, default=200, help="molecules of the evaluations-per-gap study")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--device", type=torch.device, default=torch.device("cpu"),
                        help="cpu (default) or cuda: every route and part runs there")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per route (best kept)")
    parser.add_argument("--parts", type=lambda text: text.split(","), default=list(PARTS),
                        help=f"comma-separated parts to run (default: {','.join(PARTS)})")
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--adaptive-memory-child", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: CUDA is not available on this machine")
    if args.memory_child is not None:
        memory_child(args)
        return
    if args.adaptive_memory_child is not None:
        adaptive_memory_child(args)
        return
    checkpoint = molattr.load_model(MODEL)
    graphs = nci_graphs(checkpoint.spec, args.molecules)
    info = machine(args.threads, args.device)
    gpu = f", GPU {info['gpu']}" if info["gpu"] else ""
    print(f"machine: Python {info['python']}, torch {info['torch']}, {info['threads']} thread(s), {info['cpu']}{gpu}; "
          f"routes on {info['device']}\n")
    settings = {key: str(value) if key == "device" else value for key, value in vars(args).items()
                if key not in ("json", "memory_child", "adaptive_memory_child")}
    results: dict = {"machine": info, "model": MODEL, "n_steps": N_STEPS, "settings": settings, "molecules": len(graphs)}
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown --parts {sorted(unknown)} (known: {', '.join(PARTS)})")
    best_chunk = max(args.chunks)
    if "throughput" in args.parts:
        results["throughput"] = throughput(args, checkpoint, graphs)
        print_throughput(results["throughput"], len(graphs), args.repeats)
        best_chunk = results["throughput"]["best_chunk"]
    if "memory" in args.parts:
        results["memory"] = peak_memory(args, checkpoint, graphs)
        print_memory(results["memory"], len(graphs), args.device)
    if "evaluations" in args.parts:
        results["evaluations_for_gap"] = evaluations_for_gap(args, checkpoint, graphs, best_chunk)
        print_evaluations(results["evaluations_for_gap"])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
