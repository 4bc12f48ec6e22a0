"""Grid geometry from autocorrelograms: period and orientation from the inner six peaks, and grid modules.

Periods are reported in metres (Schaeffer et al. measured them in bins and never converted; we convert).
Orientation is the smallest angle, modulo 60°, of the six inner peaks, in degrees in [0, 60).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.ndimage import maximum_filter


@dataclass
class GridGeometry:
    period: np.ndarray  # (U,) metres; NaN where fewer than 6 peaks were found
    orientation: np.ndarray  # (U,) degrees in [0, 60)
    peaks: list[np.ndarray]  # per unit, (k, 2) peak offsets (dx, dy) in bins from the centre (maps are [x, y])


def _refine(sac: np.ndarray, i: int, j: int) -> tuple[float, float]:
    """Sub-bin peak position by a parabola through the peak and its neighbours along each axis."""
    def offset(left: float, mid: float, right: float) -> float:
        denom = left - 2 * mid + right
        return 0.0 if denom >= 0 else 0.5 * (left - right) / denom

    n0, n1 = sac.shape
    dy = offset(sac[i - 1, j], sac[i, j], sac[i + 1, j]) if 0 < i < n0 - 1 else 0.0
    dx = offset(sac[i, j - 1], sac[i, j], sac[i, j + 1]) if 0 < j < n1 - 1 else 0.0
    return i + dy, j + dx


def grid_geometry(sacs: np.ndarray, bin_size: float, min_distance: float = 2.0) -> GridGeometry:
    """Period (mean distance to the six nearest autocorrelogram peaks) and orientation of every unit.

    Peaks are local maxima (3×3) with a positive correlation, at least ``min_distance`` bins from the centre."""
    units, size, _ = sacs.shape
    centre = (size - 1) / 2
    is_peak = (sacs == maximum_filter(sacs, size=(1, 3, 3), mode="constant", cval=-np.inf)) & (sacs > 0)
    periods = np.full(units, np.nan)
    orientations = np.full(units, np.nan)
    all_peaks = []
    for u in range(units):
        ii, jj = np.nonzero(is_peak[u])
        dist = np.hypot(ii - centre, jj - centre)
        keep = dist >= min_distance
        ii, jj, dist = ii[keep], jj[keep], dist[keep]
        order = np.argsort(dist)[:6]
        refined = np.array([_refine(sacs[u], ii[k], jj[k]) for k in order]).reshape(-1, 2) - centre
        all_peaks.append(refined)
        if len(refined) == 6:
            periods[u] = np.hypot(refined[:, 0], refined[:, 1]).mean() * bin_size
            angles = np.degrees(np.arctan2(refined[:, 1], refined[:, 0])) % 60.0  # first axis is x
            # A circular mean on the 60° circle, so 59° and 1° average to 0°, not 30°.
            z = np.exp(1j * np.radians(angles) * 6).mean()
            orientations[u] = (np.degrees(np.angle(z)) / 6) % 60.0
    return GridGeometry(periods, orientations, all_peaks)


@dataclass
class Modules:
    labels: np.ndarray  # (U,) module index per unit (0..count-1), -1 where not clustered
    periods: np.ndarray  # (count,) median period per module, metres, ascending
    orientations: np.ndarray  # (count,) circular mean orientation per module, degrees
    sizes: np.ndarray  # (count,) units per module

    @property
    def count(self) -> int:
        return len(self.periods)

    @property
    def ratios(self) -> np.ndarray:
        """Period ratios between consecutive modules (the brain's are about 1.4)."""
        return self.periods[1:] / self.periods[:-1]


def grid_modules(period: np.ndarray, orientation: np.ndarray, mask: np.ndarray, *, tolerance: float = 0.15,
                 orientation_weight: float = 1 / 30) -> Modules:
    """Cluster the units in ``mask`` into modules by period (log scale) and orientation.

    Average-linkage clustering; units whose log-periods differ by more than ``tolerance`` (about 15 %) or whose
    orientations differ by more than ``tolerance / orientation_weight`` degrees end up in different modules."""
    units = len(period)
    labels = np.full(units, -1)
    chosen = np.flatnonzero(mask & np.isfinite(period) & np.isfinite(orientation))
    if len(chosen) == 0:
        return Modules(labels, np.empty(0), np.empty(0), np.empty(0, dtype=int))
    if len(chosen) == 1:
        found = np.zeros(1, dtype=int)
    else:
        theta = np.radians(orientation[chosen]) * 6  # on the 60°-periodic circle
        chord = 2 * np.sin(np.abs(np.angle(np.exp(1j * (theta[:, None] - theta[None, :])))) / 2) / 6  # ≈ radians
        logp = np.log(period[chosen])
        distance = np.abs(logp[:, None] - logp[None, :]) + orientation_weight * np.degrees(chord)
        condensed = distance[np.triu_indices(len(chosen), 1)]
        found = fcluster(linkage(condensed, method="average"), t=tolerance, criterion="distance") - 1
    periods = np.array([np.median(period[chosen][found == k]) for k in range(found.max() + 1)])
    order = np.argsort(periods)
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    labels[chosen] = remap[found]
    sizes = np.bincount(labels[chosen], minlength=len(order))
    orientations = np.array(
        [(np.degrees(np.angle(np.exp(1j * np.radians(orientation[labels == k]) * 6).mean())) / 6) % 60 for k in range(len(order))]
    )
    return Modules(labels, periods[order], orientations, sizes)


def spatial_information(maps: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """Skaggs et al. (1993) spatial information, bits per unit of activity: Σ p_i (λ_i/λ̄) log2(λ_i/λ̄).

    Activations must be non-negative rates; negative values (e.g. from tanh units) are clipped to 0."""
    p = occupancy / occupancy.sum()
    rates = np.clip(np.nan_to_num(maps, nan=0.0), 0, None)
    mean = (rates * p).sum(axis=(1, 2), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = rates / mean
        terms = np.where(ratio > 0, p * ratio * np.log2(ratio), 0.0)
    info = terms.sum(axis=(1, 2))
    info[mean.ravel() <= 0] = 0.0
    return info
