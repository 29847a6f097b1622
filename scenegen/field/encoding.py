"""Multiresolution hash encoding (Instant-NGP, Müller et al. 2022).

Three implementations of one configuration:
  * ``"torch"``: pure PyTorch (:func:`hash_encode`), the reference; any device (CUDA included).
  * ``"cpu"``: a small C++ kernel (``hashgrid_cpu.cpp``, built once with the compiler torch uses and cached by
    ``torch.utils.cpp_extension``); the default on CPU. If it cannot be built, scenegen warns once and falls back
    to ``"torch"``.
  * ``"tcnn"``: tiny-cuda-nn's fused CUDA kernel, used automatically when ``tinycudann`` imports and the
    module lives on CUDA.

Hand-written because it is the product's core and the CPU path must be fast and measured; tiny-cuda-nn is
CUDA-only and not on PyPI.
"""

from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

# Spatial hash primes of Instant-NGP (the first is 1, so the x coordinate is used as is).
_PRIMES = (1, 2654435761, 805459861)


@dataclass
class HashGridConfig:
    """Hash-grid hyper-parameters.

    ``max_resolution`` and ``levels`` may be 0 (auto): training then resolves them from the data (the finest
    level matches the training pixels' footprint in the field, and levels are spaced by a factor of about 1.38
    as in Instant-NGP), and the run's saved config holds the resolved numbers.
    """

    levels: int = 0
    """Number of levels (0 = auto from the resolution range; 16 for 16..2048)."""
    features_per_level: int = 2
    log2_hashmap_size: int = 0
    """log2 of the entries per hashed level (0 = auto: 17 on CPU, where the optimiser's pass over the whole
    table is a large part of a step and a smaller table trains faster per second; 19 on CUDA)."""
    base_resolution: int = 16
    max_resolution: int = 0
    """Finest grid resolution over the field's unit cube (0 = auto from the training images; 2048 unknown)."""

    def resolved(self, max_resolution: int | None = None) -> "HashGridConfig":
        """A copy with auto (0) fields filled, using ``max_resolution`` for an auto finest level if given."""
        max_res = self.max_resolution or int(max_resolution or DEFAULT_MAX_RESOLUTION)
        max_res = max(max_res, self.base_resolution)
        levels = self.levels
        if levels <= 0:
            levels = 1 + int(math.ceil(math.log(max_res / self.base_resolution) / math.log(LEVEL_SCALE) - 0.01))
            levels = max(levels, 1)
        log2 = self.log2_hashmap_size if self.log2_hashmap_size > 0 else DEFAULT_LOG2_HASHMAP_SIZE
        return HashGridConfig(levels, self.features_per_level, log2, self.base_resolution, max_res)

    @property
    def per_level_scale(self) -> float:
        c = self.resolved()
        if c.levels <= 1:
            return 1.0
        return math.exp((math.log(c.max_resolution) - math.log(c.base_resolution)) / (c.levels - 1))

    def resolutions(self) -> list[int]:
        c = self.resolved()
        s = c.per_level_scale
        return [int(math.floor(c.base_resolution * s**level)) for level in range(c.levels)]

    @property
    def output_dim(self) -> int:
        return self.resolved().levels * self.features_per_level


DEFAULT_MAX_RESOLUTION = 2048
DEFAULT_LOG2_HASHMAP_SIZE = 19  # what an auto (0) table size means outside training (see resolve_auto)
LEVEL_SCALE = 1.3819  # Instant-NGP's spacing: 16 levels from 16 to 2048


def _level_layout(cfg: HashGridConfig) -> tuple[list[int], list[int], list[bool]]:
    """Per level: table size, offset into the flat table, and whether the level is dense (no hashing)."""
    cap = 2**cfg.log2_hashmap_size
    sizes, offsets, dense = [], [], []
    off = 0
    for r in cfg.resolutions():
        full = (r + 1) ** 3
        if full <= cap:
            size = int(math.ceil(full / 8) * 8)
            dense.append(True)
        else:
            size = cap
            dense.append(False)
        sizes.append(size)
        offsets.append(off)
        off += size
    return sizes, offsets, dense


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
    hashed = (ix * _PRIMES[0]) ^ (iy * _PRIMES[1]) ^ (iz * _PRIMES[2])
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


_CPU_KERNEL = None
_CPU_KERNEL_ERROR: str | None = None
_CPU_KERNEL_LOCK = threading.Lock()


def cpu_kernel():
    """The compiled C++ CPU kernels (hash encoding, occupancy-grid marching), or None when they cannot be built
    here (reason in ``_CPU_KERNEL_ERROR``)."""
    global _CPU_KERNEL, _CPU_KERNEL_ERROR
    if _CPU_KERNEL is not None or _CPU_KERNEL_ERROR is not None:
        return _CPU_KERNEL
    with _CPU_KERNEL_LOCK:  # a warm-up thread may be building it already (see prebuild_cpu_kernel)
        if _CPU_KERNEL is None and _CPU_KERNEL_ERROR is None:
            _build_cpu_kernel()
    return _CPU_KERNEL


def prebuild_cpu_kernel() -> None:
    """Start building the C++ kernels in a background thread (the first build takes tens of seconds), so a
    pipeline can overlap it with other work (the demo synthesises its dataset meanwhile)."""
    if _CPU_KERNEL is None and _CPU_KERNEL_ERROR is None:
        threading.Thread(target=cpu_kernel, daemon=True, name="scenegen-build").start()


@contextlib.contextmanager
def _build_lock(name: str):
    """Serialise kernel builds across processes with an OS file lock, and clear a stale build lock.

    torch's extension loader guards its build folder with a plain ``lock`` file and waits, forever, for it to
    disappear; a scenegen process killed while building or loading leaves it behind and every later run would
    hang. Every scenegen process takes this ``flock`` first (the OS releases it when its holder dies), so a
    ``lock`` file found while holding it belongs to a dead process and is removed.
    """
    try:
        import fcntl

        from torch.utils.cpp_extension import _get_build_directory

        build_dir = Path(_get_build_directory(name, verbose=False))
    except Exception:  # not POSIX, or torch moved its helper: build without the guard
        yield
        return
    with open(build_dir.parent / f".{name}.flock", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            stale = build_dir / "lock"
            if stale.exists():
                stale.unlink()
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build_cpu_kernel() -> None:
    global _CPU_KERNEL, _CPU_KERNEL_ERROR
    import os
    import warnings
    from pathlib import Path

    try:
        from torch.utils.cpp_extension import load

        here = Path(__file__).parent
        name = "scenegen_native_cpu_v3"
        with warnings.catch_warnings(), _build_lock(name):
            warnings.simplefilter("ignore")
            _CPU_KERNEL = load(
                name=name,
                sources=[str(here / "hashgrid_cpu.cpp"), str(here / "march_cpu.cpp")],
                extra_cflags=["-O3"],
                verbose=bool(os.environ.get("SCENEGEN_VERBOSE_BUILD")),
            )
    except Exception as e:  # no compiler / ninja: the pure-PyTorch path still works, only slower
        _CPU_KERNEL_ERROR = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        warnings.warn(
            f"scenegen: the C++ hash-grid kernel could not be built ({_CPU_KERNEL_ERROR}); "
            "using the slower pure-PyTorch encoding"
        )


class _HashEncodeCPU(torch.autograd.Function):
    """Autograd wrapper of the C++ kernel (gradients flow to the table, not to the positions)."""

    @staticmethod
    def forward(ctx, x, table, resolutions, offsets, sizes, dense):
        k = cpu_kernel()
        ctx.save_for_backward(x, resolutions, offsets, sizes, dense)
        ctx.table_shape = table.shape
        return k.forward(x, table.detach(), resolutions, offsets, sizes, dense)

    @staticmethod
    def backward(ctx, grad_out):
        x, resolutions, offsets, sizes, dense = ctx.saved_tensors
        grad_table = None
        if ctx.needs_input_grad[1]:
            rows, f = ctx.table_shape
            grad_table = cpu_kernel().backward(grad_out, x, rows, f, resolutions, offsets, sizes, dense)
        return None, grad_table, None, None, None, None


def tcnn_available() -> bool:
    try:
        import tinycudann  # noqa: F401
    except Exception:
        return False
    return torch.cuda.is_available()


class HashEncoding(nn.Module):
    """Hash-grid encoding module: (N, 3) points in [0, 1]^3 -> (N, levels * features_per_level).

    ``implementation``: ``"auto"`` (tcnn on CUDA when importable; the C++ kernel on CPU; else torch),
    ``"torch"``, ``"cpu"`` or ``"tcnn"``.
    """

    def __init__(self, cfg: HashGridConfig, implementation: str = "auto"):
        super().__init__()
        cfg = cfg.resolved()
        self.cfg = cfg
        sizes, offsets, dense = _level_layout(cfg)
        self.register_buffer("resolutions", torch.tensor(cfg.resolutions(), dtype=torch.float32), persistent=False)
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.long), persistent=False)
        self.register_buffer("sizes", torch.tensor(sizes, dtype=torch.long), persistent=False)
        self.register_buffer("dense", torch.tensor(dense, dtype=torch.bool), persistent=False)
        self.implementation = implementation
        self.tcnn = None
        if implementation == "tcnn" or (implementation == "auto" and tcnn_available()):
            import tinycudann as tcnn

            self.tcnn = tcnn.Encoding(
                3,
                {
                    "otype": "HashGrid",
                    "n_levels": cfg.levels,
                    "n_features_per_level": cfg.features_per_level,
                    "log2_hashmap_size": cfg.log2_hashmap_size,
                    "base_resolution": cfg.base_resolution,
                    "per_level_scale": cfg.per_level_scale,
                },
            )
            self.table = None
        else:
            self.table = nn.Parameter(torch.empty(sum(sizes), cfg.features_per_level).uniform_(-1e-4, 1e-4))

    @property
    def output_dim(self) -> int:
        return self.cfg.output_dim

    def backend(self, device: torch.device) -> str:
        """The implementation used for inputs on ``device``."""
        if self.tcnn is not None:
            return "tcnn"
        if self.implementation in ("auto", "cpu") and device.type == "cpu" and cpu_kernel() is not None:
            return "cpu"
        return "torch"

    def forward(self, x: Tensor) -> Tensor:
        if self.tcnn is not None:
            return self.tcnn(x).float()
        args = (x, self.table, self.resolutions, self.offsets, self.sizes, self.dense)
        if self.backend(x.device) == "cpu":
            return _HashEncodeCPU.apply(*args)
        return hash_encode(*args)
