"""Shared by the viewer tests: one tiny trained run per test session (the checker cube, a few hundred steps)."""

from __future__ import annotations

import shutil
from pathlib import Path

from scenes import make_cube_dataset

_RUN: dict[str, Path] = {}


def tiny_run(tmp_path_factory, steps: int = 150) -> Path:
    """A run folder trained on the checker cube (48 px views, ``steps`` steps), made once per session."""
    if "run" not in _RUN:
        from scenegen.train.config import TrainConfig
        from scenegen.train.trainer import train

        root = tmp_path_factory.mktemp("viewer_run")
        data = make_cube_dataset(root / "cube", n_train=30, n_test=2, size=48)
        train(TrainConfig(data=data, output=root / "run", max_steps=steps, progress=False, eval_every=0,
                          checkpoint_every=1e9))
        _RUN["run"] = root / "run"
    return _RUN["run"]


def fresh_run(tmp_path_factory, dest: Path) -> Path:
    """A copy of :func:`tiny_run` at ``dest`` (each test gets its own ``RUN/viewer/`` autosave and renders)."""
    shutil.copytree(tiny_run(tmp_path_factory), dest)
    return dest
