"""Video and image-sequence output.

* :class:`VideoWriter`: browser-playable H.264 MP4 (libx264, yuv420p, ``-movflags +faststart``) through
  ``imageio_ffmpeg.write_frames``. The video is encoded into a temporary file in the destination folder and
  renamed over the destination only once complete (``os.replace``): an interrupted render never leaves a
  truncated video and never destroys an existing one.
* :func:`inject_spherical_metadata` / :func:`read_spherical_metadata`: Google Spherical Video V1 metadata
  (the ``uuid`` box 360-degree players read) for equirectangular MP4s; ``VideoWriter(..., spherical=True)``
  injects it after encoding.
* :func:`write_png` / :func:`read_png`: atomic PNG frames (temp file + rename).
* :func:`turbo` / :func:`colorize_depth` / :func:`robust_depth_range`: depth visualisation.

yuv420p needs even frame sizes; odd widths/heights are padded by one pixel (edge pixels repeated,
``odd_size="pad"``, the default) or cropped by one pixel (``odd_size="crop"``).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from scenegen.core.errors import ScenegenError
from scenegen.core.io import free_bytes, is_disk_full, publish, temp_beside
from scenegen.core.io import to_uint8, write_png  # noqa: F401 (part of this module's API)

__all__ = [
    "VideoWriter",
    "colorize_depth",
    "even_size",
    "inject_spherical_metadata",
    "make_even",
    "probe_video",
    "read_png",
    "read_spherical_metadata",
    "robust_depth_range",
    "to_uint8",
    "turbo",
    "write_png",
    "write_video",
]

OddSize = Literal["pad", "crop"]


# ----------------------------------------------------------------------------------------------------------
# Frames
# ----------------------------------------------------------------------------------------------------------


def even_size(width: int, height: int, odd_size: OddSize = "pad") -> tuple[int, int]:
    """The (width, height) a frame of that size is encoded at (even, as yuv420p needs)."""
    if odd_size == "pad":
        return width + width % 2, height + height % 2
    if odd_size == "crop":
        if width < 2 or height < 2:
            raise ValueError(f"cannot crop a {width}x{height} frame to an even size")
        return width - width % 2, height - height % 2
    raise ValueError(f"odd_size must be 'pad' or 'crop', got {odd_size!r}")


def make_even(frame: np.ndarray, odd_size: OddSize = "pad") -> np.ndarray:
    """(H, W, C) -> (H', W', C) with even H', W': pad by repeating the last row/column, or crop it."""
    h, w = frame.shape[:2]
    w2, h2 = even_size(w, h, odd_size)
    if (w2, h2) == (w, h):
        return frame
    if odd_size == "crop":
        return np.ascontiguousarray(frame[:h2, :w2])
    return np.pad(frame, ((0, h2 - h), (0, w2 - w), (0, 0)), mode="edge")


def _tmp_sibling(path: Path, suffix: str) -> Path:
    """A fresh, unique temporary file name in ``path``'s folder (the file is created, empty; the name holds this
    process's id so that :func:`scenegen.core.io.clean_stale_temps` can remove it after a kill)."""
    fd, tmp = temp_beside(path, f".partial{suffix}")
    os.close(fd)
    return Path(tmp)


def read_png(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray | None:
    """(H, W, 3) uint8 of a PNG, or None when it is missing, does not decode, or is not ``size`` (W, H)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            if size is not None and im.size != tuple(size):
                return None
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError, SyntaxError):  # missing, truncated, not an image
        return None


# ----------------------------------------------------------------------------------------------------------
# MP4
# ----------------------------------------------------------------------------------------------------------


class _Abort(BaseException):
    """Thrown into imageio-ffmpeg's writer generator so that it kills ffmpeg instead of finishing."""


class VideoWriter:
    """Atomic H.264 MP4 writer.

    Usage::

        with VideoWriter("tour.mp4", fps=24) as vw:
            for frame in frames:       # (H, W, 3) uint8 or float in [0, 1]
                vw.write(frame)
        # tour.mp4 now exists, complete; on an exception inside the block it is untouched.

    Args:
        path: destination ``.mp4``; its folder is created.
        fps: frame rate (any positive float; passed to ffmpeg as an exact fraction).
        crf: x264 constant rate factor (0 lossless .. 51 worst; 18 is visually near-lossless).
        preset: x264 preset.
        odd_size: "pad" or "crop" odd frame sizes to even ones.
        ffmpeg_log_level: ffmpeg's ``-v`` level; by default "quiet" (a failure becomes one line naming the
            video; ``SCENEGEN_DEBUG=1`` shows ffmpeg's own messages, level "error").
        spherical: the frames are equirectangular 360-degree panoramas: after a successful encode, inject the
            spherical-video metadata (:func:`inject_spherical_metadata`) before the video is moved into place.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        crf: int = 18,
        preset: str = "medium",
        odd_size: OddSize = "pad",
        ffmpeg_log_level: str | None = None,
        spherical: bool = False,
    ):
        if not fps > 0 or not np.isfinite(fps):
            raise ValueError(f"fps must be positive, got {fps}")
        even_size(2, 2, odd_size)  # validates odd_size
        self.path = Path(path)
        self.fps = float(fps)
        self.crf = int(crf)
        self.preset = preset
        self.odd_size: OddSize = odd_size
        self.ffmpeg_log_level = ffmpeg_log_level or ("error" if os.environ.get("SCENEGEN_DEBUG") else "quiet")
        self.spherical = bool(spherical)
        self.frames_written = 0
        self.size: tuple[int, int] | None = None  # (W, H) of the input frames
        self._tmp: Path | None = None
        self._gen: Any = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------------------

    def _open(self, width: int, height: int) -> None:
        import imageio_ffmpeg

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = _tmp_sibling(self.path, ".mp4")
        w2, h2 = even_size(width, height, self.odd_size)
        self._gen = imageio_ffmpeg.write_frames(
            str(self._tmp),
            (w2, h2),
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            fps=Fraction(self.fps).limit_denominator(100000),
            codec="libx264",
            quality=None,
            macro_block_size=1,  # we make sizes even ourselves; never let imageio rescale
            ffmpeg_log_level=self.ffmpeg_log_level,
            output_params=["-crf", str(self.crf), "-preset", self.preset, "-movflags", "+faststart", "-f", "mp4"],
        )
        self._gen.send(None)
        self.size = (width, height)

    def write(self, frame: Any) -> None:
        """Append one frame: (H, W, 3) uint8, or float in [0, 1]; all frames must have the same size."""
        if self._closed:
            raise RuntimeError("VideoWriter is closed")
        img = to_uint8(frame)
        h, w = img.shape[:2]
        try:
            if self._gen is None:
                self._open(w, h)
            elif (w, h) != self.size:
                raise ValueError(
                    f"frame {self.frames_written} is {w}x{h}, earlier frames are {self.size[0]}x{self.size[1]}"
                )
            self._gen.send(np.ascontiguousarray(make_even(img, self.odd_size)).tobytes())
        except Exception as e:
            self.abort()
            if isinstance(e, (ValueError, ScenegenError)):
                raise
            raise self._failure(e) from e
        except BaseException:
            self.abort()
            raise
        self.frames_written += 1

    def close(self) -> Path:
        """Finish encoding and move the video into place. Returns the destination path."""
        if self._closed:
            return self.path
        if self._gen is None:
            self._closed = True
            raise ValueError(f"no frames were written to {self.path}")
        try:
            self._gen.close()  # closes ffmpeg's stdin and waits for it to finish
            self._gen = None
            # ffmpeg's exit status is not reported: a video that does not probe, or is shorter than the frames
            # sent (a full disk cuts it), is a failure
            try:
                meta = probe_video(self._tmp, count_frames=False)
            except Exception as e:
                raise RuntimeError("ffmpeg produced an unreadable video") from e
            if meta.get("codec") is None:
                raise RuntimeError("ffmpeg produced an unreadable video")
            duration = meta.get("duration")
            if isinstance(duration, (int, float)) and duration + 1.5 / self.fps < self.frames_written / self.fps:
                raise RuntimeError(f"ffmpeg wrote {duration:.2f} s of {self.frames_written / self.fps:.2f} s")
            if self.spherical:
                inject_spherical_metadata(self._tmp)  # rewrites the temporary file (atomically) in place
                if probe_video(self._tmp, count_frames=False).get("codec") is None:
                    raise RuntimeError("injecting spherical metadata broke the video")
            publish(self._tmp, self.path)
        except Exception as e:
            self.abort()
            if isinstance(e, ScenegenError):
                raise
            raise self._failure(e) from e
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def _failure(self, e: BaseException) -> ScenegenError:
        """One line for a failed encode: a full disk, or ffmpeg's failure (its log with SCENEGEN_DEBUG=1)."""
        free = free_bytes(self.path.parent)
        if is_disk_full(e) or (free is not None and free < (1 << 20)):
            return ScenegenError(f"{self.path}: disk full while writing the video (No space left on device); "
                                 "free some space and run again (finished frames are kept)")
        first = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)[:160]
        return ScenegenError(f"{self.path}: ffmpeg could not write the video ({first}); set SCENEGEN_DEBUG=1 to "
                             "see ffmpeg's messages")

    def abort(self) -> None:
        """Stop ffmpeg and delete the temporary file; the destination is left as it was."""
        gen, self._gen = self._gen, None
        if gen is not None:
            try:
                gen.throw(_Abort())
            except (_Abort, StopIteration):
                pass
            except Exception:  # ffmpeg already gone
                pass
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._closed = True

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:  # pragma: no cover - safety net for writers never closed
        if getattr(self, "_gen", None) is not None or (
            getattr(self, "_tmp", None) is not None and not getattr(self, "_closed", True)
        ):
            try:
                self.abort()
            except Exception:
                pass


def write_video(path: str | Path, frames: Iterable[Any], fps: float, **kwargs: Any) -> Path:
    """Encode an iterable of frames into an MP4 atomically (see :class:`VideoWriter` for ``kwargs``)."""
    with VideoWriter(path, fps, **kwargs) as vw:
        for frame in frames:
            vw.write(frame)
    return Path(path)


def probe_video(path: str | Path, count_frames: bool = True) -> dict:
    """What ffmpeg reports about a video (there is no ffprobe): imageio-ffmpeg's meta dict plus ``nframes``.

    Returns:
        dict with at least ``codec`` (e.g. "h264"), ``pix_fmt`` (e.g. "yuv420p(progressive)"), ``size``
        (W, H), ``fps``, ``duration``; ``nframes`` (decoded frame count) when ``count_frames``.
    """
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = dict(next(gen))
        if count_frames:
            meta["nframes"] = sum(1 for _ in gen)
    finally:
        gen.close()
    return meta


# ----------------------------------------------------------------------------------------------------------
# 360-degree (spherical) video metadata
# ----------------------------------------------------------------------------------------------------------
#
# Hand-written on purpose: no maintained PyPI library injects this metadata. Google's reference tool
# (github.com/google/spatial-media, spatialmedia/metadata_utils.py) is a script/GUI, not a maintained PyPI
# package, and ffmpeg cannot be told to write the V1 `uuid` box that YouTube, VLC and Facebook read (its mp4
# muxer only writes the newer `sv3d` box, and only for streams that already carry spherical side data).
# The layout below follows the Spherical Video V1 RFC and that tool: one `uuid` box (the 16-byte UUID, then the
# XML) appended at the end of every video `trak`; `trak` and `moov` grow by its size, and when `moov` precedes
# the media data (faststart) every `stco`/`co64` chunk offset that points past `moov` is shifted by the same
# amount.

SPHERICAL_UUID = bytes.fromhex("ffcc8263f8554a938814587a02521fdd")
"""The 16-byte UUID of the Spherical Video V1 ``uuid`` box (ffcc8263-f855-4a93-8814-587a02521fdd)."""

_GSPHERICAL_NS = "http://ns.google.com/videos/1.0/spherical/"


def spherical_xml(stitching_software: str = "scenegen", projection: str = "equirectangular") -> str:
    """The Spherical Video V1 XML payload (as spatial-media writes it, without stereo or crop tags)."""
    return (
        '<?xml version="1.0"?>'
        "<rdf:SphericalVideo\n"
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
        f'xmlns:GSpherical="{_GSPHERICAL_NS}">'
        "<GSpherical:Spherical>true</GSpherical:Spherical>"
        "<GSpherical:Stitched>true</GSpherical:Stitched>"
        f"<GSpherical:StitchingSoftware>{stitching_software}</GSpherical:StitchingSoftware>"
        f"<GSpherical:ProjectionType>{projection}</GSpherical:ProjectionType>"
        "</rdf:SphericalVideo>"
    )


# One parsed box: (type, start, end, header_size), offsets absolute in the buffer/file it was read from.
_Box = tuple[bytes, int, int, int]


def _iter_boxes(buf: bytes | bytearray, start: int, end: int, where: str) -> list[_Box]:
    """The boxes of ``buf[start:end]`` (one level), validating their sizes."""
    boxes: list[_Box] = []
    pos = start
    while pos < end:
        if end - pos < 8:
            raise ValueError(f"truncated box header at byte {pos} in {where}")
        size, kind = struct.unpack_from(">I4s", buf, pos)
        hdr = 8
        if size == 1:
            if end - pos < 16:
                raise ValueError(f"truncated box header at byte {pos} in {where}")
            size = struct.unpack_from(">Q", buf, pos + 8)[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            raise ValueError(f"box {kind!r} at byte {pos} has an invalid size {size} in {where}")
        boxes.append((kind, pos, pos + size, hdr))
        pos += size
    return boxes


def _top_level_boxes(f, file_size: int, where: str) -> list[_Box]:
    """Top-level boxes of an open MP4 file, reading only their headers (``mdat`` may be huge)."""
    boxes: list[_Box] = []
    pos = 0
    while pos < file_size:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            raise ValueError(f"{where}: truncated box header at byte {pos}")
        size, kind = struct.unpack_from(">I4s", head, 0)
        hdr = 8
        if size == 1:
            if len(head) < 16:
                raise ValueError(f"{where}: truncated box header at byte {pos}")
            size, hdr = struct.unpack_from(">Q", head, 8)[0], 16
        elif size == 0:
            size = file_size - pos
        if size < hdr or pos + size > file_size:
            raise ValueError(f"{where}: box {kind!r} at byte {pos} has an invalid size {size}")
        boxes.append((kind, pos, pos + size, hdr))
        pos += size
    return boxes


def _box_header(kind: bytes, payload_size: int, large: bool = False) -> bytes:
    if large or payload_size + 8 > 0xFFFFFFFF:
        return struct.pack(">I4sQ", 1, kind, payload_size + 16)
    return struct.pack(">I4s", payload_size + 8, kind)


def _child(buf: bytes | bytearray, box: _Box, kind: bytes, where: str) -> _Box | None:
    for b in _iter_boxes(buf, box[1] + box[3], box[2], where):
        if b[0] == kind:
            return b
    return None


def _is_video_trak(buf: bytes | bytearray, trak: _Box, where: str) -> bool:
    """True when the track's ``mdia/hdlr`` handler type is ``vide``."""
    mdia = _child(buf, trak, b"mdia", where)
    hdlr = _child(buf, mdia, b"hdlr", where) if mdia is not None else None
    if hdlr is None:
        return False
    at = hdlr[1] + hdlr[3] + 8  # version/flags (4), pre_defined (4), then handler_type (4)
    return bytes(buf[at : at + 4]) == b"vide"


def _is_spherical_uuid(buf: bytes | bytearray, box: _Box) -> bool:
    return box[0] == b"uuid" and bytes(buf[box[1] + box[3] : box[1] + box[3] + 16]) == SPHERICAL_UUID


def _chunk_offset_tables(buf: bytes | bytearray, moov: _Box, where: str) -> list[_Box]:
    """Every ``stco`` / ``co64`` box under ``moov/trak/mdia/minf/stbl``."""
    found: list[_Box] = []
    for trak in _iter_boxes(buf, moov[1] + moov[3], moov[2], where):
        if trak[0] != b"trak":
            continue
        for mdia in _iter_boxes(buf, trak[1] + trak[3], trak[2], where):
            if mdia[0] != b"mdia":
                continue
            for minf in _iter_boxes(buf, mdia[1] + mdia[3], mdia[2], where):
                if minf[0] != b"minf":
                    continue
                for stbl in _iter_boxes(buf, minf[1] + minf[3], minf[2], where):
                    if stbl[0] != b"stbl":
                        continue
                    found += [b for b in _iter_boxes(buf, stbl[1] + stbl[3], stbl[2], where)
                              if b[0] in (b"stco", b"co64")]
    return found


def _shift_chunk_offsets(buf: bytearray, moov: _Box, threshold: int, delta: int, where: str) -> None:
    """Add ``delta`` to every chunk offset >= ``threshold`` in ``buf``'s ``stco``/``co64`` tables (in place)."""
    for kind, start, end, hdr in _chunk_offset_tables(buf, moov, where):
        p = start + hdr + 4  # version/flags
        (count,) = struct.unpack_from(">I", buf, p)
        dtype = np.dtype(">u4") if kind == b"stco" else np.dtype(">u8")
        width = dtype.itemsize
        if p + 4 + count * width > end:
            raise ValueError(f"{where}: {kind.decode()} table overruns its box")
        offsets = np.frombuffer(bytes(buf[p + 4 : p + 4 + count * width]), dtype=dtype).astype(np.int64)
        offsets = np.where(offsets >= threshold, offsets + delta, offsets)
        if kind == b"stco" and count and offsets.max() > 0xFFFFFFFF:
            raise ValueError(f"{where}: chunk offsets would exceed 32 bits after inserting the metadata")
        buf[p + 4 : p + 4 + count * width] = offsets.astype(dtype).tobytes()


def _rebuild_moov(buf: bytes, moov: _Box, uuid_box: bytes | None, where: str) -> bytes:
    """``moov`` with every video ``trak``'s spherical ``uuid`` box replaced by ``uuid_box`` (removed if None)."""
    parts: list[bytes] = []
    n_video = 0
    for child in _iter_boxes(buf, moov[1] + moov[3], moov[2], where):
        raw = buf[child[1] : child[2]]
        if child[0] == b"trak" and _is_video_trak(buf, child, where):
            n_video += 1
            kids = [buf[k[1] : k[2]] for k in _iter_boxes(buf, child[1] + child[3], child[2], where)
                    if not _is_spherical_uuid(buf, k)]
            if uuid_box is not None:
                kids.append(uuid_box)
            payload = b"".join(kids)
            raw = _box_header(b"trak", len(payload), large=child[3] == 16) + payload
        parts.append(raw)
    if n_video == 0:
        raise ValueError(f"{where}: no video track")
    payload = b"".join(parts)
    return _box_header(b"moov", len(payload), large=moov[3] == 16) + payload


def _copy_range(src, dst, start: int, length: int, bufsize: int = 1 << 20) -> None:
    src.seek(start)
    while length > 0:
        chunk = src.read(min(bufsize, length))
        if not chunk:
            raise ValueError("unexpected end of file while copying")
        dst.write(chunk)
        length -= len(chunk)


def inject_spherical_metadata(
    mp4_path: str | Path,
    *,
    stitching_software: str = "scenegen",
    projection: str = "equirectangular",
) -> Path:
    """Mark an MP4 as a 360-degree equirectangular video (Google Spherical Video V1 metadata), atomically.

    Appends a ``uuid`` box (:data:`SPHERICAL_UUID` + :func:`spherical_xml`) at the end of every video ``trak``
    (replacing an existing spherical ``uuid`` box, so calling it twice changes nothing), updates the ``trak``
    and ``moov`` sizes and, when the media data follows ``moov`` (``-movflags +faststart``), shifts the
    ``stco``/``co64`` chunk offsets by the number of bytes inserted. The result is written to a temporary file
    in the same folder and renamed over ``mp4_path``; on any error the original file is untouched.

    Returns:
        ``mp4_path`` as a Path.
    Raises:
        ValueError: not a (non-fragmented) MP4 with exactly one ``moov`` box and a video track.
    """
    path = Path(mp4_path)
    where = str(path)
    uuid_payload = SPHERICAL_UUID + spherical_xml(stitching_software, projection).encode("utf-8")
    uuid_box = _box_header(b"uuid", len(uuid_payload)) + uuid_payload
    with open(path, "rb") as src:
        file_size = os.fstat(src.fileno()).st_size
        top = _top_level_boxes(src, file_size, where)
        moovs = [b for b in top if b[0] == b"moov"]
        if len(moovs) != 1:
            raise ValueError(f"{where}: expected one 'moov' box, found {len(moovs)} (not an MP4?)")
        if any(b[0] == b"moof" for b in top):
            raise ValueError(f"{where}: fragmented MP4s are not supported")
        old = moovs[0]
        src.seek(old[1])
        old_bytes = src.read(old[2] - old[1])
        old_local: _Box = (old[0], 0, len(old_bytes), old[3])
        new_bytes = bytearray(_rebuild_moov(old_bytes, old_local, uuid_box, where))
        delta = len(new_bytes) - len(old_bytes)
        if delta:
            new_local: _Box = (b"moov", 0, len(new_bytes), old[3])
            # Media data stored after the old moov moves by delta; data before it stays where it is.
            _shift_chunk_offsets(new_bytes, new_local, old[2], delta, where)
        tmp = _tmp_sibling(path, path.suffix or ".mp4")
        try:
            shutil.copymode(path, tmp)
            with open(tmp, "wb") as dst:
                for kind, start, end, _hdr in top:
                    if kind == b"moov":
                        dst.write(new_bytes)
                    else:
                        _copy_range(src, dst, start, end - start)
            publish(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return path


def _parse_spherical_xml(text: str) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
        out = {}
        for child in root:
            tag = child.tag.split("}", 1)[1] if "}" in child.tag else child.tag
            out[tag] = (child.text or "").strip()
        return out
    except ET.ParseError:  # e.g. a missing namespace declaration, as some tools wrote: read the tags anyway
        return {m.group(1): m.group(2).strip()
                for m in re.finditer(r"<GSpherical:(\w+)>(.*?)</GSpherical:\1>", text, re.S)}


def read_spherical_metadata(mp4_path: str | Path) -> dict[str, str] | None:
    """The Spherical Video V1 metadata of an MP4's first video track that has it, or None when none has it.

    Returns:
        The XML tags without namespace, as strings, e.g. ``{"Spherical": "true", "Stitched": "true",
        "StitchingSoftware": "scenegen", "ProjectionType": "equirectangular"}``.
    Raises:
        ValueError: the file is not an MP4 with a ``moov`` box.
    """
    path = Path(mp4_path)
    where = str(path)
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        moov = next((b for b in _top_level_boxes(f, file_size, where) if b[0] == b"moov"), None)
        if moov is None:
            raise ValueError(f"{where}: no 'moov' box (not an MP4?)")
        f.seek(moov[1])
        buf = f.read(moov[2] - moov[1])
    local: _Box = (b"moov", 0, len(buf), moov[3])
    for trak in _iter_boxes(buf, local[3], local[2], where):
        if trak[0] != b"trak" or not _is_video_trak(buf, trak, where):
            continue
        for box in _iter_boxes(buf, trak[1] + trak[3], trak[2], where):
            if _is_spherical_uuid(buf, box):
                return _parse_spherical_xml(buf[box[1] + box[3] + 16 : box[2]].decode("utf-8", "replace"))
    return None


# ----------------------------------------------------------------------------------------------------------
# Depth colouring
# ----------------------------------------------------------------------------------------------------------

# Polynomial approximation of Google's Turbo colormap (Anton Mikhailov; polynomial fit by Ruofei Du,
# Apache-2.0). Columns: coefficients of 1, x, x^2, x^3, x^4, x^5; rows: R, G, B.
_TURBO = np.array(
    [
        [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
        [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
        [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
    ],
    dtype=np.float64,
)


def turbo(x: np.ndarray) -> np.ndarray:
    """Turbo colormap: (...) values in [0, 1] (clipped) -> (..., 3) float32 RGB in [0, 1]."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    powers = np.stack([np.ones_like(x), x, x**2, x**3, x**4, x**5], axis=-1)
    return np.clip(powers @ _TURBO.T, 0.0, 1.0).astype(np.float32)


def robust_depth_range(
    depth: np.ndarray, accumulation: np.ndarray | None = None, percentiles: tuple[float, float] = (1.0, 99.0)
) -> tuple[float, float]:
    """(near, far): percentiles of the finite depths of pixels with accumulation > 0.5 (all if None).

    Returns (0, 1) when there is no valid pixel, and a non-empty range when all depths are equal.
    """
    d = np.asarray(depth, dtype=np.float64).reshape(-1)
    ok = np.isfinite(d)
    if accumulation is not None:
        ok &= np.asarray(accumulation, dtype=np.float64).reshape(-1) > 0.5
    d = d[ok]
    if d.size == 0:
        return 0.0, 1.0
    near, far = np.percentile(d, percentiles)
    if not far > near:
        far = near + max(abs(near) * 1e-3, 1e-6)
    return float(near), float(far)


def colorize_depth(
    depth: Any,
    accumulation: Any = None,
    near: float | None = None,
    far: float | None = None,
    percentiles: tuple[float, float] = (1.0, 99.0),
) -> np.ndarray:
    """Depth map -> (H, W, 3) uint8 turbo image; near is blue, far is red (nerfstudio's orientation).

    Args:
        depth: (H, W) or (H, W, 1) depth in world units (array or tensor).
        accumulation: optional (H, W) opacity in [0, 1]; the colour is blended over black with it, so empty
            space is black.
        near, far: the depth range mapped to [0, 1]; when None, the robust range of this frame
            (:func:`robust_depth_range` with ``percentiles``).
    """

    def arr(v: Any) -> np.ndarray:
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().float().numpy()
        a = np.asarray(v, dtype=np.float32)
        return a[..., 0] if a.ndim == 3 else a

    d = arr(depth)
    acc = arr(accumulation) if accumulation is not None else None
    if near is None or far is None:
        n0, f0 = robust_depth_range(d, acc, percentiles)
        near = n0 if near is None else near
        far = f0 if far is None else far
    t = (np.nan_to_num(d, nan=far, posinf=far, neginf=near) - near) / max(far - near, 1e-12)
    rgb = turbo(t)
    if acc is not None:
        rgb = rgb * np.clip(acc, 0.0, 1.0)[..., None]
    return to_uint8(rgb)
