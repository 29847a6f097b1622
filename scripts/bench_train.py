#!/usr/bin/env python
"""End-to-end training benchmark on the Blender "lego" scene (or any dataset `scenegen train` reads).

For every time budget B (minutes) it runs, each as a separate subprocess so nothing is shared between runs:

1. ``python -m scenegen.cli.main train --data DATA --output OUT/train_B --time-budget B --no-progress
   --eval-every 0`` -- the budget counts the whole command, loading included. The wall time of the subprocess
   and its own peak RSS (``os.wait4`` on the child: ``ru_maxrss``) are recorded, and the number of steps is
   read from the last line of ``OUT/train_B/metrics.jsonl``.
2. ``python -m scenegen.cli.main eval --run OUT/train_B --no-progress --every N`` on the test split (all views
   with ``--eval-every 1``), then PSNR / SSIM from ``OUT/train_B/eval/eval.json``.

Then, with the run of the LAST budget, render timing: a K-frame orbit camera path (radius 4, height 1.5, Z up,
looking at the origin, vertical fov 40 degrees -- lego's world units) written as a nerfstudio
``camera_path.json`` is rendered with ``python -m scenegen.cli.main render ... --no-progress`` at each of
``--render-sizes`` (default 200x200 and 640x360); seconds per frame are parsed from the command's own summary
("... s/frame", render time only) next to the subprocess wall time. Finally a single ``--rss-size`` frame
(default 1920x1080) is rendered and the subprocess's peak RSS is recorded.

Outputs: a markdown table on stdout, ``OUT/results.json`` and ``OUT/results.md`` (machine, command lines, per
budget steps / wall s / peak RSS MB / test PSNR / SSIM, render s/frame, peak RSS of the large frame). Logs of
every subprocess are kept in ``OUT/logs/``.

Usage::

    python scripts/bench_train.py --data ../shared/datasets/lego --budgets 2,5,15 --out bench_out/

Only the standard library is used here; the measured commands are scenegen's own CLI.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """A problem the benchmark reports as one line (exit code 2)."""


# --------------------------------------------------------------------------------------------------------------
# Subprocess with wall time and the child's own peak RSS
# --------------------------------------------------------------------------------------------------------------


def run_measured(cmd: list[str], log: Path, env: dict[str, str]) -> dict:
    """Run ``cmd`` with stdout+stderr into ``log``; return rc, wall seconds and the child's peak RSS (MB).

    ``os.wait4`` reaps exactly this child and returns its resource usage, so the peak RSS is that of this
    command alone (not the maximum over all earlier children too, as ``RUSAGE_CHILDREN`` would give). On Linux
    it is the peak of the largest single process of the command's tree -- the scenegen process itself; the
    ffmpeg encoder that `render` starts is far smaller -- not a sum. Linux reports ``ru_maxrss`` in KiB, macOS
    in bytes.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    print("  $ " + " ".join(_quote(c) for c in cmd), flush=True)
    with open(log, "wb") as f:
        f.write(("$ " + " ".join(_quote(c) for c in cmd) + "\n").encode())
        f.flush()
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
        except OSError as e:
            raise BenchError(f"cannot start {cmd[0]}: {e}") from None
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc  # already reaped by wait4: keep Popen from waiting again
    unit = 1 if sys.platform == "darwin" else 1024
    return {"rc": rc, "wall_s": wall, "peak_rss_mb": ru.ru_maxrss * unit / 2**20, "log": str(log),
            "cmd": " ".join(_quote(c) for c in cmd)}


def _quote(s: str) -> str:
    return s if re.fullmatch(r"[\w./:=,+-]+", s) else json.dumps(s)


def check_ok(res: dict, what: str) -> None:
    if res["rc"] != 0:
        tail = _tail(Path(res["log"]), 15)
        raise BenchError(f"{what} failed with exit code {res['rc']} (log: {res['log']}):\n{tail}")


def _tail(path: Path, n: int) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in lines[-n:])


# --------------------------------------------------------------------------------------------------------------
# Camera path
# --------------------------------------------------------------------------------------------------------------


def orbit_camera_path(frames: int, width: int, height: int, radius: float = 4.0, z: float = 1.5,
                      fov: float = 40.0, fps: float = 24.0) -> dict:
    """A nerfstudio viewer camera path: ``frames`` cameras on a circle of ``radius`` at height ``z`` (Z up),
    looking at the origin. camera_to_world is the row-major 4x4 OpenGL c2w (camera looks down -Z, +Y up)."""
    path = []
    for i in range(frames):
        a = 2.0 * math.pi * i / frames
        pos = (radius * math.cos(a), radius * math.sin(a), z)
        back = _normalize(pos)  # camera +Z points away from the target (the origin)
        right = _normalize(_cross((0.0, 0.0, 1.0), back))
        up = _cross(back, right)
        c2w = [
            right[0], up[0], back[0], pos[0],
            right[1], up[1], back[1], pos[1],
            right[2], up[2], back[2], pos[2],
            0.0, 0.0, 0.0, 1.0,
        ]
        path.append({"camera_to_world": c2w, "fov": fov, "aspect": width / height})
    return {
        "camera_type": "perspective",
        "render_height": height,
        "render_width": width,
        "fps": fps,
        "seconds": frames / fps,
        "camera_path": path,
    }


def _normalize(v):
    n = math.sqrt(sum(x * x for x in v))
    return tuple(x / n for x in v)


def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


# --------------------------------------------------------------------------------------------------------------
# Machine description
# --------------------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what platform knows."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return cpu


def machine_info(device: str) -> dict:
    cpu = cpu_model()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    mem_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "memory_gb": mem_gb,
        "python": platform.python_version(),
        "torch": _pkg_version("torch"),
        "scenegen": _pkg_version("scenegen"),
        "platform": platform.platform(),
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "git_commit": _git(["rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(_git(["status", "--porcelain", "--untracked-files=no"])),
        "device": device,
    }
    if device == "cuda":
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30)
            info["gpu"] = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
        except (OSError, subprocess.TimeoutExpired):
            info["gpu"] = None
    return info


def _pkg_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(args: list[str]) -> str | None:
    """Read-only git queries (commit id, dirty flag); None when git or the repository is absent."""
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, cwd=str(REPO), timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


# --------------------------------------------------------------------------------------------------------------
# Parsing helpers
# --------------------------------------------------------------------------------------------------------------


def parse_budgets(text: str) -> list[float]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            b = float(part)
        except ValueError:
            raise BenchError(f"--budgets: '{part}' is not a number of minutes") from None
        if not (b > 0 and math.isfinite(b)):
            raise BenchError(f"--budgets: '{part}' must be a positive number of minutes")
        out.append(b)
    if not out:
        raise BenchError("--budgets: give at least one budget, e.g. 2,5,15")
    return out


def parse_size(text: str, flag: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise BenchError(f"{flag}: '{text}' is not a size WIDTHxHEIGHT such as 640x360")
    return int(m.group(1)), int(m.group(2))


def budget_name(b: float) -> str:
    return f"{b:g}".replace(".", "p")


def last_step(metrics: Path) -> int | None:
    """``step`` of the last line of metrics.jsonl (the trainer's final 'done' record)."""
    try:
        lines = [ln for ln in metrics.read_text().splitlines() if ln.strip()]
    except OSError:
        return None
    for ln in reversed(lines):
        try:
            rec = json.loads(ln)
        except json.JSONDecodeError:
            continue
        if "step" in rec:
            return int(rec["step"])
    return None


_S_PER_FRAME = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*s/frame")


def parse_s_per_frame(log: Path) -> float | None:
    m = _S_PER_FRAME.findall(Path(log).read_text(errors="replace"))
    return float(m[-1]) if m else None


def fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


# --------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Train / eval / render benchmark of scenegen on one dataset (default usage: lego).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--data", type=Path, required=True, help="dataset folder, e.g. ../shared/datasets/lego")
    ap.add_argument("--budgets", default="2,5,15", help="comma-separated training time budgets in minutes")
    ap.add_argument("--out", type=Path, default=Path("bench_out"), help="output folder (runs, logs, results)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="device for train/eval/render")
    ap.add_argument("--eval-every", type=int, default=1, help="evaluate every n-th test view (1 = all 200)")
    ap.add_argument("--frames", type=int, default=5, help="frames of the timed camera path")
    ap.add_argument("--render-sizes", default="200x200,640x360", help="comma-separated WxH sizes to time")
    ap.add_argument("--rss-size", default="1920x1080", help="WxH of the single frame whose peak RSS is measured")
    ap.add_argument("--threads", type=int, default=0,
                    help="limit torch threads of every subprocess (OMP/MKL_NUM_THREADS, train --threads); 0 = all")
    ap.add_argument("--overwrite", action="store_true", help="delete existing OUT/train_B folders first")
    ap.add_argument("--skip-render", action="store_true", help="only train and evaluate")
    ap.add_argument("--no-video", action="store_true",
                    help="render timed paths to PNG frames only (for machines without an ffmpeg binary)")
    args = ap.parse_args(argv)
    try:
        return run(args)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def run(args) -> int:
    budgets = parse_budgets(args.budgets)
    if len(set(budgets)) != len(budgets):
        raise BenchError("--budgets: each budget may appear only once")
    sizes = [parse_size(s, "--render-sizes") for s in args.render_sizes.split(",") if s.strip()]
    rss_size = parse_size(args.rss_size, "--rss-size")
    if args.eval_every < 1:
        raise BenchError("--eval-every must be >= 1")
    if args.frames < 1:
        raise BenchError("--frames must be >= 1")
    data = args.data.resolve()
    if not data.is_dir():
        raise BenchError(f"--data: dataset folder not found: {args.data}")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for b in budgets:
        d = out / f"train_{budget_name(b)}"
        if d.exists() and any(d.iterdir()):
            if not args.overwrite:
                raise BenchError(f"{d} already exists: pass --overwrite or choose another --out")
            shutil.rmtree(d)

    env = dict(os.environ)
    env["COLUMNS"] = "400"  # rich wraps at 80 columns when not on a terminal: keep the summary lines whole
    env.setdefault("PYTHONUNBUFFERED", "1")
    if args.threads > 0:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(args.threads)
    py = [sys.executable, "-m", "scenegen.cli.main"]
    dev = ["--device", args.device]
    logs = out / "logs"
    machine = machine_info(args.device)
    print(f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['cores_usable']} usable), "
          f"torch {machine['torch']}, {machine['date']}", flush=True)

    results: dict = {
        "machine": machine,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "commands": {},
        "budgets": [],
        "render": None,
    }

    # ---- train + eval per budget --------------------------------------------------------------------------------
    for b in budgets:
        name = budget_name(b)
        run_dir = out / f"train_{name}"
        print(f"\n== budget {b:g} min ==", flush=True)
        cmd = py + ["train", "--data", str(data), "--output", str(run_dir), "--time-budget", f"{b:g}",
                    "--no-progress", "--eval-every", "0"] + dev
        if args.threads > 0:
            cmd += ["--threads", str(args.threads)]
        results["commands"].setdefault("train", " ".join(_quote(c) for c in cmd))
        tr = run_measured(cmd, logs / f"train_{name}.log", env)
        check_ok(tr, f"training with budget {b:g} min")
        steps = last_step(run_dir / "metrics.jsonl")

        cmd = py + ["eval", "--run", str(run_dir), "--no-progress", "--every", str(args.eval_every)] + dev
        results["commands"].setdefault("eval", " ".join(_quote(c) for c in cmd))
        ev = run_measured(cmd, logs / f"eval_{name}.log", env)
        check_ok(ev, f"evaluation of {run_dir}")
        eval_json = run_dir / "eval" / "eval.json"
        try:
            e = json.loads(eval_json.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise BenchError(f"cannot read {eval_json}: {err}") from None
        row = {
            "budget_min": b,
            "run": str(run_dir),
            "train_cmd": tr["cmd"],
            "eval_cmd": ev["cmd"],
            "steps": steps,
            "train_wall_s": round(tr["wall_s"], 2),
            "train_peak_rss_mb": round(tr["peak_rss_mb"], 1),
            "test_psnr": e.get("psnr"),
            "test_ssim": e.get("ssim"),
            "eval_views": e.get("num_images"),
            "eval_s_per_image": e.get("seconds_per_image"),
            "eval_wall_s": round(ev["wall_s"], 2),
            "eval_peak_rss_mb": round(ev["peak_rss_mb"], 1),
        }
        results["budgets"].append(row)
        print(f"  steps {steps}, wall {tr['wall_s']:.1f} s, peak RSS {tr['peak_rss_mb']:.0f} MB, "
              f"test PSNR {fmt(row['test_psnr'], '.2f')} SSIM {fmt(row['test_ssim'], '.4f')} "
              f"({row['eval_views']} views)", flush=True)
        _write_results(out, results)

    # ---- render timing with the last run --------------------------------------------------------------------
    if not args.skip_render:
        run_dir = out / f"train_{budget_name(budgets[-1])}"
        print(f"\n== render timing ({run_dir.name}) ==", flush=True)
        rdir = out / "render"
        rdir.mkdir(exist_ok=True)
        render = {"run": str(run_dir), "frames": args.frames, "sizes": [], "rss": None}

        def do_render(w: int, h: int, frames: int) -> dict:
            tag = f"{w}x{h}"
            path_file = rdir / f"orbit_{tag}_{frames}f.json"
            path_file.write_text(json.dumps(orbit_camera_path(frames, w, h), indent=1))
            video = rdir / f"orbit_{tag}.mp4"
            video.unlink(missing_ok=True)
            frames_dir = rdir / f"frames_{tag}"
            shutil.rmtree(frames_dir, ignore_errors=True)
            target = ["--output", "None", "--frames", str(frames_dir)] if args.no_video else ["--output", str(video)]
            cmd = py + ["render", "--run", str(run_dir), "--camera-path", str(path_file)] + target + ["--no-progress"] + dev
            results["commands"].setdefault("render", " ".join(_quote(c) for c in cmd))
            r = run_measured(cmd, logs / f"render_{tag}.log", env)
            check_ok(r, f"render at {tag}")
            spf = parse_s_per_frame(Path(r["log"]))
            return {"size": tag, "frames": frames, "cmd": r["cmd"], "s_per_frame": spf, "wall_s": round(r["wall_s"], 2),
                    "wall_s_per_frame": round(r["wall_s"] / frames, 3), "peak_rss_mb": round(r["peak_rss_mb"], 1)}

        for w, h in sizes:
            r = do_render(w, h, args.frames)
            render["sizes"].append(r)
            print(f"  {r['size']}: {fmt(r['s_per_frame'], '.3f')} s/frame (render), {r['wall_s']:.1f} s wall for "
                  f"{r['frames']} frames, peak RSS {r['peak_rss_mb']:.0f} MB", flush=True)
        r = do_render(*rss_size, 1)
        render["rss"] = r
        print(f"  {r['size']} single frame: peak RSS {r['peak_rss_mb']:.0f} MB, {fmt(r['s_per_frame'], '.2f')} s/frame",
              flush=True)
        results["render"] = render

    md = _write_results(out, results)
    print("\n" + md)
    print(f"results: {out / 'results.json'}, {out / 'results.md'}")
    return 0


def _write_results(out: Path, results: dict) -> str:
    md = to_markdown(results)
    _atomic_write(out / "results.json", json.dumps(results, indent=2))
    _atomic_write(out / "results.md", md)
    return md


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def to_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        "# scenegen training benchmark",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), {m.get('memory_gb')} GB RAM"
        + (f", GPU {m['gpu']}" if m.get("gpu") else ""),
        f"- python {m['python']}, torch {m['torch']}, scenegen {m['scenegen']} (git {m['git_commit']}"
        + (", dirty" if m["git_dirty"] else "") + f"), device {m['device']}",
        f"- date: {m['date']}",
        f"- dataset: {results['args']['data']}",
        "",
        "Commands (as run for the first budget; the others differ only in B):",
        "",
    ]
    for k, v in results["commands"].items():
        lines.append(f"- {k}: `{v}`")
    lines += [
        "",
        "| budget (min) | steps | train wall (s) | train peak RSS (MB) | test PSNR (dB) | test SSIM | eval views |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["budgets"]:
        lines.append(
            f"| {r['budget_min']:g} | {fmt(r['steps'], 'd')} | {r['train_wall_s']:.1f} | {r['train_peak_rss_mb']:.0f} "
            f"| {fmt(r['test_psnr'], '.2f')} | {fmt(r['test_ssim'], '.4f')} | {fmt(r['eval_views'], 'd')} |"
        )
    rd = results.get("render")
    if rd:
        lines += [
            "",
            f"Render timing ({rd['frames']}-frame orbit, run `{Path(rd['run']).name}`; s/frame is scenegen's own "
            "render time per frame, wall includes start-up, model loading and video encoding):",
            "",
            "| size | frames | s/frame | wall (s) | wall s/frame | peak RSS (MB) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in rd["sizes"] + ([rd["rss"]] if rd.get("rss") else []):
            lines.append(f"| {r['size']} | {r['frames']} | {fmt(r['s_per_frame'], '.3f')} | {r['wall_s']:.1f} "
                         f"| {r['wall_s_per_frame']:.2f} | {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
