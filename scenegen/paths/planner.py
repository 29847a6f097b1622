"""Automatic walk-through of a scene: find the floor and the rooms, visit every room at eye height.

:func:`auto_walkthrough` plans a tour through a :class:`~scenegen.paths.volume.SceneVolume` (a trained
run's occupancy or a mesh's) and returns a :class:`~scenegen.paths.model.PathSpec`. The walking settings (eye
height, clearance, speed, turn rate...) come from a :class:`~scenegen.paths.style.WalkStyle`. The steps, all on
the volume's grid (its third axis is the up vector; world units throughout):

1. **Floor** (:func:`~scenegen.paths.floor.floor_map`): per floor-plan column, the lowest occupied voxel with
   at least ``headroom`` free voxels above it; its height is the floor height of the column. Columns are joined
   into floors where neighbouring heights differ by at most ``max_step``; the floor with the most free area is
   kept (furniture tops and the top of the ceiling are separate floors and drop out). Holes in it (a young
   field's floor is not opaque everywhere) up to ``fill`` in area take the nearest floor height, and heights far
   off the local floor level (a low percentile around them: a seat reached through small steps, a floater) are
   replaced by it.
2. **Free space at eye height**: a column is free when nothing is occupied from ``floor + 0.3`` to
   ``floor + eye_height + 0.2``. Its 2D distance transform gives the clearance of every cell; cells at least
   ``clearance`` from anything are *safe*.
3. **Rooms**: connected components of the cells farther than ``room_split`` from anything (door openings
   close at that erosion) grown back geodesically over the free cells; rooms smaller than ``min_room_area`` are
   merged into their neighbours.
4. **Tour**: start in the room nearest the training cameras' mean (else the largest), then the nearest
   unvisited room (geodesic distance), and so on. Routes are shortest paths (Dijkstra, 8-connected) over the
   safe cells that prefer the middle of passages; each room is visited by a loop around its interior (the
   outline of its safe area ``inset`` in from the edge), counter-clockwise, looking along the travel direction
   turned towards the room's centre.
5. **Smoothing**: the cell path is resampled, smoothed with a moving average and pulled back towards the
   (safe) cell path wherever smoothing cut a corner closer than ``clearance``; the eye is at the smoothed
   floor height + ``eye_height``. :func:`~scenegen.paths.track.track_spec` makes the keyframes (level
   camera, bounded turn rate, constant speed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from scenegen.core.errors import InputError
from scenegen.paths.floor import FloorMap, floor_map, from_map, grid_zup, to_map
from scenegen.paths.style import WALK, WalkStyle
from scenegen.paths.track import track_spec

__all__ = ["TourPlan", "auto_walkthrough", "plan_tour"]


# ----------------------------------------------------------------------------------------------------------
# Rooms
# ----------------------------------------------------------------------------------------------------------


def _grow_labels(seeds: np.ndarray, mask: np.ndarray, max_iter: int = 100000) -> np.ndarray:
    """Geodesic growth of integer labels (X, Y) (0 = none) over ``mask`` cells (8-connected, first come)."""
    lab = np.where(mask, seeds, 0).astype(np.int32)
    fp = np.ones((3, 3), bool)
    for _ in range(max_iter):
        grown = ndimage.grey_dilation(lab, footprint=fp)
        new = (lab == 0) & mask & (grown > 0)
        if not new.any():
            break
        lab[new] = grown[new]
    return lab


def _segment_rooms(fm: FloorMap, room_split: float, min_room_area: float) -> np.ndarray:
    """(X, Y) int room label per free cell (0 = none), rooms numbered from 1."""
    v = fm.voxel
    eight = np.ones((3, 3), bool)
    seeds, n = ndimage.label(fm.distance >= room_split, structure=eight)
    if n == 0:  # no cell that far from everything: one room per connected free area
        seeds, n = ndimage.label(fm.free, structure=eight)
    lab = _grow_labels(seeds, fm.free)
    # merge small rooms into their neighbours: drop their seeds and grow again
    for _ in range(n):
        areas = np.bincount(lab.ravel(), minlength=n + 1) * v * v
        small = [k for k in range(1, n + 1) if 0 < areas[k] < min_room_area]
        big = [k for k in range(1, n + 1) if areas[k] >= min_room_area]
        if not small or not big:
            break
        k = min(small, key=lambda q: areas[q])
        seeds = np.where(lab == k, 0, lab)
        lab = _grow_labels(seeds, fm.free)
    # renumber 1..R
    ids = [k for k in np.unique(lab) if k > 0]
    out = np.zeros_like(lab)
    for new, k in enumerate(ids, 1):
        out[lab == k] = new
    return out


# ----------------------------------------------------------------------------------------------------------
# Routing on the safe cells
# ----------------------------------------------------------------------------------------------------------


class _Router:
    """Shortest paths over safe cells (8-connected), costs rising near obstacles so routes keep to the middle."""

    def __init__(self, safe: np.ndarray, dist: np.ndarray, voxel: float, prefer: float):
        self.safe = safe
        X, Y = safe.shape
        self.shape = (X, Y)
        ids = -np.ones((X, Y), dtype=np.int64)
        cells = np.argwhere(safe)
        ids[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
        self.ids, self.cells = ids, cells
        pen = 1.0 + 3.0 * np.clip((prefer - dist) / max(prefer, 1e-9), 0.0, 1.0) ** 2
        rows, cols, w = [], [], []
        for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
            x0, x1 = max(0, -dx), X - max(0, dx)
            y0, y1 = max(0, -dy), Y - max(0, dy)
            a = ids[x0:x1, y0:y1]
            b = ids[x0 + dx : x1 + dx, y0 + dy : y1 + dy]
            ok = (a >= 0) & (b >= 0)
            length = voxel * math.hypot(dx, dy)
            pa = pen[x0:x1, y0:y1][ok]
            pb = pen[x0 + dx : x1 + dx, y0 + dy : y1 + dy][ok]
            rows.append(a[ok])
            cols.append(b[ok])
            w.append(length * 0.5 * (pa + pb))
        r, c, ww = np.concatenate(rows), np.concatenate(cols), np.concatenate(w)
        n = len(cells)
        self.graph = coo_matrix((np.concatenate([ww, ww]), (np.concatenate([r, c]), np.concatenate([c, r]))),
                                shape=(n, n)).tocsr()
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def node(self, cell) -> int:
        return int(self.ids[int(cell[0]), int(cell[1])])

    def nearest_safe(self, xy) -> np.ndarray:
        """The safe cell (2,) nearest (Euclidean) to map coordinates ``xy`` (2,) (cell units)."""
        d = np.linalg.norm(self.cells + 0.5 - np.asarray(xy, dtype=np.float64)[None], axis=1)
        return self.cells[int(np.argmin(d))]

    def from_node(self, src: int) -> tuple[np.ndarray, np.ndarray]:
        if src not in self._cache:
            d, pred = dijkstra(self.graph, directed=False, indices=src, return_predecessors=True)
            self._cache[src] = (d, pred)
        return self._cache[src]

    def path(self, a, b) -> np.ndarray | None:
        """Cells (M, 2) of the cheapest route from cell a to cell b (both safe), or None when disconnected."""
        sa, sb = self.node(a), self.node(b)
        d, pred = self.from_node(sa)
        if not np.isfinite(d[sb]):
            return None
        out = [sb]
        while out[-1] != sa:
            out.append(int(pred[out[-1]]))
        return self.cells[np.asarray(out[::-1])]


# ----------------------------------------------------------------------------------------------------------
# Planning
# ----------------------------------------------------------------------------------------------------------


@dataclass
class TourPlan:
    """The planned tour (map coordinates are in cells of the volume's floor plan; see :class:`FloorMap`).

    Attributes:
        floor: the floor and free-space maps.
        rooms: (X, Y) room label per free cell (0 = none).
        safe: (X, Y) bool cells at least ``clearance`` from anything at eye level.
        order: room labels in visiting order.
        skipped: room labels that could not be reached (or had no safe cell).
        cells: (M, 2) the route as map cells (before smoothing).
        positions: (N, 3) world camera centres of the smoothed track.
        look_bias: (N, 3) world horizontal vectors blended into the view direction (towards room centres).
        room_of_point: (N,) room label of every track point (0 = none).
        room_centers: {label: (3,) world point at eye height}.
    """

    floor: FloorMap
    rooms: np.ndarray
    safe: np.ndarray
    order: list
    skipped: list
    cells: np.ndarray
    positions: np.ndarray
    look_bias: np.ndarray
    room_of_point: np.ndarray
    room_centers: dict = field(default_factory=dict)


_RING = np.array([(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)])  # counter-clockwise


def _trace_boundary(mask: np.ndarray) -> np.ndarray:
    """Outer boundary (M, 2) of the 8-connected component of ``mask`` (X, Y) that holds its first cell (lowest x,
    then lowest y), as consecutive 8-adjacent cells, counter-clockwise with x right and y up (Moore-neighbour
    tracing; the first cell is not repeated at the end)."""
    cells = np.argwhere(mask)
    if len(cells) == 0:
        return cells
    X, Y = mask.shape
    s = cells[np.lexsort((cells[:, 1], cells[:, 0]))][0]

    def fg(c) -> bool:
        return 0 <= c[0] < X and 0 <= c[1] < Y and bool(mask[c[0], c[1]])

    lookup = {tuple(d): i for i, d in enumerate(_RING)}
    p, ib = s.copy(), 4  # the backtrack (a background neighbour) starts west of s
    out = [s.copy()]
    limit = 4 * len(cells) + 16
    for _ in range(limit):
        for t in range(1, 9):
            k = (ib - t) % 8  # clockwise around p from the backtrack
            q = p + _RING[k]
            if fg(q):
                break
        else:
            return out[0][None]  # an isolated cell
        b = p + _RING[(k + 1) % 8]  # the neighbour checked just before q
        if np.array_equal(p, s) and len(out) > 1 and np.array_equal(q, out[1]):
            break
        p = q
        ib = lookup[tuple(b - p)]
        if np.array_equal(p, s) and len(out) == 1:
            break  # came straight back: a one-cell-wide stub
        out.append(p.copy())
    loop = np.asarray(out)
    if len(loop) > 1 and np.array_equal(loop[-1], loop[0]):
        loop = loop[:-1]
    x, y = loop[:, 0].astype(np.float64), loop[:, 1].astype(np.float64)
    area = 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
    return loop if area >= 0 else loop[::-1].copy()


def _room_loop(s_r: np.ndarray, d_r: np.ndarray, inset: float, voxel: float, radius: float = 0.3) -> np.ndarray:
    """Cells (L, 2) of a counter-clockwise loop around a room's interior.

    The loop is the outer boundary of the largest connected part of the room's safe cells ``s_r`` (X, Y) that
    lie ``inset`` in from their edge (``d_r``: distance to the edge, world units), morphologically opened with
    a disk of ``radius`` (world units): parts narrower than ``2 * radius`` go and the loop's convex turns are no
    tighter than ``radius``, so it never doubles back on itself. Smaller radii and insets are tried as well; the
    first candidate (largest radius, then largest inset) that encloses at least half of the best candidate's
    area wins, so a cramped room still gets a loop through most of it.
    """
    eight = np.ones((3, 3), bool)
    candidates = []
    for rad in (radius, 0.66 * radius, 0.33 * radius):
        r = max(1, int(round(rad / voxel)))
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        disk = xx * xx + yy * yy <= r * r
        for ins in (inset, 0.5 * inset, 0.0):
            cand = s_r & (d_r >= ins)
            if not cand.any():
                continue
            opened = ndimage.binary_opening(cand, structure=disk)
            if not opened.any():
                continue
            lab, n = ndimage.label(opened, structure=eight)
            if n > 1:
                sizes = np.bincount(lab.ravel())
                sizes[0] = 0
                opened = lab == int(np.argmax(sizes))
            candidates.append(opened)
    if not candidates:
        lab, n = ndimage.label(s_r, structure=eight)
        sizes = np.bincount(lab.ravel())
        sizes[0] = 0
        return _trace_boundary(lab == int(np.argmax(sizes)))
    best = max(int(c.sum()) for c in candidates)
    inner = next(c for c in candidates if c.sum() >= 0.5 * best)
    return _trace_boundary(inner)


def _remove_spurs(cells: np.ndarray, tags: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut out-and-back detours from a cell route (M, 2): wherever the route comes back next to a cell it left
    at most ``max_len`` cells earlier, the excursion in between is dropped (a walk does not turn on the spot)."""
    keep = []
    i, n = 0, len(cells)
    while i < n:
        keep.append(i)
        hi = min(n, i + max_len + 1)
        if hi > i + 2:
            d = np.abs(cells[i + 2 : hi] - cells[i]).max(axis=1)
            near = np.nonzero(d <= 1)[0]
            if len(near):
                i = i + 2 + int(near[-1])
                continue
        i += 1
    keep = np.asarray(keep)
    return cells[keep], tags[keep]


def _moving_average(x: np.ndarray, w: int) -> np.ndarray:
    """Moving average over 2w+1 samples along axis 0 (edges: shorter windows)."""
    if w <= 0 or len(x) < 3:
        return x.copy()
    x2 = x.reshape(len(x), -1)
    c = np.cumsum(np.concatenate([np.zeros((1, x2.shape[1])), x2]), axis=0)
    i = np.arange(len(x))
    lo, hi = np.clip(i - w, 0, len(x)), np.clip(i + w + 1, 0, len(x))
    out = (c[hi] - c[lo]) / (hi - lo)[:, None]
    return out.reshape(x.shape)


def _sample_map(a: np.ndarray, xy: np.ndarray, order: int = 1) -> np.ndarray:
    """Bilinear (order 1) or nearest (0) samples of a (X, Y) map at continuous cell coordinates xy (N, 2)
    (cell centres at integer + 0.5)."""
    return ndimage.map_coordinates(a.astype(np.float64), (xy - 0.5).T, order=order, mode="nearest")


def plan_tour(
    volume,
    style: WalkStyle = WALK,
    room_split: float | None = None,
    min_room_area: float = 2.0,
    inset: float = 0.1,
    loop_radius: float = 0.3,
    center_bias: float = 0.6,
    spur_length: float = 3.0,
    start=None,
) -> TourPlan:
    """Plan the tour of :func:`auto_walkthrough` (see the module docstring). Arguments as there; of ``style``
    the eye height, the clearance and the corner radius (the route's smoothing) are used.

    Raises:
        InputError: no walkable floor, no free space at eye height, or no cell with ``clearance``.
    """
    eye_height, clearance, corner_radius = style.eye_height, style.clearance, style.corner_radius
    fm = floor_map(volume, eye_height)
    v = fm.voxel
    if not fm.walkable.any():
        raise InputError("no walkable floor found in the scene (no occupied surface with free space above it)",
                         field="floor")
    if not fm.free.any():
        raise InputError(f"no free space at eye height {eye_height:g} above the floor", field="eye_height")
    safe = fm.free & (fm.distance >= clearance)
    if not safe.any():
        raise InputError(
            f"no free space at eye height keeps {clearance:g} from every surface "
            f"(largest clearance found: {float(fm.distance.max()):.2f})",
            field="clearance",
        )
    split = room_split if room_split is not None else max(0.6, clearance + 0.25)
    rooms = _segment_rooms(fm, split, min_room_area)
    _, perm = grid_zup(volume)
    router = _Router(safe, fm.distance, v, prefer=clearance + 0.5)

    labels = [k for k in range(1, int(rooms.max()) + 1) if (rooms == k).any()]
    info = {}
    skipped = []
    for k in labels:
        region = rooms == k
        s_r = safe & region
        if not s_r.any():
            skipped.append(k)
            continue
        d_r = ndimage.distance_transform_edt(np.pad(s_r, 1))[1:-1, 1:-1] * v
        center = np.argwhere(region).mean(0) + 0.5
        loop = _room_loop(s_r, d_r, inset, v, loop_radius)
        info[k] = dict(center=center, loop=loop, area=float(region.sum()) * v * v)

    if not info:
        raise InputError("no room has free space with the requested clearance", field="clearance")

    # start: the room nearest to the training cameras' mean (else the given start point, else the largest room)
    ref = None
    if start is not None:
        ref = to_map(volume, perm, np.asarray(start, dtype=np.float64).reshape(1, 3))[0, :2]
    elif volume.camera_positions is not None and len(volume.camera_positions):
        ref = to_map(volume, perm, volume.camera_positions.mean(0, keepdims=True))[0, :2]
    if ref is not None:
        cur_cell = router.nearest_safe(ref)
    else:
        big = max(info, key=lambda q: info[q]["area"])
        cur_cell = info[big]["loop"][0]

    order: list[int] = []
    route: list[np.ndarray] = [cur_cell[None]]
    segment_room: list[int] = [0]
    remaining = set(info)
    first = True
    while remaining:
        d, _ = router.from_node(router.node(cur_cell))
        best, best_d, best_j = None, np.inf, None
        for k in sorted(remaining):
            nodes = np.array([router.node(c) for c in info[k]["loop"]])
            dd = d[nodes]
            j = int(np.argmin(dd))
            if first and ref is not None and rooms[int(cur_cell[0]), int(cur_cell[1])] == k and np.isfinite(dd[j]):
                best, best_d, best_j = k, -1.0, j  # the room the tour starts in comes first
                break
            if dd[j] < best_d:
                best, best_d, best_j = k, dd[j], j
        first = False
        if best is None or not np.isfinite(best_d):
            skipped.extend(sorted(remaining))
            break
        remaining.discard(best)
        order.append(best)
        loop = info[best]["loop"]
        # to the nearest point of the room's loop, then once around it
        p = router.path(cur_cell, loop[best_j])
        if p is not None and len(p) > 1:
            route.append(p[1:])
            segment_room.extend([0] * (len(p) - 1))
        around = np.roll(loop, -best_j, axis=0)[1:]
        if len(around):
            route.append(around)
            segment_room.extend([best] * len(around))
        cur_cell = around[-1] if len(around) else loop[best_j]
    cells = np.concatenate(route)
    tags = np.asarray(segment_room)
    cells, tags = _remove_spurs(cells, tags, max_len=int(round(spur_length / v)))
    if len(cells) < 2:
        raise InputError("the free space is too small for a walk-through", field="clearance")

    # --- smooth the track -----------------------------------------------------------------------------------
    raw = cells + 0.5
    keep = np.concatenate([[True], np.any(np.diff(raw, axis=0) != 0, axis=1)])
    raw, tags = raw[keep], tags[keep]
    seg = np.linalg.norm(np.diff(raw, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    step_cells = 0.05 / v
    n = max(2, int(math.ceil(s[-1] / step_cells)) + 1)
    t = np.linspace(0.0, s[-1], n)
    base = np.stack([np.interp(t, s, raw[:, 0]), np.interp(t, s, raw[:, 1])], 1)
    tag_t = tags[np.clip(np.searchsorted(s, t, side="right") - 1, 0, len(tags) - 1)]
    w = max(1, int(round(corner_radius / 0.05)))
    smooth = _moving_average(_moving_average(base, w), w)
    smooth[0], smooth[-1] = base[0], base[-1]
    xy = smooth.copy()
    half = max(1, w // 2)
    for _ in range(8):  # pull cut corners back towards the safe cell path, blending in and out
        clr = _sample_map(fm.distance, xy)
        inside = _sample_map(safe.astype(np.float64), xy, order=0) > 0.5
        bad = (clr < clearance) | ~inside
        if not bad.any():
            break
        wide = ndimage.binary_dilation(bad, iterations=half)
        lam = 1.0 - _moving_average(wide.astype(np.float64), half)
        lam[bad] = 0.0
        xy = base + lam[:, None] * (xy - base)
    clr = _sample_map(fm.distance, xy)
    inside = _sample_map(safe.astype(np.float64), xy, order=0) > 0.5
    still = (clr < clearance) | ~inside
    xy[still] = base[still]

    # eye height: the floor under the track, smoothed along it
    hmap = np.where(np.isfinite(fm.height), fm.height, np.nan)
    ci = np.clip(np.floor(xy).astype(int), [0, 0], np.asarray(hmap.shape) - 1)
    h = hmap[ci[:, 0], ci[:, 1]]
    if np.isnan(h).any():
        good = ~np.isnan(h)
        h = np.interp(np.arange(len(h)), np.nonzero(good)[0], h[good])
    h = _moving_average(h, int(round(1.0 / 0.05)))
    local = np.stack([xy[:, 0], xy[:, 1], (h + eye_height) / v], 1)
    positions = from_map(volume, perm, local)

    # where to look: towards the room's centre while circling it
    centers_world = {}
    bias = np.zeros((len(xy), 3))
    origin_w = from_map(volume, perm, np.zeros((1, 3)))[0]
    for k in order:
        c = info[k]["center"]
        sel = tag_t == k
        hh = float(np.median(h[sel])) if sel.any() else float(np.nanmedian(h))
        centers_world[k] = from_map(volume, perm, np.array([[c[0], c[1], (hh + eye_height) / v]]))[0]
        if sel.any():
            to_c = np.stack([c[0] - xy[sel, 0], c[1] - xy[sel, 1], np.zeros(int(sel.sum()))], 1)
            tw = from_map(volume, perm, to_c) - origin_w
            tw -= (tw @ volume.up)[:, None] * volume.up
            nn = np.linalg.norm(tw, axis=1, keepdims=True)
            bias[sel] = np.where(nn > 1e-9, tw / np.maximum(nn, 1e-12), 0.0) * center_bias
    bias = _moving_average(bias, int(round(1.0 / 0.05)))
    return TourPlan(
        floor=fm,
        rooms=rooms,
        safe=safe,
        order=order,
        skipped=sorted(set(skipped)),
        cells=cells,
        positions=positions,
        look_bias=bias,
        room_of_point=rooms[ci[:, 0], ci[:, 1]],
        room_centers=centers_world,
    )


def auto_walkthrough(
    volume,
    eye_height: Optional[float] = None,
    clearance: Optional[float] = None,
    speed: Optional[float] = None,
    fov: Optional[float] = None,
    max_turn_rate_deg_s: Optional[float] = None,
    spacing: Optional[float] = None,
    look_ahead: Optional[float] = None,
    pitch_deg: Optional[float] = None,
    room_split: float | None = None,
    min_room_area: float = 2.0,
    inset: float = 0.1,
    loop_radius: float = 0.3,
    center_bias: float = 0.6,
    start=None,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
    return_plan: bool = False,
    *,
    style: Optional[WalkStyle] = None,
):
    """Plan a walk through every room of a scene at eye height and return it as a :class:`PathSpec`.

    Args:
        volume: :class:`~scenegen.paths.volume.SceneVolume` (``scenegen.pipelines.paths.volume_from_run`` /
            ``SceneVolume.from_mesh``); its up vector is the walking up.
        eye_height: camera height above the floor, world units (1.6 = metres for metric scenes).
        clearance: least horizontal distance from anything at eye level (between ``floor + 0.3`` and
            ``floor + eye_height + 0.2``), world units.
        speed: walking speed, world units per second.
        fov: vertical field of view, degrees.
        max_turn_rate_deg_s: bound on the heading change per second.
        spacing: keyframe spacing along the track, world units.
        look_ahead: the camera looks at the track point this far ahead (world units).
        pitch_deg: constant pitch (slightly down); no roll.
        room_split: erosion distance that separates rooms (doors narrower than twice this close); default
            ``max(0.6, clearance + 0.25)``.
        min_room_area: rooms smaller than this (square world units) are merged into their neighbours.
        inset: the loop around a room keeps about this much more than ``clearance`` from its walls.
        loop_radius: the loop around a room skips parts of it narrower than twice this and turns no tighter.
        center_bias: how strongly the view turns towards the room's centre while circling (0 = straight ahead).
        start: optional (3,) world point to start near (default: the training cameras' mean, else the largest
            room).
        fps, width, height: render settings.
        return_plan: also return the :class:`TourPlan`.
        style: the walking settings (default :data:`~scenegen.paths.style.WALK`; its corner radius rounds the
            route); the single values above, when given, override it.
    Returns:
        the :class:`~scenegen.paths.model.PathSpec` (and the plan when ``return_plan``).
    Raises:
        InputError: one line when there is no walkable floor, no free space at eye height, or no room for the
            requested clearance.
    """
    st = (WALK if style is None else style).updated(
        eye_height=eye_height, clearance=clearance, speed=speed, fov=fov, max_turn_rate_deg_s=max_turn_rate_deg_s,
        spacing=spacing, look_ahead=look_ahead, pitch_deg=pitch_deg,
    )
    if not (st.eye_height > 0 and st.clearance >= 0 and st.speed > 0):
        raise InputError("eye height and speed must be positive, clearance not negative", field="eye_height")
    plan = plan_tour(volume, st, room_split=room_split, min_room_area=min_room_area, inset=inset,
                     loop_radius=loop_radius, center_bias=center_bias, start=start)
    spec = track_spec(plan.positions, st, volume.up, look_bias=plan.look_bias, loop=False, fps=fps, width=width,
                      height=height)
    return (spec, plan) if return_plan else spec
