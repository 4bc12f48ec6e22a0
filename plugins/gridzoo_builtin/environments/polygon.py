"""Polygonal arenas with internal walls: two compartments joined by a door, a trapezoid, an L, or your own.

The same motion model as the box (``motion.RandomWalkEnvironment``), against every wall segment: the nearest wall
is the nearest segment (boundary edges and internal walls alike), and a step that would cross a segment stops just
before it. Vectorised over the batch and the segments, in NumPy on a CPU and in torch on a GPU. Place-cell centres
and analysis positions are drawn inside the boundary (rejection sampling), so nothing lies outside the arena, and
rate maps leave the bins outside it unvisited.

References for the shapes: Carpenter, Manson, Jeffery, Burgess & Barry (2015), Grid cells form a global
representation of connected environments, Curr. Biol. 25, 1176-1182 (two compartments); Krupic, Bauza, Burton,
Barry & O'Keefe (2015), Grid cell symmetry is shaped by environmental geometry, Nature 518, 232-235 (trapezoid;
the default dimensions here are an approximation: set your own).
"""

from __future__ import annotations

from functools import cached_property
from types import ModuleType
from typing import Any

import numpy as np
import torch

from gridzoo.environment import Bounds

from gridzoo_builtin.environments.configs import PolygonConfig
from gridzoo_builtin.environments.motion import RandomWalkEnvironment

#: A step that would cross a wall stops at it, this far (metres) on the animal's side: never exactly on a wall.
MARGIN = 1e-5
#: A crossing this close beyond a segment's end still counts (steps that graze a corner).
CORNER = 1e-6


def _shape(config: PolygonConfig) -> tuple[np.ndarray, list[tuple[tuple[float, float], tuple[float, float]]]]:
    """Boundary vertices (M, 2) and internal wall segments of a shape."""
    s = config.size
    walls = [tuple(map(tuple, w)) for w in config.walls]
    if config.shape == "two_compartments":
        h, d = s / 2, config.door_width / 2
        vertices = [(-s, -h), (s, -h), (s, h), (-s, h)]
        walls += [((0.0, -h), (0.0, -d)), ((0.0, d), (0.0, h))]
    elif config.shape == "trapezoid":
        length, narrow = config.trapezoid_length / 2, config.trapezoid_narrow / 2
        vertices = [(-length, -s / 2), (length, -narrow), (length, narrow), (-length, s / 2)]
    elif config.shape == "l_shape":
        vertices = [(-s, -s), (s, -s), (s, 0.0), (0.0, 0.0), (0.0, s), (-s, s)]
    else:
        vertices = list(config.vertices or [])
    return np.asarray(vertices, dtype=np.float32), walls


class PolygonEnvironment(RandomWalkEnvironment):
    """A polygonal arena with internal walls (two compartments with a door, a trapezoid, an L, or custom)."""

    Config = PolygonConfig
    summary = "Polygonal arena with internal walls (two compartments, trapezoid, L, custom); the box's motion model."
    citation = (
        "Carpenter et al. (2015), Curr. Biol. 25, 1176 (two compartments); Krupic et al. (2015), Nature 518, 232 "
        "(trapezoid); motion model of Sorscher et al. (2019)."
    )
    config: PolygonConfig

    @cached_property
    def vertices(self) -> np.ndarray:
        return _shape(self.config)[0]

    @cached_property
    def holes(self) -> list[np.ndarray]:
        return [np.asarray(h, dtype=np.float32) for h in getattr(self.config, "holes", [])]

    @cached_property
    def wall_segments(self) -> np.ndarray:
        """Every wall as a segment (S, 2, 2): the boundary's edges, the internal walls, the holes' edges."""
        _, walls = _shape(self.config)
        return _segments(self.vertices, walls, self.holes)

    @property
    def walls(self) -> np.ndarray:
        return self.wall_segments

    @property
    def bounds(self) -> Bounds:
        low, high = self.vertices.min(axis=0), self.vertices.max(axis=0)
        return Bounds(float(low[0]), float(high[0]), float(low[1]), float(high[1]))

    def _segments(self, xp: ModuleType, like: Any):
        if xp is np:
            return self.wall_segments
        cache = self.__dict__.setdefault("_segments_on", {})
        key = str(like.device)
        if key not in cache:
            cache[key] = torch.as_tensor(self.wall_segments, device=like.device)
        return cache[key]

    def contains(self, position: torch.Tensor) -> torch.Tensor:
        points = position.detach().cpu().numpy().reshape(-1, 2)
        inside = _inside(points, self.vertices)
        for hole in self.holes:
            inside &= ~_inside(points, hole)
        return torch.as_tensor(inside, device=position.device).reshape(position.shape[:-1])

    def sample_positions(self, n: int, *, generator: torch.Generator, device="cpu") -> torch.Tensor:
        b = self.bounds
        low = torch.tensor(b.low, device=device)
        size = torch.tensor(b.sizes, device=device)
        found, total = [], 0
        while total < n:
            candidates = low + torch.rand(max(2 * n, 64), 2, generator=generator, device=device) * size
            keep = candidates[self.contains(candidates)]
            found.append(keep)
            total += len(keep)
        return torch.cat(found)[:n]

    def nearest_wall(self, pos: Any, xp: ModuleType) -> tuple[Any, Any]:
        seg = self._segments(xp, pos)
        a, ab = seg[:, 0], seg[:, 1] - seg[:, 0]  # (S, 2)
        ap = pos[:, None, :] - a[None]  # (B, S, 2)
        t = xp.clip((ap * ab[None]).sum(-1) / (ab * ab).sum(-1)[None], 0.0, 1.0) if xp is np else \
            torch.clamp((ap * ab[None]).sum(-1) / (ab * ab).sum(-1)[None], 0.0, 1.0)
        towards = a[None] + t[..., None] * ab[None] - pos[:, None, :]  # from the position to the wall's nearest point
        dist = xp.sqrt((towards * towards).sum(-1))  # (B, S)
        nearest = xp.argmin(dist, -1)
        rows = xp.arange(len(pos)) if xp is np else torch.arange(len(pos), device=pos.device)
        d = dist[rows, nearest]
        direction = towards[rows, nearest] / xp.where(d > 0, d, 1.0)[:, None]
        return d, direction

    def confine(self, old: Any, new: Any, xp: ModuleType) -> Any:
        """Stop a step at the first wall it would cross, MARGIN on the near side of it. A crossing is a strict
        change of side of the wall's line within the segment (its ends widened by CORNER)."""
        seg = self._segments(xp, old)
        a, ab = seg[:, 0][None], (seg[:, 1] - seg[:, 0])[None]  # (1, S, 2)
        normal = xp.stack([-ab[..., 1], ab[..., 0]], -1)  # (1, S, 2); side(p) = normal · (p − a)
        side_old = ((old[:, None, :] - a) * normal).sum(-1)  # (B, S)
        side_new = ((new[:, None, :] - a) * normal).sum(-1)
        changes = ((side_old > 0) & (side_new <= 0)) | ((side_old < 0) & (side_new >= 0))
        u = side_old / xp.where(changes, side_old - side_new, 1.0)  # where along the step the line is crossed
        point = old[:, None, :] + u[..., None] * (new - old)[:, None, :]
        v = ((point - a) * ab).sum(-1) / (ab * ab).sum(-1)
        hit = changes & (v >= -CORNER) & (v <= 1 + CORNER)
        u = xp.where(hit, u, 2.0)
        first = xp.argmin(u, -1)
        rows = xp.arange(len(old)) if xp is np else torch.arange(len(old), device=old.device)
        blocked = u[rows, first] <= 1
        n = normal[0][first]  # (B, 2) the blocking wall's normal
        unit = n / xp.sqrt((n * n).sum(-1))[:, None]
        back = xp.sign(side_old[rows, first])[:, None] * unit * MARGIN  # towards the animal's side
        stop = old + u[rows, first][:, None] * (new - old) + back
        result = xp.where(blocked[:, None], stop, new)
        # A step that grazes a corner can pass between two segments' ends; the boundary test catches it.
        inside = _inside(result, self._boundary(xp, old), xp)
        for hole in self._hole_arrays(xp, old):
            inside = inside & ~_inside(result, hole, xp)
        return xp.where(inside[:, None], result, old)

    def _hole_arrays(self, xp: ModuleType, like: Any):
        if xp is np or not self.holes:
            return self.holes
        cache = self.__dict__.setdefault("_holes_on", {})
        key = str(like.device)
        if key not in cache:
            cache[key] = [torch.as_tensor(h, device=like.device) for h in self.holes]
        return cache[key]

    def _boundary(self, xp: ModuleType, like: Any):
        if xp is np:
            return self.vertices
        cache = self.__dict__.setdefault("_vertices_on", {})
        key = str(like.device)
        if key not in cache:
            cache[key] = torch.as_tensor(self.vertices, device=like.device)
        return cache[key]


def _segments(vertices: np.ndarray, walls, holes) -> np.ndarray:
    """Every wall as a segment (S, 2, 2): the boundary's edges, the internal walls, the holes' edges."""
    parts = [np.stack([vertices, np.roll(vertices, -1, axis=0)], axis=1),
             np.asarray(walls, dtype=np.float32).reshape(-1, 2, 2)]
    parts += [np.stack([h, np.roll(h, -1, axis=0)], axis=1) for h in holes]
    return np.concatenate(parts).astype(np.float32)


def _inside(points: Any, vertices: Any, xp: ModuleType = np) -> Any:
    """Even-odd rule: whether each point (P, 2) lies inside the polygon (M, 2) (numpy or torch)."""
    x, y = points[:, 0:1], points[:, 1:2]
    xi, yi = vertices[:, 0][None], vertices[:, 1][None]
    xj, yj = xp.roll(vertices[:, 0], -1)[None], xp.roll(vertices[:, 1], -1)[None]
    crosses = (yi > y) != (yj > y)
    dy = yj - yi
    at = (xj - xi) * (y - yi) / xp.where(dy != 0, dy, 1.0) + xi
    return (crosses & (x < at)).sum(1) % 2 == 1
