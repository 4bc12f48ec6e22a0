"""Spatial autocorrelograms and grid scores, vectorised across units, matching the field's reference scorer.

The reference is the ``GridScorer`` of Banino et al. (2018) (google-deepmind/grid-cells, ``scores.py``), which
Sorscher et al. and Schaeffer et al. reuse. With ``variant="mean_diff"``, ``nan_policy="zero"`` and the default
rings it reproduces that scorer's scores, best rings and autocorrelograms (tests check this to 1e-6 against
``shared/reference/gridscore_cases.npz``). One exception, on purpose: where a correlation window has zero
variance (a constant map), the reference divides rounding noise by rounding noise; here such a coefficient is 0,
its defined value under the reference's own NaN-to-zero convention.

How it stays exact while being fast:
- Autocorrelogram: the five window sums of the reference are computed by direct summation, never by FFT (an FFT's
  rounding error scales with the whole map's energy and swamps small windows): the cross term as one batched
  matrix product per vertical lag, the box sums with prefix and suffix sums that never subtract.
- Rotations: the reference rotates with ``scipy.ndimage.rotate`` (cubic spline, prefilter, constant mode). That is
  a spline prefilter, the same for every angle and run here once per stack, followed by a sparse linear map per
  angle, which is read off ``scipy.ndimage.rotate`` itself (with impulse combs) and cached per size and angle.
- Ring correlations: masked sums for all rings at once as matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp
import torch

ANGLES = (30, 45, 60, 90, 120, 135, 150)
#: The reference rings: inner radius 0.2, outer radii linspace(0.4, 1.0, 10), as fractions of the bin count.
REFERENCE_RINGS = tuple((0.2, float(outer)) for outer in np.linspace(0.4, 1.0, 10))

Variant = Literal["mean_diff", "min_max"]
NanPolicy = Literal["zero", "exclude"]


@dataclass
class GridScores:
    """Scores of every unit; rings are (inner, outer) fractions of the bin count."""

    score_60: np.ndarray  # (U,)
    score_90: np.ndarray  # (U,)
    ring_60: np.ndarray  # (U, 2) the ring that gave the best 60° score
    ring_90: np.ndarray  # (U, 2)
    sac: np.ndarray  # (U, 2N-1, 2N-1)
    variant: str
    nan_policy: str


# --- autocorrelogram ---------------------------------------------------------------------------------


def _cross_sums(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """out[u, Ly, Lx] = Σ_i a[u, i] · b[u, i + L] over 2-D indices i where both are inside, for every lag L.

    One batched matrix product per vertical lag, then sums along diagonals; all direct summation."""
    units, n, _ = a.shape
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    out = torch.zeros(units, 2 * n - 1, 2 * n - 1, dtype=torch.float64)
    for ly in range(-(n - 1), n):
        rows = slice(max(0, -ly), min(n, n - ly))
        shifted = slice(max(0, -ly) + ly, min(n, n - ly) + ly)
        m = ta[:, rows].transpose(1, 2) @ tb[:, shifted]  # (U, N, N): m[j, k] = Σ_iy a[iy, j] b[iy+ly, k]
        for lx in range(-(n - 1), n):
            out[:, ly + n - 1, lx + n - 1] = m.diagonal(offset=lx, dim1=1, dim2=2).sum(-1)
    return out.numpy()


def _box_sums(a: np.ndarray) -> np.ndarray:
    """out[u, L] = Σ a[u, i] over the i for which i and i + L are both inside (the reference's sum against ones).

    Each window is a prefix or a suffix of rows and columns, so it is built from running sums without any
    subtraction: a one-bin window is that bin exactly, and a window of zeros is exactly zero."""

    def along(x: np.ndarray, axis: int) -> np.ndarray:
        n = x.shape[axis]
        prefix = np.cumsum(x, axis=axis)  # prefix[k] = sum of the first k+1
        suffix = np.flip(np.cumsum(np.flip(x, axis=axis), axis=axis), axis=axis)  # suffix[k] = sum from k on
        # Lag L >= 0 keeps indices [0, n-L): prefix[n-1-L]; L < 0 keeps [-L, n): suffix[-L].
        pos = np.take(prefix, np.arange(n - 1, -1, -1), axis=axis)  # L = 0 .. n-1
        neg = np.take(suffix, np.arange(n - 1, 0, -1), axis=axis)  # L = -(n-1) .. -1
        return np.concatenate([neg, pos], axis=axis)

    return along(along(a, 2), 1)


def autocorrelogram(rate_maps: np.ndarray, nan_policy: NanPolicy = "zero") -> np.ndarray:
    """Spatial autocorrelogram of each map (U, N, N) -> (U, 2N-1, 2N-1), the reference's Pearson form.

    ``nan_policy="zero"`` treats unvisited (NaN) bins as zeros, as the reference does; ``"exclude"`` leaves them
    out of every window's statistics."""
    maps = np.asarray(rate_maps, dtype=np.float64)
    visited = ~np.isnan(maps)
    x = np.where(visited, maps, 0.0)
    if nan_policy == "zero":
        xx = _cross_sums(x, x)
        s1 = _box_sums(x)
        q1 = _box_sums(x * x)
        s2, q2 = s1[:, ::-1, ::-1], q1[:, ::-1, ::-1]  # Σ x[i+L] over the window is the mirror image
        n = _box_sums(np.ones_like(x[:1]))
    elif nan_policy == "exclude":
        mask = visited.astype(np.float64)
        xx = _cross_sums(x, x)
        s1 = _cross_sums(x, mask)
        q1 = _cross_sums(x * x, mask)
        s2, q2 = s1[:, ::-1, ::-1], q1[:, ::-1, ::-1]
        n = _cross_sums(mask, mask)
    else:
        raise ValueError(f"nan_policy must be 'zero' or 'exclude', got {nan_policy!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        var1 = q1 / n - s1**2 / n**2
        var2 = q2 / n - s2**2 / n**2
        covar = xx / n - s1 * s2 / n**2
        # A window of (numerically) zero variance has no defined correlation: 0, as the reference's NaN → 0.
        tiny1 = var1 <= 1e-12 * np.abs(q1 / n)
        tiny2 = var2 <= 1e-12 * np.abs(q2 / n)
        coef = covar / (np.sqrt(var1) * np.sqrt(var2))
    coef[tiny1 | tiny2 | ~np.isfinite(coef) | (n == 0)] = 0.0
    return coef


# --- rotation ----------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _rotation_operator(size: int, angle: float) -> sp.csr_matrix:
    """The sparse map from spline coefficients to ``scipy.ndimage.rotate(·, angle, reshape=False, prefilter=False)``
    on a ``size``×``size`` image, read off scipy with impulse combs.

    Each output pixel mixes a 4×4 window of coefficients (mirrored at the edges), so impulses 5 apart never share
    a window: one call with unit impulses gives every weight of a comb, a second with impulses equal to their
    own index tells which impulse each output saw."""
    spacing = 5
    rows, cols, vals = [], [], []
    index = np.arange(size * size, dtype=np.float64).reshape(size, size)
    for oy in range(spacing):
        for ox in range(spacing):
            comb = np.zeros((size, size))
            comb[oy::spacing, ox::spacing] = 1.0
            weights = ndi.rotate(comb, angle, reshape=False, prefilter=False)
            labels = ndi.rotate(comb * (index + 1), angle, reshape=False, prefilter=False)
            hit = weights != 0
            source = np.rint(labels[hit] / weights[hit]) - 1
            rows.append(np.flatnonzero(hit))
            cols.append(source.astype(np.int64))
            vals.append(weights[hit])
    operator = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size * size, size * size)
    )
    operator.sum_duplicates()
    return operator


def rotate_stack(images: np.ndarray, angle: float) -> np.ndarray:
    """``scipy.ndimage.rotate(image, angle, reshape=False)`` for every image of a stack (U, S, S), at once."""
    coeffs = spline_coefficients(images)
    return rotate_coefficients(coeffs, angle)


def spline_coefficients(images: np.ndarray) -> np.ndarray:
    """Cubic-spline prefilter of every image, as ``scipy.ndimage.rotate`` applies it (computed once per stack)."""
    out = ndi.spline_filter1d(images, 3, axis=1, mode="constant", output=np.float64)
    return ndi.spline_filter1d(out, 3, axis=2, mode="constant", output=np.float64)


def rotate_coefficients(coeffs: np.ndarray, angle: float) -> np.ndarray:
    units, size, _ = coeffs.shape
    operator = _rotation_operator(size, float(angle))
    flat = coeffs.reshape(units, size * size)
    return np.asarray(operator @ flat.T).T.reshape(units, size, size)


# --- rings and scores --------------------------------------------------------------------------------


def ring_masks(n_bins: int, rings=REFERENCE_RINGS) -> np.ndarray:
    """Boolean ring masks (K, 2N-1, 2N-1): lag radius in (inner·N, outer·N], as the reference's circle masks."""
    lags = np.arange(-(n_bins - 1), n_bins, dtype=np.float64)
    radius = np.sqrt(lags[None, :] ** 2 + lags[:, None] ** 2)
    return np.stack([(radius <= outer * n_bins) & ~(radius <= inner * n_bins) for inner, outer in rings])


def grid_scores(
    rate_maps: np.ndarray,
    *,
    variant: Variant = "mean_diff",
    nan_policy: NanPolicy = "zero",
    rings=REFERENCE_RINGS,
    chunk: int = 256,
) -> GridScores:
    """60° and 90° grid scores of every rate map (U, N, N), each the best over ``rings``.

    ``variant``: ``"mean_diff"`` = (r60 + r120)/2 − (r30 + r90 + r150)/3 (Banino's default);
    ``"min_max"`` = min(r60, r120) − max(r30, r90, r150) (Sargolini's; used by Schaeffer et al.).
    The 90° score is r90 − (r45 + r135)/2 in both."""
    if variant not in ("mean_diff", "min_max"):
        raise ValueError(f"variant must be 'mean_diff' or 'min_max', got {variant!r}")
    maps = np.asarray(rate_maps, dtype=np.float64)
    units, n_bins, _ = maps.shape
    masks = ring_masks(n_bins, rings).reshape(len(rings), -1).astype(np.float64)  # (K, P)
    area = masks.sum(1)  # (K,)
    ring_array = np.asarray(rings, dtype=np.float64)
    parts = [_score_chunk(maps[i : i + chunk], masks, area, variant, nan_policy) for i in range(0, units, chunk)]
    s60, s90, i60, i90, sac = (np.concatenate(p) for p in zip(*parts)) if parts else [np.empty(0)] * 5
    return GridScores(s60, s90, ring_array[i60.astype(int)], ring_array[i90.astype(int)], sac, variant, nan_policy)


def _score_chunk(maps, masks, area, variant, nan_policy):
    sac = autocorrelogram(maps, nan_policy)
    units, size, _ = sac.shape
    flat = sac.reshape(units, -1)
    in_ring = flat @ masks.T  # (U, K) Σ_ring sac
    mean = in_ring / area
    variance = (flat**2 @ masks.T) / area - mean**2 + 1e-5
    coeffs = spline_coefficients(sac)
    corr = {}
    for angle in ANGLES:
        rotated = rotate_coefficients(coeffs, angle).reshape(units, -1)
        cross = (flat * rotated) @ masks.T - mean * (rotated @ masks.T) - mean * in_ring + mean**2 * area
        corr[angle] = cross / area / variance
    if variant == "mean_diff":
        s60 = (corr[60] + corr[120]) / 2 - (corr[30] + corr[90] + corr[150]) / 3
    else:
        s60 = np.minimum(corr[60], corr[120]) - np.maximum(corr[30], np.maximum(corr[90], corr[150]))
    s90 = corr[90] - (corr[45] + corr[135]) / 2
    best60, best90 = s60.argmax(1), s90.argmax(1)
    rows = np.arange(units)
    return s60[rows, best60], s90[rows, best90], best60, best90, sac
