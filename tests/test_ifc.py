"""IFC (BIM) import: a two-storey house built with ifcopenshell's API (tests/ifc_house.py), four named spaces,
doors and windows -> named rooms in the dataset, cameras in every space, one dataset per storey."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ifcopenshell")
sys.path.insert(0, str(Path(__file__).parent))
from ifc_house import SLAB_RGB, STOREYS, WALL_RGB, build_house  # noqa: E402

from scenegen.cli.main import main  # noqa: E402
from scenegen.data.prior.mesh_import import load_model_scene  # noqa: E402

SMALL = ["--views", "10", "--width", "48", "--height", "36", "--no-progress"]


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    path = tmp_path_factory.mktemp("ifc") / "house.ifc"
    build_house(path)
    return path


def _eyes(folder: Path) -> np.ndarray:
    tf = json.loads((folder / "transforms.json").read_text())
    return np.array([f["transform_matrix"] for f in tf["frames"]])[:, :3, 3]


def _check_rooms(folder: Path, names: set[str]) -> dict:
    """The dataset names exactly these rooms (report, transforms metadata, plan) and has cameras in each."""
    rep = json.loads((folder / "model_report.json").read_text())
    tf = json.loads((folder / "transforms.json").read_text())
    assert {r["name"] for r in rep["rooms"]} == names
    assert set(tf["metadata"]["rooms"]) == names
    eyes = _eyes(folder)
    for r in rep["rooms"]:
        b = np.asarray(r["box"])
        inside = np.all((eyes >= b[0]) & (eyes <= b[1]), axis=1)
        assert inside.sum() >= 2 and inside.sum() == r["cameras"], r
        assert r["area_m2"] == pytest.approx(3.9 * 6.0, rel=0.1)  # 4 x 6 m spaces
    assert all((folder / f["depth_file_path"]).is_file() for f in tf["frames"])
    assert (folder / "plan.png").is_file()
    return rep


def test_ifc_whole_building_named_rooms_colours(house, tmp_path):
    scene, rep = load_model_scene(house)
    assert rep["units"] == "m" and rep["up_axis"] == "+z" and rep["interior"] and rep["rooms_from"] == "IfcSpace"
    assert [s["name"] for s in rep["storeys"]] == [s[0] for s in STOREYS]
    assert len(rep["glass_parts"]) == 8  # the glazed windows are left out of the opaque surfaces
    assert scene.room_max[2] - scene.room_min[2] == pytest.approx(6.25, abs=0.05)
    # walls, slabs and doors keep their style colours (per face, linear)
    kinds = {p.name.split()[0] for p in scene.parts}
    assert {"IfcWall", "IfcSlab", "IfcDoor", "IfcRoof", "IfcFurnishingElement"} <= kinds
    fc = scene.face_colors
    wall = next(i for i, p in enumerate(scene.parts) if p.name.startswith("IfcWall"))
    slab = next(i for i, p in enumerate(scene.parts) if p.name.startswith("IfcSlab"))
    assert fc[scene.face_part == wall][0] == pytest.approx(np.array(WALL_RGB) ** 2.2, abs=1e-3)
    assert fc[scene.face_part == slab][0] == pytest.approx(np.array(SLAB_RGB) ** 2.2, abs=1e-3)
    out = tmp_path / "house"
    assert main(["generate", "--mesh", str(house), "--output", str(out), *SMALL]) == 0
    _check_rooms(out, {"Kitchen", "Living Room", "Bedroom 1", "Bedroom 2"})


def test_ifc_one_dataset_per_storey(house, tmp_path, capsys):
    out = tmp_path / "storeys"
    assert main(["generate", "--mesh", str(house), "--output", str(out), "--storey", "all", *SMALL]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["storey_first_floor", "storey_ground_floor"]
    for folder, (_, _, rooms) in zip(("storey_ground_floor", "storey_first_floor"), STOREYS):
        rep = _check_rooms(out / folder, set(rooms))
        eyes = _eyes(out / folder)
        assert np.all(eyes[:, 2] < 2.8)  # every camera on its own storey (each storey's floor at z = 0)
        assert rep["storey"] in (STOREYS[0][0], STOREYS[1][0])
    # `scenegen report` rebuilds the ground truth of a storey's dataset from the model: that storey only
    from types import SimpleNamespace

    from scenegen.pipelines.report import ground_truth_scene

    gt = ground_truth_scene(SimpleNamespace(data=str(out / "storey_first_floor")))
    assert gt.room_names == list(STOREYS[1][2])
    # one storey by name or by index; a storey that is not there is one line, exit 2
    assert main(["generate", "--mesh", str(house), "--output", str(tmp_path / "one"), "--storey", "first floor",
                 *SMALL]) == 0
    assert json.loads((tmp_path / "one" / "model_report.json").read_text())["storey"] == "First Floor"
    capsys.readouterr()
    assert main(["generate", "--mesh", str(house), "--output", str(tmp_path / "bad"), "--storey", "Attic", *SMALL]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--storey" in err[0] and "Ground Floor" in err[0], err


def test_tour_through_an_ifc_storey_visits_its_named_rooms(house):
    from scenegen.paths.planner import auto_walkthrough
    from scenegen.paths.volume import SceneVolume

    scene, rep = load_model_scene(house, storey="Ground Floor")
    assert scene.room_names == ["Kitchen", "Living Room"]
    vol = SceneVolume.from_mesh(scene, voxel=0.08, bounds=scene.aabb)
    pos = np.array([k.position for k in auto_walkthrough(vol, fps=5, width=64, height=48).keyframes])
    for r in rep["rooms"]:
        b = np.asarray(r["box"])
        assert np.all((pos >= b[0]) & (pos <= b[1]), axis=1).sum() >= 5, r["name"]
