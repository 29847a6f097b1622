"""`scenegen demo`: the whole chain on the built-in scene, in a few minutes on a 2-core CPU.

1. build a furnished room with trimesh and render a posed dataset from it with open3d's ray casting;
2. train a radiance field on it within a time budget;
3. evaluate on held-out views;
4. render an eye-level tour of the room to an H.264 MP4 (plus a contact sheet of frames).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from scenegen.train.checkpoint import atomic_write_text


@dataclass
class DemoConfig:
    """Run the whole chain on the built-in default scene (a furnished room)."""

    output: Path = Path("scenegen-demo")
    """Folder for the dataset, the run, the camera path and the video."""
    train_minutes: float = 2.5
    """Training time budget (the field keeps improving with more)."""
    views: int = 100
    """Training views rendered from the synthetic room."""
    width: int = 160
    height: int = 120
    video_width: int = 320
    video_height: int = 240
    video_frames: int = 96
    fps: int = 24
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    progress: bool = True


def tour_camera_path(c2w: np.ndarray, width: int, height: int, fov_deg: float, fps: int) -> dict:
    """A nerfstudio viewer camera_path.json object for c2w matrices (N, 4, 4)."""
    return {
        "camera_type": "perspective",
        "render_height": int(height),
        "render_width": int(width),
        "fps": float(fps),
        "seconds": len(c2w) / float(fps),
        "is_cycle": True,
        "smoothness_value": 0.0,
        "camera_path": [
            {"camera_to_world": np.asarray(m, dtype=float).reshape(-1).tolist(), "fov": float(fov_deg), "aspect": width / height}
            for m in c2w
        ],
    }


def contact_sheet(frames_dir: Path, out: Path, count: int = 12, cols: int = 4) -> None:
    """A grid of ``count`` evenly spaced frames from ``frames_dir``."""
    from PIL import Image

    files = sorted(frames_dir.glob("*.png"))
    if not files:
        return
    pick = [files[int(k)] for k in np.linspace(0, len(files) - 1, min(count, len(files)))]
    imgs = [np.asarray(Image.open(f).convert("RGB")) for f in pick]
    h, w = imgs[0].shape[:2]
    rows = (len(imgs) + cols - 1) // cols
    sheet = np.full((rows * h, cols * w, 3), 255, np.uint8)
    for k, im in enumerate(imgs):
        r, c = divmod(k, cols)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = im
    import io

    from scenegen.train.checkpoint import atomic_write_bytes

    buf = io.BytesIO()
    Image.fromarray(sheet).save(buf, format="PNG")
    atomic_write_bytes(out, buf.getvalue())


def run_demo(cfg: DemoConfig, console=None) -> dict:
    from rich.console import Console

    from scenegen.data.loader import load_dataset
    from scenegen.data.synth import demo_tour_path_c2w, make_demo_scene, synthesize_dataset
    from scenegen.paths import camera_path_from_dict, save_camera_path
    from scenegen.train.config import TrainConfig
    from scenegen.train.evaluate import evaluate
    from scenegen.train.run import load_run
    from scenegen.train.trainer import Trainer
    from scenegen.video.render_path import render_camera_path

    console = console or Console(stderr=True)
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    timings = {}

    from scenegen.field.encoding import prebuild_cpu_kernel

    prebuild_cpu_kernel()  # the first run compiles the C++ kernels: overlap that with the dataset synthesis
    console.print("[bold]1/4[/] building the demo room and rendering training views ...")
    scene = make_demo_scene(cfg.seed)
    data_dir = out / "dataset"
    if not (data_dir / "transforms.json").is_file():
        synthesize_dataset(scene, data_dir, n_train=cfg.views, n_test=max(4, cfg.views // 8), width=cfg.width, height=cfg.height, seed=cfg.seed)
    timings["dataset_s"] = round(time.time() - t0, 1)

    console.print(f"[bold]2/4[/] training for {cfg.train_minutes:g} min ...")
    t1 = time.time()
    run_dir = out / "run"
    ds = load_dataset(data_dir)
    resume = (run_dir / "checkpoints" / "latest.pt").is_file()
    if resume:
        console.print("  (a trained run exists in this folder: reusing it; delete it to retrain)")
    else:
        from scenegen.train.trainer import process_elapsed

        tcfg = TrainConfig(data=data_dir, output=run_dir, time_budget=cfg.train_minutes, seed=cfg.seed,
                           device=cfg.device, progress=cfg.progress, eval_every=0)
        trainer = Trainer(tcfg, dataset=ds, console=console)
        trainer.budget_origin = process_elapsed()  # dataset synthesis is not training time
        trainer.setup()
        trainer.train()
    timings["train_s"] = round(time.time() - t1, 1)

    console.print("[bold]3/4[/] evaluating on held-out views ...")
    run = load_run(run_dir, cfg.device)
    ev = evaluate(run, ds, output=run_dir / "eval", save_images=4, progress=cfg.progress)

    console.print("[bold]4/4[/] rendering the tour video ...")
    t2 = time.time()
    c2w = demo_tour_path_c2w(scene, cfg.video_frames)
    path_json = tour_camera_path(c2w, cfg.video_width, cfg.video_height, 75.0, cfg.fps)
    path = camera_path_from_dict(path_json, source="demo tour")
    path_file = out / "tour_camera_path.json"
    save_camera_path(path, path_file)
    video = out / "tour.mp4"
    frames_dir = out / "frames"
    summary = render_camera_path(
        lambda cams, i: run.render(cams, i), path, video, frames_dir, resume=True, progress=cfg.progress,
        fingerprint_extra=f"step{run.step}",
    )
    contact_sheet(frames_dir, out / "tour_contact_sheet.png")
    timings["render_s"] = round(time.time() - t2, 1)
    timings["total_s"] = round(time.time() - t0, 1)
    result = {
        "dataset": str(data_dir),
        "run": str(run_dir),
        "camera_path": str(path_file),
        "video": str(video),
        "contact_sheet": str(out / "tour_contact_sheet.png"),
        "eval_psnr": round(ev["psnr"], 2),
        "eval_ssim": round(ev["ssim"], 4),
        "train_steps": run.step,
        "render_s_per_frame": round(summary["s_per_frame"], 3),
        "timings": timings,
    }
    atomic_write_text(out / "demo.json", json.dumps(result, indent=2))
    return result
