"""The training loop: posed images -> radiance field checkpoint.

Per step: sample pixels of the training images, march their rays through the occupancy grid, render, take an
MSE loss against the pixels and an Adam step. The ray batch adapts so each step renders about
``target_samples`` samples, which keeps step time steady as the grid prunes empty space. The learning rate
decays exponentially with *progress*, the larger of step/max_steps and elapsed/time_budget, so time-budgeted
runs anneal properly. Randomness is drawn from a generator re-seeded from (seed, step) each step, so a resumed
run continues exactly as an uninterrupted one would.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from scenegen.data.dataset import SceneDataset, SceneTransform, compute_scene_transform
from scenegen.data.loader import load_dataset
from scenegen.data.run_scene import RunScene
from scenegen.core.errors import InputError
from scenegen.field.appearance import nearest_code
from scenegen.field.field import RadianceField, choose_cpu_threads
from scenegen.kernels import prebuild_cpu_kernels
from scenegen.render.estimator import OccupancyGrid
from scenegen.render.marching import ray_aabb
from scenegen.render.renderer import Renderer
from scenegen.train.checkpoint import RunLock, load_checkpoint, load_state, save_checkpoint
from scenegen.train.journal import MetricsLog, resume_overrides
from scenegen.train.config import TrainConfig
from scenegen.train.metrics import mse_to_psnr, psnr
from scenegen.train.regularize import distortion_loss, level_weights
from scenegen.train.resolution import auto_downscale

_IMPORT_TIME = time.time()


def process_elapsed() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere: since scenegen was imported)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except Exception:
        return time.time() - _IMPORT_TIME


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("CUDA was asked for but torch sees no CUDA device", field="--device")
    return torch.device(name)


def background_color(name: str, device) -> torch.Tensor:
    """The fixed background colour for evaluation/rendering (random -> white)."""
    return torch.zeros(3, device=device) if name == "black" else torch.ones(3, device=device)


class PixelBank:
    """All pixels of a set of training images, flattened, for uniform random ray batches.

    Images are kept as uint8 (P, C) with C = 3 or 4 (alpha), so memory is about P * C bytes.
    """

    def __init__(self, ds: SceneDataset, frames: list[int], device: torch.device, progress=None, with_depth: bool = False):
        if not frames:
            raise InputError("the dataset has no training images", file=ds.root, field="frames")
        chunks, offsets, widths = [], [0], []
        channels = None
        for k, i in enumerate(frames):
            img = ds.load_image(i)
            c = img.shape[2]
            if channels is None:
                channels = c
            elif c != channels:  # mix of RGB and RGBA: promote to RGBA
                channels = 4
            chunks.append(img)
            widths.append(img.shape[1])
            offsets.append(offsets[-1] + img.shape[0] * img.shape[1])
            if progress is not None:
                progress(k + 1, len(frames))
        self.depth = None
        self.sparse_idx = self.sparse_z = None  # pixels with a structure-from-motion depth (flat index, z)
        if with_depth and not ds.depth_paths and ds.metadata.get("sparse_depth_file"):
            self._load_sparse_depth(ds, frames, offsets, widths, device)
        if with_depth and ds.depth_paths:
            depths = []
            for i, img in zip(frames, chunks):
                dmap = ds.load_depth(i)
                if dmap is None:
                    dmap = np.zeros(img.shape[:2], np.float32)
                depths.append(torch.from_numpy(np.nan_to_num(dmap.astype(np.float32))).reshape(-1))
            self.depth = torch.cat(depths).to(device)  # z-depth in world units, 0 = unknown
        data = []
        for img in chunks:
            if img.shape[2] < channels:
                img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], 2)
            data.append(torch.from_numpy(np.ascontiguousarray(img)).reshape(-1, channels))
        self.pixels = torch.cat(data).to(device)
        self.offsets = torch.tensor(offsets, dtype=torch.long, device=device)
        self.widths = torch.tensor(widths, dtype=torch.long, device=device)
        self.frames = torch.tensor(frames, dtype=torch.long, device=device)
        self.channels = channels
        self.device = device

    def __len__(self) -> int:
        return self.pixels.shape[0]

    def _load_sparse_depth(self, ds: SceneDataset, frames: list[int], offsets: list[int], widths: list[int], device) -> None:
        """Read ``sparse_depth.npz`` (see :func:`scenegen.data.capture.colmap.write_sparse_depth`)."""
        path = Path(ds.metadata["sparse_depth_file"])
        try:
            z = np.load(path)
            files, off, uvz = z["file_paths"], z["offsets"], z["uvz"]
        except FileNotFoundError:
            raise InputError("sparse depth file not found", file=path, field="sparse_depth_file") from None
        except Exception as e:
            raise InputError(f"cannot read the sparse depth file: {e}", file=path, field="sparse_depth_file") from None
        root = path.parent
        by_file = {str((root / str(f)).resolve()): k for k, f in enumerate(files)}
        idx, zs = [], []
        s = float(ds.downscale or 1)
        for k, i in enumerate(frames):
            j = by_file.get(str(Path(ds.image_paths[i]).resolve()))
            if j is None:
                continue
            rows = uvz[off[j] : off[j + 1]]
            h = (offsets[k + 1] - offsets[k]) // widths[k]
            u = np.floor(rows[:, 0] / s).astype(np.int64)
            v = np.floor(rows[:, 1] / s).astype(np.int64)
            ok = (u >= 0) & (u < widths[k]) & (v >= 0) & (v < h) & np.isfinite(rows[:, 2]) & (rows[:, 2] > 0)
            idx.append(offsets[k] + v[ok] * widths[k] + u[ok])
            zs.append(rows[ok, 2])
        if idx and sum(len(x) for x in idx):
            self.sparse_idx = torch.from_numpy(np.concatenate(idx)).to(device)
            self.sparse_z = torch.from_numpy(np.concatenate(zs).astype(np.float32)).to(device)

    def known_depth(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Flat pixel indices and z-depths of every pixel with a known depth (dense maps or SfM points)."""
        if self.sparse_idx is not None:
            return self.sparse_idx, self.sparse_z
        if self.depth is not None:
            known = torch.nonzero(self.depth > 0).squeeze(-1)
            return known, self.depth[known]
        return None

    def sample(self, n: int, generator: torch.Generator, sparse: bool = True):
        """n random pixels: frame index (n,), u (n,), v (n,) pixel centres, colours (n, C) float in [0, 1],
        z-depth (n,) in world units (0 = unknown) or None. ``sparse``: one ray in eight through a
        structure-from-motion point (when the bank has them)."""
        flat = torch.randint(0, len(self), (n,), generator=generator, device=self.device)
        depth = self.depth[flat] if self.depth is not None else None
        if self.sparse_idx is not None and sparse:
            # one ray in eight goes through a pixel where structure from motion saw a point (its depth is known)
            k = max(1, n // 8)
            pick = torch.randint(0, self.sparse_idx.numel(), (k,), generator=generator, device=self.device)
            flat[:k] = self.sparse_idx[pick]
            depth = torch.zeros(n, device=self.device)
            depth[:k] = self.sparse_z[pick]
        img = torch.searchsorted(self.offsets, flat, right=True) - 1
        local = flat - self.offsets[img]
        w = self.widths[img]
        v = torch.div(local, w, rounding_mode="floor")
        u = local - v * w
        return self.frames[img], u.float() + 0.5, v.float() + 0.5, self.pixels[flat].float() / 255.0, depth


@dataclass
class TrainResult:
    run_dir: Path
    steps: int
    seconds: float
    last_eval_psnr: float | None


def build_renderer(cfg: TrainConfig, bounded: bool, num_images: int, device) -> tuple[RadianceField, OccupancyGrid, Renderer]:
    field = RadianceField(cfg.field, bounded=bounded, num_images=num_images).to(device)
    step = cfg.march.base_step(bounded)
    grid = OccupancyGrid(cfg.grid_resolution, bounded=bounded, step_size=step).to(device)
    return field, grid, Renderer(field, grid, cfg.march, bounded)


def scene_box_field(ds: SceneDataset, transform: SceneTransform) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The dataset's content box (aabb) in field coordinates, or None when the dataset gives none."""
    if ds.aabb is None:
        return None
    box = torch.as_tensor(np.asarray(ds.aabb, dtype=np.float32).reshape(2, 3))
    f = transform.world_to_field_points(box)
    return f.amin(0), f.amax(0)


def pixel_footprint_resolution(cams, bounded: bool, oversample: float = 2.5) -> int:
    """The finest hash-grid resolution (cells across the field's unit cube) the training images can inform.

    A pixel at distance d from a camera of focal f (pixels) covers d / f field units; the unit cube spans 2
    field units (bounded) or 4 (contracted), and Instant-NGP's finest level is about 2.5x finer than the pixel
    footprint (2048 for 800x800 NeRF-synthetic). d is the distance to the box centre for cameras outside the box
    and half the forward distance to the box wall for cameras inside it (rooms); the 25th percentile over cameras
    favours the closer views. Clamped to [256, 4096].
    """
    o = cams.c2w[:, :, 3].float().cpu()
    fwd = -cams.c2w[:, :, 2].float().cpu()
    fwd = fwd / fwd.norm(dim=-1, keepdim=True).clamp_min(1e-9)
    _, t_exit = ray_aabb(o, fwd)
    d = torch.maximum(o.norm(dim=-1), 0.5 * t_exit.clamp_min(0.0)).clamp_min(0.05)
    f = torch.maximum(cams.fx, cams.fy).float().cpu()
    span = 2.0 if bounded else 4.0
    res = oversample * span * torch.quantile(f / d, 0.75)
    return int(min(4096, max(256, round(float(res)))))


def resolve_auto(cfg: TrainConfig, ds: SceneDataset, cams_field=None, device_type: str = "cpu") -> TrainConfig:
    """Fill 'auto' choices from the dataset and device (recorded in the saved config)."""
    if cfg.scene_kind == "auto":
        cfg.scene_kind = "bounded" if ds.bounded else "unbounded"
    grid = cfg.field.grid
    if grid.log2_hashmap_size <= 0:
        # On CPU every step's Adam update and gradient clearing sweep the whole table: 2^17 entries per level
        # trained lego to a higher PSNR in 5 minutes than 2^16, 2^18 or 2^19 (BENCHMARKS.md).
        grid.log2_hashmap_size = 19 if device_type == "cuda" else 17
    if grid.max_resolution <= 0 or grid.levels <= 0:
        auto = pixel_footprint_resolution(cams_field, cfg.scene_kind == "bounded") if cams_field is not None else None
        cfg.field.grid = grid.resolved(auto)
    if cfg.distortion_loss is None:
        # mip-NeRF 360's value; it cut floaters on fern and bonsai at equal steps (BENCHMARKS.md, real captures)
        cfg.distortion_loss = 0.01 if cfg.scene_kind == "unbounded" else 0.0
    if cfg.scene_kind == "unbounded":
        if cfg.march.cone_angle <= 0:
            cfg.march.cone_angle = 1.0 / 64
    return cfg


def depth_losses(out: dict, t_gt: torch.Tensor, known: torch.Tensor, step: float) -> torch.Tensor:
    """Depth supervision for rays with a known surface distance ``t_gt`` (R,) (field units, ``known`` mask).

    Two terms: L1 between the rendered expected distance and ``t_gt``, and the rendering weight that falls
    outside a band around the surface (half-width 2 marching steps or 1 % of the distance), as in
    depth-supervised NeRFs' line-of-sight losses. The second one empties free space in front of the surface and
    makes the surface opaque, so rays terminate early: inside-out scenes such as rooms render several times
    faster and without fog.
    """
    l1 = (out["depth"][known] - t_gt[known]).abs().mean()
    ray_idx, tm, w = out["ray_idx"], out["t_mid"], out["weights"]
    band = torch.clamp(0.01 * t_gt, min=2.0 * step)
    off = (tm - t_gt[ray_idx]).abs() > band[ray_idx]
    sel = off & known[ray_idx]
    stray = torch.zeros_like(t_gt).index_add_(0, ray_idx[sel], w[sel])
    return l1 + stray[known].mean()


class Trainer:
    def __init__(self, cfg: TrainConfig, dataset: SceneDataset | None = None, console=None):
        self.cfg = cfg
        self.console = console
        self.dataset = dataset
        self.device = resolve_device(cfg.device)
        # The time budget counts from here: process start for `scenegen train` (loading and warm-up included);
        # a pipeline that does other work first (the demo) sets it to when training began.
        self.budget_origin = 0.0
        self.budget_before = 0.0  # budget seconds used by the earlier processes of a resumed run
        self.ema_loss: float | None = None
        self.lock: RunLock | None = None
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)

    # ----------------------------------------------------------------------------------------------------------
    def setup(self) -> None:
        try:
            self._setup()
        except BaseException:
            if self.lock is not None:
                self.lock.release()
            raise

    def _say(self, text: str) -> None:
        from rich.console import Console

        (self.console or Console(stderr=True)).print(text, highlight=False, soft_wrap=True)

    def _setup(self) -> None:
        cfg = self.cfg.validate()
        if self.device.type == "cpu":
            prebuild_cpu_kernels()  # compiles (first run only) while the dataset loads
        run = Path(cfg.output)
        self.run_dir = run
        ckpt_path = run / "checkpoints" / "latest.pt"
        self.ckpt = None
        if cfg.resume:
            if not ckpt_path.is_file():
                raise InputError("--resume: no checkpoint in this run", file=ckpt_path)
            self.ckpt = load_checkpoint(ckpt_path)
            saved = TrainConfig.from_dict(self.ckpt["config"], file=ckpt_path)
            scene = RunScene.from_dict(self.ckpt["scene"], file=ckpt_path)
            # The run continues the schedule it was on; flags that would change it are ignored, and said so.
            for note in resume_overrides(cfg, saved, scene):
                self._say(note)
            self.cfg = cfg = saved
        elif ckpt_path.is_file():
            raise InputError(
                "this run folder already holds a checkpoint: pass --resume to continue it or choose another --output",
                file=ckpt_path,
            )
        if self.dataset is None:
            self.dataset = load_dataset(cfg.data, downscale=max(1, cfg.downscale), background=cfg.background)
            if cfg.downscale == 0:
                self._say(auto_downscale(self.dataset, cfg, self.device.type).reason)
        ds = self.dataset
        cfg.downscale = int(ds.downscale or 1)
        if cfg.scene_kind == "auto":
            cfg.scene_kind = "bounded" if ds.bounded else "unbounded"
        bounded = cfg.scene_kind == "bounded"
        if self.ckpt is not None:
            self.transform = scene.transform
        else:
            self.transform = compute_scene_transform(ds)
            self.transform.bounded = bounded
        self.cams = self.transform.cameras_to_field(ds.cameras).to(self.device)
        cfg = self.cfg = resolve_auto(cfg, ds, self.cams, self.device.type)
        self.train_frames = ds.split("train")
        self.eval_frames = ds.split(ds.eval_split_name())
        torch.manual_seed(cfg.seed)  # the field's initialisation: same --seed, same run
        self.field, self.grid, self.renderer = build_renderer(cfg, bounded, len(ds), self.device)
        if self.device.type == "cpu" and cfg.threads <= 0:
            cfg.threads = choose_cpu_threads(self.field)  # saved with the config: a resumed run uses the same
        elif cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        box = scene_box_field(ds, self.transform)
        if box is not None and bounded:
            self.grid.restrict_to_box(*box)
        self.optimizer = self._make_optimizer()
        self.step = 0
        self.train_seconds = 0.0
        self.num_rays = 1024
        if self.ckpt is not None:
            ck = self.ckpt
            load_state(self.field, ck["field"], ckpt_path, "field")
            load_state(self.grid, ck["grid"], ckpt_path, "grid")
            load_state(self.optimizer, ck["optimizer"], ckpt_path, "optimizer")
            self.step = int(ck["step"])
            self.train_seconds = float(ck.get("train_seconds", 0.0))
            self.num_rays = int(ck.get("num_rays", 1024))
            self.ema_loss = ck.get("ema_loss")
            # checkpoints written before budget_used was saved: their training time is the best estimate
            self.budget_before = float(ck.get("budget_used", ck.get("train_seconds", 0.0)))
        self.lock = RunLock(run)
        stale = self.lock.acquire()  # refuses a run folder another live process is training
        if stale:
            self._say(f"removed {len(stale)} temporary file(s) left by a killed run in {run}")
        cfg.save(run / "config.json")
        self.run_scene().write(run)
        self.bank = PixelBank(ds, self.train_frames, self.device, with_depth=cfg.depth_loss > 0 or cfg.depth_init)
        if cfg.depth_init and self.bank.known_depth() is not None and self.ckpt is None:
            self.seed_grid_from_depth()

    def seed_grid_from_depth(self, max_rays: int = 1 << 18) -> None:
        """Depth prior: carve the occupancy grid along up to ``max_rays`` training rays with known depth."""
        known, zs = self.bank.known_depth()
        if known.numel() == 0:
            return
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.cfg.seed + 7)
        sel = torch.randperm(known.numel(), generator=gen, device=self.device)[:max_rays]
        pick, zsel = known[sel], zs[sel]
        img = torch.searchsorted(self.bank.offsets, pick, right=True) - 1
        local = pick - self.bank.offsets[img]
        w = self.bank.widths[img]
        v = torch.div(local, w, rounding_mode="floor")
        u = local - v * w
        frame = self.bank.frames[img]
        origins, dirs = self.cams.generate_rays(frame, u.float() + 0.5, v.float() + 0.5)
        fwd = -self.cams.c2w[frame, :, 2]
        cos = (dirs * fwd).sum(-1).clamp_min(1e-3)
        t = zsel * self.transform.scale / cos
        self.grid.seed_from_depth(origins, dirs, t)

    def run_scene(self) -> RunScene:
        """What this run records about its dataset (``RUN/scene.json`` and each checkpoint's ``scene`` entry)."""
        ds = self.dataset
        up = ds.metadata.get("up")
        c2w = np.tile(np.eye(4), (len(self.train_frames), 1, 1))
        for k, i in enumerate(self.train_frames):
            c2w[k, :3, :] = ds.cameras.c2w[i].numpy()[:3]
        return RunScene(
            data=str(Path(self.cfg.data).resolve()),
            transform=self.transform,
            train_c2w=c2w,
            kind=ds.kind,
            background=ds.background,
            downscale=ds.downscale,
            num_images=len(ds),
            splits={k: len(v) for k, v in ds.splits.items()},
            scene_kind=self.cfg.scene_kind,
            aabb=None if ds.aabb is None else np.asarray(ds.aabb, dtype=np.float64).reshape(2, 3),
            dataset_up=None if up is None else np.asarray(up, dtype=np.float64),
        )

    def _make_optimizer(self) -> torch.optim.Optimizer:
        enc = [p for n, p in self.field.named_parameters() if n.startswith("encoding")]
        rest = [p for n, p in self.field.named_parameters() if not n.startswith("encoding")]
        groups = [{"params": enc, "weight_decay": 0.0}, {"params": rest, "weight_decay": 1e-6}]
        kw = dict(lr=self.cfg.lr, betas=(0.9, 0.99), eps=1e-15)
        try:
            return torch.optim.Adam(groups, fused=True, **kw)
        except (RuntimeError, TypeError):
            return torch.optim.Adam(groups, **kw)

    # ----------------------------------------------------------------------------------------------------------
    def target_samples(self) -> int:
        return self.cfg.resolved_target_samples(self.device.type)

    def progress_fraction(self) -> float:
        cfg = self.cfg
        p = 0.0
        if cfg.max_steps:
            p = max(p, self.step / cfg.max_steps)
        if cfg.time_budget:
            p = max(p, self.budget_elapsed() / (cfg.time_budget * 60.0))
        return min(p, 1.0)

    def budget_elapsed(self) -> float:
        """Seconds of the time budget used: by this process since ``budget_origin`` plus, for a resumed run, by
        the earlier ones (saved in the checkpoint), so a resumed run continues its budget and schedule."""
        return self.budget_before + process_elapsed() - self.budget_origin

    def max_steps(self) -> int | None:
        return self.cfg.resolved_max_steps()

    def set_lr(self) -> float:
        p = self.progress_fraction()
        warm = min(1.0, (self.step + 1) / 50)
        lr = self.cfg.lr * (self.cfg.lr_final / self.cfg.lr) ** p * warm
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        return lr

    def depth_weight(self) -> float:
        """The depth loss weight now: ``depth_loss`` for dense depth maps; for structure-from-motion points it
        fades linearly to 0 at ``sparse_depth_until`` of training (they guide the early geometry only)."""
        cfg = self.cfg
        if self.bank.sparse_idx is None:
            return cfg.depth_loss
        return cfg.depth_loss * max(0.0, 1.0 - self.progress_fraction() / max(cfg.sparse_depth_until, 1e-6))

    def train_step(self) -> dict:
        cfg = self.cfg
        gen = torch.Generator(device=self.device)
        gen.manual_seed(cfg.seed * 1_000_003 + self.step)
        # the occupancy grid's refresh (Instant-NGP's schedule) draws its random cells first
        self.grid.update_every_n_steps(self.step, self.field.density, cfg.grid_update_every, generator=gen)
        lr = self.set_lr()
        g = cfg.field.grid
        self.field.level_mask = level_weights(self.progress_fraction(), g.levels, g.features_per_level,
                                              cfg.anneal_levels or 0.0, self.device)
        depth_w = self.depth_weight()
        frame, u, v, pix, zdepth = self.bank.sample(self.num_rays, gen, sparse=depth_w > 0)
        origins, dirs = self.cams.generate_rays(frame, u, v)
        if pix.shape[1] == 4:
            bg = torch.rand(pix.shape[0], 3, generator=gen, device=self.device)
            target = pix[:, :3] * pix[:, 3:] + bg * (1.0 - pix[:, 3:])
        else:
            bg = torch.rand(pix.shape[0], 3, generator=gen, device=self.device)
            target = pix
        out = self.renderer.render_rays_train(origins, dirs, frame, bg, generator=gen)
        rgb_loss = torch.mean((out["rgb"] - target) ** 2)
        loss = rgb_loss
        if zdepth is not None and depth_w > 0:
            # z-depth -> distance along the unit ray, in field units.
            fwd = -self.cams.c2w[frame, :, 2]
            cos = (dirs * fwd).sum(-1).clamp_min(1e-3)
            t_gt = zdepth * self.transform.scale / cos
            known = zdepth > 0
            if bool(known.any()):
                loss = loss + depth_w * depth_losses(out, t_gt, known, self.renderer.marcher.step)
        if cfg.distortion_loss:
            loss = loss + cfg.distortion_loss * distortion_loss(out["weights"], out["t_mid"], out["dt"], out["ray_idx"],
                                                                len(u), cfg.scene_kind == "bounded")
        self.optimizer.zero_grad(set_to_none=True)
        n_samples = int(out["num_samples"])
        if n_samples > 0:
            loss.backward()
            self.optimizer.step()
        # Adapt the ray batch to the sample budget.
        max_rays = cfg.max_rays * (4 if self.device.type == "cuda" else 1)
        # Cost of a step: the visible samples' full forward + backward, plus the density-only pre-pass over
        # every marched sample (about a fifth of that per sample).
        cost = n_samples + 0.2 * int(out.get("num_marched", n_samples)) if n_samples > 0 else 0
        per_ray = max(cost, 1) / self.num_rays
        self.num_rays = int(min(max_rays, max(cfg.min_rays, 0.8 * self.num_rays + 0.2 * self.target_samples() / per_ray)))
        self.step += 1
        loss_v = float(rgb_loss.detach())
        return {"loss": loss_v, "psnr": mse_to_psnr(loss_v), "lr": lr, "samples": n_samples, "rays": len(u)}

    def _quick_eval_frames(self, n_views: int) -> list[int]:
        frames = self.eval_frames
        if not frames or n_views <= 0:
            return []
        return [frames[int(k)] for k in np.linspace(0, len(frames) - 1, min(n_views, len(frames)))]

    def quick_eval_rays(self, n_views: int, max_side: int = 320) -> int:
        """How many rays :meth:`quick_eval` renders."""
        total = 0
        for i in self._quick_eval_frames(n_views):
            w, h = int(self.cams.width[i]), int(self.cams.height[i])
            f = min(1.0, max_side / max(w, h))
            total += int(w * f) * int(h * f)
        return total

    @torch.no_grad()
    def quick_eval(self, n_views: int, max_side: int = 320) -> float | None:
        """Mean PSNR over up to ``n_views`` held-out views (evenly spread), rendered with the long side at most
        ``max_side`` pixels (the photo box-filtered to the same size): a progress figure that costs seconds, not
        minutes, on large photos. ``scenegen eval`` measures at full resolution."""
        from PIL import Image

        pick = self._quick_eval_frames(n_views)
        if not pick:
            return None
        bg = background_color(self.dataset.background, self.device)
        vals = []
        for i in pick:
            img = self.dataset.load_image(i)
            cams = self.cams
            side = max(img.shape[0], img.shape[1])
            if side > max_side:
                cams = self.cams.scaled(max_side / side)
                w, h = int(cams.width[i]), int(cams.height[i])
                img = np.asarray(Image.fromarray(img).resize((w, h), Image.BOX))
            gt = torch.from_numpy(np.array(img)).float().to(self.device) / 255.0
            if gt.shape[2] == 4:
                gt = gt[..., :3] * gt[..., 3:] + bg * (1 - gt[..., 3:])
            out = self.renderer.render_camera(cams, i, bg, appearance=self._heldout_code(i))
            vals.append(psnr(out["rgb"], gt))
        return float(np.mean(vals))

    def _heldout_code(self, i: int) -> torch.Tensor | None:
        """The appearance code quick evaluations render held-out frame ``i`` with: the nearest training photos'
        (as `scenegen eval` does by default), None without appearance codes."""
        if self.field.appearance is None or not self.train_frames:
            return None
        c2w = self.dataset.cameras.c2w.detach().cpu().double().numpy()
        return nearest_code(self.field.appearance.weight.detach(), self.train_frames, c2w[self.train_frames], c2w[i])

    def save(self) -> None:
        state = {
            "version": 1,
            "step": self.step,
            "train_seconds": self.train_seconds,
            "num_rays": self.num_rays,
            "budget_used": self.budget_elapsed(),
            "ema_loss": self.ema_loss,
            "config": self.cfg.to_dict(),
            "scene": self.run_scene().to_dict(),
            "field": self.field.state_dict(),
            "grid": self.grid.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }
        save_checkpoint(self.run_dir / "checkpoints" / "latest.pt", state)

    # ----------------------------------------------------------------------------------------------------------
    def train(self) -> TrainResult:
        try:
            return self._train()
        finally:
            if self.lock is not None:
                self.lock.release()
                self.lock = None

    def _train(self) -> TrainResult:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        cfg = self.cfg
        console = self.console or Console(stderr=True)
        max_steps = self.max_steps()
        budget_s = cfg.time_budget * 60.0 if cfg.time_budget else None
        # lines after the checkpoint's step (written by a killed run) are dropped: the steps run again
        metrics = MetricsLog(self.run_dir / "metrics.jsonl", self.step)
        last_ckpt = time.time()
        last_eval = time.time()
        eval_rays = self.quick_eval_rays(cfg.eval_views)
        eval_cost = 0.25  # seconds per eval ray per (training ray per second); recalibrated after each evaluation
        last_eval_psnr = None
        interrupted = False
        # Ctrl-C and a scheduler's SIGTERM are deferred to the next step boundary: the step under way (its Adam
        # update included) completes, then the loop saves a consistent checkpoint and stops.
        pending: list[int] = []
        prev_handlers = {}

        def _defer(signum, frame):
            pending.append(signum)

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                prev_handlers[sig] = signal.signal(sig, _defer)
            except (ValueError, OSError):  # not the main thread
                pass
        total = max_steps if max_steps else 1000
        cols = [
            TextColumn("[bold]train"),
            BarColumn(),
            TextColumn("step {task.fields[step]}"),
            TextColumn("loss {task.fields[loss]:.4f}"),
            TextColumn("psnr {task.fields[psnr]:.2f}"),
            TextColumn("eval {task.fields[eval]}"),
            TextColumn("{task.fields[rps]:.0f} rays/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        ]
        progress = Progress(*cols, console=console, disable=not cfg.progress, transient=False)
        ema_rps = 0.0
        # Time the end of training leaves for writing the final checkpoint.
        reserve = 3.0
        try:
            try:
                with progress:
                    task = progress.add_task("train", total=total, step=self.step, loss=0.0, psnr=0.0, eval="-", rps=0.0)
                    while True:
                        if pending:
                            interrupted = True
                            break
                        if max_steps is not None and self.step >= max_steps:
                            break
                        if budget_s is not None and self.budget_elapsed() >= budget_s - reserve:
                            break
                        t0 = time.time()
                        stats = self.train_step()
                        dt = time.time() - t0
                        self.train_seconds += dt
                        ema = self.ema_loss
                        ema = self.ema_loss = stats["loss"] if ema is None else 0.9 * ema + 0.1 * stats["loss"]
                        ema_rps = stats["rays"] / max(dt, 1e-6) if ema_rps == 0 else 0.9 * ema_rps + 0.1 * stats["rays"] / max(dt, 1e-6)
                        if self.step % 25 == 0:
                            metrics.append({"step": self.step, "time": round(process_elapsed(), 2), "loss": round(ema, 6),
                                            "psnr_train": round(mse_to_psnr(ema), 3), "lr": stats["lr"], "rays": stats["rays"],
                                            "samples": stats["samples"], "rays_per_s": round(ema_rps, 1),
                                            "occupancy": round(self.grid.occupancy_fraction, 4)})
                        now = time.time()
                        # The progress figure may take at most 5 % of the wall time: a young field over large real
                        # photos renders slowly (bonsai: 90 s for three 320 px views in the first minutes, a third
                        # of a 5-minute budget). Its cost is estimated from the training throughput (an inference
                        # ray costs about a quarter of a training ray), calibrated by the last evaluation.
                        est = eval_cost * eval_rays / max(ema_rps, 1.0)
                        if cfg.eval_every > 0 and now - last_eval >= max(cfg.eval_every, 19.0 * est) and not pending:
                            if budget_s is None or self.budget_elapsed() + est + 5 < budget_s:
                                last_eval_psnr = self.quick_eval(cfg.eval_views)
                                metrics.append({"step": self.step, "time": round(process_elapsed(), 2), "eval_psnr": last_eval_psnr})
                                eval_cost = (time.time() - now) * max(ema_rps, 1.0) / max(eval_rays, 1)
                            last_eval = time.time()
                        if now - last_ckpt >= cfg.checkpoint_every and not pending:
                            self.save()
                            last_ckpt = time.time()
                        done = self.step if max_steps else self.progress_fraction() * total
                        progress.update(task, completed=done, step=self.step, loss=ema, psnr=mse_to_psnr(ema),
                                        eval=f"{last_eval_psnr:.2f}" if last_eval_psnr is not None else "-", rps=ema_rps)
            except KeyboardInterrupt:  # raised outside a step (or by code that does not go through the handler)
                interrupted = True
            self.save()
            metrics.append({"step": self.step, "time": round(process_elapsed(), 2), "event": "interrupted" if interrupted else "done"})
        finally:
            metrics.close()
            for sig, h in prev_handlers.items():
                try:
                    signal.signal(sig, h)
                except (ValueError, OSError):
                    pass
        if interrupted:
            console.print(f"[yellow]interrupted at step {self.step}: checkpoint saved; continue with --resume[/]")
            raise KeyboardInterrupt
        return TrainResult(self.run_dir, self.step, process_elapsed(), last_eval_psnr)


def train(cfg: TrainConfig, console=None) -> TrainResult:
    """Set up and run training for ``cfg``."""
    t = Trainer(cfg, console=console)
    t.setup()
    return t.train()
