"""Camera-path previews as pictures: a top/side map of the path (the contact sheet of rendered frames is
:mod:`scenegen.paths.contact_sheet`).

* :func:`preview_png`: one PNG (1400 x 720 by default) with a TOP view (projected on the plane orthogonal to
  ``up``) and a SIDE view (``up`` vertical), drawn at the same scale, over a metre grid: the scene's points as a
  grey density, training cameras as grey dots, the path coloured by time (blue -> violet -> orange) with
  direction arrows, numbered keyframes, frames with warnings in red, and a legend.
* :func:`preview_geometry`: the layout :func:`preview_png` uses (world -> pixel mapping of both panels).

Everything is drawn with Pillow at twice the output resolution and downsampled (anti-aliased lines and text);
PNGs are written atomically (temporary file in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter

from scenegen.cameras.poses import up_basis
from scenegen.core.io import write_png
from scenegen.paths.drawing import SS, TEXT, draw_text, sup

__all__ = [
    "PreviewGeometry",
    "path_color",
    "preview_geometry",
    "preview_png",
]

View = Literal["top", "side"]

_BG = (244, 244, 241)
_PANEL_BG = (255, 255, 255)
_FRAME = (170, 170, 170)
_GRID = (228, 228, 228)
_GRID_ZERO = (200, 200, 200)
_TEXT_SOFT = (110, 110, 110)
_DENSITY = np.array([138.0, 144.0, 154.0])  # the densest scene points
_TRAIN = (120, 120, 120)
_KEYFRAME_FILL = (28, 28, 30)
_KEYFRAME_TEXT = (255, 255, 255)
_WARN = (226, 0, 0)
# Path colour stops, t in [0, 1]: blue -> violet -> orange (red is reserved for warnings).
_PATH_STOPS = np.array([[31, 94, 209], [128, 64, 196], [214, 62, 128], [240, 140, 0]], dtype=np.float64)

KEYFRAME_RADIUS = 11.0
"""Radius in output pixels of the numbered keyframe circles."""
KEYFRAME_FILL = _KEYFRAME_FILL
"""RGB fill colour of the keyframe circles."""
WARNING_COLOR = _WARN
"""RGB colour of frames with warnings."""


def path_color(t: np.ndarray | float) -> np.ndarray:
    """Colour of the path at normalised time ``t`` in [0, 1]: (...) -> (..., 3) uint8 (blue -> orange)."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0) * (len(_PATH_STOPS) - 1)
    k = np.minimum(np.floor(t).astype(int), len(_PATH_STOPS) - 2)
    f = (t - k)[..., None]
    return np.round(_PATH_STOPS[k] * (1 - f) + _PATH_STOPS[k + 1] * f).astype(np.uint8)


# ----------------------------------------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------------------------------------


def _as_c2w(m: Any, name: str) -> np.ndarray | None:
    """(N, 4, 4) or (N, 3, 4) array/tensor -> (N, 3, 4) float64; None stays None."""
    if m is None:
        return None
    if hasattr(m, "detach"):
        m = m.detach().cpu().numpy()
    a = np.asarray(m, dtype=np.float64)
    if a.ndim == 2 and a.shape in ((4, 4), (3, 4)):
        a = a[None]
    if a.ndim != 3 or a.shape[1:] not in ((4, 4), (3, 4)):
        raise ValueError(f"{name} must have shape (N, 4, 4) or (N, 3, 4), got {a.shape}")
    if not np.isfinite(a[:, :3, :]).all():
        raise ValueError(f"{name} contains non-finite values")
    return a[:, :3, :]


def _as_points(p: Any) -> np.ndarray | None:
    if p is None:
        return None
    if hasattr(p, "detach"):
        p = p.detach().cpu().numpy()
    a = np.asarray(p, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"points must have shape (P, 3), got {a.shape}")
    a = a[np.isfinite(a).all(1)]
    return a if len(a) else None


def _axis_name(v: np.ndarray) -> str:
    """'+x', '-z'... when ``v`` is a world axis, else the rounded vector."""
    k = int(np.argmax(np.abs(v)))
    if abs(abs(v[k]) - 1.0) < 1e-6:
        return ("+" if v[k] > 0 else "-") + "xyz"[k]
    return "(" + ", ".join(f"{c:.2f}" for c in v) + ")"


@dataclass
class PreviewGeometry:
    """World -> pixel mapping of the two panels of :func:`preview_png` (output pixels, x right, y down).

    Attributes:
        size: (W, H) of the image.
        e1, e2, up: (3,) orthonormal basis; the TOP view shows (e1 right, e2 up the page), the SIDE view shows
            (e1 right, up up the page), i.e. it looks along +e2.
        scale: pixels per world unit, the same in both panels.
        top_rect, side_rect: (x0, y0, x1, y1) plot rectangles of the panels.
        top_center, side_center: (2,) world coordinates (along e1, e2) resp. (e1, up) shown at the rectangles'
            centres.
        layout: "columns" (panels side by side) or "rows" (top view above the side view).
    """

    size: tuple[int, int]
    e1: np.ndarray
    e2: np.ndarray
    up: np.ndarray
    scale: float
    top_rect: tuple[float, float, float, float]
    side_rect: tuple[float, float, float, float]
    top_center: np.ndarray
    side_center: np.ndarray
    layout: str

    def coords(self, xyz: np.ndarray, view: View) -> np.ndarray:
        """(N, 3) world points -> (N, 2) panel coordinates in world units ((e1, e2) top, (e1, up) side)."""
        p = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
        return np.stack([p @ self.e1, p @ (self.e2 if view == "top" else self.up)], 1)

    def to_pixels(self, xyz: np.ndarray, view: View) -> np.ndarray:
        """(N, 3) world points -> (N, 2) float pixel coordinates (x, y) in the image, for ``view`` "top"/"side"."""
        rect, center = (self.top_rect, self.top_center) if view == "top" else (self.side_rect, self.side_center)
        c = self.coords(xyz, view)
        cx, cy = 0.5 * (rect[0] + rect[2]), 0.5 * (rect[1] + rect[3])
        return np.stack([cx + (c[:, 0] - center[0]) * self.scale, cy - (c[:, 1] - center[1]) * self.scale], 1)

    def world_window(self, view: View) -> tuple[float, float, float, float]:
        """(u_min, u_max, v_min, v_max) world coordinates at the edges of ``view``'s plot rectangle."""
        rect, center = (self.top_rect, self.top_center) if view == "top" else (self.side_rect, self.side_center)
        hw, hh = 0.5 * (rect[2] - rect[0]) / self.scale, 0.5 * (rect[3] - rect[1]) / self.scale
        return center[0] - hw, center[0] + hw, center[1] - hh, center[1] + hh


_HEADER_H = 48
_FOOTER_H = 50
_PANEL_TITLE_H = 24
_MARGIN_L = 50  # room for tick labels left of a panel
_MARGIN_R = 14
_TICK_H = 20  # room for tick labels below a panel
_GAP = 18
_PAD_PX = 18.0  # content keeps this far from the panel edges


def preview_geometry(
    c2w: Any,
    keyframes_c2w: Any = None,
    up: Sequence[float] = (0.0, 0.0, 1.0),
    train_c2w: Any = None,
    points: Any = None,
    size: tuple[int, int] = (1400, 720),
) -> PreviewGeometry:
    """The layout :func:`preview_png` draws with the same arguments (see there for the shapes).

    The panels frame the path, the keyframes, the training cameras and the central 99% of the points; both use
    the largest scale that fits. Panels go side by side, or one above the other when that gives a larger scale
    (long flat paths).
    """
    cams = _as_c2w(c2w, "c2w")
    if cams is None or len(cams) == 0:
        raise ValueError("c2w must hold at least one camera")
    basis = up_basis(up)
    e1, e2, u = basis[:, 0], basis[:, 1], basis[:, 2]
    pos = [cams[:, :, 3]]
    for extra, name in ((keyframes_c2w, "keyframes_c2w"), (train_c2w, "train_c2w")):
        m = _as_c2w(extra, name)
        if m is not None and len(m):
            pos.append(m[:, :, 3])
    pts = _as_points(points)
    if pts is not None:
        if len(pts) >= 200:
            lo, hi = np.percentile(pts @ np.stack([e1, e2, u], 1), [0.5, 99.5], axis=0)
            pos.append(np.stack([lo, hi]) @ np.stack([e1, e2, u]))  # back to world
        else:
            pos.append(pts)
    allp = np.concatenate(pos)
    c3 = allp @ np.stack([e1, e2, u], 1)  # (n, 3) coordinates (e1, e2, up)
    lo, hi = c3.min(0), c3.max(0)
    span = hi - lo
    big = float(span.max())
    if not big > 0:
        big = 1.0
    span = np.maximum(span, 0.25 * big)
    mid = 0.5 * (lo + hi)
    span = span * 1.08  # breathing room

    width, height = size
    avail_h = height - _HEADER_H - _FOOTER_H
    best: tuple | None = None
    for layout in ("columns", "rows"):
        if layout == "columns":
            pw = (width - 2 * (_MARGIN_L + _MARGIN_R) - _GAP) / 2
            ph = avail_h - _PANEL_TITLE_H - _TICK_H
            s = min((pw - 2 * _PAD_PX) / span[0], (ph - 2 * _PAD_PX) / span[1], (ph - 2 * _PAD_PX) / span[2])
            x0 = _MARGIN_L
            top = (x0, _HEADER_H + _PANEL_TITLE_H, x0 + pw, _HEADER_H + _PANEL_TITLE_H + ph)
            x1 = x0 + pw + _MARGIN_R + _GAP + _MARGIN_L
            side = (x1, top[1], x1 + pw, top[3])
        else:
            pw = width - _MARGIN_L - _MARGIN_R
            ph_total = avail_h - 2 * (_PANEL_TITLE_H + _TICK_H) - 4 * _PAD_PX
            s = min((pw - 2 * _PAD_PX) / span[0], ph_total / (span[1] + span[2]))
            h1 = span[1] * s + 2 * _PAD_PX
            h1 += 0.5 * max(0.0, ph_total - (span[1] + span[2]) * s)  # share the slack
            y0 = _HEADER_H + _PANEL_TITLE_H
            top = (_MARGIN_L, y0, _MARGIN_L + pw, y0 + h1)
            y1 = top[3] + _TICK_H + _PANEL_TITLE_H
            side = (_MARGIN_L, y1, _MARGIN_L + pw, height - _FOOTER_H - _TICK_H)
        if best is None or s > best[0] * 1.02:
            best = (s, layout, top, side)
    s, layout, top, side = best  # type: ignore[misc]
    return PreviewGeometry(
        size=(int(width), int(height)),
        e1=e1,
        e2=e2,
        up=u,
        scale=float(s),
        top_rect=tuple(float(v) for v in top),  # type: ignore[arg-type]
        side_rect=tuple(float(v) for v in side),  # type: ignore[arg-type]
        top_center=np.array([mid[0], mid[1]]),
        side_center=np.array([mid[0], mid[2]]),
        layout=layout,
    )


# ----------------------------------------------------------------------------------------------------------
# Drawing helpers
# ----------------------------------------------------------------------------------------------------------


def _nice_step(target: float) -> float:
    """The smallest 1/2/5 x 10^k >= ``target``."""
    if not target > 0 or not math.isfinite(target):
        return 1.0
    e = math.floor(math.log10(target))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10**e >= target * (1 - 1e-9):
            return m * 10**e
    return 10.0 ** (e + 1)


def _fmt_len(v: float) -> str:
    """A length in world units (metres) for labels: '50 cm', '2 m', '0.5 mm'..."""
    if v >= 1:
        return f"{v:g} m"
    if v >= 0.01:
        return f"{v * 100:g} cm"
    return f"{v * 1000:g} mm"


def _fmt_tick(v: float, step: float) -> str:
    decimals = max(0, -int(math.floor(math.log10(step) + 1e-9)))
    s = f"{v:.{decimals}f}"
    return "0" if float(s) == 0 else s.replace("-", "\u2212")


def _density_layer(uv: np.ndarray, rect, window, ss: int) -> np.ndarray | None:
    """(h, w) opacity in [0, 1] of the scene points over a panel (supersampled pixels).

    Points are counted per output pixel, smoothed (Gaussian, 1 px) and mapped with a square root of the count
    relative to its 99th percentile: surfaces seen edge-on (walls in the top view) are dark, surfaces seen face-on
    (floors) light, and isolated points stay visible.
    """
    w_out = int(round(rect[2] - rect[0]))
    h_out = int(round(rect[3] - rect[1]))
    if w_out < 1 or h_out < 1 or len(uv) == 0:
        return None
    u0, u1, v0, v1 = window
    hist, _, _ = np.histogram2d(uv[:, 1], uv[:, 0], bins=(h_out, w_out), range=((v0, v1), (u0, u1)))
    hist = hist[::-1]  # row 0 = top of the panel = largest v
    if hist.max() <= 0:
        return None
    v = gaussian_filter(hist, sigma=1.0, mode="constant")
    nz = v[v > 1e-6]
    ref = float(np.percentile(nz, 99)) if len(nz) > 20 else float(nz.max())
    d = np.sqrt(np.clip(v / max(ref, 1e-12), 0.0, 1.0))
    d = np.where(v > 1e-6, np.maximum(d, 0.10), 0.0)
    im = Image.fromarray((d * 255 + 0.5).astype(np.uint8), mode="L").resize(
        (int(round(sup(rect[2] - rect[0]))), int(round(sup(rect[3] - rect[1])))), Image.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 255.0


def _arrow(draw, p: np.ndarray, d: np.ndarray, color, size: float = 8.0) -> None:
    """Filled triangle (output pixels) centred at ``p`` pointing along unit ``d``, with a white outline."""
    n = np.array([-d[1], d[0]])
    tip = p + d * size
    a = p - d * size * 0.6 + n * size * 0.72
    b = p - d * size * 0.6 - n * size * 0.72
    pts = [(float(sup(q[0])), float(sup(q[1]))) for q in (tip, a, b)]
    draw.polygon(pts, fill=tuple(int(c) for c in color), outline=(255, 255, 255), width=int(sup(1.4)))


def _circle(draw, p, r: float, fill, outline=None, width: float = 0.0) -> None:
    x, y = sup(p[0]), sup(p[1])
    rr = sup(r)
    draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=fill, outline=outline,
                 width=int(round(sup(width))) if outline is not None else 0)


# ----------------------------------------------------------------------------------------------------------
# Preview
# ----------------------------------------------------------------------------------------------------------


def preview_png(
    out_png: str | Path,
    c2w: Any,
    keyframes_c2w: Any = None,
    up: Sequence[float] = (0.0, 0.0, 1.0),
    train_c2w: Any = None,
    points: Any = None,
    warnings_frames: set[int] | None = None,
    title: str = "",
    *,
    seconds: float | None = None,
    fps: float | None = None,
    size: tuple[int, int] = (1400, 720),
) -> Path:
    """Draw a camera path seen from above and from the side into one PNG, written atomically.

    Args:
        out_png: the PNG to write (its folder is created).
        c2w: (N, 4, 4) or (N, 3, 4) camera-to-world matrices along the path (OpenGL: the camera looks down
            its -Z axis), world units (metres). Array or tensor. Drawn: the centres (the path) and short ticks
            along the viewing axis every ~1/24 of the path.
        keyframes_c2w: (K, 4, 4) keyframe cameras in the same world, drawn as circles numbered 1..K, or None.
        up: (3,) world up vector; the TOP view looks down along -up, the SIDE view has ``up`` vertical.
        train_c2w: (M, 4, 4) training cameras (small grey dots), or None.
        points: (P, 3) scene points (point cloud, occupied voxel centres) in world units, drawn as a grey
            density (top view: projected along up; side view: projected along the view axis), or None.
        warnings_frames: indices in [0, N) of frames with warnings, drawn in red, or None.
        title: a heading.
        seconds, fps: the video's duration and frame rate, shown in the legend when given.
        size: (W, H) of the image.
    Returns:
        ``out_png`` as a Path.
    """
    cams = _as_c2w(c2w, "c2w")
    kf = _as_c2w(keyframes_c2w, "keyframes_c2w")
    train = _as_c2w(train_c2w, "train_c2w")
    pts = _as_points(points)
    geo = preview_geometry(cams, kf, up, train, pts, size)
    n = len(cams)
    warn = sorted(int(i) for i in (warnings_frames or ()) if 0 <= int(i) < n)
    width, height = geo.size

    img = Image.new("RGB", (width * SS, height * SS), _BG)
    draw = ImageDraw.Draw(img)

    # Header.
    draw_text(draw, (_MARGIN_L, _HEADER_H / 2), title or "camera path", 19, bold=True, anchor="lm")
    draw_text(draw, (width - _MARGIN_R, _HEADER_H / 2),
          f"up = {_axis_name(geo.up)}   ·   grid {_fmt_len(_grid_step(geo))}   ·   same scale in both views",
          13, fill=_TEXT_SOFT, anchor="rm")

    pos = cams[:, :, 3]
    fwd = -cams[:, :, 2]  # OpenGL cameras look down -Z
    t = np.arange(n) / max(n - 1, 1)
    colors = path_color(t)
    e1n, e2n, upn = _axis_name(geo.e1), _axis_name(geo.e2), _axis_name(geo.up)
    down = _axis_name(-geo.up)
    for view in ("top", "side"):
        rect = geo.top_rect if view == "top" else geo.side_rect
        label = (f"TOP VIEW   looking along {down}   ({e1n} \u2192, {e2n} \u2191)" if view == "top"
                 else f"SIDE VIEW   looking along {e2n}   ({e1n} \u2192, {upn} \u2191)")
        draw_text(draw, (rect[0], rect[1] - 7), label, 13, bold=True, anchor="lb")
        panel = _draw_panel(geo, view, rect, pos, fwd, colors, kf, train, pts, warn)
        img.paste(panel, (int(round(sup(rect[0]))), int(round(sup(rect[1])))))
        draw.rectangle([sup(rect[0]), sup(rect[1]), sup(rect[2]), sup(rect[3])], outline=_FRAME, width=SS)
        _draw_ticks(draw, geo, view, rect, e1n, e2n if view == "top" else upn)

    _draw_legend(draw, geo, n, kf, train, warn, warnings_frames is not None, seconds, fps)
    out = img.resize((width, height), Image.LANCZOS)
    return write_png(out_png, np.asarray(out))


def _grid_step(geo: PreviewGeometry) -> float:
    return _nice_step(72.0 / geo.scale)


def _draw_ticks(draw, geo: PreviewGeometry, view: View, rect, hname: str, vname: str) -> None:
    step = _grid_step(geo)
    u0, u1, v0, v1 = geo.world_window(view)
    for k in range(math.ceil(u0 / step), math.floor(u1 / step) + 1):
        x = rect[0] + (k * step - u0) * geo.scale
        if rect[0] + 12 <= x <= rect[2] - 48:
            draw_text(draw, (x, rect[3] + 4), _fmt_tick(k * step, step), 11, fill=_TEXT_SOFT, anchor="mt")
    for k in range(math.ceil(v0 / step), math.floor(v1 / step) + 1):
        y = rect[3] - (k * step - v0) * geo.scale
        if rect[1] + 8 <= y <= rect[3] - 8:
            draw_text(draw, (rect[0] - 5, y), _fmt_tick(k * step, step), 11, fill=_TEXT_SOFT, anchor="rm")
    draw_text(draw, (rect[2], rect[3] + 4), f"{hname} (m)", 11, fill=TEXT, anchor="rt", bold=True)
    draw_text(draw, (rect[0] - 5, rect[1] - 7), f"{vname} (m)", 11, fill=TEXT, anchor="rb", bold=True)


def _draw_panel(geo, view, rect, pos, fwd, colors, kf, train, pts, warn):
    """The content of one panel as a supersampled RGB image the size of ``rect``."""
    w = int(round(sup(rect[2] - rect[0])))
    h = int(round(sup(rect[3] - rect[1])))
    panel = Image.new("RGB", (w, h), _PANEL_BG)
    draw = ImageDraw.Draw(panel)
    ox, oy = rect[0], rect[1]

    def px(xyz: np.ndarray) -> np.ndarray:  # world -> panel-local output pixels
        return geo.to_pixels(xyz, view) - np.array([ox, oy])

    # Grid.
    step = _grid_step(geo)
    u0, u1, v0, v1 = geo.world_window(view)
    for k in range(math.ceil(u0 / step), math.floor(u1 / step) + 1):
        x = sup((k * step - u0) * geo.scale)
        draw.line([(x, 0), (x, h)], fill=_GRID_ZERO if k == 0 else _GRID, width=max(1, SS // 2 + (k == 0)))
    for k in range(math.ceil(v0 / step), math.floor(v1 / step) + 1):
        y = sup((rect[3] - rect[1]) - (k * step - v0) * geo.scale)
        draw.line([(0, y), (w, y)], fill=_GRID_ZERO if k == 0 else _GRID, width=max(1, SS // 2 + (k == 0)))

    # Scene density.
    if pts is not None:
        dens = _density_layer(geo.coords(pts, view), rect, (u0, u1, v0, v1), SS)
        if dens is not None:
            a = np.asarray(panel, dtype=np.float32)
            alpha = (0.9 * dens)[..., None]
            a = a * (1 - alpha) + _DENSITY[None, None, :] * alpha
            panel = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8), mode="RGB")
            draw = ImageDraw.Draw(panel)

    # Scale bar (bottom left).
    bar = step
    x0, y0 = 12.0, (rect[3] - rect[1]) - 14.0
    x1 = x0 + bar * geo.scale
    draw.rectangle([sup(x0) - SS * 3, sup(y0) - SS * 17, sup(x1) + SS * 3, sup(y0) + SS * 5], fill=(255, 255, 255))
    draw.line([(sup(x0), sup(y0)), (sup(x1), sup(y0))], fill=TEXT, width=int(sup(2.5)))
    for xx in (x0, x1):
        draw.line([(sup(xx), sup(y0 - 4)), (sup(xx), sup(y0 + 3))], fill=TEXT, width=int(sup(1.5)))
    draw_text(draw, (0.5 * (x0 + x1), y0 - 4), _fmt_len(bar), 11, anchor="mb")

    # Training cameras: grey dots with a short viewing-direction tick.
    if train is not None and len(train):
        tp = px(train[:, :, 3])
        tf = px(train[:, :, 3] - train[:, :, 2]) - tp
        norm = np.linalg.norm(tf, axis=1, keepdims=True)
        tf = np.where(norm > 1e-9, tf / np.maximum(norm, 1e-9), 0.0)
        for p, d in zip(tp, tf):
            draw.line([(sup(p[0]), sup(p[1])), (sup(p[0] + 7 * d[0]), sup(p[1] + 7 * d[1]))], fill=(175, 175, 175),
                      width=SS)
        for p in tp:
            _circle(draw, p, 2.3, fill=_TRAIN)

    n = len(pos)
    pp = px(pos)
    # Viewing directions along the path: thin ticks every ~1/24 of the path, foreshortened by the projection.
    fu = fwd / np.maximum(np.linalg.norm(fwd, axis=1, keepdims=True), 1e-12)
    look = px(pos + fu) - pp  # pixels per world unit along the viewing axis
    for i in np.unique(np.linspace(0, n - 1, min(n, 24)).round().astype(int)):
        ln = float(np.linalg.norm(look[i]))
        frac = ln / geo.scale  # in [0, 1]: 1 when the viewing axis lies in the view's plane
        if frac < 0.05:
            continue
        d = look[i] / ln * 17.0 * frac
        c = tuple(int(v) for v in (0.5 * colors[i] + 0.5 * 255))
        draw.line([(sup(pp[i, 0]), sup(pp[i, 1])), (sup(pp[i, 0] + d[0]), sup(pp[i, 1] + d[1]))], fill=c,
                  width=int(sup(1.6)))

    # The path: white halo, then segments coloured by time.
    lw = 3.2
    if n > 1:
        draw.line([(float(sup(p[0])), float(sup(p[1]))) for p in pp], fill=(255, 255, 255), width=int(sup(lw + 3.5)),
                  joint="curve")
        for i in range(n - 1):
            c = tuple(int(v) for v in ((colors[i].astype(int) + colors[i + 1]) // 2))
            draw.line([(sup(pp[i, 0]), sup(pp[i, 1])), (sup(pp[i + 1, 0]), sup(pp[i + 1, 1]))], fill=c,
                      width=int(sup(lw)))
            _circle(draw, pp[i + 1], lw / 2 - 0.05, fill=tuple(int(v) for v in colors[i + 1]))
    _circle(draw, pp[0], lw / 2 + 2.2, fill=tuple(int(v) for v in colors[0]), outline=(255, 255, 255), width=1.2)

    # Direction arrows every ~1/10 of the path.
    if n > 2:
        for k in range(10):
            i = int(round((k + 0.5) / 10 * (n - 1)))
            a, b = pp[max(i - 1, 0)], pp[min(i + 1, n - 1)]
            d = b - a
            # Look further along the path when neighbouring frames project onto the same pixel.
            span = 1
            while np.linalg.norm(d) < 2.0 and span < n:
                span *= 2
                d = pp[min(i + span, n - 1)] - pp[max(i - span, 0)]
            if np.linalg.norm(d) < 2.0:
                continue
            _arrow(draw, pp[i], d / np.linalg.norm(d), colors[i], size=8.5)

    # Frames with warnings.
    for i in warn:
        _circle(draw, pp[i], 4.3, fill=_WARN, outline=(255, 255, 255), width=1.0)

    # Numbered keyframes.
    if kf is not None and len(kf):
        kp = px(kf[:, :, 3])
        for j, p in enumerate(kp):
            label = str(j + 1)
            r = KEYFRAME_RADIUS if len(label) < 3 else KEYFRAME_RADIUS + 3
            _circle(draw, p, r + 1.6, fill=(255, 255, 255))
            _circle(draw, p, r, fill=_KEYFRAME_FILL)
            draw_text(draw, (p[0], p[1]), label, 12.5 if len(label) < 3 else 11, fill=_KEYFRAME_TEXT, anchor="mm",
                  bold=True)
    return panel


def _draw_legend(draw, geo, n, kf, train, warn, show_warn, seconds, fps) -> None:
    width, height = geo.size
    y = height - _FOOTER_H / 2 + 2
    x = float(_MARGIN_L)
    # Time colour bar.
    bar_w = 150
    draw_text(draw, (x, y), "start", 12, anchor="lm")
    x += 36
    xs = np.arange(int(sup(x)), int(sup(x + bar_w)))
    cols = path_color((xs - xs[0]) / max(len(xs) - 1, 1))
    for xi, c in zip(xs, cols):
        draw.line([(xi, sup(y - 4)), (xi, sup(y + 4))], fill=tuple(int(v) for v in c))
    _arrow(draw, np.array([x + bar_w + 7, y]), np.array([1.0, 0.0]), path_color(1.0), size=7)
    x += bar_w + 20
    draw_text(draw, (x, y), "end", 12, anchor="lm")
    x += 48

    def item(draw_icon, text: str) -> None:
        nonlocal x
        draw_icon(x + 8, y)
        box = draw_text(draw, (x + 22, y), text, 12, anchor="lm")
        x = box[2] + 26

    if kf is not None and len(kf):
        def kf_icon(cx, cy):
            _circle(draw, (cx, cy), 9, fill=_KEYFRAME_FILL)
            draw_text(draw, (cx, cy), "1", 10, fill=_KEYFRAME_TEXT, anchor="mm", bold=True)

        item(kf_icon, f"keyframes ({len(kf)})")
    if train is not None and len(train):
        item(lambda cx, cy: _circle(draw, (cx, cy), 3, fill=_TRAIN), f"training cameras ({len(train)})")
    if warn or show_warn:
        item(lambda cx, cy: _circle(draw, (cx, cy), 5, fill=_WARN, outline=(255, 255, 255), width=1.0),
             f"frames with warnings ({len(warn)})")
    parts = [f"{n} frames"]
    if seconds is not None and seconds > 0:
        parts.append(f"{seconds:.1f} s")
        rate = fps if fps else n / seconds
        parts.append(f"{rate:g} fps")
    elif fps:
        parts.append(f"{fps:g} fps")
    draw_text(draw, (width - _MARGIN_R, y), "  ·  ".join(parts), 13, anchor="rm", bold=True)
