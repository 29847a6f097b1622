"""The batch layer's calls into the video formats, titles and assembly (:mod:`scenegen.video.formats`,
:mod:`scenegen.video.titles`, :mod:`scenegen.video.assemble`), in one place."""

from __future__ import annotations

from pathlib import Path

from scenegen.paths import PathSpec
from scenegen.video.assemble import assemble_video, read_mp4_metadata
from scenegen.video.formats import FORMAT_NAMES, FormatSpec, format_path, format_spec
from scenegen.video.titles import TourText, frame_captions, room_segments

__all__ = ["FORMAT_NAMES", "FormatSpec", "assemble", "format_path", "format_spec", "read_mp4_metadata"]


def assemble(frames: list[Path], out: Path, *, fps: float, spec: PathSpec | dict, text: TourText | None,
             audio: Path | None, metadata: dict[str, str], spherical: bool) -> dict:
    """Frames (in order) -> the final MP4 with cards, captions (when the path has rooms), audio and metadata."""
    tt = text
    captions = None
    if tt is not None and tt.show_captions:
        segs = room_segments(spec)
        if segs:
            captions = frame_captions(segs, len(frames), fps, tt)
    return assemble_video(frames, out, fps=fps, text=tt, captions=captions, audio=audio, metadata=metadata,
                          spherical=spherical, progress=False)
