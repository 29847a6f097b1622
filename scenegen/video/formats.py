"""Output formats of a tour and the camera path re-framed for each picture shape.

=============  ===========  ===============  =========  ======================================================
format         full size    camera           output     notes
=============  ===========  ===============  =========  ======================================================
landscape      1920x1080    perspective      mp4        16:9, the path as authored
vertical       1080x1920    perspective      mp4        9:16 for phones, re-framed (below), not a crop
square         1080x1080    perspective      mp4        1:1, re-framed like vertical
360            3840x1920    equirectangular  mp4        level horizon, Spherical Video V1 metadata
frames         1920x1080    perspective      png        the landscape frames as a folder of PNGs
depth          1920x1080    perspective      depth_mp4  the landscape path's depth, colour-mapped
=============  ===========  ===============  =========  ======================================================

Re-framing for a taller picture (:func:`reframe_keyframe`). A blind crop of the 16:9 picture to 9:16 keeps its
vertical field of view and throws away two thirds of its width. Instead the horizontal field of view of the
landscape path is kept as far as a sane vertical field of view allows (:data:`MAX_REFRAMED_VFOV`, 80 degrees:
wider than that a rectilinear picture stretches badly at its top and bottom, and floor and ceiling crowd out the
walls); the camera's roll is removed (horizon level) and its pitch is re-aimed: the taller view is wider
vertically than the landscape one, so it can contain everything the landscape view showed between its top and
bottom edges while looking closer to :data:`TARGET_PITCH` (the walking pitch, -5 degrees: verticals nearly upright,
about as much floor as ceiling) -- the pitch is the one nearest to that which still contains the landscape view's
vertical extent. A walk-through that looked down at the floor then looks ahead at the room: in a 2.6 m room the
floor's share of the picture drops from 47 % (a crop of a view 20 degrees down) to 32 % while it shows 1.7
times the crop's width of the room (tests/test_formats.py).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from scenegen.core.errors import InputError
from scenegen.paths.model import Keyframe, PathSpec, quat_from_matrix
from scenegen.paths.style import WALK

__all__ = [
    "FORMAT_NAMES",
    "MAX_REFRAMED_VFOV",
    "FormatSpec",
    "format_path",
    "format_size",
    "format_spec",
    "horizontal_fov",
    "pitch_roll",
    "reframe_keyframe",
    "vertical_fov",
]

FORMAT_NAMES = ("landscape", "vertical", "square", "360", "frames", "depth")

#: the widest vertical field of view (degrees) re-framing gives a taller picture.
MAX_REFRAMED_VFOV = 80.0

#: the pitch (degrees) a re-framed view is aimed at where the landscape view allows: the walking pitch, at which a
#: tall frame at 1.6 m eye height in a 2.6 m room shows about as much floor as ceiling.
TARGET_PITCH = WALK.pitch_deg


@dataclass(frozen=True)
class FormatSpec:
    """One output format: its full size, camera model and kind of output."""

    name: str
    width: int
    height: int
    camera_type: str  # "perspective" or "equirectangular"
    output: str  # "mp4" | "png" (a folder of frames) | "depth_mp4"
    spherical: bool  # inject spherical (equirectangular) metadata into the MP4


_FORMATS = {
    "landscape": FormatSpec("landscape", 1920, 1080, "perspective", "mp4", False),
    "vertical": FormatSpec("vertical", 1080, 1920, "perspective", "mp4", False),
    "square": FormatSpec("square", 1080, 1080, "perspective", "mp4", False),
    "360": FormatSpec("360", 3840, 1920, "equirectangular", "mp4", True),
    "frames": FormatSpec("frames", 1920, 1080, "perspective", "png", False),
    "depth": FormatSpec("depth", 1920, 1080, "perspective", "depth_mp4", False),
}


def format_spec(name: str) -> FormatSpec:
    """The :class:`FormatSpec` of a format name; InputError naming the field "formats" for an unknown one."""
    if name not in _FORMATS:
        raise InputError(f"unknown format {name!r} (expected one of: {', '.join(FORMAT_NAMES)})", field="formats")
    return _FORMATS[name]


def _even(x: float) -> int:
    return max(2, 2 * int(round(x / 2.0)))


def format_size(name: str, *, scale: float = 1.0, width: int | None = None,
                height: int | None = None) -> tuple[int, int]:
    """(width, height) of a format, both even: its full size times ``scale``; ``width`` / ``height`` override
    it (one of them alone keeps the format's aspect); 360 must stay 2:1."""
    fs = format_spec(name)
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and 0 < scale <= 4):
        raise InputError(f"must be in (0, 4], got {scale!r}", field="scale")
    for v, fld in ((width, "width"), (height, "height")):
        if v is not None and not (isinstance(v, int) and not isinstance(v, bool) and 2 <= v <= 16384):
            raise InputError(f"must be a whole number of pixels in [2, 16384], got {v!r}", field=fld)
    aspect = fs.width / fs.height
    if width is not None and height is not None:
        w, h = float(width), float(height)
    elif width is not None:
        w, h = float(_even(width)), _even(width) / aspect
    elif height is not None:
        w, h = _even(height) * aspect, float(_even(height))
    else:
        w, h = fs.width * scale, fs.height * scale
    w2, h2 = _even(w), _even(h)
    if fs.camera_type == "equirectangular" and w2 != 2 * h2:
        if width is not None and height is not None:
            raise InputError(f"a 360 video must be twice as wide as it is high, got {width}x{height}",
                             field="resolution")
        h2 = _even(w2 / 2)
        w2 = 2 * h2
    return w2, h2


def horizontal_fov(vfov: float, aspect: float) -> float:
    """Horizontal field of view (degrees) of a vertical one at width / height ``aspect``."""
    return math.degrees(2 * math.atan(math.tan(math.radians(vfov) / 2) * aspect))


def vertical_fov(hfov: float, aspect: float) -> float:
    """Vertical field of view (degrees) of a horizontal one at width / height ``aspect``."""
    return math.degrees(2 * math.atan(math.tan(math.radians(hfov) / 2) / aspect))


def pitch_roll(c2w: np.ndarray, up=(0.0, 0.0, 1.0)) -> tuple[float, float]:
    """(pitch, roll) in degrees of an OpenGL camera-to-world: pitch = elevation of the view direction above the
    horizontal plane, roll = angle of the image's x axis out of that plane."""
    r = np.asarray(c2w, dtype=np.float64)[:3, :3]
    u = np.asarray(up, dtype=np.float64) / np.linalg.norm(up)
    fwd = -r[:, 2]
    pitch = math.degrees(math.asin(float(np.clip(fwd @ u, -1, 1))))
    roll = math.degrees(math.asin(float(np.clip(r[:, 0] @ u, -1, 1))))
    return pitch, roll


def _level_rotation(r: np.ndarray, pitch_deg: float, up: np.ndarray) -> np.ndarray:
    """The camera rotation with the heading of ``r``, no roll, and the given pitch."""
    fwd = -r[:, 2]
    horiz = fwd - (fwd @ up) * up
    if np.linalg.norm(horiz) < 1e-6:  # looking straight up or down: the heading is where the image's top points
        horiz = r[:, 1] * (-np.sign(fwd @ up))
        horiz = horiz - (horiz @ up) * up
    horiz /= np.linalg.norm(horiz)
    p = math.radians(pitch_deg)
    f = math.cos(p) * horiz + math.sin(p) * up
    right = np.cross(f, up)
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, f)
    return np.stack([right, cam_up, -f], axis=1)


def reframe_keyframe(kf: Keyframe, src_aspect: float, dst_aspect: float, up=(0.0, 0.0, 1.0),
                     max_vfov: float = MAX_REFRAMED_VFOV) -> Keyframe:
    """A keyframe re-framed from a ``src_aspect`` picture to a taller (or equal) ``dst_aspect`` one.

    Keeps the horizontal field of view where the vertical one stays within ``max_vfov`` (never narrower than
    the source's vertical one), removes roll, and re-aims the pitch to the one nearest :data:`TARGET_PITCH` that
    still contains the source view's vertical extent (see the module notes). Wider targets keep the vertical
    field of view.
    """
    u = np.asarray(up, dtype=np.float64)
    u = u / np.linalg.norm(u)
    out = copy.deepcopy(kf)
    out.aspect = float(dst_aspect)
    if dst_aspect >= src_aspect:
        return out
    vfov = min(vertical_fov(horizontal_fov(kf.fov, src_aspect), dst_aspect), max(max_vfov, kf.fov))
    pitch, _roll = pitch_roll(kf.c2w(), u)
    slack = (vfov - kf.fov) / 2.0
    new_pitch = float(np.clip(TARGET_PITCH, pitch - slack, pitch + slack))
    m = kf.c2w()
    m[:3, :3] = _level_rotation(m[:3, :3], new_pitch, u)
    out.rotation = quat_from_matrix(m[:3, :3])
    out.fov = float(vfov)
    return out


def _level_360(kf: Keyframe, up: np.ndarray) -> Keyframe:
    """An equirectangular keyframe: the heading kept, pitch and roll 0 (the horizon at mid-height)."""
    out = copy.deepcopy(kf)
    m = kf.c2w()
    out.rotation = quat_from_matrix(_level_rotation(m[:3, :3], 0.0, up))
    out.aspect = 2.0
    return out


def format_path(spec: PathSpec, name: str, *, scale: float = 1.0, width: int | None = None,
                height: int | None = None, up=(0.0, 0.0, 1.0)) -> PathSpec:
    """A NEW PathSpec for format ``name``: its size (``scale`` applied, even), its camera type, and re-framed for
    the picture (vertical, square: :func:`reframe_keyframe`; 360: level); keyframe aspects updated; everything
    else (timing, ``extra`` with its ``"rooms"`` key) kept. ``up`` is the world's up axis (+Z in scenegen)."""
    fs = format_spec(name)
    w, h = format_size(name, scale=scale, width=width, height=height)
    u = np.asarray(up, dtype=np.float64)
    if u.shape != (3,) or not np.all(np.isfinite(u)) or np.linalg.norm(u) < 1e-9:
        raise InputError(f"must be a non-zero 3-vector, got {up!r}", field="up")
    u = u / np.linalg.norm(u)
    out = copy.deepcopy(spec)
    src_aspect = spec.width / spec.height
    dst_aspect = w / h
    out.width, out.height = w, h
    out.camera_type = fs.camera_type
    if fs.camera_type == "equirectangular":
        out.keyframes = [_level_360(k, u) for k in spec.keyframes]
    elif name in ("vertical", "square"):
        out.keyframes = [reframe_keyframe(k, src_aspect, dst_aspect, u) for k in spec.keyframes]
        if out.keyframes:
            out.default_fov = out.keyframes[0].fov
    else:
        for k in out.keyframes:
            k.aspect = dst_aspect
    return out
