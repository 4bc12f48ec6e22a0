"""Configs of the built-in environments, in a module that imports no torch: a config error is reported before
any heavy import (the ``gridzoo.configs`` entry points point here)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

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
    periodic: bool = Field(False, description="Positions wrap around (a torus) instead of meeting walls.")


class CircleConfig(MotionModel):
    radius: float = Field(1.1, gt=0, description="Arena radius, metres; centred at 0.")


class RecordedConfig(ComponentConfig):
    path: str = Field(description="An .npz file with 'positions' (n_paths, n_steps, 2) in metres, or an .npy of them.")
    dt: float = Field(0.02, gt=0, description="Seconds per step, unless the file says ('dt').")
    velocity_input: VelocityInput = Field(
        "displacement", description="'displacement' (metres per step) or 'speed_turn' (speed, sin ω, cos ω)."
    )
