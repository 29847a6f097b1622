"""Issue 12 acceptance: fuzz the fixture datasets' JSON and the camera paths through the real CLI entry.

Hypothesis mutates the JSON (wrong types, missing keys, extreme numbers, NaN/inf, nested garbage) and runs
``scenegen train`` (dataset loading and the whole training set-up; the training loop itself is replaced by a
no-op so an example takes a fraction of a second), ``scenegen path validate``, ``scenegen path info`` and
``scenegen render`` (its camera-path pre-flight) through :func:`scenegen.cli.main.main`. Every example must end
with exit code 0 or 2, print no traceback (an error is one line), raise no numpy/Python warning, and write
nothing outside the output folder.

The examples are the same on every run (tests/conftest.py's "repeatable" profile); explore new ones with
``--hypothesis-profile=explore`` (and more of them with ``SCENEGEN_FUZZ_EXAMPLES=500``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenegen.cli import main as cli
from scenegen.pipelines import train as train_pipeline
from scenegen.train.trainer import TrainResult

FIX = Path(__file__).parent / "fixtures" / "data"
PATHS = Path(__file__).parent / "fixtures" / "camera_paths"

DATASETS = {  # fixture dataset -> its JSON files
    "nerfstudio": ["transforms.json"],
    "blender": ["transforms_train.json", "transforms_test.json"],
    "instant-ngp": ["transforms.json"],
}
CAMERA_PATHS = ["viewer-export-7kf.json", "viewer-v1-export-16kf.json"]

EXTREMES = [0, -1, 1, 2**63, -(2**70), 1e308, -1e308, 1e-320, math.nan, math.inf, -math.inf, "", "abc", "NaN",
            "../../../escape.png", "/etc/passwd", True, None, [], {}]
scalars = st.one_of(
    st.sampled_from(EXTREMES),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
)
garbage = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=4), c, max_size=3),
                       max_leaves=8)


def _mutate(data, draw) -> object:
    """Mutate one node of the JSON tree ``data`` (drawn interactively): replace it, delete it or add a key."""
    if isinstance(data, (dict, list)) and data and draw(st.integers(0, 3)) > 0:
        keys = list(data.keys()) if isinstance(data, dict) else list(range(len(data)))
        k = draw(st.sampled_from(keys))
        action = draw(st.sampled_from(["descend", "descend", "descend", "replace", "delete"]))
        if action == "descend":
            data[k] = _mutate(data[k], draw)
        elif action == "replace":
            data[k] = draw(garbage)
        elif isinstance(data, dict):
            del data[k]
        else:
            data.pop(k)
        return data
    if isinstance(data, dict) and draw(st.booleans()):
        data[draw(st.sampled_from(["metadata", "up", "near_far", "sparse_depth_file", "depth_unit_scale",
                                   "aabb", "camera_model", "fl_x", "w", "h", "frames", "keyframes"]))] = draw(garbage)
        return data
    return draw(garbage)


def _snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` except under ``skip``: name -> (size, mtime_ns)."""
    out = {}
    for p in root.rglob("*"):
        if skip in p.parents or p == skip:
            continue
        st_ = p.lstat()
        out[str(p)] = (st_.st_size, st_.st_mtime_ns)
    return out


def _run_cli(args: list[str]) -> tuple[int, str, list]:
    """The real CLI entry in process: (exit code, stderr, warnings raised)."""
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("always")
        code = cli.main([str(a) for a in args])
    return code, err.getvalue(), [w for w in caught if not issubclass(w.category, (DeprecationWarning,
                                                                                   PendingDeprecationWarning))]


def _check(code: int, err: str, caught: list, what: str) -> None:
    assert code in (0, 2), f"{what}: exit {code}\n{err}"
    assert "Traceback" not in err, f"{what}:\n{err}"
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines and lines[-1].startswith("error: "), f"{what}:\n{err}"
        assert sum(ln.startswith("error: ") for ln in lines) == 1, f"{what}:\n{err}"
    assert not caught, f"{what}: warnings {[str(w.message) for w in caught]}\n{err}"


def _no_training(self):
    """Stands in for the training loop: the set-up (dataset, images, depth, scene transform, run record) ran."""
    return TrainResult(run_dir=self.run_dir, steps=0, seconds=0.0, last_eval_psnr=None)


FUZZ = settings(max_examples=int(os.environ.get("SCENEGEN_FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(kind=st.sampled_from(sorted(DATASETS)), data=st.data())
def test_fuzz_dataset_json(kind, data):
    """Mutated dataset JSON through `scenegen train`: exit 0 or 2, one line, nothing written outside --output."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ds = tmp / "ds"
        shutil.copytree(FIX / kind, ds)
        name = data.draw(st.sampled_from(DATASETS[kind]))
        doc = json.loads((ds / name).read_text())
        for _ in range(data.draw(st.integers(1, 3))):
            doc = _mutate(doc, data.draw)
        (ds / name).write_text(json.dumps(doc))
        out = tmp / "out"
        before = _snapshot(tmp, out)
        with mock.patch.object(train_pipeline.Trainer, "train", _no_training):
            code, err, caught = _run_cli(["train", "--data", ds, "--output", out, "--max-steps", "1",
                                          "--threads", "1", "--eval-every", "0", "--no-progress"])
        _check(code, err, caught, f"{kind}/{name}: {json.dumps(doc)[:400]}")
        assert _snapshot(tmp, out) == before, "files changed outside the output folder"


@FUZZ
@given(name=st.sampled_from(CAMERA_PATHS), data=st.data())
def test_fuzz_camera_path(name, data):
    """Mutated camera paths through `path validate`, `path info` and `render`'s pre-flight: exit 0 or 2."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        doc = json.loads((PATHS / name).read_text())
        for _ in range(data.draw(st.integers(1, 3))):
            doc = _mutate(doc, data.draw)
        cp = tmp / "path.json"
        cp.write_text(json.dumps(doc))
        out = tmp / "out"
        before = _snapshot(tmp, out)
        for args in (["path", "validate", cp], ["path", "info", cp],
                     ["render", "--run", tmp / "norun", "--camera-path", cp, "--output", out / "tour.mp4"]):
            code, err, caught = _run_cli(args)
            _check(code, err, caught, f"{args[:2]} {name}: {json.dumps(doc)[:400]}")
        assert _snapshot(tmp, out) == before, "files changed outside the output folder"
