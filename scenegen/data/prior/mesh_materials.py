"""The look of one part of a user's model, read from what trimesh loaded: per-face base colours, an optional
texture with per-vertex uv, or per-vertex colours; and whether the part is glass.

Sources, in the order they are used:

* glTF ``PBRMaterial``: ``baseColorTexture`` (sampled at the hit's uv) times ``baseColorFactor``;
* OBJ/MTL ``SimpleMaterial``: ``map_Kd`` (the texture alone: Blender and most viewers show ``map_Kd`` without
  multiplying it by ``Kd``, which exporters often leave at a default grey) or ``Kd``;
* vertex colours (PLY, glTF ``COLOR_0``) and face colours (PLY, OFF);
* nothing at all: a plausible neutral (light warm grey, :data:`NEUTRAL`), counted in the report.

Glass: a material with opacity below 0.5 (MTL ``d`` / ``Tr``, glTF ``alphaMode`` BLEND/MASK with a base colour
alpha below 0.5, colours with alpha below 0.5) or whose material or part name says glass / glazing. Glass parts
are left out of the opaque surfaces (the synthesiser has no refraction): views see through windows, as through an
open window of a generated flat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

__all__ = ["NEUTRAL", "Look", "ModelPart", "Space", "part_look"]

NEUTRAL = np.array([0.78, 0.77, 0.75])  # sRGB of an unpainted plaster / primer: a part with no material at all
_GLASS_NAME = re.compile(r"glass|glazing|glazed|vitrage|verre|\bglas\b|\bpane\b", re.IGNORECASE)
_MAX_TEXTURE = 1024  # texture side kept (pixels): views are a few hundred pixels wide


@dataclass
class Look:
    """The colours of one part (sRGB in [0, 1]).

    Attributes:
        face_rgb: (F, 3) base colour per face (the texture's multiplier when there is a texture).
        vertex_rgb: (V, 3) per-vertex colours (interpolated across faces) or None.
        texture: (H, W, 3) uint8 sRGB image or None; ``uv`` (V, 2) its texture coordinates (glTF/OBJ convention:
            v = 0 at the bottom row).
        glass: the part is transparent glass (left out of the opaque surfaces).
        source: what the colour came from ("texture", "material", "vertex colours", "face colours", "none").
        material: the material's name ("" if none).
    """

    face_rgb: np.ndarray
    vertex_rgb: np.ndarray | None = None
    texture: np.ndarray | None = None
    uv: np.ndarray | None = None
    glass: bool = False
    source: str = "none"
    material: str = ""


@dataclass
class ModelPart:
    """One part of a model in its own units and axes: vertices (N, 3), faces (M, 3), its :class:`Look`, and for
    IFC its class (``IfcWall``...) and storey name."""

    name: str
    vertices: np.ndarray
    faces: np.ndarray
    look: Look
    kind: str = ""
    storey: str | None = None


@dataclass
class Space:
    """A named room given by the model (an ``IfcSpace``): its closed solid in metres, +Z up."""

    name: str
    vertices: np.ndarray
    faces: np.ndarray
    storey: str | None = None
    extra: dict = field(default_factory=dict)


def _image_array(img) -> np.ndarray | None:
    """A PIL image -> (H, W, 3) uint8 RGB, at most :data:`_MAX_TEXTURE` a side; None if unreadable."""
    try:
        from PIL import Image

        im = img.convert("RGB")
        if max(im.size) > _MAX_TEXTURE:
            k = _MAX_TEXTURE / max(im.size)
            im = im.resize((max(1, round(im.size[0] * k)), max(1, round(im.size[1] * k))), Image.BILINEAR)
        arr = np.asarray(im, dtype=np.uint8)
        return arr if arr.ndim == 3 and arr.shape[0] > 0 and arr.shape[1] > 0 else None
    except Exception:  # a texture PIL cannot decode: the base colour is used instead
        return None


def _rgba01(c) -> np.ndarray | None:
    if c is None:
        return None
    a = np.asarray(c, dtype=np.float64).ravel()
    if a.size < 3 or not np.isfinite(a).all():
        return None
    if a.max() > 1.0 + 1e-6:  # trimesh keeps colours as uint8
        a = a / 255.0
    return np.concatenate([a[:3], a[3:4] if a.size > 3 else [1.0]])


def _mtl_opacity(kwargs: dict) -> float:
    """Opacity of an MTL material: ``d`` (1 = opaque) or ``Tr`` (1 - d); 1 when neither is given."""
    for key, flip in (("d", False), ("tr", True)):
        val = kwargs.get(key)
        if val is None:
            continue
        try:
            x = float(np.ravel(val)[0] if not isinstance(val, str) else val)
        except (TypeError, ValueError, IndexError):
            continue
        return 1.0 - x if flip else x
    return 1.0


def part_look(geom, name: str = "") -> Look:
    """The :class:`Look` of a trimesh geometry (its ``visual``), named ``name`` (the node name)."""
    nf, nv = len(geom.faces), len(geom.vertices)
    vis = getattr(geom, "visual", None)
    kind = getattr(vis, "kind", None)
    mat = getattr(vis, "material", None)
    mat_name = str(getattr(mat, "name", "") or "")
    glass_name = bool(_GLASS_NAME.search(mat_name) or _GLASS_NAME.search(name))
    look = Look(face_rgb=np.tile(NEUTRAL, (nf, 1)), material=mat_name, glass=glass_name)
    if mat is not None and hasattr(vis, "uv"):  # TextureVisuals: a material, maybe a texture
        uv = getattr(vis, "uv", None)
        uv = np.asarray(uv, dtype=np.float64) if uv is not None else None
        uv_ok = uv is not None and uv.shape == (nv, 2) and np.isfinite(uv).all()
        if hasattr(mat, "baseColorFactor") or hasattr(mat, "baseColorTexture"):  # glTF PBR
            factor = _rgba01(getattr(mat, "baseColorFactor", None))
            tex = getattr(mat, "baseColorTexture", None)
            alpha_mode = str(getattr(mat, "alphaMode", None) or "OPAQUE").upper()
            if factor is not None and alpha_mode != "OPAQUE" and factor[3] < 0.5:
                look.glass = True
            if tex is not None and uv_ok and (arr := _image_array(tex)) is not None:
                look.texture, look.uv, look.source = arr, uv, "texture"
                look.face_rgb = np.tile(factor[:3] if factor is not None else np.ones(3), (nf, 1))
            elif factor is not None:
                look.face_rgb, look.source = np.tile(factor[:3], (nf, 1)), "material"
        else:  # OBJ/MTL SimpleMaterial
            kwargs = {str(k).lower(): val for k, val in (getattr(mat, "kwargs", None) or {}).items()}
            if _mtl_opacity(kwargs) < 0.5:
                look.glass = True
            img = getattr(mat, "image", None)
            diffuse = _rgba01(getattr(mat, "diffuse", None))
            has_kd = "kd" in kwargs or not kwargs  # materials not read from an MTL carry their diffuse only
            if img is not None and uv_ok and (arr := _image_array(img)) is not None:
                look.texture, look.uv, look.source = arr, uv, "texture"
                look.face_rgb = np.ones((nf, 3))
            elif diffuse is not None and has_kd:
                look.face_rgb, look.source = np.tile(diffuse[:3], (nf, 1)), "material"
        return look
    if kind == "vertex":
        vc = _rgba01_rows(getattr(vis, "vertex_colors", None), nv)
        if vc is not None:
            look.vertex_rgb, look.source = vc[:, :3], "vertex colours"
            look.face_rgb = vc[np.asarray(geom.faces)].mean(1)[:, :3]
            if np.median(vc[:, 3]) < 0.5:
                look.glass = True
    elif kind == "face":
        fc = _rgba01_rows(getattr(vis, "face_colors", None), nf)
        if fc is not None:
            look.face_rgb, look.source = fc[:, :3], "face colours"
            if np.median(fc[:, 3]) < 0.5:
                look.glass = True
    return look


def _rgba01_rows(c, n: int) -> np.ndarray | None:
    if c is None:
        return None
    a = np.asarray(c, dtype=np.float64)
    if a.ndim != 2 or len(a) != n or a.shape[1] < 3:
        return None
    if a.shape[1] == 3:
        a = np.concatenate([a, np.full((n, 1), 255.0)], 1)
    return a[:, :4] / 255.0
