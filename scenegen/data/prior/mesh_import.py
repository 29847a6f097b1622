"""A user's 3D model (glTF/GLB, OBJ, PLY, STL, OFF, IFC) -> :class:`~scenegen.data.synth.SynthScene` in metres,
+Z up, with its rooms; every assumption goes into a report (``model_report.json``).

Steps (each reported):

1. **Read** the parts: trimesh for meshes (scene-graph transforms applied), :mod:`~scenegen.data.prior.ifc_import`
   for IFC. Each part keeps its look per face (:mod:`~scenegen.data.prior.mesh_materials`): material colours,
   textures with their uv, vertex or face colours; glass parts are left out of the opaque surfaces.
2. **Up axis**: glTF is +Y up by its standard, and so are OBJ exports from the common modellers; PLY, STL and OFF
   are taken as +Z up, IFC is +Z up. ``--up`` overrides. A model much taller than wide gets a warning.
3. **Site and units** (:mod:`~scenegen.data.prior.site`): ground planes, terrain, sky domes and far-away context
   are told from the building first; the units come from the building's clear storey height (or its size when
   it has no ceilings). IFC carries its units (geometry is read in metres). ``--units`` overrides.
4. **Rooms** (:mod:`~scenegen.data.prior.model_rooms`, or the IFC's ``IfcSpace`` solids with their names): a
   model with rooms is an interior (cameras in every room); one without (a facade, a block) is seen from outside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from scenegen.cameras.poses import rotation_between
from scenegen.core.errors import InputError
from scenegen.data.prior import site as site_mod
from scenegen.data.prior.ifc_import import read_ifc
from scenegen.data.prior.materials import prior_materials
from scenegen.data.prior.mesh_materials import NEUTRAL, ModelPart, Space, part_look
from scenegen.data.prior.model_rooms import ModelRoom, find_rooms
from scenegen.data.synth.materials import MESH_COLOR
from scenegen.data.synth.o3d import import_open3d
from scenegen.data.synth.scene import Part, SynthScene

__all__ = ["SUPPORTED", "build_model_scene", "load_model_scene", "read_mesh_parts"]

SUPPORTED = (".glb", ".gltf", ".obj", ".ply", ".stl", ".off", ".ifc")
_UP_VECTORS = {"+z": (0, 0, 1), "-z": (0, 0, -1), "+y": (0, 1, 0), "-y": (0, -1, 0), "+x": (1, 0, 0), "-x": (-1, 0, 0)}


def read_mesh_parts(p: Path) -> list[ModelPart]:
    """The parts of a glTF/OBJ/PLY/STL/OFF file (scene-graph transforms applied)."""
    try:
        loaded = trimesh.load(p, force="scene", process=False)
    except Exception as e:  # trimesh raises many types for corrupt files
        msg = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise InputError(f"cannot read the model: {msg}", file=p, field="--mesh") from None
    parts = []
    for name in loaded.graph.nodes_geometry:
        transform, gname = loaded.graph[name]
        g = loaded.geometry.get(gname)
        if g is None or not hasattr(g, "faces") or len(getattr(g, "faces", [])) == 0:
            continue
        g = g.copy()
        g.apply_transform(transform)
        v = np.asarray(g.vertices, dtype=np.float64)
        if not np.isfinite(v).all():
            raise InputError(f"geometry {str(name)!r} has non-finite vertex coordinates", file=p, field="--mesh")
        f = np.asarray(g.faces, dtype=np.int64)
        if len(f) and (f.min() < 0 or f.max() >= len(v)):
            raise InputError(f"geometry {str(name)!r} has faces that name missing vertices", file=p, field="--mesh")
        parts.append(ModelPart(str(name), v, f, part_look(g, str(name))))
    return parts


def load_model_scene(path: str | Path, up: str = "auto", units: str = "auto", seed: int = 0,
                     storey: str | None = None) -> tuple[SynthScene, dict]:
    """Read a model into a scene for the synthesiser; returns the scene and a report (assumptions, warnings,
    site geometry, rooms). ``storey`` (IFC only): a storey name or index; None is the whole building."""
    p = Path(path)
    if not p.exists():
        raise InputError("model file not found", file=p, field="--mesh")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(f"unsupported model format {p.suffix!r} (supported: {', '.join(SUPPORTED)})", file=p, field="--mesh")
    spaces: list[Space] | None = None
    extra: dict = {}
    if suffix == ".ifc":
        parts, spaces, extra = read_ifc(p, storey)
        up_default, up_reason = "+z", "IFC is +Z up"
        if units == "auto":
            units, extra["units_reason"] = "m", "IFC geometry read in metres (the file's unit assignment applied)"
    else:
        if storey is not None:
            raise InputError("--storey applies to IFC models only", field="--storey")
        parts = read_mesh_parts(p)
        up_default = "+y" if suffix in (".glb", ".gltf", ".obj") else "+z"
        up_reason = {".glb": "glTF is +Y up", ".gltf": "glTF is +Y up", ".obj": "OBJ exports are +Y up"}.get(
            suffix, "PLY/STL/OFF taken as +Z up")
    if not parts:
        raise InputError("the model has no faces (points or lines only, or empty)", file=p, field="--mesh")
    scene, report = build_model_scene(parts, up=up, units=units, up_default=up_default, up_reason=up_reason,
                                      spaces=spaces, seed=seed)
    report = {"file": str(p), **report, **{k: v for k, v in extra.items() if k != "units_reason"}}
    if "units_reason" in extra and report["units_reason"] != "given with --units":
        report["units_reason"] = extra["units_reason"]
    return scene, report


def build_model_scene(parts: list[ModelPart], up: str = "auto", units: str = "auto", up_default: str = "+z",
                      up_reason: str = "", spaces: list[Space] | None = None, seed: int = 0) -> tuple[SynthScene, dict]:
    """Parts -> scene (metres, +Z up, building centred with its lowest floor at z = 0) and the report."""
    warnings: list[str] = []
    glass = [q.name for q in parts if q.look.glass]
    opaque = [q for q in parts if not q.look.glass]
    if not opaque:
        raise InputError("the model has only glass (transparent) parts", field="--mesh")
    if glass:
        warnings.append(f"{len(glass)} glass part(s) left out of the opaque surfaces (views see through them): "
                        + ", ".join(glass[:6]) + (" ..." if len(glass) > 6 else ""))
    V, F, FP = _concat(opaque)
    no_material = [q.name for q in opaque if q.look.source == "none"]
    if no_material:
        warnings.append(f"{len(no_material)} of {len(opaque)} parts carry no material or colour: shaded a neutral "
                        "light grey")

    # ---- up axis ------------------------------------------------------------------------------------------------
    ext = V.max(0) - V.min(0)
    if up == "auto":
        up = up_default
        ax = "xyz".index(up[1])
        others = [ext[i] for i in range(3) if i != ax]
        if ext[ax] > 1.5 * max(others):
            warnings.append(f"assumed up axis {up} ({up_reason}) but the model is tallest along it "
                            f"({ext[ax]:.3g} vs {max(others):.3g}): pass --up if it lies on its side")
    else:
        up_reason = "given with --up"
    R = rotation_between(_UP_VECTORS[up], (0.0, 0.0, 1.0))
    V = V @ R.T
    if float(np.max(V.max(0) - V.min(0))) <= 0:
        raise InputError("the model is degenerate (all vertices at one point)", field="--mesh")

    # ---- site geometry, then units from the building ---------------------------------------------------------------
    site, drop, site_found = site_mod.split_site(V, F, FP, [q.name for q in opaque])
    bsel = ~site & ~drop
    if not bsel.any():  # everything looked like site: keep it all as the building
        bsel, site, drop, site_found = np.ones(len(F), bool), np.zeros(len(F), bool), np.zeros(len(F), bool), []
    bv = V[np.unique(F[bsel])]
    blo, bhi = bv.min(0), bv.max(0)
    probe = site_mod.Probe(V, F[bsel], blo, bhi)
    if units == "auto":
        units, unit_reason = site_mod.judge_units(probe, blo, bhi)
    else:
        unit_reason = "given with --units"
    s = site_mod.UNIT_SCALE[units]
    if float(np.max(bhi - blo)) * s < 1.0:
        warnings.append(f"the building is only {float(np.max(bhi - blo)) * s:.3g} m across in {units}: pass --units "
                        "if it is not to scale")
    keep = ~drop
    F_keep, FP_keep = F[keep], FP[keep]
    # floors (z, clear height) in metres, before the shift; none when the model has no ceilings to measure (the
    # gaps under door and window heads are not storeys)
    levels = probe.levels(s) if probe.storey_height()[1] >= 0.25 else []
    # centred on the building, its lowest floor at z = 0 (the building's bottom when no floor was found)
    shift = np.array([-(blo[0] + bhi[0]) / 2 * s, -(blo[1] + bhi[1]) / 2 * s, -(levels[0][0] if levels else blo[2] * s)])
    V = V * s + shift
    blo, bhi = blo * s + shift, bhi * s + shift
    for item in site_found:
        item["size_m"] = np.round(np.asarray(item.pop("size")) * s, 3).tolist()
        item["kept_in_views"] = item["kind"] != "sky dome or enclosing shell"

    mesh = trimesh.Trimesh(V, F_keep, process=False)
    face_colors, face_tex, face_uv, textures, vcols = _looks(opaque, V, F, keep)
    watertight = bool(mesh.is_watertight)
    if not watertight:
        warnings.append("the model is not watertight (open edges): fine for rendering; free space is judged by "
                        "rays and distances to its surfaces")

    # ---- rooms ------------------------------------------------------------------------------------------------
    from_rc = site_mod.raycaster(V, F_keep)
    levels = [(z + shift[2], h) for z, h in levels]
    if not levels:
        levels = [(float(blo[2]), float(max(bhi[2] - blo[2], 2.0)))]
    if spaces is not None and spaces:
        rooms = _space_rooms(spaces, lambda v: (v @ R.T) * s + shift)
        room_source = "IfcSpace"
    else:
        rooms = find_rooms(from_rc, blo, bhi, levels)
        room_source = "free space"
    area = sum(r.area for r in rooms)
    interior = bool(rooms) and area >= 4.0
    if not interior:
        rooms = []
    materials = prior_materials()
    mat = materials.index(MESH_COLOR)
    parts_out = []
    for k, q in enumerate(opaque):
        sel = FP_keep == k
        vv = V[np.unique(F_keep[sel])] if sel.any() else np.zeros((1, 3))
        parts_out.append(Part(q.name, mat, np.stack([vv.min(0), vv.max(0)])))
    sun = np.array([-0.35, -1.0, 0.85])
    if rooms:
        lights = [((r.box[0] + r.box[1]) / 2 * [1, 1, 0] + [0, 0, r.box[1][2] - 0.3],
                   np.array([2.6, 2.4, 2.1]) * max(1.0, r.area / 20.0), r.box) for r in rooms]
    else:
        c = (blo + bhi) / 2
        lights = [(np.array([c[0], c[1], bhi[2] + 2.0]), np.array([2.6, 2.4, 2.1]) * max(1.0, float(np.prod(bhi[:2] - blo[:2])) / 20.0))]
    scene = SynthScene(
        mesh=mesh, face_part=FP_keep.astype(np.int32), parts=parts_out, room_min=blo, room_max=bhi,
        sun_dir=sun / np.linalg.norm(sun), sun_color=np.array([2.6, 2.35, 2.0]), point_lights=lights,
        ambient=np.array([0.5, 0.52, 0.56]), seed=int(seed), rooms=np.stack([r.box for r in rooms]) if rooms else None,
        vertex_colors=vcols, face_colors=face_colors, face_texture=face_tex, face_uv=face_uv, textures=textures,
        materials=materials, room_names=[r.name for r in rooms] or None,
        room_cells=[r.cells for r in rooms] or None,
    )
    sources: dict[str, int] = {}
    for q in opaque:
        sources[q.look.source] = sources.get(q.look.source, 0) + 1
    report = {
        "parts": len(parts), "vertices": int(len(V)), "faces": int(len(F_keep)),
        "up_axis": up, "up_reason": up_reason, "units": units, "units_reason": unit_reason,
        "size_m": np.round(bhi - blo, 3).tolist(), "interior": interior, "watertight": watertight,
        "site": site_found, "glass_parts": glass, "colour_sources": sources,
        "floor_levels_m": [[round(z, 3), round(h, 3)] for z, h in levels],
        "rooms_from": room_source,
        "rooms": [{"name": r.name, "box": np.round(r.box, 3).tolist(), "area_m2": round(r.area, 2),
                   "floor_z": round(r.level, 3)} for r in rooms],
        "warnings": warnings,
    }
    return scene, report


def _concat(parts: list[ModelPart]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    verts, faces, fp, off = [], [], [], 0
    for k, q in enumerate(parts):
        verts.append(q.vertices)
        faces.append(q.faces + off)
        fp.append(np.full(len(q.faces), k, dtype=np.int32))
        off += len(q.vertices)
    return np.concatenate(verts), np.concatenate(faces), np.concatenate(fp)


def _looks(parts: list[ModelPart], V, F, keep):
    """Per-face linear colours, texture ids, uv (F, 3, 2), textures and per-vertex colours of the kept faces."""
    fc, ft, fuv, textures, vc = [], [], [], [], []
    any_vertex = any(q.look.vertex_rgb is not None for q in parts)
    for q in parts:
        lk, n = q.look, len(q.faces)
        fc.append(np.clip(lk.face_rgb, 0, 1) ** 2.2)
        if lk.texture is not None:
            ft.append(np.full(n, len(textures), dtype=np.int32))
            fuv.append(lk.uv[q.faces].astype(np.float32))
            textures.append(lk.texture)
        else:
            ft.append(np.full(n, -2 if lk.vertex_rgb is not None else -1, dtype=np.int32))
            fuv.append(np.zeros((n, 3, 2), dtype=np.float32))
        if any_vertex:
            vc.append(np.clip(lk.vertex_rgb, 0, 1) ** 2.2 if lk.vertex_rgb is not None
                      else np.tile(NEUTRAL ** 2.2, (len(q.vertices), 1)))
    face_tex = np.concatenate(ft)[keep]
    uv = np.concatenate(fuv)[keep] if textures else None
    return (np.concatenate(fc)[keep], face_tex, uv, textures, np.concatenate(vc) if any_vertex else None)


def _space_rooms(spaces: list[Space], to_scene) -> list[ModelRoom]:
    """Rooms from named space solids (metres): box, and the grid cells (0.25 m) of its footprint inside it."""
    o3d = import_open3d()
    rooms = []
    for sp in spaces:
        v = to_scene(sp.vertices)
        lo, hi = v.min(0), v.max(0)
        srm = site_mod.raycaster(v, sp.faces)
        cell = 0.25
        xs = np.arange(lo[0] + cell / 2, hi[0], cell)
        ys = np.arange(lo[1] + cell / 2, hi[1], cell)
        if len(xs) == 0 or len(ys) == 0:
            continue
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        z = lo[2] + min(1.5, 0.5 * (hi[2] - lo[2]))
        pts = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, z)], 1).astype(np.float32)
        inside = srm.compute_occupancy(o3d.core.Tensor(pts), nsamples=3).numpy() > 0.5
        cells = pts[inside, :2].astype(np.float64)
        if len(cells) == 0:
            cells = pts[:, :2].astype(np.float64)
        rooms.append(ModelRoom(sp.name, np.stack([lo, hi]), cells, float(lo[2]), float(len(cells) * cell * cell)))
    return rooms
