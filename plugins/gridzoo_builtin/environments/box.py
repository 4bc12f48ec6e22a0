"""A rectangular box with the rodent motion model of Sorscher et al. (2019), also used by Schaeffer et al. (2022).

Each step draws a fresh forward speed from a Rayleigh distribution and turns the heading by Gaussian noise.
Near a wall, the animal turns away and slows down. Everything is vectorised over the batch and generated on
the requested device from the given generator.

Deviations from the reference code (ganguli-lab/grid-pattern-formation, ``trajectory_generator.py``):
- The reference moves along the heading *before* the wall-avoidance turn (the turn lands one step late), so
  about 0.5 % of its positions leave the box. Here the turn is applied first, and any step that would still
  cross a wall is cut at the wall, so every position stays inside. The velocity input is always the step that
  was actually taken, so the path-integration problem stays exact.
- The reference reports the (late) turn as a rotation-velocity input; here the turn is reported in the same
  step as the move it affects.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import Field
from torch import Tensor

from gridzoo.component import ComponentConfig
from gridzoo.environment import Bounds, Environment, Trajectories


class MotionModel(ComponentConfig):
    """Parameters of the random-walk motion model shared by the built-in arenas (Sorscher et al. defaults)."""

    dt: float = Field(0.02, gt=0, description="Seconds per step.")
    speed_scale: float = Field(
        0.13 * 2 * math.pi, gt=0, description="Rayleigh scale of the forward speed, m/s (mean = scale·√(π/2))."
    )
    turn_std: float = Field(11.52, ge=0, description="Std of the angular velocity, rad/s.")
    turn_mean: float = Field(0.0, description="Mean angular velocity, rad/s.")
    border_region: float = Field(0.03, ge=0, description="Distance from a wall at which the animal turns away, m.")
    border_slowdown: float = Field(0.25, gt=0, le=1, description="Speed factor while turning away from a wall.")
    velocity_input: Literal["displacement", "speed_turn"] = Field(
        "displacement",
        description="Network input per step: 'displacement' = allocentric step v·dt·(cos θ, sin θ) in metres "
        "(Sorscher, NFL); 'speed_turn' = (speed, sin ω, cos ω) with ω the turn in radians (Banino).",
    )


class BoxConfig(MotionModel):
    width: float = Field(2.2, gt=0, description="Box width (x), metres; centred at 0.")
    height: float | None = Field(None, gt=0, description="Box height (y), metres; default = width (square).")
    periodic: bool = Field(False, description="Positions wrap around (a torus) instead of meeting walls.")


def velocity_input(step: Tensor, turn: Tensor, dt: float, kind: str) -> Tensor:
    """The network's per-step input from the step actually taken (B, 2) and the turn made (B,)."""
    if kind == "displacement":
        return step
    speed = step.norm(dim=-1) / dt
    return torch.stack([speed, torch.sin(turn), torch.cos(turn)], dim=-1)


class BoxEnvironment(Environment):
    """Rectangular arena (square by default, solid or periodic) with the Sorscher et al. motion model."""

    Config = BoxConfig
    summary = "Rectangular box (solid or periodic) with the rodent motion model of Sorscher et al. 2019."
    citation = (
        "Sorscher, Mel, Ganguli & Ocko (2019). A unified theory for the origin of grid cells through the lens "
        "of pattern formation. NeurIPS 32."
    )

    config: BoxConfig

    @property
    def input_size(self) -> int:
        return 2 if self.config.velocity_input == "displacement" else 3

    @property
    def bounds(self) -> Bounds:
        w = self.config.width
        h = self.config.height or w
        return Bounds(-w / 2, w / 2, -h / 2, h / 2)

    @property
    def periodic(self) -> bool:
        return self.config.periodic

    def contains(self, position: Tensor) -> Tensor:
        b = self.bounds
        x, y = position[..., 0], position[..., 1]
        return (x >= b.xmin) & (x <= b.xmax) & (y >= b.ymin) & (y <= b.ymax)

    def sample_positions(self, n: int, *, generator: torch.Generator, device="cpu") -> Tensor:
        b = self.bounds
        u = torch.rand(n, 2, generator=generator, device=device)
        return torch.stack([b.xmin + u[:, 0] * b.width, b.ymin + u[:, 1] * b.height], dim=-1)

    def _wall_distance_and_angle(self, pos: Tensor, heading: Tensor) -> tuple[Tensor, Tensor]:
        """Distance to the nearest wall, and the heading minus the direction towards that wall, in [-π, π)."""
        b = self.bounds
        dists = torch.stack([b.xmax - pos[:, 0], pos[:, 1] - b.ymin, pos[:, 0] - b.xmin, b.ymax - pos[:, 1]], -1)
        nearest = dists.argmin(dim=-1)
        # Directions of the walls as seen from inside: east, south, west, north.
        wall_dir = torch.tensor([0.0, -math.pi / 2, math.pi, math.pi / 2], device=pos.device)[nearest]
        angle = torch.remainder(heading - wall_dir + math.pi, 2 * math.pi) - math.pi
        return dists.gather(-1, nearest[:, None]).squeeze(-1), angle

    def sample(self, batch_size: int, seq_len: int, *, generator: torch.Generator, device="cpu") -> Trajectories:
        cfg = self.config
        device = torch.device(device)
        b = self.bounds
        # Draw every random number up front, in one call per distribution, for speed and reproducibility.
        start = self.sample_positions(batch_size, generator=generator, device=device)
        heading0 = torch.rand(batch_size, generator=generator, device=device) * 2 * math.pi
        turn_noise = torch.randn(batch_size, seq_len, generator=generator, device=device)
        turn_noise = (cfg.turn_mean + cfg.turn_std * turn_noise) * cfg.dt
        uniform = torch.rand(batch_size, seq_len, generator=generator, device=device)
        speed = cfg.speed_scale * torch.sqrt(-2.0 * torch.log1p(-uniform))  # Rayleigh by inversion

        lo = torch.tensor([b.xmin, b.ymin], device=device)
        hi = torch.tensor([b.xmax, b.ymax], device=device)
        size = hi - lo
        pos, heading = start, heading0
        positions, headings, inputs = [], [], []
        for t in range(seq_len):
            v = speed[:, t]
            turn = turn_noise[:, t]
            if not cfg.periodic:
                dist, angle = self._wall_distance_and_angle(pos, heading)
                near = (dist < cfg.border_region) & (angle.abs() < math.pi / 2)
                turn = turn + torch.where(near, torch.sign(angle) * (math.pi / 2 - angle.abs()), 0.0)
                v = torch.where(near, v * cfg.border_slowdown, v)
            heading = heading + turn
            step = (v * cfg.dt)[:, None] * torch.stack([torch.cos(heading), torch.sin(heading)], dim=-1)
            new = pos + step
            if cfg.periodic:
                new = lo + torch.remainder(new - lo, size)
            else:
                new = torch.minimum(torch.maximum(new, lo), hi)  # a step that would cross a wall stops at it
                step = new - pos
            inputs.append(velocity_input(step, turn, cfg.dt, cfg.velocity_input))
            positions.append(new)
            headings.append(torch.remainder(heading, 2 * math.pi))
            pos = new
        return Trajectories(
            start_position=start,
            start_heading=heading0,
            velocity=torch.stack(inputs, dim=1),
            position=torch.stack(positions, dim=1),
            heading=torch.stack(headings, dim=1),
        )
