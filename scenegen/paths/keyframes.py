"""The camera-path model: keyframes and path settings, read from / written to nerfstudio ``camera_path.json``.

A :class:`PathSpec` is what a user authors (keyframes + timing + image settings); ``scenegen.paths.interpolate``
turns it into rendered frames. Conventions (the same as :mod:`scenegen.paths.nerfstudio_path`):

* camera-to-world in the OpenGL convention (the camera looks down -Z, +Y is image up), world units as given;
* rotations are unit quaternions **wxyz** of the camera-to-world rotation;
* ``fov`` is the VERTICAL field of view in degrees.

Timing. Keyframe ``i`` is held still for ``hold`` seconds, then the camera moves to keyframe ``i + 1`` in
``transition`` seconds (``None``: the path's ``default_transition``). For an open path the last keyframe's
transition is unused (its hold is not); for a loop (``loop=True``) the last transition goes back to keyframe 0.

nerfstudio file layouts read by :func:`spec_from_nerfstudio` (both written by the viewer's render panel):

* **v1** (nerfstudio >= 0.3, viser): ``keyframes[i].matrix`` is a list of 16 numbers, a ROW-major 4x4
  camera-to-world; ``fov`` (degrees), ``aspect``, ``override_transition_enabled``, ``override_transition_sec``;
  top level ``default_fov``, ``default_transition_sec``, ``smoothness_value``, ``is_cycle``, ``fps``, ``seconds``,
  ``render_width``/``render_height``, ``camera_type``, ``camera_path`` (the rendered frames). nerfstudio's
  ``override_transition_sec`` of keyframe ``i`` is the time of the transition INTO keyframe ``i`` (from
  ``i - 1``; keyframe 0's closes a loop: ``CameraPath.compute_transition_times_cumsum``), so it is stored here as
  ``keyframes[i - 1].transition``. ``smoothness_value`` is what the viewer uses as Kochanek-Bartels tension
  (its slider is labelled "Spline tension"): :attr:`PathSpec.smoothness` is that value unchanged.
* **older** (nerfstudio < 0.3, three.js): ``keyframes[i].matrix`` is a JSON *string* of three.js
  ``Matrix4.elements``, i.e. a COLUMN-major 4x4 (the translation is elements 12..14; the same file's
  ``camera_path`` stores the transposes, row-major); ``fov``, ``aspect`` and ``properties``, a JSON string of
  ``[["FOV", deg], ["NAME", str], ["TIME", 0..1]]``. That viewer spread the keyframes evenly over ``seconds``
  (``THREE.CatmullRomCurve3.getPoints(fps * seconds)``: uniform in the curve parameter, ignoring ``TIME``, which
  only drove its preview slider), so every transition is ``seconds / (K - 1)`` (``seconds / K`` for a loop).
  Its ``smoothness_value`` was the three.js Catmull-Rom tension ``tau`` (tangent ``tau * (p[i+1] - p[i-1])``);
  the Kochanek-Bartels tension with the same tangents is ``1 - 2 tau``, clipped to [0, 1].
* **frames only** (no ``keyframes``): one keyframe per rendered camera, transitions ``1 / fps``; an open path
  holds its last camera for ``1 / fps`` so that every camera is a rendered frame.

:func:`spec_to_nerfstudio` writes the v1 layout, the rendered ``camera_path`` and every top-level key nerfstudio
writes, so the file loads in nerfstudio's viewer and renders with ``ns-render``; what nerfstudio has no notion of
is written under ``scenegen_*`` keys only when used (``scenegen_constant_speed``, ``scenegen_ease``, keyframe
``scenegen_hold`` and ``scenegen_name``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from scenegen.core.io import atomic_write_text
from scenegen.core.errors import InputError
from scenegen.paths.nerfstudio_path import (
    _BOTTOM_ROW_TOL,
    CAMERA_TYPES,
    STEREO_CAMERA_TYPES,
    _fmt,
    _matrix,
    _nearest_rotation,
    _number,
    _parse_crop,
    _positive,
    _positive_int,
    _read_json,
)

__all__ = [
    "PATH_CAMERA_TYPES",
    "Keyframe",
    "PathSpec",
    "load_path_spec",
    "matrix_from_quat",
    "quat_from_matrix",
    "save_path_spec",
    "spec_from_nerfstudio",
    "spec_to_nerfstudio",
]

#: camera types a path may name (nerfstudio's); stereo ones are refused when rendering.
PATH_CAMERA_TYPES = tuple(CAMERA_TYPES) + tuple(STEREO_CAMERA_TYPES)

# top-level keys this module reads; every other key goes to PathSpec.extra verbatim
_KNOWN_TOP = {
    "default_fov",
    "default_transition_sec",
    "keyframes",
    "camera_type",
    "render_height",
    "render_width",
    "fps",
    "seconds",
    "is_cycle",
    "smoothness_value",
    "camera_path",
    "scenegen_constant_speed",
    "scenegen_ease",
}
_KNOWN_KF_V1 = {
    "matrix",
    "fov",
    "aspect",
    "override_transition_enabled",
    "override_transition_sec",
    "scenegen_hold",
    "scenegen_name",
}
_KNOWN_KF_OLD = {"matrix", "fov", "aspect", "properties"}


# ----------------------------------------------------------------------------------------------------------
# Quaternions (wxyz) <-> rotation matrices
# ----------------------------------------------------------------------------------------------------------


def quat_from_matrix(r: np.ndarray) -> np.ndarray:
    """Unit quaternions wxyz (scalar first, ``w >= 0``) of rotation matrices.

    Args:
        r: (..., 3, 3) proper rotation matrices.
    Returns:
        (..., 4) float64.
    """
    r = np.asarray(r, dtype=np.float64)
    m = r.reshape(-1, 3, 3)
    out = np.empty((len(m), 4))
    for k, a in enumerate(m):
        tr = a[0, 0] + a[1, 1] + a[2, 2]
        # Shepperd: pick the largest of 4w^2, 4x^2, 4y^2, 4z^2 for a well-conditioned division
        cand = [tr, a[0, 0], a[1, 1], a[2, 2]]
        i = int(np.argmax(cand))
        if i == 0:
            s = 2.0 * math.sqrt(max(1.0 + tr, 0.0))
            q = [0.25 * s, (a[2, 1] - a[1, 2]) / s, (a[0, 2] - a[2, 0]) / s, (a[1, 0] - a[0, 1]) / s]
        elif i == 1:
            s = 2.0 * math.sqrt(max(1.0 + a[0, 0] - a[1, 1] - a[2, 2], 0.0))
            q = [(a[2, 1] - a[1, 2]) / s, 0.25 * s, (a[0, 1] + a[1, 0]) / s, (a[0, 2] + a[2, 0]) / s]
        elif i == 2:
            s = 2.0 * math.sqrt(max(1.0 + a[1, 1] - a[0, 0] - a[2, 2], 0.0))
            q = [(a[0, 2] - a[2, 0]) / s, (a[0, 1] + a[1, 0]) / s, 0.25 * s, (a[1, 2] + a[2, 1]) / s]
        else:
            s = 2.0 * math.sqrt(max(1.0 + a[2, 2] - a[0, 0] - a[1, 1], 0.0))
            q = [(a[1, 0] - a[0, 1]) / s, (a[0, 2] + a[2, 0]) / s, (a[1, 2] + a[2, 1]) / s, 0.25 * s]
        q = np.asarray(q)
        q /= np.linalg.norm(q)
        out[k] = -q if q[0] < 0 else q
    return out.reshape(r.shape[:-2] + (4,))


def matrix_from_quat(q: np.ndarray) -> np.ndarray:
    """Rotation matrices of quaternions wxyz (normalised first; ``q`` and ``-q`` give the same matrix).

    Args:
        q: (..., 4) quaternions, scalar first.
    Returns:
        (..., 3, 3) float64.
    """
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


# ----------------------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Keyframe:
    """One keyframe of a camera path.

    Attributes:
        position: (3,) float64 camera centre in world units.
        rotation: (4,) float64 unit quaternion wxyz of the camera-to-world rotation (OpenGL camera: looks down
            -Z, +Y up). Normalised on construction; its sign is kept (``q`` and ``-q`` are the same rotation).
        fov: vertical field of view in degrees, in (0, 180).
        aspect: width / height the keyframe was authored for (nerfstudio writes it; rendering uses the path's
            ``width`` / ``height``).
        transition: seconds from this keyframe to the next one; None = the path's ``default_transition``.
        hold: seconds the camera stays still at this keyframe before moving on (>= 0).
        name: optional label.
        extra: keys of the keyframe's JSON object this module does not know (e.g. ``render_time``), written
            back verbatim.
    """

    position: np.ndarray
    rotation: np.ndarray
    fov: float = 50.0
    aspect: float = 16.0 / 9.0
    transition: Optional[float] = None
    hold: float = 0.0
    name: Optional[str] = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = np.asarray(self.position, dtype=np.float64).reshape(3).copy()
        q = np.asarray(self.rotation, dtype=np.float64).reshape(4)
        n = float(np.linalg.norm(q))
        if not (math.isfinite(n) and n > 1e-12):
            raise ValueError(f"Keyframe.rotation must be a non-zero quaternion wxyz, got {q.tolist()}")
        self.rotation = q / n
        self.fov = float(self.fov)
        self.aspect = float(self.aspect)
        self.hold = float(self.hold)
        if self.transition is not None:
            self.transition = float(self.transition)

    @classmethod
    def from_c2w(
        cls,
        c2w: np.ndarray,
        fov: float = 50.0,
        aspect: float = 16.0 / 9.0,
        transition: Optional[float] = None,
        hold: float = 0.0,
        name: Optional[str] = None,
    ) -> "Keyframe":
        """Keyframe of a camera-to-world matrix.

        Args:
            c2w: (3, 4) or (4, 4) OpenGL camera-to-world; the 3x3 block is replaced by its nearest rotation.
        Raises:
            ValueError: the 3x3 block is degenerate or mirrored.
        """
        m = np.asarray(c2w, dtype=np.float64)
        if m.shape not in ((3, 4), (4, 4)):
            raise ValueError(f"c2w must be 3x4 or 4x4, got shape {m.shape}")
        try:
            r, _ = _nearest_rotation(m[:3, :3], None, "c2w")
        except InputError as e:
            raise ValueError(e.message) from None
        return cls(m[:3, 3], quat_from_matrix(r), fov, aspect, transition, hold, name)

    @classmethod
    def look_at(
        cls,
        position: Any,
        target: Any,
        up: Any = (0.0, 0.0, 1.0),
        fov: float = 50.0,
        aspect: float = 16.0 / 9.0,
        transition: Optional[float] = None,
        hold: float = 0.0,
        name: Optional[str] = None,
    ) -> "Keyframe":
        """A camera at ``position`` looking at ``target``, image up as close as possible to ``up``.

        Args:
            position, target, up: (3,) world vectors.
        Raises:
            ValueError: ``target == position`` or the view direction is parallel to ``up``.
        """
        p = np.asarray(position, dtype=np.float64).reshape(3)
        fwd = np.asarray(target, dtype=np.float64).reshape(3) - p
        u = np.asarray(up, dtype=np.float64).reshape(3)
        n = float(np.linalg.norm(fwd))
        scale = max(float(np.abs(p).max()), 1.0)
        if not n > 1e-12 * scale:
            raise ValueError("look_at: target equals position, the view direction is undefined")
        fwd = fwd / n
        un = float(np.linalg.norm(u))
        if not un > 0:
            raise ValueError("look_at: up must be a non-zero vector")
        right = np.cross(fwd, u / un)
        rn = float(np.linalg.norm(right))
        if rn < 1e-9:
            raise ValueError("look_at: the view direction is parallel to up")
        right /= rn
        cam_up = np.cross(right, fwd)
        r = np.stack([right, cam_up, -fwd], axis=1)  # columns: camera x, y, z (z points backwards)
        return cls(p, quat_from_matrix(r), fov, aspect, transition, hold, name)

    def set_c2w(self, c2w: np.ndarray) -> None:
        """Move the keyframe to a (3, 4) or (4, 4) camera-to-world (3x3 block -> nearest rotation).

        Raises:
            ValueError: wrong shape, or a degenerate / mirrored 3x3 block.
        """
        k = Keyframe.from_c2w(c2w)
        self.position, self.rotation = k.position, k.rotation

    def c2w(self) -> np.ndarray:
        """(4, 4) float64 OpenGL camera-to-world matrix."""
        m = np.eye(4)
        m[:3, :3] = matrix_from_quat(self.rotation)
        m[:3, 3] = self.position
        return m


@dataclass
class PathSpec:
    """A keyframed camera path and how to render it.

    Attributes:
        keyframes: at least one :class:`Keyframe`.
        width, height: rendered image size in pixels.
        fps: frames per second of the video.
        camera_type: perspective | fisheye | equirectangular | omnidirectional | vr180.
        smoothness: nerfstudio's ``smoothness_value`` in [0, 1], used as the Kochanek-Bartels tension as the
            viewer does (0: Catmull-Rom, 1: zero tangents -- straight segments that slow to a stop at every
            keyframe).
        loop: the path closes back to keyframe 0 (``is_cycle``).
        default_fov: vertical degrees (``default_fov``; keyframes always carry their own fov).
        default_transition: seconds of a transition whose keyframe has ``transition=None``.
        constant_speed: move at one constant speed along the whole path (holds excluded), keeping the total
            duration; keyframes are then reached at arc-length-proportional times.
        ease: ease in at the start and out at the end (smoothstep over the total moving time).
        extra: unknown top-level keys of the file, kept verbatim (e.g. ``crop``).
    """

    keyframes: list
    width: int = 1920
    height: int = 1080
    fps: float = 30.0
    camera_type: str = "perspective"
    smoothness: float = 0.5
    loop: bool = False
    default_fov: float = 50.0
    default_transition: float = 2.0
    constant_speed: bool = False
    ease: bool = False
    extra: dict = field(default_factory=dict)

    def transitions(self) -> np.ndarray:
        """(S,) seconds of each moving segment: S = K - 1 for an open path, K for a loop (the last one closes
        it); segment ``i`` goes from keyframe ``i`` to keyframe ``(i + 1) % K``."""
        kfs = self.keyframes
        n = len(kfs) if self.loop else max(len(kfs) - 1, 0)
        return np.array(
            [self.default_transition if kfs[i].transition is None else kfs[i].transition for i in range(n)],
            dtype=np.float64,
        )

    def holds(self) -> np.ndarray:
        """(K,) hold seconds of each keyframe."""
        return np.array([k.hold for k in self.keyframes], dtype=np.float64)

    @property
    def duration(self) -> float:
        """Seconds: every hold plus every transition (see :meth:`transitions`)."""
        return float(self.holds().sum() + self.transitions().sum())

    @property
    def num_frames(self) -> int:
        """``round(duration * fps)``, at least 1 (0 for a path without keyframes); frame ``k`` shows time
        ``k / fps``."""
        if not self.keyframes:
            return 0
        return max(1, int(round(self.duration * self.fps)))

    def validate(self, file: Any = None, allow_empty: bool = False) -> None:
        """Raise :class:`InputError` (naming the field as in the file) when a value is out of range.

        Args:
            allow_empty: accept a path without keyframes (a draft being edited); it cannot be sampled.
        """
        if not isinstance(self.keyframes, list):
            raise InputError(f"must be a list of Keyframe, got {type(self.keyframes).__name__}", file, "keyframes")
        if not self.keyframes and not allow_empty:
            raise InputError("is empty: a path needs at least one keyframe", file=file, field="keyframes")
        if self.camera_type not in PATH_CAMERA_TYPES:
            raise InputError(
                f"unknown camera type {self.camera_type!r} (expected one of: {', '.join(PATH_CAMERA_TYPES)})",
                file=file,
                field="camera_type",
            )
        _positive_int(_py(self.width), file, "render_width")
        _positive_int(_py(self.height), file, "render_height")
        _positive(_py(self.fps), file, "fps")
        _unit_interval(_py(self.smoothness), file, "smoothness_value")
        _bool(_py(self.loop), file, "is_cycle")
        _fov(_py(self.default_fov), file, "default_fov")
        _positive(_py(self.default_transition), file, "default_transition_sec")
        _bool(_py(self.constant_speed), file, "scenegen_constant_speed")
        _bool(_py(self.ease), file, "scenegen_ease")
        if not isinstance(self.extra, dict):
            raise InputError(f"PathSpec.extra must be a dict, got {type(self.extra).__name__}", file=file)
        for i, k in enumerate(self.keyframes):
            base = f"keyframes[{i}]"
            if not isinstance(k, Keyframe):
                raise InputError(f"must be a Keyframe, got {type(k).__name__}", file=file, field=base)
            if not (np.all(np.isfinite(k.position)) and np.all(np.isfinite(k.rotation))):
                raise InputError("position and rotation must be finite", file=file, field=f"{base}.matrix")
            _fov(k.fov, file, f"{base}.fov")
            _positive(k.aspect, file, f"{base}.aspect")
            if k.transition is not None:
                _positive(k.transition, file, f"keyframes[{(i + 1) % len(self.keyframes)}].override_transition_sec")
            _non_negative(k.hold, file, f"{base}.scenegen_hold")


# ----------------------------------------------------------------------------------------------------------
# Validation helpers on top of nerfstudio_path's
# ----------------------------------------------------------------------------------------------------------


def _py(value: Any) -> Any:
    """numpy scalars as Python numbers (the nerfstudio_path helpers accept JSON types only)."""
    return value.item() if isinstance(value, np.generic) else value


def _fov(value: Any, file: Any, fld: str) -> float:
    v = _number(value, file, fld)
    if not 0.0 < v < 180.0:
        raise InputError(f"must be in (0, 180) degrees (vertical field of view), got {_fmt(value)}", file, fld)
    return v


def _non_negative(value: Any, file: Any, fld: str) -> float:
    v = _number(value, file, fld)
    if v < 0:
        raise InputError(f"must not be negative, got {_fmt(value)}", file=file, field=fld)
    return v


def _unit_interval(value: Any, file: Any, fld: str) -> float:
    v = _number(value, file, fld)
    if not 0.0 <= v <= 1.0:
        raise InputError(f"must be in [0, 1], got {_fmt(value)}", file=file, field=fld)
    return v


def _bool(value: Any, file: Any, fld: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"must be true or false, got {_fmt(value)}", file=file, field=fld)
    return value


def _c2w(value: Any, file: Any, fld: str, column_major: bool) -> np.ndarray:
    """(4, 4) row-major camera-to-world with a proper rotation block, from a keyframe's ``matrix``."""
    m = _matrix(value, (4,), file, fld)
    if column_major:
        m = m.T
    if np.abs(m[3] - [0, 0, 0, 1]).max() > _BOTTOM_ROW_TOL:
        other = "row" if column_major else "column"
        raise InputError(
            f"last row must be [0, 0, 0, 1], got {m[3].tolist()} (is the matrix {other}-major?)", file, fld
        )
    r, _ = _nearest_rotation(m[:3, :3], file, fld)
    m[:3, :3] = r
    return m


# ----------------------------------------------------------------------------------------------------------
# nerfstudio dict <-> PathSpec
# ----------------------------------------------------------------------------------------------------------


def _old_properties(kf: dict, file: Any, base: str) -> dict:
    """The older layout's ``properties`` (a JSON string of [key, value] pairs) as a dict."""
    props = kf.get("properties")
    if props is None:
        return {}
    fld = f"{base}.properties"
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON: {e.msg}", file=file, field=fld) from None
    if isinstance(props, dict):
        return props
    if not isinstance(props, list) or not all(isinstance(p, list) and len(p) == 2 for p in props):
        raise InputError(f"must be a list of [key, value] pairs, got {_fmt(props)}", file=file, field=fld)
    return {str(k): v for k, v in props}


def _frames_only_spec(d: dict, file: Any, common: dict) -> PathSpec:
    """One keyframe per rendered camera (a file with ``camera_path`` but no keyframes)."""
    frames = d.get("camera_path")
    if not isinstance(frames, list):
        raise InputError(f"must be a list of cameras, got {_fmt(frames)}", file=file, field="camera_path")
    if not frames:
        raise InputError("is empty, and there are no keyframes: nothing to render", file=file, field="camera_path")
    fps = common["fps"]
    if fps is None:
        seconds = _positive(d["seconds"], file, "seconds") if "seconds" in d else None
        fps = len(frames) / seconds if seconds else 30.0
    aspect = common["width"] / common["height"]
    kfs = []
    for i, cam in enumerate(frames):
        base = f"camera_path[{i}]"
        if not isinstance(cam, dict):
            raise InputError(f"must be an object, got {_fmt(cam)}", file=file, field=base)
        if "camera_to_world" not in cam:
            raise InputError("missing (16 numbers, a row-major 4x4 matrix)", file, f"{base}.camera_to_world")
        m = _c2w(cam["camera_to_world"], file, f"{base}.camera_to_world", column_major=False)
        fov = _fov(cam["fov"], file, f"{base}.fov") if "fov" in cam else common["default_fov"]
        a = _positive(cam["aspect"], file, f"{base}.aspect") if "aspect" in cam else aspect
        extra = {k: v for k, v in cam.items() if k not in ("camera_to_world", "fov", "aspect")}
        kfs.append(Keyframe(m[:3, 3], quat_from_matrix(m[:3, :3]), fov, a, extra=extra))
    if not common["loop"]:
        kfs[-1].hold = 1.0 / fps  # so that the last camera is a rendered frame too
    spec = PathSpec(
        keyframes=kfs,
        width=common["width"],
        height=common["height"],
        fps=fps,
        camera_type=common["camera_type"],
        smoothness=common["smoothness"],
        loop=common["loop"],
        default_fov=common["default_fov"],
        default_transition=1.0 / fps,
        constant_speed=common["constant_speed"],
        ease=common["ease"],
        extra=common["extra"],
    )
    spec.validate(file)
    return spec


def spec_from_nerfstudio(d: Any, file: str | Path | None = None, *, allow_empty: bool = False) -> PathSpec:
    """Read a parsed nerfstudio ``camera_path.json`` object (v1 or older keyframe layout, or frames only).

    See the module docstring for the layouts and how they map onto :class:`PathSpec`.

    Args:
        d: the JSON object.
        file: the file it came from (error messages only).
        allow_empty: accept ``"keyframes": []`` (with no or an empty ``camera_path``): a draft path with
            settings but no keyframes yet, as :func:`save_path_spec` writes one.
    Raises:
        InputError: naming ``file`` and the field at fault (``keyframes[3].matrix``, ``fps``...).
    """
    src = file if file is not None else "<camera path>"
    if not isinstance(d, dict):
        raise InputError(f"must be a JSON object (a nerfstudio camera path), got {type(d).__name__}", src)

    ctype = d.get("camera_type", "perspective")
    if not isinstance(ctype, str):
        raise InputError(f"must be a string, got {_fmt(ctype)}", file=src, field="camera_type")
    if ctype.lower() not in PATH_CAMERA_TYPES:
        raise InputError(
            f"unknown camera type {ctype!r} (expected one of: {', '.join(PATH_CAMERA_TYPES)})",
            file=src,
            field="camera_type",
        )
    width = _positive_int(d["render_width"], src, "render_width") if "render_width" in d else 1920
    height = _positive_int(d["render_height"], src, "render_height") if "render_height" in d else 1080
    fps = _positive(d["fps"], src, "fps") if "fps" in d else None
    loop = _bool(d["is_cycle"], src, "is_cycle") if "is_cycle" in d else False
    smooth = _unit_interval(d["smoothness_value"], src, "smoothness_value") if "smoothness_value" in d else 0.5
    default_fov = _fov(d["default_fov"], src, "default_fov") if "default_fov" in d else None
    default_tr = (
        _positive(d["default_transition_sec"], src, "default_transition_sec")
        if d.get("default_transition_sec") is not None
        else None
    )
    if d.get("seconds") is not None:
        _non_negative(d["seconds"], src, "seconds")
    constant_speed = _bool(d.get("scenegen_constant_speed", False), src, "scenegen_constant_speed")
    ease = _bool(d.get("scenegen_ease", False), src, "scenegen_ease")
    _parse_crop(d.get("crop"), src)  # validated here, kept verbatim in extra
    extra = {k: v for k, v in d.items() if k not in _KNOWN_TOP}
    common = dict(
        camera_type=ctype.lower(),
        width=width,
        height=height,
        fps=fps,
        loop=loop,
        smoothness=smooth,
        default_fov=50.0 if default_fov is None else default_fov,
        constant_speed=constant_speed,
        ease=ease,
        extra=extra,
    )

    raw_kfs = d.get("keyframes")
    if raw_kfs is None or (isinstance(raw_kfs, list) and not raw_kfs and d.get("camera_path")):
        if "camera_path" not in d:
            raise InputError("missing: a path needs keyframes (or a camera_path)", file=src, field="keyframes")
        return _frames_only_spec(d, src, common)
    if not isinstance(raw_kfs, list):
        raise InputError(f"must be a list of keyframes, got {_fmt(raw_kfs)}", file=src, field="keyframes")
    if not raw_kfs:
        if allow_empty:
            spec = PathSpec(
                keyframes=[],
                width=width,
                height=height,
                fps=30.0 if fps is None else fps,
                camera_type=common["camera_type"],
                smoothness=smooth,
                loop=loop,
                default_fov=common["default_fov"],
                default_transition=2.0 if default_tr is None else default_tr,
                constant_speed=constant_speed,
                ease=ease,
                extra=extra,
            )
            spec.validate(src, allow_empty=True)
            return spec
        raise InputError("is empty: a path needs at least one keyframe", file=src, field="keyframes")
    for i, kf in enumerate(raw_kfs):
        if not isinstance(kf, dict):
            raise InputError(f"must be an object, got {_fmt(kf)}", file=src, field=f"keyframes[{i}]")
        if "matrix" not in kf:
            raise InputError("missing (a 4x4 camera-to-world matrix)", file=src, field=f"keyframes[{i}].matrix")
    old = isinstance(raw_kfs[0]["matrix"], str)
    fps = 30.0 if fps is None else fps
    n = len(raw_kfs)

    kfs: list[Keyframe] = []
    override: list[Optional[float]] = []
    for i, kf in enumerate(raw_kfs):
        base = f"keyframes[{i}]"
        mfld = f"{base}.matrix"
        mval = kf["matrix"]
        column_major = isinstance(mval, str)
        if column_major:
            try:
                mval = json.loads(mval)
            except json.JSONDecodeError as e:
                raise InputError(f"not a valid JSON string of 16 numbers: {e.msg}", file=src, field=mfld) from None
        m = _c2w(mval, src, mfld, column_major=column_major)
        props = _old_properties(kf, src, base) if old else {}
        if "fov" in kf:
            fov = _fov(kf["fov"], src, f"{base}.fov")
        elif "FOV" in props:
            fov = _fov(props["FOV"], src, f"{base}.properties.FOV")
        else:
            fov = common["default_fov"]
        aspect = _positive(kf["aspect"], src, f"{base}.aspect") if "aspect" in kf else width / height
        name = props.get("NAME") if old else kf.get("scenegen_name")
        if name is not None and not isinstance(name, str):
            raise InputError(f"must be a string, got {_fmt(name)}", file=src, field=f"{base}.scenegen_name")
        hold = _non_negative(kf.get("scenegen_hold", 0.0), src, f"{base}.scenegen_hold")
        tr: Optional[float] = None
        if not old:
            enabled = kf.get("override_transition_enabled")
            if enabled is not None:
                _bool(enabled, src, f"{base}.override_transition_enabled")
            sec = kf.get("override_transition_sec")
            if sec is not None:
                sec = _positive(sec, src, f"{base}.override_transition_sec")
            if enabled and sec is not None:
                tr = sec
        override.append(tr)
        known = _KNOWN_KF_OLD if old else _KNOWN_KF_V1
        kf_extra = {k: v for k, v in kf.items() if k not in known}
        kfs.append(Keyframe(m[:3, 3], quat_from_matrix(m[:3, :3]), fov, aspect, None, hold, name, kf_extra))
    # nerfstudio's override of keyframe i times the transition INTO i: ours is keyframe i-1's "to the next".
    for i in range(n):
        kfs[i - 1].transition = override[i]

    if old:
        segments = n if loop else n - 1
        seconds = _number(d["seconds"], src, "seconds") if d.get("seconds") is not None else None
        default_tr = seconds / segments if (seconds and segments) else 2.0
        smooth = float(np.clip(1.0 - 2.0 * smooth, 0.0, 1.0))
        if default_fov is None:
            common["default_fov"] = kfs[0].fov
    spec = PathSpec(
        keyframes=kfs,
        width=width,
        height=height,
        fps=fps,
        camera_type=common["camera_type"],
        smoothness=smooth,
        loop=loop,
        default_fov=common["default_fov"],
        default_transition=2.0 if default_tr is None else default_tr,
        constant_speed=constant_speed,
        ease=ease,
        extra=extra,
    )
    spec.validate(src)
    return spec


def _num(x: float) -> Any:
    """A float as JSON: integral values stay floats (nerfstudio writes floats)."""
    return float(x)


def spec_to_nerfstudio(spec: PathSpec) -> dict:
    """The nerfstudio v1 ``camera_path.json`` object of a path, with its rendered ``camera_path``.

    Keys, in nerfstudio's order: ``default_fov``, ``default_transition_sec``, ``keyframes`` (``matrix``: 16
    numbers, row-major camera-to-world; ``fov``; ``aspect``; ``override_transition_enabled``;
    ``override_transition_sec``; plus ``scenegen_hold`` / ``scenegen_name`` when set and the keyframe's
    ``extra``), ``camera_type``, ``render_height``, ``render_width``, ``fps``, ``seconds`` (= ``duration``),
    ``is_cycle``, ``smoothness_value``, ``camera_path`` (``num_frames`` entries: ``camera_to_world`` 16
    numbers row-major, ``fov``, ``aspect``), then ``spec.extra`` (e.g. ``crop``) and ``scenegen_constant_speed``
    / ``scenegen_ease`` when true.

    A spec without keyframes (a draft) is written with empty ``keyframes`` and ``camera_path``.

    Raises:
        InputError: a value of the spec is out of range (field named as in the file).
    """
    from scenegen.paths.interpolate import sample_path  # here: interpolate imports this module

    spec.validate(allow_empty=True)
    kfs = spec.keyframes
    n = len(kfs)
    out_kfs = []
    for i, k in enumerate(kfs):
        incoming = kfs[i - 1].transition  # nerfstudio: keyframe i's override times the transition into i
        e: dict = {
            "matrix": [float(x) for x in k.c2w().reshape(-1)],
            "fov": _num(k.fov),
            "aspect": _num(k.aspect),
            "override_transition_enabled": incoming is not None,
            "override_transition_sec": None if incoming is None else _num(incoming),
        }
        if k.hold > 0:
            e["scenegen_hold"] = _num(k.hold)
        if k.name is not None:
            e["scenegen_name"] = k.name
        for key, v in k.extra.items():
            e.setdefault(key, v)
        out_kfs.append(e)
    if kfs:
        c2w, fov, _ = sample_path(spec)
    else:
        c2w, fov = np.zeros((0, 4, 4)), np.zeros(0)
    aspect = spec.width / spec.height
    frames = [
        {"camera_to_world": [float(x) for x in c2w[j].reshape(-1)], "fov": float(fov[j]), "aspect": aspect}
        for j in range(len(c2w))
    ]
    out: dict = {
        "default_fov": _num(spec.default_fov),
        "default_transition_sec": _num(spec.default_transition),
        "keyframes": out_kfs,
        "camera_type": spec.camera_type,
        "render_height": int(spec.height),
        "render_width": int(spec.width),
        "fps": _num(spec.fps),
        "seconds": spec.duration,
        "is_cycle": bool(spec.loop),
        "smoothness_value": _num(spec.smoothness),
        "camera_path": frames,
    }
    for key, v in spec.extra.items():
        out.setdefault(key, v)
    if spec.constant_speed:
        out["scenegen_constant_speed"] = True
    if spec.ease:
        out["scenegen_ease"] = True
    return out


def load_path_spec(path: str | Path, allow_empty: bool = False) -> PathSpec:
    """Read a camera path file into a :class:`PathSpec` (see :func:`spec_from_nerfstudio`).

    Args:
        allow_empty: accept a draft file with ``"keyframes": []``.
    Raises:
        InputError: the file is missing, not JSON, or malformed (message names the file and field).
    """
    file = Path(path)
    data, _ = _read_json(file, "camera path")
    return spec_from_nerfstudio(data, file=file, allow_empty=allow_empty)


def save_path_spec(spec: PathSpec, path: str | Path) -> Path:
    """Write ``spec`` as a nerfstudio v1 camera_path.json (:func:`spec_to_nerfstudio`), atomically: a temp file
    in the same folder, then ``os.replace``.

    Returns:
        The file written.
    """
    out = Path(path)
    text = json.dumps(spec_to_nerfstudio(spec), allow_nan=False)
    atomic_write_text(out, text + "\n", "camera path")
    return out
