"""The synthetic scene model: a triangle mesh of closed primitives, each part with a material, the lights, the
room boxes (free space), and an Open3D ray caster over the mesh (open3d is imported only when one is needed).

Conventions: metres, right-handed, **+Z is up**. Every primitive is a closed (watertight) box, cylinder or
ellipsoid, built with :class:`SceneBuilder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from scenegen.data.synth.materials import MaterialRegistry, base_materials
from scenegen.data.synth.o3d import import_open3d

__all__ = ["Part", "SceneBuilder", "SynthScene", "free_space_mask"]


@dataclass
class Part:
    """One primitive of the scene.

    Attributes:
        name: e.g. ``"sofa_seat"``.
        material: index into the scene's :attr:`SynthScene.materials`.
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
        face_colors: optional (F, 3) linear albedo per face for parts of material "mesh_color" (an imported
            model's material colours); when given it takes the place of ``vertex_colors`` except on faces whose
            ``face_texture`` says otherwise.
        face_texture: optional (F,) int32 per face: -1 the face colour, -2 the vertex colours interpolated, k >= 0
            ``textures[k]`` sampled at the face's ``face_uv`` (F, 3, 2) and multiplied by the face colour.
        textures: (H, W, 3) uint8 sRGB images that ``face_texture`` refers to.
        room_names: optional names of the ``rooms`` (an imported model's rooms; briefs name theirs in the plan).
        room_cells: optional (M, 2) xy points per room where a camera may stand (an imported model's free floor
            cells; an L-shaped room's box also covers its neighbours).
        ambient: (3,) linear RGB ambient irradiance (scaled by ambient occlusion).
        seed: seed of the procedural textures and of the furniture details.
        materials: the registry the parts' material indices refer to (default: :func:`base_materials`).
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
    face_colors: np.ndarray | None = None
    face_texture: np.ndarray | None = None
    face_uv: np.ndarray | None = None
    textures: list = field(default_factory=list, repr=False, compare=False)
    room_names: list | None = None
    room_cells: list | None = field(default=None, repr=False, compare=False)
    materials: MaterialRegistry = field(default_factory=base_materials, repr=False, compare=False)
    _raycaster: object = field(default=None, repr=False, compare=False)

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


class SceneBuilder:
    """Collects primitives (each a closed trimesh) with their material, named in ``materials``.

    ``build()`` returns the mesh and the face -> part index; ``parts`` and ``materials`` go into the
    :class:`SynthScene`.
    """

    def __init__(self, materials: MaterialRegistry | None = None) -> None:
        self.materials = materials if materials is not None else base_materials()
        self.meshes: list[trimesh.Trimesh] = []
        self.parts: list[Part] = []

    def add(self, name: str, material: str, mesh: trimesh.Trimesh) -> None:
        self.meshes.append(mesh)
        self.parts.append(Part(name, self.materials.index(material), np.asarray(mesh.bounds, dtype=np.float64).copy()))

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

