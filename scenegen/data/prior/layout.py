"""Scene spec -> floor plan: room rectangles, a corridor, doors and windows (metres; +X east, +Y north).

The plan is a double-loaded corridor, the commonest apartment plan: the "day" rooms (living, kitchen, dining)
line the sunny side, the "night" rooms (bedrooms, bathrooms, study) the other, and a corridor between them
reaches every room through a door. One or two rooms need no corridor: they sit side by side joined by a door.
Room interiors keep exactly the sizes the spec asks for; walls lie between them (interior 0.12 m, exterior
0.2 m), so the plan's outline follows the rooms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenegen.data.prior import vocab
from scenegen.data.prior.spec import RoomSpec, SceneSpec

T_INT = 0.12  # interior wall thickness
T_EXT = 0.2  # exterior wall thickness
CORRIDOR = 1.25  # corridor width
DOOR_W, DOOR_H = 0.9, 2.1
OPENING_W = 1.6  # the wide opening of an open-plan living space onto the corridor


@dataclass
class Opening:
    """A door or window: a hole in the wall between ``lo`` and ``hi`` (3,) (the box it cuts)."""

    kind: str  # "door" | "window" | "entrance"
    lo: np.ndarray
    hi: np.ndarray
    rooms: tuple[str, ...]  # the rooms it joins (one for a window or the entrance)
    side: str = ""  # compass side of the wall for windows


@dataclass
class PlacedRoom:
    spec: RoomSpec
    lo: np.ndarray  # (2,) interior min (x, y)
    hi: np.ndarray  # (2,) interior max (x, y)
    floor: str = "oak_floor"
    wall: str = "white"
    exterior: list[str] = field(default_factory=list)  # compass sides whose wall is exterior

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def type(self) -> str:
        return self.spec.type

    def box(self, height: float) -> np.ndarray:
        """(2, 3) interior box."""
        return np.array([[self.lo[0], self.lo[1], 0.0], [self.hi[0], self.hi[1], height]])


@dataclass
class Plan:
    rooms: list[PlacedRoom]
    openings: list[Opening]
    height: float
    notes: list[str] = field(default_factory=list)

    def room(self, name: str) -> PlacedRoom:
        return next(r for r in self.rooms if r.name == name)

    @property
    def aabb(self) -> np.ndarray:
        """(2, 3) box of all interiors."""
        lo = np.min([r.lo for r in self.rooms], 0)
        hi = np.max([r.hi for r in self.rooms], 0)
        return np.array([[lo[0], lo[1], 0.0], [hi[0], hi[1], self.height]])


def _row(rooms: list[RoomSpec], y_lo: float | None, y_hi: float | None) -> list[tuple[RoomSpec, np.ndarray, np.ndarray]]:
    """Rooms side by side along +X starting at x = 0; the row hangs south of y_hi or north of y_lo."""
    out, x = [], 0.0
    for r in rooms:
        if y_hi is not None:
            lo, hi = np.array([x, y_hi - r.depth]), np.array([x + r.width, y_hi])
        else:
            lo, hi = np.array([x, y_lo]), np.array([x + r.width, y_lo + r.depth])
        out.append((r, lo, hi))
        x += r.width + T_INT
    return out


def _balance(rooms: list[RoomSpec]) -> tuple[list[RoomSpec], list[RoomSpec]]:
    """Split rooms into the sunny (day) row and the other (night) row, moving rooms to even the row lengths."""
    day = [r for r in rooms if vocab.ROOM_TYPES[r.type]["zone"] == "day"]
    night = [r for r in rooms if vocab.ROOM_TYPES[r.type]["zone"] == "night"]
    if not day or not night:  # all of one kind: split by length
        allr = sorted(day + night, key=lambda r: -r.width * r.depth)
        day, night = [], []
        for r in allr:
            (day if sum(x.width for x in day) <= sum(x.width for x in night) else night).append(r)
    length = lambda rs: sum(r.width for r in rs) + T_INT * max(0, len(rs) - 1)  # noqa: E731
    # Move the smallest night rooms (bathrooms first) to the day row while that evens the lengths.
    while True:
        diff = length(night) - length(day)
        movable = sorted([r for r in night if r.type in ("bathroom", "office", "bedroom")],
                         key=lambda r: (r.type != "bathroom", r.width))
        if not movable or len(night) <= 1:
            break
        r = movable[0]
        if abs(diff - 2 * (r.width + T_INT)) < abs(diff):
            night.remove(r)
            day.append(r)
        else:
            break
    return day, night


def make_plan(spec: SceneSpec) -> Plan:
    """Place the spec's rooms, the corridor, the doors and the windows."""
    h = spec.ceiling_height
    notes = []
    rooms = [r for r in spec.rooms if r.type != "hallway"]
    if len(rooms) < len(spec.rooms):
        notes.append("the hallway is the corridor joining the rooms")
    sunny = spec.window_sides[0] if spec.window_sides else "south"
    placed: list[tuple[RoomSpec, np.ndarray, np.ndarray]] = []
    corridor = None
    if len(rooms) <= 2:
        placed = _row(rooms, None, 0.0)
        rows = [[p for p in placed]]
    else:
        day, night = _balance(rooms)
        y0 = -CORRIDOR / 2 - T_INT
        y1 = CORRIDOR / 2 + T_INT
        south = _row(day, None, y0)  # day rooms on the south side (the plan is rotated below if needed)
        north = _row(night, y1, None)
        length = max(south[-1][2][0] if south else 0.0, north[-1][2][0] if north else 0.0)
        corridor = RoomSpec(name="hallway", type="hallway", width=round(length, 3), depth=CORRIDOR)
        placed = south + north + [(corridor, np.array([0.0, -CORRIDOR / 2]), np.array([length, CORRIDOR / 2]))]
        rows = [south, north]
    # Centre the plan on the origin.
    lo = np.min([p[1] for p in placed], 0)
    hi = np.max([p[2] for p in placed], 0)
    c = (lo + hi) / 2
    placed = [(r, a - c, b - c) for r, a, b in placed]
    rows = [[(r, a - c, b - c) for r, a, b in row] for row in rows]

    # Doors.
    openings: list[Opening] = []
    zd = DOOR_H
    if corridor is None:
        for (ra, la, ha), (rb, lb, hb) in zip(rows[0], rows[0][1:]):
            yc = 0.5 * (max(la[1], lb[1]) + min(ha[1], hb[1]))
            w = OPENING_W if "kitchen_living" in (ra.type, rb.type) or "studio" in (ra.type, rb.type) else DOOR_W
            openings.append(Opening("door", np.array([ha[0] - 0.01, yc - w / 2, 0.0]),
                                    np.array([lb[0] + 0.01, yc + w / 2, zd]), (ra.name, rb.name)))
    else:
        c_lo, c_hi = placed[-1][1], placed[-1][2]
        for row, side in ((rows[0], -1), (rows[1], 1)):
            for r, a, b in row:
                wide = r.type in ("kitchen_living", "living", "studio", "dining")
                w = min(OPENING_W if wide else DOOR_W, r.width - 0.3)
                # doors sit towards the room's east end (furniture goes along the other walls)
                xc = b[0] - 0.25 - w / 2 if r.width > 2.2 else (a[0] + b[0]) / 2
                if side < 0:
                    y_a, y_b = b[1] - 0.01, c_lo[1] + 0.01
                else:
                    y_a, y_b = c_hi[1] - 0.01, a[1] + 0.01
                openings.append(Opening("door", np.array([xc - w / 2, y_a, 0.0]), np.array([xc + w / 2, y_b, zd]),
                                        (r.name, "hallway")))
        # the flat's entrance: a closed door at the corridor's west end
        openings.append(Opening("entrance", np.array([c_lo[0] - T_EXT - 0.01, -DOOR_W / 2, 0.0]),
                                np.array([c_lo[0] + 0.01, DOOR_W / 2, zd]), ("hallway",)))

    # Exterior sides and windows.
    out_rooms: list[PlacedRoom] = []
    all_rects = [(a, b) for _, a, b in placed]

    def exterior(a, b, side: str) -> bool:
        """No other interior within a wall's thickness on this side."""
        for a2, b2 in all_rects:
            if a2 is a:
                continue
            ov_x = min(b[0], b2[0]) - max(a[0], a2[0]) > 0.05
            ov_y = min(b[1], b2[1]) - max(a[1], a2[1]) > 0.05
            if side == "south" and ov_x and 0 <= a[1] - b2[1] <= T_EXT + 0.01:
                return False
            if side == "north" and ov_x and 0 <= a2[1] - b[1] <= T_EXT + 0.01:
                return False
            if side == "west" and ov_y and 0 <= a[0] - b2[0] <= T_EXT + 0.01:
                return False
            if side == "east" and ov_y and 0 <= a2[0] - b[0] <= T_EXT + 0.01:
                return False
        return True

    # Windows are chosen in the plan's own frame (day rooms facing south) and the plan is turned afterwards, so
    # the wanted compass sides are first turned back into that frame.
    names = ["south", "east", "north", "west"]
    k = _TURNS[sunny]
    local_sides = [names[(names.index(x) - k) % 4] for x in spec.window_sides]
    for r, a, b in placed:
        pr = PlacedRoom(r, a, b, floor=spec.room_floor(r), wall=spec.room_wall(r))
        pr.exterior = [s for s in ("south", "north", "west", "east") if exterior(a, b, s)]
        out_rooms.append(pr)
        if r.type == "hallway":
            continue
        wanted = [s for s in pr.exterior if s in local_sides]
        main = "south" if "south" in pr.exterior else ("north" if "north" in pr.exterior else None)
        sides = wanted or ([main] if main else pr.exterior[:1])
        for s in sides:
            size = spec.window_size if s in local_sides else "standard"
            if r.type == "bathroom":
                size = "small"
            frac, sill, head = vocab.WINDOW_SIZES[size]
            along = (b[0] - a[0]) if s in ("south", "north") else (b[1] - a[1])
            w = max(0.6, min(frac * along, along - 0.6, 5.0))
            z0, z1 = sill, max(sill + 0.5, h - head)
            if s in ("south", "north"):
                xc = (a[0] + b[0]) / 2
                if r.type in ("kitchen_living", "studio"):
                    xc = a[0] + 0.62 * (b[0] - a[0])  # clear of the kitchen run at the west end
                    w = min(w, 2 * (b[0] - xc) - 0.4)
                y_in = a[1] if s == "south" else b[1]
                y_out = y_in - T_EXT if s == "south" else y_in + T_EXT
                lo3 = np.array([xc - w / 2, min(y_in, y_out) - 0.01, z0])
                hi3 = np.array([xc + w / 2, max(y_in, y_out) + 0.01, z1])
            else:
                yc = (a[1] + b[1]) / 2
                x_in = a[0] if s == "west" else b[0]
                x_out = x_in - T_EXT if s == "west" else x_in + T_EXT
                lo3 = np.array([min(x_in, x_out) - 0.01, yc - w / 2, z0])
                hi3 = np.array([max(x_in, x_out) + 0.01, yc + w / 2, z1])
            openings.append(Opening("window", lo3, hi3, (r.name,), side=s))

    plan = Plan(out_rooms, openings, h, notes)
    if sunny != "south":
        plan = _rotate(plan, sunny)
    return plan


_TURNS = {"south": 0, "east": 1, "north": 2, "west": 3}  # quarter turns (counter-clockwise) taking south to it


def _rotate(plan: Plan, sunny: str) -> Plan:
    """Turn the plan so its day rooms face ``sunny`` (windows keep their compass sides)."""
    k = _TURNS[sunny]
    c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][k]
    m = np.array([[c, -s], [s, c]], dtype=float)
    names = ["south", "east", "north", "west"]

    def rot_side(x: str) -> str:
        return names[(names.index(x) + k) % 4] if x else x

    def rot_box2(lo, hi):
        pts = np.stack([lo, hi]) @ m.T
        return pts.min(0), pts.max(0)

    rooms = []
    for r in plan.rooms:
        lo, hi = rot_box2(r.lo, r.hi)
        rooms.append(PlacedRoom(RoomSpec(r.spec.name, r.spec.type, float(hi[0] - lo[0]), float(hi[1] - lo[1]),
                                         r.spec.floor, r.spec.wall_color), lo, hi, r.floor, r.wall,
                                [rot_side(x) for x in r.exterior]))
    ops = []
    for o in plan.openings:
        lo, hi = rot_box2(o.lo[:2], o.hi[:2])
        ops.append(Opening(o.kind, np.array([lo[0], lo[1], o.lo[2]]), np.array([hi[0], hi[1], o.hi[2]]), o.rooms,
                           rot_side(o.side)))
    return Plan(rooms, ops, plan.height, plan.notes)
