"""The shape of a population's activity: persistent homology of its point cloud, against a time-shuffle null.

A grid module's population activity lies on a torus (Gardner et al., Nature 2022: two long H1 bars and one long H2
bar in recorded modules); a head-direction or ring population on a circle. The recipe follows Gardner et al.'s:
z-score each unit, reduce to ``pca_dims`` principal components, take a maxmin subsample of ``n_perm`` points
(ripser's greedy permutation; persistent homology of thousands of points to H2 costs minutes and gigabytes), and
compute Vietoris-Rips persistence to H2 with ripser.

A bar is **long** when it lives ``NULL_MARGIN`` times longer than every bar of its dimension in ``shuffles``
time-shuffled copies (each unit's activity rolled by its own random lag, which keeps every unit's statistics and
destroys the population's joint structure; the margin because the longest of a few shuffles is a weak null: noise
populations beat it by a little, in a third of cases, while a module's bars beat it five- to tenfold) and is at
least ``LONG_FRACTION`` of the longest bar of its dimension (a torus's third, short H1 cycle
and sampling noise outlive the null too, but are far shorter). The counts of long bars in H1 and H2 name the
shape: (2, 1) a torus, (1, 0) a circle, (0, 1) a sphere, (0, 0) none; anything else "other".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gridzoo.errors import GridzooError

LONG_FRACTION = 0.5
NULL_MARGIN = 2.0
SHAPES = {(2, 1): "torus", (1, 0): "circle", (0, 1): "sphere", (0, 0): "none"}


def population_cloud(activity: np.ndarray, pca_dims: int = 6) -> np.ndarray:
    """(time points, units) activity → (time points, pca_dims): z-scored units, principal components."""
    activity = np.asarray(activity, dtype=np.float64)
    std = activity.std(axis=0)
    active = std > 1e-12
    if active.sum() < 2:
        raise GridzooError("fewer than 2 active units: a population with no variance has no shape")
    z = (activity[:, active] - activity[:, active].mean(axis=0)) / std[active]
    _, _, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
    return z @ vt[: min(pca_dims, vt.shape[0])].T


def lifetimes(cloud: np.ndarray, n_perm: int, maxdim: int = 2) -> list[np.ndarray]:
    """Finite bar lifetimes per dimension 0..maxdim, longest first (ripser on a maxmin subsample)."""
    try:
        from ripser import ripser
    except ImportError:
        raise GridzooError("the topology analysis needs ripser: pip install 'gridzoo[topology]'") from None
    result = ripser(cloud, maxdim=maxdim, n_perm=min(n_perm, len(cloud)))
    out = []
    for diagram in result["dgms"]:
        life = diagram[:, 1] - diagram[:, 0]
        out.append(np.sort(life[np.isfinite(life)])[::-1])
    return out


def time_shuffled(activity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each unit's activity rolled by its own random lag (at least a tenth of the series from zero)."""
    n = len(activity)
    lags = rng.integers(max(1, n // 10), max(2, n - n // 10), size=activity.shape[1])
    return np.stack([np.roll(activity[:, u], lag) for u, lag in enumerate(lags)], axis=1)


@dataclass
class Topology:
    lifetimes: list[np.ndarray]  # per dimension, longest first
    null_longest: list[float]  # per dimension: the longest bar over the shuffled copies
    betti: tuple[int, int]  # long bars in H1 and H2
    points: int
    extra: dict = field(default_factory=dict)

    @property
    def shape(self) -> str:
        return SHAPES.get(self.betti, "other")

    def longest(self, dim: int, rank: int = 0) -> float:
        bars = self.lifetimes[dim]
        return float(bars[rank]) if len(bars) > rank else 0.0


def population_topology(activity: np.ndarray, *, shuffles: int = 5, n_perm: int = 300, pca_dims: int = 6,
                        max_points: int = 5000, seed: int = 0) -> Topology:
    """The shape of ``activity`` (time points, units); see the module docstring."""
    rng = np.random.default_rng(seed)
    activity = np.asarray(activity, dtype=np.float64)
    if len(activity) > max_points:
        activity = activity[np.sort(rng.choice(len(activity), max_points, replace=False))]
    observed = lifetimes(population_cloud(activity, pca_dims), n_perm)
    null = [0.0, 0.0, 0.0]
    for _ in range(shuffles):
        for dim, bars in enumerate(lifetimes(population_cloud(time_shuffled(activity, rng), pca_dims), n_perm)):
            null[dim] = max(null[dim], float(bars[0]) if len(bars) else 0.0)
    betti = []
    for dim in (1, 2):
        bars = observed[dim]
        top = float(bars[0]) if len(bars) else 0.0
        betti.append(int(np.sum((bars > NULL_MARGIN * null[dim]) & (bars >= LONG_FRACTION * top))) if top > 0 else 0)
    return Topology(observed, null, (betti[0], betti[1]), len(activity))


# --- synthetic populations (tests, calibration) ----------------------------------------------------------------


def grid_module_activity(units: int, points: int, period: float = 0.5, extent: float = 2.0,
                         seed: int = 0) -> np.ndarray:
    """Rectified hexagonal grid cells of one module (one period and orientation, random phases) at random
    positions: (points, units)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, extent, (points, 2))
    phases = rng.uniform(0, period, (units, 2))
    angles = np.array([0, np.pi / 3, 2 * np.pi / 3])
    k = 4 * np.pi / (np.sqrt(3) * period) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    d = x[:, None, :] - phases[None]
    return np.maximum(np.cos(np.einsum("nud,kd->nuk", d, k)).sum(-1), 0)


def ring_activity(units: int, points: int, concentration: float = 3.0, seed: int = 0) -> np.ndarray:
    """Head-direction-like cells (von Mises tuning, random preferred angles) at random angles: (points, units)."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, points)
    preferred = rng.uniform(0, 2 * np.pi, units)
    return np.exp(concentration * (np.cos(angle[:, None] - preferred[None]) - 1))
