"""The scene spec: what a brief asks for, as JSON the user can edit and feed back with ``--spec``.

Units are metres; the plan's axes are +X east, +Y north, +Z up. A spec holds the rooms (type, interior width
along X and depth along Y), the ceiling height, floor and wall finishes, window size and which compass sides get
the large windows, the sun (time of day), the style's accent colour and the seed. The floor plan (room positions,
doors, windows) is derived from it deterministically by :mod:`scenegen.data.prior.layout`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scenegen.core import validate
from scenegen.core.errors import InputError
from scenegen.data.prior import vocab

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
            rtype = validate.choice(r.get("type"), file, f"{f}.type", vocab.ROOM_TYPES, "room type")
            name = str(r.get("name") or f"{rtype}_{i}")
            if name in names:
                raise bad(f"{f}.name", f"room name {name!r} is used twice")
            names.add(name)
            size = []
            for k in ("width", "depth"):
                v = r.get(k, vocab.ROOM_TYPES[rtype]["size"][0 if k == "width" else 1])
                size.append(validate.in_range(v, file, f"{f}.{k}", 0.8, 40.0, unit="m"))
            floor = r.get("floor")
            if floor is not None:
                validate.choice(floor, file, f"{f}.floor", vocab.FLOORS, "floor")
            wall = r.get("wall_color")
            if wall is not None:
                validate.choice(wall, file, f"{f}.wall_color", vocab.COLORS, "colour")
            rooms.append(RoomSpec(name, rtype, size[0], size[1], floor, wall))
        out = SceneSpec(rooms=rooms)
        h = d.get("ceiling_height", out.ceiling_height)
        out.ceiling_height = validate.in_range(h, file, "ceiling_height", 2.0, 8.0, unit="m")
        for key, table in (("floor", vocab.FLOORS), ("wall_color", vocab.COLORS), ("window_size", vocab.WINDOW_SIZES),
                           ("time_of_day", vocab.TIMES), ("style", vocab.STYLES)):
            setattr(out, key, validate.choice(d.get(key, getattr(out, key)), file, key, table))
        sides = d.get("window_sides", out.window_sides)
        if not isinstance(sides, list):
            raise bad("window_sides", f"must be a list of north/south/east/west, got {validate.describe(sides)}")
        for i, s in enumerate(sides):
            validate.choice(s, file, f"window_sides[{i}]", ("north", "south", "east", "west"), "side")
        out.window_sides = list(sides)
        out.seed = validate.integer(d.get("seed", 0), file, "seed")
        out.brief = str(d.get("brief", ""))
        words = d.get("unknown_words", [])
        if not isinstance(words, list):
            raise bad("unknown_words", f"must be a list of words, got {validate.describe(words)}")
        out.unknown_words = [str(w) for w in words]
        interpreted = d.get("interpreted", {})
        if not isinstance(interpreted, dict):
            raise bad("interpreted", f"must be an object, got {validate.describe(interpreted)}")
        out.interpreted = {str(k): str(v) for k, v in interpreted.items()}
        return out

    @staticmethod
    def load(path: str | Path) -> "SceneSpec":
        p = Path(path)
        return SceneSpec.from_dict(validate.read_json(p, "scene spec", field="--spec"), file=p)

    # ------------------------------------------------------------------------------------------------------
    def room_floor(self, room: RoomSpec) -> str:
        if room.floor:
            return room.floor
        default = vocab.ROOM_TYPES[room.type]["floor"]
        # A floor the brief names applies to every room except the wet ones (which keep their tiles).
        return default if default and self.floor in ("oak_floor", "walnut_floor", "carpet") else self.floor

    def room_wall(self, room: RoomSpec) -> str:
        return room.wall_color or self.wall_color

