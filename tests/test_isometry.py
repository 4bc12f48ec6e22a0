"""The conformal-isometry metric on populations whose answer is known: a grid module is nearly a conformal
isometry (one stretch everywhere, in every direction), band cells are as anisotropic as a code can be, random
place cells in between; and the metric runs on a network, beside its untrained null."""

from __future__ import annotations

import numpy as np
import pytest

from gridzoo.analysis.isometry import conformal_isometry, population_maps
from gridzoo.config import load_experiment
from gridzoo.evaluation import evaluate_model, load_run
from gridzoo.training import train

from conftest import tiny_config


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_grid_module_is_nearly_isometric_and_band_cells_are_not(seed):
    grid = conformal_isometry(*population_maps("grid", seed=seed))
    bands = conformal_isometry(*population_maps("bands", seed=seed))
    place = conformal_isometry(*population_maps("place", seed=seed))
    assert grid.cv < 0.12 and grid.anisotropy < 0.2
    assert bands.anisotropy > 0.99 and bands.cv > 0.5
    assert grid.cv < place.cv < bands.cv and grid.anisotropy < place.anisotropy < bands.anisotropy


def test_an_exact_isometry_scores_zero():
    # Two units r = (cos, sin) of x·k and two of y·k: ||Δr|| = k|δ| along the axes; diagonals differ by the grid.
    axis = np.linspace(0, 1, 30)
    x, y = np.meshgrid(axis, axis, indexing="ij")
    k = 2.0  # small enough that one bin is a short chord
    maps = np.stack([np.cos(k * x), np.sin(k * x), np.cos(k * y), np.sin(k * y)])
    result = conformal_isometry(maps, float(axis[1] - axis[0]))
    assert result.anisotropy < 1e-3 and result.cv < 1e-3
    assert result.scale == pytest.approx(k, rel=1e-3)


def test_the_metric_runs_on_a_network_beside_its_untrained_null(tmp_path):
    train(load_experiment(data=tiny_config(steps=20)), tmp_path / "run", live=False)
    experiment, model = load_run(tmp_path / "run")
    values = evaluate_model(experiment, model, samples=5000, draw=False, null_seeds=1,
                            metrics=["isometry"]).values
    for key in ("isometry_cv", "isometry_anisotropy", "isometry_scale_per_m", "isometry_cv_untrained"):
        assert key in values and values[key] == values[key], key
