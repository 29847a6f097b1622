"""Architects' own models: site geometry, units from the building, interiors with rooms, material colours.

Models are built here with trimesh (tests/model_flats.py). "Neutral light" for colour checks: the sun and the
room lights off, a white ambient of 1.0, measured at the middle of large faces (no ambient occlusion within its
0.8 m range), where a rendered pixel equals the albedo exactly up to 8-bit rounding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
import model_flats as mf  # noqa: E402

from scenegen.cameras.poses import look_at_c2w  # noqa: E402
from scenegen.data.prior.mesh_import import load_model_scene  # noqa: E402
from scenegen.data.synth import cameras_from_c2w, render_views  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _neutral(scene):
    scene.sun_color = np.zeros(3)
    scene.point_lights = []
    scene.ambient = np.ones(3)
    return scene


def _look(scene, eye, target, w=48, h=36, fov=60.0):
    cams = cameras_from_c2w(np.stack([look_at_c2w(np.asarray(eye, float), np.asarray(target, float))]), w, h, fov)
    rgb, depth = render_views(scene, cams)
    return rgb[0].astype(np.float64) / 255.0, depth[0]


def _inside(boxes_cams, box):
    b = np.asarray(box)
    return np.all((boxes_cams >= b[0]) & (boxes_cams <= b[1]), axis=1)


# ------------------------------------------------------------------------------------------ (a) metres, ground plane


def test_flat_on_ground_plane_is_a_metric_interior_with_cameras_in_both_rooms(tmp_path):
    """(a) + the dataset contract + no warning or traceback on the terminal (the CLI under -W error)."""
    parts = dict(mf.flat_parts())
    parts["ground"] = mf.ground_plane(200.0)
    path = mf.write_obj(tmp_path, parts)
    out = tmp_path / "ds"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-W", "error", "-m", "scenegen.cli.main", "generate", "--mesh", str(path),
                           "--output", str(out), "--views", "10", "--width", "48", "--height", "36", "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for word in ("Traceback", "Warning", "RuntimeWarning", "overflow"):
        assert word not in proc.stderr and word not in proc.stdout, proc.stderr
    rep = json.loads((out / "model_report.json").read_text())
    assert rep["units"] == "m" and "storey height" in rep["units_reason"]
    assert rep["interior"] is True
    assert [s["kind"] for s in rep["site"]] == ["ground plane"] and "ground" in rep["site"][0]["part"]
    assert rep["site"][0]["size_m"][0] == pytest.approx(200.0, abs=0.5)
    assert rep["size_m"][:2] == pytest.approx([9.45, 4.3], abs=0.05)  # the building, not the ground
    # rooms: the two rooms of the flat, each with cameras standing in it
    rooms = rep["rooms"]
    assert len(rooms) == 2
    areas = sorted(r["area_m2"] for r in rooms)
    assert areas[0] == pytest.approx(4.0 * 4.0, rel=0.35) and areas[1] == pytest.approx(5.0 * 4.0, rel=0.35)
    tf = json.loads((out / "transforms.json").read_text())
    eyes = np.array([f["transform_matrix"] for f in tf["frames"]])[:, :3, 3]
    for r in rooms:
        assert r["cameras"] >= 2 and _inside(eyes, r["box"]).sum() == r["cameras"]
    assert set(tf["metadata"]["rooms"]) == {r["name"] for r in rooms}  # room hints for the tour planner
    # every camera is inside a room, at the prior's heights above the floor
    assert all(any(_inside(e[None], r["box"])[0] for r in rooms) for e in eyes)
    assert np.all((eyes[:, 2] > 0.5) & (eyes[:, 2] < 2.3))
    # the generated-dataset contract: depth for every frame, the plan picture
    assert all((out / f["depth_file_path"]).is_file() for f in tf["frames"])
    plan = np.asarray(Image.open(out / "plan.png"))
    assert plan.shape[1] < 40 * (9.45 + 7)  # cropped to the building (+3 m), not the 200 m ground


# ------------------------------------------------------------------------------------------ (b) millimetres


@pytest.mark.parametrize("scale,units", [(1000.0, "mm"), (100.0, "cm")])
def test_flat_in_millimetres_without_ground(tmp_path, scale, units):
    path = mf.write_obj(tmp_path, mf.flat_parts(), scale=scale)
    scene, rep = load_model_scene(path)
    assert rep["units"] == units and rep["interior"] and rep["site"] == []
    assert scene.room_max - scene.room_min == pytest.approx([9.45, 4.3, 3.1], abs=0.02)
    assert len(rep["rooms"]) == 2
    _, rep2 = load_model_scene(path, units="m")  # --units still overrides
    assert rep2["units"] == "m" and rep2["units_reason"] == "given with --units"


def test_flat_without_ceilings_is_still_an_interior(tmp_path):
    """Models cut open at the top (no ceilings, as plans are often modelled) on a ground plane, in millimetres."""
    parts = dict(mf.flat_parts())
    parts.pop("ceiling")
    g, c = mf.ground_plane(150.0)
    parts["ground"] = (g, c)
    _, rep = load_model_scene(mf.write_obj(tmp_path, parts, scale=1000.0))
    assert rep["units"] == "mm" and rep["interior"] and len(rep["rooms"]) == 2
    assert [s["kind"] for s in rep["site"]] == ["ground plane"]


def test_exterior_only_models_are_seen_from_outside(tmp_path):
    block = trimesh.creation.box(extents=[12.0, 9.0, 7.5])  # a closed building block, +Z up (PLY)
    block.export(tmp_path / "block.ply")
    _, rep = load_model_scene(tmp_path / "block.ply")
    assert rep["interior"] is False and rep["rooms"] == [] and rep["units"] == "m"
    facade = trimesh.util.concatenate(mf._wall_x(0, 10, 0, [(2, 4, 1, 2.2), (6, 8, 1, 2.2)]))
    facade.export(tmp_path / "facade.stl")
    _, rep = load_model_scene(tmp_path / "facade.stl")
    assert rep["interior"] is False


# ------------------------------------------------------------------------------------------ (c) OBJ + MTL Kd


def test_obj_mtl_kd_colours_render_within_5_percent(tmp_path):
    """A 9 x 9 x 4 m room whose walls, floor and ceiling each have their own Kd; plus a glass pane (d 0.2) and a
    part with no material."""
    kd = {"north": (0.80, 0.20, 0.15), "south": (0.15, 0.55, 0.25), "east": (0.20, 0.30, 0.75),
          "west": (0.70, 0.65, 0.20), "floor": (0.45, 0.30, 0.20), "ceiling": (0.85, 0.85, 0.85)}
    b = mf._box
    parts = {"north": (b([-4.5, 4.5, 0], [4.5, 4.7, 4]), kd["north"]), "south": (b([-4.5, -4.7, 0], [4.5, -4.5, 4]), kd["south"]),
             "east": (b([4.5, -4.5, 0], [4.7, 4.5, 4]), kd["east"]), "west": (b([-4.7, -4.5, 0], [-4.5, 4.5, 4]), kd["west"]),
             "floor": (b([-4.7, -4.7, -0.2], [4.7, 4.7, 0]), kd["floor"]), "ceiling": (b([-4.7, -4.7, 4], [4.7, 4.7, 4.2]), kd["ceiling"])}
    path = mf.write_obj(tmp_path, parts, name="room")
    extra_obj = ["o pane", "usemtl pane_glass", "v 1 1 -1", "v 2 1 -1", "v 2 2 -1", "f -3 -2 -1",
                 "o lump", "usemtl undefined_material", "v -1 0.1 1", "v -2 0.1 1", "v -2 0.5 1", "f -3 -2 -1"]
    path.write_text(path.read_text() + "\n".join(extra_obj) + "\n")
    mtl = tmp_path / "room.mtl"
    mtl.write_text(mtl.read_text() + "newmtl pane_glass\nKd 0.6 0.7 0.8\nd 0.2\n")
    scene, rep = load_model_scene(path)
    assert rep["units"] == "m" and rep["interior"]
    assert rep["colour_sources"]["material"] == 6 and len(rep["glass_parts"]) == 1
    assert any("no material" in w for w in rep["warnings"])
    _neutral(scene)
    z_mid = 2.0  # scene frame: the floor is at z = 0
    targets = {"north": (0, 4.5, z_mid), "south": (0, -4.5, z_mid), "east": (4.5, 0, z_mid), "west": (-4.5, 0, z_mid),
               "floor": (0.5, 0.3, 0.0), "ceiling": (0.5, 0.3, 4.0)}
    for name, tgt in targets.items():
        tgt = np.asarray(tgt, float)
        eye = tgt * [0.4, 0.4, 0] + [0, 0, z_mid] if name not in ("floor", "ceiling") else np.array([0.3, 0.1, 2.0])
        rgb, _ = _look(scene, eye, tgt)
        centre = rgb[14:22, 20:28].reshape(-1, 3).mean(0)
        assert centre == pytest.approx(np.array(kd[name]), abs=0.05), (name, centre, kd[name])


# ------------------------------------------------------------------------------------------ (d) glTF


def test_gltf_base_colours_and_a_texture(tmp_path):
    """Walls with baseColorFactor, and one wall with a four-colour baseColorTexture mapped by uv."""
    room = trimesh.util.concatenate([mf._box([-4.5, 4.5, 0], [4.5, 4.7, 4]), mf._box([-4.5, -4.7, 0], [4.5, -4.5, 4]),
                                     mf._box([-4.7, -4.5, 0], [-4.5, 4.5, 4]), mf._box([-4.7, -4.7, -0.2], [4.7, 4.7, 0]),
                                     mf._box([-4.7, -4.7, 4], [4.7, 4.7, 4.2])])
    factor = np.array([40, 150, 90, 255], dtype=np.uint8)
    room.visual = trimesh.visual.TextureVisuals(
        uv=np.zeros((len(room.vertices), 2)),
        material=trimesh.visual.material.PBRMaterial(baseColorFactor=factor))
    # the east wall: a quad at x = 4.5 facing -x, u along +y, v along +z; quadrants red, blue, green, yellow
    tex = np.zeros((64, 64, 3), dtype=np.uint8)
    tex[32:, :32] = (200, 30, 30)   # v < 0.5, u < 0.5 (image rows run top-down: v = 0 is the bottom row)
    tex[32:, 32:] = (30, 30, 200)   # v < 0.5, u > 0.5
    tex[:32, :32] = (30, 180, 30)   # v > 0.5, u < 0.5
    tex[:32, 32:] = (220, 200, 40)  # v > 0.5, u > 0.5
    quad = trimesh.Trimesh([[4.5, -4.5, 0], [4.5, 4.5, 0], [4.5, 4.5, 4], [4.5, -4.5, 4]], [[0, 2, 1], [0, 3, 2]],
                           process=False)
    quad.visual = trimesh.visual.TextureVisuals(uv=[[0, 0], [1, 0], [1, 1], [0, 1]], image=Image.fromarray(tex),
                                                material=trimesh.visual.material.PBRMaterial(
                                                    baseColorTexture=Image.fromarray(tex)))
    # glTF is +Y up: turn the +Z-up model over before export
    for m in (room, quad):
        m.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    path = tmp_path / "room.glb"
    trimesh.Scene({"room": room, "east_wall_art": quad}).export(path)
    scene, rep = load_model_scene(path)
    assert rep["up_axis"] == "+y" and rep["units"] == "m" and rep["interior"]
    assert rep["colour_sources"] == {"material": 1, "texture": 1}
    _neutral(scene)
    rgb, _ = _look(scene, [0.0, 0.0, 2.0], [0.0, 4.5, 2.0])  # the north wall: base colour
    assert rgb[14:22, 20:28].reshape(-1, 3).mean(0) == pytest.approx(factor[:3] / 255.0, abs=0.05)
    expect = {(-2.25, 1.0): (200, 30, 30), (2.25, 1.0): (30, 30, 200), (-2.25, 3.0): (30, 180, 30),
              (2.25, 3.0): (220, 200, 40)}
    for (y, z), colour in expect.items():
        rgb, _ = _look(scene, [2.5, y, z], [4.5, y, z], 16, 12, 20.0)
        assert rgb[4:8, 6:10].reshape(-1, 3).mean(0) == pytest.approx(np.array(colour) / 255.0, abs=0.05), (y, z)


def test_ply_vertex_colours_are_kept(tmp_path):
    box = trimesh.creation.box(extents=[6, 5, 3])
    box.invert()  # a closed room seen from inside
    vc = np.tile([[200, 60, 60, 255]], (len(box.vertices), 1)).astype(np.uint8)
    vc[box.vertices[:, 0] > 0] = (60, 60, 200, 255)
    box.visual = trimesh.visual.ColorVisuals(box, vertex_colors=vc)
    box.export(tmp_path / "room.ply")
    scene, rep = load_model_scene(tmp_path / "room.ply")
    assert rep["colour_sources"] == {"vertex colours": 1} and scene.vertex_colors is not None
    assert np.ptp(scene.vertex_colors[:, 0]) > 0.3


def test_tour_through_an_imported_interior_visits_its_rooms(tmp_path):
    """The tour planner, run over the imported flat's occupancy (the mesh voxelised over the building, as a trained
    field's would be), walks through both rooms the import found and named in the dataset."""
    from scenegen.paths.planner import auto_walkthrough
    from scenegen.paths.volume import SceneVolume

    parts = dict(mf.flat_parts())
    parts["ground"] = mf.ground_plane(200.0)
    scene, rep = load_model_scene(mf.write_obj(tmp_path, parts))
    vol = SceneVolume.from_mesh(scene, voxel=0.08, bounds=scene.aabb)
    spec = auto_walkthrough(vol, fps=5, width=64, height=48)
    pos = np.array([k.position for k in spec.keyframes])
    assert len(rep["rooms"]) == 2
    for r in rep["rooms"]:
        assert _inside(pos, r["box"]).sum() >= 5, r["name"]
