"""Building and loading scenegen's C++ CPU kernels (``hashgrid_cpu.cpp``, ``march_cpu.cpp``).

The extension is built on first use with the compiler torch uses (``torch.utils.cpp_extension.load``) and cached
by torch between runs. :func:`prebuild` starts that build in a background thread so a pipeline can overlap it with
other work. When the kernels cannot be built (no compiler, no ninja) scenegen warns once and the wrappers in
:mod:`scenegen.kernels._wrapper` fall back to the pure-PyTorch references (:mod:`scenegen.kernels._torch_impl`).

Only :mod:`scenegen.kernels` calls into the loaded module; the rest of scenegen uses the typed wrappers.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from pathlib import Path

def _cpu_tag() -> str:
    """A short fingerprint of this CPU's instruction sets: the kernels are built for the CPU they run on
    (``-march=native``), so a home folder shared by machines of different CPUs (a cluster's nodes) keeps one
    build per kind of CPU instead of loading one another's."""
    import hashlib
    import platform

    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features", "model name")):
                    flags += line
                if line.strip() == "":
                    break  # the first processor's block is enough
    except OSError:
        pass
    return hashlib.sha1(f"{platform.machine()}|{flags}".encode()).hexdigest()[:8]


EXTENSION_NAME = f"scenegen_native_cpu_v5_{_cpu_tag()}"
"""torch's name (and build folder) of the extension: one per kind of CPU."""
NATIVE_FLAGS = ["-O3", "-march=native"]
"""Compiler flags: the CPU's own vector instructions (about 15 % faster hash encoding on an AVX-512 Xeon than
``-O3`` alone); a compiler that refuses ``-march=native`` gets :data:`PORTABLE_FLAGS`."""
PORTABLE_FLAGS = ["-O3"]
SOURCES = ("hashgrid_cpu.cpp", "march_cpu.cpp")

_MODULE = None
_ERROR: str | None = None
_LOCK = threading.Lock()


def load():
    """The compiled C++ CPU kernels (hash encoding, occupancy-grid marching), building them on first use, or None
    when they cannot be built here (the reason in :func:`build_error`)."""
    if _MODULE is not None or _ERROR is not None:
        return _MODULE
    with _LOCK:  # a warm-up thread may be building it already (see prebuild)
        if _MODULE is None and _ERROR is None:
            _build()
    return _MODULE


def build_error() -> str | None:
    """Why the kernels could not be built (None: not tried yet, or built)."""
    return _ERROR


def prebuild() -> None:
    """Start building the C++ kernels in a background thread (the first build takes tens of seconds), so a
    pipeline can overlap it with other work (the demo synthesises its dataset meanwhile)."""
    if _MODULE is None and _ERROR is None:
        threading.Thread(target=load, daemon=True, name="scenegen-build").start()


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


def _build() -> None:
    global _MODULE, _ERROR
    try:
        from torch.utils.cpp_extension import load as load_extension

        here = Path(__file__).parent
        with warnings.catch_warnings(), _build_lock(EXTENSION_NAME):
            warnings.simplefilter("ignore")
            for flags in (NATIVE_FLAGS, PORTABLE_FLAGS):
                try:
                    _MODULE = load_extension(
                        name=EXTENSION_NAME if flags is NATIVE_FLAGS else EXTENSION_NAME + "_portable",
                        sources=[str(here / s) for s in SOURCES],
                        extra_cflags=flags,
                        verbose=bool(os.environ.get("SCENEGEN_VERBOSE_BUILD")),
                    )
                    break
                except Exception:
                    if flags is PORTABLE_FLAGS:
                        raise
    except Exception as e:  # no compiler / ninja: the pure-PyTorch path still works, only slower
        _ERROR = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        warnings.warn(
            f"scenegen: the C++ hash-grid kernel could not be built ({_ERROR}); "
            "using the slower pure-PyTorch encoding"
        )
