"""The keyframe editor's logic, without a browser: a :class:`~scenegen.paths.PathSpec` being edited, the selected
keyframe, an undo / redo stack, load / save of ``camera_path.json`` and an atomic autosave.

The web page (:mod:`scenegen.viewer.panel`) only binds its buttons and fields to :class:`PathEditor`'s methods;
every edit goes through here, so what the tests check is what the page does. Each edit is one undo step. An edit
that would make the path invalid (a negative hold, an unknown camera type) raises
:class:`~scenegen.core.errors.InputError` and leaves the path as it was.

Poses are OpenGL camera-to-world (camera looks down -Z, +Y image up) in the run's world units, as in the path
file.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np

from scenegen.core.errors import InputError
from scenegen.paths import Keyframe, PathSpec, load_path_spec, sample_path, sample_path_at, save_path_spec
from scenegen.paths.interpolate import keyframe_times
from scenegen.paths.model import matrix_from_quat, quat_from_matrix

__all__ = ["PathEditor", "UNDO_LIMIT", "parse_pose", "pose_text"]

UNDO_LIMIT = 200
"""Undo steps kept (older ones are dropped)."""

MERGED = ("move keyframe",)
"""Edits merged into one undo step when the same keyframe gets them within :data:`MERGE_SECONDS` of each other."""
MERGE_SECONDS = 1.0

#: path settings :meth:`PathEditor.set_settings` accepts (PathSpec attribute names).
SETTINGS = ("width", "height", "fps", "camera_type", "smoothness", "loop", "default_fov", "default_transition",
            "constant_speed", "ease")


class PathEditor:
    """A camera path being edited.

    Args:
        spec: the starting path (default: an empty 1920x1080, 30 fps path).
        autosave: a file written (atomically) after every change, so a closed page loses nothing; None: off.

    Attributes:
        spec: the current :class:`PathSpec` (may have no keyframes while being edited).
        selected: index of the selected keyframe, or None.
        version: increases with every change (the page redraws when it moves).
    """

    def __init__(self, spec: Optional[PathSpec] = None, autosave: str | Path | None = None):
        self.spec = spec if spec is not None else PathSpec([])
        self.selected: Optional[int] = None
        self.version = 0
        self.autosave_file = Path(autosave) if autosave is not None else None
        self.autosave_error: Optional[str] = None
        self._undo: list[tuple[PathSpec, Optional[int], str]] = []
        self._redo: list[tuple[PathSpec, Optional[int], str]] = []
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.RLock()
        self._cache: dict[str, Any] = {}
        self._last_edit: tuple = ("", None, 0.0)

    # -- observers -------------------------------------------------------------------------------------------

    def on_change(self, fn: Callable[[str], None]) -> None:
        """Call ``fn(what)`` after every change (``what``: the edit's label, e.g. "add keyframe", "undo")."""
        self._listeners.append(fn)

    def _notify(self, what: str) -> None:
        self.version += 1
        self._cache.clear()
        self._autosave()
        for fn in list(self._listeners):
            fn(what)

    def _autosave(self) -> None:
        if self.autosave_file is None:
            return
        try:
            self.autosave_file.parent.mkdir(parents=True, exist_ok=True)
            save_path_spec(self.spec, self.autosave_file)
            self.autosave_error = None
        except (OSError, InputError, ValueError) as e:  # a full disk must not stop editing; the page says so
            self.autosave_error = f"autosave failed: {e}"

    # -- the undo stack --------------------------------------------------------------------------------------

    @contextmanager
    def _edit(self, label: str) -> Iterator[PathSpec]:
        """One undoable edit of ``self.spec``: restored when the body raises or leaves the path invalid."""
        with self._lock:
            before = (copy.deepcopy(self.spec), self.selected)
            try:
                yield self.spec
                self.spec.validate(allow_empty=True)
            except BaseException:
                self.spec, self.selected = before
                raise
            now = time.monotonic()
            merge = (label in MERGED and self._last_edit[:2] == (label, self.selected)
                     and now - self._last_edit[2] < MERGE_SECONDS and self._undo and self._undo[-1][2] == label)
            if not merge:  # a drag of the gizmo is one undo step, not one per mouse move
                self._undo.append((before[0], before[1], label))
                del self._undo[:-UNDO_LIMIT]
            self._last_edit = (label, self.selected, now)
            self._redo.clear()
            if self.selected is not None and not (0 <= self.selected < len(self.spec.keyframes)):
                self.selected = len(self.spec.keyframes) - 1 if self.spec.keyframes else None
        self._notify(label)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> Optional[str]:
        """Undo the last edit; returns its label (None: nothing to undo)."""
        with self._lock:
            self._last_edit = ("", None, 0.0)
            if not self._undo:
                return None
            spec, sel, label = self._undo.pop()
            self._redo.append((self.spec, self.selected, label))
            self.spec, self.selected = spec, sel
        self._notify("undo")
        return label

    def redo(self) -> Optional[str]:
        """Redo the last undone edit; returns its label (None: nothing to redo)."""
        with self._lock:
            if not self._redo:
                return None
            spec, sel, label = self._redo.pop()
            self._undo.append((self.spec, self.selected, label))
            self.spec, self.selected = spec, sel
        self._notify("redo")
        return label

    # -- keyframes -------------------------------------------------------------------------------------------

    @property
    def keyframes(self) -> list[Keyframe]:
        return self.spec.keyframes

    def _index(self, i: Optional[int]) -> int:
        i = self.selected if i is None else i
        n = len(self.spec.keyframes)
        if i is None or not (-n <= i < n):
            raise InputError(f"no keyframe {i} (the path has {n})", field="keyframe")
        return i % n

    def select(self, i: Optional[int]) -> None:
        """Select keyframe ``i`` (None: none). Not an undo step."""
        with self._lock:
            self.selected = None if i is None else self._index(i)
        self._notify("select")

    def add_keyframe(self, c2w: np.ndarray, fov: Optional[float] = None, aspect: Optional[float] = None,
                     at: Optional[int] = None) -> int:
        """Add a keyframe at camera-to-world ``c2w`` (e.g. the current view): inserted at index ``at`` (default:
        after the selected keyframe, else at the end) and selected.

        Args:
            fov: vertical degrees (default: the path's ``default_fov``).
            aspect: width / height (default: the path's).
        Returns:
            its index.
        """
        with self._edit("add keyframe") as spec:
            kf = Keyframe.from_c2w(np.asarray(c2w, dtype=np.float64),
                                   fov=spec.default_fov if fov is None else float(fov),
                                   aspect=spec.width / spec.height if aspect is None else float(aspect))
            n = len(spec.keyframes)
            if at is None:
                at = n if self.selected is None else self.selected + 1
            at = int(min(max(at, 0), n))
            spec.keyframes.insert(at, kf)
            self.selected = at
        return at

    def insert_between(self, i: Optional[int] = None) -> int:
        """Insert a keyframe halfway (in time) between keyframe ``i`` (default: the selected one) and the next
        one, on the current interpolated path, with the interpolated pose and fov; it is selected.

        Returns:
            its index.
        Raises:
            InputError: ``i`` is the last keyframe of an open path (there is no next one).
        """
        with self._lock:
            i = self._index(i)
            n = len(self.spec.keyframes)
            if i == n - 1 and not self.spec.loop:
                raise InputError("the last keyframe has no next one: select an earlier keyframe", field="keyframe")
            arrive, depart = keyframe_times(self.spec)
            t_end = arrive[i + 1] if i + 1 < n else self.spec.duration
            c2w, fov = sample_path_at(self.spec, [0.5 * (depart[i] + t_end)])
            src = self.spec.keyframes[i]
        with self._edit("insert keyframe") as spec:
            kf = Keyframe.from_c2w(c2w[0], fov=float(fov[0]), aspect=src.aspect)
            spec.keyframes.insert(i + 1, kf)
            self.selected = i + 1
        return i + 1

    def delete(self, i: Optional[int] = None) -> None:
        """Delete keyframe ``i`` (default: the selected one)."""
        with self._edit("delete keyframe") as spec:
            i = self._index(i)
            del spec.keyframes[i]
            n = len(spec.keyframes)
            self.selected = min(i, n - 1) if n else None

    def reorder(self, i: int, j: int) -> None:
        """Move keyframe ``i`` to index ``j`` (the others keep their order); it stays selected."""
        with self._edit("reorder keyframes") as spec:
            i = self._index(i)
            j = int(min(max(j, 0), len(spec.keyframes) - 1))
            kf = spec.keyframes.pop(i)
            spec.keyframes.insert(j, kf)
            self.selected = j

    def set_pose(self, i: Optional[int], c2w: np.ndarray) -> None:
        """Move keyframe ``i`` (default: the selected one) to camera-to-world ``c2w`` (the gizmo, or numbers
        typed in)."""
        with self._edit("move keyframe") as spec:
            kf = spec.keyframes[self._index(i)]
            try:
                kf.set_c2w(np.asarray(c2w, dtype=np.float64))
            except ValueError as e:
                raise InputError(str(e), field="pose") from None

    def set_keyframe(self, i: Optional[int] = None, **values: Any) -> None:
        """Set keyframe ``i``'s (default: the selected one) ``fov`` (vertical degrees), ``hold`` (seconds),
        ``transition`` (seconds to the next keyframe; None: the path's default) or ``name``."""
        bad = set(values) - {"fov", "hold", "transition", "name"}
        if bad:
            raise InputError(f"unknown keyframe setting {sorted(bad)[0]!r}", field="keyframe")
        with self._edit("keyframe " + ", ".join(sorted(values))) as spec:
            kf = spec.keyframes[self._index(i)]
            for k, v in values.items():
                setattr(kf, k, None if v is None else (str(v) if k == "name" else float(v)))

    def set_settings(self, **values: Any) -> None:
        """Set path settings: ``width``, ``height``, ``fps``, ``camera_type``, ``smoothness``, ``loop``,
        ``default_fov``, ``default_transition``, ``constant_speed``, ``ease``."""
        bad = set(values) - set(SETTINGS)
        if bad:
            raise InputError(f"unknown path setting {sorted(bad)[0]!r}", field="path")
        changed = {k: v for k, v in values.items() if getattr(self.spec, k) != v}
        if not changed:
            return
        with self._edit(", ".join(sorted(changed))) as spec:
            for k, v in changed.items():
                setattr(spec, k, v)

    def transform_all(self, m: np.ndarray) -> None:
        """Move the whole path at once by the rigid transform ``m`` (4, 4) applied in world coordinates
        (positions and orientations of every keyframe)."""
        m = np.asarray(m, dtype=np.float64)
        with self._edit("move path") as spec:
            for kf in spec.keyframes:
                kf.set_c2w(m @ kf.c2w())

    def replace(self, spec: PathSpec, label: str = "replace path") -> None:
        """Replace the whole path (a planner's output, a loaded file): one undo step."""
        spec.validate(allow_empty=True)
        with self._edit(label):
            self.spec = spec
            self.selected = 0 if spec.keyframes else None

    # -- files -----------------------------------------------------------------------------------------------

    def load(self, file: str | Path) -> None:
        """Load a path file (``scenegen path`` output, nerfstudio viewer exports of either layout); one undo step.

        Raises:
            InputError: one line naming the file and field; the path being edited is unchanged.
        """
        spec = load_path_spec(file, allow_empty=True)
        self.replace(spec, f"load {Path(file).name}")

    def save(self, file: str | Path) -> Path:
        """Write the path (atomically) as the JSON ``scenegen path`` writes. Raises InputError when it has no
        keyframe."""
        with self._lock:
            if not self.spec.keyframes:
                raise InputError("the path has no keyframes yet: add one first", file=file, field="keyframes")
            return save_path_spec(self.spec, file)

    def restore_autosave(self) -> bool:
        """Load the autosave file when there is one (not an undo step). A corrupt autosave is left in place
        and ignored; returns whether it was restored."""
        f = self.autosave_file
        if f is None or not f.is_file():
            return False
        try:
            spec = load_path_spec(f, allow_empty=True)
        except InputError as e:
            self.autosave_error = f"autosave not restored: {e}"
            return False
        with self._lock:
            self.spec = spec
            self.selected = 0 if spec.keyframes else None
            self.version += 1
            self._cache.clear()
        for fn in list(self._listeners):
            fn("restore")
        return True

    # -- what the page draws ---------------------------------------------------------------------------------

    def sampled(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rendered frames of the current path: c2w (N, 4, 4), fov (N,), times (N,); empty without
        keyframes. Cached until the next change."""
        with self._lock:
            if "sampled" not in self._cache:
                if not self.spec.keyframes:
                    self._cache["sampled"] = (np.zeros((0, 4, 4)), np.zeros(0), np.zeros(0))
                else:
                    self._cache["sampled"] = sample_path(self.spec)
            return self._cache["sampled"]

    def speeds(self) -> np.ndarray:
        """(N - 1,) world units per second between consecutive rendered frames."""
        c2w, _, _ = self.sampled()
        if len(c2w) < 2:
            return np.zeros(0)
        return np.linalg.norm(np.diff(c2w[:, :3, 3], axis=0), axis=1) * float(self.spec.fps)

    def pose_at(self, t: float) -> tuple[np.ndarray, float]:
        """Camera-to-world (4, 4) and vertical fov of the path at ``t`` seconds."""
        with self._lock:
            if not self.spec.keyframes:
                raise InputError("the path has no keyframes yet", field="keyframes")
            c2w, fov = sample_path_at(self.spec, [float(t)])
        return c2w[0], float(fov[0])

    def keyframe_times(self) -> np.ndarray:
        """(K,) seconds at which the camera arrives at each keyframe."""
        with self._lock:
            if not self.spec.keyframes:
                return np.zeros(0)
            return keyframe_times(self.spec)[0]


def pose_text(c2w: np.ndarray) -> str:
    """``x y z qw qx qy qz``: a camera-to-world as the position and the rotation quaternion (wxyz) of the path
    file, as the page shows and reads it."""
    c2w = np.asarray(c2w, dtype=np.float64)
    q = quat_from_matrix(c2w[:3, :3])
    return " ".join(f"{v:.6f}" for v in (*c2w[:3, 3], *q))


def parse_pose(text: str, up: Any = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Camera-to-world (4, 4) from ``x y z qw qx qy qz`` (position + quaternion wxyz) or ``x y z tx ty tz``
    (position + a point looked at, image up towards ``up``); commas or spaces.

    Raises:
        InputError: anything else (one line).
    """
    try:
        vals = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        vals = []
    if len(vals) not in (6, 7) or not np.all(np.isfinite(vals)):
        raise InputError("expected 7 numbers 'x y z qw qx qy qz' or 6 numbers 'x y z look_x look_y look_z'",
                         field="pose")
    p = np.asarray(vals[:3])
    if len(vals) == 7:
        q = np.asarray(vals[3:])
        if np.linalg.norm(q) < 1e-9:
            raise InputError("the quaternion is zero", field="pose")
        m = np.eye(4)
        m[:3, :3] = matrix_from_quat(q)
        m[:3, 3] = p
        return m
    try:
        return Keyframe.look_at(p, vals[3:], up).c2w()
    except ValueError as e:
        raise InputError(str(e), field="pose") from None
