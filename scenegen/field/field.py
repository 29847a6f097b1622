"""The radiance field: hash encoding -> density MLP -> colour MLP with a spherical-harmonics view encoding.

Positions arrive in *field coordinates* (see :class:`scenegen.data.dataset.SceneTransform`): bounded scenes
occupy [-1, 1]^3; unbounded scenes are contracted (mip-NeRF 360, with the L-inf norm as nerfstudio does for
hash grids, :func:`scenegen.kernels.contract`) from R^3 into [-2, 2]^3 before encoding.
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from scenegen.field.encoding import HashEncoding, HashGridConfig
from scenegen.kernels import contract


@dataclass
class FieldConfig:
    """Field architecture."""

    grid: HashGridConfig = field(default_factory=HashGridConfig)
    hidden_dim: int = 64
    """Width of both MLPs."""
    geo_feat_dim: int = 15
    """Features passed from the density MLP to the colour MLP."""
    color_layers: int = 2
    """Hidden layers of the colour MLP."""
    sh_degree: int = 4
    look: Literal["off", "exposure", "codes"] = "off"
    """A look per training photo, for captures whose photos differ in exposure or lighting. off: one look for
    every photo; the field learns the average, which is also what tours render (on bonsai and fern it rendered
    held-out photos as well as, or better than, the other two: BENCHMARKS.md, "one look"). exposure: a colour
    gain and offset per photo. codes: an appearance code per photo fed to the colour network (NeRF-W; also
    lighting that changes between photos). With either, `scenegen eval` renders each held-out photo in the look
    of the training photos taken nearest to it, and tours in the photos' mean look."""
    appearance_dim: int = 16
    """Size of each photo's appearance code (--field.look codes)."""
    implementation: str = "auto"
    """Hash encoding backend: auto (tcnn on CUDA if importable, C++ kernel on CPU), torch, cpu, tcnn."""
    compile: bool = False
    """torch.compile the field's PyTorch parts (helps on CUDA without tcnn; on CPU the C++ kernel is faster)."""
    mlp_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    """MLP arithmetic. auto: bfloat16 on CPUs with native bfloat16 (AVX512-BF16 or AMX: about 2.4x faster
    MLPs), else float32. Weights, the hash table and optimiser state stay float32 either way."""


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except Exception:  # older torch without the probes
        return False


def to_unit_cube(x: Tensor, bounded: bool) -> Tensor:
    """Field coordinates -> [0, 1]^3 for the hash grid."""
    if bounded:
        return ((x + 1.0) * 0.5).clamp(0.0, 1.0)
    return ((contract(x) + 2.0) * 0.25).clamp(0.0, 1.0)


def sh_encode(d: Tensor, degree: int) -> Tensor:
    """Real spherical harmonics of unit directions ``d`` (N, 3) up to ``degree`` (1..4): (N, degree^2)."""
    x, y, z = d.unbind(-1)
    out = [torch.full_like(x, 0.28209479177387814)]
    if degree > 1:
        out += [-0.48860251190291987 * y, 0.48860251190291987 * z, -0.48860251190291987 * x]
    if degree > 2:
        xx, yy, zz, xy, yz, xz = x * x, y * y, z * z, x * y, y * z, x * z
        out += [
            1.0925484305920792 * xy,
            -1.0925484305920792 * yz,
            0.94617469575755997 * zz - 0.31539156525251999,
            -1.0925484305920792 * xz,
            0.54627421529603959 * (xx - yy),
        ]
    if degree > 3:
        out += [
            0.59004358992664352 * y * (-3.0 * xx + yy),
            2.8906114426405538 * xy * z,
            0.45704579946446572 * y * (1.0 - 5.0 * zz),
            0.3731763325901154 * z * (5.0 * zz - 3.0),
            0.45704579946446572 * x * (1.0 - 5.0 * zz),
            1.4453057213202769 * z * (xx - yy),
            0.59004358992664352 * x * (-xx + 3.0 * yy),
        ]
    return torch.stack(out, -1)


def bucket_rows(n: int) -> int:
    """``n`` rounded up to one of eight sizes an octave (n, or 2^k * (1 + j/8)): at most 12.5 % more rows.

    oneDNN, which runs torch's bfloat16 matrix products on the CPU, compiles a kernel for every new matrix shape
    and keeps a cache of about a thousand. A training step's sample count changes every step, so without buckets
    nearly every product of a step compiled its kernel first (bonsai: 6 ms for a 64 x 12,000 x 64 product that
    runs in 0.2 ms once compiled; most of a step's MLP time). With these buckets a run meets a few dozen shapes.
    """
    if n <= 64:
        return 64
    k = 1 << (n.bit_length() - 4)  # an eighth of the octave's base
    return -(-n // k) * k


def run_mlp(mlp: nn.Module, x: Tensor, bucket: bool) -> Tensor:
    """``mlp(x)``, with the rows padded to :func:`bucket_rows` when ``bucket`` (then sliced back)."""
    n = x.shape[0]
    m = bucket_rows(n) if bucket else n
    if m == n:
        return mlp(x)
    return mlp(torch.nn.functional.pad(x, (0, 0, 0, m - n)))[:n]


def _mlp(in_dim: int, hidden: int, out_dim: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    d = in_dim
    for _ in range(layers):
        mods += [nn.Linear(d, hidden, bias=False), nn.ReLU(inplace=True)]
        d = hidden
    mods.append(nn.Linear(d, out_dim, bias=False))
    return nn.Sequential(*mods)


class RadianceField(nn.Module):
    """Instant-NGP style radiance field.

    ``forward(x, d, image_idx)`` -> (sigma (N,), rgb (N, 3)); ``density(x)`` -> sigma (N,).
    """

    def __init__(self, cfg: FieldConfig, bounded: bool = True, num_images: int = 0):
        super().__init__()
        self.cfg = cfg
        self.bounded = bounded
        self.encoding = HashEncoding(cfg.grid, cfg.implementation)
        self.density_mlp = _mlp(self.encoding.output_dim, cfg.hidden_dim, 1 + cfg.geo_feat_dim, 1)
        codes = cfg.look == "codes" and cfg.appearance_dim > 0
        color_in = cfg.geo_feat_dim + cfg.sh_degree**2 + (cfg.appearance_dim if codes else 0)
        self.color_mlp = _mlp(color_in, cfg.hidden_dim, 3, cfg.color_layers)
        self.exposure = cfg.look == "exposure"
        """The look table's rows are (log gain, offset) per colour channel, applied to the colour of every sample
        (so to the rendered colour: gain * rgb + offset * opacity); else they are codes for the colour network."""
        dim = 6 if self.exposure else cfg.appearance_dim if codes else 0
        # One row per photo of the dataset, zero at the start (gain 1, offset 0; the mean code).
        self.appearance = nn.Embedding(max(num_images, 1), dim) if dim > 0 else None
        if self.appearance is not None:
            nn.init.zeros_(self.appearance.weight)
        self.level_mask: Tensor | None = None
        """(output_dim,) weights of the hash levels' features (coarse-to-fine training), or None: all on."""
        self._fwd = self._forward_impl
        self._dens = self._density_impl
        if cfg.compile and self.encoding.tcnn is None:
            self._fwd = torch.compile(self._forward_impl, dynamic=True)
            self._dens = torch.compile(self._density_impl, dynamic=True)

    def mlp_dtype(self, device: torch.device) -> torch.dtype:
        p = self.cfg.mlp_precision
        if p == "bfloat16" or (p == "auto" and device.type == "cpu" and cpu_has_native_bf16()):
            return torch.bfloat16
        return torch.float32

    def _bucket(self, x: Tensor) -> bool:
        """Pad the MLPs' rows to shape buckets (:func:`bucket_rows`): bfloat16 on the CPU only (oneDNN's
        per-shape kernels; float32 and CUDA products have no such cost)."""
        # (not under torch.compile, which specialises shapes itself)
        return x.device.type == "cpu" and not self.cfg.compile and self.mlp_dtype(x.device) == torch.bfloat16

    def _mlp_context(self, x: Tensor):
        if self.mlp_dtype(x.device) == torch.bfloat16:
            return torch.autocast(x.device.type, dtype=torch.bfloat16)
        return nullcontext()

    # The pure functions below are what torch.compile traces.
    def _density_impl(self, x: Tensor) -> tuple[Tensor, Tensor]:
        enc = self.encoding(to_unit_cube(x, self.bounded))
        if self.level_mask is not None:
            enc = enc * self.level_mask
        with self._mlp_context(x):
            h = run_mlp(self.density_mlp, enc, self._bucket(x))
        h = h.float()
        sigma = torch.exp(h[:, 0].clamp(max=15.0) - 1.0)  # truncated exp, shifted: starts near-transparent
        return sigma, h[:, 1:]

    def _color_impl(self, geo: Tensor, d: Tensor, app: Tensor | None) -> Tensor:
        feats = [geo, sh_encode(d, self.cfg.sh_degree)]
        if app is not None and not self.exposure:
            feats.append(app)
        with self._mlp_context(geo):
            logits = run_mlp(self.color_mlp, torch.cat(feats, -1), self._bucket(geo))
        rgb = torch.sigmoid(logits.float())
        if app is not None and self.exposure:
            app = app.float()
            rgb = rgb * torch.exp(app[:, :3]) + app[:, 3:]
        return rgb

    def _forward_impl(self, x: Tensor, d: Tensor, app: Tensor | None) -> tuple[Tensor, Tensor]:
        sigma, geo = self._density_impl(x)
        return sigma, self._color_impl(geo, d, app)

    def appearance_codes(self, image_idx: Tensor | None, n: int, device, code: Tensor | None = None) -> Tensor | None:
        """Per-sample rows of the look table (appearance codes, or gains and offsets); novel views (``image_idx``
        None) use ``code`` (D,) when given (e.g. the nearest photos' look, :mod:`scenegen.field.appearance`), else
        the mean of the training photos' rows."""
        if self.appearance is None:
            return None
        if image_idx is None and code is not None:
            return code.to(device=device, dtype=self.appearance.weight.dtype).reshape(1, -1).expand(n, -1)
        if image_idx is None:
            # The table has a row for every image of the dataset; held-out images' rows never train and stay at
            # their zero initialisation, so they are left out of the mean.
            w = self.appearance.weight
            used = w.detach().abs().sum(1) > 0
            mean = w[used].mean(0, keepdim=True) if bool(used.any()) else w.new_zeros(1, w.shape[1])
            return mean.expand(n, -1)
        return self.appearance(image_idx)

    def forward(self, x: Tensor, d: Tensor, image_idx: Tensor | None = None,
                appearance: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x: (N, 3) field coordinates, d: (N, 3) unit directions, image_idx: (N,) long or None; appearance: the
        (D,) code for every sample when image_idx is None (default: the mean training code)."""
        if x.shape[0] == 0:
            return x.new_zeros(0), x.new_zeros(0, 3)
        app = self.appearance_codes(image_idx, x.shape[0], x.device, appearance)
        return self._fwd(x, d, app)

    def density(self, x: Tensor) -> Tensor:
        if x.shape[0] == 0:
            return x.new_zeros(0)
        return self._dens(x)[0]

    def density_features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(sigma (N,), geometry features (N, geo_feat_dim)): the first half of :meth:`forward`; a renderer
        that weights samples first runs :meth:`color` only on those that show."""
        if x.shape[0] == 0:
            return x.new_zeros(0), x.new_zeros(0, self.cfg.geo_feat_dim)
        return self._dens(x)

    def color(self, geo: Tensor, d: Tensor, image_idx: Tensor | None = None,
              appearance: Tensor | None = None) -> Tensor:
        """rgb (N, 3) from :meth:`density_features`' features and unit directions (N, 3): :meth:`forward`'s
        second half."""
        if geo.shape[0] == 0:
            return geo.new_zeros(0, 3)
        return self._color_impl(geo, d, self.appearance_codes(image_idx, geo.shape[0], geo.device, appearance))


def choose_cpu_threads(field: RadianceField, n_points: int = 8192, reps: int = 3) -> int:
    """How many CPU threads to run the field with: one, or all of torch's, whichever runs it faster.

    The hash-grid gathers and the narrow MLPs are memory-latency bound; on hyper-threaded siblings (many laptops
    and cloud vCPUs) or next to another busy process, more threads are no faster and OpenMP barriers can make them
    several times slower (measured on a 2-vCPU VM: equal speed when idle, three times slower beside one other
    process). So time the field's forward + backward on a fixed random batch both ways (about half a second)
    and keep the faster; all threads must win by 15% to be chosen.
    """
    import time

    n = torch.get_num_threads()
    if n <= 1:
        return 1
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(n_points, 3, generator=gen) * 2.0 - 1.0
    d = torch.nn.functional.normalize(torch.randn(n_points, 3, generator=gen), dim=-1)

    def timed(threads: int) -> float:
        torch.set_num_threads(threads)
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            sigma, rgb = field(x, d)
            (sigma.sum() + rgb.sum()).backward()
            best = min(best, time.perf_counter() - t0)
        return best

    try:
        timed(n)  # warm-up: first calls allocate and load kernels
        one, many = timed(1), timed(n)
    finally:
        field.zero_grad(set_to_none=True)
    choice = n if many < 0.85 * one else 1
    torch.set_num_threads(choice)
    return choice
