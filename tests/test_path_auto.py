"""Tour planning and path safety: scene volumes, the automatic walk-through, presets, safety checks.

The scene is the synthetic two-room flat (``make_two_room_scene``: room A x in [-5, -0.1], room B x in
[0.1, 5], y in [-2, 2], floor at z = 0, a 1 m door in the shared wall at y in [-0.5, 0.5]). Tours are checked
against the ground-truth mesh, not against the volume they were planned in.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from scenegen.core.errors import InputError

try:  # the scene tests ray-cast the ground-truth mesh with open3d
    import open3d  # noqa: F401

    HAVE_O3D = True
except Exception:  # pragma: no cover - depends on the machine
    HAVE_O3D = False

needs_o3d = pytest.mark.skipif(not HAVE_O3D, reason="open3d is not importable")

EYE = 1.6
FPS = 30.0


@pytest.fixture(scope="module")
def two_room():
    from synth_rooms import make_two_room_scene

    return make_two_room_scene(seed=0)


@pytest.fixture(scope="module")
def mesh_volume(two_room):
    from scenegen.paths import SceneVolume

    return SceneVolume.from_mesh(two_room.mesh, voxel=0.05)


def _surface_distance(scene, points: np.ndarray) -> np.ndarray:
    import open3d as o3d

    q = o3d.core.Tensor(np.ascontiguousarray(points, dtype=np.float32))
    return scene.raycaster().compute_distance(q).numpy().astype(np.float64)


def _yaw_rates(c2w: np.ndarray, fps: float) -> np.ndarray:
    """(N-1,) heading change per second (degrees) between frames (world up = +Z)."""
    f = -c2w[:, :3, 2]
    yaw = np.unwrap(np.arctan2(f[:, 1], f[:, 0]))
    return np.degrees(np.abs(np.diff(yaw))) * fps


def _check_tour(scene, c2w: np.ndarray, fps: float, min_clearance: float) -> dict:
    """Assert the three tour properties against the ground truth and return the measured numbers."""
    pos = c2w[:, :3, 3]
    # 1. both rooms visited, for at least 3 seconds each (well inside them, not in the doorway)
    in_a = int(np.sum(pos[:, 0] < -0.4))
    in_b = int(np.sum(pos[:, 0] > 0.4))
    assert in_a >= 3 * fps and in_b >= 3 * fps, (in_a, in_b)
    # 2. never inside geometry: every camera centre is inside the flat and keeps a clearance from every
    #    surface (frames are 3 cm apart, so a path that keeps 0.25 from all surfaces cannot cross one)
    inside_box = np.all((pos > scene.room_min) & (pos < scene.room_max), axis=1)
    assert inside_box.all(), np.nonzero(~inside_box)[0][:10]
    clearance = _surface_distance(scene, pos)
    assert clearance.min() > min_clearance, clearance.min()
    step = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    assert step.max() < min_clearance
    # 3. eye height: 1.6 m above the floor (z = 0), within 10 cm
    err = np.abs(pos[:, 2] - EYE)
    assert err.max() <= 0.10, err.max()
    # level camera: no roll (the camera's x axis is horizontal)
    assert np.abs(c2w[:, 2, 0]).max() < 1e-3
    return {"clearance_min": float(clearance.min()), "eye_err_max": float(err.max()), "frames_a": in_a,
            "frames_b": in_b, "frames": len(pos)}


# ----------------------------------------------------------------------------------------------------------
# Scene volume
# ----------------------------------------------------------------------------------------------------------


@needs_o3d
def test_volume_from_mesh_queries(two_room, mesh_volume):
    vol = mesh_volume
    # inside the shared wall, inside the sofa, on the floor: occupied; the middle of a room: free
    pts = np.array([[0.0, 1.2, 1.0], [-2.5, 1.5, 0.2], [2.0, 0.0, 0.0], [-2.5, -1.0, 1.5], [2.5, 0.0, 1.5]])
    assert vol.occupied(pts).tolist() == [True, True, True, False, False]
    # distances agree with the mesh within a voxel (outside solids: inside them the volume says 0)
    rng = np.random.default_rng(0)
    q = rng.uniform(two_room.room_min, two_room.room_max, (2000, 3))
    q = q[~vol.occupied(q)]
    gt = _surface_distance(two_room, q)
    d = vol.distance_to_occupied(q)
    assert len(q) > 1000 and np.abs(d - gt).max() <= vol.voxel * 1.3
    assert vol.inside_region(np.array([[0.0, 0.0, 1.0]]))[0]
    assert not vol.inside_region(np.array([[20.0, 0.0, 1.0]]))[0]
    assert vol.up_axis == 2
    assert len(vol.occupied_points(1000)) == 1000


def test_volume_rotated_up_axis():
    from scenegen.cameras.poses import up_basis
    from scenegen.paths import SceneVolume

    for up in ([0, 0, 1], [0, 1, 0], [0, 0, -1], [0.2, -0.1, 1.0]):
        r = up_basis(up)
        assert np.allclose(r.T @ r, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
        assert np.allclose(r[:, 2], np.asarray(up) / np.linalg.norm(up))
    occ = np.zeros((4, 5, 6), bool)
    occ[1, 2, 3] = True
    vol = SceneVolume(origin=[1.0, 2.0, 3.0], voxel=0.5, occupancy=occ, up=[0, 1, 0], rotation=up_basis([0, 1, 0]))
    c = vol.voxel_centers([[1, 2, 3]])
    assert vol.occupied(c)[0] and not vol.occupied(c + 0.5 * vol.rotation[:, 0])[0]
    assert vol.up_axis == 2
    assert np.isclose(vol.distance_to_occupied(c + vol.rotation[:, 1] * 1.0)[0], 1.0)


# ----------------------------------------------------------------------------------------------------------
# (a) automatic walk-through of the mesh volume
# ----------------------------------------------------------------------------------------------------------


@needs_o3d
def test_auto_walkthrough_mesh_visits_both_rooms(two_room, mesh_volume):
    from scenegen.paths import auto_walkthrough, check_path, sample_path

    spec, plan = auto_walkthrough(mesh_volume, eye_height=EYE, clearance=0.35, return_plan=True)
    c2w, _, _ = sample_path(spec)
    m = _check_tour(two_room, c2w, spec.fps, min_clearance=0.3)
    assert len(plan.order) >= 2 and not plan.skipped
    assert _yaw_rates(c2w, spec.fps).max() <= 45.0 * 1.001
    assert check_path(c2w, spec.fps, mesh_volume, min_clearance=0.2) == []
    print("mesh tour:", m, "rooms", plan.order)


def test_auto_walkthrough_errors():
    from scenegen.paths import SceneVolume, auto_walkthrough

    empty = SceneVolume(origin=[0, 0, 0], voxel=0.1, occupancy=np.zeros((20, 20, 30), bool))
    with pytest.raises(InputError, match="no walkable floor") as e:
        auto_walkthrough(empty)
    assert "\n" not in str(e.value)
    low = np.zeros((20, 20, 30), bool)
    low[:, :, 0] = True  # floor
    low[:, :, 12] = True  # ceiling 1.2 above it
    with pytest.raises(InputError, match="no free space at eye height") as e:
        auto_walkthrough(SceneVolume(origin=[0, 0, 0], voxel=0.1, occupancy=low))
    assert "\n" not in str(e.value)
    ok = np.zeros((20, 20, 30), bool)
    ok[:, :, 0] = True  # a floor and nothing over it: an open scene, not an interior
    with pytest.raises(InputError, match="not an interior") as e:
        auto_walkthrough(SceneVolume(origin=[0, 0, 0], voxel=0.1, occupancy=ok))
    assert "\n" not in str(e.value)


# ----------------------------------------------------------------------------------------------------------
# (b) end to end: synthesize, train about a minute, plan in the trained field, check against the mesh
# ----------------------------------------------------------------------------------------------------------


@needs_o3d
def test_auto_walkthrough_trained_run(tmp_path, two_room):
    from synth_rooms import synthesize_demo_dataset as synthesize_dataset
    from scenegen.paths import auto_walkthrough, sample_path
    from scenegen.pipelines.paths import volume_from_run
    from scenegen.train.config import TrainConfig
    from scenegen.train.trainer import train

    t0 = time.time()
    data = synthesize_dataset(two_room, tmp_path / "data", n_train=54, n_test=6, width=96, height=72)
    t1 = time.time()
    train(TrainConfig(data=data, output=tmp_path / "run", max_steps=300, progress=False, eval_every=0,
                      checkpoint_every=1e9))
    t2 = time.time()
    vol = volume_from_run(tmp_path / "run", device="cpu")
    assert np.allclose(vol.up, [0, 0, 1]) and vol.camera_positions is not None
    spec, plan = auto_walkthrough(vol, eye_height=EYE, clearance=0.35, return_plan=True)
    c2w, _, _ = sample_path(spec)
    t3 = time.time()
    m = _check_tour(two_room, c2w, spec.fps, min_clearance=0.25)
    print(f"trained tour: {m}, rooms {plan.order}; synth {t1 - t0:.1f} s, train {t2 - t1:.1f} s, "
          f"volume + plan {t3 - t2:.1f} s")


# ----------------------------------------------------------------------------------------------------------
# (c) safety checks
# ----------------------------------------------------------------------------------------------------------


def _straight(p0, p1, n: int, target_offset=(0.0, 0.0, 0.0)) -> np.ndarray:
    from scenegen.cameras.poses import look_at_c2w

    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = (p1 - p0) / np.linalg.norm(p1 - p0)
    pts = p0 + (p1 - p0) * np.linspace(0.0, 1.0, n)[:, None]
    return np.stack([look_at_c2w(p, p + d + np.asarray(target_offset)) for p in pts])


@needs_o3d
def test_safety_path_through_wall(mesh_volume):
    from scenegen.paths import check_path, format_frames

    # 81 frames from x = -2 to x = 2 at y = 1 (the shared wall x in [-0.1, 0.1], no door there): 5 cm a frame
    c2w = _straight([-2.0, 1.0, 1.6], [2.0, 1.0, 1.6], 81)
    x = c2w[:, 0, 3]
    warns = {w.kind: w for w in check_path(c2w, FPS, mesh_volume, min_clearance=0.2)}
    assert "inside_occupied" in warns
    frames = np.asarray(warns["inside_occupied"].frames)
    truly_inside = np.nonzero(np.abs(x) <= 0.1 - 1e-9)[0]
    near = np.nonzero(np.abs(x) <= 0.1 + mesh_volume.voxel * 1.5)[0]
    assert set(truly_inside) <= set(frames) <= set(near)
    assert np.all(np.diff(frames) == 1)  # one contiguous range...
    assert f"frames {frames[0]}-{frames[-1]}" in warns["inside_occupied"].message  # ...named in the message
    assert format_frames(frames) in warns["inside_occupied"].message
    # the frames just before and after the wall are too close, the rest is fine
    close = set(warns["too_close"].frames)
    assert close and not close & set(frames)
    assert all(abs(x[f]) < 0.1 + 0.2 + 2 * mesh_volume.voxel for f in close)
    assert "speed_spike" not in warns and "orientation_jump" not in warns


def test_safety_teleport_and_turn():
    from scenegen.paths import check_path, format_frames

    c2w = _straight([1.0, 0.0, 1.6], [3.0, 0.0, 1.6], 100)
    c2w[50:, 1, 3] += 1.0  # teleport 1 m sideways between frames 49 and 50
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 90 degrees about +Z
    c2w[70:, :3, :3] = rot @ c2w[70:, :3, :3]  # the view snaps round at frame 70
    warns = {w.kind: w for w in check_path(c2w, FPS, None, max_speed=5.0)}
    assert warns["speed_spike"].frames == [50]
    assert "frame 50" in warns["speed_spike"].message
    assert warns["too_fast"].frames == [50]
    assert warns["orientation_jump"].frames == [70]
    assert "frame 70" in warns["orientation_jump"].message
    assert set(warns) == {"speed_spike", "too_fast", "orientation_jump"}
    assert check_path(_straight([1.0, 0.0, 1.6], [3.0, 0.0, 1.6], 100), FPS, None) == []
    assert format_frames([3, 4, 5, 9, 12, 13]) == "frames 3-5, 9, 12-13"
    assert format_frames([7]) == "frame 7"


@needs_o3d
def test_safety_outside_region(mesh_volume):
    from scenegen.paths import check_path

    c2w = _straight([3.0, 0.0, 1.6], [12.0, 0.0, 1.6], 91)  # leaves through the east wall and the grid
    warns = {w.kind: w for w in check_path(c2w, FPS, mesh_volume)}
    x = c2w[:, 0, 3]
    assert set(warns["outside_region"].frames) == set(np.nonzero(~mesh_volume.inside_region(c2w[:, :3, 3]))[0])
    assert min(warns["outside_region"].frames) > np.nonzero(x > 5.1)[0][0] - 1
    assert "inside_occupied" in warns


# ----------------------------------------------------------------------------------------------------------
# (d) presets: the walk-through's turn-rate bound, orbit, flythrough
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [20.0, 45.0])
def test_walkthrough_turn_rate_bound(rate):
    from scenegen.paths import sample_path, walkthrough

    # sharp corners, a zig-zag and a near reversal
    wp = np.array([[0, 0], [3, 0], [3, 3], [1, 3], [2, 1.5], [0, 1.2], [-1, 3]], float)
    spec = walkthrough(wp, eye_height=EYE, speed=0.8, max_turn_rate_deg_s=rate, floor=0.0)
    c2w, fov, times = sample_path(spec)
    assert _yaw_rates(c2w, spec.fps).max() <= rate * 1.001
    pos = c2w[:, :3, 3]
    assert np.allclose(pos[:, 2], EYE)  # eye height above the floor plane
    assert np.abs(c2w[:, 2, 0]).max() < 1e-3  # no roll
    fwd = -c2w[:, :3, 2]
    pitch = np.degrees(np.arcsin(fwd[:, 2]))
    assert np.all(np.abs(pitch + 5.0) < 0.5)  # slight, constant pitch
    speed = np.linalg.norm(np.diff(pos, axis=0), axis=1) * spec.fps
    assert np.allclose(speed, 0.8, rtol=0.05)
    # it looks ahead: the heading follows the direction of travel (lagging/leading it only around corners)
    travel = np.diff(pos[:, :2], axis=0)
    travel /= np.linalg.norm(travel, axis=1, keepdims=True)
    head = fwd[:-1, :2] / np.linalg.norm(fwd[:-1, :2], axis=1, keepdims=True)
    err = np.degrees(np.arccos(np.clip(np.sum(travel * head, 1), -1, 1)))
    print(f"rate {rate}: heading vs travel mean {err.mean():.1f}, max {err.max():.1f} deg")
    assert err.mean() < (45.0 if rate < 30 else 30.0)  # this path turns sharply every 2-3 seconds
    # on a straight walk the camera looks straight ahead
    c2w, _, _ = sample_path(walkthrough(np.array([[0.0, 0.0], [5.0, 1.0]]), max_turn_rate_deg_s=rate))
    d = np.array([5.0, 1.0]) / math.hypot(5.0, 1.0)
    f = -c2w[:, :2, 2] / np.linalg.norm(c2w[:, :2, 2], axis=1, keepdims=True)
    assert np.all(f @ d > 0.9999)
    # starts and ends at the first and last waypoints
    assert np.allclose(pos[0, :2], wp[0], atol=1e-6) and np.linalg.norm(pos[-1, :2] - wp[-1]) < 0.1


@needs_o3d
def test_walkthrough_with_volume_keeps_clearance(two_room, mesh_volume):
    from scenegen.paths import sample_path, walkthrough

    # through the door, then along the south wall of room B, ending 15 cm from the east wall
    wp = np.array([[-3.5, -1.0], [-1.0, -1.5], [-0.3, 0.3], [0.3, 0.3], [2.0, -1.85], [4.85, -1.5]])
    plain, _, _ = sample_path(walkthrough(wp, eye_height=EYE))
    assert _surface_distance(two_room, plain[:, :3, 3]).min() < 0.2
    c2w, _, _ = sample_path(walkthrough(wp, eye_height=EYE, volume=mesh_volume, clearance=0.35))
    pos = c2w[:, :3, 3]
    assert _surface_distance(two_room, pos).min() > 0.3
    assert np.abs(pos[:, 2] - EYE).max() <= 0.05  # the floor found in the volume (z = 0, within a voxel)


def test_walkthrough_waypoints_3d_and_errors():
    from scenegen.paths import walkthrough

    spec = walkthrough(np.array([[0, 0, 0.5], [4, 0, 0.5]]), eye_height=1.5)
    assert np.allclose([k.position[2] for k in spec.keyframes], 2.0)
    with pytest.raises(InputError):
        walkthrough(np.array([[0.0, 0.0]]))
    with pytest.raises(InputError):
        walkthrough(np.array([[0.0, 0.0], [0.0, 0.0]]))


def test_orbit_and_flythrough():
    from scenegen.paths import flythrough, orbit, sample_path

    spec = orbit([1.0, 2.0, 0.5], radius=3.0, height=1.0, turns=1, direction="ccw", fov=50.0, seconds=8.0)
    assert spec.loop and math.isclose(spec.duration, 8.0)
    c2w, fov, _ = sample_path(spec)
    pos = c2w[:, :3, 3]
    r = np.linalg.norm(pos[:, :2] - [1.0, 2.0], axis=1)
    assert np.allclose(r, 3.0, rtol=2e-3) and np.allclose(pos[:, 2], 1.5)
    ang = np.unwrap(np.arctan2(pos[:, 1] - 2.0, pos[:, 0] - 1.0))
    assert np.all(np.diff(ang) > 0)  # counter-clockwise about +Z
    to_c = np.array([1.0, 2.0, 0.5]) - pos
    to_c /= np.linalg.norm(to_c, axis=1, keepdims=True)
    assert np.all(np.sum(-c2w[:, :3, 2] * to_c, 1) > 0.999)  # looks at the centre
    assert np.allclose(fov, 50.0)
    cw = orbit([0, 0, 0], 2.0, 0.0, turns=0.5, direction="cw", seconds=4.0)
    assert not cw.loop
    p = sample_path(cw)[0][:, :3, 3]
    assert np.all(np.diff(np.unwrap(np.arctan2(p[:, 1], p[:, 0]))) < 0)

    wp = np.array([[0, 0, 1], [3, 0, 2], [3, 3, 1.5]], float)
    fly = flythrough(wp, speed=1.0)
    c2w, _, _ = sample_path(fly)
    assert np.abs(c2w[:, 2, 0]).max() < 0.02  # keyframes have no roll; the rotation spline adds < 1.2 degrees
    assert np.linalg.norm(c2w[0, :3, 3] - wp[0]) < 1e-6
    fly = flythrough(wp, look_at=(1.0, 1.0, 0.0), speed=1.0)
    c2w, _, _ = sample_path(fly)
    to_t = np.array([1.0, 1.0, 0.0]) - c2w[:, :3, 3]
    to_t /= np.linalg.norm(to_t, axis=1, keepdims=True)
    assert np.all(np.sum(-c2w[:, :3, 2] * to_t, 1) > 0.99)
