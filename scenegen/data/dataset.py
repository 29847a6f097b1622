"""The posed-image dataset every parser produces and the trainer consumes.

Cameras are kept in the input's world units and axes. The mapping into the field's normalised box is a
:class:`SceneTransform` (a similarity), computed once per dataset, stored in the run, and applied by the
trainer and renderer; camera paths authored in world units therefore render unchanged.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from scenegen.cameras.cameras import Cameras
from scenegen.core.errors import InputError
from scenegen.core import validate as v
from scenegen.core.validate import describe
from scenegen.data.images import load_depth, load_downscaled_image, load_mask, resize_depth, resize_mask


def free_metadata(value: Any, file: Any, base: Path | None = None, field: str = "metadata") -> dict:
    """A dataset file's free-form ``metadata`` object, with every key that scenegen reads from
    :attr:`SceneDataset.metadata` validated (one InputError naming the file and ``metadata.KEY`` otherwise):

    * ``up``: 3 finite numbers, not all 0 (the world up axis);
    * ``near_far``: a list of [near, far] pairs of finite numbers (per-camera depth range);
    * ``depth_unit_scale``: a positive number (world units per depth-PNG unit);
    * ``sparse_depth_file``: a file name (relative to ``base``, the dataset folder);
    * ``generator``: any value (a synthetic dataset's generator).

    Other keys are kept as they are (scenegen does not read them). A ``value`` that is not an object is
    ignored (an empty dict)."""
    if not isinstance(value, dict):
        return {}
    out = dict(value)
    if "up" in out:
        up = v.vector(out["up"], file, f"{field}.up")
        if not np.linalg.norm(up) > 0:
            raise InputError("must be a non-zero vector", file=file, field=f"{field}.up")
        out["up"] = up.tolist()
    if "near_far" in out:
        nf = out["near_far"]
        if not isinstance(nf, list):
            raise InputError(f"must be a list of [near, far] pairs, got {describe(nf)}", file, f"{field}.near_far")
        out["near_far"] = [v.vector(p, file, f"{field}.near_far[{k}]", 2).tolist() for k, p in enumerate(nf)]
    if "depth_unit_scale" in out:
        out["depth_unit_scale"] = v.positive(out["depth_unit_scale"], file, f"{field}.depth_unit_scale")
    if "sparse_depth_file" in out:
        name = v.string(out["sparse_depth_file"], file, f"{field}.sparse_depth_file")
        out["sparse_depth_file"] = str(base / name) if base is not None else name
    return out


@dataclass
class SceneTransform:
    """World -> field similarity: ``x_field = scale * (x_world - center)``.

    ``bounded`` scenes live in the field box [-1, 1]^3; unbounded scenes put the cameras' region in the unit
    ball and contract the rest of space (mip-NeRF 360 style).
    """

    center: list[float]
    scale: float
    bounded: bool = True

    def world_to_field_points(self, x: torch.Tensor) -> torch.Tensor:
        return (x - torch.as_tensor(self.center, dtype=x.dtype, device=x.device)) * self.scale

    def field_to_world_points(self, x: torch.Tensor) -> torch.Tensor:
        return x / self.scale + torch.as_tensor(self.center, dtype=x.dtype, device=x.device)

    def cameras_to_field(self, cams: Cameras) -> Cameras:
        c2w = cams.c2w.clone()
        c2w[:, :, 3] = self.world_to_field_points(c2w[:, :, 3])
        return Cameras(
            c2w=c2w,
            fx=cams.fx,
            fy=cams.fy,
            cx=cams.cx,
            cy=cams.cy,
            width=cams.width,
            height=cams.height,
            distortion=cams.distortion,
            model=list(cams.model),
        )

    def to_dict(self) -> dict:
        return {"center": [float(c) for c in self.center], "scale": float(self.scale), "bounded": bool(self.bounded)}

    @staticmethod
    def from_dict(d: dict) -> "SceneTransform":
        return SceneTransform(center=list(d["center"]), scale=float(d["scale"]), bounded=bool(d.get("bounded", True)))


@dataclass
class SceneDataset:
    """A parsed dataset: cameras (world units, OpenGL c2w), image files and splits.

    Attributes:
        root: dataset folder.
        kind: "blender" | "nerfstudio" | "instant-ngp" | "llff".
        cameras: all frames, in the order of ``image_paths``.
        image_paths: one image file per frame.
        splits: frame indices per split name ("train", "val", "test"); missing splits are absent.
        background: "white" | "black" | "random": colour that RGBA images are composited on.
        bounded: True for object-centric scenes inside ``aabb``; False for unbounded captures.
        aabb: (2, 3) world-space bounds of the content when known (Blender: [-1.5, 1.5]^3, Instant-NGP aabb_scale).
        mask_paths: optional per-frame mask images (nonzero = use the pixel).
        depth_paths: optional per-frame depth maps (metres / world units, 16-bit PNG in millimetres or .npy).
        downscale: integer factor the images are read at (intrinsics already scaled).
        metadata: parser-specific extras (applied_transform, original file, ...).
    """

    root: Path
    kind: str
    cameras: Cameras
    image_paths: list[Path]
    splits: dict[str, list[int]]
    background: str = "white"
    bounded: bool = True
    aabb: np.ndarray | None = None
    mask_paths: list[Path | None] | None = None
    depth_paths: list[Path | None] | None = None
    downscale: int = 1
    metadata: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.image_paths)

    def files_outside_root(self) -> list[Path]:
        """The image, mask and depth files the dataset names that lie outside its folder (``root``), after
        resolving ``..`` and links. Reading them is allowed; ``scenegen train`` says so in its summary."""
        root = Path(os.path.realpath(self.root))
        out = []
        for group in (self.image_paths, self.mask_paths or [], self.depth_paths or []):
            for p in group:
                if p is None:
                    continue
                real = Path(os.path.realpath(p))
                if real != root and root not in real.parents:
                    out.append(Path(p))
        return out

    def split(self, name: str) -> list[int]:
        return list(self.splits.get(name, []))

    def eval_split_name(self) -> str:
        """The held-out split used for evaluation: test, else val, else train."""
        for name in ("test", "val"):
            if self.splits.get(name):
                return name
        return "train"

    def to_json(self) -> str:
        return json.dumps({"root": str(self.root), "kind": self.kind, "n": len(self)})

    # Common metadata keys set by the parsers: "format"; "up" (world up vector: Blender [0, 0, 1], otherwise the
    # cameras' mean +Y axis when they agree, else absent); "image_wh", "image_fields", "size_fields" (below);
    # per-format extras are described in scenegen/data/{blender,nerfstudio,llff}.py.

    # -- pixels ---------------------------------------------------------------------------------------------------
    # Added by the data parsers. Sizes: the cameras are already scaled by 1/downscale, so every array below has
    # the size (H, W) = (cameras.height[i], cameras.width[i]). ``metadata["image_wh"][i]`` is the size of the
    # file on disk (the full-resolution camera); ``metadata["image_fields"][i]`` / ``["size_fields"][i]`` name the
    # JSON fields that refer to the file and to its size, for error messages.

    def image_hw(self, i: int) -> tuple[int, int]:
        """(H, W) of frame ``i`` at the dataset's downscale (= the camera's size)."""
        return int(self.cameras.height[i]), int(self.cameras.width[i])

    def _full_hw(self, i: int) -> tuple[int, int]:
        wh = self.metadata.get("image_wh")
        if wh is None:
            return self.image_hw(i)
        return int(wh[i][1]), int(wh[i][0])

    def _field(self, key: str, i: int, default: str) -> str:
        fields = self.metadata.get(key)
        return fields[i] if fields is not None and i < len(fields) else default

    def load_image(self, i: int) -> np.ndarray:
        """Image of frame ``i``: uint8 (H, W, 3) RGB or (H, W, 4) RGBA (straight alpha), at the dataset's downscale.

        With ``downscale > 1`` the resized copy is cached on disk (see :func:`scenegen.data.images.cache_path`).

        Raises:
            InputError: the file is missing/corrupt or its size differs from the camera's.
        """
        return load_downscaled_image(
            self.root,
            self.image_paths[i],
            self.downscale,
            full_hw=self._full_hw(i),
            target_hw=self.image_hw(i),
            field=self._field("image_fields", i, f"frames[{i}].file_path"),
            size_field=self._field("size_fields", i, "w/h"),
        )

    def has_alpha(self, i: int) -> bool:
        """True when frame ``i``'s image has an alpha channel (reads the file header)."""
        with Image.open(self.image_paths[i]) as im:
            return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)

    def background_color(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """(3,) float32 colour RGBA images are composited on: white 1, black 0, random: uniform from ``rng``."""
        if self.background == "white":
            return np.ones(3, dtype=np.float32)
        if self.background == "black":
            return np.zeros(3, dtype=np.float32)
        rng = rng if rng is not None else np.random.default_rng()
        return rng.random(3, dtype=np.float32)

    def load_rgb(self, i: int, background: np.ndarray | None = None) -> np.ndarray:
        """Frame ``i`` as float32 (H, W, 3) in [0, 1]; RGBA is composited on ``background`` ((3,) or (H, W, 3)),
        by default :meth:`background_color` (for "random", one random colour for the whole image)."""
        img = self.load_image(i).astype(np.float32) / 255.0
        if img.shape[-1] == 3:
            return img
        bg = self.background_color() if background is None else np.asarray(background, dtype=np.float32)
        alpha = img[..., 3:4]
        return img[..., :3] * alpha + bg * (1.0 - alpha)

    def load_mask(self, i: int) -> np.ndarray | None:
        """bool (H, W) mask of frame ``i`` (True = use the pixel), or None when the frame has no mask."""
        path = self.mask_paths[i] if self.mask_paths else None
        if path is None:
            return None
        field = self._field("mask_fields", i, f"frames[{i}].mask_path")
        mask = load_mask(path, expected_hw=self._full_hw(i), field=field)
        h, w = self.image_hw(i)
        return resize_mask(mask, w, h)

    def load_depth(self, i: int) -> np.ndarray | None:
        """float32 (H, W) depth of frame ``i`` in world units (resized nearest to the image), or None."""
        path = self.depth_paths[i] if self.depth_paths else None
        if path is None:
            return None
        depth = load_depth(
            path,
            field=self._field("depth_fields", i, f"frames[{i}].depth_file_path"),
            depth_unit_scale=float(self.metadata.get("depth_unit_scale", 1e-3)),
        )
        h, w = self.image_hw(i)
        return resize_depth(depth, w, h)

    def scene_transform(self) -> "SceneTransform":
        """Shorthand for :func:`compute_scene_transform`."""
        return compute_scene_transform(self)


# ------------------------------------------------------------------------------------------------------------------
# World -> field normalisation
# ------------------------------------------------------------------------------------------------------------------

CAMERA_RADIUS = 0.9
"""Unbounded scenes: the farthest camera centre lands at this distance from the field origin."""


def camera_focus_point(c2w: np.ndarray, min_ratio: float = 0.05, min_in_front: float = 0.9) -> np.ndarray | None:
    """Least-squares point closest to all optical axes, or None when that is not well defined.

    Minimises ``sum_i |(I - d_i d_i^T)(p - o_i)|^2`` (o_i: camera centre, d_i: viewing direction = -Z column).
    Well defined means: the 3x3 normal matrix ``A = sum_i (I - d_i d_i^T)`` is well conditioned
    (smallest/largest eigenvalue >= ``min_ratio``: the viewing directions really differ, as for cameras around an
    object; forward-facing captures with nearly parallel axes fail this) and the point lies in front of at least
    ``min_in_front`` of the cameras.

    Args:
        c2w: (N, 3, 4) camera-to-world, OpenGL (camera looks down -Z).
    Returns:
        (3,) float64 point or None.
    """
    c2w = np.asarray(c2w, dtype=np.float64)
    if c2w.shape[0] < 2:
        return None
    o = c2w[:, :, 3]
    d = -c2w[:, :, 2]
    d = d / np.linalg.norm(d, axis=-1, keepdims=True).clip(1e-12)
    proj = np.eye(3)[None] - d[:, :, None] * d[:, None, :]  # (N, 3, 3)
    a = proj.sum(0)
    b = np.einsum("nij,nj->i", proj, o)
    eig = np.linalg.eigvalsh(a)
    if not np.all(np.isfinite(eig)) or eig[-1] <= 0 or eig[0] / eig[-1] < min_ratio:
        return None
    p = np.linalg.solve(a, b)
    in_front = np.mean(np.einsum("ni,ni->n", p[None] - o, d) > 0)
    if not np.all(np.isfinite(p)) or in_front < min_in_front:
        return None
    return p


def compute_scene_transform(ds: SceneDataset) -> SceneTransform:
    """The world -> field similarity for a dataset (``x_field = scale * (x_world - center)``).

    * Bounded scenes with an ``aabb``: ``center`` = the box centre, ``scale`` = 1 / (largest half side), so the
      box fits [-1, 1]^3 (Blender's [-1.5, 1.5]^3: center 0, scale 1/1.5).
    * Bounded scenes without an aabb: as unbounded, but the farthest camera lands at distance 1 (the content is
      inside the cameras' sphere).
    * Unbounded scenes: ``center`` is

      1. the focus point of the cameras (:func:`camera_focus_point`) when they look inward at a common region;
      2. otherwise, when per-camera near depths are known (``metadata["near_far"]``, LLFF): the mean camera centre
         moved along the mean viewing direction by the median near depth (forward-facing captures: the centre
         sits where the content starts, the content is in front of it);
      3. otherwise the mean of the camera centres;

      and ``scale`` = :data:`CAMERA_RADIUS` / (largest camera distance from ``center``), so every camera centre
      lies inside the unit ball (the farthest at 0.9). Cameras all at one point get scale 1 / (near depth) when
      known, else 1.
    """
    if ds.bounded and ds.aabb is not None:
        aabb = np.asarray(ds.aabb, dtype=np.float64).reshape(2, 3)
        center = (aabb[0] + aabb[1]) / 2
        half = float(np.max(aabb[1] - aabb[0]) / 2)
        scale = 1.0 / half if half > 0 and math.isfinite(half) else 1.0
        return SceneTransform(center=[float(c) for c in center], scale=scale, bounded=True)

    c2w = ds.cameras.c2w.detach().cpu().double().numpy()
    origins = c2w[:, :, 3]
    center = camera_focus_point(c2w)
    near_far = ds.metadata.get("near_far")
    near = None
    if near_far is not None:
        nf = np.asarray(near_far, dtype=np.float64).reshape(-1, 2)
        if np.all(np.isfinite(nf)) and np.median(nf[:, 0]) > 0:
            near = float(np.median(nf[:, 0]))
    if center is None and near is not None:
        fwd = -c2w[:, :, 2].mean(0)
        fwd = fwd / max(np.linalg.norm(fwd), 1e-12)
        center = origins.mean(0) + fwd * near
    if center is None:
        center = origins.mean(0)
    radius = float(np.max(np.linalg.norm(origins - center[None], axis=-1))) if len(origins) else 0.0
    target = 1.0 if ds.bounded else CAMERA_RADIUS
    if radius > 1e-9 and math.isfinite(radius):
        scale = target / radius
    else:
        scale = 1.0 / near if near else 1.0
    return SceneTransform(center=[float(c) for c in center], scale=float(scale), bounded=bool(ds.bounded))


# ------------------------------------------------------------------------------------------------------------------
# Helpers shared by the parsers (scenegen.data.formats.blender / nerfstudio / llff)
# ------------------------------------------------------------------------------------------------------------------


def parse_c2w(value: Any, file: Path, field: str) -> np.ndarray:
    """A 4x4 (or 3x4) camera-to-world matrix from JSON -> float64 (3, 4).

    Raises:
        InputError: wrong shape, non-numeric entries (bools and strings too), non-finite entries, a bottom row
            other than [0, 0, 0, 1], or a singular (or wildly non-rotational) 3x3 part.
    """
    if not (isinstance(value, (list, tuple)) and value and all(isinstance(r, (list, tuple)) for r in value)):
        raise InputError(f"expected a 4x4 matrix of numbers, got {describe(value)}", file=file, field=field)
    lengths = sorted({len(r) for r in value})
    if len(value) not in (3, 4) or lengths != [4]:
        shape = [len(value), *lengths] if len(lengths) == 1 else f"{len(value)} rows of lengths {lengths}"
        raise InputError(f"expected a 4x4 matrix, got shape {shape}", file=file, field=field)
    for i, row in enumerate(value):
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, (int, float)):  # NaN and infinity: check_c2w names them
                raise InputError(f"expected a 4x4 matrix of numbers, element [{i}][{j}] is {describe(x)}", file=file,
                                 field=field)
    return check_c2w(np.array(value, dtype=np.float64), file, field)


def check_c2w(m: np.ndarray, file: Path, field: str) -> np.ndarray:
    """Validate a (4, 4) or (3, 4) camera-to-world matrix -> float64 (3, 4) (see :func:`parse_c2w`)."""
    if not np.all(np.isfinite(m)):
        raise InputError("pose has non-finite entries (NaN or infinity)", file=file, field=field)
    if m.shape == (4, 4) and not np.allclose(m[3], [0.0, 0.0, 0.0, 1.0], atol=1e-4):
        raise InputError(f"last row of the pose must be [0, 0, 0, 1], got {m[3].tolist()}", file=file, field=field)
    rot = m[:3, :3]
    det = float(np.linalg.det(rot))
    norms = np.linalg.norm(rot, axis=0)
    if abs(det) < 1e-6 or norms.min() < 1e-6 or abs(det) / float(np.prod(norms)) < 1e-3:
        raise InputError(f"pose rotation is singular (determinant {det:.3g})", file=file, field=field)
    return np.array(m[:3, :4], dtype=np.float64)


def resolve_image_path(base: Path, file_path: Any, file: Path, field: str, default_suffix: str = ".png") -> Path:
    """``file_path`` from a JSON (relative to ``base``, the JSON's folder, or absolute) -> Path.

    A path without an extension gets ``default_suffix`` (Blender's "./train/r_0" -> "train/r_0.png"); so does a
    path whose file is missing while ``<path><default_suffix>`` exists.
    """
    if not isinstance(file_path, str) or not file_path.strip():
        raise InputError("expected a non-empty file path string", file=file, field=field)
    p = Path(file_path)
    p = p if p.is_absolute() else base / p
    if p.suffix.lower() not in IMAGE_LIKE_SUFFIXES:
        alt = p.with_name(p.name + default_suffix)
        if not p.suffix or (not p.exists() and alt.exists()):
            p = alt
    return Path(_normpath(p))


IMAGE_LIKE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".exr", ".npy", ".npz", ".gif")


def _normpath(p: Path) -> str:
    return os.path.normpath(str(p))


def split_every_nth(n: int, every: int = 8) -> dict[str, list[int]]:
    """Deterministic split: frame i is "test" when ``i % every == 0`` (the mip-NeRF 360 / LLFF convention),
    the rest "train". Fewer than 2 frames: everything is "train"."""
    if n < 2:
        return {"train": list(range(n))}
    test = [i for i in range(n) if i % every == 0]
    train = [i for i in range(n) if i % every != 0]
    return {"train": train, "test": test}
