"""Grid geometry from autocorrelograms: period and orientation from the inner six peaks, and grid modules.

Periods are reported in metres (Schaeffer et al. measured them in bins and never converted; we convert).
Orientation is the smallest angle, modulo 60°, of the six inner peaks, in degrees in [0, 60).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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
    sizes: np.ndarray  # (count,) units per module

    @property
    def count(self) -> int:
        return len(self.periods)

    @property
    def ratios(self) -> np.ndarray:
        """Period ratios between consecutive modules (the brain's are about 1.4)."""
        return self.periods[1:] / self.periods[:-1]


def grid_modules(period: np.ndarray, mask: np.ndarray, *, gap: float = 0.2, min_units: int = 3,
                 min_fraction: float = 0.1) -> Modules:
    """Modules as groups of periods separated by gaps: the sorted log-periods of the units in ``mask`` are cut
    wherever two neighbours differ by more than ``gap`` (0.2: periods 22 % apart). A group counts as a module only
    with at least ``min_units`` units and ``min_fraction`` of them; its units are otherwise left unassigned.

    A gap criterion, unlike a clustering distance threshold, never splits one continuous spread of periods, so a
    single broad distribution reads as one module (or none)."""
    units = len(period)
    labels = np.full(units, -1)
    chosen = np.flatnonzero(mask & np.isfinite(period) & (period > 0))
    if len(chosen) == 0:
        return Modules(labels, np.empty(0), np.empty(0, dtype=int))
    order = chosen[np.argsort(period[chosen])]
    logp = np.log(period[order])
    cuts = np.flatnonzero(np.diff(logp) > gap) + 1
    groups = [g for g in np.split(order, cuts) if len(g) >= max(min_units, min_fraction * len(chosen))]
    for k, group in enumerate(groups):
        labels[group] = k
    periods = np.array([np.median(period[g]) for g in groups])
    return Modules(labels, periods, np.array([len(g) for g in groups], dtype=int))


@dataclass
class ModuleReport:
    """Modules found in several independent analyses of the same network, and whether they agree."""

    counts: list[int]
    periods: list[np.ndarray]
    stable: bool
    tolerance: float

    @property
    def count(self) -> int | None:
        """The module count when every analysis agrees (counts equal, each module's period within tolerance)."""
        return self.counts[0] if self.stable else None


def stable_modules(found: list[Modules], tolerance: float = 0.05) -> ModuleReport:
    """Whether modules found on independent analysis trajectory sets agree: the same number, and each module's
    period within ``tolerance`` (relative) of its median over the sets."""
    counts = [m.count for m in found]
    periods = [m.periods for m in found]
    stable = len(set(counts)) == 1 and counts[0] > 0
    if stable:
        stacked = np.stack(periods)
        centre = np.median(stacked, axis=0)
        stable = bool(np.all(np.abs(stacked / centre - 1) <= tolerance))
    return ModuleReport(counts, periods, stable, tolerance)


def spatial_information(maps: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """Skaggs et al. (1993) spatial information, bits per unit of activity: Σ p_i (λ_i/λ̄) log2(λ_i/λ̄).

    Activations must be non-negative rates; negative values (e.g. from tanh units) are clipped to 0."""
    p = occupancy / occupancy.sum()
    rates = np.clip(np.nan_to_num(maps, nan=0.0), 0, None)
    space = tuple(range(1, maps.ndim))  # 2-D maps or 3-D volumes
    mean = (rates * p).sum(axis=space, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = rates / mean
        terms = np.where(ratio > 0, p * ratio * np.log2(ratio), 0.0)
    info = terms.sum(axis=space)
    info[mean.ravel() <= 0] = 0.0
    return info
