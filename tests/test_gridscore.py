"""Grid scores reproduce the field's reference scorer (Banino et al.'s GridScorer) on known rate maps."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

from gridzoo.analysis.gridscore import autocorrelogram, grid_scores, rotate_stack

from conftest import REFERENCE

CASES = REFERENCE / "gridscore_cases.npz"
needs_reference = pytest.mark.reference


@pytest.fixture(scope="module")
def cases():
    return np.load(CASES, allow_pickle=False)


@needs_reference
@pytest.mark.parametrize("n", [20, 32])
def test_reproduces_reference_scores_rings_and_autocorrelograms(cases, n):
    maps, kinds = cases[f"n{n}_rate_maps"], cases[f"n{n}_kind"]
    scores = grid_scores(maps)  # the reference convention is the default
    # The reference's score for a constant map is rounding noise (its autocorrelogram divides ~0 by ~0);
    # gridzoo gives the defined value instead, checked separately below.
    ok = kinds != "constant"
    np.testing.assert_allclose(scores.sac[ok], cases[f"n{n}_sac"][ok], atol=1e-6, rtol=0)
    np.testing.assert_allclose(scores.score_60[ok], cases[f"n{n}_score_60"][ok], atol=1e-6, rtol=0)
    np.testing.assert_allclose(scores.score_90[ok], cases[f"n{n}_score_90"][ok], atol=1e-6, rtol=0)
    np.testing.assert_allclose(scores.ring_60[ok], cases[f"n{n}_mask_60"][ok], atol=1e-9)
    np.testing.assert_allclose(scores.ring_90[ok], cases[f"n{n}_mask_90"][ok], atol=1e-9)
    hexagonal = kinds == "hexagonal"
    assert np.median(scores.score_60[hexagonal]) > 1.0 > np.median(scores.score_60[kinds == "noise"])


@needs_reference
def test_constant_map_has_a_zero_autocorrelogram(cases):
    constant = cases["n20_kind"] == "constant"
    scores = grid_scores(cases["n20_rate_maps"][constant])
    assert np.all(scores.sac == 0) and scores.score_60[0] == 0 and scores.score_90[0] == 0


def test_rotation_matches_scipy_exactly():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((3, 27, 27))
    for angle in (30, 45, 60, 90, 120, 135, 150):
        expected = np.stack([ndi.rotate(im, angle, reshape=False) for im in images])
        np.testing.assert_allclose(rotate_stack(images, angle), expected, atol=1e-12)


def test_min_max_variant_and_exclude_policy_differ_where_they_should():
    rng = np.random.default_rng(1)
    maps = rng.random((4, 20, 20))
    mean_diff = grid_scores(maps).score_60
    min_max = grid_scores(maps, variant="min_max").score_60
    assert np.all(min_max <= mean_diff + 1e-12)  # a minimum of two minus a maximum of three never exceeds the means
    holes = maps.copy()
    holes[:, :5] = np.nan
    zero, exclude = autocorrelogram(holes, "zero"), autocorrelogram(holes, "exclude")
    assert not np.allclose(zero, exclude)
    assert np.allclose(autocorrelogram(maps, "zero"), autocorrelogram(maps, "exclude"))


def _pearson_by_lag(image: np.ndarray, exclude: bool) -> np.ndarray:
    """Each lag's correlation summed directly, the definition the fast paths must equal."""
    n = image.shape[0]
    out = np.zeros((2 * n - 1, 2 * n - 1))
    for ly in range(-(n - 1), n):
        for lx in range(-(n - 1), n):
            a = image[max(0, -ly):n - max(0, ly), max(0, -lx):n - max(0, lx)].ravel()
            b = image[max(0, ly):n - max(0, -ly), max(0, lx):n - max(0, -lx)].ravel()
            keep = ~np.isnan(a) & ~np.isnan(b) if exclude else np.ones(len(a), bool)
            a, b = np.nan_to_num(a[keep]), np.nan_to_num(b[keep])
            if len(a) == 0 or a.var() <= 1e-12 * np.mean(a * a) or b.var() <= 1e-12 * np.mean(b * b):
                continue
            out[ly + n - 1, lx + n - 1] = np.mean((a - a.mean()) * (b - b.mean())) / np.sqrt(a.var() * b.var())
    return out


@pytest.mark.parametrize("policy", ["zero", "exclude"])
def test_autocorrelogram_equals_the_direct_sum_at_every_lag(policy):
    """Including the lags whose windows are tiny or hold no visited bin: unvisited rows make some windows empty,
    where an FFT's rounding noise once gave counts of 1e-16 and correlations far outside [-1, 1]."""
    rng = np.random.default_rng(3)
    maps = rng.random((4, 12, 12))
    maps[:3, :3] = np.nan
    maps[1, 5:8, 4:9] = np.nan
    fast = autocorrelogram(maps, policy)
    for unit in range(len(maps)):
        np.testing.assert_allclose(fast[unit], _pearson_by_lag(maps[unit], policy == "exclude"), atol=1e-9)
    assert np.abs(fast).max() <= 1 + 1e-9


def test_chunking_changes_scores_only_in_the_last_bits():
    """Chunks are sized for the CPU's caches; a unit's score must not depend on its neighbours beyond rounding
    (BLAS may order a sum differently for another batch shape)."""
    rng = np.random.default_rng(4)
    maps = rng.random((37, 20, 20))
    whole = grid_scores(maps, chunk=64)
    for chunk in (1, 8, 16):
        parts = grid_scores(maps, chunk=chunk)
        np.testing.assert_allclose(parts.score_60, whole.score_60, rtol=0, atol=1e-13)
        np.testing.assert_allclose(parts.sac, whole.sac, rtol=0, atol=1e-13)
        np.testing.assert_array_equal(parts.ring_60, whole.ring_60)


def _lattice_and_coordinates(n: int = 44, side: float = 2.2, period: float = 0.6):
    c = (np.arange(n) + 0.5) / n * side
    x, y = np.meshgrid(c, c, indexing="ij")
    k = 4 * np.pi / (np.sqrt(3) * period)
    lattice = sum(np.cos(k * (x * np.cos(a) + y * np.sin(a))) for a in np.pi / 6 + np.arange(3) * np.pi / 3)
    return lattice, x, y


def test_a_masked_autocorrelogram_scores_an_l_shaped_arena_like_the_square():
    from scipy.ndimage import gaussian_filter

    lattice, x, y = _lattice_and_coordinates()
    corner = (x > 1.1) & (y > 1.1)  # an L: the square less its upper-right quadrant
    square = grid_scores(lattice[None], variant="min_max").score_60[0]
    masked = grid_scores(np.where(corner, np.nan, lattice)[None], variant="min_max", outside=corner).score_60[0]
    assert abs(masked - square) < 0.05 and masked > 1.0
    # Random smooth maps: masked, a cross-shaped arena gives the square's score distribution; zero-filled, its
    # shape dominates every autocorrelogram (the bug the mask fixes).
    rng = np.random.default_rng(0)
    maps = np.stack([gaussian_filter(rng.random(lattice.shape), 2) + 1 for _ in range(100)])
    cross = (np.abs(x - 1.1) >= 0.3) & (np.abs(y - 1.1) >= 0.3)  # the four corners are outside
    square_q = np.quantile(grid_scores(maps, variant="min_max").score_60, 0.95)
    held = np.where(cross, np.nan, maps)
    masked_q = np.quantile(grid_scores(held, variant="min_max", outside=cross).score_60, 0.95)
    zero_q = np.quantile(grid_scores(held, variant="min_max").score_60, 0.95)
    assert abs(masked_q - square_q) < 0.1 and abs(zero_q - square_q) > 0.3, (square_q, masked_q, zero_q)
    # A box has no outside bins: the reference scores, bit for bit.
    none = np.zeros(lattice.shape, dtype=bool)
    assert grid_scores(maps[:5], outside=none).score_60.tolist() == grid_scores(maps[:5]).score_60.tolist()
