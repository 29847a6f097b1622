"""`scenegen train`: posed images -> radiance field checkpoint (the loop is :mod:`scenegen.train.trainer`).

The command's options are :class:`scenegen.train.config.TrainConfig` (saved whole in every run and checkpoint).
"""

from __future__ import annotations

from pathlib import Path

from scenegen.core.ownership import OwnedDir
from scenegen.data.capture.coverage import Coverage, assess, dataset_points
from scenegen.data.dataset import SceneDataset
from scenegen.train.config import TrainConfig
from scenegen.train.trainer import Trainer, TrainResult, process_elapsed

__all__ = ["TrainConfig", "TrainResult", "train"]


def train(cfg: TrainConfig, console=None, *, dataset: SceneDataset | None = None,
          budget_from_now: bool = False) -> TrainResult:
    """Set up and run training for ``cfg``.

    ``dataset``: the dataset already loaded (else ``cfg.data`` is read). ``budget_from_now``: the time budget
    counts from this call, not from process start (a pipeline that did other work first, such as the demo)."""
    cfg.validate()
    claim_run_folder(Path(cfg.output))
    t = Trainer(cfg, dataset=dataset, console=console)
    if budget_from_now:
        t.budget_origin = process_elapsed()
    t.setup()
    sparse_capture_check(t, console)
    outside = t.dataset.files_outside_root() if t.dataset is not None else []
    if outside and console is not None:
        console.print(f"note: {len(outside)} file(s) the dataset names lie outside its folder {t.dataset.root} "
                      f"(read, not written), e.g. {outside[0]}")
    return t.train()


def is_capture(ds: SceneDataset) -> bool:
    """Photos of a real scene (not a synthetic Blender set, not a generated prior)."""
    return ds.kind != "blender" and ds.metadata.get("generator") is None


def dataset_coverage(ds: SceneDataset, frames: list[int] | None = None) -> Coverage:
    """:func:`~scenegen.data.capture.coverage.assess` of a dataset's (training) cameras and SfM points."""
    frames = list(range(len(ds))) if frames is None else frames
    c2w = ds.cameras.c2w[frames].numpy()
    up = ds.metadata.get("up") or (0.0, 0.0, 1.0)
    i = frames[0]
    intr = (float(ds.cameras.fx[i]), int(ds.cameras.width[i]), int(ds.cameras.height[i]))
    return assess(c2w, up, dataset_points(ds.root), intr)


def sparse_capture_check(t: Trainer, console=None) -> Coverage | None:
    """Before training a real capture: say when it is too sparse for a clean result and what to do, and switch
    on the sparse-view regularisers the user did not set (coarse-to-fine hash levels over the first 30 % of
    training, the SfM points guiding the geometry for half of it instead of a quarter)."""
    ds, cfg = t.dataset, t.cfg
    if ds is None or not is_capture(ds) or t.ckpt is not None:
        if cfg.anneal_levels is None:
            cfg.anneal_levels = 0.0
        return None
    cov = dataset_coverage(ds, t.train_frames)
    line = cov.advice()
    if line and console is not None:
        console.print(f"[yellow]{line}[/]", highlight=False, soft_wrap=True)
    if cfg.anneal_levels is None:
        # Only for thin views: a dense capture with one side missing (bonsai: 220 photos 3 deg apart, a 106 deg
        # gap) gets the advice but trains as usual; annealing cost it 2.8 dB early in a 15-minute run and
        # sharpens nothing on the side no photo saw (BENCHMARKS.md, real captures).
        cfg.anneal_levels = 0.3 if cov.thin_views else 0.0
        if cov.thin_views:
            if cfg.sparse_depth_until == TrainConfig.sparse_depth_until:  # the default: not set by the user
                cfg.sparse_depth_until = 0.5
            if console is not None:
                console.print("  sparse views: the hash levels are trained coarse to fine over the first 30 % "
                              "(--anneal-levels), the SfM points guide half of training", highlight=False)
    cfg.save(Path(cfg.output) / "config.json")
    return cov


# What a run folder holds at its top level (the trainer writes them; eval/ is `scenegen eval`'s).
RUN_FILES = ("config.json", "scene.json", "metrics.jsonl")


def adopt_run(folder: Path) -> list[str] | None:
    """An older run folder (no ownership record): it has ``config.json`` and ``scene.json`` or a
    ``checkpoints/latest.pt``. Adopted: those files, ``metrics.jsonl`` and the ``.pt`` files in checkpoints/."""
    if not (folder / "config.json").is_file():
        return None
    ckpts = sorted(p for p in (folder / "checkpoints").glob("*.pt") if p.is_file())
    if not ((folder / "scene.json").is_file() or ckpts):
        return None
    return [f for f in RUN_FILES if (folder / f).is_file()] + [f"checkpoints/{p.name}" for p in ckpts]


def claim_run_folder(run: Path) -> None:
    """The run folder's ownership record, at the start of training: a non-empty folder scenegen did not write
    (or a file) is refused with one line; stale temporary files of killed runs are removed."""
    owned = OwnedDir.open(run, "run", field="--output", adopt=adopt_run)
    owned.claim([*RUN_FILES, "checkpoints/latest.pt"])
