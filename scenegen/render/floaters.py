"""A floater measure: how much of what a view shows comes from clouds in front of the real surface.

Structure from motion gives points on the surfaces the photos saw. For a camera, rays are cast towards the
nearest such point in each cell of a coarse image grid (the front surface there); the measure of a ray is the
rendering weight the field puts at distances shorter than ``(1 - margin)`` times the point's distance: the
share of that pixel's colour made by something floating in front of the surface. A frame's value is the mean
over its rays (0 = clean, 1 = every sampled pixel shows a floater instead of the surface).
"""

from __future__ import annotations

import torch
from torch import Tensor

MARGIN = 0.15
"""Weight closer than (1 - MARGIN) of the surface distance counts as floating in front of it."""


@torch.no_grad()
def floater_weight(renderer, origins: Tensor, dirs: Tensor, t_surface: Tensor, margin: float = MARGIN,
                   chunk: int = 4096, seed: int = 0) -> Tensor:
    """(R,) rendering weight of each ray (unit ``dirs``, field units) in front of ``(1 - margin) * t_surface``."""
    out = []
    gen = torch.Generator(device=origins.device)
    gen.manual_seed(seed)
    for a in range(0, origins.shape[0], chunk):
        o, d, ts = origins[a:a + chunk], dirs[a:a + chunk], t_surface[a:a + chunk]
        bg = torch.zeros(o.shape[0], 3, device=o.device)
        r = renderer.render_rays_train(o, d, None, bg, generator=gen)
        front = r["t_mid"] < (1.0 - margin) * ts[r["ray_idx"]]
        w = torch.zeros(o.shape[0], device=o.device).index_add_(0, r["ray_idx"][front], r["weights"][front])
        out.append(w)
    return torch.cat(out) if out else origins.new_zeros(0)


def surface_rays(c2w: Tensor, fx: float, fy: float, cx: float, cy: float, width: int, height: int,
                 points: Tensor, cells: tuple[int, int] = (32, 18)) -> tuple[Tensor, Tensor, Tensor]:
    """Rays from a pinhole camera (``c2w`` (3, 4) OpenGL, field units) to the nearest of ``points`` (P, 3) in
    each cell of a ``cells`` grid over the image: origins (R, 3), unit directions (R, 3), distances (R,)."""
    rot, t = c2w[:3, :3], c2w[:3, 3]
    cam = (points - t) @ rot  # world -> camera: R^T (p - t)
    z = -cam[:, 2]
    ok = z > 1e-6
    u = fx * cam[:, 0] / z.clamp_min(1e-6) + cx
    v = -fy * cam[:, 1] / z.clamp_min(1e-6) + cy
    ok &= (u >= 0) & (u < width) & (v >= 0) & (v < height)
    if not bool(ok.any()):
        e = points.new_zeros((0, 3))
        return e, e, points.new_zeros(0)
    cu = (u[ok] / width * cells[0]).long().clamp(0, cells[0] - 1)
    cv = (v[ok] / height * cells[1]).long().clamp(0, cells[1] - 1)
    cell = cv * cells[0] + cu
    dist = (points[ok] - t).norm(dim=-1)
    # nearest point per cell: sort by (cell, distance), keep the first of each cell
    order = torch.argsort(cell.double() * 1e9 + dist.double())
    cell_s, idx = cell[order], torch.nonzero(ok).squeeze(-1)[order]
    first = torch.ones_like(cell_s, dtype=torch.bool)
    first[1:] = cell_s[1:] != cell_s[:-1]
    pts = points[idx[first]]
    d = pts - t
    dd = d.norm(dim=-1)
    return t.expand_as(pts).contiguous(), d / dd[:, None], dd


def frame_floaters(renderer, c2w: Tensor, intr: tuple[float, float, float, float, int, int], points: Tensor,
                   margin: float = MARGIN) -> float | None:
    """The floater measure of one pinhole view (field units): mean :func:`floater_weight` over the
    :func:`surface_rays` of ``points``; None when no point is in view."""
    o, d, t = surface_rays(c2w, *intr, points)
    if t.numel() == 0:
        return None
    return float(floater_weight(renderer, o, d, t, margin).mean())
