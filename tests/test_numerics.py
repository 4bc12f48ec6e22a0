"""The exact speed levers (flush-to-zero, the allocator, hidden-only rollouts, null cache keys) and bf16."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from gridzoo.analysis_set import AnalysisSet
from gridzoo.config import load_experiment
from gridzoo.errors import ResourceError
from gridzoo.model import build_model
from gridzoo.runtime import allocator
from gridzoo.runtime.numerics import ENV_KEEP_DENORMALS, fast_numerics, flushing_denormals
from gridzoo.seeding import Stream, generator
from gridzoo.training import train

from conftest import tiny_config


def dos_config(**training) -> dict:
    """DoS targets at NFL's σ in NFL's 2.2 m box: the centre softmax produces float32 subnormals."""
    config = tiny_config(steps=30, eval_every=30, checkpoint_every=30, **training)
    config["environment"] = {"name": "box", "width": 2.2}
    config["encoder"] = {"name": "dos", "n_cells": 128, "sigma": 0.12, "surround_scale": 2.0,
                         "surround_convention": "width_ratio"}
    return config


def test_the_dos_targets_meet_subnormals_so_flushing_them_is_tested():
    experiment = load_experiment(data=dos_config())
    model = build_model(experiment)
    batch = model.environment.sample(32, 10, generator=generator(0, Stream.TRAIN_BATCH, 0))
    centre, _ = model.encoders[0].centre_and_surround(batch.position)
    with fast_numerics(False):
        soft = torch.softmax(centre, -1)
    subnormal = (soft > 0) & (soft < torch.finfo(torch.float32).tiny)
    assert subnormal.float().mean() > 0.01


def test_flush_to_zero_leaves_the_trained_weights_bit_identical(tmp_path, monkeypatch):
    experiment = load_experiment(data=dos_config())
    train(experiment, tmp_path / "fast", live=False)
    monkeypatch.setenv(ENV_KEEP_DENORMALS, "1")
    train(experiment, tmp_path / "exact", live=False)
    fast, exact = load_file(str(tmp_path / "fast" / "model.safetensors")), load_file(str(tmp_path / "exact" / "model.safetensors"))
    assert fast.keys() == exact.keys()
    for name in fast:
        assert torch.equal(fast[name], exact[name]), name
    assert json.loads((tmp_path / "fast" / "metrics.json").read_text()) == json.loads(
        (tmp_path / "exact" / "metrics.json").read_text())


def test_the_settings_are_on_inside_and_restored_after(tmp_path):
    before = (flushing_denormals(), allocator.keeping_freed_memory())
    with fast_numerics() as flushing:
        assert flushing and flushing_denormals()
        assert allocator.keeping_freed_memory() or not allocator._mallopt()
    assert (flushing_denormals(), allocator.keeping_freed_memory()) == before
    seen = []

    import pytorch_lightning as pl

    class Probe(pl.Callback):
        def on_train_batch_start(self, *args) -> None:
            seen.append(flushing_denormals())

    train(load_experiment(data=tiny_config(steps=3)), tmp_path / "run", live=False, callbacks=[Probe()])
    assert seen and all(seen)
    assert (flushing_denormals(), allocator.keeping_freed_memory()) == before


ARCHITECTURES = [
    {"name": "rnn", "hidden_size": 24},
    {"name": "srnn", "hidden_size": 24},
    {"name": "lstm", "hidden_size": 24},
    {"name": "gru", "hidden_size": 24},
    {"name": "ugrnn", "hidden_size": 24},
    {"name": "sorscher", "hidden_size": 24},
    {"name": "banino", "hidden_size": 16, "bottleneck_size": 20},
]


@pytest.mark.parametrize("architecture", ARCHITECTURES, ids=lambda a: a["name"])
def test_the_hidden_only_rollout_equals_the_full_rollouts_hidden_states(architecture):
    config = tiny_config()
    config["architecture"] = architecture
    model = build_model(load_experiment(data=config))
    model.train()  # the hidden rollout must switch to evaluation mode itself, as rollout() does
    batch = model.environment.sample(8, 12, generator=generator(1, Stream.ANALYSIS, 0))
    full = model.rollout(batch).hidden
    hidden = model.hidden_rollout(batch)
    assert model.training
    assert hidden.keys() == full.keys()
    for name in full:
        assert torch.equal(hidden[name], full[name]), name
    layer = model.architecture.recurrent_layer
    silence = {layer: lambda h: h * 0.5}
    assert torch.equal(model.hidden_rollout(batch, silence)[layer], model.rollout(batch, silence).hidden[layer])


def test_rate_maps_use_the_hidden_only_rollout(monkeypatch):
    experiment = load_experiment(data=tiny_config())
    model = build_model(experiment)
    calls = []
    monkeypatch.setattr(type(model.architecture), "forward", lambda *a, **k: calls.append(1) or None)
    maps = AnalysisSet(experiment, model, 2_000).rate_maps("rnn", 10)
    assert maps.maps.shape[0] == 48 and not calls


def _null_key(**architecture) -> str:
    config = tiny_config()
    config["architecture"] = {"name": "lstm", "hidden_size": 16, **architecture}
    experiment = load_experiment(data=config)
    return AnalysisSet(experiment, build_model(experiment), 1_000).null_key


def test_the_best_unit_null_is_shared_by_configs_that_differ_only_in_training():
    base = _null_key()
    for field in ({"input_dropout": 0.5}, {"readout_dropout": 0.5}, {"recurrent_dropout": 0.2},
                  {"state_noise": 0.1}, {"recurrent_l2": 1e-3}):
        assert _null_key(**field) == base, field
    config = tiny_config(steps=999, lr=1e-2, optimizer="rmsprop", seed=7)
    config["architecture"] = {"name": "lstm", "hidden_size": 16}
    experiment = load_experiment(data=config)
    assert AnalysisSet(experiment, build_model(experiment), 1_000).null_key == base
    assert _null_key(hidden_size=17) != base
    assert _null_key(activation="tanh") != base
    assert _null_key(init="orthogonal") != base


def test_bf16_trains_records_its_precision_and_keeps_float32_weights(tmp_path):
    experiment = load_experiment(data=tiny_config(steps=20, precision="bf16"))
    result = train(experiment, tmp_path / "run", live=False)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"]["precision"] == "bf16"
    assert json.loads((tmp_path / "run" / "run.json").read_text())["precision"] == "bf16"
    weights = load_file(str(tmp_path / "run" / "model.safetensors"))
    assert all(w.dtype == torch.float32 for w in weights.values() if w.is_floating_point())
    assert result.metrics["decoding_error_cm"] < result.initial_metrics["decoding_error_cm"]


def test_bf16_computes_the_loss_in_float32_from_bf16_readouts(monkeypatch):
    from gridzoo.training.module import PathIntegrationModule

    module = PathIntegrationModule(load_experiment(data=tiny_config(precision="bf16")))
    seen = {}
    encoder = module.model.encoders[0]
    original = type(encoder).loss

    def spy(self, output, target):
        seen["output"], seen["target"] = output.dtype, target.dtype
        seen["autocast"] = torch.is_autocast_enabled("cpu")
        return original(self, output, target)

    monkeypatch.setattr(type(encoder), "loss", spy)
    batch = module.model.environment.sample(8, 10, generator=generator(0, Stream.TRAIN_BATCH, 0))
    loss = module.training_step(batch, 0)
    assert loss.dtype == torch.float32
    assert seen == {"output": torch.float32, "target": torch.float32, "autocast": False}
    fp32 = PathIntegrationModule(load_experiment(data=tiny_config()))
    exact = fp32.training_step(batch, 0)
    assert loss.item() == pytest.approx(exact.item(), rel=2e-2) and loss.item() != exact.item()


def test_bf16_is_refused_where_the_cpu_has_no_bf16(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    with pytest.raises(ResourceError, match="training.precision"):
        train(load_experiment(data=tiny_config(precision="bf16")), tmp_path / "run", live=False)
    assert not (tmp_path / "run").exists()


def test_run_ids_of_fp32_runs_did_not_change_when_precision_appeared():
    from gridzoo.sweeps.spec import run_id

    config = load_experiment(data=tiny_config()).to_dict(logging=False)
    old = json.loads(json.dumps(config))
    del old["training"]["precision"]
    assert run_id(config) == run_id(old)
    config["training"]["precision"] = "bf16"
    assert run_id(config) != run_id(old)
