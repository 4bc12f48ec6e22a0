"""Rate maps: the mean activation of every unit in every spatial bin, vectorised across units and samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gridzoo.environment import Bounds


@dataclass
class RateMaps:
    """Rate maps of U units on an N×N grid over ``bounds`` (N×N×N voxels in a volume). Unvisited bins are NaN.
    Bins are square: ``bounds`` is the square around the arena (:meth:`Bounds.square`), so in a non-square arena
    the bins beyond it stay unvisited and an autocorrelogram's angles are true angles.

    Axis order follows the reference scorer (``scipy.stats.binned_statistic_2d(x, y)``): ``maps[u, ix, iy]``
    (``maps[u, ix, iy, iz]`` in 3-D)."""

    maps: np.ndarray  # (U, N, N[, N]) float64
    occupancy: np.ndarray  # (N, N[, N]) sample counts
    bounds: Bounds

    @property
    def n_bins(self) -> int:
        return self.maps.shape[-1]

    @property
    def bin_size(self) -> float:
        """Metres per bin (bins are square)."""
        return self.bounds.width / self.n_bins

    @property
    def bin_centres(self) -> tuple[np.ndarray, ...]:
        """Centres of the bins along each axis (x, y[, z]), in metres."""
        b, n = self.bounds, self.n_bins
        return tuple(lo + (np.arange(n) + 0.5) * size / n for lo, size in zip(b.low, b.sizes))


class RateMapAccumulator:
    """Sums and counts per bin, fed batch by batch: rate maps over many rollouts without keeping activations."""

    def __init__(self, bounds: Bounds, n_bins: int) -> None:
        self.bounds = bounds.square()  # square bins in any arena
        self.n_bins = n_bins
        self.sums: Tensor | None = None
        self.counts: Tensor | None = None

    @property
    def n_total(self) -> int:
        return self.n_bins ** self.bounds.dimensions

    def bin_index(self, positions: Tensor) -> Tensor:
        """Flat bin index of each position (S, D); positions on the far edge fall in the last bin."""
        b, n = self.bounds, self.n_bins
        index = torch.zeros(positions.shape[0], dtype=torch.long, device=positions.device)
        for axis, (lo, size) in enumerate(zip(b.low, b.sizes)):
            i = ((positions[:, axis] - lo) / size * n).floor().long().clamp(0, n - 1)
            index = index * n + i
        return index

    @torch.no_grad()
    def update(self, positions: Tensor, activations: Tensor) -> None:
        """Add samples: positions (S, 2) metres and activations (S, U) of the same samples."""
        index = self.bin_index(positions.reshape(-1, self.bounds.dimensions))
        acts = activations.reshape(index.shape[0], -1)
        total = self.n_total
        if self.sums is None:
            self.sums = torch.zeros(total, acts.shape[1], dtype=torch.float64, device=acts.device)
            self.counts = torch.zeros(total, dtype=torch.float64, device=acts.device)
        # Sum this batch in the activations' own precision (float64 conversion of every sample is 15x slower),
        # then add the per-bin sums into float64 running totals, so precision holds over many batches.
        batch = torch.zeros(total, acts.shape[1], dtype=acts.dtype, device=acts.device)
        self.sums += batch.index_add_(0, index, acts)
        self.counts += torch.bincount(index, minlength=total).to(torch.float64)

    def result(self, smoothing: float = 0.0) -> RateMaps:
        if self.sums is None:
            raise ValueError("no samples were added")
        counts = self.counts.cpu().numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            maps = (self.sums.cpu().numpy() / counts[:, None]).T
        shape = (self.n_bins,) * self.bounds.dimensions
        maps = maps.reshape(-1, *shape)
        if smoothing > 0:
            maps = smooth(maps, smoothing)
        return RateMaps(maps, counts.reshape(shape), self.bounds)


def rate_maps(positions: Tensor, activations: Tensor, bounds: Bounds, n_bins: int, smoothing: float = 0.0) -> RateMaps:
    """Rate maps of every unit from samples: positions (S, 2) and activations (S, U) (or (B, T, ...))."""
    acc = RateMapAccumulator(bounds, n_bins)
    acc.update(positions, activations)
    return acc.result(smoothing)


def smooth(maps: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Gaussian smoothing in bins that ignores unvisited bins (normalised convolution); they stay NaN."""
    from scipy.ndimage import gaussian_filter

    visited = ~np.isnan(maps)
    filled = np.where(visited, maps, 0.0)
    sigma = (0,) + (sigma_bins,) * (maps.ndim - 1)
    weight = gaussian_filter(visited.astype(np.float64), sigma=sigma, mode="constant")
    value = gaussian_filter(filled, sigma=sigma, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = value / weight
    out[~visited] = np.nan
    return out
