"""Lazy, friendly import of Open3D (the ray caster of the synthetic scenes and of the scene volume).

``import open3d`` loads a compiled extension that links against system libraries; on a bare Debian/Ubuntu
machine the usual failure is a missing ``libusb-1.0.so.0``. :func:`import_open3d` turns such failures into a
one-line :class:`~scenegen.core.errors.MissingDependencyError` that says how to fix them. Never import open3d at
module import time: call this inside the functions that need it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from scenegen.core.errors import MissingDependencyError

LIBUSB_MESSAGE = "open3d needs the system library libusb-1.0: install it with `sudo apt-get install libusb-1.0-0`"

# Indirection so tests can simulate a broken installation.
_import_module = importlib.import_module
_cached: ModuleType | None = None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def import_open3d() -> ModuleType:
    """Import and return the ``open3d`` module.

    Raises:
        MissingDependencyError: with a single-line message when open3d (or a system library it needs) is
            missing.
    """
    global _cached
    if _cached is not None:
        return _cached
    try:
        module = _import_module("open3d")
    except (ImportError, OSError) as exc:
        detail = _one_line(exc)
        if "libusb" in detail.lower():
            raise MissingDependencyError(LIBUSB_MESSAGE) from None
        if isinstance(exc, ModuleNotFoundError) and getattr(exc, "name", None) == "open3d":
            raise MissingDependencyError("open3d is not installed: install it with `pip install open3d`") from None
        raise MissingDependencyError(
            f"open3d could not be imported ({detail}): reinstall it with `pip install --force-reinstall open3d`"
        ) from None
    _cached = module
    return module
