"""Camera-path presets: a walk through floor waypoints at eye height, an orbit, a flythrough.

Each preset returns a :class:`~scenegen.paths.keyframes.PathSpec` (keyframes + timing) that
:func:`scenegen.paths.interpolate.sample_path` turns into frames and ``save_path_spec`` writes as a nerfstudio
``camera_path.json``.

Conventions: world units as given (metres for the synthetic scenes); ``up`` is the world up vector (default
+Z); cameras are OpenGL camera-to-world (look down -Z, +Y image up); ``fov`` is the vertical field of view in
degrees; speeds are world units per second; turn rates degrees per second.

The walk-through keeps the camera level (no roll, a constant slight pitch), looks ahead along the direction of
travel (at a point ``look_ahead`` further along the path) and bounds the yaw change per second: the desired
heading is made ``max_turn_rate_deg_s``-Lipschitz in time by averaging a forward (lagging) and a backward
(anticipating) rate-limited pass, so turns start a little before a corner and end a little after it.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from scenegen.core.errors import InputError

__all__ = [
    "floor_points",
    "flythrough",
    "limit_rate",
    "orbit",
    "push_to_clearance",
    "resample_polyline",
    "smooth_polyline",
    "track_spec",
    "walkthrough",
]


# ----------------------------------------------------------------------------------------------------------
# Small geometry helpers
# ----------------------------------------------------------------------------------------------------------


def _unit(v, what: str = "up") -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).reshape(3)
    n = float(np.linalg.norm(v))
    if not (math.isfinite(n) and n > 0):
        raise InputError("must be a finite, non-zero vector", field=what)
    return v / n


def _plane_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane orthogonal to ``up`` (3,), right-handed with it (e1 x e2 = up)."""
    from scenegen.paths.scene_volume import frame_for_up

    r = frame_for_up(up)
    return r[:, 0], r[:, 1]


def floor_points(waypoints, up=(0.0, 0.0, 1.0), floor: float = 0.0) -> np.ndarray:
    """Floor waypoints as 3D points (K, 3).

    ``waypoints`` (K, 3) are returned as they are (points on the floor). (K, 2) rows are coordinates along the
    two world axes most orthogonal to ``up`` (x, y for up = +Z), moved along ``up`` to height ``floor``.
    """
    w = np.asarray(waypoints, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] not in (2, 3) or len(w) < 1:
        raise InputError(f"expected (K, 2) or (K, 3) points, got shape {tuple(w.shape)}", field="waypoints")
    if not np.isfinite(w).all():
        raise InputError("waypoints must be finite", field="waypoints")
    if w.shape[1] == 3:
        return w.copy()
    u = _unit(up)
    axes = np.sort(np.argsort(np.abs(u))[:2])
    pts = np.zeros((len(w), 3))
    pts[:, axes[0]], pts[:, axes[1]] = w[:, 0], w[:, 1]
    pts += (floor - pts @ u)[:, None] * u[None, :]
    return pts


def _arclength(p: np.ndarray, loop: bool = False) -> np.ndarray:
    """(N,) cumulative length along points p (N, D) (with the closing segment appended when ``loop``: N+1)."""
    q = np.concatenate([p, p[:1]]) if loop else p
    seg = np.linalg.norm(np.diff(q, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def resample_polyline(p: np.ndarray, spacing: float, loop: bool = False) -> np.ndarray:
    """Points (M, D) at (nearly) equal arc-length ``spacing`` along the polyline p (N, D).

    Open: the first and last points are kept and the spacing adjusted to divide the length evenly. Loop: M
    points evenly around the closed polyline (the first one repeated at the end is not included).
    """
    p = np.asarray(p, dtype=np.float64)
    if len(p) < 2:
        return p.copy()
    s = _arclength(p, loop)
    q = np.concatenate([p, p[:1]]) if loop else p
    total = float(s[-1])
    if total <= 1e-12:
        return p[:1].copy()
    n = max(1, int(round(total / spacing)))
    if loop:
        n = max(n, 3)
        t = np.linspace(0.0, total, n + 1)[:-1]
    else:
        t = np.linspace(0.0, total, n + 1)
    # drop repeated points so that interpolation is well defined
    keep = np.concatenate([[True], np.diff(s) > 1e-12])
    s, q = s[keep], q[keep]
    return np.stack([np.interp(t, s, q[:, d]) for d in range(q.shape[1])], 1)


def smooth_polyline(p: np.ndarray, window: int, loop: bool = False, pin_ends: bool = True) -> np.ndarray:
    """Moving average (a triangular kernel of ``2 * window + 1`` taps) of an evenly spaced polyline p (N, D).

    Open polylines are padded by point reflection about their end points, which keeps the ends in place
    (``pin_ends`` forces them exactly); loops wrap around.
    """
    p = np.asarray(p, dtype=np.float64)
    n = len(p)
    if window <= 0 or n < 3:
        return p.copy()
    w = int(window)
    k = np.concatenate([np.arange(1, w + 2), np.arange(w, 0, -1)]).astype(np.float64)
    k /= k.sum()
    if loop:
        reps = -(-w // n) + 1
        pad = np.concatenate([p] * (2 * reps + 1))
        start = reps * n
        out = np.stack([np.convolve(pad[:, d], k, mode="same")[start : start + n] for d in range(p.shape[1])], 1)
        return out
    m = min(w, n - 1)
    head = 2 * p[0] - p[1 : m + 1][::-1]
    tail = 2 * p[-1] - p[-m - 1 : -1][::-1]
    pad = np.concatenate([head, p, tail])
    kk = k if m == w else np.concatenate([np.arange(1, m + 2), np.arange(m, 0, -1)]).astype(np.float64) / (m + 1) ** 2
    out = np.stack([np.convolve(pad[:, d], kk, mode="same")[m : m + n] for d in range(p.shape[1])], 1)
    if pin_ends:
        out[0], out[-1] = p[0], p[-1]
    return out


def limit_rate(values: np.ndarray, times: np.ndarray, max_rate: float, loop: bool = False) -> np.ndarray:
    """Make a signal (N,) at increasing ``times`` (N,) ``max_rate``-Lipschitz (units per second).

    The mean of a forward rate-limited pass (lags behind fast changes) and a backward one (anticipates them):
    each is ``max_rate``-Lipschitz, so their mean is too, and the mean is centred on the original changes.
    For a loop both passes run over the signal three times and keep the middle copy, so the wrap-around is
    limited as well (``values`` must then be continuous across the wrap, e.g. an unwrapped angle minus its
    winding).
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    n = len(v)
    if n < 2 or not math.isfinite(max_rate) or max_rate <= 0:
        return v.copy()
    if loop:
        period = float(t[-1] - t[0]) + float(t[1] - t[0])
        vv = np.concatenate([v, v, v])
        tt = np.concatenate([t - period, t, t + period])
        out = limit_rate(vv, tt, max_rate, loop=False)
        return out[n : 2 * n]
    dt = np.diff(t)
    fwd = v.copy()
    for i in range(1, n):
        lim = max_rate * dt[i - 1]
        fwd[i] = fwd[i - 1] + np.clip(v[i] - fwd[i - 1], -lim, lim)
    bwd = v.copy()
    for i in range(n - 2, -1, -1):
        lim = max_rate * dt[i]
        bwd[i] = bwd[i + 1] + np.clip(v[i] - bwd[i + 1], -lim, lim)
    return 0.5 * (fwd + bwd)


def _spec(keyframes: list, fov: float, transition: float, loop: bool, fps: float, width: int, height: int,
          constant_speed: bool = True, smoothness: float = 0.0):
    from scenegen.paths.keyframes import PathSpec

    return PathSpec(
        keyframes=keyframes,
        width=int(width),
        height=int(height),
        fps=float(fps),
        smoothness=float(smoothness),
        loop=bool(loop),
        default_fov=float(fov),
        default_transition=float(transition),
        constant_speed=bool(constant_speed),
    )


# ----------------------------------------------------------------------------------------------------------
# A track (dense positions + where to look) -> keyframes
# ----------------------------------------------------------------------------------------------------------


def track_spec(
    positions: np.ndarray,
    up=(0.0, 0.0, 1.0),
    speed: float = 0.8,
    spacing: float = 0.5,
    look_ahead: float = 1.0,
    look_bias: Optional[np.ndarray] = None,
    max_turn_rate_deg_s: float = 45.0,
    pitch_deg: float = -5.0,
    fov: float = 60.0,
    loop: bool = False,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
    turn_margin: float = 0.9,
):
    """A level, forward-looking :class:`PathSpec` along a smooth track.

    Args:
        positions: (N, 3) camera centres along the track, world units (already smooth; any spacing).
        up: (3,) world up.
        speed: world units per second (constant along the track).
        spacing: keyframe spacing along the track, world units.
        look_ahead: the camera looks towards the track point this far ahead (world units).
        look_bias: optional (N, 3) unit horizontal directions blended into the view direction per track point
            (e.g. towards a room's centre), weighted by their length (0 = ignore, 1 = as strong as the
            direction of travel).
        max_turn_rate_deg_s: bound on the heading (yaw) change per second.
        pitch_deg: constant pitch (negative: slightly down).
        fov: vertical field of view, degrees.
        loop: the track is closed (the last point joins the first).
        fps, width, height: render settings of the spec.
        turn_margin: the keyframe headings are limited to ``turn_margin * max_turn_rate_deg_s``; when the
            sampled frames (:func:`~scenegen.paths.interpolate.sample_path`) still turn faster than
            ``max_turn_rate_deg_s`` (the spline between keyframes overshoots), the margin is tightened and the
            keyframes made again.
    """
    u = _unit(up)
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if len(pos) < 2:
        raise InputError("a path needs at least two distinct points", field="waypoints")
    if not (speed > 0 and spacing > 0 and max_turn_rate_deg_s > 0):
        raise InputError("speed, spacing and turn rate must be positive", field="speed")
    dense = resample_polyline(pos, min(spacing, 0.05), loop)
    s_dense = _arclength(dense, loop)
    total = float(s_dense[-1])
    if total <= 1e-9:
        raise InputError("the waypoints do not move: the path has zero length", field="waypoints")
    e1, e2 = _plane_basis(u)

    bias = None
    if look_bias is not None:
        b = np.asarray(look_bias, dtype=np.float64).reshape(-1, 3)
        src_s = _arclength(pos, loop)[: len(pos)] * (total / max(_arclength(pos, loop)[-1], 1e-12))
        bias = np.stack([np.interp(s_dense[: len(dense)], src_s, b[:, d]) for d in range(3)], 1)

    n_kf = max(1, int(round(total / spacing)))
    if loop:
        n_kf = max(n_kf, 3)
        s_kf = np.linspace(0.0, total, n_kf + 1)[:-1]
    else:
        s_kf = np.linspace(0.0, total, n_kf + 1)
    q = np.concatenate([dense, dense[:1]]) if loop else dense
    s_q = s_dense if loop else s_dense[: len(dense)]

    def at(s: np.ndarray) -> np.ndarray:
        if loop:
            s = np.mod(s, total)
        else:
            s = np.clip(s, 0.0, total)
        return np.stack([np.interp(s, s_q, q[:, d]) for d in range(3)], 1)

    kp = at(s_kf)
    # heading: towards the point look_ahead further on (near the end of an open path: the last direction)
    ahead = at(s_kf + look_ahead)
    d = ahead - kp
    if not loop:
        end_dir = dense[-1] - dense[max(0, len(dense) - 1 - max(1, int(look_ahead / 0.05)))]
        short = np.linalg.norm(d - (d @ u)[:, None] * u, axis=1) < 0.25 * look_ahead
        d[short] = end_dir
    dh = d - (d @ u)[:, None] * u
    nrm = np.linalg.norm(dh, axis=1, keepdims=True)
    dh = np.where(nrm > 1e-9, dh / np.maximum(nrm, 1e-12), np.nan)
    if bias is not None:
        bk = np.stack([np.interp(s_kf, s_dense[: len(dense)], bias[:, k]) for k in range(3)], 1)
        bk = bk - (bk @ u)[:, None] * u
        dh = np.where(np.isnan(dh), 0.0, dh) + bk
    yaw_x, yaw_y = dh @ e1, dh @ e2
    valid = np.isfinite(yaw_x) & (np.hypot(yaw_x, yaw_y) > 1e-9)
    if not valid.any():
        yaw_x, yaw_y, valid = np.ones(len(kp)), np.zeros(len(kp)), np.ones(len(kp), bool)
    idx = np.arange(len(kp))
    yaw = np.arctan2(yaw_y, yaw_x)
    yaw = np.interp(idx, idx[valid], np.unwrap(yaw[valid]))  # fill gaps, continuous
    yaw = np.unwrap(yaw)
    dt = (total / n_kf) / speed
    times = np.arange(len(kp)) * dt
    bound = math.radians(max_turn_rate_deg_s)
    margin = float(turn_margin)
    spec = None
    for _ in range(6):
        yaw_k = _limited_yaw(yaw, times, bound * margin, loop, dt)
        spec = _level_spec(kp, yaw_k, e1, e2, u, pitch_deg, fov, dt, loop, fps, width, height)
        worst = _max_yaw_rate(spec, e1, e2)
        if worst <= max_turn_rate_deg_s * 1.0 + 1e-6:
            break
        # the spline between keyframes turned faster than the keyframes do: tighten and try again
        margin *= 0.97 * max_turn_rate_deg_s / worst
    return spec


def _limited_yaw(yaw: np.ndarray, times: np.ndarray, rate: float, loop: bool, dt: float) -> np.ndarray:
    """Heading (K,) (radians, unwrapped) limited to ``rate`` rad/s, then eased with a [1 2 3 2 1] / 9 average
    (which keeps the bound and softens the changes of turn rate the spline would overshoot on)."""
    if loop:
        winding = 2 * math.pi * round(float(yaw[-1] - yaw[0] + (yaw[1] - yaw[0])) / (2 * math.pi)) if len(yaw) > 1 else 0.0
        period = times[-1] + dt
        ramp = winding * times / period
        # the ramp itself turns at |winding| / period: the rest gets what is left of the bound
        rest = max(rate - abs(winding) / period, 0.1 * rate)
        y = limit_rate(yaw - ramp, times, rest, loop=True)
        k = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0
        if len(y) >= 5:
            y = np.convolve(np.concatenate([y[-2:], y, y[:2]]), k, mode="valid")
        return y + ramp
    y = limit_rate(yaw, times, rate)
    if len(y) >= 5:
        k = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9.0
        pad = np.concatenate([np.full(2, y[0]), y, np.full(2, y[-1])])
        y = np.convolve(pad, k, mode="valid")
    return y


def _level_spec(kp, yaw, e1, e2, u, pitch_deg, fov, dt, loop, fps, width, height):
    from scenegen.paths.keyframes import Keyframe

    pitch = math.radians(pitch_deg)
    fwd = (np.cos(yaw)[:, None] * e1 + np.sin(yaw)[:, None] * e2) * math.cos(pitch) + math.sin(pitch) * u
    kfs = [
        Keyframe.look_at(p, p + f, up=u, fov=fov, aspect=width / height, transition=dt) for p, f in zip(kp, fwd)
    ]
    return _spec(kfs, fov, dt, loop, fps, width, height)


def _max_yaw_rate(spec, e1: np.ndarray, e2: np.ndarray) -> float:
    """Largest heading change per second (degrees) between consecutive frames of ``spec``."""
    from scenegen.paths.interpolate import sample_path

    c2w, _, _ = sample_path(spec)
    if len(c2w) < 2:
        return 0.0
    f = -c2w[:, :3, 2]
    yaw = np.unwrap(np.arctan2(f @ e2, f @ e1))
    return float(np.degrees(np.abs(np.diff(yaw))).max() * spec.fps)


# ----------------------------------------------------------------------------------------------------------
# Presets
# ----------------------------------------------------------------------------------------------------------


def walkthrough(
    waypoints,
    eye_height: float = 1.6,
    volume=None,
    up=(0.0, 0.0, 1.0),
    speed: float = 0.8,
    max_turn_rate_deg_s: float = 45.0,
    fov: float = 60.0,
    floor: float = 0.0,
    spacing: float = 0.5,
    look_ahead: float = 1.0,
    corner_radius: float = 0.6,
    pitch_deg: float = -5.0,
    clearance: float = 0.3,
    loop: bool = False,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
):
    """Walk through floor waypoints at eye height, looking ahead, turning at most ``max_turn_rate_deg_s``.

    Args:
        waypoints: (K, 3) points on the floor, or (K, 2) floor coordinates (the two world axes most orthogonal
            to ``up``; the floor is at height ``floor`` along ``up``, or found under each point in ``volume``).
        eye_height: camera height above the floor, world units.
        volume: optional :class:`~scenegen.paths.scene_volume.SceneVolume`: (K, 2) waypoints take the floor
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
    Returns:
        a :class:`~scenegen.paths.keyframes.PathSpec` (keyframes every ``spacing``, constant speed).
    """
    u = _unit(up)
    w = np.asarray(waypoints, dtype=np.float64)
    pts = floor_points(w, u, floor)
    if len(pts) < 2:
        raise InputError("a walk-through needs at least two waypoints", field="waypoints")
    if not (eye_height > 0 and speed > 0 and max_turn_rate_deg_s > 0 and spacing > 0):
        raise InputError("eye height, speed, turn rate and spacing must be positive", field="eye_height")
    if volume is not None and w.shape[1] == 2:
        from scenegen.paths.auto import floor_height_under

        h = floor_height_under(volume, pts, eye_height=eye_height)
        pts = pts + (np.where(np.isfinite(h), h, floor) - pts @ u)[:, None] * u[None, :]
    step = 0.05
    dense = resample_polyline(pts, step, loop)
    dense = smooth_polyline(dense, int(round(corner_radius / step)), loop)
    eye = dense + eye_height * u
    if volume is not None:
        eye = push_to_clearance(volume, eye, clearance, u)
    return track_spec(eye, u, speed, spacing, look_ahead, None, max_turn_rate_deg_s, pitch_deg, fov, loop, fps,
                      width, height)


def push_to_clearance(volume, points: np.ndarray, clearance: float, up, iterations: int = 20) -> np.ndarray:
    """Move points (N, 3) horizontally (orthogonal to ``up``) up the gradient of ``volume``'s distance field
    until they are at least ``clearance`` from occupied space (or ``iterations`` steps of half a voxel)."""
    u = _unit(up)
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
    fov: float = 60.0,
    seconds: float = 10.0,
    up=(0.0, 0.0, 1.0),
    start_angle_deg: float = 0.0,
    keyframes_per_turn: int = 16,
    fps: float = 30.0,
    width: int = 1920,
    height_px: int = 1080,
):
    """Circle ``turns`` times around ``center`` at ``radius``, ``height`` above it (along ``up``), looking at it.

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
    from scenegen.paths.keyframes import Keyframe

    u = _unit(up)
    c = np.asarray(center, dtype=np.float64).reshape(3)
    if not (radius > 0 and turns > 0 and seconds > 0):
        raise InputError("radius, turns and seconds must be positive", field="radius")
    if direction not in ("ccw", "cw"):
        raise InputError(f"must be 'ccw' or 'cw', got {direction!r}", field="direction")
    e1, e2 = _plane_basis(u)
    sign = 1.0 if direction == "ccw" else -1.0
    closed = abs(turns - 1.0) < 1e-9
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
    return _spec(kfs, fov, dt, closed, fps, width, height_px)


def flythrough(
    waypoints,
    look_at=None,
    speed: float = 1.0,
    fov: float = 60.0,
    up=(0.0, 0.0, 1.0),
    look_ahead: float = 1.0,
    spacing: float = 0.5,
    corner_radius: float = 0.5,
    max_turn_rate_deg_s: float = 60.0,
    loop: bool = False,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
):
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
    """
    from scenegen.paths.keyframes import Keyframe

    u = _unit(up)
    w = np.asarray(waypoints, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] != 3 or len(w) < 2 or not np.isfinite(w).all():
        raise InputError("expected at least two finite (x, y, z) waypoints", field="waypoints")
    if not speed > 0:
        raise InputError("must be positive", field="speed")
    step = 0.05 * max(1.0, float(np.linalg.norm(w.max(0) - w.min(0))) / 20.0)
    dense = resample_polyline(w, step, loop)
    dense = smooth_polyline(dense, int(round(corner_radius / step)), loop)
    if look_at is None:
        # Look along the 3D direction of travel: heading limited as in a walk, pitch following the path.
        total = float(_arclength(dense, loop)[-1])
        if total <= 1e-9:
            raise InputError("the waypoints do not move: the path has zero length", field="waypoints")
        spec = track_spec(dense, u, speed, spacing, look_ahead, None, max_turn_rate_deg_s, 0.0, fov, loop, fps,
                          width, height)
        # add the pitch of the travel direction (clamped away from straight up/down)
        s = _arclength(dense, loop)
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
    total = float(_arclength(dense, loop)[-1])
    if total <= 1e-9:
        raise InputError("the waypoints do not move: the path has zero length", field="waypoints")
    n_kf = max(1, int(round(total / spacing)))
    s_kf = np.linspace(0.0, total, n_kf + 1)[:-1] if loop else np.linspace(0.0, total, n_kf + 1)
    s = _arclength(dense, loop)
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
    return _spec(kfs, fov, dt, loop, fps, width, height)
