"""How well a capture's cameras cover their subject: what they look at, how far apart neighbouring views are,
which side is missing, how much of the scene only one or two photos see; and, from that, one line of advice
when the capture is too sparse for a clean field.

Used by ``scenegen process`` and ``scenegen train`` (the advice line) and by the orbit framing
(:func:`orbit_frame`: centre, radius and height of the capture's own circle). Hand-written: the maths is a
3x3 least-squares solve and some angle bookkeeping, nothing a library adds.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from scenegen.data.capture.colmap import read_ply_points

NEIGHBOUR_DEG = 15.0
"""Median angle between neighbouring views (seen from the subject) above which a capture is sparse: NeRF-style
reconstruction wants every surface in several views taken a few degrees apart."""
GAP_DEG = 60.0
"""An arc of this many degrees around the subject without a camera is a missing side."""
MIN_PHOTOS = 40
"""Fewer photos than this for a walk around a subject is sparse whatever their spacing."""
FEW_VIEWS_SHARE = 0.25
"""Above this share of the SfM points inside fewer than 3 views' frusta, regions are seen only once or twice."""


@dataclass
class Coverage:
    photos: int
    target: np.ndarray
    """(3,) what the cameras look at (:func:`look_target`)."""
    surround: bool
    """The cameras go around the target (an object capture) rather than all facing one way."""
    span_deg: float
    """Arc around the target (about ``up``) that the cameras cover."""
    median_neighbour_deg: float
    """Median angle, seen from the target, between each camera and its nearest neighbour."""
    max_gap_deg: float
    """Largest arc around the target without a camera (surround captures)."""
    gap_side: str
    """Which side that gap faces ("+X", "-Y+X", ...), in the dataset's axes."""
    few_view_share: float | None
    """Share of the SfM points inside fewer than 3 cameras' view (None without points)."""
    problems: list[str] = field(default_factory=list)
    thin_views: bool = False
    """The views themselves are too few or too far apart (photo count, neighbour angle, regions seen once or
    twice), as opposed to a dense capture with one side missing: what the sparse-view regularisers are for."""

    @property
    def sparse(self) -> bool:
        """Anything to advise (a missing side included)."""
        return bool(self.problems)

    def advice(self) -> str | None:
        """One line: what is wrong and what to do, or None when the capture is dense enough."""
        if not self.problems:
            return None
        todo = []
        if self.surround and self.max_gap_deg > GAP_DEG:
            todo.append(f"photograph the {self.gap_side} side")
        want = int(math.ceil(max(MIN_PHOTOS, self.photos * self.median_neighbour_deg / 10.0)))
        if self.photos < want:
            todo.append(f"take about {want} photos, 5-10 degrees apart")
        todo.append("or film a slow video around the subject (scenegen process --input video.mp4)")
        what = "sparse capture" if self.thin_views else "incomplete capture"
        return f"{what}: {'; '.join(self.problems)}. To do: {', '.join(todo)}"


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def convergence_point(c2w: np.ndarray) -> tuple[np.ndarray, bool]:
    """The point closest (least squares) to every camera's optical axis, and whether it is well defined: in
    front of most cameras and not from nearly parallel axes (a forward-facing capture)."""
    c2w = np.asarray(c2w, dtype=np.float64)
    o, d = c2w[:, :3, 3], _unit(-c2w[:, :3, 2])
    proj = np.eye(3)[None] - d[:, :, None] * d[:, None, :]  # (I - d d^T) per camera
    a, b = proj.sum(0), np.einsum("nij,nj->i", proj, o)
    ev = np.linalg.eigvalsh(a)
    if len(o) < 2 or ev[0] < 1e-3 * len(o):
        return o.mean(0) + d.mean(0), False
    p = np.linalg.solve(a, b)
    ahead = ((p - o) * d).sum(1) > 0
    return p, bool(ahead.mean() > 0.8)


def dense_core(points: np.ndarray, near: np.ndarray | None = None, keep: float = 0.5) -> np.ndarray:
    """Robust centre of a point cloud: the mean of the ``keep`` share of points closest to its median (or to
    ``near``), which ignores the far background that SfM also triangulates."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    c = np.median(pts, 0) if near is None else np.asarray(near, dtype=np.float64)
    r = np.linalg.norm(pts - c, axis=1)
    sel = pts[r <= np.quantile(r, keep)]
    return sel.mean(0) if len(sel) else c


def look_target(c2w: np.ndarray, points: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """What the cameras look at: the optical axes' convergence point, pulled onto the SfM points' dense core
    around it when there are points (the axes of hand-held photos miss the subject by a little each). Second
    value: the cameras converge (an object capture)."""
    p, ok = convergence_point(c2w)
    if points is not None and len(points) >= 20:
        cams = np.asarray(c2w)[:, :3, 3]
        if ok:
            # the points within the cameras' median distance of the convergence point, then their dense core
            dist = np.median(np.linalg.norm(cams - p, axis=1))
            pts = points[np.linalg.norm(points - p, axis=1) < dist]
            if len(pts) >= 20:
                p = dense_core(pts, near=dense_core(pts))
        else:
            p = dense_core(points)
    return p, ok


def _azimuths(c2w: np.ndarray, target: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    up = _unit(np.asarray(up, dtype=np.float64))
    e1 = _unit(np.cross(up, [1.0, 0, 0] if abs(up[0]) < 0.9 else [0, 1.0, 0]))
    e2 = np.cross(up, e1)
    rel = np.asarray(c2w)[:, :3, 3] - target
    return np.arctan2(rel @ e2, rel @ e1), e1, e2


def _side_name(direction: np.ndarray) -> str:
    big = sorted(np.argsort(-np.abs(direction))[:2])
    names = [("+" if direction[k] > 0 else "-") + "XYZ"[k] for k in big if abs(direction[k]) > 0.38]
    return "".join(names) or "+X"


def assess(c2w: np.ndarray, up=(0.0, 0.0, 1.0), points: np.ndarray | None = None,
           intrinsics: tuple[float, int, int] | None = None) -> Coverage:
    """The coverage of cameras ``c2w`` (N, 3|4, 4, OpenGL camera-to-world) with optional SfM ``points`` and
    ``intrinsics`` (focal px, width, height; for the points-in-view count)."""
    c2w = np.asarray(c2w, dtype=np.float64)
    n = len(c2w)
    target, surround = look_target(c2w, points)
    # around a subject: the angle between two views seen from it; cameras that do not converge (forward-facing,
    # inside-out rooms): the angle between their viewing directions
    dirs = _unit(c2w[:, :3, 3] - target) if surround else _unit(-c2w[:, :3, 2])
    cosang = np.clip(dirs @ dirs.T, -1, 1)
    np.fill_diagonal(cosang, -1)
    nearest = np.degrees(np.arccos(cosang.max(1))) if n > 1 else np.array([180.0])
    med = float(np.median(nearest))
    az, e1, e2 = _azimuths(c2w, target, up)
    s = np.sort(az)
    gaps = np.diff(np.concatenate([s, s[:1] + 2 * np.pi])) if n > 1 else np.array([2 * np.pi])
    k = int(np.argmax(gaps))
    max_gap = float(np.degrees(gaps[k]))
    mid = s[k] + gaps[k] / 2
    side = _side_name(math.cos(mid) * e1 + math.sin(mid) * e2)
    span = 360.0 - max_gap
    surround = surround and span > 150.0
    few = None
    if points is not None and len(points) and intrinsics is not None:
        few = _few_view_share(c2w, points, *intrinsics)
    problems = []
    if n < MIN_PHOTOS and (surround or med > NEIGHBOUR_DEG):
        problems.append(f"{n} photos")
    if med > NEIGHBOUR_DEG:
        problems.append(f"{med:.0f} deg between neighbouring views (aim for 5-10)")
    if few is not None and few > FEW_VIEWS_SHARE:
        problems.append(f"{few:.0%} of the scene's points seen by fewer than 3 photos")
    thin = bool(problems)
    if surround and max_gap > GAP_DEG:
        problems.append(f"no views from the {side} side (a {max_gap:.0f} deg gap around the subject)")
    return Coverage(n, target, surround, span, med, max_gap, side, few, problems, thin)


JUMP_RATIO = 8.0
"""Consecutive photos (file-name order) further apart than this many times the usual step look registered apart."""


def registration_jumps(c2w: np.ndarray, names: list[str]) -> list[tuple[str, str, float]]:
    """Consecutive photos, in file-name order (the order cameras and video frames number them), whose camera
    centres lie more than :data:`JUMP_RATIO` times the median step between consecutive photos apart and more than
    a third of the capture's spread (median distance of the cameras from their centroid): (name, next name,
    ratio) each; photos numbered n apart (frames left out between them) may be n steps apart. Photos taken one
    after the other a step apart cannot be metres apart: a jump means the runs of photos before and after it were
    registered apart (the field then holds two offset copies of the scene, ghosts in every novel view). Only
    captures whose photos form a path in file order are checked (median step under a quarter of the spread); a
    capture shot in two separate passes can jump for real."""
    if len(names) < 8:
        return []
    order = np.argsort(np.asarray(names, dtype=object))
    pos = np.asarray(c2w, dtype=np.float64)[order, :3, 3]
    step = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    med = float(np.median(step))
    spread = float(np.median(np.linalg.norm(pos - pos.mean(0), axis=1)))
    if not (med > 0 and spread > 0 and med < 0.25 * spread):
        return []
    # photos numbered apart (frames left out between them: 0054 -> 0068) may be that many steps apart
    nums = [re.findall(r"\d+", Path(str(names[k])).stem) for k in order]
    gap = np.ones(len(step))
    if all(nums):
        n = np.array([int(x[-1]) for x in nums], dtype=np.float64)
        gap = np.maximum(np.diff(n), 1.0)
    ratio = step / (med * gap)
    out = []
    for i in np.nonzero((ratio > JUMP_RATIO) & (step > spread / 3.0))[0]:
        out.append((str(names[order[i]]), str(names[order[i + 1]]), float(ratio[i])))
    return out


def registration_advice(c2w: np.ndarray, names: list[str]) -> str | None:
    """One line naming the jumps of :func:`registration_jumps`, or None."""
    jumps = registration_jumps(c2w, names)
    if not jumps:
        return None
    what = "; ".join(f"{a} -> {b} ({r:.0f}x the usual step)" for a, b, r in jumps[:3])
    more = f" and {len(jumps) - 3} more" if len(jumps) > 3 else ""
    return (f"registration: consecutive photos lie far apart: {what}{more}. If they were taken one after the "
            "other, the photos on either side were registered apart and the trained scene will show ghost copies: "
            "re-run with --mapper global, or with --matching exhaustive (slower)")


def _few_view_share(c2w: np.ndarray, points: np.ndarray, focal: float, w: int, h: int, sample: int = 4000) -> float:
    """Share of (up to ``sample``) points inside the view frustum of fewer than 3 cameras (occlusion ignored)."""
    rng = np.random.default_rng(0)
    pts = points if len(points) <= sample else points[rng.choice(len(points), sample, replace=False)]
    r, t = c2w[:, :3, :3], c2w[:, :3, 3]
    cam = np.einsum("nji,npj->npi", r, pts[None] - t[:, None])  # world -> camera (R^T (p - t))
    z = -cam[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = focal * cam[..., 0] / z
        v = focal * cam[..., 1] / z
    seen = (z > 0) & (np.abs(u) < w / 2) & (np.abs(v) < h / 2)
    return float((seen.sum(0) < 3).mean())


def dataset_points(data_dir: str | Path) -> np.ndarray | None:
    """The SfM points of a dataset folder (``transforms.json``'s ``ply_file_path``), or None."""
    root = Path(data_dir)
    try:
        meta = json.loads((root / "transforms.json").read_text())
        ply = meta.get("ply_file_path")
        if not isinstance(ply, str):
            return None
        pts = read_ply_points(root / ply)
    except Exception:  # no transforms.json / no points: the callers do without
        return None
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 3)
    return pts[np.isfinite(pts).all(1)] if len(pts) else None


def orbit_frame(c2w: np.ndarray, up, points: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """Centre, radius and height (above the centre along ``up``) of an orbit that repeats the capture: around
    what the cameras look at, at their median horizontal distance and median height."""
    up = _unit(np.asarray(up, dtype=np.float64))
    centre, _ = look_target(c2w, points)
    rel = np.asarray(c2w)[:, :3, 3] - centre
    hgt = rel @ up
    horiz = np.linalg.norm(rel - hgt[:, None] * up, axis=1)
    return centre, float(max(np.median(horiz), 1e-3)), float(np.median(hgt))
