"""`scenegen generate`: a brief, a spec or a user's 3D model -> a posed dataset (the "prior").

Both kinds of prior end in the dataset every other stage reads: a nerfstudio ``transforms.json`` with RGB
images, 16-bit ground-truth depth (millimetres) and a held-out test split, rendered with Open3D ray casting
(:mod:`scenegen.data.synth`). A brief also leaves ``spec.json`` (edit it and re-run with ``--spec``) and
``plan.png`` (the floor plan with the cameras); a model leaves ``model_report.json`` (what was read and assumed).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from rich.console import Console

from scenegen.cameras.poses import look_at_c2w
from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text, write_png
from scenegen.data.prior.brief import DEFAULT_BRIEF, parse_brief
from scenegen.data.prior.build import build_scene
from scenegen.data.prior.mesh_import import load_model_scene
from scenegen.data.prior.model_rooms import model_free_mask
from scenegen.data.prior.spec import SceneSpec
from scenegen.data.prior.views import free_in_rooms, route_views
from scenegen.data.synth import SynthScene, cameras_from_c2w, free_space_mask, import_open3d, synthesize_dataset


# ---------------------------------------------------------------------------------------------------------------
# Cameras that cover every room
# ---------------------------------------------------------------------------------------------------------------

ROUTE_SHARE = 0.35
"""Share of a generated home's views placed where tours walk (doorways, corridor, room corners)."""
DEFAULT_ANTIALIAS = 2
"""Rays per pixel along each axis of generated views (`generate --antialias`)."""
VIEW_PLACEMENT = "routes-1"
"""Names the camera placement of :func:`room_cameras` (a demo folder's dataset is reused only when it matches)."""


def room_cameras(scene: SynthScene, n: int, width: int, height: int, seed: int = 0, fov_deg: float = 75.0,
                 clearance: float = 0.3, plan=None, route_share: float = ROUTE_SHARE):
    """``n`` PINHOLE cameras spread over the rooms, at three heights (1.0, 1.5 and 1.9 m above the floor,
    cycled), each looking at a point of its own room 1 m or more away (walls, corners, furniture) with a pitch
    between -40 and +15 degrees. Rooms get cameras in proportion to their surface (walls, floor and ceiling:
    what the views have to cover, so a small room's walls are seen as densely as a large one's), at least 6 a
    room. With the generated ``plan``, ``route_share`` of the cameras stand where tours walk instead
    (:func:`scenegen.data.prior.views.route_views`: every doorway, the corridor, each room's corners, at eye
    height). Returns :class:`Cameras`.

    An imported model's rooms (``scene.room_cells``) place their eyes over their own free floor cells and test
    free space by rays and distances (its meshes need not be closed)."""
    rng = np.random.default_rng(seed)
    cells_of = scene.room_cells

    def free(pts, clearance_m):
        if cells_of is not None:
            return model_free_mask(scene.raycaster(), pts, clearance_m)
        if plan is not None:  # a generated home's parts are closed with outward faces: told by the faces rays meet
            return free_in_rooms(scene, pts, clearance_m)
        return free_space_mask(scene, pts, clearance_m)  # a user's model may not be closed: ray parity decides

    def draw(bi, lo, hi, k):
        if cells_of is not None and len(cells_of[bi]):
            xy = cells_of[bi][rng.integers(len(cells_of[bi]), size=k)] + rng.uniform(-0.1, 0.1, (k, 2))
            return np.concatenate([xy, np.zeros((k, 1))], 1)
        return rng.uniform([lo[0], lo[1], 0], [hi[0], hi[1], 0], size=(k, 3))

    route = route_views(scene, plan, int(round(route_share * n)), seed=seed) if plan is not None else []
    boxes = scene.room_boxes
    ext = np.array([b[1] - b[0] for b in boxes]).reshape(-1, 3)
    areas = np.maximum(0.5, 2 * ext[:, 0] * ext[:, 1] + 2 * (ext[:, 0] + ext[:, 1]) * ext[:, 2])
    # the route views standing in a room count towards its share (those in a doorway towards none)
    eyes_r = np.array([m[:3, 3] for m in route]).reshape(-1, 3)
    had = np.array([int(np.all((eyes_r > b[0]) & (eyes_r < b[1]), axis=1).sum()) for b in boxes], dtype=int)
    n_room = n - len(route)
    k = len(boxes)
    base = min(6, n_room // k) if k else 0
    alloc = np.full(k, base)
    if n_room - alloc.sum() > 0:
        want = np.maximum(0.0, (n - (len(route) - had.sum())) * areas / areas.sum() - had - base)
        extra = np.floor((n_room - alloc.sum()) * want / max(want.sum(), 1e-9)).astype(int)
        alloc += extra
        for i in np.argsort(-want)[: n_room - alloc.sum()]:
            alloc[i] += 1
    heights = np.array([1.0, 1.5, 1.9])
    mats = []
    for bi, (box, m) in enumerate(zip(boxes, alloc)):
        lo, hi = box
        h_room = hi[2] - lo[2]
        zs = np.clip(lo[2] + heights, lo[2] + clearance, hi[2] - clearance)
        eyes = []
        for _ in range(60):
            if len(eyes) >= m:
                break
            cand = draw(bi, lo, hi, max(8 * m, 32))
            cand[:, 2] = zs[(len(eyes) + np.arange(len(cand))) % len(zs)]
            ok = free(cand, clearance)
            if scene.rooms is None:  # a model without room boxes: keep points enclosed by it (not outside)
                ok &= _enclosed(scene, cand)
            eyes.extend(cand[ok][: m - len(eyes)])
        if len(eyes) < m:  # a cramped room: relax the clearance
            if cells_of is not None:
                cand = draw(bi, lo, hi, 64 * max(m, 1))
                cand[:, 2] = rng.uniform(lo[2] + 0.8, max(lo[2] + 0.8, hi[2] - 0.6), len(cand))
            else:
                cand = rng.uniform(lo + [0.15, 0.15, 0.8], hi - [0.15, 0.15, 0.6], size=(64 * max(m, 1), 3))
            ok = free(cand, 0.12)
            eyes.extend(cand[ok][: m - len(eyes)])
        for eye in eyes[:m]:
            target = None
            for _ in range(100):
                kind = rng.random()
                if kind < 0.55:  # a point on a wall of the room (or a corner)
                    side = rng.integers(4)
                    a = rng.uniform(0.05, 0.95)
                    x = lo[0] + a * (hi[0] - lo[0])
                    y = lo[1] + a * (hi[1] - lo[1])
                    z = lo[2] + rng.uniform(0.1, 0.85) * h_room
                    target = np.array([[lo[0], y, z], [hi[0], y, z], [x, lo[1], z], [x, hi[1], z]][side])
                else:  # a point low in the room (furniture, floor)
                    target = rng.uniform([lo[0] + 0.3, lo[1] + 0.3, lo[2] + 0.2], [hi[0] - 0.3, hi[1] - 0.3, lo[2] + 1.2])
                d = target - eye
                horiz = math.hypot(d[0], d[1])
                pitch = math.degrees(math.atan2(d[2], horiz))
                if horiz >= 1.0 and -40.0 <= pitch <= 15.0:
                    break
            mats.append(look_at_c2w(eye, target))
    mats.extend(route)
    if len(mats) < n:
        raise InputError(f"could only place {len(mats)} of {n} cameras in the scene's free space",
                         field="--views")
    order = rng.permutation(len(mats))  # rooms interleaved: any prefix of the list covers the whole home
    return cameras_from_c2w(np.stack(mats)[order], width, height, fov_deg)


def _enclosed(scene: SynthScene, pts: np.ndarray) -> np.ndarray:
    """(N,) bool: rays from the point towards +-X, +-Y and up all meet the model (the point is indoors)."""
    o3d = import_open3d()
    dirs = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1]], dtype=np.float32)
    rays = np.concatenate([np.repeat(pts, len(dirs), 0), np.tile(dirs, (len(pts), 1))], 1).astype(np.float32)
    t = scene.raycaster().cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy().reshape(len(pts), len(dirs))
    return np.isfinite(t).all(1)


def orbit_cameras(scene: SynthScene, n: int, width: int, height: int, seed: int = 0, fov_deg: float = 50.0):
    """``n`` cameras around a model seen from outside (a building, an object): on a hemisphere 10-55 degrees
    above the ground, far enough that the whole model fits the view, looking at its centre (jittered)."""
    rng = np.random.default_rng(seed)
    lo, hi = scene.room_min, scene.room_max
    c = (lo + hi) / 2
    radius = 0.5 * float(np.linalg.norm(hi - lo))
    dist = radius / math.sin(math.radians(fov_deg) / 2 * 0.8)
    k = np.arange(n) + 0.5
    az = 2 * np.pi * k * 0.618033988749895 + rng.uniform(0, 2 * np.pi)
    el = np.radians(10 + 45 * (k / n))
    eyes = c + dist * np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], 1)
    eyes[:, 2] = np.maximum(eyes[:, 2], lo[2] + 0.3)
    targets = c + rng.normal(0, 0.08 * radius, (n, 3))
    mats = np.stack([look_at_c2w(e, t) for e, t in zip(eyes, targets)])
    return cameras_from_c2w(mats[rng.permutation(n)], width, height, fov_deg)


# ---------------------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------------------


def plan_picture(scene: SynthScene, cams, path: Path, labels: list[tuple[str, np.ndarray]] | None = None,
                 px_per_m: float = 40.0) -> None:
    """A top view: the mesh's floor plan (what a horizontal slice at 1.2 m cuts), the cameras as dots with
    viewing directions, and the room names."""
    lo, hi = scene.mesh.bounds[0][:2] - 0.5, scene.mesh.bounds[1][:2] + 0.5
    # site geometry (a 200 m ground plane under an imported building) is cropped to the building and 3 m around
    lo, hi = np.maximum(lo, scene.room_min[:2] - 3.0), np.minimum(hi, scene.room_max[:2] + 3.0)
    w, h = (np.ceil((hi - lo) * px_per_m)).astype(int)
    # a height map by vertical rays: floor (light), furniture (mid), walls (dark)
    xs = lo[0] + (np.arange(w) + 0.5) / px_per_m
    ys = hi[1] - (np.arange(h) + 0.5) / px_per_m
    gx, gy = np.meshgrid(xs, ys)
    # rays down from just under the ceilings of the lowest floor: a ray that starts inside a wall meets the wall's
    # bottom face from inside (normal pointing down), which is how walls are told from floors and furniture
    boxes = scene.room_boxes
    base = float(np.min(boxes[:, 0, 2]))
    ceiling = float(np.max(boxes[np.abs(boxes[:, 0, 2] - base) < 0.5, 1, 2]))
    top = base + min(2.0, ceiling - base - 0.15)  # under door heads, so doorways show as gaps
    o = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, top)], 1)
    rc = scene.raycaster()
    o3d = import_open3d()
    rays = np.concatenate([o, np.tile([0.0, 0.0, -1.0], (len(o), 1))], 1).astype(np.float32)
    res = rc.cast_rays(o3d.core.Tensor(rays))
    t = res["t_hit"].numpy()
    nz = res["primitive_normals"].numpy()[:, 2]
    img = np.full((h * w, 3), 255, np.uint8)
    hit = np.isfinite(t)
    shade = np.clip((top - t[hit] - base) / max(top - base, 1e-6), 0.0, 1.0)  # only hits: no inf arithmetic
    img[hit] = (235 - 150 * shade[:, None] ** 0.7).astype(np.uint8).repeat(3, 1)
    img[hit & (nz < -0.5)] = (40, 40, 48)  # inside a wall
    im = Image.fromarray(img.reshape(h, w, 3))
    d = ImageDraw.Draw(im)

    def to_px(p):
        return ((p[0] - lo[0]) * px_per_m, (hi[1] - p[1]) * px_per_m)

    c2w = cams.c2w.numpy()
    for m in c2w:
        e = to_px(m[:, 3])
        f = -m[:, 2]
        tip = to_px(m[:, 3] + 0.35 * f / max(np.linalg.norm(f[:2]), 1e-6))
        d.line([e, tip], fill=(220, 60, 30), width=2)
        d.ellipse([e[0] - 3, e[1] - 3, e[0] + 3, e[1] + 3], fill=(30, 90, 200))
    for name, c in labels or []:
        x, y = to_px(c)
        d.text((x - 3 * len(name), y - 6), name, fill=(0, 0, 0))
    write_png(path, np.asarray(im))


# ---------------------------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------------------------


def _prepare_output(out: Path, overwrite: bool) -> None:
    if (out / "transforms.json").exists() and not overwrite:
        raise InputError("a dataset already exists here: pass --overwrite to replace it", file=out / "transforms.json",
                         field="--output")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create the output folder: {e.strerror}", file=out, field="--output") from None


def brief_scene(prompt: str | None = None, spec_file: Path | None = None, seed: int = 0, console=None):
    """The scene a brief (default :data:`DEFAULT_BRIEF`) or an edited spec file describes: (spec, scene, plan).
    With a ``console``, what the brief parser did not understand or read differently is printed."""
    if spec_file is not None:
        spec = SceneSpec.load(spec_file)
        spec.seed = seed if seed else spec.seed
    else:
        spec = parse_brief(prompt if prompt is not None else DEFAULT_BRIEF, seed=seed)
    if console is not None:
        if spec.unknown_words:
            console.print("[yellow]not understood (ignored):[/] " + ", ".join(spec.unknown_words))
        for word, meant in spec.interpreted.items():
            if word.startswith("("):  # a note on the whole brief, not one word
                console.print(f"[cyan]note:[/] {meant}")
            else:
                console.print(f"[cyan]read[/] {word!r} as {meant!r}")
        rooms = ", ".join(f"{r.name} {r.width:g}x{r.depth:g} m" for r in spec.rooms)
        console.print(f"rooms: {rooms}; ceiling {spec.ceiling_height:g} m; floor {spec.floor}; walls {spec.wall_color}")
    scene, plan = build_scene(spec)
    return spec, scene, plan


def generate(
    output: Path,
    prompt: str | None = None,
    spec: Path | None = None,
    mesh: Path | None = None,
    seed: int = 0,
    views: int = 100,
    width: int = 320,
    height: int = 240,
    fov: float = 75.0,
    up: str = "auto",
    units: str = "auto",
    storey: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
    console=None,
    test_views: int | None = None,
    generator: str = "scenegen generate",
    extra_metadata: dict | None = None,
    antialias: int = DEFAULT_ANTIALIAS,
) -> dict:
    """A brief, a spec file or a model -> a posed dataset in ``output``; returns a summary (paths, counts,
    timings, unknown words, notes, and the built ``scene`` and ``floor_plan`` (None for a model)).

    ``storey`` (IFC models): a storey name or index (0 = lowest) for that storey alone; None: the whole building.
    ``test_views``: held-out views rendered in addition (default about one in eight, at least 2).
    ``generator`` and ``extra_metadata`` go into ``transforms.json``'s metadata. ``antialias``: k x k rays per
    pixel of every view (1 = the pixel centre only)."""
    console = console or Console(stderr=True)
    sources = [x for x in (prompt, spec, mesh) if x is not None]
    if len(sources) > 1:
        raise InputError("give one of --prompt, --spec or --mesh", field="--prompt/--spec/--mesh")
    if views < 1:
        raise InputError(f"must be at least 1, got {views}", field="--views")
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise InputError(f"image size must be 16..4096 pixels, got {width}x{height}", field="--width/--height")
    t0 = time.time()
    out = Path(output)
    summary: dict = {"output": str(out)}
    labels = []
    plan = None
    if mesh is not None:
        if progress:
            with console.status(f"reading {Path(mesh).name}: site, units, rooms, materials"):
                scene, report = load_model_scene(mesh, up=up, units=units, seed=seed, storey=storey)
        else:
            scene, report = load_model_scene(mesh, up=up, units=units, seed=seed, storey=storey)
        for line in report["warnings"]:
            console.print(f"[yellow]warning:[/] {line}")
        _prepare_output(out, overwrite)
        atomic_write_text(out / "model_report.json", json.dumps(report, indent=2))
        summary["model_report"] = str(out / "model_report.json")
        generator = f"scenegen generate --mesh {Path(mesh).name}"
        extra_meta = {"source_model": str(mesh)}
        if storey is not None:
            extra_meta["storey"] = report.get("storey", storey)
        if report["rooms"]:  # the rooms a tour should visit, as a brief's dataset names them
            labels = [(r["name"], (np.asarray(r["box"][0]) + np.asarray(r["box"][1])) / 2) for r in report["rooms"]]
            extra_meta["rooms"] = {r["name"]: r["box"] for r in report["rooms"]}
            summary["rooms"] = [r["name"] for r in report["rooms"]]
    else:
        scene_spec, scene, plan = brief_scene(prompt, spec, seed, console)
        _prepare_output(out, overwrite)
        atomic_write_text(out / "spec.json", scene_spec.to_json())
        for note in plan.notes:
            console.print(f"[yellow]note:[/] {note}")
        labels = [(r.name, (r.lo + r.hi) / 2) for r in plan.rooms]
        summary.update(spec=str(out / "spec.json"), unknown_words=scene_spec.unknown_words, notes=plan.notes,
                       rooms=[r.name for r in plan.rooms])
        extra_meta = {"brief": scene_spec.brief, "ceiling_height": scene_spec.ceiling_height,
                      "rooms": {r.name: np.round(r.box(scene_spec.ceiling_height), 4).tolist() for r in plan.rooms}}
    extra_meta.update(extra_metadata or {})
    n_test = max(2, views // 8) if test_views is None else int(test_views)
    if mesh is not None and not report["interior"]:
        cams = orbit_cameras(scene, views + n_test, width, height, seed=seed, fov_deg=min(fov, 60.0))
    else:
        cams = room_cameras(scene, views + n_test, width, height, seed=seed, fov_deg=fov, plan=plan)
    if mesh is not None:  # how many cameras stand in each room: a tour can start from any of them
        eyes = cams.c2w.numpy()[:, :3, 3]
        for r in report["rooms"]:
            b = np.asarray(r["box"])
            r["cameras"] = int(np.all((eyes >= b[0]) & (eyes <= b[1]), axis=1).sum())
        report["cameras"] = "rooms" if report["interior"] else "orbit (exterior views)"
        atomic_write_text(out / "model_report.json", json.dumps(report, indent=2))
    plan_picture(scene, cams, out / "plan.png", labels)
    synthesize_dataset(scene, out, cams, n_train=views, n_test=n_test, width=width, height=height,
                       seed=seed, generator=generator, extra_metadata=extra_meta, progress=progress,
                       console=console, supersample=antialias)
    summary.update(views=views, test_views=n_test, seconds=round(time.time() - t0, 1), plan=str(out / "plan.png"),
                   transforms=str(out / "transforms.json"), scene=scene, floor_plan=plan)
    return summary
