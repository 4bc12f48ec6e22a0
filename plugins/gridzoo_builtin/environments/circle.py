"""A circular arena with the Sorscher et al. motion model."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gridzoo.environment import Bounds

from gridzoo_builtin.environments.configs import CircleConfig
from gridzoo_builtin.environments.motion import RandomWalkEnvironment


class CircleEnvironment(RandomWalkEnvironment):
    """Circular arena; the nearest wall lies along the radius, and a step that would leave is projected back
    onto the wall (radially)."""

    Config = CircleConfig
    summary = "Circular arena with the rodent motion model of Sorscher et al. 2019."
    config: CircleConfig

    @property
    def bounds(self) -> Bounds:
        r = self.config.radius
        return Bounds(-r, r, -r, r)

    def contains(self, position: Tensor) -> Tensor:
        return position.norm(dim=-1) <= self.config.radius * (1 + 1e-6)

    def sample_positions(self, n: int, *, generator: torch.Generator, device="cpu") -> Tensor:
        u = torch.rand(n, 2, generator=generator, device=device)
        r = self.config.radius * torch.sqrt(u[:, 0])  # uniform over the disc's area
        angle = 2 * math.pi * u[:, 1]
        return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=-1)

    def nearest_wall(self, pos: Tensor) -> tuple[Tensor, Tensor]:
        return self.config.radius - pos.norm(dim=-1), torch.atan2(pos[:, 1], pos[:, 0])

    def confine(self, old: Tensor, new: Tensor) -> Tensor:
        radius = self.config.radius
        norm = new.norm(dim=-1, keepdim=True)
        return torch.where(norm > radius, new * (radius / norm), new)
