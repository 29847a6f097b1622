"""Issue 12: the CLI's one error boundary, flag/JSON validation at entry (defect 4), 16-bit PNGs (defect 9) and
dataset files outside the dataset folder (defect 3, reading side).

Each test runs the real CLI entry (:func:`scenegen.cli.main.main`) in process and checks the exit code and that
stderr is exactly one line, without a traceback.
"""

from __future__ import annotations

import errno
import json
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from scenegen.cli import main as cli
from scenegen.core.errors import InputError
from scenegen.data import load_dataset
from scenegen.data.images import load_image

FIX = Path(__file__).parent / "fixtures" / "data"
PATHS = Path(__file__).parent / "fixtures" / "camera_paths"


def run(capsys, *args) -> tuple[int, str]:
    """Run the CLI in process: (exit code, stderr)."""
    capsys.readouterr()
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


# ----------------------------------------------------------------------------------------------------------
# The error boundary
# ----------------------------------------------------------------------------------------------------------


def _raising(exc):
    def handler(cfg, console=None):
        raise exc
    return handler


def _patch_path_info(monkeypatch, exc):
    """Make `scenegen path info` raise ``exc`` (the path commands go through the same boundary)."""
    import scenegen.cli.path as path_cli

    name, (cfg_type, _) = "info", path_cli.COMMANDS["info"]
    monkeypatch.setitem(path_cli.COMMANDS, name, (cfg_type, _raising(exc)))


def test_boundary_unknown_exception_is_one_line_exit_1(monkeypatch, capsys):
    """Defect 4: an exception that is not a scenegen error gives one line with its type and the debug hint."""
    _patch_path_info(monkeypatch, ZeroDivisionError("float division by zero"))
    code, err = run(capsys, "path", "info", PATHS / "viewer-export-7kf.json")
    line = one_line(err)
    assert code == 1
    assert "ZeroDivisionError" in line and "SCENEGEN_DEBUG=1" in line


def test_boundary_debug_prints_the_traceback(monkeypatch, capsys):
    _patch_path_info(monkeypatch, ValueError("boom"))
    monkeypatch.setenv("SCENEGEN_DEBUG", "1")
    code, err = run(capsys, "path", "info", PATHS / "viewer-export-7kf.json")
    assert code == 1 and "Traceback" in err and "ValueError: boom" in err


def test_boundary_oserror_wrapped_in_runtimeerror_is_exit_2(monkeypatch, capsys):
    """Defect 6 (boundary part): a full disk hidden inside torch's RuntimeError: one line naming the file, exit 2."""
    def wrapped():
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/checkpoints/latest.pt")
        except OSError as e:
            raise RuntimeError("[enforce fail at inline_container.cc:626] unexpected pos") from e

    try:
        wrapped()
    except RuntimeError as e:
        exc = e
    _patch_path_info(monkeypatch, exc)
    code, err = run(capsys, "path", "info", PATHS / "viewer-export-7kf.json")
    line = one_line(err)
    assert code == 2
    assert line == "error: /runs/x/checkpoints/latest.pt: No space left on device"


def test_boundary_scenegen_error_in_context_is_exit_2(monkeypatch, capsys):
    try:
        try:
            raise InputError("must be positive", file="a.json", field="fps")
        except InputError:
            raise KeyError("x")  # raised while handling: the InputError is the __context__
    except KeyError as e:
        exc = e
    _patch_path_info(monkeypatch, exc)
    code, err = run(capsys, "path", "info", PATHS / "viewer-export-7kf.json")
    assert code == 2 and one_line(err) == "error: a.json: fps: must be positive"


def test_boundary_keyboard_interrupt_is_130(monkeypatch, capsys):
    _patch_path_info(monkeypatch, KeyboardInterrupt())
    code, err = run(capsys, "path", "info", PATHS / "viewer-export-7kf.json")
    assert code == 130 and one_line(err) == "interrupted"


# ----------------------------------------------------------------------------------------------------------
# Flags (defect 4): refused before any work, one line naming the flag
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, flag", [
    (["--lr", "0"], "--lr"),
    (["--max-steps", "-3"], "--max-steps"),
    (["--max-steps", "0"], "--max-steps"),
    (["--time-budget", "0"], "--time-budget"),
    (["--downscale", "-1"], "--downscale"),
    (["--min-rays", "100000"], "--min-rays"),
    (["--sparse-depth-until", "2"], "--sparse-depth-until"),
])
def test_train_flags_refused(tmp_path, capsys, args, flag):
    """Defect 4: `train --lr 0`, `--max-steps -3` (was: 0 steps), `--max-steps 0` (was: silently 20000)."""
    code, err = run(capsys, "train", "--data", FIX / "nerfstudio", "--output", tmp_path / "run", *args)
    line = one_line(err)
    assert code == 2 and line.startswith(f"error: {flag}: "), line
    assert not (tmp_path / "run").exists()


def test_train_output_under_a_file(tmp_path, capsys):
    """Defect 4: `train --output` under a regular file."""
    (tmp_path / "f").write_text("mine")
    code, err = run(capsys, "train", "--data", FIX / "nerfstudio", "--output", tmp_path / "f" / "run")
    assert code == 2 and "--output" in one_line(err) and "is a file" in err
    assert (tmp_path / "f").read_text() == "mine"


def test_max_steps_help_states_the_default(capsys):
    assert cli.main(["train", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "at least 1" in out and "20000" in out


def test_render_flags_and_outputs(tmp_path, capsys):
    """Defect 4: `render --chunk 0`, `render --output` that is a folder or lies under a file."""
    cp = PATHS / "viewer-export-7kf.json"
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    for args, needle in ((["--chunk", "0"], "--chunk"), (["--output", tmp_path / "folder"], "is a folder"),
                         (["--output", tmp_path / "file" / "tour.mp4"], "is a file"),
                         (["--frames", tmp_path / "file"], "--frames")):
        code, err = run(capsys, "render", "--run", tmp_path / "norun", "--camera-path", cp, *args)
        assert code == 2 and needle in one_line(err), err


def test_eval_output_that_is_a_file(tmp_path, capsys):
    """Defect 4: `eval --output` that is a file."""
    (tmp_path / "out").write_text("x")
    code, err = run(capsys, "eval", "--run", tmp_path / "norun", "--output", tmp_path / "out")
    assert code == 2 and "--output" in one_line(err) and "is a file" in err
    assert (tmp_path / "out").read_text() == "x"


def test_ssim_of_images_under_the_window():
    """Defect 4: `eval` on images under 11 px: SSIM uses the largest window that fits."""
    from scenegen.train.metrics import ssim

    a = torch.rand(6, 8, 3)
    assert ssim(a, a) == pytest.approx(1.0)
    assert -1.0 <= ssim(a, torch.rand(6, 8, 3)) < 1.0
    assert ssim(torch.rand(1, 1, 3), torch.rand(1, 1, 3)) <= 1.0
    big = torch.rand(32, 32, 3)
    assert ssim(big, big) == pytest.approx(1.0)


def test_spec_room_type_list(tmp_path, capsys):
    """Defect 4: a spec with `type: ["bedroom"]`."""
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"rooms": [{"type": ["bedroom"]}], "interpreted": [1, 2]}))
    code, err = run(capsys, "generate", "--output", tmp_path / "ds", "--spec", spec)
    assert code == 2 and "rooms[0].type" in one_line(err)
    spec.write_text(json.dumps({"rooms": [{"type": "bedroom"}], "interpreted": [1, 2]}))
    code, err = run(capsys, "generate", "--output", tmp_path / "ds", "--spec", spec)
    assert code == 2 and "interpreted" in one_line(err)


# ----------------------------------------------------------------------------------------------------------
# Free-form metadata keys scenegen reads (defect 4)
# ----------------------------------------------------------------------------------------------------------


def _dataset_with(tmp_path, **metadata) -> Path:
    d = tmp_path / "ds"
    shutil.copytree(FIX / "nerfstudio", d)
    meta = json.loads((d / "transforms.json").read_text())
    meta.setdefault("metadata", {}).update(metadata)
    (d / "transforms.json").write_text(json.dumps(meta))
    return d


@pytest.mark.parametrize("key, value", [
    ("near_far", "abc"),
    ("near_far", [[1, 2], [3]]),
    ("sparse_depth_file", 5),
    ("depth_unit_scale", "x"),
    ("depth_unit_scale", -1),
    ("up", "sideways"),
    ("up", [0, 0, 0]),
])
def test_metadata_keys_refused_at_load(tmp_path, capsys, key, value):
    """Defect 4: metadata.near_far "abc", .sparse_depth_file 5, .depth_unit_scale "x", .up "sideways" are
    refused when the dataset is read (train), not later."""
    d = _dataset_with(tmp_path, **{key: value})
    with pytest.raises(InputError) as e:
        load_dataset(d)
    assert e.value.field.startswith(f"metadata.{key}") and e.value.file.endswith("transforms.json")
    code, err = run(capsys, "train", "--data", d, "--output", tmp_path / "run", "--max-steps", "1")
    assert code == 2 and f"metadata.{key}" in one_line(err)


def test_metadata_keys_valid_values_kept(tmp_path):
    d = _dataset_with(tmp_path, up=[0, 0, 2], near_far=[[0.1, 5]], depth_unit_scale=0.001,
                      sparse_depth_file="sparse.npz", units="metres", other={"free": [1]})
    ds = load_dataset(d)
    assert ds.metadata["up"] == [0.0, 0.0, 2.0]
    assert ds.metadata["near_far"] == [[0.1, 5.0]]
    assert ds.metadata["sparse_depth_file"] == str(d / "sparse.npz")
    assert ds.metadata["other"] == {"free": [1]} and ds.metadata["units"] == "metres"


# ----------------------------------------------------------------------------------------------------------
# 16-bit PNGs (defect 9)
# ----------------------------------------------------------------------------------------------------------


def write_png16(path: Path, arr: np.ndarray) -> None:
    """A real 16-bit PNG (grey, grey+alpha, RGB or RGBA), written byte by byte."""
    arr = arr if arr.ndim == 3 else arr[..., None]
    h, w, c = arr.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))


def test_16bit_grey_png_scaled_by_bit_depth(tmp_path):
    """Defect 9: a 16-bit pixel of 200 loaded as 200/255 and one of 300 as 1/255 (per-image scaling)."""
    dark = tmp_path / "dark.png"
    write_png16(dark, np.array([[200, 0], [0, 0]], np.uint16))
    mixed = tmp_path / "mixed.png"
    write_png16(mixed, np.array([[300, 65535], [32768, 0]], np.uint16))
    assert load_image(dark)[0, 0, 0] == 1  # round(200 / 65535 * 255)
    m = load_image(mixed)
    assert m[0, 0, 0] == 1 and m[0, 1, 0] == 255 and m[1, 0, 0] == 128
    same = tmp_path / "same.png"
    write_png16(same, np.array([[200, 65535]], np.uint16))
    assert load_image(same)[0, 0, 0] == load_image(dark)[0, 0, 0]


def test_16bit_colour_pngs_scaled_by_bit_depth(tmp_path):
    rgb = tmp_path / "rgb.png"
    write_png16(rgb, np.array([[[200, 300, 65535], [0, 32768, 65535]]], np.uint16))
    a = load_image(rgb)
    assert a.shape == (1, 2, 3) and a[0, 0, 2] == 255 and a[0, 0, 0] <= 1 and abs(int(a[0, 1, 1]) - 128) <= 1
    la = tmp_path / "la.png"
    write_png16(la, np.array([[[200, 65535], [65535, 0]]], np.uint16))
    b = load_image(la)
    assert b[0, 0, 0] <= 1 and b[0, 1, 0] == 255 and b[0, 0, 3] == 255 and b[0, 1, 3] == 0


# ----------------------------------------------------------------------------------------------------------
# Dataset files outside the dataset folder (defect 3, reading side)
# ----------------------------------------------------------------------------------------------------------


def test_files_outside_the_dataset_are_named(tmp_path):
    """Defect 3: file_paths reading outside the dataset folder are allowed, and train's summary says so."""
    d = _dataset_with(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    meta = json.loads((d / "transforms.json").read_text())
    src = d / meta["frames"][0]["file_path"]
    shutil.copy(src, outside / src.name)
    meta["frames"][0]["file_path"] = f"../elsewhere/{src.name}"
    (d / "transforms.json").write_text(json.dumps(meta))
    ds = load_dataset(d)
    out = ds.files_outside_root()
    assert [p.name for p in out] == [src.name]
    assert load_dataset(FIX / "nerfstudio").files_outside_root() == []

    from rich.console import Console

    from scenegen.pipelines import train as train_pipeline

    class Stop(Exception):
        pass

    def fake_train(self):
        raise Stop

    console = Console(record=True, width=300)
    from scenegen.train.config import TrainConfig

    cfg = TrainConfig(data=d, output=tmp_path / "run", max_steps=1, threads=1, progress=False)
    orig = train_pipeline.Trainer.train
    train_pipeline.Trainer.train = fake_train
    try:
        with pytest.raises(Stop):
            train_pipeline.train(cfg, console=console)
    finally:
        train_pipeline.Trainer.train = orig
    text = console.export_text()
    assert "1 file(s)" in text and src.name in text and "outside" in text


# ----------------------------------------------------------------------------------------------------------
# Extreme flag values: refused before any work, no numpy overflow warning, no traceback
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, flag", [
    (["orbit", "{out}", "--radius", "1e308"], "--radius"),
    (["orbit", "{out}", "--turns", "inf"], "--turns"),
    (["orbit", "{out}", "--seconds", "1e-9"], "--seconds"),
    (["orbit", "{out}", "--seconds", "1e8"], "--seconds"),
    (["orbit", "{out}", "--up", "1e308", "1e308", "1e308"], "--up"),
    (["new", "{out}", "--render-width", "100000"], "--render-width"),
    (["walkthrough", "{out}", "--waypoints", "0,0;1e308,0"], "--waypoints"),
    (["walkthrough", "{out}", "--waypoints", "0,0;1e9,0"], "--speed"),
    (["flythrough", "{out}", "--waypoints", "0,0,0;1,1,1", "--speed", "1e-9"], "--speed"),
    (["dolly", "{out}", "--start", "0", "0", "0", "--end", "1e308", "1e308", "1e308"], "--end"),
])
def test_extreme_path_flags(tmp_path, capsys, args, flag):
    """Defect 4 / numpy warnings: huge or non-finite flags gave RuntimeWarning overflow and a traceback."""
    out = tmp_path / "p.json"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, err = run(capsys, "path", *[a.replace("{out}", str(out)) for a in args])
    assert code == 2 and one_line(err).startswith(f"error: {flag}"), err
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not out.exists()


def test_nan_flag_of_a_nested_config(tmp_path, capsys):
    code, err = run(capsys, "train", "--data", FIX / "nerfstudio", "--output", tmp_path / "run",
                    "--march.near", "nan")
    assert code == 2 and one_line(err) == "error: --march.near: must be a finite number, got nan"


def test_runs_saved_before_the_look_option_keep_their_appearance_codes(tmp_path):
    """A config saved before --field.look (appearance codes were the only model, on when appearance_dim > 0)
    loads with the look it was trained with; an unknown look is refused naming the field."""
    from scenegen.core.errors import InputError
    from scenegen.train.config import TrainConfig

    saved = TrainConfig(data=tmp_path).to_dict()
    del saved["field"]["look"]
    for dim, look in ((16, "codes"), (0, "off")):
        saved["field"]["appearance_dim"] = dim
        assert TrainConfig.from_dict(saved, file="config.json").field.look == look
    saved["field"]["look"] = "glow"
    with pytest.raises(InputError, match='unknown value "glow"') as e:
        TrainConfig.from_dict(saved, file="config.json")
    assert "config.field.look" in str(e.value)


def test_codes_of_size_zero_are_refused(tmp_path, capsys):
    code, err = run(capsys, "train", "--data", FIX / "nerfstudio", "--output", tmp_path / "run",
                    "--field.look", "codes", "--field.appearance-dim", "0")
    assert code == 2 and one_line(err).startswith("error: --field.appearance-dim: "), err
    assert "--field.look codes" in err and not (tmp_path / "run").exists()
