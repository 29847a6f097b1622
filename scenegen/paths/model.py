"""The camera-path model: keyframes and path settings (:class:`PathSpec`), and quaternion helpers.

A :class:`PathSpec` is what a user authors (keyframes + timing + image settings); :mod:`scenegen.paths.interpolate`
turns it into rendered frames and :mod:`scenegen.paths.spec_io` reads / writes it as a nerfstudio
``camera_path.json``. Conventions (the same as :mod:`scenegen.paths.camera_path`):

* camera-to-world in the OpenGL convention (the camera looks down -Z, +Y is image up), world units as given;
* rotations are unit quaternions **wxyz** of the camera-to-world rotation;
* ``fov`` is the VERTICAL field of view in degrees.

Timing. Keyframe ``i`` is held still for ``hold`` seconds, then the camera moves to keyframe ``i + 1`` in
``transition`` seconds (``None``: the path's ``default_transition``). For an open path the last keyframe's
transition is unused (its hold is not); for a loop (``loop=True``) the last transition goes back to keyframe 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from scenegen.cameras.poses import look_at_c2w
from scenegen.core.errors import InputError
from scenegen.core.validate import boolean, non_negative, positive, positive_int, unit_interval
from scenegen.paths.camera_path import CAMERA_TYPES, STEREO_CAMERA_TYPES, check_fov, nearest_rotation

__all__ = [
    "PATH_CAMERA_TYPES",
    "Keyframe",
    "PathSpec",
    "matrix_from_quat",
    "quat_from_matrix",
]

#: camera types a path may name (nerfstudio's); stereo ones are refused when rendering.
PATH_CAMERA_TYPES = tuple(CAMERA_TYPES) + tuple(STEREO_CAMERA_TYPES)


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
            r, _ = nearest_rotation(m[:3, :3], None, "c2w")
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
        c2w = look_at_c2w(p, target, up)
        return cls(p, quat_from_matrix(c2w[:3, :3]), fov, aspect, transition, hold, name)

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

    def fit_duration(self, seconds: Optional[float]) -> "PathSpec":
        """Scale every transition and hold (and the ``rooms`` timings a planner wrote) so the path lasts
        ``seconds``; None or a path of no length: unchanged. Returns self."""
        total = self.duration
        if seconds is None or total <= 0:
            return self
        if not (math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"duration must be positive, got {seconds!r}")
        k = float(seconds) / total
        times = self.transitions() * k
        for kf, tr in zip(self.keyframes, times):
            kf.hold *= k
            kf.transition = float(tr)
        self.default_transition = float(self.default_transition) * k
        rooms = self.extra.get("rooms")
        if isinstance(rooms, list):
            for r in rooms:
                if isinstance(r, dict):
                    for key in ("start_time", "end_time"):
                        if isinstance(r.get(key), (int, float)):
                            r[key] = float(r[key]) * k
        return self

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
        positive_int(_py(self.width), file, "render_width")
        positive_int(_py(self.height), file, "render_height")
        positive(_py(self.fps), file, "fps")
        unit_interval(_py(self.smoothness), file, "smoothness_value")
        boolean(_py(self.loop), file, "is_cycle")
        check_fov(_py(self.default_fov), file, "default_fov")
        positive(_py(self.default_transition), file, "default_transition_sec")
        boolean(_py(self.constant_speed), file, "scenegen_constant_speed")
        boolean(_py(self.ease), file, "scenegen_ease")
        if not isinstance(self.extra, dict):
            raise InputError(f"PathSpec.extra must be a dict, got {type(self.extra).__name__}", file=file)
        for i, k in enumerate(self.keyframes):
            base = f"keyframes[{i}]"
            if not isinstance(k, Keyframe):
                raise InputError(f"must be a Keyframe, got {type(k).__name__}", file=file, field=base)
            if not (np.all(np.isfinite(k.position)) and np.all(np.isfinite(k.rotation))):
                raise InputError("position and rotation must be finite", file=file, field=f"{base}.matrix")
            check_fov(k.fov, file, f"{base}.fov")
            positive(k.aspect, file, f"{base}.aspect")
            if k.transition is not None:
                positive(k.transition, file, f"keyframes[{(i + 1) % len(self.keyframes)}].override_transition_sec")
            non_negative(k.hold, file, f"{base}.scenegen_hold")


def _py(value: Any) -> Any:
    """numpy scalars as Python numbers (the JSON validators expect JSON types)."""
    return value.item() if isinstance(value, np.generic) else value
