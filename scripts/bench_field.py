#!/usr/bin/env python
"""Microbenchmark of the radiance field (hash encoding + MLPs) and of the hash encoding alone.

For each implementation of the hash encoding -- ``cpu`` (the C++ kernel, CPU only) and ``torch`` (the pure
PyTorch reference), plus ``tcnn`` on CUDA when tiny-cuda-nn imports -- and each device (CPU, and CUDA when
available), it builds ``RadianceField(FieldConfig(grid=..., implementation=IMPL))`` and a lone
``HashEncoding``, draws a batch of random points in [-1, 1]^3 (field coordinates of a bounded scene; the
encoding alone gets the same points mapped to [0, 1]^3) and random unit directions, runs 3 warm-up iterations,
then times ``--iters`` iterations of

* ``fwd+bwd``: forward, ``sum`` of all outputs, backward (parameter gradients; freed between iterations);
* ``fwd``: forward only, under ``torch.no_grad()``.

It prints a markdown table with ms/iteration, microseconds per sample and samples per second, and writes the
same numbers to a JSON file with ``--json``. The backend actually used is reported (if the C++ kernel cannot be
built, the ``cpu`` rows are marked unavailable instead of silently timing the PyTorch fallback).

Usage::

    python scripts/bench_field.py [--batch 65536] [--iters 10] [--threads 0] [--log2-hashmap-size 19]
                                  [--levels 16] [--device cpu|cuda|all] [--json field.json]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

try:
    import torch
except ImportError:  # pragma: no cover - reported as one line
    print("error: torch is not installed (pip install torch)", file=sys.stderr)
    sys.exit(2)

try:
    from scenegen.field.encoding import HashEncoding, HashGridConfig, tcnn_available
    from scenegen.field.field import FieldConfig, RadianceField
    from scenegen.kernels import cpu_kernels_available, cpu_kernels_error
except ImportError as e:  # pragma: no cover
    print(f"error: cannot import scenegen ({e}); run `pip install -e .` in the repository first", file=sys.stderr)
    sys.exit(2)


WARMUP = 3


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_loop(fn, iters: int, device: torch.device) -> float:
    """Seconds per iteration of ``fn`` after ``WARMUP`` untimed calls."""
    for _ in range(WARMUP):
        fn()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    _sync(device)
    return (time.perf_counter() - t0) / iters


def bench_module(module: torch.nn.Module, inputs: tuple, iters: int, device: torch.device) -> dict[str, float]:
    """{'fwd+bwd': s/iter, 'fwd': s/iter} of ``module(*inputs)`` (outputs summed for the backward)."""
    params = [p for p in module.parameters() if p.requires_grad]

    def fwd_bwd():
        for p in params:
            p.grad = None
        out = module(*inputs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        loss = sum(o.float().sum() for o in outs)
        loss.backward()

    def fwd():
        with torch.no_grad():
            module(*inputs)

    return {"fwd+bwd": time_loop(fwd_bwd, iters, device), "fwd": time_loop(fwd, iters, device)}


def implementations(device: torch.device) -> list[str]:
    if device.type == "cpu":
        return ["cpu", "torch"]
    impls = ["torch"]
    if tcnn_available():
        impls.append("tcnn")
    return impls


def machine_info() -> dict:
    from bench_train import cpu_model  # scripts/ is on sys.path when this script runs

    cpu = cpu_model()
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Field / hash-encoding microbenchmark (forward+backward and forward-only, samples/s).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--batch", type=int, default=65536, help="points per iteration")
    ap.add_argument("--iters", type=int, default=10, help="timed iterations (after 3 warm-up iterations)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--log2-hashmap-size", type=int, default=19)
    ap.add_argument("--levels", type=int, default=16, help="hash-grid levels (16: Instant-NGP's 16..2048)")
    ap.add_argument("--max-resolution", type=int, default=2048, help="finest hash-grid resolution")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda", "all"], default="auto",
                    help="auto/all: CPU, plus CUDA when available")
    ap.add_argument("--impl", default=None, help="comma-separated subset of implementations (cpu,torch,tcnn)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="write the results to this JSON file")
    args = ap.parse_args(argv)

    for flag, v, lo in (("--batch", args.batch, 1), ("--iters", args.iters, 1), ("--levels", args.levels, 1),
                        ("--log2-hashmap-size", args.log2_hashmap_size, 4), ("--threads", args.threads, 0)):
        if v < lo:
            print(f"error: {flag} must be >= {lo}, got {v}", file=sys.stderr)
            return 2
    if args.log2_hashmap_size > 26:
        print("error: --log2-hashmap-size above 26 needs more memory than this benchmark is meant for", file=sys.stderr)
        return 2
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda: torch sees no CUDA device", file=sys.stderr)
        return 2
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    devices = [torch.device("cpu")]
    if args.device == "cuda":
        devices = [torch.device("cuda")]
    elif args.device in ("auto", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    wanted = None
    if args.impl:
        wanted = {s.strip() for s in args.impl.split(",") if s.strip()}
        bad = wanted - {"cpu", "torch", "tcnn"}
        if bad:
            print(f"error: --impl: unknown implementation(s) {sorted(bad)}; choose from cpu, torch, tcnn", file=sys.stderr)
            return 2

    # The field's own defaults are "auto" (resolved from the training images); benchmark a fixed, explicit grid.
    grid = HashGridConfig(levels=args.levels, log2_hashmap_size=args.log2_hashmap_size, max_resolution=args.max_resolution)
    machine = machine_info()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, torch {machine['torch']} "
          f"({machine['torch_threads']} threads)" + (f", GPU {machine['gpu']}" if machine.get("gpu") else ""))
    print(f"grid: {grid.levels} levels x {grid.features_per_level} features, 2^{grid.log2_hashmap_size} entries/level, "
          f"resolutions {grid.base_resolution}..{grid.max_resolution}; batch {args.batch}, {WARMUP} warm-up + "
          f"{args.iters} timed iterations", flush=True)

    kernel_note = None
    if any(d.type == "cpu" for d in devices) and (wanted is None or "cpu" in wanted):
        t0 = time.perf_counter()
        ok = cpu_kernels_available()  # build (first use, ~30 s) or load the cached C++ kernel before timing
        dt = time.perf_counter() - t0
        kernel_note = f"C++ kernel loaded in {dt:.1f} s" if ok else f"C++ kernel unavailable: {cpu_kernels_error()}"
        print(kernel_note, flush=True)

    rows = []
    for device in devices:
        gen = torch.Generator(device="cpu").manual_seed(args.seed)
        x = (torch.rand(args.batch, 3, generator=gen) * 2 - 1).to(device)
        d = torch.randn(args.batch, 3, generator=gen)
        d = (d / d.norm(dim=-1, keepdim=True).clamp_min(1e-12)).to(device)
        x01 = ((x + 1) * 0.5).contiguous()
        for impl in implementations(device):
            if wanted is not None and impl not in wanted:
                continue
            torch.manual_seed(args.seed)
            try:
                field = RadianceField(FieldConfig(grid=grid, implementation=impl), bounded=True).to(device)
                encoding = HashEncoding(grid, impl).to(device)
            except Exception as e:  # e.g. tcnn import failure
                print(f"  {device.type}/{impl}: cannot build ({type(e).__name__}: {e})", file=sys.stderr)
                continue
            backend = encoding.backend(device)
            if backend != impl:
                rows.append({"device": device.type, "implementation": impl, "backend": backend, "what": "-",
                             "pass": "-", "unavailable": f"falls back to '{backend}'"})
                print(f"  {device.type}/{impl}: unavailable (falls back to '{backend}'), skipped", flush=True)
                continue
            for what, module, inputs in (("field", field, (x, d)), ("encoding", encoding, (x01,))):
                try:
                    res = bench_module(module, inputs, args.iters, device)
                except (RuntimeError, MemoryError) as e:
                    print(f"  {device.type}/{impl}/{what}: failed ({type(e).__name__}: {str(e).splitlines()[0]})",
                          file=sys.stderr)
                    continue
                for pas, s in res.items():
                    row = {
                        "device": device.type,
                        "implementation": impl,
                        "backend": backend,
                        "what": what,
                        "pass": pas,
                        "ms_per_iter": s * 1e3,
                        "us_per_sample": s / args.batch * 1e6,
                        "samples_per_s": args.batch / s,
                    }
                    rows.append(row)
                    print(f"  {device.type:4s} {impl:5s} {what:8s} {pas:7s} {row['ms_per_iter']:9.2f} ms/iter "
                          f"{row['us_per_sample']:8.3f} us/sample {row['samples_per_s'] / 1e6:8.3f} M samples/s",
                          flush=True)
            del field, encoding
            if device.type == "cuda":
                torch.cuda.empty_cache()

    md = to_markdown(rows)
    print("\n" + md)
    if args.json is not None:
        result = {
            "machine": machine,
            "config": {"batch": args.batch, "iters": args.iters, "warmup": WARMUP, "threads": torch.get_num_threads(),
                       "grid": {k: getattr(grid, k) for k in ("levels", "features_per_level", "log2_hashmap_size",
                                                                "base_resolution", "max_resolution")},
                       "field": {k: getattr(FieldConfig(), k) for k in ("hidden_dim", "geo_feat_dim", "color_layers",
                                                                         "sh_degree")}},
            "kernel": kernel_note,
            "command": " ".join([Path(sys.argv[0]).as_posix()] + (argv if argv is not None else sys.argv[1:])),
            "results": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
        print(f"results: {args.json}")
    if not any("ms_per_iter" in r for r in rows):
        print("error: nothing was measured", file=sys.stderr)
        return 1
    return 0


def to_markdown(rows: list[dict]) -> str:
    lines = [
        "| device | implementation | module | pass | ms/iter | µs/sample | samples/s |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for r in rows:
        if "ms_per_iter" not in r:
            lines.append(f"| {r['device']} | {r['implementation']} | - | - | unavailable ({r['unavailable']}) | - | - |")
            continue
        lines.append(
            f"| {r['device']} | {r['implementation']} | {r['what']} | {r['pass']} | {r['ms_per_iter']:.2f} "
            f"| {r['us_per_sample']:.3f} | {r['samples_per_s'] / 1e6:.3f} M |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
