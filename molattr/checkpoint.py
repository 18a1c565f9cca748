"""Checkpoints: ``<folder>/model.safetensors`` + ``config.json`` (+ ``README.md`` model card).

Loading never unpickles: weights are read with safetensors, settings from JSON, and both are
checked against each other and against this molattr's featurization before a model is built.
"""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdkit
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from molattr import jsonio
from molattr.errors import CheckpointError
from molattr.featurize import FeatureSpec
from molattr.featurize.spec import spec_dict_hash
from molattr.nn import WeaveConfig, WeaveModel
from molattr.resources import models_dir

FORMAT = "molattr-checkpoint"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
#: What a checkpoint folder holds: weights, config, the model card and the training history.
CHECKPOINT_FILES = (WEIGHTS, CONFIG, "README.md", "history.json")
_REQUIRED = {"format": str, "format_version": int, "architecture": dict, "tasks": list,
             "task_type": str, "featurization": dict, "featurization_hash": str}


@dataclass
class Checkpoint:
    """A loaded model with what it needs to be run correctly.

    Attributes:
        model: the weave network, in eval mode.
        spec: the featurization it was trained on (molecules are featurized with it).
        tasks: task names, one per output column.
        task_type: ``"classification"`` (outputs are logits) or ``"regression"``.
        config: the checkpoint's ``config.json`` (architecture, training, metrics).
        path: the checkpoint folder.
    """

    model: WeaveModel
    spec: FeatureSpec
    tasks: list[str]
    task_type: str
    config: dict[str, Any]
    path: Path

    @property
    def name(self) -> str:
        """The checkpoint's name (its folder's name when the config has none)."""
        return str(self.config.get("name", self.path.name))


def save_checkpoint(
    folder: str | Path,
    model: WeaveModel,
    spec: FeatureSpec,
    tasks: list[str],
    task_type: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write weights and config; ``extra`` (data, split, training, metrics, name) goes into the JSON."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS))
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **(extra or {}),
        "architecture": model.config.to_dict(),
        "tasks": list(tasks),
        "task_type": task_type,
        "featurization": spec.to_dict(),
        "featurization_hash": spec.hash,
    }
    (folder / CONFIG).write_text(jsonio.dumps(config), encoding="utf-8")
    return folder


def resolve(name_or_path: str | Path) -> Path:
    """A checkpoint folder: an existing path, or the name of a model shipped in ``models/``."""
    path = Path(name_or_path)
    shipped = models_dir() / str(name_or_path)
    if path.is_dir():
        if shipped.is_dir() and path.resolve() != shipped.resolve():
            warnings.warn(f"{name_or_path!r} is both a folder here and a shipped model: the folder {path.resolve()} "
                          "is used", stacklevel=2)
        return path
    if shipped.is_dir():
        return shipped
    available = sorted(p.name for p in models_dir().glob("*") if (p / CONFIG).is_file()) if models_dir().is_dir() else []
    raise CheckpointError(
        f"{name_or_path}: no such checkpoint folder or shipped model (shipped: {', '.join(available) or 'none'})"
    )


def load_checkpoint(name_or_path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load and validate a checkpoint; the model is returned in eval mode.

    Raises:
        CheckpointError: a missing file, malformed JSON or weights, a featurization spec whose
            hash does not match (tampered) or that this molattr cannot produce, or weights that
            do not fit the architecture.
    """
    folder = resolve(name_or_path)
    config = _read_config(folder)
    spec = _checked_spec(folder, config)
    try:
        arch = WeaveConfig.from_dict(config["architecture"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{folder / CONFIG}: invalid architecture ({exc})") from exc
    if config["architecture"].get("name") != "weave":
        raise CheckpointError(f"{folder / CONFIG}: unknown architecture {config['architecture'].get('name')!r}")
    if (arch.n_atom_features, arch.n_pair_features) != (spec.n_atom_features, spec.n_pair_features):
        raise CheckpointError(
            f"{folder / CONFIG}: architecture expects {arch.n_atom_features}/{arch.n_pair_features} features "
            f"but the featurization gives {spec.n_atom_features}/{spec.n_pair_features}"
        )
    if arch.n_tasks != len(config["tasks"]):
        raise CheckpointError(f"{folder / CONFIG}: {len(config['tasks'])} task names for {arch.n_tasks} outputs")
    trained_with = config.get("training", {}).get("rdkit")
    if trained_with and trained_with != rdkit.__version__:
        warnings.warn(f"{folder.name} was trained with RDKit {trained_with}; this is RDKit {rdkit.__version__}, whose "
                      "partial charges, pharmacophore rules or perception may give other features", stacklevel=2)
    model = WeaveModel(arch)
    _load_weights(folder, model)
    model.to(device).eval()
    return Checkpoint(model, spec, list(config["tasks"]), config["task_type"], config, folder)


#: A model as the script API takes it: a loaded checkpoint, a shipped name or a checkpoint folder.
Model = Checkpoint | str | Path


def as_checkpoint(model: Model) -> Checkpoint:
    """``model`` itself when loaded, else :func:`load_checkpoint` of the name or folder."""
    return model if isinstance(model, Checkpoint) else load_checkpoint(model)


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{folder}: missing {CONFIG}")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object (got {type(config).__name__})")
    for key, kind in _REQUIRED.items():
        if not isinstance(config.get(key), kind):
            raise CheckpointError(f"{path}: field {key!r} missing or not a {kind.__name__}")
    if config["format"] != FORMAT or type(config["format_version"]) is not int or config["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: format {config['format']!r} v{config['format_version']} is not {FORMAT!r} v{FORMAT_VERSION}"
        )
    if config["task_type"] not in ("classification", "regression"):
        raise CheckpointError(f"{path}: task_type must be classification or regression (got {config['task_type']!r})")
    if not all(isinstance(t, str) and t for t in config["tasks"]) or len(set(config["tasks"])) != len(config["tasks"]):
        raise CheckpointError(f"{path}: tasks must be distinct non-empty names (got {config['tasks']!r})")
    return config


def _checked_spec(folder: Path, config: dict[str, Any]) -> FeatureSpec:
    stored = config["featurization"]
    if spec_dict_hash(stored) != config["featurization_hash"]:
        raise CheckpointError(
            f"{folder / CONFIG}: featurization spec does not match its hash "
            f"{config['featurization_hash']!r} (edited or corrupted)"
        )
    try:
        spec = FeatureSpec.from_dict(stored)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{folder / CONFIG}: featurization this molattr cannot reproduce ({exc})") from exc
    if spec.hash != config["featurization_hash"]:
        raise CheckpointError(f"{folder / CONFIG}: featurization hash differs from this molattr's for {spec.name}")
    return spec


def _load_weights(folder: Path, model: WeaveModel) -> None:
    path = folder / WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"{folder}: missing {WEIGHTS}")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a valid safetensors file ({exc})") from exc
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{path}: weights do not fit the architecture (missing {missing[:3]}, unexpected {unexpected[:3]}, "
            f"wrong shape {wrong[:3]})"
        )
    bad = sorted(k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all())
    if bad:
        raise CheckpointError(f"{path}: non-finite weights (NaN or inf) in {bad[:3]}")
    model.load_state_dict(state)
