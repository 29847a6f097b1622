"""Where the tour goes: safe cells, shortest routes, the room order, vantage points and the views from them.

All on the floor plan's cells (:class:`~scenegen.paths.floor.FloorMap`; ``voxel`` world units each). Directions
are angles in the map's (x, y) plane, radians.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = ["Router", "door_waypoints", "order_rooms", "pan_range", "ray_depths", "safe_cells", "smooth_route",
           "turn_path", "vantage_point", "walk_cost"]


def safe_cells(free, distance, labels, doors, voxel, clearance: float, door_clearance: float,
               door_zone: float = 0.9, margin: float = 0.05) -> tuple[np.ndarray, dict]:
    """(X, Y) bool cells the camera may stand in, and the clearance used per room.

    A room's cells must keep ``clearance`` from every surface, or as much as the room allows (its widest free
    point less 5 cm) but never less than ``door_clearance``; within ``door_zone`` of an opening's centre
    ``door_clearance`` is enough (a doorway is narrower than the rooms it joins). ``margin`` is added to every
    bound (the cell map and the surfaces differ by up to half a cell)."""
    clearance, door_clearance = clearance + margin, door_clearance + margin
    safe = np.zeros_like(free)
    used = {}
    for k in [int(q) for q in np.unique(labels) if q > 0]:
        reg = labels == k
        best = float(distance[reg].max()) if reg.any() else 0.0
        c = max(door_clearance, min(clearance, best - 0.05))
        used[k] = c
        safe |= reg & (distance >= c)
    if doors:
        X, Y = free.shape
        cx, cy = np.meshgrid(np.arange(X) + 0.5, np.arange(Y) + 0.5, indexing="ij")
        zone = np.zeros_like(free)
        r = door_zone / voxel
        for d in doors:
            zone |= (cx - d.center[0]) ** 2 + (cy - d.center[1]) ** 2 <= r * r
        safe |= zone & free & (distance >= door_clearance)
    return safe, used


class Router:
    """Shortest paths over safe cells (8-connected), costs rising near obstacles so routes keep to the middle."""

    def __init__(self, safe: np.ndarray, dist: np.ndarray, voxel: float, prefer: float = 1.0):
        X, Y = safe.shape
        ids = -np.ones((X, Y), dtype=np.int64)
        cells = np.argwhere(safe)
        ids[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
        self.safe, self.ids, self.cells, self.voxel = safe, ids, cells, voxel
        pen = 1.0 + 4.0 * np.clip((prefer - dist) / max(prefer, 1e-9), 0.0, 1.0) ** 2
        rows, cols, w = [], [], []
        for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
            x0, x1 = max(0, -dx), X - max(0, dx)
            y0, y1 = max(0, -dy), Y - max(0, dy)
            a = ids[x0:x1, y0:y1]
            b = ids[x0 + dx : x1 + dx, y0 + dy : y1 + dy]
            ok = (a >= 0) & (b >= 0)
            pa = pen[x0:x1, y0:y1][ok]
            pb = pen[x0 + dx : x1 + dx, y0 + dy : y1 + dy][ok]
            rows.append(a[ok])
            cols.append(b[ok])
            w.append(voxel * math.hypot(dx, dy) * 0.5 * (pa + pb))
        r, c, ww = np.concatenate(rows), np.concatenate(cols), np.concatenate(w)
        n = len(cells)
        self.graph = coo_matrix((np.concatenate([ww, ww]), (np.concatenate([r, c]), np.concatenate([c, r]))),
                                shape=(n, n)).tocsr()
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def node(self, cell) -> int:
        return int(self.ids[int(cell[0]), int(cell[1])])

    def nearest_safe(self, xy, within=None) -> np.ndarray:
        """The safe cell (2,) nearest to map point ``xy`` (2,) (optionally only among the (X, Y) mask ``within``)."""
        cells = self.cells if within is None else self.cells[within[self.cells[:, 0], self.cells[:, 1]]]
        if len(cells) == 0:
            cells = self.cells
        d = np.linalg.norm(cells + 0.5 - np.asarray(xy, dtype=np.float64)[None], axis=1)
        return cells[int(np.argmin(d))]

    def from_node(self, src: int) -> tuple[np.ndarray, np.ndarray]:
        if src not in self._cache:
            d, pred = dijkstra(self.graph, directed=False, indices=src, return_predecessors=True)
            self._cache[src] = (d, pred)
        return self._cache[src]

    def cost(self, a, b) -> float:
        return float(self.from_node(self.node(a))[0][self.node(b)])

    def path(self, a, b) -> np.ndarray | None:
        """Cells (M, 2) of the cheapest route from safe cell a to safe cell b, or None when disconnected."""
        sa, sb = self.node(a), self.node(b)
        d, pred = self.from_node(sa)
        if not np.isfinite(d[sb]):
            return None
        out = [sb]
        while out[-1] != sa:
            out.append(int(pred[out[-1]]))
        return self.cells[np.asarray(out[::-1])]


def walk_cost(cost: np.ndarray, seq) -> float:
    """Total route cost of visiting places in the order ``seq`` ((R, R) ``cost``)."""
    return float(sum(cost[seq[i], seq[i + 1]] for i in range(len(seq) - 1)))


def order_rooms(cost: np.ndarray, first: int | None = None) -> list[int]:
    """Visiting order (indices) of R places from their (R, R) route costs: the open path of least total cost,
    starting at ``first`` when given (every order for R <= 8, else the nearest-next walk improved by reversing
    stretches of it, 2-opt; without ``first``, from every start)."""
    n = len(cost)
    if n <= 1:
        return list(range(n))

    best, best_c = None, np.inf
    if n <= 8:
        for perm in itertools.permutations(range(n)):
            if first is None and perm[0] > perm[-1]:
                continue  # the reverse walk costs the same
            if first is not None and perm[0] != first:
                continue
            c = walk_cost(cost, perm)
            if c < best_c:
                best, best_c = list(perm), c
        return best if best is not None else list(range(n))
    for s in (range(n) if first is None else [first]):
        cur, seq, left = s, [s], set(range(n)) - {s}
        while left:
            nxt = min(left, key=lambda q: cost[cur, q])
            seq.append(nxt)
            left.discard(nxt)
            cur = nxt
        c, improved = walk_cost(cost, seq), True
        while improved:  # 2-opt: reverse a stretch (never the start) while that shortens the walk
            improved = False
            for i in range(1, n - 1):
                for j in range(i + 1, n):
                    cand = seq[:i] + seq[i : j + 1][::-1] + seq[j + 1 :]
                    cc = walk_cost(cost, cand)
                    if cc < c - 1e-9:
                        seq, c, improved = cand, cc, True
        if c < best_c:
            best, best_c = seq, c
    return best


def ray_depths(transparent: np.ndarray, xy: np.ndarray, n_dir: int = 180, max_range: float = 400.0) -> np.ndarray:
    """(P, n_dir) distance (cells) from map points ``xy`` (P, 2) to the first non-``transparent`` cell along
    ``n_dir`` evenly spaced directions (angle ``2 pi j / n_dir``), in half-cell steps up to ``max_range``."""
    X, Y = transparent.shape
    ang = np.arange(n_dir) * (2 * math.pi / n_dir)
    d = np.stack([np.cos(ang), np.sin(ang)], 1)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    max_range = min(float(max_range), math.hypot(X, Y) + 1.0)
    out = np.full((len(xy), n_dir), float(max_range))
    alive = np.ones((len(xy), n_dir), bool)
    for t in np.arange(0.5, max_range, 0.5):
        if not alive.any():
            break
        p = xy[:, None, :] + t * d[None]
        i = np.floor(p[..., 0]).astype(int)
        j = np.floor(p[..., 1]).astype(int)
        inside = (i >= 0) & (i < X) & (j >= 0) & (j < Y)
        ok = np.zeros_like(alive)
        ok[inside] = transparent[i[inside], j[inside]]
        stop = alive & ~ok
        out[stop] = t
        alive &= ok
    return out


def near_fraction(depth_row: np.ndarray, hfov: float, near: float) -> np.ndarray:
    """(n_dir,) share of the picture's columns (uniform in the image plane) whose ray hits closer than ``near``
    (cells) for a camera facing each of the ``n_dir`` directions of ``depth_row`` (n_dir,)."""
    n = len(depth_row)
    ang = np.arange(n) * (2 * math.pi / n)
    half = 0.5 * hfov
    out = np.zeros(n)
    for j in range(n):
        rel = (ang - ang[j] + math.pi) % (2 * math.pi) - math.pi
        m = np.abs(rel) <= half
        w = 1.0 / np.cos(rel[m]) ** 2  # columns are uniform in tan(angle)
        out[j] = float(np.sum(w * (depth_row[m] < near)) / np.sum(w))
    return out


TURN_COST = 0.6
"""Score (metres of sightline) a vantage point loses for a half turn at the end of the walk into it."""


def vantage_point(room_mask: np.ndarray, safe: np.ndarray, distance: np.ndarray, voxel: float, entry=None,
                  max_candidates: int = 200) -> tuple[np.ndarray, float] | None:
    """A room's vantage point: the safe cell of the room with the longest free sightline across the room (the
    entrance or a corner, looking along the room's longest diagonal), a little in favour of cells near the
    entrance ``entry`` (2,) and of cells with more clearance. Returns (cell (2,), the diagonal's direction)."""
    cand = np.argwhere(room_mask & safe)
    if len(cand) == 0:
        return None
    if len(cand) > max_candidates:
        cand = cand[np.linspace(0, len(cand) - 1, max_candidates).astype(int)]
    xy = cand + 0.5
    dep = ray_depths(room_mask, xy, n_dir=72) * voxel
    diag = dep.max(1)
    score = diag + 0.5 * np.minimum(distance[cand[:, 0], cand[:, 1]], 0.8)
    look = np.argmax(dep, 1).astype(np.float64) * 2 * math.pi / 72
    if entry is not None:
        off = xy - np.asarray(entry, dtype=np.float64)[None]
        dist = np.linalg.norm(off, axis=1) * voxel
        score = score - 0.25 * dist
        # A point walked into head-first whose diagonal points back at the entrance (a small room's far corner)
        # ends the walk facing into the corner and turning round there: the turn costs, in proportion to how
        # far the walk heads that way (a point by the entrance is turned at from the doorway, unhurried).
        arrive = np.arctan2(off[:, 1], off[:, 0])
        turn = np.abs((look - arrive + math.pi) % (2 * math.pi) - math.pi)
        score = score - TURN_COST * (turn / math.pi) * np.minimum(1.0, dist)
    b = int(np.argmax(score))
    return cand[b], float(look[b])


def pan_range(free: np.ndarray, room_mask: np.ndarray, xy, diag: float, voxel: float, hfov: float,
              near: float = 1.0, max_near: float = 0.3) -> tuple[float, float, np.ndarray]:
    """The reveal's pan at a vantage point: (start, end) directions (radians, end >= start, around ``diag``)
    covering the room's span seen from ``xy`` without a wall filling the picture, and the (180,) bool open
    directions (a camera facing them has at most ``max_near`` of the picture closer than ``near``)."""
    n = 180
    dep_all = ray_depths(free, np.asarray(xy)[None], n_dir=n)[0] * voxel
    dep_room = ray_depths(room_mask, np.asarray(xy)[None], n_dir=n)[0] * voxel
    open_ = near_fraction(dep_all, hfov, near) <= max_near
    step = 2 * math.pi / n
    j0 = int(round(diag / step)) % n
    # the room's span around the diagonal: directions that see at least 1 m of the room
    see = dep_room >= 1.0
    lo = hi = 0
    while lo < n // 2 and see[(j0 - lo - 1) % n]:
        lo += 1
    while hi < n // 2 and see[(j0 + hi + 1) % n]:
        hi += 1
    a = -lo * step + 0.35 * hfov
    b = hi * step - 0.35 * hfov
    if b - a < math.radians(20):
        mid = 0.5 * (a + b)
        a, b = mid - math.radians(10), mid + math.radians(10)
    # keep to open directions around the diagonal
    ja, jb = int(math.floor(a / step)), int(math.ceil(b / step))
    k = 0
    while k > ja and open_[(j0 + k - 1) % n]:
        k -= 1
    a = max(a, k * step)
    k = 0
    while k < jb and open_[(j0 + k + 1) % n]:
        k += 1
    b = min(b, k * step)
    if b < a:
        a = b = 0.0
    return diag + a, diag + b, open_


def turn_path(a: float, b: float, open_: np.ndarray | None) -> float:
    """The end angle (a + delta) of a turn in place from ``a`` to direction ``b`` that sweeps the fewest closed
    directions of ``open_`` (180,) (ties: the shorter way)."""
    d = (b - a + math.pi) % (2 * math.pi) - math.pi
    if open_ is None or abs(d) < 1e-9:
        return a + d
    alt = d - 2 * math.pi if d > 0 else d + 2 * math.pi
    n = len(open_)

    def closed(delta: float) -> int:
        ts = a + np.linspace(0.0, delta, max(2, int(abs(delta) / (2 * math.pi / n)) + 1))
        return int(np.sum(~open_[np.round(ts / (2 * math.pi / n)).astype(int) % n]))

    ca, cb = closed(d), closed(alt)
    return a + (d if ca <= cb + 2 else alt)


def door_waypoints(door, safe: np.ndarray, voxel: float, offset: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """The two points (map cells, continuous) ``offset`` before and after an opening along its normal (shortened
    to stay on safe cells), so the camera crosses it centred and square to the wall."""
    X, Y = safe.shape
    out = []
    for sgn in (-1.0, 1.0):
        best = door.center.copy()
        for o in np.arange(offset, 0.0, -0.05):
            p = door.center + sgn * door.normal * (o / voxel)
            line = door.center[None] + np.linspace(0, 1, 12)[:, None] * (p - door.center)[None]
            i = np.clip(np.floor(line[:, 0]).astype(int), 0, X - 1)
            j = np.clip(np.floor(line[:, 1]).astype(int), 0, Y - 1)
            if safe[i, j].all():
                best = p
                break
        out.append(best)
    return out[0], out[1]


def _moving_average(x: np.ndarray, w: int) -> np.ndarray:
    if w <= 0 or len(x) < 3:
        return x.copy()
    x2 = x.reshape(len(x), -1)
    c = np.cumsum(np.concatenate([np.zeros((1, x2.shape[1])), x2]), axis=0)
    i = np.arange(len(x))
    lo, hi = np.clip(i - w, 0, len(x)), np.clip(i + w + 1, 0, len(x))
    return ((c[hi] - c[lo]) / (hi - lo)[:, None]).reshape(x.shape)


def _sample(a: np.ndarray, xy: np.ndarray, order: int = 1) -> np.ndarray:
    return ndimage.map_coordinates(a.astype(np.float64), (xy - 0.5).T, order=order, mode="nearest")


def smooth_route(points: np.ndarray, pinned: np.ndarray, safe: np.ndarray, voxel: float, radius: float = 0.5,
                 step: float = 0.05) -> np.ndarray:
    """A route through map points (M, 2) resampled every ``step`` (world units) and smoothed over ``radius``,
    pulled back towards the raw route wherever smoothing left the safe cells; points flagged ``pinned`` (M,)
    (a doorway's straight crossing) and the ends stay exactly in place."""
    raw = np.asarray(points, dtype=np.float64)
    keep = np.concatenate([[True], np.linalg.norm(np.diff(raw, axis=0), axis=1) > 1e-9])
    raw, pin = raw[keep], np.asarray(pinned, bool)[keep]
    if len(raw) < 2:
        return raw
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(raw, axis=0), axis=1))])
    n = max(2, int(math.ceil(s[-1] * voxel / step)) + 1)
    t = np.linspace(0.0, s[-1], n)
    base = np.stack([np.interp(t, s, raw[:, 0]), np.interp(t, s, raw[:, 1])], 1)
    pin_t = np.interp(t, s, pin.astype(np.float64)) > 0.999
    pin_t[0] = pin_t[-1] = True
    w = max(1, int(round(radius / step)))
    xy = _moving_average(_moving_average(base, w), w)
    fixed = ndimage.binary_dilation(pin_t, iterations=1)
    half = max(1, w // 2)
    lam = 1.0 - _moving_average(ndimage.binary_dilation(fixed, iterations=half).astype(np.float64), half)
    lam[fixed] = 0.0
    xy = base + lam[:, None] * (xy - base)
    for _ in range(8):
        bad = _sample(safe.astype(np.float64), xy, order=0) < 0.5
        if not bad.any():
            break
        wide = ndimage.binary_dilation(bad, iterations=half)
        lam2 = 1.0 - _moving_average(wide.astype(np.float64), half)
        lam2[bad] = 0.0
        xy = base + lam2[:, None] * (xy - base)
    still = _sample(safe.astype(np.float64), xy, order=0) < 0.5
    xy[still] = base[still]
    return xy
