"""The occupancy grid, the renderer's transmittance estimator for empty-space skipping (Instant-NGP / nerfacc's
``OccGridEstimator``).

A dense grid of ``resolution^3`` cells holds an exponential moving average of the field's density; a bitfield
(bool tensor) marks cells worth sampling. Bounded scenes: the grid covers the field box [-1, 1]^3. Unbounded
scenes: the grid covers the contracted space [-2, 2]^3, so one grid spans all of R^3 with cells growing with
distance (the role of Instant-NGP's cascades). Training refreshes it with :meth:`OccupancyGrid.update_every_n_steps`
(Instant-NGP's schedule); the marcher (:mod:`scenegen.render.marching`) reads its bitfield and the bitfield's mip
pyramid.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor, nn

from scenegen.kernels import bitfield_mips, grid_cell_index


class OccupancyGrid(nn.Module):
    """Density EMA + bitfield over the field's domain.

    Args:
        resolution: cells per axis.
        bounded: domain [-1, 1]^3 (True) or contracted [-2, 2]^3 (False).
        threshold: a cell is occupied when ``density * step_size`` exceeds this (capped by the mean).
        step_size: the marching step the threshold refers to (field units).
        ema_decay: density EMA decay per update.
    """

    def __init__(
        self,
        resolution: int = 128,
        bounded: bool = True,
        threshold: float = 0.01,
        step_size: float = 0.005,
        ema_decay: float = 0.95,
    ):
        super().__init__()
        self.resolution = resolution
        self.bounded = bounded
        self.threshold = threshold
        self.step_size = step_size
        self.ema_decay = ema_decay
        self.extent = 1.0 if bounded else 2.0
        n = resolution**3
        # -1 marks cells never evaluated: they count as occupied until first seen.
        self.register_buffer("density", torch.full((n,), -1.0))
        self.register_buffer("binary", torch.ones(n, dtype=torch.bool))
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))
        # Cells that may hold content at all (see restrict_to_box); the rest stay empty forever.
        self.register_buffer("allowed", torch.ones(n, dtype=torch.bool))

    def restrict_to_box(self, lo, hi) -> None:
        """Only cells overlapping the box [lo, hi] (field coordinates, (3,) each) may ever be occupied.

        The field's cube is as large as the scene's longest side, so a known, flatter scene box (a room, a
        building) leaves whole slabs of the cube that rays would otherwise sample until the grid learns them.
        """
        r = self.resolution
        lo = torch.as_tensor(lo, dtype=torch.float32).reshape(3)
        hi = torch.as_tensor(hi, dtype=torch.float32).reshape(3)
        edges = torch.linspace(-self.extent, self.extent, r + 1)
        if not self.bounded:
            edges = uncontract(edges[:, None].expand(-1, 3).contiguous())[:, 0]
        cell_lo, cell_hi = edges[:-1], edges[1:]
        ok = [(cell_hi >= lo[a]) & (cell_lo <= hi[a]) for a in range(3)]
        mask = ok[0][:, None, None] & ok[1][None, :, None] & ok[2][None, None, :]
        self.allowed.copy_(mask.reshape(-1).to(self.allowed.device))
        self.binary &= self.allowed

    # --- geometry -------------------------------------------------------------------------------------------
    def cell_index(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Flat cell index (...,) and an inside-the-domain mask for field points x (..., 3)."""
        return grid_cell_index(x, self.resolution, self.extent, not self.bounded)

    def occupied(self, x: Tensor) -> Tensor:
        """Bool (...,): the point lies in an occupied cell of the domain."""
        idx, inside = self.cell_index(x)
        return self.binary[idx] & inside

    def cell_centers(self, idx: Tensor, jitter: bool = True, generator=None) -> Tensor:
        """Field coordinates (N, 3) of points in cells ``idx`` (random inside the cell when jitter)."""
        r = self.resolution
        ijk = torch.stack([idx // (r * r), (idx // r) % r, idx % r], -1).float()
        if jitter:
            ijk = ijk + torch.rand(ijk.shape, generator=generator, device=idx.device)
        else:
            ijk = ijk + 0.5
        y = ijk * (2 * self.extent / r) - self.extent
        if not self.bounded:
            y = uncontract(y)
        return y

    # --- updates --------------------------------------------------------------------------------------------
    @torch.no_grad()
    def update_every_n_steps(
        self,
        step: int,
        density_fn: Callable[[Tensor], Tensor],
        every_n_steps: int = 16,
        young_steps: int = 256,
        generator: torch.Generator | None = None,
    ) -> bool:
        """Training's refresh schedule (Instant-NGP's): at step ``step`` (> 0), every ``every_n_steps`` steps,
        re-evaluate ``resolution^3 / 16`` random cells plus as many occupied ones (:meth:`update`); while the grid
        is young (``step < young_steps``) four times as often and twice as many cells, so empty space is pruned
        within the first few dozen steps. Draws its random cells from ``generator``. Returns whether it updated.
        """
        young = step < young_steps
        every = max(1, every_n_steps // 4) if young else every_n_steps
        if step <= 0 or step % every != 0:
            return False
        n_cells = self.resolution**3 // (8 if young else 16)
        self.update(density_fn, n_cells=n_cells, generator=generator)
        return True

    @torch.no_grad()
    def update(
        self,
        density_fn: Callable[[Tensor], Tensor],
        n_cells: int | None = None,
        generator: torch.Generator | None = None,
        chunk: int = 1 << 17,
    ) -> None:
        """Re-evaluate the density at (a random subset of) cells and refresh the bitfield.

        ``n_cells`` None evaluates every cell; otherwise ``n_cells`` uniformly random cells plus up to as many
        currently occupied ones (Instant-NGP's schedule).
        """
        total = self.resolution**3
        device = self.density.device
        if n_cells is None or n_cells >= total:
            idx = torch.arange(total, device=device)
        else:
            rand = torch.randint(0, total, (n_cells,), generator=generator, device=device)
            occ = self.binary.nonzero().squeeze(-1)
            if occ.numel() > n_cells:
                occ = occ[torch.randint(0, occ.numel(), (n_cells,), generator=generator, device=device)]
            idx = torch.cat([rand, occ])
        new = torch.empty(idx.shape[0], device=device)
        for s in range(0, idx.shape[0], chunk):
            pts = self.cell_centers(idx[s : s + chunk], jitter=True, generator=generator)
            new[s : s + chunk] = density_fn(pts).float()
        unseen = self.density < 0
        cur = torch.where(unseen, self.density, self.density * self.ema_decay)
        cur[idx] = cur[idx].clamp_min(0.0)  # first evaluation replaces the "unseen" marker
        cur.scatter_reduce_(0, idx, new, reduce="amax")
        self.density.copy_(cur)
        seen = self.density >= 0
        mean = float(self.density[seen].mean()) if bool(seen.any()) else 0.0
        thresh = min(mean, self.threshold / self.step_size)
        self.binary.copy_(((self.density > thresh) | ~seen) & self.allowed)
        self.updates += 1

    def mark_points(self, x: Tensor, value: float) -> None:
        """Seed the density at cells containing points x (N, 3) (e.g. SfM points or a depth prior)."""
        idx, inside = self.cell_index(x)
        idx = idx[inside]
        self.density.scatter_reduce_(0, idx, torch.full_like(idx, value, dtype=self.density.dtype), reduce="amax")
        self.binary[idx] = self.allowed[idx]

    @torch.no_grad()
    def seed_from_depth(self, origins: Tensor, dirs: Tensor, t_surface: Tensor, chunk: int = 4096) -> None:
        """Initialise the grid from rays of known depth (a depth prior): cells the rays cross before their surface
        are empty, cells holding a surface point are occupied, cells no ray reached stay unknown (occupied until
        the field is evaluated there).

        origins, dirs: (R, 3) field-space rays (unit dirs); t_surface: (R,) distance to the surface (> 0).
        """
        cell = 2 * self.extent / self.resolution
        occupied_value = 4.0 * self.threshold / self.step_size
        free = torch.zeros_like(self.binary)
        hit = torch.zeros_like(self.binary)
        for s in range(0, origins.shape[0], chunk):
            o, d, t = origins[s : s + chunk], dirs[s : s + chunk], t_surface[s : s + chunk]
            x = o + d * t[:, None]
            idx, inside = self.cell_index(x)
            hit[idx[inside]] = True
            # free space: points every half cell from the camera up to a cell short of the surface
            n = int(min(2048, math.ceil(float(t.max()) / (0.5 * cell)))) if t.numel() else 0
            if n == 0:
                continue
            ts = torch.arange(n, device=o.device, dtype=o.dtype) * (0.5 * cell)
            keep = ts[None, :] < (t[:, None] - 1.5 * cell)
            pts = o[:, None, :] + d[:, None, :] * ts[None, :, None]
            idx, inside = self.cell_index(pts[keep])
            free[idx[inside]] = True
        free &= ~hit
        dens = self.density.clone()
        dens[free] = 0.0
        dens[hit] = torch.clamp_min(dens[hit], occupied_value)
        self.density.copy_(dens)
        self.binary.copy_(((self.density > 0) | (self.density < 0)) & self.allowed)

    def mips(self, levels: int = 4) -> tuple[Tensor, int]:
        """The bitfield's pyramid for hierarchical empty-space skipping: up to ``levels`` coarser bitfields
        ((res/2)^3, (res/4)^3, ...; a cell is occupied when any child is), flattened and concatenated, and the
        number of levels. Cached until the bitfield changes."""
        key = (self.binary._version, self.binary.data_ptr(), levels)
        cache = getattr(self, "_mips_cache", None)
        if cache is not None and cache[0] == key:
            return cache[1], cache[2]
        flat, n = bitfield_mips(self.binary, self.resolution, levels)
        self._mips_cache = (key, flat, n)
        return flat, n

    @property
    def occupancy_fraction(self) -> float:
        return float(self.binary.float().mean())


def uncontract(y: Tensor) -> Tensor:
    """Inverse of :func:`scenegen.kernels.contract` (L-inf), for y in [-2, 2]^3."""
    mag = y.abs().amax(-1, keepdim=True)
    safe = mag.clamp(1.0, 2.0 - 1e-4)
    return torch.where(mag <= 1.0, y, y / safe / (2.0 - safe))
