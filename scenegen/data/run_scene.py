"""``RunScene``: what a trained run records about its dataset, in ``RUN/scene.json`` (and in each checkpoint).

One type writes and reads it. It holds the dataset's world-space training cameras, its content box, the
world -> field similarity and, where the dataset says so, its up axis, so camera-path authoring, previews and
renders can work in world units without re-reading the dataset or loading the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scenegen.core import validate as v
from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text
from scenegen.data.dataset import SceneTransform
from scenegen.data.loader import estimate_up_from_c2w, load_dataset

SCENE_FILE = "scene.json"


@dataclass
class RunScene:
    """World-space facts about a trained run (units: the dataset's world units)."""

    data: str
    """The dataset the run was trained on (absolute path when written by ``scenegen train``)."""
    transform: SceneTransform
    """World -> field similarity."""
    train_c2w: np.ndarray
    """(M, 4, 4) training cameras, OpenGL camera-to-world."""
    kind: str = ""
    """Dataset format ("blender", "nerfstudio", ...)."""
    background: str = "white"
    downscale: int = 1
    num_images: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    scene_kind: str = "bounded"
    aabb: np.ndarray | None = None
    """(2, 3) content box (min, max) in world units, or None."""
    dataset_up: np.ndarray | None = None
    """(3,) the up axis the dataset states, or None (then :attr:`up` estimates it from the cameras)."""
    run_dir: Path | None = None

    @property
    def up(self) -> np.ndarray:
        """(3,) unit up vector: the dataset's, else the gravity estimate from the training cameras, else +Z."""
        up = self.dataset_up
        if up is None:
            up = estimate_up_from_c2w(self.train_c2w) if len(self.train_c2w) else None
        up = np.asarray(up if up is not None else [0.0, 0.0, 1.0], dtype=np.float64)
        return up / max(float(np.linalg.norm(up)), 1e-12)

    @property
    def center(self) -> np.ndarray:
        """(3,) middle of the content box, else the mean training camera position."""
        if self.aabb is not None:
            return self.aabb.mean(0)
        return self.train_c2w[:, :3, 3].mean(0)

    # ------------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "kind": self.kind,
            "background": self.background,
            "downscale": int(self.downscale),
            "num_images": int(self.num_images),
            "splits": {k: int(n) for k, n in self.splits.items()},
            "transform": self.transform.to_dict(),
            "scene_kind": self.scene_kind,
            "aabb_world": None if self.aabb is None else np.asarray(self.aabb, dtype=float).tolist(),
            "up": None if self.dataset_up is None else [float(x) for x in self.dataset_up],
            # World-space training cameras (3x4 camera-to-world rows): camera paths use them for the up axis
            # (gravity estimate), previews and `path add --from-camera`, without re-reading the dataset.
            "train_c2w": np.round(np.asarray(self.train_c2w)[:, :3, :], 6).tolist(),
        }

    @staticmethod
    def from_dict(d: Any, file: Any = None, run_dir: Path | None = None) -> "RunScene":
        """Validate a ``scene.json`` dict (or a checkpoint's ``scene`` entry); bad fields raise InputError."""
        if not isinstance(d, dict):
            raise InputError("expected a JSON object", file=file)
        t = d.get("transform")
        if not isinstance(t, dict):
            raise InputError(f"must be an object, got {v.describe(t)}", file=file, field="transform")
        transform = SceneTransform(
            center=v.vector(t.get("center"), file, "transform.center").tolist(),
            scale=v.positive(t.get("scale"), file, "transform.scale"),
            bounded=v.boolean(t.get("bounded", True), file, "transform.bounded"),
        )
        data = d.get("data")
        data = v.string(data, file, "data") if data is not None else ""
        c2w_in = d.get("train_c2w")
        if c2w_in:
            if not isinstance(c2w_in, list):
                raise InputError(f"must be a list of 3x4 matrices, got {v.describe(c2w_in)}", file, "train_c2w")
            mats = [v.matrix(m, (3, 4), file, f"train_c2w[{k}]") for k, m in enumerate(c2w_in)]
            c2w = np.tile(np.eye(4), (len(mats), 1, 1))
            for k, m in enumerate(mats):
                c2w[k, :3, :] = m[:3]
        else:
            c2w = _train_c2w_from_dataset(data, file)
        aabb = d.get("aabb_world")
        if aabb is not None:
            aabb = v.matrix(aabb, (2,), file, "aabb_world", cols=3)
        up = d.get("up")
        if up is not None:
            up = v.vector(up, file, "up")
            if not np.linalg.norm(up) > 0:
                raise InputError("must be a non-zero vector", file=file, field="up")
        splits = d.get("splits") or {}
        if not isinstance(splits, dict):
            raise InputError(f"must be an object, got {v.describe(splits)}", file=file, field="splits")
        return RunScene(
            data=data,
            transform=transform,
            train_c2w=c2w,
            kind=str(d.get("kind", "")),
            background=v.choice(d.get("background", "white"), file, "background", ("white", "black", "random")),
            downscale=v.integer(d.get("downscale", 1), file, "downscale", lo=1),
            num_images=v.integer(d.get("num_images", len(c2w)), file, "num_images", lo=0),
            splits={str(k): v.integer(n, file, f"splits.{k}", lo=0) for k, n in splits.items()},
            scene_kind=v.choice(d.get("scene_kind", "bounded"), file, "scene_kind", ("bounded", "unbounded")),
            aabb=aabb,
            dataset_up=up,
            run_dir=run_dir,
        )

    @staticmethod
    def read(run_dir: str | Path) -> "RunScene":
        """Read ``run_dir/scene.json`` (raises InputError naming the file and field)."""
        run_dir = Path(run_dir)
        p = run_dir / SCENE_FILE
        if not p.exists():
            raise InputError(f"not a scenegen run ({SCENE_FILE} missing)", file=p)
        return RunScene.from_dict(v.read_json_object(p, "run record"), file=p, run_dir=run_dir)

    def write(self, run_dir: str | Path) -> Path:
        """Write ``run_dir/scene.json`` atomically."""
        return atomic_write_text(Path(run_dir) / SCENE_FILE, json.dumps(self.to_dict(), indent=2), "run record")


def _train_c2w_from_dataset(data: str, file: Any) -> np.ndarray:
    """Runs written before scene.json carried the cameras: read them from the dataset (metadata only)."""
    if not data or not Path(data).exists():
        raise InputError("the run lists no training cameras and its dataset is not found", file=file, field="data")
    ds = load_dataset(data, check_images=False)
    c2w = np.tile(np.eye(4), (len(ds.split("train")), 1, 1))
    for k, i in enumerate(ds.split("train")):
        c2w[k, :3, :] = ds.cameras.c2w[i].numpy()[:3]
    return c2w
