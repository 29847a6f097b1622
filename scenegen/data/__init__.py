"""Posed-image datasets: parsers for Blender, nerfstudio, Instant-NGP and LLFF data -> :class:`SceneDataset`."""

from scenegen.data.dataset import (
    CAMERA_RADIUS,
    SceneDataset,
    SceneTransform,
    camera_focus_point,
    compute_scene_transform,
)
from scenegen.data.formats.blender import parse_blender
from scenegen.data.formats.llff import parse_llff
from scenegen.data.formats.nerfstudio import parse_transforms
from scenegen.data.images import load_image
from scenegen.data.loader import BACKGROUNDS, FORMATS, apply_downscale, detect_format, load_dataset

__all__ = [
    "BACKGROUNDS",
    "CAMERA_RADIUS",
    "FORMATS",
    "SceneDataset",
    "SceneTransform",
    "apply_downscale",
    "camera_focus_point",
    "compute_scene_transform",
    "detect_format",
    "load_dataset",
    "load_image",
    "parse_blender",
    "parse_llff",
    "parse_transforms",
]
