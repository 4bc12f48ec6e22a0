"""Drift and recovery on hand-built integrators whose answers are known: an attractor that pulls a kicked state
back against one whose kicked state keeps moving the estimate."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from gridzoo.architecture import Architecture, ArchitectureOutput
from gridzoo.component import ComponentConfig
from gridzoo.config import load_experiment
from gridzoo.model import build_model, evaluation_batch
from gridzoo_builtin.metrics.configs import ErrorCorrectionConfig
from gridzoo_builtin.metrics.error_correction import ErrorCorrection, recovery


class AttractorIntegrator(Architecture):
    """State [p (2), q (48)]: p integrates velocity exactly; the readout is p + q·W. ``recovers``: q decays by half
    every step (the state returns to the manifold q = 0, a 2-D attractor). Otherwise q persists and leaks into p
    (p += 0.05·q·W every step): a kick keeps moving the estimate."""

    class Config(ComponentConfig):
        recovers: bool = True

    supports_interventions = True
    recurrent_layer = "rnn"
    layers = ("rnn",)
    default_layer = "rnn"

    def __init__(self, config, input_size, init_size, output_sizes):
        super().__init__(config, input_size, init_size, output_sizes)
        self.dummy = nn.Parameter(torch.zeros(1))
        w = torch.zeros(48, 2)
        w[:24, 0] = w[24:, 1] = 1.0
        self.register_buffer("w", w)

    def forward(self, velocity, initial_code, interventions=None):
        intervene = (interventions or {}).get("rnn")
        batch = velocity.shape[0]
        p, q = self.start.clone(), velocity.new_zeros(batch, 48)
        states = []
        for t in range(velocity.shape[1]):
            if self.config.recovers:
                p, q = p + velocity[:, t], 0.5 * q
            else:
                p, q = p + velocity[:, t] + 0.05 * q @ self.w, q
            h = torch.cat([p, q], -1)
            if intervene is not None:
                h = intervene(h)
                p, q = h[:, :2], h[:, 2:]
            states.append(h)
        hidden = torch.stack(states, 1)
        readout = hidden[..., :2] + hidden[..., 2:] @ self.w
        return ArchitectureOutput([readout], {"rnn": hidden})


def _rollout(recovers: bool):
    experiment = load_experiment(data={"environment": {"name": "box", "width": 1.0},
                                       "encoder": {"name": "cartesian"},
                                       "architecture": {"name": "rnn", "hidden_size": 4},
                                       "training": {"seed": 0, "eval_batch_size": 32, "seq_len": 10}})
    model = build_model(experiment)
    model.architecture = AttractorIntegrator(AttractorIntegrator.Config(recovers=recovers), 2, 2, [2])
    batch = evaluation_batch(experiment, model.environment)

    def forward(trajectories, interventions=None):  # every rollout (the metric's long ones too) starts where it starts
        model.architecture.start = trajectories.start_position
        return type(model).forward(model, trajectories, interventions)

    model.forward = forward
    rollout = model.rollout(batch)
    return rollout, ErrorCorrectionConfig(batch=40, length_multiplier=10, noise_levels=(0.0, 0.02),
                                          perturbation=0.05)


def test_an_attractor_recovers_from_a_kick_and_a_leaky_integrator_does_not():
    rollout, config = _rollout(recovers=True)
    good = ErrorCorrection(config).compute(rollout)
    rollout, config = _rollout(recovers=False)
    bad = ErrorCorrection(config).compute(rollout)
    assert good["kick_excess_cm"] > 0 and bad["kick_excess_cm"] > 0
    # The attractor pulls q back: only the kick's part along p (2 of 50 units) remains.
    assert good["recovery_fraction"] > 0.6 and good["recovery_half_steps"] <= 3
    assert bad["recovery_fraction"] < 0 and math.isnan(bad["recovery_half_steps"])
    # Without noise an exact integrator does not drift; with noise both do, the leaky one faster.
    assert abs(good["drift_noise_0_cm_per_step"]) < 1e-3 and good["long_error_noise_0_cm"] < 1e-3
    assert 0 < good["drift_noise_0.02_cm_per_step"] < bad["drift_noise_0.02_cm_per_step"]


def test_recovery_reads_the_excess_curve():
    excess = np.array([0, 0, 4.0, 2.0, 1.0, 0.5])
    assert recovery(excess, 2) == (4.0, 1 - 0.5 / 4.0, 1.0)
    jump, fraction, half = recovery(np.array([0, 1.0, 1.5, 2.0]), 1)
    assert jump == 1.0 and fraction == -1.0 and math.isnan(half)


def test_it_runs_on_a_built_in_network_through_evaluate(tmp_path):
    from gridzoo.evaluation import evaluate_model

    from conftest import tiny_config

    experiment = load_experiment(data=tiny_config())
    evaluation = evaluate_model(experiment, build_model(experiment), samples=2_000, out=tmp_path,
                                metrics=["error_correction"])
    v = evaluation.values
    assert {"kick_excess_cm", "recovery_fraction", "drift_noise_0.01_cm_per_step", "long_error_cm"} <= set(v)
    assert (tmp_path / "error_correction.csv").is_file() and (tmp_path / "error_correction.png").is_file()
