"""The `scenegen` command: thin tyro front end over typed config dataclasses.

Every subcommand's flags come from its dataclass; the logic lives in the stage modules. User errors
(:class:`scenegen.core.errors.ScenegenError`) print one line and exit with code 2, never a traceback.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, make_dataclass
from pathlib import Path
from typing import Literal, Optional, Union

import tyro
from typing_extensions import Annotated

from scenegen.train.config import TrainConfig


@dataclass
class EvalConfig:
    """PSNR/SSIM of a trained run on held-out views, with side-by-side pictures (truth | render | error)."""

    run: Path
    """Run folder written by `scenegen train`."""
    split: Optional[str] = None
    """Split to evaluate (default: test, else val)."""
    output: Optional[Path] = None
    """Folder for eval.json and pictures (default RUN/eval)."""
    every: int = 1
    """Evaluate every n-th image of the split."""
    save_images: int = 8
    """How many side-by-side pictures to write."""
    data: Optional[Path] = None
    """Dataset folder (default: the one the run was trained on)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    progress: bool = True


def _cmd_train(cfg: TrainConfig) -> int:
    from rich.console import Console

    from scenegen.train.trainer import train

    console = Console(stderr=True)
    res = train(cfg, console=console)
    console.print(f"trained {res.steps} steps in {res.seconds:.0f} s -> {res.run_dir}/checkpoints/latest.pt")
    return 0


def _cmd_eval(cfg: EvalConfig) -> int:
    from rich.console import Console
    from rich.table import Table

    from scenegen.data.loader import load_dataset
    from scenegen.train.evaluate import evaluate
    from scenegen.train.run import load_run

    console = Console()
    run = load_run(cfg.run, cfg.device)
    data = cfg.data or Path(run.scene["data"])
    ds = load_dataset(data, downscale=int(run.scene.get("downscale", 1)), background=run.scene.get("background", "white"))
    res = evaluate(run, ds, split=cfg.split, output=cfg.output, every=cfg.every, save_images=cfg.save_images, progress=cfg.progress)
    table = Table(title=f"{res['split']} split, step {res['step']}")
    for col in ("image", "PSNR", "SSIM"):
        table.add_column(col)
    for r in res["images"]:
        table.add_row(Path(r["image"]).name, f"{r['psnr']:.2f}", f"{r['ssim']:.4f}")
    table.add_row("[bold]mean", f"[bold]{res['psnr']:.2f}", f"[bold]{res['ssim']:.4f}")
    console.print(table)
    out = cfg.output or (Path(cfg.run) / "eval")
    depth = f"  depth error {res['depth_mae']:.3f}" if "depth_mae" in res else ""
    console.print(f"PSNR {res['psnr']:.2f} dB  SSIM {res['ssim']:.4f}{depth}  ({res['seconds_per_image']:.2f} s/image) -> {out}/eval.json")
    return 0


def _cmd_render(cfg) -> int:
    from rich.console import Console

    from scenegen.video.render_run import render

    res = render(cfg)
    Console(stderr=True).print(
        f"rendered {res['frames']} frames ({res['rendered']} new, {res['reused']} reused), "
        f"{res['s_per_frame']:.2f} s/frame -> " + ", ".join(str(res[k]) for k in ("output_video", "frames_dir", "depth_video") if res.get(k))
    )
    return 0


def _cmd_generate(cfg) -> int:
    from rich.console import Console

    from scenegen.data.prior.generate import generate

    console = Console(stderr=True)
    res = generate(cfg, console=console)
    console.print(f"wrote {res['views']} training + {res['test_views']} test views with depth in {res['seconds']:.0f} s -> {res['transforms']}")
    console.print(f"  plan: {res['plan']}" + (f"   spec: {res['spec']} (edit, then --spec)" if res.get("spec") else ""))
    console.print(f"  train: scenegen train --data {res['output']} --output runs/{Path(res['output']).name}")
    return 0


def _cmd_process(cfg) -> int:
    from rich.console import Console

    from scenegen.data.capture.process import process

    console = Console(stderr=True)
    res = process(cfg, console=console)
    err = res["reprojection_error_px"]
    console.print(f"registered {res['registered']} of {res['images']} images, {res['points']} points"
                  + (f", reprojection error {err:.3f} px" if err is not None else "") + f" in {res['seconds']:.0f} s -> {res['output']}/transforms.json")
    for r in res["rejected"][:10]:
        console.print(f"  [yellow]left out[/] {r['image']}: {r['reason']}")
    if len(res["rejected"]) > 10:
        console.print(f"  ... and {len(res['rejected']) - 10} more (report.json)")
    console.print(f"  cameras: {res['output']}/cameras.png   train: scenegen train --data {res['output']}")
    return 0


def _cmd_demo(cfg) -> int:
    from rich.console import Console

    from scenegen.video.demo import run_demo

    console = Console(stderr=True)
    res = run_demo(cfg, console=console)
    console.print("\n[bold green]demo done[/] in {:.0f} s".format(res["timings"]["total_s"]))
    for k in ("video", "contact_sheet", "camera_path", "plan", "run", "dataset"):
        console.print(f"  {k:14s} {res[k]}")
    console.print(f"  held-out PSNR  {res['eval_psnr']:.2f} dB (SSIM {res['eval_ssim']:.3f}) after {res['train_steps']} steps")
    console.print(f"  re-render:     scenegen render --run {res['run']} --camera-path {res['camera_path']} --output tour.mp4")
    return 0


def _path_command():
    """`scenegen path SUBCOMMAND`: a dataclass holding the chosen path subcommand's config."""
    from scenegen.cli.path import COMMANDS

    sub = Union[tuple(Annotated[c, tyro.conf.subcommand(name, description=(c.__doc__ or "").strip())] for name, (c, _) in COMMANDS.items())]  # type: ignore[misc]

    # Built with make_dataclass: this module's postponed annotations cannot name a local type.
    return make_dataclass(
        "PathCommand",
        [("command", tyro.conf.OmitArgPrefixes[sub])],  # type: ignore[valid-type]
        namespace={"__doc__": "Author camera paths: new, add, remove, set, convert, orbit, flythrough, dolly, "
                              "walkthrough, auto, validate, info, preview."},
    )


def _cmd_path(cfg) -> int:
    from rich.console import Console

    from scenegen.cli.path import COMMANDS

    handler = next(h for c, h in COMMANDS.values() if isinstance(cfg.command, c))
    handler(cfg.command, console=Console(highlight=False, soft_wrap=True))
    return 0


def _commands():
    from scenegen.data.capture.process import ProcessConfig
    from scenegen.data.prior.generate import GenerateConfig
    from scenegen.video.demo import DemoConfig
    from scenegen.video.render_run import RenderConfig

    return {
        "process": (ProcessConfig, _cmd_process),
        "generate": (GenerateConfig, _cmd_generate),
        "train": (TrainConfig, _cmd_train),
        "eval": (EvalConfig, _cmd_eval),
        "render": (RenderConfig, _cmd_render),
        "path": (_path_command(), _cmd_path),
        "demo": (DemoConfig, _cmd_demo),
    }


def main(argv: list[str] | None = None) -> int:
    from scenegen.core.errors import ScenegenError

    cmds = _commands()
    Cmd = Union[tuple(Annotated[c, tyro.conf.subcommand(name, description=(c.__doc__ or "").strip())] for name, (c, _) in cmds.items())]  # type: ignore[misc]
    try:
        cfg = tyro.cli(Cmd, args=argv, prog="scenegen", description="scenegen: posed images -> radiance field -> camera-path video",
                       config=(tyro.conf.OmitSubcommandPrefixes,))
    except SystemExit as e:  # tyro's own usage errors already printed
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    handler = next(h for c, h in cmds.values() if isinstance(cfg, c))
    try:
        return handler(cfg)
    except ScenegenError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: out of memory: lower --chunk or the resolution", file=sys.stderr)
        return 2


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
