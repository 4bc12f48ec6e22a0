"""Recurrent path integrators wired as in Schaeffer, Khona & Fiete (2022) ("NFL").

Wiring: initial state(s) from a linear map of the start position's code; the velocity enters through the
core's dense input kernel; the recurrent core applies the chosen activation; an optional dense "g" layer with
the same activation; one linear readout per target code. The scored layer is named by ``scored_layer``.

NFL's code applies a separate dense projection to the velocity before the core's own input kernel. Two
linear maps in a row are one linear map, so here the core's input kernel *is* that projection.
NFL's weight decay on the recurrent kernel only is ``recurrent_l2`` (added to the loss as λ·ΣW_hh²).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gridzoo.architecture import Architecture, ArchitectureOutput

from gridzoo_builtin.architectures.configs import RecurrentConfig

NFL_CITATION = (
    "Schaeffer, Khona & Fiete (2022). No Free Lunch from Deep Learning in Neuroscience: A Case Study through "
    "Models of the Entorhinal-Hippocampal Circuit. NeurIPS 35."
)

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}


class RecurrentNetwork(Architecture):
    """Shared wiring of the NFL-style networks; subclasses provide the recurrent core's step."""

    Config = RecurrentConfig
    citation = NFL_CITATION
    config: RecurrentConfig
    n_states = 1  # states carried between steps (2 for an LSTM)
    n_gates = 1  # input-kernel blocks per unit (4 for an LSTM, 3 for a GRU)

    def __init__(self, config, input_size, init_size, output_sizes) -> None:
        super().__init__(config, input_size, init_size, output_sizes)
        h, bias = config.hidden_size, config.bias
        self.act = ACTIVATIONS[config.activation]
        self.init_state = nn.Linear(init_size, h * self.n_states, bias=bias)
        self.input_kernel = nn.Linear(input_size, h * self.n_gates, bias=bias)
        self.recurrent_kernel = nn.Linear(h, h * self.n_gates, bias=False)
        self.g = nn.Linear(h, config.g_size, bias=bias) if config.g_size else None
        readout_in = config.g_size or h
        self.readouts = nn.ModuleList(nn.Linear(readout_in, n, bias=bias) for n in output_sizes)

    @property
    def layers(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("rnn", "g") if self.g is not None else ("rnn",)

    @property
    def default_layer(self) -> str:  # type: ignore[override]
        return self.config.scored_layer or ("g" if self.g is not None else "rnn")

    def step(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One recurrent step from the projected input x (B, n_gates·H); returns (output, new state)."""
        h = self.act(x + self.recurrent_kernel(state[0]))
        return h, (h,)

    def forward(self, velocity: Tensor, initial_code: Tensor) -> ArchitectureOutput:
        state = tuple(self.init_state(initial_code).chunk(self.n_states, dim=-1))
        projected = self.input_kernel(velocity)  # one matmul for the whole sequence
        outputs = []
        for t in range(velocity.shape[1]):
            h, state = self.step(projected[:, t], state)
            outputs.append(h)
        rnn = torch.stack(outputs, dim=1)
        hidden = {"rnn": rnn}
        features = rnn
        if self.g is not None:
            features = hidden["g"] = self.act(self.g(rnn))
        return ArchitectureOutput([readout(features) for readout in self.readouts], hidden)

    def regularization(self) -> Tensor:
        if self.config.recurrent_l2 == 0:
            return torch.zeros((), device=self.recurrent_kernel.weight.device)
        return self.config.recurrent_l2 * self.recurrent_kernel.weight.pow(2).sum()


class VanillaRNN(RecurrentNetwork):
    """Vanilla RNN, h_t = f(W_in v_t + W_hh h_{t−1} + b), with f the chosen activation (NFL wiring)."""

    summary = "Vanilla RNN with NFL wiring: linear initial state, chosen activation, optional g layer."


class LSTM(RecurrentNetwork):
    """LSTM with NFL wiring; the chosen activation replaces tanh on the cell input and the cell output
    (gates stay sigmoid). h0 and c0 both come from the linear map of the start position's code.
    The scored "rnn" layer is the hidden state h."""

    summary = "LSTM with NFL wiring; the chosen activation replaces tanh; optional g layer."
    n_states = 2
    n_gates = 4

    def step(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        h, c = state
        i, f, g, o = (x + self.recurrent_kernel(h)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * self.act(g)
        h = torch.sigmoid(o) * self.act(c)
        return h, (h, c)


class GRU(RecurrentNetwork):
    """GRU with NFL wiring; the chosen activation replaces tanh on the candidate state (gates stay sigmoid).
    Follows torch's GRU: the reset gate multiplies the recurrent part of the candidate."""

    summary = "GRU with NFL wiring; the chosen activation replaces tanh; optional g layer."
    n_gates = 3

    def step(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        (h,) = state
        xr, xz, xn = x.chunk(3, dim=-1)
        hr, hz, hn = self.recurrent_kernel(h).chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        h = (1 - z) * self.act(xn + r * hn) + z * h
        return h, (h,)
