"""Output formats: sizes and cameras of each format, re-framing for tall pictures, 360 metadata."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scenegen.core.errors import InputError
from scenegen.core.io import write_png
from scenegen.paths import Keyframe, PathSpec, cameras_from_spec, sample_path
from scenegen.video.assemble import assemble_video
from scenegen.video.formats import (
    FORMAT_NAMES,
    MAX_REFRAMED_VFOV,
    TARGET_PITCH,
    format_path,
    format_size,
    format_spec,
    horizontal_fov,
    pitch_roll,
)
from scenegen.video.writer import read_spherical_metadata

ROOMS = [{"name": "living_room", "start_time": 0.0, "end_time": 1.5}, {"name": "kitchen", "start_time": 1.5,
                                                                         "end_time": 3.0}]


def _rolled(kf: Keyframe, degrees: float) -> Keyframe:
    """The keyframe turned about its own view axis (a tilted horizon)."""
    a = math.radians(degrees)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    m = kf.c2w()
    m[:3, :3] = m[:3, :3] @ rz
    return Keyframe.from_c2w(m, fov=kf.fov, transition=kf.transition)


def _landscape_path() -> PathSpec:
    """A walk at eye height looking down at the floor ahead (-20 deg), one keyframe with a 4 deg roll."""
    kfs = [
        Keyframe.look_at([0, 0, 1.6], [3, 0, 1.6 - 3 * math.tan(math.radians(20))], fov=50, transition=1.5),
        _rolled(Keyframe.look_at([2, 1, 1.6], [4, 3, 1.3], fov=50, transition=1.5), 4.0),
        Keyframe.look_at([3, 3, 1.6], [3, 6, 1.8], fov=50),
    ]
    return PathSpec(kfs, width=1920, height=1080, fps=10, extra={"rooms": ROOMS})


def test_format_table_and_unknown_name():
    sizes = {n: (format_spec(n).width, format_spec(n).height) for n in FORMAT_NAMES}
    assert sizes == {"landscape": (1920, 1080), "vertical": (1080, 1920), "square": (1080, 1080),
                     "360": (3840, 1920), "frames": (1920, 1080), "depth": (1920, 1080)}
    assert format_spec("360").camera_type == "equirectangular" and format_spec("360").spherical
    assert {format_spec(n).output for n in FORMAT_NAMES} == {"mp4", "png", "depth_mp4"}
    assert format_spec("frames").output == "png" and format_spec("depth").output == "depth_mp4"
    with pytest.raises(InputError) as e:
        format_spec("portrait")
    assert e.value.field == "formats" and "portrait" in str(e.value)


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_each_format_renders_at_its_size_with_its_camera(name):
    spec = _landscape_path()
    p = format_path(spec, name, scale=0.25)
    fs = format_spec(name)
    assert (p.width, p.height) == (fs.width // 4, fs.height // 4)
    assert p.width % 2 == 0 and p.height % 2 == 0
    cp = cameras_from_spec(p)  # what the renderer gets
    cams = cp.cameras
    assert cp.camera_type == fs.camera_type
    assert int(cams.width[0]) == p.width and int(cams.height[0]) == p.height
    assert len(cams.width) == spec.num_frames  # timing untouched
    assert p.extra["rooms"] == ROOMS
    assert all(abs(k.aspect - p.width / p.height) < 1e-9 for k in p.keyframes)
    np.testing.assert_allclose([k.position for k in p.keyframes], [k.position for k in spec.keyframes])
    if fs.camera_type == "perspective":  # the focal length the renderer uses matches the vertical fov
        fov = 2 * math.degrees(math.atan(p.height / 2 / float(cams.fy[0])))
        assert abs(fov - p.keyframes[0].fov) < 0.05
    assert spec.width == 1920 and spec.keyframes[0].fov == 50  # the input path is not modified


def test_sizes_stay_even_and_overrides():
    for s in (0.1, 0.13, 0.25, 0.333, 1.0):
        for n in FORMAT_NAMES:
            w, h = format_size(n, scale=s)
            assert w % 2 == 0 and h % 2 == 0 and w >= 2 and h >= 2
            assert abs(w / h - format_spec(n).width / format_spec(n).height) < 0.05
    assert format_size("landscape", scale=0.25) == (480, 270)
    assert format_size("vertical", width=99) == (100, 178)
    assert format_size("360", height=101)[0] == 2 * format_size("360", height=101)[1]
    with pytest.raises(InputError) as e:
        format_size("360", width=400, height=300)
    assert e.value.field == "resolution"
    with pytest.raises(InputError):
        format_size("square", scale=0)


def test_vertical_is_reframed_not_cropped():
    spec = _landscape_path()
    c_land, fov_land, _ = sample_path(spec)
    vert = format_path(spec, "vertical", scale=0.25)
    c_vert, fov_vert, _ = sample_path(vert)
    a_land, a_vert = 1920 / 1080, 1080 / 1920
    for k in range(len(c_vert)):
        pitch_l, roll_l = pitch_roll(c_land[k])
        pitch_v, roll_v = pitch_roll(c_vert[k])
        # the horizon is level on every frame (the landscape path had a 4 deg roll on its way)
        assert abs(roll_v) < 0.05, (k, roll_v)
        # a blind crop keeps the landscape's vertical fov; the re-framed one is wider, within the limit
        assert fov_land[k] + 10 < fov_vert[k] <= MAX_REFRAMED_VFOV + 1e-6
        # ... so it shows far more of the landscape's width than the crop would
        crop_h = horizontal_fov(fov_land[k], a_vert)
        assert horizontal_fov(fov_vert[k], a_vert) > 1.6 * crop_h
        assert horizontal_fov(fov_vert[k], a_vert) <= horizontal_fov(fov_land[k], a_land) + 1e-6
        # aimed closer to the walking pitch, still containing the landscape view's top and bottom edge
        assert min(pitch_l, TARGET_PITCH) - 1e-6 <= pitch_v <= max(pitch_l, TARGET_PITCH) + 1e-6
        assert pitch_v + fov_vert[k] / 2 >= pitch_l + fov_land[k] / 2 - 0.5
        assert pitch_v - fov_vert[k] / 2 <= pitch_l - fov_land[k] / 2 + 0.5
        np.testing.assert_allclose(c_vert[k][:3, 3], c_land[k][:3, 3], atol=1e-9)
    # the first keyframe looked 20 deg down at the floor; the tall frame looks ahead at the room
    assert pitch_roll(spec.keyframes[0].c2w())[0] < -19
    assert abs(pitch_roll(vert.keyframes[0].c2w())[0] - TARGET_PITCH) < 0.01
    # the heading (where the camera looks on the floor plan) is the landscape's
    for kl, kv in zip(spec.keyframes, vert.keyframes):
        fl, fv = -kl.c2w()[:2, 2], -kv.c2w()[:2, 2]
        assert float(fl @ fv) / (np.linalg.norm(fl) * np.linalg.norm(fv)) > 0.9999
    sq = format_path(spec, "square", scale=0.25)
    assert 50 < sq.keyframes[0].fov < vert.keyframes[0].fov  # square widens less than vertical


def test_steep_view_keeps_some_pitch():
    """An orbit looking down 40 deg at an object keeps looking down (the object stays in the tall frame)."""
    spec = PathSpec([Keyframe.look_at([4, 0, 4], [0, 0, 0.6], fov=40)], fps=10)
    k = format_path(spec, "vertical").keyframes[0]
    p_land, p_vert = pitch_roll(spec.keyframes[0].c2w())[0], pitch_roll(k.c2w())[0]
    assert p_land < -39 and p_land < p_vert < -1
    assert p_vert - k.fov / 2 <= p_land - 20 + 1e-6  # the landscape view's lower edge is still in view


def test_360_is_level_and_carries_spherical_metadata(tmp_path: Path):
    spec = _landscape_path()
    p = format_path(spec, "360", scale=0.05)
    assert (p.width, p.height) == (192, 96) and p.camera_type == "equirectangular"
    for c in sample_path(p)[0]:
        pitch, roll = pitch_roll(c)
        assert abs(pitch) < 0.05 and abs(roll) < 0.05
    frames = []
    for k in range(6):
        frames.append(tmp_path / f"{k:05d}.png")
        write_png(frames[-1], np.full((32, 64, 3), 40 * k, np.uint8))
    out = tmp_path / "pano.mp4"
    r = assemble_video(frames, out, fps=6, spherical=format_spec("360").spherical)
    assert r["frames"] == 6
    meta = read_spherical_metadata(out)
    assert meta is not None and meta["ProjectionType"] == "equirectangular" and meta["Spherical"] == "true"
    flat = tmp_path / "flat.mp4"
    assemble_video(frames, flat, fps=6, spherical=format_spec("landscape").spherical)
    assert read_spherical_metadata(flat) is None


def _room_hits(c2w: np.ndarray, fov: float, name: str, scale: float = 0.1):
    """Per pixel of one frame of format ``name``: which surface of a 8 x 6 x 2.6 m room its ray hits first
    (0 floor, 1 wall, 2 ceiling) and the hit height; rays from the renderer's own cameras."""
    spec = PathSpec([Keyframe.from_c2w(c2w, fov=fov, hold=1.0)], width=1920, height=1080, fps=1)
    p = format_path(spec, "landscape" if name == "landscape-crop" else name, scale=scale)
    cams = cameras_from_spec(p).cameras
    o, d = (t.double().numpy() for t in cams.camera_rays(0))
    h, w = int(cams.height[0]), int(cams.width[0])
    lo, hi = np.array([-4.0, -3.0, 0.0]), np.array([4.0, 3.0, 2.6])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d > 0, (hi - o) / d, (lo - o) / d)
    t = np.where(np.isfinite(t) & (t > 0), t, np.inf)
    axis = np.argmin(t, axis=1)
    z = o[:, 2] + t[np.arange(len(t)), axis] * d[:, 2]
    kind = np.where(axis == 2, np.where(d[:, 2] < 0, 0, 2), 1)
    kind, z, d = kind.reshape(h, w), z.reshape(h, w), d.reshape(h, w, 3)
    if name == "landscape-crop":  # a blind 9:16 crop of the landscape picture
        cw = int(round(h * 9 / 16))
        x0 = (w - cw) // 2
        kind, z, d = kind[:, x0:x0 + cw], z[:, x0:x0 + cw], d[:, x0:x0 + cw]
    return kind, z, d


def test_vertical_frame_shows_the_room_not_the_floor():
    """Rays of the rendered cameras in a box room: the re-framed vertical picture holds much less floor than a
    blind crop (the floor is no longer its largest part), its horizon (eye height on the walls) is one image
    row, and it is far wider."""
    kf = _rolled(Keyframe.look_at([0, 0, 1.6], [3, 0.5, 1.6 - 3 * math.tan(math.radians(20))], fov=50), 3.0)
    c2w = kf.c2w()
    crop_kind, crop_z, crop_d = _room_hits(c2w, 50, "landscape-crop")
    vert_kind, vert_z, vert_d = _room_hits(c2w, 50, "vertical")
    floor_crop, floor_vert = (crop_kind == 0).mean(), (vert_kind == 0).mean()
    wall_crop, wall_vert = (crop_kind == 1).mean(), (vert_kind == 1).mean()
    print(f"floor {floor_crop:.2f} -> {floor_vert:.2f}, wall {wall_crop:.2f} -> {wall_vert:.2f}, "
          f"ceiling {(crop_kind == 2).mean():.2f} -> {(vert_kind == 2).mean():.2f}")
    assert floor_vert < 0.75 * floor_crop, (floor_crop, floor_vert)  # much less floor than a crop
    assert floor_vert <= wall_vert and (vert_kind == 2).mean() > 0.15  # walls and ceiling: the whole room

    def horizon_rows(kind, z):
        """Per column, the image row where the walls cross eye height (1.6 m)."""
        rows = []
        for c in range(z.shape[1]):
            wall = np.flatnonzero((kind[:, c] == 1) & (z[:, c] < 1.6))
            if wall.size:
                rows.append(wall[0])
        return np.array(rows)

    hv, hc = horizon_rows(vert_kind, vert_z), horizon_rows(crop_kind, crop_z)
    assert hv.max() - hv.min() <= 1  # level horizon on the vertical frame
    assert hc.max() - hc.min() >= 2  # the landscape's roll tilted it
    yaw = lambda d: np.degrees(np.arctan2(d[..., 1], d[..., 0]))  # noqa: E731
    span_v = np.ptp(yaw(vert_d[vert_d.shape[0] // 2]))
    span_c = np.ptp(yaw(crop_d[crop_d.shape[0] // 2, :]))
    print(f"horizon rows {np.ptp(hc)} -> {np.ptp(hv)}, horizontal view {span_c:.1f} -> {span_v:.1f} deg")
    assert span_v > 1.6 * span_c, (span_v, span_c)
