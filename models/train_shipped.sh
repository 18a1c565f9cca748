#!/usr/bin/env bash
# Rebuild the shipped checkpoints with molattr's own CLI (needs the MoleculeNet files; see
# datasets/moleculenet.json). Each model is trained on a random split (the shipped weights) and,
# with the same settings, on a scaffold split whose metrics its model card also reports.
# Usage: bash models/train_shipped.sh [w2n2-tox21|w1n2-tox21|w2n2-delaney|w1n2-simple-tox21|w2n2-simple-tox21 ...]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
TOX21="Tox21 (12 nuclear-receptor and stress-response assays); outputs are logits, molattr reports sigmoid probabilities."
ESOL="Delaney/ESOL: the task 'logp' holds measured log10 aqueous solubility in mol/L, not a partition coefficient (molattr's MoleculeNet recipe names the column logp); outputs are in those units."
build() {  # name layers dataset description [extra train options]
  local name=$1 layers=$2 dataset=$3 description=$4
  shift 4
  molattr train --dataset "$dataset" --layers "$layers" --split random --out "models/$name" --overwrite --description "$description" "$@"
  molattr train --dataset "$dataset" --layers "$layers" --split scaffold --out "$RUNS/$name-scaffold" --overwrite --description "$description" "$@"
  molattr card "models/$name" --run "$RUNS/$name-scaffold"
}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(w2n2-tox21 w1n2-tox21 w2n2-delaney w1n2-simple-tox21 w2n2-simple-tox21)
for name in "${names[@]}"; do
  case $name in
    w2n2-tox21) build w2n2-tox21 2 tox21 "$TOX21" ;;
    w1n2-tox21) build w1n2-tox21 1 tox21 "$TOX21" ;;
    # 1128 molecules: ~18 batches an epoch, so it gets more epochs and patience
    w2n2-delaney) build w2n2-delaney 2 delaney "$ESOL" --epochs 300 --patience 50 ;;
    # the paper's featurization (atom type; bond type and graph distance), for its dead-feature study
    w1n2-simple-tox21) build w1n2-simple-tox21 1 tox21 "$TOX21" --preset simple ;;
    w2n2-simple-tox21) build w2n2-simple-tox21 2 tox21 "$TOX21" --preset simple ;;
    *) echo "unknown model $name" >&2; exit 2 ;;
  esac
done
