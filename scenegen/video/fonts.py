"""Text in any script on video frames: system fonts found by name, a fallback chain per run of text, shaping.

Fonts come from Debian's Noto packages, found through fontconfig (``fc-list``) or their usual paths:

* ``fonts-noto-core``: Noto Sans (Latin, Greek, Cyrillic), Noto Sans Arabic, Noto Sans Hebrew;
* ``fonts-noto-cjk``: Noto Sans CJK (one collection; the JP, SC, TC or KR face is taken by the text's language).

A line of text is split into runs that one font covers (every character is looked up in the font's ``cmap``
with fontTools, so nothing is ever drawn as a .notdef box): the chain is Noto Sans, Noto Sans Arabic,
Noto Sans CJK (the language's face), Noto Sans Hebrew, DejaVu Sans. A character no installed font has is a one-line
:class:`MissingDependencyError` naming the language and the package to install.

Shaping: Pillow's raqm layout (HarfBuzz + FriBiDi) shapes Arabic and draws each run in its own direction; the
runs of a line are put in visual order by the paragraph's direction (the first strong letter). Without raqm,
Arabic is shaped with ``arabic-reshaper`` and reordered with ``python-bidi`` (both from PyPI).
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from scenegen.core.errors import MissingDependencyError

__all__ = [
    "TextRun",
    "draw_line",
    "fit_lines",
    "font_for",
    "has_raqm",
    "line_size",
    "script_of",
    "split_runs",
]

# (family, Debian package, paths tried when fontconfig is not there); CJK faces are collections (.ttc)
_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Noto Sans": ("fonts-noto-core", ("/usr/share/fonts/truetype/noto/NotoSans-{w}.ttf",)),
    "Noto Sans Arabic": ("fonts-noto-core", ("/usr/share/fonts/truetype/noto/NotoSansArabic-{w}.ttf",)),
    "Noto Sans Hebrew": ("fonts-noto-core", ("/usr/share/fonts/truetype/noto/NotoSansHebrew-{w}.ttf",)),
    "Noto Sans CJK": ("fonts-noto-cjk", ("/usr/share/fonts/opentype/noto/NotoSansCJK-{w}.ttc",)),
    "DejaVu Sans": ("fonts-dejavu-core", ("/usr/share/fonts/truetype/dejavu/DejaVuSans{wd}.ttf",)),
}
# face of the CJK collection per language (the collection holds JP, KR, SC, TC, HK in this order)
_CJK_FACE = {"ja": "JP", "ko": "KR", "zh": "SC", "zh-cn": "SC", "zh-hans": "SC", "zh-tw": "TC", "zh-hant": "TC",
             "zh-hk": "HK"}
_PACKAGE_OF_SCRIPT = {"Arabic": "fonts-noto-core", "Hebrew": "fonts-noto-core", "CJK": "fonts-noto-cjk",
                      "Latin": "fonts-noto-core", "Greek": "fonts-noto-core", "Cyrillic": "fonts-noto-core"}


def has_raqm() -> bool:
    """Pillow can shape complex scripts (libraqm with FriBiDi and HarfBuzz)."""
    return bool(features.check("raqm"))


def script_of(ch: str) -> str:
    """Coarse script of a character: Arabic, Hebrew, CJK, Greek, Cyrillic, Latin or Common."""
    o = ord(ch)
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF or 0xFB50 <= o <= 0xFDFF \
            or 0xFE70 <= o <= 0xFEFF:
        return "Arabic"
    if 0x0590 <= o <= 0x05FF or 0xFB1D <= o <= 0xFB4F:
        return "Hebrew"
    if 0x1100 <= o <= 0x11FF or 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF \
            or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x3FFFF:
        return "CJK"
    if 0x0370 <= o <= 0x03FF or 0x1F00 <= o <= 0x1FFF:
        return "Greek"
    if 0x0400 <= o <= 0x052F or 0x2DE0 <= o <= 0x2DFF or 0xA640 <= o <= 0xA69F:
        return "Cyrillic"
    if ch.isalpha():
        return "Latin"
    return "Common"


def _rtl(ch: str) -> bool:
    return script_of(ch) in ("Arabic", "Hebrew") and unicodedata.bidirectional(ch) in ("AL", "R")


# ----------------------------------------------------------------------------------------------------------
# Finding fonts
# ----------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _fc_files(family: str, style: str) -> tuple[tuple[str, int, str], ...]:
    """(file, index, family) of the installed fonts of ``family`` in ``style``, by fontconfig (empty without it)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return ()
    try:
        out = subprocess.run([exe, "--format", "%{file}|%{index}|%{family[0]}\\n", f"{family}:style={style}"],
                             capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    found = []
    for line in sorted(out.splitlines()):
        parts = line.split("|")
        if len(parts) == 3 and parts[1].isdigit():
            found.append((parts[0], int(parts[1]), parts[2]))
    return tuple(found)


@lru_cache(maxsize=None)
def _locate(family: str, bold: bool, language: str) -> tuple[str, int] | None:
    """(file, face index) of a family (the language's face for CJK), bold if there is one, else regular."""
    face = _CJK_FACE.get(language.lower(), _CJK_FACE.get(language.lower().split("-")[0], "JP"))
    want = f"{family} {face}" if family == "Noto Sans CJK" else family
    for style in (("Bold", "Regular") if bold else ("Regular",)):
        for file, index, fam in _fc_files(want, style):
            if fam == want and Path(file).is_file():
                return file, index
        _pkg, patterns = _FAMILIES[family]
        for pattern in patterns:
            p = Path(pattern.format(w=style, wd="-Bold" if style == "Bold" else ""))
            if p.is_file():
                index = ("JP", "KR", "SC", "TC", "HK").index(face) if p.suffix == ".ttc" else 0
                return str(p), index
    return None


@lru_cache(maxsize=None)
def _cmap(file: str, index: int) -> frozenset[int]:
    """Code points the font maps to a glyph (its best Unicode cmap), read with fontTools."""
    from fontTools.ttLib import TTFont

    with TTFont(file, fontNumber=index, lazy=True) as f:
        cmap = f.getBestCmap() or {}
    return frozenset(cmap)


def font_chain(language: str, bold: bool = False) -> list[tuple[str, int]]:
    """The installed fonts tried in order for each character of a ``language`` text: (file, face index)."""
    chain = []
    for family in _FAMILIES:
        loc = _locate(family, bold, language)
        if loc is not None and loc not in chain:
            chain.append(loc)
    return chain


@lru_cache(maxsize=256)
def font_for(file: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    """A Pillow font (raqm layout when available)."""
    engine = ImageFont.Layout.RAQM if has_raqm() else ImageFont.Layout.BASIC
    return ImageFont.truetype(file, size=max(int(size), 1), index=index, layout_engine=engine)


# ----------------------------------------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextRun:
    """Characters (logical order) drawn with one font, in one direction."""

    text: str
    file: str
    index: int
    rtl: bool


def _missing(ch: str, language: str) -> MissingDependencyError:
    script = script_of(ch)
    pkg = _PACKAGE_OF_SCRIPT.get(script, "fonts-noto-core")
    name = unicodedata.name(ch, "unnamed")
    return MissingDependencyError(
        f"no installed font has the character {ch!r} (U+{ord(ch):04X} {name}, {script}) of the {language!r} "
        f"text: install the Debian package {pkg} (apt-get install {pkg})")


def split_runs(text: str, language: str = "en", bold: bool = False) -> list[TextRun]:
    """``text`` (one line) in runs of one font each, in VISUAL order (left to right on the frame).

    Every character is drawn by the first font of :func:`font_chain` that has it; spaces and combining marks stay
    in the current run when its font has them. Raises MissingDependencyError when no installed font has a
    character (never draws a .notdef box).
    """
    chain = font_chain(language, bold)
    runs: list[list] = []  # [chars, font, has_rtl, has_ltr]
    for ch in text:
        cp = ord(ch)
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in ("\u200c", "\u200d"):
            continue  # control and bidi format characters are not drawn
        joins = unicodedata.category(ch)[0] in ("Z", "M") or ch in ("\u200c", "\u200d")
        if runs and joins and cp in _cmap(*runs[-1][1]):
            runs[-1][0].append(ch)
            continue
        font = next((f for f in chain if cp in _cmap(*f)), None)
        if font is None:
            if unicodedata.category(ch)[0] == "Z":  # an exotic space: draw a plain one
                ch, font = " ", next((f for f in chain if 0x20 in _cmap(*f)), None)
            if font is None:
                raise _missing(ch, language)
        if runs and runs[-1][1] == font:
            runs[-1][0].append(ch)
        else:
            runs.append([[ch], font])
    out = [TextRun("".join(c), f[0], f[1], any(_rtl(x) for x in c)) for c, f in runs]
    # Visual order of the runs: an RTL paragraph (first strong letter Arabic/Hebrew) lays them out right to left;
    # each run is then drawn in its own direction (a two-level Unicode bidi resolution at run granularity).
    first_strong = next((ch for ch in text if unicodedata.bidirectional(ch) in ("L", "R", "AL")), "a")
    if _rtl(first_strong):
        out.reverse()
    return out


def _shape_basic(run: TextRun) -> str:
    """Without raqm: a run's characters shaped (Arabic presentation forms) and in visual order."""
    if not run.rtl:
        return run.text
    try:
        import arabic_reshaper
        try:
            from bidi import get_display  # python-bidi >= 0.5
        except ImportError:
            from bidi.algorithm import get_display
    except ImportError:
        raise MissingDependencyError(
            "right-to-left text needs Pillow with libraqm (apt-get install libraqm0 libfribidi0) or the PyPI "
            "packages arabic-reshaper and python-bidi (pip install arabic-reshaper python-bidi)") from None
    return get_display(arabic_reshaper.reshape(run.text))


def _run_args(run: TextRun, language: str) -> tuple[str, dict]:
    if has_raqm():
        return run.text, {"direction": "rtl" if run.rtl else "ltr", "language": language.split("-")[0] or None}
    return _shape_basic(run), {}


def line_size(text: str, size: int, language: str = "en", bold: bool = False) -> tuple[int, int, int]:
    """(width, ascent, descent) in pixels of one line of ``text`` at font ``size`` (px)."""
    width, asc, desc = 0, 0, 0
    for run in split_runs(text, language, bold):
        font = font_for(run.file, run.index, size)
        s, kw = _run_args(run, language)
        width += int(round(font.getlength(s, **kw)))
        a, d = font.getmetrics()
        asc, desc = max(asc, a), max(desc, d)
    return width, asc, desc


def draw_line(img: Image.Image, x: float, baseline: float, text: str, size: int, *, language: str = "en",
              bold: bool = False, fill: tuple[int, ...] = (255, 255, 255, 255)) -> tuple[int, int]:
    """Draw one line of ``text`` on ``img`` starting at ``x`` (left) on ``baseline``; returns (left, right) px."""
    draw = ImageDraw.Draw(img)
    left = int(round(x))
    for run in split_runs(text, language, bold):
        font = font_for(run.file, run.index, size)
        s, kw = _run_args(run, language)
        draw.text((x, baseline), s, font=font, fill=fill, anchor="ls", **kw)
        x += font.getlength(s, **kw)
    return left, int(round(x))


# characters a line must not start with (Japanese/Chinese line-breaking rules, kinsoku shori): small kana, the
# prolonged sound mark, closing brackets and punctuation
_NO_LINE_START = set("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶー・、。，．：；？！）」』】〕〉》｝〙〗〟’”%)]},.:;!?")


def _greedy(tokens: list[str], size: int, max_width: int, language: str, bold: bool) -> list[str]:
    lines: list[str] = []
    cur = ""
    for tok in tokens:
        trial = cur + tok
        if cur.strip() and tok.strip() and line_size(trial.strip(), size, language, bold)[0] > max_width:
            if tok[0] in _NO_LINE_START and len(cur.rstrip()) > 1 and cur[-1] != " ":
                lines.append(cur[:-1].strip())  # carry the last character over instead
                cur = cur[-1] + tok
            else:
                lines.append(cur.strip())
                cur = tok
        else:
            cur = trial
    lines.append(cur.strip())
    return [ln for ln in lines if ln]


def wrap_lines(text: str, size: int, max_width: int, language: str = "en", bold: bool = False,
               cjk_breaks: bool = True) -> list[str]:
    """``text`` broken into lines no wider than ``max_width`` where possible: at spaces when that is enough,
    else also between CJK characters (written without spaces; never before small kana or closing punctuation);
    a single word wider than the frame stays on its line."""
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        words = [t for w in para.split(" ") for t in (w, " ")][:-1]
        out = _greedy(words, size, max_width, language, bold)
        if cjk_breaks and any(line_size(ln, size, language, bold)[0] > max_width for ln in out) and \
                any(script_of(c) == "CJK" for c in para):
            chars = [t for w in para.split(" ") for t in ([c for c in w] if any(script_of(c) == "CJK" for c in w)
                                                          else [w]) + [" "]][:-1]
            out = _greedy(chars, size, max_width, language, bold)
        lines += out
    return lines or [""]


def fit_lines(text: str, size: int, max_width: int, language: str = "en", bold: bool = False,
              min_scale: float = 0.7) -> tuple[list[str], int]:
    """(lines, size): ``text`` wrapped at spaces at ``size``, or at a smaller size (down to ``min_scale``) when a
    word does not fit; failing that, broken between CJK characters at the smallest size."""
    s = size
    for k in range(4):
        s = max(6, int(round(size * (1 - (1 - min_scale) * k / 3))))
        lines = wrap_lines(text, s, max_width, language, bold, cjk_breaks=False)
        if all(line_size(ln, s, language, bold)[0] <= max_width for ln in lines):
            return lines, s
    return wrap_lines(text, s, max_width, language, bold), s


def text_block(lines: list[tuple[str, int, bool, tuple[int, ...]]], width: int, language: str,
               align: str = "center", line_gap: float = 0.35) -> Image.Image:
    """An RGBA image ``width`` wide holding ``lines`` of (text, size px, bold, RGBA fill), stacked, aligned
    "center", "left" or "right" (also used for right-to-left captions)."""
    metrics = [line_size(t, s, language, b) for t, s, b, _ in lines]
    heights = [a + d for _, a, d in metrics]
    gaps = [int(round(s * line_gap)) for _, s, _, _ in lines]
    total = sum(heights) + sum(gaps[1:])
    img = Image.new("RGBA", (max(width, 1), max(total, 1)), (0, 0, 0, 0))
    y = 0
    for k, ((t, s, b, fill), (w, a, d)) in enumerate(zip(lines, metrics)):
        if k:
            y += gaps[k]
        x = {"left": 0, "right": width - w}.get(align, (width - w) / 2)
        draw_line(img, x, y + a, t, s, language=language, bold=b, fill=fill)
        y += a + d
    return img


def ink_columns(img: Image.Image | np.ndarray, threshold: int = 64) -> np.ndarray:
    """Indices of the pixel columns holding ink (alpha, or brightness for RGB, above ``threshold``)."""
    a = np.asarray(img)
    a = a[..., 3] if a.ndim == 3 and a.shape[2] == 4 else (a.max(axis=2) if a.ndim == 3 else a)
    return np.flatnonzero((a > threshold).any(axis=0))
