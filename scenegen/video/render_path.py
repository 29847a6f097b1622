"""Render a camera path to an MP4, PNG frames and/or a depth video, resumably.

Per frame ``i`` the loop either reuses ``frames_dir/00000.png``-style frames from an earlier, interrupted run
of the SAME path (checked through a fingerprint of the cameras stored in ``frames_dir/frames.json``) or calls
``render_fn(cameras, i)``. Frames are fed to the MP4 encoder in order as they become available; the MP4 is
written to a temporary file and renamed into place at the end (see :class:`~scenegen.video.writer.VideoWriter`),
so a render that fails or is interrupted keeps the frames done so far and leaves any earlier video intact.

Without ``frames_dir`` the frames go to a hidden folder beside the video, ``.NAME.mp4.frames/`` (the same
format), so that a render killed at any moment, even during the final encode, resumes where it stopped; that
folder is removed once the video is complete. Frame folders carry an ownership record
(:class:`scenegen.core.ownership.OwnedDir`): only frames and depth files scenegen wrote there are ever replaced
or removed, and a non-empty folder that scenegen did not write is refused.

Before the first frame, :func:`preflight` checks the frame size against the H.264 encoder's limits, the frame
rate, the memory one frame needs and the free disk space for the frames and videos, and stops with one line.

Depth video: depth maps are cached per frame (``frames_dir/depth/00000.npz``, float16 depth + uint8
accumulation, about 3 bytes per pixel) and encoded after the last frame, normalised by default by robust percentiles (1st..99th) of
the depths of the WHOLE path (pixels with accumulation > 0.5, subsampled), so colours do not flicker from
frame to frame. ``depth_normalization="frame"`` uses each frame's own percentiles instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from scenegen.core.errors import InputError
from scenegen.core.io import (
    atomic_write_text,
    available_memory,
    check_free_space,
    clean_stale_temps,
    human_bytes,
    publish,
    temp_beside,
)
from scenegen.core.ownership import OwnedDir
from scenegen.cameras.cameras import Cameras
from scenegen.paths import CameraPath
from scenegen.video.writer import (
    OddSize,
    VideoWriter,
    colorize_depth,
    read_png,
    robust_depth_range,
    to_uint8,
    write_png,
)

__all__ = ["RenderFn", "camera_fingerprint", "default_frames_dir", "existing_frames", "frame_name", "parse_frames_range",
           "preflight", "prepare_frames_dir", "render_camera_path"]

#: ``render_fn(cameras, index) -> {"rgb": (H, W, 3) float in [0, 1], "depth": (H, W), "accumulation": (H, W)}``
RenderFn = Callable[[Cameras, int], dict]

MANIFEST = "frames.json"
_FRAME_RE = re.compile(r"^(\d{5,})\.png$")
_DEPTH_SAMPLES_TOTAL = 2_000_000  # depth samples kept over the whole path for the percentiles


def frame_name(index: int) -> str:
    """File name of frame ``index``: ``00000.png``."""
    return f"{index:05d}.png"


def camera_fingerprint(cameras: Cameras, extra: str = "") -> str:
    """sha256 of everything that determines the rendered pixels of a path (poses, intrinsics, sizes, models).

    Args:
        extra: anything else that changes the pixels (e.g. a model checkpoint id), mixed into the hash.
    """
    h = hashlib.sha256()
    for t in (cameras.c2w, cameras.fx, cameras.fy, cameras.cx, cameras.cy, cameras.distortion):
        h.update(t.detach().cpu().float().contiguous().numpy().tobytes())
    for t in (cameras.width, cameras.height):
        h.update(t.detach().cpu().long().contiguous().numpy().tobytes())
    h.update(json.dumps(list(cameras.model)).encode())
    h.update(extra.encode())
    return h.hexdigest()


class _FpsColumn(ProgressColumn):
    """Frames per second over the frames rendered in this run (reused frames excluded)."""

    def __init__(self, stats: dict):
        super().__init__()
        self.stats = stats

    def render(self, task) -> Text:
        n, t = self.stats["rendered"], self.stats["render_s"]
        if n == 0 or t <= 0:
            return Text("-- frames/s", style="progress.data.speed")
        fps = n / t
        text = f"{fps:.2f} frames/s" if fps >= 1 else f"{t / n:.1f} s/frame"
        return Text(text, style="progress.data.speed")


class _NullProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def add_task(self, *a, **k) -> int:
        return 0

    def update(self, *a, **k) -> None:
        return None


def _check_output(out: Any, key: str, h: int, w: int, index: int) -> np.ndarray:
    if key not in out:
        raise KeyError(f"render_fn returned no {key!r} for frame {index} (keys: {sorted(out)})")
    v = out[key]
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().float().numpy()
    v = np.asarray(v)
    want = (h, w, 3) if key == "rgb" else (h, w)
    if v.ndim == 3 and key != "rgb" and v.shape[2] == 1:
        v = v[..., 0]
    if v.shape != want:
        raise ValueError(f"render_fn returned {key!r} of shape {v.shape} for frame {index}, expected {want}")
    return v


def _save_depth(path: Path, depth: np.ndarray, acc: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Atomic ``.npz`` with float16 ``depth`` (H, W) and uint8 ``acc`` (H, W) (255 = opaque). Returns (depth,
    accumulation) as :func:`_load_depth` will read them back, so that a resumed render computes the same depth
    range as an uninterrupted one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.ones_like(depth, dtype=np.float32) if acc is None else np.asarray(acc, dtype=np.float32)
    d = np.clip(depth.astype(np.float32), -65000, 65000).astype(np.float16)  # NaN stays NaN, inf is clipped
    a8 = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    fd, tmp = temp_beside(path, ".partial.npz")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, depth=d, acc=a8)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return d.astype(np.float32), a8.astype(np.float32) / 255.0


def _load_depth(path: Path, h: int, w: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(depth (H, W) float32, accumulation (H, W) float32) from a cache file, or None if unusable."""
    try:
        with np.load(path) as z:
            d, a = z["depth"].astype(np.float32), z["acc"].astype(np.float32) / 255.0
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if d.shape != (h, w) or a.shape != (h, w):
        return None
    return d, a


def adopt_frames(folder: Path) -> list[str] | None:
    """An older scenegen frames folder (no ownership record): its ``frames.json`` is scenegen's manifest.

    Adopted (listed as scenegen's): ``frames.json``, the numbered PNGs ``00000.png``.. below the manifest's frame
    count and ``depth/00000.npz``.. below it. Nothing else in the folder is adopted (a user's ``12345.png`` or
    ``depth/notes.txt`` stays theirs and is never touched)."""
    try:
        m = json.loads((folder / MANIFEST).read_text())
        n = m["frames"] if isinstance(m, dict) and m.get("format") == "scenegen-frames-1" else None
    except (OSError, ValueError, KeyError):
        return None
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        return None
    files = [MANIFEST] + [frame_name(i) for i in range(n) if (folder / frame_name(i)).is_file()]
    files += [f"depth/{i:05d}.npz" for i in range(n) if (folder / "depth" / f"{i:05d}.npz").is_file()]
    return files


def default_frames_dir(video: Path) -> Path:
    """Where the frames of a render without ``--frames`` are kept until its video is complete."""
    return video.parent / f".{video.name}.frames"


def _prepare_frames_dir(frames_dir: Path, fingerprint: str, n: int, resume: bool, depth: bool,
                        field: str | None) -> tuple[OwnedDir, bool]:
    """Open ``frames_dir`` (ownership record), decide whether its frames can be reused, write the manifest.

    Returns the folder and True when existing frames belong to this path and ``resume`` is on. Otherwise the
    frames and cached depth scenegen wrote there are stale and deleted (before the new manifest is written, so
    that an interrupted run never leaves foreign frames under a matching manifest); files scenegen did not write
    are never touched (a name this render needs that is taken by one stops it with one line).
    """
    owned = OwnedDir.open(frames_dir, "frames", field=field, adopt=adopt_frames)
    manifest = frames_dir / MANIFEST
    reuse = False
    if resume and owned.owns(MANIFEST) and manifest.is_file():
        try:
            reuse = json.loads(manifest.read_text()).get("fingerprint") == fingerprint
        except (OSError, ValueError, AttributeError):
            reuse = False
    names = [frame_name(i) for i in range(n)] + ([f"depth/{i:05d}.npz" for i in range(n)] if depth else [])
    if not reuse:
        owned.remove(owned.listed())
        owned.claim([MANIFEST] + names)
        atomic_write_text(manifest, json.dumps({"fingerprint": fingerprint, "frames": n,
                                                "format": "scenegen-frames-1"}), "frames manifest")
    else:
        owned.claim(names)
    return owned, reuse


# H.264 limits of libx264 (level 6.2, the highest): at most 139264 macroblocks of 16x16 pixels per frame, and
# x264 refuses a width or height above 16384.
MAX_VIDEO_SIDE = 16384
MAX_MACROBLOCKS = 139264
MIN_FPS, MAX_FPS = 1e-3, 1000.0
_BYTES_PER_PIXEL_PEAK = 96  # rays, samples and outputs of one frame, generously (measured ~40 at chunk 32768)


def preflight(w: int, h: int, n: int, fps: float, *, videos: list[Path], frames_dir: Path | None, depth: bool,
              reuse_frames: int = 0, file: str | Path | None = None, field: str | None = None) -> None:
    """Refuse (one line, the limit named) a render that cannot finish, before the first frame.

    Checks: the encoded frame size against libx264's limits (when a video is written), the frame rate, the
    memory one frame needs against the available memory, and the free disk space for the frames, depth cache
    and videos (estimates: PNG frames about half their raw size, H.264 at most 0.5 byte per pixel).
    ``file``/``field``: where the size and frame rate came from (the camera path), for the message.
    """
    where = {"file": file, "field": field if file is not None else (field or "camera path")}
    if w < 1 or h < 1 or n < 1:
        raise InputError(f"nothing to render ({n} frames of {w}x{h})", **where)
    if videos:
        if not (math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
            raise InputError(f"the video frame rate would be {fps:g} frames/s ({n} frames over the path's "
                             f"seconds); it must be between {MIN_FPS:g} and {MAX_FPS:g}", **where)
        w2, h2 = w + w % 2, h + h % 2
        mbs = math.ceil(w2 / 16) * math.ceil(h2 / 16)
        if max(w2, h2) > MAX_VIDEO_SIDE or mbs > MAX_MACROBLOCKS:
            raise InputError(f"a {w}x{h} video exceeds the H.264 encoder's limits (at most {MAX_VIDEO_SIDE} pixels "
                             f"a side and {MAX_MACROBLOCKS} macroblocks of 16x16, e.g. 8192x4352): lower the "
                             "render size or --resolution-scale", **where)
    need_mem = w * h * _BYTES_PER_PIXEL_PEAK
    avail = available_memory()
    if avail is not None and need_mem > avail:
        raise InputError(f"a {w}x{h} frame needs about {human_bytes(need_mem)} of memory, {human_bytes(avail)} is "
                         "available: lower the render size or --resolution-scale", **where)
    todo = max(0, n - reuse_frames)
    per_frame = w * h * 3 // 2 + (w * h * 3 if depth else 0)
    disk: dict[Path, int] = {}
    if frames_dir is not None:
        disk[frames_dir] = todo * per_frame
    for v in videos:
        disk[v.parent] = disk.get(v.parent, 0) + n * w * h // 2 + (1 << 20)
    for folder, need in disk.items():
        check_free_space(folder, need, f"{n} frames of {w}x{h}")


def existing_frames(frames_dir: Path | None, n: int, frames_range: tuple[int, int] | None = None) -> int:
    if frames_dir is None or not frames_dir.is_dir():
        return 0
    lo, hi = frames_range if frames_range is not None else (0, n)
    return sum(1 for i in range(lo, hi) if (frames_dir / frame_name(i)).is_file())


def parse_frames_range(text: str | None, n: int, *, field: str = "--frames-range",
                       file: str | Path | None = None) -> tuple[int, int] | None:
    """``"START:END"`` (END exclusive; either side may be left out, ``"10:"``) -> (start, end) within a path of
    ``n`` frames; None for None. InputError naming ``field`` for a malformed or empty range."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", str(text))
    if m is None:
        raise InputError(f"expected START:END (frame numbers, END exclusive, e.g. 0:120), got {text!r}",
                         file=file, field=field)
    lo = int(m.group(1)) if m.group(1) else 0
    hi = min(int(m.group(2)), n) if m.group(2) else n
    if not 0 <= lo < hi:
        raise InputError(f"range {text!r} holds no frame of this {n}-frame path", file=file, field=field)
    return lo, hi


def prepare_frames_dir(frames_dir: Path | str, path: CameraPath, *, fingerprint_extra: str = "",
                       depth: bool = False, resume: bool = True, field: str | None = None) -> bool:
    """Open a frames folder for ``path`` (ownership record, manifest, every frame name claimed) without
    rendering; frames of another path are removed. Returns True when its frames are reused.

    Done once before several processes render disjoint frame ranges into the same folder
    (:func:`render_camera_path` with ``frames_range``), so that they only read its record."""
    n = len(path.cameras)
    _, reuse = _prepare_frames_dir(Path(frames_dir), camera_fingerprint(path.cameras, fingerprint_extra), n, resume,
                                   depth, field)
    return reuse


def render_camera_path(
    render_fn: RenderFn,
    path: CameraPath,
    output_video: Path | str | None,
    frames_dir: Path | str | None,
    depth_video: Path | str | None = None,
    resume: bool = True,
    progress: bool = True,
    *,
    depth_normalization: Literal["path", "frame"] = "path",
    depth_range: tuple[float, float] | None = None,
    depth_percentiles: tuple[float, float] = (1.0, 99.0),
    fingerprint_extra: str = "",
    crf: int = 18,
    odd_size: OddSize = "pad",
    source: str | Path | None = None,
    frames_range: tuple[int, int] | None = None,
    cache_depth: bool = False,
) -> dict:
    """Render every camera of ``path`` (or those of ``frames_range``) and write the requested outputs.

    Args:
        render_fn: ``render_fn(cameras, index)`` renders camera ``index`` of ``cameras`` (= ``path.cameras``)
            and returns ``{"rgb": (H, W, 3) float in [0, 1], "depth": (H, W) world units,
            "accumulation": (H, W)}`` (tensors or arrays; depth/accumulation only needed for a depth video).
        path: the camera path; the video plays at ``path.video_fps`` (= N / seconds, as ns-render).
        output_video: H.264 MP4 to write (atomically), or None.
        frames_dir: folder for PNG frames ``00000.png``... (written atomically), or None. Makes the render
            resumable.
        depth_video: turbo-coloured depth MP4 to write, or None.
        resume: reuse frames (and cached depth) already in ``frames_dir`` from an earlier run of the same
            path (same :func:`camera_fingerprint` with ``fingerprint_extra``). When False they are re-rendered.
        progress: show a rich progress bar (frame i/N, frames/s, ETA).
        depth_normalization: "path" (one robust range for the whole video) or "frame" (per frame).
        depth_range: fixed (near, far) for the depth colours; overrides ``depth_normalization``.
        depth_percentiles: the robust range's lower/upper percentiles.
        fingerprint_extra: mixed into the fingerprint, e.g. the checkpoint id, so frames of another model are
            not reused.
        crf: x264 quality (lower is better). odd_size: "pad" or "crop" odd frame sizes.
        source: the camera path's file, named by the pre-flight messages.
        frames_range: (start, end), end exclusive: render only these frames into ``frames_dir`` (required) and
            write no video, unless the range is the whole path. Shards of one path can render into one folder.
        cache_depth: keep each frame's depth in ``frames_dir/depth/`` even without a depth video (a later call
            with ``depth_video`` encodes it from the cache).
    Returns:
        Summary dict: ``frames`` (N), ``rendered``, ``reused``, ``seconds`` (wall-clock time of this call),
        ``s_per_frame`` (render seconds per rendered frame, None if none rendered), ``video_seconds``,
        ``fps``, ``width``, ``height``, ``output_video``, ``frames_dir``, ``depth_video`` (paths as str or None),
        ``depth_range`` (near, far used for the depth video, or None).
    """
    if output_video is None and frames_dir is None and depth_video is None:
        raise ValueError("render_camera_path: nothing to write (no output_video, frames_dir or depth_video)")
    if depth_normalization not in ("path", "frame"):
        raise ValueError(f"depth_normalization must be 'path' or 'frame', got {depth_normalization!r}")
    t_start = time.perf_counter()
    cameras = path.cameras
    n = len(cameras)
    w, h = int(cameras.width[0]), int(cameras.height[0])
    if bool((cameras.width != w).any()) or bool((cameras.height != h).any()):
        raise ValueError("render_camera_path: all cameras of a path must have the same image size")
    fps = path.video_fps
    lo, hi = (0, n) if frames_range is None else (int(frames_range[0]), int(frames_range[1]))
    if not 0 <= lo < hi <= n:
        raise ValueError(f"render_camera_path: frames_range {frames_range} is not within the path's {n} frames")
    partial = (lo, hi) != (0, n)
    cache_depth = cache_depth or depth_video is not None
    if partial:
        if frames_dir is None:
            raise InputError("rendering a frame range needs a frames folder", field="--frames")
        output_video = depth_video = None  # a part of the path: frames only
    output_video = Path(output_video) if output_video is not None else None
    depth_video = Path(depth_video) if depth_video is not None else None
    frames_dir = Path(frames_dir) if frames_dir is not None else None

    # Frames always go to a folder, so that a kill at any moment (even during the final encode) loses no frame:
    # the user's --frames, or a hidden one beside the video, removed once the videos are complete.
    ephemeral = frames_dir is None
    if ephemeral:
        frames_dir = default_frames_dir(output_video if output_video is not None else depth_video)  # type: ignore[arg-type]
    videos = [v for v in (output_video, depth_video) if v is not None]
    for v in videos:
        if v.is_dir():
            raise InputError("is a folder, expected the video file to write", file=v, field="--output")
    preflight(w, h, hi - lo, fps, videos=videos, frames_dir=frames_dir, depth=cache_depth,
              reuse_frames=existing_frames(frames_dir, n, (lo, hi)) if resume else 0, file=source)
    for v in videos:
        clean_stale_temps(v.parent, legacy=(rf"^\.{re.escape(v.stem)}\.[a-z0-9_]{{8}}\.partial\.mp4$",))

    spherical = getattr(path, "camera_type", None) == "equirectangular"  # 360-degree players need the metadata
    writer = (
        VideoWriter(output_video, fps, crf=crf, odd_size=odd_size, spherical=spherical)
        if output_video is not None
        else None
    )
    owned, reuse = _prepare_frames_dir(frames_dir, camera_fingerprint(cameras, fingerprint_extra), n, resume,
                                       cache_depth, None if ephemeral else "--frames")
    depth_dir: Path | None = frames_dir / "depth" if cache_depth else None
    if depth_dir is not None:
        depth_dir.mkdir(parents=True, exist_ok=True)

    stats = {"rendered": 0, "render_s": 0.0}
    per_frame_samples = max(1024, _DEPTH_SAMPLES_TOTAL // n)
    rng = np.random.default_rng(0)
    samples: list[np.ndarray] = []
    bar = (
        Progress(
            TextColumn("[bold]rendering"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("frames"),
            _FpsColumn(stats),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            transient=False,
        )
        if progress
        else _NullProgress()
    )
    reused = 0
    depth_used: tuple[float, float] | None = None
    try:
        with bar:
            task = bar.add_task("render", total=hi - lo)
            for i in range(lo, hi):
                rgb: np.ndarray | None = None
                need_depth = depth_dir is not None
                png = frames_dir / frame_name(i)
                dpath = depth_dir / f"{i:05d}.npz" if depth_dir is not None else None
                if reuse:
                    rgb = read_png(png, (w, h))
                    if rgb is not None and dpath is not None:
                        cached = _load_depth(dpath, h, w)
                        if cached is None:
                            rgb = None  # depth missing: render the frame again
                        else:
                            need_depth = False
                            if depth_range is None and depth_normalization == "path":
                                samples.append(_sample_depth(*cached, per_frame_samples, rng))
                if rgb is not None:
                    reused += 1
                else:
                    t0 = time.perf_counter()
                    with torch.no_grad():
                        out = render_fn(cameras, i)
                    rgb = to_uint8(_check_output(out, "rgb", h, w, i))
                    if need_depth:
                        d = _check_output(out, "depth", h, w, i).astype(np.float32)
                        a = (
                            _check_output(out, "accumulation", h, w, i).astype(np.float32)
                            if "accumulation" in out
                            else None
                        )
                        d, acc = _save_depth(dpath, d, a)  # type: ignore[arg-type]
                        if depth_range is None and depth_normalization == "path":
                            samples.append(_sample_depth(d, acc, per_frame_samples, rng))
                    write_png(png, rgb)
                    stats["rendered"] += 1
                    stats["render_s"] += time.perf_counter() - t0
                if writer is not None:
                    writer.write(rgb)
                bar.update(task, advance=1)
        if writer is not None:
            writer.close()
        if depth_video is not None:
            depth_used = _write_depth_video(
                depth_video, depth_dir, n, h, w, fps,  # type: ignore[arg-type]
                depth_range, depth_normalization, depth_percentiles, samples, crf, odd_size,
            )
    except BaseException:
        if writer is not None:
            writer.abort()
        if ephemeral and not any(owned.child(f).is_file() for f in owned.listed() if f != MANIFEST):
            owned.remove_all()  # nothing worth resuming
        raise
    if ephemeral:
        owned.remove_all()

    elapsed = time.perf_counter() - t_start
    return {
        "frames": hi - lo,
        "range": [lo, hi],
        "rendered": stats["rendered"],
        "reused": reused,
        "seconds": elapsed,
        "s_per_frame": stats["render_s"] / stats["rendered"] if stats["rendered"] else None,
        "video_seconds": path.seconds,
        "fps": fps,
        "width": w,
        "height": h,
        "output_video": str(output_video) if output_video is not None else None,
        "frames_dir": None if ephemeral else str(frames_dir),
        "depth_video": str(depth_video) if depth_video is not None else None,
        "depth_range": depth_used,
    }


def _sample_depth(depth: np.ndarray, acc: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``k`` finite depths of pixels with accumulation > 0.5, drawn at random."""
    d = depth.reshape(-1)
    ok = np.isfinite(d) & (acc.reshape(-1) > 0.5)
    d = d[ok]
    if d.size > k:
        d = d[rng.choice(d.size, size=k, replace=False)]
    return d.astype(np.float32)


def _write_depth_video(
    out: Path,
    depth_dir: Path,
    n: int,
    h: int,
    w: int,
    fps: float,
    depth_range: tuple[float, float] | None,
    normalization: str,
    percentiles: tuple[float, float],
    samples: list[np.ndarray],
    crf: int,
    odd_size: OddSize,
) -> tuple[float, float] | None:
    """Encode the cached depth maps; returns the (near, far) used for the whole path (None per frame)."""
    near_far: tuple[float, float] | None = None
    if depth_range is not None:
        near_far = (float(depth_range[0]), float(depth_range[1]))
    elif normalization == "path":
        all_d = np.concatenate(samples) if samples else np.zeros(0, np.float32)
        near_far = robust_depth_range(all_d, None, percentiles)
    with VideoWriter(out, fps, crf=crf, odd_size=odd_size) as vw:
        for i in range(n):
            cached = _load_depth(depth_dir / f"{i:05d}.npz", h, w)
            if cached is None:
                raise RuntimeError(f"depth cache of frame {i} is missing or unreadable in {depth_dir}")
            d, a = cached
            if near_far is None:
                vw.write(colorize_depth(d, a, percentiles=percentiles))
            else:
                vw.write(colorize_depth(d, a, near=near_far[0], far=near_far[1]))
    return near_far
