"""`scenegen train`: posed images -> radiance field checkpoint (the loop is :mod:`scenegen.train.trainer`).

The command's options are :class:`scenegen.train.config.TrainConfig` (saved whole in every run and checkpoint).
"""

from __future__ import annotations

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
    t = Trainer(cfg, dataset=dataset, console=console)
    if budget_from_now:
        t.budget_origin = process_elapsed()
    t.setup()
    outside = t.dataset.files_outside_root() if t.dataset is not None else []
    if outside and console is not None:
        console.print(f"note: {len(outside)} file(s) the dataset names lie outside its folder {t.dataset.root} "
                      f"(read, not written), e.g. {outside[0]}")
    return t.train()
