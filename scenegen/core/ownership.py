"""Output ownership records: scenegen only ever replaces or removes files it wrote itself.

Every folder scenegen writes into (PNG frames, run folders, capture folders, generated datasets, the hidden
frames folder beside a video) holds a record, ``.scenegen-owned.json``, listing (relative paths) the files
scenegen created there. A name is claimed in the record BEFORE the file is written, so that a kill at any moment
leaves every scenegen file listed. Only listed files may be replaced or removed; a file of the same name that the
record does not list (the user's) stops the command with one line. A folder that is not empty and has no record
is refused, unless the caller knows how to recognise an older scenegen output and adopt it (see ``adopt``).

At start, temporary files of dead scenegen processes (:func:`scenegen.core.io.clean_stale_temps`) are removed
from the folder and from its listed subfolders.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text, clean_stale_temps, fsync_dir, safe_child

__all__ = ["RECORD", "OwnedDir"]

RECORD = ".scenegen-owned.json"
_FORMAT = "scenegen-owned-1"

#: ``adopt(folder) -> relative paths`` of an older scenegen output found without a record (None: not one).
Adopt = Callable[[Path], "Iterable[str] | None"]


class OwnedDir:
    """A folder scenegen writes into, with its ownership record.

    Usage::

        out = OwnedDir.open(folder, kind="frames", field="--frames")   # refuses a foreign non-empty folder
        out.claim(["00000.png", "depth/00000.npz"])                    # before writing them
        out.may_replace("00000.png")                                   # True: scenegen wrote it
        out.remove("00000.png")                                        # only listed files are ever removed
    """

    def __init__(self, path: Path, kind: str, files: set[str], field: str | None):
        self.path = path
        self.kind = kind
        self.files = files
        self.field = field

    # -- opening ---------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, kind: str, *, field: str | None = None, adopt: Adopt | None = None,
             ignore: Iterable[str] = ()) -> "OwnedDir":
        """Create ``path`` (or open it), read or create its record and clean stale temporary files.

        Args:
            kind: what the folder holds ("frames", "run", "capture", "dataset"); a record of another kind is
                refused (e.g. ``--frames`` pointed at a run folder).
            field: the flag that named the folder, for messages.
            adopt: recognises an older scenegen output without a record; returns the files to list.
            ignore: names that do not make a folder "not empty" (e.g. a file the command itself reads there).
        Raises:
            InputError: ``path`` is a file, holds a record of another kind or an unreadable record, or is not
                empty and has no record (and ``adopt`` does not recognise it).
        """
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise InputError("is a file, expected a folder", file=path, field=field)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"cannot create the folder: {e.strerror or e}", file=path, field=field) from None
        clean_stale_temps(path)
        record = path / RECORD
        if record.is_file():
            files = cls._read(record, kind, field)
        else:
            present = sorted(p.name for p in path.iterdir() if p.name not in set(ignore))
            adopted = adopt(path) if (present and adopt is not None) else None
            if present and adopted is None:
                shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
                raise InputError(
                    f"folder is not empty ({shown}) and was not written by scenegen (no {RECORD}): scenegen never "
                    "replaces files it did not write; choose an empty or new folder", file=path, field=field)
            files = {str(f) for f in (adopted or ())}
        owned = cls(path, kind, files, field)
        for sub in {f.split("/")[0] for f in files if "/" in f}:
            if (path / sub).is_dir():
                clean_stale_temps(path / sub)
        owned._save()
        return owned

    @staticmethod
    def _read(record: Path, kind: str, field: str | None) -> set[str]:
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            ok = (isinstance(data, dict) and data.get("format") == _FORMAT and isinstance(data.get("files"), list)
                  and all(isinstance(f, str) for f in data["files"]))
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise InputError("unreadable scenegen ownership record: scenegen will not touch this folder; move it "
                             "away or choose another folder", file=record, field=field)
        if data.get("kind") != kind:
            raise InputError(f"this folder holds a scenegen {data.get('kind')!r} output, not {kind!r}: choose "
                             "another folder", file=record.parent, field=field)
        return set(data["files"])

    def _save(self) -> None:
        atomic_write_text(self.path / RECORD, json.dumps(
            {"format": _FORMAT, "kind": self.kind, "files": sorted(self.files)}, indent=0), "ownership record")

    # -- queries and changes ---------------------------------------------------------------------------------

    def child(self, rel: str) -> Path:
        return safe_child(self.path, rel, file=self.path, field=self.field)

    def owns(self, rel: str) -> bool:
        return rel in self.files

    def may_replace(self, rel: str) -> bool:
        """True when scenegen may write ``rel``: it does not exist, or the record lists it."""
        p = self.child(rel)
        return rel in self.files or not (p.exists() or p.is_symlink())

    def claim(self, rels: str | Iterable[str]) -> None:
        """List ``rels`` in the record (before writing them). Raises InputError naming a file that exists and is
        not scenegen's."""
        rels = [rels] if isinstance(rels, str) else list(rels)
        new = [r for r in rels if r not in self.files]
        for r in new:
            if not self.may_replace(r):
                raise InputError("a file scenegen did not write is in the way (scenegen never replaces it): move it "
                                 "or choose another folder", file=self.child(r), field=self.field)
        # folders on the way belong to scenegen when scenegen creates them
        for r in new:
            parts = r.split("/")[:-1]
            for k in range(1, len(parts) + 1):
                d = "/".join(parts[:k]) + "/"
                if d not in self.files and not (self.path / d).exists():
                    self.files.add(d)
        if new:
            self.files.update(new)
            self._save()

    def remove(self, rels: str | Iterable[str]) -> None:
        """Remove the listed files among ``rels`` (others are left alone) and drop them from the record."""
        rels = [rels] if isinstance(rels, str) else list(rels)
        gone = []
        for r in rels:
            if r in self.files and not r.endswith("/"):
                try:
                    self.child(r).unlink(missing_ok=True)
                except IsADirectoryError:
                    continue
                gone.append(r)
        if gone:
            self.files.difference_update(gone)
            self._remove_empty_dirs()
            self._save()

    def remove_all(self) -> bool:
        """Remove every listed file, then the record and the folder if nothing else is left in it.

        Returns True when the folder itself was removed."""
        self.remove([f for f in self.files if not f.endswith("/")])
        self._remove_empty_dirs(all_listed=True)
        leftover = [p for p in self.path.iterdir() if p.name != RECORD]
        if leftover:
            return False
        (self.path / RECORD).unlink(missing_ok=True)
        try:
            self.path.rmdir()
        except OSError:
            return False
        fsync_dir(self.path.parent)
        return True

    def _remove_empty_dirs(self, all_listed: bool = False) -> None:
        """Remove listed subfolders left empty (deepest first)."""
        dirs = sorted((f for f in self.files if f.endswith("/")), key=lambda f: -f.count("/"))
        changed = False
        for d in dirs:
            p = self.path / d.rstrip("/")
            if any(f.startswith(d) for f in self.files if f != d):
                continue
            try:
                if p.is_dir() and not any(p.iterdir()):
                    p.rmdir()
                if not p.exists():
                    self.files.discard(d)
                    changed = True
            except OSError:
                pass
        del all_listed, changed

    def listed(self, prefix: str = "") -> list[str]:
        return sorted(f for f in self.files if f.startswith(prefix) and not f.endswith("/"))


def owned_path_exists(path: Path) -> bool:
    """True when ``path`` holds an ownership record."""
    return (Path(path) / RECORD).is_file() and os.access(path, os.R_OK)
