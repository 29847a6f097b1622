"""`scenegen view` end to end in a real browser: Debian's chromium driven by Playwright opens the page on a tiny
trained run with the network blocked, waits for the rendered scene, sets three camera views, adds three keyframes
with the GUI, scrubs the timeline, saves; the saved path holds those poses and renders with `scenegen render`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from scenegen.cameras.poses import look_at_c2w
from scenegen.paths import load_path_spec
from scenegen.paths.model import quat_from_matrix
from viewer_support import fresh_run

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the skip says why
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)"),
    pytest.mark.skipif(sync_playwright is None, reason="needs Playwright's Python package (pip install playwright)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    import urllib.request

    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"scenegen view exited ({proc.returncode}): {proc.stderr.read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("scenegen view did not serve its page")


def _field(page, label: str):
    """The input of the GUI control labelled ``label`` (viser's labels point at their input by id)."""
    lab = page.locator("label").filter(has_text=re.compile(rf"^{re.escape(label)}$")).first
    by_id = page.locator(f'[id="{lab.get_attribute("for")}"]')
    if by_id.count():
        return by_id
    # text fields: the input in the same row as the label
    return lab.locator("xpath=ancestor::div[.//input or .//textarea][1]").locator("input, textarea").first


def _set(page, label: str, value: str) -> None:
    f = _field(page, label)
    f.fill(value)
    f.press("Enter")
    time.sleep(0.4)


def _colourful(png: bytes) -> float:
    """Share of pixels of a screenshot (left of the panel) with a strongly saturated colour: the cube's faces;
    the page's own background, grid and camera frustums are white or grey."""
    import io

    from PIL import Image

    im = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.float64)[:, :900]
    sat = im.max(-1) - im.min(-1)
    return float((sat > 60).mean())


def _markdown_after(page, prefix: str) -> str:
    return page.get_by_text(re.compile(rf"^{re.escape(prefix)}")).first.inner_text()


def _wait_view(page, position, timeout: float = 60.0) -> np.ndarray:
    """Wait until the page's "Last view" numbers show a camera at ``position``; returns them."""
    deadline, text = time.time() + timeout, ""
    while time.time() < deadline:
        text = _markdown_after(page, "Last view:")
        vals = np.array([float(x) for x in text.split(":", 1)[1].replace("`", "").split()])
        if np.allclose(vals[:3], position, atol=1e-3):
            return vals
        time.sleep(0.3)
    raise AssertionError(f"the view did not move to {position} ({text})")


def test_view_in_browser(tmp_path_factory, tmp_path):
    run = fresh_run(tmp_path_factory, tmp_path / "run")
    port = _free_port()
    saved = tmp_path / "tour.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "scenegen.cli.main", "view", "--run", str(run), "--port",
                             str(port), "--path", str(saved), "--max-width", "320"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    external: list[str] = []
    # three views of the cube, as the path file writes them (x y z qw qx qy qz, OpenGL camera-to-world)
    eyes = [(2.2, -1.6, 1.2), (-1.8, -2.0, 0.9), (-1.6, 2.1, 1.4)]
    poses = [look_at_c2w(np.array(e), np.zeros(3), np.array([0.0, 0.0, 1.0])) for e in eyes]
    t_start = time.time()
    timings = {}
    try:
        _wait_http(f"http://127.0.0.1:{port}/", proc)
        timings["server up"] = time.time() - t_start
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})

            def route(r):  # only the local server: any other request fails (and is recorded)
                u = r.request.url
                if re.match(r"^(https?|wss?)://127\.0\.0\.1[:/]", u) or u.startswith(("data:", "blob:")):
                    r.continue_()
                else:
                    external.append(u)
                    r.abort()

            page.route("**/*", route)
            page.goto(f"http://127.0.0.1:{port}/")
            # the first rendered image: the cube's coloured faces appear in the canvas
            t0, shot, colour = time.time(), b"", 0.0
            while time.time() - t0 < 180:
                time.sleep(1.0)
                shot = page.screenshot()
                colour = _colourful(shot)
                if colour > 0.01:
                    break
            art = tmp_path / "viewer_first_image.png"
            art.write_bytes(shot)
            keep = ROOT / "test-artifacts"
            keep.mkdir(exist_ok=True)
            shutil.copy(art, keep / art.name)
            print(f"screenshot: {art} (copied to {keep / art.name})")
            assert colour > 0.01, f"no rendered scene in the page after 180 s ({colour:.4f} coloured)"
            timings["first image"] = time.time() - t_start

            # small, short video settings so the saved path renders quickly
            _set(page, "Width", "64")
            _set(page, "Height", "48")
            _set(page, "FPS", "5")
            _set(page, "Default transition (s)", "1")
            for c2w in poses:
                q = quat_from_matrix(c2w[:3, :3])
                _set(page, "Go to pose", " ".join(f"{x:.9f}" for x in (*c2w[:3, 3], *q)))
                page.get_by_role("button", name="Go to pose").click()
                _wait_view(page, c2w[:3, 3])
                page.get_by_role("button", name="Add keyframe from view").click()
                time.sleep(0.5)
            page.get_by_text(re.compile(r"^3 keyframes")).first.wait_for(timeout=60000)
            summary = _markdown_after(page, "3 keyframes")
            assert summary.startswith("3 keyframes, 2.0 s, 10 frames"), summary

            # scrub the timeline (its slider: the third in the panel) to the end, the start and the end again: the
            # view follows, to the last, the first and the last keyframe
            thumb = page.get_by_role("slider").nth(2)
            thumb.focus()
            thumb.press("End")
            time.sleep(0.5)
            thumb.press("Home")
            _wait_view(page, poses[0][:3, 3])
            thumb.press("End")
            _wait_view(page, poses[-1][:3, 3])

            page.get_by_role("button", name="Save").click()
            page.get_by_text(re.compile(r"^saved ")).first.wait_for(timeout=60000)
            page.screenshot(path=str(tmp_path / "viewer_after_save.png"))
            # a second tab on the same server shows the same path; an edit there shows in the first
            other = browser.new_page(viewport={"width": 1280, "height": 720})
            other.route("**/*", route)
            other.goto(f"http://127.0.0.1:{port}/")
            other.get_by_text(re.compile(r"^3 keyframes, 2\.0 s")).first.wait_for(timeout=30000)
            other.get_by_role("button", name="Undo").click()  # undoes the third keyframe (after the settings)
            page.get_by_text(re.compile(r"^2 keyframes, 1\.0 s")).first.wait_for(timeout=60000)
            timings["tabs"] = time.time() - t_start
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert not external, f"the page fetched from outside the machine: {external[:5]}"

    spec = load_path_spec(saved)
    assert len(spec.keyframes) == 3
    for kf, c2w in zip(spec.keyframes, poses):
        assert np.abs(kf.c2w() - c2w).max() < 1e-4, (kf.c2w(), c2w)
    assert (spec.width, spec.height, spec.fps) == (64, 48, 5.0)
    raw = json.loads(saved.read_text())
    assert len(raw["camera_path"]) == spec.num_frames == 10

    timings["browser done"] = time.time() - t_start
    out = tmp_path / "tour.mp4"
    r = subprocess.run([sys.executable, "-m", "scenegen.cli.main", "render", "--run", str(run), "--camera-path",
                        str(saved), "--output", str(out), "--no-progress", "--no-check"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert out.stat().st_size > 1000
    timings["rendered"] = time.time() - t_start
    print("timings (s since start, a loaded machine):", {k: round(v, 1) for k, v in timings.items()})
