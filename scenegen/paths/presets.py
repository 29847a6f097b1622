"""Camera-path presets: a walk through floor waypoints at eye height, an orbit, a flythrough, a dolly move.

Each preset returns a :class:`~scenegen.paths.model.PathSpec` (keyframes + timing) that
:func:`scenegen.paths.interpolate.sample_path` turns into frames and ``save_path_spec`` writes as a nerfstudio
``camera_path.json``.

Conventions: world units as given (metres for the synthetic scenes); ``up`` is the world up vector (default
+Z); cameras are OpenGL camera-to-world (look down -Z, +Y image up); ``fov`` is the vertical field of view in
degrees; speeds are world units per second; turn rates degrees per second. The walking settings come from a
:class:`~scenegen.paths.style.WalkStyle` (:data:`~scenegen.paths.style.WALK` for the walk-through,
:data:`~scenegen.paths.style.FLY` for the flythrough); single values given as arguments override the style's.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from scenegen.core.errors import InputError
from scenegen.paths.floor import floor_height_under
from scenegen.paths.model import Keyframe, PathSpec
from scenegen.paths.style import FLY, WALK, WalkStyle
from scenegen.paths.track import (
    arclength,
    floor_points,
    make_spec,
    plane_basis,
    resample_polyline,
    smooth_polyline,
    track_spec,
    unit_vector,
)

__all__ = ["dolly", "flythrough", "orbit", "push_to_clearance", "walkthrough"]

#: :func:`walkthrough`'s default style: the walk, with its eye points pushed 0.3 (not the planner's 0.35) from
#: occupied space when it is given a scene volume -- the value it has always used.
WALKTHROUGH = WALK.updated(clearance=0.3)


def walkthrough(
    waypoints,
    eye_height: Optional[float] = None,
    volume=None,
    up=(0.0, 0.0, 1.0),
    speed: Optional[float] = None,
    max_turn_rate_deg_s: Optional[float] = None,
    fov: Optional[float] = None,
    floor: float = 0.0,
    spacing: Optional[float] = None,
    look_ahead: Optional[float] = None,
    corner_radius: Optional[float] = None,
    pitch_deg: Optional[float] = None,
    clearance: Optional[float] = None,
    loop: bool = False,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
    *,
    style: Optional[WalkStyle] = None,
) -> PathSpec:
    """Walk through floor waypoints at eye height, looking ahead, turning at most ``max_turn_rate_deg_s``.

    Args:
        waypoints: (K, 3) points on the floor, or (K, 2) floor coordinates (the two world axes most orthogonal
            to ``up``; the floor is at height ``floor`` along ``up``, or found under each point in ``volume``).
        eye_height: camera height above the floor, world units.
        volume: optional :class:`~scenegen.paths.volume.SceneVolume`: (K, 2) waypoints take the floor
            height found in it, and track points closer than ``clearance`` to occupied space are pushed away.
        up: (3,) world up vector.
        speed: walking speed, world units per second (constant).
        max_turn_rate_deg_s: bound on the heading change per second.
        fov: vertical field of view in degrees.
        floor: floor height along ``up`` for (K, 2) waypoints without a volume.
        spacing: keyframe spacing along the path, world units.
        look_ahead: the camera looks at the path point this far ahead (world units).
        corner_radius: the polyline's corners are rounded over about this length (moving average).
        pitch_deg: constant pitch of the camera (negative = slightly down); no roll.
        clearance: wanted distance from occupied space when ``volume`` is given.
        loop: close the walk (back to the first waypoint).
        fps, width, height: render settings.
        style: the walking settings (default :data:`WALKTHROUGH`: :data:`~scenegen.paths.style.WALK` with a
            clearance of 0.3); the single values above, when given, override it.
    Returns:
        a :class:`~scenegen.paths.model.PathSpec` (keyframes every ``spacing``, constant speed).
    """
    st = (WALKTHROUGH if style is None else style).updated(
        eye_height=eye_height, speed=speed, max_turn_rate_deg_s=max_turn_rate_deg_s, fov=fov, spacing=spacing,
        look_ahead=look_ahead, corner_radius=corner_radius, pitch_deg=pitch_deg, clearance=clearance,
    )
    u = unit_vector(up)
    w = np.asarray(waypoints, dtype=np.float64)
    pts = floor_points(w, u, floor)
    if len(pts) < 2:
        raise InputError("a walk-through needs at least two waypoints", field="waypoints")
    if not (st.eye_height > 0 and st.speed > 0 and st.max_turn_rate_deg_s > 0 and st.spacing > 0):
        raise InputError("eye height, speed, turn rate and spacing must be positive", field="eye_height")
    if volume is not None and w.shape[1] == 2:
        h = floor_height_under(volume, pts, eye_height=st.eye_height)
        pts = pts + (np.where(np.isfinite(h), h, floor) - pts @ u)[:, None] * u[None, :]
    step = 0.05
    dense = resample_polyline(pts, step, loop)
    dense = smooth_polyline(dense, int(round(st.corner_radius / step)), loop)
    eye = dense + st.eye_height * u
    if volume is not None:
        eye = push_to_clearance(volume, eye, st.clearance, u)
    return track_spec(eye, st, u, None, loop, fps, width, height)


def push_to_clearance(volume, points: np.ndarray, clearance: float, up, iterations: int = 20) -> np.ndarray:
    """Move points (N, 3) horizontally (orthogonal to ``up``) up the gradient of ``volume``'s distance field
    until they are at least ``clearance`` from occupied space (or ``iterations`` steps of half a voxel)."""
    u = unit_vector(up)
    p = np.asarray(points, dtype=np.float64).copy()
    h = volume.voxel
    for _ in range(iterations):
        d = volume.distance_to_occupied(p)
        bad = d < clearance
        if not bad.any():
            break
        q = p[bad]
        g = np.zeros_like(q)
        for a in range(3):
            e = np.zeros(3)
            e[a] = h
            g[:, a] = (volume.distance_to_occupied(q + e) - volume.distance_to_occupied(q - e)) / (2 * h)
        g -= (g @ u)[:, None] * u
        n = np.linalg.norm(g, axis=1, keepdims=True)
        p[bad] = q + np.where(n > 1e-9, g / np.maximum(n, 1e-12), 0.0) * np.minimum(0.5 * h, clearance - d[bad])[:, None]
    return p


def orbit(
    center,
    radius: float,
    height: float = 1.5,
    turns: float = 1.0,
    direction: str = "ccw",
    fov: float = WALK.fov,
    seconds: float = 10.0,
    up=(0.0, 0.0, 1.0),
    start_angle_deg: float = 0.0,
    keyframes_per_turn: int = 16,
    fps: float = 30.0,
    width: int = 1920,
    height_px: int = 1080,
    arc_deg: Optional[float] = None,
) -> PathSpec:
    """Circle ``turns`` times around ``center`` at ``radius``, ``height`` above it (along ``up``), looking at it;
    with ``arc_deg`` (0-360), one open sweep over that many degrees from ``start_angle_deg`` instead.

    Args:
        center: (3,) world point the camera looks at.
        radius: horizontal distance from the centre, world units (> 0).
        height: camera height above the centre along ``up`` (world units; may be negative).
        turns: number of turns (> 0); exactly 1 gives a closed loop (``loop=True``, the last keyframe joins
            the first), anything else an open path that starts and ends at its ends.
        direction: "ccw" (counter-clockwise seen from above, i.e. about ``+up``) or "cw".
        fov: vertical field of view in degrees.
        seconds: duration of the whole orbit.
        up: (3,) world up vector.
        start_angle_deg: start position, degrees from the first in-plane axis (+X for up = +Z) towards the
            second.
        keyframes_per_turn: keyframes per full turn.
        fps, width, height_px: render settings.
    """
    u = unit_vector(up)
    c = np.asarray(center, dtype=np.float64).reshape(3)
    if not (radius > 0 and turns > 0 and seconds > 0):
        raise InputError("radius, turns and seconds must be positive", field="radius")
    if direction not in ("ccw", "cw"):
        raise InputError(f"must be 'ccw' or 'cw', got {direction!r}", field="direction")
    e1, e2 = plane_basis(u)
    sign = 1.0 if direction == "ccw" else -1.0
    if arc_deg is not None:
        if not 0 < arc_deg <= 360:
            raise InputError(f"must be in (0, 360], got {arc_deg}", field="arc_deg")
        turns = arc_deg / 360.0
    closed = arc_deg is None and abs(turns - 1.0) < 1e-9
    n = max(3, int(math.ceil(keyframes_per_turn * turns)))
    a0 = math.radians(start_angle_deg)
    if closed:
        ang = a0 + sign * 2 * math.pi * np.arange(n) / n
        dt = seconds / n
    else:
        ang = a0 + sign * 2 * math.pi * turns * np.arange(n + 1) / n
        dt = seconds / n
    pos = c + radius * (np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2) + height * u
    kfs = [Keyframe.look_at(p, c, up=u, fov=fov, aspect=width / height_px, transition=dt) for p in pos]
    return make_spec(kfs, fov, dt, closed, fps, width, height_px)


def flythrough(
    waypoints,
    look_at=None,
    speed: Optional[float] = None,
    fov: Optional[float] = None,
    up=(0.0, 0.0, 1.0),
    look_ahead: Optional[float] = None,
    spacing: Optional[float] = None,
    corner_radius: Optional[float] = None,
    max_turn_rate_deg_s: Optional[float] = None,
    loop: bool = False,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
    *,
    style: Optional[WalkStyle] = None,
) -> PathSpec:
    """A smooth free flight through 3D waypoints at constant speed.

    Args:
        waypoints: (K, 3) world points the camera passes through (corners rounded over ``corner_radius``).
        look_at: None (look ahead along the path, at the point ``look_ahead`` further on, with the heading
            rate-limited to ``max_turn_rate_deg_s``), one (3,) target for the whole flight, or (K, 3) targets,
            one per waypoint (interpolated along the path).
        speed: world units per second.
        fov: vertical field of view, degrees.
        up: (3,) world up (no roll about it).
        spacing: keyframe spacing, world units.
        loop: close the flight back to the first waypoint.
        fps, width, height: render settings.
        style: the flight's settings (default :data:`~scenegen.paths.style.FLY`); the single values above, when
            given, override it. Its eye height, pitch and clearance are not used.
    """
    st = (FLY if style is None else style).updated(
        speed=speed, fov=fov, look_ahead=look_ahead, spacing=spacing, corner_radius=corner_radius,
        max_turn_rate_deg_s=max_turn_rate_deg_s,
    )
    speed, fov, look_ahead, spacing = st.speed, st.fov, st.look_ahead, st.spacing
    u = unit_vector(up)
    w = np.asarray(waypoints, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != 3 or len(w) < 2 or not np.isfinite(w).all():
        raise InputError("expected at least two finite (x, y, z) waypoints", field="waypoints")
    if not speed > 0:
        raise InputError("must be positive", field="speed")
    step = 0.05 * max(1.0, float(np.linalg.norm(w.max(0) - w.min(0))) / 20.0)
    dense = resample_polyline(w, step, loop)
    dense = smooth_polyline(dense, int(round(st.corner_radius / step)), loop)
    if look_at is None:
        # Look along the 3D direction of travel: heading limited as in a walk, pitch following the path.
        total = float(arclength(dense, loop)[-1])
        if total <= 1e-9:
            raise InputError("the waypoints do not move: the path has zero length", field="waypoints")
        spec = track_spec(dense, st.updated(pitch_deg=0.0), u, None, loop, fps, width, height)
        # add the pitch of the travel direction (clamped away from straight up/down)
        s = arclength(dense, loop)
        q = np.concatenate([dense, dense[:1]]) if loop else dense
        sq = s if loop else s[: len(dense)]
        new = []
        for k in spec.keyframes:
            i = int(np.argmin(np.linalg.norm(dense - k.position, axis=1)))
            s_here = sq[i]
            s_next = (s_here + look_ahead) % total if loop else min(s_here + look_ahead, total)
            p_next = np.array([np.interp(s_next, sq, q[:, d]) for d in range(3)])
            c2w = k.c2w()
            f = -c2w[:3, 2]
            f -= (f @ u) * u
            f /= max(np.linalg.norm(f), 1e-12)
            delta = p_next - k.position
            horiz = float(np.linalg.norm(delta - (delta @ u) * u))
            pitch = math.atan2(float(delta @ u), max(horiz, 1e-9)) if np.linalg.norm(delta) > 1e-9 else 0.0
            pitch = float(np.clip(pitch, -math.radians(80), math.radians(80)))
            tgt = k.position + f * math.cos(pitch) + u * math.sin(pitch)
            new.append(Keyframe.look_at(k.position, tgt, up=u, fov=fov, aspect=k.aspect, transition=k.transition))
        spec.keyframes = new
        return spec
    tg = np.asarray(look_at, dtype=np.float64)
    total = float(arclength(dense, loop)[-1])
    if total <= 1e-9:
        raise InputError("the waypoints do not move: the path has zero length", field="waypoints")
    n_kf = max(1, int(round(total / spacing)))
    s_kf = np.linspace(0.0, total, n_kf + 1)[:-1] if loop else np.linspace(0.0, total, n_kf + 1)
    s = arclength(dense, loop)
    q = np.concatenate([dense, dense[:1]]) if loop else dense
    sq = s if loop else s[: len(dense)]
    kp = np.stack([np.interp(s_kf, sq, q[:, d]) for d in range(3)], 1)
    if tg.reshape(-1).shape == (3,):
        targets = np.repeat(tg.reshape(1, 3), len(kp), 0)
    else:
        tg = tg.reshape(-1, 3)
        if len(tg) != len(w):
            raise InputError(f"expected one target or {len(w)} (one per waypoint), got {len(tg)}", field="look_at")
        # waypoint i sits at the dense point nearest to it
        s_w = np.array([sq[int(np.argmin(np.linalg.norm(dense - p, axis=1)))] for p in w])
        s_w = np.maximum.accumulate(s_w)
        targets = np.stack([np.interp(s_kf, s_w, tg[:, d]) for d in range(3)], 1)
    dt = (total / n_kf) / speed
    kfs = []
    for p, t in zip(kp, targets):
        try:
            kfs.append(Keyframe.look_at(p, t, up=u, fov=fov, aspect=width / height, transition=dt))
        except ValueError as e:
            raise InputError(str(e), field="look_at") from None
    return make_spec(kfs, fov, dt, loop, fps, width, height)


def dolly(
    start,
    end,
    look_at=None,
    seconds: float = 5.0,
    up=(0.0, 0.0, 1.0),
    fov: float = WALK.fov,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
) -> PathSpec:
    """A straight move from ``start`` to ``end`` in ``seconds``, looking at ``look_at`` (default: straight ahead).

    Args:
        start, end: (3,) world points.
        look_at: (3,) world point both keyframes look at, or None (look along ``end - start``).
        seconds: duration of the move.
        up: (3,) world up (no roll about it).
        fov: vertical field of view, degrees.
        fps, width, height: render settings.
    Returns:
        two keyframes, straight segment (smoothness 0).
    Raises:
        InputError: ``start == end`` or ``seconds`` not positive.
        ValueError: a keyframe would look straight along ``up`` or at its own position.
    """
    if not seconds > 0:
        raise InputError("must be positive", field="seconds")
    start, end = np.asarray(start, float), np.asarray(end, float)
    if np.linalg.norm(end - start) <= 0:
        raise InputError("start and end are the same point", field="end")
    aspect = width / height
    if look_at is not None:
        kfs = [Keyframe.look_at(p, look_at, up=up, fov=fov, aspect=aspect) for p in (start, end)]
    else:
        ahead = end - start
        kfs = [Keyframe.look_at(p, p + ahead, up=up, fov=fov, aspect=aspect) for p in (start, end)]
    kfs[0].transition = float(seconds)
    return PathSpec(keyframes=kfs, width=int(width), height=int(height), fps=float(fps), smoothness=0.0,
                    default_fov=float(fov))
