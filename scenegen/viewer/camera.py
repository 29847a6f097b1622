"""viser's camera and the path's camera: viser's is OpenCV-style (looks down +Z, +Y down), the path's is OpenGL
(looks down -Z, +Y up): ``c2w_gl = c2w_cv @ diag(1, -1, -1, 1)``."""

from __future__ import annotations

import numpy as np

from scenegen.paths.model import matrix_from_quat, quat_from_matrix

__all__ = ["GL_FROM_CV", "client_c2w", "cv_wxyz", "gl_c2w"]

GL_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])
"""Right-multiply a viser (OpenCV) camera-to-world by this to get the OpenGL one (and back: it is its own
inverse)."""


def gl_c2w(wxyz, position) -> np.ndarray:
    """OpenGL camera-to-world (4, 4) of a viser orientation (wxyz, OpenCV camera) and position."""
    m = np.eye(4)
    m[:3, :3] = matrix_from_quat(np.asarray(wxyz, dtype=np.float64))
    m[:3, 3] = np.asarray(position, dtype=np.float64)
    return m @ GL_FROM_CV


def client_c2w(camera) -> np.ndarray:
    """OpenGL camera-to-world (4, 4) of a viser camera handle."""
    return gl_c2w(camera.wxyz, camera.position)


def cv_wxyz(c2w_gl: np.ndarray) -> np.ndarray:
    """viser's orientation (wxyz of the OpenCV camera-to-world) of an OpenGL camera-to-world."""
    return quat_from_matrix((np.asarray(c2w_gl, dtype=np.float64) @ GL_FROM_CV)[:3, :3])
