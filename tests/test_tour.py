"""`scenegen tour`: a spec of two small scenes x two tours x two formats end to end on the local engine, refused
malformed specs, frame-level resume, shards + assemble equal to one run, `render --frames-range`."""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from PIL import Image

from scenegen.cli.main import main

from scenes import make_cube_dataset
from test_resume import small_config


@pytest.fixture(scope="module")
def cube(tmp_path_factory) -> Path:
    return make_cube_dataset(tmp_path_factory.mktemp("tour_cube") / "data", n_train=12, n_test=2, size=32)


@pytest.fixture(scope="module")
def tiny_run(cube, tmp_path_factory) -> Path:
    """A run of the checker cube trained for a few steps (what the pixels show does not matter here)."""
    from scenegen.train.trainer import Trainer

    run = tmp_path_factory.mktemp("tour_run") / "run"
    t = Trainer(small_config(cube, run, 12))
    t.setup()
    t.train()
    return run


def _path_json(folder: Path, run: Path) -> Path:
    """A camera path file (a half orbit at another height), given to a tour as a file."""
    from scenegen.paths import save_path_spec
    from scenegen.pipelines.paths import orbit_tour

    spec = orbit_tour(run, seconds=1.0, fps=4, radius=2.8, height_above=1.2)
    return save_path_spec(spec, folder / "half.json")


def _spec(folder: Path, run: Path, cube: Path, *, second: str = "data") -> Path:
    """Two scenes x two tours x two formats; the second scene trains from its dataset (or uses a run)."""
    _path_json(folder, run)
    second_src = (f'data = "{cube}"\ntrain_steps = 6' if second == "data" else f'run = "{second}"')
    text = textwrap.dedent(f"""\
        [[scene]]
        name = "cube-a"
        run = "{run}"
        fps = 4
        seconds = 1
        scale = 0.03
        [[scene.tour]]
        path = "orbit"
        formats = ["landscape", "frames"]
        radius = 3.0
        [[scene.tour]]
        path = "half.json"
        formats = ["square", "landscape"]

        [[scene]]
        name = "cube-b"
        SECOND_SOURCE
        [[scene.tour]]
        path = "orbit"
        formats = ["vertical", "frames"]
        fps = 4
        seconds = 1.5
        scale = 0.03
        [[scene.tour]]
        name = "file"
        path = "half.json"
        formats = ["landscape", "square"]
        width = 64
        height = 48
        """).replace("SECOND_SOURCE", second_src)
    spec = folder / "tours.toml"
    spec.write_text(text)
    return spec


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def batch(tiny_run, cube, tmp_path_factory):
    """The spec run once (one worker), then again unchanged."""
    folder = tmp_path_factory.mktemp("tour_batch")
    spec = _spec(folder, tiny_run, cube)
    out = folder / "out"
    code = main(["tour", str(spec), "--output", str(out), "--no-progress", "--chunk-frames", "3"])
    first = _manifest(out)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    code2 = main(["tour", str(spec), "--output", str(out), "--no-progress", "--chunk-frames", "3"])
    return {"spec": spec, "out": out, "code": code, "code2": code2, "first": first, "second": _manifest(out),
            "mtimes": mtimes, "folder": folder}


def test_two_scenes_two_tours_two_formats_end_to_end(batch):
    from scenegen.video.writer import probe_video

    assert batch["code"] == 0
    out, outputs = batch["out"], batch["first"]["outputs"]
    assert len(outputs) == 8  # 2 scenes x 2 tours x 2 formats, no texts: one output each
    assert {(e["scene"], e["tour"], e["format"]) for e in outputs} == {
        ("cube-a", "orbit", "landscape"), ("cube-a", "orbit", "frames"), ("cube-a", "half", "square"),
        ("cube-a", "half", "landscape"), ("cube-b", "orbit", "vertical"), ("cube-b", "orbit", "frames"),
        ("cube-b", "file", "landscape"), ("cube-b", "file", "square")}
    sizes = {}
    for e in outputs:
        assert e["status"] == "done", e
        f = out / e["file"]
        assert e["checkpoint_sha256"] and len(e["sha256"]) == 64 and e["scenegen_version"]
        assert e["spec"]["name"] == e["scene"] and len(e["spec"]["tour"]) == 1
        if e["format"] == "frames":
            pngs = sorted(f.glob("*.png"))
            assert len(pngs) == e["frames"]
        else:
            assert f.suffix == ".mp4" and _sha(f) == e["sha256"]
            info = probe_video(f)
            assert info["nframes"] == e["frames"]
            sizes[(e["scene"], e["tour"], e["format"])] = tuple(info["size"])
    by = {(e["scene"], e["tour"], e["format"]): e for e in outputs}
    assert by[("cube-a", "orbit", "landscape")]["frames"] == 4  # fps 4 x 1 s (scene settings)
    assert by[("cube-b", "orbit", "vertical")]["frames"] == 6  # fps 4 x 1.5 s (tour settings)
    w, h = sizes[("cube-a", "orbit", "landscape")]  # 1920x1080 x 0.03 = 57.6x32.4, made even
    assert w % 2 == 0 and h % 2 == 0 and abs(w - 57.6) <= 2 and abs(h - 32.4) <= 2
    assert sizes[("cube-b", "file", "landscape")] == (64, 48)  # width/height override
    # the second scene was trained by the batch from its dataset
    assert Path(by[("cube-b", "orbit", "vertical")]["run"]).parent == (out / "runs").resolve()
    html = (out / "index.html").read_text()
    assert html.count("data:image/png;base64,") >= 8 * 2 and "done" in html
    assert (out / "review.png").stat().st_size > 1000


def test_same_spec_twice_renders_nothing(batch, capsys):
    assert batch["code2"] == 0
    assert [e["sha256"] for e in batch["second"]["outputs"]] == [e["sha256"] for e in batch["first"]["outputs"]]
    out = batch["out"]
    for p, t in batch["mtimes"].items():
        if p.suffix in (".png", ".mp4") and p.name != "review.png":
            assert p.stat().st_mtime_ns == t, p  # no frame rendered again, no video re-encoded


def test_shards_then_assemble_equal_one_run(batch, tiny_run, cube, tmp_path):
    # the same tours over the same checkpoints (scene b: the run the first batch trained)
    spec = _spec(tmp_path, tiny_run, cube, second=str(batch["out"] / "runs" / "cube-b"))
    out = tmp_path / "sharded"
    args = ["tour", str(spec), "--output", str(out), "--no-progress", "--chunk-frames", "3"]
    assert main(args + ["--shard", "0/2"]) == 0
    assert main(args + ["--assemble"]) == 2  # shard 1 is missing: refused, naming what is missing
    assert not (out / "manifest.json").exists()
    assert main(args + ["--shard", "1/2"]) == 0
    assert main(args + ["--assemble"]) == 0
    got = {e["file"]: e["sha256"] for e in _manifest(out)["outputs"]}
    want = {e["file"]: e["sha256"] for e in batch["first"]["outputs"]}
    assert got == want  # byte for byte


@pytest.mark.parametrize("case,snippet,field", [
    ("unknown key", 'colour = "red"\n', "scene[0].colour"),
    ("wrong type", None, "scene[0].tour[0].formats"),
    ("missing data folder", None, "scene[0].data"),
    ("bad format", None, "scene[0].tour[0].formats[1]"),
])
def test_malformed_spec_is_refused_with_the_field(tmp_path, capsys, case, snippet, field):
    data, formats = tmp_path, '["landscape", "square"]'
    if case == "wrong type":
        formats = '"landscape"'
    if case == "missing data folder":
        data = tmp_path / "nowhere"
    if case == "bad format":
        formats = '["landscape", "cinemascope"]'
    spec = tmp_path / "bad.toml"
    spec.write_text(f'[[scene]]\nname = "a"\ndata = "{data}"\n{snippet or ""}[[scene.tour]]\npath = "auto"\n'
                    f"formats = {formats}\n")
    out = tmp_path / "out"
    assert main(["tour", str(spec), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(spec) in err and field in err, err
    assert not out.exists()


def test_bad_flags_are_refused(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text("")
    for flags, field in ((["--shard", "2/2"], "--shard"), (["--workers", "0"], "--workers"),
                         (["--address", "x:1"], "--address")):
        assert main(["tour", str(spec), "--output", str(tmp_path / "o")] + flags) == 2
        err = capsys.readouterr().err
        assert field in err and len(err.strip().splitlines()) == 1, err


def test_render_frames_range_renders_only_those_frames(tiny_run, tmp_path):
    path = _path_json(tmp_path, tiny_run)
    frames, video = tmp_path / "frames", tmp_path / "v.mp4"
    base = ["render", "--run", str(tiny_run), "--camera-path", str(path), "--frames", str(frames), "--output",
            str(video), "--resolution-scale", "0.03", "--no-progress", "--no-check"]
    assert main(base + ["--frames-range", "1:3"]) == 0
    assert sorted(p.name for p in frames.glob("*.png")) == ["00001.png", "00002.png"]
    assert not video.exists()  # a part of the path: no video
    before = {p.name: _sha(p) for p in frames.glob("*.png")}
    assert main(base + ["--frames-range", "0:"]) == 0  # the whole path: the rest rendered, then the video
    assert len(list(frames.glob("*.png"))) == 4 and video.is_file()
    assert all(_sha(frames / k) == h for k, h in before.items())
    whole = tmp_path / "whole"
    full = ["render", "--run", str(tiny_run), "--camera-path", str(path), "--frames", str(whole), "--output",
            str(tmp_path / "w.mp4"), "--resolution-scale", "0.03", "--no-progress", "--no-check"]
    assert main(full) == 0
    for k in range(4):
        assert np.array_equal(np.asarray(Image.open(frames / f"{k:05d}.png")),
                              np.asarray(Image.open(whole / f"{k:05d}.png")))
    assert _sha(video) == _sha(tmp_path / "w.mp4")


def test_a_failing_scene_never_stops_the_others(tiny_run, tmp_path, capsys):
    empty = tmp_path / "not-a-dataset"
    empty.mkdir()
    spec = tmp_path / "s.toml"
    spec.write_text(f'[[scene]]\nname = "broken"\ndata = "{empty}"\ntrain_steps = 2\n'
                    '[[scene.tour]]\npath = "orbit"\nformats = ["frames"]\n'
                    f'[[scene]]\nname = "fine"\nrun = "{tiny_run}"\nfps = 2\nseconds = 1\nscale = 0.03\n'
                    '[[scene.tour]]\npath = "orbit"\nformats = ["frames"]\n')
    out = tmp_path / "out"
    assert main(["tour", str(spec), "--output", str(out), "--no-progress"]) == 1  # exit 1 at the end
    by = {e["scene"]: e for e in _manifest(out)["outputs"]}
    assert by["fine"]["status"] == "done" and by["fine"]["frames"] == 2
    assert by["broken"]["status"] == "failed" and by["broken"]["error"].startswith("training failed")
    assert "\n" not in by["broken"]["error"]
    assert "failed" in (out / "index.html").read_text()
