"""Video output: atomic H.264 MP4 / PNG writers, depth colouring, and the resumable camera-path render loop."""

from scenegen.video.render_path import RenderFn, camera_fingerprint, frame_name, render_camera_path
from scenegen.video.writer import (
    VideoWriter,
    colorize_depth,
    even_size,
    make_even,
    probe_video,
    read_png,
    robust_depth_range,
    to_uint8,
    turbo,
    write_png,
    write_video,
)

__all__ = [
    "RenderFn",
    "VideoWriter",
    "camera_fingerprint",
    "colorize_depth",
    "even_size",
    "frame_name",
    "make_even",
    "probe_video",
    "read_png",
    "render_camera_path",
    "robust_depth_range",
    "to_uint8",
    "turbo",
    "write_png",
    "write_video",
]
