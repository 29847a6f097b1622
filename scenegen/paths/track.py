"""Tracks: polylines on the floor or in the air (resampling, smoothing, rate limits) and the keyframes of a level,
forward-looking camera moving along one (:func:`track_spec`), shared by the presets and the automatic planner.

Conventions: world units as given (metres for the synthetic scenes); ``up`` is the world up vector (default
+Z); cameras are OpenGL camera-to-world (look down -Z, +Y image up); ``fov`` is the vertical field of view in
degrees; speeds are world units per second; turn rates degrees per second.

The camera of a track stays level (no roll, a constant slight pitch), looks ahead along the direction of travel
(at a point ``look_ahead`` further along the path) and bounds the yaw change per second: the desired heading is
made ``max_turn_rate_deg_s``-Lipschitz in time by averaging a forward (lagging) and a backward (anticipating)
rate-limited pass, so turns start a little before a corner and end a little after it.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from scenegen.cameras.poses import up_basis
from scenegen.core.errors import InputError
from scenegen.paths.interpolate import sample_path
from scenegen.paths.model import Keyframe, PathSpec
from scenegen.paths.style import WALK, WalkStyle

__all__ = [
    "arclength",
    "floor_points",
    "limit_rate",
    "make_spec",
    "plane_basis",
    "resample_polyline",
    "smooth_polyline",
    "track_spec",
    "unit_vector",
]


# ----------------------------------------------------------------------------------------------------------
# Small geometry helpers
# ----------------------------------------------------------------------------------------------------------


def unit_vector(v, what: str = "up") -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).reshape(3)
    n = float(np.linalg.norm(v))
    if not (math.isfinite(n) and n > 0):
        raise InputError("must be a finite, non-zero vector", field=what)
    return v / n


def plane_basis(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane orthogonal to ``up`` (3,), right-handed with it (e1 x e2 = up)."""
    r = up_basis(up)
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
    u = unit_vector(up)
    axes = np.sort(np.argsort(np.abs(u))[:2])
    pts = np.zeros((len(w), 3))
    pts[:, axes[0]], pts[:, axes[1]] = w[:, 0], w[:, 1]
    pts += (floor - pts @ u)[:, None] * u[None, :]
    return pts


def arclength(p: np.ndarray, loop: bool = False) -> np.ndarray:
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
    s = arclength(p, loop)
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


def make_spec(keyframes: list, fov: float, transition: float, loop: bool, fps: float, width: int, height: int,
              constant_speed: bool = True, smoothness: float = 0.0) -> PathSpec:
    """The :class:`PathSpec` of a preset: straight segments between keyframes (smoothness 0), constant speed."""
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
    style: WalkStyle = WALK,
    up=(0.0, 0.0, 1.0),
    look_bias: Optional[np.ndarray] = None,
    loop: bool = False,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
    turn_margin: float = 0.9,
) -> PathSpec:
    """A level, forward-looking :class:`PathSpec` along a smooth track.

    Args:
        positions: (N, 3) camera centres along the track, world units (already smooth; any spacing).
        style: the walk: ``speed`` (world units per second, constant along the track), ``spacing`` (keyframe
            spacing along the track), ``look_ahead`` (the camera looks towards the track point this far ahead),
            ``max_turn_rate_deg_s`` (bound on the heading (yaw) change per second), ``pitch_deg`` (constant
            pitch, negative: slightly down), ``fov`` (vertical, degrees). Its eye height, corner radius and
            clearance are not used here (the positions already include them).
        up: (3,) world up.
        look_bias: optional (N, 3) unit horizontal directions blended into the view direction per track point
            (e.g. towards a room's centre), weighted by their length (0 = ignore, 1 = as strong as the
            direction of travel).
        loop: the track is closed (the last point joins the first).
        fps, width, height: render settings of the spec.
        turn_margin: the keyframe headings are limited to ``turn_margin * max_turn_rate_deg_s``; when the
            sampled frames (:func:`~scenegen.paths.interpolate.sample_path`) still turn faster than
            ``max_turn_rate_deg_s`` (the spline between keyframes overshoots), the margin is tightened and the
            keyframes made again.
    """
    speed, spacing, look_ahead = style.speed, style.spacing, style.look_ahead
    max_turn_rate_deg_s, pitch_deg, fov = style.max_turn_rate_deg_s, style.pitch_deg, style.fov
    u = unit_vector(up)
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if len(pos) < 2:
        raise InputError("a path needs at least two distinct points", field="waypoints")
    if not (speed > 0 and spacing > 0 and max_turn_rate_deg_s > 0):
        raise InputError("speed, spacing and turn rate must be positive", field="speed")
    dense = resample_polyline(pos, min(spacing, 0.05), loop)
    s_dense = arclength(dense, loop)
    total = float(s_dense[-1])
    if total <= 1e-9:
        raise InputError("the waypoints do not move: the path has zero length", field="waypoints")
    e1, e2 = plane_basis(u)

    bias = None
    if look_bias is not None:
        b = np.asarray(look_bias, dtype=np.float64).reshape(-1, 3)
        src_s = arclength(pos, loop)[: len(pos)] * (total / max(arclength(pos, loop)[-1], 1e-12))
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
    pitch = math.radians(pitch_deg)
    fwd = (np.cos(yaw)[:, None] * e1 + np.sin(yaw)[:, None] * e2) * math.cos(pitch) + math.sin(pitch) * u
    kfs = [
        Keyframe.look_at(p, p + f, up=u, fov=fov, aspect=width / height, transition=dt) for p, f in zip(kp, fwd)
    ]
    return make_spec(kfs, fov, dt, loop, fps, width, height)


def _max_yaw_rate(spec, e1: np.ndarray, e2: np.ndarray) -> float:
    """Largest heading change per second (degrees) between consecutive frames of ``spec``."""
    c2w, _, _ = sample_path(spec)
    if len(c2w) < 2:
        return 0.0
    f = -c2w[:, :3, 2]
    yaw = np.unwrap(np.arctan2(f @ e2, f @ e1))
    return float(np.degrees(np.abs(np.diff(yaw))).max() * spec.fps)
