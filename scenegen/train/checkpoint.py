"""Checkpoint files: atomic writes, safe loads, validated contents, and the run folder's lock.

A checkpoint is serialised in memory, written to a temporary file in the same folder, flushed and fsync'ed,
then renamed over the old one, so an interrupted write (Ctrl-C, kill -9, a full disk) never leaves a truncated
or missing checkpoint. It holds only plain data (tensors, dicts, lists, numbers, strings), so it loads with
``torch.load(..., weights_only=True)``: loading a checkpoint never runs code, whoever wrote the file.
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
from pathlib import Path

import torch

from scenegen.core.errors import InputError, ScenegenError
from scenegen.core.io import atomic_output, atomic_write_bytes, atomic_write_text  # noqa: F401 (re-exported)

CHECKPOINT_ENTRIES = ("version", "step", "config", "scene", "field", "grid", "optimizer")
"""Entries every checkpoint holds (``num_rays``, ``train_seconds``, ``budget_used``, ``ema_loss`` optional)."""

LOCK_FILE = ".scenegen_train.lock"

RUN_TEMP_NAMES = ("checkpoints/latest.pt", "config.json", "scene.json", "metrics.jsonl")
"""Files of a run folder written through a temporary file ``.<name>.*.tmp`` beside them."""


def _os_error_in_chain(e: BaseException) -> OSError | None:
    """The OSError that caused ``e`` (torch wraps disk errors in RuntimeError), or None."""
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, OSError):
            return e
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return None


def save_checkpoint(path: Path, state: dict) -> None:
    """Save ``state`` to ``path`` atomically: the previous checkpoint stays intact on any failure, and a failure
    to write (a full disk) is one :class:`ScenegenError` line saying so."""
    path = Path(path)
    buf = io.BytesIO()
    torch.save(state, buf)  # in memory: a disk error cannot hide inside torch's RuntimeError
    had_previous = path.is_file()
    try:
        with atomic_output(path, "checkpoint") as f:
            f.write(buf.getbuffer())
    except Exception as e:
        ose = _os_error_in_chain(e)
        if ose is None:
            raise
        kept = ("the previous checkpoint is intact; free space and continue with --resume" if had_previous
                else "no checkpoint was written")
        raise ScenegenError(f"{path}: could not write the checkpoint at step {state.get('step')} "
                            f"({ose.strerror or ose}); {kept}") from None


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Load a checkpoint safely (``weights_only=True``: no Python object in the file is ever constructed).

    Raises InputError (one line naming the file) for a missing, corrupt or unsafe file and for one that lacks
    an entry of :data:`CHECKPOINT_ENTRIES`; see :func:`validate_checkpoint` for the entries' contents."""
    path = Path(path)
    if not path.is_file():
        raise InputError("checkpoint not found", file=path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        if isinstance(e, OSError) or _os_error_in_chain(e) is not None:
            ose = _os_error_in_chain(e)
            raise InputError(f"cannot read the checkpoint: {ose.strerror or ose}", file=path) from None
        if "weights_only" in str(e) or "Unsupported global" in str(e) or "Unpickler" in type(e).__name__:
            raise InputError(
                "refused to load: the checkpoint holds Python objects, which could run code when loaded (scenegen "
                "checkpoints hold only tensors and plain data); it was not written by scenegen or was altered. "
                "Train the run again, or ask whoever shared it for the run's original files",
                file=path,
            ) from None
        raise InputError(f"not a readable scenegen checkpoint ({type(e).__name__})", file=path) from None
    return validate_checkpoint(ckpt, path)


def validate_checkpoint(ckpt, path: Path) -> dict:
    """Check the structure of a loaded checkpoint: every entry present with the right kind of value.

    The config is validated by :meth:`TrainConfig.from_dict` and the scene by :meth:`RunScene.from_dict` where
    they are used (both raise InputError naming the file and the entry); tensor shapes are checked against the
    model the config describes by :func:`load_state` ."""
    if not isinstance(ckpt, dict):
        raise InputError(f"not a scenegen checkpoint (holds a {type(ckpt).__name__}, expected a dict)", file=path)
    for key in CHECKPOINT_ENTRIES:
        if key not in ckpt:
            raise InputError("the checkpoint lacks this entry (not a complete scenegen checkpoint)", file=path,
                             field=key)
    step = ckpt["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise InputError(f"must be a whole number >= 0, got {step!r}", file=path, field="step")
    for key in ("config", "scene", "field", "grid", "optimizer"):
        if not isinstance(ckpt[key], dict):
            raise InputError(f"must be a dict, got {type(ckpt[key]).__name__}", file=path, field=key)
    for key in ("field", "grid"):
        for name, t in ckpt[key].items():
            if not isinstance(t, torch.Tensor):
                raise InputError(f"must be a tensor, got {type(t).__name__}", file=path, field=f"{key}.{name}")
    opt = ckpt["optimizer"]
    if not isinstance(opt.get("state"), dict) or not isinstance(opt.get("param_groups"), list):
        raise InputError("must hold 'state' and 'param_groups' (an optimizer state)", file=path, field="optimizer")
    for key in ("train_seconds", "budget_used", "ema_loss", "num_rays"):
        val = ckpt.get(key)
        if val is not None and (isinstance(val, bool) or not isinstance(val, (int, float)) or val != val or val < 0):
            raise InputError(f"must be a number >= 0, got {val!r}", file=path, field=key)
    return ckpt


def load_state(module_or_optimizer, state: dict, path: Path, entry: str) -> None:
    """``load_state_dict`` with a shape or structure mismatch reported as one line naming the entry."""
    try:
        module_or_optimizer.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"does not match the model its config describes ({first[:200]})", file=path,
                         field=entry) from None


# ----------------------------------------------------------------------------------------------------------------
# The run folder's lock and stale temporary files
# ----------------------------------------------------------------------------------------------------------------


class RunLock:
    """An exclusive lock on a run folder, held while ``scenegen train`` writes it (released by the kernel when
    the process dies, kill -9 included). Holding it proves that temporary files left in the folder belong to
    dead processes, so :meth:`acquire` removes them."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.fd: int | None = None

    def acquire(self) -> list[Path]:
        """Lock the folder (InputError when another live process holds it); returns the stale files removed."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise InputError(f"cannot create the run folder here ({e.strerror or e})", file=self.run_dir,
                             field="--output") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise InputError("another scenegen process is training this run now; wait for it or choose "
                                 "another --output", file=self.run_dir) from None
            raise
        self.fd = fd
        return remove_stale_temps(self.run_dir)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Remove ``.<name>.*.tmp`` files of killed writers beside the run's files (call with the run lock held)."""
    removed = []
    for rel in RUN_TEMP_NAMES:
        target = Path(run_dir) / rel
        if not target.parent.is_dir():
            continue
        for p in target.parent.glob(f".{target.name}.*.tmp"):
            try:
                p.unlink()
                removed.append(p)
            except FileNotFoundError:
                pass
    return removed
