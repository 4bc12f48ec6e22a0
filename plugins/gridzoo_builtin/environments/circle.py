"""A circular arena with the Sorscher et al. motion model."""

from __future__ import annotations

import math

import numpy as np
import torch

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

    @property
    def walls(self) -> np.ndarray:
        """The circle drawn as 128 segments (for figures only; the motion model uses the exact circle)."""
        angle = np.linspace(0, 2 * np.pi, 129)
        ring = self.config.radius * np.stack([np.cos(angle), np.sin(angle)], axis=-1).astype(np.float32)
        return np.stack([ring[:-1], ring[1:]], axis=1)

    def contains(self, position: torch.Tensor) -> torch.Tensor:
        return position.norm(dim=-1) <= self.config.radius * (1 + 1e-6)

    def sample_positions(self, n: int, *, generator: torch.Generator, device="cpu") -> torch.Tensor:
        u = torch.rand(n, 2, generator=generator, device=device)
        r = self.config.radius * torch.sqrt(u[:, 0])  # uniform over the disc's area
        angle = 2 * math.pi * u[:, 1]
        return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=-1)

    def nearest_wall(self, pos, xp):
        norm = xp.sqrt((pos * pos).sum(-1))
        return self.config.radius - norm, pos / xp.where(norm > 0, norm, 1.0)[:, None]

    def confine(self, old, new, xp):
        radius = self.config.radius
        norm = xp.sqrt((new * new).sum(-1))[:, None]
        return xp.where(norm > radius, new * (radius / xp.where(norm > 0, norm, 1.0)), new)
