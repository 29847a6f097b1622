"""Atomic file output shared by every stage: write a temporary file beside the target, flush and fsync it, then
rename it over the target, so an interrupted write (Ctrl-C, a full disk) never leaves a truncated file and never
destroys the previous one. Files get the usual permissions (0666 minus the umask), not mkstemp's private 0600.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from scenegen.errors import ScenegenError


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
