"""Tests of the mesh -> posed dataset synthesiser (scenegen.data.synth) on the hand-built test rooms."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import trimesh
from PIL import Image

from scenegen.data.synth import o3d as _o3d
from scenegen.core.errors import MissingDependencyError

try:  # the rendering tests need a working open3d; the error-message tests do not
    import open3d  # noqa: F401

    HAVE_O3D = True
except Exception:  # pragma: no cover - depends on the machine
    HAVE_O3D = False

needs_o3d = pytest.mark.skipif(not HAVE_O3D, reason="open3d is not importable")


@pytest.fixture(scope="module")
def scene():
    from synth_rooms import make_demo_scene

    return make_demo_scene(seed=0)


def _ray_mesh_t(mesh: trimesh.Trimesh, origin: np.ndarray, direction: np.ndarray) -> float:
    """Smallest ray parameter t > 0 of origin + t * direction on the mesh (numpy Moller-Trumbore, no open3d)."""
    tri = np.asarray(mesh.triangles, dtype=np.float64)
    v0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    pvec = np.cross(direction, e2)
    det = np.einsum("ij,ij->i", e1, pvec)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    tvec = origin - v0
    u = np.einsum("ij,ij->i", tvec, pvec) * inv
    qvec = np.cross(tvec, e1)
    v = (qvec @ direction) * inv
    t = np.einsum("ij,ij->i", e2, qvec) * inv
    hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-9)
    assert hit.any(), "the ray must hit the room"
    return float(t[hit].min())


def _independent_z_depth(mesh: trimesh.Trimesh, c2w: np.ndarray, fx, fy, cx, cy, u, v) -> float:
    """z-depth of pixel coordinate (u, v) computed with an independent ray caster (no Cameras, no open3d)."""
    d_cam = np.array([(u - cx) / fx, -(v - cy) / fy, -1.0])  # OpenGL camera: -Z forward, +Y up
    # The ray parameter along d_world = R d_cam (whose camera-z component is -1) is exactly the z-depth.
    return _ray_mesh_t(mesh, c2w[:3, 3], c2w[:3, :3] @ d_cam)


def _distance_to_mesh(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """(N,) unsigned distance of points to the mesh, brute force over all triangles (no rtree needed)."""
    tri = np.asarray(mesh.triangles)
    out = []
    for p in np.asarray(points, dtype=np.float64):
        closest = trimesh.triangles.closest_point(tri, np.broadcast_to(p, (len(tri), 3)))
        out.append(np.linalg.norm(closest - p, axis=1).min())
    return np.array(out)


# ------------------------------------------------------------------------------------------------ scene


def test_scene_is_metric_room(scene):
    assert np.allclose(scene.aabb, [[-2.5, -2.0, 0.0], [2.5, 2.0, 2.6]])
    lo, hi = scene.mesh.bounds
    assert hi[2] == pytest.approx(2.7) and lo[2] == pytest.approx(-0.1)  # 10 cm floor / ceiling slabs
    assert 4.9 < hi[0] - lo[0] < 5.5 and 3.9 < hi[1] - lo[1] < 4.5
    assert len(scene.face_part) == len(scene.mesh.faces)
    assert scene.face_material.max() < len(scene.materials)
    # Ceiling height measured by a ray straight up from the middle of the room (world up = +Z).
    t = _ray_mesh_t(scene.mesh, np.array([1.5, -1.0, 1.0]), np.array([0.0, 0.0, 1.0]))
    assert 1.0 + t == pytest.approx(2.6, abs=1e-6)
    # Every furniture part is a closed primitive: the mesh splits into watertight pieces.
    assert all(p.is_watertight for p in scene.mesh.split(only_watertight=False))


# ------------------------------------------------------------------------------------------------ rendering


@needs_o3d
def test_depth_of_a_wall_is_plane_distance(scene):
    from scenegen.cameras.poses import look_at_c2w
    from scenegen.data.synth import cameras_from_c2w, render_views

    # Camera 2.5 m from the east wall (x = 2.5), looking at a bare patch between the shelf and the poster.
    c2w = look_at_c2w([0.0, -0.15, 1.5], [2.5, -0.15, 1.5])
    cams = cameras_from_c2w(c2w[None], width=40, height=30, fov_deg=10.0)
    _, depth = render_views(scene, cams)
    # z-depth (not ray length) is the same for every pixel of a fronto-parallel plane.
    np.testing.assert_allclose(depth[0], 2.5, atol=2e-4)


@needs_o3d
def test_depth_matches_independent_ray_cast(scene):
    from scenegen.data.synth import render_views
    from synth_rooms import default_demo_cameras

    cams = default_demo_cameras(scene, 4, width=32, height=24, seed=3)
    _, depth = render_views(scene, cams)
    for i in range(len(cams)):
        c2w = np.eye(4)
        c2w[:3] = cams.c2w[i].double().numpy()
        f, cx, cy = float(cams.fx[i]), float(cams.cx[i]), float(cams.cy[i])
        for row, col in [(12, 16), (3, 5), (20, 28)]:
            expected = _independent_z_depth(scene.mesh, c2w, f, f, cx, cy, col + 0.5, row + 0.5)
            assert depth[i, row, col] == pytest.approx(expected, abs=1e-3), (i, row, col)


@needs_o3d
def test_images_are_textured(scene):
    from scenegen.data.synth import render_views
    from synth_rooms import default_demo_cameras

    cams = default_demo_cameras(scene, 6, width=80, height=60, seed=1)
    rgb, depth = render_views(scene, cams)
    assert rgb.dtype == np.uint8 and rgb.shape == (6, 60, 80, 3) and depth.shape == (6, 60, 80)
    for img in rgb.astype(np.float64):
        assert img.std() > 20.0  # not flat
        grad = np.abs(np.diff(img, axis=1)).mean() + np.abs(np.diff(img, axis=0)).mean()
        assert grad > 3.0  # edges and texture detail
        assert len(np.unique(img.reshape(-1, 3), axis=0)) > 300
    assert (depth >= 0).all() and depth.max() < 7.0


@needs_o3d
def test_rendering_is_deterministic(scene):
    from scenegen.data.synth import render_views
    from synth_rooms import default_demo_cameras

    cams = default_demo_cameras(scene, 2, width=32, height=24, seed=5)
    a, da = render_views(scene, cams)
    b, db = render_views(scene, cams, chunk_rays=100)  # different chunking, same result
    assert np.array_equal(a, b) and np.array_equal(da, db)


@needs_o3d
def test_supersampled_views_are_the_box_filtered_larger_render(scene):
    """k x k rays per pixel are the pixel centres of a k times larger render: the supersampled view equals
    that render box-filtered (within one 8-bit level: it averages before rounding), its depth is the pixel
    centres', and it differs from the 1-ray view where texture aliases."""
    from scenegen.data.synth import render_views
    from synth_rooms import default_demo_cameras

    cams = default_demo_cameras(scene, 2, width=40, height=30, seed=3)
    one, d1 = render_views(scene, cams)
    aa, d2 = render_views(scene, cams, supersample=2, chunk_rays=1000)
    big, _ = render_views(scene, cams.scaled(2.0))
    boxed = big.astype(np.float64).reshape(2, 30, 2, 40, 2, 3).mean((2, 4))
    assert np.abs(aa.astype(np.float64) - boxed).max() <= 1.0
    assert np.array_equal(d1, d2)
    assert np.abs(aa.astype(float) - one.astype(float)).mean() > 0.5
    # lighting shared within a pixel and surface (training views): close to exact supersampling
    ms, d3 = render_views(scene, cams, supersample=2, shared_lighting=True)
    mse = np.mean((ms.astype(np.float64) - aa.astype(np.float64)) ** 2) / 255.0**2
    assert np.array_equal(d1, d3) and -10 * np.log10(max(mse, 1e-12)) > 32.0
    with pytest.raises(ValueError):
        render_views(scene, cams, supersample=0)


# ------------------------------------------------------------------------------------------------ cameras


@needs_o3d
def test_cameras_are_in_free_space(scene):
    from scenegen.data.synth import free_space_mask
    from synth_rooms import default_demo_cameras, demo_tour_path_c2w

    cams = default_demo_cameras(scene, 30, seed=0)
    centers = cams.centers.double().numpy()
    assert ((centers[:, 2] >= 1.2) & (centers[:, 2] <= 1.8)).all()
    assert free_space_mask(scene, centers).all()
    assert _distance_to_mesh(scene.mesh, centers).min() >= 0.3 - 1e-4  # independent distance check
    rot = cams.c2w[:, :, :3].double().numpy()
    assert np.allclose(rot @ rot.transpose(0, 2, 1), np.eye(3), atol=1e-5)
    assert np.allclose(np.linalg.det(rot), 1.0, atol=1e-5)
    assert np.abs(rot[:, 2, 0]).max() < 1e-5  # no roll: camera +X is horizontal (world up = +Z)
    # Points inside furniture are rejected.
    assert not free_space_mask(scene, [[0.0, 1.5, 0.2], [2.3, -1.0, 1.0]]).any()

    tour = demo_tour_path_c2w(scene, 40)
    assert tour.shape == (40, 4, 4)
    assert free_space_mask(scene, tour[:, :3, 3]).all()
    step = np.linalg.norm(np.diff(tour[:, :3, 3], axis=0), axis=1)
    assert step.max() < 0.5  # smooth
    assert np.linalg.norm(tour[0, :3, 3] - tour[-1, :3, 3]) < 0.5  # closed loop


# ------------------------------------------------------------------------------------------------ dataset


@needs_o3d
def test_synthesize_dataset(scene, tmp_path):
    from scenegen.data.synth import render_views
    from synth_rooms import default_demo_cameras
    from synth_rooms import synthesize_demo_dataset as synthesize_dataset

    out = synthesize_dataset(scene, tmp_path / "ds", n_train=6, n_test=2, width=48, height=36, seed=7)
    meta = json.loads((out / "transforms.json").read_text())
    assert meta["camera_model"] == "PINHOLE" and (meta["w"], meta["h"]) == (48, 36)
    assert len(meta["frames"]) == 8
    assert len(meta["train_filenames"]) == 6 and len(meta["test_filenames"]) == 2
    assert not set(meta["train_filenames"]) & set(meta["test_filenames"])
    assert meta["metadata"]["up"] == [0, 0, 1] and meta["metadata"]["units"] == "metres"
    assert np.allclose(meta["metadata"]["aabb"], scene.aabb)
    assert not list(out.rglob("*.tmp*"))

    cams = default_demo_cameras(scene, 8, 48, 36, seed=7)
    rgb, depth = render_views(scene, cams)
    for i, fr in enumerate(meta["frames"]):
        m = np.array(fr["transform_matrix"])
        assert m.shape == (4, 4) and np.allclose(m[3], [0, 0, 0, 1])
        np.testing.assert_allclose(m[:3], cams.c2w[i].numpy(), atol=1e-6)
        img = np.asarray(Image.open(out / fr["file_path"]))
        assert np.array_equal(img, rgb[i])
        dep = np.asarray(Image.open(out / fr["depth_file_path"])).astype(np.float64) * meta["depth_unit_scale_factor"]
        np.testing.assert_allclose(dep, depth[i], atol=6e-4)
    assert meta["fl_x"] == pytest.approx(float(cams.fx[0]))


# ------------------------------------------------------------------------------------------------ open3d import


def _broken_import(message):
    def fake(name, *args, **kwargs):
        raise ImportError(message)

    return fake


def test_missing_libusb_message_is_one_line(monkeypatch):
    monkeypatch.setattr(_o3d, "_cached", None)
    monkeypatch.setattr(_o3d, "_import_module", _broken_import("libusb-1.0.so.0: cannot open shared object file"))
    with pytest.raises(MissingDependencyError) as info:
        _o3d.import_open3d()
    msg = str(info.value)
    assert "\n" not in msg
    assert msg == "open3d needs the system library libusb-1.0: install it with `sudo apt-get install libusb-1.0-0`"


def test_other_import_failure_is_one_line(monkeypatch):
    monkeypatch.setattr(_o3d, "_cached", None)
    monkeypatch.setattr(_o3d, "_import_module", _broken_import("libfoo.so:\n  undefined symbol: bar"))
    with pytest.raises(MissingDependencyError) as info:
        _o3d.import_open3d()
    assert "\n" not in str(info.value) and "open3d" in str(info.value)


def test_synth_does_not_import_open3d_at_import_time():
    code = "import sys, scenegen.data.synth; print('open3d' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
