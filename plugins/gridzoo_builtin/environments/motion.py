"""The rodent random-walk motion model of Sorscher et al. (2019), shared by the built-in arenas.

Each step draws a fresh forward speed from a Rayleigh distribution and turns the heading by Gaussian noise.
When the nearest wall is closer than ``border_region`` and the heading points at it, the animal turns away by
sign(a)·(π/2 − |a|) (a: heading relative to the direction of that wall) and slows by ``border_slowdown``.
Everything is vectorised over the batch and generated on the requested device from the given generator.

Deviations from the reference code (ganguli-lab/grid-pattern-formation, ``trajectory_generator.py``):
- The reference moves along the heading *before* the wall-avoidance turn (the turn lands one step late), so
  about 0.5 % of its positions leave the box, by up to 7 cm. Here the turn is applied first, and a step that
  would still cross a wall stops at the wall, so every position stays inside. The velocity input is always the
  step actually taken, so the path-integration problem stays exact.
- The reference reports the (late) turn as its rotation input; here the turn is reported with the step it
  affects.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import torch
from torch import Tensor

from gridzoo.environment import Environment, Trajectories

from gridzoo_builtin.environments.configs import MotionModel

SORSCHER = (
    "Sorscher, Mel, Ganguli & Ocko (2019). A unified theory for the origin of grid cells through the lens of "
    "pattern formation. NeurIPS 32."
)


class RandomWalkEnvironment(Environment):
    """An arena with the Sorscher motion model; subclasses define the walls."""

    config: MotionModel
    citation = SORSCHER

    @property
    def input_size(self) -> int:
        return 2 if self.config.velocity_input == "displacement" else 3

    @abstractmethod
    def nearest_wall(self, pos: Tensor) -> tuple[Tensor, Tensor]:
        """Distance to the nearest wall (B,) and the direction pointing at it (B,), radians."""

    @abstractmethod
    def confine(self, old: Tensor, new: Tensor) -> Tensor:
        """Where a step from ``old`` towards ``new`` ends: ``new`` if inside, else stopped at the wall (or wrapped)."""

    def sample(self, batch_size: int, seq_len: int, *, generator: torch.Generator, device="cpu") -> Trajectories:
        cfg = self.config
        device = torch.device(device)
        # Every random number is drawn up front, one call per distribution: fast and reproducible.
        start = self.sample_positions(batch_size, generator=generator, device=device)
        heading0 = torch.rand(batch_size, generator=generator, device=device) * (2 * math.pi)
        noise = torch.randn(batch_size, seq_len, generator=generator, device=device)
        turns = (cfg.turn_mean + cfg.turn_std * noise) * cfg.dt
        uniform = torch.rand(batch_size, seq_len, generator=generator, device=device)
        speeds = cfg.speed_scale * torch.sqrt(-2.0 * torch.log1p(-uniform))  # Rayleigh by inversion

        pos, heading = start, heading0
        positions, headings, inputs = [], [], []
        for t in range(seq_len):
            speed, turn = speeds[:, t], turns[:, t]
            if not self.periodic and cfg.border_region > 0:
                dist, wall = self.nearest_wall(pos)
                angle = torch.remainder(heading - wall + math.pi, 2 * math.pi) - math.pi
                near = (dist < cfg.border_region) & (angle.abs() < math.pi / 2)
                turn = turn + torch.where(near, torch.sign(angle) * (math.pi / 2 - angle.abs()), 0.0)
                speed = torch.where(near, speed * cfg.border_slowdown, speed)
            heading = heading + turn
            step = (speed * cfg.dt)[:, None] * torch.stack([torch.cos(heading), torch.sin(heading)], dim=-1)
            new = self.confine(pos, pos + step)
            if not self.periodic:
                step = new - pos
            inputs.append(self._input(step, turn))
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

    def _input(self, step: Tensor, turn: Tensor) -> Tensor:
        if self.config.velocity_input == "displacement":
            return step
        speed = step.norm(dim=-1) / self.config.dt
        return torch.stack([speed, torch.sin(turn), torch.cos(turn)], dim=-1)
