"""Benchmark `scenegen view`: time from a camera move to the first (coarse) image and to the sharpest image.

For each run: starts `scenegen view --run RUN --stats FILE --max-width 1280`, opens the page in Debian's chromium
(Playwright, 1280x720 window), waits for the first image, then drags the camera ``--moves`` times (a short orbit
drag on the canvas, then ``--settle`` seconds still). Times are measured at the server's render loop: from the
moment the camera message reaches the server to the moment the image is handed to viser for sending (the
websocket hop to the browser is not included). Prints a table and writes JSON (``--output``).

    python scripts/bench_viewer.py --run runs/lego --run scenegen-demo/run --moves 12
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench(run: Path, moves: int, settle: float, max_width: int) -> dict:
    from playwright.sync_api import sync_playwright

    stats = Path(tempfile.mkdtemp(prefix="bench_viewer_")) / "stats.jsonl"
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "scenegen.cli.main", "view", "--run", str(run), "--port", str(port),
                             "--stats", str(stats), "--max-width", str(max_width)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        t0 = time.time()
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"scenegen view failed: {proc.stderr.read()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                if time.time() - t0 > 300:
                    raise SystemExit("scenegen view did not start") from None
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"http://127.0.0.1:{port}/")
            time.sleep(max(settle, 5.0))  # the first view, rendered to the end
            for k in range(moves):
                x, y = 450, 360
                page.mouse.move(x, y)
                page.mouse.down()
                page.mouse.move(x + (40 if k % 2 == 0 else -40), y + 5, steps=4)
                page.mouse.up()
                time.sleep(settle)
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    rows = [json.loads(line) for line in stats.read_text().splitlines()] if stats.is_file() else []
    first = np.array([r["first_s"] for r in rows])
    refined = np.array([r["refined_s"] for r in rows if r["refined_s"] is not None])
    return {
        "run": str(run),
        "requests": len(rows),
        "refined": len(refined),
        "first_median_s": float(np.median(first)) if len(first) else None,
        "first_p90_s": float(np.percentile(first, 90)) if len(first) else None,
        "refined_median_s": float(np.median(refined)) if len(refined) else None,
        "coarse_size": rows[-1]["first_size"] if rows else None,
        "full_size": rows[-1]["full_size"] if rows else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", required=True, type=Path, help="run folder (repeat for several)")
    ap.add_argument("--moves", type=int, default=10)
    ap.add_argument("--settle", type=float, default=15.0, help="seconds still after each move")
    ap.add_argument("--max-width", type=int, default=1280)
    ap.add_argument("--output", type=Path, default=None)
    a = ap.parse_args()
    results = [bench(r, a.moves, a.settle, a.max_width) for r in a.run]
    print(f"{'run':40s} {'requests':>8s} {'first med':>10s} {'first p90':>10s} {'refined med':>12s} sizes")
    for r in results:
        def f(x):
            return f"{x:.3f}" if x is not None else "-"
        print(f"{r['run'][-40:]:40s} {r['requests']:8d} {f(r['first_median_s']):>10s} {f(r['first_p90_s']):>10s} "
              f"{f(r['refined_median_s']):>12s} {r['coarse_size']} -> {r['full_size']}")
    if a.output:
        a.output.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
