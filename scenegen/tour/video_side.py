"""The batch layer's calls into the video formats, titles and assembly (:mod:`scenegen.video.formats`,
:mod:`scenegen.video.titles`, :mod:`scenegen.video.assemble`), in one place."""

from __future__ import annotations

from pathlib import Path

from scenegen.paths import PathSpec
from scenegen.tour.spec import TextSpec
from scenegen.video.assemble import assemble_video, read_mp4_metadata
from scenegen.video.formats import FORMAT_NAMES, FormatSpec, format_path, format_spec
from scenegen.video.titles import TourText, frame_captions, room_segments

__all__ = ["FORMAT_NAMES", "FormatSpec", "assemble", "format_path", "format_spec", "read_mp4_metadata",
           "tour_text"]


def tour_text(t: TextSpec | None) -> TourText | None:
    """The video side's text of one language (None: no cards, no captions)."""
    if t is None:
        return None
    return TourText(language=t.language, title=t.title, address=t.address, agency=t.agency, logo=t.logo,
                    disclaimer=t.disclaimer, disclaimer_text=t.disclaimer_text, captions=dict(t.captions),
                    show_captions=t.show_captions, card_seconds=t.card_seconds)


def assemble(frames: list[Path], out: Path, *, fps: float, spec: PathSpec | dict, text: TextSpec | None,
             audio: Path | None, metadata: dict[str, str], spherical: bool) -> dict:
    """Frames (in order) -> the final MP4 with cards, captions (when the path has rooms), audio and metadata."""
    tt = tour_text(text)
    captions = None
    if tt is not None and tt.show_captions:
        segs = room_segments(spec)
        if segs:
            captions = frame_captions(segs, len(frames), fps, tt)
    return assemble_video(frames, out, fps=fps, text=tt, captions=captions, audio=audio, metadata=metadata,
                          spherical=spherical, progress=False)
