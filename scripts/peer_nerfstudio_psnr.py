"""Test PSNR of a nerfstudio checkpoint, without LPIPS (run it with the peer's own venv's python).

`ns-eval` also builds LPIPS, whose backbone weights it tries to download; on a machine without internet that
stalls. This loads the same pipeline with the backbone left untrained (LPIPS is not reported), renders every
K-th test view and prints PSNR/SSIM with nerfstudio's own metric code.

    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 /tmp/peer/ns-venv/bin/python scripts/peer_nerfstudio_psnr.py \
        --config /tmp/peer/ns-lego/config_300s.yml --every 4 --out /tmp/peer/ns-lego/psnr_300s.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torchvision.models as tvm

_alexnet = tvm.alexnet
tvm.alexnet = lambda *a, **k: _alexnet(weights=None)  # no download; LPIPS is not used below

from nerfstudio.utils.eval_utils import eval_setup  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--every", type=int, default=1, help="evaluate every K-th view of the test split")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    torch.set_num_threads(2)
    _, pipeline, ckpt, step = eval_setup(a.config, test_mode="test")
    model = pipeline.model.eval()
    ds = pipeline.datamanager.eval_dataset if hasattr(pipeline.datamanager, "eval_dataset") else None
    cams = pipeline.datamanager.eval_dataset.cameras
    rows = []
    t0 = time.time()
    for i in range(0, len(cams), a.every):
        batch = ds[i]
        cam = cams[i : i + 1].to(model.device)
        with torch.no_grad():
            out = model.get_outputs_for_camera(cam)
        gt = model.renderer_rgb.blend_background(batch["image"].to(model.device).float())
        pred = out["rgb"]
        g = torch.moveaxis(gt, -1, 0)[None]
        p = torch.moveaxis(pred, -1, 0)[None]
        rows.append({"index": i, "psnr": float(model.psnr(g, p)), "ssim": float(model.ssim(g, p))})
        print(f"view {i}: psnr {rows[-1]['psnr']:.3f} ({time.time() - t0:.0f} s)", flush=True)
    res = {
        "checkpoint": str(ckpt), "step": int(step), "views": len(rows), "every": a.every,
        "psnr": sum(r["psnr"] for r in rows) / len(rows), "ssim": sum(r["ssim"] for r in rows) / len(rows),
        "per_view": rows, "seconds": time.time() - t0,
    }
    print(f"psnr {res['psnr']:.3f} ssim {res['ssim']:.4f} over {len(rows)} views, step {step}")
    if a.out:
        a.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
