"""kill -9 at random moments during `scenegen render`; after each, a re-run must end with outputs identical to an
uninterrupted render, no temporary file left and no truncated file (issue 12, defect 7 acceptance, render part).

    python scripts/kill_render.py --kills 10 --out /tmp/kill_render [--run EXISTING_RUN] [--seed 0]

Steps: trains a tiny run on the checker-cube test scene (a few steps; or uses --run), writes a short camera path
(--frames-n frames at --size), renders it twice without interruption (`--frames REF/frames` once, without
--frames once) and checks the encoder is deterministic (the two MP4s byte-equal, and equal to a third render).
Then, per trial (until --kills processes were really killed), in a fresh folder: starts `scenegen render`, alternately with and without
--frames (and with a depth video every third trial), SIGKILLs its whole process group at a uniformly random
moment within the uninterrupted render's wall time (import, load, frames, final encode), checks that every PNG
present decodes (none truncated), re-runs the same command to completion and checks: the MP4 (and depth MP4)
bytes equal the reference, every frame's bytes equal the reference frame, no `*.sgtmp*` temporary file anywhere
in the folder, and the hidden `.tour.mp4.frames/` folder is gone when --frames was not given. Prints a line per
trial (kill time, phase reached: frames on disk at the kill) and a summary; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def train_tiny(out: Path) -> Path:
    import numpy as np  # noqa: F401

    from scenes import make_cube_dataset

    from scenegen.train.config import TrainConfig
    from scenegen.train.trainer import Trainer

    data = make_cube_dataset(out / "data")
    cfg = TrainConfig(data=data, output=out / "run", max_steps=20, progress=False, eval_every=0,
                      checkpoint_every=1e9)
    cfg.threads = 1
    cfg.field.grid.log2_hashmap_size = 12
    cfg.grid_resolution = 32
    cfg.target_samples = 1 << 12
    cfg.max_rays = 256
    cfg.min_rays = 128
    t = Trainer(cfg)
    t.setup()
    t.train()
    return out / "run"


def write_path(run: Path, dst: Path, n: int, w: int, h: int) -> Path:
    import numpy as np

    from scenegen.data.loader import load_dataset
    from scenegen.data.run_scene import RunScene

    ds = load_dataset(RunScene.read(run).data)
    c2w = ds.cameras.c2w.numpy()
    idx = np.linspace(0, len(c2w) - 1, n).round().astype(int)
    cams = [{"camera_to_world": np.vstack([c2w[i], [0, 0, 0, 1]]).reshape(-1).tolist(), "fov": 50.0,
             "aspect": w / h} for i in idx]
    dst.write_text(json.dumps({"camera_type": "perspective", "render_height": h, "render_width": w,
                               "fps": n / 2.0, "seconds": 2.0, "camera_path": cams}))
    return dst


def render_cmd(run: Path, path: Path, folder: Path, frames: bool, depth: bool) -> list[str]:
    cmd = [sys.executable, "-m", "scenegen.cli.main", "render", "--run", str(run), "--camera-path", str(path),
           "--output", str(folder / "tour.mp4"), "--no-progress", "--no-check", "--device", "cpu"]
    if frames:
        cmd += ["--frames", str(folder / "frames")]
    if depth:
        cmd += ["--depth-video", str(folder / "depth.mp4")]
    return cmd


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def private_kernel_cache(out: Path) -> None:
    """Build the C++ kernels once into a folder of our own: a torch extension cache shared with other checkouts
    (other sources) would be rebuilt, serialised, by every render process."""
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(out / "torch_extensions"))


def run_to_end(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env(), cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"render failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return time.perf_counter() - t


def temps(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".sgtmp" in p.name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path("/tmp/kill_render"))
    ap.add_argument("--run", type=Path, default=None, help="an existing run (skips training)")
    ap.add_argument("--frames-n", type=int, default=12)
    ap.add_argument("--size", default="64x48")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--at-encode", type=int, default=0,
                    help="the first N trials kill once every frame is on disk (during the final encode / mux)")
    a = ap.parse_args(argv)
    from PIL import Image

    rng = random.Random(a.seed)
    w, h = (int(v) for v in a.size.split("x"))
    a.out.mkdir(parents=True, exist_ok=True)
    private_kernel_cache(a.out)
    t0 = time.perf_counter()
    run = a.run if a.run is not None else train_tiny(a.out / "train")
    print(f"run: {run} ({time.perf_counter() - t0:.0f} s)", flush=True)
    from scenegen.kernels._backend import load as build_kernels

    build_kernels()  # before timing the uninterrupted renders
    path = write_path(run, a.out / "path.json", a.frames_n, w, h)

    # references: with and without --frames, with a depth video; and the encoder's determinism
    refs = {}
    for frames in (True, False):
        for depth in (False, True):
            d = a.out / f"ref_{int(frames)}{int(depth)}"
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
            wall = run_to_end(render_cmd(run, path, d, frames, depth))
            refs[(frames, depth)] = (d, wall)
    mp4 = {k: (d / "tour.mp4").read_bytes() for k, (d, _) in refs.items()}
    deterministic = len(set(mp4.values())) == 1
    d2 = a.out / "ref_again"
    shutil.rmtree(d2, ignore_errors=True)
    d2.mkdir()
    run_to_end(render_cmd(run, path, d2, False, False))
    deterministic &= (d2 / "tour.mp4").read_bytes() == mp4[(True, False)]
    depth_ref = (refs[(True, True)][0] / "depth.mp4").read_bytes()
    deterministic &= (refs[(False, True)][0] / "depth.mp4").read_bytes() == depth_ref
    ref_frames = {p.name: p.read_bytes() for p in (refs[(True, False)][0] / "frames").glob("*.png")}
    print(f"encoder deterministic (identical frames -> identical MP4 bytes, 5 renders): {deterministic}; "
          f"uninterrupted render wall {min(wl for _, wl in refs.values()):.1f}-{max(wl for _, wl in refs.values()):.1f} s",
          flush=True)
    failures = [] if deterministic else ["encoder not deterministic"]

    real_kills, k = 0, 0
    while real_kills < a.kills and k < 3 * a.kills:  # trials until --kills processes were really killed
        frames, depth = k % 2 == 0, k % 3 == 2
        d = a.out / f"trial_{k:02d}"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        cmd = render_cmd(run, path, d, frames, depth)
        wall = refs[(frames, depth)][1]
        kills = []
        for _ in range(1 + (k % 4 == 3)):  # every fourth trial is killed twice before the re-run
            delay = rng.uniform(0.0, wall * 0.9)
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), cwd=ROOT,
                                 start_new_session=True)
            fdir = d / "frames" if frames else d / ".tour.mp4.frames"
            if k < a.at_encode:  # wait for the last frame, then kill within the encode
                while p.poll() is None and not (fdir / f"{a.frames_n - 1:05d}.png").exists():
                    time.sleep(0.005)
                delay = rng.uniform(0.0, 0.3)
            time.sleep(delay)
            finished = p.poll() is not None
            if not finished:
                os.killpg(p.pid, signal.SIGKILL)
                real_kills += 1
            p.wait()
            on_disk = len(list(fdir.glob("*.png"))) if fdir.is_dir() else 0
            kills.append(f"{'after the last frame +' if k < a.at_encode else ''}{delay:.2f}s/{on_disk}fr"
                         f"{' (had finished)' if finished else ''}")
            bad = [p.name for p in fdir.glob("*.png") if _broken(p, Image)] if fdir.is_dir() else []
            if bad:
                failures.append(f"trial {k}: truncated frames {bad}")
        run_to_end(cmd)
        problems = []
        if (d / "tour.mp4").read_bytes() != mp4[(True, False)]:
            problems.append("MP4 differs")
        if depth and (d / "depth.mp4").read_bytes() != depth_ref:
            problems.append("depth MP4 differs")
        if frames:
            got = {p.name: p.read_bytes() for p in (d / "frames").glob("*.png")}
            if got != ref_frames:
                problems.append(f"frames differ ({sum(got.get(n) != b for n, b in ref_frames.items())})")
        elif (d / ".tour.mp4.frames").exists():
            problems.append("hidden frames folder left")
        left = temps(d)
        if left:
            problems.append(f"temporary files left: {left}")
        print(f"trial {k:2d} ({'--frames' if frames else 'no --frames'}{', depth' if depth else ''}): "
              f"killed at {', '.join(kills)}; re-run: {'OK' if not problems else '; '.join(problems)}", flush=True)
        failures += [f"trial {k}: {p}" for p in problems]
        k += 1
    print(f"{real_kills} kill -9 in {k} trials (kills of a render that had already finished not counted), "
          f"{len(failures)} failures, {time.perf_counter() - t0:.0f} s total")
    if real_kills < a.kills:
        failures.append(f"only {real_kills} kills")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


def _broken(p: Path, Image) -> bool:
    try:
        with Image.open(p) as im:
            im.load()
        return False
    except Exception:
        return True


if __name__ == "__main__":
    sys.exit(main())
