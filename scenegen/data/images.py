"""Image, mask and depth-map file I/O for the dataset parsers.

Every problem with a user's file is raised as :class:`scenegen.core.errors.InputError` naming the file and the
JSON field that refers to it, so the CLI can print it as one line.

Conventions:
  * images are returned as ``uint8`` arrays of shape (H, W, 3) (RGB) or (H, W, 4) (RGBA, straight alpha);
    grey and palette images are converted to RGB / RGBA; 16-bit images are scaled by their bit depth (65535 is
    white), never by their content;
  * masks are ``bool`` (H, W), nonzero pixels are used;
  * depth maps are ``float32`` (H, W) in world units: 16-bit PNGs are millimetres (times ``depth_unit_scale``,
    1e-3 by default, like nerfstudio), ``.npy`` / ``.npz`` files are taken as they are.

Downscaling (``--downscale N``) resizes images with Pillow's BOX filter (area average: each output pixel is the
mean of its footprint, alpha-premultiplied for RGBA), masks and depths with NEAREST (no mixed values at edges).
Downscaled images are cached as PNG (see :func:`cache_path`), written atomically by :func:`scenegen.core.io.write_png`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from scenegen.core.errors import InputError, ScenegenError
from scenegen.core.io import write_png

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".exr")

# Pillow may refuse very large photos as "decompression bombs"; real captures (e.g. 5712x4284) are legitimate.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, 400_000_000)


GREY16_MAX = 65535.0
"""White of a 16-bit (and a Pillow "I" mode) grey image: colour images are scaled by the bit depth."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def image_size(path: str | Path, *, field: str | None = None, what: str = "image") -> tuple[int, int]:
    """(width, height) of an image file, read from its header only (fast).

    Raises:
        InputError: the file is missing or is not a readable image (names ``path`` and ``field``).
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except FileNotFoundError:
        raise InputError(f"{what} file not found", file=path, field=field) from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise InputError(f"cannot read {what}: {_one_line(e)}", file=path, field=field) from None


def _to_uint8_rgb_or_rgba(im: Image.Image) -> np.ndarray:
    """Pillow image of any mode -> uint8 (H, W, 3) or (H, W, 4)."""
    mode = im.mode
    if mode in ("RGB", "RGBA"):
        pass
    elif mode in ("LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
    elif mode in ("I;16", "I;16B", "I;16L", "I"):
        # Scaled by the file's bit depth, never by its content: 16-bit grey (Pillow's I;16, and I for 16-bit
        # PNGs in older Pillow) is 0..65535, so a pixel of 200 is 200/65535 in every image.
        arr = np.asarray(im).astype(np.float64)
        arr = np.clip(np.round(arr / GREY16_MAX * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=-1)
    elif mode == "F":
        arr = np.clip(np.round(np.asarray(im) * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=-1)
    else:  # L, 1, P, CMYK, YCbCr, ...
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8).copy()


def load_image(
    path: str | Path,
    expected_hw: tuple[int, int] | None = None,
    what: str = "image",
    *,
    field: str | None = None,
    size_field: str | None = None,
) -> np.ndarray:
    """Read an image file.

    Args:
        path: image file (PNG, JPEG, ... anything Pillow reads; imageio as a fallback, e.g. for EXR).
        expected_hw: (H, W) the camera says the image has; checked when given.
        what: what the file is, for messages ("image", "mask").
        field: the JSON field that names this file (e.g. ``"frames[12].file_path"``); defaults to ``what``.
        size_field: the field(s) that give the expected size (e.g. ``"w/h"``), for the size-mismatch message.
    Returns:
        uint8 array (H, W, 3) RGB or (H, W, 4) RGBA.
    Raises:
        InputError: missing, unreadable or corrupt file, or a size that differs from ``expected_hw``.
    """
    path = Path(path)
    field = field or what
    arr: np.ndarray | None = None
    try:
        with Image.open(path) as im:
            im.load()
            arr = _to_uint8_rgb_or_rgba(im)
    except FileNotFoundError:
        raise InputError(f"{what} file not found", file=path, field=field) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        pil_error = e
        try:  # formats Pillow lacks (EXR, ...)
            import imageio.v3 as iio

            raw = np.asarray(iio.imread(path))
            arr = _float_or_int_to_uint8(raw)
        except Exception:  # noqa: BLE001 - any failure means the file is unusable
            raise InputError(f"cannot read {what}: {_one_line(pil_error)}", file=path, field=field) from None
    assert arr is not None
    if expected_hw is not None:
        h, w = int(expected_hw[0]), int(expected_hw[1])
        if arr.shape[0] != h or arr.shape[1] != w:
            raise InputError(
                f"{what} is {arr.shape[1]}x{arr.shape[0]} (WxH) but the camera says {w}x{h}",
                file=path,
                field=size_field or "w/h",
            )
    return arr


def _float_or_int_to_uint8(raw: np.ndarray) -> np.ndarray:
    if raw.ndim == 2:
        raw = raw[..., None]
    if raw.ndim != 3 or raw.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"unsupported image shape {raw.shape}")
    if raw.dtype == np.uint8:
        arr = raw
    elif np.issubdtype(raw.dtype, np.integer):
        arr = np.clip(np.round(raw.astype(np.float64) / np.iinfo(raw.dtype).max * 255.0), 0, 255).astype(np.uint8)
    else:  # float, linear HDR values are clipped (no tone mapping)
        arr = np.clip(np.round(np.nan_to_num(raw.astype(np.float64)) * 255.0), 0, 255).astype(np.uint8)
    c = arr.shape[-1]
    if c == 1:
        arr = np.repeat(arr, 3, axis=-1)
    elif c == 2:
        arr = np.concatenate([np.repeat(arr[..., :1], 3, axis=-1), arr[..., 1:]], axis=-1)
    return np.ascontiguousarray(arr)


def resize_image(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a uint8 (H, W, C) image to (height, width, C) with an area (BOX) filter.

    RGBA images are resized alpha-premultiplied (Pillow does this), so transparent pixels do not bleed colour.
    """
    if img.shape[1] == width and img.shape[0] == height:
        return img
    mode = "RGBA" if img.shape[-1] == 4 else "RGB"
    out = Image.fromarray(np.ascontiguousarray(img), mode=mode).resize((int(width), int(height)), Image.Resampling.BOX)
    return np.asarray(out, dtype=np.uint8).copy()


def load_mask(
    path: str | Path, expected_hw: tuple[int, int] | None = None, *, field: str | None = None
) -> np.ndarray:
    """Read a mask image -> bool (H, W); nonzero (in the first channel / grey value) means "use this pixel".

    Raises:
        InputError: missing/unreadable file or a size different from ``expected_hw`` (the image's size).
    """
    path = Path(path)
    field = field or "mask_path"
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("1", "L", "I", "I;16", "F"):
                arr = np.asarray(im)
            else:
                arr = np.asarray(im.convert("RGB"))[..., 0]
    except FileNotFoundError:
        raise InputError("mask file not found", file=path, field=field) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise InputError(f"cannot read mask: {_one_line(e)}", file=path, field=field) from None
    mask = arr != 0
    if expected_hw is not None and mask.shape != (int(expected_hw[0]), int(expected_hw[1])):
        raise InputError(
            f"mask is {mask.shape[1]}x{mask.shape[0]} (WxH) but its image is {expected_hw[1]}x{expected_hw[0]}",
            file=path,
            field=field,
        )
    return mask


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """bool (H, W) -> bool (height, width), nearest neighbour."""
    if mask.shape == (height, width):
        return mask
    im = Image.fromarray(mask.astype(np.uint8) * 255, mode="L")
    im = im.resize((int(width), int(height)), Image.Resampling.NEAREST)
    return np.asarray(im) > 127


def load_depth(path: str | Path, *, field: str | None = None, depth_unit_scale: float = 1e-3) -> np.ndarray:
    """Read a depth map -> float32 (H, W) in world units.

    ``.npy``/``.npz`` arrays are used as they are; integer images (16-bit PNG) are multiplied by
    ``depth_unit_scale`` (millimetres -> metres by default); float images (e.g. EXR, 32-bit TIFF) as they are.
    A depth of 0 means "no depth" (the nerfstudio / scenegen synthetic convention): callers should mask it out.
    """
    path = Path(path)
    field = field or "depth_file_path"
    try:
        if path.suffix.lower() in (".npy", ".npz"):
            data = np.load(path)
            if isinstance(data, np.lib.npyio.NpzFile):
                data = data[data.files[0]]
            depth = np.asarray(data, dtype=np.float32)
        else:
            with Image.open(path) as im:
                im.load()
                raw = np.asarray(im)
            if np.issubdtype(raw.dtype, np.integer):
                depth = raw.astype(np.float32) * np.float32(depth_unit_scale)
            else:
                depth = raw.astype(np.float32)
    except FileNotFoundError:
        raise InputError("depth file not found", file=path, field=field) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, IndexError) as e:
        raise InputError(f"cannot read depth map: {_one_line(e)}", file=path, field=field) from None
    if depth.ndim == 3 and depth.shape[-1] >= 1:
        depth = depth[..., 0]
    if depth.ndim != 2:
        raise InputError(f"depth map must be 2-D, got shape {tuple(depth.shape)}", file=path, field=field)
    return depth


def resize_depth(depth: np.ndarray, width: int, height: int) -> np.ndarray:
    """float32 (H, W) -> (height, width), nearest neighbour (no depths mixed across edges)."""
    if depth.shape == (height, width):
        return depth
    im = Image.fromarray(depth.astype(np.float32), mode="F").resize((int(width), int(height)), Image.Resampling.NEAREST)
    return np.asarray(im, dtype=np.float32).copy()


# ----------------------------------------------------------------------------------------------------------------
# Downscale cache
# ----------------------------------------------------------------------------------------------------------------


def user_cache_dir() -> Path:
    """``$SCENEGEN_CACHE_DIR`` or ``$XDG_CACHE_HOME/scenegen`` or ``~/.cache/scenegen``."""
    env = os.environ.get("SCENEGEN_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scenegen"


def _relative_key(root: Path, path: Path) -> Path:
    """Path of ``path`` relative to ``root``; files outside the root get a hashed name."""
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]
        return Path("_external") / f"{digest}_{path.name}"


@functools.lru_cache(maxsize=256)
def _dir_is_writable(d: Path) -> bool:
    """Whether cache files can be created in ``d`` (created when missing).

    The nearest existing ancestor must carry a write permission bit: the superuser ignores permissions, but a
    dataset folder marked read-only (e.g. shared reference data) must stay untouched.
    """
    probe = d
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        if not (probe.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(probe, os.W_OK):
            return False
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".write_test_")
        os.close(fd)
        os.unlink(tmp)
        return True
    except OSError:
        return False


def cache_path(root: str | Path, path: str | Path, downscale: int) -> Path:
    """Where the ``downscale``-times smaller copy of image ``path`` (inside dataset ``root``) is cached.

    ``<root>/.scenegen_cache/downscale_<N>/<path relative to root>.png``; when the dataset folder is not
    writable, ``<user cache>/<sha1(root)[:16]>/downscale_<N>/<relative path>.png`` (see :func:`user_cache_dir`).
    """
    root, path = Path(root), Path(path)
    rel = _relative_key(root, path)
    name = f"downscale_{int(downscale)}"
    local = root / ".scenegen_cache" / name
    if _dir_is_writable(local):
        base = local
    else:
        digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
        base = user_cache_dir() / digest / name
    return base / (str(rel) + ".png")


def load_downscaled_image(
    root: str | Path,
    path: str | Path,
    downscale: int,
    full_hw: tuple[int, int],
    target_hw: tuple[int, int],
    *,
    field: str | None = None,
    size_field: str | None = None,
) -> np.ndarray:
    """The image ``path`` resized from ``full_hw`` to ``target_hw`` (H, W), through the on-disk cache.

    Order of preference: a valid cached copy (newer than the source, right size); a pre-downscaled sibling
    folder in the nerfstudio/LLFF layout (``images`` -> ``images_<N>``, ``images_<K>`` -> ``images_<K*N>``) with
    the same file name and exactly the target size; otherwise the full image is read (its size checked against
    ``full_hw``), resized and cached. A cache that cannot be written is skipped silently.

    Returns:
        uint8 (target_h, target_w, 3|4).
    """
    path = Path(path)
    th, tw = int(target_hw[0]), int(target_hw[1])
    if downscale == 1 or (th, tw) == tuple(int(x) for x in full_hw):
        return load_image(path, expected_hw=full_hw, field=field, size_field=size_field)
    try:
        src_mtime = path.stat().st_mtime
    except OSError:
        raise InputError("image file not found", file=path, field=field) from None
    cached = cache_path(root, path, downscale)
    if cached.exists() and cached.stat().st_mtime >= src_mtime:
        try:
            arr = load_image(cached)
            if arr.shape[:2] == (th, tw):
                return arr
        except InputError:
            pass  # corrupt cache entry: rebuild it
    sibling = predownscaled_path(path, downscale)
    if sibling is not None and sibling.exists():
        try:
            arr = load_image(sibling)
            if arr.shape[:2] == (th, tw):
                return arr
        except InputError:
            pass
    full = load_image(path, expected_hw=full_hw, field=field, size_field=size_field)
    small = resize_image(full, tw, th)
    try:
        write_png(cached, small, compress_level=1)
    except (OSError, ScenegenError) as e:  # the cache is optional: go on from memory
        _warn_cache_unwritable(cached, e)
    return small


_CACHE_WARNED: set[str] = set()


def _warn_cache_unwritable(cached: Path, e: BaseException) -> None:
    """Say once (per process) that the downscale cache cannot be written (a full disk, permissions)."""
    while not isinstance(e, OSError) and (e.__cause__ or e.__context__) is not None:
        e = e.__cause__ or e.__context__
    folder = str(cached.parent)
    if _CACHE_WARNED:
        return
    _CACHE_WARNED.add(folder)
    reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
    print(f"warning: cannot write the downscale cache in {folder} ({reason}); continuing with the downscaled images "
          "in memory", file=sys.stderr)


def predownscaled_path(path: Path, downscale: int) -> Path | None:
    """``<dir>/images/x.png`` -> ``<dir>/images_<N>/x.png`` and ``images_<K>/x.png`` -> ``images_<K*N>/x.png``."""
    parent = path.parent.name
    if parent == "images":
        return path.parent.parent / f"images_{downscale}" / path.name
    if parent.startswith("images_") and parent[7:].isdigit():
        return path.parent.parent / f"images_{int(parent[7:]) * downscale}" / path.name
    return None
