"""Arenas from RatInABox (George et al. 2024, eLife): build a gridzoo environment from a RatInABox
``Environment`` (its boundary, walls and holes), and optionally draw trajectories with RatInABox's own ``Agent``.

    [environment]
    name = "ratinabox"
    environment = {boundary = [[0, 0], [1.2, 0], [1.2, 0.6], [0.6, 0.6], [0.6, 1.2], [0, 1.2]], walls = [[[0.3, 0.2], [0.3, 0.5]]]}
    motion = "ratinabox"          # or "gridzoo": gridzoo's motion model against the same walls

With ``motion = "gridzoo"`` the arena behaves as a ``polygon`` arena (vectorised, on the device). With
``motion = "ratinabox"`` a pool of ``pool_paths`` RatInABox agents walks ``pool_steps`` steps once (RatInABox
runs one agent step at a time in Python, so this is done once per environment and reused), and each batch takes
random windows from the pool, as ``recorded`` does from a file. Needs ``pip install 'gridzoo[ratinabox]'``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import torch

from gridzoo.environment import Trajectories
from gridzoo.errors import GridzooError

from gridzoo_builtin.environments.configs import RatInABoxConfig
from gridzoo_builtin.environments.polygon import PolygonEnvironment
from gridzoo_builtin.environments.recorded import headings_of, sample_windows

RATINABOX = (
    "George, de Cothi, Stachenfeld & Barry (2024). RatInABox, a toolkit for modelling locomotion and neuronal activity "
    "in continuous environments. eLife 13, e85274."
)


def ratinabox_environment(params: dict):
    """A RatInABox Environment from its parameters, or one clear error."""
    try:
        from ratinabox.Environment import Environment
    except ImportError:
        raise GridzooError("the ratinabox environment needs RatInABox: pip install 'gridzoo[ratinabox]'") from None
    try:
        return Environment(params=dict(params))
    except Exception as exc:  # RatInABox validates with asserts and its own errors
        raise GridzooError(f"environment.environment: RatInABox refused these parameters ({type(exc).__name__}: {exc})") from None


class RatInABoxEnvironment(PolygonEnvironment):
    """A RatInABox Environment's arena (boundary, walls, holes), with gridzoo's or RatInABox's motion model."""

    Config = RatInABoxConfig
    summary = "An arena from a RatInABox Environment (walls, holes, boundary); gridzoo's or RatInABox's motion model."
    citation = RATINABOX
    config: RatInABoxConfig

    def __init__(self, config: RatInABoxConfig) -> None:
        super().__init__(config)
        self.ratinabox = ratinabox_environment(config.environment)
        self._pools: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @cached_property
    def vertices(self) -> np.ndarray:
        boundary = self.ratinabox.params.get("boundary")
        if boundary:
            return np.asarray(boundary, dtype=np.float32)
        x0, x1, y0, y1 = (float(v) for v in self.ratinabox.extent)
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)

    @cached_property
    def holes(self) -> list[np.ndarray]:
        return [np.asarray(h, dtype=np.float32) for h in (self.ratinabox.params.get("holes") or [])]

    @cached_property
    def wall_segments(self) -> np.ndarray:
        # RatInABox's own list: the boundary's edges, the internal walls and the holes' edges.
        return np.asarray(self.ratinabox.walls, dtype=np.float32).reshape(-1, 2, 2)

    def _pool(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """RatInABox agents' paths (pool_paths, pool_steps, 2), generated once (seeded) and kept."""
        if "cpu" not in self._pools:
            from ratinabox.Agent import Agent

            cfg = self.config
            state = np.random.get_state()
            np.random.seed(cfg.pool_seed)  # RatInABox draws from NumPy's global generator
            try:
                paths = []
                for _ in range(cfg.pool_paths):
                    agent = Agent(self.ratinabox, params={**cfg.agent, "dt": cfg.dt, "save_history": False})
                    positions = np.empty((cfg.pool_steps, 2), dtype=np.float32)
                    for t in range(cfg.pool_steps):
                        agent.update()
                        positions[t] = agent.pos
                    paths.append(positions)
            finally:
                np.random.set_state(state)
            pos = torch.from_numpy(np.stack(paths))
            self._pools["cpu"] = (pos, headings_of(pos))
        key = str(device)
        if key not in self._pools:
            pos, head = self._pools["cpu"]
            self._pools[key] = (pos.to(device), head.to(device))
        return self._pools[key]

    def sample(self, batch_size: int, seq_len: int, *, generator: torch.Generator, device="cpu") -> Trajectories:
        if self.config.motion == "gridzoo":
            return super().sample(batch_size, seq_len, generator=generator, device=device)
        device = torch.device(device)
        pos, head = self._pool(device)
        return sample_windows(pos, head, batch_size, seq_len, generator=generator, device=device,
                              velocity_input="displacement", dt=self.config.dt, label="ratinabox pool")
