"""`scenegen process`: photos, a video, a COLMAP model or an LLFF capture -> a posed nerfstudio dataset.

Stages (each shows progress; the work folder ``OUT/colmap`` keeps what is done, so a re-run resumes):

1. frames: photos are copied into ``OUT/images`` (unreadable ones are listed and left out); a video is decoded
   with imageio-ffmpeg and the sharpest frame of each of ``--num-frames`` equal time slices is kept (variance
   of the Laplacian, the usual blur measure).
2. structure from motion with pycolmap: SIFT features, matching (exhaustive for up to 100 photos; sequential
   for videos and larger sets: each image with its 15 neighbours and quadratically spaced later ones),
   incremental mapping (``--mapper``: global SfM instead; auto: mapped again with global SfM when consecutive
   photos come out far apart, a capture registered in pieces); the largest model is kept.
3. orientation: +Z up from the cameras, centred on the sparse points, metric with ``--scale-from``.
4. output: ``transforms.json`` (OPENCV intrinsics, frames, ``applied_transform``), ``sparse_pc.ply``,
   ``sparse_depth.npz`` (each image's observed points: a depth prior for training), ``report.json`` (registered /
   rejected images and why, reprojection error, timings); the command (:mod:`scenegen.pipelines.process`) adds
   ``cameras.png`` (the cameras over the point cloud, top and side views).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image
from rich.console import Console

from scenegen.core.errors import InputError
from scenegen.core.io import atomic_copy, atomic_write_text, safe_child, write_png
from scenegen.core.ownership import OwnedDir
from scenegen.data.capture.colmap import (
    PosedImages,
    apply_transform,
    from_reconstruction,
    import_pycolmap,
    orient,
    read_colmap_model,
    read_llff,
    write_transforms,
)
from scenegen.data.capture.coverage import registration_jumps

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


@dataclass
class SfmOptions:
    """What structure from motion is run with (see :class:`scenegen.pipelines.process.ProcessConfig`)."""

    camera_model: str = "OPENCV"
    max_image_size: int = 1600
    max_features: int = 4096
    mapper: str = "auto"
    seed: int = 0
    progress: bool = True


# ---------------------------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------------------------


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian of a grey image (higher = sharper)."""
    g = gray.astype(np.float32)
    lap = -4 * g[1:-1, 1:-1] + g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]
    return float(lap.var())


def video_frames(video: Path, out_dir: Path, num: int, progress=None, owned: OwnedDir | None = None
                 ) -> tuple[list[str], dict]:
    """Decode ``video`` and keep the sharpest frame of each of ``num`` equal slices; returns names and info."""
    # Two passes: containers often misreport their frame count, so the first pass scores every frame (on a
    # half-size grey copy) and the second saves the chosen ones; memory stays at one frame.
    scores: list[float] = []
    try:
        for k, frame in enumerate(iio.imiter(video)):
            small = np.asarray(frame)[::2, ::2]
            gray = small[..., :3].mean(-1) if small.ndim == 3 else small
            scores.append(sharpness(gray))
            if progress is not None and k % 10 == 0:
                progress(k)
    except Exception as e:  # imageio/ffmpeg errors: corrupt or unsupported file
        raise InputError(f"cannot decode the video: {str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__}",
                         file=video, field="--input") from None
    n = len(scores)
    if n == 0:
        raise InputError("the video has no frames", file=video, field="--input")
    num = min(num, n)
    edges = np.linspace(0, n, num + 1).round().astype(int)
    chosen = [int(a + np.argmax(scores[a:b])) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    names = []
    want = set(chosen)
    if owned is not None:
        owned.claim([f"{out_dir.relative_to(owned.path).as_posix()}/frame_{k:06d}.png" for k in sorted(want)])
    for k, frame in enumerate(iio.imiter(video)):
        if k in want:
            name = f"frame_{k:06d}.png"
            write_png(out_dir / name, np.asarray(frame)[..., :3])
            names.append(name)
    return names, {"video_frames": n, "kept": len(names)}


def copy_photos(src: Path, out_dir: Path, owned: OwnedDir | None = None) -> tuple[list[str], list[dict]]:
    """Copy readable photos into ``out_dir``; returns kept names and the rejected ones with the reason."""
    files = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise InputError("no photos in this folder (jpg, png, tif, bmp, webp)", file=src, field="--input")
    kept, rejected = [], []
    for p in files:
        try:
            with Image.open(p) as im:
                im.verify()
            with Image.open(p) as im:
                im.load()
                size = im.size
        except Exception as e:
            rejected.append({"image": p.name, "reason": f"unreadable: {str(e).strip()[:120] or type(e).__name__}"})
            continue
        if min(size) < 32:
            rejected.append({"image": p.name, "reason": f"too small ({size[0]}x{size[1]})"})
            continue
        dst = safe_child(out_dir, p.name, file=p, field="--input")
        if owned is not None:
            owned.claim(f"{out_dir.relative_to(owned.path).as_posix()}/{p.name}")
        if not dst.exists() or dst.stat().st_size != p.stat().st_size:
            atomic_copy(p, dst, "photo")
        kept.append(p.name)
    return kept, rejected


# ---------------------------------------------------------------------------------------------------------------
# Structure from motion
# ---------------------------------------------------------------------------------------------------------------


def run_sfm(image_dir: Path, names: list[str], work: Path, cfg: SfmOptions, sequential: bool, console=None) -> tuple[PosedImages | None, dict]:
    """pycolmap: features, matches, incremental mapping. Resumes from ``work`` (database, model).
    Returns (None, info) when no model could be built."""
    pycolmap = import_pycolmap()
    work.mkdir(parents=True, exist_ok=True)
    db = work / "database.db"
    model_dir = work / "sparse"
    timings = {}
    done = work / "stage.json"
    stage = _read_stage(done, console if cfg.progress else None)
    # what the database depends on: another image set or other feature settings start over
    settings = {"camera_model": cfg.camera_model, "max_image_size": cfg.max_image_size,
                "max_features": cfg.max_features, "sequential": sequential, "features_version": 2}
    if stage.get("names") != names or stage.get("settings") != settings:
        for p in (db, model_dir):
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
        stage = {"names": names, "settings": settings}
    pycolmap.set_random_seed(cfg.seed)
    # COLMAP's own log lines (glog) would drown the progress; warnings and errors still show
    pycolmap.logging.minloglevel = 1 if not cfg.progress else 0
    pycolmap.logging.stderrthreshold = 1

    def mark(key: str, value=True) -> None:
        stage[key] = value
        atomic_write_text(done, json.dumps(stage), "progress record")

    def say(msg: str) -> None:
        if console is not None and cfg.progress:
            console.print(msg)

    t0 = time.time()
    if not stage.get("features"):
        say(f"  features: SIFT on {len(names)} images (max {cfg.max_image_size} px) ...")
        _extract(pycolmap, db, image_dir, names, cfg)
        few = _median_keypoints(pycolmap, db)
        if few is not None and few < FEW_KEYPOINTS < cfg.max_features:
            # Small or weakly textured images (white walls, renders on a plain background) give COLMAP's default
            # detector a few hundred keypoints: too few to chain 3D points from image to image, and mapping
            # then registers a handful of images. A lower contrast threshold, and on small square images one
            # more upsampled octave, give several times more (lego 200 px: 2 -> 98 of 100 images registered).
            stage["sensitive_features"] = {"median_keypoints_before": few}
            say(f"  features: only {few} keypoints per image (median): extracting again, more sensitive ...")
            db.unlink()
            _extract(pycolmap, db, image_dir, names, cfg, sensitive=True)
            stage["sensitive_features"]["median_keypoints"] = _median_keypoints(pycolmap, db)
        mark("features")
    timings["features_s"] = round(time.time() - t0, 1)
    t0 = time.time()
    if not stage.get("matches"):
        mo = pycolmap.FeatureMatchingOptions()
        mo.use_gpu = False
        mo.num_threads = -1
        if sequential:
            say("  matching: sequential neighbours ...")
            po = pycolmap.SequentialPairingOptions()
            po.overlap = 15
            po.quadratic_overlap = True
            pycolmap.match_sequential(db, matching_options=mo, pairing_options=po, device=pycolmap.Device.cpu)
        else:
            say(f"  matching: exhaustive, {len(names) * (len(names) - 1) // 2} pairs ...")
            pycolmap.match_exhaustive(db, matching_options=mo, device=pycolmap.Device.cpu)
        mark("matches")
    timings["matching_s"] = round(time.time() - t0, 1)
    t0 = time.time()
    # A stage file of an older version has no mapper: it mapped incrementally, as "auto" starts. A record that
    # names no model this code writes, or a mapper other than the one asked for, maps again.
    if stage.get("mapping") and (stage.get("mapper_request", "auto") != cfg.mapper
                                 or stage.get("model", "best") not in _MODEL_DIR.values()
                                 or ("repair" in stage and not _valid_repair(stage["repair"]))):
        stage["mapping"] = False
        stage.pop("repair", None)
    if not stage.get("mapping"):
        kind = "global" if cfg.mapper == "global" else "incremental"
        say(f"  mapping: {_MAPPER_WORDS[kind]} ...")
        best = _map(pycolmap, kind, db, image_dir, model_dir, cfg.seed)
        if best is None:
            return None, {"timings": timings, "match_counts": _match_counts(pycolmap, db), **_feature_note(stage)}
        stage.update(model=_MODEL_DIR[kind], mapper=kind, mapper_request=cfg.mapper)
        stage.pop("repair", None)
        mark("mapping")
    timings["mapping_s"] = round(time.time() - t0, 1)
    rec = pycolmap.Reconstruction(str(model_dir / stage.get("model", "best")))
    posed = from_reconstruction(rec)
    if cfg.mapper == "auto" and stage.get("mapper", "incremental") == "incremental" and "repair" not in stage:
        jumps = registration_jumps(posed.c2w, posed.names)
        if jumps:
            # Incremental mapping grows one model photo by photo. Around a long capture matched with its neighbours
            # only, drift can make it register a run of photos against the wrong copy of the scene: the runs come
            # out offset (bonsai: the first 62 of 252 photos 4.7 units from the rest, 17x the step between
            # consecutive photos, and a ghost bonsai in every novel view). Global SfM (COLMAP's GLOMAP) solves all
            # rotations, then all positions, at once from the same matches and has no such order: it is run on
            # the same database, and its model kept when it has fewer jumps and registers as many photos.
            t0 = time.time()
            a, b, r = jumps[0]
            say(f"  registration: {a} -> {b} came out {r:.0f}x the usual step apart (the photos were registered in "
                "pieces): mapping again with global SfM ...")
            glob = _map(pycolmap, "global", db, image_dir, model_dir, cfg.seed)
            repair = {"jumps": [list(j) for j in jumps], "kept": "incremental"}
            if glob is not None:
                gposed = from_reconstruction(glob)
                gjumps = registration_jumps(gposed.c2w, gposed.names)
                repair["global_jumps"] = [list(j) for j in gjumps]
                repair["global_registered"] = len(gposed.names)
                if len(gjumps) < len(jumps) and len(gposed.names) >= 0.95 * len(posed.names):
                    repair["kept"] = "global"
                    posed = gposed
                    stage.update(model=_MODEL_DIR["global"], mapper="global")
            repair["seconds"] = round(time.time() - t0, 1)
            mark("repair", repair)
            left = len(repair["global_jumps"]) if repair["kept"] == "global" else len(jumps)
            say(f"  registration: kept the {repair['kept']} model ({left} jumps left)")
    # why the others did not register: how many verified matches they have at all
    stats = _match_counts(pycolmap, db)
    info = {"timings": timings, "match_counts": stats, **_feature_note(stage),
            "mapper": stage.get("mapper", "incremental"), "model": f"colmap/sparse/{stage.get('model', 'best')}"}
    if "repair" in stage:
        info["registration_repair"] = stage["repair"]
    return posed, info


def _valid_repair(repair) -> bool:
    """A progress record's ``repair`` entry as :func:`run_sfm` writes it (jumps found, which model was kept)."""
    return (isinstance(repair, dict) and repair.get("kept") in _MODEL_DIR and isinstance(repair.get("jumps"), list)
            and len(repair["jumps"]) > 0 and all(isinstance(j, list) and len(j) == 3 for j in repair["jumps"]))


_MAPPER_WORDS = {"incremental": "incremental reconstruction and bundle adjustment",
                 "global": "global SfM (all rotations, then all positions) and bundle adjustment"}
_MODEL_DIR = {"incremental": "best", "global": "global"}
"""Where each mapper's model is written under ``colmap/sparse`` (the incremental one where older versions wrote it)."""


def _map(pycolmap, kind: str, db: Path, image_dir: Path, model_dir: Path, seed: int):
    """Map the database's matches with the ``incremental`` or ``global`` mapper; the reconstruction with the most
    registered images, written to ``model_dir/<_MODEL_DIR[kind]>``, or None when no model could be built."""
    work = model_dir / f"{kind}-models"
    if work.exists():
        shutil.rmtree(work)  # a former attempt's models: this folder is scenegen's own scratch
    work.mkdir(parents=True)
    if kind == "global":
        opts = pycolmap.GlobalPipelineOptions()
        opts.random_seed = seed
        opts.mapper.random_seed = seed
        opts.mapper.global_positioning.use_gpu = False  # the CPU solvers (else a warning that CUDA is missing)
        opts.mapper.bundle_adjustment.ceres.use_gpu = False
        recs = pycolmap.global_mapping(db, image_dir, work, options=opts)
    else:
        opts = pycolmap.IncrementalPipelineOptions()
        opts.num_threads = -1
        recs = pycolmap.incremental_mapping(db, image_dir, work, options=opts)
    if not recs:
        return None
    best = max(recs.values(), key=lambda r: r.num_reg_images())
    final = model_dir / _MODEL_DIR[kind]
    final.mkdir(parents=True, exist_ok=True)
    best.write(str(final))
    shutil.rmtree(work)
    return best


def _read_stage(done: Path, console=None) -> dict:
    """The work folder's progress record; an unreadable one (e.g. truncated by a crash of an older version) is
    ignored: the stages are run again."""
    if not done.is_file():
        return {}
    try:
        stage = json.loads(done.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stage = None
    if not isinstance(stage, dict):
        if console is not None:
            console.print(f"[yellow]warning: {done} is unreadable (an interrupted write?): structure from motion "
                          "starts over[/]")
        return {}
    return stage


def _feature_note(stage: dict) -> dict:
    return {"sensitive_features": stage["sensitive_features"]} if "sensitive_features" in stage else {}


FEW_KEYPOINTS = 1000
"""Below this median number of keypoints per image, features are extracted again with a more sensitive detector."""


def _extract(pycolmap, db: Path, image_dir: Path, names: list[str], cfg: SfmOptions, sensitive: bool = False) -> None:
    reader = pycolmap.ImageReaderOptions()
    reader.camera_model = cfg.camera_model
    ext = pycolmap.FeatureExtractionOptions()
    ext.max_image_size = cfg.max_image_size
    ext.sift.max_num_features = cfg.max_features
    ext.num_threads = -1
    ext.use_gpu = False
    if sensitive:
        ext.sift.peak_threshold = 0.002  # COLMAP's default: 0.02 / 3 octave levels
        w, h = _image_size(image_dir / names[0])
        if w == h and w <= 480:
            # Detect on the image upsampled 4x (default 2x). Square images only: with pycolmap 4.2 on the CPU,
            # first_octave = -2 on non-square images (400x300, 240x180, 180x240 tried) gives descriptors that
            # match nothing at all, a library bug; the lower threshold alone serves those.
            ext.sift.first_octave = -2
    pycolmap.extract_features(db, image_dir, image_names=names, camera_mode=pycolmap.CameraMode.SINGLE,
                              reader_options=reader, extraction_options=ext, device=pycolmap.Device.cpu)


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def _median_keypoints(pycolmap, db: Path) -> int | None:
    try:
        database = pycolmap.Database.open(str(db))
        try:
            counts = [database.num_keypoints_for_image(img.image_id) for img in database.read_all_images()]
        finally:
            database.close()
    except Exception:  # statistics only
        return None
    return int(np.median(counts)) if counts else None


def _match_counts(pycolmap, db: Path) -> dict[str, int] | None:
    """Image name -> number of verified (inlier) matches with all other images; None if unreadable."""
    try:
        database = pycolmap.Database.open(str(db))
        try:
            names = {img.image_id: img.name for img in database.read_all_images()}
            out = {n: 0 for n in names.values()}
            pair_ids, inliers = database.read_two_view_geometry_num_inliers()
            for pid, k in zip(pair_ids, inliers):
                a, b = pycolmap.pair_id_to_image_pair(pid)
                out[names[a]] += int(k)
                out[names[b]] += int(k)
        finally:
            database.close()
    except Exception:  # statistics only: the report then says "not registered" without a count
        return None
    return out


# ---------------------------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------------------------


def process(
    input: Path,
    output: Path,
    images: Path | None = None,
    num_frames: int = 150,
    matching: str = "auto",
    sfm: SfmOptions | None = None,
    scale_from: tuple[float, ...] | None = None,
    up: str = "auto",
    min_registered: float = 0.5,
    overwrite: bool = False,
    console=None,
) -> dict:
    """Photos, a video, a COLMAP model or an LLFF capture in ``input`` -> a posed dataset in ``output``; returns a
    summary (counts, rejected images, reprojection error, seconds, and ``posed``: the registered cameras and
    sparse points in the output's frame). Options: see
    :class:`scenegen.pipelines.process.ProcessConfig`."""
    console = console or Console(stderr=True)
    sfm_opts = sfm or SfmOptions()
    src, out = Path(input), Path(output)
    if not src.exists():
        raise InputError("no such file or folder", file=src, field="--input")
    if (out / "transforms.json").exists() and not overwrite:
        raise InputError("a dataset already exists here: pass --overwrite to replace it", file=out / "transforms.json",
                         field="--output")
    if num_frames < 2:
        raise InputError(f"must be at least 2, got {num_frames}", field="--num-frames")
    owned = OwnedDir.open(out, "capture", field="--output", adopt=adopt_capture)
    owned.claim([*_CAPTURE_FILES, "colmap/stage.json", "colmap/database.db"])
    t_start = time.time()
    report: dict = {"input": str(src), "rejected": []}
    # ---- what kind of input --------------------------------------------------------------------------------------
    model_dir = None
    if src.is_dir():
        for cand in (src, src / "sparse" / "0", src / "sparse", src / "colmap" / "sparse" / "0"):
            if (cand / "images.bin").is_file() or (cand / "images.txt").is_file():
                model_dir = cand
                break
    if model_dir is not None:
        posed = read_colmap_model(model_dir)
        image_dir = Path(images) if images else next(
            (p for p in (model_dir.parent.parent / "images", model_dir.parent / "images", src / "images") if p.is_dir()), None)
        if image_dir is None:
            raise InputError("cannot find the model's images: pass --images", file=model_dir, field="--images")
        report["source"] = f"COLMAP model {model_dir}"
        names = posed.names
        _link_images(image_dir, out / "images", names, owned, model_dir)
    elif src.is_dir() and (src / "poses_bounds.npy").is_file():
        posed, image_dir = read_llff(src)
        report["source"] = f"LLFF {src / 'poses_bounds.npy'}"
        _link_images(image_dir, out / "images", posed.names, owned, src / "poses_bounds.npy")
    else:
        images_out = out / "images"
        images_out.mkdir(parents=True, exist_ok=True)
        if src.is_file() and src.suffix.lower() in VIDEO_SUFFIXES:
            console.print(f"[bold]1/3[/] frames: the sharpest {num_frames} of {src.name} ...")
            names, vinfo = video_frames(src, images_out, num_frames, owned=owned)
            report["video"] = vinfo
            sequential = matching != "exhaustive"
        elif src.is_dir():
            console.print(f"[bold]1/3[/] photos from {src} ...")
            names, rejected = copy_photos(src, images_out, owned=owned)
            report["rejected"] += rejected
            sequential = matching == "sequential" or (matching == "auto" and len(names) > 100)
        else:
            raise InputError(f"not a photo folder, a video ({', '.join(VIDEO_SUFFIXES)}), a COLMAP model or an LLFF "
                             "folder", file=src, field="--input")
        if len(names) < 3:
            raise InputError(f"structure from motion needs at least 3 readable images, found {len(names)}",
                             file=src, field="--input")
        console.print(f"[bold]2/3[/] structure from motion on {len(names)} images (pycolmap) ...")
        posed, sfm_info = run_sfm(images_out, names, out / "colmap", sfm_opts, sequential, console)
        report.update(sfm_info)
        registered = set(posed.names) if posed is not None else set()
        counts = sfm_info.get("match_counts") or {}
        for n in names:
            if n not in registered:
                k = counts.get(n)
                why = ("no verified matches with any other image" if k == 0 else
                       f"only {k} verified matches: too little overlap or texture" if k is not None else
                       "not registered by structure from motion")
                report["rejected"].append({"image": n, "reason": why})
        frac = len(registered) / max(1, len(names))
        report["registered"] = len(registered)
        report["images"] = len(names)
        if posed is None or frac < min_registered:
            atomic_write_text(out / "report.json", json.dumps(report, indent=2))
            what = ("structure from motion found no model (the images do not overlap enough: too few matches)"
                    if posed is None else f"only {len(registered)} of {len(names)} images registered ({frac:.0%})")
            raise InputError(f"{what}; {out / 'report.json'} lists each image's reason", file=src, field="--input")
    # ---- orientation, scale, output ---------------------------------------------------------------------------------
    console.print("[bold]3/3[/] orienting (+Z up, centred) and writing transforms.json ...")
    T, info = orient(posed, up=up, scale_from=scale_from)
    posed = apply_transform(posed, T)
    report["orientation"] = info
    report["reprojection_error_px"] = None if not np.isfinite(posed.reprojection_error) else round(posed.reprojection_error, 4)
    report["registered"] = report.get("registered", len(posed.names))
    report["points"] = int(len(posed.points))
    extra = {"metadata": {"up": [0.0, 0.0, 1.0], "units": "metres" if scale_from else "unknown"}}
    write_transforms(out, posed, applied=T, extra=extra)
    report["seconds"] = round(time.time() - t_start, 1)
    atomic_write_text(out / "report.json", json.dumps(report, indent=2))
    return {"output": str(out), "registered": report["registered"], "images": report.get("images", len(posed.names)),
            "reprojection_error_px": report["reprojection_error_px"], "rejected": report["rejected"],
            "seconds": report["seconds"], "points": report["points"], "posed": posed,
            "mapper": report.get("mapper"), "registration_repair": report.get("registration_repair")}


# The files `process` writes in its output folder (besides images/ and the colmap/ work folder).
_CAPTURE_FILES = ("transforms.json", "report.json", "cameras.png", "sparse_pc.ply", "sparse_depth.npz")


def adopt_capture(folder: Path) -> list[str] | None:
    """An output folder of an older scenegen `process` (no ownership record): it has ``colmap/stage.json`` or
    both ``transforms.json`` and ``report.json``. Adopted: those files, ``cameras.png``, ``sparse_pc.ply``,
    ``sparse_depth.npz``, ``colmap/database.db`` and the images named by ``colmap/stage.json`` or by
    transforms.json's ``images/...`` frames. Nothing else is adopted (and so never replaced)."""
    stage = _read_stage(folder / "colmap" / "stage.json") if (folder / "colmap" / "stage.json").is_file() else None
    if not stage and not ((folder / "transforms.json").is_file() and (folder / "report.json").is_file()):
        return None
    names = [n for n in (stage or {}).get("names", []) if isinstance(n, str)]
    try:
        frames = json.loads((folder / "transforms.json").read_text()).get("frames", [])
        names += [f["file_path"][len("images/"):] for f in frames
                  if isinstance(f, dict) and isinstance(f.get("file_path"), str) and f["file_path"].startswith("images/")]
    except (OSError, ValueError, AttributeError):
        pass
    files = [f for f in (*_CAPTURE_FILES, "colmap/stage.json", "colmap/database.db") if (folder / f).is_file()]
    files += [f"images/{n}" for n in dict.fromkeys(names)
              if "/" not in n and n not in ("", ".", "..") and (folder / "images" / n).is_file()]
    return files


def _link_images(src: Path, dst: Path, names: list[str], owned: OwnedDir, source: Path) -> None:
    """Make ``dst/<name>`` for every image: a hard link where possible, else an (atomic) copy. ``names`` come from
    the input (``source``): none may lead outside ``src`` or ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    rel = dst.relative_to(owned.path).as_posix()
    pairs = []
    for k, n in enumerate(names):
        s = safe_child(src, n, file=source, field="image name")
        d = safe_child(dst, n, file=source, field="image name")
        pairs.append((s, d, f"{rel}/{n}"))
    owned.claim([r for _, _, r in pairs])
    for s, d, _ in pairs:
        if not s.is_file():
            raise InputError("image named by the model is missing", file=s, field="images")
        if d.exists():
            continue
        d.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(s, d)
        except OSError:
            atomic_copy(s, d, "image")
