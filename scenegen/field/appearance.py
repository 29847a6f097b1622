"""Appearance of a view no photo was trained on: the looks (rows of the per-photo look table) of the training
photos taken nearest to it.

Real captures drift in exposure and white balance as the camera turns (auto exposure towards a window, a cloud
passing); ``--field.look exposure|codes`` gives each photo its own row of a look table (a colour gain and
offset, or NeRF-W's appearance code: :class:`scenegen.field.field.FieldConfig` ``look``) so the field does not
bend its geometry to explain the drift. A novel view has no row of its own. Tours want one steady look (the mean
code, :meth:`scenegen.field.field.RadianceField.appearance_codes`); reproducing a held-out *photo* wants the look
the camera had there, and the photos taken just before and after it are the best estimate of that. Nothing of the
held-out photo itself is used. Hand-written: an inverse-distance weighting over a few poses.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor


def pose_distances(train_c2w: np.ndarray, c2w: np.ndarray) -> np.ndarray:
    """Distance of pose ``c2w`` (3|4, 4) to each training pose (N, 3|4, 4): the gap between camera centres over
    the capture's spread (median distance of the training cameras from their centroid) plus 1 - cos of the angle
    between the viewing directions."""
    train_c2w = np.asarray(train_c2w, dtype=np.float64)
    c2w = np.asarray(c2w, dtype=np.float64)
    pos = train_c2w[:, :3, 3]
    spread = float(np.median(np.linalg.norm(pos - pos.mean(0), axis=1))) if len(pos) > 1 else 1.0
    spread = spread if spread > 1e-9 else 1.0
    fwd = -train_c2w[:, :3, 2]
    f = -c2w[:3, 2]
    return np.linalg.norm(pos - c2w[:3, 3], axis=1) / spread + (1.0 - fwd @ f)


def nearest_code(table: Tensor, train_frames: Sequence[int], train_c2w: np.ndarray, c2w: np.ndarray,
                 k: int = 2) -> Tensor:
    """The look (D,) for a view at pose ``c2w`` (world, OpenGL camera-to-world): the rows of ``table`` (indexed
    by dataset frame) of the ``k`` training photos nearest in pose (:func:`pose_distances`; ``train_c2w[j]`` is
    the pose of frame ``train_frames[j]``), weighted by inverse distance. A view at a training photo's pose gets
    that photo's row."""
    d = pose_distances(train_c2w, c2w)
    k = max(1, min(int(k), len(d)))
    near = np.argsort(d)[:k]
    w = 1.0 / np.maximum(d[near], 1e-6)
    w = torch.as_tensor(w / w.sum(), dtype=table.dtype, device=table.device)
    rows = torch.as_tensor([int(train_frames[j]) for j in near], device=table.device)
    return (table[rows] * w[:, None]).sum(0)
