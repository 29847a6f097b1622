"""Training configuration (one dataclass, saved whole in every run as ``config.json``)."""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from scenegen.core import validate as v
from scenegen.core.errors import InputError
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
    """Stop after this many steps (default 20000 when no time budget is given)."""
    time_budget: Optional[float] = None
    """Stop when the whole command has run this many minutes (loading and compile warm-up included)."""
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
        if self.max_steps:
            return self.max_steps
        return None if self.time_budget else DEFAULT_MAX_STEPS

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
    def from_dict(d: Any, file: Any = None, prefix: str = "config") -> "TrainConfig":
        """A config from its saved dict (``config.json``, a checkpoint's ``config`` entry). Every field is checked
        against its declared type and range: a bad one raises InputError naming ``file`` and ``prefix.field``."""
        if not isinstance(d, dict):
            raise InputError(f"must be an object, got {v.describe(d)}", file=file, field=prefix)
        fd = _typed_fields(FieldConfig, d.get("field", {}), file, f"{prefix}.field", skip=("grid",))
        grid = HashGridConfig(**_typed_fields(HashGridConfig, (d.get("field") or {}).get("grid", {}), file,
                                              f"{prefix}.field.grid"))
        fcfg = FieldConfig(grid=grid, **fd)
        mcfg = MarchConfig(**_typed_fields(MarchConfig, d.get("march", {}), file, f"{prefix}.march"))
        top = _typed_fields(TrainConfig, d, file, prefix, skip=("field", "march"))
        if "data" not in top:
            raise InputError("missing", file=file, field=f"{prefix}.data")
        cfg = TrainConfig(field=fcfg, march=mcfg, **top)
        cfg.validate(file, prefix + ".")
        return cfg

    def validate(self, file: Any = None, prefix: str = "--") -> "TrainConfig":
        """Check the values' ranges (flags: ``prefix`` "--"; a saved config: "config."); raises InputError."""

        def name(f: str) -> str:
            return prefix + (f.replace("_", "-") if prefix == "--" else f)

        if self.max_steps is not None:
            v.integer(self.max_steps, file, name("max_steps"), lo=1)
        if self.time_budget is not None:
            v.positive(self.time_budget, file, name("time_budget"))
        v.positive(self.lr, file, name("lr"))
        v.positive(self.lr_final, file, name("lr_final"))
        v.integer(self.downscale, file, name("downscale"), lo=1)
        v.integer(self.threads, file, name("threads"), lo=0)
        v.integer(self.target_samples, file, name("target_samples"), lo=0)
        v.integer(self.min_rays, file, name("min_rays"), lo=1)
        v.integer(self.max_rays, file, name("max_rays"), lo=self.min_rays)
        v.non_negative(self.depth_loss, file, name("depth_loss"))
        v.unit_interval(self.sparse_depth_until, file, name("sparse_depth_until"))
        v.integer(self.grid_resolution, file, name("grid_resolution"), lo=1, hi=1024)
        v.integer(self.grid_update_every, file, name("grid_update_every"), lo=1)
        v.non_negative(self.eval_every, file, name("eval_every"))
        v.integer(self.eval_views, file, name("eval_views"), lo=0)
        v.non_negative(self.checkpoint_every, file, name("checkpoint_every"))
        g = self.field.grid
        v.integer(g.levels, file, name("field.grid.levels"), lo=0, hi=64)
        v.integer(g.features_per_level, file, name("field.grid.features_per_level"), lo=1, hi=64)
        v.integer(g.log2_hashmap_size, file, name("field.grid.log2_hashmap_size"), lo=0, hi=30)
        v.integer(g.base_resolution, file, name("field.grid.base_resolution"), lo=1)
        v.integer(g.max_resolution, file, name("field.grid.max_resolution"), lo=0)
        return self


def _typed_fields(cls, d: Any, file: Any, prefix: str, skip: tuple[str, ...] = ()) -> dict:
    """The known fields of dataclass ``cls`` in dict ``d``, each checked against its declared type."""
    if not isinstance(d, dict):
        raise InputError(f"must be an object, got {v.describe(d)}", file=file, field=prefix)
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        if f.name in skip or f.name not in d:
            continue
        out[f.name] = _typed_value(hints[f.name], d[f.name], file, f"{prefix}.{f.name}")
    return out


def _typed_value(tp, value: Any, file: Any, field: str) -> Any:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Union:
        if value is None and type(None) in args:
            return None
        tp = next(a for a in args if a is not type(None))
        args = typing.get_args(tp)
    if typing.get_origin(tp) is typing.Literal:
        return v.choice(value, file, field, args)
    if tp is bool:
        return v.boolean(value, file, field)
    if tp is int:
        return v.integer(value, file, field)
    if tp is float:
        return v.number(value, file, field)
    if tp is str:
        return v.string(value, file, field, non_empty=False)
    if tp is Path:
        return Path(v.string(value, file, field))
    return value


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, Path):
        return str(x)
    return x


__all__ = ["TrainConfig", "FieldConfig", "HashGridConfig", "MarchConfig", "field"]
