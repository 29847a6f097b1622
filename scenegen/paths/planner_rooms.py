"""Rooms and the openings between them, on a floor map (:class:`~scenegen.paths.floor.FloorMap`).

Everything here works on the floor plan's cells (the volume's first two grid axes; ``voxel`` world units each).

* **Rooms** (:func:`segment_rooms`): with *hints* (named boxes from a generated dataset's plan) the free cells
  inside each box are that room and the free cells between boxes (door openings through a wall) join the nearer
  room; without hints, the free space is opened at ``room_split`` (door openings close at that erosion), the
  connected cores are grown back geodesically over the free cells and cores smaller than ``min_room_area`` are
  merged into their neighbours. Hints only name and separate rooms: a box without free cells (a room the field
  does not show) is dropped, free space outside every box is still walked.
* **Doors** (:func:`find_doors`): each connected stretch of the border between two rooms is an opening; its
  centre, its direction across (the normal, from the first room to the second) and its width.
* **Corridors**: a room named ``hall``/``corridor``/``hallway`` by a hint, or one that is narrow (its widest
  point under 1.8 m across) and joins at least two other rooms: passed through, no reveal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

__all__ = ["Door", "RoomMap", "find_doors", "segment_rooms", "wide_half_width", "wide_part"]

_EIGHT = np.ones((3, 3), bool)


@dataclass
class Door:
    """An opening between rooms ``a`` and ``b`` (labels): ``center`` (2,) map cells (continuous), ``normal`` (2,)
    unit vector across it from ``a`` to ``b``, ``width`` world units, ``cells`` (M, 2) its border cells."""

    a: int
    b: int
    center: np.ndarray
    normal: np.ndarray
    width: float
    cells: np.ndarray


@dataclass
class RoomMap:
    """Rooms of a floor map.

    Attributes:
        labels: (X, Y) int room label per free cell (0 = none), rooms numbered 1..R.
        names: label -> name (the hint's name, else ``room_<n>`` numbered by decreasing floor area).
        corridor: label -> bool (passed through without a reveal).
        area: label -> free floor area (square world units).
        doors: the openings between rooms.
    """

    labels: np.ndarray
    names: dict = field(default_factory=dict)
    corridor: dict = field(default_factory=dict)
    area: dict = field(default_factory=dict)
    doors: list = field(default_factory=list)

    def neighbours(self, k: int) -> list[int]:
        return sorted({d.b if d.a == k else d.a for d in self.doors if k in (d.a, d.b)})


def _grow_labels(seeds: np.ndarray, mask: np.ndarray, max_iter: int = 100000) -> np.ndarray:
    """Geodesic growth of integer labels (X, Y) (0 = none) over ``mask`` cells (8-connected, first come)."""
    lab = np.where(mask, seeds, 0).astype(np.int32)
    for _ in range(max_iter):
        grown = ndimage.grey_dilation(lab, footprint=_EIGHT)
        new = (lab == 0) & mask & (grown > 0)
        if not new.any():
            break
        lab[new] = grown[new]
    return lab


def _renumber(lab: np.ndarray) -> np.ndarray:
    out = np.zeros_like(lab)
    for new, k in enumerate([k for k in np.unique(lab) if k > 0], 1):
        out[lab == k] = new
    return out


def _segment_free(free: np.ndarray, distance: np.ndarray, voxel: float, room_split: float,
                  min_room_area: float, dynamic: float = 0.1, level_step: float = 0.05) -> np.ndarray:
    """Rooms without hints: a watershed of the free space's distance map by falling levels.

    Going down from the largest clearance to ``room_split`` (wider than half a door, so doorways are never
    crossed), each new connected part of ``distance >= level`` starts a room and parts that meet grow towards
    each other (first come, 8-connected). A room whose highest clearance is less than ``dynamic`` above the level
    where it met a room with a higher one (a bay or an alcove of the same space) joins that room. Cells below
    ``room_split`` (doorways, the strip along the walls) go to the nearest room (geodesically); rooms smaller
    than ``min_room_area`` merge into their neighbours."""
    lab = np.zeros(free.shape, np.int32)
    peak: dict[int, float] = {}
    into: dict[int, tuple[int, float]] = {}
    top = float(distance.max()) if free.any() else 0.0
    levels = np.arange(top, room_split - 1e-9, -level_step) if top >= room_split else np.array([])
    nid = 0
    for t in levels:
        comps, n = ndimage.label(free & (distance >= t), structure=_EIGHT)
        if n == 0:
            continue
        for j in range(1, n + 1):
            comp = comps == j
            ids = [int(q) for q in np.unique(lab[comp]) if q > 0]
            if not ids:
                nid += 1
                lab[comp] = nid
                peak[nid] = float(distance[comp].max())
            elif len(ids) == 1:
                lab[comp & (lab == 0)] = ids[0]
            else:
                best = max(ids, key=lambda q: peak[q])
                for q in ids:
                    if q != best and q not in into:
                        into[q] = (best, float(t))
                lab = np.where(comp, _grow_labels(np.where(comp, lab, 0), comp), lab)
    if nid == 0:
        lab, nid = ndimage.label(free, structure=_EIGHT)
    else:
        def root(q: int) -> int:
            while q in into and peak[q] - into[q][1] < dynamic:
                q = into[q][0]
            return q

        lut = np.arange(nid + 1, dtype=np.int32)
        for q in range(1, nid + 1):
            lut[q] = root(q)
        lab = lut[lab]
        lab = _grow_labels(lab, free)
    n = int(lab.max())
    for _ in range(n):
        areas = np.bincount(lab.ravel(), minlength=n + 1) * voxel * voxel
        small = [k for k in range(1, n + 1) if 0 < areas[k] < min_room_area]
        big = [k for k in range(1, n + 1) if areas[k] >= min_room_area]
        if not small or not big:
            break
        k = min(small, key=lambda q: areas[q])
        lab = _grow_labels(np.where(lab == k, 0, lab), free)
    return _renumber(lab)


def wide_part(mask: np.ndarray, voxel: float, half_width: float = 0.8) -> np.ndarray:
    """Cells of ``mask`` a disk of ``half_width`` reaches inside it (a morphological opening)."""
    r = max(1, int(round(half_width / voxel)))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return ndimage.binary_opening(np.pad(mask, r + 1), structure=xx * xx + yy * yy <= r * r)[r + 1 : -r - 1,
                                                                                             r + 1 : -r - 1]


def wide_half_width(distance: np.ndarray, region: np.ndarray, least: float = 0.8) -> float:
    """Radius of the disk whose reach is a region's wide part: 0.6 x the region's largest clearance, within
    [``least``, 1.2] world units. A disk that fits through a large room's wide opening (1.5 m onto a corridor)
    would count the corridor outside it as the room's."""
    return float(np.clip(0.6 * float(distance[region].max(initial=0.0)), least, max(least, 1.2)))


def _split_corridors(lab: np.ndarray, distance: np.ndarray, voxel: float, half_width: float = 0.8,
                     min_area: float = 2.0) -> np.ndarray:
    """A corridor opening widely onto a room is one basin of the clearance map with it: split it off. The
    room's wide part is what a disk reaches inside it (morphological opening); a narrow rest of at least
    ``min_area`` that is long (more than three times as long as wide) becomes a room of its own. The disk's
    radius grows with the room (:func:`wide_half_width`, at least ``half_width``): a disk small enough to fit
    through a large room's wide opening counted the corridor outside it as the room's, and the tour showed the
    room from the corridor without entering it."""
    out = lab.copy()
    nid = int(lab.max())
    for k in [int(q) for q in np.unique(lab) if q > 0]:
        reg = lab == k
        wide = wide_part(reg, voxel, wide_half_width(distance, reg, half_width))
        if not wide.any():
            continue
        rest, n = ndimage.label(reg & ~wide, structure=_EIGHT)
        for j in range(1, n + 1):
            part = rest == j
            area = float(part.sum()) * voxel * voxel
            if area < min_area:
                continue
            d = ndimage.distance_transform_edt(np.pad(part, 1))[1:-1, 1:-1] * voxel
            across = 2.0 * float(d.max())
            if area / max(across, 1e-9) > 3.0 * across:
                nid += 1
                out[part] = nid
    return _renumber(out) if nid > int(lab.max()) else out


def segment_rooms(free: np.ndarray, distance: np.ndarray, voxel: float, hints=None, room_split: float = 0.5,
                  min_room_area: float = 1.5) -> RoomMap:
    """Label the rooms of the free cells (see the module docstring).

    Args:
        free: (X, Y) bool free cells at eye height.
        distance: (X, Y) distance of each free cell to the nearest non-free one (world units).
        voxel: cell size.
        hints: optional list of ``(name, kind, lo, hi)``: a room's box in map cells (lo, hi (2,) continuous) and
            its kind ("hallway" marks a corridor).
        room_split, min_room_area: the segmentation without hints (world units).
    """
    names: dict[int, str] = {}
    kinds: dict[int, str] = {}
    lab = None
    if hints:
        X, Y = free.shape
        cx, cy = np.meshgrid(np.arange(X) + 0.5, np.arange(Y) + 0.5, indexing="ij")
        seeds = np.zeros((X, Y), np.int32)
        k = 0
        for name, kind, lo, hi in hints:
            inside = free & (cx >= lo[0]) & (cx <= hi[0]) & (cy >= lo[1]) & (cy <= hi[1]) & (seeds == 0)
            if inside.sum() * voxel * voxel < 0.5:
                continue  # a box the free space does not reach
            k += 1
            seeds[inside] = k
            names[k], kinds[k] = str(name), str(kind)
        if k:
            # free space no box covers: openings in the walls join the nearer room; a large uncovered area
            # (a part of the home the plan does not know) becomes a room of its own
            rest = free & (seeds == 0)
            rl, nr = ndimage.label(rest, structure=_EIGHT)
            for j in range(1, nr + 1):
                part = rl == j
                if part.sum() * voxel * voxel >= min_room_area:
                    k += 1
                    seeds[part] = k
            lab = _grow_labels(seeds, free)
    if lab is None:
        lab = _split_corridors(_segment_free(free, distance, voxel, room_split, min_room_area), distance, voxel)
        names, kinds = {}, {}
    labels = [int(k) for k in np.unique(lab) if k > 0]
    area = {k: float((lab == k).sum()) * voxel * voxel for k in labels}
    unnamed = sorted([k for k in labels if k not in names], key=lambda q: -area[q])
    taken = set(names.values())
    n = 0
    for k in unnamed:
        n += 1
        while f"room_{n}" in taken:
            n += 1
        names[k] = f"room_{n}"
    rm = RoomMap(labels=lab, names=names, area=area)
    rm.doors = find_doors(lab, voxel)
    for k in labels:
        kind = kinds.get(k, "")
        if kind:
            rm.corridor[k] = kind == "hallway" or any(w in names[k].lower() for w in ("hall", "corridor"))
            continue
        # by shape: narrow and joining at least two other rooms (a bedroom narrowed by its bed is not)
        reg = lab == k
        d = ndimage.distance_transform_edt(np.pad(reg, 1))[1:-1, 1:-1] * voxel
        across = 2.0 * float(d.max())
        rm.corridor[k] = across < 1.8 and len(rm.neighbours(k)) >= 2
    return rm


def find_doors(lab: np.ndarray, voxel: float) -> list[Door]:
    """The openings between rooms: connected stretches of cells of one room touching another (both sides)."""
    X, Y = lab.shape
    pad = np.pad(lab, 1)
    pairs: dict[tuple[int, int], np.ndarray] = {}
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            nb = pad[1 + dx : 1 + dx + X, 1 + dy : 1 + dy + Y]
            m = (lab > 0) & (nb > 0) & (nb != lab)
            for a, b in set(zip(lab[m].tolist(), nb[m].tolist())):
                key = (min(a, b), max(a, b))
                cur = pairs.get(key)
                hit = m & (((lab == a) & (nb == b)) | ((lab == b) & (nb == a)))
                pairs[key] = hit if cur is None else (cur | hit)
    doors = []
    for (a, b), mask in sorted(pairs.items()):
        comp, n = ndimage.label(mask, structure=_EIGHT)
        for j in range(1, n + 1):
            cells = np.argwhere(comp == j)
            if len(cells) < 2:
                continue
            center = cells.mean(0) + 0.5
            ca = cells[lab[cells[:, 0], cells[:, 1]] == a].mean(0) if (lab[cells[:, 0], cells[:, 1]] == a).any() else center
            cb = cells[lab[cells[:, 0], cells[:, 1]] == b].mean(0) if (lab[cells[:, 0], cells[:, 1]] == b).any() else center
            # the border runs along the opening: its normal is the direction of least spread
            c = cells - cells.mean(0)
            w, vec = np.linalg.eigh(c.T @ c / max(len(c) - 1, 1) + 1e-9 * np.eye(2))
            normal = vec[:, 0]
            across = cb - ca
            if np.linalg.norm(across) > 1e-6:
                if float(normal @ across) < 0:
                    normal = -normal
            else:  # no spread between sides: towards b's centre
                cbr = np.argwhere(lab == b).mean(0)
                if float(normal @ (cbr - center)) < 0:
                    normal = -normal
            width = (float(np.ptp(c @ vec[:, 1])) + 1.0) * voxel
            doors.append(Door(a=a, b=b, center=center, normal=normal / np.linalg.norm(normal), width=width,
                              cells=cells))
    return doors
