"""The hand-built synthetic test rooms: a furnished living room and a two-room flat, cameras in their free space and
a tour around the living room. Used only by the tests (``from synth_rooms import ...``; tests/ is on sys.path).

The demo living room (:func:`make_demo_scene`), in metres with **world up = +Z**: the interior spans
``x in [-2.5, 2.5]``, ``y in [-2, 2]``, ``z in [0, 2.6]`` (floor at z = 0, ceiling at z = 2.6).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from scenegen.cameras.cameras import Cameras
from scenegen.cameras.poses import look_at_c2w
from scenegen.data.synth import SceneBuilder, SynthScene, cameras_from_c2w, free_space_mask, synthesize_dataset

ROOM_MIN = np.array([-2.5, -2.0, 0.0])
ROOM_MAX = np.array([2.5, 2.0, 2.6])


def make_demo_scene(seed: int = 0) -> SynthScene:
    """A small furnished living room, about 5 x 4 x 2.6 m, in metres with **world up = +Z**.

    Layout (interior ``x in [-2.5, 2.5]``, ``y in [-2, 2]``, ``z in [0, 2.6]``):

    * south wall (y = -2): window opening ``x in [-0.8, 0.8], z in [0.9, 2.1]`` with a cross frame and a sill;
      the sun shines through it onto the floor; a desk with a laptop and a chair west of the window.
    * north wall (y = +2, sage green): sofa with cushions, a colourful abstract painting above it.
    * west wall (x = -2.5, rose): a closed panelled door with a brass handle, a floor lamp in the corner.
    * east wall (x = +2.5): bookshelf full of books, a sunset poster, a potted plant in the corner.
    * centre: patterned rug, coffee table with a vase and a box; a ceiling light.

    Every primitive is a closed (watertight) box, cylinder or ellipsoid. ``seed`` varies the books and the
    texture noise; the layout is fixed.
    """
    rng = np.random.default_rng(seed)
    b = SceneBuilder()
    x0, y0, z0 = ROOM_MIN
    x1, y1, z1 = ROOM_MAX
    t = 0.1  # wall thickness (outside the interior)

    # --- shell -------------------------------------------------------------------------------------------
    b.box("floor", "oak_floor", [x0 - t, y0 - t, -t], [x1 + t, y1 + t, 0.0])
    b.box("ceiling", "ceiling", [x0 - t, y0 - t, z1], [x1 + t, y1 + t, z1 + t])
    b.box("wall_north", "wall_sage", [x0 - t, y1, 0.0], [x1 + t, y1 + t, z1])
    b.box("wall_west", "wall_rose", [x0 - t, y0, 0.0], [x0, y1, z1])
    b.box("wall_east", "wall_warm", [x1, y0, 0.0], [x1 + t, y1, z1])
    wx0, wx1, wz0, wz1 = -0.8, 0.8, 0.9, 2.1  # window opening in the south wall
    b.box("wall_south_left", "wall_warm", [x0 - t, y0 - t, 0.0], [wx0, y0, z1])
    b.box("wall_south_right", "wall_warm", [wx1, y0 - t, 0.0], [x1 + t, y0, z1])
    b.box("wall_south_below", "wall_warm", [wx0, y0 - t, 0.0], [wx1, y0, wz0])
    b.box("wall_south_above", "wall_warm", [wx0, y0 - t, wz1], [wx1, y0, z1])
    f = 0.05
    b.box("window_frame_l", "white_trim", [wx0, y0 - 0.07, wz0], [wx0 + f, y0 - 0.03, wz1])
    b.box("window_frame_r", "white_trim", [wx1 - f, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz1])
    b.box("window_frame_b", "white_trim", [wx0, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz0 + f])
    b.box("window_frame_t", "white_trim", [wx0, y0 - 0.07, wz1 - f], [wx1, y0 - 0.03, wz1])
    b.box("window_mullion", "white_trim", [-0.02, y0 - 0.07, wz0], [0.02, y0 - 0.03, wz1])
    b.box("window_transom", "white_trim", [wx0, y0 - 0.07, 1.52], [wx1, y0 - 0.03, 1.56])
    b.box("window_sill", "white_trim", [wx0 - 0.1, y0 - 0.03, wz0 - 0.04], [wx1 + 0.1, y0 + 0.08, wz0])

    # --- baseboards -----------------------------------------------------------------------------------------
    bb, bt = 0.08, 0.015
    b.box("baseboard_n", "white_trim", [x0, y1 - bt, 0.0], [x1, y1, bb])
    b.box("baseboard_s", "white_trim", [x0, y0, 0.0], [x1, y0 + bt, bb])
    b.box("baseboard_e", "white_trim", [x1 - bt, y0, 0.0], [x1, y1, bb])
    b.box("baseboard_w1", "white_trim", [x0, y0, 0.0], [x0 + bt, 0.13, bb])
    b.box("baseboard_w2", "white_trim", [x0, 1.17, 0.0], [x0 + bt, y1, bb])

    # --- door on the west wall ------------------------------------------------------------------------------
    b.box("door", "door", [x0, 0.2, 0.0], [x0 + 0.04, 1.1, 2.05])
    b.box("door_casing_l", "white_trim", [x0, 0.13, 0.0], [x0 + 0.02, 0.2, 2.12])
    b.box("door_casing_r", "white_trim", [x0, 1.1, 0.0], [x0 + 0.02, 1.17, 2.12])
    b.box("door_casing_t", "white_trim", [x0, 0.13, 2.05], [x0 + 0.02, 1.17, 2.12])
    b.box("door_handle", "brass", [x0 + 0.04, 0.92, 1.0], [x0 + 0.08, 1.04, 1.04])

    # --- sofa against the north wall ------------------------------------------------------------------------
    b.box("sofa_base", "fabric", [-1.1, 1.08, 0.0], [1.1, 1.98, 0.40])
    b.box("sofa_back", "fabric", [-1.1, 1.76, 0.40], [1.1, 1.98, 0.88])
    b.box("sofa_arm_l", "fabric", [-1.1, 1.08, 0.40], [-0.92, 1.76, 0.62])
    b.box("sofa_arm_r", "fabric", [0.92, 1.08, 0.40], [1.1, 1.76, 0.62])
    b.box("sofa_cushion_l", "cushion", [-0.9, 1.1, 0.40], [-0.01, 1.74, 0.50])
    b.box("sofa_cushion_r", "cushion", [0.01, 1.1, 0.40], [0.9, 1.74, 0.50])
    b.box("throw_pillow", "red", [-0.85, 1.56, 0.50], [-0.45, 1.74, 0.82])
    b.box("painting", "painting", [-0.75, y1 - 0.03, 1.1], [0.75, y1, 1.9])

    # --- rug, coffee table ----------------------------------------------------------------------------------
    b.box("rug", "rug", [-1.3, -0.5, 0.0], [1.3, 1.0, 0.012])
    b.box("table_top", "walnut", [-0.6, 0.05, 0.40], [0.6, 0.65, 0.45])
    for i, (lx, ly) in enumerate([(-0.55, 0.1), (0.55, 0.1), (-0.55, 0.6), (0.55, 0.6)]):
        b.box(f"table_leg_{i}", "walnut", [lx - 0.025, ly - 0.025, 0.0], [lx + 0.025, ly + 0.025, 0.40])
    b.cylinder("vase", "ceramic", (0.3, 0.35), 0.45, 0.72, 0.06)
    b.box("table_box", "red", [-0.4, 0.2, 0.45], [-0.12, 0.42, 0.52])

    # --- desk and chair west of the window ------------------------------------------------------------------
    b.box("desk_top", "walnut", [-2.42, -1.98, 0.72], [-1.3, -1.38, 0.76])
    for i, (lx, ly) in enumerate([(-2.38, -1.94), (-1.34, -1.94), (-2.38, -1.42), (-1.34, -1.42)]):
        b.box(f"desk_leg_{i}", "metal", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.72])
    b.box("laptop_base", "metal", [-2.05, -1.85, 0.76], [-1.7, -1.6, 0.78])
    b.box("laptop_screen", "metal", [-2.05, -1.88, 0.78], [-1.7, -1.85, 1.0])
    b.box("chair_seat", "walnut", [-2.05, -1.3, 0.43], [-1.62, -0.88, 0.47])
    b.box("chair_back", "walnut", [-2.05, -0.92, 0.47], [-1.62, -0.88, 0.9])
    for i, (lx, ly) in enumerate([(-2.02, -1.27), (-1.65, -1.27), (-2.02, -0.91), (-1.65, -0.91)]):
        b.box(f"chair_leg_{i}", "walnut", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.43])

    # --- bookshelf on the east wall -------------------------------------------------------------------------
    sx0, sx1, sy0, sy1 = 2.14, x1, -1.6, -0.4
    b.box("shelf_back", "walnut", [x1 - 0.02, sy0, 0.0], [x1, sy1, 1.9])
    b.box("shelf_side_s", "walnut", [sx0, sy0, 0.0], [sx1, sy0 + 0.03, 1.9])
    b.box("shelf_side_n", "walnut", [sx0, sy1 - 0.03, 0.0], [sx1, sy1, 1.9])
    levels = [0.0, 0.47, 0.94, 1.41, 1.87]
    for i, lz in enumerate(levels):
        b.box(f"shelf_board_{i}", "walnut", [sx0, sy0, lz], [sx1, sy1, lz + 0.03])
    nbook = 0
    for li, lz in enumerate(levels[:-1]):
        y = sy0 + 0.03 + rng.uniform(0.0, 0.05)
        fill_to = sy1 - 0.03 - (0.35 if li == 3 else rng.uniform(0.0, 0.2))
        while True:
            w = rng.uniform(0.025, 0.06)
            if y + w > fill_to:
                break
            h = rng.uniform(0.2, 0.36)
            d = rng.uniform(0.17, 0.26)
            b.box(f"book_{nbook}", "books", [x1 - 0.02 - d, y, lz + 0.03], [x1 - 0.02, y + w, lz + 0.03 + h])
            nbook += 1
            y += w + (rng.uniform(0.05, 0.15) if rng.random() < 0.08 else 0.002)
    b.box("poster", "poster", [x1 - 0.015, 0.1, 1.0], [x1, 1.0, 1.9])

    # --- lamp, plant, ceiling light -------------------------------------------------------------------------
    lx, ly = -2.05, 1.55
    b.cylinder("lamp_base", "metal", (lx, ly), 0.0, 0.03, 0.16)
    b.cylinder("lamp_pole", "metal", (lx, ly), 0.03, 1.4, 0.015, sections=12)
    b.cylinder("lamp_shade", "lampshade", (lx, ly), 1.35, 1.65, 0.22)
    px, py = 2.05, 1.55
    b.cylinder("plant_pot", "terracotta", (px, py), 0.0, 0.42, 0.18)
    b.ellipsoid("plant_leaves_0", "leaves", (px, py, 0.85), (0.3, 0.3, 0.45))
    b.ellipsoid("plant_leaves_1", "leaves", (px - 0.15, py - 0.1, 1.1), (0.2, 0.2, 0.28))
    b.ellipsoid("plant_leaves_2", "leaves", (px + 0.12, py + 0.05, 1.15), (0.17, 0.17, 0.25))
    b.cylinder("ceiling_fixture", "fixture", (0.0, 0.2), z1 - 0.05, z1, 0.22)

    mesh, face_part = b.build()
    sun_dir = np.array([-0.35, -1.0, 0.85])
    return SynthScene(
        mesh=mesh,
        face_part=face_part,
        parts=b.parts,
        room_min=ROOM_MIN.copy(),
        room_max=ROOM_MAX.copy(),
        sun_dir=sun_dir / np.linalg.norm(sun_dir),
        sun_color=np.array([2.6, 2.35, 2.0]),
        point_lights=[(np.array([0.0, 0.2, z1 - 0.2]), np.array([2.6, 2.4, 2.1]))],
        ambient=np.array([0.42, 0.44, 0.48]),
        seed=int(seed),
        materials=b.materials,
    )


TWO_ROOM_MIN = np.array([-5.0, -2.0, 0.0])
TWO_ROOM_MAX = np.array([5.0, 2.0, 2.6])


def make_two_room_scene(seed: int = 0) -> SynthScene:
    """Two furnished rooms side by side, joined by a door opening; metres, **world up = +Z**.

    Layout (interior of both rooms ``x in [-5, 5]``, ``y in [-2, 2]``, ``z in [0, 2.6]``; floor at z = 0):

    * a shared wall ``x in [-0.1, 0.1]`` splits it into room A (west, ``x in [-5, -0.1]``, a living room) and
      room B (east, ``x in [0.1, 5]``, a study); the door opening in it is ``y in [-0.5, 0.5]``,
      ``z in [0, 2.1]`` (1 m wide, 2.1 m high), framed by a white casing.
    * room A: sofa with cushions against the north wall under a painting, a rug and a coffee table with a vase,
      a floor lamp in the north-west corner, a potted plant in the south-west corner, a window in the south
      wall, a ceiling light.
    * room B: a window in the south wall (sill and cross frame) with a desk, laptop and chair west of it, a
      bookshelf against the north wall, a poster and a closed panelled door on the east wall, a ceiling light.

    The parts reuse the demo room's materials and part names (``sofa_back``, ``painting``, ``desk_top``,
    ``shelf_board_2``, ``door``, ``window_transom``, ...), so :func:`default_demo_cameras` and
    :func:`synthesize_dataset` work on it unchanged (cameras in the free space of both rooms). ``room_min`` /
    ``room_max`` (and :attr:`SynthScene.aabb`) are the box around both rooms. ``seed`` varies the books and the
    texture noise; the layout is fixed.
    """
    rng = np.random.default_rng(seed)
    b = SceneBuilder()
    x0, y0, z0 = TWO_ROOM_MIN
    x1, y1, z1 = TWO_ROOM_MAX
    t = 0.1  # wall thickness (outside the interior)
    h = 0.1  # half thickness of the shared wall
    dy0, dy1, dz = -0.5, 0.5, 2.1  # door opening in the shared wall

    # --- shell -------------------------------------------------------------------------------------------
    b.box("floor", "oak_floor", [x0 - t, y0 - t, -t], [x1 + t, y1 + t, 0.0])
    b.box("ceiling", "ceiling", [x0 - t, y0 - t, z1], [x1 + t, y1 + t, z1 + t])
    b.box("wall_north_a", "wall_sage", [x0 - t, y1, 0.0], [-h, y1 + t, z1])
    b.box("wall_north_b", "wall_warm", [-h, y1, 0.0], [x1 + t, y1 + t, z1])
    b.box("wall_west", "wall_rose", [x0 - t, y0, 0.0], [x0, y1, z1])
    b.box("wall_east", "wall_sage", [x1, y0, 0.0], [x1 + t, y1, z1])
    # shared wall with the door opening
    b.box("wall_mid_s", "wall_warm", [-h, y0, 0.0], [h, dy0, z1])
    b.box("wall_mid_n", "wall_warm", [-h, dy1, 0.0], [h, y1, z1])
    b.box("wall_mid_above", "wall_warm", [-h, dy0, dz], [h, dy1, z1])
    for side, (cx0, cx1) in (("a", (-h - 0.02, -h)), ("b", (h, h + 0.02))):
        b.box(f"door_casing_l_{side}", "white_trim", [cx0, dy0 - 0.07, 0.0], [cx1, dy0, dz + 0.07])
        b.box(f"door_casing_r_{side}", "white_trim", [cx0, dy1, 0.0], [cx1, dy1 + 0.07, dz + 0.07])
        b.box(f"door_casing_t_{side}", "white_trim", [cx0, dy0 - 0.07, dz], [cx1, dy1 + 0.07, dz + 0.07])
    # south wall with one window per room
    windows = [(-3.3, -1.9), (1.9, 3.5)]
    wz0, wz1 = 0.9, 2.1
    xs = [x0 - t] + [v for w in windows for v in w] + [x1 + t]
    for i in range(0, len(xs), 2):
        b.box(f"wall_south_{i // 2}", "wall_warm", [xs[i], y0 - t, 0.0], [xs[i + 1], y0, z1])
    for k, (wx0, wx1) in enumerate(windows):
        b.box(f"wall_south_below_{k}", "wall_warm", [wx0, y0 - t, 0.0], [wx1, y0, wz0])
        b.box(f"wall_south_above_{k}", "wall_warm", [wx0, y0 - t, wz1], [wx1, y0, z1])
        f = 0.05
        sfx = "" if k == 1 else "_a"
        b.box(f"window_frame_l{sfx}", "white_trim", [wx0, y0 - 0.07, wz0], [wx0 + f, y0 - 0.03, wz1])
        b.box(f"window_frame_r{sfx}", "white_trim", [wx1 - f, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz1])
        b.box(f"window_frame_b{sfx}", "white_trim", [wx0, y0 - 0.07, wz0], [wx1, y0 - 0.03, wz0 + f])
        b.box(f"window_frame_t{sfx}", "white_trim", [wx0, y0 - 0.07, wz1 - f], [wx1, y0 - 0.03, wz1])
        mx = 0.5 * (wx0 + wx1)
        b.box(f"window_mullion{sfx}", "white_trim", [mx - 0.02, y0 - 0.07, wz0], [mx + 0.02, y0 - 0.03, wz1])
        b.box(f"window_transom{sfx}", "white_trim", [wx0, y0 - 0.07, 1.52], [wx1, y0 - 0.03, 1.56])
        b.box(f"window_sill{sfx}", "white_trim", [wx0 - 0.1, y0 - 0.03, wz0 - 0.04], [wx1 + 0.1, y0 + 0.08, wz0])

    # --- baseboards -----------------------------------------------------------------------------------------
    bb, bt = 0.08, 0.015
    b.box("baseboard_n_a", "white_trim", [x0, y1 - bt, 0.0], [-h, y1, bb])
    b.box("baseboard_n_b", "white_trim", [h, y1 - bt, 0.0], [x1, y1, bb])
    b.box("baseboard_s_a", "white_trim", [x0, y0, 0.0], [-h, y0 + bt, bb])
    b.box("baseboard_s_b", "white_trim", [h, y0, 0.0], [x1, y0 + bt, bb])
    b.box("baseboard_w", "white_trim", [x0, y0, 0.0], [x0 + bt, y1, bb])

    # --- room A: sofa, painting, rug, coffee table, lamp, plant -----------------------------------------------
    sx = -2.5  # sofa centre
    b.box("sofa_base", "fabric", [sx - 1.1, 1.08, 0.0], [sx + 1.1, 1.98, 0.40])
    b.box("sofa_back", "fabric", [sx - 1.1, 1.76, 0.40], [sx + 1.1, 1.98, 0.88])
    b.box("sofa_arm_l", "fabric", [sx - 1.1, 1.08, 0.40], [sx - 0.92, 1.76, 0.62])
    b.box("sofa_arm_r", "fabric", [sx + 0.92, 1.08, 0.40], [sx + 1.1, 1.76, 0.62])
    b.box("sofa_cushion_l", "cushion", [sx - 0.9, 1.1, 0.40], [sx - 0.01, 1.74, 0.50])
    b.box("sofa_cushion_r", "cushion", [sx + 0.01, 1.1, 0.40], [sx + 0.9, 1.74, 0.50])
    b.box("throw_pillow", "red", [sx - 0.85, 1.56, 0.50], [sx - 0.45, 1.74, 0.82])
    b.box("painting", "painting", [sx - 0.75, y1 - 0.03, 1.1], [sx + 0.75, y1, 1.9])
    b.box("rug", "rug", [sx - 1.3, -0.5, 0.0], [sx + 1.3, 1.0, 0.012])
    b.box("table_top", "walnut", [sx - 0.6, 0.05, 0.40], [sx + 0.6, 0.65, 0.45])
    for i, (lx, ly) in enumerate([(-0.55, 0.1), (0.55, 0.1), (-0.55, 0.6), (0.55, 0.6)]):
        b.box(f"table_leg_{i}", "walnut", [sx + lx - 0.025, ly - 0.025, 0.0], [sx + lx + 0.025, ly + 0.025, 0.40])
    b.cylinder("vase", "ceramic", (sx + 0.3, 0.35), 0.45, 0.72, 0.06)
    b.box("table_box", "red", [sx - 0.4, 0.2, 0.45], [sx - 0.12, 0.42, 0.52])
    lx, ly = -4.55, 1.55
    b.cylinder("lamp_base", "metal", (lx, ly), 0.0, 0.03, 0.16)
    b.cylinder("lamp_pole", "metal", (lx, ly), 0.03, 1.4, 0.015, sections=12)
    b.cylinder("lamp_shade", "lampshade", (lx, ly), 1.35, 1.65, 0.22)
    px, py = -4.55, -1.55
    b.cylinder("plant_pot", "terracotta", (px, py), 0.0, 0.42, 0.18)
    b.ellipsoid("plant_leaves_0", "leaves", (px, py, 0.85), (0.3, 0.3, 0.45))
    b.ellipsoid("plant_leaves_1", "leaves", (px + 0.15, py + 0.1, 1.1), (0.2, 0.2, 0.28))
    b.ellipsoid("plant_leaves_2", "leaves", (px - 0.12, py + 0.05, 1.15), (0.17, 0.17, 0.25))
    b.cylinder("ceiling_fixture", "fixture", (-2.5, 0.0), z1 - 0.05, z1, 0.22)

    # --- room B: desk and chair by the window, bookshelf, poster, door ----------------------------------------
    dx0, dx1 = 0.6, 1.72
    b.box("desk_top", "walnut", [dx0, y0 + 0.02, 0.72], [dx1, y0 + 0.62, 0.76])
    for i, (lx, ly) in enumerate([(dx0 + 0.04, y0 + 0.06), (dx1 - 0.04, y0 + 0.06), (dx0 + 0.04, y0 + 0.58),
                                  (dx1 - 0.04, y0 + 0.58)]):
        b.box(f"desk_leg_{i}", "metal", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.72])
    b.box("laptop_base", "metal", [0.95, -1.85, 0.76], [1.3, -1.6, 0.78])
    b.box("laptop_screen", "metal", [0.95, -1.88, 0.78], [1.3, -1.85, 1.0])
    b.box("chair_seat", "walnut", [0.95, -1.3, 0.43], [1.38, -0.88, 0.47])
    b.box("chair_back", "walnut", [0.95, -0.92, 0.47], [1.38, -0.88, 0.9])
    for i, (lx, ly) in enumerate([(0.98, -1.27), (1.35, -1.27), (0.98, -0.91), (1.35, -0.91)]):
        b.box(f"chair_leg_{i}", "walnut", [lx - 0.02, ly - 0.02, 0.0], [lx + 0.02, ly + 0.02, 0.43])
    # bookshelf against the north wall, x in [2.2, 3.4]
    sx0, sx1, sy0 = 2.2, 3.4, y1 - 0.36
    b.box("shelf_back", "walnut", [sx0, y1 - 0.02, 0.0], [sx1, y1, 1.9])
    b.box("shelf_side_w", "walnut", [sx0, sy0, 0.0], [sx0 + 0.03, y1, 1.9])
    b.box("shelf_side_e", "walnut", [sx1 - 0.03, sy0, 0.0], [sx1, y1, 1.9])
    levels = [0.0, 0.47, 0.94, 1.41, 1.87]
    for i, lz in enumerate(levels):
        b.box(f"shelf_board_{i}", "walnut", [sx0, sy0, lz], [sx1, y1, lz + 0.03])
    nbook = 0
    for li, lz in enumerate(levels[:-1]):
        x = sx0 + 0.03 + rng.uniform(0.0, 0.05)
        fill_to = sx1 - 0.03 - (0.35 if li == 3 else rng.uniform(0.0, 0.2))
        while True:
            w = rng.uniform(0.025, 0.06)
            if x + w > fill_to:
                break
            hb = rng.uniform(0.2, 0.36)
            d = rng.uniform(0.17, 0.26)
            b.box(f"book_{nbook}", "books", [x, y1 - 0.02 - d, lz + 0.03], [x + w, y1 - 0.02, lz + 0.03 + hb])
            nbook += 1
            x += w + (rng.uniform(0.05, 0.15) if rng.random() < 0.08 else 0.002)
    b.box("poster", "poster", [x1 - 0.015, -1.4, 1.0], [x1, -0.5, 1.9])
    b.box("door", "door", [x1 - 0.04, 0.4, 0.0], [x1, 1.3, 2.05])
    b.box("door_casing_l", "white_trim", [x1 - 0.02, 0.33, 0.0], [x1, 0.4, 2.12])
    b.box("door_casing_r", "white_trim", [x1 - 0.02, 1.3, 0.0], [x1, 1.37, 2.12])
    b.box("door_casing_t", "white_trim", [x1 - 0.02, 0.33, 2.05], [x1, 1.37, 2.12])
    b.box("door_handle", "brass", [x1 - 0.08, 0.52, 1.0], [x1 - 0.04, 0.64, 1.04])
    b.cylinder("ceiling_fixture_b", "fixture", (2.5, 0.0), z1 - 0.05, z1, 0.22)

    mesh, face_part = b.build()
    sun_dir = np.array([-0.35, -1.0, 0.85])
    return SynthScene(
        mesh=mesh,
        face_part=face_part,
        parts=b.parts,
        room_min=TWO_ROOM_MIN.copy(),
        room_max=TWO_ROOM_MAX.copy(),
        sun_dir=sun_dir / np.linalg.norm(sun_dir),
        sun_color=np.array([2.6, 2.35, 2.0]),
        point_lights=[
            (np.array([-2.5, 0.0, z1 - 0.2]), np.array([2.6, 2.4, 2.1])),
            (np.array([2.5, 0.0, z1 - 0.2]), np.array([2.6, 2.4, 2.1])),
        ],
        ambient=np.array([0.42, 0.44, 0.48]),
        seed=int(seed),
        materials=b.materials,
    )


def _sample_targets(scene: SynthScene, rng: np.random.Generator, k: int) -> np.ndarray:
    """(k, 3) look-at targets: furniture and wall art, random wall points and corners, points in the room."""
    lo, hi = scene.room_min, scene.room_max
    names = [
        "sofa_back", "painting", "poster", "table_top", "desk_top", "shelf_board_2", "plant_leaves_0",
        "lamp_shade", "door", "window_transom", "rug", "chair_back",
    ]  # fmt: skip
    centers = np.stack([scene.part_bounds[scene.part_index(nm)].mean(0) for nm in names])
    out = np.empty((k, 3))
    kind = rng.random(k)
    for i in range(k):
        if kind[i] < 0.4:
            out[i] = centers[rng.integers(len(centers))] + rng.normal(0, 0.15, 3)
        elif kind[i] < 0.7:  # a point on a wall, or a corner
            z = rng.uniform(0.2, 2.4)
            if rng.random() < 0.3:
                out[i] = [rng.choice([lo[0], hi[0]]), rng.choice([lo[1], hi[1]]), z]
            else:
                wall = rng.integers(4)
                a = rng.uniform(0.05, 0.95)
                x = lo[0] + a * (hi[0] - lo[0])
                y = lo[1] + a * (hi[1] - lo[1])
                out[i] = [[lo[0], y, z], [hi[0], y, z], [x, lo[1], z], [x, hi[1], z]][wall]
        else:
            out[i] = rng.uniform(lo + [0.3, 0.3, 0.1], hi - [0.3, 0.3, 1.0])
    return out


def default_demo_cameras(
    scene: SynthScene,
    n: int,
    width: int = 160,
    height: int = 120,
    seed: int = 0,
    fov_deg: float = 75.0,
    clearance: float = 0.3,
    heights: tuple[float, float] = (1.2, 1.8),
) -> Cameras:
    """``n`` PINHOLE cameras in the room's free space, looking at varied targets (no roll, world up = +Z).

    Positions: uniform in the room at heights in ``heights`` (metres), at least ``clearance`` from every
    surface (see :func:`free_space_mask`). Targets: furniture and wall art, walls and corners, points in the
    room, at least 1 m away horizontally, with a pitch between -55 and +30 degrees.
    """
    rng = np.random.default_rng(seed)
    lo, hi = scene.room_min, scene.room_max
    eyes: list[np.ndarray] = []
    for _ in range(100):
        if len(eyes) >= n:
            break
        cand = rng.uniform([lo[0], lo[1], heights[0]], [hi[0], hi[1], heights[1]], size=(max(4 * n, 64), 3))
        eyes.extend(cand[free_space_mask(scene, cand, clearance)])
    if len(eyes) < n:
        raise RuntimeError("default_demo_cameras: could not find enough free-space camera positions")
    mats = []
    for eye in eyes[:n]:
        for _ in range(200):
            target = _sample_targets(scene, rng, 1)[0]
            delta = target - eye
            horiz = np.hypot(delta[0], delta[1])
            pitch = math.degrees(math.atan2(delta[2], horiz))
            if horiz >= 1.0 and -55.0 <= pitch <= 30.0:
                break
        else:  # pragma: no cover - the room is big enough that this never happens
            target = np.array([0.0, 0.0, 1.0])
        mats.append(look_at_c2w(eye, target))
    return cameras_from_c2w(np.stack(mats), width, height, fov_deg)


def demo_tour_path_c2w(scene: SynthScene, n_frames: int, height: float = 1.55, clearance: float = 0.3) -> np.ndarray:
    """(n_frames, 4, 4) OpenGL c2w matrices of a smooth closed walk around the room at eye level.

    The camera moves on an ellipse around the room centre (shrunk until every frame is in free space),
    bobbing gently, and looks across the room while panning left and right, slightly downwards. The last
    frame joins the first smoothly (the loop is periodic).
    """
    c = 0.5 * (scene.room_min + scene.room_max)
    half = 0.5 * (scene.room_max - scene.room_min)
    theta = 2 * np.pi * np.arange(n_frames) / max(n_frames, 1)
    scale = 0.62
    for _ in range(20):
        ax, ay = scale * half[0], scale * half[1]
        eyes = np.stack(
            [c[0] + ax * np.cos(theta), c[1] + ay * np.sin(theta), height + 0.05 * np.sin(3 * theta)], 1
        )
        if free_space_mask(scene, eyes, clearance).all():
            break
        scale *= 0.9
    else:
        raise RuntimeError("demo_tour_path_c2w: no free loop found")
    # Look towards the centre, panning +-50 degrees; the target is 2.5 m away and 0.45 m lower.
    yaw = np.arctan2(c[1] - eyes[:, 1], c[0] - eyes[:, 0]) + np.radians(50.0) * np.sin(2 * theta)
    targets = eyes + np.stack([2.5 * np.cos(yaw), 2.5 * np.sin(yaw), np.full(n_frames, -0.45)], 1)
    return np.stack([look_at_c2w(e, t) for e, t in zip(eyes, targets)])


def synthesize_demo_dataset(
    scene: SynthScene | None,
    out_dir: str | Path,
    n_train: int = 100,
    n_test: int = 12,
    width: int = 160,
    height: int = 120,
    seed: int = 0,
    fov_deg: float = 75.0,
    cameras: Cameras | None = None,
    **kwargs,
) -> Path:
    """:func:`scenegen.data.synth.synthesize_dataset` with the test defaults: ``scene`` None is
    :func:`make_demo_scene` (``seed``), ``cameras`` None is :func:`default_demo_cameras` (n_train + n_test)."""
    scene = scene if scene is not None else make_demo_scene(seed)
    if cameras is None:
        cameras = default_demo_cameras(scene, n_train + n_test, width, height, seed=seed, fov_deg=fov_deg)
    return synthesize_dataset(scene, out_dir, cameras, n_train=n_train, n_test=n_test, width=width, height=height,
                              seed=seed, **kwargs)
