"""`scenegen path ...`: camera-path authoring from the shell.

One dataclass per subcommand (its fields are the flags) and one handler that parses the flags and dispatches to
:mod:`scenegen.paths` (authoring, presets, checks, pictures) or, for what needs a trained run's field, to
:mod:`scenegen.pipelines.paths`; ``COMMANDS`` maps subcommand names to (config, handler). Every command reads and
writes nerfstudio viewer ``camera_path.json`` files (keyframes + the rendered ``camera_path``), so a path authored
here opens in nerfstudio's viewer and back. Units are the input's world units; the up axis comes from ``--up``,
else from the run (``--run``: its ``scene.json``), else +Z. Walking defaults come from
:data:`scenegen.paths.WALK` (:data:`scenegen.paths.FLY` for the flythrough).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import numpy as np
from tyro.conf import OmitArgPrefixes, Positional

from scenegen.core import validate
from scenegen.core.errors import InputError
from scenegen.data.run_scene import RunScene
from scenegen.paths import (
    FLY,
    WALK,
    Keyframe,
    PathSpec,
    dolly,
    floor_points,
    flythrough,
    format_summary,
    load_path_spec,
    orbit,
    preview_png,
    read_any_path,
    sample_path,
    save_path_spec,
    summarize,
    walkthrough,
)
from scenegen.pipelines.paths import auto_tour, contact_sheet_from_run, framing_from_run, orbit_tour, volume_from_run

CameraType = Literal["perspective", "fisheye", "equirectangular", "omnidirectional", "vr180"]


# ----------------------------------------------------------------------------------------------------------
# Configs (flags)
# ----------------------------------------------------------------------------------------------------------


@dataclass
class RenderSettings:
    """Render settings shared by the commands that create a path."""

    render_width: int = 1920
    render_height: int = 1080
    fps: float = 30.0
    camera_type: CameraType = "perspective"
    fov: float = WALK.fov
    """Vertical field of view in degrees."""
    smoothness: float = 0.5
    """Spline smoothness 0..1 (nerfstudio's smoothness_value)."""


@dataclass
class PathNew:
    """Start an empty path file (add keyframes with `scenegen path add`)."""

    output: Positional[Path]
    settings: OmitArgPrefixes[RenderSettings] = field(default_factory=RenderSettings)
    transition: float = 2.0
    """Default seconds between keyframes."""
    loop: bool = False
    overwrite: bool = False


@dataclass
class PathAdd:
    """Add a keyframe: from a position and a look-at target, or from a training camera of a run."""

    path: Positional[Path]
    position: Optional[tuple[float, float, float]] = None
    look_at: Optional[tuple[float, float, float]] = None
    from_camera: Optional[int] = None
    """Index of a training camera of --run."""
    run: Optional[Path] = None
    up: Optional[tuple[float, float, float]] = None
    """World up (default: the run's, else +Z)."""
    fov: Optional[float] = None
    """Vertical fov in degrees (default: the path's default_fov)."""
    transition: Optional[float] = None
    """Seconds from this keyframe to the next (default: the path's default)."""
    hold: float = 0.0
    """Seconds to stay at this keyframe."""
    index: Optional[int] = None
    """Insert before this keyframe (default: append)."""
    name: Optional[str] = None


@dataclass
class PathRemove:
    """Remove keyframe INDEX (0-based; negative counts from the end)."""

    path: Positional[Path]
    index: Positional[int]


@dataclass
class PathSet:
    """Change a path's render settings or timing."""

    path: Positional[Path]
    fps: Optional[float] = None
    duration: Optional[float] = None
    """Total seconds: transitions are scaled to fit (holds are kept)."""
    render_width: Optional[int] = None
    render_height: Optional[int] = None
    camera_type: Optional[CameraType] = None
    smoothness: Optional[float] = None
    fov: Optional[float] = None
    """Set every keyframe's (and the default) vertical fov."""
    loop: Optional[bool] = None
    constant_speed: Optional[bool] = None
    ease: Optional[bool] = None


@dataclass
class PathConvert:
    """Convert any supported path file (nerfstudio viewer export, old or new layout, a rendered-only
    camera_path, an Instant-NGP base_cam.json) to a nerfstudio camera_path.json."""

    input: Positional[Path]
    output: Positional[Path]
    dataparser_transforms: Optional[Path] = None
    """nerfstudio dataparser_transforms.json: map a path authored in nerfstudio's frame into the dataset's world."""
    dataset_transforms: Optional[Path] = None
    """The dataset's transforms.json (with --dataparser-transforms: undo its applied_transform too)."""


@dataclass
class PathOrbit:
    """A circle around a centre, looking at it."""

    output: Positional[Path]
    center: Optional[tuple[float, float, float]] = None
    """Point to circle and look at. Default with --run: what the capture's cameras look at (their convergence
    point on the SfM points' dense core; rooms: the content centre); without --run: the origin."""
    radius: Optional[float] = None
    """Horizontal distance from the centre (world units). Default with --run: the capture's own (the cameras'
    median distance; rooms: 4); without: 4."""
    height: Optional[float] = None
    """Height of the camera above the centre along the up axis. Default with --run: the capture's own (the
    cameras' median height; rooms: 1.5); without: 1.5."""
    turns: float = 1.0
    """Number of turns (1 = a closed loop)."""
    direction: Literal["ccw", "cw"] = "ccw"
    """Counter-clockwise or clockwise, seen from above."""
    seconds: float = 10.0
    """Duration of the whole orbit."""
    arc: Literal["auto", "full"] = "auto"
    """With --run: auto = when the photos leave a side unseen (a gap over 60 degrees), one sweep over the arc
    they saw instead of a circle through the unseen side (said when it happens); full = the whole circle."""
    run: Optional[Path] = None
    """Trained run: its up axis and, by default, the capture's centre, radius and height."""
    up: Optional[tuple[float, float, float]] = None
    """World up (default: the run's, else +Z)."""
    settings: OmitArgPrefixes[RenderSettings] = field(default_factory=RenderSettings)


@dataclass
class PathFlythrough:
    """A smooth flight through waypoints "x,y,z;x,y,z;...", looking ahead (or at --look-at)."""

    output: Positional[Path]
    waypoints: str
    look_at: Optional[tuple[float, float, float]] = None
    speed: float = FLY.speed
    """World units per second."""
    run: Optional[Path] = None
    up: Optional[tuple[float, float, float]] = None
    settings: OmitArgPrefixes[RenderSettings] = field(default_factory=RenderSettings)


@dataclass
class PathDolly:
    """A straight move from --start to --end, looking at --look-at (default: straight ahead)."""

    output: Positional[Path]
    start: tuple[float, float, float]
    end: tuple[float, float, float]
    look_at: Optional[tuple[float, float, float]] = None
    seconds: float = 5.0
    run: Optional[Path] = None
    up: Optional[tuple[float, float, float]] = None
    settings: OmitArgPrefixes[RenderSettings] = field(default_factory=RenderSettings)


@dataclass
class PathWalkthrough:
    """Walk through floor waypoints "x,y;x,y;..." (or "x,y,z") at eye height, looking ahead with a bounded
    turn rate."""

    output: Positional[Path]
    waypoints: str
    eye_height: float = WALK.eye_height
    """Metres (world units) above the floor."""
    floor: float = 0.0
    """Floor height along the up axis."""
    speed: float = WALK.speed
    max_turn_rate: float = WALK.max_turn_rate_deg_s
    """Degrees per second."""
    run: Optional[Path] = None
    up: Optional[tuple[float, float, float]] = None
    settings: OmitArgPrefixes[RenderSettings] = field(default_factory=RenderSettings)


@dataclass
class PathAuto:
    """Plan a tour of a trained interior by itself: rooms and doors from its free space, each room revealed from a
    vantage point, doorways crossed square, 0.7 m/s, turns of at most 30 deg/s, 0.5 m from every surface."""

    run: Path
    """The trained run (`scenegen train --output`)."""
    output: Path = Path("auto_tour.json")
    """The camera path JSON to write (with a top-level "rooms" list: the seconds spent in each room)."""
    duration: Optional[float] = None
    """Fit the whole tour to this many seconds (reveals stretch, then the walking speed; within the limits)."""
    rooms: Optional[str] = None
    """Rooms to visit, in this order, comma-separated: names from a generated dataset's plan (living,kitchen),
    else the planner's ids (room_1, ...), printed by this command."""
    up: Optional[tuple[float, float, float]] = None
    """World up vector (default: the run's)."""
    preview: Optional[Path] = None
    """Also write a preview PNG of the plan."""
    settings: OmitArgPrefixes[RenderSettings] = field(default_factory=RenderSettings)

    def validate(self) -> "PathAuto":
        """Refuse bad flags with one line naming the flag; returns self."""
        if self.duration is not None:
            validate.flag_number(self.duration, "--duration", lo=0, open_lo=True, hi=36000)
        if self.rooms is not None and not [r for r in self.rooms.split(",") if r.strip()]:
            raise InputError("give room names separated by commas", field="--rooms")
        _apply_settings(PathSpec(keyframes=[]), self.settings)
        return self


@dataclass
class PathValidate:
    """Check a path file: exits 2 with one line on malformed input; prints a summary and safety warnings."""

    path: Positional[Path]
    run: Optional[Path] = None
    """Check the cameras against this run's scene (inside geometry, too close, outside the trained region)."""
    min_clearance: float = 0.2


@dataclass
class PathInfo:
    """Summary of a path: keyframes, frames, duration, length, speed, render settings."""

    path: Positional[Path]


@dataclass
class PathPreview:
    """Top and side views of a path over the scene as a PNG; optionally a contact sheet of rendered frames."""

    path: Positional[Path]
    output: Path = Path("path_preview.png")
    run: Optional[Path] = None
    contact_sheet: Optional[Path] = None
    """Also render a few low-resolution frames along the path into this PNG (needs --run)."""
    contact_frames: int = 12
    up: Optional[tuple[float, float, float]] = None


# ----------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------


def _up(up, run: Optional[Path]) -> np.ndarray:
    if up is not None:
        v = np.asarray(up, dtype=np.float64)
        n = np.linalg.norm(v)
        if not (np.isfinite(n) and n > 0):
            raise InputError("must be a non-zero vector", field="--up")
        return v / n
    if run is not None:
        return RunScene.read(run).up
    return np.array([0.0, 0.0, 1.0])


def parse_points(text: str, flag: str, dims: tuple[int, ...] = (3,)) -> np.ndarray:
    """ "x,y,z;x,y,z" -> (K, D) array; one-line InputError naming the flag otherwise."""
    rows = []
    for k, part in enumerate(p for p in text.replace("\n", ";").split(";") if p.strip()):
        try:
            vals = [float(v) for v in part.replace(" ", ",").split(",") if v.strip()]
        except ValueError:
            raise InputError(f"point {k + 1} '{part.strip()}' is not a list of numbers", field=flag) from None
        if len(vals) not in dims:
            raise InputError(f"point {k + 1} has {len(vals)} numbers, expected {' or '.join(map(str, dims))}", field=flag)
        if not all(math.isfinite(v) for v in vals):
            raise InputError(f"point {k + 1} is not finite", field=flag)
        if any(abs(v) > validate.FLAG_LIMIT for v in vals):
            raise InputError(f"point {k + 1} has a coordinate beyond {validate.FLAG_LIMIT:g}", field=flag)
        rows.append(vals)
    if len(rows) < 2:
        raise InputError("give at least two points separated by ';'", field=flag)
    if len({len(r) for r in rows}) != 1:
        raise InputError("all points need the same number of coordinates", field=flag)
    return np.asarray(rows, dtype=np.float64)


MAX_SIDE = 16384
"""Largest render width or height a path may ask for (H.264's limit)."""
MAX_FPS = 1000.0
MAX_SECONDS = 24 * 3600.0
"""Longest path, transition or hold the commands author (a day of video)."""


def _seconds(value, flag: str, fps: float | None = None) -> float:
    """A duration flag: positive, at most a day, and (given ``fps``) at least one frame long."""
    lo = 1.0 / fps if fps else 0.0
    hint = f"at least one frame at {fps:g} fps" if fps else ""
    return validate.flag_number(value, flag, lo=lo, open_lo=not fps, hi=MAX_SECONDS, hint=hint)


def _check_travel(pts: np.ndarray, speed: float) -> None:
    """Refuse waypoints whose travel at ``speed`` would last beyond :data:`MAX_SECONDS` (before any sampling)."""
    length = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())
    seconds = length / speed
    if not seconds <= MAX_SECONDS:
        raise InputError(f"{length:g} units of travel at {speed:g} units/s would last {seconds:g} s; the limit is "
                         f"{MAX_SECONDS:g} s (a day)", field="--speed")


def _apply_settings(spec, s: RenderSettings):
    validate.flag_number(s.render_width, "--render-width", lo=1, hi=MAX_SIDE, whole=True)
    validate.flag_number(s.render_height, "--render-height", lo=1, hi=MAX_SIDE, whole=True)
    validate.flag_number(s.fps, "--fps", lo=0, open_lo=True, hi=MAX_FPS)
    if not (0 < s.fov < 180):
        raise InputError("must be in (0, 180) degrees", field="--fov")
    if not (0 <= s.smoothness <= 1):
        raise InputError("must be in [0, 1]", field="--smoothness")
    spec.width, spec.height = int(s.render_width), int(s.render_height)
    spec.fps, spec.camera_type = float(s.fps), s.camera_type
    spec.smoothness = float(s.smoothness)
    spec.default_fov = float(s.fov)
    for kf in spec.keyframes:
        kf.aspect = spec.width / spec.height
    return spec


def _check_new_file(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise InputError("already exists (pass --overwrite to replace it)", file=path)


MAX_FRAMES = 1_000_000
"""Most frames a path may have (about 9 hours at 30 fps): checked before any frame is sampled or written."""


def _check_length(spec) -> None:
    """Refuse a path whose duration or frame count is beyond what can be rendered, naming the limit."""
    seconds = float(spec.duration)
    if not math.isfinite(seconds) or seconds > MAX_SECONDS:
        raise InputError(f"the path would last {seconds:g} s; the limit is {MAX_SECONDS:g} s (a day)",
                         field="--seconds/--speed/--duration/--transition")
    if seconds * spec.fps > MAX_FRAMES:
        raise InputError(f"the path would have {seconds * spec.fps:.0f} frames; the limit is {MAX_FRAMES}",
                         field="--fps/--seconds/--duration")


def _save(spec, out: Path, console=None) -> Path:
    _check_length(spec)
    p = save_path_spec(spec, out)
    if console is not None:
        console.print(format_summary(p, summarize(spec)))
    return p


# ----------------------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------------------


def path_new(cfg: PathNew, console=None) -> Path:
    _check_new_file(cfg.output, cfg.overwrite)
    _seconds(cfg.transition, "--transition")
    spec = _apply_settings(PathSpec(keyframes=[]), cfg.settings)
    spec.default_transition, spec.loop = float(cfg.transition), cfg.loop
    p = save_path_spec(spec, cfg.output)
    if console is not None:
        console.print(f"{p}: empty path ({spec.width}x{spec.height}, {spec.fps:g} fps); add keyframes with `scenegen path add`")
    return p


def path_add(cfg: PathAdd, console=None) -> Path:
    spec = load_path_spec(cfg.path, allow_empty=True)
    fov = spec.default_fov if cfg.fov is None else cfg.fov
    if not (0 < fov < 180):
        raise InputError("must be in (0, 180) degrees", field="--fov")
    if cfg.from_camera is not None:
        if cfg.position is not None or cfg.look_at is not None:
            raise InputError("give either --from-camera or --position/--look-at", field="--from-camera")
        if cfg.run is None:
            raise InputError("--from-camera needs --run", field="--run")
        cams = RunScene.read(cfg.run).train_c2w
        if not -len(cams) <= cfg.from_camera < len(cams):
            raise InputError(f"the run has {len(cams)} training cameras", field="--from-camera")
        kf = Keyframe.from_c2w(cams[cfg.from_camera], fov=fov, aspect=spec.width / spec.height)
    else:
        if cfg.position is None or cfg.look_at is None:
            raise InputError("give --position and --look-at (or --from-camera with --run)", field="--position")
        try:
            kf = Keyframe.look_at(cfg.position, cfg.look_at, up=_up(cfg.up, cfg.run), fov=fov)
        except ValueError as e:
            raise InputError(str(e), field="--look-at") from None
        kf.aspect = spec.width / spec.height
    if cfg.transition is not None:
        _seconds(cfg.transition, "--transition")
    validate.flag_number(cfg.hold, "--hold", lo=0, hi=MAX_SECONDS)
    kf.transition, kf.hold, kf.name = cfg.transition, float(cfg.hold), cfg.name
    idx = len(spec.keyframes) if cfg.index is None else cfg.index
    if not -len(spec.keyframes) <= idx <= len(spec.keyframes):
        raise InputError(f"the path has {len(spec.keyframes)} keyframes", field="--index")
    spec.keyframes.insert(idx, kf)
    return _save(spec, cfg.path, console)


def path_remove(cfg: PathRemove, console=None) -> Path:
    spec = load_path_spec(cfg.path, allow_empty=True)
    n = len(spec.keyframes)
    if not -n <= cfg.index < n:
        raise InputError(f"the path has {n} keyframes", field="index")
    del spec.keyframes[cfg.index]
    if not spec.keyframes:
        return save_path_spec(spec, cfg.path)
    return _save(spec, cfg.path, console)


def path_set(cfg: PathSet, console=None) -> Path:
    spec = load_path_spec(cfg.path, allow_empty=True)
    if cfg.fps is not None:
        spec.fps = validate.flag_number(cfg.fps, "--fps", lo=0, open_lo=True, hi=MAX_FPS)
    for name in ("width", "height"):
        v = getattr(cfg, f"render_{name}")
        if v is not None:
            setattr(spec, name, int(validate.flag_number(v, f"--render-{name}", lo=1, hi=MAX_SIDE, whole=True)))
    if cfg.camera_type is not None:
        spec.camera_type = cfg.camera_type
    if cfg.smoothness is not None:
        if not 0 <= cfg.smoothness <= 1:
            raise InputError("must be in [0, 1]", field="--smoothness")
        spec.smoothness = float(cfg.smoothness)
    if cfg.fov is not None:
        if not 0 < cfg.fov < 180:
            raise InputError("must be in (0, 180) degrees", field="--fov")
        spec.default_fov = float(cfg.fov)
        for kf in spec.keyframes:
            kf.fov = float(cfg.fov)
    for name in ("loop", "constant_speed", "ease"):
        v = getattr(cfg, name)
        if v is not None:
            setattr(spec, name, bool(v))
    for kf in spec.keyframes:
        kf.aspect = spec.width / spec.height
    if cfg.duration is not None:
        _seconds(cfg.duration, "--duration")
        holds = sum(kf.hold for kf in spec.keyframes)
        moving = spec.duration - holds
        if cfg.duration <= holds or moving <= 0:
            raise InputError(f"must exceed the keyframes' holds ({holds:g} s)", field="--duration")
        k = (cfg.duration - holds) / moving
        spec.default_transition *= k
        for kf in spec.keyframes:
            if kf.transition is not None:
                kf.transition *= k
    return _save(spec, cfg.path, console)


def path_convert(cfg: PathConvert, console=None) -> Path:
    spec = read_any_path(cfg.input, cfg.dataparser_transforms, cfg.dataset_transforms)
    return _save(spec, cfg.output, console)


def path_orbit(cfg: PathOrbit, console=None) -> Path:
    if cfg.radius is not None:
        validate.flag_number(cfg.radius, "--radius", lo=0, open_lo=True)
    if cfg.height is not None:
        validate.flag_number(cfg.height, "--height")
    validate.flag_number(cfg.seconds, "--seconds", lo=0, open_lo=True)
    _seconds(cfg.seconds, "--seconds", cfg.settings.fps)
    validate.flag_number(cfg.turns, "--turns", lo=0, open_lo=True, hi=1000)
    up = _up(cfg.up, cfg.run)
    if cfg.run is not None:
        spec = orbit_tour(cfg.run, seconds=cfg.seconds, fov=cfg.settings.fov, center=cfg.center, radius=cfg.radius,
                          height_above=cfg.height, up=up, turns=cfg.turns, direction=cfg.direction, arc=cfg.arc)
        if cfg.arc == "auto" and abs(cfg.turns - 1.0) < 1e-9 and not spec.loop and console is not None:
            console.print("the photos leave a side of the subject unseen: the orbit sweeps once over the arc they "
                          "saw (--arc full for the whole circle)", highlight=False)
    else:
        center = np.asarray(cfg.center, dtype=np.float64) if cfg.center is not None else np.zeros(3)
        spec = orbit(center, 4.0 if cfg.radius is None else cfg.radius, 1.5 if cfg.height is None else cfg.height,
                     turns=cfg.turns, direction=cfg.direction, fov=cfg.settings.fov, seconds=cfg.seconds, up=up)
    return _save(_apply_settings(spec, cfg.settings), cfg.output, console)


def path_flythrough(cfg: PathFlythrough, console=None) -> Path:
    if not cfg.speed > 0:
        raise InputError("must be positive", field="--speed")
    pts = parse_points(cfg.waypoints, "--waypoints")
    _check_travel(pts, cfg.speed)
    spec = flythrough(pts, look_at=cfg.look_at, speed=cfg.speed, fov=cfg.settings.fov, up=_up(cfg.up, cfg.run))
    return _save(_apply_settings(spec, cfg.settings), cfg.output, console)


def path_dolly(cfg: PathDolly, console=None) -> Path:
    _seconds(cfg.seconds, "--seconds", cfg.settings.fps)
    if np.linalg.norm(np.asarray(cfg.end, float) - np.asarray(cfg.start, float)) <= 0:
        raise InputError("--start and --end are the same point", field="--end")
    up = _up(cfg.up, cfg.run)
    try:
        spec = dolly(cfg.start, cfg.end, look_at=cfg.look_at, seconds=cfg.seconds, up=up, fov=cfg.settings.fov)
    except ValueError as e:
        raise InputError(str(e), field="--look-at") from None
    return _save(_apply_settings(spec, cfg.settings), cfg.output, console)


def path_walkthrough(cfg: PathWalkthrough, console=None) -> Path:
    if not (cfg.speed > 0 and cfg.max_turn_rate > 0 and cfg.eye_height > 0):
        raise InputError("speed, max turn rate and eye height must be positive", field="--speed")
    pts = parse_points(cfg.waypoints, "--waypoints", dims=(2, 3))
    up = _up(cfg.up, cfg.run)
    if pts.shape[1] == 2:
        pts = floor_points(pts, up, cfg.floor)
    _check_travel(pts, cfg.speed)
    spec = walkthrough(pts, eye_height=cfg.eye_height, up=up, speed=cfg.speed,
                       max_turn_rate_deg_s=cfg.max_turn_rate, fov=cfg.settings.fov)
    return _save(_apply_settings(spec, cfg.settings), cfg.output, console)


def path_auto(cfg: PathAuto, console=None) -> Path:
    cfg.validate()
    up = None if cfg.up is None else _up(cfg.up, None)
    st = cfg.settings
    rooms = [r.strip() for r in cfg.rooms.split(",") if r.strip()] if cfg.rooms else None
    spec = auto_tour(cfg.run, duration=cfg.duration, rooms=rooms, fps=st.fps, width=st.render_width,
                     height=st.render_height, fov=st.fov, up=up, device="cpu")
    spec.camera_type = st.camera_type
    p = _save(spec, cfg.output, None)
    volume = volume_from_run(cfg.run, up=up, device="cpu")
    s = summarize(spec, volume, min_clearance=0.3)
    if console is not None:
        console.print(format_summary(p, s))
        console.print("rooms: " + ", ".join(f"{r['name']} {r['start_time']:.1f}-{r['end_time']:.1f} s"
                                            for r in spec.extra.get("rooms", [])))
        if cfg.duration is not None and abs(spec.duration - cfg.duration) > 0.5:
            console.print(f"[yellow]note:[/] the tour lasts {spec.duration:.1f} s: {cfg.duration:g} s is out of reach "
                          "at walking pace for these rooms (try --rooms)")
    if cfg.preview is not None:
        _preview(spec, cfg.preview, cfg.run, volume.up, s["warnings"], volume)
        if console is not None:
            console.print(f"preview -> {cfg.preview}")
    return p


def path_validate(cfg: PathValidate, console=None) -> dict:
    spec = read_any_path(cfg.path)
    if not spec.keyframes:
        raise InputError("the path is empty", file=cfg.path, field="keyframes")
    volume = None
    if cfg.run is not None:
        volume = volume_from_run(cfg.run, device="cpu")
    s = summarize(spec, volume, min_clearance=cfg.min_clearance)
    if volume is not None:
        s["warnings"] += framing_from_run(spec, volume, cfg.run)
    if console is not None:
        console.print(format_summary(cfg.path, s))
        console.print("ok" if not s["warnings"] else f"ok, with {len(s['warnings'])} warning(s)")
    return s


def path_info(cfg: PathInfo, console=None) -> dict:
    spec = read_any_path(cfg.path)
    if not spec.keyframes:
        if console is not None:
            console.print(f"{cfg.path}: empty path ({spec.width}x{spec.height}, {spec.fps:g} fps)")
        return {"keyframes": 0}
    s = summarize(spec)
    if console is not None:
        console.print(format_summary(cfg.path, s))
        for i, kf in enumerate(spec.keyframes):
            p = kf.position
            console.print(f"  [{i}] ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}) fov {kf.fov:.1f}"
                          + (f" transition {kf.transition:g} s" if kf.transition is not None else "")
                          + (f" hold {kf.hold:g} s" if kf.hold else "") + (f" '{kf.name}'" if kf.name else ""))
    return s


def path_preview(cfg: PathPreview, console=None) -> Path:
    spec = read_any_path(cfg.path)
    if not spec.keyframes:
        raise InputError("the path is empty", file=cfg.path, field="keyframes")
    up = _up(cfg.up, cfg.run)
    volume = None
    if cfg.run is not None:
        volume = volume_from_run(cfg.run, up=up, device="cpu")
    warnings = summarize(spec, volume)["warnings"]
    out = _preview(spec, cfg.output, cfg.run, up, warnings, volume)
    if console is not None:
        console.print(f"preview -> {out}")
    if cfg.contact_sheet is not None:
        if cfg.run is None:
            raise InputError("--contact-sheet needs --run", field="--run")
        sheet = contact_sheet_from_run(cfg.run, spec, cfg.contact_sheet, count=cfg.contact_frames)
        if console is not None:
            console.print(f"contact sheet -> {sheet}")
    return out


def _preview(spec, out: Path, run: Optional[Path], up, warnings, volume=None) -> Path:
    c2w, _, _ = sample_path(spec)
    train = points = None
    if run is not None:
        train = RunScene.read(run).train_c2w
    if volume is not None:
        points = volume.occupied_points()
    bad = set()
    for w in warnings:
        bad.update(w.frames)
    kf = np.stack([k.c2w() for k in spec.keyframes])
    return preview_png(out, c2w, kf, up=up, train_c2w=train, points=points, warnings_frames=bad,
                       title=out.stem, seconds=spec.duration, fps=spec.fps)


COMMANDS = {
    "new": (PathNew, path_new),
    "add": (PathAdd, path_add),
    "remove": (PathRemove, path_remove),
    "set": (PathSet, path_set),
    "convert": (PathConvert, path_convert),
    "orbit": (PathOrbit, path_orbit),
    "flythrough": (PathFlythrough, path_flythrough),
    "dolly": (PathDolly, path_dolly),
    "walkthrough": (PathWalkthrough, path_walkthrough),
    "auto": (PathAuto, path_auto),
    "validate": (PathValidate, path_validate),
    "info": (PathInfo, path_info),
    "preview": (PathPreview, path_preview),
}
