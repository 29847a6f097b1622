"""Typed wrappers over scenegen's C++ CPU kernels, falling back to the pure-PyTorch references.

Every function takes keyword arguments and documents shapes and dtypes; the native module itself
(:mod:`scenegen.kernels._backend`) is called from here only. ``implementation`` selects the code path:
``"auto"`` or ``"cpu"``: the C++ kernel for CPU tensors when it could be built, else the reference;
``"torch"``: the reference (:mod:`scenegen.kernels._torch_impl`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from scenegen.kernels import _backend, _torch_impl
from scenegen.kernels._types import MarchResult


def cpu_kernels_available() -> bool:
    """Whether the C++ CPU kernels can be used here (builds them on first call: tens of seconds, then cached)."""
    return _backend.load() is not None


def cpu_kernels_error() -> str | None:
    """Why the C++ CPU kernels could not be built (None: built, or not tried yet)."""
    return _backend.build_error()


def prebuild_cpu_kernels() -> None:
    """Start building the C++ CPU kernels in a background thread (first run only; see
    :func:`scenegen.kernels._backend.prebuild`), to overlap the build with other work."""
    _backend.prebuild()


def uses_cpu_kernels(device: torch.device | str, implementation: str = "auto") -> bool:
    """Whether ``implementation`` runs the C++ kernels for tensors on ``device``."""
    return implementation in ("auto", "cpu") and torch.device(device).type == "cpu" and cpu_kernels_available()


def _native():
    k = _backend.load()
    if k is None:
        raise RuntimeError(f"scenegen's C++ CPU kernels are unavailable: {_backend.build_error()}")
    return k


# --- hash encoding ----------------------------------------------------------------------------------------------
def hash_encode_forward(
    *, x: Tensor, table: Tensor, resolutions: Tensor, offsets: Tensor, sizes: Tensor, dense: Tensor
) -> Tensor:
    """Hash encoding forward, C++ kernel (no autograd; RuntimeError when the kernels are unavailable).

    Args:
        x: (N, 3) float32 CPU points in [0, 1]^3.
        table: (rows, F) float32 feature table of all levels, concatenated.
        resolutions: (L,) float32 grid resolution of each level.
        offsets: (L,) int64 offset of each level in ``table``.
        sizes: (L,) int64 entries of each level (a power of two for hashed levels).
        dense: (L,) bool, True where the level is indexed densely.
    Returns:
        (N, L * F) float32 features, level-major (as :func:`scenegen.kernels._torch_impl.hash_encode`).
    """
    return _native().forward(x, table, resolutions, offsets, sizes, dense)


def hash_encode_backward(
    *,
    grad_out: Tensor,
    x: Tensor,
    table_rows: int,
    features: int,
    resolutions: Tensor,
    offsets: Tensor,
    sizes: Tensor,
    dense: Tensor,
) -> Tensor:
    """Gradient of the hash encoding with respect to the table, C++ kernel.

    Args:
        grad_out: (N, L * F) float32 gradient of the features.
        x: (N, 3) float32 the encoded points; ``table_rows``, ``features``: the table's shape (rows, F).
        resolutions, offsets, sizes, dense: the level layout (as :func:`hash_encode_forward`).
    Returns:
        (table_rows, features) float32 gradient of the table.
    """
    return _native().backward(grad_out, x, int(table_rows), int(features), resolutions, offsets, sizes, dense)


class _HashEncodeCPU(torch.autograd.Function):
    """Autograd wrapper of the C++ kernel (gradients flow to the table, not to the positions)."""

    @staticmethod
    def forward(ctx, x, table, resolutions, offsets, sizes, dense):
        ctx.save_for_backward(x, resolutions, offsets, sizes, dense)
        ctx.table_shape = table.shape
        return hash_encode_forward(
            x=x, table=table.detach(), resolutions=resolutions, offsets=offsets, sizes=sizes, dense=dense
        )

    @staticmethod
    def backward(ctx, grad_out):
        x, resolutions, offsets, sizes, dense = ctx.saved_tensors
        grad_table = None
        if ctx.needs_input_grad[1]:
            rows, f = ctx.table_shape
            grad_table = hash_encode_backward(
                grad_out=grad_out, x=x, table_rows=rows, features=f, resolutions=resolutions, offsets=offsets,
                sizes=sizes, dense=dense,
            )
        return None, grad_table, None, None, None, None


def hash_encode(
    *,
    x: Tensor,
    table: Tensor,
    resolutions: Tensor,
    offsets: Tensor,
    sizes: Tensor,
    dense: Tensor,
    implementation: str = "auto",
) -> Tensor:
    """Multiresolution hash encoding, differentiable with respect to ``table`` (not ``x``).

    Args as :func:`hash_encode_forward` (any device for the reference). Returns (N, L * F) float32 features.
    """
    if uses_cpu_kernels(x.device, implementation):
        return _HashEncodeCPU.apply(x, table, resolutions, offsets, sizes, dense)
    return _torch_impl.hash_encode(x, table, resolutions, offsets, sizes, dense)


# --- ray marching -----------------------------------------------------------------------------------------------
def march(
    *,
    origins: Tensor,
    dirs: Tensor,
    t_start: Tensor,
    t_end: Tensor,
    jitter: Tensor,
    k_start: Tensor,
    t_seq: Tensor,
    bounded: bool,
    step: float,
    bits: Tensor | None = None,
    mips: tuple[Tensor, int] | None = None,
    resolution: int = 1,
    extent: float = 1.0,
    contracted: bool = False,
    limit: int = -1,
    implementation: str = "auto",
) -> MarchResult:
    """March rays along a fixed step sequence, keeping the samples whose midpoints lie in occupied cells.

    Step k of a ray spans, with u its jitter: bounded: ``t_start + t_seq[k] + (u - 0.5) * step`` (clamped to
    ``t_start``) to ``t_start + t_seq[k + 1] + (u - 0.5) * step``; unbounded: ``t_seq[k] + (u - 0.5) * span`` to
    ``t_seq[k + 1] + (u - 0.5) * span`` with ``span = t_seq[k + 1] - t_seq[k]``. A step is a sample when its
    midpoint lies in (t_start, t_end) and in an occupied cell.

    Args:
        origins, dirs: (R, 3) float32 rays (unit directions).
        t_start, t_end: (R,) float32 marching interval of each ray.
        jitter: (R,) float32 per-ray offset u in [0, 1) steps (0.5: none).
        k_start: (R,) int64 first step index of each ray (0, or ``next_k`` of a previous call).
        t_seq: (M + 1,) float32 step sequence (offsets from ``t_start`` when bounded, else absolute distances).
        bounded: the scene kind (selects the step formula above); ``step``: the base step (field units).
        bits: (resolution^3,) bool occupancy bitfield, x-major; None: every step is a candidate.
        mips: the bitfield's pyramid and level count (:func:`scenegen.kernels.bitfield_mips`; computed when None
            and the C++ kernel runs). Used by the C++ kernel to skip empty space in bounded scenes.
        resolution, extent, contracted: the bitfield covers [-extent, extent]^3 of contracted space when
            ``contracted`` (:func:`scenegen.kernels.contract`), else of field space.
        limit: at most this many samples per ray (-1: all); ``next_k`` continues from there.
        implementation: "auto", "cpu" or "torch" (see the module docstring).
    Returns:
        :class:`MarchResult` (ray_idx (S,) int64 sorted, t0 (S,), t1 (S,) float32, next_k (R,) int64).
    """
    if uses_cpu_kernels(origins.device, implementation):
        if bits is not None:
            mip_bits, n_mips = mips if mips is not None else _torch_impl.bitfield_mips(bits, resolution)
            res, ext, con = resolution, float(extent), contracted
        else:
            bits, res, ext, con = torch.zeros(0, dtype=torch.bool), 1, 1.0, False
            mip_bits, n_mips = torch.zeros(0, dtype=torch.bool), 0
        ray_idx, t0, t1, next_k = _native().march(
            origins, dirs, t_start, t_end, jitter, k_start, bits, mip_bits, n_mips, res, ext, con, t_seq, bounded,
            float(step), int(limit),
        )
        return MarchResult(ray_idx, t0, t1, next_k)
    return _torch_impl.march(
        origins, dirs, t_start, t_end, jitter, k_start, t_seq, bounded, step, bits=bits, resolution=resolution,
        extent=extent, contracted=contracted, limit=limit,
    )
