"""Camera paths: the keyframe path model (nerfstudio viewer ``camera_path.json`` on disk), its interpolation,
presets (orbit, flythrough, walkthrough), the automatic walk-through planner, safety checks and previews.

Rendered frames (what the renderer consumes) are :class:`CameraPath`; authored keyframes are :class:`PathSpec`.
"""

from scenegen.paths.interpolate import cameras_from_spec, keyframe_times, sample_path, sample_path_at
from scenegen.paths.keyframes import Keyframe, PathSpec, load_path_spec, save_path_spec, spec_from_nerfstudio, spec_to_nerfstudio
from scenegen.paths.nerfstudio_path import (
    CAMERA_TYPES,
    STEREO_CAMERA_TYPES,
    CameraPath,
    Crop,
    DataparserTransform,
    camera_path_from_dict,
    focal_from_fov,
    fov_from_focal,
    load_camera_path,
    load_dataparser_transforms,
    save_camera_path,
)

__all__ = [
    "CAMERA_TYPES",
    "STEREO_CAMERA_TYPES",
    "CameraPath",
    "Crop",
    "DataparserTransform",
    "Keyframe",
    "PathSpec",
    "camera_path_from_dict",
    "cameras_from_spec",
    "focal_from_fov",
    "fov_from_focal",
    "keyframe_times",
    "load_camera_path",
    "load_dataparser_transforms",
    "load_path_spec",
    "sample_path",
    "sample_path_at",
    "save_camera_path",
    "save_path_spec",
    "spec_from_nerfstudio",
    "spec_to_nerfstudio",
]
