"""Where the shipped models and dataset recipes live (installed wheel or source checkout)."""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _resource(installed: str, checkout: str) -> Path:
    """The folder inside an installed wheel, else the one at the top of a source checkout."""
    inside = _PACKAGE / installed
    return inside if inside.is_dir() else _PACKAGE.parent / checkout


def models_dir() -> Path:
    """Folder of shipped checkpoints (``models/`` in the repository)."""
    return _resource("_shipped_models", "models")


def datasets_dir() -> Path:
    """Folder of dataset recipes and example files (``datasets/`` in the repository)."""
    return _resource("_datasets", "datasets")
