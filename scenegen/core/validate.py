"""JSON field validation, one set of helpers for every file scenegen reads (datasets, camera paths, scene specs,
run records, tour specs).

Each helper takes the raw JSON value, the file it came from and the field's name (``frames[3].transform_matrix``)
and either returns a clean Python value or raises :class:`InputError` naming the file and the field, so a bad
input stops with one line. Booleans are never numbers, strings are never numbers, NaN and infinity are refused.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from scenegen.core.errors import InputError

__all__ = [
    "describe",
    "read_json",
    "read_json_text",
    "read_json_object",
    "number",
    "positive",
    "non_negative",
    "in_range",
    "unit_interval",
    "integer",
    "positive_int",
    "pixel_size",
    "boolean",
    "string",
    "choice",
    "vector",
    "matrix",
    "is_number",
    "output_dir",
    "output_file",
    "flag_number",
    "flag_values",
    "FLAG_LIMIT",
]


def describe(value: Any, limit: int = 60) -> str:
    """A short printable form of a JSON value for error messages (``"abc"``, ``[1, 2]``, ``nan``)."""
    try:
        text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_json(path: str | Path, what: str = "file", field: str | None = None) -> Any:
    """Parse a JSON file (UTF-8, a BOM allowed). Every failure is one :class:`InputError` naming the file.

    Args:
        what: what the file is, for messages ("camera path", "scene spec").
        field: the flag or field that named the file, when the message should name it (``--spec``).
    """
    return read_json_text(path, what, field)[0]


def read_json_text(path: str | Path, what: str = "file", field: str | None = None) -> tuple[Any, str]:
    """:func:`read_json`, also returning the decoded text (e.g. to write the file back in the same layout)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=path, field=field) from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory, expected a JSON file", file=path, field=field) from None
    except OSError as e:
        raise InputError(f"cannot read {what}: {e.strerror or e}", file=path, field=field) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"not UTF-8 text (byte {e.start}): not a JSON {what}", file=path, field=field) from None
    try:
        return json.loads(text), text
    except json.JSONDecodeError as e:
        where = f"line {e.lineno} column {e.colno}"
        raise InputError(f"not valid JSON: {e.msg}", file=path, field=field or where) from None
    except RecursionError:
        raise InputError("not valid JSON: nested too deeply", file=path, field=field) from None


def read_json_object(path: str | Path, what: str = "file", field: str | None = None) -> dict:
    """:func:`read_json` for files whose top level must be a JSON object."""
    data = read_json(path, what, field)
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object at the top level, got {type(data).__name__}", file=path, field=field)
    return data


def is_number(value: Any) -> bool:
    """A finite JSON number (bools and strings are not numbers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def number(value: Any, file: Any, field: str) -> float:
    """A finite JSON number (not a bool, not a string)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"must be a number, got {describe(value)}", file=file, field=field)
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"must be a finite number, got {v}", file=file, field=field)
    return v


def positive(value: Any, file: Any, field: str) -> float:
    v = number(value, file, field)
    if v <= 0:
        raise InputError(f"must be positive, got {describe(value)}", file=file, field=field)
    return v


def non_negative(value: Any, file: Any, field: str) -> float:
    v = number(value, file, field)
    if v < 0:
        raise InputError(f"must not be negative, got {describe(value)}", file=file, field=field)
    return v


def in_range(
    value: Any, file: Any, field: str, lo: float, hi: float, *, unit: str = "", open_lo: bool = False,
    open_hi: bool = False,
) -> float:
    """A number in [lo, hi] (``open_lo``/``open_hi`` exclude an end); ``unit`` is named in the message."""
    v = number(value, file, field)
    if v < lo or v > hi or (open_lo and v == lo) or (open_hi and v == hi):
        left, right = "(" if open_lo else "[", ")" if open_hi else "]"
        unit_txt = f" {unit}" if unit else ""
        raise InputError(f"must be in {left}{lo:g}, {hi:g}{right}{unit_txt}, got {describe(value)}", file, field)
    return v


def unit_interval(value: Any, file: Any, field: str) -> float:
    return in_range(value, file, field, 0.0, 1.0)


def integer(value: Any, file: Any, field: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number (``3`` and ``3.0`` both accepted), optionally within [lo, hi]."""
    v = number(value, file, field)
    if v != int(v):
        raise InputError(f"must be a whole number, got {describe(value)}", file=file, field=field)
    v = int(v)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        bounds = f"at least {lo}" if hi is None else f"at most {hi}" if lo is None else f"between {lo} and {hi}"
        raise InputError(f"must be {bounds}, got {describe(value)}", file=file, field=field)
    return v


def positive_int(value: Any, file: Any, field: str) -> int:
    """A positive integer; integral floats such as ``1080.0`` (newer nerfstudio exports) are accepted."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"must be a positive integer, got {describe(value)}", file=file, field=field)
    v = float(value)
    if not math.isfinite(v) or v <= 0 or v != int(v):
        raise InputError(f"must be a positive integer, got {describe(value)}", file=file, field=field)
    return int(v)


def pixel_size(value: Any, file: Any, field: str) -> int:
    """An image size in pixels: a positive whole number (270 and 270.0 both accepted, 269.9999999 rounds)."""
    v = positive(value, file, field)
    if abs(v - round(v)) > 1e-6:
        raise InputError(f"must be a whole number of pixels, got {v}", file=file, field=field)
    return int(round(v))


def boolean(value: Any, file: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"must be true or false, got {describe(value)}", file=file, field=field)
    return value


def string(value: Any, file: Any, field: str, *, non_empty: bool = True) -> str:
    if not isinstance(value, str) or (non_empty and not value.strip()):
        kind = "a non-empty string" if non_empty else "a string"
        raise InputError(f"must be {kind}, got {describe(value)}", file=file, field=field)
    return value


def choice(value: Any, file: Any, field: str, options: Iterable[Any], what: str = "value") -> Any:
    """One of ``options`` (compared by equality; a list or object given where a name belongs is refused)."""
    options = list(options)
    if isinstance(value, (list, dict)) or value not in options:
        known = ", ".join(str(o) for o in options)
        raise InputError(f"unknown {what} {describe(value)} (known: {known})", file=file, field=field)
    return value


def vector(value: Any, file: Any, field: str, length: int = 3) -> np.ndarray:
    """A list of ``length`` finite numbers -> float64 array."""
    if not isinstance(value, (list, tuple)) or len(value) != length:
        raise InputError(f"must be a list of {length} numbers, got {describe(value)}", file=file, field=field)
    return np.array([number(x, file, f"{field}[{k}]") for k, x in enumerate(value)], dtype=np.float64)


def matrix(value: Any, rows: tuple[int, ...], file: Any, field: str, cols: int = 4) -> np.ndarray:
    """A matrix given nested or flat (row-major) -> (r, cols) float64 for r in ``rows``."""
    want = " or ".join(f"{r}x{cols}" for r in rows)
    if not isinstance(value, (list, tuple)):
        raise InputError(f"must be a list of numbers (a row-major {want} matrix), got {describe(value)}", file, field)
    if value and all(isinstance(r, (list, tuple)) for r in value):
        if len(value) not in rows or any(len(r) != cols for r in value):
            shape = f"{len(value)} rows of lengths {[len(r) for r in value]}"
            raise InputError(f"must be a {want} matrix, got {shape}", file=file, field=field)
        flat = [x for r in value for x in r]
    else:
        flat = list(value)
        if len(flat) not in tuple(cols * r for r in rows):
            sizes = " or ".join(str(cols * r) for r in rows)
            raise InputError(f"must have {sizes} numbers (a row-major {want} matrix), got {len(flat)}", file, field)
    out = np.empty(len(flat), dtype=np.float64)
    for k, x in enumerate(flat):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise InputError(f"element {k} must be a number, got {describe(x)}", file=file, field=field)
        if not math.isfinite(float(x)):
            raise InputError(f"element {k} must be a finite number, got {float(x)}", file=file, field=field)
        out[k] = float(x)
    return out.reshape(-1, cols)


def _blocking_parent(path: Path) -> Path | None:
    """The first existing ancestor of ``path`` that is not a folder (so nothing can be created under it)."""
    for parent in path.absolute().parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def output_dir(path: str | Path, field: str) -> Path:
    """A folder scenegen will write into (given by flag ``field``): it may exist (as a folder) or not yet, but
    must not be a file nor lie under one."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError("is a file, expected a folder (or a path to create one)", file=path, field=field)
    blocker = _blocking_parent(path)
    if blocker is not None:
        raise InputError(f"cannot create it: {blocker} is a file, not a folder", file=path, field=field)
    return path


def output_file(path: str | Path, field: str) -> Path:
    """A file scenegen will write (given by flag ``field``): not an existing folder, not under a file."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder, expected a file name", file=path, field=field)
    blocker = _blocking_parent(path)
    if blocker is not None:
        raise InputError(f"cannot create it: {blocker} is a file, not a folder", file=path, field=field)
    return path


def flag_number(value: Any, field: str, *, lo: float | None = None, hi: float | None = None,
                open_lo: bool = False, whole: bool = False, hint: str = "", file: Any = None) -> float:
    """A command-line flag's number (``field`` is the flag, ``--lr``; or a saved config's field, with ``file``)
    within [lo, hi] (``open_lo``: lo excluded); ``whole``: an integer. ``hint`` is appended to the message (what
    to give instead)."""
    v = integer(value, file, field) if whole else number(value, file, field)
    low_bad = lo is not None and (v < lo or (open_lo and v == lo))
    if low_bad or (hi is not None and v > hi):
        if lo is not None and hi is not None:
            bounds = f"in {'(' if open_lo else '['}{lo:g}, {hi:g}]"
        elif lo is not None:
            bounds = ("greater than " if open_lo else "at least ") + f"{lo:g}"
        else:
            bounds = f"at most {hi:g}"
        raise InputError(f"must be {bounds}, got {describe(value)}{'; ' + hint if hint else ''}", file=file,
                         field=field)
    return v


FLAG_LIMIT = 1e9
"""Largest magnitude of any numeric command-line flag (coordinates, sizes, seconds): beyond it, squares and
products overflow float arithmetic long before any real scene needs it."""

_UNLIMITED_FLAGS = ("seed",)


def flag_values(cfg: Any, prefix: str = "--", limit: float = FLAG_LIMIT) -> Any:
    """Check every numeric flag of a config dataclass (nested ones and tuples included) at once: finite (``nan``
    and ``inf`` parse as floats) and at most ``limit`` in magnitude (``seed`` excepted). Flags are named as the
    CLI spells them (``--field.grid.levels``; a nested config marked ``OmitArgPrefixes`` adds no prefix).
    Range checks that depend on the flag's meaning stay in each config's ``validate()``. Returns ``cfg``."""
    try:
        hints = typing.get_type_hints(type(cfg), include_extras=True)
    except Exception:  # noqa: BLE001 - unresolvable annotations: no prefix information, names still right
        hints = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        flag = prefix + f.name.replace("_", "-")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            omit = "OmitArgPrefixes" in repr(hints.get(f.name, ""))
            flag_values(value, prefix if omit else flag + ".", limit)
            continue
        for x in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                continue
            if not math.isfinite(x):
                raise InputError(f"must be a finite number, got {x}", field=flag)
            if abs(x) > limit and f.name not in _UNLIMITED_FLAGS:
                raise InputError(f"must be at most {limit:g} in magnitude, got {x:g}", field=flag)
    return cfg
