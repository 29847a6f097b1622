"""Cameras and ray generation.

One convention inside scenegen: camera-to-world matrices in the OpenGL / nerfstudio convention
(camera looks down -Z, +Y is up in the camera, +X right). Parsers convert other conventions at the border.

Supported camera models (nerfstudio names):
  * ``PINHOLE``            fx, fy, cx, cy
  * ``OPENCV``             + k1 k2 p1 p2 (and k3 when present)
  * ``OPENCV_FISHEYE``     + k1 k2 k3 k4 (equidistant model)
  * ``EQUIRECTANGULAR``    360 x 180 degree panorama (rendering only)

Distortion is stored per camera as ``[k1, k2, k3, k4, p1, p2]`` (nerfstudio's layout).
Rays go through pixel centres: pixel (i, j) (column i, row j) has image coordinates (i + 0.5, j + 0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

CAMERA_MODELS = ("PINHOLE", "OPENCV", "OPENCV_FISHEYE", "EQUIRECTANGULAR")


@dataclass
class Cameras:
    """A batch of N cameras.

    Attributes:
        c2w: (N, 3, 4) float32 camera-to-world, OpenGL convention.
        fx, fy, cx, cy: (N,) float32 intrinsics in pixels.
        width, height: (N,) int64 image size in pixels.
        distortion: (N, 6) float32 ``[k1, k2, k3, k4, p1, p2]``.
        model: camera model name per camera (list of N strings from :data:`CAMERA_MODELS`).
    """

    c2w: Tensor
    fx: Tensor
    fy: Tensor
    cx: Tensor
    cy: Tensor
    width: Tensor
    height: Tensor
    distortion: Tensor = None  # type: ignore[assignment]
    model: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        c2w = torch.as_tensor(self.c2w)
        n = c2w.shape[0]
        if c2w.ndim == 3 and c2w.shape[1:] == (4, 4):  # homogeneous 4x4: drop the [0, 0, 0, 1] row
            c2w = c2w[:, :3, :4]
        self.c2w = c2w.float().reshape(n, 3, 4)

        def vec(x, dtype=torch.float32):
            t = torch.as_tensor(x, dtype=dtype)
            return t.expand(n).clone() if t.ndim == 0 or t.numel() == 1 else t.reshape(n).to(dtype)

        self.fx, self.fy, self.cx, self.cy = (vec(v) for v in (self.fx, self.fy, self.cx, self.cy))
        self.width, self.height = vec(self.width, torch.int64), vec(self.height, torch.int64)
        if self.distortion is None:
            self.distortion = torch.zeros(n, 6)
        self.distortion = torch.as_tensor(self.distortion, dtype=torch.float32).reshape(-1, 6).expand(n, 6).clone()
        if not self.model:
            self.model = ["PINHOLE"] * n
        elif isinstance(self.model, str):
            self.model = [self.model] * n
        if len(self.model) != n:
            raise ValueError(f"Cameras: {len(self.model)} models for {n} cameras")

    def __len__(self) -> int:
        return self.c2w.shape[0]

    def __getitem__(self, idx) -> "Cameras":
        """Cameras selected by an int, a slice, a list/array/tensor of indices or a boolean mask."""
        n = len(self)
        if isinstance(idx, int):
            idx = [idx]
        elif isinstance(idx, slice):
            idx = list(range(n))[idx]
        idx_t = torch.as_tensor(idx)
        if idx_t.dtype == torch.bool:  # a mask: as_tensor(..., dtype=long) would turn it into 0/1 indices
            if idx_t.shape != (n,):
                raise IndexError(f"boolean mask of shape {tuple(idx_t.shape)} for {n} cameras")
            idx_t = idx_t.nonzero().reshape(-1)
        idx_t = idx_t.long().reshape(-1).to(self.c2w.device)
        return Cameras(
            c2w=self.c2w[idx_t],
            fx=self.fx[idx_t],
            fy=self.fy[idx_t],
            cx=self.cx[idx_t],
            cy=self.cy[idx_t],
            width=self.width[idx_t],
            height=self.height[idx_t],
            distortion=self.distortion[idx_t],
            model=[self.model[i] for i in idx_t.tolist()],
        )

    def to(self, device) -> "Cameras":
        return replace(
            self,
            c2w=self.c2w.to(device),
            fx=self.fx.to(device),
            fy=self.fy.to(device),
            cx=self.cx.to(device),
            cy=self.cy.to(device),
            width=self.width.to(device),
            height=self.height.to(device),
            distortion=self.distortion.to(device),
        )

    @staticmethod
    def cat(cams: list["Cameras"]) -> "Cameras":
        return Cameras(
            c2w=torch.cat([c.c2w for c in cams]),
            fx=torch.cat([c.fx for c in cams]),
            fy=torch.cat([c.fy for c in cams]),
            cx=torch.cat([c.cx for c in cams]),
            cy=torch.cat([c.cy for c in cams]),
            width=torch.cat([c.width for c in cams]),
            height=torch.cat([c.height for c in cams]),
            distortion=torch.cat([c.distortion for c in cams]),
            model=sum((c.model for c in cams), []),
        )

    def scaled(self, factor: float) -> "Cameras":
        """Cameras for images resized by ``factor`` (e.g. 0.5 for a 2x downscale)."""
        w = torch.round(self.width.float() * factor).long()
        h = torch.round(self.height.float() * factor).long()
        sx, sy = w.float() / self.width.float(), h.float() / self.height.float()
        return replace(self, fx=self.fx * sx, fy=self.fy * sy, cx=self.cx * sx, cy=self.cy * sy, width=w, height=h)

    @property
    def centers(self) -> Tensor:
        """(N, 3) camera centres in world space."""
        return self.c2w[:, :, 3]

    def pixel_grid(self, i: int) -> tuple[Tensor, Tensor]:
        """(H*W,) float pixel-centre coordinates (u, v) of camera ``i``, row-major."""
        h, w = int(self.height[i]), int(self.width[i])
        dev = self.c2w.device
        v, u = torch.meshgrid(
            torch.arange(h, dtype=torch.float32, device=dev), torch.arange(w, dtype=torch.float32, device=dev), indexing="ij"
        )
        return u.reshape(-1) + 0.5, v.reshape(-1) + 0.5

    def generate_rays(self, cam_idx: Tensor, u: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Rays for image coordinates (u, v) (pixel centres are at +0.5) of cameras ``cam_idx``.

        Args:
            cam_idx: (R,) long, index of the camera of each ray.
            u, v: (R,) float image coordinates in pixels (x right, y down).
        Returns:
            origins (R, 3) and unit directions (R, 3) in world space.
        """
        cam_idx = cam_idx.long()
        dirs_cam = torch.empty(u.shape[0], 3, dtype=torch.float32, device=u.device)
        models = self.model
        if all(m == models[0] for m in models):
            groups = [(models[0], None)]
        else:
            codes = torch.tensor([CAMERA_MODELS.index(m) for m in models], device=cam_idx.device)[cam_idx]
            groups = [(m, codes == CAMERA_MODELS.index(m)) for m in set(models)]
        for model, mask in groups:
            sel = slice(None) if mask is None else mask
            ci = cam_idx[sel]
            d = _camera_directions(
                model,
                u[sel],
                v[sel],
                self.fx[ci],
                self.fy[ci],
                self.cx[ci],
                self.cy[ci],
                self.distortion[ci],
                self.width[ci].float(),
                self.height[ci].float(),
            )
            dirs_cam[sel] = d
        rot = self.c2w[cam_idx, :, :3]
        dirs = torch.einsum("rij,rj->ri", rot, dirs_cam)
        dirs = dirs / dirs.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        origins = self.c2w[cam_idx, :, 3]
        return origins, dirs

    def camera_rays(self, i: int) -> tuple[Tensor, Tensor]:
        """All rays of camera ``i`` in row-major pixel order: origins, directions (H*W, 3)."""
        u, v = self.pixel_grid(i)
        return self.generate_rays(torch.full_like(u, i, dtype=torch.long), u, v)


def _camera_directions(model, u, v, fx, fy, cx, cy, dist, width, height) -> Tensor:
    """Camera-space (OpenGL) directions, not necessarily unit length, for one camera model."""
    if model == "EQUIRECTANGULAR":
        # u in [0, W) maps to longitude [-pi, pi), v in [0, H) to latitude [pi/2, -pi/2].
        lon = (u / width) * 2 * math.pi - math.pi
        lat = math.pi / 2 - (v / height) * math.pi
        x = torch.cos(lat) * torch.sin(lon)
        y = torch.sin(lat)
        z = -torch.cos(lat) * torch.cos(lon)
        return torch.stack([x, y, z], -1)
    xd = (u - cx) / fx
    yd = (v - cy) / fy
    if model == "OPENCV":
        x, y = undistort_opencv(xd, yd, dist)
    elif model == "OPENCV_FISHEYE":
        theta_d = torch.sqrt(xd * xd + yd * yd)
        theta = undistort_fisheye_theta(theta_d, dist)
        # Directions from the equidistant model: angle theta from the optical axis.
        safe = theta_d.clamp_min(1e-12)
        s = torch.where(theta_d > 1e-12, torch.sin(theta) / safe, torch.ones_like(theta))
        return torch.stack([xd * s, -yd * s, -torch.cos(theta)], -1)
    elif model == "PINHOLE":
        x, y = xd, yd
    else:
        raise ValueError(f"unknown camera model {model!r}")
    # OpenCV camera (x right, y down, z forward) -> OpenGL (x right, y up, -z forward).
    return torch.stack([x, -y, -torch.ones_like(x)], -1)


def distort_opencv(x: Tensor, y: Tensor, dist: Tensor) -> tuple[Tensor, Tensor]:
    """Apply OpenCV radial-tangential distortion to normalised coordinates."""
    k1, k2, k3, _k4, p1, p2 = dist.unbind(-1)
    r2 = x * x + y * y
    radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return xd, yd


def undistort_opencv(xd: Tensor, yd: Tensor, dist: Tensor, iters: int = 10) -> tuple[Tensor, Tensor]:
    """Invert :func:`distort_opencv` with Newton iterations (the same scheme as nerfstudio/COLMAP)."""
    if not bool((dist != 0).any()):
        return xd, yd
    k1, k2, k3, _k4, p1, p2 = dist.unbind(-1)
    x, y = xd.clone(), yd.clone()
    for _ in range(iters):
        r2 = x * x + y * y
        d = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        d_r = k1 + r2 * (2 * k2 + 3 * k3 * r2)  # d(radial)/d(r2)
        fx = d * x + 2 * p1 * x * y + p2 * (r2 + 2 * x * x) - xd
        fy = d * y + 2 * p2 * x * y + p1 * (r2 + 2 * y * y) - yd
        fx_x = d + 2 * x * x * d_r + 2 * p1 * y + 6 * p2 * x
        fx_y = 2 * x * y * d_r + 2 * p1 * x + 2 * p2 * y
        fy_x = 2 * x * y * d_r + 2 * p2 * y + 2 * p1 * x
        fy_y = d + 2 * y * y * d_r + 2 * p2 * x + 6 * p1 * y
        det = fx_x * fy_y - fx_y * fy_x
        det = torch.where(det.abs() < 1e-12, torch.full_like(det, 1e-12), det)
        x = x - (fx * fy_y - fy * fx_y) / det
        y = y - (fy * fx_x - fx * fy_x) / det
    return x, y


def undistort_fisheye_theta(theta_d: Tensor, dist: Tensor, iters: int = 10) -> Tensor:
    """Solve theta_d = theta (1 + k1 t^2 + k2 t^4 + k3 t^6 + k4 t^8) for theta (Newton)."""
    k1, k2, k3, k4 = dist[..., 0], dist[..., 1], dist[..., 2], dist[..., 3]
    theta = theta_d.clone()
    for _ in range(iters):
        t2 = theta * theta
        f = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)))) - theta_d
        df = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + 9 * k4 * t2)))
        theta = theta - f / df.clamp_min(1e-6)
    return theta.clamp(0, math.pi)
