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
from scenegen.field.appearance import nearest_code
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


def heldout_appearance(run: LoadedRun, dataset: SceneDataset, mode: str = "nearest"):
    """``(look, used)``: ``look(i)`` is the appearance code to render frame ``i`` of ``dataset`` with (None: the
    mean), ``used`` says which ("nearest": the two training photos nearest in pose, :mod:`scenegen.field.appearance`;
    "mean"; "none" for runs without appearance codes). "nearest" needs the dataset's training photos to be the
    run's (same count and poses); otherwise the mean is used."""
    table = run.renderer.field.appearance
    if table is None:
        return (lambda i: None), "none"
    train = dataset.split("train")
    c2w = dataset.cameras.c2w.detach().cpu().double().numpy()
    run_c2w = np.asarray(run.scene.train_c2w, dtype=np.float64)
    same = (mode == "nearest" and len(train) == len(run_c2w) and len(train) > 0
            and table.weight.shape[0] > max(train)
            and np.allclose(c2w[train][:, :3, :], run_c2w[:, :3, :], atol=1e-4 * (1.0 + np.abs(run_c2w).max())))
    if not same:
        return (lambda i: None), "mean"
    weights = table.weight.detach()
    return (lambda i: nearest_code(weights, train, c2w[train], c2w[i])), "nearest"


def evaluate(
    run: LoadedRun,
    dataset: SceneDataset,
    split: str | None = None,
    output: Path | None = None,
    every: int = 1,
    save_images: int = 8,
    progress: bool = True,
    appearance: str = "nearest",
) -> dict:
    """Render the held-out views of ``split`` (default: test, else val) and compare with the photos.

    ``appearance`` (runs with per-photo appearance codes): "nearest" renders each held-out photo with the look of
    the training photos taken nearest to it (:func:`heldout_appearance`), "mean" with the training photos'
    mean look (what tours use).

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
    look, used = heldout_appearance(run, dataset, appearance)
    cols = [TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TextColumn("psnr {task.fields[p]:.2f}"), TimeRemainingColumn()]
    with Progress(*cols, disable=not progress) as prog:
        task = prog.add_task("eval", total=len(frames), p=0.0)
        for i in frames:
            gt = dataset.load_rgb(i, background=bg)
            t0 = time.time()
            out = run.render(dataset.cameras, i, appearance=look(i))
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
        "appearance": used,
        **({"depth_mae": float(np.mean([r["depth_mae"] for r in rows if "depth_mae" in r]))}
           if any("depth_mae" in r for r in rows) else {}),
        "images": rows,
    }
    atomic_write_text(output / "eval.json", json.dumps(result, indent=2))
    return result
