"""`scenegen eval`: PSNR / SSIM of a trained run on its dataset's held-out views (the measuring is
:func:`scenegen.train.evaluate.evaluate`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from scenegen.core import validate as v
from scenegen.data.dataset import SceneDataset
from scenegen.data.loader import load_dataset
from scenegen.train import evaluate as measure
from scenegen.train.run import LoadedRun, load_run


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
    full_resolution: bool = False
    """Render and compare at the photos' full size, not at the run's training resolution (its --downscale,
    chosen from the budget when it was trained; full size takes far longer on a CPU)."""
    appearance: Literal["nearest", "mean"] = "nearest"
    """Runs with a look per photo (real captures, --field.look): render each held-out photo with the look (exposure,
    white balance) of the two training photos taken nearest to it ('nearest'), or with the training photos' mean
    look, as tours render ('mean'). Nothing of the held-out photo itself is used either way."""
    progress: bool = True

    def validate(self) -> "EvalConfig":
        """Refuse bad flags with one line naming the flag, before any work; returns self."""
        v.flag_number(self.every, "--every", lo=1, whole=True)
        v.flag_number(self.save_images, "--save-images", lo=0, whole=True)
        if self.split is not None:
            v.string(self.split, None, "--split")
        v.output_dir(self.resolved_output(), "--output")
        return self

    def resolved_output(self) -> Path:
        """Where eval.json goes: ``output``, else RUN/eval."""
        return Path(self.output) if self.output is not None else Path(self.run) / "eval"


@dataclass
class EvalResult:
    """Held-out scores of a run (also in ``output/eval.json``)."""

    run: Path
    step: int
    split: str
    num_images: int
    psnr: float
    ssim: float
    seconds_per_image: float
    output: Path
    """The folder holding eval.json and the side-by-side pictures."""
    depth_mae: Optional[float] = None
    """Mean absolute z-depth error (world units) where the dataset has depth maps."""
    appearance: str = "none"
    """The look held-out photos were rendered with: nearest, mean, or none (the run has no look per photo)."""
    images: list[dict] = field(default_factory=list)
    """Per image: frame, image, psnr, ssim (and depth_mae)."""


def run_dataset(run: LoadedRun, data: Path | None = None, full_resolution: bool = False) -> SceneDataset:
    """The dataset ``run`` was trained on (or ``data`` instead), read as it was for training (downscale,
    background), or at full size with ``full_resolution``."""
    return load_dataset(data if data is not None else Path(run.scene.data),
                        downscale=1 if full_resolution else run.scene.downscale, background=run.scene.background)


def evaluate(cfg: EvalConfig, *, run: LoadedRun | None = None, dataset: SceneDataset | None = None) -> EvalResult:
    """Run ``scenegen eval``. ``run`` / ``dataset``: already loaded (else read from ``cfg.run`` / the run's
    dataset or ``cfg.data``)."""
    cfg.validate()
    run = run if run is not None else load_run(cfg.run, cfg.device)
    dataset = dataset if dataset is not None else run_dataset(run, cfg.data, cfg.full_resolution)
    output = cfg.resolved_output()
    r = measure.evaluate(run, dataset, split=cfg.split, output=output, every=cfg.every, save_images=cfg.save_images,
                         progress=cfg.progress, appearance=cfg.appearance)
    return EvalResult(run=Path(r["run"]), step=int(r["step"]), split=r["split"], num_images=int(r["num_images"]),
                      psnr=r["psnr"], ssim=r["ssim"], seconds_per_image=r["seconds_per_image"], output=output,
                      depth_mae=r.get("depth_mae"), images=r["images"], appearance=r["appearance"])
