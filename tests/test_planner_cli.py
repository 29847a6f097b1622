"""`scenegen path auto` on a trained run: an object capture is refused in one line suggesting `path orbit`; the
planner's flags are checked before any work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _cli(*args, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "scenegen.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


def test_path_auto_flags_refused(tmp_path):
    r = _cli("path", "auto", "--run", str(tmp_path / "nope"), "--duration", "-3")
    assert r.returncode == 2 and "--duration" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = _cli("path", "auto", "--run", str(tmp_path / "nope"), "--rooms", " , ")
    assert r.returncode == 2 and "--rooms" in r.stderr, r.stderr


@pytest.mark.heavy
def test_path_auto_object_capture_not_walkable(tmp_path):
    """A trained object capture (the checker cube seen from a sphere of cameras) is not walkable."""
    from scenes import make_cube_dataset

    from scenegen.train.config import TrainConfig
    from scenegen.train.trainer import train

    data = make_cube_dataset(tmp_path / "cube", n_train=24, n_test=2, size=48)
    train(TrainConfig(data=data, output=tmp_path / "run", max_steps=150, progress=False, eval_every=0,
                      checkpoint_every=1e9))
    r = _cli("path", "auto", "--run", str(tmp_path / "run"), "--output", str(tmp_path / "t.json"))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert "not walkable" in lines[-1] and "scenegen path orbit --run" in lines[-1], r.stderr
    assert not (tmp_path / "t.json").exists()
