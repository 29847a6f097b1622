"""Resume exactness (issue 12, defect 8) and crash-safe metrics.jsonl (issue 12, defect 7, train part)."""

import io
import json
import os
import signal
from pathlib import Path

import pytest
import torch
from rich.console import Console

from scenegen.train.config import TrainConfig
from scenegen.train.trainer import Trainer


@pytest.fixture(scope="module")
def cube(tmp_path_factory) -> Path:
    from scenes import make_cube_dataset

    return make_cube_dataset(tmp_path_factory.mktemp("cube") / "data", n_train=12, n_test=2, size=32)


def small_config(data: Path, out: Path, steps: int | None, **kw) -> TrainConfig:
    cfg = TrainConfig(data=data, output=out, max_steps=steps, progress=False, eval_every=0, checkpoint_every=1e9, **kw)
    cfg.threads = 1  # one thread: the same floating-point reduction order in every run
    cfg.field.grid.log2_hashmap_size = 12
    cfg.field.grid.max_resolution = 128
    cfg.grid_resolution = 32
    cfg.target_samples = 1 << 12
    cfg.max_rays = 512
    cfg.min_rays = 256
    return cfg


def _ckpt(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "latest.pt", weights_only=True)


def _step_lines(run: Path) -> list[dict]:
    recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: r[k] for k in ("step", "loss", "lr", "rays", "samples", "occupancy")} for r in recs if "loss" in r]


def _train(cfg: TrainConfig, console=None) -> Trainer:
    t = Trainer(cfg, console=console)
    t.setup()
    t.train()
    return t


def test_interrupt_inside_optimizer_step_resumes_exactly(cube, tmp_path, monkeypatch):
    """Defect 8a: a SIGINT delivered inside optimizer.step() (after its Adam update) is deferred to the step
    boundary, so the checkpoint holds a consistent "after step N" state and the resumed run ends with tensors
    identical to an uninterrupted run's. Defect 7: a torn last line and lines after the checkpoint's step in
    metrics.jsonl (a killed run's) are dropped on resume: each step's line appears once, as uninterrupted."""
    steps = 60
    _train(small_config(cube, tmp_path / "a", steps))

    t = Trainer(small_config(cube, tmp_path / "b", steps))
    t.setup()
    orig_step = t.optimizer.step

    def step_then_signal(*a, **kw):
        out = orig_step(*a, **kw)
        if t.step == 30:  # the Adam update of step 31 is done; the step counter is not yet advanced
            os.kill(os.getpid(), signal.SIGINT)
        return out

    monkeypatch.setattr(t.optimizer, "step", step_then_signal)
    with pytest.raises(KeyboardInterrupt):
        t.train()
    ck = _ckpt(tmp_path / "b")
    assert ck["step"] == 31
    assert int(next(iter(ck["optimizer"]["state"].values()))["step"]) == 31  # N steps, N Adam updates
    # a killed run's leftovers: a line past the checkpoint's step, and a torn last line
    with open(tmp_path / "b" / "metrics.jsonl", "a") as f:
        f.write(json.dumps({"step": 50, "loss": 1.0, "lr": 0, "rays": 0, "samples": 0, "occupancy": 0}) + "\n")
        f.write('{"step": 55, "lo')

    resumed = small_config(cube, tmp_path / "b", steps, resume=True)
    _train(resumed)
    a, b = _ckpt(tmp_path / "a"), _ckpt(tmp_path / "b")
    assert b["step"] == steps
    for k in a["field"]:
        assert torch.equal(a["field"][k], b["field"][k]), k
    for k in a["grid"]:
        assert torch.equal(a["grid"][k], b["grid"][k]), k
    assert _step_lines(tmp_path / "a") == _step_lines(tmp_path / "b")
    for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines():
        json.loads(line)


def test_sigterm_at_step_boundary_saves_and_resumes(cube, tmp_path, monkeypatch):
    """Defect 8a: SIGTERM (a scheduler's stop) is handled like Ctrl-C: deferred, saved, exit as interrupted."""
    t = Trainer(small_config(cube, tmp_path / "r", 20))
    t.setup()
    orig = Trainer.train_step

    def step(self):
        out = orig(self)
        if self.step == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        return out

    monkeypatch.setattr(Trainer, "train_step", step)
    with pytest.raises(KeyboardInterrupt):
        t.train()
    assert _ckpt(tmp_path / "r")["step"] == 5
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, signal.default_int_handler) or callable(
        signal.getsignal(signal.SIGTERM))


def test_time_budget_and_schedule_continue_on_resume(cube, tmp_path, monkeypatch):
    """Defect 8b: a --time-budget run saves the budget it has used; on resume the budget (and the learning-rate
    schedule, which follows it) continue from there instead of restarting."""
    cfg = small_config(cube, tmp_path / "t", None, time_budget=30.0)
    t = Trainer(cfg)
    t.setup()
    orig = Trainer.train_step

    def step(self):
        if self.step == 8:
            raise KeyboardInterrupt
        return orig(self)

    monkeypatch.setattr(Trainer, "train_step", step)
    with pytest.raises(KeyboardInterrupt):
        t.train()
    monkeypatch.setattr(Trainer, "train_step", orig)
    ck = _ckpt(tmp_path / "t")
    used = ck["budget_used"]
    assert used > 0
    r = Trainer(small_config(cube, tmp_path / "t", None, time_budget=30.0, resume=True))
    r.setup()
    assert r.budget_elapsed() >= used
    assert r.progress_fraction() >= used / (30.0 * 60.0)
    r.lock.release()


def test_flags_given_on_resume_are_ignored_and_said(cube, tmp_path):
    """Defect 8c: options that would change the run's model or schedule are ignored on resume, one line each;
    options that may change (--progress, --threads, --checkpoint-every, ...) are applied."""
    _train(small_config(cube, tmp_path / "f", 5))
    other = tmp_path / "elsewhere"
    other.mkdir()
    given = small_config(other, tmp_path / "f", 500, resume=True, lr=0.5, seed=3)
    given.checkpoint_every = 7.0
    buf = io.StringIO()
    t = Trainer(given, console=Console(file=buf, width=400))
    t.setup()
    t.lock.release()
    out = buf.getvalue()
    assert t.cfg.max_steps == 5 and t.cfg.lr == 1e-2 and t.cfg.seed == 0
    assert t.cfg.checkpoint_every == 7.0 and Path(t.cfg.data).resolve() == cube.resolve()
    lines = out.strip().splitlines()
    for flag in ("--max-steps 500 ignored", "--lr 0.5 ignored", "--seed 3 ignored", f"--data {other} ignored"):
        assert sum(flag in x for x in lines) == 1, (flag, out)
    assert "checkpoint-every" not in out


def test_second_trainer_on_a_live_run_is_refused_and_stale_temps_removed(cube, tmp_path):
    """Defect 7 / acceptance: temporary files of killed writers are removed on the next start, never those of
    a live process (a live trainer holds the run's lock, so a second one is refused with one line)."""
    from scenegen.core.errors import InputError

    run = tmp_path / "s"
    _train(small_config(cube, run, 3))
    stale = run / "checkpoints" / ".latest.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    t = Trainer(small_config(cube, run, 3, resume=True))
    t.setup()
    assert not stale.exists()
    t2 = Trainer(small_config(cube, run, 3, resume=True))
    with pytest.raises(InputError, match="another scenegen process"):
        t2.setup()
    t.train()
