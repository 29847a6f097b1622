"""Real captures: training resolution from the budget, sparse-capture advice, the distortion loss and coarse-to-fine
hash levels, the floater measure, and orbit framing on what the cameras look at."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from scenegen.cameras.poses import look_at_c2w
from scenegen.data.capture.coverage import assess, convergence_point, look_target, orbit_frame
from scenegen.data.dataset import SceneTransform
from scenegen.data.run_scene import RunScene
from scenegen.render.floaters import floater_weight, surface_rays
from scenegen.train.regularize import distortion_loss, level_weights, normalised_distance
from scenegen.train.resolution import choose_downscale

ROOT = Path(__file__).resolve().parents[1]


def _ring(n, radius=3.0, height=1.2, target=(1.0, 2.0, 0.3), span_deg=360.0, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    a = np.radians(span_deg) * np.arange(n) / n
    t = np.asarray(target, float)
    eyes = np.stack([radius * np.cos(a), radius * np.sin(a), np.full(n, height)], 1) + t * [1, 1, 0]
    return np.stack([look_at_c2w(e, t + rng.normal(0, jitter, 3)) for e in eyes])


# ---------------------------------------------------------------------------------------------------- resolution
def test_training_resolution_follows_photo_size_count_budget_and_device():
    # the table capture: 25 photos at 1558x1039, a 5-minute CPU budget -> a quarter (389 px)
    c = choose_downscale(1558, 1039, 23, "cpu", 5.0, None)
    assert c.downscale == 4 and c.long_side <= 462 and "5-minute budget" in c.reason
    # a 12 MP phone set on 2 cores, 3 minutes: far below nerfstudio's 1600 px cap
    c = choose_downscale(4032, 3024, 40, "cpu", 3.0, None)
    assert c.long_side <= 400 and c.downscale >= 10
    # more time buys resolution (monotone), more photos cost it
    sides = [choose_downscale(4032, 3024, 40, "cpu", m, None).long_side for m in (1, 3, 5, 15, 60)]
    assert sides == sorted(sides) and sides[-1] <= 1600
    assert choose_downscale(4032, 3024, 1000, "cpu", 15, None).long_side < choose_downscale(4032, 3024, 100, "cpu", 15, None).long_side
    # bonsai (800 px, 220 photos) keeps full size for its 15-minute benchmark; lego 200 px is never touched
    assert choose_downscale(800, 533, 220, "cpu", 15.0, None).downscale == 1
    assert choose_downscale(200, 200, 100, "cpu", 1.0, 400).downscale == 1
    # CUDA: full resolution up to the 1600 px cap only
    assert choose_downscale(1558, 1039, 23, "cuda", 5.0, None).downscale == 1
    assert choose_downscale(4032, 3024, 40, "cuda", 3.0, None).long_side <= 1600


# ------------------------------------------------------------------------------------------------------ coverage
def test_convergence_point_and_orbit_frame_recover_the_subject():
    c2w = _ring(24, radius=2.5, height=0.8, target=(1.0, 2.0, 0.3), jitter=0.05)
    p, ok = convergence_point(c2w)
    assert ok and np.linalg.norm(p - [1.0, 2.0, 0.3]) < 0.1
    # SfM points: a dense subject at the target plus far background; the core lands on the subject
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.normal([1.0, 2.0, 0.35], 0.15, (2000, 3)), rng.uniform(-30, 30, (800, 3))])
    centre, r, h = orbit_frame(c2w, (0, 0, 1), pts)
    assert np.linalg.norm(centre - [1.0, 2.0, 0.35]) < 0.05
    assert abs(r - 2.5) < 0.1 and abs(h - (0.8 - 0.35)) < 0.1
    # forward-facing cameras (all looking one way, like fern) do not converge: not an object capture
    fwd = np.stack([look_at_c2w(np.array([x, 0.0, 0.0]), np.array([x, 5.0, 0.0])) for x in np.linspace(-0.5, 0.5, 9)])
    assert not look_target(fwd)[1]


def test_sparse_capture_advice_names_the_missing_side():
    # 26 photos over 270 degrees: too few, and the quarter between -90 and 0 degrees (the +X-Y side) is missing
    cov = assess(_ring(26, span_deg=270.0), (0, 0, 1))
    line = cov.advice()
    assert cov.sparse and cov.surround and 85 < cov.max_gap_deg < 110
    assert "26 photos" in line and "+X-Y side" in line and "video" in line
    # 12 photos all around: wide baselines (30 deg)
    cov = assess(_ring(12), (0, 0, 1))
    assert cov.median_neighbour_deg > 25 and "between neighbouring views" in cov.advice()
    assert cov.thin_views
    # 120 photos all around: dense enough, no advice
    assert assess(_ring(120), (0, 0, 1)).advice() is None
    # 200 photos 1.3 deg apart with a side missing (bonsai): advice on the side, but the views are not thin, so
    # training keeps its usual schedule (no coarse-to-fine levels)
    cov = assess(_ring(200, span_deg=260.0), (0, 0, 1))
    line = cov.advice()
    assert cov.sparse and not cov.thin_views and line.startswith("incomplete capture: no views from the")
    assert "200 photos" not in line and "take about" not in line
    # points that only one or two views frame are counted
    c2w = _ring(60, radius=3.0)
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal([1.0, 2.0, 0.3], 0.2, (500, 3)), rng.uniform(-40, 40, (1500, 3))])
    cov = assess(c2w, (0, 0, 1), pts, (300.0, 400, 300))
    assert cov.few_view_share is not None and cov.few_view_share > 0.3 and "fewer than 3 photos" in cov.advice()
    cov = assess(c2w, (0, 0, 1), pts[:500], (300.0, 400, 300))  # the subject alone: every view frames it
    assert cov.few_view_share < 0.05 and cov.advice() is None


# ------------------------------------------------------------------------------------------------- regularisers
def test_distortion_loss_equals_the_double_sum_and_prefers_one_surface():
    g = torch.Generator().manual_seed(0)
    ray = torch.sort(torch.randint(0, 6, (60,), generator=g)).values
    t = torch.rand(60, generator=g) * 4
    order = torch.argsort(ray.double() * 100 + t.double())
    ray, t = ray[order], t[order]
    w = torch.rand(60, generator=g) * 0.2
    dt = torch.full((60,), 0.04)
    got = distortion_loss(w, t, dt, ray, 6, bounded=False)
    s = normalised_distance(t, False)
    ds = normalised_distance(t + 0.02, False) - normalised_distance(t - 0.02, False)
    want = sum(((w[ray == r][:, None] * w[ray == r][None] * (s[ray == r][:, None] - s[ray == r][None]).abs()).sum()
                + (w[ray == r] ** 2 * ds[ray == r]).sum() / 3) for r in range(6)) / 6
    assert abs(float(got) - float(want)) < 1e-5
    # the same total weight as one surface costs less than as a floater plus a surface
    tt = torch.tensor([0.5, 2.0])
    one = distortion_loss(torch.tensor([0.0, 0.9]), tt, torch.full((2,), 0.02), torch.zeros(2, dtype=torch.long), 1, False)
    two = distortion_loss(torch.tensor([0.3, 0.6]), tt, torch.full((2,), 0.02), torch.zeros(2, dtype=torch.long), 1, False)
    assert float(two) > 5 * float(one)


def test_hash_levels_open_coarse_to_fine():
    w0 = level_weights(0.0, 8, 2, 0.3)
    mid = level_weights(0.15, 8, 2, 0.3)
    assert w0[:4].tolist() == [1.0] * 4 and float(w0[4:].sum()) == 0.0  # the two coarsest levels only
    assert float(mid.sum()) > float(w0.sum()) and float(mid[-2:].sum()) == 0.0
    assert level_weights(0.3, 8, 2, 0.3) is None and level_weights(0.5, 8, 2, 0.0) is None


# -------------------------------------------------------------------------------------------- floater measure
class _SlabRenderer:
    """A stand-in for the renderer: every ray crosses a floater slab at t = 0.4 (weight ``floater``) and then
    the surface at t = 1 (the rest)."""

    def __init__(self, floater: float):
        self.floater = floater

    def render_rays_train(self, o, d, image_idx, bg, generator=None):
        n = o.shape[0]
        ray_idx = torch.arange(n).repeat_interleave(2)
        t_mid = torch.tensor([0.4, 1.0]).repeat(n)
        w = torch.tensor([self.floater, 1.0 - self.floater]).repeat(n)
        return {"ray_idx": ray_idx, "t_mid": t_mid, "weights": w}


def test_floater_measure_counts_weight_in_front_of_the_sfm_surface():
    o = torch.zeros(5, 3)
    d = torch.tensor([[0.0, 0.0, -1.0]]).repeat(5, 1)
    assert torch.allclose(floater_weight(_SlabRenderer(0.3), o, d, torch.ones(5)), torch.full((5,), 0.3))
    assert float(floater_weight(_SlabRenderer(0.0), o, d, torch.ones(5)).max()) == 0.0
    # a surface at 0.45: the slab at 0.4 is within the 15 % margin, not a floater
    assert float(floater_weight(_SlabRenderer(0.3), o, d, torch.full((5,), 0.45)).max()) == 0.0
    # surface rays: one per image cell, to the nearest point (a point behind it in the same cell is ignored)
    c2w = torch.eye(4)[:3]
    pts = torch.tensor([[0.0, 0.0, -2.0], [0.0, 0.0, -5.0], [0.5, 0.0, -2.0], [0.0, 0.0, 3.0]])
    oo, dd, tt = surface_rays(c2w, 100.0, 100.0, 50.0, 50.0, 100, 100, pts, cells=(4, 4))
    assert sorted(tt.tolist()) == pytest.approx(sorted([2.0, math.sqrt(4.25)]))
    assert torch.allclose(dd.norm(dim=-1), torch.ones(2))


# ------------------------------------------------------------------------------------------------------ orbit
def test_path_orbit_without_center_circles_what_the_cameras_look_at(tmp_path):
    target = np.array([1.0, 2.0, 0.3])
    c2w = _ring(30, radius=2.0, height=0.9, target=target, jitter=0.03)
    run = tmp_path / "run"
    run.mkdir()
    RunScene(data=str(tmp_path / "no_dataset"), transform=SceneTransform(center=[1.0, 2.0, 0.3], scale=0.5, bounded=False), train_c2w=c2w,
             kind="nerfstudio", scene_kind="unbounded", dataset_up=np.array([0.0, 0.0, 1.0])).write(run)
    out = tmp_path / "orbit.json"
    r = subprocess.run([sys.executable, "-m", "scenegen.cli.main", "path", "orbit", str(out), "--run", str(run)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    frames = json.loads(out.read_text())["camera_path"]
    mats = np.stack([np.asarray(f["camera_to_world"], float).reshape(4, 4) for f in frames])
    # the capture's radius and height about the target, and the target in the middle of every frame
    rel = mats[:, :3, 3] - target
    assert np.allclose(np.linalg.norm(rel[:, :2], axis=1), 2.0, atol=0.1)
    assert np.allclose(rel[:, 2], 0.6, atol=0.1)
    cam = np.einsum("nji,nj->ni", mats[:, :3, :3], target - mats[:, :3, 3])
    off = np.hypot(cam[:, 0], cam[:, 1]) / -cam[:, 2]  # tan of the angle off the optical axis
    assert off.max() < 0.05


# --------------------------------------------------------------------------- a sparse capture of large photos
def _sparse_capture(root: Path, n: int = 26, render_wh=(400, 267), photo_wh=(1600, 1067)) -> np.ndarray:
    """``n`` photos at ``photo_wh`` around the demo living room's furniture over 270 degrees (wide baselines,
    one side missing) as an LLFF capture (``poses_bounds.npy`` + ``images/``). The views are ray-traced at
    ``render_wh`` and resized (ray tracing 1600x1067 views takes minutes on 2 cores; the heavy test does)."""
    from PIL import Image

    from scenegen.data import synth
    from synth_rooms import make_demo_scene

    scene = make_demo_scene(0)
    target = np.array([0.0, 0.3, 0.6])
    a = np.radians(270.0) * np.arange(n) / n
    eyes = np.stack([1.7 * np.cos(a), 0.3 + 1.3 * np.sin(a), np.full(n, 1.4)], 1)
    c2w = np.stack([look_at_c2w(e, target) for e in eyes])
    fov = 60.0
    cams = synth.cameras_from_c2w(c2w, render_wh[0], render_wh[1], fov)
    rgb, _ = synth.render_views(scene, cams)
    (root / "images").mkdir(parents=True)
    for i in range(n):
        im = Image.fromarray(rgb[i])
        if im.size != photo_wh:
            im = im.resize(photo_wh, Image.BICUBIC)
        im.save(root / "images" / f"IMG_{i:03d}.jpg", quality=92)
    focal = 0.5 * photo_wh[1] / math.tan(math.radians(fov) / 2)
    hwf = np.array([photo_wh[1], photo_wh[0], focal])
    llff = np.concatenate([-c2w[:, :3, 1:2], c2w[:, :3, 0:1], c2w[:, :3, 2:3], c2w[:, :3, 3:4],
                           np.tile(hwf[None, :, None], (n, 1, 1))], 2)
    np.save(root / "poses_bounds.npy", np.concatenate([llff.reshape(n, 15), np.tile([[0.3, 6.0]], (n, 1))], 1))
    return c2w


def test_sparse_large_photo_capture_gets_advice_and_a_reduced_training_resolution(tmp_path):
    cap = tmp_path / "capture"
    _sparse_capture(cap)
    data = tmp_path / "data"
    r = subprocess.run([sys.executable, "-m", "scenegen.cli.main", "process", "--input", str(cap), "--output",
                        str(data), "--no-progress"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    advice = [ln for ln in r.stderr.splitlines() if "sparse capture" in ln]
    assert advice and "26 photos" in advice[0] and "side" in advice[0] and "video" in advice[0], r.stderr
    run = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "scenegen.cli.main", "train", "--data", str(data), "--output", str(run),
                        "--time-budget", "3", "--max-steps", "3", "--eval-every", "0", "--no-progress"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    cfg = json.loads((run / "config.json").read_text())
    # 1600x1067, 23 training photos, 3 minutes on the CPU: a fifth (320x213), said with its reason
    assert cfg["downscale"] == 5, r.stderr
    assert "training resolution: 1/5 of 1600x1067 -> 320x213" in r.stderr and "3-minute budget" in r.stderr
    assert "sparse capture" in r.stderr and cfg["anneal_levels"] == pytest.approx(0.3)
    assert cfg["distortion_loss"] == pytest.approx(0.01)
    # the tour report's floater measure, once the dataset has SfM points (here: a patch 1.5 m in front of view 0)
    from scenegen.data.capture.colmap import write_ply
    from scenegen.data.loader import load_dataset
    from scenegen.pipelines.report import sfm_floaters_fn
    from scenegen.train.run import load_run

    ds = load_dataset(data, downscale=cfg["downscale"])
    c2w0 = ds.cameras.c2w[0].double().numpy()
    rng = np.random.default_rng(0)
    local = np.c_[rng.uniform(-0.5, 0.5, (400, 2)), np.full(400, -1.5)]
    pts = local @ c2w0[:3, :3].T + c2w0[:3, 3]
    write_ply(data / "points.ply", pts, np.full((400, 3), 128, np.uint8))
    meta = json.loads((data / "transforms.json").read_text())
    meta["ply_file_path"] = "points.ply"
    (data / "transforms.json").write_text(json.dumps(meta))
    fn = sfm_floaters_fn(load_run(run, "cpu"), RunScene.read(run))
    f = fn(ds.cameras, 0)
    assert f is not None and 0.0 <= f <= 1.0


@pytest.mark.heavy
def test_sparse_capture_at_full_size_trains_within_a_3_minute_budget(tmp_path):
    """The acceptance run: 26 photos ray-traced at 1600x1067 -> process -> train --time-budget 3 -> eval."""
    import time

    cap = tmp_path / "capture"
    _sparse_capture(cap, render_wh=(1600, 1067))
    data, run = tmp_path / "data", tmp_path / "run"
    cli = [sys.executable, "-m", "scenegen.cli.main"]
    subprocess.run([*cli, "process", "--input", str(cap), "--output", str(data), "--no-progress"], check=True, cwd=ROOT)
    t0 = time.time()
    subprocess.run([*cli, "train", "--data", str(data), "--output", str(run), "--time-budget", "3", "--no-progress"],
                   check=True, cwd=ROOT)
    assert time.time() - t0 < 3 * 60 + 30
    assert json.loads((run / "config.json").read_text())["downscale"] == 5
    subprocess.run([*cli, "eval", "--run", str(run), "--no-progress"], check=True, cwd=ROOT)
    ev = json.loads((run / "eval" / "eval.json").read_text())
    assert ev["psnr"] > 18.0, ev["psnr"]


def test_bounded_scenes_and_generated_priors_keep_their_training_unchanged():
    """The floater and sparse-view changes are for real, unbounded captures: a bounded dataset (NeRF-synthetic,
    the generated demo rooms) resolves to no distortion loss and no level annealing, and its small photos keep
    full size, so its training is the code path it was before."""
    from scenegen.data.loader import load_dataset
    from scenegen.train.config import TrainConfig
    from scenegen.train.trainer import resolve_auto

    root = Path(__file__).resolve().parent / "fixtures" / "data" / "blender"
    ds = load_dataset(root)
    cfg = resolve_auto(TrainConfig(data=root), ds)
    assert cfg.scene_kind == "bounded" and cfg.distortion_loss == 0.0
    assert choose_downscale(int(ds.cameras.width.max()), int(ds.cameras.height.max()), len(ds), "cpu", 3.5, None).downscale == 1
    ds.bounded = False
    assert resolve_auto(TrainConfig(data=root), ds).distortion_loss == pytest.approx(0.01)
    ds.kind = "nerfstudio"  # a real capture: one look for every photo unless --field.look asks for one per photo
    assert resolve_auto(TrainConfig(data=root), ds).field.look == "off"
    for look in ("exposure", "codes"):
        given = TrainConfig(data=root)
        given.field.look = look
        assert resolve_auto(given, ds).field.look == look


def test_orbit_of_a_capture_with_a_missing_side_sweeps_the_arc_the_photos_saw(tmp_path):
    """Photos over 250 degrees around a subject: `path orbit` sweeps once over those 250 degrees (every camera
    inside the photographed arc) instead of circling through the unseen side; --arc full keeps the circle."""
    from scenegen.data.run_scene import RunScene
    from scenegen.data.dataset import SceneTransform
    from scenegen.paths import cameras_from_spec
    from scenegen.pipelines.paths import captured_arc
    from scenegen.paths.track import plane_basis
    from scenegen.pipelines.paths import orbit_tour

    target = np.array([1.0, 2.0, 0.3])
    c2w = _ring(90, span_deg=250.0, target=tuple(target))
    scene = RunScene(data=str(tmp_path / "no-such-dataset"), transform=SceneTransform(center=[0.0, 0.0, 0.0], scale=1.0, bounded=False),
                     train_c2w=c2w, kind="colmap", background="white", downscale=1, num_images=90,
                     splits={"train": 90}, scene_kind="unbounded", dataset_up=np.array([0.0, 0.0, 1.0]))
    start, span = captured_arc(scene, target, (0, 0, 1))
    assert 245 < span < 251
    full = captured_arc(RunScene(**{**scene.__dict__, "train_c2w": _ring(90, target=tuple(target))}), target, (0, 0, 1))
    assert full is None
    e1, e2 = plane_basis(np.array([0.0, 0.0, 1.0]))
    rel = c2w[:, :3, 3] - target
    seen = np.degrees(np.arctan2(rel @ e2, rel @ e1))

    def in_arc(a):  # counter-clockwise from start over span, with a degree of slack
        return ((a - start) % 360.0) <= span + 1.0

    assert all(in_arc(a) for a in seen)
    run = tmp_path / "run"
    run.mkdir()
    scene.write(run)
    for direction in ("ccw", "cw"):
        spec = orbit_tour(run, seconds=4.0, fps=10, width=64, height=48, center=target, direction=direction)
        cams = cameras_from_spec(spec)
        pos = cams.cameras.c2w[:, :3, 3].numpy() - target
        ang = np.degrees(np.arctan2(pos @ e2, pos @ e1))
        assert not spec.loop and all(in_arc(a) for a in ang)
        along = (ang - start) % 360.0
        assert along.max() - along.min() > 0.95 * span  # the sweep reaches both ends of the arc
    spec = orbit_tour(run, seconds=4.0, fps=10, width=64, height=48, center=target, arc="full")
    assert spec.loop


def test_process_names_consecutive_photos_registered_far_apart():
    """bonsai on one machine: DSCF5666 -> DSCF5667 registered 4.7 units apart, 17x the usual step, and the trained
    field held a second, offset bonsai. A jump like that is named; an intact walk around is not."""
    from scenegen.data.capture.coverage import registration_advice, registration_jumps

    c2w = _ring(60)
    names = [f"IMG_{k:04d}.JPG" for k in range(60)]
    assert registration_jumps(c2w, names) == [] and registration_advice(c2w, names) is None
    broken = c2w.copy()
    broken[25:, :3, 3] += np.array([2.5, -1.0, 0.0])  # the second run of photos registered apart
    jumps = registration_jumps(broken, names)
    assert [(a, b) for a, b, _ in jumps] == [("IMG_0024.JPG", "IMG_0025.JPG")] and jumps[0][2] > 8
    line = registration_advice(broken, names)
    assert "IMG_0024.JPG -> IMG_0025.JPG" in line and "--matching exhaustive" in line
    shuffled = [names[k] for k in np.random.default_rng(0).permutation(60)]  # file order is what counts
    assert registration_jumps(c2w, shuffled) == []
