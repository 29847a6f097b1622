"""Benchmarks of `scenegen process` (structure from motion) and training on its output.

    python scripts/bench_sfm.py poses --data ../shared/datasets/lego --out bench_out/sfm_lego
        Pose accuracy on known poses: runs `scenegen process` on the Blender scene's train images (RGBA
        composited on white; --splits train,test for more), aligns the recovered camera centres to the true ones
        with a similarity (Umeyama) and prints the RMSE as a fraction of the scene radius (the cameras' largest
        distance from their centre).

    python scripts/bench_sfm.py capture --photos ../shared/datasets/bonsai-photos/images --out bench_out/bonsai \
        --minutes 15 [--side-by-side]
        `scenegen process` on the photos (SfM time, registered fraction, reprojection error), then two trainings
        of --minutes each, one after the other (or both at once with --side-by-side): with the SfM-point prior
        (default) and without it (--depth-loss 0 --no-depth-init); `scenegen eval` on both. Writes
        OUT/summary.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from scenegen.data.capture.colmap import similarity_align

EXE = [sys.executable, "-m", "scenegen.cli.main"]


def sh(cmd: list[str], log: Path | None = None) -> int:
    print("+", " ".join(cmd), flush=True)
    with open(log, "w") if log else open("/dev/null", "w") as f:
        return subprocess.call(cmd, stdout=f if log else None, stderr=subprocess.STDOUT if log else None)


def poses(a) -> None:
    from PIL import Image

    a.out.mkdir(parents=True, exist_ok=True)
    photos = a.out / "photos"
    photos.mkdir(exist_ok=True)
    truth = {}
    for split in a.splits.split(","):
        f = a.data / f"transforms_{split}.json"
        if not f.is_file():
            continue
        meta = json.loads(f.read_text())
        for fr in meta["frames"][:: a.every]:
            p = a.data / (fr["file_path"] + ("" if fr["file_path"].endswith(".png") else ".png"))
            name = f"{split}_{p.stem}.png"
            if not (photos / name).exists():
                im = Image.open(p).convert("RGBA")
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                Image.alpha_composite(bg, im).convert("RGB").save(photos / name)
            truth[name] = np.asarray(fr["transform_matrix"], dtype=np.float64)
    t0 = time.time()
    data = a.out / "data"
    rc = sh(EXE + ["process", "--input", str(photos), "--output", str(data), "--overwrite", "--no-progress"], a.out / "process.log")
    secs = time.time() - t0
    if rc != 0:
        sys.exit(f"process failed: {a.out / 'process.log'}")
    meta = json.loads((data / "transforms.json").read_text())
    got = {Path(f["file_path"]).name: np.asarray(f["transform_matrix"]) for f in meta["frames"]}
    names = sorted(set(got) & set(truth))
    src = np.stack([got[n][:3, 3] for n in names])
    dst = np.stack([truth[n][:3, 3] for n in names])
    s, r, t = similarity_align(src, dst)
    al = (s * (r @ src.T)).T + t
    radius = float(np.linalg.norm(dst - dst.mean(0), axis=1).max())
    rmse = float(np.sqrt(((al - dst) ** 2).sum(1).mean()))
    angs = []
    for n in names:
        rel = (r @ got[n][:3, :3]).T @ truth[n][:3, :3]
        angs.append(float(np.degrees(np.arccos(np.clip((np.trace(rel) - 1) / 2, -1, 1)))))
    rep = json.loads((data / "report.json").read_text())
    res = {"images": len(truth), "registered": len(names), "sfm_s": round(secs, 1), "rmse": rmse, "radius": radius,
           "rmse_fraction": rmse / radius, "rotation_error_deg_median": float(np.median(angs)),
           "reprojection_error_px": rep.get("reprojection_error_px")}
    (a.out / "summary.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


def capture(a) -> None:
    a.out.mkdir(parents=True, exist_ok=True)
    data = a.out / "data"
    summary: dict = {"minutes": a.minutes}
    if not (data / "transforms.json").exists():
        t0 = time.time()
        if sh(EXE + ["process", "--input", str(a.photos), "--output", str(data), "--no-progress"], a.out / "process.log") != 0:
            sys.exit(f"process failed: {a.out / 'process.log'}")
        summary["sfm_s"] = round(time.time() - t0, 1)
    rep = json.loads((data / "report.json").read_text())
    summary["registered"] = rep["registered"]
    summary["images"] = rep.get("images")
    summary["reprojection_error_px"] = rep.get("reprojection_error_px")
    summary["timings"] = rep.get("timings")
    runs = {"with_sfm_prior": [], "no_prior": ["--depth-loss", "0", "--no-depth-init"]}
    todo = [n for n in runs if (not a.only or n == a.only)]
    procs = {}
    for name in todo:
        run = a.out / name
        if (run / "checkpoints" / "latest.pt").exists():
            continue
        cmd = EXE + ["train", "--data", str(data), "--output", str(run), "--time-budget", str(a.minutes),
                     "--no-progress", "--eval-every", "120"] + runs[name]
        print("+", " ".join(cmd), flush=True)
        procs[name] = subprocess.Popen(cmd, stdout=open(a.out / f"{name}.log", "w"), stderr=subprocess.STDOUT)
        if not a.side_by_side:
            procs[name].wait()
    for name, p in procs.items():
        if p.wait() != 0:
            sys.exit(f"train {name} failed: {a.out / (name + '.log')}")
    summary["side_by_side"] = a.side_by_side
    for name in todo:
        run = a.out / name
        if sh(EXE + ["eval", "--run", str(run), "--no-progress", "--save-images", "4", "--every", str(a.eval_every)],
              a.out / f"{name}_eval.log") != 0:
            sys.exit(f"eval {name} failed")
        ev = json.loads((run / "eval" / "eval.json").read_text())
        summary[name] = {"psnr": round(ev["psnr"], 2), "ssim": round(ev["ssim"], 4), "steps": ev["step"],
                         "eval_images": ev["num_images"]}
    (a.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("poses")
    p.add_argument("--data", type=Path, default=Path("../shared/datasets/lego"))
    p.add_argument("--out", type=Path, default=Path("bench_out/sfm_lego"))
    p.add_argument("--every", type=int, default=1, help="use every k-th image of each split")
    p.add_argument("--splits", default="train", help="comma list of the Blender splits to use (default: train)")
    c = sub.add_parser("capture")
    c.add_argument("--photos", type=Path, default=Path("../shared/datasets/bonsai-photos/images"))
    c.add_argument("--out", type=Path, default=Path("bench_out/bonsai"))
    c.add_argument("--minutes", type=float, default=15.0)
    c.add_argument("--only", choices=["with_sfm_prior", "no_prior"])
    c.add_argument("--side-by-side", action="store_true", help="train both at once (an A/B on a shared CPU)")
    c.add_argument("--eval-every", type=int, default=1, help="evaluate every k-th test image")
    a = ap.parse_args()
    poses(a) if a.cmd == "poses" else capture(a)


if __name__ == "__main__":
    main()
