"""Each component is pinned to numbers from the reference code, not to gridzoo's own output:

- initial weights against torch's nn.RNN/nn.Linear (Sorscher's code) and against Keras (NFL's code; the numbers in
  tests/reference/keras_initialisation.json were drawn by Keras itself, see the script beside them);
- NFL's losses, decoders and high-dimensional maps against their definitions in NFL's code, written out in NumPy;
- TensorFlow 1's RMSProp and TF2 Keras's Adam against their update rules, written out in NumPy.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch

import gridzoo
from gridzoo.config import load_experiment
from gridzoo.model import build_model
from gridzoo.training.optimizers import KerasAdam, TF1RMSProp

from conftest import REFERENCE

KERAS = json.loads((REFERENCE / "keras_initialisation.json").read_text())
NP, NG = KERAS["sizes"]["Np"], KERAS["sizes"]["Ng"]


def _model(architecture: dict, encoder: dict | None = None, environment: dict | None = None, seed: int = 0):
    data = {
        "environment": environment or {"name": "box", "width": 2.2},
        "encoder": encoder or {"name": "dos", "n_cells": NP},
        "architecture": architecture,
        "training": {"seed": seed},
    }
    return build_model(load_experiment(data=data))


def _close(ours: torch.Tensor, reference: dict, rel: float = 0.04) -> None:
    w = ours.detach().numpy()
    assert w.size == math.prod(reference["shape"])
    assert w.std() == pytest.approx(reference["std"], rel=rel)
    assert np.abs(w).max() <= reference["max_abs"] * 1.001 + 1e-7 or reference["max_abs"] == 0
    if w.size > 200:
        assert np.abs(w).max() == pytest.approx(reference["max_abs"], rel=0.03)  # the same uniform limit


# --- initialisation ------------------------------------------------------------------------------------------


@pytest.mark.reference
def test_sorscher_initialises_exactly_as_nn_rnn():
    """Every weight of nn.RNN, the input weights included, is U(±1/√Ng); encoder and decoder are nn.Linear."""
    ng = 1024
    arch = _model({"name": "sorscher", "hidden_size": ng}).architecture
    reference = torch.nn.RNN(2, ng, nonlinearity="relu", bias=False)
    encoder, decoder = torch.nn.Linear(NP, ng, bias=False), torch.nn.Linear(ng, NP, bias=False)
    pairs = [(arch.input_kernel.weight, reference.weight_ih_l0), (arch.recurrent_kernel.weight, reference.weight_hh_l0),
             (arch.init_state.weight, encoder.weight), (arch.readouts[0].weight, decoder.weight)]
    for ours, theirs in pairs:
        assert ours.shape == theirs.shape
        assert float(ours.std()) == pytest.approx(float(theirs.std()), rel=0.05)
        assert float(ours.abs().max()) <= float(theirs.abs().max()) * 1.01
    # The velocity drive is small next to the recurrent drive at the start (gridzoo 0.1 had it 45x larger).
    assert float(arch.input_kernel.weight.std()) == pytest.approx(1 / math.sqrt(3 * ng), rel=0.05)


@pytest.mark.reference
def test_nfl_rnn_initialises_as_keras():
    arch = _model({"name": "rnn", "hidden_size": NG}).architecture
    ref = KERAS["rnn"]
    assert arch.input_kernel.bias is None and arch.init_state.bias is None and arch.readouts[0].bias is None
    assert arch.projection is None and arch.g is None and arch.default_layer == "rnn"
    _close(arch.init_state.weight, ref["init_state"])
    _close(arch.input_kernel.weight, ref["input_kernel"], rel=0.2)  # 2 x Ng: few samples
    _close(arch.recurrent_kernel.weight, ref["recurrent_kernel"])
    _close(arch.readouts[0].weight, ref["readout"])


@pytest.mark.reference
def test_nfl_lstm_initialises_as_keras_with_forget_bias_one():
    arch = _model({"name": "lstm", "hidden_size": NG}).architecture
    ref = KERAS["lstm"]
    assert arch.default_layer == "g" and arch.g.out_features == NG and arch.projection.out_features == NG
    h0, c0 = arch.init_state.weight.split(NG, dim=0)  # NFL's two encoders, each a Keras Dense(Ng)
    _close(h0, ref["init_state_block"])
    _close(c0, ref["init_state_block"])
    _close(arch.projection.weight, ref["projection"], rel=0.2)
    _close(arch.input_kernel.weight, ref["input_kernel"])
    _close(arch.recurrent_kernel.weight, ref["recurrent_kernel"])
    gates = arch.input_kernel.bias.detach().reshape(4, NG).mean(dim=1).tolist()
    assert gates == pytest.approx(ref["bias_by_gate"])  # [0, 1, 0, 0]: unit_forget_bias
    _close(arch.g.weight, ref["g"])
    _close(arch.readouts[0].weight, ref["readout"])


@pytest.mark.reference
def test_nfl_gru_srnn_and_ugrnn_initialise_as_keras():
    gru = _model({"name": "gru", "hidden_size": NG}).architecture
    assert KERAS["gru"]["reset_after"] and gru.recurrent_kernel.bias is not None  # the reset_after recurrent bias
    _close(gru.input_kernel.weight, KERAS["gru"]["input_kernel"])
    _close(gru.recurrent_kernel.weight, KERAS["gru"]["recurrent_kernel"])
    assert float(gru.input_kernel.bias.abs().max()) == float(gru.recurrent_kernel.bias.abs().max()) == 0.0
    srnn = _model({"name": "srnn", "hidden_size": NG}).architecture
    assert srnn.input_kernel.bias is None and srnn.projection.bias is not None and srnn.default_layer == "g"
    _close(srnn.input_kernel.weight, KERAS["srnn"]["input_kernel"])
    ugrnn = _model({"name": "ugrnn", "hidden_size": NG}).architecture
    kernel = torch.cat([ugrnn.input_kernel.weight, ugrnn.recurrent_kernel.weight], dim=1)  # over [x, h]
    _close(kernel, KERAS["ugrnn"]["kernel"])


def test_every_init_scheme_is_selectable_and_recorded():
    for scheme in ("glorot_uniform", "orthogonal", "torch", "torch_rnn"):
        arch = _model({"name": "lstm", "hidden_size": 32, "init": scheme}).architecture
        assert arch.config.init == scheme
    w = _model({"name": "rnn", "hidden_size": 64, "init": "orthogonal"}).architecture.recurrent_kernel.weight
    assert torch.allclose(w @ w.T, torch.eye(64), atol=1e-5)


def test_banino_initialises_as_sonnet():
    model = _model({"name": "banino", "hidden_size": 128, "bottleneck_size": 256},
                   encoder=[{"name": "gaussian", "n_cells": 256, "sigma": 0.01}, {"name": "head_direction"}],
                   environment={"name": "box", "velocity_input": "speed_turn"})
    arch = model.architecture
    std = 1 / math.sqrt(3 + 128)  # Sonnet's LSTM: TN(0, 1/√(in + H)) over [input, state]
    truncated = std * 0.8796  # the std of a normal truncated at ±2σ
    assert float(arch.lstm.weight_hh_l0.std()) == pytest.approx(truncated, rel=0.05)
    assert float(arch.lstm.weight_hh_l0.abs().max()) <= 2 * std
    forget = arch.lstm.bias_ih_l0.detach()[128:256]
    assert float(forget.mean()) == pytest.approx(1.0, abs=3 * truncated / math.sqrt(128))
    assert float(arch.lstm.bias_hh_l0.abs().max()) == 0 and not arch.lstm.bias_hh_l0.requires_grad
    assert float(arch.heads[0].weight.std()) == pytest.approx(0.8796 / math.sqrt(256), rel=0.05)
    assert float(arch.heads[0].bias.abs().max()) == 0


# --- encoders, losses, decoders ------------------------------------------------------------------------------


def test_true_dog_decodes_a_perfect_output_by_nfls_rule():
    """NFL's get_nearest_cell_pos takes, for the true DoG, the top k of the *negated* activation."""
    enc = _model({"name": "rnn", "hidden_size": 8}, encoder={"name": "dog", "n_cells": 256, "sigma": 0.12,
                 "surround_scale": 2.0, "surround_convention": "width_ratio"},
                 environment={"name": "box", "width": 1.1}).encoders[0]
    rng = np.random.default_rng(0)
    positions = torch.tensor(rng.uniform(-0.55, 0.55, (4000, 2)), dtype=torch.float32)
    perfect = enc.encode(positions, torch.zeros(4000))
    error = float((enc.decode(perfect) - positions).norm(dim=-1).mean() * 100)
    # NFL's rule written out: the mean centre of the 3 least active cells.
    centres = enc.centres[:, 0].numpy()
    least = np.argsort(perfect.numpy(), axis=1)[:, :3]
    nfl = centres[least].mean(axis=1)
    assert error == pytest.approx(float(np.linalg.norm(nfl - positions.numpy(), axis=1).mean() * 100), rel=1e-5)
    chance = float(torch.cdist(positions, positions).mean() * 100)
    assert 10 < error < 20 < chance  # the audit measured 14.6 cm against 58 cm chance
    most = _model({"name": "rnn", "hidden_size": 8}, encoder={"name": "dog", "n_cells": 256, "sigma": 0.12,
                  "surround_convention": "width_ratio", "decode_from": "most_active"},
                  environment={"name": "box", "width": 1.1}).encoders[0]
    assert float((most.decode(perfect) - positions).norm(dim=-1).mean() * 100) > chance  # the old rule


def test_mse_is_nfls_reduce_mean():
    from gridzoo_builtin.encoders.losses import mse

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((5, 7, 512)), rng.standard_normal((5, 7, 512))
    assert float(mse(torch.tensor(x), torch.tensor(y))) == pytest.approx(float(np.mean((x - y) ** 2)), rel=1e-12)


def test_high_dimensional_cartesian_map_is_uniform_minus_one_to_one():
    enc = _model({"name": "rnn", "hidden_size": 8}, encoder={"name": "cartesian_highdim", "n_dims": 4096}).encoders[0]
    for t in (enc.weight, enc.bias):
        assert float(t.min()) >= -1 and float(t.max()) <= 1
        assert float(t.std()) == pytest.approx(1 / math.sqrt(3), rel=0.05)


def test_small_sigma_targets_are_exact_in_float32():
    enc = _model({"name": "rnn", "hidden_size": 8}, encoder={"name": "gaussian", "n_cells": 256, "sigma": 0.01}).encoders[0]
    positions = torch.rand(2000, 2, generator=torch.Generator().manual_seed(0)) * 2.2 - 1.1
    ours = enc.encode(positions, torch.zeros(2000)).double()
    d2 = ((positions.double()[:, None, :] - enc.centres[:, 0].double()[None]) ** 2).sum(-1)
    exact = torch.softmax(-d2 / (2 * 0.01**2), dim=-1)
    assert float((ours - exact).abs().max()) < 1e-5  # the |p|²+|c|²−2p·c expansion was off by 3.7e-4


def test_multi_field_cells_draw_sigma_per_field_and_decode_by_smallest_spread():
    enc = _model({"name": "rnn", "hidden_size": 8}, encoder={"name": "dos", "n_cells": 64, "fields_rate": 1.0,
                 "sigma_range": [0.08, 0.16]}).encoders[0]
    fields = enc.centres.shape[1]
    assert fields > 1 and enc.sigma.shape == (64, fields) and enc.surround_sigma.shape == (64, fields)
    assert len(set(enc.sigma[0].tolist())) == fields  # one width per field, as NFL's code
    # The response comes from the field nearest in units of its own width (NFL's argmin of d²/2σ²).
    positions = torch.rand(50, 2, generator=torch.Generator().manual_seed(2)) * 2.2 - 1.1
    d2 = ((positions[:, None, None, :] - enc.centres[None]) ** 2).sum(-1)
    scaled = (d2 / (2 * enc.sigma**2)).masked_fill(~enc.field_mask, float("inf"))
    chosen = scaled.argmin(-1)
    centre, _ = enc.centre_and_surround(positions)
    expected = -d2.gather(-1, chosen[..., None]).squeeze(-1) / (2 * enc.sigma.gather(1, chosen.T).T ** 2)
    assert torch.allclose(centre, expected, rtol=1e-5)
    # Decoding: of every combination of one field per top cell, the one with the smallest spread (NFL's rule).
    output = torch.randn(20, 64)
    top = output.topk(3, dim=-1).indices
    decoded = enc.decode(output)
    for row in range(20):
        options = [[enc.centres[c, f].numpy() for f in range(fields) if enc.field_mask[c, f]] for c in top[row].tolist()]
        best = min(itertools.product(*options), key=lambda pts: np.var(np.array(pts), axis=0).sum())
        assert np.allclose(decoded[row].numpy(), np.mean(best, axis=0), atol=1e-6)


# --- optimizers ----------------------------------------------------------------------------------------------


def _gradient_stream(steps: int, shape=(7,)):
    rng = np.random.default_rng(3)
    scales = np.logspace(-7, 0, shape[0])  # tiny to large gradients, as under Banino's ±1e-5 clipping
    return [rng.standard_normal(shape) * scales for _ in range(steps)]


@pytest.mark.reference
def test_tf1_rmsprop_follows_tf1s_update_rule_for_200_steps():
    lr, rho, mu, eps = 1e-3, 0.9, 0.9, 1e-10
    grads = _gradient_stream(200)
    theta = np.linspace(-1, 1, 7)
    ms, mom = np.ones(7), np.zeros(7)  # TF1: the mean square starts at 1
    p = torch.nn.Parameter(torch.tensor(theta.copy()))
    opt = TF1RMSProp([p], lr=lr, decay=rho, momentum=mu, eps=eps)
    for g in grads:
        ms = rho * ms + (1 - rho) * g * g
        mom = mu * mom + lr * g / np.sqrt(ms + eps)
        theta = theta - mom
        p.grad = torch.tensor(g)
        opt.step()
        assert np.allclose(p.detach().numpy(), theta, rtol=1e-12, atol=1e-15)
    torch_rms = torch.nn.Parameter(torch.tensor(np.linspace(-1, 1, 7)))
    ref_opt = torch.optim.RMSprop([torch_rms], lr=lr, momentum=mu)
    torch_rms.grad = torch.tensor(grads[0])
    ref_opt.step()
    moved_tf1 = abs(np.linspace(-1, 1, 7)[0] - (np.linspace(-1, 1, 7)[0] - lr * grads[0][0] / np.sqrt(rho + (1 - rho) * grads[0][0] ** 2 + eps)))
    moved_torch = abs(float(torch_rms[0]) - np.linspace(-1, 1, 7)[0])
    assert moved_torch > 100 * moved_tf1  # torch's rule moves a tiny-gradient weight far further at first


@pytest.mark.reference
def test_keras_adam_follows_tf2_keras_update_rule():
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
    grads = _gradient_stream(150)
    theta, m, v = np.linspace(-1, 1, 7), np.zeros(7), np.zeros(7)
    p = torch.nn.Parameter(torch.tensor(theta.copy()))
    opt = KerasAdam([p], lr=lr)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        p.grad = torch.tensor(g)
        opt.step()
    assert np.allclose(p.detach().numpy(), theta, rtol=1e-12, atol=1e-15)


def test_presets_use_their_papers_optimizers():
    from gridzoo.presets import preset_path

    assert load_experiment(preset_path("banino2018")).training.optimizer == "rmsprop_tf1"
    assert load_experiment(preset_path("nfl2022-dos")).training.optimizer_convention == "keras"
    assert load_experiment(preset_path("sorscher2019")).training.optimizer_convention == "torch"


def test_ugrnn_and_srnn_are_listed():
    names = {c.name for c in gridzoo.list_components("architectures")}
    assert {"ugrnn", "srnn", "rnn", "lstm", "gru", "sorscher", "banino"} <= names
