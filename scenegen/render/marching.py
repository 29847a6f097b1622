"""Ray marching with empty-space skipping, in packed form.

Samples along each ray lie on a fixed step sequence (uniform steps inside the bounded box; for unbounded
scenes uniform near the cameras, then growing with distance, Instant-NGP's cone stepping). Candidates in
empty occupancy cells are dropped, leaving a *packed* list of samples: ``ray_idx`` (S,) sorted, ``t0``/``t1``
(S,) segment bounds. Rendering composites packed samples with :mod:`scenegen.render.composite`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from scenegen.kernels import MarchResult, march, uses_cpu_kernels
from scenegen.render.estimator import OccupancyGrid


@dataclass
class MarchConfig:
    """How rays are sampled."""

    step_size: float = 0.0
    """Base step in field units; 0 = automatic (box diagonal / ``steps_per_diagonal``)."""
    steps_per_diagonal: int = 512
    cone_angle: float = 0.0
    """Step growth with distance for unbounded scenes (dt = t * cone_angle, at least step_size)."""
    near: float = 0.02
    """Near plane in field units."""
    far: float = 1000.0
    """Far plane for unbounded scenes (field units)."""
    train_min_transmittance: float = 1e-4
    """Training drops samples behind this transmittance (found by a density-only pre-pass without gradients,
    as Instant-NGP compacts its samples) so the full network and its backward pass run only on samples that
    can still be seen; 0 = off."""

    def base_step(self, bounded: bool) -> float:
        if self.step_size > 0:
            return self.step_size
        return 2.0 * math.sqrt(3.0) / self.steps_per_diagonal


def ray_aabb(origins: Tensor, dirs: Tensor, lo: float = -1.0, hi: float = 1.0) -> tuple[Tensor, Tensor]:
    """Slab test: entry and exit distances (R,) of rays with the box [lo, hi]^3 (exit < entry: miss)."""
    inv = 1.0 / torch.where(dirs.abs() < 1e-9, torch.full_like(dirs, 1e-9), dirs)
    t0 = (lo - origins) * inv
    t1 = (hi - origins) * inv
    tmin = torch.minimum(t0, t1).amax(-1)
    tmax = torch.maximum(t0, t1).amin(-1)
    return tmin, tmax


class RayMarcher:
    """Generates packed samples for rays in field coordinates, skipping empty cells."""

    def __init__(self, cfg: MarchConfig, bounded: bool):
        self.cfg = cfg
        self.bounded = bounded
        self.step = cfg.base_step(bounded)
        if bounded:
            n = int(math.ceil(2.0 * math.sqrt(3.0) / self.step)) + 1
            self.t_seq = torch.arange(n + 1, dtype=torch.float32) * self.step  # offsets from the box entry
        else:
            ts = [cfg.near]
            cone = cfg.cone_angle if cfg.cone_angle > 0 else 1.0 / 64
            while ts[-1] < cfg.far:
                ts.append(ts[-1] + max(self.step, ts[-1] * cone))
            self.t_seq = torch.tensor(ts, dtype=torch.float32)  # absolute distances

    def ray_ranges(self, origins: Tensor, dirs: Tensor) -> tuple[Tensor, Tensor]:
        """(R,) start and end distance of the marched interval of each ray."""
        if self.bounded:
            tmin, tmax = ray_aabb(origins, dirs)
            tmin = tmin.clamp_min(self.cfg.near)
            return tmin, tmax
        r = origins.shape[0]
        return origins.new_full((r,), self.cfg.near), origins.new_full((r,), self.cfg.far)

    def march(
        self,
        origins: Tensor,
        dirs: Tensor,
        grid: OccupancyGrid | None,
        t_start: Tensor | None = None,
        t_end: Tensor | None = None,
        jitter: bool = False,
        generator: torch.Generator | None = None,
        k_start: Tensor | None = None,
        limit: int = -1,
        implementation: str = "auto",
        offset: Tensor | None = None,
    ) -> MarchResult:
        """Packed samples of rays ``origins``/``dirs`` (R, 3), skipping empty occupancy cells.

        Args:
            t_start, t_end: (R,) marching interval (default :meth:`ray_ranges`).
            jitter: random offset of the whole step sequence per ray (training), in [0, 1) steps.
            k_start: (R,) long, first step index per ray (default 0), to continue a ray marched before.
            limit: at most this many samples per ray (-1: all); with :attr:`next_k` rendering marches rays
                in rounds and stops each one when it is opaque (early termination).
            implementation: "auto" (the C++ kernel on CPU when available), "cpu" or "torch" (the reference,
                :func:`scenegen.kernels._torch_impl.march`).
            offset: (R,) the per-ray offset in [0, 1) steps to use instead of ``jitter``'s random one (a ray
                marched in rounds keeps its offset).
        Returns:
            :class:`scenegen.kernels.MarchResult`: ray_idx (S,) long sorted, t0 (S,), t1 (S,) segment bounds
            (field units along the unit direction), next_k (R,) long: the step to continue each ray from
            (``num_steps`` when the ray is done).
        """
        device = origins.device
        r = origins.shape[0]
        if t_start is None or t_end is None:
            t_start, t_end = self.ray_ranges(origins, dirs)
        if offset is not None:
            u = offset
        elif jitter:
            u = torch.rand(r, generator=generator, device=device)
        else:
            u = torch.full((r,), 0.5, device=device)
        if k_start is None:
            k_start = torch.zeros(r, dtype=torch.long, device=device)
        if grid is None:
            return march(
                origins=origins, dirs=dirs, t_start=t_start, t_end=t_end, jitter=u, k_start=k_start, t_seq=self.t_seq,
                bounded=self.bounded, step=self.step, limit=limit, implementation=implementation,
            )
        return march(
            origins=origins, dirs=dirs, t_start=t_start, t_end=t_end, jitter=u, k_start=k_start, t_seq=self.t_seq,
            bounded=self.bounded, step=self.step, bits=grid.binary, resolution=grid.resolution, extent=grid.extent,
            contracted=not grid.bounded, limit=limit, implementation=implementation,
            mips=grid.mips() if uses_cpu_kernels(device, implementation) else None,
        )

    @property
    def num_steps(self) -> int:
        return self.t_seq.numel() - 1
