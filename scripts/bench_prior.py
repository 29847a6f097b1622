"""Benchmark the depth prior: train on a generated apartment with and without it, same time budget.

    python scripts/bench_prior.py --out bench_out/prior --minutes 10            # one after the other
    python scripts/bench_prior.py --out bench_out/prior --minutes 10 --side-by-side   # both at once (A/B ratio)

Steps (each a plain scenegen command, printed as it runs):
  1. scenegen generate --output OUT/data              (the default brief: ~100 views at 320x240 with depth; timed)
  2. scenegen train --data OUT/data --output OUT/with_depth --time-budget M            (depth loss + grid seeding)
     scenegen train --data OUT/data --output OUT/no_depth --time-budget M --depth-loss 0 --no-depth-init
  3. scenegen eval --run OUT/<run>                     (held-out PSNR/SSIM and z-depth error in metres)
Writes OUT/summary.json and prints a Markdown table: final PSNR, depth error, steps, and the quick-eval PSNR
curve (time to reach 20 / 25 dB) from each run's metrics.jsonl.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

RUNS = {"with_depth": [], "no_depth": ["--depth-loss", "0", "--no-depth-init"]}


def sh(cmd: list[str], log: Path | None = None) -> subprocess.Popen:
    print("+", " ".join(cmd), flush=True)
    out = open(log, "w") if log else None
    return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT if out else None)


def curve(run: Path) -> list[tuple[float, float]]:
    pts = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("eval_psnr") is not None:
            pts.append((r["time"], r["eval_psnr"]))
    return pts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path("bench_out/prior"))
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--side-by-side", action="store_true")
    ap.add_argument("--prompt", default=None)
    a = ap.parse_args()
    exe = [sys.executable, "-m", "scenegen.cli.main"]
    a.out.mkdir(parents=True, exist_ok=True)
    data = a.out / "data"
    summary: dict = {"minutes": a.minutes, "side_by_side": a.side_by_side}
    if not (data / "transforms.json").exists():
        t0 = time.time()
        cmd = exe + ["generate", "--output", str(data), "--no-progress"] + (["--prompt", a.prompt] if a.prompt else [])
        if sh(cmd).wait() != 0:
            sys.exit("generate failed")
        summary["generate_s"] = round(time.time() - t0, 1)
    procs = {}
    for name, extra in RUNS.items():
        cmd = exe + ["train", "--data", str(data), "--output", str(a.out / name), "--time-budget", str(a.minutes),
                     "--eval-every", "30", "--no-progress"] + extra
        procs[name] = sh(cmd, a.out / f"{name}.log")
        if not a.side_by_side:
            procs[name].wait()
    for name, p in procs.items():
        if p.wait() != 0:
            sys.exit(f"training {name} failed: see {a.out / (name + '.log')}")
    rows = {}
    for name in RUNS:
        run = a.out / name
        if sh(exe + ["eval", "--run", str(run), "--no-progress", "--save-images", "4"], a.out / f"{name}_eval.log").wait() != 0:
            sys.exit(f"eval {name} failed")
        ev = json.loads((run / "eval" / "eval.json").read_text())
        c = curve(run)
        reach = {t: next((round(s, 1) for s, p in c if p >= t), None) for t in (20.0, 25.0)}
        rows[name] = {"psnr": round(ev["psnr"], 2), "ssim": round(ev["ssim"], 4), "depth_mae_m": round(ev.get("depth_mae", float("nan")), 4),
                      "steps": ev["step"], "seconds_to_20dB": reach[20.0], "seconds_to_25dB": reach[25.0], "curve": c}
    summary["runs"] = rows
    (a.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print("| run | test PSNR | SSIM | depth error (m) | steps | s to 20 dB | s to 25 dB |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['depth_mae_m']:.3f} | {r['steps']} | {r['seconds_to_20dB']} | {r['seconds_to_25dB']} |")


if __name__ == "__main__":
    main()
