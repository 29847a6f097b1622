"""`scenegen path ...` from the shell: authoring, conversion, validation errors (exit 2, one line naming the
field) and summaries."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scenegen.cli.main import main
from scenegen.paths import load_path_spec, sample_path

FIXTURES = Path(__file__).parent / "fixtures" / "camera_paths"


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


def test_author_a_path_from_the_shell(tmp_path, capsys):
    p = tmp_path / "tour.json"
    assert run_cli("path", "new", p, "--fps", "24", "--render-width", "640", "--render-height", "360") == 0
    assert run_cli("path", "new", p) == 2  # exists: never overwritten silently
    for pos, look in [((0, -3, 1.6), (0, 0, 1.6)), ((3, 0, 1.6), (0, 0, 1.2)), ((0, 3, 1.6), (0, 0, 1.6))]:
        assert run_cli("path", "add", p, "--position", *pos, "--look-at", *look) == 0
    assert run_cli("path", "add", p, "--position", 0, 0, 1, "--look-at", 0, 0, 1) == 2  # degenerate look-at
    spec = load_path_spec(p)
    assert len(spec.keyframes) == 3 and spec.fps == 24 and (spec.width, spec.height) == (640, 360)
    # The camera at keyframe 0 looks from (0,-3,1.6) towards the origin: -Z of the camera is +Y of the world.
    fwd = -spec.keyframes[0].c2w()[:3, 2]
    assert np.allclose(fwd, [0, 1, 0], atol=1e-6)

    assert run_cli("path", "set", p, "--duration", "6", "--constant-speed", "True") == 0
    spec = load_path_spec(p)
    assert spec.constant_speed and math.isclose(spec.duration, 6.0, rel_tol=1e-6)
    assert run_cli("path", "remove", p, "1") == 0
    assert len(load_path_spec(p).keyframes) == 2
    assert run_cli("path", "remove", p, "7") == 2

    capsys.readouterr()
    assert run_cli("path", "validate", p) == 0
    out = capsys.readouterr().out
    for word in ("frames", "length", "max"):
        assert word in out


@pytest.mark.parametrize("cmd", [
    ["orbit", "--center", 0, 0, 0, "--radius", 3, "--height", 1.5, "--seconds", 4],
    ["flythrough", "--waypoints", "0,0,1; 2,0,1.5; 4,1,1.5"],
    ["dolly", "--start", 0, 0, 1, "--end", 0, 3, 1, "--look-at", 0, 6, 1],
    ["walkthrough", "--waypoints", "0,0; 3,0; 3,3", "--eye-height", 1.6],
])
def test_presets_write_valid_paths(tmp_path, cmd):
    out = tmp_path / "p.json"
    assert run_cli("path", cmd[0], out, *cmd[1:], "--fps", 10) == 0
    spec = load_path_spec(out)
    c2w, fov, _ = sample_path(spec)
    assert np.isfinite(c2w).all() and len(c2w) == spec.num_frames > 5
    d = json.loads(out.read_text())
    assert len(d["camera_path"]) == spec.num_frames  # nerfstudio's renderer reads this list
    assert run_cli("path", "validate", out) == 0


def test_orbit_keeps_radius_and_height(tmp_path):
    out = tmp_path / "o.json"
    assert run_cli("path", "orbit", out, "--center", 1, 2, 0.5, "--radius", 3, "--height", 1.0, "--seconds", 5) == 0
    c2w, _, _ = sample_path(load_path_spec(out))
    p = c2w[:, :3, 3] - np.array([1, 2, 0.5])
    assert np.allclose(np.linalg.norm(p[:, :2], axis=1), 3.0, rtol=0.02)
    assert np.allclose(p[:, 2], 1.0, atol=0.02)


def test_walkthrough_stays_at_eye_height(tmp_path):
    out = tmp_path / "w.json"
    assert run_cli("path", "walkthrough", out, "--waypoints", "0,0; 4,0; 4,4; 0,4", "--eye-height", 1.7,
                   "--floor", 0.1) == 0
    c2w, _, _ = sample_path(load_path_spec(out))
    assert np.abs(c2w[:, 2, 3] - 1.8).max() < 0.02


def test_convert_real_viewer_exports(tmp_path):
    for f in sorted(FIXTURES.glob("viewer-*.json")):
        out = tmp_path / f.name
        assert run_cli("path", "convert", f, out) == 0, f
        src, dst = json.loads(f.read_text()), json.loads(out.read_text())
        assert len(dst["keyframes"]) == len(src["keyframes"])
        assert dst["render_width"] == src["render_width"] and dst["fps"] == src["fps"]
        assert len(dst["camera_path"]) == len(src["camera_path"])


def test_convert_maps_dataparser_frame_to_world(tmp_path):
    src = FIXTURES / "nerfstudio-processed" / "camera_path.json"
    dpt = FIXTURES / "nerfstudio-processed" / "dataparser_transforms.json"
    tj = FIXTURES / "nerfstudio-processed" / "transforms.json"
    out = tmp_path / "world.json"
    assert run_cli("path", "convert", src, out, "--dataparser-transforms", dpt, "--dataset-transforms", tj) == 0
    from scenegen.paths import load_camera_path

    expect = load_camera_path(src, dpt, dataset_transforms=tj)  # the renderer's own mapping
    got = load_camera_path(out)
    assert np.allclose(got.cameras.c2w[:, :3, 3].numpy(), expect.cameras.c2w[:, :3, 3].numpy(), atol=1e-3)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def _good() -> dict:
    return json.loads((FIXTURES / "viewer-v1-export-16kf.json").read_text())


@pytest.mark.parametrize("case,field", [
    ("notjson", None),
    ("nan", "matrix"),
    ("short", "matrix"),
    ("empty", "keyframes"),
    ("negative", "transition"),
    ("fov", "fov"),
    ("camtype", "camera_type"),
])
def test_validate_rejects_bad_paths_with_one_line(tmp_path, case, field):
    d = _good()
    if case == "notjson":
        p = _write(tmp_path, "bad.json", "{ this is not json")
    else:
        if case == "nan":
            d["keyframes"][2]["matrix"][3] = float("nan")
            d["camera_path"][2]["camera_to_world"][3] = float("nan")
        elif case == "short":
            d["keyframes"][1]["matrix"] = d["keyframes"][1]["matrix"][:12]
        elif case == "empty":
            d["keyframes"] = []
            d["camera_path"] = []
        elif case == "negative":
            d["keyframes"][0]["override_transition_enabled"] = True
            d["keyframes"][0]["override_transition_sec"] = -1.0
        elif case == "fov":
            d["keyframes"][0]["fov"] = 190
        elif case == "camtype":
            d["camera_type"] = "stereo-cube"
        p = _write(tmp_path, "bad.json", json.dumps(d))
    r = subprocess.run([sys.executable, "-m", "scenegen.cli.main", "path", "validate", str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(p) in lines[0]
    if field:
        assert field in lines[0], lines[0]


def test_info_lists_keyframes(tmp_path, capsys):
    assert run_cli("path", "info", FIXTURES / "viewer-export-7kf.json") == 0
    out = capsys.readouterr().out
    assert "7 keyframes" in out and "[6]" in out
