"""The training pre-pass (which samples can still be seen) on a trained run: one pass over every sample vs rounds.

    python scripts/bench_prepass.py --run bench_out/bonsai_final/with_sfm_prior --data bench_out/bonsai/data

Draws ``--batches`` batches of ``--rays`` random training rays of DATA, then times, on each, the density-only
pass the training step runs before its differentiable pass, both ways, twice in alternation (the first round
warms up): ``single`` marches every sample of the ray and evaluates its density (the GPU path), ``rounds`` is
:meth:`scenegen.render.renderer.Renderer._visible_samples` on CPU (rays marched in rounds, opaque ones leave).
Both keep the same samples (``tests/test_render.py`` checks it); the script asserts that too and prints ms per
batch, density evaluations per ray and visible samples per ray.
"""

from __future__ import annotations

import argparse
import time

import torch

from scenegen.data.loader import load_dataset
from scenegen.render.composite import render_weights
from scenegen.train.run import load_run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--rays", type=int, default=1024)
    ap.add_argument("--batches", type=int, default=12)
    a = ap.parse_args()
    run = load_run(a.run, "cpu")
    r = run.renderer
    min_t = run.config.march.train_min_transmittance
    ds = load_dataset(a.data)
    cams = run.transform.cameras_to_field(ds.cameras)
    gen = torch.Generator().manual_seed(0)
    frames = torch.tensor(ds.split("train"))
    batches = []
    for _ in range(a.batches):
        f = frames[torch.randint(0, len(frames), (a.rays,), generator=gen)]
        u = torch.rand(a.rays, generator=gen) * cams.width[f].float()
        v = torch.rand(a.rays, generator=gen) * cams.height[f].float()
        batches.append(cams.generate_rays(f, u, v))

    def single(o, d, g):
        off = torch.rand(o.shape[0], generator=g)
        ri, t0, t1, _ = r.marcher.march(o, d, r.grid, offset=off)
        x = o[ri] + d[ri] * (0.5 * (t0 + t1))[:, None]
        _, tr = render_weights(r.field.density(x), t1 - t0, ri)
        k = tr > min_t
        return ri[k], t0[k], t1[k], ri.numel()

    def rounds(o, d, g):
        return r._visible_samples(o, d, min_t, g)

    with torch.no_grad():
        for rep in range(2):
            kept = {}
            for name, fn in (("single", single), ("rounds", rounds)):
                t = time.perf_counter()
                ev = vis = 0
                kept[name] = []
                for o, d in batches:
                    ri, t0, _, n = fn(o, d, torch.Generator().manual_seed(1))
                    ev += n
                    vis += ri.numel()
                    kept[name].append((ri, t0))
                ms = (time.perf_counter() - t) / len(batches) * 1000
                if rep == 1:
                    print(f"{name}: {ms:.0f} ms per {a.rays} rays, {ev / len(batches) / a.rays:.0f} density evaluations "
                          f"per ray, {vis / len(batches) / a.rays:.1f} visible samples per ray")
            for (ra, ta), (rb, tb) in zip(kept["single"], kept["rounds"]):
                assert torch.equal(ra, rb) and torch.allclose(ta, tb), "the two passes kept different samples"


if __name__ == "__main__":
    main()
