"""nerfstudio camera_path.json reader/writer: real viewer exports, conventions, frames, validation."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.core.errors import InputError
from scenegen.paths import (
    DataparserTransform,
    camera_path_from_dict,
    focal_from_fov,
    fov_from_focal,
    load_camera_path,
    load_dataparser_transforms,
    save_camera_path,
)

FIX = Path(__file__).parent / "fixtures" / "camera_paths"
NSP = FIX / "nerfstudio-processed"

# file -> (frames, width, height, fps, seconds, keyframes)
REAL_PATHS = {
    "viewer-export-480f.json": (480, 1920, 1080, 24, 20, 61),
    "viewer-export-7kf.json": (240, 1920, 1080, 24, 10, 7),
    "viewer-export-cycle.json": (96, 1920, 1080, 24, 4, 7),
    "viewer-export-dining.json": (240, 280, 280, 24, 10, 11),
    "viewer-v1-export-16kf.json": (900, 1920, 1080, 30, 30, 16),
    "viewer-v1-export-25kf.json": (1440, 1920, 1080, 30, 48, 25),
    "nerfstudio-processed/camera_path.json": (4, 1280, 720, 30, 10, None),
}


def _raw_matrices(data: dict) -> np.ndarray:
    """(N, 4, 4) camera_to_world of a raw camera_path.json (flat or nested rows)."""
    return np.array([np.asarray(c["camera_to_world"], dtype=np.float64).reshape(4, 4) for c in data["camera_path"]])


def test_fixtures_are_small():
    files = [f for f in FIX.rglob("*") if f.is_file()]
    assert len(files) >= 10
    assert all(f.stat().st_size < 600_000 for f in files)
    assert sum(f.stat().st_size for f in files) < 2_000_000


@pytest.mark.parametrize("name", sorted(REAL_PATHS))
def test_real_viewer_exports_load(name):
    frames, width, height, fps, seconds, keyframes = REAL_PATHS[name]
    file = FIX / name
    raw = json.loads(file.read_text())
    path = load_camera_path(file)

    assert len(path) == frames == len(path.cameras)
    assert (path.render_width, path.render_height) == (width, height)
    assert path.fps == fps and path.seconds == seconds
    assert path.video_fps == pytest.approx(frames / seconds)  # ns-render: fps = len(cameras) / seconds
    assert path.camera_type == "perspective"
    assert path.raw is not None and (len(path.raw.get("keyframes", [])) or None) == keyframes
    cams = path.cameras
    assert cams.c2w.shape == (frames, 3, 4) and cams.model == ["PINHOLE"] * frames
    assert torch.all(cams.width == width) and torch.all(cams.height == height)
    assert torch.allclose(cams.cx, torch.tensor(width / 2)) and torch.allclose(cams.cy, torch.tensor(height / 2))
    fov = np.array([c["fov"] for c in raw["camera_path"]], dtype=np.float64)
    assert np.allclose(cams.fy.numpy(), (height / 2) / np.tan(np.radians(fov) / 2), rtol=1e-6)
    assert torch.equal(cams.fx, cams.fy)
    # translations are taken as they are; rotations are (re-)orthonormalised
    m = _raw_matrices(raw)
    assert np.allclose(cams.c2w[:, :, 3].numpy(), m[:, :3, 3], atol=1e-5)
    rot = cams.c2w[:, :, :3].double()
    assert torch.allclose(rot.transpose(1, 2) @ rot, torch.eye(3, dtype=torch.float64).expand(frames, 3, 3), atol=1e-5)
    if "nerfstudio-processed" not in name:  # real viewer exports: already rotations, kept as they are
        assert np.allclose(cams.c2w[:, :, :3].numpy(), m[:, :3, :3], atol=1e-5)
        assert path.warnings == []


def test_hand_made_path_warnings():
    path = load_camera_path(NSP / "camera_path.json")
    text = " ".join(path.warnings)
    assert "not orthonormal" in text and "4 cameras" in text
    assert path.video_fps == pytest.approx(0.4)


@pytest.mark.parametrize("name", sorted(REAL_PATHS))
def test_save_load_round_trip_keeps_every_key(name, tmp_path):
    file = FIX / name
    original = json.loads(file.read_text())
    path = load_camera_path(file)
    out = save_camera_path(path, tmp_path / "out.json")
    assert json.loads(out.read_text()) == original
    again = load_camera_path(out)
    assert torch.equal(again.cameras.c2w, path.cameras.c2w)
    assert torch.equal(again.cameras.fy, path.cameras.fy)
    assert list(tmp_path.iterdir()) == [out]  # no temp file left


def test_save_writes_only_what_changed(tmp_path):
    file = FIX / "viewer-v1-export-16kf.json"
    original = json.loads(file.read_text())
    path = load_camera_path(file)
    path.seconds = 15.0
    c2w = path.cameras.c2w.clone()
    c2w[7, :, 3] += torch.tensor([0.5, -0.25, 1.0])
    path.cameras.c2w = c2w
    path.cameras.fy[7] = path.cameras.fx[7] = float(focal_from_fov(60.0, 1080))
    data = json.loads(save_camera_path(path, tmp_path / "p.json").read_text())

    assert data["seconds"] == 15.0
    changed = {k for k in original if data[k] != original[k]}
    assert changed == {"seconds", "camera_path"}
    diffs = [i for i, (a, b) in enumerate(zip(data["camera_path"], original["camera_path"])) if a != b]
    assert diffs == [7]
    entry = data["camera_path"][7]
    assert entry["fov"] == pytest.approx(60.0)
    assert np.allclose(np.reshape(entry["camera_to_world"], (4, 4))[:3, 3], c2w[7, :, 3].numpy(), atol=1e-6)
    assert set(entry) == set(original["camera_path"][7])
    again = load_camera_path(tmp_path / "p.json")
    assert torch.allclose(again.cameras.c2w, path.cameras.c2w, atol=1e-6)


def test_fov_to_focal_matches_hand_computation():
    # fov 50 deg over 1080 rows: f = 540 / tan(25 deg) = 1158.0337...
    assert focal_from_fov(50.0, 1080) == pytest.approx(540 / 0.4663076581549986, rel=1e-12)
    assert focal_from_fov(60.0, 1080) == pytest.approx(540 * math.sqrt(3), rel=1e-12)
    assert focal_from_fov(90.0, 720) == pytest.approx(360.0, rel=1e-12)
    assert fov_from_focal(focal_from_fov(47.3, 1080), 1080) == pytest.approx(47.3, rel=1e-12)
    f = focal_from_fov(torch.tensor([50.0, 75.0]), 1080)
    assert torch.allclose(fov_from_focal(f, 1080), torch.tensor([50.0, 75.0], dtype=torch.float64))


def _small_path(camera_type="perspective", fov=60.0, n=3, w=64, h=48, **extra) -> dict:
    cams = []
    for i in range(n):
        m = np.eye(4)
        m[:3, 3] = [0.1 * i, 0.0, 2.0]
        cams.append({"camera_to_world": m.reshape(-1).tolist(), "fov": fov, "aspect": w / h})
    return {"camera_type": camera_type, "render_height": h, "render_width": w, "fps": 24, "seconds": n / 24,
            "camera_path": cams, **extra}


def _angle_from_axis(cams, u, v) -> float:
    _, d = cams.generate_rays(torch.tensor([0]), torch.tensor([float(u)]), torch.tensor([float(v)]))
    return math.degrees(math.acos(float(-d[0, 2])))  # identity rotation: optical axis is -Z


def test_perspective_rays_span_the_vertical_fov():
    p = camera_path_from_dict(_small_path(fov=60.0, w=64, h=48))
    assert _angle_from_axis(p.cameras, 32, 0) == pytest.approx(30.0, abs=1e-3)  # top edge: fov / 2
    assert _angle_from_axis(p.cameras, 32, 24) == pytest.approx(0.0, abs=1e-3)
    assert p.cameras.fx[0] == pytest.approx(24 / math.tan(math.radians(30)))


def test_fisheye_uses_nerfstudio_focal_convention():
    p = camera_path_from_dict(_small_path("fisheye", fov=60.0, w=64, h=48))
    assert p.camera_type == "fisheye" and p.cameras.model == ["OPENCV_FISHEYE"] * 3
    f = 24 / math.tan(math.radians(30))
    assert p.cameras.fx[0] == pytest.approx(f) and torch.all(p.cameras.distortion == 0)
    # equidistant: theta = r / f, so the top edge is tan(fov/2) radians off-axis (nerfstudio's convention)
    assert _angle_from_axis(p.cameras, 32, 0) == pytest.approx(math.degrees(math.tan(math.radians(30))), abs=1e-3)


def test_equirectangular_ignores_fov():
    d = _small_path("equirectangular", w=128, h=64)
    for c in d["camera_path"]:
        del c["fov"]
    p = camera_path_from_dict(d)
    assert p.cameras.model == ["EQUIRECTANGULAR"] * 3
    assert torch.all(p.cameras.fx == 64) and torch.all(p.cameras.fy == 64)  # nerfstudio: fx = W/2, fy = H
    assert np.isnan(p.fovs).all()
    assert _angle_from_axis(p.cameras, 64, 32) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("ctype", ["omnidirectional", "vr180", "VR180", "Omnidirectional"])
def test_stereo_camera_types_refused(ctype):
    with pytest.raises(InputError) as e:
        camera_path_from_dict(_small_path(ctype), source="p.json")
    assert e.value.field == "camera_type" and "stereo" in str(e.value)
    assert str(e.value).startswith("p.json: camera_type: ")


def test_missing_camera_type_is_perspective():
    d = _small_path()
    del d["camera_type"]
    assert camera_path_from_dict(d).camera_type == "perspective"


def test_nested_matrix_rows_accepted():
    d = _small_path()
    d["camera_path"][1]["camera_to_world"] = np.reshape(d["camera_path"][1]["camera_to_world"], (4, 4)).tolist()
    p = camera_path_from_dict(d)
    assert p.cameras.c2w[1, 0, 3] == pytest.approx(0.1)


# ------------------------------------------------------------------------------------------------ frames


def test_dataparser_transform_maps_real_dataset_to_nerfstudio_frame():
    """nerfstudio centres the poses and scales them into [-1, 1]: check with the real transforms.json."""
    dp = load_dataparser_transforms(NSP / "dataparser_transforms.json", NSP / "transforms.json")
    meta = json.loads((NSP / "transforms.json").read_text())
    poses = np.array([f["transform_matrix"] for f in meta["frames"]], dtype=np.float64)
    centres = np.einsum("ij,nj->ni", dp.path_from_world(), np.c_[poses[:, :3, 3], np.ones(len(poses))])[:, :3]
    assert np.allclose(centres.mean(0), 0.0, atol=1e-6)  # center_method="poses"
    assert np.abs(centres).max() == pytest.approx(1.0, abs=1e-6)  # auto_scale_poses
    assert np.allclose(dp.world_from_path() @ dp.path_from_world(), np.eye(4), atol=1e-9)
    # without the dataset's applied_transform the frame is nerfstudio's "original" (COLMAP) frame
    dp0 = load_dataparser_transforms(NSP / "dataparser_transforms.json")
    a = np.eye(4)
    a[:3] = meta["applied_transform"]
    assert np.allclose(dp.world_from_path(), a @ dp0.world_from_path(), atol=1e-12)


def test_load_with_dataparser_transforms_is_inverse_consistent(tmp_path):
    file = NSP / "camera_path.json"
    raw = json.loads(file.read_text())
    p0 = load_camera_path(file)
    p = load_camera_path(file, NSP / "dataparser_transforms.json", dataset_transforms=NSP / "transforms.json")
    dp = load_dataparser_transforms(NSP / "dataparser_transforms.json", NSP / "transforms.json")
    t = _raw_matrices(raw)[:, :3, 3]
    expected = (np.c_[t, np.ones(len(t))] @ dp.world_from_path().T)[:, :3]
    assert np.allclose(p.cameras.c2w[:, :, 3].numpy(), expected, rtol=1e-5, atol=1e-4)
    # back to the path frame: the path-frame cameras are recovered
    c2w4 = np.concatenate([p.cameras.c2w.double().numpy(), np.tile([[[0, 0, 0, 1.0]]], (4, 1, 1))], 1)
    back = dp.path_from_world() @ c2w4
    scale = np.cbrt(np.linalg.det(dp.path_from_world()[:3, :3]))
    assert np.allclose(back[:, :3, 3], p0.cameras.c2w[:, :, 3].numpy(), atol=1e-4)
    assert np.allclose(back[:, :3, :3] / scale, p0.cameras.c2w[:, :, :3].numpy(), atol=1e-5)
    assert torch.equal(p.cameras.fy, p0.cameras.fy)  # intrinsics do not depend on the frame
    # saving unchanged writes the original back; a world-space edit is mapped back into the path frame
    assert json.loads(save_camera_path(p, tmp_path / "a.json").read_text()) == raw
    c2w = p.cameras.c2w.clone()
    c2w[2, :, 3] += torch.tensor([1.0, 2.0, 3.0])
    p.cameras.c2w = c2w
    save_camera_path(p, tmp_path / "b.json")
    q = load_camera_path(tmp_path / "b.json", NSP / "dataparser_transforms.json",
                         dataset_transforms=NSP / "transforms.json")
    assert torch.allclose(q.cameras.c2w, c2w, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    angles=st.tuples(*[st.floats(-math.pi, math.pi)] * 3),
    trans=st.tuples(*[st.floats(-10, 10)] * 3),
    scale=st.floats(0.01, 100.0),
)
def test_dataparser_mapping_round_trips(angles, trans, scale):
    from scipy.spatial.transform import Rotation

    t = np.eye(4)
    t[:3, :3] = Rotation.from_euler("xyz", angles).as_matrix()
    t[:3, 3] = trans
    dp = DataparserTransform(transform=t, scale=scale)
    assert np.allclose(dp.world_from_path() @ dp.path_from_world(), np.eye(4), atol=1e-8)
    p = np.array([0.3, -0.2, 0.7, 1.0])
    # forward map is nerfstudio's dataparser: p_path = scale * (transform @ p_world)
    assert np.allclose(dp.path_from_world() @ p, np.r_[scale * (t @ p)[:3], 1.0], atol=1e-8)


# ------------------------------------------------------------------------------------------------ validation


def _base() -> dict:
    return json.loads((FIX / "viewer-export-cycle.json").read_text())


def _nan(d):
    d["camera_path"][3]["camera_to_world"][5] = float("nan")


def _transpose(d):
    m = np.reshape(d["camera_path"][3]["camera_to_world"], (4, 4))
    d["camera_path"][3]["camera_to_world"] = m.T.reshape(-1).tolist()


def _mirror(d):
    m = np.reshape(d["camera_path"][3]["camera_to_world"], (4, 4))
    m[:3, 0] *= -1
    d["camera_path"][3]["camera_to_world"] = m.reshape(-1).tolist()


MALFORMED = {
    "nan_matrix": (_nan, "camera_path[3].camera_to_world"),
    "short_matrix": (lambda d: d["camera_path"][3].update(camera_to_world=d["camera_path"][3]["camera_to_world"][:12]),
                     "camera_path[3].camera_to_world"),
    "string_in_matrix": (lambda d: d["camera_path"][3]["camera_to_world"].__setitem__(2, "0.5"),
                         "camera_path[3].camera_to_world"),
    "column_major": (_transpose, "camera_path[3].camera_to_world"),
    "mirrored": (_mirror, "camera_path[3].camera_to_world"),
    "no_matrix": (lambda d: d["camera_path"][3].pop("camera_to_world"), "camera_path[3].camera_to_world"),
    "camera_not_object": (lambda d: d["camera_path"].__setitem__(3, [1, 2]), "camera_path[3]"),
    "empty_path": (lambda d: d.update(camera_path=[]), "camera_path"),
    "no_path": (lambda d: d.pop("camera_path"), "camera_path"),
    "path_not_list": (lambda d: d.update(camera_path={"a": 1}), "camera_path"),
    "fps_zero": (lambda d: d.update(fps=0), "fps"),
    "fps_negative": (lambda d: d.update(fps=-24), "fps"),
    "fps_string": (lambda d: d.update(fps="24"), "fps"),
    "seconds_zero": (lambda d: d.update(seconds=0), "seconds"),
    "seconds_negative": (lambda d: d.update(seconds=-4.0), "seconds"),
    "seconds_nan": (lambda d: d.update(seconds=float("nan")), "seconds"),
    "seconds_missing": (lambda d: d.pop("seconds"), "seconds"),
    "fov_zero": (lambda d: d["camera_path"][3].update(fov=0), "camera_path[3].fov"),
    "fov_180": (lambda d: d["camera_path"][3].update(fov=180), "camera_path[3].fov"),
    "fov_negative": (lambda d: d["camera_path"][3].update(fov=-5), "camera_path[3].fov"),
    "fov_huge": (lambda d: d["camera_path"][3].update(fov=250.0), "camera_path[3].fov"),
    "fov_inf": (lambda d: d["camera_path"][3].update(fov=float("inf")), "camera_path[3].fov"),
    "fov_missing": (lambda d: d["camera_path"][3].pop("fov"), "camera_path[3].fov"),
    "fov_bool": (lambda d: d["camera_path"][3].update(fov=True), "camera_path[3].fov"),
    "camera_type_unknown": (lambda d: d.update(camera_type="orthographic"), "camera_type"),
    "camera_type_number": (lambda d: d.update(camera_type=3), "camera_type"),
    "height_zero": (lambda d: d.update(render_height=0), "render_height"),
    "height_negative": (lambda d: d.update(render_height=-1080), "render_height"),
    "height_fraction": (lambda d: d.update(render_height=1080.5), "render_height"),
    "height_missing": (lambda d: d.pop("render_height"), "render_height"),
    "width_zero": (lambda d: d.update(render_width=0), "render_width"),
    "width_string": (lambda d: d.update(render_width="1920"), "render_width"),
    "crop_center_short": (
        lambda d: d.update(crop={"crop_center": [0, 0], "crop_scale": [1, 1, 1]}),
        "crop.crop_center",
    ),
    "crop_color_range": (
        lambda d: d.update(
            crop={"crop_center": [0, 0, 0], "crop_scale": [1, 1, 1], "crop_bg_color": {"r": 300, "g": 0, "b": 0}}
        ),
        "crop.crop_bg_color.r",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_paths_raise_input_error_naming_the_field(case, tmp_path):
    mutate, fld = MALFORMED[case]
    d = _base()
    mutate(d)
    file = tmp_path / f"{case}.json"
    file.write_text(json.dumps(d))  # NaN/Infinity are written as JSON extensions, as some tools do
    with pytest.raises(InputError) as e:
        load_camera_path(file)
    msg = str(e.value)
    assert e.value.field == fld, msg
    assert e.value.file == str(file)
    assert "\n" not in msg and msg.startswith(f"{file}: {fld}: "), msg
    assert len(msg) < 300


@pytest.mark.parametrize(
    "text,fld",
    [("{not json", "line 1 column 2"), ("", "line 1 column 1"), ('{"camera_path": [}', "line 1 column 18")],
)
def test_not_json(text, fld, tmp_path):
    file = tmp_path / "bad.json"
    file.write_text(text)
    with pytest.raises(InputError) as e:
        load_camera_path(file)
    assert e.value.field == fld and "not valid JSON" in str(e.value) and "\n" not in str(e.value)


def test_not_an_object_and_missing_file(tmp_path):
    file = tmp_path / "list.json"
    file.write_text("[1, 2]")
    with pytest.raises(InputError, match="JSON object"):
        load_camera_path(file)
    with pytest.raises(InputError, match="not found") as e:
        load_camera_path(tmp_path / "nope.json")
    assert e.value.file == str(tmp_path / "nope.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="UTF-8"):
        load_camera_path(tmp_path / "bin.json")


@pytest.mark.parametrize(
    "content,fld",
    [
        ({"transform": [[1, 0, 0, 0], [0, 1, 0, 0]], "scale": 1.0}, "transform"),
        ({"transform": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, float("nan")], "scale": 1.0}, "transform"),
        ({"transform": [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], "scale": 1.0}, "transform"),
        ({"transform": [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], "scale": 1.0}, "transform"),  # mirror
        ({"transform": [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]], "scale": 1.0}, "transform"),  # not a rotation
        ({"transform": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]], "scale": 1.0}, "transform"),
        ({"scale": 1.0}, "transform"),
        ({"transform": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], "scale": -2.0}, "scale"),
        ({"transform": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], "scale": 0}, "scale"),
        ({"transform": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]}, "scale"),
    ],
)
def test_malformed_dataparser_transforms(content, fld, tmp_path):
    file = tmp_path / "dataparser_transforms.json"
    file.write_text(json.dumps(content))
    with pytest.raises(InputError) as e:
        load_camera_path(NSP / "camera_path.json", file)
    assert e.value.field == fld and e.value.file == str(file) and "\n" not in str(e.value)


def test_error_is_one_line_with_file_and_field(tmp_path):
    d = copy.deepcopy(_base())
    d["camera_path"][3]["camera_to_world"] = d["camera_path"][3]["camera_to_world"][:15]
    file = tmp_path / "p.json"
    file.write_text(json.dumps(d))
    with pytest.raises(InputError) as e:
        load_camera_path(file)
    assert str(e.value) == (
        f"{file}: camera_path[3].camera_to_world: must have 16 numbers (a row-major 4x4 matrix), got 15"
    )


def test_dataset_transforms_legacy_colmap_default_and_misuse(tmp_path):
    (tmp_path / "colmap" / "sparse" / "0").mkdir(parents=True)
    (tmp_path / "transforms.json").write_text(json.dumps({"frames": []}))
    dp = load_dataparser_transforms(NSP / "dataparser_transforms.json", tmp_path / "transforms.json")
    assert np.array_equal(dp.applied_transform[:3], [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, -1, 0]])
    with pytest.raises(InputError) as e:
        load_camera_path(NSP / "camera_path.json", dataset_transforms=tmp_path / "transforms.json")
    assert e.value.file == str(tmp_path / "transforms.json")


def test_crop_and_render_time_parsed():
    d = _small_path(crop={"crop_center": [0, 1, 2], "crop_scale": [2, 2, 2], "crop_bg_color": {"r": 255, "g": 0, "b": 51}})
    for i, c in enumerate(d["camera_path"]):
        c["render_time"] = i / 2
    p = camera_path_from_dict(d)
    assert p.crop.center == (0, 1, 2) and p.crop.rotation == (0, 0, 0)
    assert p.crop.background == pytest.approx((1.0, 0.0, 0.2))
    assert p.times.tolist() == [0.0, 0.5, 1.0]
    assert camera_path_from_dict(_small_path(crop=None)).crop is None


def test_room_order_from_a_given_start_and_long_lists():
    """The room order: the open walk of least cost, from a given first room when asked; more than 8 rooms are
    ordered by a nearest-next walk improved by 2-opt, which must find the straight walk along a corridor."""
    from scenegen.paths.planner_route import order_rooms

    x = np.array([0.0, 3.0, 1.0, 2.0])  # rooms along a line, listed out of order
    cost = np.abs(x[:, None] - x[None])
    assert order_rooms(cost) in ([0, 2, 3, 1], [1, 3, 2, 0])
    assert order_rooms(cost, first=2) == [2, 0, 3, 1]  # the best walk that opens in room 2 doubles back once
    rng = np.random.default_rng(0)
    x = rng.permutation(12).astype(float)  # 12 rooms off one corridor
    cost = np.abs(x[:, None] - x[None])
    seq = order_rooms(cost, first=int(np.argmin(x)))
    assert list(x[seq]) == sorted(x)
    seq = order_rooms(cost, first=int(np.argsort(x)[3]))  # from the 4th: down to the end, then all the way up
    c = sum(cost[seq[i], seq[i + 1]] for i in range(11))
    assert c == pytest.approx(3 + 11), (list(x[seq]), c)
