"""`scenegen generate`: a brief, a spec or a user's 3D model -> a posed dataset (the "prior").

The work is :func:`scenegen.data.prior.generate.generate`; this module holds the command's options and result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from scenegen.core import validate as v
from scenegen.core.errors import InputError
from scenegen.core.ownership import OwnedDir
from scenegen.data.prior import generate as prior
from scenegen.data.prior.generate import DEFAULT_ANTIALIAS
from scenegen.data.prior.ifc_import import storey_names


@dataclass
class GenerateConfig:
    """Make a posed dataset from a text brief, an edited scene spec, or your own 3D model (glTF/OBJ/PLY/STL/IFC)."""

    output: Path
    """Dataset folder to write (transforms.json, images/, depth/, spec.json, plan.png)."""
    prompt: Optional[str] = None
    """A brief, e.g. "two-bedroom apartment, open-plan kitchen and living room, oak floor, white walls,
    2.7 m ceilings, large south windows". Default: that one, when neither --spec nor --mesh is given."""
    spec: Optional[Path] = None
    """A scene spec JSON (the spec.json an earlier run wrote, edited)."""
    mesh: Optional[Path] = None
    """Your model: .glb, .gltf, .obj (+.mtl), .ply, .stl, .off or .ifc (units, up axis, site geometry, rooms and
    materials are detected; see model_report.json)."""
    seed: int = 0
    """Seed of the furniture details, textures and cameras (same seed, same dataset)."""
    views: int = 100
    """Training views (a test split of about one in eight is rendered in addition)."""
    width: int = 320
    height: int = 240
    fov: float = 75.0
    """Horizontal field of view of the cameras, degrees."""
    antialias: int = DEFAULT_ANTIALIAS
    """Rays per pixel along each axis, averaged: 2 = 4 rays a pixel, an antialiased view as a camera takes it
    (fine texture seen from afar does not alias into noise the field would have to learn); 1 = one ray through
    the pixel centre, about 2x faster to render."""
    up: Literal["auto", "+z", "-z", "+y", "-y", "+x", "-x"] = "auto"
    """Up axis of --mesh (auto: glTF is +Y up by its standard; others are guessed from the model's shape)."""
    units: Literal["auto", "m", "cm", "mm", "ft", "in"] = "auto"
    """Units of --mesh (auto: from the building's storey height, site geometry left out; IFC carries its own)."""
    storey: Optional[str] = None
    """IFC --mesh only: a storey name or index (0 = lowest) for that storey alone, or "all" for one dataset per
    storey in OUTPUT/storey_<name>/ (default: the whole building in one dataset)."""
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
        v.flag_number(self.antialias, "--antialias", lo=1, hi=8, whole=True)
        v.output_dir(self.output, "--output")
        if self.storey is not None:
            if self.mesh is None or Path(self.mesh).suffix.lower() != ".ifc":
                raise InputError("only for IFC models (--mesh model.ifc)", field="--storey")
            if not str(self.storey).strip():
                raise InputError("give a storey name, an index (0 = lowest) or all", field="--storey")
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
    storeys: list["GenerateResult"] = field(default_factory=list)
    """--storey all: the dataset of each storey (OUTPUT/storey_<name>/), lowest first."""


def generate(cfg: GenerateConfig, console=None, *, test_views: int | None = None, generator: str = "scenegen generate",
             extra_metadata: dict | None = None) -> GenerateResult:
    """Run ``scenegen generate``. ``test_views`` (default about one in eight, at least 2), ``generator`` and
    ``extra_metadata`` (added to transforms.json's metadata) serve pipelines that compose this one (the demo)."""
    cfg.validate()
    if cfg.storey is not None and str(cfg.storey).strip().lower() == "all":
        return _generate_storeys(cfg, console, test_views=test_views, generator=generator,
                                 extra_metadata=extra_metadata)
    _claim_output(Path(cfg.output))
    s = prior.generate(cfg.output, prompt=cfg.prompt, spec=cfg.spec, mesh=cfg.mesh, seed=cfg.seed, views=cfg.views,
                       width=cfg.width, height=cfg.height, fov=cfg.fov, up=cfg.up, units=cfg.units,
                       storey=cfg.storey, overwrite=cfg.overwrite, progress=cfg.progress, console=console,
                       test_views=test_views, generator=generator, extra_metadata=extra_metadata,
                       antialias=cfg.antialias)
    return _result(s)


def _result(s: dict) -> GenerateResult:
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


def storey_folder(name: str, index: int) -> str:
    """The dataset folder of a storey under --output: ``storey_<name>`` (letters, digits, '-' and '_' kept)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", name.strip()).strip("_").lower()
    return f"storey_{slug or index}"


def _generate_storeys(cfg: GenerateConfig, console, **kw) -> GenerateResult:
    """--storey all: one dataset per storey, OUTPUT/storey_<name>/, lowest first."""
    names = storey_names(cfg.mesh)
    if not names:
        raise InputError("the IFC file has no storeys (IfcBuildingStorey)", file=cfg.mesh, field="--storey")
    folders = [storey_folder(n, i) for i, n in enumerate(names)]
    if len(set(folders)) < len(folders):  # two storeys with the same name: number them all
        folders = [f"storey_{i}_{f[len('storey_'):]}" for i, f in enumerate(folders)]
    OwnedDir.open(Path(cfg.output), "storeys", field="--output")
    results = []
    for i, (name, folder) in enumerate(zip(names, folders)):
        sub = Path(cfg.output) / folder
        _claim_output(sub)
        if console is not None:
            console.print(f"storey {i} {name!r} -> {sub}")
        s = prior.generate(sub, mesh=cfg.mesh, seed=cfg.seed, views=cfg.views, width=cfg.width, height=cfg.height,
                           fov=cfg.fov, up=cfg.up, units=cfg.units, storey=str(i), overwrite=cfg.overwrite,
                           progress=cfg.progress, console=console, antialias=cfg.antialias, **kw)
        results.append(_result(s))
    first = results[0]
    return GenerateResult(output=Path(cfg.output), transforms=first.transforms, plan=first.plan,
                          views=sum(r.views for r in results), test_views=sum(r.test_views for r in results),
                          seconds=sum(r.seconds for r in results), model_report=first.model_report,
                          rooms=[n for r in results for n in r.rooms], storeys=results)


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
