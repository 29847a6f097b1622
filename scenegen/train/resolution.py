"""The training resolution: which integer ``--downscale`` a run reads its photos at, from the photo size, the
number of photos, the time budget and the device.

A radiance field trained for a few minutes on a CPU cannot use 12 MP photos: every step samples a few thousand
rays, so at full size each pixel is seen a handful of times at most and the finest hash levels never converge
(a 1558x1039 capture trained 5 minutes at full size reached 16.9 dB and evaluated at 170 s per view). The cap on
the long side follows nerfstudio's dataparser (1600 px) and, on the CPU, shrinks with the square root of the
training time (the rays a run can afford grow linearly with time; the pixels of a photo with the square of its
side) and of the photo count beyond 250 photos (more photos share the same rays):

    long side <= 1600 * sqrt(minutes / 60) * sqrt(min(1, 250 / photos)),  at least 200 px

so 15 minutes keep bonsai's 800 px photos whole and a 5-minute run of 1558 px photos trains at a quarter (390 px).
Without a time budget the step limit stands in for it (about 6 steps a second on 2 vCPUs, BENCHMARKS.md). On
CUDA the throughput is two orders of magnitude higher: only nerfstudio's 1600 px cap applies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scenegen.data.loader import apply_downscale

CAP_LONG_SIDE = 1600
"""nerfstudio's dataparser caps the long side of training images at 1600 px."""
MIN_LONG_SIDE = 200
"""The CPU rule never goes below this (smaller than NeRF-synthetic's 200 px is not useful)."""
CPU_STEPS_PER_MINUTE = 360.0
"""Training steps a minute on 2 vCPUs (bonsai: 5317 steps in 15 minutes), to turn --max-steps into minutes."""


@dataclass(frozen=True)
class ResolutionChoice:
    downscale: int
    """The integer factor the photos are read at."""
    long_side: int
    """The training images' long side (px) at that factor."""
    cap: int
    """The long side the rule allows (px)."""
    reason: str
    """One line for the user: what was chosen and why."""


def cap_long_side(device_type: str, minutes: float | None, photos: int) -> int:
    """The largest long side (px) worth training on (module docstring)."""
    if device_type == "cuda":
        return CAP_LONG_SIDE
    m = 60.0 if minutes is None else max(float(minutes), 0.1)
    cap = CAP_LONG_SIDE * math.sqrt(min(m, 60.0) / 60.0) * math.sqrt(min(1.0, 250.0 / max(photos, 1)))
    return int(max(MIN_LONG_SIDE, min(CAP_LONG_SIDE, round(cap))))


def choose_downscale(width: int, height: int, photos: int, device_type: str, time_budget: float | None,
                     max_steps: int | None) -> ResolutionChoice:
    """The training resolution for photos of ``width`` x ``height`` (their largest), ``photos`` of them."""
    side = max(int(width), int(height))
    minutes = time_budget if time_budget else (max_steps / CPU_STEPS_PER_MINUTE if max_steps else None)
    cap = cap_long_side(device_type, minutes, photos)
    factor = max(1, math.ceil(side / cap))
    long_side = side // factor
    if device_type == "cuda":
        why = f"CUDA: full resolution up to the {CAP_LONG_SIDE} px long side"
    else:
        what = f"{time_budget:g}-minute budget" if time_budget else (
            f"{max_steps} steps (about {minutes:.0f} min on 2 CPU cores)" if max_steps else "no limit")
        why = f"CPU, {photos} photos, {what}: long side at most {cap} px"
    if factor == 1:
        reason = f"training resolution: full size {width}x{height} ({why})"
    else:
        reason = (f"training resolution: 1/{factor} of {width}x{height} -> {width // factor}x{height // factor} "
                  f"({why}; --downscale N overrides)")
    return ResolutionChoice(factor, long_side, cap, reason)


def auto_downscale(ds, cfg, device_type: str) -> ResolutionChoice:
    """Choose the training resolution for dataset ``ds`` (read at full size) and config ``cfg`` (``TrainConfig``)
    and apply it to ``ds`` (its cameras; the downscaled copies are cached as for ``--downscale``)."""
    photos = len(ds.split("train")) or len(ds)
    w, h = int(ds.cameras.width.max()), int(ds.cameras.height.max())
    choice = choose_downscale(w, h, photos, device_type, cfg.time_budget, cfg.resolved_max_steps())
    if choice.downscale > 1:
        apply_downscale(ds, choice.downscale)
    return choice
