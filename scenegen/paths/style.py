"""How a camera walks: one set of numbers (eye height, speed, field of view, turn rate...) for every walking path.

The walk-through preset, the automatic walk-through planner, the track that turns a dense route into keyframes,
the floor finder and the ``scenegen path`` commands all read their defaults from :data:`WALK`; a caller that
wants something else passes a :class:`WalkStyle` (or single values, which override the style's). Units: world
units (metres for metric scenes), seconds, degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["DOOR_CLEARANCE", "FLY", "TOUR", "WALK", "WalkStyle"]


@dataclass(frozen=True)
class WalkStyle:
    """The walking settings of a camera path.

    Attributes:
        eye_height: camera height above the floor, world units (1.6 = metres for metric scenes).
        speed: walking speed along the path, world units per second (constant).
        fov: vertical field of view, degrees.
        max_turn_rate_deg_s: bound on the heading (yaw) change per second, degrees.
        pitch_deg: constant pitch of the camera (negative: slightly down); no roll.
        look_ahead: the camera looks at the path point this far ahead, world units.
        spacing: keyframe spacing along the path, world units.
        corner_radius: corners of the route are rounded over about this length (moving average), world units.
        clearance: least distance from occupied space at eye level, world units (the planner's safe cells; the
            distance a walk-through's eye points are pushed to when it has a scene volume).
    """

    eye_height: float = 1.6
    speed: float = 0.8
    fov: float = 60.0
    max_turn_rate_deg_s: float = 45.0
    pitch_deg: float = -5.0
    look_ahead: float = 1.0
    spacing: float = 0.5
    corner_radius: float = 0.6
    clearance: float = 0.35

    def updated(self, **changes) -> "WalkStyle":
        """A copy with the given fields changed; ``None`` values keep this style's value."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


WALK = WalkStyle()
"""The walk: ``scenegen path walkthrough`` / ``path auto``, the automatic walk-through and the demo's tour."""

FLY = WalkStyle(speed=1.0, corner_radius=0.5, max_turn_rate_deg_s=60.0, pitch_deg=0.0)
"""A free flight (:func:`~scenegen.paths.presets.flythrough`): a little faster, tighter corners, quicker turns and
no pitch of its own (the flight pitches along the direction of travel)."""

TOUR = WalkStyle(speed=0.7, max_turn_rate_deg_s=30.0, pitch_deg=-5.0, look_ahead=1.5, clearance=0.5,
                 corner_radius=0.5)
"""The automatic tour (``scenegen path auto``, the demo): a videographer's walk -- 0.7 m/s, turns of at most
30 deg/s, 0.5 m from every surface (0.3 m in a doorway, :data:`DOOR_CLEARANCE`), looking 1.5 m ahead."""

DOOR_CLEARANCE = 0.3
"""Least distance from the door jambs while passing through a doorway (world units)."""
