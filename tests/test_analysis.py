"""Rate maps, grid geometry (period, orientation, modules) and spatial information on known inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gridzoo.analysis.geometry import grid_geometry, grid_modules, spatial_information
from gridzoo.analysis.gridscore import grid_scores
from gridzoo.analysis.ratemaps import rate_maps
from gridzoo.environment import Bounds

BOX = Bounds(-1.1, 1.1, -1.1, 1.1)


def lattice(n_bins: int, period: float, orientation_deg: float, width: float = 2.2) -> np.ndarray:
    """A hexagonal lattice (sum of three plane waves) whose peaks lie along ``orientation`` + k·60°."""
    c = (np.arange(n_bins) + 0.5) / n_bins * width - width / 2
    x, y = np.meshgrid(c, c, indexing="ij")
    total = 0
    for k in range(3):
        a = np.radians(orientation_deg) + np.pi / 6 + k * np.pi / 3  # wave vectors sit 30° off the peak rows
        total = total + np.cos(4 * np.pi / (np.sqrt(3) * period) * (x * np.cos(a) + y * np.sin(a)))
    return total


def test_rate_maps_are_mean_activation_per_bin_with_nan_unvisited():
    positions = torch.tensor([[-1.0, -1.0], [-1.0, -1.0], [1.0, 1.0], [1.1, 1.1]])
    activations = torch.tensor([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0]])
    maps = rate_maps(positions, activations, BOX, 4)
    assert maps.maps.shape == (2, 4, 4)
    assert maps.maps[0, 0, 0] == 2.0 and maps.maps[1, 0, 0] == 1.0
    assert maps.maps[0, 3, 3] == 6.0  # the far edge falls in the last bin
    assert np.isnan(maps.maps[0, 1, 2]) and maps.occupancy.sum() == 4
    assert maps.bin_size == pytest.approx(0.55)


def test_rate_maps_follow_position():
    positions = torch.rand(20000, 2, generator=torch.Generator().manual_seed(0)) * 2.2 - 1.1
    x_tuned = positions[:, :1] + 1.1  # a unit whose activity grows with x
    maps = rate_maps(positions, x_tuned, BOX, 10).maps[0]
    assert np.all(np.diff(maps.mean(axis=1)) > 0)  # first axis is x
    assert np.allclose(np.diff(maps.mean(axis=0)), 0, atol=0.05)


@pytest.mark.parametrize("period,orientation", [(0.3, 0.0), (0.45, 10.0), (0.6, 25.0), (0.5, 40.0), (0.35, 55.0)])
def test_period_and_orientation_of_synthetic_lattices(period, orientation):
    n_bins = 44
    scores = grid_scores(lattice(n_bins, period, orientation)[None])
    geometry = grid_geometry(scores.sac, 2.2 / n_bins)
    assert geometry.period[0] == pytest.approx(period, rel=0.05)
    error = (geometry.orientation[0] - orientation + 30) % 60 - 30
    assert abs(error) < 3.0
    assert scores.score_60[0] > 0.8


def test_modules_are_separated_by_gaps_and_a_continuous_spread_is_one():
    periods = [0.3, 0.3, 0.31, 0.42, 0.42, 0.43, 0.6]
    maps = np.stack([lattice(44, p, 10.0 * i) for i, p in enumerate(periods)])
    geometry = grid_geometry(grid_scores(maps).sac, 2.2 / 44)
    modules = grid_modules(geometry.period, np.ones(7, bool), min_units=2, min_fraction=0.0)
    assert modules.count == 2 and list(modules.sizes) == [3, 3]  # the lone 0.6 is no module
    np.testing.assert_allclose(modules.periods, [0.3, 0.42], rtol=0.05)
    np.testing.assert_allclose(modules.ratios, [1.4], rtol=0.06)
    spread = np.linspace(0.3, 0.6, 40)  # one broad distribution: no gap anywhere
    assert grid_modules(spread, np.ones(40, bool)).count == 1


def test_module_counts_are_reported_only_when_independent_analyses_agree():
    from gridzoo.analysis.geometry import stable_modules

    a = grid_modules(np.array([0.3] * 5 + [0.43] * 5), np.ones(10, bool))
    b = grid_modules(np.array([0.31] * 5 + [0.44] * 5), np.ones(10, bool))
    c = grid_modules(np.array([0.3] * 10), np.ones(10, bool))
    assert stable_modules([a, b, a]).count == 2
    assert stable_modules([a, b, c]).count is None and not stable_modules([a, b, c]).stable
    far = grid_modules(np.array([0.3] * 5 + [0.6] * 5), np.ones(10, bool))
    assert stable_modules([a, far]).count is None  # same count, periods disagree


def test_spatial_information_is_high_for_a_place_field_and_zero_for_a_flat_map():
    occupancy = np.ones((20, 20))
    flat = np.ones((1, 20, 20))
    field = np.zeros((1, 20, 20))
    field[0, 5, 5] = 1.0
    info = spatial_information(np.concatenate([flat, field]), occupancy)
    assert info[0] == pytest.approx(0.0, abs=1e-12)
    assert info[1] == pytest.approx(np.log2(400))  # all activity in one of 400 equally visited bins


# --- fields and lattices -------------------------------------------------------------------------------------


def _bins(n: int = 44, width: float = 2.2):
    c = (np.arange(n) + 0.5) / n * width - width / 2
    return (c, c)


def _bumps(centres: np.ndarray, n: int = 44, width: float = 0.08) -> np.ndarray:
    x, y = np.meshgrid(*_bins(n), indexing="ij")
    return sum(np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2)) for cx, cy in centres)


def _hex_points(spacing: float, jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pts = [(spacing * (i + 0.5 * (j % 2)), spacing * np.sqrt(3) / 2 * j) for i in range(-5, 6) for j in range(-5, 6)]
    pts = np.array(pts) - np.array([0.0, 0.0]) + rng.normal(0, jitter, (len(pts), 2))
    return pts[(np.abs(pts) < 1.0).all(axis=1)]


def test_fields_of_a_hexagonal_lattice_are_counted_and_hexagonal():
    from gridzoo.analysis.fields import field_order, find_fields

    truth = _hex_points(0.5)
    fields = find_fields(_bumps(truth), _bins())
    assert fields.count == len(truth) >= 7
    order = field_order(fields.centres)
    assert order.hexagonal_fixed and order.psi6 > 0.9 and order.spacing == pytest.approx(0.5, rel=0.05)
    from gridzoo.analysis.fields import units_field_order

    judged = units_field_order(_bumps(truth)[None], _bins(), np.array([0]))[0]
    assert judged.hexagonal and judged.p_arrangement < 0.05
    square = np.array([(i, j) for i in np.arange(-0.75, 0.8, 0.5) for j in np.arange(-0.75, 0.8, 0.5)])
    square_order = field_order(find_fields(_bumps(square), _bins()).centres)
    assert square_order.n_fields == 16 and square_order.psi6 < 0.3 and not square_order.hexagonal_fixed
    random = np.random.default_rng(4).uniform(-0.95, 0.95, (14, 2))
    assert not field_order(random).hexagonal_fixed
    place = find_fields(_bumps(np.array([[0.2, -0.3]]), width=0.15), _bins())
    assert place.count == 1 and np.allclose(place.centres[0], [0.2, -0.3], atol=0.03)


@pytest.mark.parametrize("count,radius", [(10, 0.45), (19, 0.33)])
def test_the_arrangement_null_calls_random_hard_core_arrangements_lattices_at_most_5_percent(count, radius):
    from gridzoo.analysis.fields import arrangement_p, field_order, hard_core_arrangement

    rng = np.random.default_rng(count)
    arrangements = [hard_core_arrangement(count, radius, (0, 0), (2.2, 2.2), rng) for _ in range(40)]
    p = np.array([arrangement_p(a, (0, 0), (2.2, 2.2), arrangements=59, seed=i) for i, a in enumerate(arrangements)])
    fixed = np.mean([field_order(a).hexagonal_fixed for a in arrangements])
    assert np.mean(p < 0.05) <= 0.05, p
    assert fixed >= 0.1  # what the fixed thresholds did with the same arrangements (the reason for the null)


def test_the_arrangement_null_finds_jittered_lattices():
    from gridzoo.analysis.fields import arrangement_p

    found = [arrangement_p(_hex_points(0.5, jitter=0.03, seed=s), (-1, -1), (1, 1), arrangements=59, seed=s) < 0.05
             for s in range(10)]
    assert np.mean(found) >= 0.7


def _untrained_best_units(seeds: int = 5) -> np.ndarray:
    """The best-unit null: the best unit of each of ``seeds`` untrained NFL RNNs in NFL's 2.2 m box."""
    from gridzoo.analysis_set import AnalysisSet
    from gridzoo.config import load_experiment
    from gridzoo.model import build_model

    best = []
    for seed in range(seeds):
        experiment = load_experiment(data={"environment": {"name": "box", "width": 2.2},
                                           "encoder": {"name": "dos", "n_cells": 128, "surround_convention": "width_ratio"},
                                           "architecture": {"name": "rnn", "hidden_size": 128},
                                           "training": {"seed": 10_000_000 + seed}})
        maps = AnalysisSet(experiment, build_model(experiment), samples=40_000).rate_maps("rnn", 44).maps
        from gridzoo_builtin.metrics.grid_cells import silent_units

        scores = grid_scores(maps[~silent_units(maps)], variant="min_max").score_60
        best.append(scores.max())
    return np.array(best)


def test_smooth_non_grid_maps_score_under_the_best_unit_null_and_a_lattice_over_it():
    null = _untrained_best_units().max()
    x, y = np.meshgrid(*_bins(), indexing="ij")
    place_field = np.exp(-((x - 0.3) ** 2 + (y + 0.2) ** 2) / (2 * 0.25**2))
    band = np.cos(2 * np.pi * (x * np.cos(0.4) + y * np.sin(0.4)) / 0.7)
    hexagonal = lattice(44, 0.7, 12.0)
    s60 = grid_scores(np.stack([place_field, band, hexagonal]), variant="min_max").score_60
    assert s60[0] < null and s60[1] < null
    assert s60[2] > null > 0.2  # untrained networks' best units are far from 0: a single-unit threshold is lenient


def test_silent_units_change_neither_nulls_nor_fractions():
    from gridzoo.analysis.ratemaps import RateMaps
    from gridzoo.metric import Rollout
    from gridzoo_builtin.metrics.grid_cells import GridCells

    rng = np.random.default_rng(0)
    active = np.stack([lattice(20, p, 7.0 * i) + 0.3 * rng.standard_normal((20, 20)) for i, p in
                       enumerate(np.linspace(0.4, 0.9, 12))])
    silent = np.zeros((9, 20, 20))
    silent[4:] = 3.0  # dead ReLUs (0) and saturated units (a constant): neither has a grid score

    class Stub:
        """An analysis set whose maps are given: the shift null is the maps rolled, the untrained null noise."""

        def __init__(self, maps):
            self.maps = maps

        def rate_maps(self, layer, bins, smoothing=0.0):
            return RateMaps(self.maps, np.ones((20, 20)), BOX)

        def shifted_rate_maps(self, layer, bins, smoothing, repeats, min_lag, seed):
            return RateMaps(np.concatenate([np.roll(self.maps, 3 * (r + 1), axis=(1, 2)) for r in range(repeats)]),
                            np.ones((20, 20)), BOX)

        def null_network(self, k):
            noise = np.random.default_rng(k).standard_normal(self.maps.shape)
            return Stub(np.where(np.ptp(self.maps.reshape(len(self.maps), -1), axis=1)[:, None, None] > 0, noise, 0.0))

        def independent(self, k):
            return self

        null_key = "stub"

    def values(maps):
        rollout = Rollout(trajectories=None, outputs=[], hidden={"rnn": None}, encoders=[], environment=None,
                          default_layer="rnn", analysis=Stub(maps))
        return GridCells(GridCells.Config(bins=20, best_unit_null_seeds=3, module_stability_sets=2)).compute(rollout)

    with_silent = values(np.concatenate([active[:6], silent, active[6:]]))
    without = values(active)
    assert with_silent["n_silent_units"] == 9 and without["n_silent_units"] == 0
    for key in ("null_threshold_60", "fraction_score_60_over_null", "fraction_score_60_over_0.3", "score_60_max",
                "best_unit_null_60", "n_grid_units", "period_median_m"):
        assert with_silent[key] == pytest.approx(without[key]), key


def test_intervals_and_fits_match_their_textbook_values():
    from scipy import stats

    from gridzoo.analysis.statistics import compare_means, linear_fit, proportion

    assert (proportion(5, 10).low, proportion(5, 10).high) == pytest.approx((0.2366, 0.7634), abs=1e-4)  # Wilson
    assert (proportion(0, 10).low, proportion(0, 10).high) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert proportion(0, 3).low == 0.0 and proportion(3, 3).high == 1.0  # exact ends, no 1e-17 residue in reports
    exact = proportion(3, 10, method="clopper_pearson")
    assert (exact.low, exact.high) == pytest.approx((0.0667, 0.6525), abs=1e-4)
    x = np.array([0.06, 0.08, 0.1, 0.12, 0.14, 0.16])
    y = 7.5 * x + np.array([0.01, -0.02, 0.015, 0.0, -0.01, 0.005])
    fit = linear_fit(x, y)
    reference = stats.linregress(x, y)
    assert fit.slope == pytest.approx(reference.slope) and fit.slope_low < 7.5 < fit.slope_high
    same = compare_means([1.0, 1.1, 0.9, 1.05], [1.0, 1.02, 0.95, 1.08])
    far = compare_means([1.0, 1.1, 0.9, 1.05, 1.0], [2.0, 2.1, 1.9, 2.05, 2.0])
    assert same.p_value > 0.3 and far.p_value < 0.02 and far.cohens_d > 5
