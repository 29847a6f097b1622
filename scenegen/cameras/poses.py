"""Camera pose helpers, one copy each: a look-at camera-to-world matrix and an orthonormal frame around an up
vector. Convention: OpenGL / nerfstudio camera-to-world (camera x right, y up, looking along -z)."""

from __future__ import annotations

import numpy as np

from scenegen.core.errors import InputError

WORLD_UP = np.array([0.0, 0.0, 1.0])


def look_at_c2w(eye, target, up=WORLD_UP) -> np.ndarray:
    """(4, 4) camera-to-world matrix of a camera at ``eye`` looking at ``target``, no roll: the image's up is as
    close to ``up`` as the view direction allows.

    Raises:
        ValueError: ``target`` equals ``eye``, ``up`` is zero, or the view direction is parallel to ``up``.
    """
    eye, target, up = (np.asarray(a, dtype=np.float64).reshape(3) for a in (eye, target, up))
    fwd = target - eye
    n = float(np.linalg.norm(fwd))
    if not n > 1e-12 * max(float(np.abs(eye).max()), 1.0):
        raise ValueError("look_at: target equals position, the view direction is undefined")
    fwd = fwd / n
    un = float(np.linalg.norm(up))
    if not un > 0:
        raise ValueError("look_at: up must be a non-zero vector")
    right = np.cross(fwd, up / un)
    rn = float(np.linalg.norm(right))
    if rn < 1e-9:
        raise ValueError("look_at: the view direction is parallel to up")
    right /= rn
    cam_up = np.cross(right, fwd)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, cam_up, -fwd, eye
    return c2w


def up_basis(up) -> np.ndarray:
    """(3, 3) orthonormal, right-handed frame whose third column is the unit ``up`` (3,).

    When ``up`` is (within 1e-9) a signed world axis the frame is a signed permutation of the identity (identity
    for +Z), so axis-aligned scenes keep axis-aligned grids and pictures. Otherwise the first column is the world
    axis least aligned with ``up``, made orthogonal to it. Columns 0 and 1 span the plane orthogonal to ``up``.

    Raises:
        InputError: ``up`` is zero or not finite (field ``up``).
    """
    u = np.asarray(up, dtype=np.float64).reshape(3)
    n = float(np.linalg.norm(u))
    if not (np.isfinite(n) and n > 0):
        raise InputError("the up vector must be finite and non-zero", field="up")
    u = u / n
    a = int(np.argmax(np.abs(u)))
    if abs(u[a]) > 1.0 - 1e-9:  # a signed world axis: keep the frame axis-aligned
        sign = 1.0 if u[a] > 0 else -1.0
        u = np.zeros(3)
        u[a] = sign
        if a == 2 and sign > 0:
            return np.eye(3)
        ref = np.eye(3)[0 if a != 0 else 1]
    else:
        ref = np.eye(3)[int(np.argmin(np.abs(u)))]
    e1 = ref - (ref @ u) * u
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(u, e1)
    return np.stack([e1, e2, u], 1)


def rotation_between(a, b) -> np.ndarray:
    """(3, 3) proper rotation taking the direction of ``a`` (3,) onto the direction of ``b`` (3,), about their
    common normal (Rodrigues). Opposite vectors: a half turn about the world axis least aligned with ``a``."""
    a = np.asarray(a, dtype=np.float64).reshape(3)
    b = np.asarray(b, dtype=np.float64).reshape(3)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    if c < -1 + 1e-9:
        ref = np.eye(3)[int(np.argmin(np.abs(a)))]
        axis = ref - (ref @ a) * a
        axis /= np.linalg.norm(axis)
        return 2 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)
