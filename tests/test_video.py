"""MP4/PNG writers and the resumable camera-path render loop (fake renderer, tiny frames)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from scenegen.paths import camera_path_from_dict
from scenegen.video import (
    VideoWriter,
    colorize_depth,
    make_even,
    probe_video,
    read_png,
    render_camera_path,
    robust_depth_range,
    turbo,
    write_png,
    write_video,
)
from scenegen.video.render_path import MANIFEST


def _top_level_boxes(file: Path) -> list[str]:
    """MP4 top-level box types in file order."""
    data = file.read_bytes()
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        boxes.append(kind.decode("latin-1"))
        if size < 8:
            break
        pos += size
    return boxes


def _frames(n: int, w: int, h: int) -> list[np.ndarray]:
    return [np.full((h, w, 3), 30 * i, dtype=np.uint8) for i in range(n)]


# ------------------------------------------------------------------------------------------------ writer


@pytest.mark.parametrize("w,h,odd,expected", [(32, 16, "pad", (32, 16)), (33, 17, "pad", (34, 18)),
                                              (33, 17, "crop", (32, 16)), (20, 15, "pad", (20, 16))])
def test_mp4_is_browser_playable_h264(tmp_path, w, h, odd, expected):
    out = write_video(tmp_path / "v.mp4", _frames(5, w, h), fps=24, odd_size=odd)
    meta = probe_video(out)
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    assert tuple(meta["size"]) == expected
    assert meta["fps"] == pytest.approx(24)
    assert meta["nframes"] == 5
    boxes = _top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_make_even_pads_with_edge_pixels():
    a = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)
    p = make_even(a)
    assert p.shape == (4, 6, 3)
    assert np.array_equal(p[:3, :5], a) and np.array_equal(p[3, :5], a[2]) and np.array_equal(p[:3, 5], a[:, 4])
    assert make_even(a, "crop").shape == (2, 4, 3)


def test_fractional_fps(tmp_path):
    out = write_video(tmp_path / "slow.mp4", _frames(3, 16, 16), fps=0.4)
    meta = probe_video(out)
    assert meta["nframes"] == 3 and meta["fps"] == pytest.approx(0.4)


def test_video_writer_exception_keeps_existing_file(tmp_path):
    out = tmp_path / "output.mp4"
    out.write_bytes(b"previous video")
    with pytest.raises(RuntimeError, match="boom"):
        with VideoWriter(out, fps=10) as vw:
            for i, frame in enumerate(_frames(4, 16, 16)):
                if i == 2:
                    raise RuntimeError("boom")
                vw.write(frame)
    assert out.read_bytes() == b"previous video"
    assert [p.name for p in tmp_path.iterdir()] == ["output.mp4"]


def test_video_writer_rejects_size_change(tmp_path):
    vw = VideoWriter(tmp_path / "v.mp4", fps=10)
    vw.write(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="16x16"):
        vw.write(np.zeros((16, 18, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_png_atomic_round_trip(tmp_path):
    img = (np.random.default_rng(0).random((7, 9, 3)) * 255).astype(np.uint8)
    f = write_png(tmp_path / "frames" / "00000.png", img)
    assert np.array_equal(read_png(f), img)
    assert read_png(f, (9, 7)) is not None and read_png(f, (8, 7)) is None
    assert [p.name for p in f.parent.iterdir()] == ["00000.png"]
    f.write_bytes(f.read_bytes()[:30])  # truncated
    assert read_png(f) is None
    assert read_png(tmp_path / "missing.png") is None
    write_png(f, torch.rand(7, 9, 3))  # float tensor input
    assert read_png(f).shape == (7, 9, 3)


def test_turbo_and_depth_colours():
    c = turbo(np.array([0.1, 0.5, 0.9]))
    assert c.shape == (3, 3) and c.min() >= 0 and c.max() <= 1
    assert c[0, 2] > c[0, 0] and c[2, 0] > c[2, 2] and c[1, 1] > 0.9  # blue -> green -> red
    assert np.array_equal(turbo(np.array([-1.0, 2.0])), turbo(np.array([0.0, 1.0])))  # clipped
    depth = np.linspace(1, 5, 20 * 10, dtype=np.float32).reshape(10, 20)
    acc = np.ones_like(depth)
    acc[:, :3] = 0.0
    img = colorize_depth(depth, acc, near=1.0, far=5.0)
    assert img.shape == (10, 20, 3) and img.dtype == np.uint8
    assert img[:, :3].max() == 0  # empty space is black
    assert img[2, 3, 2] > img[2, 3, 0] and img[-1, -1, 0] > img[-1, -1, 2]  # near blue, far red
    near, far = robust_depth_range(depth, acc, (1, 99))
    assert 1.0 < near < far < 5.0
    assert robust_depth_range(np.zeros((2, 2)), np.zeros((2, 2))) == (0.0, 1.0)


# ------------------------------------------------------------------------------------------------ render loop


def _path(n=6, w=33, h=17, dx=0.2, seconds=None):
    cams = []
    for i in range(n):
        m = np.eye(4)
        m[:3, 3] = [dx * i, 0.0, 3.0]
        cams.append({"camera_to_world": m.reshape(-1).tolist(), "fov": 50.0, "aspect": w / h})
    return camera_path_from_dict({"camera_type": "perspective", "render_height": h, "render_width": w,
                                  "fps": 12, "seconds": seconds or n / 12, "camera_path": cams})


class FakeRenderer:
    """Paints a gradient that depends on the camera position; depth = distance-like ramp; counts calls."""

    def __init__(self, fail_at: int | None = None):
        self.calls: list[int] = []
        self.fail_at = fail_at

    def __call__(self, cameras, index):
        if index == self.fail_at:
            raise RuntimeError(f"render failed at {index}")
        self.calls.append(index)
        h, w = int(cameras.height[index]), int(cameras.width[index])
        x = cameras.c2w[index, 0, 3]
        u = torch.linspace(0, 1, w)[None, :].expand(h, w)
        v = torch.linspace(0, 1, h)[:, None].expand(h, w)
        rgb = torch.stack([u, v, (x * 0.7) % 1.0 * torch.ones_like(u)], -1)
        depth = 1.0 + 2.0 * v + x
        acc = torch.ones(h, w)
        acc[:, :2] = 0.0
        return {"rgb": rgb, "depth": depth, "accumulation": acc}


def test_render_writes_video_frames_and_depth(tmp_path):
    path = _path()
    r = FakeRenderer()
    s = render_camera_path(r, path, tmp_path / "tour.mp4", tmp_path / "frames", tmp_path / "depth.mp4",
                           progress=False)
    assert r.calls == list(range(6))
    assert s["frames"] == 6 and s["rendered"] == 6 and s["reused"] == 0
    assert s["output_video"] == str(tmp_path / "tour.mp4") and s["s_per_frame"] > 0
    near, far = s["depth_range"]
    assert 1.0 <= near < far <= 4.0 + 1.0  # whole-path robust range of the fake depth
    for name in ("tour.mp4", "depth.mp4"):
        meta = probe_video(tmp_path / name)
        assert meta["nframes"] == 6 and tuple(meta["size"]) == (34, 18) and meta["codec"] == "h264"
        assert meta["fps"] == pytest.approx(12)
    pngs = sorted(p.name for p in (tmp_path / "frames").glob("*.png"))
    assert pngs == [f"{i:05d}.png" for i in range(6)]
    first = read_png(tmp_path / "frames" / "00000.png")
    assert first.shape == (17, 33, 3)
    expected = (FakeRenderer()(path.cameras, 0)["rgb"].numpy() * 255).round()
    assert np.abs(first.astype(float) - expected).max() <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["depth.mp4", "frames", "tour.mp4"]


def test_failure_keeps_previous_video_and_resume_skips_done_frames(tmp_path):
    out = tmp_path / "output.mp4"
    out.write_bytes(b"the previous, complete video")
    path = _path(n=8)
    with pytest.raises(RuntimeError, match="failed at 5"):
        render_camera_path(FakeRenderer(fail_at=5), path, out, tmp_path / "frames", progress=False)
    assert out.read_bytes() == b"the previous, complete video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames", "output.mp4"]  # no partial file
    assert sorted(p.name for p in (tmp_path / "frames").glob("*.png")) == [f"{i:05d}.png" for i in range(5)]
    assert not [p for p in (tmp_path / "frames").iterdir() if "partial" in p.name]

    r = FakeRenderer()
    s = render_camera_path(r, path, out, tmp_path / "frames", progress=False)
    assert r.calls == [5, 6, 7]
    assert s["reused"] == 5 and s["rendered"] == 3
    assert probe_video(out)["nframes"] == 8

    r2 = FakeRenderer()
    s2 = render_camera_path(r2, path, out, tmp_path / "frames", progress=False)
    assert r2.calls == [] and s2["reused"] == 8 and s2["s_per_frame"] is None

    r3 = FakeRenderer()
    render_camera_path(r3, path, out, tmp_path / "frames", resume=False, progress=False)
    assert r3.calls == list(range(8))


def test_resume_rerenders_corrupt_frames_and_other_paths(tmp_path):
    frames = tmp_path / "frames"
    path = _path(n=5)
    render_camera_path(FakeRenderer(), path, None, frames, progress=False)
    (frames / "00002.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (frames / "00004.png").unlink()
    r = FakeRenderer()
    render_camera_path(r, path, None, frames, progress=False)
    assert r.calls == [2, 4]

    # another path (different cameras) must not reuse these frames; stale extra frames are removed
    other = _path(n=3, dx=0.5)
    r = FakeRenderer()
    render_camera_path(r, other, None, frames, progress=False)
    assert r.calls == [0, 1, 2]
    assert sorted(p.name for p in frames.glob("*.png")) == ["00000.png", "00001.png", "00002.png"]
    assert (frames / MANIFEST).exists()

    # frames from an unknown origin (no manifest) are not trusted either
    (frames / MANIFEST).unlink()
    r = FakeRenderer()
    render_camera_path(r, other, None, frames, progress=False)
    assert r.calls == [0, 1, 2]

    # a different model (fingerprint_extra) re-renders
    r = FakeRenderer()
    render_camera_path(r, other, None, frames, progress=False, fingerprint_extra="ckpt-2")
    assert r.calls == [0, 1, 2]


def test_depth_video_resume_uses_cached_depth(tmp_path):
    path = _path(n=4)
    render_camera_path(FakeRenderer(), path, None, tmp_path / "frames", tmp_path / "d.mp4", progress=False)
    r = FakeRenderer()
    s = render_camera_path(r, path, tmp_path / "v.mp4", tmp_path / "frames", tmp_path / "d.mp4", progress=False)
    assert r.calls == [] and s["reused"] == 4
    (tmp_path / "frames" / "depth" / "00001.npz").unlink()
    r = FakeRenderer()
    render_camera_path(r, path, None, tmp_path / "frames", tmp_path / "d.mp4", progress=False)
    assert r.calls == [1]
    assert probe_video(tmp_path / "d.mp4")["nframes"] == 4


def test_depth_video_without_frames_dir_cleans_up(tmp_path):
    path = _path(n=3)
    s = render_camera_path(FakeRenderer(), path, None, None, tmp_path / "d.mp4", progress=False,
                           depth_normalization="frame")
    assert s["depth_range"] is None
    assert [p.name for p in tmp_path.iterdir()] == ["d.mp4"]
    assert probe_video(tmp_path / "d.mp4")["nframes"] == 3
    s = render_camera_path(FakeRenderer(), path, None, None, tmp_path / "d.mp4", progress=False,
                           depth_range=(0.5, 6.0))
    assert s["depth_range"] == (0.5, 6.0)


def test_progress_bar_and_bad_render_output(tmp_path):
    path = _path(n=2)
    s = render_camera_path(FakeRenderer(), path, tmp_path / "v.mp4", None, progress=True)
    assert s["frames"] == 2

    def bad(cameras, index):
        return {"rgb": torch.zeros(5, 5, 3)}

    with pytest.raises(ValueError, match="shape"):
        render_camera_path(bad, path, tmp_path / "v.mp4", None, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]
    with pytest.raises(ValueError, match="nothing to write"):
        render_camera_path(FakeRenderer(), path, None, None, progress=False)
