"""Read any supported camera-path file into the one path model (:class:`~scenegen.paths.keyframes.PathSpec`).

Supported: nerfstudio viewer exports in both keyframe layouts (the older one with ``matrix`` as a JSON string
and ``properties``; the newer v1 one with ``matrix`` as a list, ``override_transition_*``), files with only a
rendered ``camera_path`` list (each camera becomes a keyframe, one frame apart), and scenegen's own output
(nerfstudio's v1 layout plus ``scenegen_*`` keys). A path authored in nerfstudio's dataparser frame is mapped
into the dataset's world with ``dataparser_transforms.json`` (and the dataset's ``transforms.json``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scenegen.core.errors import InputError


def read_any_path(file: str | Path, dataparser_transforms: str | Path | None = None,
                  dataset_transforms: str | Path | None = None):
    """Load ``file`` as a PathSpec (world units of the dataset); InputError naming file and field on bad input."""
    from scenegen.paths.keyframes import load_path_spec
    from scenegen.paths.nerfstudio_path import load_dataparser_transforms

    file = Path(file)
    spec = load_path_spec(file, allow_empty=True)
    if dataparser_transforms is not None:
        t = load_dataparser_transforms(dataparser_transforms, dataset_transforms)
        m = t.world_from_path()
        s = float(np.cbrt(np.linalg.det(m[:3, :3])))
        r = m[:3, :3] / s
        for kf in spec.keyframes:
            c2w = kf.c2w()
            new = np.eye(4)
            new[:3, :3] = r @ c2w[:3, :3]
            new[:3, 3] = m[:3, :3] @ c2w[:3, 3] + m[:3, 3]
            kf.set_c2w(new)
    elif dataset_transforms is not None:
        raise InputError("needs --dataparser-transforms", field="--dataset-transforms")
    return spec
