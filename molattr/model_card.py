"""Model cards: a checkpoint's README.md written from its config.json (and sibling runs)."""
from __future__ import annotations

import json
import math
from pathlib import Path

from molattr import jsonio
from molattr.checkpoint import CONFIG
from molattr.errors import CheckpointError


def _fmt(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _repeated_note(split: dict) -> str:
    """A sentence on validation and test molecules that are also in train (none where the config does not say)."""
    repeated = split.get("repeated_in_train")
    if not repeated or not any(repeated.values()):
        return ""
    return (f" In the `{split['kind']}` split {repeated['valid']} validation and {repeated['test']} test molecules are also "
            "training molecules (repeated rows, or a salt and its parent, sometimes labelled differently)"
            + (": its test metrics are not all on new molecules." if repeated["test"] else "; its test molecules are all new."))


def _rdkit(train: dict) -> str:
    """", RDKit <version>" where the config records it (checkpoints trained before 2026-12-02 do not)."""
    return f", RDKit {train['rdkit']}" if train.get("rdkit") else ""


def _split_summary(config: dict) -> dict:
    test = config["metrics"].get("test", {})
    return {
        "kind": config["split"]["kind"], "sizes": config["split"]["sizes"], "best_epoch": config["training"]["best_epoch"],
        "test": test, "valid": config["metrics"].get("valid", {}),
    }


#: Training entries that describe one run's outcome, not its settings.
_RUN_OUTCOME = ("best_epoch", "epochs_run", "seconds", "torch", "rdkit", "python", "monitored")


def _settings(config: dict) -> dict:
    """What two runs of "the same model on another split" must share."""
    return {
        "tasks": config["tasks"], "task_type": config["task_type"], "architecture": config["architecture"],
        "featurization_hash": config["featurization_hash"],
        "training": {k: v for k, v in config["training"].items() if k not in _RUN_OUTCOME},
        "split": {k: config["split"][k] for k in ("fractions", "seed")},
        "data": config.get("data", {}).get("table_sha256", config.get("data", {}).get("sha256")),  # the same table
    }


def record_other_runs(folder: Path, runs: list[Path]) -> dict:
    """Store each run's split and test metrics in ``folder``'s config under ``metrics_by_split``,
    next to the runs recorded before (a run of a split kind already there replaces it).

    A run is another checkpoint trained with the same settings on another split (e.g. scaffold).

    Raises:
        CheckpointError: a config that cannot be read, or a run whose tasks, architecture,
            featurization, training settings or split seed differ, or of the checkpoint's own split kind.
    """
    config = _read_config(folder)
    own = config["split"]["kind"]
    by_split = {**config.get("metrics_by_split", {}), own: _split_summary(config)}
    for run in runs:
        other = _read_config(run)
        try:
            mine, theirs = _settings(config), _settings(other)
        except KeyError as missing:
            raise CheckpointError(f"{run}: its config lacks {missing}; a run must be a checkpoint of molattr train") from None
        differing = sorted(k for k in mine if mine[k] != theirs[k])
        if differing:
            raise CheckpointError(f"{run}: its {', '.join(differing)} differ from {folder}'s; a run must be the same "
                                  "model trained with the same settings on another split")
        if other["split"]["kind"] == own:
            raise CheckpointError(f"{run}: a {own} split, the checkpoint's own; a run must be trained on another split")
        by_split[other["split"]["kind"]] = {**_split_summary(other), "checkpoint": run.name}
    config["metrics_by_split"] = by_split
    (folder / CONFIG).write_text(jsonio.dumps(config), encoding="utf-8")
    return config


def _read_config(folder: Path) -> dict:
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
        _split_summary(config)
        return config
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise CheckpointError(f"{folder}: no readable checkpoint config with split, training and metrics ({error})") from None


def _schedule(train: dict) -> str:
    """How the learning rate moved (checkpoints from before schedules existed had a constant one)."""
    return f" with cosine decay to 0 over {train['epochs']} epochs" if train.get("lr_schedule") == "cosine" else ""


def _monitored(train: dict) -> str:
    """What the kept epoch went by (checkpoints from before the fallback record only ``monitor``)."""
    return train.get("monitored", train.get("monitor", "metric"))


def render_card(config: dict) -> str:
    """Markdown model card."""
    tasks = config["tasks"]
    classification = config["task_type"] == "classification"
    metric, mean_key = ("ROC-AUC", "mean_roc_auc") if classification else ("RMSE", "mean_rmse")
    per_task_key = "roc_auc" if classification else "rmse"
    by_split = config.get("metrics_by_split") or {config["split"]["kind"]: _split_summary(config)}
    spec = config["featurization"]
    arch = config["architecture"]
    data = config["data"]
    train = config["training"]
    lines = [
        f"# {config['name']}: {config['model_family']} weave network, {config['task_type']}",
        "",
        f"A weave graph-convolution network (Kearnes et al. 2016) with {arch['n_layers']} weave module(s) over atom "
        f"pairs up to graph distance {spec['max_distance'] or 'unlimited'}, trained with molattr on "
        f"`{data['file']}` ({len(tasks)} task{'s' if len(tasks) > 1 else ''}).",
        "",
        *([config["description"], ""] if config.get("description") else []),
        "```python",
        "import molattr",
        f"model = molattr.load_model({config['name']!r})",
        "molattr.predict(model, [\"CC(=O)Oc1ccccc1C(=O)O\"])",
        "```",
        "",
        f"Command line: `molattr predict --model {config['name']} molecules.smi`.",
        "",
        "## Measured test metrics",
        "",
        f"Each split is a separate training run with the same settings and seed {config['split']['seed']}; "
        f"the shipped weights are the `{config['split']['kind']}` run. Fractions train/valid/test "
        f"{'/'.join(str(f) for f in config['split']['fractions'])}; early stopping on the validation "
        f"{'loss' if _monitored(train) == 'loss' else metric}.{_repeated_note(config['split'])}",
        "",
        "| split | train/valid/test molecules | best epoch | valid mean " + metric + " | test mean " + metric
        + (" | test R² |" if not classification else " |"),
        "|---|---|---|---|---|" + ("---|" if not classification else ""),
    ]
    for kind, summary in by_split.items():
        sizes = summary["sizes"]
        row = (f"| {kind} | {sizes['train']}/{sizes['valid']}/{sizes['test']} | {summary['best_epoch']} | "
               f"{_fmt(summary['valid'].get(mean_key))} | **{_fmt(summary['test'].get(mean_key))}** |")
        if not classification:
            row += f" {_fmt(summary['test'].get('mean_r2'))} |"
        lines.append(row)
    lines += ["", f"Per-task test {metric}:", "", "| task | " + " | ".join(by_split) + " |",
              "|---|" + "---|" * len(by_split)]
    for task in tasks:
        lines.append(f"| {task} | " + " | ".join(_fmt(s["test"].get(per_task_key, {}).get(task)) for s in by_split.values()) + " |")
    skipped = ", ".join(f"{n} {reason}" for reason, n in data["skipped"].items()) or "none"
    lines += [
        "",
        "## Data",
        "",
        f"- File: `{data['file']}` (sha256 `{data['sha256'][:16]}…`), {data['rows']} rows, {data['used']} used; "
        f"skipped: {skipped}.",
        "- Salts and mixtures: the largest organic fragment is kept (RDKit `LargestFragmentChooser`).",
        "- Missing labels are masked in the loss.",
        "",
        "## Featurization",
        "",
        f"- Preset `{spec['preset']}`: {len(spec['atom_columns'])} atom / {len(spec['pair_columns'])} pair features; "
        f"pairs up to distance {spec['max_distance'] or 'unlimited'}; spec hash `{config['featurization_hash']}` "
        "(checked on load).",
        "",
        "## Architecture and training",
        "",
        f"- {arch['n_layers']} weave modules, width {arch['hidden']}; per-atom dense {arch['readout']} + batch norm; "
        f"{arch['gather']} gather; MLP {arch['mlp_hidden']} with dropout {arch['dropout']}; {arch['n_tasks']} outputs "
        f"({'logits' if classification else 'values in label units'}).",
        f"- Adam, learning rate {train['learning_rate']}{_schedule(train)}, weight decay {train['weight_decay']}, "
        f"batch {train['batch_size']}, up to {train['epochs']} epochs, patience {train['patience']}; stopped after "
        f"{train['epochs_run']} epochs ({train['seconds']} s, torch {train['torch']}{_rdkit(train)}, CPU); kept the epoch with the "
        f"best validation {'loss' if _monitored(train) == 'loss' else 'metric'}"
        + (" (the validation metric was undefined)" if _monitored(train) != train.get("monitor", "metric") else "") + ".",
    ]
    if classification and train.get("balance_classes"):
        lines.append("- Positive examples are up-weighted per task (negatives/positives), so probabilities rank "
                     "well but are not calibrated: read them as scores, not frequencies.")
    lines += [
        "",
        "## Intended use and limits",
        "",
        "- Research use: ranking and explaining molecules with molattr's attribution tools. Not for safety or "
        "regulatory decisions.",
        f"- Applicability: molecules like those in `{data['file']}`; predictions far from that chemistry are unreliable.",
        "",
    ]
    return "\n".join(lines)


def write_model_card(folder: str | Path, runs: list[Path] | None = None) -> Path:
    """Record other split runs (if any) and write ``folder/README.md``."""
    folder = Path(folder)
    config = record_other_runs(folder, runs or [])
    target = folder / "README.md"
    target.write_text(render_card(config), encoding="utf-8")
    return target
