"""Scoring 4096 units: gridzoo's vectorised scorer against a straightforward per-unit loop of the reference
algorithm (Banino et al.'s GridScorer: direct 2-D correlation with scipy.signal, one scipy.ndimage.rotate per
angle, a Python loop over rings), written here; side by side in one run. Also times rate maps of 1024 units
from 200,000 samples.

The per-unit loop is timed on a subset (it takes minutes at 44 bins) and reported per unit; gridzoo scores all
4096 units. Both are checked to agree on the subset.

    python benchmarks/gridscores.py

Goals (issue #4): at least 50x faster than the loop; rate maps of 1024 units from 200,000 samples under 1 s.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.ndimage
import scipy.signal
import torch

from gridzoo.analysis.gridscore import REFERENCE_RINGS, grid_scores
from gridzoo.analysis.ratemaps import rate_maps
from gridzoo.environment import Bounds


def circle_mask(size: int, radius: float) -> np.ndarray:
    lags = np.linspace(-(size // 2), size // 2, size)
    return np.sqrt(lags[None, :] ** 2 + lags[:, None] ** 2) <= radius


def reference_sac(x: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(x)
    ones = np.ones(x.shape)

    def filter2(b, y):
        return scipy.signal.convolve2d(y, np.rot90(b, 2), mode="full")

    xx, s1, s2 = filter2(x, x), filter2(x, ones), filter2(ones, x)
    q1, q2, n = filter2(x**2, ones), filter2(ones, x**2), filter2(ones, ones)
    with np.errstate(divide="ignore", invalid="ignore"):
        std1 = np.power(q1 / n - s1**2 / n**2, 0.5)
        std2 = np.power(q2 / n - s2**2 / n**2, 0.5)
        coef = (xx / n - s1 * s2 / n**2) / (std1 * std2)
    return np.nan_to_num(np.real(coef))


def reference_scores(rate_map: np.ndarray) -> tuple[float, float]:
    nbins = rate_map.shape[0]
    size = 2 * nbins - 1
    masks = [circle_mask(size, hi * nbins) & ~circle_mask(size, lo * nbins) for lo, hi in REFERENCE_RINGS]
    sac = reference_sac(rate_map)
    angles = (30, 45, 60, 90, 120, 135, 150)
    rotated = [scipy.ndimage.rotate(sac, a, reshape=False) for a in angles]
    best60 = best90 = -math.inf
    for mask in masks:
        area = mask.sum()
        mean = (sac * mask).sum() / area
        centred = (sac * mask - mean) * mask
        variance = (centred**2).sum() / area + 1e-5
        corr = {a: ((centred * (r - mean) * mask).sum() / area) / variance for a, r in zip(angles, rotated)}
        best60 = max(best60, (corr[60] + corr[120]) / 2 - (corr[30] + corr[90] + corr[150]) / 3)
        best90 = max(best90, corr[90] - (corr[45] + corr[135]) / 2)
    return best60, best90


def synthetic_maps(units: int, nbins: int, rng: np.random.Generator) -> np.ndarray:
    """Noisy hexagonal lattices of random period and orientation: what a trained network's units look like."""
    y, x = np.mgrid[0:nbins, 0:nbins] / nbins
    period = rng.uniform(0.2, 0.6, (units, 1, 1))
    theta = rng.uniform(0, np.pi / 3, (units, 1, 1))
    total = 0
    for k in range(3):
        a = theta + k * np.pi / 3
        total = total + np.cos(4 * np.pi / (np.sqrt(3) * period) * (x * np.cos(a) + y * np.sin(a)))
    return total + rng.normal(0, 0.5, (units, nbins, nbins))


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for nbins, subset in ((20, 64), (44, 12)):
        maps = synthetic_maps(4096, nbins, rng)
        start = time.perf_counter()
        ref = [reference_scores(m) for m in maps[:subset]]
        ref_per_unit = (time.perf_counter() - start) / subset
        grid_scores(maps[:8])  # warm the rotation-operator cache, as any second call would
        start = time.perf_counter()
        ours = grid_scores(maps)
        elapsed = time.perf_counter() - start
        agree = np.abs(ours.score_60[:subset] - np.array([r[0] for r in ref])).max()
        print(
            f"{nbins} bins: reference loop {ref_per_unit * 1e3:.1f} ms/unit (timed on {subset} units; "
            f"{ref_per_unit * 4096:.0f} s for 4096); gridzoo {elapsed:.2f} s for 4096 "
            f"({elapsed / 4096 * 1e3:.3f} ms/unit); speed-up {ref_per_unit * 4096 / elapsed:.0f}x; "
            f"max |Δ score_60| {agree:.1e}"
        )
    positions = torch.rand(200_000, 2, generator=torch.Generator().manual_seed(0)) * 2.2 - 1.1
    activations = torch.rand(200_000, 1024, generator=torch.Generator().manual_seed(1))
    bounds = Bounds(-1.1, 1.1, -1.1, 1.1)
    rate_maps(positions[:1000], activations[:1000], bounds, 44)
    start = time.perf_counter()
    rate_maps(positions, activations, bounds, 44)
    print(f"rate maps, 1024 units from 200,000 samples at 44 bins: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
