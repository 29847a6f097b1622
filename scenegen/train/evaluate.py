"""Held-out evaluation: PSNR / SSIM per image, side-by-side pictures and ``eval.json``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text, write_png
from scenegen.data.dataset import SceneDataset
from scenegen.train.metrics import psnr, ssim
from scenegen.train.run import LoadedRun


def error_map(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 heat map of the per-pixel absolute error (black = 0, yellow/white = large)."""
    e = np.abs(pred.astype(np.float32) - gt.astype(np.float32)).mean(-1) / 255.0
    e = np.clip(e * 4.0, 0, 1)  # x4 so that small errors are visible
    return (np.stack([np.clip(e * 3, 0, 1), np.clip(e * 3 - 1, 0, 1), np.clip(e * 3 - 2, 0, 1)], -1) * 255).astype(np.uint8)


def depth_error(ray_dist: np.ndarray, gt_z: np.ndarray, cameras, i: int) -> float | None:
    """Mean absolute z-depth error (world units, metres for metric datasets) over pixels with known depth.

    ray_dist: (H, W) rendered distance along each ray; gt_z: (H, W) z-depth (0 = unknown)."""
    known = gt_z > 0
    if not known.any() or gt_z.shape != ray_dist.shape:
        return None
    h, w = gt_z.shape
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float32) + 0.5, torch.arange(w, dtype=torch.float32) + 0.5, indexing="ij")
    cams = cameras.to("cpu")
    idx = torch.full((h * w,), i, dtype=torch.long)
    _, dirs = cams.generate_rays(idx, u.reshape(-1), v.reshape(-1))
    cos = (dirs * -cams.c2w[i, :, 2][None]).sum(-1).reshape(h, w).numpy()
    z = ray_dist * cos
    return float(np.abs(z - gt_z)[known].mean())


def evaluate(
    run: LoadedRun,
    dataset: SceneDataset,
    split: str | None = None,
    output: Path | None = None,
    every: int = 1,
    save_images: int = 8,
    progress: bool = True,
) -> dict:
    """Render the held-out views of ``split`` (default: test, else val) and compare with the photos.

    Writes ``output/eval.json`` (per-image PSNR/SSIM, means, render time) and, for up to ``save_images`` views,
    ``output/<name>.png`` side by side: ground truth | render | error.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    split = split or dataset.eval_split_name()
    frames = dataset.split(split)[:: max(1, every)]
    if not frames:
        raise InputError(f"the dataset has no '{split}' images", file=dataset.root, field="--split")
    output = Path(output) if output else run.run_dir / "eval"
    output.mkdir(parents=True, exist_ok=True)
    bg = run.background.cpu().numpy()
    rows = []
    keep = set(frames[:: max(1, len(frames) // max(1, save_images))][:save_images]) if save_images > 0 else set()
    t_render = 0.0
    cols = [TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TextColumn("psnr {task.fields[p]:.2f}"), TimeRemainingColumn()]
    with Progress(*cols, disable=not progress) as prog:
        task = prog.add_task("eval", total=len(frames), p=0.0)
        for i in frames:
            gt = dataset.load_rgb(i, background=bg)
            t0 = time.time()
            out = run.render(dataset.cameras, i)
            t_render += time.time() - t0
            pred = out["rgb"].numpy()
            p = psnr(torch.from_numpy(pred), torch.from_numpy(gt))
            s = ssim(torch.from_numpy(pred), torch.from_numpy(gt))
            name = Path(dataset.image_paths[i]).stem
            rows.append({"frame": int(i), "image": str(dataset.image_paths[i]), "psnr": round(p, 4), "ssim": round(s, 5)})
            gt_depth = dataset.load_depth(i) if dataset.depth_paths else None
            if gt_depth is not None and "depth" in out:
                err = depth_error(out["depth"].numpy(), gt_depth, dataset.cameras, i)
                if err is not None:
                    rows[-1]["depth_mae"] = round(err, 5)
            if i in keep:
                g8 = (gt * 255 + 0.5).astype(np.uint8)
                p8 = (np.clip(pred, 0, 1) * 255 + 0.5).astype(np.uint8)
                write_png(output / f"{name}.png", np.concatenate([g8, p8, error_map(p8, g8)], 1))
            prog.update(task, advance=1, p=float(np.mean([r["psnr"] for r in rows])))
    result = {
        "run": str(run.run_dir),
        "step": run.step,
        "split": split,
        "num_images": len(rows),
        "psnr": float(np.mean([r["psnr"] for r in rows])),
        "ssim": float(np.mean([r["ssim"] for r in rows])),
        "seconds_per_image": t_render / len(rows),
        **({"depth_mae": float(np.mean([r["depth_mae"] for r in rows if "depth_mae" in r]))}
           if any("depth_mae" in r for r in rows) else {}),
        "images": rows,
    }
    atomic_write_text(output / "eval.json", json.dumps(result, indent=2))
    return result
