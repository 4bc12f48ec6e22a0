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


def test_modules_group_units_by_period():
    periods = [0.3, 0.3, 0.3, 0.42, 0.42, 0.6]
    maps = np.stack([lattice(44, p, 10.0 * i) for i, p in enumerate(periods)])
    geometry = grid_geometry(grid_scores(maps).sac, 2.2 / 44)
    modules = grid_modules(geometry.period, np.zeros(6), np.ones(6, bool))  # orientation ignored here
    assert modules.count == 3
    assert list(modules.sizes) == [3, 2, 1]
    np.testing.assert_allclose(modules.periods, [0.3, 0.42, 0.6], rtol=0.05)
    np.testing.assert_allclose(modules.ratios, [1.4, 1.43], rtol=0.06)


def test_spatial_information_is_high_for_a_place_field_and_zero_for_a_flat_map():
    occupancy = np.ones((20, 20))
    flat = np.ones((1, 20, 20))
    field = np.zeros((1, 20, 20))
    field[0, 5, 5] = 1.0
    info = spatial_information(np.concatenate([flat, field]), occupancy)
    assert info[0] == pytest.approx(0.0, abs=1e-12)
    assert info[1] == pytest.approx(np.log2(400))  # all activity in one of 400 equally visited bins
