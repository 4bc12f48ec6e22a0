"""The rodent random-walk motion model of Sorscher et al. (2019), shared by the built-in arenas and volumes.

Each step draws a fresh forward speed from a Rayleigh distribution and turns the heading by Gaussian noise.
When the nearest wall is closer than ``border_region`` and the heading points at it, the animal turns to run
parallel to the wall and slows by ``border_slowdown``. In 2-D that is the reference's turn by
sign(a)·(π/2 − |a|) (a: heading relative to the direction of that wall). Everything is vectorised over the batch
and drawn from the given generator on the requested device.

**Dimension is a property of the environment**: in a volume (3-D) the same model runs with the heading a unit
vector. The turn is a rotation by the same Gaussian angle towards a random direction perpendicular to the heading
("turning on the sphere"; the angular change per step has the 2-D model's distribution), the wall rule removes
the heading's component into the wall (the 2-D rule, written with vectors), and the speeds are the 2-D model's.

Speed: on a CPU the step loop runs in NumPy (a Python loop of ~20 small operations per step, each much cheaper in
NumPy than as a torch call); on a GPU it runs in torch. Both use the same random numbers, drawn up front with
torch from the given generator, so a seed fixes a batch on either path (equal to float rounding).

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
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gridzoo.environment import Environment, Trajectories

from gridzoo_builtin.environments.configs import MotionModel

SORSCHER = (
    "Sorscher, Mel, Ganguli & Ocko (2019). A unified theory for the origin of grid cells through the lens of "
    "pattern formation. NeurIPS 32."
)


class RandomWalkEnvironment(Environment):
    """An arena or volume with the Sorscher motion model; subclasses define the walls.

    ``nearest_wall`` and ``confine`` are written against an array namespace ``xp`` (``numpy`` or ``torch``)
    using only operations both share, so one definition serves the CPU and the GPU paths."""

    config: MotionModel
    citation = SORSCHER

    @property
    def input_size(self) -> int:
        if self.config.velocity_input == "displacement":
            return self.dimensions
        return 3

    @abstractmethod
    def nearest_wall(self, pos: Any, xp: ModuleType) -> tuple[Any, Any]:
        """Distance to the nearest wall (B,) and the unit vector pointing at it (B, D)."""

    @abstractmethod
    def confine(self, old: Any, new: Any, xp: ModuleType) -> Any:
        """Where a step from ``old`` towards ``new`` ends: ``new`` if inside, else stopped at the wall (or wrapped)."""

    def sample(self, batch_size: int, seq_len: int, *, generator: torch.Generator, device="cpu") -> Trajectories:
        cfg = self.config
        device = torch.device(device)
        dims = self.dimensions
        # Every random number is drawn up front, with torch, one call per distribution: fast and reproducible.
        start = self.sample_positions(batch_size, generator=generator, device=device)
        heading0 = torch.rand(batch_size, generator=generator, device=device) * (2 * math.pi)
        noise = torch.randn(batch_size, seq_len, generator=generator, device=device)
        turns = (cfg.turn_mean + cfg.turn_std * noise) * cfg.dt
        uniform = torch.rand(batch_size, seq_len, generator=generator, device=device)
        speeds = cfg.speed_scale * torch.sqrt(-2.0 * torch.log1p(-uniform))  # Rayleigh by inversion
        if dims == 3:
            # The start direction uniform on the sphere (azimuth heading0, cos(elevation) uniform) and, per step,
            # a random direction to turn towards (made perpendicular to the heading in the loop).
            cos_el = 2 * torch.rand(batch_size, generator=generator, device=device) - 1
            towards = torch.randn(batch_size, seq_len, 3, generator=generator, device=device)
            sin_el = torch.sqrt(1 - cos_el**2)
            direction0 = torch.stack([sin_el * torch.cos(heading0), sin_el * torch.sin(heading0), cos_el], dim=-1)
        cpu = device.type == "cpu"
        xp = np if cpu else torch
        arrays = [start, speeds, turns] + ([direction0, towards] if dims == 3 else [heading0])
        if cpu:
            arrays = [a.numpy() for a in arrays]
        if dims == 2:
            step_inputs, positions, headings = self._walk_2d(xp, *arrays)
        else:
            step_inputs, positions, headings = self._walk_3d(xp, *arrays)
        if cpu:
            step_inputs, positions, headings = (torch.from_numpy(np.ascontiguousarray(a)) for a in
                                                (step_inputs, positions, headings))
        return Trajectories(
            start_position=start,
            start_heading=heading0 if dims == 2 else torch.atan2(direction0[:, 1], direction0[:, 0]),
            velocity=step_inputs,
            position=positions,
            heading=headings,
        )

    def _walk_2d(self, xp, start, speeds, turns, heading):
        cfg = self.config
        pos = start
        batch, steps = speeds.shape
        positions = xp.empty((batch, steps, 2), dtype=start.dtype) if xp is np else []
        headings, inputs = [], []
        avoid = not self.periodic and cfg.border_region > 0
        two_pi = 2 * math.pi
        for t in range(steps):
            speed, turn = speeds[:, t], turns[:, t]
            if avoid:
                dist, normal = self.nearest_wall(pos, xp)
                wall = xp.arctan2(normal[:, 1], normal[:, 0]) if xp is np else torch.atan2(normal[:, 1], normal[:, 0])
                angle = xp.remainder(heading - wall + math.pi, two_pi) - math.pi
                near = (dist < cfg.border_region) & (xp.abs(angle) < math.pi / 2)
                turn = turn + xp.where(near, xp.sign(angle) * (math.pi / 2 - xp.abs(angle)), 0.0)
                speed = xp.where(near, speed * cfg.border_slowdown, speed)
            heading = heading + turn
            length = speed * cfg.dt
            step = xp.stack([length * xp.cos(heading), length * xp.sin(heading)], -1)
            new = self.confine(pos, pos + step, xp)
            if not self.periodic:
                step = new - pos
            inputs.append(self._input(xp, step, turn))
            if xp is np:
                positions[:, t] = new
            else:
                positions.append(new)
            headings.append(xp.remainder(heading, two_pi))
            pos = new
        return (xp.stack(inputs, 1), positions if xp is np else torch.stack(positions, 1), xp.stack(headings, 1))

    def _walk_3d(self, xp, start, speeds, turns, direction, towards):
        cfg = self.config
        pos = start
        steps = speeds.shape[1]
        inputs, positions, headings = [], [], []
        avoid = not self.periodic and cfg.border_region > 0
        for t in range(steps):
            speed, turn = speeds[:, t], turns[:, t]
            if avoid:
                dist, normal = self.nearest_wall(pos, xp)
                into = (direction * normal).sum(-1)
                near = (dist < cfg.border_region) & (into > 0)
                along = direction - into[:, None] * normal  # the heading's part parallel to the wall
                norm = xp.sqrt((along * along).sum(-1))[:, None]
                direction = xp.where(near[:, None] & (norm > 1e-9), along / xp.where(norm > 1e-9, norm, 1.0), direction)
                speed = xp.where(near, speed * cfg.border_slowdown, speed)
            e = towards[:, t]
            e = e - (e * direction).sum(-1)[:, None] * direction  # a random direction perpendicular to the heading
            e = e / xp.sqrt((e * e).sum(-1))[:, None]
            direction = xp.cos(turn)[:, None] * direction + xp.sin(turn)[:, None] * e
            direction = direction / xp.sqrt((direction * direction).sum(-1))[:, None]
            step = (speed * cfg.dt)[:, None] * direction
            new = self.confine(pos, pos + step, xp)
            if not self.periodic:
                step = new - pos
            inputs.append(step)
            positions.append(new)
            headings.append(xp.remainder(xp.arctan2(direction[:, 1], direction[:, 0]) if xp is np
                                         else torch.atan2(direction[:, 1], direction[:, 0]), 2 * math.pi))
            pos = new
        return xp.stack(inputs, 1), xp.stack(positions, 1), xp.stack(headings, 1)

    def _input(self, xp, step, turn):
        if self.config.velocity_input == "displacement":
            return step
        speed = xp.sqrt((step * step).sum(-1)) / self.config.dt
        return xp.stack([speed, xp.sin(turn), xp.cos(turn)], -1)
