"""Cameras and ray generation (scenegen.cameras.cameras)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.cameras.cameras import (
    Cameras,
    distort_opencv,
    undistort_fisheye_theta,
    undistort_opencv,
)


def random_c2w(seed: int, n: int = 1) -> torch.Tensor:
    """(n, 3, 4) random rigid camera-to-world matrices (proper rotations)."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, 3, 3, generator=g, dtype=torch.float64))
    q = q * torch.sign(torch.linalg.det(q))[:, None, None]
    t = torch.randn(n, 3, 1, generator=g, dtype=torch.float64) * 2
    return torch.cat([q, t], -1).float()


def make_cam(model="PINHOLE", c2w=None, w=40, h=30, fx=35.0, fy=33.0, cx=21.0, cy=14.5, dist=None) -> Cameras:
    c2w = c2w if c2w is not None else torch.eye(4)[:3][None]
    return Cameras(c2w=c2w, fx=fx, fy=fy, cx=cx, cy=cy, width=w, height=h, distortion=dist, model=model)


def project(points_world: torch.Tensor, cam: Cameras, i: int = 0):
    """Reference projection (OpenCV maths written out independently): world (P, 3) -> (u, v), depth."""
    c2w = cam.c2w[i].double()
    rot, t = c2w[:, :3], c2w[:, 3]
    p_cam_gl = (points_world.double() - t) @ rot  # world -> OpenGL camera
    x, y, z = p_cam_gl[:, 0], -p_cam_gl[:, 1], -p_cam_gl[:, 2]  # OpenCV camera: y down, z forward
    a, b = x / z, y / z
    k1, k2, k3, k4, p1, p2 = cam.distortion[i].double().tolist()
    model = cam.model[i]
    if model == "OPENCV":
        r2 = a * a + b * b
        rad = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
        a, b = a * rad + 2 * p1 * a * b + p2 * (r2 + 2 * a * a), b * rad + p1 * (r2 + 2 * b * b) + 2 * p2 * a * b
    elif model == "OPENCV_FISHEYE":
        r = torch.sqrt(a * a + b * b)
        theta = torch.atan(r)
        theta_d = theta * (1 + k1 * theta**2 + k2 * theta**4 + k3 * theta**6 + k4 * theta**8)
        s = torch.where(r > 0, theta_d / r, torch.ones_like(r))
        a, b = a * s, b * s
    u = cam.fx[i].double() * a + cam.cx[i].double()
    v = cam.fy[i].double() * b + cam.cy[i].double()
    return u, v, z


def ray_point_distance(origins, dirs, points) -> torch.Tensor:
    d = points.double() - origins.double()
    along = (d * dirs.double()).sum(-1, keepdim=True)
    return (d - along * dirs.double()).norm(dim=-1)


# ---------------------------------------------------------------------------------------------------------------


def test_pixel_grid_is_row_major_pixel_centres():
    cam = make_cam(w=4, h=3)
    u, v = cam.pixel_grid(0)
    assert u.shape == (12,) and v.shape == (12,)
    assert u[:4].tolist() == [0.5, 1.5, 2.5, 3.5] and v[:4].tolist() == [0.5] * 4
    assert u[4].item() == 0.5 and v[4].item() == 1.5  # second row starts at column 0


def test_pixel_centre_rays_identity_camera():
    # 4x2 image, principal point in the middle: the four rays around the centre are symmetric; identity c2w.
    cam = make_cam(w=4, h=2, fx=2.0, fy=2.0, cx=2.0, cy=1.0)
    o, d = cam.camera_rays(0)
    assert o.shape == (8, 3) and d.shape == (8, 3)
    assert torch.allclose(d.norm(dim=-1), torch.ones(8), atol=1e-6)
    # pixel (0, 0): image coords (0.5, 0.5) -> camera (x, y) = ((0.5-2)/2, -(0.5-1)/2) = (-0.75, 0.25), z = -1
    expected = torch.tensor([-0.75, 0.25, -1.0])
    assert torch.allclose(d[0], expected / expected.norm(), atol=1e-6)
    # columns 1 and 2 of row 0 are mirror images in x; rows 0 and 1 mirror images in y
    assert torch.allclose(d[1] * torch.tensor([-1.0, 1, 1]), d[2], atol=1e-6)
    assert torch.allclose(d[0] * torch.tensor([1.0, -1, 1]), d[4], atol=1e-6)
    assert torch.all(d[:, 2] < 0)  # looking down -Z
    assert torch.all(d[:4, 1] > 0) and torch.all(d[4:, 1] < 0)  # +Y up: the top row looks up


def test_pinhole_rays_hit_projected_points():
    c2w = random_c2w(0, 3)
    cam = Cameras.cat([make_cam(c2w=c2w[i : i + 1], fx=30.0 + i, fy=31.0 - i, cx=20.0 + i, cy=15.0) for i in range(3)])
    g = torch.Generator().manual_seed(1)
    for i in range(3):
        # points in front of camera i, in its OpenGL frame, then to world
        r = torch.rand(3, 50, generator=g)
        p_cam = torch.stack([r[0] * 2 - 1, r[1] * 2 - 1, -(r[2] * 4 + 1)], -1)
        p_world = p_cam @ cam.c2w[i, :, :3].T + cam.c2w[i, :, 3]
        u, v, z = project(p_world, cam, i)
        assert torch.all(z > 0)
        o, d = cam.generate_rays(torch.full((50,), i), u.float(), v.float())
        assert torch.allclose(o, cam.c2w[i, :, 3].expand(50, 3))
        assert ray_point_distance(o, d, p_world).max() < 1e-4
        assert torch.all(((p_world - o) * d).sum(-1) > 0)  # the point is in front, not behind


def test_principal_point_ray_is_optical_axis():
    c2w = random_c2w(3)
    cam = make_cam(c2w=c2w)
    o, d = cam.generate_rays(torch.zeros(1), cam.cx[:1], cam.cy[:1])
    assert torch.allclose(d[0], -c2w[0, :, 2], atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    x=st.floats(-0.7, 0.7),
    y=st.floats(-0.7, 0.7),
    k1=st.floats(-0.2, 0.2),
    k2=st.floats(-0.05, 0.05),
    p1=st.floats(-0.005, 0.005),
    p2=st.floats(-0.005, 0.005),
)
def test_opencv_distort_undistort_round_trip(x, y, k1, k2, p1, p2):
    dist = torch.tensor([[k1, k2, 0.0, 0.0, p1, p2]], dtype=torch.float64)
    xt, yt = torch.tensor([x], dtype=torch.float64), torch.tensor([y], dtype=torch.float64)
    xd, yd = distort_opencv(xt, yt, dist)
    xu, yu = undistort_opencv(xd, yd, dist)
    assert abs(xu.item() - x) < 1e-7 and abs(yu.item() - y) < 1e-7


def test_opencv_rays_hit_projected_points():
    c2w = random_c2w(4)
    dist = torch.tensor([0.08, -0.03, 0.004, 0.0, 0.002, -0.001])
    cam = make_cam("OPENCV", c2w=c2w, dist=dist)
    g = torch.Generator().manual_seed(2)
    r = torch.rand(2, 200, generator=g)
    p_cam = torch.stack([r[0] - 0.5, r[1] - 0.5, -torch.ones(200) * 1.3], -1)
    p_world = p_cam @ c2w[0, :, :3].T + c2w[0, :, 3]
    u, v, _ = project(p_world, cam)
    o, d = cam.generate_rays(torch.zeros(200), u.float(), v.float())
    assert ray_point_distance(o, d, p_world).max() < 2e-4


def test_opencv_zero_distortion_equals_pinhole():
    c2w = random_c2w(5)
    a = make_cam("OPENCV", c2w=c2w)
    b = make_cam("PINHOLE", c2w=c2w)
    assert torch.allclose(a.camera_rays(0)[1], b.camera_rays(0)[1], atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(theta=st.floats(0.0, 1.4), k1=st.floats(-0.05, 0.1), k2=st.floats(-0.02, 0.02), k3=st.floats(-0.005, 0.005))
def test_fisheye_theta_round_trip(theta, k1, k2, k3):
    k4 = 0.001
    dist = torch.tensor([k1, k2, k3, k4, 0.0, 0.0], dtype=torch.float64)
    t = torch.tensor([theta], dtype=torch.float64)
    theta_d = t * (1 + k1 * t**2 + k2 * t**4 + k3 * t**6 + k4 * t**8)
    assert abs(undistort_fisheye_theta(theta_d, dist).item() - theta) < 1e-6


def test_fisheye_rays_hit_projected_points_up_to_80_degrees():
    c2w = random_c2w(6)
    dist = torch.tensor([0.05, -0.01, 0.002, -0.0005, 0.0, 0.0])
    cam = make_cam("OPENCV_FISHEYE", c2w=c2w, w=200, h=200, fx=60.0, fy=60.0, cx=100.0, cy=100.0, dist=dist)
    ang = torch.linspace(0.0, math.radians(80), 30)
    phi = torch.linspace(0.0, 2 * math.pi, 30)
    p_cam = torch.stack([torch.sin(ang) * torch.cos(phi), torch.sin(ang) * torch.sin(phi), -torch.cos(ang)], -1) * 2.0
    p_world = p_cam @ c2w[0, :, :3].T + c2w[0, :, 3]
    u, v, _ = project(p_world, cam)
    o, d = cam.generate_rays(torch.zeros(30), u.float(), v.float())
    assert ray_point_distance(o, d, p_world).max() < 1e-4


def test_equirectangular_directions_unit_and_cover_sphere():
    cam = make_cam("EQUIRECTANGULAR", w=64, h=32, fx=10.0, fy=10.0, cx=32.0, cy=16.0)
    _, d = cam.camera_rays(0)
    assert torch.allclose(d.norm(dim=-1), torch.ones(len(d)), atol=1e-6)
    # centre of the panorama looks forward (-Z), a quarter to the right looks +X, the top row looks up
    _, dc = cam.generate_rays(torch.zeros(3), torch.tensor([32.0, 48.0, 32.0]), torch.tensor([16.0, 16.0, 0.0]))
    assert torch.allclose(dc[0], torch.tensor([0.0, 0.0, -1.0]), atol=1e-6)
    assert torch.allclose(dc[1], torch.tensor([1.0, 0.0, 0.0]), atol=1e-6)
    assert torch.allclose(dc[2], torch.tensor([0.0, 1.0, 0.0]), atol=1e-6)
    # covering: every direction on the sphere is within one pixel's angle of some ray
    g = torch.Generator().manual_seed(0)
    probes = torch.randn(500, 3, generator=g)
    probes = probes / probes.norm(dim=-1, keepdim=True)
    max_gap = torch.acos((probes @ d.T).max(dim=1).values.clamp(-1, 1)).max()
    assert max_gap < 2 * math.pi / 64  # about one pixel of longitude
    # and the solid angle sums to 4 pi (pixel area cos(lat) dlon dlat)
    lat = torch.asin(d[:, 1].clamp(-1, 1))
    area = (torch.cos(lat) * (2 * math.pi / 64) * (math.pi / 32)).sum()
    assert abs(area.item() - 4 * math.pi) < 0.02


def test_scaled_halves_intrinsics_and_keeps_rays():
    c2w = random_c2w(7)
    dist = torch.tensor([0.05, -0.01, 0.0, 0.0, 0.001, 0.0])
    cam = make_cam("OPENCV", c2w=c2w, w=40, h=30, fx=35.0, fy=33.0, cx=21.0, cy=14.5, dist=dist)
    half = cam.scaled(0.5)
    assert half.width.item() == 20 and half.height.item() == 15
    assert half.fx.item() == pytest.approx(17.5) and half.fy.item() == pytest.approx(16.5)
    assert half.cx.item() == pytest.approx(10.5) and half.cy.item() == pytest.approx(7.25)
    assert torch.equal(half.distortion, cam.distortion) and half.model == cam.model
    # the same image-plane point (scaled coordinates) gives the same ray
    u = torch.tensor([0.0, 7.3, 40.0])
    v = torch.tensor([0.0, 22.1, 30.0])
    _, d_full = cam.generate_rays(torch.zeros(3), u, v)
    _, d_half = half.generate_rays(torch.zeros(3), u * 0.5, v * 0.5)
    assert torch.allclose(d_full, d_half, atol=1e-6)


def test_scaled_odd_sizes_use_the_rounded_size():
    cam = make_cam(w=101, h=75, fx=90.0, fy=90.0, cx=50.5, cy=37.5)
    s = cam.scaled(1 / 4)
    w, h = s.width.item(), s.height.item()
    assert (w, h) == (round(101 / 4), 19)  # 25.25 -> 25, 18.75 -> 19
    # intrinsics follow the actual size ratio, so the image corners keep their rays
    assert s.fx.item() == pytest.approx(90.0 * w / 101) and s.fy.item() == pytest.approx(90.0 * h / 75)
    _, d_full = cam.generate_rays(torch.zeros(2), torch.tensor([0.0, 101.0]), torch.tensor([0.0, 75.0]))
    _, d_small = s.generate_rays(torch.zeros(2), torch.tensor([0.0, float(w)]), torch.tensor([0.0, float(h)]))
    assert torch.allclose(d_full, d_small, atol=1e-6)


def test_indexing_cat_and_mixed_models():
    c2w = random_c2w(8, 3)
    cams = Cameras.cat(
        [
            make_cam("PINHOLE", c2w=c2w[0:1]),
            make_cam("OPENCV", c2w=c2w[1:2], dist=torch.tensor([0.1, 0, 0, 0, 0, 0])),
            make_cam("OPENCV_FISHEYE", c2w=c2w[2:3], dist=torch.tensor([0.05, 0, 0, 0, 0, 0])),
        ]
    )
    assert len(cams) == 3 and cams.model == ["PINHOLE", "OPENCV", "OPENCV_FISHEYE"]
    assert cams[1].model == ["OPENCV"] and len(cams[[0, 2]]) == 2
    assert cams[1:].model == ["OPENCV", "OPENCV_FISHEYE"]  # slices
    sel = cams[torch.tensor([True, False, True])]  # boolean masks select, not index 0/1
    assert sel.model == ["PINHOLE", "OPENCV_FISHEYE"] and torch.equal(sel.c2w, cams.c2w[[0, 2]])
    assert torch.equal(cams[np.array([2])].c2w, cams.c2w[2:3])
    # a batch mixing models equals each camera's own rays
    u = torch.tensor([3.0, 17.0, 33.0, 5.0])
    v = torch.tensor([2.0, 20.0, 11.0, 29.0])
    idx = torch.tensor([2, 0, 1, 2])
    _, d = cams.generate_rays(idx, u, v)
    for k in range(4):
        _, dk = cams[int(idx[k])].generate_rays(torch.zeros(1), u[k : k + 1], v[k : k + 1])
        assert torch.allclose(d[k], dk[0], atol=1e-6)


def test_cameras_accept_4x4_and_numpy_poses():
    m = np.eye(4)
    m[:3, 3] = [1.0, 2.0, 3.0]
    cam = Cameras(c2w=m[None], fx=1.0, fy=1.0, cx=1.0, cy=1.0, width=2, height=2)
    assert cam.c2w.shape == (1, 3, 4) and cam.c2w.dtype == torch.float32
    assert torch.allclose(cam.centers, torch.tensor([[1.0, 2.0, 3.0]]))
    assert cam.width.dtype == torch.int64 and cam.distortion.shape == (1, 6)


def test_pose_helpers():
    """cameras.poses: the one look-at, up basis and vector-to-vector rotation every stage uses."""
    from scenegen.cameras.poses import look_at_c2w, rotation_between, up_basis

    c2w = look_at_c2w([2.0, 0.0, 1.0], [0.0, 0.0, 1.0], up=[0.0, 0.0, 1.0])
    assert np.allclose(-c2w[:3, 2], [-1.0, 0.0, 0.0]) and np.allclose(c2w[:3, 1], [0.0, 0.0, 1.0])
    assert np.allclose(c2w[:3, :3] @ c2w[:3, :3].T, np.eye(3)) and np.isclose(np.linalg.det(c2w[:3, :3]), 1.0)
    with pytest.raises(ValueError):
        look_at_c2w([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], up=[0.0, 0.0, 1.0])  # looking straight up
    for up in ([0, 0, 1], [0, 1, 0], [0, 0, -1], [0.3, -0.2, 0.9]):
        r = up_basis(up)
        assert np.allclose(r.T @ r, np.eye(3)) and np.isclose(np.linalg.det(r), 1.0)
        assert np.allclose(r[:, 2], np.asarray(up) / np.linalg.norm(up))
    assert np.array_equal(up_basis([0, 0, 1]), np.eye(3))
    rng = np.random.default_rng(0)
    for a, b in [(rng.normal(size=3), rng.normal(size=3)) for _ in range(5)] + [([0, 0, -1], [0, 0, 1])]:
        r = rotation_between(a, b)
        assert np.isclose(np.linalg.det(r), 1.0)
        assert np.allclose(r @ (np.asarray(a) / np.linalg.norm(a)), np.asarray(b) / np.linalg.norm(b))
