"""Rooms of an imported model, found from its free space (metres, +Z up), and the free-space test its cameras use.

For each floor level (:meth:`~scenegen.data.prior.site.Probe.levels`), points on a grid at eye height are
classified with Open3D ray casts:

* **free**: 0.25 m or more from every surface, and not inside a solid (most horizontal rays leave it through the
  back of a face);
* **enclosed**: at least 6 of 8 horizontal rays meet a wall within 40 m (open windows and doors let some escape)
  and, when the model has ceilings, a ray up meets one.

The free, enclosed cells are a storey's rooms. Doorways are the narrow necks of that region: opening it by
0.35 m cuts them, each remaining blob is a room, and every cell goes back to its nearest room. Rooms under
2 m^2 are dropped. Nothing here needs closed (watertight) walls: only rays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from scenegen.data.synth.o3d import import_open3d

__all__ = ["ModelRoom", "find_rooms", "model_free_mask"]

_DIRS8 = np.array([[math.cos(a), math.sin(a), 0.0] for a in np.arange(8) * math.pi / 4])


@dataclass
class ModelRoom:
    """A room of an imported model: ``name``, ``box`` (2, 3) (floor to ceiling), ``cells`` (M, 2) xy centres of
    its free grid cells (where cameras may stand), ``level`` (floor z) and ``area`` (m^2)."""

    name: str
    box: np.ndarray
    cells: np.ndarray
    level: float
    area: float


def _inside_solid(rc, o3d, pts: np.ndarray, dirs: np.ndarray = _DIRS8) -> tuple[np.ndarray, np.ndarray]:
    """For points (N, 3): (number of the horizontal rays that hit within 40 m, inside a solid: 6 or more of the
    rays that hit meet the back of a face)."""
    n, k = len(pts), len(dirs)
    rays = np.concatenate([np.repeat(pts, k, 0), np.tile(dirs, (n, 1))], 1).astype(np.float32)
    res = rc.cast_rays(o3d.core.Tensor(rays))
    t = res["t_hit"].numpy().reshape(n, k)
    nrm = res["primitive_normals"].numpy().reshape(n, k, 3)
    hit = np.isfinite(t) & (t < 40.0)
    back = hit & (np.sum(nrm * dirs[None], 2) > 0.05)
    nhit = hit.sum(1)
    return nhit, (back.sum(1) >= np.maximum(6, 0.75 * nhit)) & (nhit >= 6)


def model_free_mask(rc, pts: np.ndarray, clearance: float) -> np.ndarray:
    """(N,) bool: points ``clearance`` m or more from every surface and not inside a solid (no ray-parity test:
    imported models are seldom watertight)."""
    o3d = import_open3d()
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 3)
    if len(pts) == 0:
        return np.zeros(0, dtype=bool)
    dist = rc.compute_distance(o3d.core.Tensor(pts.astype(np.float32))).numpy()
    ok = dist >= clearance
    if ok.any():
        _, solid = _inside_solid(rc, o3d, pts[ok])
        ok[np.nonzero(ok)[0][solid]] = False
    return ok


def find_rooms(rc, lo: np.ndarray, hi: np.ndarray, levels: list[tuple[float, float]], max_cells: int = 40000,
               clearance: float = 0.25) -> list[ModelRoom]:
    """Rooms of the building with bounds ``lo``/``hi`` (metres) on the floor ``levels`` [(z, clear height)]."""
    o3d = import_open3d()
    span = hi[:2] - lo[:2]
    cell = max(0.2, math.sqrt(float(span[0] * span[1]) / max_cells))
    nx, ny = max(1, int(math.ceil(span[0] / cell))), max(1, int(math.ceil(span[1] / cell)))
    xs = lo[0] + (np.arange(nx) + 0.5) * cell
    ys = lo[1] + (np.arange(ny) + 0.5) * cell
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    rooms: list[ModelRoom] = []
    for z_floor, height in levels:
        z_eye = z_floor + min(1.5, 0.55 * height)
        pts = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, z_eye)], 1)
        dist = rc.compute_distance(o3d.core.Tensor(pts.astype(np.float32))).numpy()
        free = dist >= clearance
        idx = np.nonzero(free)[0]
        ok = np.zeros(len(pts), dtype=bool)
        if len(idx):
            nhit, solid = _inside_solid(rc, o3d, pts[idx])
            up = np.concatenate([pts[idx], np.tile([0.0, 0.0, 1.0], (len(idx), 1))], 1).astype(np.float32)
            t_up = rc.cast_rays(o3d.core.Tensor(up))["t_hit"].numpy()
            covered = np.isfinite(t_up) & (t_up < 2.5 * max(height, 2.0))
            need_cover = covered.mean() > 0.1  # a model with ceilings: rooms are under them
            ok[idx] = (nhit >= 6) & ~solid & (covered | (not need_cover))
        mask = ok.reshape(nx, ny)
        rooms.extend(_split_rooms(mask, xs, ys, cell, z_floor, height, start=len(rooms)))
    return rooms


def _split_rooms(mask, xs, ys, cell, z_floor, height, start=0, neck=0.35, min_area=2.0) -> list[ModelRoom]:
    """Cut the free region ``mask`` (nx, ny) at its narrow necks (doorways) into rooms."""
    if not mask.any():
        return []
    r = max(1, int(round(neck / cell)))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = (xx * xx + yy * yy) <= r * r
    core = ndimage.binary_erosion(mask, structure=disk)
    seeds, n = ndimage.label(core)
    sizes = ndimage.sum(np.ones_like(seeds), seeds, index=np.arange(1, n + 1)) * cell * cell
    for i, s in enumerate(sizes, 1):
        if s < 0.5:  # a sliver left by the opening: not a room of its own
            seeds[seeds == i] = 0
    comp, nc = ndimage.label(mask)
    for c in range(1, nc + 1):  # small spaces the opening erased entirely (a closet, a corridor end)
        sel = comp == c
        if not (seeds[sel] > 0).any():
            seeds[sel] = seeds.max() + 1
    if seeds.max() == 0:
        return []
    # every free cell goes to its nearest seed (by the distance transform's nearest-feature indices)
    _, (ii, jj) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    lab = np.where(mask, seeds[ii, jj], 0)
    out = []
    for k in np.unique(lab[lab > 0]):
        sel = np.argwhere(lab == k)
        area = len(sel) * cell * cell
        if area < min_area:
            continue
        cx, cy = xs[sel[:, 0]], ys[sel[:, 1]]
        box = np.array([[cx.min() - cell / 2, cy.min() - cell / 2, z_floor],
                        [cx.max() + cell / 2, cy.max() + cell / 2, z_floor + height]])
        out.append(ModelRoom(f"room {start + len(out) + 1}", box, np.stack([cx, cy], 1), float(z_floor), float(area)))
    return out
