"""`scenegen view`: the viser server, the trained scene live in every page, and the 3D drawings of the path.

* Every connected page gets a :class:`~scenegen.viewer.live.LiveView` that renders the run from the page's camera
  (coarse at once, sharper while still) as the page's background image.
* The GUI panel (:mod:`scenegen.viewer.panel`) and the 3D drawings live in viser's shared server state, so every
  page shows the same path and an edit in one page shows in the others.
* Drawn in 3D: the training cameras as frustums, a generated prior's floor plan (``DATA/plan.png``) on the
  ground, the interpolated path coloured by speed (blue slow, red fast), the keyframes as frustums and a
  transform gizmo on the selected keyframe.
* Rendered videos are served to the page by a small local HTTP server (127.0.0.1 by default), so nothing is
  fetched from the internet: viser serves its client from the installed package.

viser's camera is OpenCV-style (looks down +Z, +Y down); the path's is OpenGL: ``c2w_gl = c2w_cv @ diag(1, -1,
-1, 1)``.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np

from scenegen.core import validate as v
from scenegen.core.errors import InputError, MissingDependencyError
from scenegen.data.run_scene import RunScene
from scenegen.paths import load_path_spec
from scenegen.train.run import LoadedRun, load_run
from scenegen.viewer.camera import GL_FROM_CV, client_c2w, cv_wxyz
from scenegen.viewer.editor import PathEditor
from scenegen.viewer.live import LiveView, ViewRequest
from scenegen.viewer.panel import Panel

__all__ = ["GL_FROM_CV", "ViewConfig", "Viewer", "client_c2w", "cv_wxyz", "serve"]

@dataclass
class ViewConfig:
    """Open the web trajectory editor on a trained run: the scene live from your view, keyframes, timeline,
    load / save of camera_path.json, and rendering to MP4."""

    run: Path
    """Run folder written by `scenegen train`."""
    port: int = 8080
    """Port of the page (http://HOST:PORT)."""
    host: str = "127.0.0.1"
    """Address to listen on (0.0.0.0: every network interface)."""
    path: Optional[Path] = None
    """Camera path JSON to open (and the page's default save target); default: RUN/viewer/camera_path.json.
    Without it the last autosave (RUN/viewer/autosave.json) is restored."""
    max_width: int = 1280
    """Width in pixels of the sharpest live image (the page's size when smaller)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    """Torch device for the field."""
    stats: Optional[Path] = None
    """Append each live render's timings (camera received -> first image, -> sharpest image) as JSON lines to this
    file (benchmarks)."""

    def validate(self) -> "ViewConfig":
        """Refuse bad flags with one line naming the flag, before any work; returns self."""
        v.flag_number(self.port, "--port", lo=1, hi=65535, whole=True)
        v.flag_number(self.max_width, "--max-width", lo=16, hi=8192, whole=True)
        if not self.host.strip():
            raise InputError("empty address", field="--host")
        if not Path(self.run).is_dir():
            raise InputError("run folder not found", file=self.run, field="--run")
        if self.path is not None:
            p = Path(self.path)
            if p.is_dir():
                raise InputError("is a folder, expected a camera path JSON file", file=p, field="--path")
        return self


def _import_viser():
    try:
        import viser  # noqa: PLC0415 - optional dependency, imported when the viewer starts
    except ImportError:
        raise MissingDependencyError("`scenegen view` needs viser: pip install 'scenegen[viewer]'") from None
    return viser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class Viewer:
    """The running viewer: a viser server on ``cfg.host:cfg.port`` bound to a :class:`PathEditor`.

    Args:
        cfg: the command's options.
        run: ``cfg.run`` already loaded (else loaded here).
    """

    def __init__(self, cfg: ViewConfig, run: Optional[LoadedRun] = None):
        cfg.validate()
        viser = _import_viser()
        self.cfg = cfg
        self.run = run if run is not None else load_run(cfg.run, cfg.device)
        self.run_dir = Path(cfg.run)
        self.out_dir = self.run_dir / "viewer"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.renders_dir = self.out_dir / "renders"
        self.renders_dir.mkdir(parents=True, exist_ok=True)
        self.field_lock = threading.Lock()
        try:
            self.scene_info: Optional[RunScene] = RunScene.read(self.run_dir)
        except Exception:  # an older run without scene.json: no training cameras, +Z up
            self.scene_info = None
        self.up = np.asarray(self.scene_info.up if self.scene_info is not None else (0.0, 0.0, 1.0), dtype=np.float64)
        self.editor = PathEditor(autosave=self.out_dir / "autosave.json")
        self.save_target = Path(cfg.path) if cfg.path is not None else self.out_dir / "camera_path.json"
        self.startup_message = self._initial_path()
        self.views: dict[int, LiveView] = {}
        self._stats_lock = threading.Lock()
        # videos for the page, served from the renders folder only
        handler = functools.partial(_QuietHandler, directory=str(self.renders_dir))
        self.files = http.server.ThreadingHTTPServer((cfg.host, 0), handler)
        threading.Thread(target=self.files.serve_forever, name="scenegen-files", daemon=True).start()
        self.server = viser.ViserServer(host=cfg.host, port=int(cfg.port), label="scenegen view", verbose=False)
        self.server.scene.set_up_direction(tuple(float(x) for x in self.up))
        self._draw_static()
        self.panel = Panel(self)
        self.server.on_client_connect(self._connect)
        self.server.on_client_disconnect(self._disconnect)

    # -- start-up --------------------------------------------------------------------------------------------

    def _initial_path(self) -> str:
        """Open ``--path`` (when it exists) or restore the autosave; returns a line for the page."""
        p = self.cfg.path
        if p is not None and Path(p).is_file():
            try:
                self.editor.replace(load_path_spec(p, allow_empty=True), f"load {Path(p).name}")
                return f"opened {p}"
            except InputError as e:
                restored = self.editor.restore_autosave()
                return f"error: {e}" + (" (autosave restored)" if restored else "")
        if self.editor.restore_autosave():
            return f"restored the autosave ({len(self.editor.keyframes)} keyframes)"
        return self.editor.autosave_error or "new path: add keyframes from your view"

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.server.get_port()}"

    @property
    def files_url(self) -> str:
        host, port = self.files.server_address[:2]
        return f"http://{self.cfg.host}:{port}"

    def stop(self) -> None:
        for view in list(self.views.values()):
            view.close()
        self.server.stop()
        self.files.shutdown()

    # -- pages -----------------------------------------------------------------------------------------------

    def _connect(self, client) -> None:
        def show(rgb: np.ndarray, final: bool) -> None:
            client.scene.set_background_image(rgb, format="jpeg", jpeg_quality=90 if final else 75)

        view = LiveView(self.run, show, self.field_lock, max_width=self.cfg.max_width)
        self.views[client.client_id] = view
        client.camera.fov = float(np.radians(self.editor.spec.default_fov))

        @client.camera.on_update
        def _(camera) -> None:
            self.request_view(client)

        if self._camera_ready(client):
            self.request_view(client)

    def _disconnect(self, client) -> None:
        view = self.views.pop(client.client_id, None)
        if view is not None:
            self._write_stats(view)
            view.close()

    @staticmethod
    def _camera_ready(client) -> bool:
        try:
            return client.camera.update_timestamp != 0.0
        except Exception:  # noqa: BLE001 - a page that has not sent its camera yet
            return False

    def request_view(self, client) -> None:
        """Render the page's current camera (coarse first)."""
        view = self.views.get(client.client_id)
        if view is None or not self._camera_ready(client):
            return
        cam = client.camera
        w = int(getattr(cam, "image_width", 0) or 0) or 1280
        h = int(getattr(cam, "image_height", 0) or 0) or int(round(w / max(float(cam.aspect), 1e-3)))
        c2w = client_c2w(cam)
        view.request(ViewRequest(c2w, float(np.degrees(cam.fov)), w, h))
        self.panel.show_view(c2w)
        if self.cfg.stats is not None and len(view.timings) >= 1:
            self._write_stats(view)

    def _write_stats(self, view: LiveView) -> None:
        if self.cfg.stats is None:
            return
        with self._stats_lock:
            done = [t for t in view.timings if t.refined_s is not None or t is not view.timings[-1]]
            if not done:
                return
            with open(self.cfg.stats, "a", encoding="utf-8") as f:
                for t in done:
                    f.write(json.dumps({"first_s": t.first_s, "refined_s": t.refined_s, "first_size": t.first_size,
                                        "full_size": t.full_size}) + "\n")
            view.timings[:] = [t for t in view.timings if t not in done]

    def set_camera(self, client, c2w: np.ndarray, fov: Optional[float] = None) -> None:
        """Move a page's camera to OpenGL camera-to-world ``c2w`` (and vertical fov in degrees)."""
        c2w = np.asarray(c2w, dtype=np.float64)
        with client.atomic():
            if fov is not None:
                client.camera.fov = float(np.radians(fov))
            client.camera.position = c2w[:3, 3]
            client.camera.wxyz = cv_wxyz(c2w)
        self.request_view(client)

    # -- drawings --------------------------------------------------------------------------------------------

    def _scale(self) -> float:
        """A drawing scale (world units) from the training cameras' spread."""
        if self.scene_info is not None and len(self.scene_info.train_c2w):
            pos = self.scene_info.train_c2w[:, :3, 3]
            return float(max(np.linalg.norm(pos - pos.mean(0), axis=1).mean(), 1e-3))
        return 1.0

    def _draw_static(self) -> None:
        scene = self.server.scene
        s = self._scale()
        if self.scene_info is not None:
            for i, m in enumerate(self.scene_info.train_c2w[:400]):
                m4 = np.eye(4)
                m4[:3, :4] = m[:3, :4]
                scene.add_camera_frustum(f"/training/{i:04d}", fov=np.radians(50.0), aspect=4 / 3, scale=0.06 * s,
                                         thickness=0.004 * s, color=(120, 120, 120), wxyz=cv_wxyz(m4),
                                         position=m4[:3, 3])
        self._draw_plan()

    def _draw_plan(self) -> None:
        """A generated prior's floor plan (DATA/plan.png, 40 px per metre, the mesh bounds plus 0.5 m) on the
        floor; placed from the dataset's room bounds (``transforms.json`` metadata)."""
        if self.scene_info is None:
            return
        data = Path(self.scene_info.data)
        plan, meta = data / "plan.png", data / "transforms.json"
        if not (plan.is_file() and meta.is_file()):
            return
        try:
            aabb = np.asarray(json.loads(meta.read_text())["metadata"]["aabb"], dtype=np.float64).reshape(2, 3)
            from PIL import Image  # noqa: PLC0415 - only for generated priors

            img = np.asarray(Image.open(plan).convert("RGB"))
        except Exception:  # noqa: BLE001 - no plan drawn; the viewer works without it
            return
        h, w = img.shape[:2]
        centre = 0.5 * (aabb[0] + aabb[1])
        # the image's +x is world +x and its top is world +y (plan_picture), lying flat: no rotation needed
        self.server.scene.add_image("/plan", img, render_width=w / 40.0, render_height=h / 40.0, format="png",
                                    position=(centre[0], centre[1], aabb[0, 2] + 0.01))

    def draw_path(self) -> None:
        """The interpolated path (coloured by speed) and the keyframes (the selected one larger, in orange)."""
        scene = self.server.scene
        ed = self.editor
        s = self._scale()
        c2w, _, _ = ed.sampled()
        speeds = ed.speeds()
        if len(c2w) >= 2:
            pts = c2w[:, :3, 3]
            seg = np.stack([pts[:-1], pts[1:]], axis=1)
            hi = max(float(speeds.max()), 1e-9)
            t = np.clip(speeds / hi, 0.0, 1.0)[:, None]
            col = (np.array([40, 90, 230]) * (1 - t) + np.array([230, 40, 40]) * t).astype(np.uint8)
            scene.add_line_segments("/path/line", seg.astype(np.float32), np.stack([col, col], axis=1),
                                    thickness=0.01 * s)
        else:
            scene.remove_by_name("/path/line")
        scene.remove_by_name("/path/keyframes")
        for i, kf in enumerate(ed.keyframes):
            sel = i == ed.selected
            m = kf.c2w()
            scene.add_camera_frustum(f"/path/keyframes/{i:03d}", fov=np.radians(kf.fov), aspect=ed.spec.width / ed.spec.height,
                                     scale=(0.16 if sel else 0.1) * s, thickness=0.006 * s,
                                     color=(250, 170, 20) if sel else (30, 150, 60), wxyz=cv_wxyz(m),
                                     position=m[:3, 3])


def serve(cfg: ViewConfig, console=None, ready=None) -> None:
    """Run the viewer until interrupted (Ctrl-C). ``ready(viewer)`` is called once the page is served."""
    viewer = Viewer(cfg)
    if console is not None:
        console.print(f"scenegen view: {viewer.url}  (run {cfg.run}, step {viewer.run.step}; "
                      f"{viewer.startup_message}; Ctrl-C to stop)", highlight=False)
    if ready is not None:
        ready(viewer)
    try:
        while True:
            time.sleep(1.0)
    finally:
        viewer.stop()
