"""`scenegen demo`: the whole chain on the built-in scene, in a few minutes on a 2-core CPU.

It composes the pipelines a user would run one by one:

1. :func:`scenegen.pipelines.generate.generate`: a furnished apartment from its brief, rendered to a posed
   dataset with depth (open3d ray casting);
2. :func:`scenegen.pipelines.train.train`: a radiance field on it within a time budget;
3. :func:`scenegen.pipelines.evaluate.evaluate`: held-out views;
4. an eye-level walk-through planned on the trained field (`path auto`; `--tour plan`: room by room through
   the plan's doors), rendered by :func:`scenegen.pipelines.render.render` to an H.264 MP4 (plus a contact sheet of frames).

A demo folder is resumable: an existing dataset of the same brief and size and an existing trained run are reused.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Optional

import numpy as np
from PIL import Image
from rich.console import Console

from scenegen.core import validate as v
from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text
from scenegen.data.loader import load_dataset
from scenegen.data.prior.brief import DEFAULT_BRIEF, parse_brief
from scenegen.data.prior.generate import DEFAULT_ANTIALIAS, VIEW_PLACEMENT, brief_scene
from scenegen.kernels import prebuild_cpu_kernels
from scenegen.paths import (
    WALK,
    Keyframe,
    PathSpec,
    contact_sheet_png,
    sample_path,
    save_path_spec,
)
from scenegen.pipelines.evaluate import EvalConfig, evaluate
from scenegen.pipelines.generate import GenerateConfig, generate
from scenegen.pipelines.paths import auto_tour
from scenegen.pipelines.render import RenderConfig, render
from scenegen.pipelines.train import train
from scenegen.train.config import TrainConfig
from scenegen.train.run import load_run


@dataclass
class DemoConfig:
    """Run the whole chain on the built-in default: a two-bedroom apartment generated from its brief."""

    output: Path = Path("scenegen-demo")
    """Folder for the dataset, the run, the camera path and the video."""
    prompt: Optional[str] = None
    """The brief of the home to generate (default: the built-in two-bedroom apartment)."""
    train_minutes: float = 0.0
    """Training time budget in minutes; 0 = auto: 4.5 for the default apartment (about 3100 steps on 2 idle
    vCPUs; the whole demo takes under 10 minutes idle, about 5 of them planning, rendering and measuring the
    tour), scaled with the home's size up to 2x (see --views); the field keeps improving with more."""
    views: int = 0
    """Training views rendered from the generated home; 0 = auto: 160 for the default apartment, scaled with the
    home's rooms and room surface up to 3x, so every room of a larger home is seen as densely."""
    antialias: int = DEFAULT_ANTIALIAS
    """Rays per pixel along each axis of the training views (see `scenegen generate --antialias`)."""
    width: int = 192
    height: int = 144
    video_width: int = 256
    video_height: int = 192
    """The tour's size (re-render it larger with `scenegen render --run DIR/run --camera-path
    DIR/tour_camera_path.json --output tour.mp4 --resolution-scale 4`)."""
    tour_seconds: float = 40.0
    """Length of the walk-through video (the planner fits it within walking limits: reveals stretch, then the
    walking speed adapts between 0.45 and 1.1 m/s; a tour that cannot be this short comes out longer)."""
    tour: Literal["auto", "plan"] = "auto"
    """How the tour is planned: "auto" (the automatic planner on the trained field) or "plan" (a keyframed walk
    through the generated plan's doors)."""
    fps: int = 10
    seed: int = 0
    report: bool = True
    """Write the tour report beside the video (tour.report.json + .png, `scenegen report`; about a minute more)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    progress: bool = True

    def validate(self) -> "DemoConfig":
        """Refuse bad flags with one line naming the flag, before any work; returns self."""
        v.flag_number(self.train_minutes, "--train-minutes", lo=0, hint="0 = auto")
        v.flag_number(self.views, "--views", lo=0, hi=100000, whole=True, hint="0 = auto")
        v.flag_number(self.antialias, "--antialias", lo=1, hi=8, whole=True)
        for value, flag in ((self.width, "--width"), (self.height, "--height"), (self.video_width, "--video-width"),
                            (self.video_height, "--video-height")):
            v.flag_number(value, flag, lo=16, hi=4096, whole=True)
        v.flag_number(self.tour_seconds, "--tour-seconds", lo=0, open_lo=True, hi=3600)
        v.flag_number(self.fps, "--fps", lo=1, hi=240, whole=True)
        v.flag_number(self.seed, "--seed", whole=True)
        v.output_dir(self.output, "--output")
        return self


DEMO_VIEWS = 160
"""Training views of the default apartment (its 4 rooms, about 300 m² of walls, floors and ceilings). 160 rather
than 120 raised the tour's 10th-percentile PSNR against ground truth by about 2 dB at the same training time
(BENCHMARKS.md, "Views that scale with the home")."""
DEMO_MINUTES = 4.5
"""Training minutes for the default apartment."""
_REF_ROOMS, _REF_SURFACE = 4, 300.0
MAX_VIEW_SCALE, MAX_MINUTE_SCALE = 3.0, 2.0


def demo_budget(spec, views: int = 0, minutes: float = 0.0) -> tuple[int, float, str]:
    """(training views, training minutes, what was chosen and why) for a home's spec; ``views`` / ``minutes`` > 0
    are the user's and kept. The auto values scale the default apartment's 160 views and 4.5 minutes with the
    home: by its room count and by its rooms' surface (walls, floor, ceiling: what the views must cover),
    whichever is larger. Spread over a home with twice the rooms, the default's views left each room half as
    many; the study of a four-bedroom home was seen by too few to render cleanly (BENCHMARKS.md, trained tours
    of other homes)."""
    h = float(spec.ceiling_height)
    surface = sum(2 * r.width * r.depth + 2 * (r.width + r.depth) * h for r in spec.rooms)
    scale = max(1.0, len(spec.rooms) / _REF_ROOMS, surface / _REF_SURFACE)
    auto_v = int(round(DEMO_VIEWS * min(scale, MAX_VIEW_SCALE)))
    auto_m = round(DEMO_MINUTES * min(scale, MAX_MINUTE_SCALE), 1)
    v_out = views if views > 0 else auto_v
    m_out = minutes if minutes > 0 else auto_m
    why = ""
    if scale > 1.0 and (views <= 0 or minutes <= 0):
        why = (f"{len(spec.rooms)} rooms, {surface:.0f} m² of room surface ({scale:.2f}x the default apartment's): "
               f"{v_out} training views, {m_out:g} minutes of training")
    return v_out, m_out, why


@dataclass
class DemoResult:
    """What `scenegen demo` made (``to_dict()`` is what OUTPUT/demo.json holds)."""

    dataset: str
    run: str
    camera_path: str
    tour: str
    """How the tour was planned: "auto" (`path auto` on the trained field) or "plan" (the floor plan's doors)."""
    plan: str
    """The floor-plan picture with the cameras."""
    video: str
    contact_sheet: str
    eval_psnr: float
    eval_ssim: float
    train_steps: int
    render_s_per_frame: Optional[float]
    timings: dict[str, float] = field(default_factory=dict)
    report: Optional[str] = None
    """The tour report's JSON (tour.report.json; its timeline: tour.report.png)."""
    views: int = 0
    """Training views rendered (the auto choice or --views)."""
    train_minutes: float = 0.0
    """Training time budget (the auto choice or --train-minutes)."""

    def to_dict(self) -> dict:
        return asdict(self)


def contact_sheet(frames_dir: Path, out: Path, fps: float, count: int = 12, cols: int = 4) -> None:
    """``count`` evenly spaced frames from ``frames_dir`` on one labelled sheet (the path previews' contact sheet)."""
    files = sorted(frames_dir.glob("*.png"))
    if not files:
        return
    pick = np.unique(np.linspace(0, len(files) - 1, min(count, len(files))).round().astype(int))
    frames = [np.asarray(Image.open(files[k]).convert("RGB")) for k in pick]
    labels = [f"frame {k}/{len(files) - 1} \u00b7 {k / fps:.1f} s" for k in pick]
    contact_sheet_png(out, frames, labels, cols=cols, title="tour")


def rooms_visited(spec, plan, min_frames: int = 3) -> set[str]:
    """Names of the plan's rooms the path's camera stands in for at least ``min_frames`` frames."""
    c2w, _, _ = sample_path(spec)
    p = np.asarray(c2w)[:, :3, 3]
    out = set()
    for r in plan.rooms:
        inside = (p[:, 0] > r.lo[0]) & (p[:, 0] < r.hi[0]) & (p[:, 1] > r.lo[1]) & (p[:, 1] < r.hi[1])
        if int(inside.sum()) >= min_frames:
            out.add(r.name)
    return out


def _main_piece(scene, room) -> np.ndarray | None:
    """(2,) floor position of the largest furniture part in ``room`` (by footprint; rugs and lights left out)."""
    best, area = None, 0.0
    for p in scene.parts:
        if not p.name.startswith(room.name + "/") or any(w in p.name for w in ("rug", "floor", "ceiling")):
            continue
        a = float(np.prod(p.bounds[1, :2] - p.bounds[0, :2]))
        if a > area:
            best, area = p.bounds.mean(0)[:2], a
    return best


def plan_tour(plan, cfg: DemoConfig, eye: float = WALK.eye_height, scene=None) -> PathSpec:
    """A keyframed tour of a generated plan (:class:`PathSpec`): along the first (largest day) room and back,
    then into every other room through its door: from the corridor facing the door, just inside looking at the
    far wall, in the middle looking along a side wall, and out again facing the next room's door. Keyframes look
    where a visitor looks, never at a wall close by."""
    rooms = [r for r in plan.rooms if r.type != "hallway"]
    hall = next((r for r in plan.rooms if r.type == "hallway"), None)
    aspect = cfg.video_width / cfg.video_height
    kfs: list = []

    def at(p2, target2) -> None:
        kfs.append(Keyframe.look_at([p2[0], p2[1], eye], [target2[0], target2[1], 1.2], fov=60.0, aspect=aspect))

    stops = []  # (room, door centre, unit vector into the room, room depth across the door)
    for r in rooms:
        o = next((x for x in plan.openings if x.kind == "door" and r.name in x.rooms), None)
        if o is None:
            continue
        door = (o.lo[:2] + o.hi[:2]) / 2
        mid = (r.lo + r.hi) / 2
        ax = int(np.argmin(o.hi[:2] - o.lo[:2]))  # the axis across the wall
        inward = np.zeros(2)
        inward[ax] = np.sign(mid[ax] - door[ax]) or 1.0
        stops.append((r, door, inward, float(r.hi[ax] - r.lo[ax])))

    def outside_of(door, inward):
        p = door - 0.6 * inward
        return np.clip(p, hall.lo + 0.45, hall.hi - 0.45) if hall is not None else p

    first = rooms[0]
    c, half = (first.lo + first.hi) / 2, (first.hi - first.lo) / 2
    e = np.zeros(2)
    e[int(np.argmax(half))] = 1.0
    at(c - 0.5 * half * e, c + half * e)  # one end of the big room, looking down its length
    at(c + 0.5 * half * e, c - half * e)  # the other end, looking back
    for k, (r, door, inward, depth) in enumerate(stops):
        inside = door + min(0.9, 0.35 * depth) * inward
        mid = (r.lo + r.hi) / 2
        nxt = stops[k + 1][1] if k + 1 < len(stops) else stops[0][1]  # the last one looks back down the corridor
        if r is first:  # leave the big room through its door, then face the next door along the corridor
            at(inside, door)
            at(outside_of(door, inward), nxt if nxt is not None else door - 2 * inward)
            continue
        at(outside_of(door, inward), door + inward)  # in the corridor, facing the door
        at(inside, door + depth * inward)  # just inside: the far wall (its window)
        piece = _main_piece(scene, r) if scene is not None else None
        if piece is not None:  # a step further in, turned to the room's main piece (bed, bath, desk)
            at(inside + 0.35 * (mid - inside), piece)
        at(outside_of(door, inward), nxt if nxt is not None else door - inward)
    spec = PathSpec(keyframes=kfs, width=cfg.video_width, height=cfg.video_height, fps=float(cfg.fps),
                    smoothness=0.5, default_fov=60.0, constant_speed=True, ease=True)
    spec.default_transition = cfg.tour_seconds / max(1, len(kfs) - 1)
    return spec


def plan_demo_tour(run_dir: Path, cfg: DemoConfig, scene=None, plan=None, console=None) -> tuple[PathSpec, str]:
    """The tour: the automatic planner (:func:`scenegen.pipelines.paths.auto_tour`) on the trained field, fitted
    to ``cfg.tour_seconds`` as far as walking pace allows; ``cfg.tour == "plan"`` asks for the keyframed walk
    through the plan's doors instead. No fallback: a planning failure stops the demo with its one-line reason."""
    if cfg.tour == "plan":
        if plan is None:
            raise InputError("the plan tour needs the generated apartment's plan", field="--tour")
        return plan_tour(plan, cfg, scene=scene), "plan"
    spec = auto_tour(run_dir, duration=cfg.tour_seconds, fps=float(cfg.fps), width=cfg.video_width,
                     height=cfg.video_height, up=(0.0, 0.0, 1.0), device="cpu")
    if console is not None:
        console.print("  rooms: " + ", ".join(f"{r['name']} {r['start_time']:.0f}-{r['end_time']:.0f} s"
                                              for r in spec.extra.get("rooms", [])))
    return spec, "auto"


def demo(cfg: DemoConfig, console=None) -> DemoResult:
    """Run ``scenegen demo`` (see the module docstring); writes OUTPUT/demo.json."""
    cfg.validate()
    console = console or Console(stderr=True)
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    timings = {}

    prebuild_cpu_kernels()  # the first run compiles the C++ kernels: overlap that with the dataset synthesis
    brief = cfg.prompt or DEFAULT_BRIEF
    console.print(f"[bold]1/4[/] generating the apartment from its brief: [italic]{brief}[/]")
    views, minutes, why = demo_budget(parse_brief(brief, seed=cfg.seed), cfg.views, cfg.train_minutes)
    if why:
        console.print(f"  {why}")
    data_dir = out / "dataset"
    key = {"brief": brief, "seed": cfg.seed, "views": views, "width": cfg.width, "height": cfg.height,
           "placement": VIEW_PLACEMENT, "antialias": cfg.antialias}
    if (data_dir / "transforms.json").is_file():
        try:
            meta = json.loads((data_dir / "transforms.json").read_text())
            meta = meta.get("metadata") if isinstance(meta, dict) else None
            old = meta.get("demo") if isinstance(meta, dict) else None
        except (OSError, ValueError):
            old = None
        if old != key:
            raise InputError("this folder holds a demo of another scene or size: choose another --output or delete it",
                             file=data_dir, field="--output")
        _, scene, plan = brief_scene(brief, seed=cfg.seed)  # the tour needs the plan; the dataset is kept
    else:
        gcfg = GenerateConfig(output=data_dir, prompt=brief, seed=cfg.seed, views=views, width=cfg.width,
                              height=cfg.height, antialias=cfg.antialias, progress=cfg.progress)
        gen = generate(gcfg, console, test_views=max(4, views // 8), generator="scenegen demo",
                       extra_metadata={"brief": brief, "demo": key})
        scene, plan = gen.scene, gen.floor_plan
    timings["dataset_s"] = round(time.time() - t0, 1)
    console.print(f"[bold]2/4[/] training for {minutes:g} min ...")
    t1 = time.time()
    run_dir = out / "run"
    ds = load_dataset(data_dir)
    if (run_dir / "checkpoints" / "latest.pt").is_file():
        console.print("  (a trained run exists in this folder: reusing it; delete it to retrain)")
    else:
        tcfg = TrainConfig(data=data_dir, output=run_dir, time_budget=minutes, seed=cfg.seed,
                           device=cfg.device, progress=cfg.progress, eval_every=0)
        train(tcfg, console, dataset=ds, budget_from_now=True)  # dataset synthesis is not training time
    timings["train_s"] = round(time.time() - t1, 1)

    console.print("[bold]3/4[/] evaluating on held-out views ...")
    run = load_run(run_dir, cfg.device)
    ev = evaluate(EvalConfig(run=run_dir, output=run_dir / "eval", save_images=4, device=cfg.device,
                             progress=cfg.progress), run=run, dataset=ds)

    console.print("[bold]4/4[/] planning the walk-through and rendering the tour video ...")
    t2 = time.time()
    spec_path, how = plan_demo_tour(run_dir, cfg, scene, plan, console)
    path_file = out / "tour_camera_path.json"
    save_path_spec(spec_path, path_file)
    video = out / "tour.mp4"
    frames_dir = out / "frames"
    rendered = render(RenderConfig(run=run_dir, camera_path=path_file, output=video, frames=frames_dir, resume=True,
                                   check=False, device=cfg.device, progress=cfg.progress, report=cfg.report,
                                   report_scale=0.5), run=run)
    contact_sheet(frames_dir, out / "tour_contact_sheet.png", spec_path.fps)
    timings["render_s"] = round(time.time() - t2, 1)
    timings["total_s"] = round(time.time() - t0, 1)
    result = DemoResult(
        dataset=str(data_dir),
        run=str(run_dir),
        camera_path=str(path_file),
        tour=how,
        plan=str(data_dir / "plan.png"),
        video=str(video),
        contact_sheet=str(out / "tour_contact_sheet.png"),
        eval_psnr=round(ev.psnr, 2),
        eval_ssim=round(ev.ssim, 4),
        train_steps=run.step,
        render_s_per_frame=round(rendered.s_per_frame, 3) if rendered.s_per_frame is not None else None,
        timings=timings,
        report=str(rendered.report) if rendered.report else None,
        views=views,
        train_minutes=minutes,
    )
    atomic_write_text(out / "demo.json", json.dumps(result.to_dict(), indent=2))
    return result
