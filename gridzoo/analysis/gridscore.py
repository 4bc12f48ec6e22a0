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

    One batched matrix product per vertical lag, then sums along its diagonals; all direct summation. An
    autocorrelation (``a is b``) is point-symmetric, out[-L] = out[L], so only half the lags are computed."""
    symmetric = a is b
    units, n, _ = a.shape
    ta_t, tb = torch.from_numpy(a).transpose(1, 2).contiguous(), torch.from_numpy(b)
    out = torch.empty(units, 2 * n - 1, 2 * n - 1, dtype=torch.float64)
    # Each product m (N×N) is written into the middle of a zero-padded row buffer of width 3N-2; a strided view
    # whose rows step one extra element per row then lines every diagonal of m up in a column.
    padded = torch.zeros(units, n, 3 * n - 2, dtype=torch.float64)
    width = 3 * n - 2
    diagonals = padded.as_strided((units, n, 2 * n - 1), (n * width, width + 1, 1))
    for ly in range(0 if symmetric else -(n - 1), n):
        rows = slice(max(0, -ly), min(n, n - ly))
        shifted = slice(max(0, -ly) + ly, min(n, n - ly) + ly)
        # m[j, k] = Σ_iy a[iy, j] b[iy+ly, k]; the sum over j of m[j, j + lx] is the lag (ly, lx).
        torch.bmm(ta_t[:, :, rows], tb[:, shifted], out=padded[:, :, n - 1 : 2 * n - 1])
        torch.sum(diagonals, dim=1, out=out[:, ly + n - 1])
    if symmetric:
        out[:, : n - 1] = out[:, n:].flip(1, 2)
    return out


def _autocorr(x: torch.Tensor) -> torch.Tensor:
    array = x.numpy()
    return _cross_sums(array, array)


def _box_sums(a: torch.Tensor) -> torch.Tensor:
    """out[u, L] = Σ a[u, i] over the i for which i and i + L are both inside (the reference's sum against ones).

    Each window is a prefix or a suffix of rows and columns, so it is built from running sums without any
    subtraction: a one-bin window is that bin exactly, and a window of zeros is exactly zero."""

    def along(x: torch.Tensor, axis: int) -> torch.Tensor:
        n = x.shape[axis]
        prefix = torch.cumsum(x, dim=axis)  # prefix[k] = sum of the first k+1
        suffix = torch.cumsum(x.flip(axis), dim=axis).flip(axis)  # suffix[k] = sum from k on
        # Lag L >= 0 keeps indices [0, n-L): prefix[n-1-L]; L < 0 keeps [-L, n): suffix[-L].
        return torch.cat([suffix.narrow(axis, 1, n - 1).flip(axis), prefix.flip(axis)], dim=axis)

    return along(along(a, 2), 1)


def autocorrelogram(rate_maps: np.ndarray, nan_policy: NanPolicy = "zero") -> np.ndarray:
    """Spatial autocorrelogram of each map (U, N, N) -> (U, 2N-1, 2N-1), the reference's Pearson form.

    ``nan_policy="zero"`` treats unvisited (NaN) bins as zeros, as the reference does; ``"exclude"`` leaves them
    out of every window's statistics."""
    maps = torch.as_tensor(np.asarray(rate_maps, dtype=np.float64))
    visited = ~torch.isnan(maps)
    x = torch.where(visited, maps, 0.0)
    if nan_policy == "zero":
        xx = _autocorr(x)
        s1 = _box_sums(x)
        q1 = _box_sums(x * x)
        n = _box_sums(torch.ones_like(x[:1]))
    elif nan_policy == "exclude":
        mask = visited.to(torch.float64)
        xx = _autocorr(x)
        s1 = _cross_sums(x.numpy(), mask.numpy())
        q1 = _cross_sums((x * x).numpy(), mask.numpy())
        n = _cross_sums(mask.numpy(), mask.numpy())
    else:
        raise ValueError(f"nan_policy must be 'zero' or 'exclude', got {nan_policy!r}")
    s2, q2 = s1.flip(1, 2), q1.flip(1, 2)  # Σ x[i+L] over the window is the mirror image
    var1 = q1 / n - s1**2 / n**2
    var2 = q2 / n - s2**2 / n**2
    covar = xx / n - s1 * s2 / n**2
    coef = covar / (var1.clamp_min(0).sqrt() * var2.clamp_min(0).sqrt())
    # A window of (numerically) zero variance has no defined correlation: 0, as the reference's NaN → 0.
    degenerate = (var1 <= 1e-12 * (q1 / n).abs()) | (var2 <= 1e-12 * (q2 / n).abs()) | ~torch.isfinite(coef)
    return coef.masked_fill_(degenerate | (n == 0), 0.0).numpy()


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
    chunk: int = 512,
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
    flat = torch.from_numpy(sac.reshape(units, -1))
    masks_t, area_t = torch.from_numpy(masks.T.copy()), torch.from_numpy(area)  # (P, K), (K,)
    in_ring = flat @ masks_t  # (U, K) Σ_ring sac
    mean = in_ring / area_t
    variance = (flat * flat) @ masks_t / area_t - mean**2 + 1e-5
    coeffs = spline_coefficients(sac)
    corr = {}
    for angle in ANGLES:
        rotated = torch.from_numpy(rotate_coefficients(coeffs, angle).reshape(units, -1))
        cross = (flat * rotated) @ masks_t - mean * (rotated @ masks_t) - mean * in_ring + mean**2 * area_t
        corr[angle] = (cross / area_t / variance).numpy()
    if variant == "mean_diff":
        s60 = (corr[60] + corr[120]) / 2 - (corr[30] + corr[90] + corr[150]) / 3
    else:
        s60 = np.minimum(corr[60], corr[120]) - np.maximum(corr[30], np.maximum(corr[90], corr[150]))
    s90 = corr[90] - (corr[45] + corr[135]) / 2
    best60, best90 = s60.argmax(1), s90.argmax(1)
    rows = np.arange(units)
    return s60[rows, best60], s90[rows, best90], best60, best90, sac
