"""Camera paths: reading and writing nerfstudio viewer ``camera_path.json`` files."""

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
    "camera_path_from_dict",
    "focal_from_fov",
    "fov_from_focal",
    "load_camera_path",
    "load_dataparser_transforms",
    "save_camera_path",
]
