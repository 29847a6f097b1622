"""A user's 3D model (glTF/GLB, OBJ, PLY, STL) -> :class:`~scenegen.data.synth.SynthScene` in metres, +Z up.

trimesh reads the file (scene graph transforms applied); each geometry's colours become per-vertex albedo
(textures sampled at the vertices, material base colours, vertex or face colours), so the rendered dataset keeps
the model's own look. Units and up axis are detected and every assumption is reported:

* up axis: glTF is +Y up by its standard, and so are OBJ exports from the common modellers; PLY and STL are
  taken as +Z up. ``--up`` overrides. A model whose "up" extent is much larger than both others gets a warning.
* units: a building or room spans about 2-200 m. A model 100x or 1000x larger than that is read as centimetres
  or millimetres (Revit, SketchUp and CAD exports often are); ``--units`` overrides.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from scenegen.cameras.poses import rotation_between
from scenegen.core.errors import InputError
from scenegen.data.prior.materials import prior_materials
from scenegen.data.synth.materials import MESH_COLOR
from scenegen.data.synth.o3d import import_open3d
from scenegen.data.synth.scene import Part, SynthScene

SUPPORTED = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off")
_UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "in": 0.0254}
_UP_VECTORS = {"+z": (0, 0, 1), "-z": (0, 0, -1), "+y": (0, 1, 0), "-y": (0, -1, 0), "+x": (1, 0, 0), "-x": (-1, 0, 0)}


def _vertex_colors(geom) -> np.ndarray | None:
    """(V, 3) sRGB colours in [0, 1] of a trimesh geometry, or None when it carries no colour."""
    vis = getattr(geom, "visual", None)
    if vis is None:
        return None
    try:
        if vis.kind == "texture":
            vis = vis.to_color()  # samples the texture (or the material's base colour) at the vertices
        if vis.kind in ("vertex", "face"):
            vc = np.asarray(vis.vertex_colors, dtype=np.float64)[:, :3] / 255.0
            if len(vc) == len(geom.vertices):
                return vc
    except Exception:  # a broken material or texture: fall back to grey, reported by the caller
        return None
    return None


def load_model_scene(path: str | Path, up: str = "auto", units: str = "auto", seed: int = 0) -> tuple[SynthScene, dict]:
    """Read a model into a scene for the synthesiser; returns the scene and a report (assumptions, warnings)."""

    p = Path(path)
    if not p.exists():
        raise InputError("model file not found", file=p, field="--mesh")
    if p.suffix.lower() not in SUPPORTED:
        raise InputError(f"unsupported model format {p.suffix!r} (supported: {', '.join(SUPPORTED)})", file=p, field="--mesh")
    try:
        loaded = trimesh.load(p, force="scene", process=False)
    except Exception as e:  # trimesh raises many types for corrupt files
        msg = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise InputError(f"cannot read the model: {msg}", file=p, field="--mesh") from None
    geoms = []
    for name in loaded.graph.nodes_geometry:
        transform, gname = loaded.graph[name]
        g = loaded.geometry.get(gname)
        if g is None or not hasattr(g, "faces") or len(getattr(g, "faces", [])) == 0:
            continue
        g = g.copy()
        g.apply_transform(transform)
        geoms.append((str(name), g))
    if not geoms:
        raise InputError("the model has no faces (points or lines only, or empty)", file=p, field="--mesh")
    warnings: list[str] = []
    verts, faces, face_part, colors, parts = [], [], [], [], []
    off = 0
    uncoloured = 0
    for k, (name, g) in enumerate(geoms):
        v = np.asarray(g.vertices, dtype=np.float64)
        f = np.asarray(g.faces, dtype=np.int64)
        if not np.isfinite(v).all():
            raise InputError(f"geometry {name!r} has non-finite vertex coordinates", file=p, field="--mesh")
        vc = _vertex_colors(g)
        if vc is None:
            uncoloured += 1
            vc = np.full((len(v), 3), 0.78)
        verts.append(v)
        faces.append(f + off)
        face_part.append(np.full(len(f), k, dtype=np.int32))
        colors.append(vc)
        off += len(v)
    V = np.concatenate(verts)
    F = np.concatenate(faces)
    C = np.concatenate(colors)
    if uncoloured:
        warnings.append(f"{uncoloured} of {len(geoms)} parts carry no colour or texture: shaded light grey")

    # ---- up axis ------------------------------------------------------------------------------------------------
    ext = V.max(0) - V.min(0)
    if up == "auto":
        up = "+y" if p.suffix.lower() in (".glb", ".gltf", ".obj") else "+z"
        up_reason = {".glb": "glTF is +Y up", ".gltf": "glTF is +Y up"}.get(p.suffix.lower(),
                     "OBJ exports are +Y up" if p.suffix.lower() == ".obj" else "PLY/STL/OFF taken as +Z up")
        ax = "xyz".index(up[1])
        others = [ext[i] for i in range(3) if i != ax]
        if ext[ax] > 1.5 * max(others):
            warnings.append(f"assumed up axis {up} ({up_reason}) but the model is tallest along it "
                            f"({ext[ax]:.3g} vs {max(others):.3g}): pass --up if it lies on its side")
    else:
        up_reason = "given with --up"
    R = rotation_between(_UP_VECTORS[up], (0.0, 0.0, 1.0))
    V = V @ R.T

    # ---- units --------------------------------------------------------------------------------------------------
    size = float(np.max(V.max(0) - V.min(0)))
    if size <= 0:
        raise InputError("the model is degenerate (all vertices at one point)", file=p, field="--mesh")
    if units == "auto":
        if size > 2000:
            units, unit_reason = "mm", f"{size:.4g} units across is a building in millimetres"
        elif size > 200:
            units, unit_reason = "cm", f"{size:.4g} units across is a building in centimetres"
        else:
            units, unit_reason = "m", f"{size:.4g} units across, read as metres"
            if size < 1.0:
                warnings.append(f"the model is only {size:.3g} m across if its units are metres: "
                                "pass --units if it is not to scale")
    else:
        unit_reason = "given with --units"
    V = V * _UNIT_SCALE[units]

    # ---- mesh quality -------------------------------------------------------------------------------------------
    tm = trimesh.Trimesh(V, F, process=False)
    if not tm.is_watertight:
        warnings.append("the model is not watertight (open edges): fine for rendering; free space is judged by "
                        "distance to its surfaces")
    if len(tm.faces) and not tm.is_winding_consistent:
        warnings.append("faces are not consistently oriented: shading uses two-sided normals")

    # Floor at z = 0, centred in x/y.
    lo, hi = V.min(0), V.max(0)
    shift = np.array([-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2]])
    V = V + shift
    lo, hi = V.min(0), V.max(0)
    materials = prior_materials()
    mat = materials.index(MESH_COLOR)
    parts = []
    FP = np.concatenate(face_part)
    for k, (name, g) in enumerate(geoms):
        sel = np.unique(F[FP == k])
        parts.append(Part(name, mat, np.stack([V[sel].min(0), V[sel].max(0)])))
    mesh = trimesh.Trimesh(V, F, process=False)
    interior = _is_interior(mesh, lo, hi)
    c = (lo + hi) / 2
    light_z = hi[2] - 0.3 if interior else hi[2] + 2.0
    sun = np.array([-0.35, -1.0, 0.85])
    scene = SynthScene(
        mesh=mesh, face_part=FP, parts=parts, room_min=lo, room_max=hi, sun_dir=sun / np.linalg.norm(sun),
        sun_color=np.array([2.6, 2.35, 2.0]),
        point_lights=[(np.array([c[0], c[1], light_z]), np.array([2.6, 2.4, 2.1]) * max(1.0, float(np.prod(hi[:2] - lo[:2])) / 20.0))],
        ambient=np.array([0.5, 0.52, 0.56]), seed=int(seed), vertex_colors=np.clip(C, 0, 1) ** 2.2, materials=materials,
    )
    report = {
        "file": str(p), "parts": len(geoms), "vertices": int(len(V)), "faces": int(len(F)),
        "up_axis": up, "up_reason": up_reason, "units": units, "units_reason": unit_reason,
        "size_m": np.round(hi - lo, 3).tolist(), "interior": bool(interior), "watertight": bool(tm.is_watertight),
        "warnings": warnings,
    }
    return scene, report


def _is_interior(mesh, lo, hi, samples: int = 96) -> bool:
    """Whether the model is a space to stand in (a room, a flat) rather than an object to look at: at eye height
    (1.5 m, or mid-height for small models), a quarter or more of random points are enclosed by surfaces in all
    six axis directions without being inside a solid."""
    rng = np.random.default_rng(0)
    o3 = import_open3d()
    tm = o3.t.geometry.TriangleMesh()
    tm.vertex.positions = o3.core.Tensor(np.asarray(mesh.vertices, dtype=np.float32))
    tm.triangle.indices = o3.core.Tensor(np.asarray(mesh.faces, dtype=np.int32))
    rc = o3.t.geometry.RaycastingScene()
    rc.add_triangles(tm)
    pts = rng.uniform(lo, hi, size=(samples, 3))
    pts[:, 2] = lo[2] + min(1.5, 0.5 * (hi[2] - lo[2]))
    dirs = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=np.float32)
    rays = np.concatenate([np.repeat(pts, 6, 0), np.tile(dirs, (samples, 1))], 1).astype(np.float32)
    t = rc.cast_rays(o3.core.Tensor(rays))["t_hit"].numpy().reshape(samples, 6)
    solid = rc.compute_occupancy(o3.core.Tensor(pts.astype(np.float32)), nsamples=5).numpy() > 0.5
    enclosed = np.isfinite(t).all(1) & ~solid
    return bool(enclosed.mean() >= 0.25)
