"""Dropout and noise: every built-in architecture has them, they act while training and never in evaluation
(rollout), and the per-step path computes exactly what the fused kernels compute."""

from __future__ import annotations

import pytest
import torch

from gridzoo.config import load_experiment
from gridzoo.model import build_model, evaluation_batch

ARCHS = {
    "rnn": {"name": "rnn", "hidden_size": 24},
    "srnn": {"name": "srnn", "hidden_size": 24},
    "lstm": {"name": "lstm", "hidden_size": 24},
    "gru": {"name": "gru", "hidden_size": 24},
    "ugrnn": {"name": "ugrnn", "hidden_size": 24},
    "sorscher": {"name": "sorscher", "hidden_size": 24},
    "banino": {"name": "banino", "hidden_size": 24, "bottleneck_size": 16, "readout_dropout": 0.0},
}
OPTIONS = {"input_dropout": 0.3, "recurrent_dropout": 0.3, "readout_dropout": 0.3, "state_noise": 0.1}


def _experiment(arch: dict):
    return load_experiment(data={
        "environment": {"name": "box", "width": 1.0},
        "encoder": {"name": "gaussian", "n_cells": 32, "sigma": 0.1},
        "architecture": arch,
        "training": {"seed": 1, "batch_size": 16, "seq_len": 6, "eval_batch_size": 16},
    })


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("arch", list(ARCHS))
def test_option_acts_in_training_and_never_in_rollout(arch, option):
    plain = _experiment(ARCHS[arch])
    noisy = _experiment({**ARCHS[arch], option: OPTIONS[option]})
    base, model = build_model(plain), build_model(noisy)
    model.load_state_dict(base.state_dict())
    batch = evaluation_batch(plain, base.environment)
    # Evaluation: identical to the network without the option, whatever the random state.
    torch.manual_seed(0)
    out_a = model.rollout(batch).outputs[0]
    torch.manual_seed(1)
    out_b = model.rollout(batch).outputs[0]
    assert torch.equal(out_a, out_b) and torch.equal(out_a, base.rollout(batch).outputs[0])
    # Training: the option changes the forward pass, and differently for different random draws.
    model.train()
    torch.manual_seed(0)
    train_a = model(batch).outputs[0]
    torch.manual_seed(1)
    train_b = model(batch).outputs[0]
    base.train()
    assert not torch.allclose(train_a, train_b) and not torch.allclose(train_a, base(batch).outputs[0])


@pytest.mark.parametrize("arch", ["rnn", "sorscher", "srnn", "banino"])
def test_the_per_step_path_equals_the_fused_kernel(arch):
    experiment = _experiment(ARCHS[arch])
    model = build_model(experiment)
    batch = evaluation_batch(experiment, model.environment)
    layer = "lstm" if arch == "banino" else "rnn"
    fused = model.rollout(batch)
    stepped = model.rollout(batch, interventions={layer: lambda h: h})  # an intervention forces the loop
    assert torch.allclose(fused.hidden[layer], stepped.hidden[layer], atol=1e-6)
    assert torch.allclose(fused.outputs[0], stepped.outputs[0], atol=1e-5)


def test_an_ablation_propagates_through_the_recurrence():
    experiment = _experiment(ARCHS["rnn"])
    model = build_model(experiment)
    batch = evaluation_batch(experiment, model.environment)
    mask = torch.ones(24)
    mask[:12] = 0
    ablated = model.rollout(batch, interventions={"rnn": lambda h: h * mask})
    assert float(ablated.hidden["rnn"][..., :12].abs().max()) == 0
    intact = model.rollout(batch)
    assert not torch.allclose(ablated.hidden["rnn"][..., 12:], intact.hidden["rnn"][..., 12:])
