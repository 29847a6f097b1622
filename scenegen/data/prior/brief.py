"""A text brief -> :class:`SceneSpec`, with the vocabulary of :mod:`scenegen.data.prior.vocab`.

A small rule-based reader (no model weights): it finds the rooms and how many of each ("two-bedroom",
"3 bedrooms", "open-plan kitchen and living room"), sizes ("4 x 3.5 m bedroom", "85 m2"), the ceiling height
("2.7 m ceilings", "9 ft ceilings"), finishes ("oak floor", "white walls", "carpeted bedrooms"), windows ("large
south windows"), the time of day and a style. Misspellings close to a known word are read as that word and
reported; every other word it does not understand is listed back in ``SceneSpec.unknown_words``.

The rooms every home has are added when the brief implies a home but leaves them out (a two-bedroom apartment
gets a living room, a kitchen and a bathroom); ``SceneSpec.interpreted`` says so.
"""

from __future__ import annotations

import difflib
import re

from scenegen.data.prior import vocab
from scenegen.data.prior.spec import RoomSpec, SceneSpec

_NUM = r"(\d+(?:[.,]\d+)?)"
_PUNCT = set(",;.:()")
_UNIT_M = {"m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0, "cm": 0.01, "ft": 0.3048,
           "feet": 0.3048, "foot": 0.3048, "'": 0.3048}
_UNITS = r"(m|metres|metre|meters|meter|cm|ft|feet|foot|')"
_SIZE_UP = {"large", "big", "spacious", "generous", "huge", "grand", "master", "primary", "expansive"}
_SIZE_DOWN = {"small", "compact", "tiny", "cosy-sized", "little", "snug"}


def _f(s: str) -> float:
    return float(s.replace(",", "."))


def _room_phrases() -> list[tuple[list[str], str]]:
    out = []
    for rtype, info in vocab.ROOM_TYPES.items():
        for w in info["words"]:
            out.append((w.split(), rtype))
    out.sort(key=lambda x: -len(x[0]))
    return out


def _singular(w: str) -> str:
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _known_words() -> set[str]:
    words = set(vocab.STOPWORDS) | set(vocab.NUMBERS) | set(vocab.STUDIO_WORDS) | _SIZE_UP | _SIZE_DOWN
    for info in vocab.ROOM_TYPES.values():
        for w in info["words"]:
            words.update(w.split())
    for table in (vocab.FLOORS,):
        for k, ws in table.items():
            for w in ws:
                words.update(w.split())
    words.update(vocab.COLORS)
    words.update(vocab.WALL_WORDS + vocab.FLOOR_WORDS + vocab.CEILING_WORDS + vocab.WINDOW_WORDS)
    words.update(vocab.WINDOW_SIZES)
    words.update(vocab.DIRECTIONS)
    words.update(vocab.CEILING_HEIGHT_WORDS)
    for table in (vocab.TIMES, vocab.STYLES):
        for info in table.values():
            for w in info["words"]:
                words.update(w.split())
    return words


def parse_brief(text: str, seed: int = 0) -> SceneSpec:
    """Read a brief into a spec (deterministic; ``seed`` is stored for the furniture and textures)."""
    brief = text.strip()
    low = brief.lower().replace("²", "2").replace("×", " x ").replace("–", "-").replace("—", " ")
    interpreted: dict[str, str] = {}
    spec = SceneSpec(rooms=[], brief=brief, seed=int(seed))

    # ---- numbers with units (removed from the text once read) -------------------------------------------------
    def take(pattern: str, fn) -> None:
        nonlocal low
        for m in list(re.finditer(pattern, low)):
            fn(m)
        low = re.sub(pattern, " ", low)

    def ceiling(m):
        spec.ceiling_height = round(_f(m.group(1)) * _UNIT_M[m.group(2)], 3)

    take(_NUM + r"\s*" + _UNITS + r"\s*(?:high\s+|tall\s+)?(?:ceilings?|ceiling heights?)", ceiling)
    take(r"ceilings?\s*(?:height\s*)?(?:of|at|:)?\s*" + _NUM + r"\s*" + _UNITS, ceiling)

    total_area = None

    def area(m):
        nonlocal total_area
        total_area = _f(m.group(1)) * (0.0929 if m.group(2).startswith(("sq ft", "sqft", "square f")) else 1.0)

    take(_NUM + r"\s*(m2|sqm|sq m|square met(?:re|er)s?|sq ft|sqft|square f(?:ee|oo)t)", area)

    sized: list[tuple[int, int, float, float]] = []  # (start, end, width, depth) of "W x D m" sizes

    def dims(m):
        sized.append((m.start(), m.end(), _f(m.group(1)), _f(m.group(2))))

    low_for_pos = low
    take(_NUM + r"\s*(?:m\s*)?(?:x|by)\s*" + _NUM + r"\s*(?:m|metres|meters)\b", dims)

    # ---- tokens ------------------------------------------------------------------------------------------------
    raw = re.findall(r"[a-z][a-z'\-]*|\d+(?:\.\d+)?|[,;.:()]", low)
    toks: list[str] = []
    for w in raw:
        w = w if w in ",;.:()" else w.strip("'-")
        if not w:
            continue
        # "two-bedroom", "3-bed", "south-facing", "open-plan": split numbers/counts from the noun
        parts = w.split("-") if "-" in w and w not in _hyphen_words() else [w]
        toks.extend(p for p in parts if p)
    known = _known_words()
    for i, w in enumerate(toks):  # misspellings of known words
        if w in known or _singular(w) in known or w.isdigit() or w in _PUNCT:
            continue
        close = difflib.get_close_matches(w, sorted(known), n=1, cutoff=0.84)
        if close and len(w) >= 5:
            interpreted[w] = close[0]
            toks[i] = close[0]
    used = [w in _PUNCT for w in toks]

    def mark(i, n=1):
        for k in range(i, min(len(toks), i + n)):
            used[k] = True

    def number_before(i) -> int | None:
        j = i - 1
        while j >= 0 and toks[j] in _SIZE_UP | _SIZE_DOWN:
            j -= 1
        if j >= 0:
            if toks[j].isdigit():
                mark(j)
                return int(toks[j])
            if toks[j] in vocab.NUMBERS:
                mark(j)
                return vocab.NUMBERS[toks[j]]
        return None

    # ---- rooms -------------------------------------------------------------------------------------------------
    phrases = _room_phrases()
    found: list[tuple[int, str, int, float, str, bool]] = []  # (index, type, count, size, phrase, numbered)
    i = 0
    while i < len(toks):
        hit = None
        for words, rtype in phrases:
            n = len(words)
            seg = toks[i : i + n]
            if len(seg) == n and all(a == b or _singular(a) == b for a, b in zip(seg, words)):
                hit = (n, rtype, words)
                break
        if hit is None:
            # "bed" after a number ("3 bed apartment") is a bedroom
            if toks[i] in ("bed", "beds") and i > 0 and (toks[i - 1].isdigit() or toks[i - 1] in vocab.NUMBERS):
                hit = (1, "bedroom", ["bed"])
            elif toks[i] in vocab.STUDIO_WORDS:
                mark(i)
                found.append((i, "studio", 1, 1.0, "studio", False))
                i += 1
                continue
        if hit is None:
            i += 1
            continue
        n, rtype, words = hit
        mark(i, n)
        num = number_before(i)
        count = num or 1
        factor = 1.0
        for j in range(max(0, i - 3), i):
            if toks[j] in _SIZE_UP:
                factor, _ = 1.25, mark(j)
            elif toks[j] in _SIZE_DOWN:
                factor, _ = 0.8, mark(j)
        if words[0] in ("master", "primary"):
            factor = max(factor, 1.2)
        found.append((i, rtype, min(count, 8), factor, " ".join(words), num is not None))
        i += n

    open_plan = bool(re.search(r"open[\s-]*plan|open kitchen|open-concept|open concept", low))
    for k, w in enumerate(toks):
        if w == "open" and k + 1 < len(toks) and toks[k + 1] in ("plan", "concept", "kitchen"):
            mark(k)
            if toks[k + 1] != "kitchen":
                mark(k + 1)
    # A room named again ("three-bedroom flat ... carpeted bedrooms") is the same room, not another one: per
    # type and wording the largest count counts; an unnumbered mention of a type that was counted is a re-mention.
    merged: dict[tuple[str, str], list] = {}
    for i0, rtype, count, factor, phrase, numbered in found:
        key = (rtype, _singular(phrase))
        if key in merged:
            merged[key][2] = max(merged[key][2], count)
            merged[key][3] = max(merged[key][3], factor)
            merged[key][5] = merged[key][5] or numbered
        else:
            merged[key] = [i0, rtype, count, factor, phrase, numbered]
    numbered_types = {v[1] for v in merged.values() if v[5]}
    found = [tuple(v) for v in merged.values() if v[5] or v[1] not in numbered_types or v[4] != _phrase_of(v[1])[0]]
    found = [(i0, t, c, f) for i0, t, c, f, _, _ in found]
    types = [t for _, t, _, _ in found]
    rooms: list[tuple[str, float]] = []
    if "studio" in types:
        rooms.append(("studio", 1.0))
        found = [f for f in found if f[1] not in ("living", "kitchen", "dining", "bedroom", "studio")]
        interpreted["studio"] = "one open room with a kitchen, a living area and a bed"
    elif open_plan and "kitchen" in types and ("living" in types or "dining" in types):
        factor = max(f for _, t, _, f in found if t in ("kitchen", "living", "dining"))
        rooms.append(("kitchen_living", factor))
        found = [f for f in found if f[1] not in ("kitchen", "living", "dining")]
    for _, rtype, count, factor in found:
        rooms.extend([(rtype, factor)] * count)
    home = any(w in toks for w in ("apartment", "flat", "house", "home", "condo", "unit", "property", "bungalow",
                                    "cottage", "villa", "penthouse", "duplex"))
    have = {t for t, _ in rooms}
    if home or any(t == "bedroom" for t in have):
        added = []
        if not have & {"living", "kitchen_living"} and "studio" not in types:
            rooms.insert(0, ("living", 1.0))
            added.append("a living room")
        if not have & {"kitchen", "kitchen_living"} and "studio" not in types:
            rooms.insert(1, ("kitchen", 1.0))
            added.append("a kitchen")
        if "bathroom" not in have:
            rooms.append(("bathroom", 1.0))
            added.append("a bathroom")
        if added:
            interpreted["(rooms)"] = "a home needs them: added " + ", ".join(added)
    if not rooms:
        rooms = [("living", 1.0)]
        interpreted["(rooms)"] = "no room named: one living room"
    if "studio" in types and "bathroom" not in {t for t, _ in rooms}:
        rooms.append(("bathroom", 1.0))

    counts: dict[str, int] = {}
    specs = []
    for rtype, factor in rooms:
        counts[rtype] = counts.get(rtype, 0) + 1
        w, d = vocab.ROOM_TYPES[rtype]["size"]
        specs.append(RoomSpec(name=f"{rtype}_{counts[rtype]}", type=rtype, width=round(w * factor, 2),
                              depth=round(d * factor, 2)))
    for r in specs:  # a type that occurs once is named without a number
        if counts[r.type] == 1:
            r.name = r.type
    # explicit sizes: attach each "W x D m" to the room named nearest after (or before) it
    if sized:
        # each "W x D m" belongs to the room named just before it ("bedroom 4 x 3 m") or just after it
        # ("a 4 x 3 m bedroom"), else to the nearest room name
        spans = []
        for r in specs:
            for wds in [w.split() for w in vocab.ROOM_TYPES[r.type]["words"]] or [["kitchen"], ["living"]]:
                for m in re.finditer(r"\b" + r"\s+".join(wds) + r"s?\b", low_for_pos):
                    spans.append((m.start(), m.end(), r))
        for pos, end, w, d in sized:
            def gap(sp):
                s0, e0, _ = sp
                if e0 <= pos:
                    return pos - e0 if re.fullmatch(r"[\s,:of(]*", low_for_pos[e0:pos]) else 1e6 + pos - e0
                return s0 - end if re.fullmatch(r"[\s]*", low_for_pos[end:s0]) else 1e6 + s0 - end
            if spans:
                best = min(spans, key=gap)[2]
                best.width, best.depth = max(w, d), min(w, d)
    if total_area is not None:
        cur = sum(r.width * r.depth for r in specs)
        s = max(0.6, min(2.0, (0.85 * total_area / cur) ** 0.5))  # ~15 % of a home's area is walls/circulation
        for r in specs:
            r.width, r.depth = round(r.width * s, 2), round(r.depth * s, 2)
    spec.rooms = specs

    # ---- finishes, windows, light, style ------------------------------------------------------------------------
    room_word_types = {}
    for k in range(len(toks)):
        for words, rtype in phrases:
            if toks[k] == words[0] or _singular(toks[k]) == words[0]:
                room_word_types[k] = rtype
    style = None
    for k, w in enumerate(toks):
        for name, info in vocab.STYLES.items():
            if w in info["words"]:
                style = style or name
                mark(k)
        for name, info in vocab.TIMES.items():
            if w in info["words"] or (k + 1 < len(toks) and f"{w} {toks[k + 1]}" in info["words"]):
                spec.time_of_day = name
                mark(k, 2 if f"{w} {toks[k + 1] if k + 1 < len(toks) else ''}" in info["words"] else 1)
    if style:
        spec.style = style
        spec.floor = vocab.STYLES[style]["floor"]
        spec.wall_color = vocab.STYLES[style]["wall"]
    floor_of = {w: name for name, ws in vocab.FLOORS.items() for w in ws if " " not in w}
    for k, w in enumerate(toks):
        nxt = toks[k + 1 : k + 3]
        if w in floor_of or (k + 1 < len(toks) and f"{w} {toks[k + 1]}" in {x for ws in vocab.FLOORS.values() for x in ws}):
            two = k + 1 < len(toks) and f"{w} {toks[k + 1]}"
            name = next((n for n, ws in vocab.FLOORS.items() if two in ws), None) or floor_of[w]
            mark(k, 2 if two and any(two in ws for ws in vocab.FLOORS.values()) else 1)
            target = room_word_types.get(k + 1)
            if target:
                for r in spec.rooms:
                    if r.type == target:
                        r.floor = name
            else:
                spec.floor = name
            for j, x in enumerate(nxt):
                if x in vocab.FLOOR_WORDS:
                    mark(k + 1 + j)
        elif w in vocab.COLORS:
            mark(k)
            target = room_word_types.get(k + 1)
            if any(x in vocab.FLOOR_WORDS for x in nxt):
                pass  # a coloured floor: the floor material keeps its own colour
            elif target:
                for r in spec.rooms:
                    if r.type == target or (target in ("kitchen", "living") and r.type == "kitchen_living"):
                        r.wall_color = w
            else:
                spec.wall_color = w
            for j, x in enumerate(nxt):
                if x in vocab.WALL_WORDS or x in vocab.FLOOR_WORDS:
                    mark(k + 1 + j)
        elif w in vocab.WALL_WORDS or w in vocab.FLOOR_WORDS or w in vocab.CEILING_WORDS:
            mark(k)
        elif w in vocab.CEILING_HEIGHT_WORDS and any(x in vocab.CEILING_WORDS for x in nxt):
            spec.ceiling_height = vocab.CEILING_HEIGHT_WORDS[w]
            mark(k)
    sides, size = [], None
    for k, w in enumerate(toks):
        if w in vocab.WINDOW_WORDS:
            mark(k)
            for j in range(max(0, k - 4), k):
                x = toks[j]
                if x in vocab.DIRECTIONS:
                    d = vocab.DIRECTIONS[x]
                    sides.append({(0, 1): "north", (0, -1): "south", (1, 0): "east", (-1, 0): "west"}[d])
                    mark(j)
                elif x in vocab.WINDOW_SIZES:
                    size = x
                    mark(j)
                elif x in ("floor", "to") and j + 2 < len(toks) and toks[j : j + 3] == ["floor", "to", "ceiling"]:
                    size = "floor-to-ceiling"
                    mark(j, 3)
        elif w in vocab.DIRECTIONS and k + 1 < len(toks) and toks[k + 1] in ("facing", "aspect", "exposure"):
            d = vocab.DIRECTIONS[w]
            sides.append({(0, 1): "north", (0, -1): "south", (1, 0): "east", (-1, 0): "west"}[d])
            mark(k, 2)
    if sides:
        spec.window_sides = list(dict.fromkeys(sides))
    if size:
        spec.window_size = "big" if size == "big" else size

    # ---- what was not understood --------------------------------------------------------------------------------
    unknown = []
    for k, w in enumerate(toks):
        if used[k] or w in vocab.STOPWORDS or _singular(w) in vocab.STOPWORDS or w.isdigit():
            continue
        if w in vocab.NUMBERS or w in _SIZE_UP or w in _SIZE_DOWN or w in vocab.DIRECTIONS:
            continue  # a count or size word that qualified nothing is harmless
        if w in ("bed", "beds", "facing", "aspect", "exposure", "concept", "ceiling", "floor", "to", "x", "by"):
            continue
        unknown.append(w)
    spec.unknown_words = list(dict.fromkeys(unknown))
    spec.interpreted = interpreted
    return spec


def _phrase_of(rtype: str) -> list[str]:
    words = vocab.ROOM_TYPES[rtype]["words"]
    return (words[0] if words else {"kitchen_living": "kitchen"}.get(rtype, rtype)).split()


def _hyphen_words() -> set[str]:
    return {w for w in vocab.WINDOW_SIZES if "-" in w} | {"off-white", "en-suite", "double-height"} | {
        w for w in vocab.DIRECTIONS if "-" in w}


DEFAULT_BRIEF = (
    "two-bedroom apartment, open-plan kitchen and living room, oak floor, white walls, 2.7 m ceilings, "
    "large south windows"
)
