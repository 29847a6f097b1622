"""The `scenegen` command: a thin tyro front end over the pipelines (:mod:`scenegen.pipelines`).

Every subcommand's flags come from its pipeline's config dataclass; this module only parses, dispatches to the
pipeline function and prints its result. Errors go through one boundary (:func:`report_error`): user errors
(:class:`scenegen.core.errors.ScenegenError`) and OSErrors anywhere in the exception chain print one line naming
the file (and field) and exit with code 2; anything else prints one line with the exception type (exit 1;
``SCENEGEN_DEBUG=1`` prints the traceback); Ctrl-C exits with 130 (training saves a checkpoint first). Pipeline modules are imported when their command runs, so that
``--help`` stays fast.
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import make_dataclass
from pathlib import Path
from typing import Union

import tyro
from rich.console import Console
from typing_extensions import Annotated

from scenegen.core.errors import ScenegenError
from scenegen.core.validate import flag_values
from scenegen.train.config import TrainConfig


def _cmd_train(cfg: TrainConfig) -> int:
    from scenegen.pipelines.train import train

    console = Console(stderr=True)
    res = train(cfg, console=console)
    console.print(f"trained {res.steps} steps in {res.seconds:.0f} s -> {res.run_dir}/checkpoints/latest.pt")
    return 0


def _cmd_eval(cfg) -> int:
    from rich.table import Table

    from scenegen.pipelines.evaluate import evaluate

    console = Console()
    res = evaluate(cfg)
    table = Table(title=f"{res.split} split, step {res.step}")
    for col in ("image", "PSNR", "SSIM"):
        table.add_column(col)
    for r in res.images:
        table.add_row(Path(r["image"]).name, f"{r['psnr']:.2f}", f"{r['ssim']:.4f}")
    table.add_row("[bold]mean", f"[bold]{res.psnr:.2f}", f"[bold]{res.ssim:.4f}")
    console.print(table)
    depth = f"  depth error {res.depth_mae:.3f}" if res.depth_mae is not None else ""
    console.print(f"PSNR {res.psnr:.2f} dB  SSIM {res.ssim:.4f}{depth}  ({res.seconds_per_image:.2f} s/image) -> "
                  f"{res.output}/eval.json")
    return 0


def _cmd_render(cfg) -> int:
    from scenegen.pipelines.render import render

    res = render(cfg)
    outputs = ", ".join(str(p) for p in (res.output_video, res.frames_dir, res.depth_video) if p)
    speed = f"{res.s_per_frame:.2f} s/frame" if res.s_per_frame is not None else "all reused"
    Console(stderr=True).print(f"rendered {res.frames} frames ({res.rendered} new, {res.reused} reused), {speed} -> "
                               f"{outputs}")
    if getattr(res, "report", None):
        Console(stderr=True).print(f"  report: {res.report} (+ .png)")
    return 0


def _cmd_report(cfg) -> int:
    from scenegen.pipelines.report import report

    console = Console(stderr=True)
    res = report(cfg, console=console)
    for w in res.warnings:
        console.print(f"warning: {cfg.camera_path}: {w.message}", highlight=False)
    for name, line in res.summary["verdicts"].items():
        console.print(f"  {name:12s} {line}", highlight=False)
    console.print(f"report -> {res.json}, {res.png} ({res.seconds:.0f} s)")
    return 0


def _cmd_generate(cfg) -> int:
    from scenegen.pipelines.generate import generate

    console = Console(stderr=True)
    res = generate(cfg, console=console)
    for st in res.storeys:
        console.print(f"  storey dataset: {st.output} ({', '.join(st.rooms) or 'no rooms'})")
    console.print(f"wrote {res.views} training + {res.test_views} test views with depth in {res.seconds:.0f} s -> "
                  f"{res.transforms if not res.storeys else res.output}")
    console.print(f"  plan: {res.plan}" + (f"   spec: {res.spec} (edit, then --spec)" if res.spec else ""))
    data = res.storeys[0].output if res.storeys else res.output
    console.print(f"  train: scenegen train --data {data} --output runs/{data.name}")
    return 0


def _cmd_process(cfg) -> int:
    from scenegen.pipelines.process import process

    console = Console(stderr=True)
    res = process(cfg, console=console)
    err = res.reprojection_error_px
    console.print(f"registered {res.registered} of {res.images} images, {res.points} points"
                  + (f", reprojection error {err:.3f} px" if err is not None else "")
                  + f" in {res.seconds:.0f} s -> {res.output}/transforms.json")
    for r in res.rejected[:10]:
        console.print(f"  [yellow]left out[/] {r['image']}: {r['reason']}")
    if len(res.rejected) > 10:
        console.print(f"  ... and {len(res.rejected) - 10} more (report.json)")
    if res.advice:
        console.print(f"  [yellow]{res.advice}[/]", highlight=False, soft_wrap=True)
    if res.repaired:
        console.print(f"  registration: {res.repaired}", highlight=False, soft_wrap=True)
    if res.registration:
        console.print(f"  [yellow]{res.registration}[/]", highlight=False, soft_wrap=True)
    console.print(f"  cameras: {res.output}/cameras.png   train: scenegen train --data {res.output}")
    return 0


def _cmd_demo(cfg) -> int:
    from scenegen.pipelines.demo import demo

    console = Console(stderr=True)
    res = demo(cfg, console=console)
    console.print("\n[bold green]demo done[/] in {:.0f} s".format(res.timings["total_s"]))
    for k in ("video", "contact_sheet", "report", "camera_path", "plan", "run", "dataset"):
        console.print(f"  {k:14s} {getattr(res, k)}")
    console.print(f"  held-out PSNR  {res.eval_psnr:.2f} dB (SSIM {res.eval_ssim:.3f}) after {res.train_steps} steps")
    console.print(f"  re-render:     scenegen render --run {res.run} --camera-path {res.camera_path} --output tour.mp4")
    return 0


def _cmd_view(cfg) -> int:
    from scenegen.viewer.app import serve

    serve(cfg, console=Console(stderr=True))
    return 0


def _cmd_tour(cfg) -> int:
    from scenegen.tour.batch import tour

    console = Console(stderr=True)
    res = tour(cfg, console=console)
    if res.manifest is None:
        console.print(f"shard {cfg.shard}: rendered {res.rendered} frames, {res.missing} missing in its share"
                      + (f", {res.failed} outputs failed" if res.failed else ""))
        return 1 if res.failed or res.missing else 0
    done = sum(e["status"] == "done" for e in res.outputs)
    nothing = " (nothing to do: every output up to date)" if res.rendered == 0 and res.assembled == 0 else ""
    console.print(f"{done} of {len(res.outputs)} outputs done, {res.rendered} frames rendered, {res.assembled} "
                  f"videos assembled in {res.seconds:.0f} s{nothing} -> {res.manifest}")
    for e in res.outputs:
        if e["status"] != "done":
            console.print(f"  [red]failed[/] {e['file']}: {e.get('error')}", highlight=False)
    return 1 if res.failed else 0


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
    from scenegen.pipelines.demo import DemoConfig
    from scenegen.pipelines.evaluate import EvalConfig
    from scenegen.pipelines.generate import GenerateConfig
    from scenegen.pipelines.process import ProcessConfig
    from scenegen.pipelines.render import RenderConfig
    from scenegen.pipelines.report import ReportConfig
    from scenegen.viewer.app import ViewConfig
    from scenegen.tour.batch import TourConfig

    return {
        "process": (ProcessConfig, _cmd_process),
        "generate": (GenerateConfig, _cmd_generate),
        "train": (TrainConfig, _cmd_train),
        "eval": (EvalConfig, _cmd_eval),
        "render": (RenderConfig, _cmd_render),
        "report": (ReportConfig, _cmd_report),
        "path": (_path_command(), _cmd_path),
        "demo": (DemoConfig, _cmd_demo),
        "view": (ViewConfig, _cmd_view),
        "tour": (TourConfig, _cmd_tour),
    }


DEBUG_ENV = "SCENEGEN_DEBUG"
"""Set to 1 to print the traceback of any error (the CLI prints one line otherwise)."""


def _in_chain(exc: BaseException, kind: type | tuple[type, ...]) -> BaseException | None:
    """The first exception of ``kind`` in ``exc``'s chain (itself, ``__cause__``, ``__context__``), else None."""
    stack, seen = [exc], set()
    while stack:
        e = stack.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kind):
            return e
        stack += [e.__cause__, e.__context__]
    return None


def _os_error_line(e: OSError) -> str:
    """``error: FILE: reason`` for an OSError (the file it names, when it names one)."""
    reason = e.strerror or str(e) or type(e).__name__
    files = [str(f) for f in (e.filename, e.filename2) if f is not None]
    return "error: " + ": ".join(files + [reason])


def report_error(exc: BaseException) -> int:
    """The CLI's one error boundary: print one line for ``exc`` on stderr and return the exit code.

    A scenegen error or an OSError anywhere in the exception chain (e.g. a full disk inside torch's RuntimeError)
    is the user's input or environment: one line naming the file (and field), exit 2. Anything else is a bug:
    one line with the exception type and how to see the traceback, exit 1. ``SCENEGEN_DEBUG=1`` prints the
    traceback as well."""
    if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    if _in_chain(exc, KeyboardInterrupt) is not None:
        print("interrupted", file=sys.stderr)
        return 130
    user = _in_chain(exc, ScenegenError)
    if user is not None:
        print(f"error: {user}", file=sys.stderr)
        return int(getattr(user, "exit_code", 2))
    oserr = _in_chain(exc, OSError)
    if oserr is not None:
        print(_os_error_line(oserr), file=sys.stderr)  # type: ignore[arg-type]
        return 2
    if _in_chain(exc, MemoryError) is not None or "out of memory" in str(exc).lower():
        print("error: out of memory: lower --chunk or the resolution", file=sys.stderr)
        return 2
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    print(f"error: internal error ({type(exc).__name__}{': ' + first if first else ''}); "
          f"set {DEBUG_ENV}=1 for the traceback", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: sys.argv), run the command, return the exit code; never raises (see
    :func:`report_error`)."""
    try:
        return _main(argv)
    except SystemExit as e:  # tyro's own usage errors already printed
        return int(e.code or 0) if not isinstance(e.code, str) else 2
    except BaseException as e:  # noqa: BLE001 - the one error boundary
        return report_error(e)


def _main(argv: list[str] | None) -> int:
    cmds = _commands()
    Cmd = Union[tuple(Annotated[c, tyro.conf.subcommand(name, description=(c.__doc__ or "").strip())] for name, (c, _) in cmds.items())]  # type: ignore[misc]
    cfg = tyro.cli(Cmd, args=argv, prog="scenegen", description="scenegen: posed images -> radiance field -> camera-path video",
                   config=(tyro.conf.OmitSubcommandPrefixes,))
    handler = next(h for c, h in cmds.values() if isinstance(cfg, c))
    flag_values(cfg)  # every numeric flag of every command: finite and of sane magnitude
    return handler(cfg)


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
