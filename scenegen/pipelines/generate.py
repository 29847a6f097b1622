"""`scenegen generate`: a brief, a spec or a user's 3D model -> a posed dataset (the "prior").

The work is :func:`scenegen.data.prior.generate.generate`; this module holds the command's options and result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from scenegen.core import validate as v
from scenegen.core.ownership import OwnedDir
from scenegen.data.prior import generate as prior


@dataclass
class GenerateConfig:
    """Make a posed dataset from a text brief, an edited scene spec, or your own 3D model (glTF/OBJ/PLY/STL)."""

    output: Path
    """Dataset folder to write (transforms.json, images/, depth/, spec.json, plan.png)."""
    prompt: Optional[str] = None
    """A brief, e.g. "two-bedroom apartment, open-plan kitchen and living room, oak floor, white walls,
    2.7 m ceilings, large south windows". Default: that one, when neither --spec nor --mesh is given."""
    spec: Optional[Path] = None
    """A scene spec JSON (the spec.json an earlier run wrote, edited)."""
    mesh: Optional[Path] = None
    """Your model: .glb, .gltf, .obj, .ply, .stl (metres; other units are detected and converted)."""
    seed: int = 0
    """Seed of the furniture details, textures and cameras (same seed, same dataset)."""
    views: int = 100
    """Training views (a test split of about one in eight is rendered in addition)."""
    width: int = 320
    height: int = 240
    fov: float = 75.0
    """Horizontal field of view of the cameras, degrees."""
    up: Literal["auto", "+z", "-z", "+y", "-y", "+x", "-x"] = "auto"
    """Up axis of --mesh (auto: glTF is +Y up by its standard; others are guessed from the model's shape)."""
    units: Literal["auto", "m", "cm", "mm", "ft", "in"] = "auto"
    """Units of --mesh (auto: a building-sized model in metres is kept; 100x or 1000x too large is cm / mm)."""
    overwrite: bool = False
    """Replace an existing dataset in --output."""
    progress: bool = True

    def validate(self) -> "GenerateConfig":
        """Refuse bad flags with one line naming the flag, before any work; returns self."""
        v.flag_number(self.seed, "--seed", whole=True)
        v.flag_number(self.views, "--views", lo=1, hi=100000, whole=True)
        v.flag_number(self.width, "--width", lo=16, hi=4096, whole=True)
        v.flag_number(self.height, "--height", lo=16, hi=4096, whole=True)
        v.flag_number(self.fov, "--fov", lo=0, hi=179, open_lo=True)
        v.output_dir(self.output, "--output")
        return self


@dataclass
class GenerateResult:
    """What `scenegen generate` wrote."""

    output: Path
    transforms: Path
    plan: Path
    """The floor-plan picture with the cameras."""
    views: int
    test_views: int
    seconds: float
    spec: Optional[Path] = None
    """spec.json (briefs and specs; edit it, then --spec)."""
    model_report: Optional[Path] = None
    """model_report.json (--mesh)."""
    rooms: list[str] = field(default_factory=list)
    unknown_words: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scene: Any = field(default=None, repr=False)
    """The built :class:`scenegen.data.synth.SynthScene`."""
    floor_plan: Any = field(default=None, repr=False)
    """The generated floor plan (rooms, openings) of a brief or spec; None for a model."""


def generate(cfg: GenerateConfig, console=None, *, test_views: int | None = None, generator: str = "scenegen generate",
             extra_metadata: dict | None = None) -> GenerateResult:
    """Run ``scenegen generate``. ``test_views`` (default about one in eight, at least 2), ``generator`` and
    ``extra_metadata`` (added to transforms.json's metadata) serve pipelines that compose this one (the demo)."""
    cfg.validate()
    _claim_output(Path(cfg.output))
    s = prior.generate(cfg.output, prompt=cfg.prompt, spec=cfg.spec, mesh=cfg.mesh, seed=cfg.seed, views=cfg.views,
                       width=cfg.width, height=cfg.height, fov=cfg.fov, up=cfg.up, units=cfg.units,
                       overwrite=cfg.overwrite, progress=cfg.progress, console=console, test_views=test_views,
                       generator=generator, extra_metadata=extra_metadata)
    return GenerateResult(
        output=Path(s["output"]),
        transforms=Path(s["transforms"]),
        plan=Path(s["plan"]),
        views=int(s["views"]),
        test_views=int(s["test_views"]),
        seconds=float(s["seconds"]),
        spec=Path(s["spec"]) if s.get("spec") else None,
        model_report=Path(s["model_report"]) if s.get("model_report") else None,
        rooms=list(s.get("rooms", [])),
        unknown_words=list(s.get("unknown_words", [])),
        notes=list(s.get("notes", [])),
        scene=s.get("scene"),
        floor_plan=s.get("floor_plan"),
    )


# What a dataset folder written by `generate` holds at its top level.
_DATASET_FILES = ("transforms.json", "spec.json", "plan.png", "model_report.json", "sparse_depth.npz")


def adopt_dataset(folder: Path) -> list[str] | None:
    """An older generated dataset (no ownership record): it has a ``transforms.json``. Adopted: the files above
    that exist and the images and depth files its frames name inside the folder; nothing else."""
    try:
        meta = json.loads((folder / "transforms.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = [f for f in _DATASET_FILES if (folder / f).is_file()]
    for fr in meta.get("frames", []) if isinstance(meta, dict) and isinstance(meta.get("frames"), list) else []:
        for key in ("file_path", "depth_file_path"):
            rel = fr.get(key) if isinstance(fr, dict) else None
            if isinstance(rel, str) and ".." not in rel.split("/") and not rel.startswith("/") \
                    and (folder / rel).is_file():
                files.append(rel)
    return files


def _claim_output(out: Path) -> None:
    """The dataset folder's ownership record: a non-empty folder scenegen did not write is refused."""
    owned = OwnedDir.open(out, "dataset", field="--output", adopt=adopt_dataset)
    owned.claim([f for f in _DATASET_FILES if f not in ("model_report.json", "sparse_depth.npz")])
