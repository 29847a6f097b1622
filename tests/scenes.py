"""Tiny scenes the tests render themselves (no data files, no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from scenegen.cameras.poses import look_at_c2w


def render_checker_cube(c2w: np.ndarray, size: int, focal: float) -> np.ndarray:
    """RGBA uint8 (size, size, 4) of the cube [-0.5, 0.5]^3 with a colour checker per face, transparent elsewhere."""
    j, i = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5, indexing="ij")
    d = np.stack([(i - size / 2) / focal, -(j - size / 2) / focal, -np.ones_like(i)], -1) @ c2w[:3, :3].T
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    o = c2w[:3, 3]
    inv = 1.0 / np.where(np.abs(d) < 1e-9, 1e-9, d)
    t0, t1 = (-0.5 - o) * inv, (0.5 - o) * inv
    tmin = np.minimum(t0, t1).max(-1)
    tmax = np.maximum(t0, t1).min(-1)
    hit = tmax > np.maximum(tmin, 0)
    p = o + d * tmin[..., None]
    axis = np.argmax(np.abs(p) / 0.5 >= 0.9999, axis=-1)
    sign = np.take_along_axis(np.sign(p), axis[..., None], -1)[..., 0]
    face = axis * 2 + (sign > 0)
    palette = np.array([[230, 60, 50], [40, 160, 70], [50, 90, 220], [240, 200, 40], [160, 60, 200], [30, 190, 200]], float)
    cells = np.floor(p * 6 + 10)
    # The coordinate along the face normal sits exactly on +-0.5: leave it out of the pattern.
    np.put_along_axis(cells, axis[..., None], 0.0, -1)
    check = cells.sum(-1) % 2
    rgb = palette[face] * (0.55 + 0.45 * check[..., None])
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[hit, :3] = rgb[hit].astype(np.uint8)
    rgba[hit, 3] = 255
    return rgba


def make_cube_dataset(root: Path, n_train: int = 40, n_test: int = 6, size: int = 64) -> Path:
    """A Blender-synthetic style dataset of the checker cube (cameras on a sphere of radius 2.6)."""
    root = Path(root)
    focal = 0.5 * size / np.tan(0.5 * 0.69)
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        (root / split).mkdir(parents=True, exist_ok=True)
        frames = []
        for k in range(n):
            v = rng.normal(size=3)
            v[2] = abs(v[2]) * 0.8 - 0.2
            eye = v / np.linalg.norm(v) * 2.6
            c2w = look_at_c2w(eye, (0.0, 0.0, 0.0))
            Image.fromarray(render_checker_cube(c2w, size, focal)).save(root / split / f"r_{k}.png")
            frames.append({"file_path": f"./{split}/r_{k}", "transform_matrix": c2w.tolist()})
        (root / f"transforms_{split}.json").write_text(json.dumps({"camera_angle_x": 0.69, "frames": frames}))
    return root
