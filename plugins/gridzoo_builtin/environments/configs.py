"""Configs of the built-in environments, in a module that imports no torch: a config error is reported before
any heavy import (the ``gridzoo.configs`` entry points point here)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from gridzoo.component import ComponentConfig

VelocityInput = Literal["displacement", "speed_turn"]


class MotionModel(ComponentConfig):
    """Parameters of the random walk (Sorscher et al. defaults)."""

    dt: float = Field(0.02, gt=0, description="Seconds per step.")
    speed_scale: float = Field(
        0.13 * 2 * math.pi, gt=0, description="Rayleigh scale of the forward speed, m/s (mean = scale·√(π/2))."
    )
    turn_std: float = Field(11.52, ge=0, description="Std of the angular velocity, rad/s.")
    turn_mean: float = Field(0.0, description="Mean angular velocity, rad/s.")
    border_region: float = Field(0.03, ge=0, description="Distance from a wall at which the animal turns away, m.")
    border_slowdown: float = Field(0.25, gt=0, le=1, description="Speed factor while turning away from a wall.")
    velocity_input: VelocityInput = Field(
        "displacement",
        description="Network input per step: 'displacement' = allocentric step v·dt·(cos θ, sin θ) in metres "
        "(Sorscher, NFL); 'speed_turn' = (speed m/s, sin ω, cos ω), ω the turn in radians (Banino).",
    )


class BoxConfig(MotionModel):
    width: float = Field(2.2, gt=0, description="Box width (x), metres; centred at 0 (Sorscher, NFL: 2.2).")
    height: float | None = Field(None, gt=0, description="Box height (y), metres; default = width (square).")
    depth: float | None = Field(
        None, gt=0, description="Box depth (z), metres: set it for a 3-D volume (a cuboid); unset, the box is an arena."
    )
    periodic: bool = Field(False, description="Positions wrap around (a torus) instead of meeting walls.")

    @model_validator(mode="after")
    def _speed_turn_is_2d(self):
        if self.depth is not None and self.velocity_input != "displacement":
            raise ValueError("velocity_input must be 'displacement' in 3-D (the speed-and-turn input is planar)")
        return self


class CubeConfig(BoxConfig):
    width: float = Field(1.5, gt=0, description="Width (x), metres; centred at 0.")
    depth: float | None = Field(1.5, gt=0, description="Depth (z), metres; default 1.5 (a cube with width and height).")


class CircleConfig(MotionModel):
    radius: float = Field(1.1, gt=0, description="Arena radius, metres; centred at 0.")


class RecordedConfig(ComponentConfig):
    path: str = Field(description="An .npz file with 'positions' (n_paths, n_steps, 2) in metres, or an .npy of them.")
    dt: float = Field(0.02, gt=0, description="Seconds per step, unless the file says ('dt').")
    velocity_input: VelocityInput = Field(
        "displacement", description="'displacement' (metres per step) or 'speed_turn' (speed, sin ω, cos ω)."
    )


Point = tuple[float, float]


class PolygonConfig(MotionModel):
    """A polygonal arena with optional internal walls (zero-thickness segments the animal cannot cross)."""

    shape: Literal["two_compartments", "trapezoid", "l_shape", "custom"] = Field(
        "two_compartments",
        description="'two_compartments': two rooms side by side joined by a door (as Carpenter et al. 2015); "
        "'trapezoid': as Krupic et al. 2015; 'l_shape'; 'custom': your own vertices and walls.",
    )
    size: float = Field(1.1, gt=0, description="Scale, metres: a compartment's side; the trapezoid's wide end; the L's arm.")
    door_width: float = Field(0.3, gt=0, description="Width of the door between the two compartments, metres.")
    trapezoid_length: float = Field(1.9, gt=0, description="Trapezoid: length along x, metres.")
    trapezoid_narrow: float = Field(0.2, gt=0, description="Trapezoid: width of the narrow end, metres.")
    vertices: list[Point] | None = Field(None, description="'custom': the boundary's corners, in order (closed).")
    walls: list[tuple[Point, Point]] = Field(
        default_factory=list, description="Extra internal walls, each [[x1, y1], [x2, y2]] (any shape)."
    )
    holes: list[list[Point]] = Field(
        default_factory=list, description="Obstacles: polygons [[x, y], ...] inside the arena that the animal walks around."
    )

    @model_validator(mode="after")
    def _custom_needs_vertices(self):
        if self.shape == "custom" and (self.vertices is None or len(self.vertices) < 3):
            raise ValueError("shape = 'custom' needs vertices: at least 3 corners [[x, y], ...]")
        for label, ring in ([("vertices", self.vertices)] if self.vertices else []) + [
                (f"holes[{i}]", h) for i, h in enumerate(self.holes)]:
            problem = _not_simple(ring)
            if problem:
                raise ValueError(f"{label}: {problem}; give the corners of a simple polygon, in order")
        if self.shape != "custom" and self.vertices is not None:
            raise ValueError(f"vertices are for shape = 'custom'; shape {self.shape!r} makes its own")
        if self.shape == "two_compartments" and self.door_width >= self.size:
            raise ValueError("door_width must be smaller than size (the wall's length)")
        if self.velocity_input != "displacement":
            raise ValueError("velocity_input must be 'displacement' in a polygonal arena")
        return self


def _not_simple(ring) -> str | None:
    """Why a closed ring of corners is not a simple polygon (too few corners, no area, or two of its edges
    crossing), else None. A self-crossing boundary has no inside: 'inside' would flip across every crossing."""
    points = [tuple(map(float, p)) for p in ring]
    n = len(points)
    if n < 3:
        return "fewer than 3 corners"
    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    def meet(p1, p2, q1, q2):
        d1, d2, d3, d4 = cross(q1, q2, p1), cross(q1, q2, p2), cross(p1, p2, q1), cross(p1, p2, q2)
        return d1 * d2 < 0 and d3 * d4 < 0

    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # adjacent through the closing edge
            if meet(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n]):
                return f"edges {i + 1} and {j + 1} cross"
    area = sum(points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1] for i in range(n)) / 2
    if abs(area) < 1e-12:
        return "the corners enclose no area"
    return None


class RatInABoxConfig(MotionModel):
    """An arena built from a RatInABox Environment, optionally with RatInABox's own motion model."""

    environment: dict = Field(
        default_factory=dict, description="Parameters of a RatInABox Environment (boundary, walls, holes, scale, aspect), "
        "as you would pass them to ratinabox.Environment.Environment(params=...)."
    )
    motion: Literal["gridzoo", "ratinabox"] = Field(
        "gridzoo", description="'gridzoo': gridzoo's motion model against the arena's walls; 'ratinabox': RatInABox's "
        "Agent, run once into a pool of paths from which each batch takes random windows."
    )
    agent: dict = Field(default_factory=dict, description="Parameters of the RatInABox Agent (its dt is this config's dt).")
    pool_paths: int = Field(32, ge=1, description="'ratinabox' motion: paths in the pool.")
    pool_steps: int = Field(5000, ge=2, description="'ratinabox' motion: steps per path.")
    pool_seed: int = Field(0, ge=0, description="'ratinabox' motion: NumPy seed of RatInABox's random numbers.")

    @model_validator(mode="after")
    def _planar(self):
        if str(self.environment.get("dimensionality", "2D")) != "2D":
            raise ValueError("environment.dimensionality must be '2D' (gridzoo's 3-D volumes are the cube)")
        if self.velocity_input != "displacement":
            raise ValueError("velocity_input must be 'displacement' for a RatInABox arena")
        return self
