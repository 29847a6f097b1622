"""IFC (BIM) models -- what Revit, ArchiCAD and Vectorworks export -- read with ``ifcopenshell`` (the ``ifc`` extra).

``ifcopenshell.geom``'s iterator triangulates every product in world coordinates, in metres (the file's unit
assignment applied). Walls, slabs, roofs, doors, windows, furniture and the rest keep their surface style colours
per face; faces whose style is more than half transparent (glazing) are glass and are left out of the opaque
surfaces. Opening elements (the voids already cut from walls) and virtual elements are not drawn.

``IfcSpace`` solids become the rooms, named by their ``LongName`` ("Kitchen", "Bedroom 1") or else their
``Name``. Storeys are ``IfcBuildingStorey`` in order of height; a storey's dataset holds the elements contained
in it plus any element that reaches into its height (the slab above, which is its ceiling; a roof or a stair
contained elsewhere).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from scenegen.core.errors import InputError, MissingDependencyError
from scenegen.data.prior.mesh_materials import NEUTRAL, Look, ModelPart, Space

__all__ = ["read_ifc", "storey_names"]

_SKIP = ("IfcOpeningElement", "IfcVirtualElement", "IfcAnnotation", "IfcGrid", "IfcSpace", "IfcSpatialZone")


def _ifcopenshell():
    try:
        import ifcopenshell
        import ifcopenshell.geom
        import ifcopenshell.util.element
        import ifcopenshell.util.placement
        import ifcopenshell.util.unit
    except ImportError:
        raise MissingDependencyError("IFC models need ifcopenshell: install it with `pip install 'scenegen[ifc]'` "
                                     "(or `pip install ifcopenshell`)") from None
    return ifcopenshell


def _open(p: Path):
    ios = _ifcopenshell()
    try:
        return ios.open(str(p))
    except Exception as e:  # ifcopenshell raises its own and RuntimeError types for broken files
        msg = " ".join(str(e).split())[:160] or type(e).__name__
        raise InputError(f"cannot read the IFC file: {msg}", file=p, field="--mesh") from None


def _storeys(ios, f) -> list[tuple[str, float, object]]:
    """(name, world z in metres, entity) of every storey, lowest first."""
    scale = ios.util.unit.calculate_unit_scale(f)
    out = []
    for i, st in enumerate(f.by_type("IfcBuildingStorey")):
        z = None
        try:
            if st.ObjectPlacement is not None:
                z = float(ios.util.placement.get_local_placement(st.ObjectPlacement)[2, 3]) * scale
        except Exception:  # an unusual placement: fall back to the Elevation attribute
            z = None
        if z is None or (z == 0.0 and st.Elevation):
            z = float(st.Elevation or 0.0) * scale
        out.append((str(st.Name or f"storey {i}"), z, st))
    return sorted(out, key=lambda s: s[1])


def storey_names(path: str | Path) -> list[str]:
    """The storeys of an IFC file, lowest first."""
    ios = _ifcopenshell()
    return [s[0] for s in _storeys(ios, _open(Path(path)))]


def _pick_storey(storeys, storey: str, p: Path) -> int:
    names = [s[0] for s in storeys]
    if not storeys:
        raise InputError("the IFC file has no storeys (IfcBuildingStorey)", file=p, field="--storey")
    key = str(storey).strip()
    if key.lstrip("-").isdigit():
        k = int(key)
        if -len(names) <= k < len(names):
            return k % len(names)
    for i, n in enumerate(names):
        if n.lower() == key.lower():
            return i
    raise InputError(f"no storey {storey!r}; storeys (lowest first, or their index from 0): " + ", ".join(names),
                     file=p, field="--storey")


def _mesh(shape) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    g = shape.geometry
    v = np.asarray(g.verts, dtype=np.float64).reshape(-1, 3)
    fc = np.asarray(g.faces, dtype=np.int64).reshape(-1, 3)
    mid = np.asarray(g.material_ids, dtype=np.int64).reshape(-1)
    return v, fc, mid, list(g.materials)


def _style(m) -> tuple[np.ndarray, float]:
    try:
        rgb = np.array(m.diffuse.components, dtype=np.float64)[:3]
    except Exception:  # a style without a colour
        rgb = NEUTRAL.copy()
    t = float(getattr(m, "transparency", 0.0) or 0.0)
    return (rgb if np.isfinite(rgb).all() else NEUTRAL.copy()), (0.0 if math.isnan(t) else t)


def read_ifc(path: str | Path, storey: str | None = None):
    """An IFC file -> (parts, spaces, extra report) for :func:`~scenegen.data.prior.mesh_import.build_model_scene`.
    ``storey``: a storey name or index (0 = lowest); None: the whole building."""
    ios = _ifcopenshell()
    p = Path(path)
    f = _open(p)
    storeys = _storeys(ios, f)
    pick = None if storey is None else _pick_storey(storeys, storey, p)
    lo_z = hi_z = None
    if pick is not None:
        lo_z = storeys[pick][1]
        hi_z = storeys[pick + 1][1] if pick + 1 < len(storeys) else math.inf
    settings = ios.geom.settings()
    settings.set("use-world-coords", True)
    try:
        it = ios.geom.iterator(settings, f, max(1, min(8, os.cpu_count() or 1)))
        ok = it.initialize()
    except Exception as e:  # geometry kernel failures on a broken file
        raise InputError(f"cannot triangulate the IFC geometry: {' '.join(str(e).split())[:160]}", file=p,
                         field="--mesh") from None
    parts, spaces, order = [], [], []
    container_of = ios.util.element.get_container
    while ok:
        shape = it.get()
        el = f.by_id(shape.id)
        cls = el.is_a()
        v, fc, mid, mats = _mesh(shape)
        if len(fc) and len(v):
            cont = container_of(el) if cls != "IfcSpace" else ios.util.element.get_aggregate(el)
            sname = str(cont.Name) if cont is not None and cont.is_a("IfcBuildingStorey") else None
            keep = True
            if pick is not None:
                z0, z1 = float(v[:, 2].min()), float(v[:, 2].max())
                keep = sname == storeys[pick][0] or (z0 < hi_z - 0.05 and z1 > lo_z + 0.05)
                if cls == "IfcSpace":
                    keep = sname == storeys[pick][0] if sname is not None else (lo_z - 0.05 <= z0 < hi_z - 0.05)
            if keep and cls == "IfcSpace":
                name = str(el.LongName or el.Name or f"space {len(spaces) + 1}")
                spaces.append(Space(name, v, fc, sname, {"ifc_name": str(el.Name or ""), "id": int(el.id())}))
            elif keep and cls not in _SKIP:
                styles = [_style(m) for m in mats] or [(NEUTRAL.copy(), 0.0)]
                mid = np.clip(mid if len(mid) == len(fc) else np.zeros(len(fc), np.int64), 0, len(styles) - 1)
                rgb = np.array([s[0] for s in styles])[mid]
                glass = np.array([s[1] > 0.5 for s in styles])[mid]
                label = f"{cls} {el.Name or el.GlobalId}"
                for is_glass in (False, True):
                    sel = glass == is_glass
                    if sel.any():
                        look = Look(face_rgb=rgb[sel], glass=is_glass, source="material" if mats else "none",
                                    material=",".join(sorted({str(m.name) for m in mats}))[:80])
                        parts.append(ModelPart(label + (" glazing" if is_glass else ""), v, fc[sel], look, cls, sname))
                        order.append((int(el.id()), is_glass))
        if not it.next():
            break
    # the iterator runs in threads: its order varies, the dataset must not (same file, same seed, same dataset)
    parts = [parts[i] for i in sorted(range(len(parts)), key=lambda i: order[i])]
    spaces.sort(key=lambda sp: (round(float(sp.vertices[:, 2].min()), 2), sp.name, sp.extra["id"]))
    extra = {"storeys": [{"name": n, "elevation_m": round(z, 3)} for n, z, _ in storeys],
             "storey": storeys[pick][0] if pick is not None else "all (whole building)",
             "spaces": len(spaces)}
    return parts, spaces, extra
