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
    """Stop after this many steps, at least 1 (omitted: 20000, or no step limit when --time-budget is given)."""
    time_budget: Optional[float] = None
    """Stop when the whole command has run this many minutes, more than 0 (loading and compile warm-up
    included)."""
    seed: int = 0
    downscale: int = 0
    """Read images downscaled by this integer factor (a downscaled copy is cached); 0 = auto: chosen from the
    photo size, the photo count, the time budget and the device (printed at start; saved in config.json)."""
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
    distortion_loss: Optional[float] = None
    """Weight of mip-NeRF 360's distortion loss, which pulls each ray's rendering weight onto one surface (fewer
    floaters in the contracted background); default: 0.01 for unbounded scenes (real captures), 0 for bounded."""
    anneal_levels: Optional[float] = None
    """Fraction of training over which the finer hash levels are switched on, coarse to fine (regularises sparse
    captures); default: 0.3 when the capture is too sparse (said at start), else 0 (off)."""
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

    def validate(self, file: Any = None, prefix: str = "--") -> "TrainConfig":
        """Refuse out-of-range values with one line (before any work); returns self. Flags are named as the CLI
        spells them (``prefix`` "--"); a saved config (a checkpoint's, ``config.json``) is checked the same way with
        ``file`` and ``prefix`` "config." naming its fields."""
        flags = prefix == "--"

        def f(value: Any, flag: str, hint: str = "", **kw: Any) -> float:
            field_name = flag if flags else prefix + flag[2:].replace("-", "_")
            return v.flag_number(value, field_name, file=file, hint=hint if flags else "", **kw)

        if self.max_steps is not None:
            f(self.max_steps, "--max-steps", lo=1, whole=True, hint="omit it for the default")
        if self.time_budget is not None:
            f(self.time_budget, "--time-budget", lo=0, open_lo=True)
        f(self.seed, "--seed", whole=True)
        f(self.downscale, "--downscale", lo=0, whole=True, hint="0 = auto")
        f(self.threads, "--threads", lo=0, whole=True)
        f(self.lr, "--lr", lo=0, open_lo=True)
        f(self.lr_final, "--lr-final", lo=0, open_lo=True)
        f(self.target_samples, "--target-samples", lo=0, whole=True)
        f(self.max_rays, "--max-rays", lo=1, whole=True)
        f(self.min_rays, "--min-rays", lo=1, hi=self.max_rays, whole=True, hint="--min-rays <= --max-rays")
        f(self.depth_loss, "--depth-loss", lo=0)
        f(self.sparse_depth_until, "--sparse-depth-until", lo=0, hi=1)
        if self.distortion_loss is not None:
            f(self.distortion_loss, "--distortion-loss", lo=0)
        if self.anneal_levels is not None:
            f(self.anneal_levels, "--anneal-levels", lo=0, hi=1)
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
        v.choice(fc.look, file, "--field.look" if flags else prefix + "field.look", ("off", "exposure", "codes"),
                 "look model")
        f(fc.appearance_dim, "--field.appearance-dim", lo=1 if fc.look == "codes" else 0, whole=True,
          hint="--field.look codes needs codes of at least one number")
        v.choice(fc.implementation, file, "--field.implementation" if flags else prefix + "field.implementation",
                 ("auto", "torch", "cpu", "tcnn"), "backend")
        f(m.step_size, "--march.step-size", lo=0)
        f(m.steps_per_diagonal, "--march.steps-per-diagonal", lo=1, whole=True)
        f(m.cone_angle, "--march.cone-angle", lo=0)
        f(m.near, "--march.near", lo=0)
        f(m.far, "--march.far", lo=m.near, open_lo=True, hint="--march.far > --march.near")
        f(m.train_min_transmittance, "--march.train-min-transmittance", lo=0, hi=1)
        if flags:  # a saved config's output folder is where the run was trained, maybe on another machine
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
    def from_dict(d: Any, file: Any = None, prefix: str = "config") -> "TrainConfig":
        """A config from its saved dict (``config.json``, a checkpoint's ``config`` entry). Every field is checked
        against its declared type and range: a bad one raises InputError naming ``file`` and ``prefix.field``."""
        if not isinstance(d, dict):
            raise InputError(f"must be an object, got {v.describe(d)}", file=file, field=prefix)
        fd = _typed_fields(FieldConfig, d.get("field", {}), file, f"{prefix}.field", skip=("grid",))
        if "look" not in fd and "appearance_dim" in fd:  # saved before --field.look: codes were the only model
            fd["look"] = "codes" if fd["appearance_dim"] > 0 else "off"
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
