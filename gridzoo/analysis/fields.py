"""Firing fields of rate maps and the order of their arrangement, in any number of dimensions.

A field is a connected region (faces, edges and corners touching) where a unit's rate is above
``threshold`` of its range (min to max over visited bins), at least ``min_bins`` bins large; its centre is the
rate-weighted centroid. This is the usual definition for grid fields (e.g. 20-30 % of the peak rate, Hafting et al.
2005; Ginosar et al. 2021 in 3-D).

Order of the field centres:
- nearest-neighbour distances and their regularity (coefficient of variation; a lattice has one spacing);
- in 2-D, the bond-orientational order ψ6 = |mean over a field's neighbours of exp(6iθ)|, averaged over fields
  (Nelson & Halperin 1979): 1 for a hexagonal lattice (also at its edges), near 0 for a square lattice, about
  1/√k for k neighbours placed at random. A unit's fields form a *hexagonal lattice* when there are at least
  ``min_fields`` of them (7: a centre and its ring), ψ6 ≥ 0.7 and the spacing CV ≤ 0.25.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

MIN_FIELDS = 7
PSI6_MIN = 0.7
SPACING_CV_MAX = 0.25


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

    @property
    def hexagonal(self) -> bool:
        return (self.n_fields >= MIN_FIELDS and np.isfinite(self.psi6) and self.psi6 >= PSI6_MIN
                and self.spacing_cv <= SPACING_CV_MAX)


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


def units_field_order(maps: np.ndarray, bin_centres: tuple[np.ndarray, ...], units: np.ndarray,
                      threshold: float = 0.3, min_bins: int = 4) -> dict[int, FieldOrder]:
    """Field order of the chosen ``units`` (indices into ``maps``)."""
    return {int(u): field_order(find_fields(maps[u], bin_centres, threshold, min_bins).centres) for u in units}
