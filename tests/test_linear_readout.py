"""The decoder-independent path-integration measure: a linear position readout fitted and tested apart."""

from __future__ import annotations

import math

import pytest
import torch

from gridzoo.analysis.linear_readout import fit_linear_readout
from gridzoo.config import load_experiment
from gridzoo.evaluation import evaluate_model
from gridzoo.model import build_model

from conftest import tiny_config


def _place_code(position: torch.Tensor, centres: torch.Tensor, sigma: float = 0.15) -> torch.Tensor:
    d2 = (position[:, None, :] - centres[None]).pow(2).sum(-1)
    return torch.exp(-d2 / (2 * sigma**2))


def _error_cm(readout, position, activity) -> float:
    return float((readout.predict(activity) - position.double()).norm(dim=-1).mean() * 100)


def test_it_recovers_position_from_a_place_code_and_not_from_noise():
    g = torch.Generator().manual_seed(0)
    centres = torch.rand(100, 2, generator=g)
    fit_pos, test_pos = torch.rand(5000, 2, generator=g), torch.rand(5000, 2, generator=g)
    readout = fit_linear_readout([(_place_code(fit_pos, centres), fit_pos)], (0, 0), (1, 1), False)
    place = _error_cm(readout, test_pos, _place_code(test_pos, centres))
    chance = float((test_pos.double() - readout.mean_position).norm(dim=-1).mean() * 100)
    assert place < 2.0, place
    noise_fit = torch.randn(5000, 100, generator=g)
    noisy = fit_linear_readout([(noise_fit, fit_pos)], (0, 0), (1, 1), False)
    noise = _error_cm(noisy, test_pos, torch.randn(5000, 100, generator=g))
    assert noise > 0.95 * chance, (noise, chance)
    assert 35 < chance < 42  # mean distance to the centre of a unit square: 38.3 cm


def test_in_a_periodic_arena_it_reads_the_torus():
    g = torch.Generator().manual_seed(1)
    size = 2.0
    position = torch.rand(4000, 2, generator=g) * size
    phase = position / size * 2 * math.pi
    code = torch.cat([phase.cos(), phase.sin(), 0.01 * torch.randn(4000, 8, generator=g)], -1)
    readout = fit_linear_readout([(code[:2000], position[:2000])], (0, 0), (size, size), True)
    delta = readout.predict(code[2000:]) - position[2000:].double()
    delta = delta - size * torch.round(delta / size)
    assert float(delta.norm(dim=-1).mean() * 100) < 1.0


def test_every_evaluation_reports_it_beside_the_targets_decoder():
    experiment = load_experiment(data=tiny_config())
    values = evaluate_model(experiment, build_model(experiment), samples=4_000, draw=False).values
    assert {"linear_error_cm", "linear_error_untrained_cm", "linear_error_chance_cm", "decoding_error_cm"} <= set(values)
    assert values["linear_error_cm"] == pytest.approx(values["linear_error_untrained_cm"])  # untrained = untrained
    assert 0 < values["linear_error_cm"] < values["linear_error_chance_cm"] * 1.2
