"""Posed-image datasets: parsers for Blender, nerfstudio, Instant-NGP and LLFF data -> :class:`SceneDataset`."""

from scenegen.data.blender import parse_blender
from scenegen.data.dataset import (
    CAMERA_RADIUS,
    SceneDataset,
    SceneTransform,
    camera_focus_point,
    compute_scene_transform,
)
from scenegen.data.images import load_image
from scenegen.data.llff import parse_llff
from scenegen.data.loader import BACKGROUNDS, FORMATS, apply_downscale, detect_format, load_dataset
from scenegen.data.nerfstudio import parse_transforms

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
