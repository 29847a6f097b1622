"""Plan the automatic tour of the demo apartment and the generated test homes on their ground-truth geometry and
report, per home: tour length (seconds, metres), rooms visited, framing summary (wall-in-face frames, minimum
clearance, yaw rate, pitch) and planning time.

    python scripts/bench_tours.py [--voxel 0.05] [--fps 10] [--json out.json]

Planning time is wall-clock: measure on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from scenegen.data.prior.brief import DEFAULT_BRIEF, parse_brief
from scenegen.data.prior.build import build_scene
from scenegen.paths import SceneVolume, auto_walkthrough, cameras_from_spec, sample_path
from scenegen.paths.framing import check_framing

HOMES = {
    "demo": DEFAULT_BRIEF,
    "studio": "studio apartment",
    "three-bedroom, two bathrooms": "three-bedroom apartment with 2 bathrooms",
    "long corridor": "four-bedroom apartment with two bathrooms and a study",
}


def bench(name: str, brief: str, voxel: float, fps: float, hint: bool) -> dict:
    scene, plan = build_scene(parse_brief(brief))
    t0 = time.perf_counter()
    vol = SceneVolume.from_mesh(scene.mesh, voxel=voxel)
    t1 = time.perf_counter()
    hints = [(r.name, r.type, r.lo, r.hi) for r in plan.rooms] if hint else None
    spec = auto_walkthrough(vol, hints=hints, fps=fps, width=256, height=192)
    t2 = time.perf_counter()
    c2w, _, _ = sample_path(spec)
    p = c2w[:, :3, 3]
    rep = check_framing(cameras_from_spec(spec).cameras, vol, None, max_checked=100000)
    f = -c2w[:, :3, 2]
    yaw = np.unwrap(np.arctan2(f[:, 1], f[:, 0]))
    pitch = np.degrees(np.arcsin(np.clip(f[:, 2], -1, 1)))
    visited = {r.name: round(float(((p[:, 0] > r.lo[0]) & (p[:, 0] < r.hi[0]) & (p[:, 1] > r.lo[1])
                                    & (p[:, 1] < r.hi[1])).sum()) / fps, 1) for r in plan.rooms}
    return {"home": name, "plan_hint": hint, "seconds": round(spec.duration, 1),
            "metres": round(float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()), 1),
            "rooms_visited": f"{sum(s >= 2.0 for s in visited.values())}/{len(visited)}", "seconds_per_room": visited,
            "wall_in_face_frames": int(rep.flags["wall_in_face"].sum()),
            "min_clearance_m": round(float(rep.clearance.min()), 3),
            "max_yaw_rate_deg_s": round(float(np.degrees(np.abs(np.diff(yaw))).max() * fps), 1),
            "pitch_deg": [round(float(pitch.min()), 1), round(float(pitch.max()), 1)],
            "volume_s": round(t1 - t0, 1), "plan_s": round(t2 - t1, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voxel", type=float, default=0.05)
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    rows = [bench(n, b, a.voxel, a.fps, h) for n, b in HOMES.items() for h in (True, False)]
    for r in rows:
        print(json.dumps(r))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
