"""Renderer: field + occupancy grid + ray marcher -> colours, depth and opacity for rays and cameras.

Two paths share the marcher and compositor:
  * :meth:`Renderer.render_rays_train`: one differentiable pass over the visible candidate steps (jittered;
    samples hidden behind opaque surfaces are dropped by a density-only pre-pass).
  * :meth:`Renderer.render_rays`: inference, marching in rounds with early ray termination, chunked so
    memory stays bounded at any resolution.
"""

from __future__ import annotations

import torch
from torch import Tensor

from scenegen.cameras.cameras import Cameras
from scenegen.field.field import RadianceField
from scenegen.render.composite import accumulate, composite, render_weights
from scenegen.render.estimator import OccupancyGrid
from scenegen.render.marching import MarchConfig, RayMarcher

COLOR_MIN_WEIGHT = 1e-4
"""Inference skips the colour MLP of samples weighing less than this (under 1/40 of an 8-bit level)."""


class Renderer:
    """Renders rays given in field coordinates.

    Args:
        field: the radiance field.
        grid: occupancy grid (None: march every step, slow; for tests).
        march: marching configuration.
        bounded: scene kind (box vs contracted).
    """

    def __init__(self, field: RadianceField, grid: OccupancyGrid | None, march: MarchConfig, bounded: bool):
        self.field = field
        self.grid = grid
        self.marcher = RayMarcher(march, bounded)
        self.bounded = bounded

    def render_rays_train(
        self,
        origins: Tensor,
        dirs: Tensor,
        image_idx: Tensor | None,
        background: Tensor,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Differentiable render of R rays: rgb (R, 3) composited on ``background`` (R, 3) or (3,)."""
        min_t = self.marcher.cfg.train_min_transmittance
        if min_t > 0:
            ray_idx, t0, t1, marched = self._visible_samples(origins, dirs, min_t, generator)
        else:
            ray_idx, t0, t1, _ = self.marcher.march(origins, dirs, self.grid, jitter=True, generator=generator)
            marched = ray_idx.numel()
        tm = 0.5 * (t0 + t1)
        x = origins[ray_idx] + dirs[ray_idx] * tm[:, None]
        d = dirs[ray_idx]
        img = image_idx[ray_idx] if image_idx is not None else None
        sigma, rgb = self.field(x, d, img)
        out = composite(sigma, rgb, t0, t1, ray_idx, origins.shape[0])
        out["rgb"] = out["rgb"] + (1.0 - out["accumulation"])[:, None] * background
        out["num_samples"] = torch.tensor(ray_idx.numel())
        out["num_marched"] = torch.tensor(marched)
        out["ray_idx"], out["t_mid"] = ray_idx, tm  # per sample, with out["weights"], for sample-level losses
        out["dt"] = t1 - t0
        return out

    @torch.no_grad()
    def _visible_samples(self, origins: Tensor, dirs: Tensor, min_t: float, generator) -> tuple[Tensor, Tensor, Tensor, int]:
        """The jittered samples that can still be seen (transmittance above ``min_t``): a density-only pass (hash
        encoding + density MLP, no autograd), as Instant-NGP compacts its samples, so the full network and its
        backward pass run only on those. Rays are marched in rounds of up to k samples (k doubling to 128) and
        leave once opaque: the density of the samples behind a surface, most of a ray in a real capture, is never
        evaluated (bonsai: 214 density evaluations per ray in one pass, 29 in rounds; BENCHMARKS.md).

        Returns ray_idx (S,) sorted, t0, t1 (S,) and how many samples the pass evaluated.
        """
        r = origins.shape[0]
        device = origins.device
        u = torch.rand(r, generator=generator, device=device)  # the per-ray jitter, kept across rounds
        if device.type != "cpu":
            # On a GPU each round's "how many rays are left" is a host round trip; the one pass, with which the
            # CUDA figures in BENCHMARKS.md were measured, stays there (rounds were not measured on a GPU).
            ray_idx, t0, t1, _ = self.marcher.march(origins, dirs, self.grid, offset=u)
            if ray_idx.numel() == 0:
                return ray_idx, t0, t1, 0
            x = origins[ray_idx] + dirs[ray_idx] * (0.5 * (t0 + t1))[:, None]
            _, tr = render_weights(self.field.density(x), t1 - t0, ray_idx)
            keep = tr > min_t
            return ray_idx[keep], t0[keep], t1[keep], int(ray_idx.numel())
        parts_i, parts_0, parts_1 = [], [], []

        def keep_visible(alive, o, d, ray_idx, t0, t1, trans_alive):
            sigma = self.field.density(o[ray_idx] + d[ray_idx] * (0.5 * (t0 + t1))[:, None])
            _, tr = render_weights(sigma, t1 - t0, ray_idx)
            keep = tr * trans_alive[ray_idx] > min_t
            parts_i.append(alive[ray_idx[keep]])
            parts_0.append(t0[keep])
            parts_1.append(t1[keep])
            return sigma

        _, marched = self._march_rounds(origins, dirs, min_t, 16, 128, keep_visible, offset=u)
        if not parts_i:
            z = torch.zeros(0, device=device)
            return torch.zeros(0, dtype=torch.long, device=device), z, z, marched
        ray_idx, t0, t1 = torch.cat(parts_i), torch.cat(parts_0), torch.cat(parts_1)
        # rounds append each ray's samples in distance order: a stable sort by ray keeps that order
        ray_idx, order = torch.sort(ray_idx, stable=True)
        return ray_idx, t0[order], t1[order], marched

    def _march_rounds(self, origins: Tensor, dirs: Tensor, min_t: float, k_first: int, k_max: int, visit,
                      offset: Tensor | None = None) -> tuple[Tensor, int]:
        """Marches rays in rounds of up to k occupied samples each (k doubling from ``k_first`` to ``k_max``); a
        ray leaves when it is opaque (transmittance below ``min_t``) or past its end. Each round calls
        ``visit(alive, o, d, ray_idx, t0, t1, trans_alive)`` (the rays still marching, their origins and
        directions, the round's packed samples, and those rays' transmittance before the round), which returns
        the samples' densities. ``offset``: per-ray jitter in steps (default: mid-step).

        Returns the final transmittance (R,) and how many samples were visited.
        """
        r = origins.shape[0]
        device = origins.device
        trans = torch.ones(r, device=device)
        t_start, t_end = self.marcher.ray_ranges(origins, dirs)
        k_next = torch.zeros(r, dtype=torch.long, device=device)
        alive = (t_end > t_start).nonzero().squeeze(-1)
        n_steps = self.marcher.num_steps
        marched, k = 0, k_first
        while alive.numel() > 0:
            o, d = origins[alive], dirs[alive]
            ray_idx, t0, t1, nxt = self.marcher.march(
                o, d, self.grid, t_start=t_start[alive], t_end=t_end[alive], k_start=k_next[alive], limit=k,
                offset=None if offset is None else offset[alive],
            )
            k_next[alive] = nxt
            if ray_idx.numel() > 0:
                marched += ray_idx.numel()
                sigma = visit(alive, o, d, ray_idx, t0, t1, trans[alive])
                tau = torch.zeros(alive.numel(), device=device).index_add_(0, ray_idx, sigma * (t1 - t0))
                trans[alive] = trans[alive] * torch.exp(-tau)
            alive = alive[(trans[alive] > min_t) & (nxt < n_steps)]
            k = min(k * 2, k_max)
        return trans, marched

    @torch.no_grad()
    def render_rays(
        self,
        origins: Tensor,
        dirs: Tensor,
        background: Tensor,
        chunk: int = 1 << 15,
        min_transmittance: float = 1e-3,
        image_idx: Tensor | None = None,
        appearance: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Inference render of R rays in chunks: rgb (R, 3), depth (R,) field units, accumulation (R,).
        ``appearance``: one (D,) appearance code for every ray without an ``image_idx`` (default: the mean)."""
        outs = [
            self._render_chunk(
                origins[s : s + chunk],
                dirs[s : s + chunk],
                background,
                min_transmittance,
                None if image_idx is None else image_idx[s : s + chunk],
                appearance,
            )
            for s in range(0, origins.shape[0], chunk)
        ]
        return {k: torch.cat([o[k] for o in outs]) for k in outs[0]}

    def _render_chunk(self, origins, dirs, background, min_transmittance, image_idx,
                      appearance: Tensor | None = None) -> dict[str, Tensor]:
        """Composites rays as :meth:`_march_rounds` marches them (k from 2 to 32: most rays of a scene with
        surfaces turn opaque within a few samples, and a larger first round evaluates samples behind the surface
        for nothing), so opaque rays stop early."""
        r = origins.shape[0]
        device = origins.device
        rgb = torch.zeros(r, 3, device=device)
        depth = torch.zeros(r, device=device)
        acc = torch.zeros(r, device=device)

        split = hasattr(self.field, "density_features") and hasattr(self.field, "color")
        app = {} if appearance is None else {"appearance": appearance}

        def composite_round(alive, o, d, ray_idx, t0, t1, trans_alive):
            tm = 0.5 * (t0 + t1)
            x = o[ray_idx] + d[ray_idx] * tm[:, None]
            img = image_idx[alive][ray_idx] if image_idx is not None else None
            if split:  # colour only where a sample shows: behind a surface most samples weigh nothing
                sigma, geo = self.field.density_features(x)
                w, _ = render_weights(sigma, t1 - t0, ray_idx)
                w = w * trans_alive[ray_idx]
                show = (w > COLOR_MIN_WEIGHT).nonzero().squeeze(-1)
                col = torch.zeros(x.shape[0], 3, device=device)
                col[show] = self.field.color(geo[show], d[ray_idx[show]], None if img is None else img[show],
                                             **app)
            else:
                sigma, col = self.field(x, d[ray_idx], img, **app)
                w, _ = render_weights(sigma, t1 - t0, ray_idx)
                w = w * trans_alive[ray_idx]
            n = alive.numel()
            rgb[alive] += accumulate(col, w, ray_idx, n)
            depth[alive] += accumulate(tm, w, ray_idx, n)
            acc[alive] += accumulate(torch.ones_like(w), w, ray_idx, n)
            return sigma

        self._march_rounds(origins, dirs, min_transmittance, 2, 32, composite_round)
        rgb = rgb + (1.0 - acc)[:, None] * background
        depth = depth / acc.clamp_min(1e-6)
        return {"rgb": rgb.clamp(0, 1), "depth": depth, "accumulation": acc}

    @torch.no_grad()
    def render_camera(
        self, cameras: Cameras, i: int, background: Tensor, chunk: int = 1 << 15, appearance: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Render camera ``i`` of ``cameras`` (field coordinates): rgb (H, W, 3), depth (H, W), accumulation.
        ``appearance``: the (D,) appearance code to render with (default: the mean training code)."""
        h, w = int(cameras.height[i]), int(cameras.width[i])
        origins, dirs = cameras.camera_rays(i)
        out = self.render_rays(origins, dirs, background, chunk=chunk, appearance=appearance)
        return {
            "rgb": out["rgb"].reshape(h, w, 3),
            "depth": out["depth"].reshape(h, w),
            "accumulation": out["accumulation"].reshape(h, w),
        }
