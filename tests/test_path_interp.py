"""Camera-path model (scenegen.paths.model, .spec_io) and its interpolation (scenegen.paths.interpolate).

Checked against the camera_path lists that nerfstudio's viewer wrote next to the keyframes it interpolated
(tests/fixtures/camera_paths, see SOURCE.txt there), plus property tests of what scenegen adds (holds, constant
speed, easing, loops).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenegen.core.errors import InputError
from scenegen.paths import (
    CameraPath,
    Keyframe,
    PathSpec,
    camera_path_from_dict,
    cameras_from_spec,
    focal_from_fov,
    keyframe_times,
    load_path_spec,
    sample_path,
    sample_path_at,
    save_path_spec,
    spec_from_nerfstudio,
    spec_to_nerfstudio,
)
from scenegen.paths.model import matrix_from_quat, quat_from_matrix

# splines 0.3.3 calls np.row_stack (deprecated in numpy 2) for closed quaternion splines
pytestmark = pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")

FIX = Path(__file__).parent / "fixtures" / "camera_paths"
V1 = ["viewer-v1-export-16kf.json", "viewer-v1-export-25kf.json"]
OLD = ["viewer-export-480f.json", "viewer-export-7kf.json", "viewer-export-cycle.json", "viewer-export-dining.json"]
FRAMES_ONLY = "nerfstudio-processed/camera_path.json"


def _load(name: str) -> dict:
    return json.loads((FIX / name).read_text())


def _stored(d: dict) -> np.ndarray:
    """(N, 4, 4) camera_to_world of a file's camera_path, rotation blocks replaced by the nearest rotation."""
    m = np.array([np.reshape(c["camera_to_world"], (4, 4)) for c in d["camera_path"]], dtype=np.float64)
    u, _, vt = np.linalg.svd(m[:, :3, :3])
    m[:, :3, :3] = u @ vt
    return m


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) angle in degrees of the rotation between (N, 3, 3) rotations a and b (robust near 0)."""
    d = np.einsum("nji,njk->nik", a, b)
    axis = np.stack([d[:, 2, 1] - d[:, 1, 2], d[:, 0, 2] - d[:, 2, 0], d[:, 1, 0] - d[:, 0, 1]], -1)
    return np.degrees(np.arctan2(np.linalg.norm(axis, axis=-1), np.trace(d, axis1=1, axis2=2) - 1.0))


def _scene_size(spec: PathSpec) -> float:
    p = np.array([k.position for k in spec.keyframes])
    return float(np.linalg.norm(p.max(0) - p.min(0)))


# ------------------------------------------------------------------------------------- nerfstudio fixtures


@pytest.mark.parametrize("name", V1)
def test_v1_viewer_exports_are_reproduced(name):
    d = _load(name)
    spec = spec_from_nerfstudio(d, FIX / name)
    stored = _stored(d)
    assert spec.num_frames == len(stored) == round(d["fps"] * d["seconds"])
    assert spec.duration == pytest.approx(d["seconds"])
    if name == "viewer-v1-export-25kf.json":
        # This export says smoothness_value 0.0 but was interpolated with tension 0.5: nerfstudio's
        # CameraPath starts with `self.tension = 0.5` while the "Spline tension" slider shows (and the file
        # records) 0.0; the two only sync when the slider is moved. The keyframes are still hit exactly...
        c2w, _, _ = sample_path(spec)
        step = round(spec.default_transition * spec.fps)
        assert np.abs(c2w[::step, :3, 3] - stored[::step, :3, 3]).max() < 1e-12
        assert np.linalg.norm(c2w[:, :3, 3] - stored[:, :3, 3], axis=1).max() > 1e-3 * _scene_size(spec)
        spec.smoothness = 0.5  # ... and with the tension the viewer really used, every frame matches
    c2w, fov, times = sample_path(spec)
    assert c2w.shape == (len(stored), 4, 4) and fov.shape == times.shape == (len(stored),)
    pos_err = np.linalg.norm(c2w[:, :3, 3] - stored[:, :3, 3], axis=1).max()
    rot_err = _angle_deg(c2w[:, :3, :3], stored[:, :3, :3]).max()
    assert pos_err < 1e-9 * _scene_size(spec), pos_err
    assert rot_err < 1e-6, rot_err
    assert np.abs(fov - [c["fov"] for c in d["camera_path"]]).max() < 1e-9
    assert np.allclose(times, np.arange(len(stored)) / d["fps"])


def test_v1_written_like_nerfstudio_writes_it():
    """spec_to_nerfstudio of a read v1 export gives back its keyframes and its camera_path."""
    d = _load(V1[0])
    out = spec_to_nerfstudio(spec_from_nerfstudio(d))
    assert list(out) == list(d)  # same keys, same order (nothing scenegen-specific was set)
    for a, b in zip(out["keyframes"], d["keyframes"]):
        assert set(a) == set(b)
        assert np.abs(np.subtract(a["matrix"], b["matrix"])).max() < 1e-12
        for key in ("fov", "aspect", "override_transition_enabled", "override_transition_sec"):
            assert a[key] == b[key]
    got = np.array([c["camera_to_world"] for c in out["camera_path"]])
    want = np.array([c["camera_to_world"] for c in d["camera_path"]])
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-9
    for key in ("default_fov", "default_transition_sec", "camera_type", "render_height", "render_width", "fps",
                "seconds", "is_cycle", "smoothness_value"):
        assert out[key] == d[key], key


@pytest.mark.parametrize("name", OLD)
def test_older_viewer_exports(name):
    """Files of the older (three.js) viewer: what its export and ours have in common.

    That viewer (viewer/app/.../CameraPanel: get_camera_path + curve.js) interpolated positions, look-at and up
    vectors with THREE.CatmullRomCurve3 (end points extrapolated, not "natural"), orthonormalised them, and
    sampled the curve uniformly in its parameter: getPoints(fps * seconds), keeping the first fps * seconds.
    scenegen reads such a file as evenly timed keyframes (transition = seconds / segments) and interpolates them
    as the v1 viewer does, so the frame count, the keyframe poses and the frames at keyframe times agree, and
    the positions of interior segments agree exactly when the three.js tension maps into [0, 1]; orientation
    in between (quaternion spline vs. interpolated look-at/up) and the end segments do not.
    """
    d = _load(name)
    spec = spec_from_nerfstudio(d, FIX / name)
    stored = _stored(d)
    size = _scene_size(spec)
    c2w, fov, _ = sample_path(spec)
    k = len(spec.keyframes)
    assert len(c2w) == len(stored) == d["fps"] * d["seconds"]
    assert np.allclose(fov, [c["fov"] for c in d["camera_path"]])
    # the column-major keyframe matrices are read right: every keyframe but the last (which the old export
    # never reaches: it stops one division short) is a pose of the stored path
    for kf in spec.keyframes[:-1]:
        dist = np.linalg.norm(stored[:, :3, 3] - kf.position, axis=1)
        j = int(dist.argmin())
        assert dist[j] < 1e-12 * size
        assert _angle_deg(stored[j : j + 1, :3, :3], kf.c2w()[None, :3, :3])[0] < 1e-4
    assert np.abs(c2w[0] - stored[0]).max() < 1e-9
    segments = k if spec.loop else k - 1
    per_kf = len(stored) / segments
    even = name in ("viewer-export-480f.json", "viewer-export-dining.json")
    if even:
        # keyframes evenly spread over the stored frames (a whole number of frames apart): ours match there
        assert per_kf == int(per_kf)
        idx = np.arange(0, len(stored), int(per_kf))
        assert np.abs(c2w[idx, :3, 3] - stored[idx, :3, 3]).max() < 1e-12 * size
        assert _angle_deg(c2w[idx, :3, :3], stored[idx, :3, :3]).max() < 1e-4
    else:
        # Not evenly spread, so the stored timing is not reproducible from the file: in viewer-export-7kf the
        # 7 keyframes are named Camera 0,1,3,5,7,9,10 and sit at frames 24 * (number in the name) -- the path
        # was rendered from 11 keyframes, 4 of them were deleted afterwards; in viewer-export-cycle keyframes
        # 5 and 6 sit at frames 69 and 82 of 96 instead of 13.7 * i (the TIME property, rescaled).
        hits = [int(np.linalg.norm(stored[:, :3, 3] - kf.position, axis=1).argmin()) for kf in spec.keyframes]
        assert hits != [round(i * per_kf) for i in range(k)]
    if name == "viewer-export-dining.json":
        # smoothness_value 0.375 = three.js tension tau; Kochanek-Bartels tension 1 - 2 tau = 0.25 has the same
        # tangents, so the interior segments (all but the first and last) are the same curve
        assert spec.smoothness == pytest.approx(0.25)
        inner = np.arange(int(per_kf), len(stored) - int(per_kf))
        assert np.abs(c2w[inner, :3, 3] - stored[inner, :3, 3]).max() < 1e-12 * size
    # everywhere else: the same path, give or take the interpolation differences described above
    pos_err = np.linalg.norm(c2w[:, :3, 3] - stored[:, :3, 3], axis=1)
    assert np.median(pos_err) < 0.1 * size


def test_frames_only_file_becomes_one_keyframe_per_camera():
    d = _load(FRAMES_ONLY)
    spec = spec_from_nerfstudio(d)
    stored = _stored(d)
    assert len(spec.keyframes) == len(stored) and spec.loop and spec.fps == 30
    assert spec.default_transition == pytest.approx(1 / 30) and all(k.transition is None for k in spec.keyframes)
    c2w, fov, _ = sample_path(spec)
    assert len(c2w) == len(stored)
    assert np.abs(c2w - stored).max() < 1e-9
    # an open path keeps its last camera too (held for one frame)
    d["is_cycle"] = False
    spec = spec_from_nerfstudio(d)
    assert spec.keyframes[-1].hold == pytest.approx(1 / 30)
    c2w, _, _ = sample_path(spec)
    assert len(c2w) == len(stored) and np.abs(c2w - stored).max() < 1e-9


def test_older_layout_matrix_is_column_major():
    d = _load("viewer-export-480f.json")
    kf = d["keyframes"][0]
    elements = json.loads(kf["matrix"])
    spec = spec_from_nerfstudio(d)
    # three.js Matrix4.elements: translation in elements 12..14, i.e. column-major
    assert np.allclose(spec.keyframes[0].position, elements[12:15])
    assert np.allclose(spec.keyframes[0].c2w(), np.reshape(elements, (4, 4)).T, atol=1e-7)
    assert np.allclose(spec.keyframes[0].c2w(), np.reshape(d["camera_path"][0]["camera_to_world"], (4, 4)),
                       atol=1e-7)
    assert spec.keyframes[0].name == "Camera 0" and spec.keyframes[0].fov == 50
    assert spec.default_transition == pytest.approx(20 / 60)
    # the 7kf export has a stale properties FOV (50); its "fov" (60) is what its camera_path used
    assert all(k.fov == 60 for k in spec_from_nerfstudio(_load("viewer-export-7kf.json")).keyframes)


# ------------------------------------------------------------------------------------------- round trip


def _assert_same_spec(a: PathSpec, b: PathSpec) -> None:
    assert len(a.keyframes) == len(b.keyframes)
    for x, y in zip(a.keyframes, b.keyframes):
        assert np.array_equal(x.position, y.position)
        assert min(np.abs(x.rotation - y.rotation).max(), np.abs(x.rotation + y.rotation).max()) < 1e-12
        assert (x.fov, x.aspect, x.transition, x.hold, x.name, x.extra) == (
            y.fov, y.aspect, y.transition, y.hold, y.name, y.extra)
    for key in ("width", "height", "fps", "camera_type", "smoothness", "loop", "default_fov",
                "default_transition", "constant_speed", "ease", "extra"):
        assert getattr(a, key) == getattr(b, key), key


@pytest.mark.parametrize("name", V1 + OLD + [FRAMES_ONLY])
def test_round_trip_keeps_every_keyframe_and_key(name):
    d = _load(name)
    spec = spec_from_nerfstudio(d)
    out = json.loads(json.dumps(spec_to_nerfstudio(spec)))
    again = spec_from_nerfstudio(out)
    _assert_same_spec(spec, again)
    # keys the file had that scenegen does not model (crop, is_linear...) are written back verbatim
    for key in set(d) - {"keyframes", "camera_path", "seconds"}:
        assert key in out, key
        if key in spec.extra:
            assert out[key] == d[key]
    assert len(out["camera_path"]) == spec.num_frames
    camera_path_from_dict(out)  # what ns-render reads is valid


def _custom_spec() -> PathSpec:
    kfs = [
        Keyframe.look_at((4, 0, 1), (0, 0, 0), fov=40, hold=0.5, name="start"),
        Keyframe.look_at((0, 4, 1.5), (0, 0, 0.5), fov=55, transition=1.25),
        Keyframe.look_at((-4, 0, 2), (0, 0, 0), fov=70, hold=1.0, name="back"),
        Keyframe.look_at((0, -4, 1), (0, 0, 0), aspect=1.0, transition=3.0),
    ]
    kfs[1].extra = {"render_time": 0.25, "override_time_enabled": True}
    return PathSpec(kfs, width=320, height=180, fps=12.0, smoothness=0.3, loop=True, default_fov=48.0,
                    default_transition=1.5, constant_speed=True, ease=True,
                    extra={"crop": {"crop_center": [0, 0, 0], "crop_scale": [2, 2, 2]}, "my_note": [1, "x"]})


def test_round_trip_through_a_file_with_scenegen_keys(tmp_path):
    spec = _custom_spec()
    file = save_path_spec(spec, tmp_path / "sub" / "path.json")
    assert [p.name for p in file.parent.iterdir()] == ["path.json"]  # atomic write: no temp file left
    raw = json.loads(file.read_text())
    assert raw["scenegen_constant_speed"] is True and raw["scenegen_ease"] is True
    assert raw["keyframes"][0]["scenegen_hold"] == 0.5 and raw["keyframes"][0]["scenegen_name"] == "start"
    assert "scenegen_hold" not in raw["keyframes"][1] and raw["keyframes"][1]["render_time"] == 0.25
    # nerfstudio's override_transition_sec of keyframe i times the transition INTO i
    assert [k["override_transition_sec"] for k in raw["keyframes"]] == [3.0, None, 1.25, None]
    assert [k["override_transition_enabled"] for k in raw["keyframes"]] == [True, False, True, False]
    assert raw["seconds"] == pytest.approx(spec.duration) == 0.5 + 1.0 + 1.5 + 1.25 + 1.5 + 3.0
    assert raw["crop"] == spec.extra["crop"] and raw["my_note"] == [1, "x"]
    _assert_same_spec(spec, load_path_spec(file))
    # nothing scenegen-specific is written when unused
    plain = PathSpec([Keyframe.look_at((1, 0, 0), (0, 0, 0)), Keyframe.look_at((0, 1, 0), (0, 0, 0))])
    out = spec_to_nerfstudio(plain)
    assert not [k for k in out if k.startswith("scenegen")]
    assert not [k for kf in out["keyframes"] for k in kf if k.startswith("scenegen")]


def test_draft_path_without_keyframes(tmp_path):
    spec = PathSpec(keyframes=[], width=640, height=480, fps=24.0, loop=True, default_transition=3.0)
    assert spec.num_frames == 0 and spec.duration == 0
    file = save_path_spec(spec, tmp_path / "draft.json")
    raw = json.loads(file.read_text())
    assert raw["keyframes"] == [] and raw["camera_path"] == [] and raw["render_width"] == 640
    with pytest.raises(InputError) as e:
        load_path_spec(file)
    assert e.value.field == "keyframes"
    back = load_path_spec(file, allow_empty=True)
    _assert_same_spec(spec, back)
    with pytest.raises(InputError):
        sample_path(back)
    back.keyframes.append(Keyframe.look_at((1, 0, 0), (0, 0, 0)))
    assert len(sample_path(back)[0]) == back.num_frames == 72


def test_cameras_from_spec_is_the_renderer_path():
    spec = _custom_spec()
    path = cameras_from_spec(spec)
    assert isinstance(path, CameraPath)
    c2w, fov, _ = sample_path(spec)
    assert len(path) == spec.num_frames and path.render_width == 320 and path.render_height == 180
    assert np.allclose(path.cameras.c2w.numpy(), c2w[:, :3], atol=1e-6)
    assert np.allclose(path.cameras.fy.numpy(), focal_from_fov(fov, 180), rtol=1e-5)
    assert path.video_fps == pytest.approx(spec.num_frames / spec.duration)
    spec.camera_type = "vr180"
    with pytest.raises(InputError) as e:
        cameras_from_spec(spec)
    assert e.value.field == "camera_type"


# ----------------------------------------------------------------------------------------- model basics


def test_duration_and_frames():
    a, b, c = (Keyframe.look_at((i, 1, 0), (i, 0, 0)) for i in range(3))
    b.hold = 0.5
    c.transition = 7.0  # last keyframe of an open path: its transition is unused...
    c.hold = 0.25  # ...its hold is not
    spec = PathSpec([a, b, c], fps=10, default_transition=2.0)
    assert spec.duration == pytest.approx(2 + 0.5 + 2 + 0.25) and spec.num_frames == 48
    spec.loop = True
    assert spec.duration == pytest.approx(4.75 + 7.0) and spec.num_frames == 118
    one = PathSpec([a])
    assert one.duration == 0 and one.num_frames == 1
    c2w, _, _ = sample_path(one)
    assert np.allclose(c2w[0], a.c2w())


def test_look_at_and_from_c2w():
    k = Keyframe.look_at((2, 0, 1), (0, 0, 1), up=(0, 0, 1))
    m = k.c2w()
    assert np.allclose(m[:3, :3] @ [0, 0, -1], [-1, 0, 0])  # looks down -Z at the target
    assert np.allclose(m[:3, :3] @ [0, 1, 0], [0, 0, 1])  # image up = world up
    k2 = Keyframe.look_at((0, 0, 0), (1, 1, 0.2), up=(0, 0, 1))
    r = k2.c2w()[:3, :3]
    assert np.allclose(r.T @ r, np.eye(3)) and np.linalg.det(r) == pytest.approx(1)
    assert abs(r[:, 0] @ [0, 0, 1]) < 1e-12  # no roll: camera x stays horizontal
    assert r[:, 1] @ [0, 0, 1] > 0.9
    back = Keyframe.from_c2w(k2.c2w()[:3], fov=33)
    assert np.allclose(back.c2w(), k2.c2w()) and back.fov == 33
    for bad in [dict(position=(1, 2, 3), target=(1, 2, 3)), dict(position=(0, 0, 0), target=(0, 0, 5))]:
        with pytest.raises(ValueError):
            Keyframe.look_at(**bad)
    with pytest.raises(ValueError):
        Keyframe.from_c2w(np.diag([1.0, 1.0, -1.0, 1.0]))
    moved = Keyframe.look_at((0, 0, 0), (1, 0, 0), fov=20, hold=1.0, name="n")
    moved.set_c2w(k2.c2w())
    assert np.allclose(moved.c2w(), k2.c2w()) and (moved.fov, moved.hold, moved.name) == (20, 1.0, "n")
    q = np.array([-0.1, -0.7, 0.2, 0.68])
    q /= np.linalg.norm(q)
    assert np.allclose(quat_from_matrix(matrix_from_quat(q)), -q)  # sign canonicalised to w >= 0


# ------------------------------------------------------------------------------------- property tests


def _qmul(a, b):
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2])


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 1e-6 else np.eye(len(v))[0]


_vec = st.tuples(*[st.floats(-1, 1, allow_nan=False)] * 3)


@st.composite
def paths(draw, min_k=2, max_k=5, max_turn_deg=60.0, smooth_max=1.0, max_path_turn_deg=180.0, fps=(8, 12)):
    """Random PathSpecs: neighbouring keyframes differ by < max_turn_deg in orientation (about a random axis,
    with random quaternion signs) and by 0.5..3 in position; path direction turns by <= max_path_turn_deg.
    Loops (3+ keyframes) lie on a jittered ring so that they also close smoothly."""
    k = draw(st.integers(min_k, max_k))
    loop = k >= 3 and draw(st.booleans())
    q = _unit([draw(st.floats(-1, 1)) for _ in range(4)] + np.array([1e-3, 0, 0, 0]))
    p = np.array(draw(_vec)) * 3
    d = _unit(draw(_vec))
    radius = draw(st.floats(1.5, 3.0))
    kfs = []
    for i in range(k):
        if loop:
            a = 2 * math.pi * (i + draw(st.floats(-0.2, 0.2))) / k
            p = radius * np.array([math.cos(a), math.sin(a), 0.0]) + [0, 0, draw(st.floats(-0.3, 0.3))]
        sign = draw(st.sampled_from([1.0, -1.0]))
        kfs.append(Keyframe(
            p.copy(), sign * q,
            fov=draw(st.floats(30, 90)),
            transition=draw(st.one_of(st.none(), st.floats(0.5, 2.0))),
            hold=draw(st.one_of(st.just(0.0), st.floats(0.1, 1.0))),
        ))
        angle = math.radians(draw(st.floats(0, max_turn_deg * 0.999)))
        q = _qmul(q, np.r_[math.cos(angle / 2), math.sin(angle / 2) * _unit(draw(_vec))])
        turn = math.radians(draw(st.floats(0, max_path_turn_deg)))
        side = _unit(np.cross(d, _unit(draw(_vec))))
        d = _unit(math.cos(turn) * d + math.sin(turn) * side)
        p = p + d * draw(st.floats(0.5, 3.0))
    return PathSpec(
        kfs,
        fps=float(draw(st.sampled_from(fps))),
        smoothness=draw(st.floats(0, smooth_max)),
        loop=loop,
        default_transition=draw(st.floats(0.5, 2.0)),
        constant_speed=draw(st.booleans()),
        ease=draw(st.booleans()),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths())
def test_positions_pass_through_keyframes(spec):
    arrive, depart = keyframe_times(spec)
    assert arrive[0] == 0 and np.all(np.diff(arrive) > 0) and np.all(depart - arrive >= 0)
    assert np.allclose(depart - arrive, spec.holds())
    want_pos = np.array([k.position for k in spec.keyframes])
    want_rot = np.array([k.c2w()[:3, :3] for k in spec.keyframes])
    for t in (arrive, depart, 0.5 * (arrive + depart)):
        c2w, fov = sample_path_at(spec, t)
        assert np.abs(c2w[:, :3, 3] - want_pos).max() < 1e-9
        assert _angle_deg(c2w[:, :3, :3], want_rot).max() < 1e-5
        assert np.allclose(fov, [k.fov for k in spec.keyframes])
    if not spec.constant_speed and not spec.ease:  # nerfstudio's timing: cumulative holds + transitions
        seg = np.r_[0.0, spec.transitions()][: len(arrive)]
        assert np.allclose(arrive, np.cumsum(seg) + np.r_[0.0, np.cumsum(spec.holds())[:-1]])
    end, _ = sample_path_at(spec, [spec.duration])
    last = spec.keyframes[0 if spec.loop else -1]
    assert np.abs(end[0, :3, 3] - last.position).max() < 1e-9


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths(max_turn_deg=60.0))
def test_no_orientation_flips(spec):
    spec.constant_speed = False  # (then rotation speed follows positions, not transition times)
    rots = np.array([k.c2w()[:3, :3] for k in spec.keyframes])
    if spec.loop and _angle_deg(rots[-1:], rots[:1])[0] >= 59.9:
        spec.loop = False  # only neighbours are < 60 degrees apart; the closing pair may not be
    if spec.loop:
        rots = np.concatenate([rots, rots[:1]])
    c2w, _, _ = sample_path(spec)
    kf_angles = _angle_deg(rots[:-1], rots[1:])
    assert kf_angles.max() < 60
    steps = _angle_deg(c2w[:-1, :3, :3], c2w[1:, :3, :3])
    # a short-way turn of < 60 degrees spread over >= transition * fps frames; a sign flip would make the
    # camera turn the long way round (> 300 degrees) within one transition
    bound = 4.0 * kf_angles.max() / (spec.transitions().min() * spec.fps) + 1e-6
    assert steps.max() <= bound, (steps.max(), bound)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths(min_k=4, max_k=5, smooth_max=0.3, max_path_turn_deg=60.0, fps=(48,)))
def test_constant_speed(spec):
    spec.constant_speed, spec.ease = True, False
    c2w, _, t = sample_path(spec)
    arrive, depart = keyframe_times(spec)
    moving = np.ones(len(t) - 1, dtype=bool)
    for a, b in zip(arrive, depart):
        if b > a:  # frame pairs that overlap a hold
            moving &= ~((t[1:] > a) & (t[:-1] < b))
    # Speed along the curve, not frame-to-frame chords (a chord across a tight bend is shorter than the arc).
    dt = 1e-4
    tt = t[:-1][moving]
    p0, _ = sample_path_at(spec, tt)
    p1, _ = sample_path_at(spec, tt + dt)
    speed = np.linalg.norm(p1[:, :3, 3] - p0[:, :3, 3], axis=1) / dt
    assert len(speed) > 10
    assert speed.max() / speed.min() - 1 < 0.01, (speed.min(), speed.max())
    # one speed for the whole path: total length / total moving time
    assert np.median(speed) == pytest.approx(speed.mean(), rel=1e-3)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paths(min_k=3))
def test_loops_are_continuous_at_the_seam(spec):
    spec.loop = True  # (also open paths, closed by a transition back to keyframe 0)
    c2w, _, _ = sample_path(spec)
    ring = np.concatenate([c2w, c2w[:1]])  # frame N would be frame 0 again
    dpos = np.linalg.norm(np.diff(ring[:, :3, 3], axis=0), axis=1)
    drot = _angle_deg(ring[:-1, :3, :3], ring[1:, :3, :3])
    for d in (dpos, drot):
        seam, near = d[-1], np.concatenate([d[-4:-1], d[:3]])
        # the seam step is like the steps around it (a jump would be a whole segment long). The spline's
        # speed still varies within a transition, and the orientation spline may turn back just before a
        # keyframe (a step near zero right beside the seam), so compare with the three steps on each side.
        assert seam <= 2.0 * near.max() + 1e-9, (seam, near)
        assert seam <= d.max() + 1e-12


# ------------------------------------------------------------------------------------------- bad input


def _v1() -> dict:
    return _load("viewer-v1-export-16kf.json")


def _set_kf(i, **kv):
    return lambda d: d["keyframes"][i].update(**kv)


def _transposed(d):
    d["keyframes"][2]["matrix"] = np.reshape(d["keyframes"][2]["matrix"], (4, 4)).T.reshape(-1).tolist()


def _old_row_major(d):
    d["keyframes"][2]["matrix"] = json.dumps(d["keyframes"][2]["matrix"])  # a string, but not column-major


def _mirrored(d):
    m = np.reshape(d["keyframes"][2]["matrix"], (4, 4))
    m[:3, 0] *= -1
    d["keyframes"][2]["matrix"] = m.reshape(-1).tolist()


BAD = {
    "matrix_nan": (lambda d: d["keyframes"][2]["matrix"].__setitem__(3, float("nan")), "keyframes[2].matrix"),
    "matrix_short": (lambda d: d["keyframes"][2].update(matrix=d["keyframes"][2]["matrix"][:15]),
                     "keyframes[2].matrix"),
    "matrix_string_element": (lambda d: d["keyframes"][2]["matrix"].__setitem__(0, "1"), "keyframes[2].matrix"),
    "matrix_column_major": (_transposed, "keyframes[2].matrix"),
    "matrix_old_layout_row_major": (_old_row_major, "keyframes[2].matrix"),
    "matrix_old_layout_not_json": (_set_kf(2, matrix="[1, 2,"), "keyframes[2].matrix"),
    "matrix_mirrored": (_mirrored, "keyframes[2].matrix"),
    "matrix_missing": (lambda d: d["keyframes"][2].pop("matrix"), "keyframes[2].matrix"),
    "fov_zero": (_set_kf(1, fov=0), "keyframes[1].fov"),
    "fov_180": (_set_kf(1, fov=180.0), "keyframes[1].fov"),
    "fov_negative": (_set_kf(1, fov=-10), "keyframes[1].fov"),
    "fov_nan": (_set_kf(1, fov=float("nan")), "keyframes[1].fov"),
    "fov_string": (_set_kf(1, fov="75"), "keyframes[1].fov"),
    "aspect_zero": (_set_kf(1, aspect=0), "keyframes[1].aspect"),
    "transition_negative": (_set_kf(3, override_transition_enabled=True, override_transition_sec=-1.0),
                            "keyframes[3].override_transition_sec"),
    "transition_zero": (_set_kf(3, override_transition_enabled=True, override_transition_sec=0),
                        "keyframes[3].override_transition_sec"),
    "transition_enabled_not_bool": (_set_kf(3, override_transition_enabled="yes"),
                                    "keyframes[3].override_transition_enabled"),
    "hold_negative": (_set_kf(4, scenegen_hold=-0.5), "keyframes[4].scenegen_hold"),
    "hold_inf": (_set_kf(4, scenegen_hold=float("inf")), "keyframes[4].scenegen_hold"),
    "keyframe_not_object": (lambda d: d["keyframes"].__setitem__(1, [1, 2]), "keyframes[1]"),
    "keyframes_empty": (lambda d: (d.update(keyframes=[]), d.pop("camera_path")), "keyframes"),
    "keyframes_missing": (lambda d: (d.pop("keyframes"), d.pop("camera_path")), "keyframes"),
    "keyframes_not_list": (lambda d: d.update(keyframes={"0": {}}), "keyframes"),
    "camera_type_unknown": (lambda d: d.update(camera_type="orthographic"), "camera_type"),
    "camera_type_number": (lambda d: d.update(camera_type=1), "camera_type"),
    "fps_zero": (lambda d: d.update(fps=0), "fps"),
    "fps_string": (lambda d: d.update(fps="30"), "fps"),
    "width_zero": (lambda d: d.update(render_width=0), "render_width"),
    "height_fraction": (lambda d: d.update(render_height=1080.5), "render_height"),
    "smoothness_out_of_range": (lambda d: d.update(smoothness_value=1.5), "smoothness_value"),
    "is_cycle_not_bool": (lambda d: d.update(is_cycle="yes"), "is_cycle"),
    "default_fov_zero": (lambda d: d.update(default_fov=0), "default_fov"),
    "default_transition_negative": (lambda d: d.update(default_transition_sec=-2), "default_transition_sec"),
    "seconds_negative": (lambda d: d.update(seconds=-1), "seconds"),
    "scenegen_ease_not_bool": (lambda d: d.update(scenegen_ease=1), "scenegen_ease"),
    "crop_bad": (lambda d: d.update(crop={"crop_center": [0, 0], "crop_scale": [1, 1, 1]}), "crop.crop_center"),
    "frames_only_bad_camera": (
        lambda d: (d.pop("keyframes"), d["camera_path"][5]["camera_to_world"].__setitem__(0, float("nan"))),
        "camera_path[5].camera_to_world"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_names_the_field(case, tmp_path):
    mutate, fld = BAD[case]
    d = _v1()
    mutate(d)
    file = tmp_path / f"{case}.json"
    file.write_text(json.dumps(d))  # NaN/Infinity as JSON extensions, as some tools write them
    with pytest.raises(InputError) as e:
        load_path_spec(file)
    msg = str(e.value)
    assert e.value.field == fld, msg
    assert e.value.file == str(file)
    assert "\n" not in msg and msg.startswith(f"{file}: {fld}: ") and len(msg) < 300, msg
    with pytest.raises(InputError) as e:  # the same from a dict, without a file
        spec_from_nerfstudio(copy.deepcopy(json.loads(file.read_text())))
    assert e.value.field == fld


def test_bad_files_and_specs(tmp_path):
    file = tmp_path / "bad.json"
    file.write_text("{not json")
    with pytest.raises(InputError) as e:
        load_path_spec(file)
    assert e.value.file == str(file) and e.value.field == "line 1 column 2"
    with pytest.raises(InputError) as e:
        load_path_spec(tmp_path / "missing.json")
    assert e.value.file == str(tmp_path / "missing.json")
    with pytest.raises(InputError) as e:
        spec_from_nerfstudio([1, 2, 3], file="x.json")
    assert e.value.file == "x.json" and e.value.field is None
    # a spec built in code is validated before it is sampled or written
    spec = _custom_spec()
    spec.keyframes[2].hold = -1
    with pytest.raises(InputError) as e:
        sample_path(spec)
    assert e.value.field == "keyframes[2].scenegen_hold"
    spec = _custom_spec()
    spec.keyframes[1].transition = 0.0  # keyframe 1 -> 2: nerfstudio's override on keyframe 2
    with pytest.raises(InputError) as e:
        spec_to_nerfstudio(spec)
    assert e.value.field == "keyframes[2].override_transition_sec"
    spec = _custom_spec()
    spec.camera_type = "pinhole"
    with pytest.raises(InputError) as e:
        save_path_spec(spec, tmp_path / "out.json")
    assert e.value.field == "camera_type" and not (tmp_path / "out.json").exists()
