"""Training views along the routes a tour walks: doorways, corridors and each room's vantage corners.

A walk-through sees a generated home from a few places the random in-room views of
:func:`scenegen.data.prior.generate.room_cameras` rarely stand: in and either side of every doorway (looking
through it and into the room being entered), along the corridor at eye height (looking where one walks) and
from the corners of each room along its diagonals (the reveal a videographer composes). A field trained
without such views guesses what the tour sees there (floaters in the door frames, blotchy walls seen at a
grazing angle). These views are part of the common camera set, so the held-out split, which takes every k-th
camera, holds them in the same proportion as the training split.
"""

from __future__ import annotations

import math

import numpy as np

from scenegen.cameras.poses import look_at_c2w
from scenegen.data.synth import import_open3d

EYE = (1.5, 1.7)
"""Eye heights of the route views (metres above the floor): a person walking."""


def free_near_surfaces(scene, pts: np.ndarray, clearance: float) -> np.ndarray:
    """(N,) bool: points at least ``clearance`` from the mesh and outside every closed part (furniture, walls).

    Inside a closed part is told by the ray cast, not by ray parity: rays along +-X, +-Y, +-Z first meet a face
    from behind (its outward normal along the ray) when the point is inside a part. Parity counts every crossing
    and is fooled where closed parts overlap or touch (wall pieces, thresholds), which refused free corridor
    floor. Unlike :func:`free_space_mask` it does not ask for the point to lie inside a room box (doorways do
    not)."""
    o3d = import_open3d()
    rc = scene.raycaster()
    pts = np.asarray(pts, np.float32).reshape(-1, 3)
    dist = rc.compute_distance(o3d.core.Tensor(pts)).numpy()
    dirs = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], np.float32)
    rays = np.concatenate([np.repeat(pts, len(dirs), 0), np.tile(dirs, (len(pts), 1))], 1)
    res = rc.cast_rays(o3d.core.Tensor(rays))
    hit = np.isfinite(res["t_hit"].numpy())
    back = hit & ((res["primitive_normals"].numpy() * rays[:, 3:]).sum(1) > 0)
    inside = back.reshape(len(pts), len(dirs)).sum(1) >= 3
    return (dist >= clearance) & ~inside


def free_in_rooms(scene, pts: np.ndarray, clearance: float) -> np.ndarray:
    """(N,) bool: :func:`free_near_surfaces` and inside a room box by ``clearance`` (the scene's rooms)."""
    pts = np.asarray(pts, np.float64).reshape(-1, 3)
    inside = np.zeros(len(pts), bool)
    for lo, hi in scene.room_boxes:
        inside |= np.all((pts > lo + clearance) & (pts < hi - clearance), axis=1)
    return inside & free_near_surfaces(scene, pts, clearance)


def _target_in(rng, lo, hi, eye, z=(0.7, 1.7), min_dist: float = 1.0) -> np.ndarray | None:
    """A point of the room box (lo, hi) (2,) at a height in ``z``, at least ``min_dist`` away from ``eye`` in plan
    and seen with a pitch within -25..+10 degrees (a walking camera looks level); None when none is found."""
    for _ in range(50):
        t = np.array([rng.uniform(lo[0] + 0.2, hi[0] - 0.2), rng.uniform(lo[1] + 0.2, hi[1] - 0.2), rng.uniform(*z)])
        d = t - eye
        horiz = math.hypot(d[0], d[1])
        if horiz >= min_dist and -25.0 <= math.degrees(math.atan2(d[2], horiz)) <= 10.0:
            return t
    return None


def door_views(scene, plan, rng) -> list[np.ndarray]:
    """c2w matrices (4, 4) around every door of ``plan``, two for each room it joins, at eye height: in the
    doorway looking into the room (entering it) and a step inside looking back out through the door (leaving)."""
    rooms = {r.name: r for r in plan.rooms}
    mats = []
    for o in plan.openings:
        if o.kind != "door" or len(o.rooms) != 2:
            continue
        lo, hi = np.asarray(o.lo[:2], float), np.asarray(o.hi[:2], float)
        c = (lo + hi) / 2
        ax = int(np.argmin(hi - lo))  # the axis across the wall
        half_w = float((hi - lo)[1 - ax]) / 2
        for name in o.rooms:
            r = rooms[name]
            inward = np.zeros(2)
            inward[ax] = 1.0 if (r.lo[ax] + r.hi[ax]) / 2 > c[ax] else -1.0
            step = min(0.75, 0.4 * float(r.hi[ax] - r.lo[ax]))
            for at, back in ((0.0, False), (step, True)):
                side = np.zeros(2)
                side[1 - ax] = rng.uniform(-1.0, 1.0) * max(0.0, half_w - 0.45)
                p2 = c + at * inward + side
                eye = np.array([p2[0], p2[1], rng.uniform(*EYE)])
                if back:  # through the door into the room behind (a point 1-2.5 m beyond the doorway)
                    t2 = c - rng.uniform(1.0, 2.5) * inward
                    t2[1 - ax] += rng.uniform(-1.0, 1.0) * half_w
                    t = np.array([t2[0], t2[1], rng.uniform(0.9, 1.5)])
                else:
                    t = _target_in(rng, r.lo, r.hi, eye)
                if t is not None and free_near_surfaces(scene, eye[None], 0.28)[0]:
                    mats.append(look_at_c2w(eye, t))
    return mats


def corridor_views(scene, plan, rng, spacing: float = 1.2) -> list[np.ndarray]:
    """c2w matrices along every hallway's long axis at eye height, ``spacing`` apart, looking along the corridor
    (both ways, alternating, within 20 degrees of its axis): what a walk sees between the rooms."""
    mats = []
    for r in plan.rooms:
        if r.type != "hallway":
            continue
        ext = r.hi - r.lo
        ax = int(np.argmax(ext))
        n = max(2, int(ext[ax] / spacing))
        for k, s in enumerate(np.linspace(r.lo[ax] + 0.5, r.hi[ax] - 0.5, n)):
            p = (r.lo + r.hi) / 2
            p[ax] = s
            p[1 - ax] += rng.uniform(-0.2, 0.2) * max(0.0, ext[1 - ax] - 0.8)
            eye = np.array([p[0], p[1], rng.uniform(*EYE)])
            if not free_in_rooms(scene, eye[None], 0.3)[0]:
                continue
            sign = 1.0 if k % 2 == 0 else -1.0
            yaw = math.radians(rng.uniform(-20, 20))
            d = np.zeros(2)
            d[ax], d[1 - ax] = sign * math.cos(yaw), math.sin(yaw)
            t = np.array([p[0] + 3.0 * d[0], p[1] + 3.0 * d[1], rng.uniform(1.0, 1.6)])
            mats.append(look_at_c2w(eye, t))
    return mats


def corner_views(scene, plan, rng) -> list[np.ndarray]:
    """c2w matrices from the four corners of every room (not hallways) at eye height, looking along the room's
    diagonal at the opposite corner (jittered): the vantage points of a composed reveal. A corner taken by
    furniture is replaced by the nearest free point towards the room's centre."""
    mats = []
    for r in plan.rooms:
        if r.type == "hallway":
            continue
        mid = (r.lo + r.hi) / 2
        for cx, cy in ((0, 0), (1, 0), (0, 1), (1, 1)):
            corner = np.array([(r.lo, r.hi)[cx][0], (r.lo, r.hi)[cy][1]])
            far = np.array([(r.lo, r.hi)[1 - cx][0], (r.lo, r.hi)[1 - cy][1]])
            z = rng.uniform(*EYE)
            # from 0.5 m inside the corner towards the centre, the first free point
            fr = np.linspace(0.0, 0.8, 9)[:, None]
            start = corner + np.sign(mid - corner) * 0.5
            cand = start + fr * (mid - start)
            pts = np.concatenate([cand, np.full((len(cand), 1), z)], 1)
            ok = np.nonzero(free_in_rooms(scene, pts, 0.3))[0]
            if len(ok) == 0:
                continue
            eye = pts[ok[0]]
            t2 = far + rng.uniform(-0.25, 0.25, 2) * (r.hi - r.lo)
            t = np.array([t2[0], t2[1], rng.uniform(0.9, 1.4)])
            if math.hypot(*(t[:2] - eye[:2])) >= 1.0:
                mats.append(look_at_c2w(eye, t))
    return mats


def route_views(scene, plan, n: int, seed: int = 0) -> list[np.ndarray]:
    """Up to ``n`` c2w matrices (4, 4) where tours walk (see the module docstring): the doorways' views first,
    then the corridors', then the room corners', each kind evenly thinned when ``n`` is short."""
    rng = np.random.default_rng(seed + 7919)
    doors, corridor, corners = door_views(scene, plan, rng), corridor_views(scene, plan, rng), corner_views(scene, plan, rng)

    def thin(views: list, m: int) -> list:
        m = max(0, min(m, len(views)))
        return [views[i] for i in np.unique(np.linspace(0, len(views) - 1, m).round().astype(int))] if m else []

    keep = thin(doors, n)
    keep += thin(corridor, n - len(keep))
    return keep + thin(corners, n - len(keep))
