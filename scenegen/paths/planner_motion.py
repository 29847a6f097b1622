"""How the tour's camera moves in time: walks, turns in place, pans and pauses, as a videographer does.

A tour is a list of moves on the floor plan's cells (see :mod:`scenegen.paths.planner_route`):

* :class:`Walk`: along a smooth route at a constant speed with eased starts and stops, looking at the route
  point ``look_ahead`` further on (in a corridor it looks where it walks, before a doorway it already looks
  through it); where the view would turn faster than the turn-rate bound the walk slows down;
* :class:`Turn`: turning in place from one heading to another at the turn rate between eased (half-cosine)
  speed-ups and slow-downs of :data:`TURN_RAMP_S`;
* :class:`Pan`: a room's slow reveal from one heading to another over given seconds, eased;
* :class:`Hold`: standing still.

:func:`timeline` turns them into a dense (time, position, heading) track; headings are angles in the map plane
(radians, continuous: no wrap). The eased profiles are hand-written (a few lines of kinematics; no library
offers a speed profile bounded by both acceleration and turn rate along a route).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Hold", "Pan", "Turn", "Walk", "timeline", "walk_yaw"]


@dataclass
class Walk:
    xy: np.ndarray
    """(N, 2) map cells, evenly spaced (``step`` world units)."""
    end_yaw: float | None = None
    """Heading to arrive with (the room's view): the last ``end_blend`` of the walk turns to it."""
    end_blend: float = 1.5
    """World units (at most the look-ahead): only the stretch inside the room arrived in."""


@dataclass
class Turn:
    xy: np.ndarray
    delta: float
    """Signed turn (radians): the way (left or right, possibly more than half a turn) the caller chose."""


@dataclass
class Pan:
    xy: np.ndarray
    start: float
    end: float
    seconds: float


@dataclass
class Hold:
    xy: np.ndarray
    seconds: float


TURN_RAMP_S = 0.8
"""Seconds a turn in place takes to reach (and leave) its full turn rate."""


def _unwrap_near(a: float, ref: float) -> float:
    """``a`` shifted by whole turns to within half a turn of ``ref``."""
    return a + 2 * math.pi * round((ref - a) / (2 * math.pi))


def walk_yaw(xy: np.ndarray, voxel: float, look_ahead: float, end_yaw: float | None = None,
             end_blend: float | None = None) -> np.ndarray:
    """(N,) heading (radians, unwrapped) at each point of a route (N, 2): towards the route point
    ``look_ahead`` (world units) further on; near the end, the route's last direction, or (``end_yaw``) turning
    smoothly to that heading over the last ``end_blend`` (default ``look_ahead``; the camera looks into the room it arrives in instead
    of at the wall it walks towards)."""
    seg = np.linalg.norm(np.diff(xy, axis=0), axis=1) * voxel
    s = np.concatenate([[0.0], np.cumsum(seg)])
    total = s[-1]
    la = np.clip(s + look_ahead, 0.0, total)
    ahead = np.stack([np.interp(la, s, xy[:, 0]), np.interp(la, s, xy[:, 1])], 1)
    d = ahead - xy
    # the last stretch: the direction of the final ``look_ahead / 2`` of the route
    k = int(np.searchsorted(s, max(0.0, total - 0.5 * look_ahead)))
    end_dir = xy[-1] - xy[min(k, len(xy) - 2)]
    short = np.linalg.norm(d, axis=1) * voxel < 0.3 * look_ahead
    d[short] = end_dir
    yaw = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    # soften over about 0.3 m
    w = max(1, int(round(0.15 / max(float(np.median(seg)) if len(seg) else 0.05, 1e-6))))
    if len(yaw) > 2 * w + 1:
        pad = np.concatenate([np.full(w, yaw[0]), yaw, np.full(w, yaw[-1])])
        yaw = np.convolve(pad, np.ones(2 * w + 1) / (2 * w + 1), mode="valid")
    if end_yaw is not None and total > 1e-6:
        e = _unwrap_near(float(end_yaw), float(yaw[-1]))
        blend = min(look_ahead if end_blend is None else end_blend, look_ahead, 0.8 * total)
        u = np.clip((s - (total - blend)) / max(blend, 1e-9), 0.0, 1.0)
        wgt = u * u * (3 - 2 * u)
        yaw = (1 - wgt) * yaw + wgt * e
    return yaw


def _walk_times(xy: np.ndarray, yaw: np.ndarray, voxel: float, speed: float, turn_rate: float,
                accel: float) -> np.ndarray:
    """(N,) times along a walk: at most ``speed``, slower where the heading turns faster than ``turn_rate``
    (rad/s) would allow, accelerating and braking at most ``accel`` (from and to a standstill)."""
    ds = np.linalg.norm(np.diff(xy, axis=0), axis=1) * voxel
    n = len(xy)
    if n < 2:
        return np.zeros(n)
    dyaw = np.abs(np.diff(yaw)) / np.maximum(ds, 1e-9)  # rad per metre
    k = np.concatenate([dyaw[:1], np.maximum(dyaw[:-1], dyaw[1:]), dyaw[-1:]])
    v = np.minimum(speed, 0.9 * turn_rate / np.maximum(k, 1e-9))
    v[0] = v[-1] = 0.0
    for i in range(1, n):  # accelerating
        v[i] = min(v[i], math.sqrt(v[i - 1] ** 2 + 2 * accel * ds[i - 1]))
    for i in range(n - 2, -1, -1):  # braking
        v[i] = min(v[i], math.sqrt(v[i + 1] ** 2 + 2 * accel * ds[i]))
    vm = np.maximum(0.5 * (v[1:] + v[:-1]), 1e-3)
    return np.concatenate([[0.0], np.cumsum(ds / vm)])


def _eased(a: float, b: float, seconds: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Times (M,) from 0 and headings (M,) of a half-cosine eased change from a to b over ``seconds``."""
    m = max(2, int(math.ceil(seconds / dt)) + 1)
    t = np.linspace(0.0, seconds, m)
    return t, a + (b - a) * 0.5 * (1.0 - np.cos(np.pi * t / max(seconds, 1e-9)))


def _ramped(a: float, b: float, rate: float, ramp: float, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """Times (M,) from 0 and headings (M,) of a turn from a to b at a constant ``rate`` (rad/s) between eased
    (half-cosine) speed-ups and slow-downs of ``ramp`` seconds: a turn in place as fast as the rate bound allows
    and still smooth. Turns too small to reach the rate are one half-cosine ease at a peak of ``rate``."""
    delta = abs(b - a)
    if delta <= rate * ramp:
        return _eased(a, b, delta * math.pi / (2 * rate), dt)
    cruise = (delta - rate * ramp) / rate
    total = 2 * ramp + cruise
    m = max(3, int(math.ceil(total / dt)) + 1)
    t = np.linspace(0.0, total, m)
    # angle covered: ramp-up (rate/2)(t - ramp/pi sin(pi t/ramp)), cruise at rate, mirrored ramp-down
    up = 0.5 * rate * (np.minimum(t, ramp) - ramp / math.pi * np.sin(math.pi * np.minimum(t, ramp) / ramp))
    mid = rate * np.clip(t - ramp, 0.0, cruise)
    td = np.clip(t - ramp - cruise, 0.0, ramp)
    down = rate * td - 0.5 * rate * (td - ramp / math.pi * np.sin(math.pi * td / ramp))
    covered = np.minimum(up + mid + down, delta)
    return t, a + math.copysign(1.0, b - a) * covered


def timeline(moves: list, voxel: float, yaw0: float, *, speed: float, turn_rate: float, accel: float = 0.35,
             look_ahead: float = 1.5, pan_scale: float = 1.0, dt: float = 1 / 60) -> dict:
    """Dense track of the moves: ``t`` (M,) seconds, ``xy`` (M, 2) map cells, ``yaw`` (M,) radians (continuous),
    ``move`` (M,) index of the move each sample belongs to. ``turn_rate`` in rad/s; pans last
    ``seconds * pan_scale`` (at least as long as the turn rate needs)."""
    ts, xys, yaws, mv = [np.zeros(1)], [], [np.array([yaw0])], [np.zeros(1, int)]
    first_xy = next((np.asarray(m.xy)[0] if isinstance(m, Walk) else np.asarray(m.xy)) for m in moves)
    xys.append(np.asarray(first_xy, dtype=np.float64).reshape(1, 2))
    t_end, yaw = 0.0, yaw0
    for i, m in enumerate(moves):
        if isinstance(m, Walk):
            if len(m.xy) < 2:
                continue
            y = walk_yaw(m.xy, voxel, look_ahead, m.end_yaw, m.end_blend)
            y = y + (_unwrap_near(float(y[0]), yaw) - float(y[0]))
            tt = _walk_times(m.xy, y, voxel, speed, turn_rate, accel)
            ts.append(t_end + tt[1:])
            xys.append(m.xy[1:])
            yaws.append(y[1:])
            mv.append(np.full(len(tt) - 1, i))
            t_end += float(tt[-1])
            yaw = float(y[-1])
            continue
        p = np.asarray(m.xy, dtype=np.float64).reshape(1, 2)
        if isinstance(m, Hold):
            tt, y = np.linspace(0.0, m.seconds * pan_scale, 3), np.full(3, yaw)
        elif isinstance(m, Turn):
            target = yaw + float(m.delta)
            if abs(target - yaw) < 1e-4:
                continue
            tt, y = _ramped(yaw, target, 0.9 * turn_rate, TURN_RAMP_S, dt)
        else:  # Pan
            start = _unwrap_near(float(m.start), yaw)
            end = start + (float(m.end) - float(m.start))
            if abs(start - yaw) > 1e-3:
                t1, y1 = _ramped(yaw, start, 0.9 * turn_rate, TURN_RAMP_S, dt)
                sec = float(t1[-1])
                ts.append(t_end + t1[1:])
                xys.append(np.repeat(p, len(t1) - 1, 0))
                yaws.append(y1[1:])
                mv.append(np.full(len(t1) - 1, i))
                t_end += sec
            sec = max(m.seconds * pan_scale, abs(end - start) * math.pi / (2 * 0.9 * turn_rate))
            tt, y = _eased(start, end, sec, dt)
        ts.append(t_end + tt[1:])
        xys.append(np.repeat(p, len(tt) - 1, 0))
        yaws.append(y[1:])
        mv.append(np.full(len(tt) - 1, i))
        t_end += float(tt[-1])
        yaw = float(y[-1])
    t = np.concatenate(ts)
    xy = np.concatenate(xys)
    yw = np.concatenate(yaws)
    move = np.concatenate(mv)
    keep = np.concatenate([[True], np.diff(t) > 1e-9])
    return {"t": t[keep], "xy": xy[keep], "yaw": yw[keep], "move": move[keep]}
