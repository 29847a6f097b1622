"""The scene spec: what a brief asks for, as JSON the user can edit and feed back with ``--spec``.

Units are metres; the plan's axes are +X east, +Y north, +Z up. A spec holds the rooms (type, interior width
along X and depth along Y), the ceiling height, floor and wall finishes, window size and which compass sides get
the large windows, the sun (time of day), the style's accent colour and the seed. The floor plan (room positions,
doors, windows) is derived from it deterministically by :mod:`scenegen.data.prior.layout`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scenegen.data.prior import vocab
from scenegen.core.errors import InputError

SPEC_VERSION = 1


@dataclass
class RoomSpec:
    name: str
    """Unique name, e.g. ``bedroom_2``."""
    type: str
    """One of :data:`scenegen.data.prior.vocab.ROOM_TYPES`."""
    width: float
    """Interior size along X (east-west), metres."""
    depth: float
    """Interior size along Y (north-south), metres."""
    floor: str | None = None
    """Floor material for this room (default: the spec's floor, or the room type's own)."""
    wall_color: str | None = None
    """Paint colour for this room's walls (default: the spec's)."""


@dataclass
class SceneSpec:
    rooms: list[RoomSpec]
    ceiling_height: float = vocab.DEFAULT_CEILING
    floor: str = "oak_floor"
    wall_color: str = vocab.DEFAULT_WALL
    window_size: str = "standard"
    """Size of the windows on the ``window_sides`` (others get standard ones)."""
    window_sides: list[str] = field(default_factory=lambda: ["south"])
    time_of_day: str = "noon"
    style: str = vocab.DEFAULT_STYLE
    seed: int = 0
    brief: str = ""
    unknown_words: list[str] = field(default_factory=list)
    """Words of the brief the generator did not understand (reported, never silently dropped)."""
    interpreted: dict[str, str] = field(default_factory=dict)
    """Misspelt words read as a known word (word -> what it was read as)."""
    version: int = SPEC_VERSION

    # ------------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @staticmethod
    def from_dict(d: dict, file: str | Path | None = None) -> "SceneSpec":
        """Validate and build; a bad value raises :class:`InputError` naming the file and the field."""

        def bad(fld: str, msg: str):
            return InputError(msg, file=file, field=fld)

        if not isinstance(d, dict):
            raise bad("(top level)", "a scene spec must be a JSON object")
        rooms_in = d.get("rooms")
        if not isinstance(rooms_in, list) or not rooms_in:
            raise bad("rooms", "needs a non-empty list of rooms")
        rooms, names = [], set()
        for i, r in enumerate(rooms_in):
            f = f"rooms[{i}]"
            if not isinstance(r, dict):
                raise bad(f, "each room must be an object")
            rtype = r.get("type")
            if rtype not in vocab.ROOM_TYPES:
                raise bad(f"{f}.type", f"unknown room type {rtype!r} (known: {', '.join(vocab.ROOM_TYPES)})")
            name = str(r.get("name") or f"{rtype}_{i}")
            if name in names:
                raise bad(f"{f}.name", f"room name {name!r} is used twice")
            names.add(name)
            size = []
            for k in ("width", "depth"):
                v = r.get(k, vocab.ROOM_TYPES[rtype]["size"][0 if k == "width" else 1])
                if not _is_num(v) or not (0.8 <= float(v) <= 40.0):
                    raise bad(f"{f}.{k}", f"must be a number of metres between 0.8 and 40, got {v!r}")
                size.append(float(v))
            floor = r.get("floor")
            if floor is not None and floor not in vocab.FLOORS:
                raise bad(f"{f}.floor", f"unknown floor {floor!r} (known: {', '.join(vocab.FLOORS)})")
            wall = r.get("wall_color")
            if wall is not None and wall not in vocab.COLORS:
                raise bad(f"{f}.wall_color", f"unknown colour {wall!r} (known: {', '.join(vocab.COLORS)})")
            rooms.append(RoomSpec(name, rtype, size[0], size[1], floor, wall))
        out = SceneSpec(rooms=rooms)
        h = d.get("ceiling_height", out.ceiling_height)
        if not _is_num(h) or not (2.0 <= float(h) <= 8.0):
            raise bad("ceiling_height", f"must be a number of metres between 2 and 8, got {h!r}")
        out.ceiling_height = float(h)
        for key, table in (("floor", vocab.FLOORS), ("wall_color", vocab.COLORS), ("window_size", vocab.WINDOW_SIZES),
                           ("time_of_day", vocab.TIMES), ("style", vocab.STYLES)):
            v = d.get(key, getattr(out, key))
            if v not in table:
                raise bad(key, f"unknown value {v!r} (known: {', '.join(table)})")
            setattr(out, key, v)
        sides = d.get("window_sides", out.window_sides)
        if not isinstance(sides, list) or any(s not in ("north", "south", "east", "west") for s in sides):
            raise bad("window_sides", f"must be a list of north/south/east/west, got {sides!r}")
        out.window_sides = list(sides)
        seed = d.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise bad("seed", f"must be an integer, got {seed!r}")
        out.seed = seed
        out.brief = str(d.get("brief", ""))
        out.unknown_words = [str(w) for w in d.get("unknown_words", [])]
        out.interpreted = {str(k): str(v) for k, v in dict(d.get("interpreted", {})).items()}
        return out

    @staticmethod
    def load(path: str | Path) -> "SceneSpec":
        p = Path(path)
        try:
            text = p.read_text()
        except FileNotFoundError:
            raise InputError("scene spec not found", file=p, field="--spec") from None
        except OSError as e:
            raise InputError(f"cannot read the scene spec: {e.strerror}", file=p, field="--spec") from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})", file=p, field="--spec") from None
        return SceneSpec.from_dict(d, file=p)

    # ------------------------------------------------------------------------------------------------------
    def room_floor(self, room: RoomSpec) -> str:
        if room.floor:
            return room.floor
        default = vocab.ROOM_TYPES[room.type]["floor"]
        # A floor the brief names applies to every room except the wet ones (which keep their tiles).
        return default if default and self.floor in ("oak_floor", "walnut_floor", "carpet") else self.floor

    def room_wall(self, room: RoomSpec) -> str:
        return room.wall_color or self.wall_color


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
