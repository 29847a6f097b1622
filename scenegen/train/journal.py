"""What a run keeps consistent across kills and resumes: its ``metrics.jsonl`` and the options of a resumed run.

``metrics.jsonl`` is appended one whole line at a time (written, flushed and fsync'ed). When training starts,
the file is made consistent with the checkpoint it starts from: a torn last line of a killed run is dropped,
and so are the lines after the checkpoint's step (those steps run again), so a resumed run's file holds each
step's line once, as an uninterrupted run's does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from scenegen.core.io import atomic_write_text
from scenegen.data.run_scene import RunScene
from scenegen.train.config import TrainConfig

APPLIED_ON_RESUME = ("progress", "threads", "device", "eval_every", "eval_views", "checkpoint_every", "output",
                     "resume")
"""Options a resumed run takes from the command line: they change neither the model nor the schedule.
(``threads``: only when given, > 0; 0 keeps the run's.)"""


class MetricsLog:
    """Crash-safe appends to ``metrics.jsonl`` for a run that starts (or resumes) at ``step``."""

    def __init__(self, path: Path, step: int):
        self.path = Path(path)
        keep = []
        changed = False
        if self.path.exists():
            raw = self.path.read_bytes()
            lines = raw.split(b"\n")
            tail = lines.pop()  # b"" when the file ends with a newline; else a torn last line
            changed = bool(tail)
            for line in lines:
                try:
                    rec = json.loads(line)
                    ok = isinstance(rec, dict) and isinstance(rec.get("step"), int) and rec["step"] <= step
                    ok = ok and rec.get("event") != "done"  # a resumed run is not done yet
                except ValueError:
                    ok = False
                if ok:
                    keep.append(line.decode("utf-8"))
                else:
                    changed = True
        if changed:
            atomic_write_text(self.path, "".join(x + "\n" for x in keep), "metrics log")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(self.path, "ab")

    def append(self, rec: dict) -> None:
        """Append one record as one line, on disk before this returns."""
        self.f.write((json.dumps(rec) + "\n").encode("utf-8"))
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self) -> None:
        self.f.close()


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, val in d.items():
        if isinstance(val, dict):
            out.update(_flat(val, f"{prefix}{k}."))
        else:
            out[prefix + k] = val
    return out


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def resume_overrides(given: TrainConfig, saved: TrainConfig, scene: RunScene) -> list[str]:
    """Apply to ``saved`` (the checkpoint's config) the options of ``given`` (the command line) that may change
    on resume (:data:`APPLIED_ON_RESUME`); return one line for each other option given with a value that
    differs from the run's, saying that it was ignored and why."""
    notes = []
    defaults = _flat(TrainConfig(data=given.data).to_dict())
    g, s = _flat(given.to_dict()), _flat(saved.to_dict())
    why = "a resumed run continues its own schedule and model (train a new --output to change them)"
    for key, val in g.items():
        if key in APPLIED_ON_RESUME or key == "data":
            continue
        if val != defaults.get(key) and val != s.get(key):
            notes.append(f"{_flag(key)} {val} ignored: the run keeps {s.get(key)}; {why}")
    saved.progress, saved.resume, saved.output = given.progress, True, given.output
    saved.eval_every, saved.eval_views, saved.checkpoint_every = given.eval_every, given.eval_views, given.checkpoint_every
    saved.device = given.device
    if given.threads > 0:
        saved.threads = given.threads
    # The dataset: the one the run recorded (absolute), unless it is gone.
    recorded = Path(scene.data) if scene.data else Path(saved.data)
    if recorded.exists():
        if Path(given.data).resolve() != recorded.resolve():
            notes.append(f"--data {given.data} ignored: the run continues on its own dataset {recorded}")
        saved.data = recorded
    else:
        notes.append(f"the run's dataset {recorded} is gone: reading --data {given.data} instead")
        saved.data = Path(given.data)
    return notes
