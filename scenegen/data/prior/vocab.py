"""The brief's vocabulary: data tables that map words to scene-spec choices.

Extend a table to teach the generator a new word: a room type, a floor, a paint colour, a style. Every entry is
plain data (no code), so a new room type needs only its default size, its furniture list and the words users
write for it. Units are metres.
"""

from __future__ import annotations

# Room types: words users write for them (the first is the canonical name), default interior size (width x
# depth, metres), which side of the corridor they go ("day" rooms take the sunny side), furniture to place,
# and the default floor when the brief names none for this room.
ROOM_TYPES: dict[str, dict] = {
    "living": {
        "words": ["living", "living room", "lounge", "sitting room", "family room", "den"],
        "size": (5.0, 4.2), "zone": "day", "floor": None,
        "furniture": ["sofa", "coffee_table", "rug", "tv_unit", "armchair", "floor_lamp", "plant", "painting"],
    },
    "kitchen": {
        "words": ["kitchen", "kitchenette"],
        "size": (3.6, 3.2), "zone": "day", "floor": "tiles",
        "furniture": ["kitchen_run", "fridge", "dining_table"],
    },
    "kitchen_living": {  # "open-plan kitchen and living room": one large room holding both
        "words": [],
        "size": (7.5, 4.5), "zone": "day", "floor": None,
        "furniture": ["kitchen_run", "fridge", "dining_table", "sofa", "coffee_table", "rug", "tv_unit", "plant",
                      "painting"],
    },
    "studio": {  # "studio", "loft": one open room with a kitchen, a living area and a bed
        "words": [],
        "size": (7.0, 4.6), "zone": "day", "floor": None,
        "furniture": ["kitchen_run", "fridge", "bed", "sofa", "rug", "plant", "painting"],
    },
    "dining": {
        "words": ["dining", "dining room"],
        "size": (3.6, 3.4), "zone": "day", "floor": None,
        "furniture": ["dining_table", "sideboard", "painting", "plant"],
    },
    "bedroom": {
        "words": ["bedroom", "bed room", "guest room", "master bedroom", "primary bedroom"],
        "size": (3.6, 3.4), "zone": "night", "floor": None,
        "furniture": ["bed", "nightstands", "wardrobe", "rug", "painting"],
    },
    "bathroom": {
        "words": ["bathroom", "bath", "shower room", "washroom", "ensuite", "en-suite", "wc", "toilet"],
        "size": (2.4, 2.2), "zone": "night", "floor": "tiles",
        "furniture": ["bathtub", "toilet", "vanity"],
    },
    "office": {
        "words": ["office", "study", "home office", "workroom", "library"],
        "size": (3.0, 3.0), "zone": "night", "floor": None,
        "furniture": ["desk", "office_chair", "bookshelf", "plant"],
    },
    "hallway": {
        "words": ["hallway", "hall", "corridor", "entrance", "entry", "foyer"],
        "size": (1.3, 3.0), "zone": "corridor", "floor": None,
        "furniture": [],
    },
}

# "studio" and similar briefs: one open room.
STUDIO_WORDS = ["studio", "loft", "bedsit"]

# Floors: material names registered by scenegen.data.prior.materials.prior_materials().
FLOORS: dict[str, list[str]] = {
    "oak_floor": ["oak", "wood", "wooden", "hardwood", "timber", "parquet", "plank", "planks", "floorboards"],
    "walnut_floor": ["walnut", "dark wood"],
    "tiles": ["tile", "tiles", "tiled", "ceramic tiles", "terrazzo"],
    "marble": ["marble", "stone"],
    "concrete": ["concrete", "polished concrete", "screed", "cement"],
    "carpet": ["carpet", "carpeted", "carpets"],
}

# Paint colours (sRGB 0..1).
COLORS: dict[str, tuple[float, float, float]] = {
    "white": (0.93, 0.93, 0.91),
    "off-white": (0.92, 0.9, 0.85),
    "cream": (0.93, 0.88, 0.76),
    "beige": (0.86, 0.79, 0.67),
    "grey": (0.7, 0.71, 0.72),
    "gray": (0.7, 0.71, 0.72),
    "charcoal": (0.3, 0.31, 0.33),
    "black": (0.12, 0.12, 0.13),
    "sage": (0.62, 0.7, 0.6),
    "green": (0.45, 0.62, 0.45),
    "olive": (0.52, 0.55, 0.33),
    "blue": (0.45, 0.58, 0.78),
    "navy": (0.16, 0.22, 0.4),
    "teal": (0.22, 0.52, 0.52),
    "yellow": (0.95, 0.85, 0.45),
    "ochre": (0.8, 0.62, 0.28),
    "pink": (0.92, 0.74, 0.74),
    "terracotta": (0.78, 0.45, 0.32),
    "red": (0.72, 0.22, 0.2),
    "brick": (0.66, 0.33, 0.24),
}
DEFAULT_WALL = "white"

# Words that say what a colour applies to.
WALL_WORDS = ["wall", "walls", "paint", "painted"]
FLOOR_WORDS = ["floor", "floors", "flooring", "floored"]
CEILING_WORDS = ["ceiling", "ceilings"]
WINDOW_WORDS = ["window", "windows", "glazing", "glazed"]

# Window size words -> (width fraction of the wall, sill height, head height below the ceiling).
WINDOW_SIZES: dict[str, tuple[float, float, float]] = {
    "small": (0.25, 1.1, 0.45),
    "standard": (0.35, 0.9, 0.4),
    "large": (0.55, 0.5, 0.3),
    "big": (0.55, 0.5, 0.3),
    "wide": (0.6, 0.8, 0.4),
    "huge": (0.7, 0.35, 0.25),
    "floor-to-ceiling": (0.7, 0.02, 0.05),
    "panoramic": (0.75, 0.3, 0.2),
    "picture": (0.55, 0.6, 0.35),
}

# Compass words -> outward wall normal in the scene (+X east, +Y north, +Z up).
DIRECTIONS: dict[str, tuple[int, int]] = {
    "north": (0, 1), "northern": (0, 1), "north-facing": (0, 1),
    "south": (0, -1), "southern": (0, -1), "south-facing": (0, -1),
    "east": (1, 0), "eastern": (1, 0), "east-facing": (1, 0),
    "west": (-1, 0), "western": (-1, 0), "west-facing": (-1, 0),
}

# Time of day -> sun elevation (degrees) and colour temperature (linear RGB irradiance scale).
TIMES: dict[str, dict] = {
    "morning": {"words": ["morning", "sunrise", "dawn"], "elevation": 22.0, "azimuth_offset": -70.0,
                "color": (2.3, 2.1, 1.8)},
    "noon": {"words": ["noon", "midday", "daylight", "daytime", "sunny", "bright"], "elevation": 50.0,
             "azimuth_offset": 0.0, "color": (2.6, 2.4, 2.1)},
    "afternoon": {"words": ["afternoon"], "elevation": 35.0, "azimuth_offset": 40.0, "color": (2.6, 2.3, 1.9)},
    "evening": {"words": ["evening", "sunset", "dusk", "golden hour"], "elevation": 12.0,
                "azimuth_offset": 75.0, "color": (2.6, 1.8, 1.2)},
}

# Styles -> defaults for what the brief leaves open (floor, walls, accent fabric colour).
STYLES: dict[str, dict] = {
    "modern": {"words": ["modern", "contemporary", "minimalist", "minimal", "sleek"], "floor": "oak_floor",
               "wall": "white", "fabric": (0.3, 0.32, 0.35)},
    "scandinavian": {"words": ["scandinavian", "nordic", "scandi", "hygge"], "floor": "oak_floor",
                     "wall": "white", "fabric": (0.72, 0.72, 0.7)},
    "industrial": {"words": ["industrial", "warehouse"], "floor": "concrete", "wall": "grey",
                   "fabric": (0.45, 0.3, 0.2)},
    "classic": {"words": ["classic", "traditional", "victorian", "georgian", "period"], "floor": "walnut_floor",
                "wall": "cream", "fabric": (0.45, 0.15, 0.15)},
    "cosy": {"words": ["cosy", "cozy", "warm", "rustic"], "floor": "oak_floor", "wall": "beige",
             "fabric": (0.7, 0.45, 0.25)},
}
DEFAULT_STYLE = "modern"

# Number words.
NUMBERS: dict[str, int] = {
    "one": 1, "single": 1, "a": 1, "an": 1, "two": 2, "double": 2, "three": 3, "triple": 3, "four": 4,
    "five": 5, "six": 6,
}

# Words that carry no choice (grammar, and words whose meaning the generator already implies).
STOPWORDS = set(
    """
    a an and the with of in on at to for by from or plus also has have having its their our my your this that
    which featuring feature features including include includes main room rooms area areas space spaces
    apartment flat house home unit condo condominium property storey story level floor-plan plan layout
    open-plan open plan combined together style styled finish finishes finished throughout each every all
    high heights height ceiling ceilings tall m metre metres meter meters cm ft foot feet sqm square
    light lit facing face faces view views natural lots lot plenty some very nice beautiful lovely
    """.split()
)

# Ceiling-height words -> metres (numbers with units are read directly).
CEILING_HEIGHT_WORDS: dict[str, float] = {"low": 2.4, "standard": 2.6, "high": 3.0, "lofty": 3.4, "double-height": 5.0}
DEFAULT_CEILING = 2.6
