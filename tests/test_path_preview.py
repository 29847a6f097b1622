"""Camera-path preview pictures (top/side map, contact sheet) and 360-degree MP4 metadata."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from scenegen.paths import camera_path_from_dict, contact_sheet_png, preview_png, render_contact_frames
from scenegen.paths.preview import KEYFRAME_FILL, KEYFRAME_RADIUS, WARNING_COLOR, path_color, preview_geometry
from scenegen.video.render_path import render_camera_path
from scenegen.video.writer import (
    SPHERICAL_UUID,
    VideoWriter,
    inject_spherical_metadata,
    probe_video,
    read_spherical_metadata,
    write_video,
)


def _read(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def _look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """(4, 4) OpenGL camera-to-world (-Z forward) at ``eye`` looking at ``target``."""
    eye, target, up = (np.asarray(v, dtype=float) for v in (eye, target, up))
    f = target - eye
    f /= np.linalg.norm(f)
    r = np.cross(f, up)
    r /= np.linalg.norm(r)
    u = np.cross(r, f)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = r, u, -f, eye
    return m


def _loop(n: int = 120) -> np.ndarray:
    """(n, 4, 4): a 3 m x 2 m ellipse at 1.5 m, rising 0.6 m, looking at the room centre."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    eyes = np.stack([3.0 * np.cos(t), 2.0 * np.sin(t), 1.5 + 0.6 * t / (2 * np.pi)], 1)
    return np.stack([_look_at(e, (0.0, 0.0, 1.0)) for e in eyes])


def _room_points(n: int = 40000, seed: int = 0) -> np.ndarray:
    """(n, 3) points on the walls and floor of an 8 m x 6 m x 3 m room."""
    rng = np.random.default_rng(seed)
    p = rng.uniform([-4, -3, 0], [4, 3, 3], size=(n, 3))
    face = rng.integers(0, 5, n)
    p[face == 0, 0], p[face == 1, 0] = -4, 4
    p[face == 2, 1], p[face == 3, 1] = -3, 3
    p[face == 4, 2] = 0
    return p


def _near(pixel: np.ndarray, color, tol: float) -> bool:
    return float(np.abs(pixel - np.asarray(color, dtype=int)).max()) <= tol


# ------------------------------------------------------------------------------------------------ preview


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    out = tmp_path_factory.mktemp("preview") / "sub" / "path.png"
    c2w = _loop(120)
    kf_idx = [0, 30, 60, 90]
    train = np.stack([_look_at((x, y, 1.6), (0, 0, 1)) for x in (-3, 0, 3) for y in (-2.5, 2.5)])
    warn = {44, 45, 46}
    args = dict(c2w=c2w, keyframes_c2w=c2w[kf_idx], up=(0, 0, 1), train_c2w=train, points=_room_points())
    res = preview_png(out, warnings_frames=warn, title="test loop", seconds=5.0, **args)
    return res, out, args, kf_idx, warn


def test_preview_png_is_written_atomically_with_the_expected_size(preview):
    res, out, *_ = preview
    assert res == out and out.is_file()
    img = _read(out)
    assert img.shape == (720, 1400, 3)
    assert sorted(p.name for p in out.parent.iterdir()) == ["path.png"]  # no temporary file left


def test_preview_path_is_coloured_by_time(preview):
    _, out, args, kf_idx, warn = preview
    img = _read(out)
    geo = preview_geometry(args["c2w"], args["keyframes_c2w"], args["up"], args["train_c2w"], args["points"])
    n = len(args["c2w"])
    # Frames away from keyframes, arrows ((k + 0.5) / 10 of the path) and warnings: the line has the colour of
    # its time, in both views.
    for view in ("top", "side"):
        px = geo.to_pixels(args["c2w"][:, :3, 3], view)
        hits = 0
        for i in (17, 50, 77, 105):
            x, y = np.round(px[i]).astype(int)
            patch = img[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3)
            want = path_color(i / (n - 1)).astype(int)
            hits += int(np.abs(patch - want).max(1).min() <= 40)
        assert hits >= 3, view
    # Start and end colours differ (blue vs orange) and plenty of saturated path pixels exist.
    assert np.abs(path_color(0.0).astype(int) - path_color(1.0).astype(int)).max() > 150
    sat = img.max(2) - img.min(2)
    assert (sat > 100).sum() > 2000


def test_preview_keyframes_are_numbered_circles(preview):
    _, out, args, kf_idx, _ = preview
    img = _read(out)
    geo = preview_geometry(args["c2w"], args["keyframes_c2w"], args["up"], args["train_c2w"], args["points"])
    yy, xx = np.mgrid[-20:21, -20:21]
    disk = (xx**2 + yy**2) <= (KEYFRAME_RADIUS - 2) ** 2
    for view in ("top", "side"):
        kp = geo.to_pixels(args["keyframes_c2w"][:, :3, 3], view)
        for x, y in np.round(kp).astype(int):
            patch = img[y - 20 : y + 21, x - 20 : x + 21][disk]
            dark = (np.abs(patch - np.asarray(KEYFRAME_FILL)).max(1) <= 30).mean()
            white = (patch.min(1) >= 200).mean()
            assert dark > 0.45, (view, x, y, dark)  # the filled circle
            assert white > 0.03, (view, x, y, white)  # its number
    # The top view's keyframes are far apart: four separate circles there.
    kp = geo.to_pixels(args["keyframes_c2w"][:, :3, 3], "top")
    d = np.linalg.norm(kp[:, None] - kp[None], axis=-1)
    assert d[~np.eye(len(kp), dtype=bool)].min() > 3 * KEYFRAME_RADIUS
    # Keyframe pixels are not on a blank image: the same spot of a preview without keyframes is not dark.
    plain = preview_png(out.parent / "plain.png", args["c2w"], None, args["up"], None, None)
    geo2 = preview_geometry(args["c2w"], None, args["up"])
    x, y = np.round(geo2.to_pixels(args["keyframes_c2w"][1:2, :3, 3], "top")[0]).astype(int)
    assert not _near(_read(plain)[y, x], KEYFRAME_FILL, 30)


def test_preview_warnings_are_red(preview):
    _, out, args, _, warn = preview
    img = _read(out)
    geo = preview_geometry(args["c2w"], args["keyframes_c2w"], args["up"], args["train_c2w"], args["points"])
    px = geo.to_pixels(args["c2w"][sorted(warn), :3, 3], "top")
    for x, y in np.round(px).astype(int):
        assert _near(img[y, x], WARNING_COLOR, 40)


def test_preview_same_scale_and_consistent_projection():
    c2w = _loop(60)
    geo = preview_geometry(c2w, up=(0, 0, 1))
    top = geo.to_pixels(c2w[:, :3, 3], "top")
    side = geo.to_pixels(c2w[:, :3, 3], "side")
    # The ellipse is 6 m wide in both views and 4 m deep in the top view, at one scale.
    assert np.ptp(top[:, 0]) == pytest.approx(np.ptp(side[:, 0]), rel=1e-6)
    assert np.ptp(top[:, 0]) / np.ptp(top[:, 1]) == pytest.approx(6.0 / 4.0, rel=0.02)
    assert np.ptp(side[:, 1]) / geo.scale == pytest.approx(0.6, rel=0.05)
    # +x to the right, +y / +z up the page; everything inside its panel.
    i_east, i_north = 0, 15
    assert top[i_east, 0] > top[30, 0] and top[i_north, 1] < top[45, 1]
    assert side[59, 1] < side[0, 1]  # the last frame is higher
    for pts, rect in ((top, geo.top_rect), (side, geo.side_rect)):
        assert (pts[:, 0] > rect[0]).all() and (pts[:, 0] < rect[2]).all()
        assert (pts[:, 1] > rect[1]).all() and (pts[:, 1] < rect[3]).all()


def test_preview_other_up_vectors_and_degenerate_paths(tmp_path):
    # y-up (nerfstudio / OpenGL worlds), a single camera, a camera turning on the spot, a long flat path.
    zup = _loop(40)
    rot = np.eye(4)
    rot[:3, :3] = [[1, 0, 0], [0, 0, 1], [0, -1, 0]]  # (x, y, z) -> (x, z, -y): z-up world -> y-up world
    c2w = rot @ zup
    out = preview_png(tmp_path / "yup.png", c2w, c2w[::10], up=(0, 1, 0), warnings_frames=set())
    assert _read(out).shape == (720, 1400, 3)
    # Seen from its own up, the rotated path looks exactly like the original one.
    for view in ("top", "side"):
        np.testing.assert_allclose(preview_geometry(c2w, c2w[::10], up=(0, 1, 0)).to_pixels(c2w[:, :3, 3], view),
                                   preview_geometry(zup, zup[::10]).to_pixels(zup[:, :3, 3], view), atol=1e-6)
    one = preview_png(tmp_path / "one.png", torch.from_numpy(_loop(5)[:1]), title="one camera")
    assert _read(one).shape == (720, 1400, 3)
    spin = np.stack([_look_at((1, 1, 1.5), (1 + np.cos(a), 1 + np.sin(a), 1.5)) for a in np.linspace(0, 6, 30)])
    assert _read(preview_png(tmp_path / "spin.png", spin, size=(800, 500))).shape == (500, 800, 3)
    long = np.tile(np.eye(4), (50, 1, 1))
    long[:, 0, 3] = np.linspace(0, 30, 50)
    geo = preview_geometry(long)
    assert geo.layout == "rows"
    assert _read(preview_png(tmp_path / "long.png", long)).shape == (720, 1400, 3)
    with pytest.raises(ValueError, match="c2w"):
        preview_png(tmp_path / "bad.png", np.zeros((3, 3)))
    assert not (tmp_path / "bad.png").exists()


# ------------------------------------------------------------------------------------------------ contact sheet


def test_contact_sheet_dimensions_and_tiles(tmp_path):
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255), (255, 0, 255), (90, 90, 90)]
    frames = [np.full((48, 64, 3), c, np.uint8) for c in colors]
    labels = [f"frame {i}" for i in range(7)]
    out = contact_sheet_png(tmp_path / "sheet.png", frames, labels, cols=3, min_tile_width=0)
    img = _read(out)
    pad, label_h = 10, 24
    assert img.shape == (3 * (48 + label_h + pad) + pad, 3 * (64 + pad) + pad, 3)
    for k, c in enumerate(colors):
        r, col = divmod(k, 3)
        cx, cy = pad + col * (64 + pad) + 32, pad + r * (48 + label_h + pad) + 24
        assert _near(img[cy, cx], c, 2)
        # The label band under the tile has light text pixels.
        band = img[cy + 24 + 2 : cy + 24 + label_h, cx - 30 : cx + 30]
        assert (band.min(2) > 150).sum() > 10
    # Small frames are enlarged by an integer factor; fewer frames than cols -> fewer columns.
    out = contact_sheet_png(tmp_path / "small.png", frames[:2], labels[:2], cols=6, min_tile_width=200)
    assert _read(out).shape == (1 * (48 * 4 + label_h + pad) + pad, 2 * (64 * 4 + pad) + pad, 3)
    with pytest.raises(ValueError):
        contact_sheet_png(tmp_path / "x.png", frames, labels[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sheet.png", "small.png"]


def _perspective_path(n=30, w=64, h=48, camera_type="perspective"):
    cams = []
    for i in range(n):
        m = np.eye(4)
        m[:3, 3] = [0.1 * i, 0.0, 2.0]
        cams.append({"camera_to_world": m.reshape(-1).tolist(), "fov": 50.0, "aspect": w / h})
    return camera_path_from_dict({"camera_type": camera_type, "render_height": h, "render_width": w,
                                  "fps": 10, "seconds": n / 10, "camera_path": cams})


def test_render_contact_frames_picks_evenly_spaced_low_res_frames(tmp_path):
    path = _perspective_path(30, 64, 48)
    calls = []

    def render_fn(cameras, i):
        calls.append(i)
        h, w = int(cameras.height[i]), int(cameras.width[i])
        return {"rgb": torch.full((h, w, 3), i / 29.0)}

    frames, labels = render_contact_frames(render_fn, path, count=12, scale=0.25)
    assert len(frames) == len(labels) == 12
    assert calls[0] == 0 and calls[-1] == 29 and calls == sorted(set(calls))
    assert all(f.shape == (12, 16, 3) and f.dtype == np.uint8 for f in frames)
    assert frames[-1][0, 0, 0] == 255 and frames[0][0, 0, 0] == 0
    assert labels[-1].startswith("frame 29/29") and "2.90 s" in labels[-1]
    frames2, _ = render_contact_frames(render_fn, _perspective_path(5), count=12, scale=0.5)
    assert len(frames2) == 5
    out = contact_sheet_png(tmp_path / "s.png", frames, labels)
    assert _read(out).shape[1] == 6 * (16 * 13 + 10) + 10  # 16 px frames enlarged 13x to >= 200 px


# ------------------------------------------------------------------------------------------------ 360 metadata


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[str, int, int, int]]:
    """(type, start, end, header size) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        out.append((kind.decode("latin-1"), pos, pos + size, hdr))
        pos += size
    return out


def _chunk_offsets(data: bytes) -> list[int]:
    """Every stco/co64 entry of the file (all tracks), in order."""
    offs: list[int] = []

    def walk(start, end):
        for kind, s, e, h in _boxes(data, start, end):
            if kind in ("moov", "trak", "mdia", "minf", "stbl"):
                walk(s + h, e)
            elif kind in ("stco", "co64"):
                (count,) = struct.unpack(">I", data[s + h + 4 : s + h + 8])
                fmt = ">I" if kind == "stco" else ">Q"
                width = 4 if kind == "stco" else 8
                offs.extend(struct.unpack(fmt, data[s + h + 8 + k * width : s + h + 8 + (k + 1) * width])[0]
                            for k in range(count))

    walk(0, len(data))
    return offs


def _decode(path: Path) -> list[np.ndarray]:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3).copy() for f in gen]


def _equirect_frames(n=8, w=64, h=32):
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (h, w, 3)).astype(np.uint8)
    return [np.roll(base, 4 * i, axis=1) for i in range(n)]


def _plain_mp4(path: Path, frames, faststart: bool) -> Path:
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    params = ["-movflags", "+faststart"] if faststart else []
    gen = imageio_ffmpeg.write_frames(str(path), (w, h), fps=10, codec="libx264", macro_block_size=1,
                                      output_params=params)
    gen.send(None)
    for f in frames:
        gen.send(f.tobytes())
    gen.close()
    return path


EXPECTED = {"Spherical": "true", "Stitched": "true", "StitchingSoftware": "scenegen",
            "ProjectionType": "equirectangular"}


def test_video_writer_spherical_option(tmp_path):
    frames = _equirect_frames()
    out = tmp_path / "pano.mp4"
    with VideoWriter(out, fps=10, spherical=True) as vw:
        for f in frames:
            vw.write(f)
    assert read_spherical_metadata(out) == EXPECTED
    top = [b[0] for b in _boxes(out.read_bytes())]
    assert top.index("moov") < top.index("mdat")  # the writer's +faststart layout survives
    meta = probe_video(out)
    assert meta["nframes"] == len(frames) and tuple(meta["size"]) == (64, 32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pano.mp4"]
    plain = write_video(tmp_path / "plain.mp4", frames, fps=10)
    assert read_spherical_metadata(plain) is None
    # Same pictures as without metadata.
    assert all(np.array_equal(a, b) for a, b in zip(_decode(out), _decode(plain)))


@pytest.mark.parametrize("faststart", [True, False], ids=["faststart", "moov-at-end"])
def test_inject_spherical_metadata_keeps_the_video_intact(tmp_path, faststart):
    frames = _equirect_frames(10)
    src = _plain_mp4(tmp_path / "src.mp4", frames, faststart)
    before = src.read_bytes()
    top = [b[0] for b in _boxes(before)]
    assert (top.index("moov") < top.index("mdat")) == faststart
    dst = tmp_path / "dst.mp4"
    shutil.copy(src, dst)
    assert inject_spherical_metadata(dst) == dst
    after = dst.read_bytes()
    assert read_spherical_metadata(dst) == EXPECTED

    # Exactly one uuid box was added, at the end of the (only, video) trak; trak and moov grew by its size.
    moov_b = next(b for b in _boxes(before) if b[0] == "moov")
    moov_a = next(b for b in _boxes(after) if b[0] == "moov")
    delta = len(after) - len(before)
    assert moov_a[2] - moov_a[1] == moov_b[2] - moov_b[1] + delta
    trak = next(b for b in _boxes(after, moov_a[1] + 8, moov_a[2]) if b[0] == "trak")
    last = _boxes(after, trak[1] + trak[3], trak[2])[-1]
    assert last[0] == "uuid" and after[last[1] + 8 : last[1] + 24] == SPHERICAL_UUID
    assert last[2] - last[1] == delta
    xml = after[last[1] + 24 : last[2]].decode()
    assert xml.startswith('<?xml version="1.0"?><rdf:SphericalVideo')
    assert "<GSpherical:StitchingSoftware>scenegen</GSpherical:StitchingSoftware>" in xml

    # Chunk offsets: shifted by the inserted size when moov precedes mdat, unchanged otherwise, and they
    # point at the same sample bytes.
    ob, oa = _chunk_offsets(before), _chunk_offsets(after)
    assert len(ob) == len(oa) > 0
    assert oa == ([o + delta for o in ob] if faststart else ob)
    assert all(before[o : o + 16] == after[a : a + 16] for o, a in zip(ob, oa))

    # The video still decodes, frame for frame.
    assert [f.tobytes() for f in _decode(dst)] == [f.tobytes() for f in _decode(src)]
    assert probe_video(dst)["nframes"] == len(frames)

    # Injecting again replaces the box: nothing changes.
    inject_spherical_metadata(dst)
    assert dst.read_bytes() == after
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dst.mp4", "src.mp4"]


def test_inject_refuses_non_mp4_and_leaves_it_untouched(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00" + b"not a movie")
    with pytest.raises(ValueError):
        inject_spherical_metadata(bad)
    assert bad.read_bytes().endswith(b"not a movie")
    assert [p.name for p in tmp_path.iterdir()] == ["bad.mp4"]


def _fake_render(cameras, i):
    h, w = int(cameras.height[i]), int(cameras.width[i])
    u = torch.linspace(0, 1, w)[None, :].expand(h, w)
    return {"rgb": torch.stack([u, u.flip(1), torch.full_like(u, i / 10)], -1)}


def test_render_camera_path_marks_equirectangular_videos(tmp_path):
    pano = render_camera_path(_fake_render, _perspective_path(6, 64, 32, "equirectangular"), tmp_path / "e.mp4",
                              None, progress=False)
    assert read_spherical_metadata(pano["output_video"]) == EXPECTED
    assert probe_video(pano["output_video"])["nframes"] == 6
    flat = render_camera_path(_fake_render, _perspective_path(6, 64, 32), tmp_path / "p.mp4", None, progress=False)
    assert read_spherical_metadata(flat["output_video"]) is None
