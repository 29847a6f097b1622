"""`scenegen tour SPEC.toml --output OUT`: every scene x tour x format x language of a spec, resumably.

Jobs: per scene (train when given ``data``) -> per tour (plan the path once) -> per format (render frames in
chunks, frame-level resume: each PNG written atomically with its folder's record, a re-run renders only what is
missing) -> per language (assemble the MP4). ``--shard I/N`` renders a deterministic share of the batch's frames
(for Slurm arrays or cron); ``--assemble`` joins the shards into the videos and the manifest. The work runs on an
engine (:mod:`scenegen.tour.engines`). ``OUT/manifest.json`` records every output; ``OUT/index.html`` and
``OUT/review.png`` are the review sheet (:mod:`scenegen.tour.review`).

Layout of OUT: ``runs/SCENE/`` (trained runs), ``paths/SCENE/TOUR[.FORMAT].json`` (planned camera paths),
``frames/SCENE/TOUR/FORMAT/`` (frames), ``SCENE/TOUR.FORMAT[.LANG].mp4`` (videos), ``manifest.json``,
``index.html``, ``review.png``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import tyro
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typing_extensions import Annotated

from scenegen import __version__
from scenegen.core import validate as v
from scenegen.core.errors import InputError, ScenegenError
from scenegen.core.io import atomic_write_text, clean_stale_temps
from scenegen.core.ownership import OwnedDir
from scenegen.paths import cameras_from_spec, load_path_spec
from scenegen.tour.engines import GiB, Task, make_engine
from scenegen.tour.review import write_review
from scenegen.tour.spec import SceneSpec, TourEntry, load_spec, text_dict
from scenegen.tour.tasks import file_sha256, fingerprint_extra, planned, trained_record
from scenegen.tour.video_side import format_spec
from scenegen.video.render_path import camera_fingerprint, existing_frames, frame_name, prepare_frames_dir

__all__ = ["TourConfig", "TourResult", "tour"]

MANIFEST = "manifest.json"
LOCK = ".scenegen-tour.lock"


@dataclass
class TourConfig:
    """Render every tour of a TOML spec (scenes x tours x formats x languages), resumably, locally or on Ray."""

    spec: Annotated[Path, tyro.conf.Positional, tyro.conf.arg(metavar="SPEC.toml")]
    """The tour spec (TOML): [[scene]] tables with data or run, and [[scene.tour]] tables with path and formats."""
    output: Path = Path("tours")
    """Batch folder: videos, frames, planned paths, trained runs, manifest.json, index.html, review.png."""
    engine: Literal["local", "ray"] = "local"
    """Where the work runs: local worker processes, or a Ray cluster (pip install "scenegen[ray]")."""
    workers: int = 1
    """Worker processes (local) or tasks in flight per pass (ray); torch threads are split between local workers."""
    address: Optional[str] = None
    """Ray cluster address (e.g. 10.0.0.5:6379, or auto); default: start a local Ray for this batch."""
    shard: Optional[str] = None
    """I/N: render only the I-th of N deterministic shares of the batch's frames (0-based), no videos."""
    assemble: bool = False
    """Join the shards' frames into the videos, manifest and review sheet (refused while frames are missing)."""
    chunk_frames: int = 16
    """Frames per task (the unit of work handed to a worker)."""
    review: bool = True
    """Write the review sheet (index.html + review.png)."""
    progress: bool = True
    """Show progress bars."""

    def validate(self) -> "TourConfig":
        """Refuse bad flags with one line naming the flag; returns self."""
        v.flag_number(self.workers, "--workers", lo=1, hi=4096, whole=True)
        v.flag_number(self.chunk_frames, "--chunk-frames", lo=1, hi=1 << 20, whole=True)
        v.output_dir(self.output, "--output")
        if self.address is not None and self.engine != "ray":
            raise InputError("only with --engine ray", field="--address")
        if self.shard is not None:
            shard_of(self.shard)
            if self.assemble:
                raise InputError("--assemble joins all shards: run it once, without --shard", field="--shard")
        return self


def shard_of(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if m is None or not int(m.group(1)) < int(m.group(2)):
        raise InputError(f"expected I/N with 0 <= I < N (e.g. 0/4), got {text!r}", field="--shard")
    return int(m.group(1)), int(m.group(2))


@dataclass
class Output:
    """One video (or frames folder) of the batch."""

    scene: SceneSpec
    tour: TourEntry
    format: str
    language: Optional[str]
    file: str
    """Relative to OUT."""
    key: str = ""
    entry: dict = field(default_factory=dict)


@dataclass
class TourResult:
    outputs: list[dict]
    """The manifest's entries."""
    rendered: int
    """Frames rendered by this call."""
    assembled: int
    """Videos written by this call (the others were up to date)."""
    failed: int
    manifest: Optional[Path]
    seconds: float
    missing: int = 0
    """Frames still to render (a --shard run)."""


@contextmanager
def _locked(path: Path):
    """An exclusive lock on ``path`` (flock: one batch process sets up the folder at a time, shards too)."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _progress(enabled: bool, console: Console):
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, disable=not enabled, transient=False)


def _run_stage(engine, tasks: list[Task], label: str, cfg: TourConfig, console: Console) -> list[dict]:
    if not tasks:
        return []
    with _progress(cfg.progress, console) as bar:
        tid = bar.add_task(label, total=sum(t.weight for t in tasks))

        def report(i: int, res: dict) -> None:
            bar.update(tid, advance=tasks[i].weight)
            if not res.get("ok"):
                console.print(f"[red]failed[/] {label}: {res.get('error')}", highlight=False)

        return engine.run(tasks, report)


def _text_of(scene: SceneSpec, lang: str | None):
    return next((t for t in scene.texts if t.language == lang), None)


def tour(cfg: TourConfig, console: Console | None = None) -> TourResult:
    """Run ``scenegen tour``."""
    cfg.validate()
    console = console or Console(stderr=True)
    t_start = time.perf_counter()
    spec = load_spec(cfg.spec)
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    shard = shard_of(cfg.shard) if cfg.shard else None
    engine = None
    try:
        with _locked(out / LOCK):
            owned = OwnedDir.open(out, "tour", field="--output", ignore=(LOCK,))
            owned.claim([MANIFEST, "index.html", "review.png", "runs/", "paths/", "frames/"]
                        + [f"{sc.name}/" for sc in spec.scenes])
            for d in [p for p in out.rglob("*") if p.is_dir()]:
                clean_stale_temps(d)  # temporary files of a killed batch (paths, videos, frames)
        engine = make_engine(cfg.engine, cfg.workers, cfg.address)
        return _tour(cfg, spec, out, owned, shard, engine, console, t_start)
    finally:
        if engine is not None:
            engine.close()


def _tour(cfg, spec, out: Path, owned: OwnedDir, shard, engine, console: Console, t_start: float) -> TourResult:
    failed_scene: dict[str, str] = {}
    runs: dict[str, tuple[str, str]] = {}  # scene -> (run dir, checkpoint sha256)
    timings: dict[tuple, dict] = {}
    # 1. train (scenes given as data, unless already trained by an earlier call)
    train_tasks, train_scenes = [], []
    with _locked(out / LOCK):
        for sc in spec.scenes:
            if sc.run is not None:
                runs[sc.name] = (str(sc.run.resolve()), file_sha256(sc.run / "checkpoints" / "latest.pt"))
                continue
            run_dir = (out / "runs" / sc.name).resolve()
            rec = trained_record(run_dir)
            if rec.is_file():
                runs[sc.name] = (str(run_dir), json.loads(rec.read_text())["checkpoint_sha256"])
                continue
            train_tasks.append(Task("train", {"data": str(sc.data), "run_dir": str(run_dir),
                                              "minutes": sc.train_minutes, "steps": sc.train_steps},
                                    cpus=2, memory=4 * GiB))
            train_scenes.append(sc)
        for sc, res in zip(train_scenes, _run_stage(engine, train_tasks, "training", cfg, console)):
            if res["ok"]:
                runs[sc.name] = (res["run"], res["checkpoint_sha256"])
                timings[(sc.name,)] = {"train_s": round(res["seconds"], 3)}
            else:
                failed_scene[sc.name] = f"training failed: {res['error']}"

        # 2. plan each tour once, then its path per format
        plan_tasks, plan_keys = [], []
        plans_cached: dict[tuple[str, str], dict] = {}
        for sc in spec.scenes:
            if sc.name not in runs:
                continue
            for t in sc.tours:
                base = out / "paths" / sc.name / f"{t.name}.json"
                r = t.render
                fmts = {f: {"file": str(base.with_suffix(f".{f}.json")), "scale": r.scale, "width": r.width,
                            "height": r.height} for f in t.formats}
                _replan_if_changed(base, fmts, {
                    "path": t.path, "path_sha256": file_sha256(t.path) if t.path not in ("auto", "orbit") else None,
                    "seconds": r.seconds, "fps": r.fps, "radius": t.radius, "orbit_height": t.orbit_height,
                    "formats": fmts, "checkpoint_sha256": runs[sc.name][1]})
                cached = planned(str(base), fmts)
                if cached is not None:
                    plans_cached[(sc.name, t.name)] = cached
                    continue
                plan_tasks.append(Task("plan", {"run_dir": runs[sc.name][0], "kind": t.path, "seconds": r.seconds,
                                                "fps": r.fps, "radius": t.radius, "orbit_height": t.orbit_height,
                                                "base_json": str(base), "formats": fmts}, memory=2 * GiB))
                plan_keys.append((sc.name, t.name))
        plans: dict[tuple[str, str], dict] = dict(plans_cached)
        for key, res in zip(plan_keys, _run_stage(engine, plan_tasks, "planning", cfg, console)):
            if res["ok"]:
                plans[key] = res
                timings[key] = {"plan_s": round(res["seconds"], 3)}
            else:
                plans[key] = {"ok": False, "error": f"planning failed: {res['error']}"}

        # 3. the outputs and their frames folders (prepared here, once, before any worker writes into them)
        outputs: list[Output] = []
        paths: dict[tuple[str, str, str], tuple] = {}
        for sc in spec.scenes:
            for t in sc.tours:
                for f in t.formats:
                    kind = format_spec(f).output
                    langs = [x.language for x in sc.texts] if (kind == "mp4" and sc.texts) else [None]
                    for lang in langs:
                        name = (f"frames/{sc.name}/{t.name}/{f}" if kind == "png" else
                                f"{sc.name}/{t.name}.{f}{'.' + lang if lang else ''}.mp4")
                        outputs.append(Output(sc, t, f, lang, name))
                    plan = plans.get((sc.name, t.name))
                    if plan is None or not plan["ok"]:
                        continue
                    cams = cameras_from_spec(load_path_spec(plan["files"][f]))
                    fdir = out / "frames" / sc.name / t.name / f
                    prepare_frames_dir(fdir, cams, fingerprint_extra=fingerprint_extra(runs[sc.name][1]),
                                       depth=f == "depth")
                    paths[(sc.name, t.name, f)] = (cams, fdir, plan["files"][f])

    # 4. frames: chunks of each format's path; a shard takes its share of the whole batch's chunks
    chunks = []
    for (sname, tname, f), (cams, fdir, pfile) in paths.items():
        n = len(cams.cameras)
        for lo in range(0, n, cfg.chunk_frames):
            chunks.append(((sname, tname, f), lo, min(n, lo + cfg.chunk_frames)))
    if shard is not None:
        i, k = shard
        chunks = [c for j, c in enumerate(chunks) if j * k // max(1, len(chunks)) == i]
    if not cfg.assemble:
        todo = [c for c in chunks if existing_frames(paths[c[0]][1], c[2], (c[1], c[2])) < c[2] - c[1]]
        tasks = [Task("chunk", {"run_dir": runs[key[0]][0], "checkpoint_sha256": runs[key[0]][1],
                                "path_json": paths[key][2], "frames_dir": str(paths[key][1]), "start": lo, "end": hi,
                                "depth": key[2] == "depth"}, weight=hi - lo) for key, lo, hi in todo]
        results = _run_stage(engine, tasks, "rendering", cfg, console)
    else:
        todo, results = [], []
    rendered = 0
    chunk_errors: dict[tuple, str] = {}
    for (key, lo, hi), res in zip(todo, results):
        if res["ok"]:
            rendered += res["rendered"]
            tm = timings.setdefault(key, {})
            tm["render_s"] = round(tm.get("render_s", 0.0) + res["seconds"], 3)
        else:
            chunk_errors.setdefault(key, f"frames {lo}-{hi - 1}: {res['error']}")
    if shard is not None:
        missing = sum(c[2] - c[1] - existing_frames(paths[c[0]][1], c[2], (c[1], c[2])) for c in chunks)
        console.print(f"shard {cfg.shard}: {len(chunks)} chunks, {rendered} frames rendered, {missing} missing")
        return TourResult([], rendered, 0, len(chunk_errors), None, time.perf_counter() - t_start, missing)

    # 5. assemble each output (skipped when the manifest says the same inputs made the file already there)
    if cfg.assemble:
        _refuse_missing(paths)
    old = _old_entries(out / MANIFEST)
    asm_tasks, asm_outputs = [], []
    for o in outputs:
        sname, tname = o.scene.name, o.tour.name
        plan = plans.get((sname, tname))
        reason = failed_scene.get(sname) or (plan["error"] if plan and not plan["ok"] else None) \
            or chunk_errors.get((sname, tname, o.format))
        o.entry = _entry(o, runs.get(sname), plan)
        if reason:
            o.entry.update(status="failed", error=reason)
            continue
        cams, fdir, pfile = paths[(sname, tname, o.format)]
        text = _text_of(o.scene, o.language)
        o.key = _output_key(o, cams, runs[sname][1], text)
        o.entry["key"] = o.key
        prev = old.get(o.file)
        target = out / o.file
        if prev and prev.get("key") == o.key and prev.get("status") == "done" and target.exists() and (
                target.is_dir() or file_sha256(target) == prev.get("sha256")):
            o.entry = {**prev, "spec": o.entry["spec"]}
            continue
        fs = format_spec(o.format)
        meta = {"scenegen_version": __version__, "scene": sname, "tour": tname, "format": o.format,
                "source_run": runs[sname][0], "checkpoint_sha256": runs[sname][1]}
        if o.language:
            meta["language"] = o.language
        asm_tasks.append(Task("assemble", {
            "kind": fs.output, "frames_dir": str(fdir), "n": len(cams.cameras), "out": str(target),
            "fps": float(cams.video_fps), "path_json": pfile, "text": text_dict(text) if text else None,
            "audio": str(o.scene.audio) if o.scene.audio else None, "metadata": meta, "spherical": fs.spherical,
            "run_dir": runs[sname][0], "checkpoint_sha256": runs[sname][1]}, weight=1))
        asm_outputs.append(o)
        if fs.output != "png":
            target.parent.mkdir(parents=True, exist_ok=True)
    for o, res in zip(asm_outputs, _run_stage(engine, asm_tasks, "assembling", cfg, console)):
        tm = {**timings.get((o.scene.name,), {}), **timings.get((o.scene.name, o.tour.name), {}),
              **timings.get((o.scene.name, o.tour.name, o.format), {})}
        if res["ok"]:
            tm["assemble_s"] = round(res["seconds"], 3)
            o.entry.update(status="done", frames=res["frames"], seconds=round(res["video_seconds"], 4),
                           sha256=res["sha256"], timings=tm)
        else:
            o.entry.update(status="failed", error=f"assembling failed: {res['error']}", timings=tm)
    entries = [o.entry for o in outputs]
    manifest = _write_manifest(out, cfg, spec.file, entries)
    if cfg.review:
        write_review(out, entries, {k: p.get("framing", []) for k, p in plans.items() if p.get("ok")})
    failed = sum(e["status"] != "done" for e in entries)
    return TourResult(entries, rendered, len(asm_outputs), failed, manifest, time.perf_counter() - t_start)


def _replan_if_changed(base: Path, fmts: dict, params: dict) -> None:
    """A tour's planned paths are kept across calls while what planned them is unchanged; otherwise they are
    removed here (so the tour is planned again and its frames, whose cameras change, are rendered again)."""
    record = base.with_suffix(".params.json")
    text = json.dumps(params, sort_keys=True, default=str)
    try:
        same = record.read_text() == text
    except OSError:
        same = False
    if same:
        return
    for f in [base, base.with_suffix(".framing.json"), *(Path(f["file"]) for f in fmts.values())]:
        f.unlink(missing_ok=True)
    atomic_write_text(record, text, "tour plan record")


def _refuse_missing(paths: dict) -> None:
    """--assemble: one line listing what the shards have not rendered yet."""
    gaps = []
    for (sname, tname, f), (cams, fdir, _) in paths.items():
        miss = [i for i in range(len(cams.cameras)) if not (fdir / frame_name(i)).is_file()]
        if miss:
            gaps.append(f"{sname}/{tname}/{f} {len(miss)} frames (first {miss[0]})")
    if gaps:
        shown = "; ".join(gaps[:5]) + (f"; and {len(gaps) - 5} more" if len(gaps) > 5 else "")
        raise InputError(f"cannot assemble, frames missing: {shown}; run the missing shards first",
                         field="--assemble")


def _output_key(o: Output, cams, ckpt_sha: str, text) -> str:
    """What made an output: its frames (cameras + checkpoint), texts, audio, format, scenegen version."""
    h = hashlib.sha256()
    audio = file_sha256(o.scene.audio) if o.scene.audio else None
    logo = file_sha256(text.logo) if text is not None and text.logo else None
    h.update(json.dumps([camera_fingerprint(cams.cameras, fingerprint_extra(ckpt_sha)), o.format, o.language,
                         text_dict(text) if text else None, audio, logo, __version__], sort_keys=True).encode())
    return h.hexdigest()


def _entry(o: Output, run: tuple[str, str] | None, plan: dict | None) -> dict:
    spec_entry = {**o.scene.raw, "tour": [o.tour.raw]}
    return {"scene": o.scene.name, "tour": o.tour.name, "format": o.format, "language": o.language,
            "file": o.file, "frames": None, "seconds": None, "sha256": None, "status": "pending", "error": None,
            "timings": {}, "scenegen_version": __version__, "spec": spec_entry,
            "run": run[0] if run else None, "checkpoint_sha256": run[1] if run else None,
            "camera_path": (plan or {}).get("files", {}).get(o.format)}


def _old_entries(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text())
        return {e["file"]: e for e in data["outputs"] if isinstance(e, dict) and "file" in e}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _write_manifest(out: Path, cfg: TourConfig, spec_file: Path, entries: list[dict]) -> Path:
    data = {"format": "scenegen-tour-manifest-1", "scenegen_version": __version__,
            "spec": str(Path(spec_file).resolve()), "engine": cfg.engine,
            "summary": {"outputs": len(entries), "done": sum(e["status"] == "done" for e in entries),
                        "failed": sum(e["status"] == "failed" for e in entries)},
            "outputs": entries}
    try:
        text = json.dumps(data, indent=1, allow_nan=False, default=str)
    except ValueError as e:
        raise ScenegenError(f"{out / MANIFEST}: cannot write the manifest ({e})") from e
    return atomic_write_text(out / MANIFEST, text + "\n", "manifest")
