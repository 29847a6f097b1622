"""Issue 12 acceptance (train part): kill -9 at random moments during `scenegen train`, then resume, ten times:
every trial ends with tensors and metrics identical to an uninterrupted run, no temporary file left
(scripts/kill_train.py; slow, so heavy)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.heavy
def test_kill_minus_nine_during_train_then_resume_is_exact(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "kill_train.py"), "--kills", "10", "--workdir",
                        str(tmp_path)], capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "10 kills" in r.stdout
