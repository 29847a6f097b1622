"""The batch's review sheet: ``OUT/index.html`` (self-contained: thumbnails inlined as data URIs, opens from disk
without a server) and ``OUT/review.png``: per output a thumbnail strip, its status, and its tour's path summary
with the framing and safety warnings (the checks of ``scenegen path validate --run``, against the run's coarse
occupancy: no extra rendering)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from scenegen.core.io import atomic_write_text, encode_png, write_png
from scenegen.video.render_path import frame_name
from scenegen.video.writer import read_png

__all__ = ["thumbnails", "write_review"]

THUMB_H = 72
STRIP = 5


def thumbnails(frames_dir: Path, n: int, count: int = STRIP, height: int = THUMB_H) -> list[np.ndarray]:
    """Up to ``count`` evenly spaced frames of a frames folder, ``height`` pixels tall."""
    out = []
    for i in sorted({int(round(k)) for k in np.linspace(0, max(n - 1, 0), count)}):
        img = read_png(frames_dir / frame_name(i))
        if img is None:
            continue
        h, w = img.shape[:2]
        tw = max(1, int(round(w * height / h)))
        out.append(np.asarray(Image.fromarray(img).resize((tw, height), Image.BILINEAR)))
    return out


def _frames_dir(out: Path, e: dict) -> Path:
    return out / "frames" / e["scene"] / e["tour"] / e["format"]


def write_review(out: Path, entries: list[dict], framing: dict[tuple[str, str], list[str]]) -> tuple[Path, Path]:
    """Write ``out/index.html`` and ``out/review.png`` for the manifest's ``entries``."""
    rows_html, rows_png = [], []
    for e in entries:
        strip = thumbnails(_frames_dir(out, e), int(e.get("frames") or 0)) if e.get("frames") else []
        imgs = "".join(f'<img src="data:image/png;base64,{base64.b64encode(encode_png(t)).decode()}">'
                       for t in strip)
        lines = framing.get((e["scene"], e["tour"]), [])
        status = e["status"] + (f": {e['error']}" if e.get("error") else "")
        name = " / ".join(str(x) for x in (e["scene"], e["tour"], e["format"], e.get("language")) if x)
        link = html.escape(e["file"])
        rows_html.append(
            f'<tr class="{html.escape(e["status"])}"><td><a href="{link}">{html.escape(name)}</a><br>'
            f'{e.get("frames") or 0} frames, {e.get("seconds") or 0:.1f} s<br><b>{html.escape(status)}</b></td>'
            f'<td class="strip">{imgs}</td><td><pre>{html.escape(chr(10).join(lines))}</pre></td></tr>')
        rows_png.append((name, status, strip, lines[:3]))
    page = ("<!doctype html><meta charset='utf-8'><title>scenegen tour review</title><style>"
            "body{font-family:sans-serif;margin:1em}td{vertical-align:top;padding:4px;border-bottom:1px solid #ccc}"
            ".failed b{color:#c00}.done b{color:#080}.strip img{margin-right:2px}pre{font-size:11px;margin:0}"
            "</style><h1>Tour review</h1><table><tr><th>output</th><th>frames</th><th>path summary and framing</th>"
            "</tr>" + "".join(rows_html) + "</table>")
    index = atomic_write_text(out / "index.html", page, "review sheet")
    png = write_png(out / "review.png", _sheet(rows_png))
    return index, png


def _sheet(rows: list[tuple[str, str, list[np.ndarray], list[str]]]) -> np.ndarray:
    """The review as one picture: a row per output (name, status, thumbnails, first summary lines)."""
    text_w, row_h = 360, THUMB_H + 16
    strip_w = max([sum(t.shape[1] + 2 for t in r[2]) for r in rows] + [200])
    width = text_w + strip_w + 8
    img = Image.new("RGB", (width, max(1, len(rows)) * row_h + 8), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    for k, (name, status, strip, lines) in enumerate(rows):
        y = 4 + k * row_h
        draw.text((6, y), name[:56], fill=(0, 0, 0))
        ok = status.startswith("done")
        draw.text((6, y + 14), status[:58], fill=(0, 128, 0) if ok else (200, 0, 0))
        for j, ln in enumerate(lines[:3]):
            draw.text((6, y + 28 + 12 * j), ln[:58], fill=(90, 90, 90))
        x = text_w
        for t in strip:
            img.paste(Image.fromarray(t), (x, y + 4))
            x += t.shape[1] + 2
    return np.asarray(img)
