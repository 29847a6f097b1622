"""How well a generated dataset's training views cover what a tour sees (no training needed).

    python scripts/bench_view_coverage.py --data DATASET --camera-path TOUR.json [--width 64 --height 48]

The tour's frames are ray cast against the dataset's own scene (the default brief's apartment, seed 0: the
dataset must be one `scenegen generate` made from the default brief) at WIDTHxHEIGHT; each surface point a frame
sees is projected into every training view and counts as seen by it when it falls inside the image and its
depth matches that view's ground-truth depth map (within 3 cm + 2 %: not hidden behind something). Prints, over
the tour's frames, the share of each frame's pixels seen by at least 1 and at least 3 training views (mean and
10th percentile) and the distance from each tour camera to the nearest training camera, overall and per room of
the plan (the room the tour camera stands in; "door" for frames in a doorway).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from scenegen.data.prior.generate import brief_scene
from scenegen.data.synth import cameras_from_c2w, import_open3d
from scenegen.paths import sample_path
from scenegen.paths.spec_io import load_path_spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--camera-path", type=Path, required=True)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--height", type=int, default=48)
    a = ap.parse_args()

    meta = json.loads((a.data / "transforms.json").read_text())
    train = set(meta["train_filenames"])
    frames = [f for f in meta["frames"] if f["file_path"] in train]
    t_c2w = np.array([f["transform_matrix"] for f in frames], dtype=np.float64)
    depth = np.stack([np.asarray(Image.open(a.data / f["depth_file_path"]), dtype=np.float64) / 1000.0
                      for f in frames])  # z-depth, metres (0 = none)
    fx, fy, cx, cy, W, H = (meta[k] for k in ("fl_x", "fl_y", "cx", "cy", "w", "h"))

    _, scene, plan = brief_scene(None, seed=0)
    spec = load_path_spec(a.camera_path)
    c2w, fov, _ = sample_path(spec)
    hfov = float(np.degrees(2 * np.arctan(np.tan(np.radians(fov[0]) / 2) * a.width / a.height)))
    cams = cameras_from_c2w(c2w, a.width, a.height, hfov)
    o3d = import_open3d()
    rc = scene.raycaster()
    seen1, seen3, near = [], [], []
    w2c = np.linalg.inv(t_c2w)
    for i in range(len(c2w)):
        o, d = (x.reshape(-1, 3).numpy().astype(np.float64) for x in cams.camera_rays(i))
        rays = np.concatenate([o, d], 1).astype(np.float32)
        t = rc.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy()
        ok = np.isfinite(t)
        p = o[ok] + t[ok, None] * d[ok]
        ph = np.concatenate([p, np.ones((len(p), 1))], 1)
        cnt = np.zeros(len(p), int)
        for k in range(len(t_c2w)):
            q = ph @ w2c[k].T  # camera frame (OpenGL: looking along -Z, +Y up)
            z = -q[:, 2]
            front = z > 0.05
            u = fx * q[:, 0] / np.where(front, z, 1) + cx
            v = -fy * q[:, 1] / np.where(front, z, 1) + cy
            inside = front & (u >= 0) & (u < W) & (v >= 0) & (v < H)
            ui, vi = np.clip(u.astype(int), 0, W - 1), np.clip(v.astype(int), 0, H - 1)
            dz = depth[k][vi, ui]
            cnt += inside & (dz > 0) & (np.abs(dz - z) < 0.03 + 0.02 * z)
        seen1.append(float((cnt >= 1).mean()) if len(p) else 1.0)
        seen3.append(float((cnt >= 3).mean()) if len(p) else 1.0)
        near.append(float(np.linalg.norm(t_c2w[:, :3, 3] - c2w[i, :3, 3], axis=1).min()))
    seen1, seen3, near = map(np.array, (seen1, seen3, near))
    pos = c2w[:, :3, 3]
    where = np.array(["door"] * len(pos), dtype=object)
    for r in plan.rooms:
        where[np.all((pos[:, :2] > r.lo) & (pos[:, :2] < r.hi), axis=1)] = r.name

    def row(m):
        return {"frames": int(m.sum()), "seen1_mean": round(float(seen1[m].mean()), 4),
                "seen1_p10": round(float(np.percentile(seen1[m], 10)), 4),
                "seen3_mean": round(float(seen3[m].mean()), 4), "seen3_p10": round(float(np.percentile(seen3[m], 10)), 4),
                "nearest_train_cam_m_mean": round(float(near[m].mean()), 3), "nearest_train_cam_m_max": round(float(near[m].max()), 3)}

    out = {"all": row(np.ones(len(pos), bool))}
    out.update({k: row(where == k) for k in sorted(set(where))})
    print(json.dumps({"data": str(a.data), "train_views": len(frames), **out}, indent=1))


if __name__ == "__main__":
    main()
