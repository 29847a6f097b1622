"""The viewer's keyframe editor without a browser: PathEditor's edits, undo / redo, constant speed, loading the
nerfstudio exports in tests/fixtures, a corrupt file; and the page's controls (viser handles called from Python)
on a running viewer."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from scenegen.cameras.poses import look_at_c2w
from scenegen.core.errors import InputError
from scenegen.paths import load_path_spec, sample_path
from scenegen.viewer.editor import PathEditor, parse_pose, pose_text

FIX = Path(__file__).parent / "fixtures" / "camera_paths"
UP = np.array([0.0, 0.0, 1.0])


def _pose(eye, target=(0.0, 0.0, 0.0)) -> np.ndarray:
    return look_at_c2w(np.asarray(eye, dtype=np.float64), np.asarray(target, dtype=np.float64), UP)


def _editor(n: int = 3, autosave=None) -> PathEditor:
    ed = PathEditor(autosave=autosave)
    for k in range(n):
        ed.add_keyframe(_pose((3.0 * k, -4.0, 1.5), (3.0 * k, 0.0, 1.0)))
    return ed


def _positions(ed: PathEditor) -> np.ndarray:
    return np.array([k.position for k in ed.keyframes])


def test_add_insert_reorder_delete():
    ed = _editor(3)
    assert len(ed.keyframes) == 3 and ed.selected == 2
    # insert halfway (in time) between keyframes 0 and 1: on the interpolated path, between their positions
    ed.select(0)
    i = ed.insert_between()
    assert i == 1 and ed.selected == 1 and len(ed.keyframes) == 4
    mid = ed.keyframes[1].position
    assert 0.0 < mid[0] < 3.0 and abs(mid[1] + 4.0) < 1e-6
    # the inserted keyframe lies on the path as it was: the path through it passes the same point
    c2w, _, _ = sample_path(ed.spec)
    assert np.min(np.linalg.norm(c2w[:, :3, 3] - mid, axis=1)) < 1e-6
    with pytest.raises(InputError):
        ed.insert_between(3)  # the last keyframe of an open path has no next one
    # reorder: keyframe 3 (x=6) to the front; the others keep their order
    before = _positions(ed)
    ed.reorder(3, 0)
    assert np.allclose(_positions(ed), before[[3, 0, 1, 2]]) and ed.selected == 0
    ed.delete(0)
    assert np.allclose(_positions(ed), before[[0, 1, 2]]) and len(ed.keyframes) == 3


def test_undo_redo_restores_each_step():
    ed = _editor(2)
    states = [_positions(ed).copy()]
    ed.add_keyframe(_pose((9.0, -4.0, 1.5)))
    states.append(_positions(ed).copy())
    for x in (-0.5, -0.8, -1.0):  # a gizmo drag: many moves of one keyframe in a row are one undo step
        ed.set_pose(0, _pose((x, -5.0, 2.0)))
    states.append(_positions(ed).copy())
    ed.set_keyframe(1, hold=1.5, fov=70.0)
    assert ed.keyframes[1].hold == 1.5 and ed.keyframes[1].fov == 70.0
    ed.set_settings(loop=True, smoothness=0.2)
    assert ed.spec.loop and ed.spec.smoothness == 0.2
    assert ed.undo() == "loop, smoothness" and not ed.spec.loop and ed.spec.smoothness == 0.5
    assert ed.undo() is not None and ed.keyframes[1].hold == 0.0 and ed.keyframes[1].fov == 50.0
    assert ed.undo() == "move keyframe" and np.allclose(_positions(ed), states[1])
    assert ed.undo() == "add keyframe" and np.allclose(_positions(ed), states[0])
    assert ed.redo() == "add keyframe" and np.allclose(_positions(ed), states[1])
    assert ed.redo() == "move keyframe" and np.allclose(_positions(ed), states[2])
    ed.delete(0)  # a new edit drops the redo stack
    assert not ed.can_redo and ed.redo() is None
    # a refused edit changes nothing and is not an undo step
    n_undo = len(ed._undo)
    with pytest.raises(InputError):
        ed.set_keyframe(0, hold=-1.0)
    assert ed.keyframes[0].hold == 0.0 and len(ed._undo) == n_undo
    with pytest.raises(InputError):
        ed.set_settings(camera_type="pinhole")
    assert ed.spec.camera_type == "perspective"


def test_constant_speed_and_move_whole_path():
    ed = PathEditor()
    # unevenly spaced keyframes with equal transition times: the speed varies a lot along the path
    for x in (0.0, 0.5, 4.0, 4.5, 10.0):
        ed.add_keyframe(_pose((x, -4.0, 1.5), (x, 0.0, 1.5)))
    sp = ed.speeds()
    assert sp.max() / max(np.median(sp), 1e-9) > 2.0
    duration = ed.spec.duration
    ed.set_settings(constant_speed=True)
    sp = ed.speeds()
    inner = sp[2:-2]  # away from the ends
    assert inner.std() / inner.mean() < 0.02, (inner.min(), inner.max())
    assert abs(ed.spec.duration - duration) < 1e-9
    # the camera still reaches every keyframe, and the last one exactly at the end of the path
    c2w, _ = ed.pose_at(ed.spec.duration)
    assert np.allclose(c2w[:3, 3], ed.keyframes[-1].position, atol=1e-6)
    # move the whole path: every keyframe by the same rigid transform
    before = [k.c2w() for k in ed.keyframes]
    m = np.eye(4)
    m[:3, :3] = _pose((0, -1, 0))[:3, :3] @ _pose((1, 0, 0))[:3, :3].T
    m[:3, 3] = (1.0, 2.0, 0.5)
    ed.transform_all(m)
    for k, b in zip(ed.keyframes, before):
        assert np.allclose(k.c2w(), m @ b, atol=1e-9)
    ed.undo()
    for k, b in zip(ed.keyframes, before):
        assert np.allclose(k.c2w(), b, atol=1e-9)


@pytest.mark.parametrize("name", ["viewer-v1-export-16kf.json", "viewer-export-7kf.json"])
def test_load_nerfstudio_exports(name, tmp_path):
    ed = _editor(1)
    ed.load(FIX / name)
    raw = json.loads((FIX / name).read_text())
    assert len(ed.keyframes) == len(raw["keyframes"]) > 1
    # the keyframes are where the export's rendered frames are at their keyframe times (same interpolation)
    c2w, _, _ = sample_path(ed.spec)
    frames = np.array([np.asarray(f["camera_to_world"], dtype=np.float64).reshape(4, 4)
                       for f in raw["camera_path"]])
    assert abs(len(c2w) - len(frames)) <= 1
    assert np.abs(c2w[0, :3, 3] - frames[0, :3, 3]).max() < 1e-3
    # saving writes what `scenegen path` writes; it loads back to the same keyframes
    out = ed.save(tmp_path / "again.json")
    back = load_path_spec(out)
    for a, b in zip(back.keyframes, ed.keyframes):
        assert np.allclose(a.c2w(), b.c2w(), atol=1e-9) and a.fov == pytest.approx(b.fov)
    assert ed.undo() == "load " + name and len(ed.keyframes) == 1


def test_corrupt_or_missing_file_keeps_the_path(tmp_path):
    ed = _editor(3, autosave=tmp_path / "viewer" / "autosave.json")
    before = _positions(ed).copy()
    bad = tmp_path / "bad.json"
    bad.write_text('{"keyframes": [{"matrix": "[1, 2"}], "fps": 30')
    for f in (bad, tmp_path / "missing.json"):
        with pytest.raises(InputError) as e:
            ed.load(f)
        msg = str(e.value)
        assert "\n" not in msg and str(f) in msg
        assert np.allclose(_positions(ed), before)
    # the autosave holds the edits: a new editor (a reopened page / restarted server) restores them
    again = PathEditor(autosave=tmp_path / "viewer" / "autosave.json")
    assert again.restore_autosave() and np.allclose(_positions(again), before)


def test_pose_text_round_trip():
    c2w = _pose((1.0, -2.0, 1.5), (0.2, 0.1, 0.4))
    assert np.allclose(parse_pose(pose_text(c2w)), c2w, atol=1e-5)
    assert np.allclose(parse_pose("1 -2 1.5, 0.2 0.1 0.4"), c2w, atol=1e-9)
    with pytest.raises(InputError):
        parse_pose("1 2 3")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_panel_handles_from_python(tmp_path_factory, tmp_path):
    """The page's controls, driven through viser's handles (no browser): load a fixture, a corrupt file (one line
    in the page, nothing lost), undo, settings, and a render of the path to MP4 in the background."""
    pytest.importorskip("viser")
    from viewer_support import fresh_run

    from scenegen.train.run import load_run
    from scenegen.viewer.app import ViewConfig, Viewer

    run_dir = fresh_run(tmp_path_factory, tmp_path / "run")
    viewer = Viewer(ViewConfig(run=run_dir, port=_free_port(), path=tmp_path / "p.json"),
                    run=load_run(run_dir, "cpu"))
    try:
        panel, ed = viewer.panel, viewer.editor
        panel.file_text.value = str(FIX / "viewer-v1-export-25kf.json")
        panel.load_btn.value = True  # a click
        assert len(ed.keyframes) == 25 and panel.selected.options[-1] == "25"
        bad = tmp_path / "bad.json"
        bad.write_text("{not json")
        panel.file_text.value = str(bad)
        panel.load_btn.value = True
        line = panel.status_md.content
        assert line.startswith("**error:") and str(bad) in line and "\n" not in line
        assert len(ed.keyframes) == 25
        panel.undo_btn.value = True
        assert len(ed.keyframes) == 0
        panel.redo_btn.value = True
        assert len(ed.keyframes) == 25
        panel.constant_speed.value = True
        assert ed.spec.constant_speed
        # a short, small render through the page's Render button
        panel.width.value, panel.height.value, panel.fps.value = 32, 24, 2.0
        ed.replace(ed.spec.__class__(ed.keyframes[:2], width=32, height=24, fps=2.0, default_transition=1.0))
        panel.render_btn.value = True
        job = panel.job
        assert job is not None
        state = job.wait(timeout=300)
        assert state.status == "done", state.message
        assert state.video.stat().st_size > 500
        deadline = time.time() + 5
        while "<video" not in panel.video_html.content and time.time() < deadline:
            time.sleep(0.2)
        assert "<video" in panel.video_html.content and state.video.name in panel.video_html.content
        import threading
        import urllib.request

        from scenegen.paths import cameras_from_spec
        from scenegen.viewer.render_job import _LockedRun

        # the render job's per-chunk locking renders exactly what `scenegen render` renders
        cams = cameras_from_spec(ed.spec).cameras
        a = viewer.run.render(cams, 1)
        b = _LockedRun.wrap(viewer.run, threading.Lock()).render(cams, 1, chunk=100)
        for k in ("rgb", "depth", "accumulation"):
            assert np.abs(a[k].numpy() - b[k].numpy()).max() < 1e-5, k
        # a generated prior's floor plan (40 px per metre, centred on the rooms) lies on the floor
        import dataclasses

        from scenegen.core.io import write_png

        prior = tmp_path / "prior"
        prior.mkdir()
        write_png(prior / "plan.png", np.full((60, 120, 3), 200, np.uint8))
        (prior / "transforms.json").write_text(json.dumps({"metadata": {"aabb": [[0, 0, 0], [2, 1, 2.7]]}}))
        viewer.scene_info = dataclasses.replace(viewer.scene_info, data=str(prior))
        viewer._draw_plan()
        plan = viewer.server.scene.get_handle_by_name("/plan")
        assert plan is not None and np.allclose(plan.position, (1.0, 0.5, 0.01))
        with urllib.request.urlopen(f"{viewer.files_url}/{state.video.name}", timeout=10) as r:
            assert r.read()[4:8] == b"ftyp"  # the page can fetch the MP4 from the local server
    finally:
        viewer.stop()
