"""Pure-PyTorch references of scenegen's native kernels (any device, CUDA included).

Each function computes what its C++ counterpart in :mod:`scenegen.kernels._wrapper` computes, with the same
arguments; the tests compare the two, and the wrappers fall back to these when the C++ kernels cannot be built.
On CUDA they are the implementation (tiny-cuda-nn aside).

  * :func:`hash_encode`: multiresolution hash encoding (``hashgrid_cpu.cpp``).
  * :func:`march`: ray marching through an occupancy bitfield, packed samples (``march_cpu.cpp``), with the
    geometry it shares with the occupancy grid: :func:`contract`, :func:`grid_cell_index`, :func:`bitfield_mips`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from scenegen.kernels._types import MarchResult

# Spatial hash primes of Instant-NGP (the first is 1, so the x coordinate is used as is).
PRIMES = (1, 2654435761, 805459861)


def hash_encode(
    x: Tensor, table: Tensor, resolutions: Tensor, offsets: Tensor, sizes: Tensor, dense: Tensor
) -> Tensor:
    """Encode points with a multiresolution hash grid (trilinear interpolation per level).

    Args:
        x: (N, 3) points in [0, 1]^3.
        table: (sum(sizes), F) feature table of all levels, concatenated.
        resolutions: (L,) float grid resolution of each level.
        offsets: (L,) long offset of each level in ``table``.
        sizes: (L,) long number of entries of each level (a power of two for hashed levels).
        dense: (L,) bool, True where the level is indexed densely.
    Returns:
        (N, L * F) features, level-major.
    """
    n = x.shape[0]
    num_levels = resolutions.shape[0]
    xs = x[:, None, :] * resolutions[None, :, None]  # (N, L, 3)
    x0f = torch.floor(xs)
    frac = xs - x0f  # (N, L, 3)
    x0 = x0f.long()
    res1 = resolutions.long() + 1  # (L,)
    # The 8 corners: bit k of the corner id selects +1 along axis k.
    cx = torch.stack([x0[..., 0], x0[..., 0] + 1], -1)  # (N, L, 2)
    cy = torch.stack([x0[..., 1], x0[..., 1] + 1], -1)
    cz = torch.stack([x0[..., 2], x0[..., 2] + 1], -1)
    ix = cx[..., None, None, :]  # (N, L, 1, 1, 2)  axis order: z, y, x
    iy = cy[..., None, :, None]
    iz = cz[..., :, None, None]
    dense_idx = ix + iy * res1[None, :, None, None, None] + iz * (res1 * res1)[None, :, None, None, None]
    hashed = (ix * PRIMES[0]) ^ (iy * PRIMES[1]) ^ (iz * PRIMES[2])
    size = sizes[None, :, None, None, None]
    idx = torch.where(dense[None, :, None, None, None], dense_idx, hashed) % size
    idx = idx + offsets[None, :, None, None, None]  # (N, L, 2, 2, 2)
    wx = torch.stack([1 - frac[..., 0], frac[..., 0]], -1)  # (N, L, 2)
    wy = torch.stack([1 - frac[..., 1], frac[..., 1]], -1)
    wz = torch.stack([1 - frac[..., 2], frac[..., 2]], -1)
    w = wz[..., :, None, None] * wy[..., None, :, None] * wx[..., None, None, :]  # (N, L, 2, 2, 2)
    feats = table[idx.reshape(n, num_levels, 8)]  # (N, L, 8, F)
    out = (feats * w.reshape(n, num_levels, 8, 1)).sum(2)
    return out.reshape(n, -1)


def contract(x: Tensor) -> Tensor:
    """mip-NeRF 360 scene contraction with the L-inf norm: R^3 -> [-2, 2]^3 (identity inside [-1, 1]^3)."""
    mag = x.abs().amax(-1, keepdim=True)
    safe = mag.clamp_min(1.0)
    return torch.where(mag <= 1.0, x, (2.0 - 1.0 / safe) * (x / safe))


def grid_cell_index(x: Tensor, resolution: int, extent: float, contracted: bool) -> tuple[Tensor, Tensor]:
    """Flat cell index (...,) long and an inside-the-domain mask (...,) bool of points x (..., 3) in a grid of
    ``resolution^3`` cells over [-extent, extent]^3 (of contracted space when ``contracted``), x-major."""
    if contracted:
        x = contract(x)
    g = (x + extent) * (resolution / (2 * extent))
    inside = ((g >= 0) & (g < resolution)).all(-1)
    gi = g.long().clamp(0, resolution - 1)
    r = resolution
    return (gi[..., 0] * r + gi[..., 1]) * r + gi[..., 2], inside


def bitfield_mips(bits: Tensor, resolution: int, levels: int = 4) -> tuple[Tensor, int]:
    """The pyramid of a ``resolution^3`` bitfield for hierarchical empty-space skipping: up to ``levels`` coarser
    bitfields ((res/2)^3, (res/4)^3, ...; a cell is occupied when any child is), flattened and concatenated
    (bool), and the number of levels (the layout :func:`scenegen.kernels.march` expects)."""
    r = resolution
    cur = bits.reshape(1, 1, r, r, r).float()
    out, n = [], 0
    while n < levels and cur.shape[-1] % 2 == 0 and cur.shape[-1] >= 2:
        cur = torch.nn.functional.max_pool3d(cur, 2)
        out.append(cur.reshape(-1) > 0)
        n += 1
    flat = torch.cat(out) if out else torch.zeros(0, dtype=torch.bool, device=bits.device)
    return flat, n


def march(
    origins: Tensor,
    dirs: Tensor,
    t_start: Tensor,
    t_end: Tensor,
    jitter: Tensor,
    k_start: Tensor,
    t_seq: Tensor,
    bounded: bool,
    step: float,
    bits: Tensor | None = None,
    resolution: int = 1,
    extent: float = 1.0,
    contracted: bool = False,
    limit: int = -1,
    window: int = 256,
    max_candidates: int = 1 << 23,
) -> MarchResult:
    """Packed samples of rays marched through an occupancy bitfield (see :func:`scenegen.kernels.march` for the
    arguments; ``bits`` None: every step is a candidate).

    Examines up to ``window`` steps per ray from ``k_start`` (all steps when ``limit`` is -1) as a dense
    (rays, steps) candidate tensor, chunked over rays to bound memory (``max_candidates`` per chunk).
    """
    device = origins.device
    seq = t_seq.to(device)
    n_steps = t_seq.numel() - 1
    span_steps = n_steps if limit < 0 else window
    r = origins.shape[0]
    per = max(1, max_candidates // max(1, span_steps))
    out_idx, out_t0, out_t1, out_next = [], [], [], []
    j = torch.arange(span_steps, device=device)
    for s in range(0, r, per):
        o, d = origins[s : s + per], dirs[s : s + per]
        ts, te, uu = t_start[s : s + per, None], t_end[s : s + per, None], jitter[s : s + per, None]
        k = k_start[s : s + per, None] + j[None, :]  # (r, W)
        in_seq = k < n_steps
        kc = k.clamp_max(n_steps - 1)
        lo, hi = seq[kc], seq[kc + 1]
        if bounded:
            t0 = ts + lo + (uu - 0.5) * step
            t1 = ts + hi + (uu - 0.5) * step
            t0 = torch.maximum(t0, ts)
        else:
            span = hi - lo
            t0 = lo + (uu - 0.5) * span
            t1 = hi + (uu - 0.5) * span
        tm = 0.5 * (t0 + t1)
        before_end = in_seq & (tm < te)
        valid = before_end & (tm > ts)
        if bits is not None:
            rows, cols = valid.nonzero(as_tuple=True)
            pts = o[rows] + d[rows] * tm[rows, cols, None]
            valid = valid.clone()
            idx, inside = grid_cell_index(pts, resolution, extent, contracted)
            valid[rows, cols] = bits[idx] & inside
        if limit >= 0:
            rank = torch.cumsum(valid.long(), 1)
            valid = valid & (rank <= limit)
            full = rank[:, -1] >= limit
            # Continue after the limit-th sample, or after the window; rays past their end are done.
            last = torch.where(valid, k, torch.full_like(k, -1)).amax(1)
            nxt = torch.where(full, last + 1, k[:, -1] + 1)
            done = ~before_end[:, -1] & ~full
            nxt = torch.where(done | (nxt >= n_steps), torch.full_like(nxt, n_steps), nxt)
        else:
            nxt = torch.full((o.shape[0],), n_steps, dtype=torch.long, device=device)
        rows, cols = valid.nonzero(as_tuple=True)
        out_idx.append(rows + s)
        out_t0.append(t0[rows, cols])
        out_t1.append(t1[rows, cols])
        out_next.append(nxt)
    if not out_idx:
        e = torch.zeros(0, device=device)
        return MarchResult(e.long(), e, e, torch.zeros(0, dtype=torch.long, device=device))
    return MarchResult(torch.cat(out_idx), torch.cat(out_t0), torch.cat(out_t1), torch.cat(out_next))
