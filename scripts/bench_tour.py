"""The same `scenegen tour` batch on `local` with 1 worker, `local` with 2 and `ray` with 2 workers: wall time,
CPU time and CPU use, plus the per-frame render cost (issue 14 benchmark; run it on an idle machine).

    python scripts/bench_tour.py --out /tmp/bench_tour [--run EXISTING_RUN] [--frames 48] [--size 160x90]
                                 [--engines local1,local2,ray2] [--json results.json]

The batch: one scene (the run), two orbit tours x formats landscape and square at --size, --frames frames each.
Each engine renders into a fresh folder (nothing reused); every engine's outputs must be byte-identical.
CPU time is the machine's busy time over the run (/proc/stat), so other load on the machine counts too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

ENGINES = {"local1": ["--engine", "local", "--workers", "1"], "local2": ["--engine", "local", "--workers", "2"],
           "ray2": ["--engine", "ray", "--workers", "2"]}


def busy_seconds() -> float:
    """Seconds of CPU time the whole machine has spent busy (all cores) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_tour"))
    ap.add_argument("--run", type=Path, default=None, help="an existing run (default: a tiny run of the test cube)")
    ap.add_argument("--frames", type=int, default=48, help="frames per tour and format")
    ap.add_argument("--size", default="160x90")
    ap.add_argument("--engines", default="local1,local2,ray2")
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(a.out / "torch_extensions"))
    run = a.run
    if run is None:
        from kill_render import train_tiny

        run = a.out / "train" / "run"
        if not (run / "checkpoints" / "latest.pt").is_file():
            run = train_tiny(a.out / "train")
    w, h = (int(x) for x in a.size.split("x"))
    spec = a.out / "bench.toml"
    spec.write_text(f'[[scene]]\nname = "bench"\nrun = "{Path(run).resolve()}"\nfps = 24\nseconds = {a.frames / 24}\n'
                    f'width = {w}\nheight = {h}\n[[scene.tour]]\nname = "near"\npath = "orbit"\nradius = 2.8\n'
                    'formats = ["landscape", "square"]\n[[scene.tour]]\nname = "far"\npath = "orbit"\n'
                    'radius = 3.6\norbit_height = 1.0\nformats = ["landscape", "square"]\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    results, shas = [], {}
    for name in a.engines.split(","):
        out = a.out / name
        subprocess.run(["rm", "-rf", str(out)], check=True)
        c0, t0 = busy_seconds(), time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "scenegen.cli.main", "tour", str(spec), "--output", str(out),
                            "--no-progress", "--chunk-frames", "8", *ENGINES[name]], capture_output=True, text=True,
                           env=env, cwd=ROOT)
        wall, cpu = time.perf_counter() - t0, busy_seconds() - c0
        if r.returncode != 0:
            print(f"{name}: failed ({r.returncode}): {r.stderr.strip()[-1000:]}")
            return 1
        m = json.loads((out / "manifest.json").read_text())
        shas[name] = {e["file"]: e["sha256"] for e in m["outputs"]}
        frames = sum(e["frames"] for e in m["outputs"])
        render_s = sum(e["timings"].get("render_s", 0) for e in m["outputs"])
        res = {"engine": name, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
               "cpu_use": round(cpu / (wall * (os.cpu_count() or 1)), 3), "frames": frames,
               "task_s_per_frame": round(render_s / max(frames, 1), 4), "frame_size": f"{w}x{h}"}
        results.append(res)
        print(json.dumps(res))
    same = len({json.dumps(s, sort_keys=True) for s in shas.values()}) == 1
    print(f"outputs byte-identical across engines: {same}")
    if a.json:
        a.json.write_text(json.dumps({"results": results, "identical": same}, indent=1))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
