"""The environment interface: a trajectory simulator that knows its arena."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from gridzoo.component import Component, ComponentConfig


@dataclass(frozen=True)
class Bounds:
    """Axis-aligned box enclosing the arena (2-D) or volume (3-D), in metres: used for rate maps and place-cell
    centres. ``Bounds(xmin, xmax, ymin, ymax)`` for an arena; add ``zmin, zmax`` for a volume."""

    xmin: float
    xmax: float
    ymin: float
    ymax: float
    zmin: float | None = None
    zmax: float | None = None

    @property
    def dimensions(self) -> int:
        return 2 if self.zmin is None else 3

    @property
    def low(self) -> tuple[float, ...]:
        return (self.xmin, self.ymin) if self.zmin is None else (self.xmin, self.ymin, self.zmin)

    @property
    def high(self) -> tuple[float, ...]:
        return (self.xmax, self.ymax) if self.zmax is None else (self.xmax, self.ymax, self.zmax)

    @property
    def sizes(self) -> tuple[float, ...]:
        return tuple(h - lo for lo, h in zip(self.low, self.high))

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    @property
    def depth(self) -> float | None:
        return None if self.zmin is None else self.zmax - self.zmin

    def square(self) -> "Bounds":
        """The smallest square (cube, in 3-D) with the same centre that encloses these bounds: rate maps bin it,
        so that bins are square and autocorrelograms are not stretched in a non-square arena."""
        side = max(self.sizes)
        low = [lo + (size - side) / 2 for lo, size in zip(self.low, self.sizes)]
        return Bounds(*(v for lo in low for v in (lo, lo + side)))


@dataclass(frozen=True)
class Trajectories:
    """A batch of trajectories. Position and heading at index t are those *after* step t."""

    start_position: Tensor  # (B, D) metres, D = the environment's dimensions
    start_heading: Tensor  # (B,) radians (in 3-D: the azimuth of the direction of motion)
    velocity: Tensor  # (B, T, I) the network's input at each step
    position: Tensor  # (B, T, D) metres
    heading: Tensor  # (B, T) radians, direction of motion during step t (in 3-D: its azimuth)

    @property
    def batch_size(self) -> int:
        return self.position.shape[0]

    @property
    def seq_len(self) -> int:
        return self.position.shape[1]

    def to(self, device: torch.device | str) -> "Trajectories":
        return Trajectories(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


class Environment(Component, ABC):
    """Samples trajectories of a simulated animal. Implementations must be vectorised over the batch,
    generate directly on ``device`` and draw every random number from ``generator`` (so a seed fixes a batch)."""

    def __init__(self, config: ComponentConfig) -> None:
        self.config = config

    @property
    @abstractmethod
    def input_size(self) -> int:
        """Size of the per-step velocity input the environment produces."""

    @property
    @abstractmethod
    def bounds(self) -> Bounds:
        """The box enclosing the arena."""

    @property
    def dimensions(self) -> int:
        """Spatial dimensions of positions (2 for arenas, 3 for volumes): the environment's property, which
        encoders, rate maps and analyses follow."""
        return self.bounds.dimensions

    @property
    def periodic(self) -> bool:
        """Whether positions wrap around (a torus); encoders then measure distances the short way round."""
        return False

    @abstractmethod
    def sample(
        self, batch_size: int, seq_len: int, *, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> Trajectories:
        """A batch of trajectories, generated on ``device``."""

    @property
    def walls(self) -> np.ndarray:
        """The arena's walls as line segments (S, 2, 2) in metres, for figures: empty for an arena that is its
        bounding box (the map's edge is the wall); boundary edges, internal walls and holes' edges otherwise."""
        return np.empty((0, 2, 2), dtype=np.float32)

    def sample_positions(
        self, n: int, *, generator: torch.Generator, device: torch.device | str = "cpu"
    ) -> Tensor:
        """``n`` positions uniform over the arena, shape (n, D): used to place cell centres.
        By default the arena is its bounding box; other shapes override this and :meth:`contains`."""
        b = self.bounds
        u = torch.rand(n, b.dimensions, generator=generator, device=device)
        return torch.tensor(b.low, device=device) + u * torch.tensor(b.sizes, device=device)

    def contains(self, position: Tensor) -> Tensor:
        """Boolean mask, shape ``position.shape[:-1]``: which positions lie inside the arena."""
        b = self.bounds
        low = torch.tensor(b.low, dtype=position.dtype, device=position.device)
        high = torch.tensor(b.high, dtype=position.dtype, device=position.device)
        return ((position >= low) & (position <= high)).all(dim=-1)

    def difference(self, a: Tensor, b: Tensor) -> Tensor:
        """``a − b`` elementwise (broadcasting), the short way round in periodic arenas."""
        delta = a - b
        if self.periodic:
            bounds = self.bounds
            size = torch.tensor(bounds.sizes, dtype=delta.dtype, device=delta.device)
            delta = delta - size * torch.round(delta / size)
        return delta

    def displacement(self, position: Tensor, centres: Tensor) -> Tensor:
        """Vector from each centre (N, 2) to each position (..., 2): shape (..., N, 2)."""
        return self.difference(position.unsqueeze(-2), centres)
