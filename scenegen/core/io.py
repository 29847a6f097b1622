"""Atomic file output shared by every stage, and the one PNG writer: write a temporary file beside the target,
flush and fsync it, then rename it over the target, so an interrupted write (Ctrl-C, a full disk) never leaves a
truncated file and never destroys the previous one. Files get the usual permissions (0666 minus the umask), not
mkstemp's private 0600.
"""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np
from PIL import Image

from scenegen.core.errors import InputError, ScenegenError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(folder: str | Path) -> None:
    """Make a rename or removal in ``folder`` durable (no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | Path) -> None:
    """Flush a closed file's data to disk (before it is renamed into place)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(tmp: str | Path, path: str | Path, *, sync: bool = True) -> None:
    """Give the finished temporary file ``tmp`` normal permissions and rename it over ``path``, durably: the data
    is fsynced before the rename (``sync=False`` when the caller already did) and the folder after it, so a
    power cut never leaves a renamed but empty file."""
    os.chmod(tmp, 0o666 & ~_umask())
    if sync:
        fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


# Every temporary file or folder scenegen makes carries its writer's process id: ``.NAME.sgtmp<pid>.<random>SUFFIX``;
# :func:`clean_stale_temps` removes those whose process is gone (a kill -9, a power cut).
_TEMP_RE = re.compile(r"^\..*\.sgtmp(\d+)\.[^/]*$")


def temp_prefix(path: str | Path) -> str:
    """The name prefix of this process's temporary files for ``path``."""
    return f".{Path(path).name}.sgtmp{os.getpid()}."


def temp_beside(path: str | Path, suffix: str = ".tmp") -> tuple[int, str]:
    """A new temporary file in ``path``'s folder (created if needed): (fd, name). The name holds this process's
    id, so that a later run can tell a stale one (its writer is dead) from one being written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=temp_prefix(path), suffix=suffix, dir=path.parent)


def temp_dir_beside(path: str | Path, suffix: str = ".tmpdir") -> Path:
    """A new temporary folder in ``path``'s folder, named like :func:`temp_beside`'s files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=suffix, dir=path.parent))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return True
    return True


def clean_stale_temps(folder: str | Path, legacy: tuple[str, ...] = ()) -> list[Path]:
    """Remove the temporary files (and folders) in ``folder`` left by dead scenegen processes; returns them.

    Only names made by :func:`temp_beside` / :func:`temp_dir_beside` whose process id is no longer running are
    removed (a temp of a live process, even another scenegen run, is left alone). ``legacy``: exact-pattern
    regular expressions of temp names written by older scenegen versions, which carry no pid (e.g.
    ``.tour.k3j2h1ab.partial.mp4`` beside ``tour.mp4``); those are removed when older than an hour.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    legacy_re = [re.compile(p) for p in legacy]
    now = time.time()
    for e in entries:
        m = _TEMP_RE.match(e.name)
        stale = m is not None and not _pid_alive(int(m.group(1)))
        if not stale and m is None and any(r.match(e.name) for r in legacy_re):
            try:
                stale = now - e.stat(follow_symlinks=False).st_mtime > 3600
            except OSError:
                stale = False
        if not stale:
            continue
        p = Path(e.path)
        try:
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


# ----------------------------------------------------------------------------------------------------------------
# Names from inputs, disk space, disk errors
# ----------------------------------------------------------------------------------------------------------------


def safe_child(folder: str | Path, name: str, *, file: str | Path | None = None, field: str | None = None) -> Path:
    """``folder / name`` for an input-controlled relative ``name`` (an image name in a COLMAP model, a file name
    in a dataset), refusing any name that would leave ``folder``: absolute paths, ``..`` parts, drive letters,
    backslashes, NUL bytes, empty names, or a symlink inside ``folder`` that points out of it.

    Raises:
        InputError: naming ``file`` and ``field`` (where the name came from).
    """
    folder = Path(folder)
    bad = None
    if not isinstance(name, str) or not name.strip():
        bad = "is empty"
    elif "\x00" in name:
        bad = "contains a NUL byte"
    elif "\\" in name:
        bad = "contains a backslash"
    elif name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        bad = "is an absolute path"
    elif any(part == ".." for part in name.split("/")):
        bad = "contains '..'"
    elif all(part in ("", ".") for part in name.split("/")):
        bad = "names no file"
    if bad is None:
        target = folder / name
        base = folder.resolve()
        try:
            target.resolve().relative_to(base)
        except ValueError:
            bad = "leads outside the folder (through a symbolic link)"
        else:
            return target
    raise InputError(f"file name {name!r} {bad}: it must stay inside {folder}", file=file, field=field)


def free_bytes(folder: str | Path) -> int | None:
    """Free bytes for an unprivileged user on ``folder``'s file system (its nearest existing ancestor)."""
    p = Path(folder).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return int(shutil.disk_usage(p).free)
    except OSError:
        return None


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def check_free_space(folder: str | Path, need: int, what: str, *, field: str | None = None) -> None:
    """Refuse (one line) to start work whose outputs (``need`` bytes, an estimate) do not fit on the disk."""
    free = free_bytes(folder)
    if free is not None and need > free:
        raise InputError(f"not enough free disk space for {what}: about {human_bytes(need)} needed, "
                         f"{human_bytes(free)} free", file=folder, field=field)


def is_disk_full(exc: BaseException | None, text: str = "") -> bool:
    """True when ``exc`` (or an exception in its cause/context chain) is ENOSPC/EDQUOT, or ``text`` (a tool's
    log) says the disk is full."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(exc) or "Disk quota exceeded" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return "No space left on device" in text or "Disk quota exceeded" in text


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
        publish(tmp, path, sync=False)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise ScenegenError(f"{path}: could not write {what} ({e.strerror or e}); nothing was overwritten") from e
        raise


def atomic_copy(src: str | Path, dst: str | Path, what: str = "file") -> Path:
    """Copy ``src`` to ``dst`` atomically (temp file + fsync + rename), keeping its modification time."""
    with atomic_output(dst, what) as f, open(src, "rb") as s:
        shutil.copyfileobj(s, f, 1 << 20)
    try:
        shutil.copystat(src, dst)
        os.chmod(dst, 0o666 & ~_umask())
    except OSError:
        pass
    return Path(dst)


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
