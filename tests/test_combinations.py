"""Every registered architecture trains with every compatible registered encoder.

The parameters come from the registry at collection time, so a newly installed plugin is covered without a
new test. Sizes are shrunk through whichever size fields a component's config has."""

from __future__ import annotations

import pytest
import torch

import gridzoo
from gridzoo.cli import main
from gridzoo.config import load_experiment
from gridzoo.errors import IncompatibleComponentsError
from gridzoo.model import build_model
from gridzoo.seeding import generator

SMALL = {"hidden_size": 16, "n_cells": 24, "n_dims": 8, "bottleneck_size": 8, "g_size": None}


def _small(kind: str, name: str) -> dict:
    fields = gridzoo.get_component(kind, name).Config.model_fields
    return {k: v for k, v in SMALL.items() if k in fields and v is not None}


def _names(kind: str) -> list[str]:
    return [info.qualified_name for info in gridzoo.list_components(kind)]


def _train_a_little(config: dict) -> tuple[float, float, object]:
    experiment = load_experiment(data=config)
    try:
        model = build_model(experiment)
    except IncompatibleComponentsError as exc:
        pytest.skip(f"incompatible: {exc}")
    env = model.environment
    batch = env.sample(16, 8, generator=generator(0, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        loss = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses[0], losses[-1], model


@pytest.mark.parametrize("encoder", _names("encoders"))
@pytest.mark.parametrize("architecture", _names("architectures"))
def test_architecture_trains_with_encoder(architecture, encoder):
    config = {
        "environment": {"name": "box"},
        "encoder": {"name": encoder, **_small("encoders", encoder)},
        "architecture": {"name": architecture, **_small("architectures", architecture)},
    }
    first, last, model = _train_a_little(config)
    assert last < first, (first, last)
    rollout = model.rollout(model.environment.sample(4, 5, generator=generator(1, 3)))
    assert rollout.default_layer in rollout.hidden
    assert rollout.outputs[0].shape == (4, 5, model.encoders[0].size)


@pytest.mark.parametrize("architecture", _names("architectures"))
def test_architecture_trains_on_place_and_head_direction_ensembles(architecture):
    config = {
        "environment": {"name": "box", "velocity_input": "speed_turn"},
        "encoder": [{"name": "gaussian", "n_cells": 24}, {"name": "head_direction"}],
        "architecture": {"name": architecture, **_small("architectures", architecture)},
    }
    first, last, model = _train_a_little(config)
    assert last < first
    out = model(model.environment.sample(2, 3, generator=generator(0, 4)))
    assert [o.shape[-1] for o in out.outputs] == [24, 12]


def test_incompatible_pair_is_a_clear_user_error(tmp_path, capsys):
    config = tmp_path / "e.toml"
    config.write_text(
        '[environment]\nname = "box"\nperiodic = true\n[encoder]\nname = "polar"\n'
        '[architecture]\nname = "rnn"\nhidden_size = 8\n[training]\nsteps = 2\n'
    )
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "needs a solid arena" in err and "environment.periodic = false" in err
    assert not (tmp_path / "run").exists()
