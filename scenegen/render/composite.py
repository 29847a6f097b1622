"""Volume rendering of packed samples (emission-absorption quadrature, as in NeRF).

Samples of one ray are contiguous and rays are sorted. Transmittance is an exclusive per-ray cumulative sum
of optical depth, computed as one global cumulative sum in float64 minus each ray's starting value, which
is exact enough for any batch size and differentiable.
"""

from __future__ import annotations

import torch
from torch import Tensor


def segment_starts(ray_idx: Tensor) -> Tensor:
    """Bool (S,): sample is the first of its ray (ray_idx sorted)."""
    starts = torch.ones_like(ray_idx, dtype=torch.bool)
    if ray_idx.numel() > 1:
        starts[1:] = ray_idx[1:] != ray_idx[:-1]
    return starts


def render_weights(sigma: Tensor, dt: Tensor, ray_idx: Tensor) -> tuple[Tensor, Tensor]:
    """Per-sample weights w = T * alpha and transmittance T before each sample.

    Args:
        sigma: (S,) density, dt: (S,) segment lengths, ray_idx: (S,) sorted ray index.
    Returns:
        weights (S,), transmittance (S,).
    """
    tau = sigma * dt
    cs = torch.cumsum(tau.double(), 0)
    excl = cs - tau.double()
    starts = segment_starts(ray_idx)
    seg = torch.cumsum(starts.long(), 0) - 1
    base = excl[starts][seg]
    trans = torch.exp(-(excl - base)).float()
    alpha = 1.0 - torch.exp(-tau)
    return trans * alpha, trans


def accumulate(values: Tensor, weights: Tensor, ray_idx: Tensor, n_rays: int) -> Tensor:
    """Sum weights * values per ray: values (S, C) or (S,) -> (R, C) or (R,)."""
    if values.ndim == 1:
        return torch.zeros(n_rays, device=weights.device, dtype=weights.dtype).index_add_(0, ray_idx, weights * values)
    out = torch.zeros(n_rays, values.shape[-1], device=weights.device, dtype=weights.dtype)
    return out.index_add_(0, ray_idx, weights[:, None] * values)


def composite(
    sigma: Tensor, rgb: Tensor, t0: Tensor, t1: Tensor, ray_idx: Tensor, n_rays: int
) -> dict[str, Tensor]:
    """Composite packed samples into per-ray colour (R, 3), depth (R,) and opacity (R,).

    Depth is the expected distance ``sum(w t) / sum(w)``-free form ``sum(w t)`` (un-normalised) so that it can
    be normalised by the caller, which knows the background.
    """
    w, _ = render_weights(sigma, t1 - t0, ray_idx)
    tm = 0.5 * (t0 + t1)
    return {
        "rgb": accumulate(rgb, w, ray_idx, n_rays),
        "depth": accumulate(tm, w, ray_idx, n_rays),
        "accumulation": accumulate(torch.ones_like(w), w, ray_idx, n_rays),
        "weights": w,
    }
