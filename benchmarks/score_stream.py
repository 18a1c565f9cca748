"""Streaming batch scoring at scale: molecules/s and peak memory of ``molattr score`` as the file grows.

The input files repeat real MoleculeNet molecules (the distinct SMILES of Tox21, HIV, BBBP,
Lipophilicity and BACE, in shuffled copies cut at each ``--sizes`` value, so that every size
draws from the same mix of molecules), with the rows numbered so ids stay unique. Each run is a fresh process running ``molattr score FILE -o out.csv`` exactly as a
user would, with or without ``--attribute NR-AhR`` (``--method``/``--steps``); its peak resident
memory is the process's own ``VmHWM`` read at exit, so a flat column means memory does not grow
with the file. Rates are given for the whole process (start-up included) and for the scoring
loop alone (as ``molattr score`` reports it).

    python benchmarks/score_stream.py --sizes 10000 50000 100000 --attribute-sizes 10000 100000
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from molattr.data.moleculenet import locate, recipe

SOURCES = ("tox21", "hiv", "bbbp", "lipo", "bace")
#: Runs ``molattr score`` in this process and prints its peak RSS (VmHWM, kB) on exit.
_RUNNER = """
import atexit, sys
def report():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            sys.stderr.write("PEAK_KB " + line.split()[1] + "\\n")
atexit.register(report)
from molattr.cli import main
sys.argv = ["molattr"] + sys.argv[1:]
main()
"""


def molecule_pool() -> list[str]:
    """Every distinct SMILES of the source data sets."""
    smiles: list[str] = []
    for name in SOURCES:
        frame = pd.read_csv(locate(name))
        smiles += frame[recipe(name).smiles_column].astype(str).tolist()
    return list(dict.fromkeys(smiles))


def write_input(pool: list[str], size: int, path: Path, seed: int = 0) -> None:
    """Shuffled copies of the whole pool, cut at ``size``: every file size draws from the same mix."""
    rng = random.Random(seed)
    rows: list[str] = []
    while len(rows) < size:
        rows += rng.sample(pool, len(pool))[: size - len(rows)]
    path.write_text("".join(f"{s} mol{k}\n" for k, s in enumerate(rows)))


def run(path: Path, out: Path, extra: list[str], threads: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    command = [sys.executable, "-c", _RUNNER, "score", str(path), "-o", str(out), "--no-progress", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"molattr score failed:\n{done.stderr}")
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    rows = sum(1 for _ in open(out)) - 1
    summary = [line for line in done.stderr.splitlines() if " rows (" in line][-1]
    in_run = float(re.search(r"\(([0-9.]+) molecules/s\)", summary).group(1))
    return {"rows": rows, "seconds": seconds, "molecules_per_s": rows / seconds, "scoring_molecules_per_s": in_run,
            "peak_mib": peak / 1024, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000, 100000])
    parser.add_argument("--attribute-sizes", type=int, nargs="*", default=[10000, 100000],
                        help="file sizes also run with --attribute NR-AhR")
    parser.add_argument("--method", default="gauss_legendre")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads of each run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    pool = molecule_pool()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sorted(set(args.sizes) | set(args.attribute_sizes)):
            path = Path(folder) / f"in_{size}.smi"
            write_input(pool, size, path)
            variants = [("predictions", [])] if size in args.sizes else []
            if size in args.attribute_sizes:
                variants.append((f"+ IG NR-AhR ({args.method}, {args.steps})",
                                 ["--attribute", "NR-AhR", "--method", args.method, "--steps", str(args.steps)]))
            for name, extra in variants:
                result = run(path, Path(folder) / "out.csv", extra + ["--workers", str(args.workers)], args.threads)
                result.update(size=size, variant=name)
                results.append(result)
                print(f"{name:40s} {size:7d} rows {result['seconds']:8.1f} s {result['molecules_per_s']:8.1f} mol/s "
                      f"peak {result['peak_mib']:7.1f} MiB | {result['summary']}", file=sys.stderr, flush=True)
    print(f"machine: Python {platform.python_version()}, torch {torch.__version__}, {args.threads} thread(s), "
          f"{args.workers} featurization worker(s), {os.cpu_count()} CPUs; {len(pool)} distinct MoleculeNet SMILES\n")
    print("| scoring | rows | wall seconds (with start-up) | molecules/s, wall | molecules/s, scoring loop | peak memory (MiB) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['variant']} | {r['size']} | {r['seconds']:.1f} | {r['molecules_per_s']:.1f} | "
              f"{r['scoring_molecules_per_s']:.1f} | {r['peak_mib']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
