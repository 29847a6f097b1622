"""The tour spec: a TOML file listing scenes (a dataset to train, or a trained run), their tours and formats.

Minimal form::

    [[scene]]
    name = "flat-12"
    data = "path/to/dataset"      # or: run = "path/to/run" (already trained)
    train_minutes = 5             # when data is given
    [[scene.tour]]
    path = "auto"                 # or "orbit", or a camera path JSON file
    formats = ["landscape", "vertical"]

Every problem is one line naming the file and the field (``scene[0].tour[1].formats``); paths are relative to
the spec file. The raw tables are kept (:attr:`SceneSpec.raw`, :attr:`TourEntry.raw`) for the manifest.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenegen.core import validate as v
from scenegen.core.errors import InputError
from scenegen.video.titles import TourText

__all__ = ["SceneSpec", "TourEntry", "TourSpec", "TextSpec", "load_spec", "text_dict", "FORMAT_NAMES"]

# The formats of scenegen.video.formats (kept here so the spec is checked without importing the video side).
FORMAT_NAMES = ("landscape", "vertical", "square", "360", "frames", "depth")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")

_RENDER_KEYS = {"fps", "seconds", "width", "height", "scale"}
_SCENE_KEYS = {"name", "data", "run", "train_minutes", "train_steps", "tour", "text", "audio"} | _RENDER_KEYS
_TOUR_KEYS = {"name", "path", "formats", "radius", "orbit_height"} | _RENDER_KEYS
_TEXT_KEYS = {"title", "address", "agency", "logo", "captions", "disclaimer", "disclaimer_text", "show_captions",
              "card_seconds"}


TextSpec = TourText
"""One language's texts: the video side's :class:`scenegen.video.titles.TourText` itself."""


def text_dict(t: TourText) -> dict:
    """A language's texts as plain JSON values (the logo as a string): what travels to workers and is hashed."""
    d = dict(t.__dict__)
    d["captions"] = dict(t.captions)
    d["logo"] = str(t.logo) if t.logo is not None else None
    return d


@dataclass
class Render:
    """Per scene / per tour render settings (None: not given here)."""

    fps: float | None = None
    seconds: float | None = None
    width: int | None = None
    height: int | None = None
    scale: float | None = None

    def over(self, base: "Render") -> "Render":
        """These settings, falling back to ``base`` where not given."""
        return Render(*(getattr(self, k) if getattr(self, k) is not None else getattr(base, k)
                        for k in ("fps", "seconds", "width", "height", "scale")))


@dataclass
class TourEntry:
    name: str
    path: str
    """"auto", "orbit" or an absolute camera path JSON file."""
    formats: list[str]
    render: Render
    """The tour's settings over its scene's."""
    radius: float | None = None
    orbit_height: float | None = None
    raw: dict = field(default_factory=dict)


@dataclass
class SceneSpec:
    name: str
    data: Path | None
    run: Path | None
    train_minutes: float | None
    train_steps: int | None
    tours: list[TourEntry]
    texts: list[TextSpec]
    audio: Path | None
    raw: dict = field(default_factory=dict)


@dataclass
class TourSpec:
    file: Path
    scenes: list[SceneSpec]


def _keys(table: Any, allowed: set[str], file: Path, where: str) -> dict:
    if not isinstance(table, dict):
        raise InputError(f"must be a table, got {v.describe(table)}", file=file, field=where)
    for k in table:
        if k not in allowed:
            raise InputError(f"unknown key {k!r} (known: {', '.join(sorted(allowed))})", file=file,
                             field=f"{where}.{k}" if where else k)
    return table


def _file(value: Any, base: Path, file: Path, where: str, *, folder: bool = False) -> Path:
    p = Path(v.string(value, file, where))
    p = p if p.is_absolute() else base / p
    if folder and not p.is_dir():
        raise InputError(f"folder not found: {p}", file=file, field=where)
    if not folder and not p.is_file():
        raise InputError(f"file not found: {p}", file=file, field=where)
    return p


def _render(t: dict, file: Path, where: str) -> Render:
    r = Render()
    if "fps" in t:
        r.fps = v.in_range(t["fps"], file, f"{where}.fps", 0.001, 1000)
    if "seconds" in t:
        r.seconds = v.in_range(t["seconds"], file, f"{where}.seconds", 0, 24 * 3600, open_lo=True)
    for k in ("width", "height"):
        if k in t:
            setattr(r, k, v.integer(t[k], file, f"{where}.{k}", lo=2, hi=16384))
    if "scale" in t:
        r.scale = v.in_range(t["scale"], file, f"{where}.scale", 0, 8, open_lo=True)
    return r


def _text(lang: str, t: Any, base: Path, file: Path, where: str) -> TextSpec:
    if not _LANG_RE.match(lang):
        raise InputError(f"not a language code (e.g. en, de, ja, pt-BR): {lang!r}", file=file, field=where)
    _keys(t, _TEXT_KEYS, file, where)
    s = TextSpec(language=lang)
    for k in ("title", "address", "agency", "disclaimer_text"):
        if k in t:
            setattr(s, k, v.string(t[k], file, f"{where}.{k}", non_empty=False))
    for k in ("disclaimer", "show_captions"):
        if k in t:
            setattr(s, k, v.boolean(t[k], file, f"{where}.{k}"))
    if "card_seconds" in t:
        s.card_seconds = v.in_range(t["card_seconds"], file, f"{where}.card_seconds", 0, 60)
    if "logo" in t:
        s.logo = _file(t["logo"], base, file, f"{where}.logo")
    if "captions" in t:
        caps = t["captions"]
        if not isinstance(caps, dict):
            raise InputError(f"must be a table of room name = caption, got {v.describe(caps)}", file=file,
                             field=f"{where}.captions")
        s.captions = {str(k): v.string(c, file, f"{where}.captions.{k}", non_empty=False) for k, c in caps.items()}
    return s


def _tour(t: Any, k: int, base: Path, file: Path, where: str, names: set[str]) -> TourEntry:
    _keys(t, _TOUR_KEYS, file, where)
    if "path" not in t:
        raise InputError('missing: "auto", "orbit" or a camera path JSON file', file=file, field=f"{where}.path")
    path = v.string(t["path"], file, f"{where}.path")
    if path not in ("auto", "orbit"):
        path = str(_file(path, base, file, f"{where}.path"))
    if "formats" not in t:
        raise InputError(f"missing: a list of formats ({', '.join(FORMAT_NAMES)})", file=file,
                         field=f"{where}.formats")
    fmts = t["formats"]
    if not isinstance(fmts, list) or not fmts:
        raise InputError(f"must be a non-empty list of formats, got {v.describe(fmts)}", file=file,
                         field=f"{where}.formats")
    for j, f in enumerate(fmts):
        v.choice(f, file, f"{where}.formats[{j}]", FORMAT_NAMES, "format")
    if len(set(fmts)) != len(fmts):
        raise InputError("a format is listed twice", file=file, field=f"{where}.formats")
    default = path if path in ("auto", "orbit") else Path(path).stem
    name = v.string(t.get("name", default), file, f"{where}.name")
    if not _NAME_RE.match(name):
        raise InputError(f"names are letters, digits, '.', '_' and '-' (at most 80), got {name!r}", file=file,
                         field=f"{where}.name")
    if name in names:
        raise InputError(f"a second tour named {name!r} in this scene: give each tour a name", file=file,
                         field=f"{where}.name")
    names.add(name)
    entry = TourEntry(name=name, path=path, formats=list(fmts), render=_render(t, file, where), raw=dict(t))
    if "radius" in t:
        entry.radius = v.in_range(t["radius"], file, f"{where}.radius", 0, 1e6, open_lo=True)
    if "orbit_height" in t:
        entry.orbit_height = v.in_range(t["orbit_height"], file, f"{where}.orbit_height", -1e6, 1e6)
    return entry


def _scene(s: Any, i: int, base: Path, file: Path, names: set[str]) -> SceneSpec:
    where = f"scene[{i}]"
    _keys(s, _SCENE_KEYS, file, where)
    if "name" not in s:
        raise InputError("missing: the scene's name (used for its output files)", file=file, field=f"{where}.name")
    name = v.string(s["name"], file, f"{where}.name")
    if not _NAME_RE.match(name):
        raise InputError(f"names are letters, digits, '.', '_' and '-' (at most 80), got {name!r}", file=file,
                         field=f"{where}.name")
    if name in names:
        raise InputError(f"a second scene named {name!r}", file=file, field=f"{where}.name")
    if name in ("runs", "paths", "frames"):
        raise InputError(f"{name!r} is the name of a folder of the batch: choose another", file=file,
                         field=f"{where}.name")
    names.add(name)
    if ("data" in s) == ("run" in s):
        raise InputError("give exactly one of data (a dataset to train) or run (a trained run)", file=file,
                         field=f"{where}.data")
    data = _file(s["data"], base, file, f"{where}.data", folder=True) if "data" in s else None
    run = _file(s["run"], base, file, f"{where}.run", folder=True) if "run" in s else None
    if run is not None and not (run / "checkpoints" / "latest.pt").is_file():
        raise InputError(f"not a trained run (no checkpoints/latest.pt): {run}", file=file, field=f"{where}.run")
    minutes = steps = None
    for k in ("train_minutes", "train_steps"):
        if k in s and data is None:
            raise InputError("only with data (a run is already trained)", file=file, field=f"{where}.{k}")
    if "train_minutes" in s:
        minutes = v.in_range(s["train_minutes"], file, f"{where}.train_minutes", 0, 7 * 24 * 60, open_lo=True)
    if "train_steps" in s:
        steps = v.integer(s["train_steps"], file, f"{where}.train_steps", lo=1)
    if data is not None and minutes is None and steps is None:
        minutes = 5.0
    texts = []
    if "text" in s:
        if not isinstance(s["text"], dict) or not s["text"]:
            raise InputError("must be a table of languages ([scene.text.en], [scene.text.de], ...)", file=file,
                             field=f"{where}.text")
        texts = [_text(lang, t, base, file, f"{where}.text.{lang}") for lang, t in s["text"].items()]
    audio = _file(s["audio"], base, file, f"{where}.audio") if "audio" in s else None
    if "tour" not in s:
        raise InputError("missing: at least one [[scene.tour]]", file=file, field=f"{where}.tour")
    tours_raw = s["tour"]
    if not isinstance(tours_raw, list) or not tours_raw:
        raise InputError(f"must be a list of tours ([[scene.tour]]), got {v.describe(tours_raw)}", file=file,
                         field=f"{where}.tour")
    scene_render = _render(s, file, where)
    tnames: set[str] = set()
    tours = [_tour(t, k, base, file, f"{where}.tour[{k}]", tnames) for k, t in enumerate(tours_raw)]
    for t in tours:
        t.render = t.render.over(scene_render)
    raw = {k: val for k, val in s.items() if k != "tour"}
    return SceneSpec(name=name, data=data, run=run, train_minutes=minutes, train_steps=steps, tours=tours,
                     texts=texts, audio=audio, raw=raw)


def load_spec(file: str | Path) -> TourSpec:
    """Read and check a tour spec (TOML). Raises InputError naming the file and field."""
    file = Path(file)
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError("spec file not found", file=file) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a TOML tour spec", file=file) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", file=file) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"not valid TOML: {e}", file=file) from None
    _keys(data, {"scene"}, file, "")
    scenes = data.get("scene")
    if not isinstance(scenes, list) or not scenes:
        raise InputError("no scenes: add at least one [[scene]]", file=file, field="scene")
    base = file.resolve().parent
    names: set[str] = set()
    return TourSpec(file=file, scenes=[_scene(s, i, base, file, names) for i, s in enumerate(scenes)])
