"""Real captures: A/B of the training changes at fixed step counts, PSNR-vs-wall-time curves, the chosen training
resolutions, and a 640x360 orbit (render s/frame, centring, floaters).

  python scripts/bench_captures.py ab --data DATA --out OUT --steps 400 [--downscale 1] \\
      --variant base "--distortion-loss 0" --variant distortion "--distortion-loss 0.01"
  python scripts/bench_captures.py curve --data DATA --out OUT --minutes 15
  python scripts/bench_captures.py orbit --run RUN --out OUT [--frames 60] [--path OTHER/orbit.json]
  python scripts/bench_captures.py resolutions DATA...

A/B runs use the same --max-steps and --seed, so the machine's load changes their wall time, not their result;
each is evaluated with `scenegen eval` on the held-out views and, where the dataset has SfM points, the floater
measure (scenegen.render.floaters) on the same views. Results go to OUT/*.json and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenegen.data.capture.coverage import dataset_points, dense_core  # noqa: E402
from scenegen.data.loader import load_dataset  # noqa: E402
from scenegen.paths import load_camera_path  # noqa: E402
from scenegen.render.floaters import frame_floaters  # noqa: E402
from scenegen.train.resolution import choose_downscale  # noqa: E402
from scenegen.train.run import load_run  # noqa: E402


def cli(*args: str, log: Path | None = None) -> float:
    t0 = time.time()
    cmd = [sys.executable, "-m", "scenegen.cli.main", *args]
    print("$", " ".join(shlex.quote(a) for a in cmd[2:]), flush=True)
    with open(log, "a") if log else open("/dev/null", "w") as f:
        subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT)
    return time.time() - t0


def floaters_on_views(run_dir: Path, data: Path, frames: list[int] | None = None) -> float | None:
    """Mean floater measure over the dataset's held-out views (None without SfM points)."""
    pts = dataset_points(data)
    if pts is None:
        return None
    run = load_run(run_dir, "cpu")
    ds = load_dataset(data, downscale=run.scene.downscale)
    frames = ds.split(ds.eval_split_name()) if frames is None else frames
    pf = run.transform.world_to_field_points(torch.as_tensor(pts, dtype=torch.float32))
    vals = []
    for i in frames:
        c = run.transform.cameras_to_field(ds.cameras[[i]])
        intr = (float(c.fx[0]), float(c.fy[0]), float(c.cx[0]), float(c.cy[0]), int(c.width[0]), int(c.height[0]))
        f = frame_floaters(run.renderer, c.c2w[0], intr, pf)
        if f is not None:
            vals.append(f)
    return float(np.mean(vals)) if vals else None


def cmd_ab(a) -> None:
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, flags in a.variant:
        run = out / name
        log = out / f"{name}.log"
        if not (run / "eval" / "eval.json").is_file():
            if not (run / "checkpoints" / "latest.pt").is_file():
                cli("train", "--data", a.data, "--output", str(run), "--max-steps", str(a.steps), "--seed", "0",
                    "--downscale", str(a.downscale), "--eval-every", "0", "--no-progress", *shlex.split(flags), log=log)
            cli("eval", "--run", str(run), "--every", str(a.every), "--save-images", "2", "--no-progress", log=log)
        ev = json.loads((run / "eval" / "eval.json").read_text())
        fl = floaters_on_views(run, Path(a.data), [r["frame"] for r in ev["images"]]) if a.floaters else None
        rows.append({"variant": name, "flags": flags, "steps": ev["step"], "psnr": round(ev["psnr"], 3),
                     "ssim": round(ev["ssim"], 4), "views": ev["num_images"],
                     "floaters": None if fl is None else round(fl, 4),
                     "s_per_image": round(ev["seconds_per_image"], 2)})
        (out / "ab.json").write_text(json.dumps(rows, indent=1))
    print(f"\n| variant ({a.steps} steps, seed 0, --downscale {a.downscale}) | flags | held-out PSNR | SSIM | floaters |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        fl = "n/a" if r["floaters"] is None else f"{r['floaters']:.4f}"
        print(f"| {r['variant']} | `{r['flags']}` | {r['psnr']:.2f} dB ({r['views']} views) | {r['ssim']:.3f} | {fl} |")


def cmd_curve(a) -> None:
    out = Path(a.out)
    run = out / "run"
    log = out / "train.log"
    out.mkdir(parents=True, exist_ok=True)
    if not (run / "checkpoints" / "latest.pt").is_file():
        cli("train", "--data", a.data, "--output", str(run), "--time-budget", str(a.minutes), "--eval-every", "60",
            "--eval-views", str(a.eval_views), "--no-progress", *shlex.split(a.flags), log=log)
    curve = [(r["time"], r["eval_psnr"]) for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
             if "eval_psnr" in r and r["eval_psnr"] is not None]
    cli("eval", "--run", str(run), "--no-progress", "--save-images", "4", log=log)
    ev = json.loads((run / "eval" / "eval.json").read_text())
    cfg = json.loads((run / "config.json").read_text())
    res = {"data": a.data, "minutes": a.minutes, "downscale": cfg["downscale"], "final_psnr": ev["psnr"],
           "final_views": ev["num_images"], "curve_quick_eval": curve}
    (out / "curve.json").write_text(json.dumps(res, indent=1))
    print(f"downscale {cfg['downscale']}; final PSNR {ev['psnr']:.2f} dB on {ev['num_images']} views")
    print("| wall time (s) | quick-eval PSNR (dB) |\n|---:|---:|")
    for t, p in curve:
        print(f"| {t:.0f} | {p:.2f} |")


def subject_centre(data, pts: np.ndarray, box: float = 0.1) -> np.ndarray:
    """Median of the SfM points that project into the central ``box`` (share of width and height, each side) of
    the training photos: what the photographer centred."""
    ds = load_dataset(data)
    sel = []
    for k in ds.split("train"):
        c = ds.cameras.c2w[k].double().numpy()
        rel = (pts - c[:3, 3]) @ c[:3, :3]
        z = -rel[:, 2]
        zs = np.maximum(z, 1e-6)
        u = float(ds.cameras.fx[k]) * rel[:, 0] / zs + float(ds.cameras.cx[k])
        v = -float(ds.cameras.fy[k]) * rel[:, 1] / zs + float(ds.cameras.cy[k])
        w, h = int(ds.cameras.width[k]), int(ds.cameras.height[k])
        m = (z > 0) & (np.abs(u - w / 2) < box * w) & (np.abs(v - h / 2) < box * h)
        sel.append(pts[m])
    sel = np.concatenate(sel) if sel else np.zeros((0, 3))
    return np.median(sel, 0) if len(sel) else dense_core(pts)


def centre_offset(cams, i: int, point: np.ndarray) -> float:
    """How far ``point`` projects from the centre of camera ``i``'s image (the larger of the two axes' shares)."""
    c2w = cams.c2w[i].double().numpy()
    rel = (point - c2w[:3, 3]) @ c2w[:3, :3]
    u = float(cams.fx[i]) * rel[0] / -rel[2] + float(cams.cx[i])
    v = -float(cams.fy[i]) * rel[1] / -rel[2] + float(cams.cy[i])
    w, h = int(cams.width[i]), int(cams.height[i])
    return max(abs(u - w / 2) / w, abs(v - h / 2) / h)


def cmd_orbit(a) -> None:
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "orbit.json"
    if a.path:  # another run's orbit (the same cameras for two fields) or one planned by other code
        path.write_text(Path(a.path).read_text())
    else:
        cli("path", "orbit", str(path), "--run", a.run, "--render-width", "640", "--render-height", "360",
            "--seconds", str(a.frames / 30.0))
    t = cli("render", "--run", a.run, "--camera-path", str(path), "--output", str(out / "orbit.mp4"),
            "--frames", str(out / "frames"))
    run = load_run(a.run, "cpu")
    cams = load_camera_path(path).cameras
    pts = dataset_points(run.scene.data)
    res = {"frames": len(cams), "render_s_per_frame": round(t / len(cams), 2)}
    if pts is not None:
        # the subject: the SfM points the photographer put in the middle of the photos (an estimator the orbit
        # does not use; the dense core of all points is reported too: in a room capture it is the room's middle)
        centre, core = subject_centre(run.scene.data, pts), dense_core(pts)
        off, off_core, fls = [], [], []
        pf = run.transform.world_to_field_points(torch.as_tensor(pts, dtype=torch.float32))
        for i in range(len(cams)):
            off.append(centre_offset(cams, i, centre))
            off_core.append(centre_offset(cams, i, core))
            c = run.transform.cameras_to_field(cams[[i]])
            intr = (float(c.fx[0]), float(c.fy[0]), float(c.cx[0]), float(c.cy[0]), int(c.width[0]), int(c.height[0]))
            f = frame_floaters(run.renderer, c.c2w[0], intr, pf)
            if f is not None:
                fls.append(f)
        res.update(max_centre_offset=round(max(off), 4), max_offset_all_points_core=round(max(off_core), 4),
                   floaters_mean=round(float(np.mean(fls)), 4),
                   floaters_max=round(float(np.max(fls)), 4))
    (out / "orbit_result.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res))


def cmd_resolutions(a) -> None:
    print("| dataset | photos | size | budget | device | chosen |\n|---|---:|---|---|---|---|")
    for d in a.data:
        ds = load_dataset(d)
        w, h = int(ds.cameras.width.max()), int(ds.cameras.height.max())
        n = len(ds.split("train"))
        for dev, minutes in (("cpu", 3), ("cpu", 5), ("cpu", 15), ("cuda", 5)):
            c = choose_downscale(w, h, n, dev, minutes, None)
            print(f"| {d} | {n} | {w}x{h} | {minutes} min | {dev} | 1/{c.downscale} -> long side {c.long_side} px |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    ab = sub.add_parser("ab")
    ab.add_argument("--data", required=True)
    ab.add_argument("--out", required=True)
    ab.add_argument("--steps", type=int, default=400)
    ab.add_argument("--downscale", type=int, default=1)
    ab.add_argument("--every", type=int, default=1)
    ab.add_argument("--floaters", action="store_true", help="also measure floaters (needs SfM points)")
    ab.add_argument("--variant", nargs=2, action="append", metavar=("NAME", "FLAGS"), required=True)
    cu = sub.add_parser("curve")
    cu.add_argument("--data", required=True)
    cu.add_argument("--out", required=True)
    cu.add_argument("--minutes", type=float, default=15.0)
    cu.add_argument("--eval-views", type=int, default=3)
    cu.add_argument("--flags", default="")
    orb = sub.add_parser("orbit")
    orb.add_argument("--run", required=True)
    orb.add_argument("--out", required=True)
    orb.add_argument("--frames", type=int, default=60)
    orb.add_argument("--path", default=None, help="measure this camera path instead of planning `path orbit`")
    rs = sub.add_parser("resolutions")
    rs.add_argument("data", nargs="+")
    a = p.parse_args()
    {"ab": cmd_ab, "curve": cmd_curve, "orbit": cmd_orbit, "resolutions": cmd_resolutions}[a.cmd](a)


if __name__ == "__main__":
    main()
