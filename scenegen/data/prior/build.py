"""Floor plan -> furnished, textured, metric mesh (:class:`~scenegen.data.synth.SynthScene`, +Z up, metres).

Walls are cut from the plan with real openings: the plan's rectangles (room interiors, their walls, doors and
windows) are split on a grid of all their edges, each grid cell is floor, wall or outside, and a wall cell keeps
the heights its openings leave (a lintel over a door, a sill and a lintel around a window); neighbouring cells
with the same heights merge into one box. Every part (wall piece, floor, furniture primitive) is a closed box,
cylinder or ellipsoid, so each is watertight. Furniture comes from parametric primitives placed along the walls
clear of doors and windows; what does not fit is reported in the plan's notes, not dropped silently.
"""

from __future__ import annotations

import math

import numpy as np

from scenegen.data.prior import vocab
from scenegen.data.prior.layout import T_EXT, Plan, PlacedRoom, make_plan
from scenegen.data.prior.materials import prior_materials
from scenegen.data.prior.spec import SceneSpec
from scenegen.data.synth.scene import SceneBuilder, SynthScene

# ---------------------------------------------------------------------------------------------------------------
# Furniture (local frame: x along the wall, y into the room from the wall, z up; each item centred on x = 0)
# ---------------------------------------------------------------------------------------------------------------
# Each item is (footprint width, depth, height, parts) with parts (name, material, kind, lo, hi).


def _box(name, mat, lo, hi):
    return (name, mat, "box", np.asarray(lo, float), np.asarray(hi, float))


def _cyl(name, mat, lo, hi):
    return (name, mat, "cyl", np.asarray(lo, float), np.asarray(hi, float))


def _ell(name, mat, lo, hi):
    return (name, mat, "ell", np.asarray(lo, float), np.asarray(hi, float))


def _sofa(w=2.1, d=0.9, fabric="fabric"):
    hw = w / 2
    return w, d, 0.88, [
        _box("sofa_base", fabric, [-hw, 0, 0], [hw, d, 0.4]),
        _box("sofa_back", fabric, [-hw, 0, 0.4], [hw, 0.22, 0.88]),
        _box("sofa_arm_l", fabric, [-hw, 0.22, 0.4], [-hw + 0.18, d, 0.62]),
        _box("sofa_arm_r", fabric, [hw - 0.18, 0.22, 0.4], [hw, d, 0.62]),
        _box("sofa_cushion_l", "cushion", [-hw + 0.2, 0.24, 0.4], [-0.01, d - 0.02, 0.5]),
        _box("sofa_cushion_r", "cushion", [0.01, 0.24, 0.4], [hw - 0.2, d - 0.02, 0.5]),
        _box("throw_pillow", "red", [-hw + 0.25, 0.24, 0.5], [-hw + 0.65, 0.42, 0.82]),
    ]


def _coffee_table(w=1.1, d=0.6):
    hw, parts = w / 2, []
    parts.append(_box("table_top", "walnut", [-hw, 0, 0.4], [hw, d, 0.45]))
    for i, (lx, ly) in enumerate([(-hw + 0.05, 0.05), (hw - 0.05, 0.05), (-hw + 0.05, d - 0.05), (hw - 0.05, d - 0.05)]):
        parts.append(_box(f"table_leg_{i}", "walnut", [lx - 0.025, ly - 0.025, 0], [lx + 0.025, ly + 0.025, 0.4]))
    parts.append(_cyl("vase", "ceramic", [0.2, 0.2, 0.45], [0.32, 0.32, 0.72]))
    parts.append(_box("table_box", "red", [-0.4, 0.15, 0.45], [-0.12, 0.37, 0.52]))
    return w, d, 0.72, parts


def _tv_unit(w=1.6):
    hw = w / 2
    return w, 0.42, 1.25, [
        _box("tv_unit", "walnut", [-hw, 0, 0], [hw, 0.42, 0.5]),
        _box("tv_stand", "metal", [-0.1, 0.12, 0.5], [0.1, 0.22, 0.58]),
        _box("tv_screen", "screen", [-0.62, 0.14, 0.58], [0.62, 0.19, 1.3]),
    ]


def _armchair():
    return 0.85, 0.85, 0.85, [
        _box("armchair_base", "fabric_style", [-0.42, 0, 0], [0.42, 0.85, 0.42]),
        _box("armchair_back", "fabric_style", [-0.42, 0, 0.42], [0.42, 0.2, 0.85]),
        _box("armchair_arm_l", "fabric_style", [-0.42, 0.2, 0.42], [-0.3, 0.85, 0.6]),
        _box("armchair_arm_r", "fabric_style", [0.3, 0.2, 0.42], [0.42, 0.85, 0.6]),
        _box("armchair_cushion", "cushion", [-0.3, 0.22, 0.42], [0.3, 0.83, 0.5]),
    ]


def _floor_lamp():
    return 0.5, 0.5, 1.65, [
        _cyl("lamp_base", "metal", [-0.16, 0.09, 0], [0.16, 0.41, 0.03]),
        _cyl("lamp_pole", "metal", [-0.015, 0.235, 0.03], [0.015, 0.265, 1.4]),
        _cyl("lamp_shade", "lampshade", [-0.22, 0.03, 1.35], [0.22, 0.47, 1.65]),
    ]


def _plant():
    return 0.6, 0.6, 1.3, [
        _cyl("plant_pot", "terracotta", [-0.18, 0.12, 0], [0.18, 0.48, 0.42]),
        _ell("plant_leaves_0", "leaves", [-0.3, 0.0, 0.4], [0.3, 0.6, 1.3]),
        _ell("plant_leaves_1", "leaves", [-0.32, 0.1, 0.82], [0.08, 0.5, 1.38]),
    ]


def _bed(w=1.6, d=2.05, duvet="duvet_blue"):
    hw = w / 2
    return w, d, 1.1, [
        _box("bed_frame", "oak", [-hw, 0, 0], [hw, d, 0.3]),
        _box("bed_headboard", "fabric_style", [-hw - 0.05, 0, 0], [hw + 0.05, 0.08, 1.1]),
        _box("bed_mattress", "bedding", [-hw + 0.03, 0.08, 0.3], [hw - 0.03, d - 0.03, 0.52]),
        _box("bed_duvet", duvet, [-hw + 0.01, 0.7, 0.5], [hw - 0.01, d - 0.01, 0.58]),
        _box("pillow_l", "bedding", [-hw + 0.12, 0.12, 0.52], [-0.05, 0.55, 0.66]),
        _box("pillow_r", "bedding", [0.05, 0.12, 0.52], [hw - 0.12, 0.55, 0.66]),
    ]


def _nightstand(tag):
    return 0.45, 0.4, 0.95, [
        _box(f"nightstand_{tag}", "oak", [-0.22, 0, 0], [0.22, 0.4, 0.5]),
        _cyl(f"bedside_lamp_base_{tag}", "brass", [-0.05, 0.15, 0.5], [0.05, 0.25, 0.7]),
        _cyl(f"bedside_lamp_shade_{tag}", "lampshade", [-0.12, 0.08, 0.7], [0.12, 0.32, 0.92]),
    ]


def _wardrobe(w=1.6):
    hw = w / 2
    return w, 0.62, 2.1, [_box("wardrobe", "cabinet_white", [-hw, 0, 0], [hw, 0.62, 2.1])]


def _rug(w, d, name="rug"):
    return w, d, 0.012, [_box(name, "rug", [-w / 2, 0, 0], [w / 2, d, 0.012])]


def _kitchen_run(w, has_window: bool):
    hw = w / 2
    parts = [
        _box("kitchen_base", "cabinet_green", [-hw, 0, 0], [hw, 0.6, 0.88]),
        _box("countertop", "countertop", [-hw, 0, 0.88], [hw, 0.63, 0.92]),
        _box("sink", "steel", [-0.3, 0.12, 0.915], [0.2, 0.5, 0.925]),
        _box("tap", "steel", [-0.06, 0.04, 0.92], [-0.02, 0.1, 1.2]),
        _box("hob", "metal", [hw - 0.8, 0.06, 0.915], [hw - 0.2, 0.56, 0.93]),
        _box("backsplash", "wall_tiles", [-hw, 0, 0.92], [hw, 0.015, 1.45]),
    ]
    if not has_window:
        parts.append(_box("upper_cabinets", "cabinet_white", [-hw, 0, 1.5], [hw, 0.35, 2.2]))
        parts.append(_box("hood", "steel", [hw - 0.8, 0, 1.45], [hw - 0.2, 0.5, 1.55]))
    return w, 0.63, 2.2 if not has_window else 0.92, parts


def _fridge():
    return 0.7, 0.7, 1.95, [_box("fridge", "steel", [-0.35, 0, 0], [0.35, 0.68, 1.95]),
                            _box("fridge_handle", "metal", [0.25, 0.68, 0.9], [0.28, 0.71, 1.5])]


def _dining(n_chairs=4):
    w = 1.4 if n_chairs <= 4 else 1.8
    d = 0.85
    parts = [_box("dining_top", "oak", [-w / 2, 0.55, 0.72], [w / 2, 0.55 + d, 0.76])]
    for i, (lx, ly) in enumerate([(-w / 2 + 0.05, 0.6), (w / 2 - 0.05, 0.6), (-w / 2 + 0.05, 0.5 + d), (w / 2 - 0.05, 0.5 + d)]):
        parts.append(_box(f"dining_leg_{i}", "oak", [lx - 0.03, ly - 0.03, 0], [lx + 0.03, ly + 0.03, 0.72]))
    xs = np.linspace(-w / 2 + 0.35, w / 2 - 0.35, max(1, n_chairs // 2))
    k = 0
    for side, (y0, back_y) in ((0, (0.12, 0.12)), (1, (0.55 + d + 0.03, 0.55 + d + 0.39))):
        for x in xs:
            yy = y0
            parts.append(_box(f"chair_seat_{k}", "walnut", [x - 0.21, yy, 0.43], [x + 0.21, yy + 0.42, 0.47]))
            parts.append(_box(f"chair_back_{k}", "walnut", [x - 0.21, back_y - 0.02, 0.47] if side else [x - 0.21, yy, 0.47],
                              [x + 0.21, back_y + 0.02, 0.9] if side else [x + 0.21, yy + 0.04, 0.9]))
            for j, (lx, ly) in enumerate([(x - 0.18, yy + 0.03), (x + 0.18, yy + 0.03), (x - 0.18, yy + 0.39), (x + 0.18, yy + 0.39)]):
                parts.append(_box(f"chair_leg_{k}_{j}", "walnut", [lx - 0.02, ly - 0.02, 0], [lx + 0.02, ly + 0.02, 0.43]))
            k += 1
    parts.append(_cyl("fruit_bowl", "ceramic", [-0.15, 0.55 + d / 2 - 0.15, 0.76], [0.15, 0.55 + d / 2 + 0.15, 0.84]))
    return w, 0.55 + d + 0.55, 0.9, parts


def _sideboard():
    return 1.6, 0.45, 0.8, [_box("sideboard", "walnut", [-0.8, 0, 0], [0.8, 0.45, 0.8]),
                            _cyl("sideboard_vase", "ceramic", [0.4, 0.12, 0.8], [0.6, 0.32, 1.1])]


def _bathtub():
    return 1.7, 0.78, 0.58, [_box("bathtub", "porcelain", [-0.85, 0, 0], [0.85, 0.78, 0.58]),
                             _box("bath_water", "duvet_blue", [-0.75, 0.08, 0.5], [0.75, 0.7, 0.52])]


def _toilet():
    return 0.45, 0.7, 0.8, [_box("toilet_tank", "porcelain", [-0.2, 0, 0.35], [0.2, 0.18, 0.8]),
                            _cyl("toilet_bowl", "porcelain", [-0.19, 0.15, 0], [0.19, 0.66, 0.42])]


def _vanity():
    return 0.8, 0.5, 1.9, [_box("vanity", "oak", [-0.4, 0, 0], [0.4, 0.48, 0.82]),
                           _box("basin", "porcelain", [-0.25, 0.06, 0.82], [0.25, 0.42, 0.9]),
                           _box("mirror", "mirror", [-0.35, 0, 1.1], [0.35, 0.02, 1.9])]


def _desk():
    parts = [_box("desk_top", "walnut", [-0.7, 0, 0.72], [0.7, 0.7, 0.76])]
    for i, (lx, ly) in enumerate([(-0.66, 0.04), (0.66, 0.04), (-0.66, 0.66), (0.66, 0.66)]):
        parts.append(_box(f"desk_leg_{i}", "metal", [lx - 0.02, ly - 0.02, 0], [lx + 0.02, ly + 0.02, 0.72]))
    parts += [_box("laptop_base", "metal", [-0.18, 0.2, 0.76], [0.18, 0.45, 0.78]),
              _box("laptop_screen", "screen", [-0.18, 0.17, 0.78], [0.18, 0.2, 1.0]),
              _box("chair_seat", "walnut", [-0.22, 0.85, 0.43], [0.22, 1.27, 0.47]),
              _box("chair_back", "walnut", [-0.22, 1.23, 0.47], [0.22, 1.27, 0.9])]
    for i, (lx, ly) in enumerate([(-0.19, 0.88), (0.19, 0.88), (-0.19, 1.24), (0.19, 1.24)]):
        parts.append(_box(f"chair_leg_{i}", "walnut", [lx - 0.02, ly - 0.02, 0], [lx + 0.02, ly + 0.02, 0.43]))
    return 1.4, 1.3, 1.0, parts


def _bookshelf(rng, w=1.1):
    hw = w / 2
    parts = [_box("shelf_back", "walnut", [-hw, 0, 0], [hw, 0.02, 1.9]),
             _box("shelf_side_l", "walnut", [-hw, 0, 0], [-hw + 0.03, 0.34, 1.9]),
             _box("shelf_side_r", "walnut", [hw - 0.03, 0, 0], [hw, 0.34, 1.9])]
    levels = [0.0, 0.47, 0.94, 1.41, 1.87]
    for i, lz in enumerate(levels):
        parts.append(_box(f"shelf_board_{i}", "walnut", [-hw, 0, lz], [hw, 0.34, lz + 0.03]))
    nb = 0
    for lz in levels[:-1]:
        x = -hw + 0.03 + rng.uniform(0, 0.05)
        end = hw - 0.03 - rng.uniform(0, 0.2)
        while True:
            bw = rng.uniform(0.025, 0.06)
            if x + bw > end:
                break
            bh, bd = rng.uniform(0.2, 0.36), rng.uniform(0.17, 0.26)
            parts.append(_box(f"book_{nb}", "books", [x, 0.02, lz + 0.03], [x + bw, 0.02 + bd, lz + 0.03 + bh]))
            nb += 1
            x += bw + (rng.uniform(0.05, 0.15) if rng.random() < 0.08 else 0.002)
    return w, 0.34, 1.9, parts


def _painting(which="painting", w=1.2, h=0.8):
    return w, 0.03, h, [_box(which, which, [-w / 2, 0, 0], [w / 2, 0.03, h])]


# ---------------------------------------------------------------------------------------------------------------
# Placement
# ---------------------------------------------------------------------------------------------------------------

_NORMALS = {"south": (0.0, 1.0), "north": (0.0, -1.0), "west": (1.0, 0.0), "east": (-1.0, 0.0)}


class _Room:
    """Free floor of one room while furniture is placed (2-D boxes that are taken)."""

    def __init__(self, room: PlacedRoom, plan: Plan, style: str):
        self.r = room
        self.alias = {"fabric_style": f"fabric_{style}"}
        self.taken: list[tuple[np.ndarray, np.ndarray]] = []
        self.wall_taken: list[tuple[str, float, float, float, float]] = []  # (side, t0, t1, z0, z1)
        lo, hi = room.lo, room.hi
        for o in plan.openings:
            if room.name not in o.rooms:
                continue
            olo, ohi = o.lo[:2], o.hi[:2]
            ov = np.minimum(ohi, hi + 0.3) - np.maximum(olo, lo - 0.3)
            if (ov <= 0).any():
                continue
            side = self._side_of(olo, ohi)
            t0, t1 = self._along(side, olo, ohi)
            if o.kind in ("door", "entrance"):
                # keep the floor in front of a door free (1 m deep) and the wall beside it
                a, b = self.local_to_world(side, t0 - 0.15, 0.0), self.local_to_world(side, t1 + 0.15, 1.0)
                self.taken.append((np.minimum(a, b), np.maximum(a, b)))
                self.wall_taken.append((side, t0 - 0.1, t1 + 0.1, 0.0, 9.0))
            else:
                self.wall_taken.append((side, t0 - 0.05, t1 + 0.05, o.lo[2], o.hi[2]))

    def _side_of(self, olo, ohi) -> str:
        lo, hi = self.r.lo, self.r.hi
        c = (olo + ohi) / 2
        d = {"south": abs(c[1] - lo[1]), "north": abs(c[1] - hi[1]), "west": abs(c[0] - lo[0]), "east": abs(c[0] - hi[0])}
        return min(d, key=d.get)

    def wall_point(self, side: str) -> np.ndarray:
        lo, hi = self.r.lo, self.r.hi
        return {"south": np.array([lo[0], lo[1]]), "north": np.array([hi[0], hi[1]]),
                "west": np.array([lo[0], hi[1]]), "east": np.array([hi[0], lo[1]])}[side]

    def wall_length(self, side: str) -> float:
        e = self.r.hi - self.r.lo
        return float(e[0] if side in ("south", "north") else e[1])

    def local_to_world(self, side: str, t: float, y: float) -> np.ndarray:
        n = np.array(_NORMALS[side])
        tan = np.array([n[1], -n[0]])
        return self.wall_point(side) + t * tan + y * n

    def _along(self, side, olo, ohi):
        ts = []
        for p in (olo, ohi):
            q = p - self.wall_point(side)
            n = np.array(_NORMALS[side])
            ts.append(float(q @ np.array([n[1], -n[0]])))
        return min(ts), max(ts)

    def fits(self, lo2, hi2, margin=0.02) -> bool:
        if (lo2 < self.r.lo - 1e-6).any() or (hi2 > self.r.hi + 1e-6).any():
            return False
        for a, b in self.taken:
            if (np.minimum(hi2, b) - np.maximum(lo2, a) > margin).all():
                return False
        return True

    def wall_free(self, side, t0, t1, z0, z1) -> bool:
        for s, a, b, c, d in self.wall_taken:
            if s == side and min(t1, b) > max(t0, a) and min(z1, d) > max(z0, c):
                return False
        return True


def _emit(builder, room: _Room, side: str, t_center: float, parts, y_off: float = 0.0) -> None:
    n = np.array(_NORMALS[side])
    tan = np.array([n[1], -n[0]])
    base = room.wall_point(side)
    for name, mat, kind, lo, hi in parts:
        c1 = base + (t_center + lo[0]) * tan + (lo[1] + y_off) * n
        c2 = base + (t_center + hi[0]) * tan + (hi[1] + y_off) * n
        lo3 = np.array([min(c1[0], c2[0]), min(c1[1], c2[1]), lo[2]])
        hi3 = np.array([max(c1[0], c2[0]), max(c1[1], c2[1]), hi[2]])
        full = f"{room.r.name}/{name}"
        mat = room.alias.get(mat, mat)
        if kind == "box":
            builder.box(full, mat, lo3, hi3)
        elif kind == "cyl":
            c = (lo3 + hi3) / 2
            builder.cylinder(full, mat, c[:2], lo3[2], hi3[2], float(min(hi3[0] - lo3[0], hi3[1] - lo3[1]) / 2))
        else:
            builder.ellipsoid(full, mat, (lo3 + hi3) / 2, (hi3 - lo3) / 2)


def _footprint(room: _Room, side: str, t_center: float, w: float, d: float, y_off: float = 0.0):
    a = room.local_to_world(side, t_center - w / 2, y_off)
    b = room.local_to_world(side, t_center + w / 2, y_off + d)
    return np.minimum(a, b), np.maximum(a, b)


def _place_on_wall(builder, room: _Room, item, sides=None, height=None, prefer="center", y_off=0.0,
                   art_z: float | None = None) -> tuple[str, float] | None:
    """Put ``item`` against the first wall (of ``sides``) where it fits; returns (side, t) or None."""
    w, d, h, parts = item
    h = height if height is not None else h
    sides = sides or sorted(_NORMALS, key=lambda s: -room.wall_length(s))
    for side in sides:
        L = room.wall_length(side)
        if w > L - 0.1:
            continue
        ts = np.arange(w / 2 + 0.05, L - w / 2 - 0.05 + 1e-9, 0.1)
        if len(ts) == 0:
            continue
        if prefer == "center":
            ts = sorted(ts, key=lambda t: abs(t - L / 2))
        elif prefer == "end":
            ts = sorted(ts, key=lambda t: -t)
        for t in ts:
            z0, z1 = (art_z, art_z + h) if art_z is not None else (0.0, h)
            if not room.wall_free(side, t - w / 2, t + w / 2, z0, z1):
                continue
            if art_z is None:
                lo2, hi2 = _footprint(room, side, t, w, d, y_off)
                if not room.fits(lo2, hi2):
                    continue
                room.taken.append((lo2, hi2))
            room.wall_taken.append((side, t - w / 2, t + w / 2, z0, z1))
            if art_z is not None:
                parts = [(nm, mat, k, lo + np.array([0, 0, art_z]), hi + np.array([0, 0, art_z])) for nm, mat, k, lo, hi in parts]
            _emit(builder, room, side, t, parts, y_off)
            return side, float(t)
    return None


def _opposite(side: str) -> str:
    return {"south": "north", "north": "south", "west": "east", "east": "west"}[side]


def furnish(builder, plan: Plan, spec: SceneSpec, rng: np.random.Generator) -> list[str]:
    """Place every room's furniture; returns notes for what did not fit."""
    notes = []
    for pr in plan.rooms:
        if pr.type == "hallway":
            continue
        room = _Room(pr, plan, spec.style)
        wanted = list(vocab.ROOM_TYPES[pr.type]["furniture"])
        if pr.type == "studio":
            wanted = ["kitchen_run", "fridge", "bed", "sofa", "rug", "plant", "painting"]
        missing = []

        def need(name, ok):
            if not ok:
                missing.append(name)

        interior_walls = [s for s in _NORMALS if s not in pr.exterior]
        if "kitchen_run" in wanted:
            # the west end wall (or the longest wall without a window at counter height)
            for side in sorted(_NORMALS, key=lambda s: (s != "west", -room.wall_length(s))):
                L = room.wall_length(side)
                w = min(3.2, L - 0.9)
                has_window = not room.wall_free(side, 0.0, L, 0.0, 2.2)
                item = _kitchen_run(w, has_window)
                got = _place_on_wall(builder, room, item, sides=[side], height=0.92 if has_window else 2.2, prefer="start")
                if got:
                    break
            need("kitchen counters", got)
            if "fridge" in wanted and got:
                side, t = got
                ok = False
                for tt in (t + w / 2 + 0.4, t - w / 2 - 0.4):
                    lo2, hi2 = _footprint(room, side, tt, 0.7, 0.7)
                    if room.fits(lo2, hi2) and room.wall_free(side, tt - 0.35, tt + 0.35, 0, 1.95):
                        room.taken.append((lo2, hi2))
                        _emit(builder, room, side, tt, _fridge()[3])
                        ok = True
                        break
                ok = ok or bool(_place_on_wall(builder, room, _fridge()))
                need("fridge", ok)
        if "sofa" in wanted:
            sw = min(2.2, room.wall_length("north") - 1.0, 2.4)
            sofa = _sofa(max(1.4, sw))
            sides = sorted(interior_walls or list(_NORMALS), key=lambda s: -room.wall_length(s))
            got = _place_on_wall(builder, room, sofa, sides=sides + [s for s in _NORMALS if s not in sides], prefer="end")
            need("sofa", got)
            if got:
                side, t = got
                table = _coffee_table()
                lo2, hi2 = _footprint(room, side, t, table[0], table[1], sofa[1] + 0.45)
                if room.fits(lo2, hi2):
                    room.taken.append((lo2, hi2))
                    _emit(builder, room, side, t, table[3], y_off=sofa[1] + 0.45)
                else:
                    need("coffee table", False)
                rug = _rug(sofa[0] + 0.6, 2.3)
                _emit(builder, room, side, t, rug[3], y_off=0.3)
                opp = _opposite(side)
                tv = _tv_unit()
                if "tv_unit" in wanted:
                    t_opp = room.wall_length(opp) - t
                    lo2, hi2 = _footprint(room, opp, t_opp, tv[0], tv[1])
                    if room.fits(lo2, hi2) and room.wall_free(opp, t_opp - 0.8, t_opp + 0.8, 0, 1.3):
                        room.taken.append((lo2, hi2))
                        _emit(builder, room, opp, t_opp, tv[3])
                    else:
                        need("tv unit", _place_on_wall(builder, room, tv))
        if "bed" in wanted:
            bw = 1.6 if float(np.prod(pr.hi - pr.lo)) >= 10 or pr.type == "studio" else 1.4
            duvet = "duvet_blue" if rng.random() < 0.5 else "duvet_ochre"
            bed = _bed(bw, duvet=duvet)
            # a bed and its nightstands: the whole group must fit
            group_w = bw + 1.0
            sides = sorted(_NORMALS, key=lambda s: (s in pr.exterior, -room.wall_length(s)))
            got = None
            for side in sides:
                L = room.wall_length(side)
                for t in sorted(np.arange(group_w / 2 + 0.05, L - group_w / 2 + 1e-9, 0.1), key=lambda t: abs(t - L / 2)):
                    lo2, hi2 = _footprint(room, side, t, group_w, bed[1])
                    if room.fits(lo2, hi2) and room.wall_free(side, t - group_w / 2, t + group_w / 2, 0, 1.1):
                        got = (side, t)
                        break
                if got:
                    break
            if got is None:  # no room for nightstands: the bed alone
                got = _place_on_wall(builder, room, bed, sides=sides)
                need("nightstands", False)
            else:
                side, t = got
                room.taken.append(_footprint(room, side, t, group_w, bed[1]))
                room.wall_taken.append((side, t - group_w / 2, t + group_w / 2, 0, 1.1))
                _emit(builder, room, side, t, bed[3])
                _emit(builder, room, side, t - bw / 2 - 0.27, _nightstand("l")[3])
                _emit(builder, room, side, t + bw / 2 + 0.27, _nightstand("r")[3])
                _emit(builder, room, side, t, _rug(bw + 0.9, 1.6, "bed_rug")[3], y_off=1.0)
            need("bed", got)
        if "wardrobe" in wanted:
            need("wardrobe", _place_on_wall(builder, room, _wardrobe(min(1.6, room.wall_length("south") - 1.4)), prefer="end"))
        if "dining_table" in wanted:
            need("dining table", _place_free(builder, room, _dining(4)))
        if "sideboard" in wanted:
            need("sideboard", _place_on_wall(builder, room, _sideboard()))
        if "armchair" in wanted:
            need("armchair", _place_on_wall(builder, room, _armchair(), prefer="start"))
        if "bathtub" in wanted:
            need("bathtub", _place_on_wall(builder, room, _bathtub(), prefer="start"))
        if "toilet" in wanted:
            need("toilet", _place_on_wall(builder, room, _toilet(), prefer="end"))
        if "vanity" in wanted:
            need("vanity", _place_on_wall(builder, room, _vanity(), height=1.9))
        if "desk" in wanted:
            need("desk", _place_on_wall(builder, room, _desk(), sides=sorted(_NORMALS, key=lambda s: (s not in pr.exterior, -room.wall_length(s)))))
        if "bookshelf" in wanted:
            need("bookshelf", _place_on_wall(builder, room, _bookshelf(rng), prefer="end"))
        if "floor_lamp" in wanted:
            need("floor lamp", _place_on_wall(builder, room, _floor_lamp(), prefer="start"))
        if "plant" in wanted:
            need("plant", _place_on_wall(builder, room, _plant(), prefer="end"))
        if "painting" in wanted:
            art = _painting("painting" if rng.random() < 0.6 else "poster", 1.1, 0.75)
            need("painting", _place_on_wall(builder, room, art, art_z=1.25, sides=sorted(interior_walls, key=lambda s: -room.wall_length(s)) or None))
        if missing:
            notes.append(f"{pr.name}: no room for the " + ", ".join(missing))
    return notes


def _place_free(builder, room: _Room, item) -> bool:
    """A free-standing item (dining set): the free spot farthest from what is already placed."""
    w, d, h, parts = item
    lo, hi = room.r.lo, room.r.hi
    best, best_score = None, -1.0
    for x in np.arange(lo[0] + w / 2 + 0.3, hi[0] - w / 2 - 0.3 + 1e-9, 0.1):
        for y in np.arange(lo[1] + 0.3, hi[1] - d - 0.3 + 1e-9, 0.1):
            lo2, hi2 = np.array([x - w / 2, y]), np.array([x + w / 2, y + d])
            if not room.fits(lo2, hi2, margin=0.0):
                continue
            c = (lo2 + hi2) / 2
            score = min([float(np.linalg.norm(np.maximum(0, np.maximum(a - c, c - b)))) for a, b in room.taken] + [9.0])
            if score > best_score:
                best, best_score = (x, y), score
    if best is None:
        return False
    x, y = best
    room.taken.append((np.array([x - w / 2, y]), np.array([x + w / 2, y + d])))
    # local frame of the south wall: t along +x from the room's west end, y north from the south wall
    _emit(builder, room, "south", x - lo[0], parts, y_off=y - lo[1])
    return True


# ---------------------------------------------------------------------------------------------------------------
# Shell: walls with openings, floors, ceiling, window frames, lights
# ---------------------------------------------------------------------------------------------------------------


def _shell(builder, plan: Plan, spec: SceneSpec) -> None:
    h = plan.height
    interiors = [(r.lo, r.hi) for r in plan.rooms]
    outer = [(r.lo - T_EXT, r.hi + T_EXT) for r in plan.rooms]
    # the grid: every edge of every interior, wall band, opening, and the mid-lines of interior walls
    xs, ys = set(), set()
    for a, b in interiors + outer:
        xs.update([round(a[0], 4), round(b[0], 4)])
        ys.update([round(a[1], 4), round(b[1], 4)])
    for a, b in interiors:
        for a2, b2 in interiors:
            if 0 < a2[0] - b[0] <= T_EXT + 1e-6:
                xs.add(round((a2[0] + b[0]) / 2, 4))
            if 0 < a2[1] - b[1] <= T_EXT + 1e-6:
                ys.add(round((a2[1] + b[1]) / 2, 4))
    for o in plan.openings:
        if o.kind == "entrance":
            continue
        xs.update([round(o.lo[0], 4), round(o.hi[0], 4)])
        ys.update([round(o.lo[1], 4), round(o.hi[1], 4)])
    xs, ys = np.array(sorted(xs)), np.array(sorted(ys))
    xc, yc = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2

    def inside(c, boxes):
        return [k for k, (a, b) in enumerate(boxes) if a[0] < c[0] < b[0] and a[1] < c[1] < b[1]]

    # each wall cell: solid z intervals and paint (the nearest room's)
    cells: dict[tuple[int, int], tuple[tuple[tuple[float, float], ...], str]] = {}
    for i, x in enumerate(xc):
        for j, y in enumerate(yc):
            c = np.array([x, y])
            if inside(c, interiors) or not inside(c, outer):
                continue
            solid = [(-0.1, h)]
            for o in plan.openings:
                if o.kind == "entrance":
                    continue
                if o.lo[0] < x < o.hi[0] and o.lo[1] < y < o.hi[1]:
                    if o.kind == "door":
                        solid = [(-0.1, 0.0), (o.hi[2], h)]
                    else:
                        solid = [(-0.1, o.lo[2]), (o.hi[2], h)]
            dist = [float(np.linalg.norm(np.maximum(0, np.maximum(r.lo - c, c - r.hi)))) for r in plan.rooms]
            near = plan.rooms[int(np.argmin(dist))]
            paint = "wall_tiles" if near.type == "bathroom" else f"paint_{near.wall}"
            cells[(i, j)] = (tuple(solid), paint)
    # merge runs along x
    for j in range(len(yc)):
        i = 0
        while i < len(xc):
            if (i, j) not in cells:
                i += 1
                continue
            key = cells[(i, j)]
            k = i
            while (k + 1, j) in cells and cells[(k + 1, j)] == key:
                k += 1
            solid, paint = key
            for z0, z1 in solid:
                if z1 - z0 < 1e-3:
                    continue
                mat = "white_trim" if z1 <= 0.0 else paint
                builder.box(f"wall_{i}_{j}_{z0:.2f}", mat, [xs[i], ys[j], z0], [xs[k + 1], ys[j + 1], z1])
            i = k + 1
    for r in plan.rooms:
        builder.box(f"{r.name}/floor", r.floor, [r.lo[0], r.lo[1], -0.1], [r.hi[0], r.hi[1], 0.0])
        builder.box(f"{r.name}/ceiling", "ceiling", [r.lo[0], r.lo[1], h], [r.hi[0], r.hi[1], h + 0.12])
        # baseboards along walls (not across doors: they are cut by the door cells' thresholds visually)
        c = (r.lo + r.hi) / 2
        builder.cylinder(f"{r.name}/ceiling_fixture", "fixture", c, h - 0.05, h, 0.2)
    # window frames: a frame inside each opening and a sill
    for k, o in enumerate(plan.openings):
        if o.kind != "window":
            continue
        lo, hi = o.lo.copy(), o.hi.copy()
        thin = 0 if (hi - lo)[0] < (hi - lo)[1] else 1  # axis across the wall
        mid = (lo[thin] + hi[thin]) / 2
        f = 0.05
        a = lo.copy(); b = hi.copy(); a[thin], b[thin] = mid - 0.03, mid + 0.03
        along = 1 - thin
        for nm, (p0, p1) in {"l": ((a[along], a[2]), (a[along] + f, b[2])), "r": ((b[along] - f, a[2]), (b[along], b[2])),
                             "b": ((a[along], a[2]), (b[along], a[2] + f)), "t": ((a[along], b[2] - f), (b[along], b[2]))}.items():
            lo3, hi3 = a.copy(), b.copy()
            lo3[along], lo3[2] = p0
            hi3[along], hi3[2] = p1
            builder.box(f"window_frame_{nm}_{k}", "white_trim", lo3, hi3)
        m = (a[along] + b[along]) / 2
        lo3, hi3 = a.copy(), b.copy()
        lo3[along], hi3[along] = m - 0.02, m + 0.02
        builder.box(f"window_mullion_{k}", "white_trim", lo3, hi3)
        # the sill on the room side
        room = plan.room(o.rooms[0])
        inward = 1.0 if (room.lo[thin] + room.hi[thin]) / 2 > mid else -1.0
        s0 = lo.copy(); s1 = hi.copy()
        s0[2], s1[2] = lo[2] - 0.04, lo[2] + 0.005
        edge = hi[thin] if inward > 0 else lo[thin]
        s0[thin], s1[thin] = sorted([edge - inward * 0.01, edge + inward * 0.08])
        s0[along] -= 0.08
        s1[along] += 0.08
        if lo[2] > 0.1:
            builder.box(f"window_sill_{k}", "white_trim", s0, s1)
    # the entrance: a closed panelled door on the corridor's end wall
    for o in plan.openings:
        if o.kind != "entrance":
            continue
        room = plan.room(o.rooms[0])
        lo, hi = o.lo.copy(), o.hi.copy()
        thin = 0 if (hi - lo)[0] < (hi - lo)[1] else 1
        inside_face = room.lo[thin] if abs(room.lo[thin] - hi[thin]) < abs(room.hi[thin] - lo[thin]) else room.hi[thin]
        sgn = 1.0 if inside_face == room.lo[thin] else -1.0
        d0, d1 = lo.copy(), hi.copy()
        d0[thin], d1[thin] = sorted([inside_face, inside_face + sgn * 0.04])
        d1[2] = 2.05
        builder.box("entrance_door", "door", d0, d1)
        h0, h1 = d0.copy(), d1.copy()
        h0[thin], h1[thin] = sorted([inside_face + sgn * 0.04, inside_face + sgn * 0.08])
        h0[1 - thin], h1[1 - thin] = d1[1 - thin] - 0.2, d1[1 - thin] - 0.08
        h0[2], h1[2] = 1.0, 1.04
        builder.box("entrance_handle", "brass", h0, h1)


def _sun(spec: SceneSpec) -> tuple[np.ndarray, np.ndarray]:
    t = vocab.TIMES[spec.time_of_day]
    side = spec.window_sides[0] if spec.window_sides else "south"
    az = math.atan2(vocab.DIRECTIONS[side][1], vocab.DIRECTIONS[side][0])  # the sun shines in through these windows
    az += math.radians(t["azimuth_offset"]) * 0.5
    el = math.radians(t["elevation"])
    d = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    return d / np.linalg.norm(d), np.array(t["color"], dtype=float)


def build_scene(spec: SceneSpec, plan: Plan | None = None) -> tuple[SynthScene, Plan]:
    """The furnished mesh of ``spec`` (and the plan it was built on; its notes say what did not fit)."""
    materials = prior_materials()
    plan = plan or make_plan(spec)
    rng = np.random.default_rng(spec.seed)
    b = SceneBuilder(materials)
    _shell(b, plan, spec)
    plan.notes.extend(furnish(b, plan, spec, rng))
    mesh, face_part = b.build()
    sun_dir, sun_color = _sun(spec)
    h = plan.height
    lights = []
    for r in plan.rooms:
        c = (r.lo + r.hi) / 2
        area = float(np.prod(r.hi - r.lo))
        power = np.array([2.6, 2.4, 2.1]) * max(0.7, min(2.0, area / 16.0)) * (h / 2.6) ** 2
        lights.append((np.array([c[0], c[1], h - 0.2]), power, r.box(h)))
    aabb = plan.aabb
    return SynthScene(
        mesh=mesh, face_part=face_part, parts=b.parts, room_min=aabb[0], room_max=aabb[1], sun_dir=sun_dir,
        sun_color=sun_color, point_lights=lights, ambient=np.array([0.42, 0.44, 0.48]), seed=int(spec.seed),
        rooms=np.stack([r.box(h) for r in plan.rooms]), materials=materials,
    ), plan
