"""Shading and rendering of a :class:`~scenegen.data.synth.scene.SynthScene`: Open3D ray casting, procedural
albedo, sun and room lights with soft shadows, ambient occlusion, and the sky seen through windows.

Shading is deterministic and view independent (fixed sample patterns for soft shadows and ambient occlusion), so
a radiance field can reproduce it exactly. Rays are exactly those of
:meth:`~scenegen.cameras.cameras.Cameras.camera_rays` (pixel centres). Depth is *z-depth* in metres (the distance
of the hit point along the camera's optical axis), 0 where a ray escapes the scene.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from scenegen.cameras.cameras import Cameras
from scenegen.data.synth.materials import MESH_COLOR, lin, mix
from scenegen.data.synth.o3d import import_open3d
from scenegen.data.synth.scene import SynthScene

__all__ = ["cameras_from_c2w", "render_views"]


def _albedo(scene: SynthScene, p: np.ndarray, n: np.ndarray, part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear albedo and emission (M, 3) of hit points p (M, 3) with normals n on parts ``part`` (M,)."""
    mat = scene.part_material[part]
    albedo = np.zeros((len(p), 3))
    emission = np.zeros((len(p), 3))
    for m in np.unique(mat):
        sel = np.nonzero(mat == m)[0]
        albedo[sel] = scene.materials.texture(int(m))(p[sel], n[sel], part[sel], scene)
        glow = scene.materials.emission(int(m))
        if glow is not None:
            emission[sel] = glow
    return albedo, emission


def _model_albedo(scene: SynthScene, face: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Linear albedo (M, 3) of an imported model at hits on faces ``face`` (M,) with Open3D's barycentric
    coordinates ``bary`` (M, 2) (weights of the triangle's 2nd and 3rd vertex): face colours, vertex colours
    interpolated, or a texture sampled at the interpolated uv."""
    w = np.stack([np.clip(1.0 - bary[:, 0] - bary[:, 1], 0.0, 1.0), bary[:, 0], bary[:, 1]], 1)[:, :, None]
    vc = scene.vertex_colors
    if scene.face_colors is None:
        tri = np.asarray(scene.mesh.faces)[face]
        return np.sum(w * np.asarray(vc, dtype=np.float64)[tri], 1)
    out = np.asarray(scene.face_colors, dtype=np.float64)[face]
    if scene.face_texture is None:
        return out
    src = np.asarray(scene.face_texture)[face]
    if vc is not None and (sel := np.nonzero(src == -2)[0]).size:
        tri = np.asarray(scene.mesh.faces)[face[sel]]
        out[sel] = np.sum(w[sel] * np.asarray(vc, dtype=np.float64)[tri], 1)
    for k in np.unique(src[src >= 0]):
        sel = np.nonzero(src == k)[0]
        uv = np.sum(w[sel] * np.asarray(scene.face_uv, dtype=np.float64)[face[sel]], 1)
        out[sel] *= _sample_texture(scene.textures[int(k)], uv) ** 2.2
    return out


def _sample_texture(tex: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear lookup of a (H, W, 3) uint8 sRGB texture at uv (M, 2) (repeat wrap, v = 0 at the bottom row, as in
    glTF and OBJ); returns (M, 3) sRGB in [0, 1]. Written out (four gathers) because it runs on every view's ray
    hits and an image library would need the whole texture resampled per call."""
    h, w = tex.shape[:2]
    x = (np.mod(uv[:, 0], 1.0) * w - 0.5) % w
    y = (np.mod(1.0 - uv[:, 1], 1.0) * h - 0.5) % h
    x0, y0 = np.floor(x).astype(np.int64) % w, np.floor(y).astype(np.int64) % h
    fx, fy = (x - np.floor(x))[:, None], (y - np.floor(y))[:, None]
    x1, y1 = (x0 + 1) % w, (y0 + 1) % h
    top = tex[y0, x0].astype(np.float64) * (1 - fx) + tex[y0, x1].astype(np.float64) * fx
    bot = tex[y1, x0].astype(np.float64) * (1 - fx) + tex[y1, x1].astype(np.float64) * fx
    return (top * (1 - fy) + bot * fy) / 255.0


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
    sky = mix(lin(0.78, 0.86, 0.95), lin(0.32, 0.52, 0.88), np.clip(z * 2.0, 0, 1))
    lawn = mix(lin(0.42, 0.58, 0.25), lin(0.25, 0.42, 0.15), np.clip(-z * 3.0, 0, 1))
    return np.where((z >= 0)[:, None], sky, lawn) * 1.3


def _surface(scene: SynthScene, origins: np.ndarray, dirs: np.ndarray, shade: bool = True) -> dict:
    """Primary hits of rays (R, 3)+(R, 3) (unit dirs): t (R,) (inf = escaped), idx (M,) of the rays that hit,
    and for those (``shade``) the point p, the normal n (facing the viewer), the part, the linear albedo and
    emission."""
    o3d = import_open3d()
    rays = np.concatenate([origins, dirs], 1).astype(np.float32)
    hit = scene.raycaster().cast_rays(o3d.core.Tensor(rays))
    t = hit["t_hit"].numpy().astype(np.float64)
    idx = np.nonzero(np.isfinite(t))[0]
    out = {"t": t, "idx": idx}
    if len(idx) == 0 or not shade:
        return out
    d = dirs[idx].astype(np.float64)
    p = origins[idx] + d * t[idx, None]
    n = hit["primitive_normals"].numpy()[idx].astype(np.float64)
    n = np.where((np.sum(n * d, 1) > 0)[:, None], -n, n)  # face the viewer
    face = hit["primitive_ids"].numpy()[idx].astype(np.int64)
    part = scene.face_part[face]
    albedo, emission = _albedo(scene, p, n, part)
    if (scene.vertex_colors is not None or scene.face_colors is not None) and MESH_COLOR in scene.materials:
        own = np.nonzero(scene.part_material[part] == scene.materials.index(MESH_COLOR))[0]
        if len(own):  # an imported model's own colours
            albedo[own] = _model_albedo(scene, face[own], hit["primitive_uvs"].numpy()[idx[own]].astype(np.float64))
    out.update(p=p, n=n, part=part, albedo=albedo, emission=emission)
    return out


def _shade(scene: SynthScene, origins: np.ndarray, dirs: np.ndarray,
           center: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Trace rays (R, 3)+(R, 3) (unit dirs). Returns linear RGB (R, 3) and hit distance t (R,) (inf = escaped).

    ``center``: the rays are sub-pixel rays and ``center`` is the :func:`_surface` (with its ``irradiance``) of
    the same R pixels' centre rays. Albedo and geometry stay each ray's own; where a ray meets the same part as
    its pixel's centre ray, it takes that ray's lighting (irradiance changes little within a pixel on one
    surface: soft shadows and ambient occlusion are smooth), and it is lit on its own where it meets another
    part (an edge). This is what graphics hardware's multisample antialiasing does (shade once per pixel and
    surface, resolve coverage and texture per sample); lighting is the shader's expensive part (17 shadow and
    occlusion rays a hit), so 2x2 antialiased views cost about 2.3x one ray a pixel, not 4x. It differs from
    exact supersampling where a sharp shadow edge crosses a pixel (37 dB PSNR between the two on the demo's
    tour)."""
    hit = _surface(scene, origins, dirs)
    t, idx = hit["t"], hit["idx"]
    color = np.empty((len(t), 3))
    miss = np.ones(len(t), bool)
    miss[idx] = False
    color[miss] = _sky(dirs[miss])
    if len(idx) == 0:
        return color, t
    irr = np.empty((len(idx), 3))
    own = np.arange(len(idx))
    if center is not None and len(center["idx"]):
        part0 = np.full(len(t), -1, dtype=np.int64)
        part0[center["idx"]] = center["part"]
        row0 = np.full(len(t), -1, dtype=np.int64)
        row0[center["idx"]] = np.arange(len(center["idx"]))
        same = part0[idx] == hit["part"]
        irr[same] = center["irradiance"][row0[idx[same]]]
        own = np.nonzero(~same)[0]
    if len(own):
        irr[own] = _irradiance(scene, hit["p"][own], hit["n"][own])
    color[idx] = hit["albedo"] * irr + hit["emission"]
    return color, t


def _irradiance(scene: SynthScene, p: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Linear irradiance (M, 3) at surface points p (M, 3) with normals n (facing the viewer): ambient with
    ambient occlusion, the sun and the point lights, with soft shadows."""
    o3d = import_open3d()
    rc = scene.raycaster()
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

    return irradiance


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> display values in [0, 1] (a 1/2.2 gamma with a soft shoulder for highlights)."""
    x = np.maximum(linear, 0.0)
    x = np.where(x < 0.8, x, 0.8 + 0.2 * np.tanh((x - 0.8) / 0.2))
    return np.minimum(x ** (1 / 2.2), 1.0)


def render_views(
    scene: SynthScene, cameras: Cameras, chunk_rays: int = 300_000, on_chunk=None, supersample: int = 1,
    shared_lighting: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Render every camera with Open3D ray casting and procedural shading.

    With ``supersample`` 1, one ray through each pixel centre (exactly those of :meth:`Cameras.camera_rays`).
    With ``supersample`` k > 1, each pixel is the mean of k x k rays on a regular grid inside it (at
    ``(i + 0.5) / k``), averaged as displayed (after the tone curve): the picture a camera, or the
    frames of a video rendered at k times the size and box-filtered, would show. One ray per pixel aliases
    fine texture (a painting's strokes, a rug, grout lines seen from across a room) into noise that no
    image of the scene, rendered or photographed, contains. Depth is always the pixel centre's.

    Args:
        scene: the scene (its mesh, materials and lights).
        cameras: N cameras that all have the same width W and height H.
        chunk_rays: how many rays are shaded at once (memory bound).
        on_chunk: optional callback ``(views done, views total)`` after each chunk (progress bars).
        supersample: rays per pixel along each axis (1 = pixel centres only).
        shared_lighting: with ``supersample`` > 1, a sub-pixel ray that meets the same part as its pixel's
            centre ray takes that ray's lighting (:func:`_shade`): 2x2 costs about 2.3x one ray
            a pixel instead of 4x, and differs from exact supersampling at sharp shadow edges (37 dB PSNR
            between the two on the demo's tour). For training views; references use exact supersampling.
    Returns:
        rgb: (N, H, W, 3) uint8 sRGB images.
        depth: (N, H, W) float32 z-depth in metres (distance along the camera's -Z axis); 0 where the ray
            escapes the room (sky through the window).
    """
    n_cam = len(cameras)
    if n_cam == 0:
        raise ValueError("render_views: no cameras")
    k = int(supersample)
    if k < 1:
        raise ValueError("render_views: supersample must be at least 1")
    w, h = int(cameras.width[0]), int(cameras.height[0])
    if bool((cameras.width != w).any()) or bool((cameras.height != h).any()):
        raise ValueError("render_views: all cameras must have the same image size")
    rgb = np.empty((n_cam, h, w, 3), dtype=np.uint8)
    depth = np.empty((n_cam, h, w), dtype=np.float32)
    per_chunk = max(1, chunk_rays // (w * h * k * k))
    cams = cameras.to("cpu")
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    u, v = u.reshape(-1), v.reshape(-1)
    sub = (torch.arange(k, dtype=torch.float32) + 0.5) / k
    for start in range(0, n_cam, per_chunk):
        ids = list(range(start, min(n_cam, start + per_chunk)))
        cam_idx = torch.tensor(ids, dtype=torch.long).repeat_interleave(w * h)
        forward = -cams.c2w[cam_idx, :, 2].double().numpy()  # optical axis (-Z of the camera) in world
        origins, dirs = cams.generate_rays(cam_idx, u.repeat(len(ids)) + 0.5, v.repeat(len(ids)) + 0.5)
        o, d = origins.double().numpy(), dirs.double().numpy()
        if k == 1:
            color, t = _shade(scene, o, d)
            acc = _to_srgb(color)
        else:
            center = None
            if shared_lighting:
                center = _surface(scene, o, d)
                t = center["t"]
                if len(center["idx"]):
                    center["irradiance"] = _irradiance(scene, center["p"], center["n"])
            else:
                t = _surface(scene, o, d, shade=False)["t"]
            acc = np.zeros((len(cam_idx), 3))
            for sy in sub:
                for sx in sub:
                    so, sd = cams.generate_rays(cam_idx, u.repeat(len(ids)) + sx, v.repeat(len(ids)) + sy)
                    so, sd = so.double().numpy(), sd.double().numpy()
                    color = _shade(scene, so, sd, center)[0]
                    acc += _to_srgb(color)
            acc /= k * k
        z = np.where(np.isfinite(t), t * np.sum(d * forward, 1), 0.0)
        rgb[ids] = np.clip(np.round(255.0 * acc), 0, 255).astype(np.uint8).reshape(len(ids), h, w, 3)
        depth[ids] = z.reshape(len(ids), h, w).astype(np.float32)
        if on_chunk is not None:
            on_chunk(ids[-1] + 1, n_cam)
    return rgb, depth


def cameras_from_c2w(c2w, width: int = 160, height: int = 120, fov_deg: float = 75.0) -> Cameras:
    """PINHOLE :class:`Cameras` for (N, 4, 4) or (N, 3, 4) c2w matrices; ``fov_deg`` is the horizontal FOV."""
    c2w = torch.as_tensor(np.asarray(c2w), dtype=torch.float32)[:, :3, :4]
    f = 0.5 * width / math.tan(math.radians(fov_deg) / 2)
    return Cameras(c2w=c2w, fx=f, fy=f, cx=width / 2, cy=height / 2, width=width, height=height, model="PINHOLE")

