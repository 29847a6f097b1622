"""kill -9 a `scenegen tour` batch at random moments, re-run after each: every output must end present exactly
once, with frame counts and bytes equal to an uninterrupted batch's, no temporary file left and the manifest
consistent (issue 14 acceptance, kill test).

    python scripts/kill_tour.py --kills 5 --out /tmp/kill_tour [--run EXISTING_RUN] [--workers 1] [--seed 0]

Steps: trains a tiny run of the checker-cube test scene (or uses --run) and writes a spec: one scene, two tours
(two orbits), formats landscape (two languages: two MP4s) and frames, 64x48 at 12 frames/s for 1 s. Runs the
batch once without interruption (the reference). Then per trial, in a fresh folder: starts the batch, SIGKILLs
its whole process group (driver and workers) at a uniformly random moment within 5-80 % of the reference's wall
time (every other trial twice before letting it finish; a batch that finishes before its kill moment does not
count as a kill), re-runs it to completion and checks every output. Prints a line per trial and a summary; exits 1
on any failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

SPEC = """\
[[scene]]
name = "cube"
run = "{run}"
fps = 12
seconds = 1
width = 64
height = 48
[scene.text.en]
title = "Checker cube"
[scene.text.de]
title = "Schachbrettwuerfel"
[[scene.tour]]
name = "near"
path = "orbit"
radius = 2.8
formats = ["landscape", "frames"]
[[scene.tour]]
name = "far"
path = "orbit"
radius = 3.6
orbit_height = 1.0
formats = ["landscape", "frames"]
"""


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT))


def tour_cmd(spec: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "scenegen.cli.main", "tour", str(spec), "--output", str(out), "--no-progress",
            "--workers", str(workers), "--chunk-frames", "4"]


def run_to_end(cmd: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env(), cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"batch failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return time.perf_counter() - t


def kill_at(cmd: list[str], at: float) -> tuple[bool, float]:
    """Start ``cmd``, SIGKILL its process group after ``at`` seconds. (killed, seconds it ran)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(), cwd=ROOT,
                         start_new_session=True)
    try:
        p.wait(timeout=at)
        return False, time.perf_counter() - t
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return True, time.perf_counter() - t


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def snapshot(out: Path) -> dict:
    """Every output's bytes: MP4 sha256s and each frame's sha256, keyed by path relative to ``out``."""
    return {str(p.relative_to(out)): sha(p) for p in sorted(out.rglob("*"))
            if p.is_file() and (p.suffix == ".mp4" or (p.suffix == ".png" and p.parent.name != out.name))}


def check(out: Path, ref: dict, ref_manifest: dict) -> list[str]:
    bad = []
    m = json.loads((out / "manifest.json").read_text())
    files = [e["file"] for e in m["outputs"]]
    if len(files) != len(set(files)):
        bad.append("an output is listed twice in the manifest")
    want = {e["file"]: (e["frames"], e["sha256"]) for e in ref_manifest["outputs"]}
    got = {e["file"]: (e["frames"], e["sha256"]) for e in m["outputs"]}
    if got != want:
        bad.append(f"manifest differs from the reference: {sorted(set(got.items()) ^ set(want.items()))[:3]}")
    for e in m["outputs"]:
        f = out / e["file"]
        if e["status"] != "done" or not f.exists():
            bad.append(f"{e['file']}: status {e['status']}, exists {f.exists()}")
        elif f.is_file() and sha(f) != e["sha256"]:
            bad.append(f"{e['file']}: bytes differ from the manifest's sha256")
    snap = snapshot(out)
    if snap != ref:
        diff = sorted(k for k in set(snap) | set(ref) if snap.get(k) != ref.get(k))
        bad.append(f"{len(diff)} files differ from the uninterrupted batch, e.g. {diff[:3]}")
    temps = [str(p.relative_to(out)) for p in out.rglob("*") if ".sgtmp" in p.name or ".partial" in p.name]
    if temps:
        bad.append(f"temporary files left: {temps[:3]}")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("/tmp/kill_tour"))
    ap.add_argument("--run", type=Path, default=None, help="an existing run (skips training)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ref-seconds", type=float, default=None,
                    help="wall time of an uninterrupted batch (default: measured; kept in OUT/ref_seconds.txt)")
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(a.out / "torch_extensions"))
    if a.run is None:
        from kill_render import train_tiny

        run = a.out / "train" / "run"
        if not (run / "checkpoints" / "latest.pt").is_file():
            run = train_tiny(a.out / "train")
    else:
        run = a.run
    spec = a.out / "tours.toml"
    spec.write_text(SPEC.format(run=run.resolve()))
    ref_out, t_file = a.out / "ref", a.out / "ref_seconds.txt"
    if not (ref_out / "manifest.json").is_file():
        t_ref = run_to_end(tour_cmd(spec, ref_out, a.workers))
        t_file.write_text(f"{t_ref}\n")
    elif a.ref_seconds is not None or t_file.is_file():
        t_ref = a.ref_seconds if a.ref_seconds is not None else float(t_file.read_text())
    else:
        t_ref = run_to_end(tour_cmd(spec, a.out / "timing", a.workers))
    ref, ref_manifest = snapshot(ref_out), json.loads((ref_out / "manifest.json").read_text())
    print(f"reference: {len(ref_manifest['outputs'])} outputs, {len(ref)} files, {t_ref:.1f} s uninterrupted")
    kills, failures, trial = 0, 0, 0
    while kills < a.kills:
        trial += 1
        out = a.out / f"trial{trial:02d}"
        if out.exists():
            subprocess.run(["rm", "-rf", str(out)], check=True)
        moments = []
        for _ in range(2 if trial % 2 == 0 else 1):
            at = rng.uniform(0.05, 0.8) * t_ref  # the batch's wall time varies with the machine's load
            killed, ran = kill_at(tour_cmd(spec, out, a.workers), at)
            frames = sum(1 for _ in out.rglob("0*.png")) if out.exists() else 0
            moments.append(f"{'killed' if killed else 'finished'} at {ran:.1f} s ({frames} frames on disk)")
            kills += killed
        run_to_end(tour_cmd(spec, out, a.workers))
        bad = check(out, ref, ref_manifest)
        failures += bool(bad)
        print(f"trial {trial}: {'; '.join(moments)} -> re-run: {'OK' if not bad else 'FAILED: ' + '; '.join(bad)}")
    print(f"{kills} kills in {trial} trials, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
