"""Contact sheets: a labelled grid of frames in one PNG (:func:`contact_sheet_png`), and a few evenly spaced
low-resolution frames of a camera path rendered for it (:func:`render_contact_frames`, given a render function:
this module does not load trained runs -- :func:`scenegen.pipelines.paths.contact_sheet_from_run` does).

Drawn with Pillow at twice the output resolution and downsampled (anti-aliased text); PNGs are written atomically
(temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from scenegen.core.io import to_uint8, write_png
from scenegen.paths.drawing import SS, draw_text, get_font, sup

__all__ = ["contact_sheet_png", "render_contact_frames"]


def contact_sheet_png(
    out_png: str | Path,
    frames: Sequence[Any],
    labels: Sequence[str],
    cols: int = 6,
    *,
    title: str = "",
    min_tile_width: int = 200,
) -> Path:
    """A labelled grid of frames as one PNG, written atomically.

    Args:
        out_png: the PNG to write (its folder is created).
        frames: F images (H, W, 3) uint8 (or float in [0, 1], arrays or tensors); different sizes are centred
            in cells of the largest size.
        labels: F captions, one under each frame.
        cols: frames per row (fewer when there are fewer frames).
        title: optional heading above the grid.
        min_tile_width: frames narrower than this are enlarged by an integer factor (nearest neighbour, so
            the rendered pixels stay visible).
    Returns:
        ``out_png`` as a Path. The image is ``cols' * (tile_w + 10) + 10`` wide and
        ``rows * (tile_h + 10 + label band) + 10 (+ title band)`` high, where ``cols' = min(cols, F)``.
    """
    if len(frames) == 0:
        raise ValueError("contact_sheet_png: no frames")
    if len(labels) != len(frames):
        raise ValueError(f"contact_sheet_png: {len(frames)} frames but {len(labels)} labels")
    if cols < 1:
        raise ValueError(f"cols must be >= 1, got {cols}")
    imgs = [to_uint8(f) for f in frames]
    tw = max(im.shape[1] for im in imgs)
    th = max(im.shape[0] for im in imgs)
    factor = max(1, math.ceil(min_tile_width / tw)) if tw < min_tile_width else 1
    tw, th = tw * factor, th * factor
    cols = min(cols, len(imgs))
    rows = math.ceil(len(imgs) / cols)
    pad, label_h = 10, 24
    title_h = 36 if title else 0
    W = cols * (tw + pad) + pad
    H = title_h + rows * (th + label_h + pad) + pad
    sheet = Image.new("RGB", (W * SS, H * SS), (30, 30, 32))
    draw = ImageDraw.Draw(sheet)
    if title:
        draw_text(draw, (pad, title_h / 2 + 3), title, 16, fill=(240, 240, 240), anchor="lm", bold=True)
    for k, (im, label) in enumerate(zip(imgs, labels)):
        r, c = divmod(k, cols)
        x = pad + c * (tw + pad)
        y = title_h + pad + r * (th + label_h + pad)
        h, w = im.shape[0] * factor, im.shape[1] * factor
        tile = Image.fromarray(im).resize((w * SS, h * SS), Image.NEAREST)
        ox, oy = x + (tw - w) / 2, y + (th - h) / 2
        sheet.paste(tile, (int(round(sup(ox))), int(round(sup(oy)))))
        text = str(label)
        size = 12.0
        font = get_font(int(size * SS))
        while size > 7 and draw.textlength(text, font=font) > sup(tw - 4):
            size -= 0.5
            font = get_font(int(size * SS))
        draw_text(draw, (x + tw / 2, y + th + label_h / 2 + 1), text, size, fill=(225, 225, 225), anchor="mm")
    out = sheet.resize((W, H), Image.LANCZOS)
    return write_png(out_png, np.asarray(out))


def render_contact_frames(
    render_fn: Callable[[Any, int], dict],
    path: Any,
    count: int = 12,
    scale: float = 0.25,
) -> tuple[list[np.ndarray], list[str]]:
    """Render ``count`` evenly spaced frames of a camera path at low resolution, for :func:`contact_sheet_png`.

    Args:
        render_fn: ``render_fn(cameras, i) -> {"rgb": (H, W, 3) float in [0, 1], ...}`` renders camera ``i``
            of ``cameras`` (the signature of ``LoadedRun.render`` and of
            :func:`scenegen.video.render_camera_path`'s renderer).
        path: a :class:`~scenegen.paths.CameraPath` (N frames).
        count: frames to render (all N when N <= count); the first and the last frame are always included.
        scale: resolution factor (``path.scaled(scale)``); 0.25 renders a 1920x1080 path at 480x270.
    Returns:
        (frames, labels): ``min(count, N)`` images (h, w, 3) uint8 and captions "frame i/N-1 · t s".
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    small = path.scaled(scale) if scale != 1.0 else path
    cams = small.cameras
    n = len(cams)
    if n == 0:
        raise ValueError("render_contact_frames: the path has no cameras")
    if bool((cams.width < 1).any()) or bool((cams.height < 1).any()):
        raise ValueError(f"render_contact_frames: scale {scale} leaves an empty image")
    idx = np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int))
    fps = path.video_fps
    frames: list[np.ndarray] = []
    labels: list[str] = []
    for i in idx:
        with torch.no_grad():
            out = render_fn(cams, int(i))
        if "rgb" not in out:
            raise KeyError(f"render_fn returned no 'rgb' for frame {i} (keys: {sorted(out)})")
        frames.append(to_uint8(out["rgb"]))
        labels.append(f"frame {int(i)}/{n - 1} \u00b7 {i / fps:.2f} s")
    return frames, labels
