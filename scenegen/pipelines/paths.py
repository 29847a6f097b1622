"""Camera-path work that needs a trained run: its scene volume (what is solid, for the automatic walk-through and
the safety checks) and rendered contact sheets.

:mod:`scenegen.paths` never loads a run; it takes the field as functions of world points
(:meth:`~scenegen.paths.SceneVolume.from_density`). This module loads the run (:func:`scenegen.train.run.load_run`)
and builds those functions from its field, its occupancy bitfield and its world -> field transform.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from scenegen.data.run_scene import RunScene
from scenegen.paths import (
    CameraPath,
    PathSpec,
    SceneVolume,
    cameras_from_spec,
    contact_sheet_png,
    render_contact_frames,
)
from scenegen.paths.framing import check_framing, framing_warnings
from scenegen.train.run import LoadedRun, load_run

__all__ = ["contact_sheet_from_run", "density_fn", "framing_from_run", "occupied_fn", "path_scene", "volume_from_run"]


def _run(run: LoadedRun | str | Path, device: str) -> LoadedRun:
    return run if isinstance(run, LoadedRun) else load_run(run, device)


def density_fn(run: LoadedRun) -> Callable[[np.ndarray], np.ndarray]:
    """The run's density as a function of world points: (N, 3) world -> (N,) float64 density per WORLD unit
    (the field's density, which is per field unit, times the world -> field scale), evaluated without gradients
    on the run's device."""
    tr, field, dev, scale = run.transform, run.renderer.field, run.device, float(run.transform.scale)

    def fn(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = tr.world_to_field_points(torch.as_tensor(points, dtype=torch.float32)).to(dev)
            return field.density(x).float().cpu().numpy().astype(np.float64) * scale

    return fn


def occupied_fn(run: LoadedRun) -> Callable[[np.ndarray], np.ndarray] | None:
    """(N, 3) world points -> (N,) bool: inside an occupied cell of the run's occupancy bitfield (the cells the
    renderer samples at all); None when the run has no bitfield."""
    tr, grid, dev = run.transform, run.renderer.grid, run.device
    if grid is None:
        return None

    def fn(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = tr.world_to_field_points(torch.as_tensor(points, dtype=torch.float32)).to(dev)
            return grid.occupied(x).cpu().numpy()

    return fn


def path_scene(run: LoadedRun) -> RunScene:
    """The run's world-space facts for path planning: its ``scene.json`` (training cameras, up axis) with the
    checkpoint's transform and content box. When ``scene.json`` cannot be read (older runs, a missing dataset),
    what the checkpoint knows: no training cameras, the checkpoint's up axis (else +Z)."""
    ck = run.scene.to_dict() if hasattr(run.scene, "to_dict") else run.scene
    aabb = ck.get("aabb_world")
    aabb = np.asarray(aabb, dtype=np.float64).reshape(2, 3) if aabb is not None else None
    try:
        scene = RunScene.read(run.run_dir)
    except Exception:  # older runs / a missing dataset: fall back to what the checkpoint knows
        up = ck.get("up")
        return RunScene(data=str(ck.get("data") or ""), transform=run.transform, train_c2w=np.zeros((0, 4, 4)),
                        aabb=aabb, dataset_up=np.asarray(up, dtype=np.float64) if up else None, run_dir=run.run_dir)
    return dataclasses.replace(scene, transform=run.transform, aabb=aabb)


def volume_from_run(run: LoadedRun | str | Path, up=None, device: str = "auto", **kwargs) -> SceneVolume:
    """Occupancy of a trained run: where the field's density makes a voxel opaque
    (:meth:`SceneVolume.from_density` with the run's density, its occupancy bitfield and :func:`path_scene`).

    Args:
        run: a loaded run, or a run folder (``scenegen train --output``), loaded on ``device``.
        up: (3,) world up; default: the dataset's, else the training cameras' mean image-up vector (a gravity
            estimate), else +Z.
        device: torch device for the field when ``run`` is a folder ("auto", "cpu", "cuda").
        **kwargs: ``voxel``, ``max_cells``, ``opacity``, ``supersample``, ``chunk`` of
            :meth:`SceneVolume.from_density`.
    """
    run = _run(run, device)
    return SceneVolume.from_density(density_fn(run), path_scene(run), occupied_fn=occupied_fn(run), up=up,
                                    source=f"run {run.run_dir}", **kwargs)


def contact_sheet_from_run(
    run: LoadedRun | str | Path,
    path: PathSpec | CameraPath,
    out_png: str | Path,
    count: int = 12,
    scale: float = 0.25,
    device: str = "auto",
) -> Path:
    """Render ``count`` evenly spaced frames of ``path`` with the run at ``scale`` times the path's resolution
    (:func:`~scenegen.paths.render_contact_frames`) into a contact sheet PNG
    (:func:`~scenegen.paths.contact_sheet_png`).

    Returns:
        the PNG written.
    """
    run = _run(run, device)
    cams = path if isinstance(path, CameraPath) else cameras_from_spec(path)
    frames, labels = render_contact_frames(run.render, cams, count=count, scale=scale)
    return contact_sheet_png(out_png, frames, labels)


def framing_from_run(path: PathSpec | CameraPath, volume: SceneVolume, run: str | Path | None = None,
                     walking: bool = True) -> list:
    """Framing warnings (:func:`~scenegen.paths.framing.framing_warnings`, naming frame ranges and times) of a
    path in a run's scene volume, with the run's training cameras (``RUN/scene.json``) for the support check."""
    cams = path if isinstance(path, CameraPath) else cameras_from_spec(path)
    train = None
    if run is not None:
        try:
            train = RunScene.read(run).train_c2w
        except Exception:  # an older run without scene.json: no support check
            train = None
    rep = check_framing(cams.cameras, volume, train, max_pitch_deg=10.0 if walking else None)
    return framing_warnings(rep, cams.video_fps)
