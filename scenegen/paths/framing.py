"""Framing checks of a sampled camera path: what each frame shows, from the scene volume alone (no rendering).

:func:`check_framing` casts a coarse grid of rays (default 64x36 per frame) from each checked frame through the
:class:`~scenegen.paths.volume.SceneVolume` (fixed steps of half a voxel through its occupancy, up to
``max_range``) and measures, per frame:

* ``clearance``: distance (world units) from the camera to the nearest occupied voxel (0 inside geometry);
* ``near_fraction``: the share of the picture (rays) that hits a surface closer than ``near_dist`` (1 m): a
  wall, a door frame or a cupboard filling the view ("wall in face");
* ``pitch_deg``: the view's elevation above the horizon (degrees, negative = looking down);
* ``floor_fraction`` / ``ceiling_fraction``: the share of the picture that is floor (hits within 0.15 of the
  floor under the camera) or ceiling (upward rays hitting at least 0.7 above the camera);
* ``train_distance`` / ``train_angle``: distance to the nearest training camera and the angle (degrees) between
  its optical axis and the frame's;
* ``unseen_fraction``: the share of the visible surface (a 16x9 subset of the hits) that no training camera saw
  (none has it within ``train_half_fov_deg`` of its axis, within ``train_range``, with a free line of sight).

Flags (booleans per frame): ``too_close`` (inside or within ``min_clearance`` of geometry), ``wall_in_face``
(``near_fraction`` > ``max_near_fraction``), ``floor_ceiling`` (``|pitch|`` > ``max_pitch_deg`` for walking
tours, or more than half the picture floor or ceiling), ``unseen`` (farther than ``max_train_distance`` from
every training camera, or more than half the visible surface unseen). Frames between checked frames (``stride``)
take the values of the nearest checked frame. :func:`framing_warnings` turns the flags into one-line warnings
naming frame ranges and times. Everything is in the volume's world units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from scenegen.cameras.cameras import Cameras
from scenegen.paths.floor import floor_height_under
from scenegen.paths.safety import PathWarning
from scenegen.paths.style import WALK

__all__ = ["FLAG_KINDS", "FramingReport", "check_framing", "framing_warnings", "ray_grid", "frame_ranges"]

FLAG_KINDS = ("too_close", "wall_in_face", "floor_ceiling", "unseen")


@dataclass
class FramingReport:
    """Per-frame framing measurements (arrays of length N, see the module docstring) and flags."""

    clearance: np.ndarray
    near_fraction: np.ndarray
    pitch_deg: np.ndarray
    floor_fraction: np.ndarray
    ceiling_fraction: np.ndarray
    train_distance: np.ndarray
    train_angle: np.ndarray
    unseen_fraction: np.ndarray
    checked: np.ndarray
    """(N,) bool: frames whose rays were cast (the others copy the nearest checked frame)."""
    flags: dict = field(default_factory=dict)
    """kind (:data:`FLAG_KINDS`) -> (N,) bool."""
    settings: dict = field(default_factory=dict)

    def per_frame(self) -> dict:
        """name -> list (JSON-ready; NaN -> None)."""
        out = {}
        for k in ("clearance", "near_fraction", "pitch_deg", "floor_fraction", "ceiling_fraction", "train_distance",
                  "train_angle", "unseen_fraction"):
            out[k] = [None if not np.isfinite(v) else round(float(v), 4) for v in getattr(self, k)]
        for k, v in self.flags.items():
            out[f"flag_{k}"] = [bool(x) for x in v]
        return out


def ray_grid(cameras: Cameras, i: int, nx: int = 64, ny: int = 36) -> tuple[np.ndarray, np.ndarray]:
    """Origins and unit directions (nx*ny, 3) of an ``nx`` x ``ny`` grid of rays spread over camera ``i``'s
    picture (any camera model: :meth:`Cameras.generate_rays` at scaled pixel centres)."""
    w, h = float(cameras.width[i]), float(cameras.height[i])
    v, u = torch.meshgrid((torch.arange(ny, dtype=torch.float32) + 0.5) * h / ny,
                          (torch.arange(nx, dtype=torch.float32) + 0.5) * w / nx, indexing="ij")
    idx = torch.full((nx * ny,), int(i), dtype=torch.long)
    o, d = cameras.generate_rays(idx, u.reshape(-1), v.reshape(-1))
    return o.double().numpy(), d.double().numpy()


def _march(volume, origins: np.ndarray, dirs: np.ndarray, max_range: float) -> np.ndarray:
    """(R,) distance along each ray to its first occupied sample (steps of half a voxel), inf when none."""
    step = volume.voxel * 0.5
    ts = np.arange(0.0, max_range + step, step)
    hit = np.full(len(origins), np.inf)
    alive = np.ones(len(origins), dtype=bool)
    for t in ts:
        if not alive.any():
            break
        a = np.flatnonzero(alive)
        occ = volume.occupied(origins[a] + dirs[a] * t)
        hit[a[occ]] = t
        alive[a[occ]] = False
    return hit


def _seen(volume, points: np.ndarray, train_c2w: np.ndarray, half_fov_deg: float, max_range: float) -> np.ndarray:
    """(P,) bool: points seen by some training camera (within its view cone and range, free line of sight)."""
    seen = np.zeros(len(points), dtype=bool)
    if len(points) == 0 or len(train_c2w) == 0:
        return seen
    cos_lim = math.cos(math.radians(half_fov_deg))
    pos = train_c2w[:, :3, 3]
    fwd = -train_c2w[:, :3, 2]
    vec = points[None, :, :] - pos[:, None, :]  # (C, P, 3)
    dist = np.linalg.norm(vec, axis=2)
    cosang = np.einsum("cpk,ck->cp", vec, fwd) / np.maximum(dist, 1e-9)
    cand = (cosang > cos_lim) & (dist < max_range) & (dist > 1e-6)
    ci, pi = np.nonzero(cand)
    if len(ci) == 0:
        return seen
    # Line of sight: samples from the camera to two voxels short of the point must all be free.
    s = np.linspace(0.0, 1.0, 24)[None, :, None]
    d = dist[ci, pi]
    end = np.maximum(d - 2.0 * volume.voxel, 0.0)
    u = vec[ci, pi] / d[:, None]
    samples = pos[ci][:, None, :] + u[:, None, :] * (end[:, None, None] * s)
    free = ~volume.occupied(samples.reshape(-1, 3)).reshape(len(ci), -1).any(1)
    seen[np.unique(pi[free])] = True
    return seen


def check_framing(
    cameras: Cameras,
    volume,
    train_c2w=None,
    *,
    nx: int = 64,
    ny: int = 36,
    stride: int | None = None,
    max_checked: int = 240,
    near_dist: float = 1.0,
    max_near_fraction: float = 0.5,
    min_clearance: float = 0.3,
    max_pitch_deg: float | None = 10.0,
    max_range: float = 8.0,
    max_train_distance: float = 1.5,
    max_unseen_fraction: float = 0.5,
    train_half_fov_deg: float = 40.0,
    train_range: float = 8.0,
    eye_height: float = WALK.eye_height,
) -> FramingReport:
    """Framing measurements and flags of every frame of ``cameras`` (world units; see the module docstring).

    Args:
        cameras: the path's N cameras (:attr:`CameraPath.cameras`).
        volume: the scene's :class:`~scenegen.paths.volume.SceneVolume`.
        train_c2w: (M, 4, 4) training cameras (None / empty: the support measures are NaN, nothing is flagged
            ``unseen``).
        nx, ny: rays per frame across and down.
        stride: cast rays every ``stride`` frames (default: enough for at most ``max_checked`` frames).
        max_pitch_deg: pitch beyond which a frame is ``floor_ceiling`` (None: not checked, e.g. an orbit).
        eye_height: the walking eye height, for finding the floor under the camera.
    """
    c2w = cameras.c2w.double().numpy()
    n = len(c2w)
    pos, fwd = c2w[:, :3, 3], -c2w[:, :3, 2]
    up = np.asarray(volume.up, dtype=np.float64)
    pitch = np.degrees(np.arcsin(np.clip(fwd @ up / np.maximum(np.linalg.norm(fwd, axis=1), 1e-12), -1, 1)))
    clearance = np.where(volume.occupied(pos), 0.0, volume.distance_to_occupied(pos)) if n else np.zeros(0)
    train = np.zeros((0, 4, 4)) if train_c2w is None else np.asarray(train_c2w, dtype=np.float64)
    train = train.reshape(-1, *train.shape[-2:]) if train.size else np.zeros((0, 4, 4))
    if len(train):
        dd = np.linalg.norm(pos[:, None, :] - train[None, :, :3, 3], axis=2)
        near_i = dd.argmin(1)
        train_distance = dd[np.arange(n), near_i]
        tf = -train[near_i, :3, 2]
        train_angle = np.degrees(np.arccos(np.clip(np.sum(tf * fwd, 1) / np.maximum(
            np.linalg.norm(tf, axis=1) * np.linalg.norm(fwd, axis=1), 1e-12), -1, 1)))
    else:
        train_distance = train_angle = np.full(n, np.nan)

    stride = max(1, int(stride) if stride else math.ceil(n / max(1, max_checked)))
    checked_idx = np.unique(np.r_[np.arange(0, n, stride), n - 1]) if n else np.zeros(0, dtype=int)
    near = np.full(n, np.nan)
    floor_f = np.full(n, np.nan)
    ceil_f = np.full(n, np.nan)
    unseen = np.full(n, np.nan)
    floor_h = floor_height_under(volume, pos[checked_idx], eye_height) if len(checked_idx) else np.zeros(0)
    sub = np.zeros((ny, nx), dtype=bool)
    sub[:: max(1, ny // 9), :: max(1, nx // 16)] = True
    sub = sub.reshape(-1)
    for j, i in enumerate(checked_idx):
        o, d = ray_grid(cameras, int(i), nx, ny)
        t = _march(volume, o, d, max_range)
        finite = np.isfinite(t)
        near[i] = float(np.mean(t < near_dist))
        hits = o + d * np.where(finite, t, 0.0)[:, None]
        hh = hits @ up
        cam_h = float(pos[i] @ up)
        fh = floor_h[j] if np.isfinite(floor_h[j]) else cam_h - eye_height
        floor_f[i] = float(np.mean(finite & (hh < fh + 0.15)))
        ceil_f[i] = float(np.mean(finite & (hh > cam_h + 0.7) & (d @ up > 0.2)))
        if len(train):
            pts = hits[sub & finite]
            seen = _seen(volume, pts, train, train_half_fov_deg, train_range)
            unseen[i] = float(1.0 - seen.mean()) if len(pts) else 0.0
    # Unchecked frames take the nearest checked frame's values.
    if n and len(checked_idx) < n:
        pos_in = np.searchsorted(checked_idx, np.arange(n) - stride / 2.0)
        nearest = checked_idx[np.clip(pos_in, 0, len(checked_idx) - 1)]
        for arr in (near, floor_f, ceil_f, unseen):
            arr[:] = arr[nearest]
    checked = np.zeros(n, dtype=bool)
    checked[checked_idx] = True

    flags = {
        "too_close": clearance < min_clearance,
        "wall_in_face": near > max_near_fraction,
        "floor_ceiling": (np.abs(pitch) > max_pitch_deg if max_pitch_deg is not None else np.zeros(n, bool))
        | (floor_f > 0.5) | (ceil_f > 0.5),
        "unseen": (train_distance > max_train_distance) | (unseen > max_unseen_fraction)
        if len(train) else np.zeros(n, dtype=bool),
    }
    settings = dict(rays=f"{nx}x{ny}", stride=stride, near_dist=near_dist, max_near_fraction=max_near_fraction,
                    min_clearance=min_clearance, max_pitch_deg=max_pitch_deg, max_train_distance=max_train_distance,
                    max_unseen_fraction=max_unseen_fraction, voxel=float(volume.voxel))
    return FramingReport(clearance=clearance, near_fraction=near, pitch_deg=pitch, floor_fraction=floor_f,
                         ceiling_fraction=ceil_f, train_distance=train_distance, train_angle=train_angle,
                         unseen_fraction=unseen, checked=checked, flags=flags, settings=settings)


def frame_ranges(mask) -> list[tuple[int, int]]:
    """Inclusive (first, last) frame ranges where ``mask`` holds."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    d = np.diff(np.r_[0, m.astype(np.int8), 0])
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist()))


def _describe(kind: str, rep: FramingReport, a: int, b: int) -> str:
    s = slice(a, b + 1)
    st = rep.settings
    if kind == "too_close":
        c = float(np.min(rep.clearance[s]))
        return "camera inside geometry" if c <= 0 else f"camera {c:.2f} m from a surface (< {st['min_clearance']:g} m)"
    if kind == "wall_in_face":
        return (f"wall in face ({100 * float(np.nanmax(rep.near_fraction[s])):.0f} % of the picture closer than "
                f"{st['near_dist']:g} m)")
    if kind == "floor_ceiling":
        p = rep.pitch_deg[s]
        k = int(np.argmax(np.abs(p)))
        fl, ce = float(np.nanmax(rep.floor_fraction[s])), float(np.nanmax(rep.ceiling_fraction[s]))
        what = "floor" if (p[k] < 0 or fl > 0.5) and ce <= 0.5 else "ceiling"
        return f"looking at the {what} (pitch {p[k]:+.0f} deg, {100 * max(fl, ce):.0f} % {what})"
    dist = float(np.nanmax(rep.train_distance[s])) if np.isfinite(rep.train_distance[s]).any() else float("nan")
    un = float(np.nanmax(rep.unseen_fraction[s])) if np.isfinite(rep.unseen_fraction[s]).any() else float("nan")
    return (f"looking at what training never saw ({100 * un:.0f} % of the visible surface unseen, "
            f"{dist:.2f} m from the nearest training camera)")


def framing_warnings(rep: FramingReport, fps: float, max_ranges: int = 6) -> list[PathWarning]:
    """One warning per flagged stretch ("frames 120-161 (4.0-5.4 s): wall in face (62 % of the picture closer
    than 1 m)"), at most ``max_ranges`` per kind (then one line counting the rest)."""
    out = []
    fps = float(fps) if fps and fps > 0 else 30.0
    for kind in FLAG_KINDS:
        mask = rep.flags.get(kind)
        if mask is None:
            continue
        ranges = frame_ranges(mask)
        for a, b in ranges[:max_ranges]:
            frames = f"frame {a}" if a == b else f"frames {a}-{b}"
            msg = f"{frames} ({a / fps:.1f}-{(b + 1) / fps:.1f} s): {_describe(kind, rep, a, b)}"
            out.append(PathWarning(kind, list(range(a, b + 1)), msg))
        if len(ranges) > max_ranges:
            rest = ranges[max_ranges:]
            fr = [f for a, b in rest for f in range(a, b + 1)]
            out.append(PathWarning(kind, fr, f"... and {len(rest)} more {kind.replace('_', ' ')} stretches "
                                             f"({len(fr)} frames)"))
    return out
