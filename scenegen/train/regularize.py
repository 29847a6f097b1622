"""Regularisers for real captures: the distortion loss of mip-NeRF 360 (no floaters in the contracted
background) and coarse-to-fine annealing of the hash levels (sparse captures).

Both are small closed-form expressions over the packed samples a training step already has; they are written
here rather than taken from a library because the packed (ray-sorted, variable length) layout is this
renderer's own (nerfacc, which implements the same distortion loss for packed samples, is a CUDA library).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from scenegen.render.composite import segment_starts


def normalised_distance(t: Tensor, bounded: bool) -> Tensor:
    """Distance along a ray mapped to [0, 1): t / (1 + t) for unbounded scenes (about linear in the unit
    foreground, compressed like mip-NeRF 360's contraction beyond it), t / 4 for the bounded box (diagonal
    2 sqrt(3) < 4)."""
    return t / (1.0 + t) if not bounded else t * 0.25


def distortion_loss(weights: Tensor, t_mid: Tensor, dt: Tensor, ray_idx: Tensor, n_rays: int,
                    bounded: bool) -> Tensor:
    """mip-NeRF 360's distortion loss, mean over rays, for packed samples sorted by ray (then distance):

        sum_ij w_i w_j |s_i - s_j| + 1/3 sum_i w_i^2 ds_i

    in the normalised distance s. It is smallest when each ray's weight sits in one short interval: it pulls
    semi-transparent clouds (floaters, background fog) onto the surface or empties them. The double sum is
    computed in O(samples) with per-ray exclusive prefix sums (as in nerfacc): for sorted s,
    sum_ij w_i w_j |s_i - s_j| = 2 sum_i w_i (s_i W_<i - (ws)_<i).
    """
    if weights.numel() == 0:
        return weights.sum()
    s = normalised_distance(t_mid, bounded)
    ds = normalised_distance(t_mid + 0.5 * dt, bounded) - normalised_distance(t_mid - 0.5 * dt, bounded)
    ws = weights * s
    cw, cws = torch.cumsum(weights, 0), torch.cumsum(ws, 0)
    starts = segment_starts(ray_idx)  # (S,) bool: first sample of its ray
    first = torch.cummax(torch.where(starts, torch.arange(len(s), device=s.device), 0), 0).values
    base_w = (cw - weights)[first]  # prefix sums up to the ray's first sample, exclusive
    base_ws = (cws - ws)[first]
    w_before = cw - weights - base_w
    ws_before = cws - ws - base_ws
    bi = 2.0 * weights * (s * w_before - ws_before)
    uni = weights**2 * ds / 3.0
    return (bi + uni).sum() / max(n_rays, 1)


def level_weights(progress: float, levels: int, features: int, until: float, device=None) -> Tensor | None:
    """Coarse-to-fine weights of the hash levels' features (as in BARF / Nerfies' windowed positional
    encoding): at ``progress`` p of training, level l (0 = coarsest) has weight
    (1 - cos(pi * clamp(alpha - l, 0, 1))) / 2 with alpha = levels * p / until; the two coarsest levels are always
    on. Returns None once every level is fully on (p >= until, or ``until`` <= 0)."""
    if until <= 0 or progress >= until:
        return None
    alpha = levels * progress / until
    w = []
    for lvl in range(levels):
        x = min(max(alpha - lvl + 2.0, 0.0), 1.0)
        w.append(0.5 * (1.0 - math.cos(math.pi * x)))
    return torch.tensor(w, device=device).repeat_interleave(features)
