"""Checkpoint safety (issue 12): safe loading (defect 1), validated contents (defect 4, checkpoint part), a full
disk during the checkpoint or the downscale cache (defect 6, train part)."""

import errno
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from scenegen.cli.main import main
from scenegen.train.trainer import Trainer

from test_resume import small_config


@pytest.fixture(scope="module")
def cube(tmp_path_factory) -> Path:
    from scenes import make_cube_dataset

    return make_cube_dataset(tmp_path_factory.mktemp("cube") / "data", n_train=12, n_test=2, size=32)


@pytest.fixture(scope="module")
def trained(cube, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    t = Trainer(small_config(cube, run, 3))
    t.setup()
    t.train()
    return run


def _one_line(capsys, code: int, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)
    return err


class _Payload:
    """Pickles as a call that creates a marker file: loading it unsafely would run code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_checkpoint_runs_nothing(trained, tmp_path, capsys):
    """Defect 1: a crafted latest.pt with a pickle payload fails to load with one line (exit 2 through
    `scenegen eval`) and runs nothing (the payload's marker file is never created)."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    marker = tmp_path / "pwned"
    state = torch.load(trained / "checkpoints" / "latest.pt", weights_only=True)
    state["scene"]["evil"] = _Payload(marker)
    torch.save(state, run / "checkpoints" / "latest.pt")
    assert main(["eval", "--run", str(run), "--no-progress"]) == 2
    _one_line(capsys, 2, "latest.pt", "refused to load")
    assert not marker.exists()
    # and through `train --resume`
    assert main(["train", "--data", str(state["scene"]["data"]), "--output", str(run), "--resume", "--no-progress"]) == 2
    _one_line(capsys, 2, "latest.pt", "refused to load")
    assert not marker.exists()


def test_real_checkpoint_loads_weights_only(trained):
    """Defect 1: what a checkpoint holds is plain data (loads with weights_only=True)."""
    ck = torch.load(trained / "checkpoints" / "latest.pt", weights_only=True)
    assert ck["step"] == 3 and isinstance(ck["config"], dict) and "optimizer" in ck


@pytest.mark.parametrize("damage,needles", [
    (lambda ck: ck.pop("optimizer"), ("latest.pt", "optimizer", "lacks")),
    (lambda ck: ck.pop("config"), ("latest.pt", "config", "lacks")),
    (lambda ck: ck["config"].__setitem__("lr", "abc"), ("latest.pt", "config.lr", "number")),
    (lambda ck: ck["config"]["field"]["grid"].__setitem__("levels", [1]), ("latest.pt", "config.field.grid.levels")),
    (lambda ck: ck["config"].__setitem__("march", 5), ("latest.pt", "config.march")),
    (lambda ck: ck["scene"]["transform"].__setitem__("scale", -1), ("latest.pt", "transform.scale")),
    (lambda ck: ck["field"].__setitem__(next(iter(ck["field"])), torch.zeros(3)), ("latest.pt", "field")),
    (lambda ck: ck.__setitem__("step", "x"), ("latest.pt", "step")),
])
def test_damaged_checkpoint_is_one_line(trained, tmp_path, capsys, damage, needles):
    """Defect 4 (checkpoint part): a checkpoint whose config is corrupt, that lacks an entry, or whose tensors do
    not fit its config stops `eval` and `train --resume` with one line naming the file and the entry, exit 2."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    ck = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)
    data = ck["scene"]["data"]
    damage(ck)
    torch.save(ck, run / "checkpoints" / "latest.pt")
    assert main(["eval", "--run", str(run), "--no-progress"]) == 2
    _one_line(capsys, 2, *needles)
    assert main(["train", "--data", data, "--output", str(run), "--resume", "--no-progress"]) == 2
    _one_line(capsys, 2, *needles)


def _enospc_on(name: str, monkeypatch):
    """Make writes to temporary files of ``name`` fail with ENOSPC after a few bytes (a disk filling up)."""
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, b):
            if self.n > 100:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            k = self.f.write(bytes(b)[:64])
            self.n += k
            return k

        def fileno(self):
            return self.f.fileno()

        def writable(self):
            return True

        def close(self):
            self.f.close()
            super().close()

    def fdopen(fd, *a, **kw):
        f = real_fdopen(fd, *a, **kw)
        if name in os.readlink(f"/proc/self/fd/{fd}"):
            return io.BufferedWriter(Full(f))
        return f

    monkeypatch.setattr(os, "fdopen", fdopen)


def test_disk_full_during_final_checkpoint(trained, tmp_path, capsys, monkeypatch):
    """Defect 6 (train part): ENOSPC while writing the final checkpoint: one line saying so and that the previous
    checkpoint is intact, exit 2; the previous checkpoint is byte-identical and no temporary file is left."""
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    before = (run / "checkpoints" / "latest.pt").read_bytes()
    data = torch.load(run / "checkpoints" / "latest.pt", weights_only=True)["scene"]["data"]
    _enospc_on(".latest.pt.", monkeypatch)
    assert main(["train", "--data", data, "--output", str(run), "--resume", "--no-progress"]) == 2
    _one_line(capsys, 2, "latest.pt", "No space left on device", "previous checkpoint is intact")
    assert (run / "checkpoints" / "latest.pt").read_bytes() == before
    assert not list((run / "checkpoints").glob(".*.tmp"))


def test_disk_full_downscale_cache_warns_once_and_continues(tmp_path, capsys, monkeypatch):
    """Defect 6 (train part): the --downscale cache is optional: a full disk while writing it prints one warning
    and the images are used from memory."""
    from PIL import Image

    from scenegen.core.errors import ScenegenError
    from scenegen.data import images

    for k in range(3):
        Image.fromarray(np.full((8, 8, 3), 40 * k, np.uint8)).save(tmp_path / f"im{k}.png")

    def full(path, *a, **kw):
        raise ScenegenError(f"{path}: could not write image") from OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(images, "write_png", full)
    monkeypatch.setattr(images, "_CACHE_WARNED", set())
    for k in range(3):
        arr = images.load_downscaled_image(tmp_path, tmp_path / f"im{k}.png", 2, (8, 8), (4, 4))
        assert arr.shape == (4, 4, 3) and int(arr[0, 0, 0]) == 40 * k
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "downscale cache" in err[0] and "No space left" in err[0], err


@pytest.mark.parametrize("flag,value", [("--lr", "0"), ("--max-steps", "-3"), ("--max-steps", "0"),
                                        ("--downscale", "-1"), ("--grid-resolution", "0")])
def test_bad_train_flags_are_one_line(cube, tmp_path, capsys, flag, value):
    """Defect 4 (train flags): `train --lr 0`, `--max-steps -3` (was: silently 0 steps), `--max-steps 0` (was:
    silently 20000) stop with one line naming the flag, exit 2, before any work."""
    assert main(["train", "--data", str(cube), "--output", str(tmp_path / "o"), flag, value, "--no-progress"]) == 2
    _one_line(capsys, 2, flag)
    assert not (tmp_path / "o").exists()
