"""scenegen: posed images -> hash-grid radiance field -> camera-path video."""

__version__ = "0.1.0"
