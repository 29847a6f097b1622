"""Assemble a finished tour video: title card, rendered frames with room captions, end card, music, provenance.

:func:`assemble_video` pipes the frames to ffmpeg (the binary of imageio-ffmpeg) and writes one H.264 MP4
(yuv420p, faststart, like :class:`scenegen.video.writer.VideoWriter`) with:

* an optional audio file as AAC, trimmed or padded with silence to the video's length (a short fade at the end);
* metadata marking it as a synthetic render (``comment`` / ``description``: "synthetic render made by scenegen
  <version> from <inputs>", ``synthetic_render``, ``generator`` and the caller's keys), written as MP4 ``mdta``
  keys (``-movflags use_metadata_tags``) and read back by :func:`read_mp4_metadata`;
* Spherical Video V1 metadata for 360-degree videos (:func:`scenegen.video.writer.inject_spherical_metadata`).

The file appears atomically (temporary file beside it, renamed when complete) and is DETERMINISTIC: the same
inputs give byte-identical MP4s (``-fflags +bitexact``, ``-flags +bitexact`` for video and audio,
no creation time, no metadata copied from the audio file, a fixed number of x264 threads).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

import scenegen
from scenegen.core.errors import InputError, ScenegenError
from scenegen.core.io import free_bytes, is_disk_full, publish, temp_beside
from scenegen.video.fonts import split_runs
from scenegen.video.titles import (
    TourText,
    apply_overlay,
    caption_alphas,
    caption_overlay,
    card_count,
    card_frames,
    end_card,
    title_card,
)
from scenegen.video.writer import even_size, inject_spherical_metadata, make_even, probe_video, read_png

__all__ = ["assemble_video", "list_frames", "read_mp4_metadata", "synthetic_comment"]

_FRAME_RE = re.compile(r"^(\d+)\.png$")
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
AUDIO_BITRATE = "160k"
#: x264 encoder threads: a FIXED count (never the machine's core count), so that every machine writes the same
#: bytes; x264's frame threading is deterministic for a given thread count (it is not with --non-deterministic).
X264_THREADS = 4
AUDIO_RATE = 48000


def _temp(out: Path, suffix: str) -> Path:
    """A new temporary file beside ``out`` (named so that a later run removes it if this process dies)."""
    fd, name = temp_beside(out, f".partial{suffix}")
    os.close(fd)
    return Path(name)


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def list_frames(frames: Sequence[Path] | Path) -> list[Path]:
    """The PNG frames in order: the given list, or a folder's numbered frames ``00000.png``, ``00001.png``, ...
    (other files are ignored; a gap in the numbering is an InputError naming the missing frame)."""
    if isinstance(frames, (str, Path)):
        folder = Path(frames)
        if not folder.is_dir():
            raise InputError("is not a folder of PNG frames", file=folder, field="frames")
        numbered = sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := _FRAME_RE.match(p.name)))
        if not numbered:
            raise InputError("holds no numbered PNG frames (00000.png, 00001.png, ...)", file=folder, field="frames")
        for k, (i, p) in enumerate(numbered):
            if i != k:
                width = len(p.name) - 4
                raise InputError(f"frame {k:0{width}d}.png is missing", file=folder, field="frames")
        return [p for _, p in numbered]
    out = [Path(p) for p in frames]
    if not out:
        raise InputError("no frames to assemble", field="frames")
    return out


def synthetic_comment(metadata: dict[str, str] | None) -> str:
    """"synthetic render made by scenegen <version> from <inputs>" (inputs: the ``inputs`` key, or the given
    keys as ``key=value``)."""
    md = metadata or {}
    inputs = md.get("inputs") or "; ".join(f"{k}={v}" for k, v in md.items()) or "unspecified inputs"
    return f"synthetic render made by scenegen {scenegen.__version__} from {inputs}"


def _metadata_args(metadata: dict[str, str] | None) -> list[str]:
    md = dict(metadata or {})
    for k, v in md.items():
        if not isinstance(k, str) or not _KEY_RE.match(k):
            raise InputError(f"metadata key {k!r} must be letters, digits and '_' (starting with a letter)",
                             field="metadata")
        if not isinstance(v, str):
            raise InputError(f"metadata value of {k!r} must be a string, got {type(v).__name__}", field="metadata")
    comment = synthetic_comment(md)
    tags = {"comment": comment, "description": comment, "synthetic_render": "true",
            "generator": f"scenegen {scenegen.__version__}"}
    tags.update({k: v for k, v in md.items() if k not in tags})
    args: list[str] = []
    for k in sorted(tags):
        args += ["-metadata", f"{k}={tags[k]}"]
    return args


def _command(tmp: Path, size: tuple[int, int], fps: float, seconds: float, audio: Path | None,
             metadata: dict[str, str] | None) -> list[str]:
    w, h = size
    rate = Fraction(fps).limit_denominator(100000)
    cmd = [_ffmpeg(), "-y", "-nostdin", "-hide_banner", "-v", "error", "-threads", "1", "-filter_threads", "1",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-framerate", f"{rate.numerator}/{rate.denominator}",
           "-i", "pipe:0"]
    if audio is not None:
        cmd += ["-i", str(audio)]
    cmd += ["-map", "0:v:0", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18", "-preset", "medium",
            "-threads", str(X264_THREADS), "-x264-params",
            f"threads={X264_THREADS}:lookahead_threads=1:sliced_threads=0"]
    if audio is not None:
        fade = min(1.0, seconds / 4.0)
        cmd += ["-map", "1:a:0", "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(AUDIO_RATE), "-ac", "2",
                "-af", f"apad,atrim=end={seconds:.6f},afade=t=out:st={seconds - fade:.6f}:d={fade:.6f}",
                "-flags:a", "+bitexact"]
    cmd += ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
    cmd += _metadata_args(metadata)
    cmd += ["-movflags", "+faststart+use_metadata_tags", "-f", "mp4", str(tmp)]
    return cmd


def _failure(out: Path, stderr: str, exc: BaseException | None = None) -> ScenegenError:
    free = free_bytes(out.parent)
    if is_disk_full(exc, stderr) or (free is not None and free < (1 << 20)):
        return ScenegenError(f"{out}: disk full while writing the video (No space left on device); free some space "
                             "and run again (the frames are kept)")
    first = next((ln.strip() for ln in stderr.splitlines() if ln.strip()), type(exc).__name__ if exc else "")
    return ScenegenError(f"{out}: ffmpeg could not assemble the video ({first[:160]})")


def assemble_video(frames: Sequence[Path] | Path, out: Path, *, fps: float, text: TourText | None = None,
                   captions: list[str | None] | None = None, audio: Path | None = None,
                   metadata: dict[str, str] | None = None, spherical: bool = False,
                   progress: bool = False) -> dict:
    """Write ``out`` (MP4, atomically): [title card] + frames with captions + [end card], audio, metadata.

    Args:
        frames: PNG files in order, or a folder of them (``*.png`` sorted by name); all the same size.
        fps: frame rate of the video (the cards last ``text.card_seconds`` each).
        text: the language's texts: title and end cards when it has a title, address, agency or logo; its
            language draws the captions.
        captions: one caption (or None) per frame, e.g. :func:`scenegen.video.titles.frame_captions`; faded in
            and out at room changes.
        audio: an audio file (any format ffmpeg reads), muxed as AAC, trimmed or padded with silence.
        metadata: extra MP4 metadata keys (``[A-Za-z][A-Za-z0-9_]*``) -> strings; ``inputs`` names what the
            video was made from.
        spherical: inject 360-degree (equirectangular) metadata.
        progress: show a progress bar.
    Returns:
        {"frames": frames in the video (cards included), "seconds": its duration, "tour_frames": frames given,
        "card_frames": frames of both cards, "size": [W, H] encoded}.
    """
    out = Path(out)
    if not (isinstance(fps, (int, float)) and np.isfinite(fps) and 0.001 <= fps <= 1000):
        raise InputError(f"must be in [0.001, 1000], got {fps!r}", field="fps")
    paths = list_frames(frames)
    if captions is not None and len(captions) != len(paths):
        raise InputError(f"has {len(captions)} entries for {len(paths)} frames", field="captions")
    if audio is not None:
        _check_audio(Path(audio))
    first = read_png(paths[0])
    if first is None:
        raise InputError("is not a readable PNG frame", file=paths[0], field="frames")
    h0, w0 = first.shape[:2]
    size = even_size(w0, h0)
    cards = text is not None and text.has_cards
    n_card = card_count(fps, text.card_seconds) if cards else 0
    total = len(paths) + 2 * n_card
    seconds = total / float(fps)
    language = text.language if text is not None else "en"
    for cap in sorted({c for c in captions or [] if c}):
        split_runs(cap, language, bold=True)  # a missing font stops here, before anything is encoded

    def stream() -> Iterator[np.ndarray]:
        if cards:
            yield from card_frames(title_card(text, size), fps, text.card_seconds)
        alphas = caption_alphas(captions, fps) if captions is not None else None
        overlays: dict[str, tuple] = {}
        for k, p in enumerate(paths):
            img = first if k == 0 else read_png(p, (w0, h0))
            if img is None:
                raise InputError(f"is missing, unreadable or not {w0}x{h0} like the first frame", file=p,
                                 field="frames")
            img = make_even(img)
            cap = captions[k] if captions is not None else None
            if cap:
                if cap not in overlays:
                    overlays[cap] = caption_overlay(cap, size, language)
                img = apply_overlay(img, overlays[cap], float(alphas[k]))
            yield img
        if cards:
            yield from card_frames(end_card(text, size), fps, text.card_seconds)

    tmp = _temp(out, ".mp4")
    proc = None
    err_file = None
    try:
        err_file = open(_temp(out, ".log"), "w+b")
        proc = subprocess.Popen(_command(tmp, size, fps, seconds, Path(audio) if audio else None, metadata),
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err_file)
        bar = _progress(progress, total, out.name)
        try:
            for frame in stream():
                try:
                    proc.stdin.write(np.ascontiguousarray(frame).tobytes())
                except BrokenPipeError as e:
                    raise _failure(out, _read_err(err_file), e) from None
                bar.advance()
        finally:
            bar.stop()
        proc.stdin.close()
        if proc.wait() != 0:
            raise _failure(out, _read_err(err_file))
        meta = probe_video(tmp, count_frames=False)
        dur = meta.get("duration")
        if meta.get("codec") is None or (isinstance(dur, (int, float)) and dur + 1.5 / fps < seconds):
            raise _failure(out, f"it wrote {dur} s of {seconds:.2f} s")
        if spherical:
            inject_spherical_metadata(tmp)
        publish(tmp, out)
    except BaseException:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if err_file is not None:
            err_file.close()
            Path(err_file.name).unlink(missing_ok=True)
    return {"frames": total, "seconds": seconds, "tour_frames": len(paths), "card_frames": 2 * n_card,
            "size": [size[0], size[1]]}


def _check_audio(audio: Path) -> None:
    """InputError naming the file unless it exists and ffmpeg decodes an audio stream from it."""
    if not audio.is_file():
        raise InputError("audio file not found", file=audio, field="audio")
    res = subprocess.run([_ffmpeg(), "-nostdin", "-v", "error", "-i", str(audio), "-map", "0:a:0", "-t", "0.2",
                          "-f", "null", "-"], capture_output=True, check=False)
    if res.returncode != 0:
        first = next((ln.strip() for ln in res.stderr.decode("utf-8", "replace").splitlines() if ln.strip()), "")
        raise InputError(f"is not an audio file ffmpeg can read ({first[:100]})", file=audio, field="audio")


def _read_err(f) -> str:
    f.flush()
    f.seek(0)
    return f.read().decode("utf-8", "replace")


class _Bar:
    def __init__(self, progress, task):
        self.progress, self.task = progress, task

    def advance(self) -> None:
        if self.progress is not None:
            self.progress.advance(self.task)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _progress(show: bool, total: int, name: str) -> _Bar:
    if not show:
        return _Bar(None, None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    p = Progress(TextColumn("assembling {task.description}"), BarColumn(), MofNCompleteColumn(),
                 TimeRemainingColumn(), transient=True)
    task = p.add_task(name, total=total)
    p.start()
    return _Bar(p, task)


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s, flags=re.S)


def read_mp4_metadata(path: Path) -> dict[str, str]:
    """The container metadata of a video (what ffmpeg reads: ``mdta`` keys and iTunes tags) as strings."""
    path = Path(path)
    if not path.is_file():
        raise InputError("video not found", file=path)
    res = subprocess.run([_ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
                         capture_output=True, check=False)
    if res.returncode != 0:
        first = next((ln for ln in res.stderr.decode("utf-8", "replace").splitlines() if ln.strip()), "")
        raise InputError(f"cannot read the video's metadata ({first[:120]})", file=path)
    text = res.stdout.decode("utf-8", "replace")
    # ffmetadata: "key=value" lines; '=', ';', '#', '\' and newlines escaped with '\'; sections start with '['
    out: dict[str, str] = {}
    lines = re.split(r"(?<!\\)\n", text)
    for line in lines[1:]:
        if line.startswith("["):
            break
        if not line or line.startswith((";", "#")):
            continue
        m = re.match(r"((?:[^=\\]|\\.)*)=(.*)", line, flags=re.S)
        if m:
            out[_unescape(m.group(1))] = _unescape(m.group(2))
    return out


def audio_seconds(path: Path) -> float | None:
    """Seconds of a video's first audio stream, decoded (None when it has none)."""
    res = subprocess.run([_ffmpeg(), "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le",
                          "-ac", "1", "-ar", str(AUDIO_RATE), "-"], capture_output=True, check=False)
    if res.returncode != 0 or not res.stdout:
        return None
    return len(res.stdout) / 2 / AUDIO_RATE

