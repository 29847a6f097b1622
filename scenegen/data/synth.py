"""Synthetic posed datasets from a procedurally textured mesh (used by ``scenegen demo``).

The pipeline is::

    scene = make_demo_scene()                        # furnished room, metric, world up = +Z
    cams = default_demo_cameras(scene, 100, 160, 120) # free-space cameras looking around
    rgb, depth = render_views(scene, cams)           # Open3D ray casting + procedural shading
    synthesize_dataset(scene, "out/")                 # nerfstudio-format folder

Conventions
-----------
* **World**: metres, right-handed, **+Z is up**. The room interior spans
  ``x in [-2.5, 2.5]``, ``y in [-2, 2]``, ``z in [0, 2.6]`` (floor at z = 0, ceiling at z = 2.6).
* **Cameras**: :class:`~scenegen.cameras.cameras.Cameras`, OpenGL camera-to-world (camera looks down -Z,
  +Y up, +X right); rays go through pixel centres (exactly the rays of :meth:`Cameras.camera_rays`).
* **Depth**: *z-depth* in metres, i.e. the distance of the hit point along the camera's optical axis
  (``t_hit * dot(ray_dir, -camera_z)``), as nerfstudio expects. Pixels whose ray escapes the room (sky seen
  through the window) have depth 0 = "no depth".
* **On disk** (:func:`synthesize_dataset`): depth maps are 16-bit PNGs in millimetres (0 = no depth;
  nerfstudio's default ``depth_unit_scale_factor = 1e-3``).

Textures are procedural functions of the 3D hit point (and of the part that was hit), so no UV maps are
needed. Shading is deterministic and view independent (fixed sample patterns for soft shadows and ambient
occlusion), so a radiance field can reproduce it exactly.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import trimesh

from scenegen.core.io import publish
from scenegen.cameras.cameras import Cameras
from scenegen.data._o3d import import_open3d

__all__ = [
    "MATERIALS",
    "Part",
    "SynthScene",
    "cameras_from_c2w",
    "default_demo_cameras",
    "demo_tour_path_c2w",
    "free_space_mask",
    "import_open3d",
    "look_at_c2w",
    "make_demo_scene",
    "make_two_room_scene",
    "render_views",
    "synthesize_dataset",
]

WORLD_UP = np.array([0.0, 0.0, 1.0])
ROOM_MIN = np.array([-2.5, -2.0, 0.0])
ROOM_MAX = np.array([2.5, 2.0, 2.6])

MATERIALS: list[str] = [
    "oak_floor",
    "wall_warm",
    "wall_sage",
    "wall_rose",
    "ceiling",
    "rug",
    "fabric",
    "cushion",
    "painting",
    "poster",
    "walnut",
    "books",
    "metal",
    "brass",
    "lampshade",
    "fixture",
    "door",
    "white_trim",
    "leaves",
    "terracotta",
    "ceramic",
    "red",
]
_MAT = {name: i for i, name in enumerate(MATERIALS)}


def register_material(name: str, texture: Callable, emission=None) -> int:
    """Add a material (or return the index of one already there). ``texture(p, n, part, scene)`` returns the
    linear albedo (M, 3) of hit points p (M, 3) with normals n on parts ``part`` (M,); ``emission`` is a linear
    RGB (3,) glow. Materials are looked up by name, so a scene's parts must be built after registration."""
    if name in _MAT:
        return _MAT[name]
    MATERIALS.append(name)
    _MAT[name] = len(MATERIALS) - 1
    _TEXTURES[name] = texture
    if emission is not None:
        _EMISSION[name] = np.asarray(emission, dtype=np.float64)
    return _MAT[name]


# ----------------------------------------------------------------------------------------------------------
# Scene description
# ----------------------------------------------------------------------------------------------------------


@dataclass
class Part:
    """One primitive of the scene.

    Attributes:
        name: e.g. ``"sofa_seat"``.
        material: index into :data:`MATERIALS`.
        bounds: (2, 3) axis-aligned bounds in metres (used for planar texture coordinates).
    """

    name: str
    material: int
    bounds: np.ndarray


@dataclass
class SynthScene:
    """A triangle mesh with per-face parts/materials and the lights used for shading.

    Attributes:
        mesh: the whole scene as one :class:`trimesh.Trimesh` (metres, +Z up).
        face_part: (F,) int32 index into ``parts`` for every face of ``mesh``.
        parts: the primitives the mesh was built from.
        room_min, room_max: (3,) interior bounds of the room in metres.
        sun_dir: (3,) unit vector pointing *towards* the sun.
        sun_color: (3,) linear RGB irradiance of the sun.
        point_lights: list of ``(position (3,), linear RGB intensity (3,))`` or ``(position, intensity, region)``
            where region (2, 3) is the box of points the light reaches (its room): irradiance falls off as 1/d^2.
        rooms: optional (K, 2, 3) interior boxes of the rooms (free space for cameras lies inside one of them);
            None means the whole ``room_min``/``room_max`` box.
        vertex_colors: optional (V, 3) linear albedo per mesh vertex, used for parts of material "mesh_color"
            (an imported model's own colours), interpolated across each triangle.
        ambient: (3,) linear RGB ambient irradiance (scaled by ambient occlusion).
        seed: seed of the procedural textures and of the furniture details.
    """

    mesh: trimesh.Trimesh
    face_part: np.ndarray
    parts: list[Part]
    room_min: np.ndarray
    room_max: np.ndarray
    sun_dir: np.ndarray
    sun_color: np.ndarray
    point_lights: list[tuple[np.ndarray, np.ndarray]]
    ambient: np.ndarray
    seed: int = 0
    rooms: np.ndarray | None = None
    vertex_colors: np.ndarray | None = None
    _raycaster: object = field(default=None, repr=False, compare=False)

    @property
    def materials(self) -> tuple[str, ...]:
        return tuple(MATERIALS)

    @property
    def room_boxes(self) -> np.ndarray:
        """(K, 2, 3) interior boxes of the rooms (one box, the whole interior, when none are given)."""
        if self.rooms is not None and len(self.rooms):
            return np.asarray(self.rooms, dtype=np.float64).reshape(-1, 2, 3)
        return self.aabb[None]

    @property
    def part_material(self) -> np.ndarray:
        """(P,) int32 material index of every part."""
        return np.array([p.material for p in self.parts], dtype=np.int32)

    @property
    def part_bounds(self) -> np.ndarray:
        """(P, 2, 3) float64 bounds of every part."""
        return np.stack([p.bounds for p in self.parts])

    @property
    def face_material(self) -> np.ndarray:
        """(F,) int32 material index of every face."""
        return self.part_material[self.face_part]

    @property
    def aabb(self) -> np.ndarray:
        """(2, 3) interior bounds of the room in metres: ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]``."""
        return np.stack([self.room_min, self.room_max]).astype(np.float64)

    def part_index(self, name: str) -> int:
        for i, p in enumerate(self.parts):
            if p.name == name:
                return i
        raise KeyError(name)

    def raycaster(self):
        """The (cached) ``open3d.t.geometry.RaycastingScene`` of :attr:`mesh`."""
        if self._raycaster is None:
            o3d = import_open3d()
            tmesh = o3d.t.geometry.TriangleMesh()
            tmesh.vertex.positions = o3d.core.Tensor(np.ascontiguousarray(self.mesh.vertices, dtype=np.float32))
            tmesh.triangle.indices = o3d.core.Tensor(np.ascontiguousarray(self.mesh.faces, dtype=np.int32))
            rc = o3d.t.geometry.RaycastingScene()
            rc.add_triangles(tmesh)
            self._raycaster = rc
        return self._raycaster


class _Builder:
    """Collects primitives (each a closed trimesh) with their material."""

    def __init__(self) -> None:
        self.meshes: list[trimesh.Trimesh] = []
        self.parts: list[Part] = []

    def add(self, name: str, material: str, mesh: trimesh.Trimesh) -> None:
        self.meshes.append(mesh)
        self.parts.append(Part(name, _MAT[material], np.asarray(mesh.bounds, dtype=np.float64).copy()))

    def box(self, name: str, material: str, lo, hi) -> None:
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        m = trimesh.creation.box(extents=hi - lo, transform=trimesh.transformations.translation_matrix((lo + hi) / 2))
        self.add(name, material, m)

    def cylinder(self, name: str, material: str, xy, z0: float, z1: float, radius: float, sections: int = 24) -> None:
        m = trimesh.creation.cylinder(
            radius=radius,
            height=z1 - z0,
            sections=sections,
            transform=trimesh.transformations.translation_matrix([xy[0], xy[1], (z0 + z1) / 2]),
        )
        self.add(name, material, m)

    def ellipsoid(self, name: str, material: str, center, radii, subdivisions: int = 2) -> None:
        m = trimesh.creation.icosphere(subdivisions=subdivisions)
        m.apply_scale(radii)
        m.apply_translation(center)
        self.add(name, material, m)

    def build(self) -> tuple[trimesh.Trimesh, np.ndarray]:
        verts, faces, face_part = [], [], []
        offset = 0
        for i, m in enumerate(self.meshes):
            verts.append(np.asarray(m.vertices))
            faces.append(np.asarray(m.faces) + offset)
            face_part.append(np.full(len(m.faces), i, dtype=np.int32))
            offset += len(m.vertices)
        mesh = trimesh.Trimesh(np.concatenate(verts), np.concatenate(faces), process=False)
        return mesh, np.concatenate(face_part)


def make_demo_scene(seed: int = 0) -> SynthScene:
    """A small furnished living room, about 5 x 4 x 2.6 m, in metres with **world up = +Z**.

    Layout (interior ``x in [-2.5, 2.5]``, ``y in [-2, 2]``, ``z in [0, 2.6]``):

    * south wall (y = -2): window opening ``x in [-0.8, 0.8], z in [0.9, 2.1]`` with a cross frame and a sill;
      the sun shines through it onto the floor; a desk with a laptop and a chair west of the window.
    * north wall (y = +2, sage green): sofa with cushions, a colourful abstract painting above it.
    * west wall (x = -2.5, rose): a closed panelled door with a brass handle, a floor lamp in the corner.
    * east wall (x = +2.5): bookshelf full of books, a sunset poster, a potted plant in the corner.
    * centre: patterned rug, coffee table with a vase and a box; a ceiling light.

    Every primitive is a closed (watertight) box, cylinder or ellipsoid. ``seed`` varies the books and the
    texture noise; the layout is fixed.
    """
    rng = np.random.default_rng(seed)
    b = _Builder()
    x0, y0, z0 = ROOM_MIN
    x1, y1, z1 = ROOM_MAX
    t = 0.1  # wall thickness (outside the interior)

    # --- shell -------------------------------------------------------------------------------------------
    b.box("floor", "oak_floor", [x0 - t, y0 - t, -t], [x1 + t, y1 + t, 0.0])
    b.box("ceiling", "ceiling", [x0 - t, y0 - t, z1], [x1 + t, y1 + t, z1 + t])
    b.box("wall_north", "wall_sage", [x0 - t, y1, 0.0], [x1 + t, y1 + t, z1])
    b.box("wall_west", "wall_rose", [x0 - t, y0, 0.0], [x0, y1, z1])
    b.box("wall_east", "wall_warm", [x1, y0, 0.0], [x1 + t, y1, z1])
    wx0, wx1, wz0, wz1 = -0.8, 0.8, 0.9, 2.1  # window opening in the south wall
    b.box("wall_south_left", "wall_warm", [x0 - t, y0 - t, 0.0], [wx0, y0, z1])
    b.box("wall_south_right", "wall_warm", [wx1, y0 - t, 0.0], [x1 + t, y0, z1])
    b.box("wall_south_below", "wall_warm", [wx0, y0 - t, 0.0], [wx1, y0, wz0])
    b.box("wall_south_above", "wall_warm", [wx0, y0 - t, wz1], [wx1, y0, z1])
    f = 0.05
    b.box("window_frame_l", "white_trim", [wx0, y0 - 0.07, wz0], [wx0 + f, y0 - 0.03, wz1])
    b.box("window_frame_r", "white_trim", [wx1 - f, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz1])
    b.box("window_frame_b", "white_trim", [wx0, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz0 + f])
    b.box("window_frame_t", "white_trim", [wx0, y0 - 0.07, wz1 - f], [wx1, y0 - 0.03, wz1])
    b.box("window_mullion", "white_trim", [-0.02, y0 - 0.07, wz0], [0.02, y0 - 0.03, wz1])
    b.box("window_transom", "white_trim", [wx0, y0 - 0.07, 1.52], [wx1, y0 - 0.03, 1.56])
    b.box("window_sill", "white_trim", [wx0 - 0.1, y0 - 0.03, wz0 - 0.04], [wx1 + 0.1, y0 + 0.08, wz0])

    # --- baseboards -----------------------------------------------------------------------------------------
    bb, bt = 0.08, 0.015
    b.box("baseboard_n", "white_trim", [x0, y1 - bt, 0.0], [x1, y1, bb])
    b.box("baseboard_s", "white_trim", [x0, y0, 0.0], [x1, y0 + bt, bb])
    b.box("baseboard_e", "white_trim", [x1 - bt, y0, 0.0], [x1, y1, bb])
    b.box("baseboard_w1", "white_trim", [x0, y0, 0.0], [x0 + bt, 0.13, bb])
    b.box("baseboard_w2", "white_trim", [x0, 1.17, 0.0], [x0 + bt, y1, bb])

    # --- door on the west wall ------------------------------------------------------------------------------
    b.box("door", "door", [x0, 0.2, 0.0], [x0 + 0.04, 1.1, 2.05])
    b.box("door_casing_l", "white_trim", [x0, 0.13, 0.0], [x0 + 0.02, 0.2, 2.12])
    b.box("door_casing_r", "white_trim", [x0, 1.1, 0.0], [x0 + 0.02, 1.17, 2.12])
    b.box("door_casing_t", "white_trim", [x0, 0.13, 2.05], [x0 + 0.02, 1.17, 2.12])
    b.box("door_handle", "brass", [x0 + 0.04, 0.92, 1.0], [x0 + 0.08, 1.04, 1.04])

    # --- sofa against the north wall ------------------------------------------------------------------------
    b.box("sofa_base", "fabric", [-1.1, 1.08, 0.0], [1.1, 1.98, 0.40])
    b.box("sofa_back", "fabric", [-1.1, 1.76, 0.40], [1.1, 1.98, 0.88])
    b.box("sofa_arm_l", "fabric", [-1.1, 1.08, 0.40], [-0.92, 1.76, 0.62])
    b.box("sofa_arm_r", "fabric", [0.92, 1.08, 0.40], [1.1, 1.76, 0.62])
    b.box("sofa_cushion_l", "cushion", [-0.9, 1.1, 0.40], [-0.01, 1.74, 0.50])
    b.box("sofa_cushion_r", "cushion", [0.01, 1.1, 0.40], [0.9, 1.74, 0.50])
    b.box("throw_pillow", "red", [-0.85, 1.56, 0.50], [-0.45, 1.74, 0.82])
    b.box("painting", "painting", [-0.75, y1 - 0.03, 1.1], [0.75, y1, 1.9])

    # --- rug, coffee table ----------------------------------------------------------------------------------
    b.box("rug", "rug", [-1.3, -0.5, 0.0], [1.3, 1.0, 0.012])
    b.box("table_top", "walnut", [-0.6, 0.05, 0.40], [0.6, 0.65, 0.45])
    for i, (lx, ly) in enumerate([(-0.55, 0.1), (0.55, 0.1), (-0.55, 0.6), (0.55, 0.6)]):
        b.box(f"table_leg_{i}", "walnut", [lx - 0.025, ly - 0.025, 0.0], [lx + 0.025, ly + 0.025, 0.40])
    b.cylinder("vase", "ceramic", (0.3, 0.35), 0.45, 0.72, 0.06)
    b.box("table_box", "red", [-0.4, 0.2, 0.45], [-0.12, 0.42, 0.52])

    # --- desk and chair west of the window ------------------------------------------------------------------
    b.box("desk_top", "walnut", [-2.42, -1.98, 0.72], [-1.3, -1.38, 0.76])
    for i, (lx, ly) in enumerate([(-2.38, -1.94), (-1.34, -1.94), (-2.38, -1.42), (-1.34, -1.42)]):
        b.box(f"desk_leg_{i}", "metal", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.72])
    b.box("laptop_base", "metal", [-2.05, -1.85, 0.76], [-1.7, -1.6, 0.78])
    b.box("laptop_screen", "metal", [-2.05, -1.88, 0.78], [-1.7, -1.85, 1.0])
    b.box("chair_seat", "walnut", [-2.05, -1.3, 0.43], [-1.62, -0.88, 0.47])
    b.box("chair_back", "walnut", [-2.05, -0.92, 0.47], [-1.62, -0.88, 0.9])
    for i, (lx, ly) in enumerate([(-2.02, -1.27), (-1.65, -1.27), (-2.02, -0.91), (-1.65, -0.91)]):
        b.box(f"chair_leg_{i}", "walnut", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.43])

    # --- bookshelf on the east wall -------------------------------------------------------------------------
    sx0, sx1, sy0, sy1 = 2.14, x1, -1.6, -0.4
    b.box("shelf_back", "walnut", [x1 - 0.02, sy0, 0.0], [x1, sy1, 1.9])
    b.box("shelf_side_s", "walnut", [sx0, sy0, 0.0], [sx1, sy0 + 0.03, 1.9])
    b.box("shelf_side_n", "walnut", [sx0, sy1 - 0.03, 0.0], [sx1, sy1, 1.9])
    levels = [0.0, 0.47, 0.94, 1.41, 1.87]
    for i, lz in enumerate(levels):
        b.box(f"shelf_board_{i}", "walnut", [sx0, sy0, lz], [sx1, sy1, lz + 0.03])
    nbook = 0
    for li, lz in enumerate(levels[:-1]):
        y = sy0 + 0.03 + rng.uniform(0.0, 0.05)
        fill_to = sy1 - 0.03 - (0.35 if li == 3 else rng.uniform(0.0, 0.2))
        while True:
            w = rng.uniform(0.025, 0.06)
            if y + w > fill_to:
                break
            h = rng.uniform(0.2, 0.36)
            d = rng.uniform(0.17, 0.26)
            b.box(f"book_{nbook}", "books", [x1 - 0.02 - d, y, lz + 0.03], [x1 - 0.02, y + w, lz + 0.03 + h])
            nbook += 1
            y += w + (rng.uniform(0.05, 0.15) if rng.random() < 0.08 else 0.002)
    b.box("poster", "poster", [x1 - 0.015, 0.1, 1.0], [x1, 1.0, 1.9])

    # --- lamp, plant, ceiling light -------------------------------------------------------------------------
    lx, ly = -2.05, 1.55
    b.cylinder("lamp_base", "metal", (lx, ly), 0.0, 0.03, 0.16)
    b.cylinder("lamp_pole", "metal", (lx, ly), 0.03, 1.4, 0.015, sections=12)
    b.cylinder("lamp_shade", "lampshade", (lx, ly), 1.35, 1.65, 0.22)
    px, py = 2.05, 1.55
    b.cylinder("plant_pot", "terracotta", (px, py), 0.0, 0.42, 0.18)
    b.ellipsoid("plant_leaves_0", "leaves", (px, py, 0.85), (0.3, 0.3, 0.45))
    b.ellipsoid("plant_leaves_1", "leaves", (px - 0.15, py - 0.1, 1.1), (0.2, 0.2, 0.28))
    b.ellipsoid("plant_leaves_2", "leaves", (px + 0.12, py + 0.05, 1.15), (0.17, 0.17, 0.25))
    b.cylinder("ceiling_fixture", "fixture", (0.0, 0.2), z1 - 0.05, z1, 0.22)

    mesh, face_part = b.build()
    sun_dir = np.array([-0.35, -1.0, 0.85])
    return SynthScene(
        mesh=mesh,
        face_part=face_part,
        parts=b.parts,
        room_min=ROOM_MIN.copy(),
        room_max=ROOM_MAX.copy(),
        sun_dir=sun_dir / np.linalg.norm(sun_dir),
        sun_color=np.array([2.6, 2.35, 2.0]),
        point_lights=[(np.array([0.0, 0.2, z1 - 0.2]), np.array([2.6, 2.4, 2.1]))],
        ambient=np.array([0.42, 0.44, 0.48]),
        seed=int(seed),
    )


TWO_ROOM_MIN = np.array([-5.0, -2.0, 0.0])
TWO_ROOM_MAX = np.array([5.0, 2.0, 2.6])


def make_two_room_scene(seed: int = 0) -> SynthScene:
    """Two furnished rooms side by side, joined by a door opening; metres, **world up = +Z**.

    Layout (interior of both rooms ``x in [-5, 5]``, ``y in [-2, 2]``, ``z in [0, 2.6]``; floor at z = 0):

    * a shared wall ``x in [-0.1, 0.1]`` splits it into room A (west, ``x in [-5, -0.1]``, a living room) and
      room B (east, ``x in [0.1, 5]``, a study); the door opening in it is ``y in [-0.5, 0.5]``,
      ``z in [0, 2.1]`` (1 m wide, 2.1 m high), framed by a white casing.
    * room A: sofa with cushions against the north wall under a painting, a rug and a coffee table with a vase,
      a floor lamp in the north-west corner, a potted plant in the south-west corner, a window in the south
      wall, a ceiling light.
    * room B: a window in the south wall (sill and cross frame) with a desk, laptop and chair west of it, a
      bookshelf against the north wall, a poster and a closed panelled door on the east wall, a ceiling light.

    The parts reuse the demo room's materials and part names (``sofa_back``, ``painting``, ``desk_top``,
    ``shelf_board_2``, ``door``, ``window_transom``, ...), so :func:`default_demo_cameras` and
    :func:`synthesize_dataset` work on it unchanged (cameras in the free space of both rooms). ``room_min`` /
    ``room_max`` (and :attr:`SynthScene.aabb`) are the box around both rooms. ``seed`` varies the books and the
    texture noise; the layout is fixed.
    """
    rng = np.random.default_rng(seed)
    b = _Builder()
    x0, y0, z0 = TWO_ROOM_MIN
    x1, y1, z1 = TWO_ROOM_MAX
    t = 0.1  # wall thickness (outside the interior)
    h = 0.1  # half thickness of the shared wall
    dy0, dy1, dz = -0.5, 0.5, 2.1  # door opening in the shared wall

    # --- shell -------------------------------------------------------------------------------------------
    b.box("floor", "oak_floor", [x0 - t, y0 - t, -t], [x1 + t, y1 + t, 0.0])
    b.box("ceiling", "ceiling", [x0 - t, y0 - t, z1], [x1 + t, y1 + t, z1 + t])
    b.box("wall_north_a", "wall_sage", [x0 - t, y1, 0.0], [-h, y1 + t, z1])
    b.box("wall_north_b", "wall_warm", [-h, y1, 0.0], [x1 + t, y1 + t, z1])
    b.box("wall_west", "wall_rose", [x0 - t, y0, 0.0], [x0, y1, z1])
    b.box("wall_east", "wall_sage", [x1, y0, 0.0], [x1 + t, y1, z1])
    # shared wall with the door opening
    b.box("wall_mid_s", "wall_warm", [-h, y0, 0.0], [h, dy0, z1])
    b.box("wall_mid_n", "wall_warm", [-h, dy1, 0.0], [h, y1, z1])
    b.box("wall_mid_above", "wall_warm", [-h, dy0, dz], [h, dy1, z1])
    for side, (cx0, cx1) in (("a", (-h - 0.02, -h)), ("b", (h, h + 0.02))):
        b.box(f"door_casing_l_{side}", "white_trim", [cx0, dy0 - 0.07, 0.0], [cx1, dy0, dz + 0.07])
        b.box(f"door_casing_r_{side}", "white_trim", [cx0, dy1, 0.0], [cx1, dy1 + 0.07, dz + 0.07])
        b.box(f"door_casing_t_{side}", "white_trim", [cx0, dy0 - 0.07, dz], [cx1, dy1 + 0.07, dz + 0.07])
    # south wall with one window per room
    windows = [(-3.3, -1.9), (1.9, 3.5)]
    wz0, wz1 = 0.9, 2.1
    xs = [x0 - t] + [v for w in windows for v in w] + [x1 + t]
    for i in range(0, len(xs), 2):
        b.box(f"wall_south_{i // 2}", "wall_warm", [xs[i], y0 - t, 0.0], [xs[i + 1], y0, z1])
    for k, (wx0, wx1) in enumerate(windows):
        b.box(f"wall_south_below_{k}", "wall_warm", [wx0, y0 - t, 0.0], [wx1, y0, wz0])
        b.box(f"wall_south_above_{k}", "wall_warm", [wx0, y0 - t, wz1], [wx1, y0, z1])
        f = 0.05
        sfx = "" if k == 1 else "_a"
        b.box(f"window_frame_l{sfx}", "white_trim", [wx0, y0 - 0.07, wz0], [wx0 + f, y0 - 0.03, wz1])
        b.box(f"window_frame_r{sfx}", "white_trim", [wx1 - f, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz1])
        b.box(f"window_frame_b{sfx}", "white_trim", [wx0, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz0 + f])
        b.box(f"window_frame_t{sfx}", "white_trim", [wx0, y0 - 0.07, wz1 - f], [wx1, y0 - 0.03, wz1])
        mx = 0.5 * (wx0 + wx1)
        b.box(f"window_mullion{sfx}", "white_trim", [mx - 0.02, y0 - 0.07, wz0], [mx + 0.02, y0 - 0.03, wz1])
        b.box(f"window_transom{sfx}", "white_trim", [wx0, y0 - 0.07, 1.52], [wx1, y0 - 0.03, 1.56])
        b.box(f"window_sill{sfx}", "white_trim", [wx0 - 0.1, y0 - 0.03, wz0 - 0.04], [wx1 + 0.1, y0 + 0.08, wz0])

    # --- baseboards -----------------------------------------------------------------------------------------
    bb, bt = 0.08, 0.015
    b.box("baseboard_n_a", "white_trim", [x0, y1 - bt, 0.0], [-h, y1, bb])
    b.box("baseboard_n_b", "white_trim", [h, y1 - bt, 0.0], [x1, y1, bb])
    b.box("baseboard_s_a", "white_trim", [x0, y0, 0.0], [-h, y0 + bt, bb])
    b.box("baseboard_s_b", "white_trim", [h, y0, 0.0], [x1, y0 + bt, bb])
    b.box("baseboard_w", "white_trim", [x0, y0, 0.0], [x0 + bt, y1, bb])

    # --- room A: sofa, painting, rug, coffee table, lamp, plant -----------------------------------------------
    sx = -2.5  # sofa centre
    b.box("sofa_base", "fabric", [sx - 1.1, 1.08, 0.0], [sx + 1.1, 1.98, 0.40])
    b.box("sofa_back", "fabric", [sx - 1.1, 1.76, 0.40], [sx + 1.1, 1.98, 0.88])
    b.box("sofa_arm_l", "fabric", [sx - 1.1, 1.08, 0.40], [sx - 0.92, 1.76, 0.62])
    b.box("sofa_arm_r", "fabric", [sx + 0.92, 1.08, 0.40], [sx + 1.1, 1.76, 0.62])
    b.box("sofa_cushion_l", "cushion", [sx - 0.9, 1.1, 0.40], [sx - 0.01, 1.74, 0.50])
    b.box("sofa_cushion_r", "cushion", [sx + 0.01, 1.1, 0.40], [sx + 0.9, 1.74, 0.50])
    b.box("throw_pillow", "red", [sx - 0.85, 1.56, 0.50], [sx - 0.45, 1.74, 0.82])
    b.box("painting", "painting", [sx - 0.75, y1 - 0.03, 1.1], [sx + 0.75, y1, 1.9])
    b.box("rug", "rug", [sx - 1.3, -0.5, 0.0], [sx + 1.3, 1.0, 0.012])
    b.box("table_top", "walnut", [sx - 0.6, 0.05, 0.40], [sx + 0.6, 0.65, 0.45])
    for i, (lx, ly) in enumerate([(-0.55, 0.1), (0.55, 0.1), (-0.55, 0.6), (0.55, 0.6)]):
        b.box(f"table_leg_{i}", "walnut", [sx + lx - 0.025, ly - 0.025, 0.0], [sx + lx + 0.025, ly + 0.025, 0.40])
    b.cylinder("vase", "ceramic", (sx + 0.3, 0.35), 0.45, 0.72, 0.06)
    b.box("table_box", "red", [sx - 0.4, 0.2, 0.45], [sx - 0.12, 0.42, 0.52])
    lx, ly = -4.55, 1.55
    b.cylinder("lamp_base", "metal", (lx, ly), 0.0, 0.03, 0.16)
    b.cylinder("lamp_pole", "metal", (lx, ly), 0.03, 1.4, 0.015, sections=12)
    b.cylinder("lamp_shade", "lampshade", (lx, ly), 1.35, 1.65, 0.22)
    px, py = -4.55, -1.55
    b.cylinder("plant_pot", "terracotta", (px, py), 0.0, 0.42, 0.18)
    b.ellipsoid("plant_leaves_0", "leaves", (px, py, 0.85), (0.3, 0.3, 0.45))
    b.ellipsoid("plant_leaves_1", "leaves", (px + 0.15, py + 0.1, 1.1), (0.2, 0.2, 0.28))
    b.ellipsoid("plant_leaves_2", "leaves", (px - 0.12, py + 0.05, 1.15), (0.17, 0.17, 0.25))
    b.cylinder("ceiling_fixture", "fixture", (-2.5, 0.0), z1 - 0.05, z1, 0.22)

    # --- room B: desk and chair by the window, bookshelf, poster, door ----------------------------------------
    dx0, dx1 = 0.6, 1.72
    b.box("desk_top", "walnut", [dx0, y0 + 0.02, 0.72], [dx1, y0 + 0.62, 0.76])
    for i, (lx, ly) in enumerate([(dx0 + 0.04, y0 + 0.06), (dx1 - 0.04, y0 + 0.06), (dx0 + 0.04, y0 + 0.58),
                                  (dx1 - 0.04, y0 + 0.58)]):
        b.box(f"desk_leg_{i}", "metal", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.72])
    b.box("laptop_base", "metal", [0.95, -1.85, 0.76], [1.3, -1.6, 0.78])
    b.box("laptop_screen", "metal", [0.95, -1.88, 0.78], [1.3, -1.85, 1.0])
    b.box("chair_seat", "walnut", [0.95, -1.3, 0.43], [1.38, -0.88, 0.47])
    b.box("chair_back", "walnut", [0.95, -0.92, 0.47], [1.38, -0.88, 0.9])
    for i, (lx, ly) in enumerate([(0.98, -1.27), (1.35, -1.27), (0.98, -0.91), (1.35, -0.91)]):
        b.box(f"chair_leg_{i}", "walnut", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.43])
    # bookshelf against the north wall, x in [2.2, 3.4]
    sx0, sx1, sy0 = 2.2, 3.4, y1 - 0.36
    b.box("shelf_back", "walnut", [sx0, y1 - 0.02, 0.0], [sx1, y1, 1.9])
    b.box("shelf_side_w", "walnut", [sx0, sy0, 0.0], [sx0 + 0.03, y1, 1.9])
    b.box("shelf_side_e", "walnut", [sx1 - 0.03, sy0, 0.0], [sx1, y1, 1.9])
    levels = [0.0, 0.47, 0.94, 1.41, 1.87]
    for i, lz in enumerate(levels):
        b.box(f"shelf_board_{i}", "walnut", [sx0, sy0, lz], [sx1, y1, lz + 0.03])
    nbook = 0
    for li, lz in enumerate(levels[:-1]):
        x = sx0 + 0.03 + rng.uniform(0.0, 0.05)
        fill_to = sx1 - 0.03 - (0.35 if li == 3 else rng.uniform(0.0, 0.2))
        while True:
            w = rng.uniform(0.025, 0.06)
            if x + w > fill_to:
                break
            hb = rng.uniform(0.2, 0.36)
            d = rng.uniform(0.17, 0.26)
            b.box(f"book_{nbook}", "books", [x, y1 - 0.02 - d, lz + 0.03], [x + w, y1 - 0.02, lz + 0.03 + hb])
            nbook += 1
            x += w + (rng.uniform(0.05, 0.15) if rng.random() < 0.08 else 0.002)
    b.box("poster", "poster", [x1 - 0.015, -1.4, 1.0], [x1, -0.5, 1.9])
    b.box("door", "door", [x1 - 0.04, 0.4, 0.0], [x1, 1.3, 2.05])
    b.box("door_casing_l", "white_trim", [x1 - 0.02, 0.33, 0.0], [x1, 0.4, 2.12])
    b.box("door_casing_r", "white_trim", [x1 - 0.02, 1.3, 0.0], [x1, 1.37, 2.12])
    b.box("door_casing_t", "white_trim", [x1 - 0.02, 0.33, 2.05], [x1, 1.37, 2.12])
    b.box("door_handle", "brass", [x1 - 0.08, 0.52, 1.0], [x1 - 0.04, 0.64, 1.04])
    b.cylinder("ceiling_fixture_b", "fixture", (2.5, 0.0), z1 - 0.05, z1, 0.22)

    mesh, face_part = b.build()
    sun_dir = np.array([-0.35, -1.0, 0.85])
    return SynthScene(
        mesh=mesh,
        face_part=face_part,
        parts=b.parts,
        room_min=TWO_ROOM_MIN.copy(),
        room_max=TWO_ROOM_MAX.copy(),
        sun_dir=sun_dir / np.linalg.norm(sun_dir),
        sun_color=np.array([2.6, 2.35, 2.0]),
        point_lights=[
            (np.array([-2.5, 0.0, z1 - 0.2]), np.array([2.6, 2.4, 2.1])),
            (np.array([2.5, 0.0, z1 - 0.2]), np.array([2.6, 2.4, 2.1])),
        ],
        ambient=np.array([0.42, 0.44, 0.48]),
        seed=int(seed),
    )


# ----------------------------------------------------------------------------------------------------------
# Procedural textures (functions of the 3D hit point)
# ----------------------------------------------------------------------------------------------------------

_M32 = np.uint64(0xFFFFFFFF)


def _hash01(*ints: np.ndarray, seed: int = 0) -> np.ndarray:
    """Deterministic hash of integer lattice coordinates -> float64 in [0, 1)."""
    h = np.uint64((seed * 0x9E3779B1 + 0x632BE5AB) & 0xFFFFFFFF)
    for k in ints:
        k = np.asarray(k).astype(np.int64).astype(np.uint64) & _M32
        h = ((h ^ k) * np.uint64(0x85EBCA6B)) & _M32
        h = h ^ (h >> np.uint64(13))
        h = (h * np.uint64(0xC2B2AE35)) & _M32
        h = h ^ (h >> np.uint64(16))
    return h.astype(np.float64) / 4294967296.0


def _value_noise(p: np.ndarray, seed: int) -> np.ndarray:
    """Smooth 3D value noise in [0, 1]. p: (M, 3) -> (M,)."""
    fl = np.floor(p)
    fr = p - fl
    i = fl.astype(np.int64)
    u = fr * fr * (3.0 - 2.0 * fr)
    out = np.zeros(len(p))
    for dx in (0, 1):
        wx = u[:, 0] if dx else 1.0 - u[:, 0]
        for dy in (0, 1):
            wy = wx * (u[:, 1] if dy else 1.0 - u[:, 1])
            for dz in (0, 1):
                w = wy * (u[:, 2] if dz else 1.0 - u[:, 2])
                out += w * _hash01(i[:, 0] + dx, i[:, 1] + dy, i[:, 2] + dz, seed=seed)
    return out


def _fbm(p: np.ndarray, seed: int, octaves: int = 3) -> np.ndarray:
    """Fractal sum of :func:`_value_noise`, normalised to [0, 1]. p: (M, 3) -> (M,)."""
    total, amp, norm = np.zeros(len(p)), 1.0, 0.0
    for k in range(octaves):
        total += amp * _value_noise(p * (2.0**k), seed + 101 * k)
        norm += amp
        amp *= 0.5
    return total / norm


def _lin(*rgb: float) -> np.ndarray:
    """sRGB colour (0..1) -> linear RGB (approximate gamma 2.2)."""
    return np.asarray(rgb, dtype=np.float64) ** 2.2


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a[None, :] * (1.0 - t[:, None]) + b[None, :] * t[:, None]


def _part_uv(p: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Planar coordinates of points on a thin part.

    Args:
        p: (M, 3) points. bounds: (M, 2, 3) bounds of the part each point lies on.
    Returns:
        u, v in [0, 1] across the part's two largest extents (v along +Z when the part is vertical) and the
        sizes (su, sv) in metres of those extents, each (M,).
    """
    lo, ext = bounds[:, 0], np.maximum(bounds[:, 1] - bounds[:, 0], 1e-9)
    normal_axis = np.argmin(ext, axis=1)
    ua = np.where(normal_axis == 0, 1, 0)
    va = np.where(normal_axis == 2, 1, 2)
    rows = np.arange(len(p))
    u = (p[rows, ua] - lo[rows, ua]) / ext[rows, ua]
    v = (p[rows, va] - lo[rows, va]) / ext[rows, va]
    return np.clip(u, 0, 1), np.clip(v, 0, 1), ext[rows, ua], ext[rows, va]


def _tex_oak_floor(p, n, part, sc):
    plank_w, plank_len = 0.16, 1.3
    row = np.floor(p[:, 1] / plank_w)
    off = _hash01(row, seed=sc.seed + 1) * plank_len
    xs = (p[:, 0] + off) / plank_len
    col = np.floor(xs)
    h = _hash01(row, col, seed=sc.seed + 2)
    base = _mix(_lin(0.80, 0.60, 0.38), _lin(0.58, 0.38, 0.21), h)
    q = p * np.array([0.7, 9.0, 9.0]) + h[:, None] * 17.0
    grain = np.sin(2 * np.pi * (p[:, 1] / plank_w * 3.0 + 2.5 * _fbm(q, sc.seed + 3, 2)))
    streak = _fbm(p * np.array([1.0, 14.0, 14.0]), sc.seed + 4, 2)
    shade = (0.82 + 0.08 * grain + 0.22 * streak)[:, None]
    fy = (p[:, 1] / plank_w) % 1.0
    fx = xs % 1.0
    gap = (np.minimum(fy, 1 - fy) * plank_w < 0.005) | (np.minimum(fx, 1 - fx) * plank_len < 0.005)
    return base * shade * np.where(gap, 0.35, 1.0)[:, None]


def _wall(color, stripes: bool = False):
    """Painted plaster (subtle blotches); with ``stripes``, a striped wallpaper (vertical bands, 18 cm period)."""

    def tex(p, n, part, sc):
        blotch = _fbm(p * 2.0, sc.seed + 11, 3)
        fine = _value_noise(p * 25.0, sc.seed + 12)
        shade = 0.9 + 0.18 * blotch + 0.05 * fine
        if stripes:
            along = p[:, 0] + p[:, 1]  # the horizontal coordinate on any axis-aligned wall
            band = (along / 0.18) % 1.0
            shade = shade * np.where(band < 0.5, 1.0, 0.9) * np.where(np.abs(band - 0.25) < 0.03, 0.93, 1.0)
        return color[None, :] * shade[:, None]

    return tex


def _tex_rug(p, n, part, sc):
    u, v, su, sv = _part_uv(p, sc.part_bounds[part])
    x, y = u * su, v * sv  # metres from the rug's corner
    edge = np.minimum(np.minimum(x, su - x), np.minimum(y, sv - y))
    cell = 0.26
    cx, cy = (x - 0.2) / cell, (y - 0.2) / cell
    ix, iy = np.floor(cx), np.floor(cy)
    checker = (ix + iy) % 2 == 0
    fx, fy = cx - ix - 0.5, cy - iy - 0.5
    diamond = np.abs(fx) + np.abs(fy) < 0.28
    cream, navy = _lin(0.92, 0.86, 0.72), _lin(0.12, 0.18, 0.38)
    rust, gold = _lin(0.72, 0.24, 0.14), _lin(0.9, 0.68, 0.2)
    col = np.where(checker[:, None], cream, navy)
    col = np.where(diamond[:, None], np.where(checker[:, None], rust, gold), col)
    border = edge < 0.2
    stripe = (edge > 0.07) & (edge < 0.11)
    col = np.where(border[:, None], np.where(stripe[:, None], cream, rust), col)
    fibre = 0.88 + 0.2 * _value_noise(p * 60.0, sc.seed + 21)
    return col * fibre[:, None]


def _fabric(color, seed_off):
    def tex(p, n, part, sc):
        mottle = _fbm(p * 7.0, sc.seed + seed_off, 3)
        fine = _value_noise(p * 45.0, sc.seed + seed_off + 1)
        return color[None, :] * (0.78 + 0.3 * mottle + 0.1 * fine)[:, None]

    return tex


def _tex_painting(p, n, part, sc):
    """Mondrian-style composition in a dark frame."""
    u, v, su, sv = _part_uv(p, sc.part_bounds[part])
    x, y = u * su, v * sv
    fw = 0.05
    frame = np.minimum(np.minimum(x, su - x), np.minimum(y, sv - y)) < fw
    uu, vv = (x - fw) / (su - 2 * fw), (y - fw) / (sv - 2 * fw)
    vlines, hlines = np.array([0.2, 0.55, 0.8]), np.array([0.3, 0.62, 0.85])
    lw = 0.018
    line = (np.abs(uu[:, None] - vlines[None]) < lw).any(1) | (np.abs(vv[:, None] - hlines[None]) < lw * 1.8).any(1)
    ci, cj = np.searchsorted(vlines, uu), np.searchsorted(hlines, vv)
    palette = np.stack(
        [
            _lin(0.95, 0.94, 0.9),  # 0 white
            _lin(0.85, 0.1, 0.08),  # 1 red
            _lin(0.98, 0.8, 0.05),  # 2 yellow
            _lin(0.08, 0.25, 0.7),  # 3 blue
            _lin(0.1, 0.6, 0.45),  # 4 green
            _lin(0.95, 0.45, 0.1),  # 5 orange
        ]
    )
    layout = np.array([[1, 0, 3, 0], [0, 2, 0, 5], [4, 0, 1, 0], [0, 3, 0, 2]])  # [col, row]
    col = palette[layout[ci, cj]]
    col = np.where(line[:, None], _lin(0.05, 0.05, 0.06), col)
    return np.where(frame[:, None], _lin(0.12, 0.08, 0.05), col)


def _tex_poster(p, n, part, sc):
    """Retro sunset: gradient sky, striped sun, mountains, grid floor, white border."""
    u, v, su, sv = _part_uv(p, sc.part_bounds[part])
    x, y = u * su, v * sv
    bw = 0.04
    border = np.minimum(np.minimum(x, su - x), np.minimum(y, sv - y)) < bw
    uu, vv = (x - bw) / (su - 2 * bw), (y - bw) / (sv - 2 * bw)
    sky = _mix(_lin(1.0, 0.55, 0.15), _lin(0.45, 0.1, 0.55), np.clip((vv - 0.35) / 0.65, 0, 1))
    aspect = (su - 2 * bw) / (sv - 2 * bw)
    r = np.hypot((uu - 0.5) * aspect, vv - 0.52)
    sun = (r < 0.25) & ~((vv < 0.52) & ((vv * 28) % 1.0 < 0.35))
    sun_col = _mix(_lin(1.0, 0.95, 0.3), _lin(1.0, 0.3, 0.35), np.clip((0.77 - vv) / 0.5, 0, 1))
    col = np.where(sun[:, None], sun_col, sky)
    ridge = 0.36 + 0.1 * np.abs(((uu * 3.2 + 0.3) % 1.0) - 0.5) * 2 - 0.05 * np.sin(uu * 17)
    col = np.where((vv < ridge)[:, None], _lin(0.22, 0.07, 0.3), col)
    ground = vv < 0.22
    grid = ((vv * 30) % 1.0 < 0.12) | (((uu - 0.5) / (0.3 - vv + 1e-3) * 2) % 1.0 < 0.1)
    col = np.where(ground[:, None], np.where(grid[:, None], _lin(0.2, 0.95, 0.9), _lin(0.08, 0.03, 0.15)), col)
    return np.where(border[:, None], _lin(0.95, 0.95, 0.93), col)


def _tex_walnut(p, n, part, sc):
    bounds = sc.part_bounds[part]
    long_axis = np.argmax(bounds[:, 1] - bounds[:, 0], axis=1)
    scale = np.full((len(p), 3), 10.0)
    scale[np.arange(len(p)), long_axis] = 0.8
    q = p * scale + part[:, None] * 3.7
    grain = np.sin(2 * np.pi * 3.0 * _fbm(q, sc.seed + 31, 3))
    base = _lin(0.45, 0.28, 0.16)
    return base[None, :] * (0.85 + 0.15 * grain)[:, None]


def _tex_books(p, n, part, sc):
    palette = np.stack(
        [
            _lin(0.7, 0.1, 0.1),
            _lin(0.1, 0.3, 0.65),
            _lin(0.1, 0.5, 0.3),
            _lin(0.9, 0.75, 0.2),
            _lin(0.9, 0.9, 0.85),
            _lin(0.2, 0.2, 0.25),
            _lin(0.85, 0.45, 0.15),
            _lin(0.5, 0.2, 0.55),
        ]
    )
    h = _hash01(part, seed=sc.seed + 41)
    tint = 0.75 + 0.4 * _hash01(part, seed=sc.seed + 42)
    col = palette[(h * len(palette)).astype(int) % len(palette)] * tint[:, None]
    _, v, _, _ = _part_uv(p, sc.part_bounds[part])
    band = ((v > 0.78) & (v < 0.84)) | ((v > 0.12) & (v < 0.16))
    return np.where(band[:, None], _lin(0.85, 0.7, 0.3), col)


def _tex_door(p, n, part, sc):
    u, v, su, sv = _part_uv(p, sc.part_bounds[part])
    x, y = u * su, v * sv
    col = np.broadcast_to(_lin(0.93, 0.92, 0.88), (len(p), 3)).copy()
    g = 0.018
    for (a0, a1), (b0, b1) in (((0.12, su - 0.12), (0.12, 0.9)), ((0.12, su - 0.12), (1.05, sv - 0.12))):
        inside = (x > a0) & (x < a1) & (y > b0) & (y < b1)
        rim = inside & (np.minimum(np.minimum(x - a0, a1 - x), np.minimum(y - b0, b1 - y)) < g)
        col[rim] *= 0.55
        col[inside & ~rim] *= 0.95
    return col


def _solid(color, noise: float = 0.0, freq: float = 10.0):
    def tex(p, n, part, sc):
        if noise == 0.0:
            return np.broadcast_to(color, (len(p), 3)).copy()
        return color[None, :] * (1.0 - noise + 2 * noise * _fbm(p * freq, sc.seed + 51, 2))[:, None]

    return tex


def _tex_leaves(p, n, part, sc):
    blobs = _fbm(p * 14.0, sc.seed + 61, 3)
    col = _mix(_lin(0.08, 0.28, 0.08), _lin(0.45, 0.7, 0.2), np.clip(blobs * 1.6 - 0.35, 0, 1))
    return col


def _tex_terracotta(p, n, part, sc):
    rings = ((p[:, 2] * 9.0) % 1.0) < 0.18
    return _lin(0.74, 0.38, 0.22)[None, :] * np.where(rings, 0.7, 1.0)[:, None]


def _tex_ceramic(p, n, part, sc):
    stripes = ((p[:, 2] * 22.0) % 1.0) < 0.3
    return np.where(stripes[:, None], _lin(0.95, 0.93, 0.85), _lin(0.08, 0.22, 0.65))


_TEXTURES: dict[str, Callable] = {
    "oak_floor": _tex_oak_floor,
    "wall_warm": _wall(_lin(0.9, 0.85, 0.76), stripes=True),
    "wall_sage": _wall(_lin(0.56, 0.68, 0.56)),
    "wall_rose": _wall(_lin(0.86, 0.7, 0.66)),
    "ceiling": _wall(_lin(0.94, 0.94, 0.92)),
    "rug": _tex_rug,
    "fabric": _fabric(_lin(0.18, 0.36, 0.46), 71),
    "cushion": _fabric(_lin(0.86, 0.64, 0.2), 73),
    "painting": _tex_painting,
    "poster": _tex_poster,
    "walnut": _tex_walnut,
    "books": _tex_books,
    "metal": _solid(_lin(0.12, 0.12, 0.13)),
    "brass": _solid(_lin(0.8, 0.6, 0.25)),
    "lampshade": _solid(_lin(0.96, 0.9, 0.76), 0.08, 20.0),
    "fixture": _solid(_lin(0.97, 0.97, 0.95)),
    "door": _tex_door,
    "white_trim": _solid(_lin(0.93, 0.93, 0.9)),
    "leaves": _tex_leaves,
    "terracotta": _tex_terracotta,
    "ceramic": _tex_ceramic,
    "red": _fabric(_lin(0.75, 0.12, 0.12), 75),
}
_EMISSION = {"lampshade": np.array([0.55, 0.45, 0.3]), "fixture": np.array([2.0, 1.9, 1.7])}


def _albedo(scene: SynthScene, p: np.ndarray, n: np.ndarray, part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear albedo and emission (M, 3) of hit points p (M, 3) with normals n on parts ``part`` (M,)."""
    mat = scene.part_material[part]
    albedo = np.zeros((len(p), 3))
    emission = np.zeros((len(p), 3))
    for m in np.unique(mat):
        sel = np.nonzero(mat == m)[0]
        name = MATERIALS[m]
        albedo[sel] = _TEXTURES[name](p[sel], n[sel], part[sel], scene)
        if name in _EMISSION:
            emission[sel] = _EMISSION[name]
    return albedo, emission


# ----------------------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------------------

# Fixed sample patterns (the same for every point: shading is view independent and noise free).
def _disk(k: int) -> np.ndarray:
    """(k, 2) points of the unit disk: the centre and a ring of k - 1."""
    a = 2 * np.pi * np.arange(k - 1) / (k - 1)
    return np.concatenate([np.zeros((1, 2)), 0.8 * np.stack([np.cos(a), np.sin(a)], 1)])


_SUN_OFFSETS = _disk(5) * math.radians(2.0)  # soft sun: directions within 2 degrees
_LIGHT_DISK = _disk(6) * 0.12  # area light of 12 cm radius
_AO_RANGE = 0.8


def _ao_directions(k: int = 6) -> np.ndarray:
    """(k, 3) cosine-weighted hemisphere directions around +Z (tangent-space)."""
    i = np.arange(k) + 0.5
    r = np.sqrt(i / k)
    phi = i * math.pi * (3 - math.sqrt(5))
    return np.stack([r * np.cos(phi), r * np.sin(phi), np.sqrt(1 - r * r)], 1)


_AO_DIRS = _ao_directions(6)


def _tangent_frame(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.where(np.abs(n[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]))
    t = np.cross(n, a)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    return t, np.cross(n, t)


def _segments(origins: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """(M*K, 6) float32 rays from origins (M, 3) along dirs (M, K, 3) (or (K, 3), shared by all)."""
    m, k = len(origins), dirs.shape[-2]
    rays = np.empty((m, k, 6), dtype=np.float32)
    rays[:, :, :3] = origins[:, None]
    rays[:, :, 3:] = dirs
    return rays.reshape(-1, 6)


def _occluded_fraction(rc, o3d, origins: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Fraction of the K segments origin -> origin + dir that hit something.

    origins (M, 3); dirs (M, K, 3) or (K, 3) segment vectors. Returns (M,).
    """
    m, k = len(origins), dirs.shape[-2]
    if m == 0:
        return np.zeros(0)
    occ = rc.test_occlusions(o3d.core.Tensor(_segments(origins, dirs)), tnear=0.0, tfar=1.0).numpy()
    return occ.reshape(m, k).mean(1)


def _ao_occlusion(rc, o3d, origins: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Smooth ambient occlusion in [0, 1]: mean over K segments of ``max(0, 1 - t_hit / length)``.

    origins (M, 3); dirs (M, K, 3) segment vectors (their length is the AO range). Returns (M,).
    """
    m, k = len(origins), dirs.shape[-2]
    if m == 0:
        return np.zeros(0)
    t = rc.cast_rays(o3d.core.Tensor(_segments(origins, dirs)))["t_hit"].numpy()
    return np.clip(1.0 - t, 0.0, 1.0).reshape(m, k).mean(1)


def _sky(d: np.ndarray) -> np.ndarray:
    """Linear RGB of escaped rays (M, 3): blue sky above the horizon, a lawn below."""
    z = d[:, 2]
    sky = _mix(_lin(0.78, 0.86, 0.95), _lin(0.32, 0.52, 0.88), np.clip(z * 2.0, 0, 1))
    lawn = _mix(_lin(0.42, 0.58, 0.25), _lin(0.25, 0.42, 0.15), np.clip(-z * 3.0, 0, 1))
    return np.where((z >= 0)[:, None], sky, lawn) * 1.3


def _shade(scene: SynthScene, origins: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trace rays (R, 3)+(R, 3) (unit dirs). Returns linear RGB (R, 3) and hit distance t (R,) (inf = escaped)."""
    o3d = import_open3d()
    rc = scene.raycaster()
    rays = np.concatenate([origins, dirs], 1).astype(np.float32)
    hit = rc.cast_rays(o3d.core.Tensor(rays))
    t = hit["t_hit"].numpy().astype(np.float64)
    ok = np.isfinite(t)
    color = np.empty((len(t), 3))
    color[~ok] = _sky(dirs[~ok])
    idx = np.nonzero(ok)[0]
    if len(idx) == 0:
        return color, t
    d = dirs[idx].astype(np.float64)
    p = origins[idx] + d * t[idx, None]
    n = hit["primitive_normals"].numpy()[idx].astype(np.float64)
    n = np.where((np.sum(n * d, 1) > 0)[:, None], -n, n)  # face the viewer
    face = hit["primitive_ids"].numpy()[idx].astype(np.int64)
    part = scene.face_part[face]
    albedo, emission = _albedo(scene, p, n, part)
    if scene.vertex_colors is not None and "mesh_color" in _MAT:
        own = np.nonzero(scene.part_material[part] == _MAT["mesh_color"])[0]
        if len(own):  # an imported model's colours: barycentric interpolation of the vertex colours
            uv = hit["primitive_uvs"].numpy()[idx[own]].astype(np.float64)
            tri = np.asarray(scene.mesh.faces)[face[own]]
            vc = np.asarray(scene.vertex_colors, dtype=np.float64)
            w0 = np.clip(1.0 - uv[:, 0] - uv[:, 1], 0.0, 1.0)
            albedo[own] = w0[:, None] * vc[tri[:, 0]] + uv[:, :1] * vc[tri[:, 1]] + uv[:, 1:2] * vc[tri[:, 2]]
    p_off = (p + n * 2e-3).astype(np.float32)

    # Ambient with ambient occlusion (fixed tangent-space directions).
    n32 = n.astype(np.float32)
    tt, bt = _tangent_frame(n32)
    c = (_AO_DIRS * _AO_RANGE).astype(np.float32)  # (K, 3) tangent-space coefficients
    ao_dirs = c[None, :, 0:1] * tt[:, None]
    ao_dirs += c[None, :, 1:2] * bt[:, None]
    ao_dirs += c[None, :, 2:3] * n32[:, None]
    occ = _ao_occlusion(rc, o3d, p_off, ao_dirs)
    irradiance = scene.ambient[None, :] * (1.0 - 0.9 * occ)[:, None]

    # Sun: a small cone of directions (soft shadow edge).
    s = scene.sun_dir
    st, sb = _tangent_frame(s[None])
    sun_dirs = s[None] + _SUN_OFFSETS[:, 0:1] * st + _SUN_OFFSETS[:, 1:2] * sb
    sun_dirs = sun_dirs / np.linalg.norm(sun_dirs, axis=1, keepdims=True)
    ndl = n @ s
    lit = np.nonzero(ndl > 0)[0]
    if len(lit):
        vis = 1.0 - _occluded_fraction(rc, o3d, p_off[lit], (sun_dirs * 50.0).astype(np.float32))
        irradiance[lit] += scene.sun_color[None, :] * (ndl[lit] * vis)[:, None]

    # Point lights: a small disk of sample positions (soft shadows), 1/d^2 falloff.
    for light in scene.point_lights:
        pos, power = light[0], light[1]
        samples = pos[None] + np.concatenate([_LIGHT_DISK, np.zeros((len(_LIGHT_DISK), 1))], 1)
        to_l = pos[None] - p
        dist2 = np.sum(to_l * to_l, 1)
        ndl_p = np.sum(n * to_l, 1) / np.sqrt(dist2)
        reach = ndl_p > 0
        if len(light) > 2 and light[2] is not None:  # a room light: only its room (walls would block it anyway)
            region = np.asarray(light[2], dtype=np.float64)
            reach &= np.all((p > region[0] - 0.25) & (p < region[1] + 0.25), axis=1)
        lit = np.nonzero(reach)[0]
        if len(lit):
            seg = samples[None] - p_off[lit, None]
            vis = 1.0 - _occluded_fraction(rc, o3d, p_off[lit], seg * 0.999)
            irradiance[lit] += power[None, :] * (ndl_p[lit] * vis / np.maximum(dist2[lit], 0.05))[:, None]

    color[idx] = albedo * irradiance + emission
    return color, t


def _to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> sRGB-ish uint8 with a soft shoulder for highlights."""
    x = np.maximum(linear, 0.0)
    x = np.where(x < 0.8, x, 0.8 + 0.2 * np.tanh((x - 0.8) / 0.2))
    return np.clip(np.round(255.0 * x ** (1 / 2.2)), 0, 255).astype(np.uint8)


def render_views(scene: SynthScene, cameras: Cameras, chunk_rays: int = 300_000, on_chunk=None) -> tuple[np.ndarray, np.ndarray]:
    """Render every camera with Open3D ray casting and procedural shading.

    Rays are exactly those of :meth:`Cameras.camera_rays` (pixel centres; any camera model of ``cameras``).

    Args:
        scene: from :func:`make_demo_scene`.
        cameras: N cameras that all have the same width W and height H.
        chunk_rays: how many primary rays are shaded at once (memory bound).
        on_chunk: optional callback ``(views done, views total)`` after each chunk (progress bars).
    Returns:
        rgb: (N, H, W, 3) uint8 sRGB images.
        depth: (N, H, W) float32 z-depth in metres (distance along the camera's -Z axis); 0 where the ray
            escapes the room (sky through the window).
    """
    n_cam = len(cameras)
    if n_cam == 0:
        raise ValueError("render_views: no cameras")
    w, h = int(cameras.width[0]), int(cameras.height[0])
    if bool((cameras.width != w).any()) or bool((cameras.height != h).any()):
        raise ValueError("render_views: all cameras must have the same image size")
    rgb = np.empty((n_cam, h, w, 3), dtype=np.uint8)
    depth = np.empty((n_cam, h, w), dtype=np.float32)
    per_chunk = max(1, chunk_rays // (w * h))
    cams = cameras.to("cpu")
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    u, v = u.reshape(-1) + 0.5, v.reshape(-1) + 0.5
    for start in range(0, n_cam, per_chunk):
        ids = list(range(start, min(n_cam, start + per_chunk)))
        cam_idx = torch.tensor(ids, dtype=torch.long).repeat_interleave(w * h)
        origins, dirs = cams.generate_rays(cam_idx, u.repeat(len(ids)), v.repeat(len(ids)))
        o, d = origins.double().numpy(), dirs.double().numpy()
        color, t = _shade(scene, o, d)
        forward = -cams.c2w[cam_idx, :, 2].double().numpy()  # optical axis (-Z of the camera) in world
        z = np.where(np.isfinite(t), t * np.sum(d * forward, 1), 0.0)
        rgb[ids] = _to_srgb8(color).reshape(len(ids), h, w, 3)
        depth[ids] = z.reshape(len(ids), h, w).astype(np.float32)
        if on_chunk is not None:
            on_chunk(ids[-1] + 1, n_cam)
    return rgb, depth


# ----------------------------------------------------------------------------------------------------------
# Cameras
# ----------------------------------------------------------------------------------------------------------


def look_at_c2w(eye, target, up=WORLD_UP) -> np.ndarray:
    """(4, 4) OpenGL camera-to-world matrix of a camera at ``eye`` looking at ``target`` (no roll)."""
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    fwd = target - eye
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, up)
    if np.linalg.norm(right) < 1e-6:
        raise ValueError("look_at_c2w: viewing direction is parallel to the up vector")
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, fwd)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, cam_up, -fwd, eye
    return c2w


def cameras_from_c2w(c2w, width: int = 160, height: int = 120, fov_deg: float = 75.0) -> Cameras:
    """PINHOLE :class:`Cameras` for (N, 4, 4) or (N, 3, 4) c2w matrices; ``fov_deg`` is the horizontal FOV."""
    c2w = torch.as_tensor(np.asarray(c2w), dtype=torch.float32)[:, :3, :4]
    f = 0.5 * width / math.tan(math.radians(fov_deg) / 2)
    return Cameras(c2w=c2w, fx=f, fy=f, cx=width / 2, cy=height / 2, width=width, height=height, model="PINHOLE")


def free_space_mask(scene: SynthScene, points, clearance: float = 0.3) -> np.ndarray:
    """(N,) bool: which points (N, 3) lie in the room's free space at least ``clearance`` metres from any surface.

    A point is free when it is inside the room interior, its (unsigned) distance to the mesh is at least
    ``clearance`` and a ray-parity test says it is not inside a closed part (furniture).
    """
    o3d = import_open3d()
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    boxes = scene.room_boxes
    inside = np.zeros(len(pts), dtype=bool)
    for lo, hi in boxes:
        inside |= np.all((pts > lo + clearance) & (pts < hi - clearance), axis=1)
    rc = scene.raycaster()
    q = o3d.core.Tensor(pts.astype(np.float32))
    dist = rc.compute_distance(q).numpy()
    occupied = rc.compute_occupancy(q, nsamples=3).numpy() > 0.5
    return inside & (dist >= clearance) & ~occupied


def _sample_targets(scene: SynthScene, rng: np.random.Generator, k: int) -> np.ndarray:
    """(k, 3) look-at targets: furniture and wall art, random wall points and corners, points in the room."""
    lo, hi = scene.room_min, scene.room_max
    names = [
        "sofa_back", "painting", "poster", "table_top", "desk_top", "shelf_board_2", "plant_leaves_0",
        "lamp_shade", "door", "window_transom", "rug", "chair_back",
    ]  # fmt: skip
    centers = np.stack([scene.part_bounds[scene.part_index(nm)].mean(0) for nm in names])
    out = np.empty((k, 3))
    kind = rng.random(k)
    for i in range(k):
        if kind[i] < 0.4:
            out[i] = centers[rng.integers(len(centers))] + rng.normal(0, 0.15, 3)
        elif kind[i] < 0.7:  # a point on a wall, or a corner
            z = rng.uniform(0.2, 2.4)
            if rng.random() < 0.3:
                out[i] = [rng.choice([lo[0], hi[0]]), rng.choice([lo[1], hi[1]]), z]
            else:
                wall = rng.integers(4)
                a = rng.uniform(0.05, 0.95)
                x = lo[0] + a * (hi[0] - lo[0])
                y = lo[1] + a * (hi[1] - lo[1])
                out[i] = [[lo[0], y, z], [hi[0], y, z], [x, lo[1], z], [x, hi[1], z]][wall]
        else:
            out[i] = rng.uniform(lo + [0.3, 0.3, 0.1], hi - [0.3, 0.3, 1.0])
    return out


def default_demo_cameras(
    scene: SynthScene,
    n: int,
    width: int = 160,
    height: int = 120,
    seed: int = 0,
    fov_deg: float = 75.0,
    clearance: float = 0.3,
    heights: tuple[float, float] = (1.2, 1.8),
) -> Cameras:
    """``n`` PINHOLE cameras in the room's free space, looking at varied targets (no roll, world up = +Z).

    Positions: uniform in the room at heights in ``heights`` (metres), at least ``clearance`` from every
    surface (see :func:`free_space_mask`). Targets: furniture and wall art, walls and corners, points in the
    room, at least 1 m away horizontally, with a pitch between -55 and +30 degrees.
    """
    rng = np.random.default_rng(seed)
    lo, hi = scene.room_min, scene.room_max
    eyes: list[np.ndarray] = []
    for _ in range(100):
        if len(eyes) >= n:
            break
        cand = rng.uniform([lo[0], lo[1], heights[0]], [hi[0], hi[1], heights[1]], size=(max(4 * n, 64), 3))
        eyes.extend(cand[free_space_mask(scene, cand, clearance)])
    if len(eyes) < n:
        raise RuntimeError("default_demo_cameras: could not find enough free-space camera positions")
    mats = []
    for eye in eyes[:n]:
        for _ in range(200):
            target = _sample_targets(scene, rng, 1)[0]
            delta = target - eye
            horiz = np.hypot(delta[0], delta[1])
            pitch = math.degrees(math.atan2(delta[2], horiz))
            if horiz >= 1.0 and -55.0 <= pitch <= 30.0:
                break
        else:  # pragma: no cover - the room is big enough that this never happens
            target = np.array([0.0, 0.0, 1.0])
        mats.append(look_at_c2w(eye, target))
    return cameras_from_c2w(np.stack(mats), width, height, fov_deg)


def demo_tour_path_c2w(scene: SynthScene, n_frames: int, height: float = 1.55, clearance: float = 0.3) -> np.ndarray:
    """(n_frames, 4, 4) OpenGL c2w matrices of a smooth closed walk around the room at eye level.

    The camera moves on an ellipse around the room centre (shrunk until every frame is in free space),
    bobbing gently, and looks across the room while panning left and right, slightly downwards. The last
    frame joins the first smoothly (the loop is periodic).
    """
    c = 0.5 * (scene.room_min + scene.room_max)
    half = 0.5 * (scene.room_max - scene.room_min)
    theta = 2 * np.pi * np.arange(n_frames) / max(n_frames, 1)
    scale = 0.62
    for _ in range(20):
        ax, ay = scale * half[0], scale * half[1]
        eyes = np.stack(
            [c[0] + ax * np.cos(theta), c[1] + ay * np.sin(theta), height + 0.05 * np.sin(3 * theta)], 1
        )
        if free_space_mask(scene, eyes, clearance).all():
            break
        scale *= 0.9
    else:
        raise RuntimeError("demo_tour_path_c2w: no free loop found")
    # Look towards the centre, panning +-50 degrees; the target is 2.5 m away and 0.45 m lower.
    yaw = np.arctan2(c[1] - eyes[:, 1], c[0] - eyes[:, 0]) + np.radians(50.0) * np.sin(2 * theta)
    targets = eyes + np.stack([2.5 * np.cos(yaw), 2.5 * np.sin(yaw), np.full(n_frames, -0.45)], 1)
    return np.stack([look_at_c2w(e, t) for e, t in zip(eyes, targets)])


# ----------------------------------------------------------------------------------------------------------
# Dataset writer
# ----------------------------------------------------------------------------------------------------------


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        publish(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _save_png(path: Path, array: np.ndarray) -> None:
    from PIL import Image

    def write(tmp: Path) -> None:
        Image.fromarray(np.ascontiguousarray(array)).save(tmp, format="PNG")  # uint16 -> mode "I;16"

    _atomic_write(path, write)


def synthesize_dataset(
    scene: SynthScene | None,
    out_dir: str | Path,
    n_train: int = 100,
    n_test: int = 12,
    width: int = 160,
    height: int = 120,
    seed: int = 0,
    fov_deg: float = 75.0,
    cameras: Cameras | None = None,
    generator: str = "scenegen demo",
    extra_metadata: dict | None = None,
    progress: bool = False,
    console=None,
) -> Path:
    """Render a nerfstudio-format dataset of ``scene`` (default: :func:`make_demo_scene`) into ``out_dir``.

    Writes::

        out_dir/images/frame_00000.png     uint8 RGB
        out_dir/depth/frame_00000.png      uint16 z-depth in millimetres (0 = no depth)
        out_dir/transforms.json            written last

    ``transforms.json`` holds ``camera_model: "PINHOLE"``, ``fl_x fl_y cx cy w h``, ``frames`` (``file_path``,
    ``transform_matrix`` = 4x4 OpenGL c2w in metres, ``depth_file_path``), ``train_filenames`` /
    ``test_filenames`` (frame file paths) and ``metadata`` (generator, up axis, room aabb, units, depth
    definition). The test frames are every k-th camera of one common camera set (``cameras``, default
    :func:`default_demo_cameras`; n_train + n_test of them). Returns ``out_dir``.
    """
    scene = scene if scene is not None else make_demo_scene(seed)
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "depth").mkdir(parents=True, exist_ok=True)
    n_total = n_train + n_test
    cams = cameras if cameras is not None else default_demo_cameras(scene, n_total, width, height, seed=seed, fov_deg=fov_deg)
    if len(cams) != n_total:
        raise ValueError(f"synthesize_dataset: {len(cams)} cameras for {n_total} views")
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("[bold]render views"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console) as bar:
            task = bar.add_task("render", total=n_total)
            rgb, depth = render_views(scene, cams, on_chunk=lambda k, n: bar.update(task, completed=k))
    else:
        rgb, depth = render_views(scene, cams)
    test_ids = set(np.linspace(0, n_total - 1, n_test).round().astype(int).tolist()) if n_test else set()
    while len(test_ids) < n_test:  # pragma: no cover - only for tiny n_total
        test_ids.add(next(i for i in range(n_total) if i not in test_ids))
    frames, train_files, test_files = [], [], []
    for i in range(n_total):
        img_rel, dep_rel = f"images/frame_{i:05d}.png", f"depth/frame_{i:05d}.png"
        _save_png(out / img_rel, rgb[i])
        mm = np.clip(np.round(depth[i].astype(np.float64) * 1000.0), 0, 65535).astype(np.uint16)
        _save_png(out / dep_rel, mm)
        c2w = np.eye(4)
        c2w[:3, :4] = cams.c2w[i].double().numpy()
        frames.append({"file_path": img_rel, "transform_matrix": c2w.tolist(), "depth_file_path": dep_rel})
        (test_files if i in test_ids else train_files).append(img_rel)
    fx = float(cams.fx[0])
    meta = {
        "camera_model": "PINHOLE",
        "fl_x": fx,
        "fl_y": float(cams.fy[0]),
        "cx": float(cams.cx[0]),
        "cy": float(cams.cy[0]),
        "w": int(width),
        "h": int(height),
        "depth_unit_scale_factor": 0.001,
        "frames": frames,
        "train_filenames": train_files,
        "test_filenames": test_files,
        # The scene's bounds (room plus a margin for walls and the view through the window): a bounded scene.
        "aabb": (scene.aabb + np.array([[-0.3, -0.3, -0.3], [0.3, 0.3, 0.3]])).tolist(),
        "metadata": {
            "generator": generator,
            "up": [0.0, 0.0, 1.0],
            "aabb": scene.aabb.tolist(),
            "units": "metres",
            "depth": "z-depth along the camera's -Z axis, 16-bit PNG in millimetres, 0 = no depth",
            "seed": int(seed),
            **(extra_metadata or {}),
        },
    }
    text = json.dumps(meta, indent=2)
    _atomic_write(out / "transforms.json", lambda tmp: tmp.write_text(text))
    return out
