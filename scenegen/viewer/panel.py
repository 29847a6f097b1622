"""The viewer's GUI panel: viser controls bound to the :class:`~scenegen.viewer.editor.PathEditor`.

Every control is created on the server's shared GUI, so all pages show the same values; a change made in one
page is applied to the editor and shown everywhere. The panel holds no path logic: each callback calls one
editor method (or a planner of :mod:`scenegen.pipelines.paths`, or a :class:`~scenegen.viewer.render_job.RenderJob`)
and shows its one-line error, if any, in the status line.
"""

from __future__ import annotations

import copy
import html
import threading
import time
from typing import Any, Optional

import numpy as np

from scenegen.core.errors import ScenegenError
from scenegen.paths import CAMERA_TYPES
from scenegen.pipelines.paths import auto_tour, framing_from_run, orbit_tour, volume_from_run
from scenegen.viewer.camera import client_c2w, cv_wxyz, gl_c2w
from scenegen.viewer.editor import PathEditor, parse_pose, pose_text
from scenegen.viewer.render_job import RenderJob

__all__ = ["Panel"]

def _rotation_about(up: np.ndarray, degrees: float) -> np.ndarray:
    """(3, 3) rotation by ``degrees`` about the unit axis ``up`` (Rodrigues)."""
    k = np.asarray(up, dtype=np.float64) / np.linalg.norm(up)
    a = np.radians(degrees)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * kx @ kx


class Panel:
    """The GUI of one :class:`~scenegen.viewer.app.Viewer` (``viewer``: its server, run, editor and pages)."""

    def __init__(self, viewer: Any):
        self.v = viewer
        self.ed: PathEditor = viewer.editor
        self.gui = viewer.server.gui
        self._local = threading.local()  # set while THIS thread copies the editor into the controls
        self._sync_lock = threading.RLock()
        self._gizmo = None
        self._gizmo_busy = False
        self.job: Optional[RenderJob] = None
        self.volume = None
        self._framing_version = -1
        self._framing_wakeup = threading.Event()
        self._build()
        self.ed.on_change(self._changed)
        self.sync()
        self.status(viewer.startup_message)
        self._framing_wakeup.set()  # the path opened at start
        threading.Thread(target=self._framing_loop, name="scenegen-framing", daemon=True).start()

    @property
    def _syncing(self) -> bool:
        """True in the thread that is copying the editor into the controls: the callbacks its own assignments
        trigger are not user edits. A page's edit arriving meanwhile (another thread) is applied."""
        return getattr(self._local, "on", False)

    # -- building --------------------------------------------------------------------------------------------

    def _build(self) -> None:
        g, spec = self.gui, self.ed.spec
        self.status_md = g.add_markdown("")
        with g.add_folder("View"):
            self.goto_text = g.add_text("Go to pose", "", hint="x y z qw qx qy qz (path file's camera-to-world) "
                                        "or x y z look_x look_y look_z")
            self.goto_btn = g.add_button("Go to pose")
            self.view_md = g.add_markdown("")
        with g.add_folder("Keyframes"):
            self.add_btn = g.add_button("Add keyframe from view")
            self.selected = g.add_dropdown("Selected", ("none",))
            self.pose_text = g.add_text("Pose", "", hint="the selected keyframe: x y z qw qx qy qz; edit to move it")
            self.kf_fov = g.add_number("FOV (deg)", 50.0, min=1.0, max=170.0, step=0.5)
            self.kf_hold = g.add_number("Hold (s)", 0.0, min=0.0, max=3600.0, step=0.1)
            self.kf_transition = g.add_number("Transition (s)", 0.0, min=0.0, max=3600.0, step=0.1,
                                              hint="seconds to the next keyframe; 0: the path's default")
            self.set_view_btn = g.add_button("Set to view")
            self.goto_kf_btn = g.add_button("Go to keyframe")
            self.insert_btn = g.add_button("Insert after")
            self.earlier_btn = g.add_button("Move earlier")
            self.later_btn = g.add_button("Move later")
            self.delete_btn = g.add_button("Delete")
            self.undo_btn = g.add_button("Undo")
            self.redo_btn = g.add_button("Redo")
            self.list_md = g.add_markdown("")
        with g.add_folder("Path"):
            self.smoothness = g.add_slider("Smoothness", 0.0, 1.0, 0.01, float(spec.smoothness))
            self.loop = g.add_checkbox("Loop", bool(spec.loop))
            self.constant_speed = g.add_checkbox("Constant speed", bool(spec.constant_speed))
            self.ease = g.add_checkbox("Ease in/out", bool(spec.ease))
            self.camera_type = g.add_dropdown("Camera type", tuple(CAMERA_TYPES), initial_value=spec.camera_type)
            self.default_fov = g.add_slider("Default FOV", 5.0, 150.0, 0.5, float(spec.default_fov))
            self.default_transition = g.add_number("Default transition (s)", float(spec.default_transition),
                                                   min=0.05, max=3600.0, step=0.1)
            self.width = g.add_number("Width", int(spec.width), min=16, max=16384, step=2)
            self.height = g.add_number("Height", int(spec.height), min=16, max=16384, step=2)
            self.fps = g.add_number("FPS", float(spec.fps), min=1.0, max=240.0, step=1.0)
            self.offset = g.add_vector3("Move path by", (0.0, 0.0, 0.0), step=0.05)
            self.turn = g.add_number("Turn path (deg about up)", 0.0, min=-360.0, max=360.0, step=5.0)
            self.move_path_btn = g.add_button("Move whole path")
            self.auto_btn = g.add_button("Auto walk-through")
            self.orbit_btn = g.add_button("Orbit")
        with g.add_folder("Timeline"):
            self.time = g.add_slider("Time (s)", 0.0, 1.0, 0.01, 0.0)
            self.play_btn = g.add_button("Play / pause")
            self.timeline_html = g.add_html("")
            self.framing_md = g.add_markdown("")
        with g.add_folder("File"):
            self.file_text = g.add_text("Path file", str(self.v.save_target))
            self.load_btn = g.add_button("Load")
            self.save_btn = g.add_button("Save")
        with g.add_folder("Render"):
            self.video_name = g.add_text("Video name", "tour.mp4")
            self.render_btn = g.add_button("Render video")
            self.progress = g.add_progress_bar(0.0, visible=False)
            self.render_md = g.add_markdown("")
            self.video_html = g.add_html("")
        self._bind()

    def _bind(self) -> None:
        ed = self.ed
        self._button(self.add_btn, lambda e: ed.add_keyframe(self._view_c2w(e)))
        self._button(self.goto_btn, lambda e: self._goto(e, parse_pose(self.goto_text.value, self.v.up), None))
        self._button(self.set_view_btn, lambda e: ed.set_pose(None, self._view_c2w(e)))
        self._button(self.goto_kf_btn, lambda e: self._goto(e, ed.keyframes[ed._index(None)].c2w(),
                                                            ed.keyframes[ed._index(None)].fov))
        self._button(self.insert_btn, lambda e: ed.insert_between())
        self._button(self.earlier_btn, lambda e: ed.reorder(ed._index(None), ed._index(None) - 1))
        self._button(self.later_btn, lambda e: ed.reorder(ed._index(None), ed._index(None) + 1))
        self._button(self.delete_btn, lambda e: ed.delete())
        self._button(self.undo_btn, lambda e: ed.undo())
        self._button(self.redo_btn, lambda e: ed.redo())
        self._button(self.move_path_btn, self._move_path)
        self._button(self.auto_btn, lambda e: self._plan("auto walk-through"))
        self._button(self.orbit_btn, lambda e: self._plan("orbit"))
        self._button(self.load_btn, self._load)
        self._button(self.save_btn, self._save)
        self._button(self.render_btn, self._render)
        self._button(self.play_btn, self._play)
        self._field(self.selected, lambda: ed.select(None if self.selected.value == "none"
                                                     else int(self.selected.value) - 1))
        self._field(self.pose_text, lambda: ed.set_pose(None, parse_pose(self.pose_text.value, self.v.up)))
        self._field(self.kf_fov, lambda: ed.set_keyframe(fov=self.kf_fov.value))
        self._field(self.kf_hold, lambda: ed.set_keyframe(hold=self.kf_hold.value))
        self._field(self.kf_transition, lambda: ed.set_keyframe(
            transition=self.kf_transition.value if self.kf_transition.value > 0 else None))
        for handle, name in ((self.smoothness, "smoothness"), (self.loop, "loop"),
                             (self.constant_speed, "constant_speed"), (self.ease, "ease"),
                             (self.camera_type, "camera_type"), (self.default_fov, "default_fov"),
                             (self.default_transition, "default_transition"), (self.width, "width"),
                             (self.height, "height"), (self.fps, "fps")):
            self._field(handle, functools_partial_setting(ed, handle, name))

        @self.time.on_update
        def _(event) -> None:
            if self._syncing or not ed.keyframes:
                return
            c2w, fov = ed.pose_at(self.time.value)
            clients = [event.client] if event.client is not None else list(self.v.server.get_clients().values())
            for c in clients:
                self.v.set_camera(c, c2w, fov)

    def _button(self, handle, fn) -> None:
        @handle.on_click
        def _(event) -> None:
            self._guarded(lambda: fn(event))

    def _field(self, handle, fn) -> None:
        @handle.on_update
        def _(event) -> None:
            if self._syncing:
                return
            self._guarded(fn)

    def _guarded(self, fn) -> None:
        """Run a GUI action; a user error becomes the status line (and the GUI shows the editor again)."""
        try:
            fn()
        except ScenegenError as e:
            self.status(f"error: {e}")
            self.sync()

    def show_view(self, c2w: np.ndarray) -> None:
        """Show the last camera a page moved to, as numbers (``x y z qw qx qy qz``)."""
        self.view_md.content = f"Last view: `{pose_text(c2w)}`"

    def status(self, line: str) -> None:
        line = line.splitlines()[0] if line else ""
        style = "**" if line.startswith("error") else ""
        self.status_md.content = f"{style}{line}{style}" if line else ""

    # -- actions ---------------------------------------------------------------------------------------------

    def _client(self, event):
        if event is not None and event.client is not None:
            return event.client
        clients = list(self.v.server.get_clients().values())
        if not clients:
            raise ScenegenError("no page is connected")
        return clients[0]

    def _view_c2w(self, event) -> np.ndarray:
        return client_c2w(self._client(event).camera)

    def _goto(self, event, c2w: np.ndarray, fov: Optional[float]) -> None:
        self.v.set_camera(self._client(event), c2w, fov)

    def _move_path(self, event) -> None:
        m = np.eye(4)
        m[:3, :3] = _rotation_about(self.v.up, float(self.turn.value))
        c2w, _, _ = self.ed.sampled()
        centre = c2w[:, :3, 3].mean(0) if len(c2w) else np.zeros(3)
        m[:3, 3] = centre - m[:3, :3] @ centre + np.asarray(self.offset.value, dtype=np.float64)
        self.ed.transform_all(m)

    def _plan(self, which: str) -> None:
        spec = self.ed.spec
        self.status(f"planning the {which}...")

        def work() -> None:
            try:
                with self.v.field_lock:
                    if which == "orbit":
                        new = orbit_tour(self.v.run, fps=spec.fps, width=spec.width, height=spec.height,
                                         up=self.v.up)
                    else:
                        new = auto_tour(self.v.run, fps=spec.fps, width=spec.width, height=spec.height,
                                        device=str(self.v.run.device))
                self.ed.replace(new, which)
                self.status(f"{which}: {len(new.keyframes)} keyframes, {new.duration:.1f} s")
            except ScenegenError as e:
                self.status(f"error: {e}")

        threading.Thread(target=work, name="scenegen-plan", daemon=True).start()

    def _load(self, event) -> None:
        f = self.file_text.value.strip()
        self.ed.load(f)
        self.status(f"loaded {f}: {len(self.ed.keyframes)} keyframes")

    def _save(self, event) -> None:
        f = self.file_text.value.strip()
        out = self.ed.save(f)
        self.status(f"saved {out} ({len(self.ed.keyframes)} keyframes, {self.ed.spec.duration:.1f} s)")

    def _render(self, event) -> None:
        if self.job is not None and self.job.running:
            raise ScenegenError("a render is running: wait for it to finish")
        if not self.ed.keyframes:
            raise ScenegenError("the path has no keyframes yet")
        name = self.video_name.value.strip() or "tour.mp4"
        if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".mp4"):
            raise ScenegenError("Video name: a file name ending in .mp4 (it goes to RUN/viewer/renders/)")
        self.job = RenderJob(self.v.run, copy.deepcopy(self.ed.spec), self.v.renders_dir / name, self.v.field_lock)
        self.progress.visible = True
        self.progress.value = 0.0
        self.video_html.content = ""
        threading.Thread(target=self._watch_render, args=(self.job,), daemon=True).start()

    def _watch_render(self, job: RenderJob) -> None:
        while job.running:
            done, total = job.progress()
            self.progress.value = 100.0 * done / max(total, 1)
            self.render_md.content = f"rendering frame {done} of {total}..."
            time.sleep(0.5)
        st = job.state
        self.progress.value = 100.0 if st.status == "done" else self.progress.value
        if st.status == "done":
            self.render_md.content = f"{st.message} in {st.seconds:.0f} s -> `{st.video}`"
            src = f"{self.v.files_url}/{st.video.name}?v={int(time.time())}"
            self.video_html.content = (f'<video controls style="width:100%" src="{html.escape(src)}"></video>'
                                       f'<a href="{html.escape(src)}" download>download</a>')
        else:
            self.render_md.content = f"**{st.message}**"

    def _play(self, event) -> None:
        if getattr(self, "_playing", False):
            self._playing = False
            return
        self._playing = True

        def run() -> None:
            t0, start = time.perf_counter(), float(self.time.value)
            while self._playing and self.ed.keyframes:
                t = start + time.perf_counter() - t0
                if t > self.ed.spec.duration:
                    break
                self.time.value = round(t, 2)
                time.sleep(1.0 / 10)
            self._playing = False

        threading.Thread(target=run, daemon=True).start()

    # -- editor -> GUI ---------------------------------------------------------------------------------------

    def _changed(self, what: str) -> None:
        self.sync(gizmo=what != "move keyframe" or not self._gizmo_busy)
        self._framing_wakeup.set()

    def sync(self, gizmo: bool = True) -> None:
        """Show the editor's state in every control and redraw the path."""
        with self._sync_lock:
            self._local.on = True
            try:
                self._sync(self.ed, self.ed.spec, gizmo)
            finally:
                self._local.on = False

    def _sync(self, ed: PathEditor, spec, gizmo: bool) -> None:
        with self.v.server.atomic():
            n = len(spec.keyframes)
            self.selected.options = ("none",) + tuple(str(i + 1) for i in range(n))
            self.selected.value = "none" if ed.selected is None else str(ed.selected + 1)
            if ed.selected is not None:
                kf = spec.keyframes[ed.selected]
                self.pose_text.value = pose_text(kf.c2w())
                self.kf_fov.value = float(kf.fov)
                self.kf_hold.value = float(kf.hold)
                self.kf_transition.value = float(kf.transition or 0.0)
            for handle, name in ((self.smoothness, "smoothness"), (self.loop, "loop"),
                                 (self.constant_speed, "constant_speed"), (self.ease, "ease"),
                                 (self.camera_type, "camera_type"), (self.default_fov, "default_fov"),
                                 (self.default_transition, "default_transition"), (self.width, "width"),
                                 (self.height, "height"), (self.fps, "fps")):
                handle.value = getattr(spec, name)
            duration = max(float(spec.duration), 0.01)
            self.time.max = duration
            if self.time.value > duration:
                self.time.value = duration
            times = ed.keyframe_times()
            self.time.marks = tuple((round(float(t), 2), str(i + 1)) for i, t in enumerate(times)) or None
            self.undo_btn.disabled = not ed.can_undo
            self.redo_btn.disabled = not ed.can_redo
            rows = [f"{i + 1}. t={t:.1f} s at ({k.position[0]:.2f}, {k.position[1]:.2f}, {k.position[2]:.2f})"
                    f"{' **<**' if i == ed.selected else ''}" for i, (k, t) in enumerate(zip(spec.keyframes, times))]
            self.list_md.content = (f"{n} keyframes, {spec.duration:.1f} s, {spec.num_frames} frames\n\n"
                                    + "\n".join(rows[:60]))
            if ed.autosave_error:
                self.status(ed.autosave_error)
            self.v.draw_path()
            if gizmo:
                self.place_gizmo()

    def place_gizmo(self) -> None:
        """The transform gizmo on the selected keyframe (moved, not re-created, while it is being dragged)."""
        ed, scene = self.ed, self.v.server.scene
        if ed.selected is None:
            if self._gizmo is not None:
                self._gizmo.remove()
                self._gizmo = None
            return
        m = ed.keyframes[ed.selected].c2w()
        wxyz = cv_wxyz(m)
        if self._gizmo is None:
            self._gizmo = scene.add_transform_controls("/gizmo", scale=0.3 * self.v._scale(), wxyz=wxyz,
                                                       position=m[:3, 3])

            @self._gizmo.on_update
            def _(handle) -> None:
                if self._syncing or ed.selected is None:
                    return
                c2w = gl_c2w(handle.wxyz, handle.position)
                self._gizmo_busy = True
                try:
                    self._guarded(lambda: ed.set_pose(None, c2w))
                finally:
                    self._gizmo_busy = False
        elif not self._gizmo_busy:
            self._gizmo.wxyz, self._gizmo.position = wxyz, m[:3, 3]

    # -- framing warnings on the timeline -------------------------------------------------------------------

    def _framing_loop(self) -> None:
        """Recompute the framing warnings (as ``scenegen path validate --run``) a moment after each change."""
        while True:
            self._framing_wakeup.wait()
            time.sleep(0.5)  # let a burst of edits settle
            self._framing_wakeup.clear()
            spec, version = copy.deepcopy(self.ed.spec), self.ed.version
            if version == self._framing_version:
                continue
            self._framing_version = version
            try:
                self._show_framing(spec)
            except ScenegenError as e:
                self.framing_md.content = f"framing check: {e}"
            except Exception as e:  # noqa: BLE001 - the check is advice; editing goes on
                self.framing_md.content = f"framing check failed ({type(e).__name__})"

    def _show_framing(self, spec) -> None:
        if len(spec.keyframes) < 2:
            self.timeline_html.content = ""
            self.framing_md.content = ""
            return
        if self.volume is None:
            self.framing_md.content = "checking framing..."
            with self.v.field_lock:
                self.volume = volume_from_run(self.v.run, max_cells=128)
        warnings = framing_from_run(spec, self.volume, self.v.run_dir)
        n = max(int(spec.num_frames), 1)
        bars = []
        for w in warnings:
            if not w.frames:
                continue
            a, b = min(w.frames), max(w.frames) + 1
            bars.append(f'<div title="{html.escape(w.message)}" style="position:absolute;left:{100 * a / n:.2f}%;'
                        f'width:{max(100 * (b - a) / n, 0.5):.2f}%;top:0;height:100%;background:#d33"></div>')
        for t in self.ed.keyframe_times():
            bars.append(f'<div style="position:absolute;left:{100 * t / max(spec.duration, 1e-9):.2f}%;top:0;'
                        f'width:2px;height:100%;background:#285"></div>')
        self.timeline_html.content = ('<div style="position:relative;height:12px;background:#ddd;'
                                      'border-radius:3px;margin:2px 0">' + "".join(bars) + "</div>")
        self.framing_md.content = ("\n".join(f"- {w.message}" for w in warnings[:12]) if warnings
                                   else "framing: no warnings")


def functools_partial_setting(ed: PathEditor, handle, name: str):
    """The callback that copies ``handle``'s value into the path setting ``name``."""
    def fn() -> None:
        value = handle.value
        if name in ("width", "height"):
            value = int(value)
        elif name in ("fps", "smoothness", "default_fov", "default_transition"):
            value = float(value)
        ed.set_settings(**{name: value})
    return fn
