"""Materials of the synthetic scenes: procedural textures (functions of the 3D hit point, so no UV maps are
needed) and the :class:`MaterialRegistry` that names them.

A texture is ``texture(p, n, part, scene) -> (M, 3)`` linear albedo of hit points ``p`` (M, 3) with normals ``n``
(M, 3) on parts ``part`` (M,) of ``scene`` (a :class:`~scenegen.data.synth.scene.SynthScene`). Every scene owns
its registry (``scene.materials``); :func:`base_materials` is a fresh registry of the furnished-room materials,
and producers that need more (the prior's floors, paints and finishes) register them on a registry they own.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "MESH_COLOR",
    "MaterialRegistry",
    "Texture",
    "base_materials",
    "fabric_texture",
    "fbm",
    "hash01",
    "lin",
    "mix",
    "part_uv",
    "solid_texture",
    "value_noise",
    "wall_texture",
]

Texture = Callable[..., np.ndarray]
MESH_COLOR = "mesh_color"  # the material whose parts take the scene's per-vertex colours (imported models)


class MaterialRegistry:
    """Named materials, each a texture and an optional emission; a part refers to its material by index.

    Indices are stable: a material keeps the index it was registered with. Registering a name already present
    returns its index and changes nothing (so a producer's registration is idempotent).
    """

    def __init__(self) -> None:
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._textures: list[Texture] = []
        self._emission: dict[int, np.ndarray] = {}

    def register(self, name: str, texture: Texture, emission=None) -> int:
        """Add a material (or return the index of one already there). ``emission`` is a linear RGB (3,) glow."""
        if name in self._index:
            return self._index[name]
        self._names.append(name)
        self._textures.append(texture)
        self._index[name] = len(self._names) - 1
        if emission is not None:
            self._emission[self._index[name]] = np.asarray(emission, dtype=np.float64)
        return self._index[name]

    def index(self, name: str) -> int:
        """The index of material ``name`` (KeyError when it is not registered)."""
        return self._index[name]

    def get(self, name: str, default: int | None = None) -> int | None:
        return self._index.get(name, default)

    def name(self, index: int) -> str:
        return self._names[index]

    def texture(self, index: int) -> Texture:
        return self._textures[index]

    def emission(self, index: int) -> np.ndarray | None:
        """The linear RGB (3,) emission of material ``index``, or None when it does not glow."""
        return self._emission.get(index)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"MaterialRegistry({len(self)} materials)"


# ----------------------------------------------------------------------------------------------------------
# Procedural textures (functions of the 3D hit point)
# ----------------------------------------------------------------------------------------------------------



def hash01(*ints: np.ndarray, seed: int = 0) -> np.ndarray:
    """Deterministic hash of integer lattice coordinates -> float64 in [0, 1)."""
    # 32-bit unsigned arithmetic wraps modulo 2^32 by itself (half the memory traffic of masked 64-bit maths,
    # twice as fast, the same values)
    h = np.asarray(np.uint32((seed * 0x9E3779B1 + 0x632BE5AB) & 0xFFFFFFFF))
    with np.errstate(over="ignore"):
        for k in ints:
            k = np.asarray(k).astype(np.int64).astype(np.uint32)
            h = (h ^ k) * np.uint32(0x85EBCA6B)
            h = h ^ (h >> np.uint32(13))
            h = h * np.uint32(0xC2B2AE35)
            h = h ^ (h >> np.uint32(16))
    return h.astype(np.float64) / 4294967296.0


def value_noise(p: np.ndarray, seed: int) -> np.ndarray:
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
                out += w * hash01(i[:, 0] + dx, i[:, 1] + dy, i[:, 2] + dz, seed=seed)
    return out


def fbm(p: np.ndarray, seed: int, octaves: int = 3) -> np.ndarray:
    """Fractal sum of :func:`value_noise`, normalised to [0, 1]. p: (M, 3) -> (M,)."""
    total, amp, norm = np.zeros(len(p)), 1.0, 0.0
    for k in range(octaves):
        total += amp * value_noise(p * (2.0**k), seed + 101 * k)
        norm += amp
        amp *= 0.5
    return total / norm


def lin(*rgb: float) -> np.ndarray:
    """sRGB colour (0..1) -> linear RGB (approximate gamma 2.2)."""
    return np.asarray(rgb, dtype=np.float64) ** 2.2


def mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a[None, :] * (1.0 - t[:, None]) + b[None, :] * t[:, None]


def part_uv(p: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    off = hash01(row, seed=sc.seed + 1) * plank_len
    xs = (p[:, 0] + off) / plank_len
    col = np.floor(xs)
    h = hash01(row, col, seed=sc.seed + 2)
    base = mix(lin(0.80, 0.60, 0.38), lin(0.58, 0.38, 0.21), h)
    q = p * np.array([0.7, 9.0, 9.0]) + h[:, None] * 17.0
    grain = np.sin(2 * np.pi * (p[:, 1] / plank_w * 3.0 + 2.5 * fbm(q, sc.seed + 3, 2)))
    streak = fbm(p * np.array([1.0, 14.0, 14.0]), sc.seed + 4, 2)
    shade = (0.82 + 0.08 * grain + 0.22 * streak)[:, None]
    fy = (p[:, 1] / plank_w) % 1.0
    fx = xs % 1.0
    gap = (np.minimum(fy, 1 - fy) * plank_w < 0.005) | (np.minimum(fx, 1 - fx) * plank_len < 0.005)
    return base * shade * np.where(gap, 0.35, 1.0)[:, None]


def wall_texture(color, stripes: bool = False):
    """Painted plaster (subtle blotches); with ``stripes``, a striped wallpaper (vertical bands, 18 cm period)."""

    def tex(p, n, part, sc):
        blotch = fbm(p * 2.0, sc.seed + 11, 3)
        fine = value_noise(p * 25.0, sc.seed + 12)
        shade = 0.9 + 0.18 * blotch + 0.05 * fine
        if stripes:
            along = p[:, 0] + p[:, 1]  # the horizontal coordinate on any axis-aligned wall
            band = (along / 0.18) % 1.0
            shade = shade * np.where(band < 0.5, 1.0, 0.9) * np.where(np.abs(band - 0.25) < 0.03, 0.93, 1.0)
        return color[None, :] * shade[:, None]

    return tex


def _tex_rug(p, n, part, sc):
    u, v, su, sv = part_uv(p, sc.part_bounds[part])
    x, y = u * su, v * sv  # metres from the rug's corner
    edge = np.minimum(np.minimum(x, su - x), np.minimum(y, sv - y))
    cell = 0.26
    cx, cy = (x - 0.2) / cell, (y - 0.2) / cell
    ix, iy = np.floor(cx), np.floor(cy)
    checker = (ix + iy) % 2 == 0
    fx, fy = cx - ix - 0.5, cy - iy - 0.5
    diamond = np.abs(fx) + np.abs(fy) < 0.28
    cream, navy = lin(0.92, 0.86, 0.72), lin(0.12, 0.18, 0.38)
    rust, gold = lin(0.72, 0.24, 0.14), lin(0.9, 0.68, 0.2)
    col = np.where(checker[:, None], cream, navy)
    col = np.where(diamond[:, None], np.where(checker[:, None], rust, gold), col)
    border = edge < 0.2
    stripe = (edge > 0.07) & (edge < 0.11)
    col = np.where(border[:, None], np.where(stripe[:, None], cream, rust), col)
    fibre = 0.88 + 0.2 * value_noise(p * 60.0, sc.seed + 21)
    return col * fibre[:, None]


def fabric_texture(color, seed_off):
    def tex(p, n, part, sc):
        mottle = fbm(p * 7.0, sc.seed + seed_off, 3)
        fine = value_noise(p * 45.0, sc.seed + seed_off + 1)
        return color[None, :] * (0.78 + 0.3 * mottle + 0.1 * fine)[:, None]

    return tex


def _tex_painting(p, n, part, sc):
    """Mondrian-style composition in a dark frame."""
    u, v, su, sv = part_uv(p, sc.part_bounds[part])
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
            lin(0.95, 0.94, 0.9),  # 0 white
            lin(0.85, 0.1, 0.08),  # 1 red
            lin(0.98, 0.8, 0.05),  # 2 yellow
            lin(0.08, 0.25, 0.7),  # 3 blue
            lin(0.1, 0.6, 0.45),  # 4 green
            lin(0.95, 0.45, 0.1),  # 5 orange
        ]
    )
    layout = np.array([[1, 0, 3, 0], [0, 2, 0, 5], [4, 0, 1, 0], [0, 3, 0, 2]])  # [col, row]
    col = palette[layout[ci, cj]]
    col = np.where(line[:, None], lin(0.05, 0.05, 0.06), col)
    return np.where(frame[:, None], lin(0.12, 0.08, 0.05), col)


def _tex_poster(p, n, part, sc):
    """Retro sunset: gradient sky, striped sun, mountains, grid floor, white border."""
    u, v, su, sv = part_uv(p, sc.part_bounds[part])
    x, y = u * su, v * sv
    bw = 0.04
    border = np.minimum(np.minimum(x, su - x), np.minimum(y, sv - y)) < bw
    uu, vv = (x - bw) / (su - 2 * bw), (y - bw) / (sv - 2 * bw)
    sky = mix(lin(1.0, 0.55, 0.15), lin(0.45, 0.1, 0.55), np.clip((vv - 0.35) / 0.65, 0, 1))
    aspect = (su - 2 * bw) / (sv - 2 * bw)
    r = np.hypot((uu - 0.5) * aspect, vv - 0.52)
    sun = (r < 0.25) & ~((vv < 0.52) & ((vv * 28) % 1.0 < 0.35))
    sun_col = mix(lin(1.0, 0.95, 0.3), lin(1.0, 0.3, 0.35), np.clip((0.77 - vv) / 0.5, 0, 1))
    col = np.where(sun[:, None], sun_col, sky)
    ridge = 0.36 + 0.1 * np.abs(((uu * 3.2 + 0.3) % 1.0) - 0.5) * 2 - 0.05 * np.sin(uu * 17)
    col = np.where((vv < ridge)[:, None], lin(0.22, 0.07, 0.3), col)
    ground = vv < 0.22
    grid = ((vv * 30) % 1.0 < 0.12) | (((uu - 0.5) / (0.3 - vv + 1e-3) * 2) % 1.0 < 0.1)
    col = np.where(ground[:, None], np.where(grid[:, None], lin(0.2, 0.95, 0.9), lin(0.08, 0.03, 0.15)), col)
    return np.where(border[:, None], lin(0.95, 0.95, 0.93), col)


def _tex_walnut(p, n, part, sc):
    bounds = sc.part_bounds[part]
    long_axis = np.argmax(bounds[:, 1] - bounds[:, 0], axis=1)
    scale = np.full((len(p), 3), 10.0)
    scale[np.arange(len(p)), long_axis] = 0.8
    q = p * scale + part[:, None] * 3.7
    grain = np.sin(2 * np.pi * 3.0 * fbm(q, sc.seed + 31, 3))
    base = lin(0.45, 0.28, 0.16)
    return base[None, :] * (0.85 + 0.15 * grain)[:, None]


def _tex_books(p, n, part, sc):
    palette = np.stack(
        [
            lin(0.7, 0.1, 0.1),
            lin(0.1, 0.3, 0.65),
            lin(0.1, 0.5, 0.3),
            lin(0.9, 0.75, 0.2),
            lin(0.9, 0.9, 0.85),
            lin(0.2, 0.2, 0.25),
            lin(0.85, 0.45, 0.15),
            lin(0.5, 0.2, 0.55),
        ]
    )
    h = hash01(part, seed=sc.seed + 41)
    tint = 0.75 + 0.4 * hash01(part, seed=sc.seed + 42)
    col = palette[(h * len(palette)).astype(int) % len(palette)] * tint[:, None]
    _, v, _, _ = part_uv(p, sc.part_bounds[part])
    band = ((v > 0.78) & (v < 0.84)) | ((v > 0.12) & (v < 0.16))
    return np.where(band[:, None], lin(0.85, 0.7, 0.3), col)


def _tex_door(p, n, part, sc):
    u, v, su, sv = part_uv(p, sc.part_bounds[part])
    x, y = u * su, v * sv
    col = np.broadcast_to(lin(0.93, 0.92, 0.88), (len(p), 3)).copy()
    g = 0.018
    for (a0, a1), (b0, b1) in (((0.12, su - 0.12), (0.12, 0.9)), ((0.12, su - 0.12), (1.05, sv - 0.12))):
        inside = (x > a0) & (x < a1) & (y > b0) & (y < b1)
        rim = inside & (np.minimum(np.minimum(x - a0, a1 - x), np.minimum(y - b0, b1 - y)) < g)
        col[rim] *= 0.55
        col[inside & ~rim] *= 0.95
    return col


def solid_texture(color, noise: float = 0.0, freq: float = 10.0):
    def tex(p, n, part, sc):
        if noise == 0.0:
            return np.broadcast_to(color, (len(p), 3)).copy()
        return color[None, :] * (1.0 - noise + 2 * noise * fbm(p * freq, sc.seed + 51, 2))[:, None]

    return tex


def _tex_leaves(p, n, part, sc):
    blobs = fbm(p * 14.0, sc.seed + 61, 3)
    col = mix(lin(0.08, 0.28, 0.08), lin(0.45, 0.7, 0.2), np.clip(blobs * 1.6 - 0.35, 0, 1))
    return col


def _tex_terracotta(p, n, part, sc):
    rings = ((p[:, 2] * 9.0) % 1.0) < 0.18
    return lin(0.74, 0.38, 0.22)[None, :] * np.where(rings, 0.7, 1.0)[:, None]


def _tex_ceramic(p, n, part, sc):
    stripes = ((p[:, 2] * 22.0) % 1.0) < 0.3
    return np.where(stripes[:, None], lin(0.95, 0.93, 0.85), lin(0.08, 0.22, 0.65))


def base_materials() -> MaterialRegistry:
    """A new registry holding the furnished-room materials (floor, walls, fabrics, wood, art, lights)."""
    reg = MaterialRegistry()
    textures = {
        "oak_floor": _tex_oak_floor,
        "wall_warm": wall_texture(lin(0.9, 0.85, 0.76), stripes=True),
        "wall_sage": wall_texture(lin(0.56, 0.68, 0.56)),
        "wall_rose": wall_texture(lin(0.86, 0.7, 0.66)),
        "ceiling": wall_texture(lin(0.94, 0.94, 0.92)),
        "rug": _tex_rug,
        "fabric": fabric_texture(lin(0.18, 0.36, 0.46), 71),
        "cushion": fabric_texture(lin(0.86, 0.64, 0.2), 73),
        "painting": _tex_painting,
        "poster": _tex_poster,
        "walnut": _tex_walnut,
        "books": _tex_books,
        "metal": solid_texture(lin(0.12, 0.12, 0.13)),
        "brass": solid_texture(lin(0.8, 0.6, 0.25)),
        "lampshade": solid_texture(lin(0.96, 0.9, 0.76), 0.08, 20.0),
        "fixture": solid_texture(lin(0.97, 0.97, 0.95)),
        "door": _tex_door,
        "white_trim": solid_texture(lin(0.93, 0.93, 0.9)),
        "leaves": _tex_leaves,
        "terracotta": _tex_terracotta,
        "ceramic": _tex_ceramic,
        "red": fabric_texture(lin(0.75, 0.12, 0.12), 75),
    }
    emission = {"lampshade": np.array([0.55, 0.45, 0.3]), "fixture": np.array([2.0, 1.9, 1.7])}
    for name, texture in textures.items():
        reg.register(name, texture, emission.get(name))
    return reg
