"""``transforms.json`` datasets: nerfstudio (ns-process-data) and Instant-NGP (colmap2nerf) flavours.

Both list ``frames`` with ``file_path`` (relative to the JSON's folder) and a 4x4 ``transform_matrix``
(camera-to-world, OpenGL convention: already ours). Intrinsics sit at the top level and any of them may be
overridden per frame: ``fl_x fl_y cx cy w h k1 k2 k3 k4 p1 p2 camera_model`` (+ ``camera_angle_x/y``).

Defaults and derived values:
  * ``fl_x``: else ``0.5 * w / tan(camera_angle_x / 2)``; missing both -> InputError on "fl_x".
  * ``fl_y``: else from ``camera_angle_y``, else ``fl_x``. ``cx``/``cy``: else ``w/2``/``h/2``.
  * ``w``/``h``: else read from the image file's header.
  * ``camera_model``: OPENCV when absent. SIMPLE_PINHOLE/PINHOLE -> PINHOLE (OPENCV when distortion
    coefficients are nonzero, as nerfstudio applies them); SIMPLE_RADIAL/RADIAL -> OPENCV; OPENCV_FISHEYE;
    EQUIRECTANGULAR. Anything else -> InputError on "camera_model". Instant-NGP's ``is_fisheye: true`` ->
    OPENCV_FISHEYE.

nerfstudio flavour (``kind="nerfstudio"``):
  * ``applied_transform`` (3x4 or 4x4) is recorded in ``metadata["applied_transform"]`` (3x4); the frames are
    already expressed in that frame, so nothing is applied. ``ply_file_path`` is recorded too, and scenegen's
    ``sparse_depth_file`` (the structure-from-motion points each image saw) as an absolute path.
  * per-frame ``mask_path`` / ``depth_file_path`` -> ``mask_paths`` / ``depth_paths``; a top-level
    ``depth_unit_scale_factor`` (metres per depth-PNG unit, default 1e-3) -> ``metadata["depth_unit_scale"]``.
  * a top-level free-form ``metadata`` object (scenegen's synthetic scenes write generator, up, aabb, ...) is
    merged into ``SceneDataset.metadata`` (the parser's own keys win).
  * frames are sorted by file path (as nerfstudio does; ``metadata["frame_index_in_file"][i]`` is frame i's
    index in the JSON). Splits: ``train_filenames`` / ``val_filenames`` / ``test_filenames`` when present (train
    defaults to the frames in no other list); otherwise every 8th frame (i % 8 == 0, sorted order) is "test".
  * ``bounded=False`` (a real capture) with ``aabb`` = the bounding box of the camera centres, unless the file
    has ``aabb: [[xmin, ymin, zmin], [xmax, ymax, zmax]]`` in world units (then ``bounded=True``).

Instant-NGP flavour (``kind="instant-ngp"``), recognised by ``aabb_scale`` / ``scale`` / ``offset`` /
``camera_angle_x`` (and no nerfstudio-only key: ``camera_model``, ``applied_transform``):
  * Instant-NGP maps world points to its unit cube with ``p_ngp = cycle_xyz(p * scale + offset)`` (defaults
    ``scale = 0.33``, ``offset = [0.5, 0.5, 0.5]``) and bounds the scene by the cube of side ``aabb_scale``
    centred at 0.5 in its units. We keep the poses in the file's world units and set ``aabb`` to that cube in
    world units: centre ``(0.5 - offset) / scale``, half side ``aabb_scale / 2 / scale`` (fox: scale 0.33,
    aabb_scale 4 -> [-6.06, 6.06]^3). ``scale``, ``offset``, ``aabb_scale`` go to ``metadata``.
  * ``bounded = aabb_scale <= 1`` (aabb_scale 1 means "the scene fits in the unit cube", e.g. synthetic scenes;
    larger values mean a real capture with background, better handled as unbounded).
  * per-frame ``sharpness`` goes to ``metadata["sharpness"]``; ``depth_path`` is accepted for depth maps
    (``integer_depth_scale`` -> ``metadata["depth_unit_scale"]``).
  * splits as for nerfstudio.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scenegen.cameras.cameras import Cameras
from scenegen.core import validate
from scenegen.core.errors import InputError
from scenegen.data.dataset import SceneDataset, free_metadata, parse_c2w, resolve_image_path, split_every_nth
from scenegen.data.images import image_size

# camera_model names accepted in transforms.json -> our camera model
CAMERA_MODEL_MAP = {
    "OPENCV": "OPENCV",
    "PINHOLE": "PINHOLE",
    "SIMPLE_PINHOLE": "PINHOLE",
    "SIMPLE_RADIAL": "OPENCV",
    "RADIAL": "OPENCV",
    "PERSPECTIVE": "OPENCV",
    "OPENCV_FISHEYE": "OPENCV_FISHEYE",
    "FISHEYE": "OPENCV_FISHEYE",
    "EQUIRECTANGULAR": "EQUIRECTANGULAR",
}
DISTORTION_KEYS = ("k1", "k2", "k3", "k4", "p1", "p2")  # our (nerfstudio's) storage order
NGP_KEYS = ("aabb_scale", "scale", "offset", "camera_angle_x")
NERFSTUDIO_ONLY_KEYS = ("camera_model", "applied_transform")
NGP_DEFAULT_SCALE = 0.33
NGP_DEFAULT_OFFSET = (0.5, 0.5, 0.5)
SPLIT_LIST_KEYS = {"train": "train_filenames", "val": "val_filenames", "test": "test_filenames"}


def transforms_flavour(meta: dict) -> str:
    """"nerfstudio" or "instant-ngp" for a parsed transforms.json (see the module docstring)."""
    if any(k in meta for k in NERFSTUDIO_ONLY_KEYS):
        return "nerfstudio"
    if any(k in meta for k in NGP_KEYS):
        return "instant-ngp"
    return "nerfstudio"


def parse_transforms(
    json_path: str | Path,
    background: str = "white",
    check_images: bool = True,
    flavour: str | None = None,
) -> SceneDataset:
    """Parse a nerfstudio or Instant-NGP ``transforms.json`` into a :class:`SceneDataset` (full resolution).

    Args:
        json_path: the transforms file.
        background: "white" | "black" | "random" for RGBA images.
        check_images: check that images/masks/depth maps exist and images have the camera's size (header reads).
            ``False`` parses the JSON alone (image sizes must then be in the JSON).
        flavour: "nerfstudio" | "instant-ngp" to force one; auto-detected by default.
    Raises:
        InputError: malformed JSON, missing/invalid keys, unknown camera model, bad poses, missing files.
    """
    json_path = Path(json_path)
    meta = validate.read_json_object(json_path)
    flavour = flavour or transforms_flavour(meta)
    base = json_path.parent
    ngp = flavour == "instant-ngp"

    frames = meta.get("frames")
    if frames is None:
        raise InputError("missing key", file=json_path, field="frames")
    if not isinstance(frames, list):
        raise InputError("expected a list of frames", file=json_path, field="frames")
    if not frames:
        raise InputError("no frames", file=json_path, field="frames")

    # ---- frames: pose and file paths ---------------------------------------------------------------------------
    entries = []
    for k, frame in enumerate(frames):
        f = f"frames[{k}]"
        if not isinstance(frame, dict):
            raise InputError("expected an object", file=json_path, field=f)
        for key in ("file_path", "transform_matrix"):
            if key not in frame:
                raise InputError("missing key", file=json_path, field=f"{f}.{key}")
        c2w = parse_c2w(frame["transform_matrix"], json_path, f"{f}.transform_matrix")
        path = resolve_image_path(base, frame["file_path"], json_path, f"{f}.file_path")
        if check_images and not path.is_file():
            raise InputError(f"image not found: {path}", file=json_path, field=f"{f}.file_path")
        entries.append((str(frame["file_path"]), k, frame, c2w, path))
    entries.sort(key=lambda e: (e[0], e[1]))  # nerfstudio sorts frames by file name

    n = len(entries)
    c2ws, paths, order = [], [], []
    intr = {k: [] for k in ("fx", "fy", "cx", "cy", "w", "h")}
    dist, models = [], []
    masks: list[Path | None] = []
    depths: list[Path | None] = []
    image_fields, size_fields, mask_fields, depth_fields, sharpness = [], [], [], [], []
    for _, k, frame, c2w, path in entries:
        f = f"frames[{k}]"
        cam = _frame_intrinsics(meta, frame, k, json_path, path, check_images, ngp)
        for key in intr:
            intr[key].append(cam[key])
        dist.append(cam["dist"])
        models.append(cam["model"])
        size_fields.append(cam["size_field"])
        c2ws.append(c2w)
        paths.append(path)
        order.append(k)
        image_fields.append(f"{f}.file_path")
        if check_images:
            w, h = image_size(path, field=f"{f}.file_path")
            if (w, h) != (cam["w"], cam["h"]):
                raise InputError(
                    f"image is {w}x{h} (WxH) but the camera says {cam['w']}x{cam['h']}",
                    file=path,
                    field=cam["size_field"],
                )
        masks.append(_optional_path(frame, ("mask_path",), base, json_path, f, check_images, mask_fields))
        depths.append(
            _optional_path(frame, ("depth_file_path", "depth_path"), base, json_path, f, check_images, depth_fields)
        )
        s = frame.get("sharpness")
        sharpness.append(float(s) if isinstance(s, (int, float)) and not isinstance(s, bool) else None)

    cams = Cameras(
        c2w=torch.from_numpy(np.stack(c2ws)).float(),
        fx=torch.tensor(intr["fx"], dtype=torch.float64).float(),
        fy=torch.tensor(intr["fy"], dtype=torch.float64).float(),
        cx=torch.tensor(intr["cx"], dtype=torch.float64).float(),
        cy=torch.tensor(intr["cy"], dtype=torch.float64).float(),
        width=torch.tensor(intr["w"], dtype=torch.int64),
        height=torch.tensor(intr["h"], dtype=torch.int64),
        distortion=torch.tensor(np.array(dist), dtype=torch.float32),
        model=models,
    )

    splits = _splits(meta, base, json_path, paths)
    # A free-form "metadata" object in the file (e.g. scenegen's synthetic scenes: generator, up, aabb, units) is
    # kept; the parser's own keys below take precedence.
    metadata: dict[str, Any] = free_metadata(meta.get("metadata"), json_path, base)
    metadata.update({
        "format": flavour,
        "file": str(json_path),
        "frame_index_in_file": order,
        "image_wh": [[w, h] for w, h in zip(intr["w"], intr["h"])],
        "image_fields": image_fields,
        "size_fields": size_fields,
        "mask_fields": mask_fields,
        "depth_fields": depth_fields,
    })
    if "depth_unit_scale_factor" in meta:  # nerfstudio's name for the depth PNG unit (default 1e-3: millimetres)
        metadata["depth_unit_scale"] = validate.positive(
            meta["depth_unit_scale_factor"], json_path, "depth_unit_scale_factor")
    if any(s is not None for s in sharpness):
        metadata["sharpness"] = sharpness
    centres = np.stack(c2ws)[:, :, 3]
    camera_aabb = np.stack([centres.min(0), centres.max(0)]).astype(np.float32)

    if ngp:
        scale = validate.positive(meta.get("scale", NGP_DEFAULT_SCALE), json_path, "scale")
        offset = _vector3(meta.get("offset", list(NGP_DEFAULT_OFFSET)), json_path, "offset")
        aabb_scale = validate.positive(meta.get("aabb_scale", 1), json_path, "aabb_scale")
        centre = (0.5 - offset) / scale
        half = aabb_scale / 2.0 / scale
        aabb = np.stack([centre - half, centre + half]).astype(np.float32)
        bounded = aabb_scale <= 1
        metadata.update(
            {"scale": scale, "offset": offset.tolist(), "aabb_scale": aabb_scale, "camera_aabb": camera_aabb.tolist()}
        )
        if "integer_depth_scale" in meta:
            metadata["depth_unit_scale"] = validate.positive(
                meta["integer_depth_scale"], json_path, "integer_depth_scale")
        kind = "instant-ngp"
    else:
        if "applied_transform" in meta:
            metadata["applied_transform"] = _applied_transform(meta["applied_transform"], json_path)
        if "ply_file_path" in meta:
            metadata["ply_file_path"] = validate.string(meta["ply_file_path"], json_path, "ply_file_path")
        if "sparse_depth_file" in meta:  # scenegen process: the SfM points each image observed (a depth prior)
            metadata["sparse_depth_file"] = str(json_path.parent / validate.string(
                meta["sparse_depth_file"], json_path, "sparse_depth_file"))
        if "aabb" in meta:
            aabb = _aabb(meta["aabb"], json_path)
            bounded = True
        else:
            aabb = camera_aabb
            bounded = False
        kind = "nerfstudio"

    return SceneDataset(
        root=base,
        kind=kind,
        cameras=cams,
        image_paths=paths,
        splits=splits,
        background=background,
        bounded=bounded,
        aabb=aabb,
        mask_paths=masks if any(m is not None for m in masks) else None,
        depth_paths=depths if any(d is not None for d in depths) else None,
        metadata=metadata,
    )


def _frame_intrinsics(
    meta: dict, frame: dict, k: int, json_path: Path, image: Path, check_images: bool, ngp: bool
) -> dict:
    """Intrinsics of frame ``k`` (per-frame values override top-level ones)."""

    def get(key: str) -> tuple[Any, str | None]:
        if key in frame:
            return frame[key], f"frames[{k}].{key}"
        if key in meta:
            return meta[key], key
        return None, None

    # camera model
    raw_model, model_field = get("camera_model")
    if raw_model is None:
        fisheye, _ = get("is_fisheye")
        raw_model, model_field = ("OPENCV_FISHEYE" if fisheye is True else "OPENCV"), "camera_model"
    if not isinstance(raw_model, str) or raw_model.upper() not in CAMERA_MODEL_MAP:
        raise InputError(
            f"unknown camera model {json.dumps(raw_model)}; supported: {', '.join(CAMERA_MODEL_MAP)}",
            file=json_path,
            field=model_field,
        )
    model = CAMERA_MODEL_MAP[raw_model.upper()]

    # image size
    wv, wf = get("w")
    hv, hf = get("h")
    if wv is None or hv is None:
        if check_images and image.is_file():
            w, h = image_size(image, field=f"frames[{k}].file_path")
            w = validate.pixel_size(wv, json_path, wf) if wv is not None else w
            h = validate.pixel_size(hv, json_path, hf) if hv is not None else h
        else:
            raise InputError(
                "missing key (and no image to read the size from)", file=json_path, field="w" if wv is None else "h"
            )
    else:
        w, h = validate.pixel_size(wv, json_path, wf), validate.pixel_size(hv, json_path, hf)
    size_field = f"{wf or 'w'}/{hf or 'h'}"  # e.g. "w/h" or "frames[3].w/frames[3].h"

    # focal lengths
    fxv, fxf = get("fl_x")
    if fxv is not None:
        fx = validate.positive(fxv, json_path, fxf)
    else:
        ax, axf = get("camera_angle_x")
        if ax is not None:
            a = validate.positive(ax, json_path, axf)
            fx = 0.5 * w / math.tan(0.5 * a)
        elif model == "EQUIRECTANGULAR":
            fx = w / (2 * math.pi)
        else:
            raise InputError(f"missing key (frames[{k}] has no fl_x either)", file=json_path, field="fl_x")
    fyv, fyf = get("fl_y")
    if fyv is not None:
        fy = validate.positive(fyv, json_path, fyf)
    else:
        ay, ayf = get("camera_angle_y")
        if ay is not None and model != "EQUIRECTANGULAR":
            fy = 0.5 * h / math.tan(0.5 * validate.positive(ay, json_path, ayf))
        else:
            fy = fx
    cxv, cxf = get("cx")
    cyv, cyf = get("cy")
    cx = validate.number(cxv, json_path, cxf) if cxv is not None else w / 2.0
    cy = validate.number(cyv, json_path, cyf) if cyv is not None else h / 2.0

    # distortion, stored [k1, k2, k3, k4, p1, p2]
    dist = []
    for key in DISTORTION_KEYS:
        v, vf = get(key)
        dist.append(validate.number(v, json_path, vf) if v is not None else 0.0)
    if model == "PINHOLE" and any(d != 0.0 for d in dist):
        model = "OPENCV"  # nerfstudio applies distortion coefficients for every perspective model
    return {
        "fx": fx, "fy": fy, "cx": cx, "cy": cy, "w": w, "h": h, "dist": dist, "model": model, "size_field": size_field
    }


def _optional_path(
    frame: dict, keys: tuple[str, ...], base: Path, json_path: Path, f: str, check: bool, fields: list[str]
) -> Path | None:
    for key in keys:
        if key in frame and frame[key] is not None:
            path = resolve_image_path(base, frame[key], json_path, f"{f}.{key}")
            if check and not path.is_file():
                raise InputError(f"file not found: {path}", file=json_path, field=f"{f}.{key}")
            fields.append(f"{f}.{key}")
            return path
    fields.append(f"{f}.{keys[0]}")
    return None


def _splits(meta: dict, base: Path, json_path: Path, paths: list[Path]) -> dict[str, list[int]]:
    lists = {s: key for s, key in SPLIT_LIST_KEYS.items() if key in meta}
    if not lists:
        return split_every_nth(len(paths), 8)
    index = {str(p): i for i, p in enumerate(paths)}
    splits: dict[str, list[int]] = {}
    for split, key in lists.items():
        names = meta[key]
        if not isinstance(names, list):
            raise InputError("expected a list of file names", file=json_path, field=key)
        idx = []
        for j, name in enumerate(names):
            p = resolve_image_path(base, name, json_path, f"{key}[{j}]")
            if str(p) not in index:
                raise InputError(f"{name!r} is not the file_path of any frame", file=json_path, field=f"{key}[{j}]")
            idx.append(index[str(p)])
        splits[split] = sorted(set(idx))
    if "train" not in splits:
        used = {i for idx in splits.values() for i in idx}
        splits["train"] = [i for i in range(len(paths)) if i not in used]
    return {s: idx for s, idx in splits.items() if idx}


def _vector3(value: Any, json_path: Path, field: str) -> np.ndarray:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value] * 3
    return validate.vector(value, json_path, field, 3)


def _applied_transform(value: Any, json_path: Path) -> list[list[float]]:
    return validate.matrix(value, (3, 4), json_path, "applied_transform")[:3].tolist()


def _aabb(value: Any, json_path: Path) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        a = np.zeros(0)
    if a.shape != (2, 3) or not np.all(np.isfinite(a)) or np.any(a[1] <= a[0]):
        raise InputError(
            "expected [[xmin, ymin, zmin], [xmax, ymax, zmax]] with min < max", file=json_path, field="aabb"
        )
    return a.astype(np.float32)
