"""Synthetic posed datasets from a procedurally textured mesh (the prior's apartments, imported models).

The pipeline is::

    materials = base_materials()                  # a registry the scene's parts name (producers add their own)
    b = SceneBuilder(materials); b.box(...)       # closed primitives, each with a material
    mesh, face_part = b.build()
    scene = SynthScene(mesh, face_part, b.parts, ..., materials=materials)
    rgb, depth = render_views(scene, cameras)     # Open3D ray casting + procedural shading
    synthesize_dataset(scene, "out/", cameras)    # nerfstudio-format folder

Modules: :mod:`~scenegen.data.synth.materials` (textures and the registry), :mod:`~scenegen.data.synth.scene`
(the scene model, free space), :mod:`~scenegen.data.synth.shading` (rendering),
:mod:`~scenegen.data.synth.writing` (the dataset writer), :mod:`~scenegen.data.synth.o3d` (lazy open3d import).

Conventions
-----------
* **World**: metres, right-handed, **+Z is up**.
* **Cameras**: :class:`~scenegen.cameras.cameras.Cameras`, OpenGL camera-to-world (camera looks down -Z,
  +Y up, +X right); rays go through pixel centres (exactly the rays of :meth:`Cameras.camera_rays`).
* **Depth**: *z-depth* in metres, i.e. the distance of the hit point along the camera's optical axis
  (``t_hit * dot(ray_dir, -camera_z)``), as nerfstudio expects. Pixels whose ray escapes the scene (sky seen
  through a window) have depth 0 = "no depth".

Importing this package never imports open3d (that happens on the first ray cast).
"""

from scenegen.data.synth.materials import MaterialRegistry, base_materials
from scenegen.data.synth.o3d import import_open3d
from scenegen.data.synth.scene import Part, SceneBuilder, SynthScene, free_space_mask
from scenegen.data.synth.shading import cameras_from_c2w, render_views
from scenegen.data.synth.writing import synthesize_dataset

__all__ = [
    "MaterialRegistry",
    "Part",
    "SceneBuilder",
    "SynthScene",
    "base_materials",
    "cameras_from_c2w",
    "free_space_mask",
    "import_open3d",
    "render_views",
    "synthesize_dataset",
]
