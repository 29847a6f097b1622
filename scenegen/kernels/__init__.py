"""Native kernels of scenegen's two hot loops, with their pure-PyTorch references (in the style of gsplat's
``cuda/_wrapper.py`` + ``_torch_impl.py``).

  * ``hashgrid_cpu.cpp``: the multiresolution hash encoding, forward and table gradient.
  * ``march_cpu.cpp``: ray marching through an occupancy bitfield with hierarchical empty-space skipping.

They are built on first use with the compiler torch uses (``_backend``: torch's cpp_extension, an OS file lock
across processes, :func:`prebuild_cpu_kernels` to build in a background thread). ``_wrapper`` holds typed
wrappers (keyword arguments, named results) which fall back to the references in ``_torch_impl`` when no
compiler is available; the tests compare the two. Callers use this package's functions, never the extension.
"""

from scenegen.kernels._torch_impl import bitfield_mips, contract, grid_cell_index
from scenegen.kernels._types import MarchResult
from scenegen.kernels._wrapper import (
    cpu_kernels_available,
    cpu_kernels_error,
    hash_encode,
    hash_encode_backward,
    hash_encode_forward,
    march,
    prebuild_cpu_kernels,
    uses_cpu_kernels,
)

__all__ = [
    "MarchResult",
    "bitfield_mips",
    "contract",
    "cpu_kernels_available",
    "cpu_kernels_error",
    "grid_cell_index",
    "hash_encode",
    "hash_encode_backward",
    "hash_encode_forward",
    "march",
    "prebuild_cpu_kernels",
    "uses_cpu_kernels",
]
