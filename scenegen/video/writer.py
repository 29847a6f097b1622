"""Video and image-sequence output.

* :class:`VideoWriter`: browser-playable H.264 MP4 (libx264, yuv420p, ``-movflags +faststart``) through
  ``imageio_ffmpeg.write_frames``. The video is encoded into a temporary file in the destination folder and
  renamed over the destination only once complete (``os.replace``): an interrupted render never leaves a
  truncated video and never destroys an existing one.
* :func:`write_png` / :func:`read_png`: atomic PNG frames (temp file + rename).
* :func:`turbo` / :func:`colorize_depth` / :func:`robust_depth_range`: depth visualisation.

yuv420p needs even frame sizes; odd widths/heights are padded by one pixel (edge pixels repeated,
``odd_size="pad"``, the default) or cropped by one pixel (``odd_size="crop"``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

__all__ = [
    "VideoWriter",
    "colorize_depth",
    "even_size",
    "make_even",
    "probe_video",
    "read_png",
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


def to_uint8(image: Any) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a uint8 array or a float array/tensor in [0, 1] (clipped).

    Accepts numpy arrays and torch tensors of shape (H, W, 3), or (H, W, 4) (alpha dropped).
    """
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) image, got shape {a.shape}")
    a = a[:, :, :3]
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"expected uint8 or float image, got {a.dtype}")
    a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


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
    """A fresh, unique temporary file name in ``path``'s folder (the file is created, empty)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{suffix}", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def write_png(path: str | Path, image: Any) -> Path:
    """Write an RGB image as PNG atomically (temp file in the same folder, then ``os.replace``).

    Args:
        image: (H, W, 3) uint8, or float in [0, 1] (array or tensor).
    """
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_sibling(path, ".png")
    try:
        Image.fromarray(to_uint8(image), mode="RGB").save(tmp, format="PNG", compress_level=4)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


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
        ffmpeg_log_level: ffmpeg's ``-v`` level.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        crf: int = 18,
        preset: str = "medium",
        odd_size: OddSize = "pad",
        ffmpeg_log_level: str = "error",
    ):
        if not fps > 0 or not np.isfinite(fps):
            raise ValueError(f"fps must be positive, got {fps}")
        even_size(2, 2, odd_size)  # validates odd_size
        self.path = Path(path)
        self.fps = float(fps)
        self.crf = int(crf)
        self.preset = preset
        self.odd_size: OddSize = odd_size
        self.ffmpeg_log_level = ffmpeg_log_level
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
            meta = probe_video(self._tmp, count_frames=False)  # ffmpeg does not report failures itself
            if meta.get("codec") is None:
                raise RuntimeError(f"ffmpeg produced an unreadable video for {self.path}")
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

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
