"""`scenegen process`: photos -> structure from motion -> transforms.json, COLMAP/LLFF imports, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

pycolmap = pytest.importorskip("pycolmap")

from scenegen.cli.main import main  # noqa: E402
from scenegen.cameras.poses import look_at_c2w  # noqa: E402
from scenegen.data import synth  # noqa: E402
from scenegen.data.capture.colmap import orient, similarity_align  # noqa: E402
from synth_rooms import make_demo_scene  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    """36 photos of the textured demo room from known poses: a loop around the room at eye height, each looking
    across the room at the furniture and the wall art opposite (neighbouring views overlap by most of the frame)."""
    root = tmp_path_factory.mktemp("capture")
    scene = make_demo_scene(0)
    n = 36
    a = 2 * np.pi * np.arange(n) / n
    eyes = np.stack([1.6 * np.cos(a), 1.1 * np.sin(a), 1.4 + 0.1 * np.sin(3 * a)], 1)
    targets = np.stack([-1.2 * np.cos(a + 0.35), -0.9 * np.sin(a + 0.35), np.full(n, 0.7)], 1)
    c2w = np.stack([look_at_c2w(e, t) for e, t in zip(eyes, targets)])
    cams = synth.cameras_from_c2w(c2w, 400, 300, 75.0)
    rgb, _ = synth.render_views(scene, cams)
    from PIL import Image

    photos = root / "photos"
    photos.mkdir()
    for i in range(n):
        Image.fromarray(rgb[i]).save(photos / f"IMG_{i:03d}.jpg", quality=95)
    return photos, c2w


def test_photos_to_poses_recovers_known_cameras(capture, tmp_path):
    photos, c2w_true = capture
    out = tmp_path / "data"
    assert main(["process", "--input", str(photos), "--output", str(out), "--no-progress"]) == 0
    meta = json.loads((out / "transforms.json").read_text())
    report = json.loads((out / "report.json").read_text())
    assert meta["camera_model"] == "OPENCV" and meta["w"] == 400 and meta["h"] == 300
    assert (out / "sparse_pc.ply").is_file() and (out / "cameras.png").is_file()
    assert report["registered"] >= 34 and report["reprojection_error_px"] < 1.0
    idx = {f"IMG_{i:03d}.jpg": i for i in range(len(c2w_true))}
    got = {Path(f["file_path"]).name: np.asarray(f["transform_matrix"]) for f in meta["frames"]}
    names = sorted(got)
    src = np.stack([got[n][:3, 3] for n in names])
    dst = np.stack([c2w_true[idx[n]][:3, 3] for n in names])
    s, r, t = similarity_align(src, dst)
    aligned = (s * (r @ src.T)).T + t
    radius = np.linalg.norm(dst - dst.mean(0), axis=1).max()
    rmse = np.sqrt(((aligned - dst) ** 2).sum(1).mean())
    # camera centres within 2 % of the capture's radius (3 cm here): 400x300 JPEGs, 36 views, and an OPENCV
    # camera whose distortion SfM estimates too (the lego benchmark in BENCHMARKS.md is held to 1 %)
    assert rmse / radius < 0.02, rmse / radius
    # orientations agree too (after the same rotation), and +Z is up: the cameras were held level
    for n in names:
        rel = (r @ got[n][:3, :3]).T @ c2w_true[idx[n]][:3, :3]
        ang = np.degrees(np.arccos(np.clip((np.trace(rel) - 1) / 2, -1, 1)))
        assert ang < 1.0, (n, ang)
    ups = np.stack([got[n][:3, 1] for n in names])
    assert ups.mean(0)[2] > 0.95
    # the written dataset trains: it loads with OPENCV intrinsics and the sparse points recorded
    from scenegen.data.loader import load_dataset

    ds = load_dataset(out)
    assert len(ds) == report["registered"] and ds.metadata.get("ply_file_path") == "sparse_pc.ply"
    # the SfM points are a depth prior: training reads them, seeds the occupancy grid and supervises depth
    from scenegen.train.config import TrainConfig
    from scenegen.train.trainer import Trainer

    tr = Trainer(TrainConfig(data=out, output=tmp_path / "run", max_steps=30, progress=False, eval_every=0, threads=1))
    tr.setup()
    idx, z = tr.bank.known_depth()
    assert idx.numel() > 1000 and bool((z > 0).all())
    # the depth of each SfM pixel is the camera's distance to a surface of the room: between 0.3 m and the
    # room's diagonal (the capture is metric up to SfM's scale, recovered by the alignment above)
    assert 0.3 < float(z.median()) * s < 7.0
    assert tr.grid.occupancy_fraction < 0.99  # free space in front of the points was carved
    # sparse points guide the first quarter of training only: the depth loss fades out, and so do the rays
    # drawn through the points
    assert tr.depth_weight() == pytest.approx(tr.cfg.depth_loss)
    gen = torch.Generator().manual_seed(0)
    in_sparse = lambda batch: torch.isin(_flat(tr.bank, batch), tr.bank.sparse_idx).float().mean()
    assert float(in_sparse(tr.bank.sample(4096, gen))) > 0.12
    tr.train()
    assert tr.step == 30
    assert tr.depth_weight() == 0.0
    assert float(in_sparse(tr.bank.sample(4096, gen, sparse=False))) < 0.05

    # a COLMAP model folder imports to the same poses (the run's own model, as COLMAP writes it)
    out2 = tmp_path / "imported"
    model = out / "colmap" / "sparse" / "best"
    assert main(["process", "--input", str(model), "--images", str(out / "images"), "--output", str(out2),
                 "--no-progress"]) == 0
    meta2 = json.loads((out2 / "transforms.json").read_text())
    a = {f["file_path"]: np.asarray(f["transform_matrix"]) for f in meta["frames"]}
    b = {f["file_path"]: np.asarray(f["transform_matrix"]) for f in meta2["frames"]}
    assert a.keys() == b.keys()
    assert max(np.abs(a[k] - b[k]).max() for k in a) < 1e-6


def test_small_photos_get_the_sensitive_detector(capture, tmp_path):
    """Thumbnails (here the capture at 160x120) give SIFT's default detector a few hundred keypoints each, too few
    for mapping to chain the views; process notices and extracts again with a more sensitive detector."""
    from PIL import Image

    photos, c2w_true = capture
    small = tmp_path / "small"
    small.mkdir()
    for p in sorted(photos.iterdir()):
        with Image.open(p) as im:
            im.resize((160, 120), Image.BOX).save(small / p.name, quality=95)
    out = tmp_path / "data"
    assert main(["process", "--input", str(small), "--output", str(out), "--no-progress"]) == 0
    report = json.loads((out / "report.json").read_text())
    sens = report["sensitive_features"]
    assert sens["median_keypoints_before"] < 1000 and sens["median_keypoints"] > 1.3 * sens["median_keypoints_before"]
    assert report["registered"] >= 32
    meta = json.loads((out / "transforms.json").read_text())
    idx = {f"IMG_{i:03d}.jpg": i for i in range(len(c2w_true))}
    got = {Path(f["file_path"]).name: np.asarray(f["transform_matrix"]) for f in meta["frames"]}
    src = np.stack([got[n][:3, 3] for n in sorted(got)])
    dst = np.stack([c2w_true[idx[n]][:3, 3] for n in sorted(got)])
    s, r, t = similarity_align(src, dst)
    radius = np.linalg.norm(dst - dst.mean(0), axis=1).max()
    rmse = np.sqrt((((s * (r @ src.T)).T + t - dst) ** 2).sum(1).mean())
    # pixels 2.5x the size of the test above's (held to 2 %), and COLMAP's threaded mapping varies from run to
    # run: under 4 % in one run, 5.6 % in another
    assert rmse / radius < 0.08, rmse / radius


def _flat(bank, batch):
    """Flat pixel indices of a PixelBank.sample batch (frame, u, v, ...)."""
    frame, u, v = batch[0], batch[1], batch[2]
    k = (bank.frames[None, :] == frame[:, None]).long().argmax(1)
    return bank.offsets[k] + (v - 0.5).long() * bank.widths[k] + (u - 0.5).long()


def test_scale_from_two_points_makes_metres():
    from scenegen.data.capture.colmap import PosedImages, apply_transform

    c2w = np.tile(np.eye(4), (3, 1, 1))
    c2w[:, :3, 3] = [[0, 0, 0], [2, 0, 0], [0, 2, 0]]
    posed = PosedImages(["a", "b", "c"], c2w, [{}] * 3, points=np.array([[0.0, 0, 0], [2.0, 0, 0]]))
    T, info = orient(posed, up="none", center="none", scale_from=(0, 0, 0, 2, 0, 0, 5.0))
    out = apply_transform(posed, T)
    assert info["scale"] == pytest.approx(2.5)
    assert np.linalg.norm(out.c2w[1, :3, 3] - out.c2w[0, :3, 3]) == pytest.approx(5.0)
    assert np.allclose(out.c2w[:, :3, :3], np.eye(3))  # rotations stay orthonormal


def test_llff_import(tmp_path):
    fern = SHARED / "datasets" / "fern"
    if not (fern / "poses_bounds.npy").is_file():
        pytest.skip("../shared/datasets/fern is not here")
    out = tmp_path / "fern"
    assert main(["process", "--input", str(fern), "--output", str(out), "--no-progress"]) == 0
    meta = json.loads((out / "transforms.json").read_text())
    from scenegen.data.loader import load_dataset

    ds = load_dataset(fern)
    assert len(meta["frames"]) == len(ds)
    assert (out / "images" / Path(meta["frames"][0]["file_path"]).name).is_file()


def test_bad_captures_fail_with_one_line(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    for i in range(3):
        (broken / f"b{i}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "novideo.mp4").write_bytes(b"")
    noise = tmp_path / "noise"
    noise.mkdir()
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(4):  # unrelated random images: nothing matches
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(noise / f"n{i}.png")
    cases = [
        (tmp_path / "missing", "no such file"),
        (empty, "no photos"),
        (broken, "at least 3 readable images"),
        (tmp_path / "novideo.mp4", "video"),
        (noise, "found no model"),
    ]
    for src, msg in cases:
        rc = main(["process", "--input", str(src), "--output", str(tmp_path / f"out_{src.name}"), "--no-progress"])
        err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error")]
        assert rc == 2 and len(err) == 1 and msg in err[0], (src, err)
    # the failed run still leaves its report: every image, with the reason it was left out
    rep = json.loads((tmp_path / "out_noise" / "report.json").read_text())
    assert sorted(r["image"] for r in rep["rejected"]) == [f"n{i}.png" for i in range(4)]
    assert all(r["reason"] for r in rep["rejected"])
    assert not (tmp_path / "out_noise" / "transforms.json").exists()


def test_video_keeps_the_sharpest_frame_of_each_slice(tmp_path):
    import imageio.v2 as imageio
    from scipy.ndimage import gaussian_filter

    from scenegen.data.capture.process import video_frames

    rng = np.random.default_rng(1)
    base = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
    path = tmp_path / "walk.mp4"
    with imageio.get_writer(path, fps=10, codec="libx264", quality=9, macro_block_size=16) as w:
        for k in range(30):
            frame = np.roll(base, 2 * k, axis=1)
            if k % 3 != 1:  # two of every three frames are motion-blurred
                frame = gaussian_filter(frame.astype(float), sigma=(2.5, 2.5, 0)).astype(np.uint8)
            w.append_data(frame)
    out = tmp_path / "frames"
    out.mkdir()
    names, info = video_frames(path, out, 10)
    assert info["video_frames"] == 30 and len(names) == 10
    assert all(int(n[6:12]) % 3 == 1 for n in names), names  # the sharp frame of each 3-frame slice


# ------------------------------------------------------------------------------------------ outputs (issue 12)


def _text_model(root: Path, names: list[str]) -> Path:
    """A minimal COLMAP text model (one PINHOLE camera, ``names`` at identity-ish poses, one point)."""
    model = root / "sparse" / "0"
    model.mkdir(parents=True)
    (model / "cameras.txt").write_text("1 PINHOLE 64 48 50 50 32 24\n")
    lines = []
    for i, n in enumerate(names, 1):
        lines += [f"{i} 1 0 0 0 {0.1 * i} 0 0 1 {n}", ""]
    (model / "images.txt").write_text("\n".join(lines) + "\n")
    (model / "points3D.txt").write_text("1 0 0 5 255 255 255 0.5\n")
    return model


def test_colmap_image_names_cannot_escape_the_output(tmp_path, capsys):
    """Defect 3: a COLMAP image name `../../../esc/evil.png` created a file outside --output. Now: one line naming
    the model and the field, exit 2, nothing written outside."""
    from PIL import Image

    root = tmp_path / "a" / "b" / "c"
    images = root / "images"
    (tmp_path / "a" / "esc").mkdir(parents=True)
    images.mkdir(parents=True)
    for n in ("ok1.png", "ok2.png"):
        Image.new("RGB", (64, 48), (90, 90, 90)).save(images / n)
    evil = "../../../esc/evil.png"
    Image.new("RGB", (64, 48)).save((images / evil).resolve())
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    _text_model(root, ["ok1.png", "ok2.png", evil])
    out = root / "out"
    assert main(["process", "--input", str(root), "--output", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "image name" in err and ".." in err, err
    after = sorted(str(p) for p in tmp_path.rglob("*") if not str(p).startswith(str(out)) and "sparse" not in str(p))
    assert after == [p for p in before if "sparse" not in p]
    assert not (tmp_path / "esc").exists() and not list(out.rglob("evil*"))


def test_process_refuses_a_foreign_output_folder_and_survives_a_truncated_stage(tmp_path, capsys):
    """Ownership (build item) and defect 7: --output pointing at a non-empty folder scenegen did not write is
    refused (one line), and a truncated colmap/stage.json is ignored (structure from motion starts over), not a
    traceback."""
    from PIL import Image

    from scenegen.data.capture.process import _read_stage, copy_photos

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.new("RGB", (64, 48), (30 * i, 90, 90)).save(photos / f"p{i}.png")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(["process", "--input", str(photos), "--output", str(mine), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not empty" in err and str(mine) in err, err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    stage = tmp_path / "stage.json"
    stage.write_text('{"names": ["p0.png", "p1')
    assert _read_stage(stage) == {}
    stage.write_text('[1, 2]')
    assert _read_stage(stage) == {}
    # copied photos: atomic (no temporary file left), same bytes
    out = tmp_path / "imgs"
    out.mkdir()
    kept, _ = copy_photos(photos, out)
    assert kept == ["p0.png", "p1.png", "p2.png"]
    assert sorted(p.name for p in out.iterdir()) == kept
    assert all((out / n).read_bytes() == (photos / n).read_bytes() for n in kept)


def test_a_capture_registered_in_pieces_is_mapped_again_with_global_sfm(capture, tmp_path, monkeypatch, capsys):
    """--mapper auto: when the incremental model has consecutive photos far apart (bonsai's first 62 photos came
    out 4.7 units from the rest), the same matches are mapped again with global SfM and its model is kept when it
    is in one piece; a re-run resumes without mapping again; an explicit --mapper incremental does not repair.
    The jump is injected into the incremental model's check (a real one needs a long capture; BENCHMARKS.md has
    bonsai's); global SfM then runs for real on the photos and must recover the known cameras."""
    import scenegen.data.capture.process as cp
    from scenegen.data.capture.coverage import registration_jumps

    photos, c2w_true = capture
    calls = []

    def first_model_in_pieces(c2w, names):
        calls.append(len(names))
        if len(calls) == 1:
            return [(names[9], names[10], 17.0)]
        return registration_jumps(c2w, names)

    monkeypatch.setattr(cp, "registration_jumps", first_model_in_pieces)
    out = tmp_path / "data"
    # interrupted while mapping again: the incremental model stays, and the next run repairs it
    real_map = cp._map

    def interrupted_global(pycolmap, kind, *a, **k):
        if kind == "global":
            raise KeyboardInterrupt
        return real_map(pycolmap, kind, *a, **k)

    monkeypatch.setattr(cp, "_map", interrupted_global)
    assert main(["process", "--input", str(photos), "--output", str(out), "--no-progress"]) == 130
    stage = json.loads((out / "colmap" / "stage.json").read_text())
    assert stage["mapping"] is True and stage["model"] == "best" and "repair" not in stage
    monkeypatch.setattr(cp, "_map", real_map)
    calls.clear()
    assert main(["process", "--input", str(photos), "--output", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "IMG_009.jpg and IMG_010.jpg 17x the usual step apart" in err and "global SfM registered" in err, err
    report = json.loads((out / "report.json").read_text())
    rep = report["registration_repair"]
    assert rep["kept"] == "global" and rep["global_jumps"] == [] and rep["global_registered"] >= 34
    assert report["mapper"] == "global" and report["model"] == "colmap/sparse/global"
    assert (out / "colmap" / "sparse" / "global" / "images.bin").is_file()
    assert (out / "colmap" / "sparse" / "best" / "images.bin").is_file()  # the incremental model stays beside it
    assert not [p for p in (out / "colmap" / "sparse").iterdir() if p.name.endswith("-models")]  # no scratch left
    # the global model is what transforms.json holds, and it recovers the known cameras
    meta = json.loads((out / "transforms.json").read_text())
    got = {Path(f["file_path"]).name: np.asarray(f["transform_matrix"]) for f in meta["frames"]}
    assert len(got) == report["registered"] >= 34
    names = sorted(got)
    idx = {f"IMG_{i:03d}.jpg": i for i in range(len(c2w_true))}
    src = np.stack([got[n][:3, 3] for n in names])
    dst = np.stack([c2w_true[idx[n]][:3, 3] for n in names])
    s, r, t = similarity_align(src, dst)
    rmse = np.sqrt((((s * (r @ src.T)).T + t - dst) ** 2).sum(1).mean())
    assert rmse / np.linalg.norm(dst - dst.mean(0), axis=1).max() < 0.02

    # a re-run resumes: nothing is mapped again, the repair is remembered
    def no_mapping(*a, **k):
        raise AssertionError("mapped again")

    monkeypatch.setattr(cp, "_map", no_mapping)
    assert main(["process", "--input", str(photos), "--output", str(out), "--overwrite", "--no-progress"]) == 0
    assert "global SfM registered" in capsys.readouterr().err
    assert json.loads((out / "transforms.json").read_text())["frames"] == meta["frames"]

    # --mapper incremental maps again (another mapper was asked for) and keeps the incremental model as it is
    monkeypatch.undo()
    calls.clear()
    monkeypatch.setattr(cp, "registration_jumps", first_model_in_pieces)
    assert main(["process", "--input", str(photos), "--output", str(out), "--overwrite", "--no-progress",
                 "--mapper", "incremental"]) == 0
    capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    assert report["mapper"] == "incremental" and report["model"] == "colmap/sparse/best"
    assert "registration_repair" not in report and calls == []
    # a progress record naming a model folder scenegen does not write is not followed: the model is mapped again
    stage_file = out / "colmap" / "stage.json"
    stage = json.loads(stage_file.read_text())
    stage["model"] = "../../elsewhere"
    stage_file.write_text(json.dumps(stage))
    assert main(["process", "--input", str(photos), "--output", str(out), "--overwrite", "--no-progress",
                 "--mapper", "incremental"]) == 0
    assert json.loads(stage_file.read_text())["model"] == "best"
