"""Atomic checkpoint files.

A checkpoint is written to a temporary file in the same folder, flushed and fsync'ed, then renamed over the
old one, so an interrupted write (Ctrl-C, a full disk) never leaves a truncated or missing checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import torch

from scenegen.core.io import atomic_output, atomic_write_bytes, atomic_write_text  # noqa: F401 (re-exported)
from scenegen.core.errors import InputError


def save_checkpoint(path: Path, state: dict) -> None:
    """torch.save ``state`` to ``path`` atomically (the previous checkpoint stays intact on any failure)."""
    with atomic_output(path, "checkpoint") as f:
        torch.save(state, f)


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError("checkpoint not found", file=path)
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # corrupt or foreign file
        raise InputError(f"not a readable scenegen checkpoint ({type(e).__name__})", file=path) from e
