"""The grid-cell network of Banino et al. (2018), as in google-deepmind/grid-cells (``model.py``, ``train.py``).

    (h0, c0) = (W_h·z0 + b_h, W_c·z0 + b_c)   z0 = concatenated place and head-direction codes of the start
    h_t      = LSTM(v_t, h_{t−1})              128 units; v_t = (speed, sin ω, cos ω) in the paper
    g_t      = W_g · h_t                       linear bottleneck of 256, no bias: the scored layer ("bottleneck")
    ŷ_t^(k)  = W_k · dropout(g_t) + b_k        one head per target ensemble (256 place, 12 head-direction logits)
    loss     = Σ_k cross-entropy(softmax(ŷ^(k)), y^(k))  [+ λ·½(‖W_g‖² + Σ_k ‖W_k‖²), λ = 1e-5, see below]

Training (the banino2018 preset): TF1's RMSProp (``optimizer = "rmsprop_tf1"``: decay 0.9, ε 1e-10 inside the
root, mean square starting at 1) with lr 1e-5 and momentum 0.9, batch 10, 100-step trajectories, every gradient
clipped by value to ±1e-5; place cells Np = 256, σ = 0.01 m; 12 head-direction cells, κ = 20.

Initialisation (``init = "sonnet"``), as Sonnet 1 builds DeepMind's modules: the LSTM's weights over [input,
state] and its bias are truncated-normal with std 1/√(in + H), and Sonnet adds 1 to the forget gate (here folded
into that bias's initial value, which trains identically); the bottleneck, the state maps and the heads are
truncated-normal with std 1/√fan_in, biases zero. Sonnet's LSTM has one bias; torch's layout has two, so the
second (``bias_hh``) is held at zero and not trained.

The paper regularises the bottleneck and heads with L2 (1e-5); the released code declares that penalty (TF's
``l2_regularizer``, i.e. λ·½Σw²) but never adds it to the loss. ``l2`` follows the paper by default, with the
same ½; set it to 0 to match the released code.
Deviations: Banino et al. pre-generated their trajectories with their own rat motion model; gridzoo generates
them online with its environment (use ``velocity_input = "speed_turn"`` for Banino's 3-D input). DeepMind's
training figures compute rate maps from the bottleneck *after* dropout; gridzoo scores without dropout.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

import torch
from torch import Tensor, nn

from gridzoo.architecture import Architecture, ArchitectureOutput

from gridzoo_builtin.architectures import initialisation
from gridzoo_builtin.architectures.configs import BaninoConfig
from gridzoo_builtin.architectures.recurrent import sequence_mask

BANINO = (
    "Banino et al. (2018). Vector-based navigation using grid-like representations in artificial agents. "
    "Nature 557, 429-433."
)


class BaninoLSTM(Architecture):
    """Banino et al.'s LSTM with a linear bottleneck, dropout and one softmax head per target ensemble."""

    Config = BaninoConfig
    summary = "Banino et al. 2018: LSTM 128, linear bottleneck 256 (scored), dropout 0.5, one head per ensemble."
    citation = BANINO
    layers = ("bottleneck", "lstm")
    default_layer = "bottleneck"
    supports_interventions = True
    recurrent_layer = "lstm"
    config: BaninoConfig

    def __init__(self, config: BaninoConfig, input_size, init_size, output_sizes) -> None:
        super().__init__(config, input_size, init_size, output_sizes)
        h = config.hidden_size
        self.init_h = nn.Linear(init_size, h)
        self.init_c = nn.Linear(init_size, h)
        self.lstm = nn.LSTM(input_size, h, batch_first=True)
        self.bottleneck = nn.Linear(h, config.bottleneck_size, bias=False)
        self.heads = nn.ModuleList(nn.Linear(config.bottleneck_size, n) for n in output_sizes)
        if config.init == "sonnet":
            self._sonnet_init(input_size, h)

    def _sonnet_init(self, input_size: int, h: int) -> None:
        std = 1 / math.sqrt(input_size + h)
        for t in (self.lstm.weight_ih_l0, self.lstm.weight_hh_l0, self.lstm.bias_ih_l0):
            initialisation.truncated_normal_(t, std)
        with torch.no_grad():
            self.lstm.bias_ih_l0[h:2 * h] += 1.0  # Sonnet's forget_bias = 1 (gate order i, f, g, o)
            self.lstm.bias_hh_l0.zero_()
        self.lstm.bias_hh_l0.requires_grad_(False)  # one bias, as Sonnet's LSTM
        for layer in (self.init_h, self.init_c, self.bottleneck, *self.heads):
            initialisation.dense_(layer, "sonnet")

    def _loop(self, velocity: Tensor, state: tuple[Tensor, Tensor], intervene: Callable | None) -> Tensor:
        """The LSTM one step at a time with the same weights, for what the fused kernel cannot do: per-step
        noise, recurrent dropout, interventions on h."""
        c_cfg, lstm = self.config, self.lstm
        training = self.training
        h, c = state
        x = velocity @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + lstm.bias_hh_l0
        fed_mask = sequence_mask(h, c_cfg.recurrent_dropout) if training and c_cfg.recurrent_dropout > 0 else None
        noise = c_cfg.state_noise if training else 0.0
        outputs = []
        for t in range(velocity.shape[1]):
            fed = h * fed_mask if fed_mask is not None else h
            i, f, g, o = (x[:, t] + fed @ lstm.weight_hh_l0.T).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            if noise > 0:
                h = h + noise * torch.randn_like(h)
            if intervene is not None:
                h = intervene(h)
            outputs.append(h)
        return torch.stack(outputs, dim=1)

    def forward(
        self, velocity: Tensor, initial_code: Tensor, interventions: Mapping[str, Callable] | None = None
    ) -> ArchitectureOutput:
        hidden = self.hidden_states(velocity, initial_code, interventions)
        features = nn.functional.dropout(hidden["bottleneck"], self.config.readout_dropout, training=self.training)
        return ArchitectureOutput([head(features) for head in self.heads], hidden)

    def hidden_states(self, velocity: Tensor, initial_code: Tensor,
                      interventions: Mapping[str, Callable] | None = None) -> dict[str, Tensor]:
        cfg = self.config
        interventions = interventions or {}
        training = self.training
        state = (self.init_h(initial_code), self.init_c(initial_code))
        if training and cfg.input_dropout > 0:
            velocity = velocity * sequence_mask(velocity[:, 0], cfg.input_dropout)[:, None]
        if "lstm" in interventions or (training and (cfg.recurrent_dropout > 0 or cfg.state_noise > 0)):
            lstm = self._loop(velocity, state, interventions.get("lstm"))
        else:
            lstm, _ = self.lstm(velocity, (state[0][None], state[1][None]))
        bottleneck = self.bottleneck(lstm)
        if "bottleneck" in interventions:
            bottleneck = interventions["bottleneck"](bottleneck)
        return {"bottleneck": bottleneck, "lstm": lstm}

    def regularization(self) -> Tensor:
        if self.config.l2 == 0:
            return torch.zeros((), device=self.bottleneck.weight.device)
        weights = [self.bottleneck.weight, *(head.weight for head in self.heads)]
        return 0.5 * self.config.l2 * sum(w.pow(2).sum() for w in weights)
