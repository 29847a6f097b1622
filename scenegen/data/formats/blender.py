"""Blender-synthetic (NeRF "nerf_synthetic") datasets.

Layout::

    <root>/transforms_train.json   {"camera_angle_x": float, "frames": [{"file_path": "./train/r_0",
    <root>/transforms_val.json                                          "transform_matrix": 4x4, ...}, ...]}
    <root>/transforms_test.json
    <root>/train/r_0.png ...       RGBA renders

Any non-empty subset of the three split files is accepted (e.g. train + test only). ``file_path`` is relative to
the JSON's folder; ".png" is appended when it has no extension. Poses are already OpenGL camera-to-world.
Intrinsics: square pixels, ``fx = fy = 0.5 * W / tan(0.5 * camera_angle_x)``, principal point at the image
centre, where W x H is the size of the image files (all images of a dataset must share one size).
The scene is bounded, ``aabb = [-1.5, 1.5]^3``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from scenegen.cameras.cameras import Cameras
from scenegen.core import validate
from scenegen.core.errors import InputError
from scenegen.data.dataset import SceneDataset, parse_c2w, resolve_image_path
from scenegen.data.images import image_size

SPLITS = ("train", "val", "test")
BLENDER_AABB = np.array([[-1.5, -1.5, -1.5], [1.5, 1.5, 1.5]], dtype=np.float32)
DEFAULT_BLENDER_SIZE = 800  # used only when images are not checked and the first image is absent


def blender_split_files(root: Path) -> dict[str, Path]:
    """{split: transforms_<split>.json} for the split files present in ``root``."""
    return {s: root / f"transforms_{s}.json" for s in SPLITS if (root / f"transforms_{s}.json").is_file()}


def is_blender(root: Path) -> bool:
    return bool(blender_split_files(root))


def parse_blender(root: str | Path, background: str = "white", check_images: bool = True) -> SceneDataset:
    """Parse a Blender-synthetic dataset folder into a :class:`SceneDataset` (full resolution).

    Args:
        root: folder holding ``transforms_{train,val,test}.json``.
        background: "white" | "black" | "random" (stored on the dataset).
        check_images: check that every image exists and has the first image's size (header reads only).
    Raises:
        InputError: no split file, malformed JSON, missing/invalid keys, missing or wrong-size images.
    """
    root = Path(root)
    files = blender_split_files(root)
    if not files:
        raise InputError("no transforms_{train,val,test}.json found", file=root)

    c2ws: list[np.ndarray] = []
    angles: list[float] = []
    paths: list[Path] = []
    image_fields: list[str] = []
    splits: dict[str, list[int]] = {}
    for split, jpath in files.items():
        meta = validate.read_json_object(jpath)
        if "camera_angle_x" not in meta:
            raise InputError("missing key", file=jpath, field="camera_angle_x")
        angle = validate.positive(meta["camera_angle_x"], jpath, "camera_angle_x")
        if angle >= math.pi:
            raise InputError(
                f"camera_angle_x must be below pi radians, got {angle}", file=jpath, field="camera_angle_x"
            )
        frames = meta.get("frames")
        if frames is None:
            raise InputError("missing key", file=jpath, field="frames")
        if not isinstance(frames, list):
            raise InputError("expected a list of frames", file=jpath, field="frames")
        idx = []
        for k, frame in enumerate(frames):
            f = f"frames[{k}]"
            if not isinstance(frame, dict):
                raise InputError("expected an object", file=jpath, field=f)
            for key in ("file_path", "transform_matrix"):
                if key not in frame:
                    raise InputError("missing key", file=jpath, field=f"{f}.{key}")
            c2ws.append(parse_c2w(frame["transform_matrix"], jpath, f"{f}.transform_matrix"))
            path = resolve_image_path(jpath.parent, frame["file_path"], jpath, f"{f}.file_path")
            if check_images and not path.is_file():
                raise InputError(f"image not found: {path}", file=jpath, field=f"{f}.file_path")
            idx.append(len(paths))
            paths.append(path)
            angles.append(angle)
            image_fields.append(f"{jpath.name}:{f}.file_path")
        if idx:
            splits[split] = idx
    if not paths:
        raise InputError("no frames in any split file", file=next(iter(files.values())), field="frames")

    # Image size: from the first image; with check_images every image must match it.
    if paths[0].is_file():
        w, h = image_size(paths[0], field=image_fields[0])
    else:  # only reachable with check_images=False
        w = h = DEFAULT_BLENDER_SIZE
    if check_images:
        for k, p in enumerate(paths[1:], start=1):
            wk, hk = image_size(p, field=image_fields[k])
            if (wk, hk) != (w, h):
                raise InputError(
                    f"image is {wk}x{hk} (WxH) but {paths[0].name} is {w}x{h}; Blender datasets need one size",
                    file=p,
                    field=image_fields[k],
                )

    n = len(paths)
    focal = torch.tensor([0.5 * w / math.tan(0.5 * a) for a in angles], dtype=torch.float64)
    cams = Cameras(
        c2w=torch.from_numpy(np.stack(c2ws)).float(),
        fx=focal.float(),
        fy=focal.float(),
        cx=torch.full((n,), w / 2.0),
        cy=torch.full((n,), h / 2.0),
        width=torch.full((n,), w, dtype=torch.int64),
        height=torch.full((n,), h, dtype=torch.int64),
        model="PINHOLE",
    )
    return SceneDataset(
        root=root,
        kind="blender",
        cameras=cams,
        image_paths=paths,
        splits=splits,
        background=background,
        bounded=True,
        aabb=BLENDER_AABB.copy(),
        metadata={
            "format": "blender",
            "up": [0.0, 0.0, 1.0],  # Blender scenes are Z-up
            "files": {s: str(p) for s, p in files.items()},
            "camera_angle_x": {s: float(angles[idx[0]]) for s, idx in splits.items()},
            "image_wh": [[w, h] for _ in range(n)],
            "image_fields": image_fields,
            # Blender has no size field: the size comes from the first image.
            "size_fields": [f"{f} (size of {paths[0].name})" for f in image_fields],
        },
    )
