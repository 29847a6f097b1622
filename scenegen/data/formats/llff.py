"""LLFF forward-facing captures (``poses_bounds.npy``), as in the NeRF authors' ``nerf_llff_data``.

``poses_bounds.npy`` is float (N, 17), one row per image in sorted-file-name order: a 3x5 matrix flattened
row-major -- columns 0..3 are camera-to-world with the camera axes in LLFF order [down, right, backwards], column
4 is [H, W, focal] of the FULL-resolution images -- then the near and far depth bounds.

Conversion to OpenGL camera-to-world ([right, up, backwards]): ``[x1, -x0, x2, t]``.

Images come from the highest-resolution folder among ``images``, ``images_<k>`` whose file count equals N and
whose image size is the full size divided by one common factor (``images_8``: 504x378 for 4032x3024 -> focal / 8).
Intrinsics: ``fx = focal * w / W``, ``fy = focal * h / H``, principal point at the image centre, PINHOLE.
Split: every 8th image (i % 8 == 0) is "test", as NeRF's ``llffhold=8``. ``bounded=False`` (forward-facing);
``aabb`` = bounds of all camera frustums between their near and far depths; ``metadata["near_far"]`` (N, 2).
The poses are kept in the file's units: no NeRF-style ``bd_factor`` rescaling or recentring (the
:class:`~scenegen.data.dataset.SceneTransform` does the normalisation).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from scenegen.cameras.cameras import Cameras
from scenegen.data.dataset import SceneDataset, check_c2w, split_every_nth
from scenegen.data.images import IMAGE_SUFFIXES, image_size
from scenegen.core.errors import InputError

POSES_FILE = "poses_bounds.npy"


def is_llff(root: Path) -> bool:
    return (root / POSES_FILE).is_file()


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def _candidate_folders(root: Path) -> list[tuple[int, Path]]:
    """(factor from the name, folder) for images, images_<k>, highest resolution first."""
    out = []
    for d in root.iterdir() if root.is_dir() else []:
        if not d.is_dir():
            continue
        if d.name == "images":
            out.append((1, d))
        else:
            m = re.fullmatch(r"images_(\d+)", d.name)
            if m and int(m.group(1)) > 0:
                out.append((int(m.group(1)), d))
    return sorted(out)


def load_poses_bounds(path: Path) -> np.ndarray:
    """Read and shape-check ``poses_bounds.npy`` -> float64 (N, 17)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise InputError("file not found", file=path) from None
    except (OSError, ValueError, EOFError) as e:
        raise InputError(f"cannot read .npy file: {' '.join(str(e).split())}", file=path) from None
    if arr.ndim != 2 or arr.shape[1] != 17 or arr.shape[0] == 0:
        raise InputError(f"expected an (N, 17) array, got shape {list(arr.shape)}", file=path, field="shape")
    if not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"expected numbers, got dtype {arr.dtype}", file=path, field="dtype")
    return arr.astype(np.float64)


def llff_to_opengl(poses: np.ndarray) -> np.ndarray:
    """(N, 3, 4) LLFF [down, right, backwards, t] camera-to-world -> OpenGL [right, up, backwards, t]."""
    return np.stack([poses[:, :, 1], -poses[:, :, 0], poses[:, :, 2], poses[:, :, 3]], axis=-1)


def parse_llff(
    root: str | Path, background: str = "white", check_images: bool = True, hold_every: int = 8
) -> SceneDataset:
    """Parse an LLFF folder (``poses_bounds.npy`` + ``images*/``) into a :class:`SceneDataset`.

    The cameras are at the resolution of the chosen image folder (e.g. 504x378 for fern's ``images_8``).

    Raises:
        InputError: unreadable/misshapen ``poses_bounds.npy``, invalid poses or hwf, or no image folder with N
            images of a consistent size.
    """
    root = Path(root)
    npy = root / POSES_FILE
    arr = load_poses_bounds(npy)
    n = arr.shape[0]
    poses = arr[:, :15].reshape(n, 3, 5)
    near_far = arr[:, 15:17]
    hwf = poses[:, :, 4]  # (N, 3): H, W, focal at full resolution
    for i in range(n):
        if not np.all(np.isfinite(hwf[i])) or np.any(hwf[i] <= 0):
            raise InputError(f"[H, W, focal] must be positive, got {hwf[i].tolist()}", file=npy, field=f"row {i} hwf")
        if not np.all(np.isfinite(near_far[i])):
            raise InputError(
                f"near/far must be finite, got {near_far[i].tolist()}", file=npy, field=f"row {i} near/far"
            )
    c2w = llff_to_opengl(poses[:, :, :4])
    for i in range(n):
        check_c2w(c2w[i], npy, f"row {i} pose")

    full_h, full_w = hwf[:, 0], hwf[:, 1]
    chosen = None
    tried = []
    for factor, folder in _candidate_folders(root):
        files = _image_files(folder)
        if len(files) != n:
            tried.append(f"{folder.name}: {len(files)} images")
            continue
        w, h = image_size(files[0], what="image")
        sx, sy = full_w[0] / w, full_h[0] / h
        # one factor for both axes (allowing the +-1 pixel of floor/ceil rounding)
        if abs(round(full_w[0] / sy) - w) > 1 or abs(round(full_h[0] / sx) - h) > 1:
            tried.append(f"{folder.name}: {w}x{h} is not {int(full_w[0])}x{int(full_h[0])} / k")
            continue
        chosen = (folder, files, w, h)
        break
    if chosen is None:
        detail = "; ".join(tried) if tried else "no images/ or images_<k>/ folder"
        raise InputError(
            f"no image folder with {n} images matching the poses' size {int(full_w[0])}x{int(full_h[0])} ({detail})",
            file=npy,
            field="hwf",
        )
    folder, files, w, h = chosen
    image_fields = [f"{folder.name}/{p.name}" for p in files]
    if check_images:
        for p, fld in zip(files[1:], image_fields[1:]):
            wk, hk = image_size(p, field=fld)
            if (wk, hk) != (w, h):
                raise InputError(f"image is {wk}x{hk} (WxH) but {files[0].name} is {w}x{h}", file=p, field="hwf")

    fx = hwf[:, 2] * w / full_w
    fy = hwf[:, 2] * h / full_h
    cams = Cameras(
        c2w=torch.from_numpy(c2w).float(),
        fx=torch.from_numpy(fx).float(),
        fy=torch.from_numpy(fy).float(),
        cx=torch.full((n,), w / 2.0),
        cy=torch.full((n,), h / 2.0),
        width=torch.full((n,), w, dtype=torch.int64),
        height=torch.full((n,), h, dtype=torch.int64),
        model="PINHOLE",
    )
    return SceneDataset(
        root=root,
        kind="llff",
        cameras=cams,
        image_paths=list(files),
        splits=split_every_nth(n, hold_every),
        background=background,
        bounded=False,
        aabb=frustum_aabb(c2w, fx, fy, w, h, near_far),
        metadata={
            "format": "llff",
            "file": str(npy),
            "image_folder": folder.name,
            "factor": float(full_w[0] / w),
            "full_hwf": hwf[0].tolist(),
            "near_far": near_far.tolist(),
            "image_wh": [[w, h] for _ in range(n)],
            "image_fields": image_fields,
            "size_fields": [f"{POSES_FILE}:row {i} hwf" for i in range(n)],
        },
    )


def frustum_aabb(c2w: np.ndarray, fx: np.ndarray, fy: np.ndarray, w: int, h: int, near_far: np.ndarray) -> np.ndarray:
    """(2, 3) float32 bounds of all camera frustums between near and far (c2w: (N, 3, 4) OpenGL)."""
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h], [w / 2, h / 2]], dtype=np.float64)
    pts = []
    for i in range(c2w.shape[0]):
        d = np.stack([(corners[:, 0] - w / 2) / fx[i], -(corners[:, 1] - h / 2) / fy[i], -np.ones(len(corners))], -1)
        d = d @ c2w[i, :, :3].T
        for depth in near_far[i]:
            pts.append(c2w[i, :, 3] + d * depth)
    p = np.concatenate(pts)
    return np.stack([p.min(0), p.max(0)]).astype(np.float32)
