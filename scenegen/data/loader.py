"""Dataset format detection and loading: the one entry point the CLI and trainer use.

Formats (``SceneDataset.kind``), parsed by the modules of :mod:`scenegen.data.formats`:
  * "blender":      ``transforms_{train,val,test}.json`` (any non-empty subset) -- ``formats.blender``
  * "nerfstudio":   ``transforms.json`` written by ns-process-data              -- ``formats.nerfstudio``
  * "instant-ngp":  ``transforms.json`` written by instant-ngp's colmap2nerf    -- ``formats.nerfstudio``
  * "llff":         ``poses_bounds.npy`` + ``images*/``                         -- ``formats.llff``

In a folder, ``transforms.json`` wins over Blender split files, which win over ``poses_bounds.npy``.
"""

from __future__ import annotations

import numbers
import re
from pathlib import Path

import torch

from scenegen.core.errors import InputError
from scenegen.core.validate import read_json_object
from scenegen.data.dataset import SceneDataset
from scenegen.data.formats.blender import is_blender, parse_blender
from scenegen.data.formats.llff import POSES_FILE, is_llff, parse_llff
from scenegen.data.formats.nerfstudio import parse_transforms, transforms_flavour

FORMATS = ("blender", "nerfstudio", "instant-ngp", "llff")
BACKGROUNDS = ("white", "black", "random")
_BLENDER_FILE = re.compile(r"transforms_(train|val|test)\.json")


def detect_format(path: str | Path) -> tuple[str, Path]:
    """Recognise the dataset at ``path`` (a folder, or a transforms JSON / poses_bounds.npy file).

    Returns:
        (kind, source): kind from :data:`FORMATS`; source is the folder (blender, llff) or the JSON file
        (nerfstudio, instant-ngp) to parse.
    Raises:
        InputError: the path does not exist or holds no recognised dataset.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", file=path)
    if path.is_file():
        if path.name == POSES_FILE:
            return "llff", path.parent
        if _BLENDER_FILE.fullmatch(path.name):
            return "blender", path.parent
        if path.suffix.lower() == ".json":
            return transforms_flavour(read_json_object(path)), path
        raise InputError(
            "not a dataset file (expected transforms.json, transforms_<split>.json or poses_bounds.npy)", file=path
        )
    if (path / "transforms.json").is_file():
        json_path = path / "transforms.json"
        return transforms_flavour(read_json_object(json_path)), json_path
    if is_blender(path):
        return "blender", path
    if is_llff(path):
        return "llff", path
    raise InputError(
        "no dataset format recognised: expected transforms_{train,val,test}.json (Blender), transforms.json "
        "(nerfstudio / Instant-NGP) or poses_bounds.npy (LLFF)",
        file=path,
    )


def load_dataset(
    path: str | Path,
    downscale: int = 1,
    background: str = "white",
    *,
    check_images: bool = True,
    format: str | None = None,  # noqa: A002 - mirrors the CLI flag
) -> SceneDataset:
    """Load a posed-image dataset, auto-detecting its format.

    Args:
        path: dataset folder, or a ``transforms*.json`` / ``poses_bounds.npy`` file in it.
        downscale: integer factor N >= 1: images are read N times smaller (cached on disk) and the cameras are
            ``Cameras.scaled(1 / N)`` -- their width/height equal the resized images' size.
        background: "white" | "black" | "random": what RGBA images are composited on.
        check_images: verify that every image exists and has its camera's size (reads file headers only).
            ``False`` parses the metadata alone (useful when the images are elsewhere).
        format: force one of :data:`FORMATS` instead of detecting.
    Returns:
        The :class:`SceneDataset` (cameras in the file's world units, OpenGL camera-to-world).
    Raises:
        InputError: bad arguments, unrecognised folder, or any problem in the dataset's files.
    """
    if (
        isinstance(downscale, bool)
        or not isinstance(downscale, (numbers.Integral, float))
        or not float(downscale).is_integer()
        or downscale < 1
    ):
        raise InputError(f"must be an integer >= 1, got {downscale!r}", field="--downscale")
    downscale = int(downscale)
    if background not in BACKGROUNDS:
        raise InputError(f"must be one of {', '.join(BACKGROUNDS)}, got {background!r}", field="--background")
    kind, source = detect_format(path)
    if format is not None:
        if format not in FORMATS:
            raise InputError(f"must be one of {', '.join(FORMATS)}, got {format!r}", field="--format")
        kind = format
        if kind in ("nerfstudio", "instant-ngp") and source.is_dir():
            source = source / "transforms.json"
        elif kind in ("blender", "llff") and source.is_file():
            source = source.parent

    if kind == "blender":
        ds = parse_blender(source, background=background, check_images=check_images)
    elif kind in ("nerfstudio", "instant-ngp"):
        ds = parse_transforms(source, background=background, check_images=check_images, flavour=kind)
    else:
        ds = parse_llff(source, background=background, check_images=check_images)
    if "up" not in ds.metadata:
        up = estimate_up(ds)
        if up is not None:
            ds.metadata["up"] = up
    return apply_downscale(ds, downscale)


def estimate_up(ds: SceneDataset, min_agreement: float = 0.5) -> list[float] | None:
    """World "up" of a dataset's cameras: :func:`estimate_up_from_c2w` of all its cameras."""
    return estimate_up_from_c2w(ds.cameras.c2w, min_agreement)


def estimate_up_from_c2w(c2w, min_agreement: float = 0.5) -> list[float] | None:
    """World "up" estimated as the normalised mean of the cameras' +Y axes ((N, 3|4, 4) camera-to-world), or
    None when they disagree (the mean's length, 1 when all cameras share one up vector, is below
    ``min_agreement``: e.g. rolled phones). People hold cameras level, so this is a gravity estimate."""
    ups = torch.as_tensor(c2w)[:, :3, 1].double()
    ups = ups / ups.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    mean = ups.mean(0)
    norm = float(mean.norm())
    if not norm >= min_agreement:
        return None
    return [float(x) for x in mean / norm]


def apply_downscale(ds: SceneDataset, downscale: int) -> SceneDataset:
    """Set ``ds`` (parsed at full resolution) to read images ``downscale`` times smaller; scales its cameras.

    Raises:
        InputError: the factor would leave an image smaller than 1 pixel.
    """
    if downscale == 1:
        return ds
    cams = ds.cameras.scaled(1.0 / downscale)
    if int(cams.width.min()) < 1 or int(cams.height.min()) < 1:
        raise InputError(
            f"{downscale} leaves images smaller than one pixel ({int(ds.cameras.width.min())} px wide)",
            field="--downscale",
        )
    ds.cameras = cams
    ds.downscale = int(downscale)
    ds.metadata["downscale"] = int(downscale)
    return ds
