"""`scenegen process`: photos, a video, a COLMAP model or an LLFF capture -> a posed nerfstudio dataset.

The work is :func:`scenegen.data.capture.process.process`; this module holds the command's options and result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from scenegen.core import validate as v
from scenegen.data.capture import coverage
from scenegen.data.capture import process as capture
from scenegen.data.loader import estimate_up_from_c2w
from scenegen.paths import preview_png


@dataclass
class ProcessConfig:
    """Poses for your capture: photos or a video (structure from motion), or an existing COLMAP/LLFF capture."""

    input: Path
    """A folder of photos, a video file, a COLMAP model folder (sparse/0 with .bin or .txt) or an LLFF folder
    (poses_bounds.npy)."""
    output: Path
    """Dataset folder to write (transforms.json, images/, sparse_pc.ply, report.json, cameras.png)."""
    images: Optional[Path] = None
    """With a COLMAP model: the folder of its images (default: the model's ../../images)."""
    num_frames: int = 150
    """Video: how many frames to keep (the sharpest of each equal time slice)."""
    matching: Literal["auto", "exhaustive", "sequential"] = "auto"
    """auto: exhaustive for up to 100 photos, sequential (each image with its 15 neighbours in file-name order and
    quadratically spaced later ones) for videos and larger sets: photos taken walking around are in order."""
    mapper: Literal["auto", "incremental", "global"] = "auto"
    """incremental: COLMAP's mapper, which registers the photos one by one; global: global SfM (COLMAP's GLOMAP:
    all rotations, then all positions, at once), not thrown by drift around long captures; auto: incremental,
    then global when consecutive photos come out far apart (a capture registered in pieces, ghosts ahead),
    keeping the model with fewer such jumps."""
    max_image_size: int = 1600
    """Longest side the features are computed at (pixels)."""
    max_features: int = 4096
    """SIFT features per image: matching time grows with its square (8192 is COLMAP's default; on a 2-core CPU
    4096 matches a pair in about a quarter of the time and registers typical indoor captures as well)."""
    camera_model: Literal["OPENCV", "SIMPLE_RADIAL", "PINHOLE", "OPENCV_FISHEYE"] = "OPENCV"
    """The camera model SfM fits (one camera shared by all images)."""
    scale_from: Optional[tuple[float, float, float, float, float, float, float]] = None
    """Two points in this dataset's frame and their real distance in metres: X1 Y1 Z1 X2 Y2 Z2 METRES."""
    up: Literal["auto", "none"] = "auto"
    """Make +Z up from the cameras (people hold cameras level) or keep the reconstruction's axes."""
    min_registered: float = 0.5
    """Fail when fewer than this fraction of the images register."""
    seed: int = 0
    overwrite: bool = False
    progress: bool = True

    def validate(self) -> "ProcessConfig":
        """Refuse bad flags with one line naming the flag, before any work; returns self."""
        v.flag_number(self.num_frames, "--num-frames", lo=2, whole=True)
        v.flag_number(self.max_image_size, "--max-image-size", lo=32, hi=16384, whole=True)
        v.flag_number(self.max_features, "--max-features", lo=16, whole=True)
        v.flag_number(self.min_registered, "--min-registered", lo=0, hi=1)
        v.flag_number(self.seed, "--seed", whole=True)
        if self.scale_from is not None:
            for k, x in enumerate(self.scale_from):
                v.flag_number(x, f"--scale-from[{k}]")
            v.flag_number(self.scale_from[6], "--scale-from", lo=0, open_lo=True,
                          hint="the 7th number is the real distance in metres")
        v.output_dir(self.output, "--output")
        return self


@dataclass
class ProcessResult:
    """What `scenegen process` wrote and how well the capture registered."""

    output: Path
    registered: int
    images: int
    points: int
    reprojection_error_px: Optional[float]
    seconds: float
    rejected: list[dict] = field(default_factory=list)
    """Images left out: {"image": name, "reason": why} (all of them also in OUTPUT/report.json)."""
    advice: Optional[str] = None
    """One line when the capture is too sparse for a clean result (few photos, large gaps between views, a
    missing side, regions seen once) and what to do; None when it is dense enough."""
    registration: Optional[str] = None
    """One line when consecutive photos were registered far apart (ghost copies ahead), else None."""
    mapper: Optional[str] = None
    """The mapper whose model was written (incremental or global); None for imported poses (COLMAP, LLFF)."""
    repaired: Optional[str] = None
    """One line when ``--mapper auto`` found the incremental model in pieces and mapped again (what it kept)."""


def process(cfg: ProcessConfig, console=None) -> ProcessResult:
    """Run ``scenegen process``."""
    cfg.validate()
    sfm = capture.SfmOptions(camera_model=cfg.camera_model, max_image_size=cfg.max_image_size,
                             max_features=cfg.max_features, mapper=cfg.mapper, seed=cfg.seed,
                             progress=cfg.progress)
    s = capture.process(cfg.input, cfg.output, images=cfg.images, num_frames=cfg.num_frames, matching=cfg.matching,
                        sfm=sfm, scale_from=cfg.scale_from, up=cfg.up, min_registered=cfg.min_registered,
                        overwrite=cfg.overwrite, console=console)
    posed = s["posed"]
    # the same top and side views as `scenegen path preview`: the cameras in file-name (capture) order, so gaps
    # in the walk around the subject show, over the sparse points
    up = (0.0, 0.0, 1.0) if cfg.up == "auto" else (estimate_up_from_c2w(posed.c2w) or (0.0, 0.0, 1.0))
    preview_png(Path(s["output"]) / "cameras.png", posed.c2w, up=up, points=posed.points,
                title=f"{len(posed.names)} registered cameras (in file-name order) over {len(posed.points)} SfM points")
    return ProcessResult(output=Path(s["output"]), registered=int(s["registered"]), images=int(s["images"]),
                         points=int(s["points"]), reprojection_error_px=s["reprojection_error_px"],
                         seconds=float(s["seconds"]), rejected=list(s["rejected"]), advice=capture_advice(posed, up),
                         registration=coverage.registration_advice(posed.c2w, posed.names),
                         mapper=s.get("mapper"), repaired=_repair_line(s.get("registration_repair")))


def _repair_line(repair: dict | None) -> str | None:
    """The one line that says what ``--mapper auto`` did about a capture registered in pieces."""
    if not repair:
        return None
    a, b, r = repair["jumps"][0]
    what = f"incremental mapping put {a} and {b} {r:.0f}x the usual step apart"
    if repair["kept"] == "global":
        return f"{what}; global SfM registered the capture in one piece and its model was kept"
    return f"{what}; global SfM did no better, the incremental model was kept"


def capture_advice(posed, up) -> str | None:
    """The sparse-capture advice line for the registered cameras (:mod:`scenegen.data.capture.coverage`)."""
    if len(posed.names) < 2:
        return None
    k = posed.intrinsics[0] if posed.intrinsics else {}
    intr = (float(k["fl_x"]), int(k["w"]), int(k["h"])) if {"fl_x", "w", "h"} <= set(k) else None
    return coverage.assess(posed.c2w, up, posed.points if len(posed.points) else None, intr).advice()
