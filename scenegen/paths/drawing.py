"""Drawing helpers shared by the path previews and the contact sheet: pictures are drawn with Pillow at
:data:`SS` times the output resolution and downsampled (anti-aliased lines and text); coordinates given to these
helpers are output pixels."""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageFont

__all__ = ["SS", "TEXT", "draw_text", "get_font", "sup"]

SS = 2
"""Supersampling factor of the drawing."""
TEXT = (40, 40, 40)
"""Default RGB colour of text."""


@lru_cache(maxsize=32)
def get_font(size: int, bold: bool = False):
    """A TrueType font of ``size`` pixels (DejaVu Sans, else Pillow's bundled font, else its bitmap font)."""
    for name in (("DejaVuSans-Bold.ttf", "Arial Bold.ttf") if bold else ("DejaVuSans.ttf", "Arial.ttf")):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def draw_text(draw, xy, text: str, size: float, fill=TEXT, anchor: str = "la", bold: bool = False) -> tuple:
    """Draw ``text`` at output-pixel ``xy`` (scaled by the supersampling); ``anchor`` = [lmr][tmb].

    Returns the drawn box (x0, y0, x1, y1) in output pixels.
    """
    font = get_font(max(1, int(round(size * SS))), bold)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    w, h = x1 - x0, y1 - y0
    x, y = xy[0] * SS, xy[1] * SS
    x -= {"l": 0, "m": w / 2, "r": w}[anchor[0]] + x0
    y -= {"t": 0, "m": h / 2, "b": h}[anchor[1]] + y0
    draw.text((x, y), text, font=font, fill=fill)
    return ((x + x0) / SS, (y + y0) / SS, (x + x0 + w) / SS, (y + y0 + h) / SS)


def sup(v: float) -> float:
    """Output pixels -> supersampled pixels."""
    return v * SS
