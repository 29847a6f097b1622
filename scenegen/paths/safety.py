"""Safety checks of a sampled camera path: inside geometry, too close to it, outside the scene, jumps.

:func:`check_path` looks at the rendered cameras (what :func:`scenegen.paths.interpolate.sample_path` returns)
and reports :class:`PathWarning` s, each naming the frames it concerns as ranges ("frames 12-30, 41"). Frames
are numbered from 0, as rendered. Units: the path's world units; angles in degrees.

Kinds:

* ``inside_occupied``: the camera centre is in an occupied voxel of the scene volume;
* ``too_close``: closer than ``min_clearance`` to occupied space (but not inside it);
* ``outside_region``: outside the region the scene was reconstructed in (the volume's content box);
* ``speed_spike``: a frame-to-frame step more than ``spike_factor`` times the median step (a teleport, a
  keyframe timing glitch), reported at the frame the camera arrives at;
* ``too_fast``: faster than ``max_speed`` (world units per second), when given;
* ``orientation_jump``: the view turns more than ``max_turn_deg_per_frame`` between consecutive frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scenegen.paths.interpolate import sample_path
from scenegen.paths.model import PathSpec

__all__ = ["PathWarning", "check_path", "format_frames", "format_summary", "summarize"]


@dataclass
class PathWarning:
    """One problem of a path.

    Attributes:
        kind: ``inside_occupied`` | ``too_close`` | ``outside_region`` | ``speed_spike`` | ``too_fast`` |
            ``orientation_jump``.
        frames: the frame numbers (0-based, ascending) where it happens.
        message: one line, naming the frames as ranges.
        values: per-frame measurement (same order as ``frames``): clearance, speed or angle.
    """

    kind: str
    frames: list
    message: str
    values: list = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def format_frames(frames, max_ranges: int = 8) -> str:
    """``[3, 4, 5, 9, 12, 13]`` -> ``"frames 3-5, 9, 12-13"`` (``"frame 7"`` for one frame); after
    ``max_ranges`` ranges the rest is summarised as ``"... (+N more)"``."""
    f = sorted({int(x) for x in frames})
    if not f:
        return "no frames"
    ranges = []
    a = b = f[0]
    for x in f[1:]:
        if x == b + 1:
            b = x
            continue
        ranges.append((a, b))
        a = b = x
    ranges.append((a, b))
    parts = [f"{a}" if a == b else f"{a}-{b}" for a, b in ranges[:max_ranges]]
    text = ", ".join(parts)
    if len(ranges) > max_ranges:
        rest = sum(b - a + 1 for a, b in ranges[max_ranges:])
        text += f", ... (+{rest} more frames)"
    return ("frame " if len(f) == 1 else "frames ") + text


def _rotation_angles(r: np.ndarray) -> np.ndarray:
    """(N-1,) degrees between consecutive rotations r (N, 3, 3)."""
    if len(r) < 2:
        return np.zeros(0)
    rel = np.einsum("nji,njk->nik", r[:-1], r[1:])  # R_i^T R_{i+1}
    tr = np.clip((np.trace(rel, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    return np.degrees(np.arccos(tr))


def check_path(
    c2w,
    fps: float,
    volume=None,
    min_clearance: float = 0.2,
    max_speed: float | None = None,
    max_turn_deg_per_frame: float | None = None,
    spike_factor: float = 4.0,
    min_spike: float | None = None,
) -> list[PathWarning]:
    """Check a sampled camera path.

    Args:
        c2w: (N, 4, 4) or (N, 3, 4) camera-to-world of the rendered frames (world units).
        fps: frames per second (for speeds).
        volume: a :class:`~scenegen.paths.volume.SceneVolume`, or None to skip the scene checks.
        min_clearance: distance to occupied space (world units) below which a frame is ``too_close``.
        max_speed: world units per second above which a frame is ``too_fast`` (None: not checked).
        max_turn_deg_per_frame: view rotation per frame above which a frame is an ``orientation_jump``;
            default ``max(5, 180 / fps)`` degrees (faster than half a turn per second, and at least 5 degrees).
        spike_factor: a step larger than this many times the median moving step (stops left out) is a
            ``speed_spike``.
        min_spike: steps shorter than this (world units) are never spikes; default 1e-3 of the path's extent,
            so that a camera standing still (median step 0) does not flag every small move.
    Returns:
        warnings, in the order of the kinds listed in the module docstring; empty when all is well.
    """
    m = np.asarray(c2w, dtype=np.float64)
    if m.ndim != 3 or m.shape[1:] not in ((3, 4), (4, 4)):
        raise ValueError(f"check_path: expected (N, 4, 4) or (N, 3, 4) matrices, got shape {m.shape}")
    n = len(m)
    out: list[PathWarning] = []
    if n == 0:
        return out
    pos = m[:, :3, 3]
    rot = m[:, :3, :3]
    if not np.isfinite(m[:, :3, :4]).all():
        raise ValueError("check_path: camera matrices must be finite")
    frames = np.arange(n)

    if volume is not None:
        occ = volume.occupied(pos)
        if occ.any():
            f = frames[occ]
            out.append(PathWarning("inside_occupied", f.tolist(),
                                   f"camera inside occupied space at {format_frames(f)}"))
        dist = volume.distance_to_occupied(pos)
        close = (dist < min_clearance) & ~occ
        if close.any():
            f = frames[close]
            out.append(PathWarning(
                "too_close", f.tolist(),
                f"camera closer than {min_clearance:g} to a surface at {format_frames(f)} "
                f"(nearest {float(dist[close].min()):.3f})",
                dist[close].tolist(),
            ))
        outside = ~volume.inside_region(pos)
        if outside.any():
            f = frames[outside]
            out.append(PathWarning("outside_region", f.tolist(),
                                   f"camera outside the reconstructed region at {format_frames(f)}"))

    if n >= 2:
        step = np.linalg.norm(np.diff(pos, axis=0), axis=1)
        extent = float(np.linalg.norm(pos.max(0) - pos.min(0)))
        floor_step = (1e-3 * max(extent, 1e-9)) if min_spike is None else float(min_spike)
        moving = step[step > floor_step]  # stops (a pan, a hold) are not the walking pace
        med = float(np.median(moving)) if len(moving) else 0.0
        spike = (step > spike_factor * med) & (step > floor_step)
        if spike.any():
            f = frames[1:][spike]
            ratio = step[spike] / max(med, 1e-12)
            out.append(PathWarning(
                "speed_spike", f.tolist(),
                f"speed spike at {format_frames(f)} (step up to {float(step[spike].max()):.3g}, "
                + (f"{float(ratio.max()):.1f}x the median step)" if med > 0 else "the camera is otherwise still)"),
                (step[spike] * fps).tolist(),
            ))
        if max_speed is not None:
            fast = step * fps > max_speed
            if fast.any():
                f = frames[1:][fast]
                out.append(PathWarning(
                    "too_fast", f.tolist(),
                    f"faster than {max_speed:g} units/s at {format_frames(f)} "
                    f"(up to {float((step[fast] * fps).max()):.3g})",
                    (step[fast] * fps).tolist(),
                ))
        lim = max(5.0, 180.0 / fps) if max_turn_deg_per_frame is None else float(max_turn_deg_per_frame)
        ang = _rotation_angles(rot)
        jump = ang > lim
        if jump.any():
            f = frames[1:][jump]
            out.append(PathWarning(
                "orientation_jump", f.tolist(),
                f"view turns more than {lim:g} degrees per frame at {format_frames(f)} "
                f"(up to {float(ang[jump].max()):.1f})",
                ang[jump].tolist(),
            ))
    return out


def summarize(spec: PathSpec, volume=None, min_clearance: float = 0.2) -> dict:
    """Frames, duration, length, speeds and safety warnings (:func:`check_path`) of a path (world units)."""
    c2w, fov, _ = sample_path(spec)
    pos = c2w[:, :3, 3]
    steps = np.linalg.norm(np.diff(pos, axis=0), axis=1) if len(pos) > 1 else np.zeros(0)
    speed = steps * spec.fps
    warnings = check_path(c2w, spec.fps, volume, min_clearance=min_clearance)
    return {
        "keyframes": len(spec.keyframes),
        "frames": int(len(c2w)),
        "duration_s": float(spec.duration),
        "fps": float(spec.fps),
        "resolution": f"{spec.width}x{spec.height}",
        "camera_type": spec.camera_type,
        "length": float(steps.sum()),
        "max_speed": float(speed.max()) if len(speed) else 0.0,
        "mean_speed": float(speed.mean()) if len(speed) else 0.0,
        "fov_range": (float(fov.min()), float(fov.max())),
        "loop": bool(spec.loop),
        "warnings": warnings,
    }


def format_summary(path: str | Path, s: dict) -> str:
    """A :func:`summarize` dict as a few lines of text (one per warning)."""
    lines = [
        f"{path}: {s['keyframes']} keyframes, {s['frames']} frames at {s['fps']:g} fps = {s['duration_s']:.2f} s, "
        f"{s['resolution']} {s['camera_type']}{' (loop)' if s['loop'] else ''}",
        f"  length {s['length']:.3f}, speed mean {s['mean_speed']:.3f} / max {s['max_speed']:.3f} units/s, "
        f"fov {s['fov_range'][0]:.1f}..{s['fov_range'][1]:.1f} deg",
    ]
    for w in s["warnings"]:
        lines.append(f"  warning: {w.message}")
    return "\n".join(lines)
