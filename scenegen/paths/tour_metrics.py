"""Per-frame quality measures of a rendered tour, as pure functions of arrays (the tour report's numbers).

* :func:`temporal_consistency`: frame t reprojected into frame t+1 with its rendered depth; the photometric
  error where both frames see the same surface, plus surfaces that appear or vanish between the two (a floater
  popping in or out: the other frame sees *through* the place where this one has a surface). Occlusions by
  parallax (the other frame sees something *nearer* there) are left out. The warp uses the **smoothed** camera
  path (:func:`smooth_poses`: the motion a viewer expects), so camera shake counts as inconsistency too; on a
  smooth path smoothing changes nothing measurable. Reported as a PSNR in dB (higher = steadier) and an RMS
  error in 8-bit levels.
* :func:`pose_shake`: how far each camera is from the smoothed path (world units, degrees).
* :func:`psnr`: PSNR of a frame against a ground-truth render of the same camera.

Cameras are OpenGL camera-to-world (x right, y up, -z forward); depth is the distance along the ray (what
:meth:`scenegen.train.run.LoadedRun.render` returns); pinhole intrinsics (fx, fy, cx, cy) in pixels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["pose_shake", "psnr", "smooth_poses", "temporal_consistency"]


def _pad_odd(x: np.ndarray, k: int) -> np.ndarray:
    """Pad along axis 0 by point reflection (keeps straight-line motion straight at the ends)."""
    k = min(k, len(x) - 1)
    if k <= 0:
        return x
    head = 2 * x[:1] - x[1 : k + 1][::-1]
    tail = 2 * x[-1:] - x[-k - 1 : -1][::-1]
    return np.concatenate([head, x, tail])


def smooth_poses(c2w, sigma_frames: float = 2.0) -> np.ndarray:
    """(N, 4, 4) camera path low-passed by a Gaussian of ``sigma_frames`` frames (positions and rotation
    matrices filtered, rotations made orthonormal again)."""
    m = np.asarray(c2w, dtype=np.float64)
    n = len(m)
    out = np.tile(np.eye(4), (n, 1, 1))
    out[:, :3, :4] = m[:, :3, :4]
    if n < 3 or sigma_frames <= 0:
        return out
    k = int(math.ceil(4 * sigma_frames))
    flat = _pad_odd(m[:, :3, :4].reshape(n, 12), k)
    sm = ndimage.gaussian_filter1d(flat, sigma_frames, axis=0, mode="nearest")
    kk = min(k, n - 1)
    sm = sm[kk : kk + n].reshape(n, 3, 4)
    u, _, vt = np.linalg.svd(sm[:, :, :3])
    r = u @ vt
    neg = np.linalg.det(r) < 0
    if neg.any():
        u[neg, :, -1] *= -1
        r[neg] = u[neg] @ vt[neg]
    out[:, :3, :3] = r
    out[:, :3, 3] = sm[:, :, 3]
    return out


def pose_shake(c2w, sigma_frames: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(N,) distance (world units) and (N,) angle (degrees) of each camera from the smoothed path."""
    m = np.asarray(c2w, dtype=np.float64)
    s = smooth_poses(m, sigma_frames)
    dist = np.linalg.norm(m[:, :3, 3] - s[:, :3, 3], axis=1)
    rel = np.einsum("nji,njk->nik", m[:, :3, :3], s[:, :3, :3])
    ang = np.degrees(np.arccos(np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    return dist, ang


def _points(depth: np.ndarray, c2w: np.ndarray, k) -> np.ndarray:
    """(H*W, 3) world points of every pixel centre at its ray distance ``depth``."""
    h, w = depth.shape
    fx, fy, cx, cy = k
    v, u = np.mgrid[0:h, 0:w] + 0.5
    d = np.stack([(u - cx) / fx, -(v - cy) / fy, -np.ones_like(u)], -1).reshape(-1, 3)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return c2w[:3, 3] + (d @ c2w[:3, :3].T) * depth.reshape(-1, 1)


def _project(points: np.ndarray, c2w: np.ndarray, k, h: int, w: int):
    """Pixel coordinates (u, v), ray distance and in-view mask of world points in a camera."""
    fx, fy, cx, cy = k
    pc = (points - c2w[:3, 3]) @ c2w[:3, :3]
    z = -pc[:, 2]
    zs = np.where(z > 1e-6, z, 1.0)
    u = cx + fx * pc[:, 0] / zs
    v = cy - fy * pc[:, 1] / zs
    ok = (z > 1e-6) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    return u, v, np.linalg.norm(pc, axis=1), ok


def _bilinear(img: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.stack([ndimage.map_coordinates(img[..., c], [v - 0.5, u - 0.5], order=1, mode="nearest")
                     for c in range(img.shape[-1])], -1)


def _one_way(rgb0, d0, a0, c0, k0, rgb1, d1, a1, c1, k1, tol: float, min_acc: float):
    """Squared errors (M,) and count of compared pixels of frame 0 warped into frame 1."""
    h1, w1 = d1.shape
    p = _points(d0, c0, k0)
    u, v, dist, ok = _project(p, c1, k1, h1, w1)
    ok &= (a0.reshape(-1) > min_acc) & np.isfinite(d0.reshape(-1))
    ui = np.clip(u.astype(np.int64), 0, w1 - 1)
    vi = np.clip(v.astype(np.int64), 0, h1 - 1)
    ok &= a1[vi, ui] > min_acc
    other = d1[vi, ui]
    occluded = other < dist * (1 - tol) - tol * 0.2  # something nearer in frame 1: parallax, not an error
    use = ok & ~occluded
    if not use.any():
        return np.zeros(0), 0
    c_warp = _bilinear(rgb1, u[use], v[use])
    err = (rgb0.reshape(-1, rgb0.shape[-1])[use] - c_warp) ** 2
    return err.mean(1), int(use.sum())


def temporal_consistency(rgb0, depth0, c2w0, k0, rgb1, depth1, c2w1, k1, acc0=None, acc1=None,
                         tol: float = 0.05, min_acc: float = 0.5) -> dict:
    """Photometric consistency of two consecutive frames (see the module docstring), both ways.

    Args:
        rgb0, rgb1: (H, W, 3) float in [0, 1]; depth0, depth1: (H, W) ray distance; acc0, acc1: (H, W)
            accumulation (pixels below ``min_acc`` are background and not compared; None: all opaque).
        c2w0, c2w1: (4, 4) or (3, 4) camera-to-world used for the warp (pass the smoothed path's).
        k0, k1: (fx, fy, cx, cy) pinhole intrinsics.
        tol: relative depth tolerance for "the same surface".
    Returns:
        ``{"psnr": dB, "rmse": root-mean-square error in 8-bit levels, "compared": fraction of pixels compared}``;
        psnr is None when nothing could be compared (no overlap).
    """
    rgb0, rgb1 = np.asarray(rgb0, np.float64), np.asarray(rgb1, np.float64)
    d0, d1 = np.asarray(depth0, np.float64), np.asarray(depth1, np.float64)
    a0 = np.ones_like(d0) if acc0 is None else np.asarray(acc0, np.float64)
    a1 = np.ones_like(d1) if acc1 is None else np.asarray(acc1, np.float64)
    c0, c1 = np.asarray(c2w0, np.float64), np.asarray(c2w1, np.float64)
    e01, n01 = _one_way(rgb0, d0, a0, c0, k0, rgb1, d1, a1, c1, k1, tol, min_acc)
    e10, n10 = _one_way(rgb1, d1, a1, c1, k1, rgb0, d0, a0, c0, k0, tol, min_acc)
    e = np.concatenate([e01, e10])
    total = d0.size + d1.size
    if len(e) == 0:
        return {"psnr": None, "rmse": None, "compared": 0.0}
    mse = float(e.mean())
    return {"psnr": float(-10 * math.log10(max(mse, 1e-10))), "rmse": float(math.sqrt(mse) * 255.0),
            "compared": (n01 + n10) / total}


def psnr(a, b) -> float:
    """PSNR (dB) of two images in [0, 1] (or both uint8)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == np.uint8:
        a = a.astype(np.float64) / 255.0
    if b.dtype == np.uint8:
        b = b.astype(np.float64) / 255.0
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float(-10 * math.log10(max(mse, 1e-10)))
