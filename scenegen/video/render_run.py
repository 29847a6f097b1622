"""`scenegen render`: a trained run along a camera path -> MP4 and/or PNG frames (+ depth video)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

from scenegen.core.errors import InputError
from scenegen.paths import load_camera_path
from scenegen.train.run import load_run
from scenegen.video.render_path import render_camera_path


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


def render(cfg: RenderConfig) -> dict:
    if cfg.output is None and cfg.frames is None and cfg.depth_video is None:
        raise InputError("nothing to write: give --output, --frames or --depth-video", field="--output")
    if cfg.resolution_scale <= 0:
        raise InputError("must be positive", field="--resolution-scale")
    path = load_camera_path(cfg.camera_path, cfg.dataparser_transforms, dataset_transforms=_dataset_json(cfg))
    if cfg.resolution_scale != 1.0:
        path = path.scaled(cfg.resolution_scale)
    run = load_run(cfg.run, cfg.device)
    if cfg.check:
        _warn_unsafe(cfg, path)
    fingerprint = f"{Path(cfg.run).resolve()}:step{run.step}"
    return render_camera_path(
        lambda cams, i: run.render(cams, i, chunk=cfg.chunk),
        path,
        cfg.output,
        cfg.frames,
        depth_video=cfg.depth_video,
        resume=cfg.resume,
        progress=cfg.progress,
        fingerprint_extra=fingerprint,
    )


def _warn_unsafe(cfg: RenderConfig, path) -> None:
    """Print the path's safety warnings (one line each, naming frames) to stderr; rendering goes on."""
    import sys

    from scenegen.paths import check_path
    from scenegen.pipelines.paths import volume_from_run

    volume = volume_from_run(cfg.run, max_cells=128, device="cuda" if cfg.device == "cuda" else "cpu")
    c2w = path.cameras.c2w.numpy()
    for w in check_path(c2w, path.video_fps, volume, min_clearance=0.1):
        print(f"warning: {cfg.camera_path}: {w.message}", file=sys.stderr)


def _dataset_json(cfg: RenderConfig) -> Path | None:
    """The run's transforms.json (needed to undo nerfstudio's applied_transform), when there is one."""
    if cfg.dataparser_transforms is None:
        return None
    from scenegen.train.run import read_scene_json

    data = Path(read_scene_json(cfg.run)["data"])
    cand = data / "transforms.json" if data.is_dir() else data
    return cand if cand.is_file() else None
