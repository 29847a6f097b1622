"""The page's "Render video" button: ``scenegen render`` (:func:`scenegen.pipelines.render.render`) of the path
being edited, in a background thread, with its progress readable while it runs.

The path is saved first (atomically) beside the video, and that file is what is rendered, exactly as
``scenegen render --run RUN --camera-path FILE --output VIDEO`` would. Progress is the count of frames in the
render's frame folder (``.VIDEO.frames/``, see :mod:`scenegen.video.render_path`). The field is shared with the
live view: each chunk of a frame's rays holds the shared lock, so the page stays live while a video renders.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from scenegen.core.errors import ScenegenError
from scenegen.paths import PathSpec, save_path_spec
from scenegen.pipelines.render import RenderConfig, render
from scenegen.train.run import LoadedRun

__all__ = ["RenderJob"]

LOCK_CHUNK = 8192
"""Rays rendered per hold of the field's lock by a video render."""


class _LockedRun(LoadedRun):
    """A :class:`LoadedRun` whose ``render`` holds a lock (shared with the live view) for each frame."""

    lock: threading.Lock

    @classmethod
    def wrap(cls, run: LoadedRun, lock: threading.Lock) -> "_LockedRun":
        new = cls(run.run_dir, run.config, run.scene, run.renderer, run.device, run.step)
        new.lock = lock
        return new

    def render(self, cameras, i, chunk=1 << 15):  # type: ignore[override]
        """:meth:`LoadedRun.render` with the lock held per chunk of rays (not per frame), so the live view gets
        its turn within a chunk's time; rays are independent, so the result is the same."""
        cams = self.transform.cameras_to_field(cameras[[i]]).to(self.device)
        h, w = int(cams.height[0]), int(cams.width[0])
        origins, dirs = cams.camera_rays(0)
        bg = self.background.to(self.device)
        step = min(int(chunk), LOCK_CHUNK)
        parts = []
        for s in range(0, origins.shape[0], step):
            with self.lock, torch.no_grad():
                parts.append(self.renderer.render_rays(origins[s:s + step], dirs[s:s + step], bg, chunk=step))
        out = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
        return {"rgb": out["rgb"].reshape(h, w, 3).cpu(),
                "depth": (out["depth"] / self.transform.scale).reshape(h, w).cpu(),
                "accumulation": out["accumulation"].reshape(h, w).cpu()}


@dataclass
class JobState:
    """Where a render stands: ``running``, ``done`` or ``failed``; frames written of ``total``; the video (when
    done) or the one-line error (when failed)."""

    status: str
    done: int
    total: int
    video: Path
    camera_path: Path
    message: str = ""
    seconds: float = 0.0


class RenderJob:
    """One video render in a background thread.

    Args:
        run: the loaded run (its field is shared, under ``lock``).
        spec: the path to render (copied: later edits do not change this render).
        video: the MP4 to write; the path is saved beside it as ``VIDEO.json``.
        lock: the field's lock.
        check: run the render's safety and framing checks first (as ``scenegen render`` does).
    """

    def __init__(self, run: LoadedRun, spec: PathSpec, video: Path, lock: threading.Lock, check: bool = False):
        self.video = Path(video)
        self.camera_path = self.video.with_suffix(".json")
        self.video.parent.mkdir(parents=True, exist_ok=True)
        save_path_spec(spec, self.camera_path)
        self.total = int(spec.num_frames)
        self.state = JobState("running", 0, self.total, self.video, self.camera_path)
        self._run = _LockedRun.wrap(run, lock)
        self._check = check
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._work, name="scenegen-render", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        cfg = RenderConfig(run=self._run.run_dir, camera_path=self.camera_path, output=self.video,
                           check=self._check, progress=False, device="cpu" if self._run.device.type == "cpu" else "auto")
        try:
            res = render(cfg, run=self._run)
            self.state = JobState("done", res.frames, res.frames, self.video, self.camera_path,
                                  f"rendered {res.frames} frames", time.perf_counter() - self._t0)
        except ScenegenError as e:
            self.state = JobState("failed", self.progress()[0], self.total, self.video, self.camera_path,
                                  f"error: {e}", time.perf_counter() - self._t0)
        except Exception as e:  # noqa: BLE001 - the page shows it in one line; the viewer keeps running
            first = (str(e).strip().splitlines() or [""])[0][:200]
            self.state = JobState("failed", self.progress()[0], self.total, self.video, self.camera_path,
                                  f"error: internal error ({type(e).__name__}: {first})",
                                  time.perf_counter() - self._t0)

    def progress(self) -> tuple[int, int]:
        """(frames rendered so far, total)."""
        if self.state.status != "running":
            return self.state.done, self.total
        frames = self.video.parent / f".{self.video.name}.frames"
        try:
            n = sum(1 for p in frames.iterdir() if p.suffix == ".png")
        except OSError:
            n = 0
        return min(n, self.total), self.total

    @property
    def running(self) -> bool:
        return self.state.status == "running"

    def wait(self, timeout: Optional[float] = None) -> JobState:
        self._thread.join(timeout)
        return self.state
