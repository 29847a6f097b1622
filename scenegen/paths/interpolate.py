"""Sampling a :class:`~scenegen.paths.model.PathSpec` into rendered cameras, as nerfstudio's viewer does.

nerfstudio's render panel (``nerfstudio/viewer/render_panel.py``, class ``CameraPath``) defines the motion:

* positions and fov: ``splines.KochanekBartels(values, tcb=(tension, 0, 0), endconditions=...)``; orientation:
  ``splines.quaternion.KochanekBartels`` on the keyframe quaternions, with the same tcb; ``endconditions`` is
  ``"closed"`` for a loop, else ``"natural"``; ``tension`` is the file's ``smoothness_value``. Keyframe ``i`` sits
  at spline parameter ``u = i``.
* seconds -> spline parameter (``spline_t_from_t_sec``): a PCHIP interpolant through (cumulative transition
  time, keyframe index) -- linear when all transitions are equal; for a loop padded by one transition on each
  side so the slopes match at the seam -- clipped to ``[0, S]``.
* frame ``k`` of ``N = fps * duration`` frames shows time ``k / fps`` (``interpolate_pose_and_fov_rad(k / N)``),
  so an open path's last frame is ``1 / fps`` before its last keyframe and a loop never repeats frame 0.

The viewer interpolates its own (OpenCV-convention) quaternions, ``R_gl @ Rx(pi)``; the quaternion spline only
uses relative rotations ``q1 * q0^-1`` and left-multiplied offsets, so it commutes with that constant right factor
and interpolating the OpenGL rotations gives the same cameras. Its position scale (``VISER_NERFSTUDIO_SCALE_RATIO``)
cancels out the same way.

scenegen adds, on top of that time -> parameter map (all optional, off in files nerfstudio wrote):

* holds: keyframe ``i`` stays still for ``hold`` seconds on arrival (keyframe 0's hold opens the path);
* ``constant_speed``: the total moving time is shared among segments in proportion to their arc length and each
  segment is reparameterised by arc length (a dense chord-length table per segment + ``np.interp``), so the
  camera moves at one speed everywhere it moves. Segments that do not move (pure rotations) keep their
  transition time;
* ``ease``: the moving clock ``w`` in ``[0, M]`` (``M`` = total moving time) is mapped through a smoothstep,
  ``M * s(w / M)`` with ``s(x) = 3x^2 - 2x^3``, so the path starts and ends at rest; holds stay at keyframes;
* quaternion signs are made consistent (dot >= 0 between neighbours) before building the spline, so the camera
  always turns the short way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import splines
import splines.quaternion
from scipy import interpolate as _sp_interpolate

from scenegen.paths.model import PathSpec, matrix_from_quat

__all__ = ["keyframe_times", "sample_path", "sample_path_at"]

_ARC_SAMPLES = 2048  # chord-length samples per segment of the arc-length table
_STATIC_REL = 1e-7  # a segment shorter than this fraction of the path length does not move


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _smoothstep_inv(y: np.ndarray) -> np.ndarray:
    """Inverse of ``3x^2 - 2x^3`` on [0, 1] (closed form)."""
    y = np.clip(np.asarray(y, dtype=np.float64), 0.0, 1.0)
    return 0.5 - np.sin(np.arcsin(1.0 - 2.0 * y) / 3.0)


def _eval_segments(spline: Any, u: np.ndarray) -> np.ndarray:
    """Vectorised evaluation of a ``splines`` monomial curve (its own per-segment coefficients) at (M,) params.

    Returns (M, D). Equivalent to ``spline.evaluate(u)``, used for the dense arc-length table.
    """
    grid = np.asarray(spline.grid, dtype=np.float64)
    idx = np.clip(np.searchsorted(grid, u, side="right") - 1, 0, len(grid) - 2)
    t = (u - grid[idx]) / (grid[idx + 1] - grid[idx])
    coef = np.stack([np.asarray(s, dtype=np.float64).reshape(4, -1) for s in spline.segments])  # (S, 4, D)
    c = coef[idx]
    return ((c[:, 0] * t[:, None] + c[:, 1]) * t[:, None] + c[:, 2]) * t[:, None] + c[:, 3]


@dataclass
class _Timeline:
    """Everything needed to evaluate a path at given seconds (built once per spec)."""

    spec: PathSpec
    num_kf: int
    num_seg: int
    nominal: np.ndarray  # (S,) transition seconds as authored
    seg_dur: np.ndarray  # (S,) moving seconds of each segment (differs from nominal with constant_speed)
    progress_kf: np.ndarray  # (S+1,) moving-time progress of each keyframe arrival, cumsum of seg_dur
    moving_total: float
    clock_kf: np.ndarray  # (S+1,) moving clock at each keyframe arrival (progress_kf through inverse ease)
    arrive: np.ndarray  # (S+1,) wall seconds of each keyframe arrival (index S = keyframe 0 again for loops)
    depart: np.ndarray  # (S+1,) wall seconds when each keyframe's hold ends
    pos_spline: Any = None
    quat_spline: Any = None
    fov_spline: Any = None
    pchip: Any = None
    arc_tables: Optional[list] = None  # per segment: (cumulative length (A,), local parameter (A,)) or None

    def u_from_progress(self, p: np.ndarray) -> np.ndarray:
        """Spline parameter (keyframe index units) of moving-time progress values."""
        s_last = self.num_seg
        if self.arc_tables is None:
            # nerfstudio CameraPath.spline_t_from_t_sec
            return np.clip(self.pchip(p), 0, s_last)
        seg = np.clip(np.searchsorted(self.progress_kf, p, side="right") - 1, 0, s_last - 1)
        f = np.clip((p - self.progress_kf[seg]) / self.seg_dur[seg], 0.0, 1.0)
        u = seg + f
        for s, table in enumerate(self.arc_tables):
            if table is None:
                continue
            sel = seg == s
            if np.any(sel):
                cum, local = table
                u[sel] = s + np.interp(f[sel] * cum[-1], cum, local)
        return np.clip(u, 0, s_last)


def _timeline(spec: PathSpec) -> _Timeline:
    spec.validate()
    kfs = spec.keyframes
    k = len(kfs)
    nominal = spec.transitions()
    s = len(nominal)
    holds = spec.holds()
    if k == 1:  # one keyframe: the camera does not move
        zero = np.zeros(1)
        return _Timeline(spec, k, 0, nominal, nominal, zero, 0.0, zero, zero, zero + holds[0])

    endcond = "closed" if spec.loop else "natural"
    tcb = (float(spec.smoothness), 0.0, 0.0)
    pos_spline = splines.KochanekBartels([kf.position for kf in kfs], tcb=tcb, endconditions=endcond)
    fov_spline = splines.KochanekBartels([kf.fov for kf in kfs], tcb=tcb, endconditions=endcond)
    quats = np.array([kf.rotation for kf in kfs])
    for i in range(1, k):  # shortest arcs: consecutive quaternions on the same hemisphere
        if float(np.dot(quats[i - 1], quats[i])) < 0.0:
            quats[i] = -quats[i]
    quat_spline = splines.quaternion.KochanekBartels(
        [splines.quaternion.UnitQuaternion.from_unit_xyzw(np.roll(q / np.linalg.norm(q), -1)) for q in quats],
        tcb=tcb,
        endconditions=endcond,
    )

    seg_dur = nominal.copy()
    arc_tables = None
    if spec.constant_speed:
        local = np.linspace(0.0, 1.0, _ARC_SAMPLES + 1)
        pts = _eval_segments(pos_spline, (np.arange(s)[:, None] + local[None, :]).reshape(-1))
        pts = pts.reshape(s, len(local), -1)  # (S, A, 3): segment i sampled on [i, i + 1]
        chords = np.linalg.norm(np.diff(pts, axis=1), axis=2)
        cums = np.concatenate([np.zeros((s, 1)), np.cumsum(chords, axis=1)], axis=1)  # (S, A)
        lengths = cums[:, -1]
        total = float(lengths.sum())
        moving = lengths > _STATIC_REL * total
        if total > 0 and np.any(moving):
            move_time = float(nominal.sum() - nominal[~moving].sum())
            seg_dur[moving] = move_time * lengths[moving] / lengths[moving].sum()
            arc_tables = []
            for i in range(s):
                if not moving[i]:
                    arc_tables.append(None)
                    continue
                # strictly increasing table (flat stretches where the curve stops for an instant)
                cum = cums[i] + np.arange(len(cums[i])) * (1e-12 * lengths[i])
                arc_tables.append((cum / cum[-1] * lengths[i], local))

    progress = np.concatenate([[0.0], np.cumsum(seg_dur)])
    m_total = float(progress[-1])
    clock = m_total * _smoothstep_inv(progress / m_total) if spec.ease else progress.copy()
    clock[0], clock[-1] = 0.0, m_total
    hold_at = np.array([holds[i] if i < k else 0.0 for i in range(s + 1)])
    arrive = clock + np.concatenate([[0.0], np.cumsum(hold_at[:-1])])
    depart = arrive + hold_at

    pchip = None
    if arc_tables is None:
        cs = np.concatenate([[0.0], np.cumsum(nominal)])
        idx = np.arange(len(cs), dtype=np.float64)
        if spec.loop:
            pchip = _sp_interpolate.PchipInterpolator(
                x=np.concatenate([[-(cs[-1] - cs[-2])], cs, cs[-1:] + cs[1:2]]),
                y=np.concatenate([[-1.0], idx, [idx[-1] + 1.0]]),
            )
        else:
            pchip = _sp_interpolate.PchipInterpolator(x=cs, y=idx)

    return _Timeline(
        spec, k, s, nominal, seg_dur, progress, m_total, clock, arrive, depart,
        pos_spline, quat_spline, fov_spline, pchip, arc_tables,
    )


def keyframe_times(spec: PathSpec) -> tuple[np.ndarray, np.ndarray]:
    """When the camera is at each keyframe.

    Returns:
        (arrive, depart): (K,) float64 seconds; the camera is at keyframe ``i`` for ``arrive[i] <= t <=
        depart[i]`` (``depart - arrive`` is its hold). Keyframe 0 arrives at 0. For a loop the camera is back
        at keyframe 0 at ``t = duration``. With ``constant_speed`` or ``ease`` arrivals are not the cumulative
        transitions.
    """
    tl = _timeline(spec)
    k = tl.num_kf
    return tl.arrive[:k].copy(), tl.depart[:k].copy()


def sample_path_at(spec: PathSpec, times: Any) -> tuple[np.ndarray, np.ndarray]:
    """Cameras of a path at given times.

    Args:
        spec: the path.
        times: (M,) seconds; clipped to ``[0, duration]`` (wrapped for a loop).
    Returns:
        c2w: (M, 4, 4) float64 OpenGL camera-to-world matrices.
        fov: (M,) float64 vertical fov in degrees.
    """
    return _sample(_timeline(spec), np.atleast_1d(np.asarray(times, dtype=np.float64)))


def _sample(tl: _Timeline, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    spec = tl.spec
    n = len(t)
    c2w = np.tile(np.eye(4), (n, 1, 1))
    if tl.num_seg == 0:
        kf = spec.keyframes[0]
        c2w[:] = kf.c2w()
        return c2w, np.full(n, kf.fov)
    duration = float(tl.depart[-1])
    t = np.mod(t, duration) if spec.loop else np.clip(t, 0.0, duration)
    if spec.loop:
        t[np.isclose(t, duration, rtol=0, atol=1e-12 * max(duration, 1.0))] = 0.0
    knots_t = np.stack([tl.arrive, tl.depart], axis=1).reshape(-1)
    knots_w = np.repeat(tl.clock_kf, 2)
    w = np.interp(t, knots_t, knots_w)
    m = tl.moving_total
    p = m * _smoothstep(w / m) if spec.ease else w
    u = tl.u_from_progress(p)
    pos = np.asarray(tl.pos_spline.evaluate(u), dtype=np.float64).reshape(n, 3)
    fov = np.asarray(tl.fov_spline.evaluate(u), dtype=np.float64).reshape(n)
    quats = np.array([q.wxyz for q in (tl.quat_spline.evaluate(float(x)) for x in u)], dtype=np.float64)
    c2w[:, :3, :3] = matrix_from_quat(quats)
    c2w[:, :3, 3] = pos
    return c2w, fov


def sample_path(spec: PathSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rendered frames of a path: frame ``k`` (of ``N = spec.num_frames``) shows time ``k / fps``.

    Returns:
        c2w: (N, 4, 4) float64 OpenGL camera-to-world matrices.
        fov: (N,) float64 vertical fov in degrees.
        times: (N,) float64 seconds, ``arange(N) / fps``.
    """
    times = np.arange(spec.num_frames, dtype=np.float64) / float(spec.fps)
    c2w, fov = sample_path_at(spec, times)
    return c2w, fov, times

