"""A rectangular box (square by default), solid or periodic, with the Sorscher et al. motion model."""

from __future__ import annotations

import math

import torch
from pydantic import Field
from torch import Tensor

from gridzoo.environment import Bounds

from gridzoo_builtin.environments.motion import MotionModel, RandomWalkEnvironment


class BoxConfig(MotionModel):
    width: float = Field(2.2, gt=0, description="Box width (x), metres; centred at 0 (Sorscher, NFL: 2.2).")
    height: float | None = Field(None, gt=0, description="Box height (y), metres; default = width (square).")
    periodic: bool = Field(False, description="Positions wrap around (a torus) instead of meeting walls.")


class BoxEnvironment(RandomWalkEnvironment):
    """Rectangular arena centred at the origin, solid (walls) or periodic (a torus)."""

    Config = BoxConfig
    summary = "Rectangular box (solid or periodic) with the rodent motion model of Sorscher et al. 2019."
    config: BoxConfig

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

    def nearest_wall(self, pos: Tensor) -> tuple[Tensor, Tensor]:
        b = self.bounds
        dists = torch.stack([b.xmax - pos[:, 0], pos[:, 1] - b.ymin, pos[:, 0] - b.xmin, b.ymax - pos[:, 1]], -1)
        dist, nearest = dists.min(dim=-1)
        directions = torch.tensor([0.0, -math.pi / 2, math.pi, math.pi / 2], device=pos.device)  # E, S, W, N
        return dist, directions[nearest]

    def confine(self, old: Tensor, new: Tensor) -> Tensor:
        b = self.bounds
        lo = new.new_tensor([b.xmin, b.ymin])
        hi = new.new_tensor([b.xmax, b.ymax])
        if self.periodic:
            return lo + torch.remainder(new - lo, hi - lo)
        return torch.minimum(torch.maximum(new, lo), hi)
