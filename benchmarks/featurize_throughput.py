"""Featurization throughput and peak memory (the featurization benchmark of docs/benchmarks.md).

Throughput: every molecule of RDKit's ``NCI/first_5K.smi`` (parse + weave featurization, full
preset) with pairs to graph distance 2 (N2) and with all pairs (N∞); molecules/s over the whole
file, best of ``--repeats`` runs. Peak memory: ``tracemalloc`` peak (NumPy and Python
allocations) while featurizing one molecule, for the largest NCI molecules and for synthetic
poly-alanine peptides of growing length.

Run: ``python benchmarks/featurize_throughput.py [--repeats 3] [--json results.json]``
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc

import torch
from rdkit import RDConfig

from molattr.chem import parse_smiles
from molattr.errors import InvalidMoleculeError
from molattr.featurize import FeatureSpec, featurize_parsed

SPECS = {"N2": FeatureSpec(preset="full", max_distance=2), "Ninf": FeatureSpec(preset="full", max_distance=None)}


def nci_smiles() -> list[str]:
    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5K.smi")
    with open(path) as handle:
        return [line.split()[0] for line in handle if line.strip()]


def throughput(smiles: list[str], spec: FeatureSpec, repeats: int) -> dict:
    """Best-of-``repeats`` parse + featurize rate over the whole list."""
    best, n_ok, n_pairs = float("inf"), 0, 0
    for _ in range(repeats):
        n_ok = n_pairs = 0
        start = time.perf_counter()
        for text in smiles:
            try:
                graph = featurize_parsed(parse_smiles(text, spec.fragments), spec)
            except InvalidMoleculeError:
                continue
            n_ok += 1
            n_pairs += graph.edge_index.shape[1]
        best = min(best, time.perf_counter() - start)
    return {"molecules": len(smiles), "featurized": n_ok, "seconds": best, "mol_per_s": len(smiles) / best,
            "mean_pairs": n_pairs / max(n_ok, 1)}


def peak_memory(smiles: str, spec: FeatureSpec) -> dict:
    """Peak traced allocation while featurizing one molecule, and the size of the result."""
    parsed = parse_smiles(smiles, spec.fragments)
    tracemalloc.start()
    graph = featurize_parsed(parsed, spec)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result_bytes = sum(t.numel() * t.element_size() for t in (graph.x, graph.edge_index, graph.edge_attr, graph.pair_distance))
    return {"atoms": graph.num_nodes, "pairs": graph.edge_index.shape[1], "peak_mib": peak / 2**20,
            "result_mib": result_bytes / 2**20}


def peptide(n_residues: int) -> str:
    """Poly-alanine SMILES with ``n_residues`` residues (5 heavy atoms each, plus a water's O)."""
    return "N" + "C(C)C(=O)N" * (n_residues - 1) + "C(C)C(=O)O"


def largest(smiles: list[str], k: int) -> list[tuple[str, str]]:
    """The ``k`` molecules with the most atoms after parsing (largest fragment kept)."""
    sized = []
    for text in smiles:
        try:
            sized.append((parse_smiles(text).mol.GetNumAtoms(), text))
        except InvalidMoleculeError:
            continue
    return [(f"NCI #{rank + 1} largest", text) for rank, (_, text) in enumerate(sorted(sized, reverse=True)[:k])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    smiles = nci_smiles()
    results: dict = {"machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
                                 "cores": os.cpu_count()}, "throughput": {}, "memory": []}

    print(f"## Throughput: {len(smiles)} NCI molecules, parse + full featurization, best of {args.repeats}\n")
    print("| pairs kept | molecules/s | seconds | featurized | mean pairs/molecule |")
    print("|---|---:|---:|---:|---:|")
    for name, spec in SPECS.items():
        r = throughput(smiles, spec, args.repeats)
        results["throughput"][name] = r
        print(f"| {name} | {r['mol_per_s']:.0f} | {r['seconds']:.2f} | {r['featurized']}/{r['molecules']} | {r['mean_pairs']:.1f} |")

    print("\n## Peak memory while featurizing one molecule (tracemalloc)\n")
    print("| molecule | atoms | pairs kept | peak MiB | result MiB |")
    print("|---|---:|---:|---:|---:|")
    cases = largest(smiles, 3) + [(f"poly-Ala {n}", peptide(n)) for n in (50, 100, 300)]
    for label, text in cases:
        for name, spec in SPECS.items():
            r = {"molecule": label, "pairs_kept": name, **peak_memory(text, spec)}
            results["memory"].append(r)
            print(f"| {label}, {name} | {r['atoms']} | {r['pairs']} | {r['peak_mib']:.2f} | {r['result_mib']:.2f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
