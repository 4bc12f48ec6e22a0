"""A rectangular box (square by default), solid or periodic, with the Sorscher et al. motion model."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gridzoo.environment import Bounds

from gridzoo_builtin.environments.configs import BoxConfig
from gridzoo_builtin.environments.motion import RandomWalkEnvironment


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

    def _constants(self, device: torch.device) -> dict[str, Tensor]:
        """Small per-device tensors used at every step, made once instead of 20 times a batch."""
        cache = self.__dict__.setdefault("_device_constants", {})
        if device not in cache:
            b = self.bounds
            cache[device] = {
                "lo": torch.tensor([b.xmin, b.ymin], device=device),
                "hi": torch.tensor([b.xmax, b.ymax], device=device),
                # Wall distance = sign · position + offset, for the E, S, W, N walls.
                "sign": torch.tensor([[-1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]], device=device),
                "offset": torch.tensor([b.xmax, -b.ymin, -b.xmin, b.ymax], device=device),
                "direction": torch.tensor([0.0, -math.pi / 2, math.pi, math.pi / 2], device=device),
            }
        return cache[device]

    def nearest_wall(self, pos: Tensor) -> tuple[Tensor, Tensor]:
        c = self._constants(pos.device)
        dist, nearest = torch.addmm(c["offset"], pos, c["sign"]).min(dim=-1)
        return dist, c["direction"][nearest]

    def confine(self, old: Tensor, new: Tensor) -> Tensor:
        c = self._constants(new.device)
        if self.periodic:
            return c["lo"] + torch.remainder(new - c["lo"], c["hi"] - c["lo"])
        return torch.minimum(torch.maximum(new, c["lo"]), c["hi"])
