"""The grid-cell network of Banino et al. (2018), as in google-deepmind/grid-cells.

    (h0, c0) = (W_h·z0 + b_h, W_c·z0 + b_c)   z0 = concatenated place and head-direction codes of the start
    h_t      = LSTM(v_t, h_{t−1})              128 units; v_t = (speed, sin ω, cos ω) in the paper
    g_t      = W_g · h_t                       linear bottleneck of 256, no bias: the scored layer ("bottleneck")
    ŷ_t^(k)  = W_k · dropout(g_t) + b_k        one head per target ensemble (256 place, 12 head-direction logits)
    loss     = Σ_k cross-entropy(softmax(ŷ^(k)), y^(k))  [+ λ·½(‖W_g‖² + Σ_k ‖W_k‖²), λ = 1e-5, see below]

Training (the banino2018 preset): RMSProp lr 1e-5, momentum 0.9, batch 10, 100-step trajectories, every
gradient clipped by value to ±1e-5; place cells Np = 256, σ = 0.01 m; 12 head-direction cells, κ = 20.

The paper regularises the bottleneck and heads with L2 (1e-5); the released code declares that penalty (TF's
``l2_regularizer``, i.e. λ·½Σw²) but never adds it to the loss. ``l2`` follows the paper by default, with the
same ½; set it to 0 to match the released code.
Deviation: Banino et al. pre-generated their trajectories with their own rat motion model; gridzoo generates
them online with its environment (use ``velocity_input = "speed_turn"`` for Banino's 3-D input).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gridzoo.architecture import Architecture, ArchitectureOutput

from gridzoo_builtin.architectures.configs import BaninoConfig

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
    config: BaninoConfig

    def __init__(self, config: BaninoConfig, input_size, init_size, output_sizes) -> None:
        super().__init__(config, input_size, init_size, output_sizes)
        self.init_h = nn.Linear(init_size, config.hidden_size)
        self.init_c = nn.Linear(init_size, config.hidden_size)
        self.lstm = nn.LSTM(input_size, config.hidden_size, batch_first=True)
        self.bottleneck = nn.Linear(config.hidden_size, config.bottleneck_size, bias=False)
        self.dropout = nn.Dropout(config.dropout)
        self.heads = nn.ModuleList(nn.Linear(config.bottleneck_size, n) for n in output_sizes)

    def forward(self, velocity: Tensor, initial_code: Tensor) -> ArchitectureOutput:
        state = (self.init_h(initial_code)[None], self.init_c(initial_code)[None])
        lstm, _ = self.lstm(velocity, state)
        bottleneck = self.bottleneck(lstm)
        features = self.dropout(bottleneck)
        return ArchitectureOutput([head(features) for head in self.heads], {"bottleneck": bottleneck, "lstm": lstm})

    def regularization(self) -> Tensor:
        if self.config.l2 == 0:
            return torch.zeros((), device=self.bottleneck.weight.device)
        weights = [self.bottleneck.weight, *(head.weight for head in self.heads)]
        return 0.5 * self.config.l2 * sum(w.pow(2).sum() for w in weights)
