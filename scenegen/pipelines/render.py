"""`scenegen render`: a trained run along a camera path -> MP4 and/or PNG frames (+ depth video).

The frame loop is :func:`scenegen.video.render_path.render_camera_path`; this module loads the run and the path,
checks the path against the trained scene and holds the command's options and result.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from scenegen.core import validate as v
from scenegen.core.errors import InputError
from scenegen.core.ownership import OwnedDir
from scenegen.data.run_scene import RunScene
from scenegen.paths import CameraPath, SceneVolume, check_path, load_camera_path
from scenegen.paths.framing import check_framing, framing_warnings
from scenegen.pipelines.paths import volume_from_run
from scenegen.pipelines.report import tour_report
from scenegen.train.run import LoadedRun, load_run
from scenegen.video.render_path import (
    adopt_frames,
    existing_frames,
    parse_frames_range,
    preflight,
    render_camera_path,
)


@dataclass
class RenderConfig:
    """Render a trained run along a camera path (nerfstudio viewer camera_path.json)."""

    run: Path
    """Run folder written by `scenegen train`."""
    camera_path: Path
    """Camera path JSON (nerfstudio viewer export or `scenegen path` output), in the dataset's world units."""
    output: Optional[Path] = Path("tour.mp4")
    """H.264 MP4 to write (None: no video)."""
    frames: Optional[Path] = None
    """Also write PNG frames here (makes the render resumable)."""
    depth_video: Optional[Path] = None
    """Also write a colour-mapped depth MP4."""
    dataparser_transforms: Optional[Path] = None
    """nerfstudio dataparser_transforms.json: the path was authored in nerfstudio's normalised frame."""
    resolution_scale: float = 1.0
    """Scale the path's render resolution (0.5 = half width and height)."""
    chunk: int = 1 << 15
    """Rays per batch (bounds memory at any resolution)."""
    resume: bool = True
    check: bool = True
    """Check the path against the trained scene first and warn (frame numbers) about cameras inside or too
    close to geometry, outside the trained region, orientation jumps and speed spikes."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    progress: bool = True
    report: bool = False
    """Also write the tour report beside the video (VIDEO.report.json + VIDEO.report.png, see `scenegen report`)."""
    report_scale: float = 0.25
    """Resolution of the frames the report measures, relative to the rendered frames."""
    frames_range: Optional[str] = None
    """Render only frames START:END (END exclusive, e.g. 0:120) into --frames, for splitting one path over several
    jobs; the video (and report) is written only when the range covers the whole path."""

    def validate(self) -> "RenderConfig":
        """Refuse bad flags with one line naming the flag, before any work; returns self."""
        if self.output is None and self.frames is None and self.depth_video is None:
            raise InputError("nothing to write: give --output, --frames or --depth-video", field="--output")
        v.flag_number(self.resolution_scale, "--resolution-scale", lo=0, open_lo=True, hi=64)
        v.flag_number(self.chunk, "--chunk", lo=1, whole=True)
        for value, flag in ((self.output, "--output"), (self.depth_video, "--depth-video")):
            if value is not None:
                v.output_file(value, flag)
        if self.frames is not None:
            v.output_dir(self.frames, "--frames")
        if self.frames_range is not None:
            if self.frames is None:
                raise InputError("needs --frames (the folder the shards' frames go to)", field="--frames-range")
            parse_frames_range(self.frames_range, 1 << 62)
        return self


@dataclass
class RenderResult:
    """What `scenegen render` wrote and how long it took."""

    frames: int
    rendered: int
    """Frames rendered by this call (the others were reused from an earlier, interrupted render)."""
    reused: int
    seconds: float
    s_per_frame: Optional[float]
    """Render seconds per rendered frame (None when every frame was reused)."""
    video_seconds: float
    fps: float
    width: int
    height: int
    output_video: Optional[Path] = None
    frames_dir: Optional[Path] = None
    depth_video: Optional[Path] = None
    depth_range: Optional[tuple[float, float]] = None
    report: Optional[Path] = None
    """The tour report's JSON (with --report)."""

    @staticmethod
    def from_summary(s: dict) -> "RenderResult":
        """From :func:`scenegen.video.render_path.render_camera_path`'s summary."""
        def path_or_none(k):
            return Path(s[k]) if s.get(k) else None

        return RenderResult(frames=int(s["frames"]), rendered=int(s["rendered"]), reused=int(s["reused"]),
                            seconds=float(s["seconds"]), s_per_frame=s["s_per_frame"],
                            video_seconds=float(s["video_seconds"]), fps=float(s["fps"]), width=int(s["width"]),
                            height=int(s["height"]), output_video=path_or_none("output_video"),
                            frames_dir=path_or_none("frames_dir"), depth_video=path_or_none("depth_video"),
                            depth_range=tuple(s["depth_range"]) if s.get("depth_range") is not None else None)


def render(cfg: RenderConfig, *, run: LoadedRun | None = None) -> RenderResult:
    """Run ``scenegen render``. ``run``: ``cfg.run`` already loaded."""
    cfg.validate()
    path = load_camera_path(cfg.camera_path, cfg.dataparser_transforms, dataset_transforms=_dataset_json(cfg))
    if cfg.resolution_scale != 1.0:
        path = path.scaled(cfg.resolution_scale)
    frames_range = parse_frames_range(cfg.frames_range, len(path.cameras), file=cfg.camera_path)
    whole = frames_range is None or frames_range == (0, len(path.cameras))
    _preflight(cfg, path, frames_range)  # sizes, frame rate, memory, disk, the --frames folder: before loading anything
    run = run if run is not None else load_run(cfg.run, cfg.device)
    if cfg.check:
        _warn_unsafe(cfg, path)
    fingerprint = f"{Path(cfg.run).resolve()}:step{run.step}"
    summary = render_camera_path(
        lambda cams, i: run.render(cams, i, chunk=cfg.chunk),
        path,
        cfg.output,
        cfg.frames,
        depth_video=cfg.depth_video,
        resume=cfg.resume,
        progress=cfg.progress,
        fingerprint_extra=fingerprint,
        source=cfg.camera_path,
        frames_range=frames_range,
        cache_depth=cfg.report and cfg.frames is not None,  # the report measures the frames it rendered
    )
    result = RenderResult.from_summary(summary)
    if cfg.report and whole:
        base = Path(cfg.output) if cfg.output is not None else Path(cfg.frames or cfg.depth_video) / "tour"
        rep = tour_report(run, path, base.with_suffix(".report.json"), base.with_suffix(".report.png"),
                          scale=cfg.report_scale, frames_dir=cfg.frames, chunk=cfg.chunk, progress=cfg.progress,
                          title=Path(cfg.camera_path).name)
        result.report = rep.json
    return result


def _preflight(cfg: RenderConfig, path: CameraPath, frames_range: tuple[int, int] | None = None) -> None:
    """The render's limits and its --frames folder, checked before the run is loaded (one line each)."""
    cams = path.cameras
    lo, hi = frames_range if frames_range is not None else (0, len(cams))
    whole = (lo, hi) == (0, len(cams))
    videos = [Path(v) for v in (cfg.output, cfg.depth_video) if v is not None and whole]
    for v in videos:
        flag = "--output" if v == cfg.output else "--depth-video"
        if v.is_dir():
            raise InputError("is a folder, expected the video file to write", file=v, field=flag)
        above = next((p for p in v.parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise InputError(f"cannot write here: {above} is a file, not a folder", file=v, field=flag)
    preflight(int(cams.width[0]), int(cams.height[0]), hi - lo, path.video_fps, videos=videos,
              frames_dir=cfg.frames, depth=cfg.depth_video is not None and whole, file=cfg.camera_path,
              reuse_frames=existing_frames(cfg.frames, len(cams), (lo, hi)) if cfg.resume else 0)
    if cfg.frames is not None:
        OwnedDir.open(cfg.frames, "frames", field="--frames", adopt=adopt_frames)


def _check_volume(cfg: RenderConfig) -> SceneVolume:
    """The trained scene's occupancy, coarse, for the path check."""
    return volume_from_run(cfg.run, max_cells=128, device="cuda" if cfg.device == "cuda" else "cpu")


def _warn_unsafe(cfg: RenderConfig, path: CameraPath) -> None:
    """Print the path's safety warnings (one line each, naming frames) to stderr; rendering goes on."""
    volume = _check_volume(cfg)
    c2w = path.cameras.c2w.numpy()
    for w in check_path(c2w, path.video_fps, volume, min_clearance=0.1):
        print(f"warning: {cfg.camera_path}: {w.message}", file=sys.stderr)
    framing = check_framing(path.cameras, volume, _train_cameras(cfg))
    for w in framing_warnings(framing, path.video_fps):
        if w.kind != "too_close":  # check_path said it
            print(f"warning: {cfg.camera_path}: {w.message}", file=sys.stderr)


def _train_cameras(cfg: RenderConfig):
    """The run's training cameras (M, 4, 4) for the framing check; None when its scene.json cannot be read."""
    try:
        return RunScene.read(cfg.run).train_c2w
    except Exception:  # an older run: framing without the support check
        return None


def _dataset_json(cfg: RenderConfig) -> Path | None:
    """The run's transforms.json (needed to undo nerfstudio's applied_transform), when there is one."""
    if cfg.dataparser_transforms is None:
        return None
    data = Path(RunScene.read(cfg.run).data)
    cand = data / "transforms.json" if data.is_dir() else data
    return cand if cand.is_file() else None
