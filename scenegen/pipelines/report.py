"""`scenegen report` (and `scenegen render --report`): how trustworthy each second of a rendered tour is.

Loads the run and the camera path, measures every frame (:mod:`scenegen.paths.framing` from the run's scene
volume; :mod:`scenegen.paths.tour_metrics` from frames rendered at ``scale`` times the path's resolution, with
their depth) and writes a JSON report (per-frame values and a summary) and a timeline PNG
(:func:`scenegen.video.report.timeline_png`). Ground truth, when the run's dataset carries its scene (a generated
prior: ``spec.json``; ``generate --mesh``: ``model_report.json`` and the model file), is rendered for the same
cameras by the synthesiser that made the dataset.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from scenegen.cameras.poses import up_basis
from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text
from scenegen.data.capture.coverage import dataset_points
from scenegen.data.prior.generate import brief_scene
from scenegen.data.prior.mesh_import import load_model_scene
from scenegen.data.run_scene import RunScene
from scenegen.data.synth.shading import render_views
from scenegen.paths import CameraPath, load_camera_path
from scenegen.paths.framing import FLAG_KINDS, check_framing, framing_warnings
from scenegen.paths.tour_metrics import pose_shake, psnr, smooth_poses, temporal_consistency
from scenegen.pipelines.paths import path_scene, volume_from_run
from scenegen.render.floaters import MARGIN, frame_floaters
from scenegen.train.run import LoadedRun, load_run
from scenegen.video.report import timeline_png
from scenegen.video.writer import read_png

__all__ = ["ReportConfig", "ReportResult", "ground_truth_scene", "report", "tour_report"]

CONSISTENCY_BAD_DB = 25.0
"""Temporal consistency below this (dB) is drawn red."""
GT_PSNR_BAD_DB = 22.0
"""PSNR against ground truth below this (dB) is drawn red."""
GT_SUPERSAMPLE = 2
"""Ground truth is shaded with k x k rays per measured pixel, averaged (antialiased, as a camera or a video's
box-filtered frames show it). One ray per pixel aliases fine texture seen from afar (a painting, a rug) into
noise no rendered frame can match: on the demo's tour that noise alone cost 2.3 dB of the mean and 1.6 dB of
the 10th percentile (BENCHMARKS.md)."""
GT_MAX_FRAMES = 200
"""Ground truth is measured on at most about this many frames, evenly spaced (see ``gt_every``)."""
FLOATERS_BAD = 0.1
"""A frame whose rays towards the SfM surface spend more than this share of their weight in front of it
(:mod:`scenegen.render.floaters`) looks at floaters: drawn red."""


def sfm_floaters_fn(run: LoadedRun, scene: RunScene):
    """``fn(cameras, i) -> float | None``: the floater measure (:func:`scenegen.render.floaters.frame_floaters`)
    of frame ``i`` of world-space pinhole ``cameras`` against the SfM points of the run's dataset; None when the
    dataset has no SfM points."""
    pts = dataset_points(scene.data) if scene.data else None
    if pts is None or len(pts) == 0:
        return None
    tr = run.transform
    pf = tr.world_to_field_points(torch.as_tensor(pts, dtype=torch.float32)).to(run.device)

    def fn(cams, i: int) -> float | None:
        c = tr.cameras_to_field(cams[[i]]).to(run.device)
        intr = (float(c.fx[0]), float(c.fy[0]), float(c.cx[0]), float(c.cy[0]), int(c.width[0]), int(c.height[0]))
        return frame_floaters(run.renderer, c.c2w[0], intr, pf, MARGIN)

    return fn


@dataclass
class ReportConfig:
    """Measure a rendered tour: temporal consistency, support by training views, clearance, framing and (for
    generated datasets) PSNR against ground truth, per frame -> JSON + a timeline PNG."""

    run: Path
    """Run folder written by `scenegen train`."""
    camera_path: Path
    """Camera path JSON of the tour (as given to `scenegen render`)."""
    output: Optional[Path] = None
    """Folder for PATH.report.json and PATH.report.png (default: beside the camera path)."""
    frames: Optional[Path] = None
    """Frames folder of `scenegen render --frames --report` (its PNGs and cached depth are measured instead of
    rendering again, box-filtered when --scale is 1/2, 1/3, ...)."""
    scale: float = 0.25
    """Resolution of the frames the report renders, relative to the path's (0.25 of 1920x1080 = 480x270)."""
    stride: int = 1
    """Measure every N-th frame (and the frame after it, for temporal consistency)."""
    walking: bool = True
    """A walking tour: flag pitch beyond +-10 degrees (False for orbits and fly-overs)."""
    ground_truth: bool = True
    """Render ground truth for the same cameras when the run's dataset carries its scene (generated priors)."""
    gt_every: int = 0
    """Measure PSNR against ground truth on every N-th frame (0 = auto: every frame up to 200 frames, then
    evenly spaced so that about 200 are measured; the antialiased reference shades 4 rays per pixel)."""
    gt_supersample: int = GT_SUPERSAMPLE
    """Rays per pixel along each axis of the ground-truth reference (1 = pixel centres only: aliased)."""
    dataparser_transforms: Optional[Path] = None
    """nerfstudio dataparser_transforms.json: the path was authored in nerfstudio's normalised frame."""
    chunk: int = 1 << 15
    """Rays per batch (bounds memory)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Torch device for the field."""
    progress: bool = True
    """Show a progress bar."""


@dataclass
class ReportResult:
    """What `scenegen report` wrote and its summary."""

    json: Path
    png: Path
    summary: dict
    warnings: list
    seconds: float


def ground_truth_scene(run_scene: RunScene):
    """The synthetic scene a run's dataset was generated from (a :class:`~scenegen.data.synth.SynthScene`), or
    None when the dataset carries none (real captures, imported datasets, a moved model file)."""
    data = Path(run_scene.data) if run_scene.data else None
    if data is None:
        return None
    root = data if data.is_dir() else data.parent
    if (root / "spec.json").is_file():
        _, scene, _ = brief_scene(spec_file=root / "spec.json")
        return scene
    rep, tf = root / "model_report.json", root / "transforms.json"
    if rep.is_file() and tf.is_file():
        try:
            r = json.loads(rep.read_text())
            meta = json.loads(tf.read_text()).get("metadata", {})
            src = meta.get("source_model")
        except (OSError, ValueError):
            return None
        if src and Path(src).is_file():
            scene, _ = load_model_scene(src, up=r.get("up_axis", "auto"), units=r.get("units", "auto"),
                                        storey=meta.get("storey"))
            return scene
    return None


def _stats(v: np.ndarray, higher_better: bool = True) -> dict:
    f = np.asarray(v, dtype=np.float64)
    ok = np.isfinite(f)
    if not ok.any():
        return {"mean": None, "p10": None, "min": None, "max": None, "worst_frames": []}
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(f[ok] if higher_better else -f[ok], kind="stable")]
    return {"mean": round(float(f[ok].mean()), 4),
            ("p10" if higher_better else "p90"): round(float(np.percentile(f[ok], 10 if higher_better else 90)), 4),
            "min": round(float(f[ok].min()), 4), "max": round(float(f[ok].max()), 4),
            "worst_frames": [int(i) for i in order[:5]]}


def _yaw_pitch(c2w: np.ndarray, up: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(N,) yaw rate (deg/s, at frame t from t-1; 0 for the first) and (N,) pitch (deg)."""
    fwd = -c2w[:, :3, 2]
    b = up_basis(up)
    loc = fwd @ b
    yaw = np.unwrap(np.arctan2(loc[:, 1], loc[:, 0]))
    rate = np.r_[0.0, np.abs(np.diff(np.degrees(yaw))) * fps]
    horiz = np.linalg.norm(loc[:, :2], axis=1)
    rate[1:][horiz[1:] < 0.1] = 0.0  # straight up/down: yaw undefined
    pitch = np.degrees(np.arctan2(loc[:, 2], horiz))
    return rate, pitch


def _intrinsics(cams, i: int):
    return float(cams.fx[i]), float(cams.fy[i]), float(cams.cx[i]), float(cams.cy[i])


def _reuse_frame(frames_dir: Path | None, i: int, w: int, h: int, factor: int = 1):
    """(rgb, depth, acc) of frame ``i`` at ``w`` x ``h`` from `render --frames` output (its PNG and cached depth),
    or None. ``factor``: the cached frames are ``factor`` times larger and are box-filtered down (the picture the
    video shows, averaged; depth weighted by opacity), so the report need not render the field again."""
    if frames_dir is None:
        return None
    fw, fh = w * factor, h * factor
    rgb = read_png(frames_dir / f"{i:05d}.png", (fw, fh))
    dp = frames_dir / "depth" / f"{i:05d}.npz"
    if rgb is None or not dp.is_file():
        return None
    try:
        with np.load(dp) as z:
            d, a = z["depth"].astype(np.float32), z["acc"].astype(np.float32) / 255.0
    except (OSError, ValueError, KeyError, EOFError):
        return None
    if d.shape != (fh, fw) or a.shape != (fh, fw):
        return None
    rgb = rgb.astype(np.float32) / 255.0
    if factor > 1:
        def blocks(x):
            return x.reshape(h, factor, w, factor, *x.shape[2:])
        rgb = blocks(rgb).mean((1, 3))
        d = np.nan_to_num(d, nan=0.0, posinf=0.0, neginf=0.0)
        wsum = blocks(a).sum((1, 3))
        d = np.where(wsum > 1e-6, blocks(a * d).sum((1, 3)) / np.maximum(wsum, 1e-6), blocks(d).mean((1, 3)))
        a = wsum / (factor * factor)
    return rgb, d, a


def _reuse_factor(path_cams, cams) -> int:
    """The integer factor between the path's frames and the report's (0: not an integer downscale)."""
    fw, fh, w, h = int(path_cams.width[0]), int(path_cams.height[0]), int(cams.width[0]), int(cams.height[0])
    f = fw // max(w, 1)
    return f if f >= 1 and w * f == fw and h * f == fh else 0


def tour_report(
    run: LoadedRun,
    path: CameraPath,
    json_out: Path,
    png_out: Path,
    *,
    scale: float = 0.25,
    stride: int = 1,
    walking: bool = True,
    frames_dir: Path | None = None,
    ground_truth: bool = True,
    gt_every: int = 0,
    gt_supersample: int = GT_SUPERSAMPLE,
    chunk: int = 1 << 15,
    render_fn=None,
    progress: bool = True,
    title: str = "",
    console: Console | None = None,
) -> ReportResult:
    """Measure ``path`` rendered by ``run`` and write the JSON report and the timeline PNG.

    ``render_fn(cameras, i) -> {"rgb", "depth", "accumulation"}`` replaces ``run.render`` (tests inject
    floaters through it). Returns the paths written, the summary and the framing warnings."""
    t0 = time.time()
    if scale <= 0:
        raise InputError("must be positive", field="--scale")
    if stride < 1:
        raise InputError("must be at least 1", field="--stride")
    if gt_every < 0:
        raise InputError("must be 0 (auto) or more", field="--gt-every")
    if gt_supersample < 1:
        raise InputError("must be at least 1", field="--gt-supersample")
    n = len(path.cameras)
    if n == 0:
        raise InputError("the camera path has no frames", file=path.source, field="camera_path")
    fps = float(path.video_fps)
    render_fn = render_fn or (lambda cams, i: run.render(cams, i, chunk=chunk))
    scene = path_scene(run)
    volume = volume_from_run(run, max_cells=128)
    c2w = path.cameras.c2w.double().numpy()
    framing = check_framing(path.cameras, volume, scene.train_c2w, max_pitch_deg=10.0 if walking else None)
    warnings = framing_warnings(framing, fps)
    yaw_rate, pitch = _yaw_pitch(c2w, volume.up, fps)
    shake_d, shake_a = pose_shake(c2w)
    smooth = smooth_poses(c2w)

    cams = path.cameras.scaled(scale) if scale != 1.0 else path.cameras
    w, h = int(cams.width[0]), int(cams.height[0])
    pinhole = all(m == "PINHOLE" for m in cams.model)
    factor = _reuse_factor(path.cameras, cams) if frames_dir is not None else 0
    gt_scene = ground_truth_scene(scene) if ground_truth else None
    starts = list(range(0, n - 1, stride)) if n > 1 else [0]
    todo = sorted({i for t in starts for i in (t, t + 1) if i < n})
    n_thumbs = min(16, n)
    thumb_ids = sorted({int(round(x)) for x in np.linspace(0, n - 1, n_thumbs)})
    gt_step = gt_every or max(1, -(-n // GT_MAX_FRAMES))
    gt_ids = set(range(0, n, gt_step)) if gt_scene is not None else set()
    todo = sorted(set(todo) | set(thumb_ids) | gt_ids)

    consistency = np.full(n, np.nan)
    floaters = np.full(n, np.nan)
    floater_fn = sfm_floaters_fn(run, scene) if pinhole else None
    rmse = np.full(n, np.nan)
    gt_psnr = np.full(n, np.nan)
    thumbs: dict[int, np.ndarray] = {}
    prev: tuple[int, tuple] | None = None
    start_set = set(starts)
    console = console or Console(stderr=True)
    with Progress(TextColumn("report"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                  disable=not progress, transient=True) as bar:
        task = bar.add_task("frames", total=len(todo))
        for i in todo:
            got = _reuse_frame(frames_dir, i, w, h, factor) if factor else None
            if got is None:
                out = render_fn(cams, i)
                got = tuple(np.asarray(out[k].detach().cpu() if hasattr(out[k], "detach") else out[k], np.float32)
                            for k in ("rgb", "depth", "accumulation"))
            rgb, depth, acc = got
            depth = depth.reshape(h, w)
            acc = acc.reshape(h, w)
            if i in thumb_ids:
                thumbs[i] = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
            if floater_fn is not None:
                f = floater_fn(cams, i)
                floaters[i] = np.nan if f is None else f
            if i in gt_ids:
                gt, _ = render_views(gt_scene, cams[[i]], supersample=gt_supersample)
                gt_psnr[i] = psnr(np.clip(rgb, 0, 1), gt[0])
            if prev is not None and prev[0] == i - 1 and (i - 1) in start_set and pinhole:
                r0, d0, a0 = prev[1]
                m = temporal_consistency(r0, d0, smooth[i - 1], _intrinsics(cams, i - 1), rgb, depth, smooth[i],
                                         _intrinsics(cams, i), a0, acc)
                if m["psnr"] is not None:
                    consistency[i - 1], rmse[i - 1] = m["psnr"], m["rmse"]
            prev = (i, (rgb, depth, acc))
            bar.advance(task)

    per_frame = {"time_s": [round(i / fps, 4) for i in range(n)],
                 "consistency_db": [None if not np.isfinite(x) else round(float(x), 3) for x in consistency],
                 "consistency_rmse": [None if not np.isfinite(x) else round(float(x), 3) for x in rmse],
                 "gt_psnr_db": [None if not np.isfinite(x) else round(float(x), 3) for x in gt_psnr],
                 "yaw_rate_deg_s": [round(float(x), 3) for x in yaw_rate],
                 "shake": [round(float(x), 5) for x in shake_d],
                 "shake_deg": [round(float(x), 4) for x in shake_a],
                 **framing.per_frame()}
    if floater_fn is not None:
        per_frame["floaters"] = [None if not np.isfinite(x) else round(float(x), 4) for x in floaters]
    flags = {k: framing.flags[k] for k in FLAG_KINDS}
    summary = {
        "frames": n, "fps": fps, "duration_s": round(n / fps, 3), "measured_resolution": f"{w}x{h}",
        "stride": stride,
        "consistency_db": _stats(consistency),
        "gt_psnr_db": _stats(gt_psnr) if gt_scene is not None else None,
        "gt_settings": ({"every": gt_step, "frames": len(gt_ids), "supersample": gt_supersample}
                        if gt_scene is not None else None),
        "clearance": _stats(framing.clearance),
        "min_clearance": round(float(framing.clearance.min()), 4),
        "train_distance": _stats(framing.train_distance, higher_better=False),
        "train_angle_deg": _stats(framing.train_angle, higher_better=False),
        "unseen_fraction": _stats(framing.unseen_fraction, higher_better=False),
        "near_fraction": _stats(framing.near_fraction, higher_better=False),
        "max_yaw_rate_deg_s": round(float(yaw_rate.max()), 3),
        "max_abs_pitch_deg": round(float(np.abs(pitch).max()), 3),
        "max_shake": round(float(shake_d.max()), 5),
        "max_shake_deg": round(float(shake_a.max()), 4),
        "flagged_frames": {k: int(v.sum()) for k, v in flags.items()},
        "framing_settings": framing.settings,
    }
    if floater_fn is not None:
        summary["floaters"] = _stats(floaters, higher_better=False)
    verdicts = _verdicts(summary, consistency, gt_psnr if gt_scene is not None else None)
    if floater_fn is not None and summary["floaters"]["mean"] is not None:
        fl = summary["floaters"]
        bad = int(np.sum(floaters > FLOATERS_BAD))
        verdicts["floaters"] = (f"{fl['mean']:.3f} mean, worst {fl['max']:.3f} (frame {fl['worst_frames'][0]}); "
                                f"{bad} measured frames above {FLOATERS_BAD:g}")
    summary["verdicts"] = verdicts
    doc = {"format": "scenegen-tour-report-1", "run": str(run.run_dir), "camera_path": str(path.source or ""),
           "step": run.step, "summary": summary, "warnings": [w.message for w in warnings], "per_frame": per_frame}
    json_out = Path(json_out)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(json_out, json.dumps(doc, indent=1))
    rows = _rows(consistency, gt_psnr if gt_scene is not None else None, framing, yaw_rate, verdicts, floaters)
    timeline_png(png_out, rows, thumbs, n, fps, title=title or (path.source.name if path.source else "tour"),
                 subtitle=f"run {run.run_dir} (step {run.step}), {n} frames at {fps:g} fps, measured at {w}x{h}")
    summary["seconds"] = round(time.time() - t0, 2)
    return ReportResult(json=json_out, png=Path(png_out), summary=summary, warnings=warnings,
                        seconds=summary["seconds"])


def _fmt(x, unit: str, nd: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}{unit}"


def _verdicts(s: dict, consistency: np.ndarray, gt: np.ndarray | None) -> dict:
    """One line per metric: its headline numbers and a word (good / fair / poor)."""
    c = s["consistency_db"]
    bad_c = int(np.sum(consistency < CONSISTENCY_BAD_DB))
    out = {"consistency": "n/a"}
    if c["mean"] is not None:
        out["consistency"] = (f"{_fmt(c['mean'], ' dB')} mean, {_fmt(c.get('p10'), ' dB')} p10; "
                              f"{bad_c} measured frames below {CONSISTENCY_BAD_DB:g} dB")
    if gt is not None and s["gt_psnr_db"]["mean"] is not None:
        g = s["gt_psnr_db"]
        out["gt_psnr"] = (f"{_fmt(g['mean'], ' dB')} mean, {_fmt(g['p10'], ' dB')} p10, worst {_fmt(g['min'], ' dB')} "
                          f"(frame {g['worst_frames'][0]})")
    td = s["train_distance"]
    out["support"] = (f"nearest training view {_fmt(td['mean'], ' m', 2)} mean, {_fmt(td['max'], ' m', 2)} max; "
                      f"{s['flagged_frames']['unseen']} frames on unseen views")
    out["clearance"] = (f"min {s['min_clearance']:.2f} m; {s['flagged_frames']['too_close']} frames closer than "
                        f"{s['framing_settings']['min_clearance']:g} m")
    f = s["flagged_frames"]
    out["framing"] = (f"{f['wall_in_face']} wall-in-face, {f['floor_ceiling']} floor/ceiling frames; max pitch "
                      f"{s['max_abs_pitch_deg']:.0f} deg, max yaw rate {s['max_yaw_rate_deg_s']:.0f} deg/s")
    return out


def _rows(consistency, gt, framing, yaw_rate, verdicts, floaters=None) -> list[dict]:
    """The timeline's rows (see :func:`scenegen.video.report.timeline_png`)."""
    st = framing.settings
    measured = np.flatnonzero(np.isfinite(consistency))
    filled = consistency
    if len(measured):  # frames between measured pairs (--stride) take the nearest measurement's verdict
        nearest = measured[np.abs(np.arange(len(consistency))[:, None] - measured[None, :]).argmin(1)]
        filled = consistency[nearest]
    rows = [dict(name="temporal consistency", unit="dB", values=consistency, bad=filled < CONSISTENCY_BAD_DB,
                 threshold=CONSISTENCY_BAD_DB, verdict=verdicts["consistency"])]
    if gt is not None:
        rows.append(dict(name="PSNR vs ground truth", unit="dB", values=gt, bad=gt < GT_PSNR_BAD_DB,
                         threshold=GT_PSNR_BAD_DB, verdict=verdicts.get("gt_psnr", "n/a")))
    if "floaters" in verdicts and np.isfinite(floaters).any():
        rows.append(dict(name="floaters (weight before the SfM surface)", unit="", values=floaters,
                         bad=np.nan_to_num(floaters) > FLOATERS_BAD, threshold=FLOATERS_BAD,
                         verdict=verdicts["floaters"]))
    rows.append(dict(name="support: nearest training view", unit="m", values=framing.train_distance,
                     bad=framing.flags["unseen"], threshold=st["max_train_distance"], verdict=verdicts["support"]))
    rows.append(dict(name="clearance", unit="m", values=framing.clearance, bad=framing.flags["too_close"],
                     threshold=st["min_clearance"], verdict=verdicts["clearance"]))
    rows.append(dict(name="picture closer than 1 m", unit="%", values=framing.near_fraction * 100,
                     bad=framing.flags["wall_in_face"], threshold=100 * st["max_near_fraction"],
                     verdict=verdicts["framing"]))
    rows.append(dict(name="pitch", unit="deg", values=framing.pitch_deg, bad=framing.flags["floor_ceiling"],
                     threshold=st["max_pitch_deg"], symmetric=True, verdict=""))
    rows.append(dict(name="yaw rate", unit="deg/s", values=yaw_rate, bad=yaw_rate > 30.0, threshold=30.0,
                     verdict=""))
    return rows


def report_paths(camera_path: Path, output: Path | None) -> tuple[Path, Path]:
    """PATH.report.json and PATH.report.png in ``output`` (default: beside the camera path)."""
    folder = Path(output) if output is not None else Path(camera_path).parent
    stem = Path(camera_path).stem
    return folder / f"{stem}.report.json", folder / f"{stem}.report.png"


def report(cfg: ReportConfig, *, run: LoadedRun | None = None, console: Console | None = None) -> ReportResult:
    """Run ``scenegen report``."""
    if not Path(cfg.camera_path).is_file():
        raise InputError("camera path not found", file=cfg.camera_path, field="--camera-path")
    dataset_json = None
    if cfg.dataparser_transforms is not None:
        data = Path(RunScene.read(cfg.run).data)
        cand = data / "transforms.json" if data.is_dir() else data
        dataset_json = cand if cand.is_file() else None
    path = load_camera_path(cfg.camera_path, cfg.dataparser_transforms, dataset_transforms=dataset_json)
    run = run if run is not None else load_run(cfg.run, cfg.device)
    json_out, png_out = report_paths(cfg.camera_path, cfg.output)
    return tour_report(run, path, json_out, png_out, scale=cfg.scale, stride=cfg.stride, walking=cfg.walking,
                       frames_dir=cfg.frames, ground_truth=cfg.ground_truth, gt_every=cfg.gt_every,
                       gt_supersample=cfg.gt_supersample, chunk=cfg.chunk, progress=cfg.progress,
                       console=console)
