"""Dataset parsers (scenegen.data): Blender, nerfstudio, Instant-NGP, LLFF; images, downscale cache, validation,
scene normalisation. Fixtures: tests/fixtures/data (regenerate with tests/fixtures/data/make_fixtures.py)."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from scenegen.data import SceneTransform, camera_focus_point, compute_scene_transform, detect_format, load_dataset
from scenegen.data.images import cache_path, load_image
from scenegen.core.errors import InputError

FIX = Path(__file__).resolve().parent / "fixtures" / "data"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _user_cache(tmp_path, monkeypatch):
    """Downscale caches that cannot go next to a dataset go to a per-test folder, never to ~/.cache."""
    monkeypatch.setenv("SCENEGEN_CACHE_DIR", str(tmp_path / "user-cache"))


def copy_fixture(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name.replace("/", "_")
    shutil.copytree(FIX / name, dest)
    return dest


def one_line_error(excinfo, *needles: str) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg, msg
    for n in needles:
        assert n in msg, f"{n!r} not in {msg!r}"
    return msg


def file_matrix(meta: dict, k: int) -> np.ndarray:
    return np.asarray(meta["frames"][k]["transform_matrix"], dtype=np.float64)[:3, :4]


# ---------------------------------------------------------------------------------------------------------------
# Blender
# ---------------------------------------------------------------------------------------------------------------


def test_blender_round_trip():
    ds = load_dataset(FIX / "blender")
    assert ds.kind == "blender" and len(ds) == 3
    assert ds.splits == {"train": [0, 1], "test": [2]}  # no val file: the split is absent
    assert ds.eval_split_name() == "test"
    assert ds.bounded and np.allclose(ds.aabb, [[-1.5] * 3, [1.5] * 3])
    cams = ds.cameras
    focal = 0.5 * 8 / math.tan(0.5 * 0.6911112070083618)
    assert torch.allclose(cams.fx, torch.full((3,), focal)) and torch.allclose(cams.fy, cams.fx)
    assert cams.cx.tolist() == [4.0] * 3 and cams.cy.tolist() == [3.0] * 3
    assert cams.width.tolist() == [8] * 3 and cams.height.tolist() == [6] * 3 and cams.model == ["PINHOLE"] * 3
    k = 0
    for split in ("train", "test"):
        meta = json.loads((FIX / "blender" / f"transforms_{split}.json").read_text())
        for j, frame in enumerate(meta["frames"]):
            assert np.allclose(cams.c2w[k].numpy(), file_matrix(meta, j), atol=1e-6)
            assert ds.image_paths[k] == FIX / "blender" / split / f"r_{j}.png"  # ".png" appended
            k += 1
    img = ds.load_image(0)
    assert img.shape == (6, 8, 4) and img.dtype == np.uint8
    assert np.array_equal(img, np.asarray(Image.open(ds.image_paths[0])))


def test_blender_background_compositing():
    white = load_dataset(FIX / "blender", background="white").load_rgb(0)
    black = load_dataset(FIX / "blender", background="black").load_rgb(0)
    raw = np.asarray(Image.open(FIX / "blender" / "train" / "r_0.png")).astype(np.float32) / 255
    alpha = raw[..., 3:]
    assert white.shape == (6, 8, 3) and white.dtype == np.float32
    assert np.allclose(black, raw[..., :3] * alpha, atol=1e-6)
    assert np.allclose(white, raw[..., :3] * alpha + (1 - alpha), atol=1e-6)
    rnd = load_dataset(FIX / "blender", background="random")
    c = rnd.background_color(np.random.default_rng(0))
    assert c.shape == (3,) and np.all((c >= 0) & (c <= 1))
    assert np.allclose(rnd.load_rgb(0, background=c), raw[..., :3] * alpha + c * (1 - alpha), atol=1e-6)


def test_blender_accepts_a_split_json_path():
    kind, source = detect_format(FIX / "blender" / "transforms_train.json")
    assert kind == "blender" and source == FIX / "blender"
    assert len(load_dataset(FIX / "blender" / "transforms_test.json")) == 3


# ---------------------------------------------------------------------------------------------------------------
# nerfstudio
# ---------------------------------------------------------------------------------------------------------------


def test_nerfstudio_round_trip_with_overrides_distortion_mask_depth():
    root = FIX / "nerfstudio"
    meta = json.loads((root / "transforms.json").read_text())
    ds = load_dataset(root)
    assert ds.kind == "nerfstudio" and len(ds) == 4 and not ds.bounded
    # frames sorted by file name; frame_index_in_file maps back to the JSON
    names = [p.name for p in ds.image_paths]
    assert names == sorted(names)
    order = ds.metadata["frame_index_in_file"]
    cams = ds.cameras
    for i, k in enumerate(order):
        fr = meta["frames"][k]
        assert ds.image_paths[i] == root / fr["file_path"]
        assert np.allclose(cams.c2w[i].numpy(), file_matrix(meta, k), atol=1e-6)
        get = lambda key: fr.get(key, meta.get(key, 0.0))  # noqa: E731 - per-frame override, else top level
        assert cams.fx[i].item() == pytest.approx(get("fl_x"))
        assert cams.fy[i].item() == pytest.approx(get("fl_y"))
        assert cams.cx[i].item() == pytest.approx(get("cx")) and cams.cy[i].item() == pytest.approx(get("cy"))
        assert (cams.width[i].item(), cams.height[i].item()) == (get("w"), get("h"))
        expected = [get(key) for key in ("k1", "k2", "k3", "k4", "p1", "p2")]
        assert np.allclose(cams.distortion[i].numpy(), expected, atol=1e-7)
        assert cams.model[i] == "OPENCV"
        assert ds.load_image(i).shape == (get("h"), get("w"), 3)
    override = names.index("frame_00002.png")
    assert cams.fx[override].item() == 9.0 and cams.width[override].item() == 10
    assert ds.metadata["applied_transform"] == meta["applied_transform"]
    assert ds.metadata["ply_file_path"] == "sparse_pc.ply"
    # mask and depth only on frame_00001 (index 0 after sorting)
    mask = ds.load_mask(0)
    assert mask.dtype == bool and mask.shape == (6, 8) and mask.sum() == 4 * 5 and mask[1, 2] and not mask[0, 0]
    depth = ds.load_depth(0)
    assert depth.dtype == np.float32 and depth.shape == (6, 8)
    assert depth[0, 0] == pytest.approx(1.0) and depth[5, 7] == pytest.approx((47 * 100 + 1000) / 1000)
    assert ds.load_mask(1) is None and ds.load_depth(1) is None
    # no split lists: every 8th (sorted) frame is test
    assert ds.splits == {"train": [1, 2, 3], "test": [0]}
    # aabb of a real capture: the camera centres' bounds
    centres = cams.centers.numpy()
    assert np.allclose(ds.aabb, [centres.min(0), centres.max(0)], atol=1e-5)


def test_nerfstudio_split_lists_and_camera_models(tmp_path):
    root = copy_fixture("nerfstudio", tmp_path)
    meta = json.loads((root / "transforms.json").read_text())
    meta["train_filenames"] = ["images/frame_00001.png", "images/frame_00004.png"]
    meta["val_filenames"] = ["images/frame_00003.png"]
    meta["test_filenames"] = ["./images/frame_00002.png"]
    meta["camera_model"] = "OPENCV_FISHEYE"
    meta["k3"], meta["k4"] = 0.001, -0.0002
    (root / "transforms.json").write_text(json.dumps(meta))
    ds = load_dataset(root)
    assert ds.splits == {"train": [0, 3], "val": [2], "test": [1]}
    assert ds.eval_split_name() == "test"
    assert set(ds.cameras.model) == {"OPENCV_FISHEYE"}
    assert np.allclose(ds.cameras.distortion[0].numpy(), [0.01, -0.002, 0.001, -0.0002, 0.001, -0.0005])
    # PINHOLE + nonzero k -> OPENCV (nerfstudio applies the coefficients)
    cases = (("SIMPLE_PINHOLE", "OPENCV"), ("PINHOLE", "OPENCV"), ("EQUIRECTANGULAR", "EQUIRECTANGULAR"))
    for model, expected in cases:
        meta["camera_model"] = model
        (root / "transforms.json").write_text(json.dumps(meta))
        assert load_dataset(root).cameras.model[0] == expected
    for key in ("k1", "k2", "k3", "k4", "p1", "p2"):
        meta.pop(key)
    for f in meta["frames"]:
        f.pop("k1", None)
    meta["camera_model"] = "PINHOLE"
    (root / "transforms.json").write_text(json.dumps(meta))
    assert set(load_dataset(root).cameras.model) == {"PINHOLE"}


def test_nerfstudio_file_metadata_and_depth_unit(tmp_path):
    """A free-form "metadata" object (scenegen's synthetic scenes) is kept; depth_unit_scale_factor is honoured."""
    root = copy_fixture("nerfstudio", tmp_path)
    edit_json(
        root,
        "transforms.json",
        lambda m: m.update(metadata={"generator": "test", "up": [0, 1, 0], "format": "x"}, depth_unit_scale_factor=0.01),
    )
    ds = load_dataset(root)
    assert ds.metadata["generator"] == "test" and ds.metadata["up"] == [0, 1, 0]
    assert ds.metadata["format"] == "nerfstudio"  # the parser's keys win
    assert ds.load_depth(0)[0, 0] == pytest.approx(10.0)  # 1000 units * 0.01


def test_real_nerfstudio_metadata_copies():
    """Real ns-process-data transforms.json files (copied from ../shared/formats; images not included)."""
    for name, n, wh, fl in (
        ("nerfstudio-processed", 126, (864, 480), (1036.8, 1036.8)),
        ("nerfstudio-processed-opencv-111f", 111, (5712, 4284), (4158.0468167053505, 4159.654906011846)),
    ):
        path = FIX / "real" / name / "transforms.json"
        meta = json.loads(path.read_text())
        ds = load_dataset(path, check_images=False)
        assert ds.kind == "nerfstudio" and len(ds) == n
        assert (ds.cameras.width[0].item(), ds.cameras.height[0].item()) == wh
        assert ds.cameras.fx[0].item() == pytest.approx(fl[0]) and ds.cameras.fy[0].item() == pytest.approx(fl[1])
        assert set(ds.cameras.model) == {"OPENCV"}
        assert np.allclose(ds.cameras.distortion[0].numpy(), [meta["k1"], meta["k2"], 0, 0, meta["p1"], meta["p2"]])
        assert ds.metadata["applied_transform"] == meta["applied_transform"]
        for i, k in enumerate(ds.metadata["frame_index_in_file"]):
            assert np.allclose(ds.cameras.c2w[i].numpy(), file_matrix(meta, k), atol=1e-5)
        assert [p.name for p in ds.image_paths] == sorted(p.name for p in ds.image_paths)
        assert ds.splits["test"] == list(range(0, n, 8)) and len(ds.splits["train"]) == n - len(ds.splits["test"])
        with pytest.raises(InputError) as e:  # with image checks: the first missing image is named
            load_dataset(path)
        one_line_error(e, "transforms.json", ".file_path", "image not found")


def test_real_nerfstudio_with_fake_images(tmp_path):
    """The 126-frame real file with tiny stand-in images of the right size (864x480): images checked and read."""
    meta = json.loads((FIX / "real" / "nerfstudio-processed" / "transforms.json").read_text())
    (tmp_path / "images").mkdir()
    blank = Image.new("RGB", (864, 480), (40, 80, 120))
    for fr in meta["frames"]:
        blank.save(tmp_path / fr["file_path"], compress_level=1)
    shutil.copy(FIX / "real" / "nerfstudio-processed" / "transforms.json", tmp_path / "transforms.json")
    ds = load_dataset(tmp_path, downscale=4)
    assert len(ds) == 126 and (ds.cameras.width[0].item(), ds.cameras.height[0].item()) == (216, 120)
    assert ds.cameras.fx[0].item() == pytest.approx(1036.8 / 4)
    img = ds.load_image(5)
    assert img.shape == (120, 216, 3) and np.all(img == [40, 80, 120])
    os.remove(tmp_path / meta["frames"][7]["file_path"])
    with pytest.raises(InputError) as e:
        load_dataset(tmp_path)
    one_line_error(e, "transforms.json", "frames[7].file_path")


# ---------------------------------------------------------------------------------------------------------------
# Instant-NGP
# ---------------------------------------------------------------------------------------------------------------


def test_instant_ngp_round_trip():
    root = FIX / "instant-ngp"
    meta = json.loads((root / "transforms.json").read_text())
    ds = load_dataset(root)
    assert ds.kind == "instant-ngp" and len(ds) == 3
    cams = ds.cameras
    for i in range(3):
        assert np.allclose(cams.c2w[i].numpy(), file_matrix(meta, i), atol=1e-6)
    assert cams.fx.tolist() == [7.0] * 3 and cams.cx[0].item() == pytest.approx(3.9)
    assert np.allclose(cams.distortion[0].numpy(), [0.02, -0.01, 0, 0, 0.0005, 0.0002])
    assert set(cams.model) == {"OPENCV"}
    assert ds.metadata["scale"] == 0.5 and ds.metadata["offset"] == [0.5, 0.5, 0.25] and ds.metadata["aabb_scale"] == 2
    assert ds.metadata["sharpness"] == [30.0, 31.0, 32.0]
    # NGP cube [0.5 - 1, 0.5 + 1]^3 (aabb_scale 2) mapped back: world = (ngp - offset) / scale
    assert np.allclose(ds.aabb, [[-2.0, -2.0, -1.5], [2.0, 2.0, 2.5]])
    assert not ds.bounded  # aabb_scale > 1: a capture with background
    assert ds.load_image(0).shape == (6, 8, 3)  # JPEG


def test_instant_ngp_defaults_and_camera_angle(tmp_path):
    root = copy_fixture("instant-ngp", tmp_path)
    meta = json.loads((root / "transforms.json").read_text())
    for key in ("fl_x", "fl_y", "cx", "cy", "w", "h", "scale", "offset", "aabb_scale", "camera_angle_y"):
        meta.pop(key)
    (root / "transforms.json").write_text(json.dumps(meta))
    ds = load_dataset(root)
    assert ds.kind == "instant-ngp" and ds.bounded  # aabb_scale 1 (default)
    assert (ds.cameras.width[0].item(), ds.cameras.height[0].item()) == (8, 6)  # read from the image
    assert ds.cameras.fx[0].item() == pytest.approx(7.0) and ds.cameras.fy[0].item() == pytest.approx(7.0)
    assert ds.cameras.cx[0].item() == 4.0 and ds.cameras.cy[0].item() == 3.0
    assert np.allclose(ds.aabb, [[-0.5 / 0.33] * 3, [0.5 / 0.33] * 3])


# ---------------------------------------------------------------------------------------------------------------
# LLFF
# ---------------------------------------------------------------------------------------------------------------


def test_llff_round_trip():
    root = FIX / "llff"
    arr = np.load(root / "poses_bounds.npy")
    ds = load_dataset(root)
    assert ds.kind == "llff" and len(ds) == 9 and not ds.bounded
    assert ds.metadata["image_folder"] == "images_4"  # images_2 has the wrong count
    poses = arr[:, :15].reshape(-1, 3, 5)
    expected = np.stack([poses[:, :, 1], -poses[:, :, 0], poses[:, :, 2], poses[:, :, 3]], -1)
    assert np.allclose(ds.cameras.c2w.numpy(), expected, atol=1e-6)
    assert ds.cameras.fx.tolist() == [7.5] * 9 and ds.cameras.fy.tolist() == [7.5] * 9  # 30 / 4
    assert ds.cameras.width.tolist() == [8] * 9 and ds.cameras.height.tolist() == [6] * 9
    assert ds.cameras.cx[0].item() == 4.0 and ds.cameras.cy[0].item() == 3.0
    assert ds.splits == {"train": [1, 2, 3, 4, 5, 6, 7], "test": [0, 8]}
    assert np.allclose(ds.metadata["near_far"], arr[:, 15:17])
    assert [p.name for p in ds.image_paths] == [f"image{i:03d}.png" for i in range(9)]
    # the cameras look at the fixture's target (0.5, 0.2, 10): -Z of every camera points there
    to_target = torch.tensor([0.5, 0.2, 10.0]) - ds.cameras.centers
    to_target = to_target / to_target.norm(dim=-1, keepdim=True)
    assert torch.allclose(-ds.cameras.c2w[:, :, 2], to_target, atol=1e-5)
    assert torch.allclose(ds.cameras.c2w[:, 1, 1], torch.ones(9), atol=0.05)  # camera up ~ world +y


# ---------------------------------------------------------------------------------------------------------------
# images, downscale and cache
# ---------------------------------------------------------------------------------------------------------------


def test_downscale_cache_next_to_dataset(tmp_path):
    root = copy_fixture("blender", tmp_path)
    full = load_dataset(root)
    ds = load_dataset(root, downscale=2)
    assert ds.downscale == 2 and ds.cameras.width.tolist() == [4] * 3 and ds.cameras.height.tolist() == [3] * 3
    assert torch.allclose(ds.cameras.fx, full.cameras.fx / 2) and torch.allclose(ds.cameras.cx, full.cameras.cx / 2)
    img = ds.load_image(1)
    assert img.shape == (3, 4, 4)
    cached = root / ".scenegen_cache" / "downscale_2" / "train" / "r_1.png.png"
    assert cached.is_file() and cache_path(root, root / "train" / "r_1.png", 2) == cached
    assert np.array_equal(np.asarray(Image.open(cached)), img)
    # area filter: an opaque box average of the full image (alpha-weighted colour)
    rgba = full.load_image(1).astype(np.float64)
    a = rgba[..., 3:].reshape(3, 2, 4, 2, 1).mean((1, 3))
    assert np.allclose(img[..., 3:], a, atol=1)
    assert not list(cached.parent.glob("*.tmp"))  # atomic write leaves no temporary file
    assert np.array_equal(ds.load_image(1), img)  # second read from the cache


def test_downscale_read_only_root_falls_back_to_user_cache(tmp_path):
    root = copy_fixture("llff", tmp_path)
    os.chmod(root, stat.S_IRUSR | stat.S_IXUSR)
    try:
        ds = load_dataset(root, downscale=2)
        img = ds.load_image(3)
        assert img.shape == (3, 4, 3) and (ds.cameras.width[3].item(), ds.cameras.height[3].item()) == (4, 3)
        assert not (root / ".scenegen_cache").exists()
        assert list((tmp_path / "user-cache").rglob("image003.png.png"))
    finally:
        os.chmod(root, stat.S_IRWXU)


def test_downscale_uses_predownscaled_sibling_folder(tmp_path):
    """LLFF/nerfstudio layout: images_4 at x2 is served from images_8 when that folder has the exact size."""
    root = copy_fixture("llff", tmp_path)
    (root / "images_8").mkdir()
    marker = np.full((3, 4, 3), 7, np.uint8)  # recognisable content, right size (8x6 / 2)
    Image.fromarray(marker).save(root / "images_8" / "image002.png")
    ds = load_dataset(root, downscale=2)
    assert np.array_equal(ds.load_image(2), marker)
    assert ds.load_image(1).shape == (3, 4, 3) and not np.all(ds.load_image(1) == 7)  # no sibling: resized


def test_world_up_metadata():
    assert load_dataset(FIX / "blender").metadata["up"] == [0.0, 0.0, 1.0]
    assert np.allclose(load_dataset(FIX / "llff").metadata["up"], [0.0, 1.0, 0.0], atol=0.05)
    assert np.allclose(load_dataset(FIX / "nerfstudio").metadata["up"], [0.0, 0.0, 1.0], atol=0.1)


def test_downscale_rounding_matches_camera(tmp_path):
    root = copy_fixture("nerfstudio", tmp_path)
    ds = load_dataset(root, downscale=3)  # 8x6 -> 3x2 (8/3 = 2.67), 10x8 -> 3x3
    for i in range(len(ds)):
        img = ds.load_image(i)
        assert img.shape[:2] == ds.image_hw(i) == (ds.cameras.height[i].item(), ds.cameras.width[i].item())
        assert ds.load_mask(i) is None or ds.load_mask(i).shape == img.shape[:2]
        assert ds.load_depth(i) is None or ds.load_depth(i).shape == img.shape[:2]


def test_load_image_modes_and_errors(tmp_path):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((5, 7), 99, np.uint8)).save(grey)
    img = load_image(grey)
    assert img.shape == (5, 7, 3) and np.all(img == 99)
    assert load_image(grey, expected_hw=(5, 7)).shape == (5, 7, 3)
    with pytest.raises(InputError) as e:
        load_image(grey, expected_hw=(6, 7), size_field="w/h")
    one_line_error(e, "grey.png", "w/h", "7x5")
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(InputError) as e:
        load_image(bad, field="frames[2].file_path")
    one_line_error(e, "corrupt.png", "frames[2].file_path")
    with pytest.raises(InputError) as e:
        load_image(tmp_path / "missing.png")
    one_line_error(e, "missing.png")


# ---------------------------------------------------------------------------------------------------------------
# validation: every problem is a one-line InputError naming the file and the field
# ---------------------------------------------------------------------------------------------------------------


def edit_json(root: Path, name: str, fn) -> Path:
    path = root / name
    meta = json.loads(path.read_text())
    fn(meta)
    path.write_text(json.dumps(meta, indent=1))
    return path


def test_error_malformed_json(tmp_path):
    root = copy_fixture("nerfstudio", tmp_path)
    text = (root / "transforms.json").read_text().splitlines()
    text[3] = text[3].rstrip(",")  # drop a comma on line 4
    (root / "transforms.json").write_text("\n".join(text))
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "transforms.json", "line 5 column", "not valid JSON")  # core.validate.read_json wording


def test_error_missing_image(tmp_path):
    root = copy_fixture("blender", tmp_path)
    os.remove(root / "train" / "r_1.png")
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "transforms_train.json", "frames[1].file_path", "r_1.png")


@pytest.mark.parametrize(
    "bad, needle",
    [
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, float("nan"), 0], [0, 0, 0, 1]], "non-finite"),
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, float("inf")], [0, 0, 0, 1]], "non-finite"),
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]], "singular"),
        ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], "shape"),
        ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]], "last row"),
        ("identity", "4x4"),
    ],
)
def test_error_bad_pose(tmp_path, bad, needle):
    root = copy_fixture("nerfstudio", tmp_path)
    edit_json(root, "transforms.json", lambda m: m["frames"][3].update(transform_matrix=bad))
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "transforms.json", "frames[3].transform_matrix", needle)


def test_error_wrong_size_image(tmp_path):
    root = copy_fixture("nerfstudio", tmp_path)
    Image.new("RGB", (9, 6)).save(root / "images" / "frame_00004.png")
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "frame_00004.png", "w/h", "9x6")
    # per-frame sizes are named by their per-frame fields
    Image.new("RGB", (8, 6)).save(root / "images" / "frame_00004.png")
    Image.new("RGB", (11, 8)).save(root / "images" / "frame_00002.png")
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "frame_00002.png", "frames[2].w/frames[2].h")
    # a file replaced after parsing is caught when read
    Image.new("RGB", (10, 8)).save(root / "images" / "frame_00002.png")
    ds = load_dataset(root)
    Image.new("RGB", (7, 7)).save(root / "images" / "frame_00001.png")
    with pytest.raises(InputError) as e:
        ds.load_image(0)
    one_line_error(e, "frame_00001.png", "w/h")


def test_error_wrong_size_blender_image(tmp_path):
    root = copy_fixture("blender", tmp_path)
    Image.new("RGBA", (4, 4)).save(root / "test" / "r_0.png")
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "r_0.png", "transforms_test.json:frames[0].file_path", "4x4")


@pytest.mark.parametrize(
    "fixture, name, edit, field",
    [
        ("nerfstudio", "transforms.json", lambda m: m.update(camera_model="KANNALA"), "camera_model"),
        ("nerfstudio", "transforms.json", lambda m: m.pop("frames"), "frames"),
        ("nerfstudio", "transforms.json", lambda m: m.pop("fl_x"), "fl_x"),
        ("nerfstudio", "transforms.json", lambda m: m.update(fl_x=-3), "fl_x"),
        ("nerfstudio", "transforms.json", lambda m: m["frames"][1].update(fl_y="big"), "frames[1].fl_y"),
        ("nerfstudio", "transforms.json", lambda m: m["frames"][0].pop("file_path"), "frames[0].file_path"),
        ("nerfstudio", "transforms.json", lambda m: m["frames"][1].update(mask_path="m/x.png"), "frames[1].mask_path"),
        ("nerfstudio", "transforms.json", lambda m: m.update(test_filenames=["images/x.png"]), "test_filenames[0]"),
        ("nerfstudio", "transforms.json", lambda m: m.update(applied_transform=[[1, 0]]), "applied_transform"),
        ("blender", "transforms_train.json", lambda m: m.pop("camera_angle_x"), "camera_angle_x"),
        ("blender", "transforms_test.json", lambda m: m.pop("frames"), "frames"),
        ("instant-ngp", "transforms.json", lambda m: m.update(offset=[0.5, 0.5]), "offset"),
    ],
)
def test_error_missing_or_invalid_keys(tmp_path, fixture, name, edit, field):
    root = copy_fixture(fixture, tmp_path)
    edit_json(root, name, edit)
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, name, field)
    assert e.value.field == field and e.value.file.endswith(name)


def test_error_llff_problems(tmp_path):
    root = copy_fixture("llff", tmp_path)
    arr = np.load(root / "poses_bounds.npy")
    np.save(root / "poses_bounds.npy", arr[:, :15])
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "poses_bounds.npy", "shape")
    bad = arr.copy()
    bad[4, 3] = np.nan  # translation x of image 4
    np.save(root / "poses_bounds.npy", bad)
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "poses_bounds.npy", "row 4 pose", "non-finite")
    np.save(root / "poses_bounds.npy", arr[:5])  # 5 poses, no folder with 5 images
    with pytest.raises(InputError) as e:
        load_dataset(root)
    one_line_error(e, "poses_bounds.npy", "hwf", "images_4: 9 images")


def test_error_unrecognised_folder_and_arguments(tmp_path):
    with pytest.raises(InputError) as e:
        load_dataset(tmp_path)
    one_line_error(e, str(tmp_path), "no dataset format recognised")
    with pytest.raises(InputError) as e:
        load_dataset(tmp_path / "nope")
    one_line_error(e, "nope")
    with pytest.raises(InputError) as e:
        load_dataset(FIX / "blender", downscale=0)
    one_line_error(e, "--downscale")
    with pytest.raises(InputError) as e:
        load_dataset(FIX / "blender", background="green")
    one_line_error(e, "--background")


# ---------------------------------------------------------------------------------------------------------------
# scene normalisation
# ---------------------------------------------------------------------------------------------------------------


def test_scene_transform_bounded_blender():
    st = compute_scene_transform(load_dataset(FIX / "blender"))
    assert st.bounded and st.center == [0.0, 0.0, 0.0] and st.scale == pytest.approx(1 / 1.5)
    assert SceneTransform.from_dict(st.to_dict()) == st


def test_scene_transform_inward_facing_uses_focus_point():
    ds = load_dataset(FIX / "nerfstudio")  # cameras look at (0.2, -0.1, 0.3)
    st = compute_scene_transform(ds)
    assert not st.bounded and np.allclose(st.center, [0.2, -0.1, 0.3], atol=1e-4)
    r = st.world_to_field_points(ds.cameras.centers).norm(dim=-1)
    assert r.max().item() == pytest.approx(0.9, abs=1e-5)


def test_scene_transform_forward_facing_and_fallback():
    ds = load_dataset(FIX / "llff")  # nearly parallel axes: no focus point; centre moved forward by the near depth
    assert camera_focus_point(ds.cameras.c2w.numpy()) is None
    st = compute_scene_transform(ds)
    centres = ds.cameras.centers.double().numpy()
    fwd = -ds.cameras.c2w[:, :, 2].double().numpy().mean(0)
    fwd /= np.linalg.norm(fwd)
    near = np.median(np.asarray(ds.metadata["near_far"])[:, 0])
    assert np.allclose(st.center, centres.mean(0) + fwd * near, atol=1e-5)
    assert st.world_to_field_points(ds.cameras.centers).norm(dim=-1).max().item() == pytest.approx(0.9, abs=1e-5)
    ds.metadata.pop("near_far")  # no depth bounds: mean of the camera centres
    st2 = compute_scene_transform(ds)
    assert np.allclose(st2.center, centres.mean(0), atol=1e-5)
    assert st2.world_to_field_points(ds.cameras.centers).norm(dim=-1).max().item() == pytest.approx(0.9, abs=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# real data in ../shared (skipped when absent)
# ---------------------------------------------------------------------------------------------------------------


def shared(rel: str) -> Path:
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


@pytest.mark.shared
def test_shared_lego():
    ds = load_dataset(shared("datasets/lego"), check_images=False)
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 100, "val": 100, "test": 200}
    assert ds.kind == "blender" and ds.cameras.width[0].item() == 200
    assert ds.cameras.fx[0].item() == pytest.approx(0.5 * 200 / math.tan(0.5 * 0.6911112070083618), rel=1e-6)
    # the Blender cameras look at the origin: their optical axes meet there
    assert np.allclose(camera_focus_point(ds.cameras.c2w.numpy()), 0.0, atol=1e-3)


@pytest.mark.shared
def test_shared_fern():
    ds = load_dataset(shared("datasets/fern"))
    assert ds.kind == "llff" and len(ds) == 20 and ds.metadata["image_folder"] == "images_8"
    assert (ds.cameras.width[0].item(), ds.cameras.height[0].item()) == (504, 378)
    assert ds.cameras.fx[0].item() == pytest.approx(3260.526 / 8, rel=1e-5)
    assert ds.splits["test"] == [0, 8, 16]


@pytest.mark.shared
def test_shared_fox_and_instant_ngp_file():
    ds = load_dataset(shared("datasets/fox"))
    assert ds.kind == "instant-ngp" and len(ds) == 67
    assert (ds.cameras.width[0].item(), ds.cameras.height[0].item()) == (270, 480)
    assert ds.cameras.fx[0].item() == pytest.approx(343.88) and ds.cameras.model[0] == "OPENCV"
    assert np.allclose(ds.aabb, [[-2 / 0.33] * 3, [2 / 0.33] * 3], atol=1e-4)  # aabb_scale 4
    assert len(ds.metadata["sharpness"]) == 67
    full = load_dataset(shared("formats/instant-ngp-fox/transforms.json"), check_images=False)
    assert full.cameras.fx[0].item() == pytest.approx(1375.52) and full.cameras.width[0].item() == 1080
    assert torch.allclose(full.cameras.c2w, ds.cameras.c2w)


@pytest.mark.shared
def test_shared_nerfstudio_files_match_the_copies():
    for name in ("nerfstudio-processed", "nerfstudio-processed-opencv-111f"):
        src = shared(f"formats/{name}/transforms.json")
        assert src.read_bytes() == (FIX / "real" / name / "transforms.json").read_bytes()
