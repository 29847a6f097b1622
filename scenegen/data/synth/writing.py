"""Write a synthetic scene as a posed dataset in nerfstudio format (images, 16-bit depth maps, transforms.json).

* **Cameras**: :class:`~scenegen.cameras.cameras.Cameras`, OpenGL camera-to-world (camera looks down -Z, +Y up,
  +X right), metres.
* **On disk** (:func:`synthesize_dataset`): RGB images are 8-bit PNGs; depth maps are 16-bit PNGs of z-depth in
  millimetres (0 = no depth; nerfstudio's default ``depth_unit_scale_factor = 1e-3``); ``transforms.json`` is
  written last. Every file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from scenegen.cameras.cameras import Cameras
from scenegen.core.io import atomic_write_text, write_png
from scenegen.data.synth.scene import SynthScene
from scenegen.data.synth.shading import render_views

__all__ = ["depth_to_png16", "synthesize_dataset"]


def depth_to_png16(depth: np.ndarray) -> np.ndarray:
    """(H, W) uint16 depth map in millimetres (clipped to 65.535 m; 0 = no depth) of a z-depth map in metres."""
    return np.clip(np.round(np.asarray(depth).astype(np.float64) * 1000.0), 0, 65535).astype(np.uint16)


def synthesize_dataset(
    scene: SynthScene,
    out_dir: str | Path,
    cameras: Cameras,
    n_train: int = 100,
    n_test: int = 12,
    width: int = 160,
    height: int = 120,
    seed: int = 0,
    generator: str = "scenegen demo",
    extra_metadata: dict | None = None,
    progress: bool = False,
    console=None,
    supersample: int = 1,
) -> Path:
    """Render a nerfstudio-format dataset of ``scene`` seen by ``cameras`` (n_train + n_test) into ``out_dir``.

    Writes::

        out_dir/images/frame_00000.png     uint8 RGB
        out_dir/depth/frame_00000.png      uint16 z-depth in millimetres (0 = no depth)
        out_dir/transforms.json            written last

    ``transforms.json`` holds ``camera_model: "PINHOLE"``, ``fl_x fl_y cx cy w h``, ``frames`` (``file_path``,
    ``transform_matrix`` = 4x4 OpenGL c2w in metres, ``depth_file_path``), ``train_filenames`` /
    ``test_filenames`` (frame file paths) and ``metadata`` (generator, up axis, room aabb, units, depth
    definition). The test frames are every k-th camera of the common camera set ``cameras``. ``seed`` is recorded
    in the metadata. ``supersample``: k x k rays per pixel, averaged (antialiased views, as a camera takes them;
    see :func:`render_views`; the lighting is shared within a pixel and surface), recorded in the metadata as
    ``antialias``. Returns ``out_dir``.
    """
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "depth").mkdir(parents=True, exist_ok=True)
    n_total = n_train + n_test
    cams = cameras
    if cams is None or len(cams) != n_total:
        raise ValueError(f"synthesize_dataset: {0 if cams is None else len(cams)} cameras for {n_total} views")
    if progress:
        with Progress(TextColumn("[bold]render views"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console) as bar:
            task = bar.add_task("render", total=n_total)
            rgb, depth = render_views(scene, cams, on_chunk=lambda k, n: bar.update(task, completed=k),
                                      supersample=supersample, shared_lighting=True)
    else:
        rgb, depth = render_views(scene, cams, supersample=supersample, shared_lighting=True)
    test_ids = set(np.linspace(0, n_total - 1, n_test).round().astype(int).tolist()) if n_test else set()
    while len(test_ids) < n_test:  # pragma: no cover - only for tiny n_total
        test_ids.add(next(i for i in range(n_total) if i not in test_ids))
    frames, train_files, test_files = [], [], []
    for i in range(n_total):
        img_rel, dep_rel = f"images/frame_{i:05d}.png", f"depth/frame_{i:05d}.png"
        write_png(out / img_rel, rgb[i])
        write_png(out / dep_rel, depth_to_png16(depth[i]))
        c2w = np.eye(4)
        c2w[:3, :4] = cams.c2w[i].double().numpy()
        frames.append({"file_path": img_rel, "transform_matrix": c2w.tolist(), "depth_file_path": dep_rel})
        (test_files if i in test_ids else train_files).append(img_rel)
    fx = float(cams.fx[0])
    meta = {
        "camera_model": "PINHOLE",
        "fl_x": fx,
        "fl_y": float(cams.fy[0]),
        "cx": float(cams.cx[0]),
        "cy": float(cams.cy[0]),
        "w": int(width),
        "h": int(height),
        "depth_unit_scale_factor": 0.001,
        "frames": frames,
        "train_filenames": train_files,
        "test_filenames": test_files,
        # The scene's bounds (room plus a margin for walls and the view through the window): a bounded scene.
        "aabb": (scene.aabb + np.array([[-0.3, -0.3, -0.3], [0.3, 0.3, 0.3]])).tolist(),
        "metadata": {
            "generator": generator,
            "up": [0.0, 0.0, 1.0],
            "aabb": scene.aabb.tolist(),
            "units": "metres",
            "depth": "z-depth along the camera's -Z axis, 16-bit PNG in millimetres, 0 = no depth",
            "seed": int(seed),
            "antialias": int(supersample),
            **(extra_metadata or {}),
        },
    }
    atomic_write_text(out / "transforms.json", json.dumps(meta, indent=2), "transforms.json")
    return out
