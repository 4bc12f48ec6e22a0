"""Firing fields of rate maps and the order of their arrangement, in any number of dimensions.

A field is a connected region (faces, edges and corners touching) where a unit's rate is above
``threshold`` of its range (min to max over visited bins), at least ``min_bins`` bins large; its centre is the
rate-weighted centroid. This is the usual definition for grid fields (e.g. 20-30 % of the peak rate, Hafting et al.
2005; Ginosar et al. 2021 in 3-D).

Order of the field centres:
- nearest-neighbour distances and their regularity (coefficient of variation; a lattice has one spacing);
- in 2-D, the bond-orientational order ψ6 = |mean over a field's neighbours of exp(6iθ)|, averaged over fields
  (Nelson & Halperin 1979): 1 for a hexagonal lattice (also at its edges), near 0 for a square lattice, about
  1/√k for k neighbours placed at random.

Fixed thresholds (≥ 7 fields, ψ6 ≥ 0.7, spacing CV ≤ 0.25) call 17-30 % of *random* non-overlapping arrangements of
10-19 fields lattices: fields that cannot overlap are fairly regular by themselves. So a lattice is judged against
an **arrangement null** (:func:`arrangement_p`): random arrangements of the same number of fields, in the same
region, no two closer than the unit's own closest pair (its exclusion radius). A unit's fields form a *hexagonal
lattice* when there are at least ``MIN_FIELDS`` (7: a centre and its ring) and fewer than 5 % of such arrangements
score as high on ψ6 − spacing CV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

MIN_FIELDS = 7
PSI6_MIN = 0.7  # the fixed thresholds, kept for comparison (n_lattice_units_fixed)
SPACING_CV_MAX = 0.25
LATTICE_ALPHA = 0.05
NULL_ARRANGEMENTS = 99


@dataclass
class Fields:
    """The fields of one unit: centres (k, D) in metres and their peak rates (normalised to the unit's range)."""

    centres: np.ndarray
    peaks: np.ndarray

    @property
    def count(self) -> int:
        return len(self.centres)


def find_fields(rate_map: np.ndarray, bin_centres: tuple[np.ndarray, ...], threshold: float = 0.3,
                min_bins: int = 4) -> Fields:
    """The fields of one rate map (N, N[, N]) whose axes run along ``bin_centres`` (metres)."""
    visited = np.isfinite(rate_map)
    dims = rate_map.ndim
    if not visited.any():
        return Fields(np.empty((0, dims)), np.empty(0))
    low, high = np.nanmin(rate_map), np.nanmax(rate_map)
    if high - low <= 1e-12 * max(1.0, abs(high)):
        return Fields(np.empty((0, dims)), np.empty(0))
    norm = np.where(visited, (rate_map - low) / (high - low), 0.0)
    labels, count = ndimage.label(norm > threshold, structure=np.ones((3,) * dims))
    if count == 0:
        return Fields(np.empty((0, dims)), np.empty(0))
    index = np.arange(1, count + 1)
    sizes = ndimage.sum_labels(np.ones_like(norm), labels, index)
    weights = np.where(labels > 0, norm, 0.0)
    grids = np.meshgrid(*bin_centres, indexing="ij")
    total = ndimage.sum_labels(weights, labels, index)
    centres = np.stack([ndimage.sum_labels(weights * g, labels, index) / total for g in grids], axis=-1)
    peaks = ndimage.maximum(norm, labels, index)
    keep = sizes >= min_bins
    return Fields(centres[keep], np.asarray(peaks)[keep])


@dataclass
class FieldOrder:
    """Order of a unit's field centres."""

    n_fields: int
    spacing: float  # median nearest-neighbour distance, metres (NaN under 2 fields)
    spacing_cv: float  # coefficient of variation of nearest-neighbour distances
    psi6: float  # 2-D only: bond-orientational hexagonal order (NaN otherwise, or under 3 fields)

    p_arrangement: float = np.nan  # against the arrangement null (NaN until computed; see arrangement_p)

    @property
    def hexagonal_fixed(self) -> bool:
        """The fixed-threshold criterion (no null): ≥ 7 fields, ψ6 ≥ 0.7, CV ≤ 0.25."""
        return (self.n_fields >= MIN_FIELDS and np.isfinite(self.psi6) and self.psi6 >= PSI6_MIN
                and self.spacing_cv <= SPACING_CV_MAX)

    @property
    def hexagonal(self) -> bool:
        """≥ 7 fields, and the arrangement null's p under 0.05."""
        return self.n_fields >= MIN_FIELDS and np.isfinite(self.p_arrangement) and self.p_arrangement < LATTICE_ALPHA


def neighbours(centres: np.ndarray, reach: float = 1.3) -> tuple[np.ndarray, list[np.ndarray]]:
    """Nearest-neighbour distance of each centre, and each centre's neighbours: those within ``reach`` × the
    median nearest-neighbour distance (the first shell of a lattice, not the second at √3 × in 2-D)."""
    tree = cKDTree(centres)
    dist, _ = tree.query(centres, k=2)
    nearest = dist[:, 1]
    shell = reach * float(np.median(nearest))
    return nearest, [np.array([j for j in tree.query_ball_point(c, shell) if j != i]) for i, c in enumerate(centres)]


def field_order(centres: np.ndarray) -> FieldOrder:
    """Spacing, its regularity and (in 2-D) hexagonal order of field centres (k, D)."""
    k = len(centres)
    if k < 2:
        return FieldOrder(k, np.nan, np.nan, np.nan)
    nearest, shells = neighbours(centres)
    spacing = float(np.median(nearest))
    cv = float(np.std(nearest) / np.mean(nearest)) if np.mean(nearest) > 0 else np.nan
    psi6 = np.nan
    if centres.shape[1] == 2 and k >= 3:
        local = []
        for i, shell in enumerate(shells):
            if len(shell) >= 2:
                d = centres[shell] - centres[i]
                theta = np.arctan2(d[:, 1], d[:, 0])
                local.append(abs(np.exp(6j * theta).mean()))
        psi6 = float(np.mean(local)) if local else np.nan
    return FieldOrder(k, spacing, cv, psi6)


def hard_core_arrangement(count: int, radius: float, low, high, rng: np.random.Generator,
                          tries: int = 200) -> np.ndarray | None:
    """``count`` points uniform in the box [low, high], no two closer than ``radius`` (random sequential
    adsorption, restarted when stuck); None when the box cannot be filled that densely in ``tries`` restarts."""
    low, high = np.asarray(low, float), np.asarray(high, float)
    r2 = radius * radius
    for _ in range(tries):
        points = [rng.uniform(low, high)]
        for _ in range(20 * count):
            candidates = rng.uniform(low, high, size=(64, len(low)))
            d2 = ((candidates[:, None, :] - np.asarray(points)[None]) ** 2).sum(-1)
            ok = np.flatnonzero((d2 >= r2).all(axis=1))
            if len(ok):
                points.append(candidates[ok[0]])
                if len(points) == count:
                    return np.asarray(points)
        # stuck: start again
    return None


def arrangement_p(centres: np.ndarray, low, high, *, arrangements: int = NULL_ARRANGEMENTS, seed: int = 0) -> float:
    """p of a 2-D arrangement's order under the arrangement null. The statistic is ψ6 − spacing CV (high for a
    lattice: hexagonal bonds, one spacing); p is the fraction of random hard-core arrangements (same count, same
    region, exclusion radius = the closest pair of ``centres``) scoring at least as high, counting the observed
    one: (1 + hits) / (1 + arrangements). One statistic, so p is uniform under the null (a joint "at least as good
    on both" criterion is not: points on the frontier of two measures are common). NaN under 3 fields."""
    k = len(centres)
    observed = field_order(centres)
    if k < 3 or centres.shape[1] != 2 or not np.isfinite(observed.psi6):
        return np.nan
    radius = float(np.min(cKDTree(centres).query(centres, k=2)[0][:, 1]))
    rng = np.random.default_rng(seed)
    hits = done = 0
    for _ in range(arrangements):
        points = hard_core_arrangement(k, radius, low, high, rng)
        if points is None:
            continue
        null = field_order(points)
        done += 1
        hits += bool(null.psi6 - null.spacing_cv >= observed.psi6 - observed.spacing_cv - 1e-12)
    return (1 + hits) / (1 + done) if done else np.nan


def units_field_order(maps: np.ndarray, bin_centres: tuple[np.ndarray, ...], units: np.ndarray,
                      threshold: float = 0.3, min_bins: int = 4, seed: int = 0) -> dict[int, FieldOrder]:
    """Field order of the chosen ``units`` (indices into ``maps``); in 2-D, units with at least ``MIN_FIELDS``
    fields also get their arrangement-null p (the region: the rate map's extent)."""
    out = {}
    for u in units:
        centres = find_fields(maps[u], bin_centres, threshold, min_bins).centres
        order = field_order(centres)
        if len(bin_centres) == 2 and order.n_fields >= MIN_FIELDS:
            half = [(c[1] - c[0]) / 2 for c in bin_centres]
            low = [c[0] - h for c, h in zip(bin_centres, half)]
            high = [c[-1] + h for c, h in zip(bin_centres, half)]
            order.p_arrangement = arrangement_p(centres, low, high, seed=seed + int(u))
        out[int(u)] = order
    return out
