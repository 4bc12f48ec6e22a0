"""A continuous-time (leaky) RNN, discretised with Euler steps, as in Cueva & Wei (2018).

    h_t = (1 − α) h_{t−1} + α f(W_in v_t + W_hh h_{t−1} + b),   α = dt / τ

Deviations from Cueva & Wei: they add noise to the recurrent units and regularise firing rates and weights;
this example does neither, and takes its initial state from a linear map of the start position's code, as
every gridzoo architecture does.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from gridzoo.architecture import Architecture, ArchitectureOutput
from gridzoo.component import ComponentConfig


class CTRNNConfig(ComponentConfig):
    hidden_size: int = Field(100, gt=0, description="Recurrent units (Cueva & Wei use 100).")
    alpha: float = Field(0.1, gt=0, le=1, description="Euler step over time constant, dt/τ.")
    activation: Literal["tanh", "relu"] = Field("tanh", description="Nonlinearity f.")


class ContinuousTimeRNN(Architecture):
    """Leaky continuous-time RNN (Cueva & Wei 2018) with one linear readout per target code."""

    Config = CTRNNConfig
    summary = "Continuous-time leaky RNN after Cueva & Wei 2018 (example third-party plugin)."
    citation = (
        "Cueva & Wei (2018). Emergence of grid-like representations by training recurrent neural networks to "
        "perform spatial localization. ICLR."
    )
    layers = ("rnn",)
    default_layer = "rnn"

    def __init__(self, config: CTRNNConfig, input_size, init_size, output_sizes) -> None:
        super().__init__(config, input_size, init_size, output_sizes)
        n = config.hidden_size
        self.init_state = nn.Linear(init_size, n)
        self.input_kernel = nn.Linear(input_size, n)
        self.recurrent_kernel = nn.Linear(n, n, bias=False)
        self.readouts = nn.ModuleList(nn.Linear(n, size) for size in output_sizes)
        self.f = torch.tanh if config.activation == "tanh" else torch.relu

    def forward(self, velocity: Tensor, initial_code: Tensor) -> ArchitectureOutput:
        alpha = self.config.alpha
        h = self.init_state(initial_code)
        drive = self.input_kernel(velocity)
        states = []
        for t in range(velocity.shape[1]):
            h = (1 - alpha) * h + alpha * self.f(drive[:, t] + self.recurrent_kernel(h))
            states.append(h)
        hidden = torch.stack(states, dim=1)
        return ArchitectureOutput([readout(hidden) for readout in self.readouts], {"rnn": hidden})
