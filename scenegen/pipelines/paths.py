"""Camera-path work that needs a trained run: its scene volume (what is solid, for the automatic walk-through and
the safety checks) and rendered contact sheets.

:mod:`scenegen.paths` never loads a run; it takes the field as functions of world points
(:meth:`~scenegen.paths.SceneVolume.from_density`). This module loads the run (:func:`scenegen.train.run.load_run`)
and builds those functions from its field, its occupancy bitfield and its world -> field transform.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from scenegen.core.errors import InputError
from scenegen.data.capture.coverage import GAP_DEG, dataset_points, look_target, orbit_frame
from scenegen.data.run_scene import RunScene
from scenegen.paths import (
    CameraPath,
    PathSpec,
    SceneVolume,
    auto_walkthrough,
    cameras_from_spec,
    contact_sheet_png,
    orbit,
    render_contact_frames,
)
from scenegen.paths.framing import check_framing, framing_warnings
from scenegen.paths.planner import NotWalkable
from scenegen.paths.track import plane_basis
from scenegen.train.run import LoadedRun, load_run

__all__ = ["auto_tour", "capture_orbit", "contact_sheet_from_run", "density_fn", "framing_from_run", "occupied_fn", "orbit_tour",
           "path_scene", "plan_hints", "volume_from_run"]


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


def auto_tour(
    run: LoadedRun | str | Path,
    *,
    duration: float | None = None,
    rooms: list[str] | None = None,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
    fov: float | None = None,
    up=None,
    device: str = "cpu",
) -> PathSpec:
    """The automatic walk-through of a trained run (what ``scenegen path auto`` writes), as a :class:`PathSpec`.

    The one entry point for every caller (``path auto``, the demo, ``scenegen tour``, the viewer's button).

    Args:
        run: a loaded run or a run folder.
        duration: fit the whole tour to this many seconds: the reveals stretch (0.4-3x) and then the walking
            speed (0.45-1.1 m/s) within the turn-rate bound; a tour that cannot be that short or long within
            them comes out as close as it can (check ``spec.duration``). None: the natural length.
        rooms: room names (or ids) to visit, in this order (None: every room, in the planner's order).
        fps, width, height, fov: render settings written into the path.
        up: world up (default: the dataset's).
        device: torch device for the field when ``run`` is a folder.
    Raises:
        InputError: one line when the scene is not walkable (suggesting ``scenegen path orbit``) or a named room
            does not exist.
    """
    run_dir = run.run_dir if isinstance(run, LoadedRun) else Path(run)
    volume = volume_from_run(run, up=up, device=device)
    try:
        return auto_walkthrough(volume, fov=fov, fps=fps, width=width, height=height, duration=duration,
                                rooms=list(rooms) if rooms else None, hints=plan_hints(run_dir))
    except NotWalkable as e:
        raise InputError(f"this scene is not walkable ({e.args[0].split(': ')[-1]}); "
                         f"try `scenegen path orbit --run {run_dir}`", field="--run") from None


def plan_hints(run_dir: str | Path) -> list | None:
    """The rooms of a generated dataset's plan, ``[(name, kind, lo, hi)]`` in world coordinates, from the run's
    dataset (``transforms.json`` metadata ``rooms``: name -> (2, 3) box; kinds from ``spec.json``); None when
    the dataset carries no plan (a capture, an imported model) or cannot be read."""
    try:
        data = Path(RunScene.read(run_dir).data)
        meta = json.loads((data / "transforms.json").read_text()).get("metadata") or {}
        boxes = meta.get("rooms")
        if not isinstance(boxes, dict) or not boxes:
            return None
        kinds = {}
        if (data / "spec.json").is_file():
            spec = json.loads((data / "spec.json").read_text())
            kinds = {str(r.get("name")): str(r.get("type")) for r in spec.get("rooms", []) if isinstance(r, dict)}
        out = []
        for name, box in boxes.items():
            b = np.asarray(box, dtype=np.float64).reshape(2, 3)
            if not np.isfinite(b).all():
                return None
            kind = kinds.get(name, "hallway" if str(name).startswith("hallway") else "")
            out.append((str(name), kind, b[0], b[1]))
        return out
    except (OSError, ValueError, TypeError, AttributeError, InputError):
        return None


def orbit_tour(
    run: LoadedRun | str | Path,
    *,
    seconds: float = 10.0,
    fps: float = 30.0,
    width: int = 1920,
    height: int = 1080,
    fov: float | None = None,
    center=None,
    radius: float | None = None,
    height_above: float | None = None,
    up=None,
    turns: float = 1.0,
    direction: str = "ccw",
    arc: str = "auto",
) -> PathSpec:
    """An orbit around what a trained run shows (what ``scenegen path orbit --run`` writes), as a
    :class:`PathSpec`.

    ``arc`` "auto": when the capture's photos leave a side of the centre unseen (a gap of more than 60 degrees,
    :func:`captured_arc`), a one-turn orbit sweeps once over the arc the photos saw, from one end to the other,
    instead of flying through the unseen side, where no photo constrains what the field shows. "full": the whole
    circle regardless.

    For a capture whose cameras converge on a subject (an object or a table scene photographed around it), the
    defaults repeat the capture: centred on what the cameras look at (their optical axes' least-squares
    convergence point, pulled onto the dense core of the dataset's SfM points), at the cameras' median
    horizontal distance and median height (:func:`scenegen.data.capture.coverage.orbit_frame`). Otherwise
    (rooms, inside-out captures): the content centre, radius 4 and height 1.5 world units.

    The one entry point for every caller (``path orbit``, ``scenegen tour``, the viewer's button).
    """
    run_dir = run.run_dir if isinstance(run, LoadedRun) else Path(run)
    scene = RunScene.read(run_dir)
    u = np.asarray(up if up is not None else scene.up, dtype=np.float64)
    c_auto, r_auto, h_auto = capture_orbit(scene, u)
    c = np.asarray(center if center is not None else c_auto, dtype=np.float64)
    kw = {} if fov is None else {"fov": fov}
    sweep = captured_arc(scene, c, u) if arc == "auto" and abs(turns - 1.0) < 1e-9 else None
    if sweep is not None:
        start, span = sweep
        if direction == "cw":
            start = start + span
        kw.update(arc_deg=span, start_angle_deg=start)
    return orbit(c, r_auto if radius is None else radius, h_auto if height_above is None else height_above,
                 turns=turns, direction=direction, seconds=seconds, up=u, fps=fps, width=width, height_px=height,
                 **kw)


def captured_arc(scene: RunScene, center, up, min_gap_deg: float = GAP_DEG) -> tuple[float, float] | None:
    """The arc around ``center`` (about ``up``) that a run's training photos cover, when they leave a gap wider
    than ``min_gap_deg``: (start angle, span) in degrees, in :func:`scenegen.paths.presets.orbit`'s angle
    convention (counter-clockwise from the first axis of the plane basis), running counter-clockwise from the
    gap's end to its start. None when the photos go all round, when they do not converge on a subject (rooms,
    forward-facing captures: no "side" to miss) or when there are fewer than 3."""
    c2w = np.asarray(scene.train_c2w, dtype=np.float64)
    if len(c2w) < 3 or not look_target(c2w, dataset_points(scene.data) if scene.data else None)[1]:
        return None
    u = np.asarray(up, dtype=np.float64)
    u = u / max(float(np.linalg.norm(u)), 1e-12)
    e1, e2 = plane_basis(u)
    rel = c2w[:, :3, 3] - np.asarray(center, dtype=np.float64).reshape(3)
    az = np.sort(np.degrees(np.arctan2(rel @ e2, rel @ e1)))
    gaps = np.diff(np.concatenate([az, az[:1] + 360.0]))
    k = int(np.argmax(gaps))
    if gaps[k] <= min_gap_deg:
        return None
    return float(az[(k + 1) % len(az)]), float(360.0 - gaps[k])


def capture_orbit(scene: RunScene, up) -> tuple[np.ndarray, float, float]:
    """Centre, radius and height of :func:`orbit_tour`'s default orbit for a run's scene record."""
    c2w = np.asarray(scene.train_c2w, dtype=np.float64)
    if len(c2w) >= 3:
        pts = dataset_points(scene.data) if scene.data else None
        _, converge = look_target(c2w, pts)
        if converge:
            return orbit_frame(c2w, up, pts)
    return np.asarray(scene.center, dtype=np.float64), 4.0, 1.5
