"""`scenegen tour --engine ray` on a real local Ray cluster on loopback (a head node and a second worker node
process, one CPU each): the same outputs (sha256) as the local engine; killing the worker node mid-run, the batch
still completes (its tasks are retried on the head). Heavy: Ray's start-up alone takes most of a minute on a
loaded 2-core machine."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp: Path) -> dict:
    # Ray >= 2.5x starts clusters with token authentication and keeps the token in ~/.ray/auth_token, which any
    # other `ray start --head` on the machine may rewrite: the test cluster and its drivers share a token of
    # their own through the environment instead.
    return dict(os.environ, PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0", OMP_NUM_THREADS="1",
                RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
                TORCH_EXTENSIONS_DIR=os.environ.get("TORCH_EXTENSIONS_DIR", str(tmp / "torch_ext")))


def _tour(spec: Path, out: Path, env: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scenegen.cli.main", "tour", str(spec), "--output", str(out),
                           "--no-progress", "--chunk-frames", "2", *extra], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=1200)


def _shas(out: Path) -> dict:
    return {e["file"]: (e["status"], e["frames"], e["sha256"])
            for e in json.loads((out / "manifest.json").read_text())["outputs"]}


@pytest.fixture
def cluster(tmp_path):
    ray_bin = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    tmp = Path(f"/tmp/rt{os.getpid()}")  # Ray's socket paths must stay short
    env = _env(tmp_path)
    port = _free_port()
    addr = f"127.0.0.1:{port}"
    common = ["--num-cpus", "1", "--disable-usage-stats", "--node-ip-address", "127.0.0.1"]
    # Both nodes in the foreground (--block), each in its own process group: stopped by killing exactly those
    # groups (never `ray stop`, which would stop every Ray on the machine).
    head = subprocess.Popen([ray_bin, "start", "--head", "--port", str(port), "--temp-dir", str(tmp),
                             "--include-dashboard", "false", "--block", *common], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline and subprocess.run([ray_bin, "status", "--address", addr], env=env,
                                                    capture_output=True).returncode != 0:
        time.sleep(2)
    worker = subprocess.Popen([ray_bin, "start", "--address", addr, "--block", *common], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            r = subprocess.run([ray_bin, "status", "--address", addr], env=env, capture_output=True, text=True)
            if r.stdout.count("node_") >= 2 or "2.0 CPU" in r.stdout or "0.0/2.0 CPU" in r.stdout:
                break
            time.sleep(2)
        yield {"address": addr, "env": env, "worker": worker}
    finally:
        for p in (worker, head):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.heavy
def test_ray_engine_equals_local_and_survives_a_lost_worker_node(cluster, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from kill_render import train_tiny

    run = train_tiny(tmp_path / "train")
    spec = tmp_path / "tours.toml"
    spec.write_text(f'[[scene]]\nname = "a"\nrun = "{run}"\nfps = 8\nseconds = 1.5\nwidth = 48\nheight = 32\n'
                    '[[scene.tour]]\npath = "orbit"\nformats = ["landscape", "frames"]\n'
                    '[[scene.tour]]\nname = "far"\npath = "orbit"\nradius = 3.5\nformats = ["square"]\n'
                    f'[[scene]]\nname = "b"\nrun = "{run}"\nfps = 8\nseconds = 1\nwidth = 48\nheight = 32\n'
                    '[[scene.tour]]\npath = "orbit"\nradius = 3.0\nformats = ["landscape", "square"]\n')
    env = cluster["env"]
    local = _tour(spec, tmp_path / "local", env)
    assert local.returncode == 0, local.stderr
    want = _shas(tmp_path / "local")
    assert all(s == "done" for s, _, _ in want.values())

    r = _tour(spec, tmp_path / "ray", env, "--engine", "ray", "--address", cluster["address"], "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert _shas(tmp_path / "ray") == want

    # Kill the worker node (raylet and its workers) once frames start appearing: the batch still completes.
    out = tmp_path / "ray_kill"
    killed = {}

    def killer():
        deadline = time.time() + 600
        while time.time() < deadline and not killed:
            if sum(1 for _ in out.rglob("0*.png")) >= 2:
                os.killpg(cluster["worker"].pid, signal.SIGKILL)
                killed["at_frames"] = sum(1 for _ in out.rglob("0*.png"))
                return
            time.sleep(0.2)

    th = threading.Thread(target=killer, daemon=True)
    th.start()
    r = _tour(spec, out, env, "--engine", "ray", "--address", cluster["address"], "--workers", "2")
    th.join(timeout=5)
    assert killed, "the worker node was not killed during the batch"
    assert r.returncode == 0, r.stderr
    assert _shas(out) == want
