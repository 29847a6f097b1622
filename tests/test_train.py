"""End to end on a tiny scene the tests render themselves: train, evaluate, resume, render, CLI errors."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from scenegen.data.loader import load_dataset
from synth_rooms import synthesize_demo_dataset as synthesize_dataset
from scenegen.train.config import TrainConfig
from scenegen.train.evaluate import evaluate
from scenegen.train.run import load_run
from scenegen.train.trainer import Trainer


@pytest.fixture(scope="module")
def room(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("room")
    return synthesize_dataset(None, out / "data", n_train=48, n_test=6, width=64, height=48, seed=1)


def small_config(data: Path, out: Path, steps: int) -> TrainConfig:
    cfg = TrainConfig(data=data, output=out, max_steps=steps, progress=False, eval_every=0, checkpoint_every=1e9)
    cfg.threads = 1  # fixed, so runs compared step for step use the same floating-point reduction order
    cfg.field.grid.log2_hashmap_size = 15
    cfg.field.grid.max_resolution = 512
    cfg.grid_resolution = 64
    cfg.target_samples = 1 << 14
    cfg.max_rays = 2048
    cfg.min_rays = 1024  # step-count tests: a larger floor learns more per step while the grid is young
    return cfg


@pytest.fixture(scope="module")
def cube(tmp_path_factory) -> Path:
    from scenes import make_cube_dataset

    return make_cube_dataset(tmp_path_factory.mktemp("cube") / "data")


def test_train_reaches_psnr_on_held_out_views(cube, tmp_path):
    cfg = small_config(cube, tmp_path / "run", 400)
    t = Trainer(cfg)
    t.setup()
    t.train()
    run = load_run(tmp_path / "run", "cpu")
    res = evaluate(run, load_dataset(cube), output=tmp_path / "eval", progress=False)
    assert res["split"] == "test" and res["num_images"] == 6
    assert res["psnr"] > 20.0, res["psnr"]
    assert res["ssim"] > 0.75, res["ssim"]
    assert (tmp_path / "eval" / "eval.json").is_file() and list((tmp_path / "eval").glob("*.png"))
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["event"] == "done" and lines[-1]["step"] == 400
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["max_steps"] == 400 and saved["field"]["grid"]["log2_hashmap_size"] == 15
    # scene.json and the checkpoint's scene entry are one record (RunScene)
    from scenegen.data.run_scene import RunScene

    assert RunScene.read(tmp_path / "run").to_dict() == run.scene.to_dict()
    assert run.scene.data == str(Path(cube).resolve()) and len(run.scene.train_c2w) == run.scene.splits["train"]


def _params(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=True)["field"]


def test_resume_after_interrupt_continues_exactly(room, tmp_path, monkeypatch):
    straight = small_config(room, tmp_path / "a", 40)
    t = Trainer(straight)
    t.setup()
    t.train()

    interrupted = small_config(room, tmp_path / "b", 40)
    t = Trainer(interrupted)
    t.setup()
    orig = Trainer.train_step

    def step_then_interrupt(self):
        if self.step == 23:
            raise KeyboardInterrupt
        return orig(self)

    monkeypatch.setattr(Trainer, "train_step", step_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        t.train()
    monkeypatch.setattr(Trainer, "train_step", orig)
    ck = torch.load(tmp_path / "b" / "checkpoints" / "latest.pt", weights_only=True)
    assert ck["step"] == 23

    resumed = small_config(room, tmp_path / "b", 40)
    resumed.resume = True
    t = Trainer(resumed)
    t.setup()
    assert t.step == 23
    t.train()
    a, b = _params(tmp_path / "a"), _params(tmp_path / "b")
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4, msg=k)


def test_existing_run_needs_resume(room, tmp_path):
    cfg = small_config(room, tmp_path / "r", 2)
    t = Trainer(cfg)
    t.setup()
    t.train()
    r = _cli("train", "--data", str(room), "--output", str(tmp_path / "r"), "--max-steps", "2")
    assert r.returncode == 2 and "--resume" in r.stderr


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scenegen.cli.main", *args], capture_output=True, text=True, timeout=300)


def test_cli_train_render_eval(room, tmp_path):
    run = tmp_path / "run"
    r = _cli("train", "--data", str(room), "--output", str(run), "--max-steps", "30", "--no-progress",
             "--field.grid.log2-hashmap-size", "14", "--grid-resolution", "32")
    assert r.returncode == 0, r.stderr
    ds = load_dataset(room)
    c2w = ds.cameras.c2w[:3].numpy()
    path = {
        "camera_type": "perspective", "render_height": 30, "render_width": 41, "fps": 3, "seconds": 1,
        "camera_path": [{"camera_to_world": np.vstack([m, [0, 0, 0, 1]]).reshape(-1).tolist(), "fov": 60, "aspect": 41 / 30} for m in c2w],
    }
    (tmp_path / "path.json").write_text(json.dumps(path))
    r = _cli("render", "--run", str(run), "--camera-path", str(tmp_path / "path.json"), "--output", str(tmp_path / "v.mp4"),
             "--frames", str(tmp_path / "frames"), "--depth-video", str(tmp_path / "d.mp4"), "--no-progress")
    assert r.returncode == 0, r.stderr
    from scenegen.video import probe_video

    meta = probe_video(tmp_path / "v.mp4")
    assert meta["nframes"] == 3 and meta["codec"].startswith("h264") and meta["pix_fmt"].startswith("yuv420p")
    assert len(list((tmp_path / "frames").glob("*.png"))) == 3 and (tmp_path / "d.mp4").is_file()
    r = _cli("eval", "--run", str(run), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert json.loads((run / "eval" / "eval.json").read_text())["num_images"] == 6


def _copy_room(room: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(room, dst)
    return dst


def _one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    err = r.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)


def test_cli_bad_inputs_give_one_line_errors(room, tmp_path):
    # Malformed JSON.
    d = _copy_room(room, tmp_path / "malformed")
    (d / "transforms.json").write_text((d / "transforms.json").read_text()[:-20])
    _one_line_error(_cli("train", "--data", str(d), "--output", str(tmp_path / "o1"), "--max-steps", "1"), "transforms.json", "line")
    # Missing image.
    d = _copy_room(room, tmp_path / "missing")
    meta = json.loads((d / "transforms.json").read_text())
    (d / meta["frames"][3]["file_path"]).unlink()
    _one_line_error(_cli("train", "--data", str(d), "--output", str(tmp_path / "o2"), "--max-steps", "1"), "transforms.json", "file_path")
    # Non-finite pose.
    d = _copy_room(room, tmp_path / "nanpose")
    meta = json.loads((d / "transforms.json").read_text())
    text = json.dumps(meta).replace(json.dumps(meta["frames"][2]["transform_matrix"]), json.dumps(meta["frames"][2]["transform_matrix"]).replace("[", "[NaN, ", 2).replace("NaN, [", "[", 1), 1)
    meta["frames"][2]["transform_matrix"][1][3] = float("nan")
    (d / "transforms.json").write_text(json.dumps(meta))
    _one_line_error(_cli("train", "--data", str(d), "--output", str(tmp_path / "o3"), "--max-steps", "1"), "transforms.json", "frames[", "transform_matrix")
    # Wrong-size image.
    d = _copy_room(room, tmp_path / "wrongsize")
    meta = json.loads((d / "transforms.json").read_text())
    from PIL import Image

    Image.new("RGB", (20, 10)).save(d / meta["frames"][0]["file_path"])
    _one_line_error(_cli("train", "--data", str(d), "--output", str(tmp_path / "o4"), "--max-steps", "1"), "frame_00000", "w")
    # A camera path that is not JSON, and a missing run.
    (tmp_path / "bad.json").write_text("{oops")
    _one_line_error(_cli("render", "--run", str(tmp_path / "nope"), "--camera-path", str(tmp_path / "bad.json")), "bad.json")


def test_auto_grid_resolution_follows_the_pixel_footprint():
    """The finest hash-grid level scales with image resolution and camera distance (Instant-NGP's 2048 for
    800x800 NeRF-synthetic), and the level count keeps Instant-NGP's spacing."""
    from scenegen.cameras.cameras import Cameras
    from scenegen.field.encoding import HashGridConfig
    from scenegen.train.trainer import pixel_footprint_resolution

    def orbit(px: int, radius: float) -> Cameras:
        c2w = torch.zeros(8, 3, 4)
        for k in range(8):
            a = 2 * math.pi * k / 8
            o = torch.tensor([radius * math.cos(a), radius * math.sin(a), 0.0])
            z = o / o.norm()  # camera looks at the origin along -Z
            x = torch.linalg.cross(torch.tensor([0.0, 0.0, 1.0]), z)
            x = x / x.norm()
            c2w[k, :, 0], c2w[k, :, 1], c2w[k, :, 2], c2w[k, :, 3] = x, torch.linalg.cross(z, x), z, o
        f = torch.full((8,), px * 1.389)  # NeRF-synthetic's field of view
        n = torch.full((8,), px)
        return Cameras(c2w=c2w, fx=f, fy=f, cx=n / 2, cy=n / 2, width=n, height=n)

    r800 = pixel_footprint_resolution(orbit(800, 2.69), bounded=True)
    r200 = pixel_footprint_resolution(orbit(200, 2.69), bounded=True)
    assert 1800 <= r800 <= 2300 and 450 <= r200 <= 600
    assert pixel_footprint_resolution(orbit(200, 1.3), bounded=True) > 1.8 * r200  # closer cameras, finer grid
    assert HashGridConfig(max_resolution=2048).resolved().levels == 16
    assert HashGridConfig(max_resolution=512).resolved().levels == 12
    assert HashGridConfig(levels=8, max_resolution=512).resolved().levels == 8


def test_auto_options_resolve_on_the_config():
    """"0 / None means auto" options are resolved by TrainConfig itself (the trainer asks it)."""
    cfg = TrainConfig(data=Path("data"))
    assert cfg.resolved_max_steps() == 20000
    cfg.time_budget = 5.0
    assert cfg.resolved_max_steps() is None
    cfg.max_steps = 10
    assert cfg.resolved_max_steps() == 10
    assert cfg.resolved_target_samples("cpu") == 1 << 14 and cfg.resolved_target_samples("cuda") == 1 << 18
    cfg.target_samples = 1000
    assert cfg.resolved_target_samples("cuda") == 1000


@pytest.mark.parametrize("look", ["exposure", "codes"])
def test_held_out_photos_take_the_look_of_the_nearest_training_photos(room, tmp_path, look):
    """A capture whose exposure drifts with the camera's position (auto exposure): trained with a look per photo
    (a gain and offset, or an appearance code), its held-out photos are reproduced far better with the look of
    the training photos taken beside them ('nearest', the default) than with the training photos' mean look
    (what tours render)."""
    from PIL import Image

    data = _copy_room(room, tmp_path / "data")
    ds = load_dataset(data)
    x = ds.cameras.c2w[:, 0, 3].numpy()
    gain = 0.45 + 0.9 * (x - x.min()) / max(float(np.ptp(x)), 1e-9)  # darkest at one end, brightest at the other
    for i, path in enumerate(ds.image_paths):
        img = np.asarray(Image.open(path)).astype(np.float32)
        img[..., :3] = np.clip(img[..., :3] * gain[i], 0, 255)
        Image.fromarray(img.round().astype(np.uint8)).save(path)
    cfg = small_config(data, tmp_path / "run", 400)
    cfg.field.look, cfg.field.appearance_dim = look, 8
    t = Trainer(cfg)
    t.setup()
    t.train()
    run = load_run(tmp_path / "run", "cpu")
    near = evaluate(run, load_dataset(data), output=tmp_path / "near", save_images=0, progress=False)
    mean = evaluate(run, load_dataset(data), output=tmp_path / "mean", save_images=0, progress=False, appearance="mean")
    assert near["appearance"] == "nearest" and mean["appearance"] == "mean"
    assert near["psnr"] > mean["psnr"] + 1.0, (near["psnr"], mean["psnr"])  # 19.3 against 17.6 dB here
