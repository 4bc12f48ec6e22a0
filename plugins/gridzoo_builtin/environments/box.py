"""A rectangular box (square by default), solid or periodic, with the Sorscher et al. motion model; with a
``depth`` it is a cuboid volume (3-D). ``cube`` is the same environment with 3-D defaults."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import torch

from gridzoo.environment import Bounds

from gridzoo_builtin.environments.configs import BoxConfig, CubeConfig
from gridzoo_builtin.environments.motion import RandomWalkEnvironment


class BoxEnvironment(RandomWalkEnvironment):
    """Rectangular arena centred at the origin, solid (walls) or periodic (a torus); a cuboid when ``depth`` is set."""

    Config = BoxConfig
    summary = "Rectangular box (solid or periodic; a cuboid with depth) with the motion model of Sorscher et al. 2019."
    config: BoxConfig

    @property
    def bounds(self) -> Bounds:
        w = self.config.width
        h = self.config.height or w
        d = self.config.depth
        if d is None:
            return Bounds(-w / 2, w / 2, -h / 2, h / 2)
        return Bounds(-w / 2, w / 2, -h / 2, h / 2, -d / 2, d / 2)

    @property
    def periodic(self) -> bool:
        return self.config.periodic

    def _constants(self, xp: ModuleType, like: Any) -> dict[str, Any]:
        """Per-device constants made once: the walls as (normal, offset) pairs, 2 per axis (low, high)."""
        key = "numpy" if xp is np else str(like.device)
        cache = self.__dict__.setdefault("_wall_constants", {})
        if key not in cache:
            b = self.bounds
            dims = b.dimensions
            normals = np.concatenate([np.eye(dims), -np.eye(dims)]).astype(np.float32)  # +x, +y, (+z), -x, -y, (-z)
            # distance to wall k = offset_k − normal_k · position (the wall is at normal·p = offset)
            offsets = np.array(list(b.high) + [-lo for lo in b.low], dtype=np.float32)
            values = {"normals": normals, "offsets": offsets, "low": np.array(b.low, dtype=np.float32),
                      "high": np.array(b.high, dtype=np.float32)}
            if xp is not np:
                values = {k: torch.as_tensor(v, device=like.device) for k, v in values.items()}
            cache[key] = values
        return cache[key]

    def nearest_wall(self, pos: Any, xp: ModuleType) -> tuple[Any, Any]:
        c = self._constants(xp, pos)
        distances = c["offsets"] - pos @ c["normals"].T
        nearest = xp.argmin(distances, -1)
        return xp.amin(distances, -1), c["normals"][nearest]

    def confine(self, old: Any, new: Any, xp: ModuleType) -> Any:
        c = self._constants(xp, new)
        if self.periodic:
            return c["low"] + xp.remainder(new - c["low"], c["high"] - c["low"])
        return xp.minimum(xp.maximum(new, c["low"]), c["high"])


class CubeEnvironment(BoxEnvironment):
    """A cuboid volume for 3-D navigation (flying bats, climbing rats): the box's motion model in 3-D."""

    Config = CubeConfig
    summary = "Cuboid volume (3-D): the rodent motion model turning on the sphere; velocity input in 3-D."
    citation = (
        "Motion model after Sorscher et al. (2019), in 3-D. For 3-D grid cells see Ginosar et al. (2021), Nature 596, "
        "404-409; Grieves et al. (2021), Nat. Commun. 12, 7373; Mathis, Stemmler & Herz (2015), eLife 4, e05979."
    )
    config: CubeConfig
