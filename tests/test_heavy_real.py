"""Long quality checks on real data in ../shared (``-m heavy``; skipped when ../shared is absent).

The default suite stays fast; these repeat, as tests, what scripts/bench_train.py measures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"

pytestmark = [pytest.mark.heavy, pytest.mark.shared]


def _need(name: str) -> Path:
    p = SHARED / name
    if not p.is_dir():
        pytest.skip(f"{p} is absent")
    return p


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "scenegen.cli.main", *args], check=True)


def test_lego_five_minutes_reaches_28_db(tmp_path):
    data = _need("lego")
    run = tmp_path / "run"
    _cli("train", "--data", str(data), "--output", str(run), "--time-budget", "5", "--no-progress", "--eval-every", "0")
    _cli("eval", "--run", str(run), "--every", "4", "--no-progress")
    res = json.loads((run / "eval" / "eval.json").read_text())
    assert res["psnr"] >= 28.0, res["psnr"]


@pytest.mark.parametrize("name", ["fox", "fern"])
def test_real_unbounded_capture_trains_and_renders(name, tmp_path):
    """Real forward-facing / indoor captures (contracted space) train to a usable field."""
    data = _need(name)
    run = tmp_path / "run"
    _cli("train", "--data", str(data), "--output", str(run), "--time-budget", "2", "--no-progress", "--eval-every", "0")
    _cli("eval", "--run", str(run), "--every", "2", "--no-progress", "--save-images", "2")
    res = json.loads((run / "eval" / "eval.json").read_text())
    assert res["psnr"] >= 18.0, res["psnr"]
