"""Camera paths: the keyframe path model (nerfstudio viewer ``camera_path.json`` on disk), its interpolation,
presets (orbit, flythrough, dolly, walkthrough), the automatic walk-through planner, safety checks and previews.

Rendered frames (what the renderer consumes) are :class:`CameraPath`; authored keyframes are :class:`PathSpec`.
This layer never loads a trained run: scene geometry comes in as a :class:`SceneVolume` (from a mesh, or from a
density function -- :func:`scenegen.pipelines.paths.volume_from_run` builds one for a run).

Modules, bottom up (each imports only those above it):

* :mod:`~scenegen.paths.camera_path`: nerfstudio ``camera_path.json`` rendered frames <-> :class:`CameraPath`,
  dataparser transforms, fov <-> focal;
* :mod:`~scenegen.paths.model`: :class:`Keyframe`, :class:`PathSpec`, quaternions;
* :mod:`~scenegen.paths.interpolate`: splines, constant speed, easing, sampling;
* :mod:`~scenegen.paths.spec_io`: :class:`PathSpec` <-> nerfstudio keyframes (both viewer layouts), any path file;
* :mod:`~scenegen.paths.style`: :class:`WalkStyle`, the walking settings;
* :mod:`~scenegen.paths.track`: polylines and the keyframes of a level walk along one;
* :mod:`~scenegen.paths.volume`: :class:`SceneVolume`, occupancy in world coordinates;
* :mod:`~scenegen.paths.floor`: floor heights and free space at eye height;
* :mod:`~scenegen.paths.presets`: walkthrough, orbit, flythrough, dolly;
* :mod:`~scenegen.paths.planner`: the automatic walk-through;
* :mod:`~scenegen.paths.safety`: checks and summaries of sampled paths;
* :mod:`~scenegen.paths.framing`: what each frame shows (wall in face, floor or ceiling, unseen by training);
* :mod:`~scenegen.paths.tour_metrics`: per-frame measures of a rendered tour (temporal consistency, PSNR);
* :mod:`~scenegen.paths.drawing`, :mod:`~scenegen.paths.preview`, :mod:`~scenegen.paths.contact_sheet`: pictures.
"""

from scenegen.paths.camera_path import (
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
from scenegen.paths.contact_sheet import contact_sheet_png, render_contact_frames
from scenegen.paths.floor import FloorMap, floor_height_under, floor_map
from scenegen.paths.framing import FramingReport, check_framing, framing_warnings
from scenegen.paths.interpolate import keyframe_times, sample_path, sample_path_at
from scenegen.paths.model import Keyframe, PathSpec
from scenegen.paths.planner import TourPlan, auto_walkthrough, plan_tour
from scenegen.paths.presets import dolly, flythrough, orbit, walkthrough
from scenegen.paths.preview import preview_png
from scenegen.paths.safety import PathWarning, check_path, format_frames, format_summary, summarize
from scenegen.paths.spec_io import (
    cameras_from_spec,
    load_path_spec,
    read_any_path,
    save_path_spec,
    spec_from_nerfstudio,
    spec_to_nerfstudio,
)
from scenegen.paths.style import FLY, WALK, WalkStyle
from scenegen.paths.tour_metrics import temporal_consistency
from scenegen.paths.track import floor_points
from scenegen.paths.volume import SceneVolume

__all__ = [
    "CAMERA_TYPES",
    "FLY",
    "STEREO_CAMERA_TYPES",
    "WALK",
    "CameraPath",
    "Crop",
    "DataparserTransform",
    "FloorMap",
    "FramingReport",
    "Keyframe",
    "PathSpec",
    "PathWarning",
    "SceneVolume",
    "TourPlan",
    "WalkStyle",
    "auto_walkthrough",
    "camera_path_from_dict",
    "cameras_from_spec",
    "check_framing",
    "check_path",
    "contact_sheet_png",
    "dolly",
    "floor_height_under",
    "floor_map",
    "floor_points",
    "flythrough",
    "focal_from_fov",
    "format_frames",
    "format_summary",
    "framing_warnings",
    "fov_from_focal",
    "keyframe_times",
    "load_camera_path",
    "load_dataparser_transforms",
    "load_path_spec",
    "orbit",
    "plan_tour",
    "preview_png",
    "read_any_path",
    "render_contact_frames",
    "sample_path",
    "sample_path_at",
    "save_camera_path",
    "save_path_spec",
    "spec_from_nerfstudio",
    "spec_to_nerfstudio",
    "summarize",
    "temporal_consistency",
    "walkthrough",
]
