"""The walkable floor of a scene and the free space at eye height, on a :class:`~scenegen.paths.volume.SceneVolume`'s
grid (its third axis is the up vector; world units throughout).

1. **Floor** (:func:`floor_map`): per floor-plan column, the lowest occupied voxel with at least ``headroom``
   free voxels above it; its height is the floor height of the column. Columns are joined into floors where
   neighbouring heights differ by at most ``max_step``; the floor with the most free area is kept (furniture
   tops and the top of the ceiling are separate floors and drop out). Holes in it (a young field's floor is not
   opaque everywhere) up to ``fill`` in area take the nearest floor height, and heights far off the
   local floor level (a low percentile around them: a seat reached through small steps, a floater) are
   replaced by it.
2. **Free space at eye height**: a column is free when nothing is occupied from ``floor + 0.3`` to
   ``floor + eye_height + 0.2``. Its 2D distance transform gives the clearance of every cell.

:func:`floor_height_under` gives the floor height under world points (a walk-through's 2D waypoints).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from scenegen.core.errors import InputError
from scenegen.paths.style import WALK

__all__ = ["FloorMap", "floor_height_under", "floor_map", "from_map", "grid_zup", "to_map"]


@dataclass
class FloorMap:
    """Floor-plan maps of a volume, on its first two grid axes (X, Y); the third axis is up.

    Attributes:
        height: (X, Y) float64 floor height along the grid's third axis (grid-local world units, i.e. from the
            volume's origin), NaN where no floor was found.
        level: (X, Y) int index of the floor voxel (-1: none).
        walkable: (X, Y) bool: the kept floor (the connected floor with the most free area).
        free: (X, Y) bool: walkable and nothing occupied from floor + ``low`` to floor + eye height + ``high``.
        distance: (X, Y) float64 distance (world units) from each free cell centre to the nearest non-free cell
            centre (0 outside the free space; the map's border counts as non-free).
        voxel: cell size (world units).
    """

    height: np.ndarray
    level: np.ndarray
    walkable: np.ndarray
    free: np.ndarray
    distance: np.ndarray
    voxel: float


def grid_zup(volume) -> tuple[np.ndarray, np.ndarray]:
    """The volume's occupancy with the up axis last, and the axis permutation used (grid axes order)."""
    a = volume.up_axis
    if a is None:
        raise InputError(
            "the scene volume's grid is not aligned with its up vector: build it with that up vector", field="up"
        )
    perm = [i for i in range(3) if i != a] + [a]
    return np.transpose(volume.occupancy, perm), np.asarray(perm)


def floor_map(
    volume,
    eye_height: float = WALK.eye_height,
    low: float = 0.3,
    high: float = 0.2,
    headroom: float = 0.3,
    max_step: float = 0.2,
    fill: float = 1.0,
    flat: float = 2.0,
    flat_tol: float = 0.12,
) -> FloorMap:
    """Find the walkable floor and the free space at eye height (see the module docstring, steps 1-2).

    Args:
        volume: a :class:`~scenegen.paths.volume.SceneVolume` whose grid has up as an axis.
        eye_height: camera height above the floor (world units).
        low, high: the column must be free from ``floor + low`` to ``floor + eye_height + high``.
        headroom: free space needed above an occupied voxel for it to count as floor (world units).
        max_step: largest height difference between neighbouring floor cells of one floor.
        fill: enclosed holes in the kept floor (columns without a floor of their own: a trained field's floor
            is not opaque everywhere) up to this area (square world units) are walkable at the nearest floor
            cell's height where their band is free.
        flat, flat_tol: floor heights more than ``flat_tol`` off the 20th percentile of the floor heights in a
            ``flat`` wide window are replaced by it (0 = off).
    """
    occ, _ = grid_zup(volume)
    v = volume.voxel
    X, Y, Z = occ.shape
    # run[k] = free voxels directly above voxel k (space above the grid counts as occupied)
    run = np.zeros((X, Y, Z), dtype=np.int32)
    cur = np.zeros((X, Y), dtype=np.int32)
    for k in range(Z - 1, -1, -1):
        run[:, :, k] = cur
        cur = np.where(occ[:, :, k], 0, cur + 1)
    need = max(1, int(math.ceil(headroom / v - 1e-9)))
    cand = occ & (run >= need)
    has = cand.any(axis=2)
    level = np.where(has, np.argmax(cand, axis=2), -1)
    height = np.where(has, (level + 0.5) * v, np.nan)

    # free column from floor + low to floor + eye_height + high (above the grid: free)
    cum = np.concatenate([np.zeros((X, Y, 1), np.int32), np.cumsum(occ, axis=2, dtype=np.int32)], axis=2)
    a = np.clip(level + int(round(low / v)), 0, Z)
    b = np.clip(level + int(math.ceil((eye_height + high) / v)) + 1, 0, Z)
    ii, jj = np.meshgrid(np.arange(X), np.arange(Y), indexing="ij")
    blocked = (cum[ii, jj, b] - cum[ii, jj, a]) > 0
    col_free = has & ~blocked

    # floors: 4-neighbours whose heights differ by at most max_step
    idx = np.arange(X * Y).reshape(X, Y)
    rows, cols = [], []
    tol = max_step + 1e-9
    for dx, dy in ((1, 0), (0, 1)):
        h0 = height[: X - dx, : Y - dy]
        h1 = height[dx:, dy:]
        ok = has[: X - dx, : Y - dy] & has[dx:, dy:] & (np.abs(h0 - h1) <= tol)
        rows.append(idx[: X - dx, : Y - dy][ok])
        cols.append(idx[dx:, dy:][ok])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(X * Y, X * Y))
    _, lab = connected_components(graph, directed=False)
    lab = lab.reshape(X, Y)
    walkable = np.zeros((X, Y), dtype=bool)
    if has.any():  # the floor with the most free area (with no free column anywhere: the largest floor)
        counts = np.bincount(lab[col_free if col_free.any() else has], minlength=lab.max() + 1)
        walkable = has & (lab == int(np.argmax(counts)))
    if fill > 0 and walkable.any() and not walkable.all():
        # holes in the floor (surfaces a young field has not made opaque yet, seen at grazing angles): a column
        # near the floor whose band is free at the nearest floor cell's height is walkable at that height
        # Only enclosed holes: never the no-floor strip under a wall, which joins the space outside the walls
        # (a wall the field has not made opaque yet must still stop the walk).
        holes, nh = ndimage.label(~walkable)
        area = np.bincount(holes.ravel(), minlength=nh + 1) * v * v
        border = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
        small = area <= fill
        small[border] = False
        small[0] = False
        _, (ix, iy) = ndimage.distance_transform_edt(~walkable, return_indices=True)
        near = small[holes]
        ln = level[ix, iy]
        a2 = np.clip(ln + int(round(low / v)), 0, Z)
        b2 = np.clip(ln + int(math.ceil((eye_height + high) / v)) + 1, 0, Z)
        filled = near & ((cum[ii, jj, b2] - cum[ii, jj, a2]) == 0)
        level = np.where(filled, ln, level)
        height = np.where(filled, height[ix, iy], height)
        walkable = walkable | filled
        col_free = col_free | filled
    if flat > 0 and walkable.sum() > 1:
        # a floor is locally flat: columns whose floor sits more than ``flat_tol`` off the floor height around
        # them (the 20th percentile in a ``flat`` wide window: furniture tops are higher and rarer) take that
        # height -- a seat or a table top reached through a chain of small steps, a floater -- and are free
        # only if their band is free at it
        _, (ix, iy) = ndimage.distance_transform_edt(~walkable, return_indices=True)
        hf = height[ix, iy]
        st = max(1, int(round(0.1 / v)))  # on a ~10 cm grid: the window is large
        k = max(3, int(round(flat / (v * st))) | 1)
        hs = ndimage.percentile_filter(hf[::st, ::st], 20, size=k, mode="nearest")
        hs = np.repeat(np.repeat(hs, st, 0), st, 1)[:X, :Y]
        off = walkable & (np.abs(height - hs) > max(flat_tol, 2 * v))
        if off.any():
            ls = np.clip(np.round(hs / v - 0.5).astype(np.int64), 0, Z - 1)
            level = np.where(off, ls, level)
            height = np.where(off, (ls + 0.5) * v, height)
            a3 = np.clip(level + int(round(low / v)), 0, Z)
            b3 = np.clip(level + int(math.ceil((eye_height + high) / v)) + 1, 0, Z)
            col_free = np.where(off, (cum[ii, jj, b3] - cum[ii, jj, a3]) == 0, col_free)
    free = walkable & col_free
    padded = np.pad(free, 1, constant_values=False)
    dist = ndimage.distance_transform_edt(padded, sampling=v)[1:-1, 1:-1] if free.any() else np.zeros((X, Y))
    return FloorMap(height=height, level=level, walkable=walkable, free=free, distance=dist, voxel=v)


def to_map(volume, perm: np.ndarray, points) -> np.ndarray:
    """World points (N, 3) -> continuous map coordinates (N, 3) in voxels (x, y on the map, z up), centres at
    integer + 0.5."""
    q = volume.to_local(points) / volume.voxel
    return q[:, perm]


def from_map(volume, perm: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Map coordinates (N, 3) (voxels, axes ordered x, y, up) -> world points (N, 3)."""
    q = np.empty_like(m)
    q[:, perm] = m
    return volume.to_world(q * volume.voxel)


def floor_height_under(volume, points, eye_height: float = WALK.eye_height) -> np.ndarray:
    """(N,) floor height (the coordinate along ``volume.up`` of the floor, world units) under world points (N, 3):
    the walkable floor cell under each point, else the nearest walkable cell's; NaN when the volume has none."""
    fm = floor_map(volume, eye_height)
    _, perm = grid_zup(volume)
    m = to_map(volume, perm, points)
    ok = fm.walkable & np.isfinite(fm.height)
    if not ok.any():
        return np.full(len(m), np.nan)
    _, (ix, iy) = ndimage.distance_transform_edt(~ok, return_indices=True)
    X, Y = ok.shape
    i = np.clip(np.floor(m[:, 0]).astype(int), 0, X - 1)
    j = np.clip(np.floor(m[:, 1]).astype(int), 0, Y - 1)
    ni, nj = ix[i, j], iy[i, j]
    h = fm.height[ni, nj]  # grid-local height along up
    cells = np.stack([ni + 0.5, nj + 0.5, h / volume.voxel], 1)
    return from_map(volume, perm, cells) @ volume.up
