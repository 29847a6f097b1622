"""Title card, end card and room captions of a tour video, per language.

* :class:`TourText`: one language's texts (property name, address, agency line, logo, the "Computer-generated
  walkthrough" line -- on by default, translated for common languages, can be turned off -- and room captions).
* :func:`title_card` / :func:`end_card`: full frames (uint8 RGB) for the start and the end of the video.
* :func:`room_segments` reads the camera path's top-level ``"rooms"`` key (``[{"name", "start_time",
  "end_time"}]``, seconds, written by the planner); :func:`frame_captions` gives each frame its caption;
  :func:`caption_alphas` fades each caption in when the camera enters the room and out when it leaves;
  :func:`caption_overlay` / :func:`apply_overlay` draw it in the lower third.

Text is drawn by :mod:`scenegen.video.fonts` (Noto fonts, any script, right-to-left shaped).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from scenegen.core.errors import InputError
from scenegen.core.validate import number, string
from scenegen.video.fonts import fit_lines, script_of, text_block, wrap_lines

__all__ = [
    "DISCLAIMERS",
    "TourText",
    "apply_overlay",
    "caption_alphas",
    "caption_overlay",
    "card_alphas",
    "disclaimer_line",
    "end_card",
    "frame_captions",
    "room_segments",
    "title_card",
]

#: The "Computer-generated walkthrough" line per language (BCP 47 primary tag); others fall back to English
#: unless ``TourText.disclaimer_text`` is given.
DISCLAIMERS = {
    "en": "Computer-generated walkthrough",
    "de": "Computergenerierter Rundgang",
    "fr": "Visite générée par ordinateur",
    "es": "Recorrido generado por ordenador",
    "it": "Visita generata al computer",
    "nl": "Computergegenereerde rondleiding",
    "pt": "Visita gerada por computador",
    "pl": "Wirtualny spacer wygenerowany komputerowo",
    "sv": "Datorgenererad rundtur",
    "tr": "Bilgisayarla oluşturulmuş sanal tur",
    "el": "Περιήγηση δημιουργημένη από υπολογιστή",
    "ru": "Виртуальный тур, созданный компьютером",
    "uk": "Віртуальний тур, створений комп'ютером",
    "ja": "コンピューター生成のウォークスルー",
    "zh": "计算机生成的虚拟漫游",
    "ko": "컴퓨터로 생성한 가상 투어",
    "ar": "جولة افتراضية مولدة بالحاسوب",
}

BACKGROUND = (24, 26, 30)
_WHITE = (255, 255, 255, 255)
_GREY = (185, 188, 194, 255)


@dataclass
class TourText:
    """One language's texts of a tour video.

    Attributes:
        language: BCP 47 tag ("en", "de", "ja", "ar", "zh-TW"); picks the CJK face and the disclaimer.
        title, address, agency: lines of the title card (the end card repeats agency, address and title).
        logo: an image file (PNG, JPEG) shown on both cards.
        disclaimer: show the "Computer-generated walkthrough" line on the title card.
        disclaimer_text: that line in this language (default: :data:`DISCLAIMERS`).
        captions: room name -> caption (default: the room name, prettified).
        show_captions: draw room captions at all.
        card_seconds: seconds of each card.
    """

    language: str = "en"
    title: str | None = None
    address: str | None = None
    agency: str | None = None
    logo: Path | None = None
    disclaimer: bool = True
    disclaimer_text: str | None = None
    captions: dict[str, str] = field(default_factory=dict)
    show_captions: bool = True
    card_seconds: float = 2.5

    @property
    def has_cards(self) -> bool:
        """Title and end cards are shown when there is something to put on them."""
        return any((self.title, self.address, self.agency, self.logo)) and self.card_seconds > 0


def disclaimer_line(text: TourText) -> str | None:
    """The disclaimer line of ``text`` (None when turned off)."""
    if not text.disclaimer:
        return None
    if text.disclaimer_text:
        return text.disclaimer_text
    lang = text.language.lower()
    return DISCLAIMERS.get(lang, DISCLAIMERS.get(lang.split("-")[0], DISCLAIMERS["en"]))


# ----------------------------------------------------------------------------------------------------------
# Cards
# ----------------------------------------------------------------------------------------------------------


def _load_logo(path: Path, max_w: int, max_h: int) -> Image.Image:
    try:
        with Image.open(path) as im:
            im.load()
            logo = im.convert("RGBA")
    except (OSError, ValueError, SyntaxError) as e:
        raise InputError(f"cannot read the logo image ({type(e).__name__}: {str(e)[:80]})", file=path,
                         field="logo") from None
    s = min(max_w / logo.width, max_h / logo.height)
    size = (max(1, int(round(logo.width * s))), max(1, int(round(logo.height * s))))
    return logo.resize(size, Image.Resampling.LANCZOS)


def _card(lines: list[tuple[str, float, bool, tuple]], text: TourText, size: tuple[int, int],
          footer: str | None) -> np.ndarray:
    """A card: logo on top, then ``lines`` (text, size as a share of the shorter side, bold, fill), centred
    vertically; ``footer`` (small, grey) near the bottom."""
    w, h = size
    unit = min(w, h)
    margin = int(round(0.08 * w))
    img = Image.new("RGBA", (w, h), BACKGROUND + (255,))
    px = [(t, max(6, int(round(k * unit))), b, c) for t, k, b, c in lines if t]
    wrapped = []
    for t, s, b, c in px:
        lines, s2 = fit_lines(t, s, w - 2 * margin, text.language, b)
        wrapped += [(ln, s2, b, c) for ln in lines]
    block = text_block(wrapped, w, text.language) if wrapped else None
    logo = _load_logo(Path(text.logo), int(0.5 * w), int(0.2 * h)) if text.logo else None
    gap = int(round(0.05 * unit))
    total = (block.height if block else 0) + (logo.height + gap if logo else 0)
    y = max(0, (h - total) // 2)
    if logo is not None:
        img.alpha_composite(logo, ((w - logo.width) // 2, y))
        y += logo.height + gap
    if block is not None:
        img.alpha_composite(block, (0, min(y, max(0, h - block.height))))
    if footer:
        fs = max(6, int(round(0.032 * unit)))
        foot = text_block([(ln, fs, False, _GREY) for ln in wrap_lines(footer, fs, w - 2 * margin, text.language)],
                          w, text.language)
        img.alpha_composite(foot, (0, max(0, h - foot.height - int(round(0.05 * h)))))
    return np.asarray(img.convert("RGB"))


def title_card(text: TourText, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 title card: logo, property name, address, agency line; the disclaimer at the bottom."""
    lines = [(text.title, 0.085, True, _WHITE), (text.address, 0.05, False, _WHITE),
             (text.agency, 0.042, False, _GREY)]
    return _card(lines, text, size, disclaimer_line(text))


def end_card(text: TourText, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 end card: logo, agency line, property name and address."""
    lines = [(text.agency, 0.06, True, _WHITE), (text.title, 0.045, False, _WHITE),
             (text.address, 0.04, False, _GREY)]
    return _card(lines, text, size, None)


def card_alphas(n: int, fps: float, fade_seconds: float = 0.5) -> np.ndarray:
    """(n,) brightness of each frame of a card: fades in from black and out to black."""
    k = max(1, min(int(round(fade_seconds * fps)), n // 3))
    i = np.arange(n, dtype=np.float64)
    return np.clip(np.minimum((i + 1) / (k + 1), (n - i) / (k + 1)), 0.0, 1.0)


# ----------------------------------------------------------------------------------------------------------
# Rooms and captions
# ----------------------------------------------------------------------------------------------------------


def room_segments(spec_or_json: Any) -> list[tuple[str, float, float]]:
    """(name, start s, end s) of the rooms of a path (a PathSpec, or the camera path JSON as a dict), sorted by
    start time; [] when the path has no ``"rooms"`` key. InputError naming the field for a malformed entry."""
    if isinstance(spec_or_json, dict):
        rooms = spec_or_json.get("rooms")
    else:
        rooms = (getattr(spec_or_json, "extra", None) or {}).get("rooms")
    if rooms is None:
        return []
    if not isinstance(rooms, list):
        raise InputError(f"must be a list of {{name, start_time, end_time}}, got {type(rooms).__name__}",
                         field="rooms")
    out = []
    for i, r in enumerate(rooms):
        if not isinstance(r, dict):
            raise InputError(f"must be an object, got {type(r).__name__}", field=f"rooms[{i}]")
        name = string(r.get("name"), None, f"rooms[{i}].name")
        t0 = number(r.get("start_time"), None, f"rooms[{i}].start_time")
        t1 = number(r.get("end_time"), None, f"rooms[{i}].end_time")
        if not t1 > t0:
            raise InputError(f"must be after start_time ({t0:g} s), got {t1:g}", field=f"rooms[{i}].end_time")
        out.append((name, float(t0), float(t1)))
    return sorted(out, key=lambda s: s[1])


def prettify(name: str) -> str:
    """A room id as a caption: "living_room" -> "Living room", "bedroom-2" -> "Bedroom 2"."""
    s = re.sub(r"[_\-]+", " ", name).strip()
    return s[:1].upper() + s[1:] if s else name


def frame_captions(segments: list[tuple[str, float, float]], n_frames: int, fps: float,
                   text: TourText) -> list[str | None]:
    """The caption of each frame (frame k shows time k / fps): the room's caption while the camera is in it,
    None elsewhere (and everywhere when ``text.show_captions`` is off)."""
    out: list[str | None] = [None] * int(n_frames)
    if not text.show_captions:
        return out
    lower = {k.lower(): v for k, v in text.captions.items()}
    for k in range(int(n_frames)):
        t = k / float(fps)
        for name, t0, t1 in segments:
            if t0 - 1e-9 <= t < t1 - 1e-9:
                out[k] = text.captions.get(name) or lower.get(name.lower()) or prettify(name)
                break
    return out


def caption_alphas(captions: list[str | None], fps: float, fade_seconds: float = 0.4) -> np.ndarray:
    """(n,) opacity of each frame's caption: each run of one caption fades in over ``fade_seconds`` from its
    first frame and out over its last ones (shorter runs fade faster); 0 where there is none."""
    n = len(captions)
    out = np.zeros(n)
    k = 0
    while k < n:
        j = k
        while j < n and captions[j] == captions[k]:
            j += 1
        if captions[k] is not None:
            length = j - k
            f = max(1, min(int(round(fade_seconds * fps)), length // 3))
            i = np.arange(length, dtype=np.float64)
            out[k:j] = np.clip(np.minimum((i + 1) / f, (length - i) / f), 0.0, 1.0)
        k = j
    return out


def caption_overlay(caption: str, size: tuple[int, int], language: str = "en") -> tuple[Image.Image, int, int]:
    """An RGBA lower-third caption (text on a translucent band) and where it goes: (image, x, y).

    Left-aligned at 6 % of the width, right-aligned for right-to-left text; its baseline area sits at 80 % of
    the height.
    """
    w, h = size
    unit = min(w, h)
    fs = max(6, int(round(0.055 * unit)))
    margin = max(2, int(round(0.06 * w)))
    pad = max(1, int(round(0.35 * fs)))
    rtl = next((script_of(c) in ("Arabic", "Hebrew") for c in caption if c.isalpha()), False)
    lines = wrap_lines(caption, fs, w - 2 * margin - 2 * pad, language, True)
    block = text_block([(ln, fs, True, _WHITE) for ln in lines], w - 2 * margin - 2 * pad, language,
                       align="right" if rtl else "left")
    cols = np.flatnonzero(np.asarray(block)[..., 3].any(axis=0))
    x0, x1 = (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, 1)
    band = Image.new("RGBA", (x1 - x0 + 2 * pad, block.height + 2 * pad), (0, 0, 0, 150))
    band.alpha_composite(block.crop((x0, 0, x1, block.height)), (pad, pad))
    x = w - margin - band.width if rtl else margin
    y = int(round(0.80 * h)) - band.height // 2
    return band, max(0, x), max(0, min(y, h - band.height))


def apply_overlay(frame: np.ndarray, overlay: tuple[Image.Image, int, int], alpha: float) -> np.ndarray:
    """``frame`` (H, W, 3 uint8) with the overlay blended in at opacity ``alpha`` (a new array)."""
    if alpha <= 0:
        return frame
    img, x, y = overlay
    a = np.asarray(img, dtype=np.float32)
    h = min(a.shape[0], frame.shape[0] - y)
    w = min(a.shape[1], frame.shape[1] - x)
    if h <= 0 or w <= 0:
        return frame
    a = a[:h, :w]
    out = frame.copy()
    region = out[y:y + h, x:x + w].astype(np.float32)
    k = a[..., 3:4] / 255.0 * float(min(alpha, 1.0))
    out[y:y + h, x:x + w] = np.clip(region * (1 - k) + a[..., :3] * k + 0.5, 0, 255).astype(np.uint8)
    return out


def fade(frame: np.ndarray, brightness: float) -> np.ndarray:
    """``frame`` scaled towards black (``brightness`` in [0, 1])."""
    if brightness >= 1.0:
        return frame
    return np.clip(frame.astype(np.float32) * max(brightness, 0.0) + 0.5, 0, 255).astype(np.uint8)


def card_count(fps: float, seconds: float) -> int:
    """Frames of a card shown for ``seconds`` (at least one)."""
    return max(1, int(math.ceil(seconds * fps - 1e-9)))


def card_frames(card: np.ndarray, fps: float, seconds: float) -> Iterator[np.ndarray]:
    """The frames of a card shown for ``seconds`` (:func:`card_count` of them), faded in and out."""
    for a in card_alphas(card_count(fps, seconds), fps):
        yield fade(card, a)
