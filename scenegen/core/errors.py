"""User-facing errors.

Every problem caused by the user's input (a file, a flag, a field in a JSON file) is raised as an
:class:`InputError`. The CLI catches it and prints exactly one line, ``error: <file>: <field>: <message>``,
then exits with code 2 and no traceback.
"""

from __future__ import annotations

from pathlib import Path


class ScenegenError(Exception):
    """Base class of errors that the CLI reports as one line with exit code 2."""

    exit_code = 2


class InputError(ScenegenError):
    """Bad user input: names the file and (when known) the field at fault."""

    def __init__(self, message: str, file: str | Path | None = None, field: str | None = None):
        self.file = str(file) if file is not None else None
        self.field = field
        self.message = message
        parts = [p for p in (self.file, self.field) if p]
        super().__init__(": ".join(parts + [message]))


class MissingDependencyError(ScenegenError):
    """An optional system library or package is missing; the message says how to install it."""
