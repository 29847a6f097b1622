"""Architects' models built in the tests: a two-room flat (walls with a door and open window holes, floor and
ceiling slabs, furniture) in any unit, optionally on a large ground plane."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

# the flat in metres: two rooms side by side, 5 x 4 m and 4 x 4 m, clear height 2.7 m
ROOMS = {"left": ((0.0, 0.0), (5.0, 4.0)), "right": ((5.15, 0.0), (9.15, 4.0))}
T, H = 0.15, 2.7


def _box(lo, hi):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return trimesh.creation.box(extents=hi - lo, transform=trimesh.transformations.translation_matrix((lo + hi) / 2))


def _wall_x(x0, x1, y, holes=()):
    """A wall along x at y (thickness T), from the floor to H, with (x0, x1, z0, z1) holes."""
    out, xs = [], [x0]
    for hx0, hx1, hz0, hz1 in sorted(holes):
        out.append(_box([xs[-1], y, 0], [hx0, y + T, H]))
        out.append(_box([hx0, y, 0], [hx1, y + T, hz0]) if hz0 > 0 else None)
        out.append(_box([hx0, y, hz1], [hx1, y + T, H]))
        xs.append(hx1)
    out.append(_box([xs[-1], y, 0], [x1, y + T, H]))
    return [m for m in out if m is not None]


def _wall_y(y0, y1, x, holes=()):
    """A wall along y at x (thickness T): the wall along x, mirrored across the diagonal and moved to x."""
    swap = np.array([[0.0, 1, 0, x], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    out = []
    for m in _wall_x(y0, y1, 0.0, holes):
        m.apply_transform(swap)  # a reflection: trimesh flips the windings back so normals stay outward
        out.append(m)
    return out


def flat_parts():
    """{name: (mesh, rgb 0..1)} of the flat in metres, +Z up."""
    x_end = ROOMS["right"][1][0]
    parts = {
        "floor": ([_box([-T, -T, -0.2], [x_end + T, 4 + T, 0])], (0.62, 0.45, 0.30)),
        "ceiling": ([_box([-T, -T, H], [x_end + T, 4 + T, H + 0.2])], (0.92, 0.92, 0.90)),
        "walls_south": (_wall_x(-T, x_end + T, -T, [(1.5, 3.0, 0.9, 2.1), (6.5, 8.0, 0.9, 2.1)]), (0.85, 0.80, 0.70)),
        "walls_north": (_wall_x(-T, x_end + T, 4.0, [(2.0, 3.2, 0.9, 2.1)]), (0.85, 0.80, 0.70)),
        "walls_ends": (_wall_y(0, 4, -T) + _wall_y(0, 4, x_end), (0.85, 0.80, 0.70)),
        "partition": (_wall_y(0, 4, 5.0, [(1.6, 2.5, 0.0, 2.1)]), (0.40, 0.55, 0.75)),
        "sofa": ([_box([0.5, 2.8, 0], [2.5, 3.7, 0.8])], (0.70, 0.20, 0.20)),
        "bed": ([_box([6.5, 2.0, 0], [8.5, 3.8, 0.5])], (0.25, 0.45, 0.30)),
    }
    return {k: (trimesh.util.concatenate(v), c) for k, (v, c) in parts.items()}


def ground_plane(size=200.0):
    g = trimesh.Trimesh([[-size / 2, -size / 2, -0.2], [size / 2, -size / 2, -0.2], [size / 2, size / 2, -0.2],
                         [-size / 2, size / 2, -0.2]], [[0, 1, 2], [0, 2, 3]], process=False)
    return g, (0.35, 0.55, 0.25)


def write_obj(folder, parts: dict, scale: float = 1.0, y_up: bool = True, name="flat") -> Path:
    """An OBJ + MTL (one material per part with only a Kd colour); scaled by ``scale`` (1000: millimetres)."""
    folder = Path(folder)
    obj, mtl, off = [f"mtllib {name}.mtl"], [], 1
    for pname, (mesh, rgb) in parts.items():
        v = np.asarray(mesh.vertices) * scale
        if y_up:  # OBJ convention: +Y up (a rotation about x: the windings stay as they are)
            v = v[:, [0, 2, 1]] * [1, 1, -1]
        obj.append(f"o {pname}")
        obj.append(f"usemtl mat_{pname}")
        obj += [f"v {a:.6f} {b:.6f} {c:.6f}" for a, b, c in v]
        faces = np.asarray(mesh.faces)
        obj += [f"f {a + off} {b + off} {c + off}" for a, b, c in faces]
        off += len(v)
        mtl += [f"newmtl mat_{pname}", f"Kd {rgb[0]:.4f} {rgb[1]:.4f} {rgb[2]:.4f}", ""]
    (folder / f"{name}.obj").write_text("\n".join(obj) + "\n")
    (folder / f"{name}.mtl").write_text("\n".join(mtl) + "\n")
    return folder / f"{name}.obj"
