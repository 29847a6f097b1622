"""Progressive rendering of the trained field for one browser view.

One :class:`LiveView` per connected page: a background thread that always renders the NEWEST camera the page
sent. A camera move first gets a coarse image (a few thousand rays, sized from the measured cost per ray so it
lands within :attr:`LiveView.coarse_budget_s`), then sharper passes (1/4, 1/2, full size) while the camera
stays still. A newer camera interrupts the pass being rendered between ray chunks, so a stale image is never
finished. The page's own event handling never waits on a render.

Rays go through the same :class:`~scenegen.render.renderer.Renderer` (``run.renderer``) and world -> field
transform that ``scenegen render`` uses (:meth:`scenegen.train.run.LoadedRun.render`), chunk by chunk.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import torch

from scenegen.cameras.cameras import Cameras
from scenegen.paths import focal_from_fov
from scenegen.train.run import LoadedRun

__all__ = ["LiveView", "ViewRequest", "RenderTiming"]


@dataclass
class ViewRequest:
    """A camera to show: OpenGL camera-to-world (4, 4) in world units, vertical fov (degrees), the size of the
    picture in the page (pixels) and when the page sent it (``time.perf_counter()``)."""

    c2w: np.ndarray
    fov: float
    width: int
    height: int
    t: float = field(default_factory=time.perf_counter)


@dataclass
class RenderTiming:
    """Seconds from a camera request to its first (coarse) image and to its full-size image (None: interrupted
    by a newer camera), and the sizes rendered."""

    first_s: float
    refined_s: Optional[float]
    first_size: tuple[int, int]
    full_size: tuple[int, int]


class _Stale(Exception):
    """A newer camera arrived during a pass."""


class LiveView:
    """Renders the newest camera of one page in a background thread, coarse first, sharper while still.

    Args:
        run: the loaded run.
        show: ``show(rgb_uint8 (H, W, 3), final: bool)`` puts an image in the page (called from the thread).
        lock: held around each ray chunk, shared with other users of the field (other pages, a video render).
        max_width: full-size passes are at most this wide (the page's size otherwise).
        coarse_budget_s: the coarse pass's time target (it is sized from the measured seconds per ray).
        chunk: rays per chunk (a newer camera is noticed between chunks).
    """

    def __init__(self, run: LoadedRun, show: Callable[[np.ndarray, bool], None], lock: threading.Lock,
                 max_width: int = 1280, coarse_budget_s: float = 0.12, chunk: int = 4096):
        self.run = run
        self.show = show
        self.lock = lock
        self.max_width = int(max_width)
        self.coarse_budget_s = float(coarse_budget_s)
        self.chunk = int(chunk)
        self.timings: list[RenderTiming] = []
        self._s_per_ray = 2e-5  # first guess; measured from then on
        self._request: Optional[ViewRequest] = None
        self._serial = 0
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="scenegen-live-view", daemon=True)
        self._thread.start()

    # -- requests --------------------------------------------------------------------------------------------

    def request(self, req: ViewRequest) -> None:
        """Show ``req`` (drops any older request, interrupts a pass of an older one)."""
        with self._cond:
            self._request = req
            self._serial += 1
            self._cond.notify_all()

    def refresh(self) -> None:
        """Render the last camera again (e.g. after the scene changed)."""
        with self._cond:
            if self._request is not None:
                self._request = ViewRequest(self._request.c2w, self._request.fov, self._request.width,
                                            self._request.height)
                self._serial += 1
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._serial += 1
            self._cond.notify_all()

    # -- the thread ------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        done = 0
        while True:
            with self._cond:
                while not self._stop and self._serial == done:
                    self._cond.wait()
                if self._stop:
                    return
                serial, req = self._serial, self._request
            done = serial
            if req is None:
                continue
            try:
                self._progressive(req, serial)
            except _Stale:
                continue

    def _stale(self, serial: int) -> bool:
        return self._serial != serial or self._stop

    def _sizes(self, req: ViewRequest) -> list[tuple[int, int, float]]:
        """(width, height, min transmittance) of each pass: a coarse one within the time budget, then 1/4, 1/2,
        full size (those larger than the coarse one)."""
        aspect = max(req.width, 1) / max(req.height, 1)
        full_w = int(min(max(req.width, 16), self.max_width))
        full_h = max(int(round(full_w / aspect)), 1)
        rays = max(self.coarse_budget_s / max(self._s_per_ray, 1e-9), 256.0)
        scale = min(math.sqrt(rays / (full_w * full_h)), 0.25)
        coarse = (max(int(full_w * scale), 8), max(int(full_h * scale), 8), 2e-2)
        out = [coarse]
        for f in (0.25, 0.5, 1.0):
            w, h = max(int(full_w * f), 8), max(int(full_h * f), 8)
            if w * h > out[-1][0] * out[-1][1]:
                out.append((w, h, 1e-3))
        return out

    def _progressive(self, req: ViewRequest, serial: int) -> None:
        first_s = None
        passes = self._sizes(req)
        for k, (w, h, min_t) in enumerate(passes):
            t0 = time.perf_counter()
            rgb = self._render(req, w, h, min_t, serial)
            dt = time.perf_counter() - t0
            if k == 0:  # the cost per ray of a coarse pass sizes the next coarse pass
                self._s_per_ray = 0.5 * self._s_per_ray + 0.5 * dt / (w * h)
            if self._stale(serial):
                raise _Stale
            final = k == len(passes) - 1
            self.show((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8), final)
            now = time.perf_counter() - req.t
            if first_s is None:
                first_s = now
                self.timings.append(RenderTiming(first_s, None, (w, h), passes[-1][:2]))
            if final:
                self.timings[-1].refined_s = now

    def _render(self, req: ViewRequest, w: int, h: int, min_t: float, serial: int) -> np.ndarray:
        """rgb (h, w, 3) float in [0, 1] of the request at w x h, chunk by chunk (stops when stale)."""
        run = self.run
        f = float(focal_from_fov(float(req.fov), h))
        cams = Cameras(c2w=torch.as_tensor(req.c2w[None, :3, :4], dtype=torch.float32), fx=f, fy=f,
                       cx=w / 2.0, cy=h / 2.0, width=w, height=h)
        cams = run.transform.cameras_to_field(cams).to(run.device)
        origins, dirs = cams.camera_rays(0)
        bg = run.background.to(run.device)
        out = []
        for s in range(0, origins.shape[0], self.chunk):
            if self._stale(serial):
                raise _Stale
            with self.lock, torch.no_grad():
                o = run.renderer.render_rays(origins[s:s + self.chunk], dirs[s:s + self.chunk], bg,
                                             chunk=self.chunk, min_transmittance=min_t)
            out.append(o["rgb"].cpu())
        return torch.cat(out).reshape(h, w, 3).numpy()
