"""Atomic file output shared by every stage, and the one PNG writer: write a temporary file beside the target,
flush and fsync it, then rename it over the target, so an interrupted write (Ctrl-C, a full disk) never leaves a
truncated file and never destroys the previous one. Files get the usual permissions (0666 minus the umask), not
mkstemp's private 0600.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from scenegen.core.errors import ScenegenError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: str | Path, path: str | Path) -> None:
    """Give the finished temporary file ``tmp`` normal permissions and rename it over ``path``."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def temp_beside(path: str | Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (created if needed): (fd, name)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)


@contextmanager
def atomic_output(path: str | Path, what: str = "file") -> Iterator[IO[bytes]]:
    """``with atomic_output(p) as f: f.write(...)``: ``p`` appears complete, or not at all (the old one is kept).

    An OSError (disk full, permission) becomes a one-line :class:`ScenegenError` naming the file.
    """
    path = Path(path)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise ScenegenError(f"{path}: could not write {what} ({e.strerror or e}); nothing was overwritten") from e
        raise


def atomic_write_bytes(path: str | Path, data: bytes, what: str = "file") -> Path:
    with atomic_output(path, what) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, what: str = "file") -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), what)


# ----------------------------------------------------------------------------------------------------------------
# Images: the one PNG writer (every picture scenegen writes goes through here, atomically)
# ----------------------------------------------------------------------------------------------------------------


def to_uint8(image) -> "np.ndarray":
    """(H, W, 3) uint8 RGB from a uint8 array or a float array/tensor in [0, 1] (clipped, NaN -> 0).

    Accepts numpy arrays and torch tensors of shape (H, W, 3), or (H, W, 4) (alpha dropped).
    """
    if hasattr(image, "detach"):  # a torch tensor
        image = image.detach().cpu().numpy()
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) image, got shape {a.shape}")
    a = a[:, :, :3]
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"expected uint8 or float image, got {a.dtype}")
    a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def encode_png(image, compress_level: int = 4) -> bytes:
    """PNG bytes of an image, kept as given when it is an integer array: uint8 (H, W), (H, W, 3) RGB or (H, W, 4)
    RGBA, uint16 (H, W) (16-bit grey, e.g. depth maps); a float array/tensor in [0, 1] becomes uint8 RGB."""
    a = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    if not (a.dtype in (np.uint8, np.uint16) and (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4)))):
        a = to_uint8(a)
    if a.dtype == np.uint16 and a.ndim != 2:
        raise ValueError(f"16-bit PNGs must be (H, W), got shape {a.shape}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def write_png(path: str | Path, image, compress_level: int = 4) -> Path:
    """Write ``image`` (see :func:`encode_png`) as a PNG file atomically."""
    return atomic_write_bytes(path, encode_png(image, compress_level), "image")
