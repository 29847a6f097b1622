"""Image-quality metrics.

PSNR and SSIM are a few lines of tensor code; SSIM follows Wang et al. 2004 (11x11 Gaussian window, sigma 1.5,
K1 0.01, K2 0.03, mean over the image), the definition NeRF papers report. Written here rather than pulling in
scikit-image or torchmetrics (both heavy for two formulas).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def psnr(pred: Tensor, target: Tensor) -> float:
    """PSNR in dB of images in [0, 1] (any shape)."""
    mse = torch.mean((pred.float() - target.float()) ** 2).item()
    return float("inf") if mse <= 0 else -10.0 * math.log10(mse)


def mse_to_psnr(mse: float) -> float:
    return float("inf") if mse <= 0 else -10.0 * math.log10(mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(pred: Tensor, target: Tensor) -> float:
    """Mean SSIM of two (H, W, 3) images in [0, 1] ('valid' filtering, as in the reference code).

    Images smaller than the 11x11 window use the largest window that fits (the same Gaussian, sigma 1.5,
    truncated to min(H, W) pixels and renormalised), so every image size has a score."""
    x = pred.float().permute(2, 0, 1)[None]
    y = target.float().permute(2, 0, 1)[None]
    c = x.shape[1]
    size = max(1, min(11, x.shape[2], x.shape[3]))
    win = _gaussian_window(size).to(x.device)[None, None].repeat(c, 1, 1, 1)

    def filt(z: Tensor) -> Tensor:
        return F.conv2d(z, win, groups=c)

    mu_x, mu_y = filt(x), filt(y)
    sxx = filt(x * x) - mu_x**2
    syy = filt(y * y) - mu_y**2
    sxy = filt(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return float(s.mean())
