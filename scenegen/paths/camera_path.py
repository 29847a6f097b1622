"""Reader and writer of nerfstudio viewer camera paths (``camera_path.json``).

What ``ns-render camera-path`` reads, and therefore what this module reads (nerfstudio
``cameras/camera_paths.py::get_path_from_json`` and ``scripts/render.py``):

* ``camera_path[i].camera_to_world``: 16 numbers, a row-major 4x4 camera-to-world matrix in the OpenGL
  convention (camera looks down -Z, +Y up) -- ``torch.tensor(camera["camera_to_world"]).view(4, 4)[:3]``.
  A nested 4x4 list (hand-written files) is accepted too, as ``view(4, 4)`` accepts it.
* ``camera_path[i].fov``: the VERTICAL field of view in degrees (three.js ``PerspectiveCamera.fov``):
  ``fx = fy = (render_height / 2) / tan(fov / 2)`` (``three_js_perspective_camera_focal_length``), principal
  point at the image centre ``(render_width / 2, render_height / 2)``. ``aspect`` is NOT used by nerfstudio:
  the image size is ``render_width`` x ``render_height``.
* ``camera_type``: ``perspective`` (default when absent), ``fisheye`` (equidistant fisheye with the same
  focal formula as perspective -- nerfstudio's convention: the top image edge is ``tan(fov/2)`` radians off
  the axis, not ``fov/2``), ``equirectangular`` (``fx = W/2``, ``fy = H``, fov ignored), ``omnidirectional``
  and ``vr180`` (stereo; refused here: no stereo support yet).
* ``seconds``: the video length; nerfstudio writes the video at ``len(camera_path) / seconds`` frames per
  second (``fps = len(cameras) / seconds`` in ``_render_trajectory_video``), not at the ``fps`` field.
* ``crop`` (optional): ``crop_center``, ``crop_scale``, ``crop_rot`` (optional), ``crop_bg_color`` {r,g,b}
  0..255.

Everything else (``keyframes`` in either viewer layout, ``smoothness_value``, ``is_cycle``, ``default_fov``,
``render_time``...) is kept verbatim in :attr:`CameraPath.raw` so :func:`save_camera_path` writes it back.

Frames. A path exported by the viewer of a model trained by nerfstudio lives in nerfstudio's *dataparser
frame*. ``dataparser_transforms.json`` (``transform`` 3x4, ``scale``) is what the dataparser applied:
``p_path = scale * (transform @ p_original)`` (nerfstudio ``transform_poses_to_original_space`` undoes it:
``poses[..., :3, 3] /= applied_scale`` then ``inverse(transform) @ poses``). Since nerfstudio 0.3 the saved
``transform`` already includes the ``applied_transform`` of ``transforms.json`` (ns-process-data's axis swap)
and ``scale`` includes ``applied_scale``, so its "original" frame is the COLMAP frame, NOT the frame of the
``transform_matrix`` entries of ``transforms.json`` that scenegen's dataset world uses. Pass the dataset's
``transforms.json`` as ``dataset_transforms`` to land in that frame:
``p_world = applied_scale * applied_transform @ inverse(transform) @ (p_path / scale)``.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from scenegen.cameras.cameras import Cameras
from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text
from scenegen.core.validate import describe, matrix, number, positive, positive_int, read_json, read_json_text

__all__ = [
    "CAMERA_TYPES",
    "STEREO_CAMERA_TYPES",
    "CameraPath",
    "Crop",
    "DataparserTransform",
    "camera_path_from_dict",
    "focal_from_fov",
    "fov_from_focal",
    "load_camera_path",
    "load_dataparser_transforms",
    "save_camera_path",
]

log = logging.getLogger(__name__)

#: camera types this module renders, with the scenegen camera model used for each.
CAMERA_TYPES: dict[str, str] = {
    "perspective": "PINHOLE",
    "fisheye": "OPENCV_FISHEYE",
    "equirectangular": "EQUIRECTANGULAR",
}
#: stereo camera types nerfstudio knows and scenegen refuses (for now).
STEREO_CAMERA_TYPES = ("omnidirectional", "vr180")

_ROT_WARN_TOL = 1e-3  # max |R^T R - I| above which a rotation is reported as re-orthonormalised
BOTTOM_ROW_TOL = 1e-6


# ----------------------------------------------------------------------------------------------------------
# fov <-> focal
# ----------------------------------------------------------------------------------------------------------


def focal_from_fov(fov_deg: float | Tensor | np.ndarray, height: float) -> Any:
    """Focal length in pixels of a camera with VERTICAL field of view ``fov_deg`` and image ``height``.

    ``f = (height / 2) / tan(fov / 2)`` -- nerfstudio ``three_js_perspective_camera_focal_length``
    (``pp_h = image_height / 2.0; focal_length = pp_h / np.tan(fov * (np.pi / 180.0) / 2.0)``).
    """
    if isinstance(fov_deg, Tensor):
        return (height / 2.0) / torch.tan(torch.deg2rad(fov_deg.double()) / 2.0)
    if isinstance(fov_deg, np.ndarray):
        return (height / 2.0) / np.tan(np.deg2rad(fov_deg) / 2.0)
    return (height / 2.0) / math.tan(math.radians(fov_deg) / 2.0)


def fov_from_focal(focal: float | Tensor | np.ndarray, height: float) -> Any:
    """Inverse of :func:`focal_from_fov`: vertical fov in degrees of a focal length (pixels)."""
    if isinstance(focal, Tensor):
        return torch.rad2deg(2.0 * torch.atan((height / 2.0) / focal.double()))
    if isinstance(focal, np.ndarray):
        return np.rad2deg(2.0 * np.arctan((height / 2.0) / focal))
    return math.degrees(2.0 * math.atan((height / 2.0) / focal))


# ----------------------------------------------------------------------------------------------------------
# Validation helpers (every problem -> InputError(file, field)) on top of scenegen.core.validate
# ----------------------------------------------------------------------------------------------------------


def check_fov(value: Any, file: Any, fld: str) -> float:
    """A vertical field of view in degrees, in (0, 180)."""
    v = number(value, file, fld)
    if not 0.0 < v < 180.0:
        raise InputError(f"must be in (0, 180) degrees (vertical field of view), got {describe(value)}", file, fld)
    return v


def nearest_rotation(m: np.ndarray, file: Any, fld: str) -> tuple[np.ndarray, float]:
    """Nearest proper rotation (polar decomposition) of a 3x3 block, and its deviation max|M^T M - I|.

    Raises InputError for degenerate or mirrored blocks (det <= 0): those are not camera orientations.
    """
    det = float(np.linalg.det(m))
    if not det > 1e-9:
        kind = "mirrored (det < 0)" if det < -1e-9 else "degenerate (det = 0)"
        raise InputError(f"rotation part is {kind}: not a camera-to-world matrix", file=file, field=fld)
    u, _, vt = np.linalg.svd(m)
    r = u @ vt
    dev = float(np.abs(m.T @ m - np.eye(3)).max())
    return r, dev


# ----------------------------------------------------------------------------------------------------------
# Similarity transforms between the path frame and the world frame
# ----------------------------------------------------------------------------------------------------------


def _similarity_parts(m: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Split a 4x4 similarity ``[s R | t]`` into (s, R (3,3), t (3,))."""
    s = float(np.cbrt(np.linalg.det(m[:3, :3])))
    return s, m[:3, :3] / s, m[:3, 3]


def _apply_similarity(m: np.ndarray, c2w: np.ndarray) -> np.ndarray:
    """Map camera-to-world matrices (N, 3, 4) through a 4x4 similarity; rotations stay unit (scale dropped)."""
    s, r, t = _similarity_parts(m)
    out = np.empty_like(c2w)
    out[:, :, :3] = np.einsum("ij,njk->nik", r, c2w[:, :, :3])
    out[:, :, 3] = np.einsum("ij,nj->ni", s * r, c2w[:, :, 3]) + t
    return out


@dataclass
class DataparserTransform:
    """nerfstudio's dataparser transform, and optionally the dataset's own ``applied_transform``.

    Attributes:
        transform: (4, 4) float64, ``dataparser_transforms.json["transform"]`` with a ``[0, 0, 0, 1]`` row.
        scale: ``dataparser_transforms.json["scale"]``.
        applied_transform: (4, 4) float64, ``transforms.json["applied_transform"]`` (identity if not given).
        applied_scale: ``transforms.json["applied_scale"]`` (1 if not given).
        file: the dataparser_transforms.json read (for messages).
    """

    transform: np.ndarray
    scale: float
    applied_transform: np.ndarray = field(default_factory=lambda: np.eye(4))
    applied_scale: float = 1.0
    file: Path | None = None

    def world_from_path(self) -> np.ndarray:
        """(4, 4) similarity mapping path-frame points to world points.

        ``p_world = applied_scale * applied_transform @ inverse(transform) @ (p_path / scale)``.
        """
        k = self.applied_scale / self.scale
        return self.applied_transform @ np.linalg.inv(self.transform) @ np.diag([k, k, k, 1.0])

    def path_from_world(self) -> np.ndarray:
        """(4, 4) inverse of :meth:`world_from_path` (what nerfstudio's dataparser applied)."""
        return np.linalg.inv(self.world_from_path())


def _check_rotation(m: np.ndarray, file: Any, fld: str) -> None:
    """nerfstudio's transforms are rotation + translation; anything else (mirror, shear, scale) is refused."""
    if not (abs(float(np.linalg.det(m)) - 1.0) < 1e-3 and np.abs(m.T @ m - np.eye(3)).max() < 1e-3):
        raise InputError("the 3x3 part must be a rotation (orthonormal, det +1)", file=file, field=fld)


def load_dataparser_transforms(
    dataparser_transforms: str | Path, dataset_transforms: str | Path | None = None
) -> DataparserTransform:
    """Read ``dataparser_transforms.json`` (and optionally the dataset's ``transforms.json``).

    Args:
        dataparser_transforms: nerfstudio's ``<run>/dataparser_transforms.json``: ``{"transform": 3x4,
            "scale": float}``.
        dataset_transforms: the dataset's ``transforms.json``; its ``applied_transform`` (3x4) and
            ``applied_scale`` are folded back in, as nerfstudio folds them into the saved transform. When
            the file has no ``applied_transform`` but ``colmap/sparse/0`` exists beside it, nerfstudio's
            legacy default ``[[0,1,0,0],[1,0,0,0],[0,0,-1,0]]`` is used, as nerfstudio does.
    Raises:
        InputError: naming the file and the field at fault.
    """
    file = Path(dataparser_transforms)
    data = read_json(file, "dataparser transforms")
    if not isinstance(data, dict):
        raise InputError("must be a JSON object with 'transform' and 'scale'", file=file)
    if "transform" not in data:
        raise InputError("missing (a 3x4 matrix)", file=file, field="transform")
    t = matrix(data["transform"], (3, 4), file, "transform")
    if t.shape[0] == 4 and np.abs(t[3] - [0, 0, 0, 1]).max() > BOTTOM_ROW_TOL:
        raise InputError("last row of a 4x4 transform must be [0, 0, 0, 1]", file=file, field="transform")
    t4 = np.eye(4)
    t4[:3] = t[:3]
    _check_rotation(t4[:3, :3], file, "transform")
    if "scale" not in data:
        raise InputError("missing (a positive number)", file=file, field="scale")
    scale = positive(data["scale"], file, "scale")

    applied = np.eye(4)
    applied_scale = 1.0
    if dataset_transforms is not None:
        dfile = Path(dataset_transforms)
        meta = read_json(dfile, "dataset transforms")
        if not isinstance(meta, dict):
            raise InputError("must be a JSON object", file=dfile)
        if "applied_transform" in meta:
            a = matrix(meta["applied_transform"], (3, 4), dfile, "applied_transform")
            applied[:3] = a[:3]
            _check_rotation(applied[:3, :3], dfile, "applied_transform")
        elif (dfile.parent / "colmap" / "sparse" / "0").exists():
            applied[:3] = [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, -1, 0]]
        if "applied_scale" in meta:
            applied_scale = positive(meta["applied_scale"], dfile, "applied_scale")
    return DataparserTransform(
        transform=t4, scale=scale, applied_transform=applied, applied_scale=applied_scale, file=file
    )


# ----------------------------------------------------------------------------------------------------------
# CameraPath
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Crop:
    """nerfstudio viewer crop box (``crop`` key), in the PATH frame (not mapped to world).

    Attributes:
        center: (3,) box centre.
        scale: (3,) box size.
        rotation: (3,) ``crop_rot`` Euler angles as written (zeros when absent).
        background: (3,) background colour in [0, 1] (``crop_bg_color`` / 255).
    """

    center: tuple[float, float, float]
    scale: tuple[float, float, float]
    rotation: tuple[float, float, float]
    background: tuple[float, float, float]


@dataclass
class CameraPath:
    """A camera path to render.

    Attributes:
        cameras: N cameras in WORLD units (the path frame mapped through :attr:`world_from_path`), OpenGL
            c2w, intrinsics for ``render_width`` x ``render_height``. Model ``PINHOLE`` (perspective),
            ``OPENCV_FISHEYE`` with zero distortion (fisheye) or ``EQUIRECTANGULAR``.
        fps: the file's ``fps`` (``N / seconds`` when absent). See :attr:`video_fps`.
        seconds: the file's ``seconds`` (video length).
        camera_type: "perspective" | "fisheye" | "equirectangular".
        raw: the whole JSON object as read; :func:`save_camera_path` writes it back.
        fovs: (N,) float64 vertical fov in degrees per camera as read (NaN for equirectangular, where fov is
            unused); the cameras' focal lengths are the source of truth after edits.
        times: (N,) float64 ``render_time`` of every camera when all have one (dynamic scenes), else None.
        crop: the viewer crop box when present (path frame), else None.
        world_from_path: (4, 4) float64 similarity from the file's frame to world (identity without
            dataparser transforms).
        source: the file read, if any.
        warnings: non-fatal oddities found while reading (also logged).
    """

    cameras: Cameras
    fps: float
    seconds: float
    camera_type: str
    raw: dict
    fovs: np.ndarray
    times: np.ndarray | None = None
    crop: Crop | None = None
    world_from_path: np.ndarray = field(default_factory=lambda: np.eye(4))
    source: Path | None = None
    warnings: list[str] = field(default_factory=list)
    _loaded: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.cameras)

    @property
    def num_frames(self) -> int:
        return len(self.cameras)

    @property
    def render_width(self) -> int:
        return int(self.cameras.width[0])

    @property
    def render_height(self) -> int:
        return int(self.cameras.height[0])

    @property
    def video_fps(self) -> float:
        """Frame rate of the rendered video: ``N / seconds``, as ``ns-render`` does."""
        return len(self.cameras) / self.seconds

    def scaled(self, factor: float) -> "CameraPath":
        """A copy whose cameras render at ``factor`` times the resolution (e.g. 0.5 for a quick preview)."""
        return replace(self, cameras=self.cameras.scaled(factor), warnings=list(self.warnings))


def parse_crop(value: Any, file: Any) -> Crop | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError(f"must be an object or null, got {describe(value)}", file=file, field="crop")

    def vec3(key: str, required: bool, default=(0.0, 0.0, 0.0)) -> tuple[float, float, float]:
        fld = f"crop.{key}"
        if key not in value:
            if required:
                raise InputError("missing (3 numbers)", file=file, field=fld)
            return default
        v = value[key]
        if not isinstance(v, list) or len(v) != 3:
            raise InputError(f"must be a list of 3 numbers, got {describe(v)}", file=file, field=fld)
        return tuple(number(x, file, f"{fld}[{k}]") for k, x in enumerate(v))  # type: ignore[return-value]

    center = vec3("crop_center", True)
    scale = vec3("crop_scale", True)
    for k, s in enumerate(scale):
        if s < 0:
            raise InputError(f"must not be negative, got {s}", file=file, field=f"crop.crop_scale[{k}]")
    rot = vec3("crop_rot", False)
    bg = value.get("crop_bg_color", {"r": 0, "g": 0, "b": 0})
    if not isinstance(bg, dict):
        raise InputError(f"must be an object {{r, g, b}}, got {describe(bg)}", file=file, field="crop.crop_bg_color")
    color = []
    for ch in "rgb":
        fld = f"crop.crop_bg_color.{ch}"
        c = number(bg.get(ch, 0), file, fld)
        if not 0 <= c <= 255:
            raise InputError(f"must be in [0, 255], got {describe(c)}", file=file, field=fld)
        color.append(c / 255.0)
    return Crop(center=center, scale=scale, rotation=rot, background=tuple(color))  # type: ignore[arg-type]


def camera_path_from_dict(
    data: Any,
    *,
    source: str | Path | None = None,
    world_from_path: np.ndarray | None = None,
) -> CameraPath:
    """Build a :class:`CameraPath` from an already parsed camera_path.json object.

    Args:
        data: the JSON object (it is kept, not copied, as ``raw``).
        source: file name used in error messages.
        world_from_path: (4, 4) similarity (positive scale times a rotation, plus a translation) from the
            file's frame to world; identity when None.
    Raises:
        InputError: naming ``source`` and the field at fault, e.g. ``camera_path[3].camera_to_world``.
    """
    file = Path(source) if source is not None else "<camera path>"
    if not isinstance(data, dict):
        raise InputError(f"must be a JSON object (a nerfstudio camera path), got {type(data).__name__}", file)
    warn: list[str] = []

    # camera type
    ctype = data.get("camera_type", "perspective")
    if not isinstance(ctype, str):
        raise InputError(f"must be a string, got {describe(ctype)}", file=file, field="camera_type")
    ctype_l = ctype.lower()
    if ctype_l in STEREO_CAMERA_TYPES:
        raise InputError(
            f"{ctype!r} is a stereo camera type; stereo rendering is not supported yet "
            f"(use one of: {', '.join(CAMERA_TYPES)})",
            file=file,
            field="camera_type",
        )
    if ctype_l not in CAMERA_TYPES:
        raise InputError(
            f"unknown camera type {ctype!r} (expected one of: {', '.join(CAMERA_TYPES)})",
            file=file,
            field="camera_type",
        )

    # image size, timing
    for key in ("render_height", "render_width", "seconds"):
        if key not in data:
            raise InputError("missing", file=file, field=key)
    height = positive_int(data["render_height"], file, "render_height")
    width = positive_int(data["render_width"], file, "render_width")
    seconds = positive(data["seconds"], file, "seconds")

    frames = data.get("camera_path")
    if frames is None:
        raise InputError("missing: the list of cameras to render", file=file, field="camera_path")
    if not isinstance(frames, list):
        raise InputError(f"must be a list of cameras, got {describe(frames)}", file=file, field="camera_path")
    if not frames:
        raise InputError("is empty: nothing to render", file=file, field="camera_path")
    n = len(frames)
    fps = positive(data["fps"], file, "fps") if "fps" in data else n / seconds
    if "fps" in data and abs(fps * seconds - n) > 0.5:
        warn.append(
            f"fps * seconds = {fps * seconds:g} but camera_path has {n} cameras; the video will play the "
            f"{n} frames over {seconds:g} s ({n / seconds:g} fps), as ns-render does"
        )

    # cameras
    c2w = np.empty((n, 3, 4), dtype=np.float64)
    fovs = np.full(n, np.nan, dtype=np.float64)
    uses_fov = ctype_l != "equirectangular"
    fixed = 0
    worst = 0.0
    for i, cam in enumerate(frames):
        base = f"camera_path[{i}]"
        if not isinstance(cam, dict):
            raise InputError(f"must be an object, got {describe(cam)}", file=file, field=base)
        fld = f"{base}.camera_to_world"
        if "camera_to_world" not in cam:
            raise InputError("missing (16 numbers, a row-major 4x4 matrix)", file=file, field=fld)
        m = matrix(cam["camera_to_world"], (4,), file, fld)
        if np.abs(m[3] - [0, 0, 0, 1]).max() > BOTTOM_ROW_TOL:
            raise InputError(
                f"last row must be [0, 0, 0, 1], got {m[3].tolist()} (is the matrix column-major?)",
                file=file,
                field=fld,
            )
        rot, dev = nearest_rotation(m[:3, :3], file, fld)
        if dev > _ROT_WARN_TOL:
            fixed += 1
            worst = max(worst, dev)
        c2w[i, :, :3] = rot
        c2w[i, :, 3] = m[:3, 3]
        if uses_fov:
            ffld = f"{base}.fov"
            if "fov" not in cam:
                raise InputError("missing (vertical field of view in degrees)", file=file, field=ffld)
            fovs[i] = check_fov(cam["fov"], file, ffld)
    if fixed:
        warn.append(
            f"{fixed} camera_to_world rotation(s) were not orthonormal (max |R^T R - I| = {worst:.3g}); "
            "replaced by the nearest rotation"
        )

    times = None
    if all(isinstance(c, dict) and "render_time" in c for c in frames):
        times = np.array([number(c["render_time"], file, f"camera_path[{i}].render_time") for i, c in
                          enumerate(frames)])

    crop = parse_crop(data.get("crop"), file)

    # path frame -> world
    m_wp = np.eye(4) if world_from_path is None else np.asarray(world_from_path, dtype=np.float64)
    c2w_world = _apply_similarity(m_wp, c2w)

    if ctype_l == "equirectangular":
        fx = np.full(n, width / 2.0)
        fy = np.full(n, float(height))
    else:
        fx = fy = np.asarray(focal_from_fov(fovs, height), dtype=np.float64)
    cameras = Cameras(
        c2w=torch.from_numpy(c2w_world).float(),
        fx=torch.from_numpy(fx).float(),
        fy=torch.from_numpy(fy).float(),
        cx=width / 2.0,
        cy=height / 2.0,
        width=width,
        height=height,
        model=CAMERA_TYPES[ctype_l],
    )
    for w in warn:
        log.warning("%s: %s", file, w)
    path = CameraPath(
        cameras=cameras,
        fps=fps,
        seconds=seconds,
        camera_type=ctype_l,
        raw=data,
        fovs=fovs,
        times=times,
        crop=crop,
        world_from_path=m_wp,
        source=Path(source) if source is not None else None,
        warnings=warn,
    )
    path._loaded = _snapshot(path)
    return path


def load_camera_path(
    path: str | Path,
    dataparser_transforms: str | Path | None = None,
    *,
    dataset_transforms: str | Path | None = None,
) -> CameraPath:
    """Read a nerfstudio viewer ``camera_path.json`` (older and newer viewer layouts).

    Args:
        path: the camera path file.
        dataparser_transforms: nerfstudio's ``dataparser_transforms.json`` when the path was made in the
            viewer of a nerfstudio-trained model: cameras are then mapped back from nerfstudio's dataparser
            frame to the dataset's frame (see the module docstring).
        dataset_transforms: the dataset's ``transforms.json``, to also undo its ``applied_transform`` /
            ``applied_scale`` (only with ``dataparser_transforms``).
    Returns:
        The path with cameras in world units. Stereo types (omnidirectional, vr180) are refused.
    Raises:
        InputError: the file (or a transforms file) is missing or malformed; the message names the file
            and the field, e.g. ``camera_path[3].camera_to_world``.
    """
    file = Path(path)
    data, text = read_json_text(file, "camera path")
    m_wp = None
    if dataparser_transforms is not None:
        m_wp = load_dataparser_transforms(dataparser_transforms, dataset_transforms).world_from_path()
    elif dataset_transforms is not None:
        raise InputError("is only used together with dataparser_transforms.json", file=dataset_transforms)
    out = camera_path_from_dict(data, source=file, world_from_path=m_wp)
    out._loaded["indent"] = 2 if "\n" in text.strip() else None
    return out


# ----------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------


def _snapshot(path: CameraPath) -> dict:
    c = path.cameras
    return {
        "fps": path.fps,
        "seconds": path.seconds,
        "camera_type": path.camera_type,
        "c2w": c.c2w.clone(),
        "fx": c.fx.clone(),
        "fy": c.fy.clone(),
        "cx": c.cx.clone(),
        "cy": c.cy.clone(),
        "width": c.width.clone(),
        "height": c.height.clone(),
        "model": list(c.model),
    }


def _camera_changed(snap: dict, cams: Cameras, i: int) -> bool:
    if i >= len(snap["c2w"]):
        return True
    return not (
        torch.equal(snap["c2w"][i], cams.c2w[i])
        and all(bool(snap[k][i] == getattr(cams, k)[i]) for k in ("fx", "fy", "cx", "cy", "width", "height"))
        and snap["model"][i] == cams.model[i]
    )


def _to_path_dict(path: CameraPath) -> dict:
    """The JSON object to write: ``raw`` with what changed on the dataclass applied on top."""
    out = copy.deepcopy(path.raw)
    snap = path._loaded
    if not snap:  # built by hand: write everything
        snap = {"c2w": torch.empty(0, 3, 4), "model": []}
    for key in ("fps", "seconds", "camera_type"):
        if snap.get(key) != getattr(path, key):
            out[key] = getattr(path, key)
    cams = path.cameras
    n = len(cams)
    changed = [_camera_changed(snap, cams, i) for i in range(n)]
    old = out.get("camera_path") if isinstance(out.get("camera_path"), list) else []
    if not any(changed) and len(old) == n:
        return out

    w, h = int(cams.width[0]), int(cams.height[0])
    if bool((cams.width != w).any()) or bool((cams.height != h).any()):
        raise ValueError("save_camera_path: all cameras of a path must have the same image size")
    if not (torch.allclose(cams.cx, torch.tensor(w / 2.0)) and torch.allclose(cams.cy, torch.tensor(h / 2.0))):
        raise ValueError("save_camera_path: nerfstudio paths need the principal point at the image centre")
    ctype = path.camera_type
    if ctype not in CAMERA_TYPES:
        raise ValueError(f"save_camera_path: cannot write camera_type {ctype!r}")
    if ctype != "equirectangular" and not torch.allclose(cams.fx, cams.fy, rtol=1e-5):
        raise ValueError("save_camera_path: nerfstudio paths need fx == fy (square pixels)")
    if int(snap.get("width", torch.tensor([-1]))[0]) != w or int(snap.get("height", torch.tensor([-1]))[0]) != h:
        out["render_width"], out["render_height"] = w, h

    path_from_world = np.linalg.inv(path.world_from_path)
    c2w_path = _apply_similarity(path_from_world, cams.c2w.double().numpy())
    fovs = fov_from_focal(cams.fy.double().numpy(), float(h))
    entries = []
    for i in range(n):
        if i < len(old) and not changed[i]:
            entries.append(old[i])
            continue
        e = dict(old[i]) if i < len(old) and isinstance(old[i], dict) else {}
        m = np.eye(4)
        m[:3] = c2w_path[i]
        e["camera_to_world"] = [float(x) for x in m.reshape(-1)]
        if ctype != "equirectangular":
            e["fov"] = float(fovs[i])
        e["aspect"] = w / h
        entries.append(e)
    out["camera_path"] = entries
    return out


def save_camera_path(path: CameraPath, out: str | Path) -> Path:
    """Write ``path`` as a nerfstudio camera_path.json (atomically: temp file + rename).

    Every key of ``path.raw`` is written back unchanged, apart from what was changed on the dataclass
    (``fps``, ``seconds``, ``camera_type``, cameras; changed cameras are mapped back to the file's frame and
    written as 16 row-major numbers with their vertical ``fov``). Edits made directly to ``path.raw`` are
    kept as they are.

    Returns:
        The file written.
    """
    out = Path(out)
    data = _to_path_dict(path)
    indent = path._loaded.get("indent", 2)
    text = json.dumps(data, indent=indent, allow_nan=False)
    atomic_write_text(out, text + "\n", "camera path")
    return out
