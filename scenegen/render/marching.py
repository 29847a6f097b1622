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

from scenegen.field.occupancy import OccupancyGrid


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
        step_range: tuple[int, int] | None = None,
        t_start: Tensor | None = None,
        t_end: Tensor | None = None,
        jitter: bool = False,
        generator: torch.Generator | None = None,
        max_candidates: int = 1 << 23,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Packed samples of rays ``origins``/``dirs`` (R, 3).

        Args:
            step_range: only steps [a, b) of the step sequence (windowed marching for early termination).
            t_start, t_end: (R,) marching interval (default :meth:`ray_ranges`).
            jitter: random offset of the whole sequence per ray (training), in [0, 1) steps.
        Returns:
            ray_idx (S,) long sorted, t0 (S,), t1 (S,) segment bounds (field units along the unit direction).
        """
        device = origins.device
        if t_start is None or t_end is None:
            t_start, t_end = self.ray_ranges(origins, dirs)
        seq = self.t_seq.to(device)
        a, b = step_range if step_range is not None else (0, seq.numel() - 1)
        b = min(b, seq.numel() - 1)
        if a >= b or origins.shape[0] == 0:
            e = torch.zeros(0, device=device)
            return e.long(), e, e
        lo, hi = seq[a:b], seq[a + 1 : b + 1]  # (M,)
        r = origins.shape[0]
        # Chunk over rays so candidates stay bounded in memory.
        per = max(1, max_candidates // max(1, (b - a)))
        out_idx, out_t0, out_t1 = [], [], []
        for s in range(0, r, per):
            o, d = origins[s : s + per], dirs[s : s + per]
            ts, te = t_start[s : s + per], t_end[s : s + per]
            if jitter:
                u = torch.rand(o.shape[0], 1, generator=generator, device=device)
            else:
                u = torch.full((o.shape[0], 1), 0.5, device=device)
            if self.bounded:
                t0 = ts[:, None] + lo[None, :] + (u - 0.5) * self.step
                t1 = ts[:, None] + hi[None, :] + (u - 0.5) * self.step
                t0 = t0.clamp_min(ts[:, None])
            else:
                span = hi - lo
                t0 = lo[None, :] + (u - 0.5) * span[None, :]
                t1 = hi[None, :] + (u - 0.5) * span[None, :]
            tm = 0.5 * (t0 + t1)
            valid = (tm < te[:, None]) & (tm > ts[:, None])
            if grid is not None:
                rows, cols = valid.nonzero(as_tuple=True)
                pts = o[rows] + d[rows] * tm[rows, cols, None]
                keep = grid.occupied(pts)
                rows, cols = rows[keep], cols[keep]
            else:
                rows, cols = valid.nonzero(as_tuple=True)
            out_idx.append(rows + s)
            out_t0.append(t0[rows, cols])
            out_t1.append(t1[rows, cols])
        return torch.cat(out_idx), torch.cat(out_t0), torch.cat(out_t1)
