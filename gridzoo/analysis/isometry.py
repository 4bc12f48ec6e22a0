"""Is a population code a conformal isometry of space? Neural distance against physical distance for small moves.

Xu, Gao, Zhang, Wei & Wu (ICLR 2025) and Schøyen et al. (PLoS CB 2025) argue that what makes a grid code special is
that it is (locally) a conformal isometry: moving by δ anywhere, in any direction, changes the population vector by
about s·|δ| for one scale s. On a population's rate maps (U, N, N), per bin and direction (0°, 45°, 90°, 135°):
the local stretch ||r(x + δ) − r(x)|| / |δ| for a one-bin step δ. Summaries:

- ``cv``: coefficient of variation of the stretch over every bin and direction (0 for an exact conformal isometry);
- ``anisotropy``: per bin, 1 − the smallest over the largest directional stretch, median over bins (0 when
  isotropic; near 1 for band cells, which change along one direction only);
- ``scale``: the median stretch (population-vector change per metre).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: One-bin steps: (di, dj) and their lengths in bins.
STEPS = ((1, 0), (1, 1), (0, 1), (-1, 1))


@dataclass
class Isometry:
    cv: float
    anisotropy: float
    scale: float  # per metre


def local_stretch(maps: np.ndarray, bin_size: float) -> np.ndarray:
    """(4 directions, N−2, N−2) stretch of the population vector over one-bin steps (interior bins; unvisited
    bins are NaN and give NaN)."""
    maps = np.asarray(maps, dtype=np.float64)
    core = maps[:, 1:-1, 1:-1]
    n = maps.shape[1]
    out = []
    for di, dj in STEPS:
        moved = maps[:, 1 + di:n - 1 + di, 1 + dj:n - 1 + dj]
        out.append(np.sqrt(np.sum((moved - core) ** 2, axis=0)) / (bin_size * np.hypot(di, dj)))
    return np.stack(out)


def conformal_isometry(maps: np.ndarray, bin_size: float) -> Isometry:
    """The summaries above for rate maps (U, N, N) of bin width ``bin_size`` metres."""
    stretch = local_stretch(maps, bin_size)
    ok = np.isfinite(stretch).all(axis=0) & (stretch.max(axis=0) > 0)
    if not ok.any():
        return Isometry(float("nan"), float("nan"), float("nan"))
    values = stretch[:, ok]
    return Isometry(float(values.std() / values.mean()), float(np.median(1 - values.min(0) / values.max(0))),
                    float(np.median(values)))


def population_maps(kind: str, units: int = 64, bins: int = 40, extent: float = 2.0, period: float = 0.6,
                    seed: int = 0) -> tuple[np.ndarray, float]:
    """Synthetic rate maps (units, bins, bins) of one grid module ('grid'), of band cells of one orientation
    ('bands') or of Gaussian place cells ('place'), with random phases or centres; and the bin size."""
    rng = np.random.default_rng(seed)
    axis = (np.arange(bins) + 0.5) / bins * extent
    x = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1)
    if kind == "place":
        centres = rng.uniform(0, extent, (units, 2))
        d2 = ((x[None] - centres[:, None, None]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * (period / 4) ** 2)), extent / bins
    phases = rng.uniform(0, period, (units, 2))
    angles = np.array([0, np.pi / 3, 2 * np.pi / 3]) if kind == "grid" else np.array([0.0])
    k = 4 * np.pi / (np.sqrt(3) * period) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    d = x[None] - phases[:, None, None]
    return np.cos(np.einsum("uijd,kd->uijk", d, k)).sum(-1), extent / bins
