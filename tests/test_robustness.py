"""The robustness metric on hand-built path integrators whose answers are known: a redundant code survives
ablation where a fragile one does not, noise hurts both, and the doubling level is read off the curve."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gridzoo.architecture import Architecture, ArchitectureOutput
from gridzoo.component import ComponentConfig
from gridzoo.config import load_experiment
from gridzoo.model import build_model, evaluation_batch
from gridzoo_builtin.metrics.robustness import Robustness, ablation_order, doubling_level


class ExactIntegrator(Architecture):
    """h_t = h_{t−1} + v_t exactly, stored in 20 units. Redundant: 10 copies of x and 10 of y, read out as the mean
    of the copies still active. Fragile: x and y once each (units 0 and 1, the only ones read out), and 18 units
    that carry x + y (active, spatially tuned, but never read)."""

    class Config(ComponentConfig):
        redundant: bool = True

    supports_interventions = True
    recurrent_layer = "rnn"
    layers = ("rnn",)
    default_layer = "rnn"

    def __init__(self, config, input_size, init_size, output_sizes):
        super().__init__(config, input_size, init_size, output_sizes)
        self.dummy = nn.Parameter(torch.zeros(1))
        write = torch.zeros(2, 20)
        if config.redundant:
            write[0, :10] = 1
            write[1, 10:] = 1
            read = write.clone()
        else:
            write[0, 0] = write[1, 1] = 1
            read = write.clone()
            write[:, 2:] = 1  # x + y in the other 18 units, which the readout ignores
        self.register_buffer("copy", write)  # (2, 20): position -> units
        self.register_buffer("read", read)  # (2, 20): which units each coordinate is read from

    def forward(self, velocity, initial_code, interventions=None):
        interventions = interventions or {}
        h = self.start @ self.copy
        states = []
        for t in range(velocity.shape[1]):
            h = h + velocity[:, t] @ self.copy
            if "rnn" in interventions:
                h = interventions["rnn"](h)
            states.append(h)
        hidden = torch.stack(states, dim=1)
        alive = (hidden != 0).to(hidden.dtype) @ self.read.T  # active copies per coordinate
        position = (hidden @ self.read.T) / alive.clamp_min(1)
        return ArchitectureOutput([position], {"rnn": hidden})


def _network(redundant: bool):
    experiment = load_experiment(data={"environment": {"name": "box", "width": 1.0}, "encoder": {"name": "cartesian"},
                                       "architecture": {"name": "rnn", "hidden_size": 4},
                                       "training": {"seed": 0, "eval_batch_size": 64}})
    model = build_model(experiment)
    model.architecture = ExactIntegrator(ExactIntegrator.Config(redundant=redundant), 2, 2, [2])
    batch = evaluation_batch(experiment, model.environment)
    model.architecture.start = batch.start_position
    return model, batch


@pytest.mark.parametrize("redundant", [True, False])
def test_redundant_codes_survive_ablation_and_fragile_ones_do_not(redundant):
    model, batch = _network(redundant)
    rollout = model.rollout(batch)
    metric = Robustness(Robustness.Config(bins=10, ablation_orders=("random",), random_repeats=8,
                                          noise_levels=(0.0, 0.1, 1.0)))
    values = metric.compute(rollout)
    assert values["robustness_base_error_cm"] < 1e-3  # exact path integration
    if redundant:
        assert values["ablation_random_25pct_cm"] < 1e-3  # every coordinate keeps a copy
    else:
        assert values["ablation_random_25pct_cm"] > 5  # a coordinate's only unit is often hit
    assert values["ablation_random_0pct_cm"] == values["robustness_base_error_cm"]
    noise = [row[1] for row in metric.details["noise"]]
    assert noise[0] < noise[1] < noise[2]  # noise hurts, more noise hurts more


def test_units_are_silenced_in_grid_score_order_and_the_doubling_level_is_interpolated():
    scores = np.array([0.1, 0.9, -0.2, 0.5, 0.7])
    active = np.array([True, True, True, False, True])
    rng = np.random.default_rng(0)
    assert list(ablation_order(scores, active, "grid_high", rng)) == [1, 4, 0, 2]  # unit 3 is silent: never chosen
    assert list(ablation_order(scores, active, "grid_low", rng)) == [2, 0, 4, 1]
    assert sorted(ablation_order(scores, active, "random", rng)) == [0, 1, 2, 4]
    assert doubling_level(np.array([0.0, 0.1, 0.2]), np.array([5.0, 8.0, 12.0])) == pytest.approx(0.15)
    assert np.isnan(doubling_level(np.array([0.0, 0.1]), np.array([5.0, 6.0])))


def test_evaluate_writes_robustness_curves_and_figure(tmp_path):
    from gridzoo.evaluation import evaluate_model

    experiment = load_experiment(data={"environment": {"name": "box", "width": 1.0},
                                       "encoder": {"name": "gaussian", "n_cells": 32, "sigma": 0.15},
                                       "architecture": {"name": "rnn", "hidden_size": 24},
                                       "training": {"seed": 0, "eval_batch_size": 32}})
    model = build_model(experiment)
    result = evaluate_model(experiment, model, samples=3000, bins=12, out=tmp_path / "ev", metrics=["robustness"])
    for name in ("robustness_noise.csv", "robustness_ablation.csv", "robustness.png"):
        assert (tmp_path / "ev" / name).is_file()
    assert "ablation_grid_high_25pct_cm" in result.values and "noise_doubling_level" in result.values
