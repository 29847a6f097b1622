"""The prior's materials: the furnished-room materials of the synthesiser plus paints for every colour of the
vocabulary, floors (planks, tiles, marble, concrete, carpet), bedding, cabinets and finishes. Each scene the prior
builds owns the registry :func:`prior_materials` returns.
"""

from __future__ import annotations

import numpy as np

from scenegen.data.prior import vocab
from scenegen.data.synth.materials import (
    MESH_COLOR,
    MaterialRegistry,
    base_materials,
    fabric_texture,
    fbm,
    hash01,
    lin,
    mix,
    part_uv,
    solid_texture,
    value_noise,
    wall_texture,
)

# ---------------------------------------------------------------------------------------------------------------
# Materials (registered by name on the registry each built scene owns)
# ---------------------------------------------------------------------------------------------------------------


def _planks(light, dark, plank_w=0.16, plank_len=1.3, seed_off=0):
    la, da = lin(*light), lin(*dark)

    def tex(p, n, part, sc):
        row = np.floor(p[:, 1] / plank_w)
        off = hash01(row, seed=sc.seed + 1 + seed_off) * plank_len
        xs = (p[:, 0] + off) / plank_len
        h = hash01(row, np.floor(xs), seed=sc.seed + 2 + seed_off)
        base = mix(la, da, h)
        q = p * np.array([0.7, 9.0, 9.0]) + h[:, None] * 17.0
        grain = np.sin(2 * np.pi * (p[:, 1] / plank_w * 3.0 + 2.5 * fbm(q, sc.seed + 3, 2)))
        fy, fx = (p[:, 1] / plank_w) % 1.0, xs % 1.0
        gap = (np.minimum(fy, 1 - fy) * plank_w < 0.005) | (np.minimum(fx, 1 - fx) * plank_len < 0.005)
        return base * (0.85 + 0.1 * grain)[:, None] * np.where(gap, 0.4, 1.0)[:, None]

    return tex


def _tiles(color, size=0.3, grout=(0.75, 0.75, 0.72), seed_off=0):
    c, g = lin(*color), lin(*grout)

    def tex(p, n, part, sc):
        # the two coordinates across the surface: drop the axis along the normal
        ax = np.argmax(np.abs(n), axis=1)
        u = np.where(ax == 0, p[:, 1], p[:, 0])
        v = np.where(ax == 2, p[:, 1], p[:, 2])
        iu, iv = np.floor(u / size), np.floor(v / size)
        fu, fv = u / size - iu, v / size - iv
        line = (np.minimum(fu, 1 - fu) * size < 0.004) | (np.minimum(fv, 1 - fv) * size < 0.004)
        shade = 0.9 + 0.14 * hash01(iu, iv, seed=sc.seed + 81 + seed_off)
        shade = shade * (0.95 + 0.08 * value_noise(p * 20.0, sc.seed + 82))
        col = c[None, :] * shade[:, None]
        return np.where(line[:, None], g, col)

    return tex


def _tex_marble(p, n, part, sc):
    veins = np.abs(np.sin(2 * np.pi * (p[:, 0] * 0.7 + p[:, 1] * 0.4 + 1.8 * fbm(p * 2.5, sc.seed + 91, 4))))
    base = lin(0.92, 0.91, 0.88)
    return base[None, :] * (0.72 + 0.28 * np.clip(veins * 1.6, 0, 1))[:, None]


def _tex_concrete(p, n, part, sc):
    blot = fbm(p * 1.5, sc.seed + 93, 4)
    fine = value_noise(p * 40.0, sc.seed + 94)
    return lin(0.6, 0.6, 0.58)[None, :] * (0.75 + 0.35 * blot + 0.08 * fine)[:, None]


def _tex_carpet(color):
    c = lin(*color)

    def tex(p, n, part, sc):
        return c[None, :] * (0.82 + 0.15 * fbm(p * 6.0, sc.seed + 95, 2) + 0.1 * value_noise(p * 90, 96))[:, None]

    return tex


def _tex_screen(p, n, part, sc):
    """A television showing a landscape: sky, hills, a lake (so the screen is not a featureless black box)."""
    u, v, su, sv = part_uv(p, sc.part_bounds[part])
    sky = mix(lin(0.95, 0.75, 0.45), lin(0.35, 0.55, 0.85), np.clip(v * 1.4 - 0.2, 0, 1))
    hill = v < 0.45 + 0.12 * np.sin(u * 9.0) + 0.05 * np.sin(u * 23.0)
    col = np.where(hill[:, None], lin(0.15, 0.35, 0.18), sky)
    lake = v < 0.22
    col = np.where(lake[:, None], lin(0.1, 0.25, 0.45) * (0.9 + 0.2 * np.sin(v * 90))[:, None], col)
    edge = np.minimum(np.minimum(u * su, (1 - u) * su), np.minimum(v * sv, (1 - v) * sv)) < 0.02
    return np.where(edge[:, None], lin(0.05, 0.05, 0.05), col) * 0.8


def _tex_cabinet(color):
    c = lin(*color)

    def tex(p, n, part, sc):
        # door fronts every 60 cm with a dark gap and a bar handle
        ax = np.argmax(np.abs(n), axis=1)
        along = np.where(ax == 0, p[:, 1], p[:, 0])
        f = (along / 0.6) % 1.0
        gap = np.minimum(f, 1 - f) * 0.6 < 0.004
        handle = (np.abs(f - 0.5) < 0.15) & (np.abs(((p[:, 2] - 0.1) % 0.72) - 0.62) < 0.012) & (ax != 2)
        col = c[None, :] * (0.95 + 0.05 * value_noise(p * 10, sc.seed + 97))[:, None]
        col = np.where(gap[:, None], c * 0.45, col)
        return np.where(handle[:, None], lin(0.2, 0.2, 0.22), col)

    return tex


def prior_materials() -> MaterialRegistry:
    """A new registry: the furnished-room materials plus paints for every colour of the vocabulary, the floors,
    and the furniture finishes."""
    reg = base_materials()
    for name, rgb in vocab.COLORS.items():
        reg.register(f"paint_{name}", wall_texture(lin(*rgb)))
    reg.register("walnut_floor", _planks((0.5, 0.33, 0.2), (0.3, 0.18, 0.1), 0.14, 1.1, 7))
    reg.register("tiles", _tiles((0.86, 0.84, 0.8), 0.3))
    reg.register("wall_tiles", _tiles((0.8, 0.88, 0.9), 0.15, seed_off=3))
    reg.register("marble", _tex_marble)
    reg.register("concrete", _tex_concrete)
    reg.register("carpet", _tex_carpet((0.62, 0.58, 0.52)))
    reg.register("bedding", fabric_texture(lin(0.95, 0.94, 0.9), 201))
    reg.register("duvet_blue", fabric_texture(lin(0.35, 0.48, 0.7), 203))
    reg.register("duvet_ochre", fabric_texture(lin(0.82, 0.6, 0.25), 205))
    reg.register("linen", fabric_texture(lin(0.75, 0.72, 0.66), 207))
    reg.register("cabinet_white", _tex_cabinet((0.92, 0.92, 0.9)))
    reg.register("cabinet_green", _tex_cabinet((0.32, 0.45, 0.38)))
    reg.register("countertop", _tex_marble)
    reg.register("steel", solid_texture(lin(0.72, 0.73, 0.75), 0.05, 30.0))
    reg.register("porcelain", solid_texture(lin(0.96, 0.96, 0.95)))
    reg.register("mirror", solid_texture(lin(0.55, 0.6, 0.65), 0.15, 3.0))
    reg.register("screen", _tex_screen)
    reg.register("oak", _planks((0.78, 0.6, 0.4), (0.66, 0.48, 0.3), 0.5, 2.0, 11))
    reg.register(MESH_COLOR, solid_texture(lin(0.7, 0.7, 0.7)))
    for name, info in vocab.STYLES.items():  # the style's accent fabric (armchairs, headboards)
        reg.register(f"fabric_{name}", fabric_texture(lin(*info["fabric"]), 209))
    return reg
