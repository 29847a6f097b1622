"""The units of work of a batch, run in worker processes (local pool or Ray tasks): train a scene, plan a tour,
render a chunk of frames, assemble one video. Each takes and returns plain values (file paths travel, never
frames) and calls the same pipeline functions as the single commands. A task never raises for a problem of its
scene: it returns ``{"ok": False, "error": one line}`` so one failing scene never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import torch

from scenegen import __version__
from scenegen.core.errors import ScenegenError
from scenegen.core.io import atomic_write_text, temp_beside
from scenegen.paths import cameras_from_spec, format_summary, load_path_spec, read_any_path, spec_to_nerfstudio, summarize
from scenegen.pipelines.paths import auto_tour, framing_from_run, orbit_tour, volume_from_run
from scenegen.pipelines.train import TrainConfig, train
from scenegen.tour import video_side
from scenegen.tour.spec import TextSpec
from scenegen.train.run import LoadedRun, load_run
from scenegen.video.render_path import render_camera_path

__all__ = ["TASKS", "file_sha256", "fingerprint_extra", "frames_sha256", "planned", "run_task", "trained_record"]

_RUNS: dict[tuple[str, str], LoadedRun] = {}  # this worker's loaded run (one at a time: bounded memory)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _error_line(e: BaseException) -> str:
    if isinstance(e, ScenegenError):
        return str(e)
    if isinstance(e, OSError):
        return ": ".join(str(x) for x in (e.filename, e.strerror or e) if x is not None)
    first = (str(e).strip().splitlines() or [""])[0][:200]
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def run_task(name: str, kwargs: dict) -> dict:
    """Run task ``name`` ("train", "plan", "chunk", "assemble") in this process: its result dict with ``ok``
    and ``seconds``; a failure becomes ``{"ok": False, "error": one line}`` (the batch goes on)."""
    t0 = time.perf_counter()
    try:
        res = TASKS[name](**kwargs)
        res.setdefault("ok", True)
    except Exception as e:  # noqa: BLE001 - reported in the manifest, the batch goes on
        res = {"ok": False, "error": _error_line(e)}
    res["seconds"] = time.perf_counter() - t0
    return res


def _threads(n: int | None) -> None:
    if n:
        torch.set_num_threads(max(1, int(n)))


def trained_record(run_dir: Path) -> Path:
    """The record written once a batch's training of ``run_dir`` is complete (its checkpoint's sha256)."""
    return run_dir.parent / f"{run_dir.name}.trained.json"


def _write_once(path: Path, text: str) -> bool:
    """Create ``path`` with ``text`` unless it exists (atomic: a temp file hard-linked into place, so two
    processes planning the same file concurrently keep the first one). True when this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
    finally:
        Path(tmp).unlink(missing_ok=True)


def _train(*, data: str, run_dir: str, minutes: float | None, steps: int | None, threads: int | None) -> dict:
    """Train a scene's dataset into ``run_dir`` (resuming an interrupted training), then record its checkpoint."""
    _threads(threads)
    run = Path(run_dir)
    record = trained_record(run)
    if record.is_file():
        rec = json.loads(record.read_text())
        return {"run": str(run), "checkpoint_sha256": rec["checkpoint_sha256"], "trained": False}
    ckpt = run / "checkpoints" / "latest.pt"
    cfg = TrainConfig(data=Path(data), output=run, max_steps=steps, time_budget=minutes, resume=ckpt.is_file(),
                      progress=False, threads=threads or 0)
    res = train(cfg)
    sha = file_sha256(ckpt)
    atomic_write_text(record, json.dumps({"checkpoint_sha256": sha, "steps": res.steps}), "training record")
    return {"run": str(run), "checkpoint_sha256": sha, "trained": True, "steps": res.steps}


def _plan(*, run_dir: str, kind: str, seconds: float | None, fps: float | None, radius: float | None,
          orbit_height: float | None, base_json: str, formats: dict, threads: int | None) -> dict:
    """Plan a tour once (``auto`` / ``orbit`` / a file, fitted to ``seconds``) into ``base_json``, then its path
    for each format (``formats``: name -> {"file", "scale", "width", "height"}), and the tour's framing summary.
    A path file already planned is kept (first writer wins), so shards of a batch render the same cameras."""
    _threads(threads)
    base = Path(base_json)
    if not base.is_file():
        f = 30.0 if fps is None else fps
        if kind == "auto":
            spec = auto_tour(run_dir, duration=seconds, fps=f)
        elif kind == "orbit":
            spec = orbit_tour(run_dir, seconds=10.0 if seconds is None else seconds, fps=f, radius=radius,
                              height_above=orbit_height)
        else:
            spec = read_any_path(kind)
            if fps is not None:
                spec.fps = fps
            spec = spec.fit_duration(seconds)
        _write_once(base, json.dumps(video_side_spec_dict(spec), allow_nan=False) + "\n")
    return _planned(run_dir, base, formats, kind == "auto", compute=True)  # type: ignore[return-value]


def planned(base_json: str, formats: dict) -> dict | None:
    """A tour planned by an earlier call (its paths and framing summary on disk), else None."""
    return _planned("", Path(base_json), formats, False, compute=False)


def _planned(run_dir: str, base: Path, formats: dict, walking: bool, compute: bool) -> dict | None:
    framing_file = base.with_suffix(".framing.json")
    if not compute and not (base.is_file() and framing_file.is_file()
                            and all(Path(f["file"]).is_file() for f in formats.values())):
        return None
    spec = load_path_spec(base)
    frames, files = {}, {}
    for name, f in formats.items():
        out = Path(f["file"])
        if not out.is_file():
            fspec = video_side.format_path(spec, name, scale=f["scale"] or 1.0, width=f["width"], height=f["height"])
            _write_once(out, json.dumps(video_side_spec_dict(fspec), allow_nan=False) + "\n")
        frames[name] = len(cameras_from_spec(load_path_spec(out)).cameras)
        files[name] = str(out)
    if not framing_file.is_file():
        _write_once(framing_file, json.dumps(_framing_summary(run_dir, spec, walking=walking)) + "\n")
    summary = json.loads(framing_file.read_text())
    return {"ok": True, "frames": frames, "files": files, "framing": summary, "path_seconds": float(spec.duration),
            "seconds": 0.0}


def video_side_spec_dict(spec) -> dict:
    return spec_to_nerfstudio(spec)


def _framing_summary(run_dir: str, spec, walking: bool) -> list[str]:
    """The tour's path summary, safety and framing lines (what ``scenegen path validate --run`` says), for the
    review sheet: the path checks against a coarse occupancy of the run (no rendering)."""
    volume = volume_from_run(run_dir, max_cells=64, device="cpu")
    lines = format_summary("path", summarize(spec, volume, min_clearance=0.1)).splitlines()
    lines += [w.message for w in framing_from_run(spec, volume, run_dir, walking=walking)]
    return [ln.strip() for ln in lines][:12]


def _loaded(run_dir: str, sha: str) -> LoadedRun:
    key = (run_dir, sha)
    if key not in _RUNS:
        _RUNS.clear()
        _RUNS[key] = load_run(run_dir, "auto")
    return _RUNS[key]


def _chunk(*, run_dir: str, checkpoint_sha256: str, path_json: str, frames_dir: str, start: int, end: int,
           depth: bool, threads: int | None) -> dict:
    """Render frames ``start:end`` of a format's path into its frames folder (frames already there are kept)."""
    _threads(threads)
    path = cameras_from_spec(load_path_spec(path_json))
    run = _loaded(run_dir, checkpoint_sha256)
    s = render_camera_path(lambda cams, i: run.render(cams, i), path, None, frames_dir, progress=False,
                           fingerprint_extra=fingerprint_extra(checkpoint_sha256), source=path_json,
                           frames_range=(start, end), cache_depth=depth)
    return {"rendered": s["rendered"], "reused": s["reused"], "frames": s["frames"]}


def fingerprint_extra(checkpoint_sha256: str) -> str:
    """What besides the cameras makes a batch's frames: the checkpoint (by content, so paths may differ per node)."""
    return f"checkpoint:{checkpoint_sha256}"


def frames_sha256(frames_dir: Path, n: int) -> str:
    """sha256 of a frames output: the PNG files' bytes in order."""
    h = hashlib.sha256()
    for i in range(n):
        h.update(bytes.fromhex(file_sha256(frames_dir / f"{i:05d}.png")))
    return h.hexdigest()


def _assemble(*, kind: str, frames_dir: str, n: int, out: str, fps: float, path_json: str, text: dict | None,
              audio: str | None, metadata: dict, spherical: bool, run_dir: str, checkpoint_sha256: str,
              threads: int | None) -> dict:
    """One output: an MP4 (cards, captions, audio, metadata), a depth MP4, or (``frames``) the frames folder."""
    _threads(threads)
    fdir = Path(frames_dir)
    missing = [i for i in range(n) if not (fdir / f"{i:05d}.png").is_file()]
    if missing:
        raise ScenegenError(f"{len(missing)} frames missing in {fdir}")
    if kind == "png":
        return {"frames": n, "sha256": frames_sha256(fdir, n), "video_seconds": n / fps}
    if kind == "depth_mp4":
        path = cameras_from_spec(load_path_spec(path_json))
        s = render_camera_path(lambda cams, i: _loaded(run_dir, checkpoint_sha256).render(cams, i), path, None, fdir,
                               depth_video=out, progress=False, fingerprint_extra=fingerprint_extra(checkpoint_sha256),
                               source=path_json)
        return {"frames": n, "sha256": file_sha256(out), "video_seconds": s["video_seconds"]}
    ts = TextSpec(**{**text, "logo": Path(text["logo"]) if text.get("logo") else None}) if text else None
    meta = {"inputs": f"scene {metadata.get('scene')}, tour {metadata.get('tour')}: run {metadata.get('source_run')} "
                      f"(checkpoint sha256 {str(metadata.get('checkpoint_sha256'))[:16]})", **metadata}
    res = video_side.assemble([fdir / f"{i:05d}.png" for i in range(n)], Path(out), fps=fps,
                              spec=json.loads(Path(path_json).read_text()), text=ts,
                              audio=Path(audio) if audio else None, metadata=meta, spherical=spherical)
    return {"frames": int(res.get("frames", n)), "sha256": file_sha256(out),
            "video_seconds": float(res.get("seconds", n / fps))}


TASKS = {"train": _train, "plan": _plan, "chunk": _chunk, "assemble": _assemble}
