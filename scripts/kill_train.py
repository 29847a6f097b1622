"""kill -9 during `scenegen train` at random moments, then resume: the end result must equal an uninterrupted run.

Issue 12's acceptance test (train part). A tiny checker-cube dataset is trained for a fixed number of steps on
one thread (deterministic), once uninterrupted (the reference) and then in trials that are killed with SIGKILL
at random times (fixed seed) and resumed (``--resume`` once a checkpoint exists, else started afresh) until
they finish. After each trial:

* the final checkpoint's field and occupancy-grid tensors are identical (``torch.equal``) to the reference's;
* metrics.jsonl's step lines (step, loss, lr, rays, samples, occupancy) equal the reference's, each once, and
  every line is whole JSON;
* no temporary file (``.*.tmp``) is left in the run folder, and the checkpoint loads with weights_only=True.

Usage: ``python scripts/kill_train.py [--kills 10] [--seed 0] [--steps 200] [--workdir DIR]``; exit 0 when every
trial matched. tests/test_kill_train.py runs it (``pytest -m heavy``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from scenes import make_cube_dataset  # noqa: E402


def train_cmd(data: Path, run: Path, steps: int, resume: bool) -> list[str]:
    cmd = [sys.executable, "-m", "scenegen.cli.main", "train", "--data", str(data), "--output", str(run),
           "--max-steps", str(steps), "--threads", "1", "--no-progress", "--eval-every", "0",
           "--checkpoint-every", "0.2", "--field.grid.log2-hashmap-size", "12", "--field.grid.max-resolution", "128",
           "--grid-resolution", "32", "--target-samples", "4096", "--max-rays", "512", "--min-rays", "256"]
    return cmd + (["--resume"] if resume else [])


WORK: Path | None = None


def env() -> dict:
    # A private C++ kernel build folder: another checkout's build in the shared torch_extensions folder would
    # make every start rebuild the kernels (minutes) and the kill times meaningless.
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", TORCH_EXTENSIONS_DIR=str(WORK / "torch_ext"))


def step_lines(run: Path) -> list[dict]:
    out = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)  # every line whole JSON
        if "loss" in rec:
            out.append({k: rec[k] for k in ("step", "loss", "lr", "rays", "samples", "occupancy")})
    return out


def final_state(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "latest.pt", weights_only=True)


def compare(ref: Path, run: Path) -> list[str]:
    problems = []
    a, b = final_state(ref), final_state(run)
    if a["step"] != b["step"]:
        problems.append(f"step {b['step']} != {a['step']}")
    for part in ("field", "grid"):
        for k in a[part]:
            if not torch.equal(a[part][k], b[part][k]):
                problems.append(f"{part}.{k} differs")
    if step_lines(ref) != step_lines(run):
        problems.append("metrics.jsonl step lines differ")
    tmps = [str(p) for p in run.rglob("*.tmp")]
    if tmps:
        problems.append(f"temporary files left: {tmps}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="kill_train_"))
    work.mkdir(parents=True, exist_ok=True)
    global WORK
    WORK = work
    subprocess.run([sys.executable, "-c", "from scenegen.kernels._backend import load; load()"], env=env(), check=True)
    data = make_cube_dataset(work / "data", n_train=12, n_test=2, size=32)
    rng = random.Random(args.seed)

    t0 = time.time()
    ref = work / "ref"
    r = subprocess.run(train_cmd(data, ref, args.steps, False), env=env(), capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stderr)
        return 1
    wall = time.time() - t0
    print(f"reference: {args.steps} steps in {wall:.1f} s")

    kills, trials, failures, starts = 0, 0, 0, 0
    kill_log = []
    while kills < args.kills:
        trials += 1
        run = work / f"trial{trials}"
        while True:
            resume = (run / "checkpoints" / "latest.pt").is_file()
            p = subprocess.Popen(train_cmd(data, run, args.steps, resume), env=env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            starts += 1
            delay = rng.uniform(0.2, wall)
            deadline = time.time() + delay
            while time.time() < deadline and p.poll() is None:
                time.sleep(0.01)
            if p.poll() is None and kills < args.kills:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
                kills += 1
                step = final_state(run)["step"] if (run / "checkpoints" / "latest.pt").is_file() else None
                kill_log.append((trials, round(delay, 2), step))
                continue
            out, err = p.communicate()
            if p.returncode != 0:
                print(f"trial {trials}: exit {p.returncode}: {err.strip()}")
                failures += 1
            break
        problems = compare(ref, run)
        status = "identical" if not problems else "; ".join(problems)
        print(f"trial {trials}: {status}")
        failures += bool(problems)
    print(f"kills (trial, seconds after start, checkpoint step then): {kill_log}")
    print(f"{kills} kills in {trials} trials ({starts} starts); {trials - failures} of {trials} trials identical to "
          f"the uninterrupted run")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
