"""The progress file of a scoring run: what a re-run with ``--resume`` needs to continue it."""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from molattr.errors import InputFileError

VERSION = 1


def progress_path(output: Path) -> Path:
    """``<output>.progress.json``, beside the output."""
    return output.with_name(output.name + ".progress.json")


def fingerprint(settings: dict) -> str:
    """A hash of everything that decides the output (model, options, input identity)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Progress:
    """Rows done, the output position after them, and the status counts so far."""

    fingerprint: str
    rows_done: int = 0
    position: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    version: int = VERSION

    def save(self, path: Path) -> None:
        """Atomically replace the progress file (write a temporary file, fsync, rename)."""
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path, expected: str) -> "Progress":
        """Read a progress file and check that it belongs to this run.

        Raises:
            InputFileError: unreadable, of another version, or written by a run with other
                settings or another input (fingerprint mismatch).
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            progress = cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise InputFileError(f"{path}: unreadable progress file ({exc}); delete it to start over") from exc
        if progress.version != VERSION or progress.fingerprint != expected:
            raise InputFileError(
                f"{path}: written by a run with other settings, model or input; resume with the same command, "
                "or delete it (and the output) to start over"
            )
        return progress

    @property
    def counter(self) -> Counter:
        return Counter(self.counts)
