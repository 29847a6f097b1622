"""The tour report's timeline picture: one PNG, readable at a glance.

Layout (output pixels): a title and a subtitle; a strip of frame thumbnails placed at their time along the top;
then one row per metric sharing the time axis: the metric's name, unit and one-line verdict on the left, its
curve on the right with a dashed threshold line, and the stretches where it is bad shaded red (the curve is
drawn red there too); a time axis in seconds at the bottom. Drawn with Pillow at
:data:`~scenegen.paths.drawing.SS` times the size and downsampled; written atomically
(:func:`scenegen.core.io.write_png`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from scenegen.core.io import to_uint8, write_png
from scenegen.paths.drawing import SS, TEXT, draw_text, sup
from scenegen.paths.framing import frame_ranges

__all__ = ["timeline_png"]

WIDTH = 1600
LEFT = 330
RIGHT = 24
ROW_H = 78
THUMB_H = 96
BAD = (214, 39, 40)
BAD_BG = (250, 214, 214)
GOOD = (31, 119, 180)
GRID = (225, 225, 225)


def _nice_ticks(t_max: float, n: int = 10) -> np.ndarray:
    raw = max(t_max / n, 1e-6)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return np.arange(0.0, t_max + 1e-9, step)


def timeline_png(out_png, rows: list[dict], thumbs: dict, n_frames: int, fps: float, *, title: str = "",
                 subtitle: str = "") -> Path:
    """Draw the timeline and write it.

    Args:
        rows: per metric: ``name``, ``unit``, ``values`` (N,) (NaN = not measured), ``bad`` (N,) bool,
            ``threshold`` (a value drawn dashed, or None), ``verdict`` (one line), optional ``symmetric`` (the
            threshold also at minus its value).
        thumbs: frame index -> (H, W, 3) image, shown at its time.
        n_frames, fps: the tour's frames and rate (the time axis).
    """
    n = max(1, int(n_frames))
    fps = float(fps) if fps and fps > 0 else 30.0
    top = 58
    y_thumbs = top
    y_rows = y_thumbs + THUMB_H + 14
    height = y_rows + ROW_H * len(rows) + 40
    plot_w = WIDTH - LEFT - RIGHT
    img = Image.new("RGB", (WIDTH * SS, height * SS), (255, 255, 255))
    dr = ImageDraw.Draw(img)
    draw_text(dr, (14, 10), title, 20, anchor="lt", bold=True)
    draw_text(dr, (14, 36), subtitle, 12, fill=(90, 90, 90), anchor="lt")

    def x_of(i):
        return LEFT + (np.asarray(i, dtype=np.float64) + 0.5) / n * plot_w

    # Thumbnails in equal slots across the plot; each slot shows the frame nearest its centre's time.
    if thumbs:
        a0 = to_uint8(next(iter(thumbs.values())))
        tw = max(1, int(round(a0.shape[1] * THUMB_H / max(1, a0.shape[0]))))
        slots = max(1, min(len(thumbs), int(plot_w // (tw + 6))))
        slot_w = plot_w / slots
        keys = np.asarray(sorted(thumbs))
        for k in range(slots):
            i = int(keys[np.argmin(np.abs(keys - (k + 0.5) / slots * n))])
            a = to_uint8(thumbs[i])
            pil = Image.fromarray(a).resize((tw * SS, THUMB_H * SS), Image.BILINEAR)
            x = LEFT + k * slot_w + (slot_w - tw) / 2
            img.paste(pil, (int(sup(x)), int(sup(y_thumbs))))
            dr.rectangle([sup(x), sup(y_thumbs), sup(x + tw), sup(y_thumbs + THUMB_H)], outline=(120, 120, 120),
                         width=SS)
            draw_text(dr, (x + 3, y_thumbs + THUMB_H - 3), f"{i / fps:.1f} s", 11, fill=(255, 255, 255), anchor="lb",
                      bold=True)
            xi = float(x_of(i))  # a tick from the thumbnail to its time on the axis
            dr.line([sup(xi), sup(y_thumbs + THUMB_H), sup(xi), sup(y_thumbs + THUMB_H + 8)], fill=(120, 120, 120),
                    width=SS)
    draw_text(dr, (14, y_thumbs + THUMB_H / 2), "frames", 13, fill=(90, 90, 90), anchor="lm")

    for r, row in enumerate(rows):
        y0 = y_rows + r * ROW_H
        y1 = y0 + ROW_H - 14
        vals = np.asarray(row["values"], dtype=np.float64).reshape(-1)
        bad = np.asarray(row["bad"], dtype=bool).reshape(-1)
        nbad = int(bad.sum())
        dr.line([0, sup(y0 - 7), sup(WIDTH), sup(y0 - 7)], fill=GRID, width=SS)
        draw_text(dr, (14, y0 + 2), row["name"], 14, anchor="lt", bold=True, fill=BAD if nbad else TEXT)
        status = f"{row['unit']}" + (f"  ·  {nbad} bad frames" if nbad else "  ·  ok")
        draw_text(dr, (14, y0 + 21), status, 12, anchor="lt",
                  fill=BAD if nbad else (40, 130, 40))
        for k, line in enumerate(_wrap(row.get("verdict") or "", 50)[:2]):
            draw_text(dr, (14, y0 + 37 + 13 * k), line, 11, fill=(90, 90, 90), anchor="lt")
        for a, b in frame_ranges(bad):
            dr.rectangle([sup(x_of(a - 0.5)), sup(y0), sup(x_of(b + 0.5)), sup(y1)], fill=BAD_BG)
        dr.rectangle([sup(LEFT), sup(y0), sup(LEFT + plot_w), sup(y1)], outline=(170, 170, 170), width=SS)
        ok = np.isfinite(vals)
        thr = row.get("threshold")
        if not ok.any():
            draw_text(dr, (LEFT + plot_w / 2, (y0 + y1) / 2), "not measured", 12, fill=(150, 150, 150), anchor="mm")
            continue
        lo, hi = float(vals[ok].min()), float(vals[ok].max())
        if thr is not None and math.isfinite(thr):
            lo, hi = min(lo, thr), max(hi, thr)
            if row.get("symmetric"):
                lo, hi = min(lo, -thr), max(hi, -thr)
        if hi - lo < 1e-9:
            lo, hi = lo - 1, hi + 1
        pad = 0.08 * (hi - lo)
        lo, hi = lo - pad, hi + pad

        def y_of(v):
            return y1 - (np.asarray(v) - lo) / (hi - lo) * (y1 - y0)

        draw_text(dr, (LEFT - 4, y0 + 1), f"{hi - pad:.3g}", 10, fill=(120, 120, 120), anchor="rt")
        draw_text(dr, (LEFT - 4, y1 - 1), f"{lo + pad:.3g}", 10, fill=(120, 120, 120), anchor="rb")
        if thr is not None and math.isfinite(thr):
            for tv in ((thr, -thr) if row.get("symmetric") else (thr,)):
                yt = float(y_of(tv))
                for xs in np.arange(LEFT, LEFT + plot_w, 12):
                    dr.line([sup(xs), sup(yt), sup(min(xs + 6, LEFT + plot_w)), sup(yt)], fill=(150, 150, 150),
                            width=SS)
        xs, ys = x_of(np.arange(n)), y_of(np.where(ok, vals, lo))
        idx = np.flatnonzero(ok)
        if len(idx) == 1 or len(idx) < n / 4:  # sparse: dots
            for i in idx:
                c = BAD if bad[i] else GOOD
                dr.ellipse([sup(xs[i] - 2), sup(ys[i] - 2), sup(xs[i] + 2), sup(ys[i] + 2)], fill=c)
        for i0, i1 in zip(idx[:-1], idx[1:]):
            c = BAD if (bad[i0] or bad[i1]) else GOOD
            dr.line([sup(xs[i0]), sup(ys[i0]), sup(xs[i1]), sup(ys[i1])], fill=c, width=2 * SS)

    # Time axis.
    ya = y_rows + ROW_H * len(rows) - 8
    t_max = n / fps
    for t in _nice_ticks(t_max):
        x = LEFT + t / t_max * plot_w
        dr.line([sup(x), sup(ya), sup(x), sup(ya + 5)], fill=(120, 120, 120), width=SS)
        draw_text(dr, (x, ya + 7), f"{t:g} s", 11, fill=(90, 90, 90), anchor="mt")
    small = img.resize((WIDTH, height), Image.LANCZOS)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_png(out, np.asarray(small))


def _wrap(text: str, chars: int) -> list[str]:
    """Words of ``text`` in lines of at most ``chars`` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
