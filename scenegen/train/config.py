"""Training configuration (one dataclass, saved whole in every run as ``config.json``)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from scenegen.core import validate as v
from scenegen.core.io import atomic_write_text
from scenegen.field.encoding import HashGridConfig
from scenegen.field.field import FieldConfig
from scenegen.render.marching import MarchConfig


DEFAULT_MAX_STEPS = 20000
"""Training steps when neither --max-steps nor --time-budget is given."""


@dataclass
class TrainConfig:
    """Train a radiance field on a posed dataset."""

    data: Path
    """Dataset folder (Blender-synthetic, nerfstudio or Instant-NGP transforms.json, LLFF poses_bounds.npy)."""
    output: Path = Path("runs/scene")
    """Run folder: checkpoints, metrics.jsonl, config.json."""
    max_steps: Optional[int] = None
    """Stop after this many steps, at least 1 (omitted: 20000, or no step limit when --time-budget is given)."""
    time_budget: Optional[float] = None
    """Stop when the whole command has run this many minutes, more than 0 (loading and compile warm-up
    included)."""
    seed: int = 0
    downscale: int = 1
    """Read images downscaled by this integer factor (a downscaled copy is cached)."""
    background: Literal["white", "black", "random"] = "white"
    """Background of RGBA images (training composites on random colours when 'random')."""
    resume: bool = False
    """Continue from the run's latest checkpoint."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int = 0
    """CPU threads for torch (0 = auto: one or all cores, whichever runs the field faster here and now)."""
    lr: float = 1e-2
    lr_final: float = 3e-4
    target_samples: int = 0
    """Samples per step (the ray batch adapts to it); 0 = 16384 on CPU, 262144 on CUDA."""
    max_rays: int = 8192
    """Upper bound of rays per step on CPU (x4 on CUDA)."""
    min_rays: int = 128
    """Lower bound of rays per step (early on, when the grid is still dense, rays are long)."""
    depth_loss: float = 0.1
    """Weight of the depth losses where the dataset has depth maps or structure-from-motion points (0 = off): L1
    on the expected ray distance plus the rendering weight away from the surface. Depth (synthetic priors, RGB-D
    captures, SfM points) removes floaters and makes surfaces opaque, above all in inside-out scenes (rooms)."""
    sparse_depth_until: float = 0.25
    """With structure-from-motion points (not dense depth maps): the fraction of training during which they guide
    the geometry. Their depth loss fades out linearly to 0 by then; photometric detail that a sparse, noisy point
    cloud cannot describe (thin leaves, edges where features sit) is then free to form. 1 = throughout."""
    depth_init: bool = True
    """Seed the occupancy grid from the depth maps (or the structure-from-motion points) where the dataset has
    them: space in front of the surfaces starts empty, the surfaces occupied."""
    grid_resolution: int = 128
    grid_update_every: int = 16
    scene_kind: Literal["auto", "bounded", "unbounded"] = "auto"
    """Bounded box (object-centric, synthetic) or contracted unbounded space (real captures)."""
    eval_every: float = 60.0
    """Seconds between quick held-out evaluations during training (0 = never)."""
    eval_views: int = 3
    checkpoint_every: float = 120.0
    """Seconds between checkpoints (one is always written at the end and on Ctrl-C)."""
    progress: bool = True
    field: FieldConfig = dataclasses.field(default_factory=FieldConfig)
    march: MarchConfig = dataclasses.field(default_factory=MarchConfig)

    # "0 / None means auto": each such option is resolved here, in one place.
    def resolved_max_steps(self) -> int | None:
        """The step limit: ``max_steps``, else 20000 when no time budget is given (None: the budget alone stops)."""
        if self.max_steps is not None:
            return self.max_steps
        return None if self.time_budget else DEFAULT_MAX_STEPS

    def validate(self) -> "TrainConfig":
        """Refuse out-of-range flags with one line naming the flag (before any work); returns self."""
        f = v.flag_number
        if self.max_steps is not None:
            f(self.max_steps, "--max-steps", lo=1, whole=True, hint="omit it for the default")
        if self.time_budget is not None:
            f(self.time_budget, "--time-budget", lo=0, open_lo=True)
        f(self.seed, "--seed", whole=True)
        f(self.downscale, "--downscale", lo=1, whole=True)
        f(self.threads, "--threads", lo=0, whole=True)
        f(self.lr, "--lr", lo=0, open_lo=True)
        f(self.lr_final, "--lr-final", lo=0, open_lo=True)
        f(self.target_samples, "--target-samples", lo=0, whole=True)
        f(self.max_rays, "--max-rays", lo=1, whole=True)
        f(self.min_rays, "--min-rays", lo=1, hi=self.max_rays, whole=True, hint="--min-rays <= --max-rays")
        f(self.depth_loss, "--depth-loss", lo=0)
        f(self.sparse_depth_until, "--sparse-depth-until", lo=0, hi=1)
        f(self.grid_resolution, "--grid-resolution", lo=2, hi=1024, whole=True)
        f(self.grid_update_every, "--grid-update-every", lo=1, whole=True)
        f(self.eval_every, "--eval-every", lo=0)
        f(self.eval_views, "--eval-views", lo=0, whole=True)
        f(self.checkpoint_every, "--checkpoint-every", lo=0)
        g, fc, m = self.field.grid, self.field, self.march
        f(g.levels, "--field.grid.levels", lo=0, hi=64, whole=True)
        f(g.features_per_level, "--field.grid.features-per-level", lo=1, hi=64, whole=True)
        f(g.log2_hashmap_size, "--field.grid.log2-hashmap-size", lo=0, hi=30, whole=True)
        f(g.base_resolution, "--field.grid.base-resolution", lo=1, whole=True)
        f(g.max_resolution, "--field.grid.max-resolution", lo=0, whole=True)
        f(fc.hidden_dim, "--field.hidden-dim", lo=1, whole=True)
        f(fc.geo_feat_dim, "--field.geo-feat-dim", lo=1, whole=True)
        f(fc.color_layers, "--field.color-layers", lo=1, whole=True)
        f(fc.sh_degree, "--field.sh-degree", lo=1, hi=4, whole=True)
        f(fc.appearance_dim, "--field.appearance-dim", lo=0, whole=True)
        v.choice(fc.implementation, None, "--field.implementation", ("auto", "torch", "cpu", "tcnn"), "backend")
        f(m.step_size, "--march.step-size", lo=0)
        f(m.steps_per_diagonal, "--march.steps-per-diagonal", lo=1, whole=True)
        f(m.cone_angle, "--march.cone-angle", lo=0)
        f(m.near, "--march.near", lo=0)
        f(m.far, "--march.far", lo=m.near, open_lo=True, hint="--march.far > --march.near")
        f(m.train_min_transmittance, "--march.train-min-transmittance", lo=0, hi=1)
        v.output_dir(self.output, "--output")
        return self

    def resolved_target_samples(self, device_type: str) -> int:
        """Samples per step: ``target_samples``, else 16384 on CPU and 262144 on CUDA."""
        if self.target_samples > 0:
            return self.target_samples
        # CPU: small steps (about 1-2k rays) learn more per second than large ones (BENCHMARKS.md).
        return 1 << 18 if device_type == "cuda" else 1 << 14

    def to_dict(self) -> dict:
        return _jsonable(dataclasses.asdict(self))

    def save(self, path: Path) -> None:
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2))

    @staticmethod
    def from_dict(d: dict) -> "TrainConfig":
        d = dict(d)
        fd = dict(d.pop("field"))
        grid = HashGridConfig(**fd.pop("grid"))
        fcfg = FieldConfig(grid=grid, **fd)
        mcfg = MarchConfig(**d.pop("march"))
        d["data"] = Path(d["data"])
        d["output"] = Path(d["output"])
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        return TrainConfig(field=fcfg, march=mcfg, **{k: v for k, v in d.items() if k in known})


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    return x


__all__ = ["TrainConfig", "FieldConfig", "HashGridConfig", "MarchConfig", "field"]
