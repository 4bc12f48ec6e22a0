"""The topology metric: persistent homology of population activity against a time-shuffle null, on populations
whose shape is known (a grid module is a torus, a ring of tuned cells a circle, independent noise nothing)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("ripser", reason="pip install 'gridzoo[topology]'")

import gridzoo  # noqa: E402
from gridzoo.analysis.topology import grid_module_activity, population_topology, ring_activity  # noqa: E402
from gridzoo.config import load_experiment  # noqa: E402
from gridzoo.errors import GridzooError  # noqa: E402
from gridzoo.model import build_model  # noqa: E402

from conftest import tiny_config  # noqa: E402


@pytest.mark.parametrize("seed", [0, 1])
def test_a_grid_module_is_a_torus_and_a_ring_a_circle(seed):
    torus = population_topology(grid_module_activity(56, 3000, seed=seed), shuffles=3, n_perm=200, seed=seed)
    assert torus.shape == "torus" and torus.betti == (2, 1)
    assert torus.longest(1, 1) > 3 * torus.null_longest[1]  # two long H1 bars, far beyond the shuffles'
    ring = population_topology(ring_activity(48, 3000, seed=seed), shuffles=3, n_perm=200, seed=seed)
    assert ring.shape == "circle" and ring.betti == (1, 0)


def test_band_cells_of_one_orientation_lie_on_a_circle():
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 2.0, (3000, 2))  # positions visited in random order (a time series, not a raster)
    phases = rng.uniform(0, 2 * np.pi, 48)
    bands = np.maximum(np.cos(2 * np.pi * x[:, :1] / 0.6 - phases[None]), 0)  # each unit a function of x only
    assert population_topology(bands, shuffles=3, n_perm=200).shape == "circle"


def test_independent_units_have_no_shape():
    shapes = [population_topology(np.maximum(np.random.default_rng(s).normal(size=(2000, 48)), 0), shuffles=3,
                                  n_perm=150, seed=s).shape for s in range(4)]
    assert shapes == ["none"] * 4


def test_the_metric_runs_on_a_network_draws_its_bars_and_checks_its_units(tmp_path):
    model = build_model(load_experiment(data=tiny_config()))
    env = model.environment
    rollout = model.rollout(env.sample(64, 20, generator=torch.Generator().manual_seed(0)))
    metric = gridzoo.build("metrics", "topology", n_perm=100, shuffles=2, max_points=1000)
    values = metric.compute(rollout)
    assert {"topology_h1_long_bars", "topology_torus", "topology_null_h1"} <= set(values)
    assert values["topology_torus"] in (0.0, 1.0) and values["topology_h1_longest"] >= 0
    figures = metric.figures(rollout, values, tmp_path)
    assert [p.name for p in figures] == ["topology_rnn.png"] and figures[0].stat().st_size > 1000
    bad = gridzoo.build("metrics", "topology", units=[0, 999], n_perm=100, shuffles=1)
    with pytest.raises(GridzooError, match="not units of layer"):
        bad.compute(rollout)
