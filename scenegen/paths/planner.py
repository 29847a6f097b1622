"""Automatic walk-through of a scene: find the floor, the rooms and the doors, and film every room.

:func:`auto_walkthrough` plans a tour through a :class:`~scenegen.paths.volume.SceneVolume` (a trained run's
occupancy or a mesh's) and returns a :class:`~scenegen.paths.model.PathSpec`. The walking numbers come from a
:class:`~scenegen.paths.style.WalkStyle` (default :data:`~scenegen.paths.style.TOUR`). On the volume's grid (its
third axis is up; world units throughout):

1. **Floor and free space** (:func:`~scenegen.paths.floor.floor_map`): the walkable floor and the columns free
   from knee to above the head. A scene whose free floor has no ceiling over most of it, or too little of it,
   is not walkable (an object capture): :class:`NotWalkable` says so in one line.
2. **Rooms and doors** (:mod:`~scenegen.paths.planner_rooms`): from the free space, with the dataset's plan
   (named room boxes) as a hint when there is one; corridors are recognised by name or shape.
3. **Where the camera may stand** (:func:`~scenegen.paths.planner_route.safe_cells`): ``clearance`` (0.5 m)
   from every surface, as much as a small room allows but never under ``DOOR_CLEARANCE`` (0.3 m), which is
   also enough within a doorway.
4. **Order**: the rooms (corridors are walked through, not visited) in the order of least total walking
   (every order for up to 8 rooms), or the caller's order and subset (``rooms``, by name).
5. **Per room, a composed reveal**: walk in (crossing each doorway on its centre line, square to the wall),
   stop at the vantage point (the entrance or a corner with the longest view across the room), turn to one end
   of the room's span, pan slowly across it (seconds scale with the floor area), then walk on.
6. **Motion** (:mod:`~scenegen.paths.planner_motion`): walking speed (0.7 m/s) with eased starts and stops,
   slowing wherever the view would turn faster than 30 deg/s; turns in place the way that keeps walls out of
   the picture; eye height above the floor under the camera; level (no roll), a constant small pitch.
   ``duration`` fits the tour to a length by stretching the reveals and then the walking speed (0.45-1.1 m/s).

The path has one keyframe per frame and a top-level ``"rooms"`` key (``PathSpec.extra``): the seconds the
camera spends in each room, ``[{"name", "start_time", "end_time"}]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from scenegen.core.errors import InputError
from scenegen.paths.floor import FloorMap, floor_map, from_map, grid_zup, to_map
from scenegen.paths.model import Keyframe, PathSpec
from scenegen.paths.planner_motion import Hold, Pan, Turn, Walk, timeline, walk_yaw
from scenegen.paths.planner_rooms import RoomMap, segment_rooms, wide_half_width, wide_part
from scenegen.paths.planner_route import (
    Router,
    door_waypoints,
    order_rooms,
    pan_range,
    ray_depths,
    near_fraction,
    safe_cells,
    smooth_route,
    turn_path,
    vantage_point,
    walk_cost,
)
from scenegen.paths.style import DOOR_CLEARANCE, TOUR, WalkStyle
from scenegen.paths.track import limit_rate

__all__ = ["NotWalkable", "TourPlan", "auto_walkthrough", "plan_tour"]

START_DETOUR = 0.1
"""How much longer (a share of the shortest walk through the rooms) the tour may walk to open in the largest room."""


class NotWalkable(InputError):
    """The scene has no walkable interior (an object capture, an open scene): suggest an orbit instead."""


@dataclass
class TourPlan:
    """The planned tour (map coordinates are cells of the volume's floor plan; see :class:`FloorMap`).

    Attributes:
        floor: the floor and free-space maps.
        rooms: the rooms and doors (:class:`~scenegen.paths.planner_rooms.RoomMap`).
        safe: (X, Y) bool cells the camera may stand in.
        order: room labels visited with a reveal, in order.
        skipped: room labels that could not be reached (or have no safe cell).
        names: label -> room name.
        moves: the choreography (:mod:`~scenegen.paths.planner_motion` moves).
        track: the dense timeline (``t``, ``xy``, ``yaw``).
        frame_xy: (N, 2) map position of every frame; positions: (N, 3) world camera centres.
        room_of_frame: (N,) room label of every frame (0 = none).
        segments: the path's ``"rooms"`` list.
        speed, pan_scale: the walking speed and the reveal stretch used (``duration`` fitting).
    """

    floor: FloorMap
    rooms: RoomMap
    safe: np.ndarray
    order: list
    skipped: list
    names: dict
    moves: list = field(default_factory=list)
    track: dict = field(default_factory=dict)
    frame_xy: np.ndarray | None = None
    positions: np.ndarray | None = None
    room_of_frame: np.ndarray | None = None
    segments: list = field(default_factory=list)
    speed: float = TOUR.speed
    pan_scale: float = 1.0

    @property
    def visited(self) -> list[str]:
        """Names of the rooms the camera stands in for at least half a second, in order of first entry."""
        return [s["name"] for s in self.segments]


def _hints_to_map(volume, perm, hints) -> list | None:
    """Room boxes (name, kind, world lo (2|3,), world hi) -> (name, kind, map lo (2,), map hi (2,))."""
    if not hints:
        return None
    out = []
    for name, kind, lo, hi in hints:
        lo3, hi3 = np.zeros(3), np.zeros(3)
        lo3[: len(lo)], hi3[: len(hi)] = lo, hi
        corners = np.array([[x, y, 0.5 * (lo3[2] + hi3[2])] for x in (lo3[0], hi3[0]) for y in (lo3[1], hi3[1])])
        m = to_map(volume, perm, corners)[:, :2]
        out.append((name, kind, m.min(0), m.max(0)))
    return out


def _check_walkable(volume, fm: FloorMap, eye_height: float) -> None:
    v = fm.voxel
    if not fm.walkable.any():
        raise NotWalkable("no walkable floor found in the scene (no occupied surface with free space above it)",
                          field="floor")
    if not fm.free.any():
        raise NotWalkable(f"no free space at eye height {eye_height:g} above the floor", field="eye_height")
    area = float(fm.free.sum()) * v * v
    if area < 2.0:
        raise NotWalkable(f"only {area:.1f} square units of free floor at eye height (a walk needs 2)",
                          field="floor")
    occ, _ = grid_zup(volume)
    Z = occ.shape[2]
    above = np.clip(fm.level + int(math.ceil((eye_height + 0.25) / v)), 0, Z)
    cum = np.concatenate([np.zeros(occ.shape[:2] + (1,), np.int32), np.cumsum(occ, axis=2, dtype=np.int32)], 2)
    ii, jj = np.nonzero(fm.free)
    covered = (cum[ii, jj, Z] - cum[ii, jj, above[ii, jj]]) > 0
    if covered.mean() < 0.5:
        raise NotWalkable(f"no ceiling over {100 * (1 - covered.mean()):.0f} % of the free floor: this looks "
                          "like an object or an open scene, not an interior", field="floor")


def _crossings(path: np.ndarray, rm: RoomMap) -> list:
    """Doors a cell route crosses, in order: (door, sign) with sign +1 when crossing from door.a to door.b."""
    lab = rm.labels[path[:, 0], path[:, 1]]
    out = []
    prev = int(lab[0])
    for i in range(1, len(lab)):
        cur = int(lab[i])
        if cur == prev or cur == 0:
            continue
        if prev == 0:
            prev = cur
            continue
        cands = [d for d in rm.doors if {d.a, d.b} == {prev, cur}]
        if cands:
            d = min(cands, key=lambda q: float(np.linalg.norm(q.center - (path[i] + 0.5))))
            out.append((d, 1.0 if d.a == prev else -1.0))
        prev = cur
    return out


def _route(router: Router, rm: RoomMap, safe, voxel, a, b) -> tuple[np.ndarray, np.ndarray] | None:
    """Map points and pinned flags of a route from safe cell a to safe cell b crossing doorways square."""
    raw = router.path(a, b)
    if raw is None:
        return None
    pts, pins = [np.asarray(a, float)[None] + 0.5], [np.array([True])]
    cur = np.asarray(a)
    for door, sgn in _crossings(raw, rm):
        p0, p1 = door_waypoints(door, safe, voxel)
        if sgn < 0:
            p0, p1 = p1, p0
        c0 = router.nearest_safe(p0)
        c1 = router.nearest_safe(p1)
        leg = router.path(cur, c0)
        if leg is None:
            return None
        pts += [leg[1:] + 0.5, np.stack([p0, p1])]
        pins += [np.zeros(len(leg) - 1, bool), np.array([True, True])]
        cur = c1
    leg = router.path(cur, b)
    if leg is None:
        return None
    pts.append(leg[1:] + 0.5)
    pins.append(np.zeros(len(leg) - 1, bool))
    return np.concatenate(pts), np.concatenate(pins)


def _visible(mask: np.ndarray, xy, n_dir: int = 360) -> np.ndarray:
    """(X, Y) bool cells of ``mask`` seen from map point ``xy`` (rays through ``mask`` only)."""
    dep = ray_depths(mask, np.asarray(xy, float)[None], n_dir=n_dir)[0]
    ang = np.arange(n_dir) * (2 * math.pi / n_dir)
    out = np.zeros_like(mask)
    X, Y = mask.shape
    for t in np.arange(0.0, float(dep.max()), 0.5):
        ok = dep > t
        i = np.floor(xy[0] + t * np.cos(ang[ok])).astype(int)
        j = np.floor(xy[1] + t * np.sin(ang[ok])).astype(int)
        good = (i >= 0) & (i < X) & (j >= 0) & (j < Y)
        out[i[good], j[good]] = True
    return out & mask


def _open_dirs(free, xy, voxel, hfov) -> np.ndarray:
    dep = ray_depths(free, np.asarray(xy, float)[None], n_dir=180)[0] * voxel
    return near_fraction(dep, hfov, 1.0) <= 0.3


def _blend_clear_of_walls(free, xy, yaw, voxel, hfov, blend: float, room_len: float) -> float:
    """The distance over which a walk into a room turns from its heading to the vantage point's view:
    ``blend``, or longer when the walk would face a wall up close within the room (a vantage point beside a
    wall, reached by a curve, is walked towards that wall), so that the turn begins before it; at most
    ``room_len``, the walk's length from its last doorway."""
    seg = np.linalg.norm(np.diff(xy, axis=0), axis=1) * voxel
    s = np.concatenate([[0.0], np.cumsum(seg)])
    left = s[-1] - s
    check = np.nonzero((left <= room_len) & (left > blend))[0]
    if len(check) == 0:
        return blend
    dep = ray_depths(free, xy[check], n_dir=180) * voxel
    j = np.round(np.mod(yaw[check], 2 * math.pi) / (2 * math.pi / 180)).astype(int) % 180
    closed = np.array([near_fraction(row, hfov, 1.0)[jj] > 0.5 for row, jj in zip(dep, j)])
    if not closed.any():
        return blend
    return float(min(room_len, left[check[np.argmax(closed)]] + 0.3))


def plan_tour(volume, style: WalkStyle = TOUR, *, hints=None, rooms=None, fov: float | None = None,
              aspect: float = 16 / 9, room_split: float | None = None, min_room_area: float = 1.5,
              door_clearance: float = DOOR_CLEARANCE, room_seconds_per_m2: float = 0.6) -> TourPlan:
    """Plan the tour of :func:`auto_walkthrough` (steps 1-5 of the module docstring) without timing it.

    Raises:
        NotWalkable: no walkable interior. InputError: an unknown room name, no room reachable.
    """
    eye, clearance = style.eye_height, style.clearance
    fm = floor_map(volume, eye)
    _check_walkable(volume, fm, eye)
    v = fm.voxel
    _, perm = grid_zup(volume)
    rm = segment_rooms(fm.free, fm.distance, v, hints=_hints_to_map(volume, perm, hints),
                       room_split=room_split if room_split is not None else 0.5,
                       min_room_area=min_room_area)
    safe, used = safe_cells(fm.free, fm.distance, rm.labels, rm.doors, v, clearance, min(door_clearance, clearance))
    if not safe.any():
        raise NotWalkable(f"no free space at eye height keeps {min(door_clearance, clearance):g} from every "
                          f"surface (largest clearance found: {float(fm.distance.max()):.2f})", field="clearance")
    router = Router(safe, fm.distance, v, prefer=1.0)
    labels = sorted(rm.names)
    anchor = {}
    for k in labels:
        reg = (rm.labels == k) & safe
        if reg.any():
            d = np.where(reg, fm.distance, -1.0)
            anchor[k] = np.array(np.unravel_index(int(np.argmax(d)), d.shape))
    # the part of the home the tour walks: the connected safe area holding the most room area; a room is in it
    # when any of its safe cells is (its anchor: the reachable one farthest from the walls)
    walked = {"mask": safe}  # the safe cells connected to the walked part (the last reachable() call's)

    def reachable(base) -> set:
        d0 = router.from_node(router.node(base))[0]
        fin = np.zeros_like(safe)
        fin[router.cells[:, 0], router.cells[:, 1]] = np.isfinite(d0)
        walked["mask"] = fin
        out = set()
        for q in labels:
            reg = (rm.labels == q) & fin
            if reg.any():
                dd = np.where(reg, fm.distance, -1.0)
                anchor[q] = np.array(np.unravel_index(int(np.argmax(dd)), dd.shape))
                out.add(q)
        return out

    reach, base = set(), None
    for k in sorted(anchor, key=lambda q: -rm.area[q]):
        if k in reach:
            continue
        r = reachable(anchor[k])
        if sum(rm.area[q] for q in r) > sum(rm.area[q] for q in reach):
            reach, base = r, anchor[k].copy()
    if base is not None:
        reachable(base)  # the anchors of the walked part
    # a room cut off at its own clearance (a cluttered bathroom behind a door): lower it, down to a doorway's
    lows = [k for k in labels if k not in reach]
    if lows and base is not None:
        for c in np.linspace(min(door_clearance, clearance) + 0.05, clearance, 4)[::-1]:
            for k in lows:  # the room and the way into it (a metre around it)
                near = ndimage.binary_dilation(rm.labels == k, iterations=max(1, int(round(1.0 / v))))
                safe |= near & fm.free & (fm.distance >= c)
                used[k] = min(used.get(k, c), c)
            router = Router(safe, fm.distance, v, prefer=1.0)
            reach = reachable(base)
            lows = [k for k in lows if k not in reach]
            if not lows:
                break
    by_name = {rm.names[k]: k for k in labels}
    if rooms:
        order = []
        for name in rooms:
            if name not in by_name:
                raise InputError(f"no room named {name!r}; rooms: {', '.join(rm.names[k] for k in labels)}",
                                 field="--rooms")
            k = by_name[name]
            if k not in reach:
                raise InputError(f"room {name!r} cannot be reached with {door_clearance:g} clearance",
                                 field="--rooms")
            order.append(k)
        skipped = []
    else:
        visit = [k for k in labels if k in reach and not rm.corridor.get(k)] or [k for k in labels if k in reach]
        skipped = [k for k in labels if k not in reach and not rm.corridor.get(k)]
        cost = np.array([[router.cost(anchor[a], anchor[b]) if a != b else 0.0 for b in visit] for a in visit])
        # the tour opens in the largest room (the living room of a home, where a visitor is shown first and
        # the capture or the generated views cover best) when that walks at most START_DETOUR further than the
        # shortest walk; else the shortest walk, from its end nearer the largest room
        seq = order_rooms(cost)
        if len(seq) > 2:
            first = max(range(len(visit)), key=lambda i: rm.area[visit[i]])
            alt = order_rooms(cost, first)
            if walk_cost(cost, alt) <= (1.0 + START_DETOUR) * walk_cost(cost, seq) + 1e-9:
                seq = alt
            elif seq.index(first) > (len(seq) - 1) / 2:
                seq = seq[::-1]
        order = [visit[i] for i in seq]
    if not order:
        raise NotWalkable("no room of the scene has safe space to stand in", field="clearance")

    hfov = 2.0 * math.atan(math.tan(math.radians((fov or style.fov) / 2.0)) * aspect)
    moves: list = []
    state = {"pos": None, "yaw": None}
    X, Y = fm.free.shape
    cx, cy = np.meshgrid(np.arange(X) + 0.5, np.arange(Y) + 0.5, indexing="ij")
    doorways = np.zeros_like(fm.free)  # no vantage point within 0.9 m of an opening
    for d in rm.doors:
        doorways |= (cx - d.center[0]) ** 2 + (cy - d.center[1]) ** 2 <= (0.9 / v) ** 2

    def exit_heading(cell, goal) -> float | None:
        """Heading (map radians) of the way from ``cell`` towards the next room's anchor, about a metre out."""
        if goal is None:
            return None
        leg = router.path(cell, goal)
        if leg is None or len(leg) < 2:
            return None
        far = np.linalg.norm(leg - leg[0], axis=1) * v
        q = leg[min(int(np.searchsorted(far, 1.0)), len(leg) - 1)]
        d = q - leg[0]
        return float(math.atan2(d[1], d[0])) if np.any(d) else None

    def visit(k: int, view: np.ndarray, stand: np.ndarray, entry, area: float, goal=None):
        """Walk to the best vantage point of ``view`` (cells ``stand``), pan across it; returns the cell or None.
        ``goal``: the next room's anchor, so the pan ends facing the way out when that saves turning."""
        vp = vantage_point(view, stand, fm.distance, v, entry)
        if vp is None:
            return None
        cell, diag = vp
        a, b, open_ = pan_range(fm.free, view, cell + 0.5, diag, v, hfov)
        seconds = float(np.clip(room_seconds_per_m2 * area, 4.0, 14.0))
        pos, yaw = state["pos"], state["yaw"]
        if pos is not None:
            r = _route(router, rm, safe, v, pos, cell)
            if r is None:
                return None
            xy = smooth_route(r[0], r[1], safe, v, radius=style.corner_radius)
            # the view turns to the room only after the last doorway (inside the room)
            last = int(np.nonzero(r[1])[0][-1])
            blend = 0.8 * float(np.linalg.norm(np.diff(r[0][last:], axis=0), axis=1).sum()) * v
            if len(xy) >= 2 and float(np.linalg.norm(xy[-1] - xy[0])) * v > 0.05:
                room_len = blend / 0.8 + 0.7  # the walk's length from the last doorway (its waypoint is 0.7 m in)
                blend = _blend_clear_of_walls(fm.free, xy, walk_yaw(xy, v, style.look_ahead, end_yaw=diag,
                                                                    end_blend=blend), v, hfov, blend, room_len)
                wy = walk_yaw(xy, v, style.look_ahead, end_yaw=diag, end_blend=blend)
                turn = turn_path(yaw, float(wy[0]), _open_dirs(fm.free, xy[0], v, hfov)) - yaw
                moves.extend([Turn(xy=xy[0], delta=turn), Walk(xy=xy, end_yaw=diag, end_blend=blend)])
                yaw = float(wy[-1])
        else:
            moves.append(Hold(xy=cell + 0.5, seconds=1.0))
            yaw = a
        # to one end of the pan, the way that keeps walls out of the picture, then across the room: the end that
        # turns the least in all, counting the turn to the way out after it (a videographer ends the pan facing
        # where the walk goes next rather than turning round)
        ta, tb = turn_path(yaw, a, open_), turn_path(yaw, b, open_)
        p = cell + 0.5
        out = exit_heading(cell, goal)

        def left(end: float) -> float:
            return 0.0 if out is None else abs((out - end + math.pi) % (2 * math.pi) - math.pi)

        if abs(ta - yaw) + left(ta + (b - a)) <= abs(tb - yaw) + left(tb - (b - a)):
            moves.extend([Turn(xy=p, delta=ta - yaw), Pan(xy=p, start=ta, end=ta + (b - a), seconds=seconds)])
            yaw = ta + (b - a)
        else:
            moves.extend([Turn(xy=p, delta=tb - yaw), Pan(xy=p, start=tb, end=tb - (b - a), seconds=seconds)])
            yaw = tb - (b - a)
        moves.append(Hold(xy=p, seconds=0.7))
        state["pos"], state["yaw"] = cell, yaw
        return cell

    for j, k in enumerate(order):
        goal = anchor[order[j + 1]] if j + 1 < len(order) else None
        mask = rm.labels == k
        entry = None
        if state["pos"] is not None:
            leg = router.path(state["pos"], anchor[k])
            if leg is not None:
                inside = np.nonzero(mask[leg[:, 0], leg[:, 1]])[0]
                entry = leg[inside[0]] + 0.5 if len(inside) else None
        # on cells connected to the walked part (a room's safe cells can fall apart, e.g. behind a fixture),
        # never in a doorway (the room's own clearance), and in the room's wide part when it has one (not in
        # a corridor-like strip of it)
        stand0 = safe & walked["mask"] & (fm.distance >= used.get(k, 0.0))
        stand = stand0 & ~doorways
        wide = wide_part(mask, v, wide_half_width(fm.distance, mask))
        view = wide if (wide & stand).any() else mask
        if not (view & stand).any():  # a small room: its doorway's surroundings are all there is
            stand = stand0
            view = wide if (wide & stand).any() else mask
        cell = visit(k, view, stand, entry, rm.area[k], goal)
        if cell is None:
            skipped.append(k)
            continue
        # a room one view cannot show (an L-shaped open plan): walk on to a vantage point of the largest part
        # still unseen, at most twice
        seen = _visible(view, cell + 0.5)
        for _ in range(2):
            rest, nr = ndimage.label(view & ~seen, structure=np.ones((3, 3), bool))
            if nr == 0:
                break
            sizes = np.bincount(rest.ravel())[1:] * v * v
            jp = int(np.argmax(sizes)) + 1
            if sizes[jp - 1] < max(3.0, 0.25 * rm.area[k]):
                break
            part = rest == jp
            near = ndimage.binary_dilation(part, iterations=max(1, int(round(0.5 / v))))
            cell = visit(k, part, stand & near, None, float(sizes[jp - 1]), goal)
            if cell is None:
                break
            seen |= _visible(view, cell + 0.5)
    order = [k for k in order if k not in skipped]
    if not moves:
        raise NotWalkable("no room of the scene has safe space to stand in", field="clearance")
    return TourPlan(floor=fm, rooms=rm, safe=safe, order=order, skipped=sorted(set(skipped)), names=dict(rm.names),
                    moves=moves)


def _first_yaw(moves) -> float:
    for m in moves:
        if isinstance(m, Pan):
            return float(m.start)
    return 0.0


def _fit(plan: TourPlan, style: WalkStyle, duration: float | None) -> dict:
    """The timeline, fitted to ``duration`` (reveal stretch 0.4-3x first, then walking speed 0.45-1.1)."""
    v = plan.floor.voxel
    rate = math.radians(style.max_turn_rate_deg_s)
    yaw0 = _first_yaw(plan.moves)

    def make(speed, pan_scale):
        return timeline(plan.moves, v, yaw0, speed=speed, turn_rate=rate, look_ahead=style.look_ahead,
                        pan_scale=pan_scale)

    def total(speed, pan_scale):
        return float(make(speed, pan_scale)["t"][-1])

    speed, scale = style.speed, 1.0
    if duration is not None:
        lo_s, hi_s = 0.4, 3.0
        if total(speed, lo_s) > duration:
            scale, lo_v, hi_v = lo_s, speed, 1.1
            for _ in range(14):
                mid = 0.5 * (lo_v + hi_v)
                lo_v, hi_v = (mid, hi_v) if total(mid, scale) > duration else (lo_v, mid)
            speed = hi_v
        elif total(speed, hi_s) < duration:
            scale, lo_v, hi_v = hi_s, 0.45, speed
            for _ in range(14):
                mid = 0.5 * (lo_v + hi_v)
                lo_v, hi_v = (mid, hi_v) if total(mid, scale) > duration else (lo_v, mid)
            speed = lo_v
        else:
            for _ in range(16):
                mid = 0.5 * (lo_s + hi_s)
                lo_s, hi_s = (mid, hi_s) if total(speed, mid) < duration else (lo_s, mid)
            scale = 0.5 * (lo_s + hi_s)
    plan.speed, plan.pan_scale = speed, scale
    return make(speed, scale)


def _segments(room_of_frame: np.ndarray, names: dict, fps: float, min_seconds: float = 0.5) -> list:
    """``[{"name", "start_time", "end_time"}]`` runs of frames per room; runs shorter than ``min_seconds`` join
    the run before them."""
    runs = []
    for i, k in enumerate(room_of_frame.tolist()):
        if k <= 0:
            continue
        if runs and runs[-1][0] == k:
            runs[-1][2] = i
        else:
            runs.append([k, i, i])
    merged = []
    for r in runs:
        if merged and ((r[2] - r[1] + 1) / fps < min_seconds or merged[-1][0] == r[0]):
            merged[-1][2] = r[2]
        else:
            merged.append(r)
    return [{"name": names.get(k, f"room_{k}"), "start_time": round(a / fps, 3), "end_time": round((b + 1) / fps, 3)}
            for k, a, b in merged]


def auto_walkthrough(volume, eye_height: float | None = None, clearance: float | None = None,
                     speed: float | None = None, fov: float | None = None, max_turn_rate_deg_s: float | None = None,
                     look_ahead: float | None = None, pitch_deg: float | None = None, *, style: WalkStyle | None = None,
                     duration: float | None = None, rooms=None, hints=None, fps: float = 30.0, width: int = 1920,
                     height: int = 1080, room_split: float | None = None, min_room_area: float = 1.5,
                     return_plan: bool = False, **_ignored):
    """Plan a walk-through of a scene volume (see the module docstring).

    Args:
        volume: the scene's :class:`~scenegen.paths.volume.SceneVolume` (its grid has the up vector as an axis).
        eye_height, clearance, speed, fov, max_turn_rate_deg_s, look_ahead, pitch_deg: override ``style``'s.
        style: the walking settings (default :data:`~scenegen.paths.style.TOUR`).
        duration: fit the tour to this many seconds (within the walking limits; None: the natural length).
        rooms: room names to visit, in this order (None: every room, in the order of least walking).
        hints: the plan's rooms ``[(name, kind, lo, hi)]`` in world coordinates (boxes; kind "hallway" marks a
            corridor), or None.
        fps, width, height: render settings.
        return_plan: also return the :class:`TourPlan`.
    Raises:
        NotWalkable: one line when the scene has no walkable interior. InputError: bad settings or rooms.
    """
    st = (TOUR if style is None else style).updated(
        eye_height=eye_height, clearance=clearance, speed=speed, fov=fov, max_turn_rate_deg_s=max_turn_rate_deg_s,
        look_ahead=look_ahead, pitch_deg=pitch_deg)
    if not (st.eye_height > 0 and st.clearance >= 0 and st.speed > 0 and st.max_turn_rate_deg_s > 0):
        raise InputError("eye height, speed and turn rate must be positive, clearance not negative",
                         field="eye_height")
    if duration is not None and not duration > 0:
        raise InputError(f"must be positive, got {duration}", field="--duration")
    plan = plan_tour(volume, st, hints=hints, rooms=rooms, fov=st.fov, aspect=width / height,
                     room_split=room_split, min_room_area=min_room_area)
    tl = _fit(plan, st, duration)
    fm, v = plan.floor, plan.floor.voxel
    t_end = float(tl["t"][-1])
    n = max(2, int(round(t_end * fps)) + 1)
    tf = np.minimum(np.arange(n) / fps, t_end)
    xy = np.stack([np.interp(tf, tl["t"], tl["xy"][:, 0]), np.interp(tf, tl["t"], tl["xy"][:, 1])], 1)
    yaw = limit_rate(np.interp(tf, tl["t"], tl["yaw"]), tf, 0.97 * math.radians(st.max_turn_rate_deg_s))
    X, Y = fm.free.shape
    ci = np.clip(np.floor(xy).astype(int), 0, [X - 1, Y - 1])
    h = fm.height[ci[:, 0], ci[:, 1]]
    if np.isnan(h).all():
        h = np.zeros_like(h)
    elif np.isnan(h).any():
        good = ~np.isnan(h)
        h = np.interp(np.arange(len(h)), np.nonzero(good)[0], h[good])
    w = max(1, int(round(fps * 0.5)))
    hp = np.concatenate([np.full(w, h[0]), h, np.full(w, h[-1])])
    h = np.convolve(hp, np.ones(2 * w + 1) / (2 * w + 1), mode="valid")
    _, perm = grid_zup(volume)
    pos = from_map(volume, perm, np.stack([xy[:, 0], xy[:, 1], (h + st.eye_height) / v], 1))
    o = from_map(volume, perm, np.zeros((1, 3)))[0]
    fwd = from_map(volume, perm, np.stack([np.cos(yaw), np.sin(yaw), np.zeros(n)], 1)) - o
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
    up = np.asarray(volume.up, dtype=np.float64)
    p = math.radians(st.pitch_deg)
    look = fwd * math.cos(p) + up[None] * math.sin(p)
    kfs = [Keyframe.look_at(pos[i], pos[i] + look[i], up=up, fov=st.fov, aspect=width / height, transition=1.0 / fps)
           for i in range(n)]
    plan.frame_xy, plan.positions, plan.track = xy, pos, tl
    plan.room_of_frame = plan.rooms.labels[ci[:, 0], ci[:, 1]]
    plan.segments = _segments(plan.room_of_frame, plan.names, fps)
    spec = PathSpec(keyframes=kfs, width=int(width), height=int(height), fps=float(fps), smoothness=0.0,
                    default_fov=float(st.fov), default_transition=1.0 / fps, constant_speed=False, ease=False,
                    extra={"rooms": plan.segments})
    return (spec, plan) if return_plan else spec
