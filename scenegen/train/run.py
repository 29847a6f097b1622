"""Load a trained run (config + scene record + latest checkpoint) for rendering and evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from scenegen.cameras.cameras import Cameras
from scenegen.core.errors import InputError
from scenegen.data.dataset import SceneTransform
from scenegen.data.run_scene import RunScene
from scenegen.field.field import choose_cpu_threads
from scenegen.render.renderer import Renderer
from scenegen.train.checkpoint import load_checkpoint, load_state
from scenegen.train.config import TrainConfig
from scenegen.train.trainer import background_color, build_renderer, resolve_device


@dataclass
class LoadedRun:
    """A trained scene, ready to render cameras given in the dataset's world units."""

    run_dir: Path
    config: TrainConfig
    scene: RunScene
    """The run's record of its dataset (the checkpoint's ``scene`` entry, as in ``RUN/scene.json``)."""
    renderer: Renderer
    device: torch.device
    step: int

    @property
    def transform(self) -> SceneTransform:
        """World -> field similarity."""
        return self.scene.transform

    @property
    def background(self) -> torch.Tensor:
        return background_color(self.scene.background, self.device)

    @torch.no_grad()
    def render(self, cameras: Cameras, i: int, chunk: int = 1 << 15,
               appearance: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Render camera ``i`` of world-space ``cameras``: rgb (H, W, 3) in [0, 1], depth (H, W) in world units
        (z-depth is not assumed: distance along the ray), accumulation (H, W). ``appearance``: the (D,) appearance
        code (default: the mean of the training photos')."""
        cams = self.transform.cameras_to_field(cameras[[i]]).to(self.device)
        out = self.renderer.render_camera(cams, 0, self.background.to(self.device), chunk=chunk, appearance=appearance)
        out["depth"] = out["depth"] / self.transform.scale
        return {k: v.cpu() for k, v in out.items()}


def load_run(run_dir: str | Path, device: str = "auto") -> LoadedRun:
    """Load ``run_dir``'s latest checkpoint (raises InputError naming the missing/corrupt file)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError("run folder not found", file=run_dir)
    ckpt_path = run_dir / "checkpoints" / "latest.pt"
    ckpt = load_checkpoint(ckpt_path)  # safe load; every entry present
    dev = resolve_device(device)
    cfg = TrainConfig.from_dict(ckpt["config"], file=ckpt_path)
    cfg.field.compile = False
    scene = RunScene.from_dict(ckpt["scene"], file=ckpt_path, run_dir=run_dir)
    bounded = cfg.scene_kind == "bounded"
    field, grid, renderer = build_renderer(cfg, bounded, scene.num_images, dev)
    load_state(field, ckpt["field"], ckpt_path, "field")
    load_state(grid, ckpt["grid"], ckpt_path, "grid")
    field.eval()
    if dev.type == "cpu":
        choose_cpu_threads(field)
    return LoadedRun(run_dir, cfg, scene, renderer, dev, int(ckpt["step"]))
