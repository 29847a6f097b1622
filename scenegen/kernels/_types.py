"""Result types of the kernels (shared by the native wrappers and the PyTorch references)."""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor


class MarchResult(NamedTuple):
    """Packed samples of marched rays (samples of one ray contiguous, rays in order)."""

    ray_idx: Tensor
    """(S,) int64, sorted: the ray of each sample."""
    t0: Tensor
    """(S,) float32: segment start along the unit direction."""
    t1: Tensor
    """(S,) float32: segment end."""
    next_k: Tensor
    """(R,) int64: the step to continue each ray from (the number of steps when the ray is done)."""
