"""Multiresolution hash encoding (Instant-NGP, Müller et al. 2022).

Three implementations of one configuration:
  * ``"torch"``: pure PyTorch (:func:`scenegen.kernels._torch_impl.hash_encode`), the reference; any device
    (CUDA included).
  * ``"cpu"``: a small C++ kernel (:mod:`scenegen.kernels`, built once with the compiler torch uses and cached by
    ``torch.utils.cpp_extension``); the default on CPU. If it cannot be built, scenegen warns once and falls back
    to ``"torch"``.
  * ``"tcnn"``: tiny-cuda-nn's fused CUDA kernel, used automatically when ``tinycudann`` imports and the
    module lives on CUDA.

Hand-written because it is the product's core and the CPU path must be fast and measured; tiny-cuda-nn is
CUDA-only and not on PyPI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from scenegen.kernels import hash_encode, uses_cpu_kernels


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
        if uses_cpu_kernels(device, self.implementation):
            return "cpu"
        return "torch"

    def forward(self, x: Tensor) -> Tensor:
        if self.tcnn is not None:
            return self.tcnn(x).float()
        return hash_encode(
            x=x, table=self.table, resolutions=self.resolutions, offsets=self.offsets, sizes=self.sizes,
            dense=self.dense, implementation=self.backend(x.device),
        )
