"""What camera-path authoring needs to know about a trained run, without loading its field.

A run's ``scene.json`` (written by ``scenegen train``) holds the dataset's world-space training cameras, its
content box and, where the dataset says so, its up axis. From those: the up axis (gravity estimate), the floor
height under the cameras and the region the cameras saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenegen.data.loader import estimate_up_from_c2w, load_dataset
from scenegen.core.errors import InputError


@dataclass
class RunScene:
    """World-space facts about a trained run (units: the dataset's world units)."""

    run_dir: Path
    train_c2w: np.ndarray
    """(M, 4, 4) training cameras, OpenGL camera-to-world."""
    up: np.ndarray
    """(3,) unit up vector: the dataset's, else the gravity estimate from the cameras, else +Z."""
    aabb: np.ndarray | None
    """(2, 3) content box (min, max), or None."""

    @property
    def center(self) -> np.ndarray:
        """(3,) middle of the content box, else the mean training camera position."""
        if self.aabb is not None:
            return self.aabb.mean(0)
        return self.train_c2w[:, :3, 3].mean(0)


def read_run_scene(run_dir: str | Path) -> RunScene:
    """Read ``run_dir/scene.json`` (raises InputError naming the file and field)."""
    import json

    run_dir = Path(run_dir)
    p = run_dir / "scene.json"
    try:
        info = json.loads(p.read_text())
    except FileNotFoundError:
        raise InputError("not a scenegen run (scene.json missing)", file=p) from None
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"unreadable: {e}", file=p) from None
    c2w = info.get("train_c2w")
    if not c2w:
        c2w = _train_c2w_from_dataset(info, p)
    c2w = np.asarray(c2w, dtype=np.float64)
    if c2w.ndim != 3 or c2w.shape[1:] not in ((3, 4), (4, 4)) or not np.isfinite(c2w).all():
        raise InputError("expected finite 3x4 camera matrices", file=p, field="train_c2w")
    full = np.tile(np.eye(4), (len(c2w), 1, 1))
    full[:, :3, :] = c2w[:, :3, :]
    up = info.get("up") or estimate_up_from_c2w(full) or [0.0, 0.0, 1.0]
    up = np.asarray(up, dtype=np.float64)
    up = up / max(np.linalg.norm(up), 1e-12)
    aabb = info.get("aabb_world")
    aabb = np.asarray(aabb, dtype=np.float64).reshape(2, 3) if aabb is not None else None
    return RunScene(run_dir, full, up, aabb)


def _train_c2w_from_dataset(info: dict, file: Path) -> list:
    """Runs written before scene.json carried the cameras: read them from the dataset (metadata only)."""
    data = info.get("data")
    if not data or not Path(data).exists():
        raise InputError("the run lists no training cameras and its dataset is not found", file=file, field="data")
    ds = load_dataset(data, check_images=False)
    return [ds.cameras.c2w[i].numpy().tolist() for i in ds.split("train")]
