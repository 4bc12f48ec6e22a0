"""Recurrent path integrators wired as in Schaeffer, Khona & Fiete (2022) ("NFL"), checked against its code
(FieteLab/NeurIPS-2022-No-Free-Lunch, ``mec_hpc_investigations/models/model.py``).

    s0   = E · p0 (+ b)                 initial state(s) from the start position's code (LSTM: two maps, h0 and c0)
    x_t  = M · v_t (+ b)                 the input projection ("M"; LSTM, GRU, UGRNN, SRNN; not NFL's RNN)
    h_t  = core(x_t, h_{t−1})            RNN, LSTM, GRU (reset_after) or UGRNN, with the chosen activation
    g_t  = f(W_g h_t (+ b))              the dense "g" layer with the activation (NFL scores g; not NFL's RNN)
    ŷ_t  = D · g_t (+ b)                 one linear readout per target code
    loss = Σ codes + λ·ΣW²               weight decay on the recurrent kernel only (NFL's ``RNN.weights[1]``)

Each architecture's defaults are NFL's: ``rnn`` is NFL's ``RNN`` (the Sorscher-style class: no biases, no M, no
g; its SimpleRNN's kernel takes the velocity), ``srnn`` NFL's ``SRNN``/``VanillaRNN`` (biases except in the
SimpleRNN), ``lstm`` (Keras LSTM: one bias, forget bias 1), ``gru`` (Keras GRU, ``reset_after=True``: a recurrent
bias inside r·(W_h h + b_h)) and ``ugrnn`` (Collins et al. 2017, NFL's cell: gate g = σ(·+1), h' = g·h + (1−g)·f(c)).
Initialisation follows Keras as NFL's sweeps set it (``init = "glorot_uniform"``); see
:mod:`gridzoo_builtin.architectures.initialisation` for the other schemes.

Deviations from NFL's code, each a choice with its reason:
- Optimizers: see ``training.optimizer`` (Keras's Adam puts ε outside the bias correction; the NFL presets set
  ``optimizer_eps = 1e-7`` as Keras does; the remaining difference shrinks as 1 − β₂ᵗ → 1).
- NFL's UGRNN cell ignores dropout (its cell takes no dropout arguments); here every core honours the
  regularisers. They are off by default, as in most of NFL's runs.
- With ``l2_on = "bias"`` (the default) the UGRNN's weight decay lands on its bias, exactly as NFL's code does
  (``weights[1]`` of its cell is the bias): reproducing a defect on purpose, named so it can be switched off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from torch import Tensor, nn

from gridzoo.architecture import Architecture, ArchitectureOutput

from gridzoo_builtin.architectures import initialisation
from gridzoo_builtin.architectures.configs import GRUConfig, RecurrentConfig, RNNConfig, SRNNConfig, UGRNNConfig

NFL_CITATION = (
    "Schaeffer, Khona & Fiete (2022). No Free Lunch from Deep Learning in Neuroscience: A Case Study through "
    "Models of the Entorhinal-Hippocampal Circuit. NeurIPS 35."
)
UGRNN_CITATION = (
    "Collins, Sohl-Dickstein & Sussillo (2017). Capacity and trainability in recurrent neural networks. ICLR; "
    + NFL_CITATION
)

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}

Intervention = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Wiring:
    """Which layers a recurrent network has (derived from its config)."""

    bias: bool
    core_bias: bool
    projection: bool
    g_size: int | None
    recurrent_bias: bool = False


def sequence_mask(like: Tensor, p: float) -> Tensor:
    """An inverted-dropout mask of ``like``'s shape (B, features), drawn once and reused for every step of the
    sequence (Keras's RNN dropout; Gal & Ghahramani 2016)."""
    return torch.bernoulli(torch.full_like(like, 1 - p)).div_(1 - p)


class RecurrentNetwork(Architecture):
    """Shared wiring of the NFL-style networks; subclasses provide the recurrent core's step."""

    Config = RecurrentConfig
    citation = NFL_CITATION
    config: RecurrentConfig
    n_states = 1  # states carried between steps (2 for an LSTM)
    n_gates = 1  # input-kernel blocks per unit (4 for an LSTM, 3 for a GRU, 2 for a UGRNN)
    forget_block: int | None = None  # the LSTM forget gate's block (bias 1 under the Keras schemes)
    fused_kernel = False  # the two kernels are halves of one Keras kernel (NFL's UGRNN cell)
    supports_interventions = True
    recurrent_layer = "rnn"

    @property
    def wiring(self) -> Wiring:
        c = self.config
        return Wiring(c.bias, c.core_bias, c.input_projection, (c.g_size or c.hidden_size) if c.g_layer else None,
                      getattr(c, "recurrent_bias", False))

    def __init__(self, config, input_size, init_size, output_sizes) -> None:
        super().__init__(config, input_size, init_size, output_sizes)
        h, w = config.hidden_size, self.wiring
        self.act = ACTIVATIONS[config.activation]
        self.init_state = nn.Linear(init_size, h * self.n_states, bias=w.bias)
        self.projection = nn.Linear(input_size, h, bias=w.bias) if w.projection else None
        self.input_kernel = nn.Linear(h if w.projection else input_size, h * self.n_gates, bias=w.core_bias)
        self.recurrent_kernel = nn.Linear(h, h * self.n_gates, bias=w.recurrent_bias)
        self.g = nn.Linear(h, w.g_size, bias=w.bias) if w.g_size else None
        readout_in = w.g_size or h
        self.readouts = nn.ModuleList(nn.Linear(readout_in, n, bias=w.bias) for n in output_sizes)
        self.initialise(config.init)

    def initialise(self, scheme: str) -> None:
        """Redraw every weight under ``scheme`` (the architecture's config names it; see initialisation)."""
        initialisation.dense_(self.init_state, scheme, blocks=self.n_states)
        if self.projection is not None:
            initialisation.dense_(self.projection, scheme)
        initialisation.core_(self.input_kernel, self.recurrent_kernel, scheme, self.config.hidden_size,
                             forget_block=self.forget_block, fused=self.fused_kernel,
                             recurrent_bias=self.recurrent_kernel.bias)
        for layer in ([self.g] if self.g is not None else []) + list(self.readouts):
            initialisation.dense_(layer, scheme)

    @property
    def layers(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("rnn", "g") if self.g is not None else ("rnn",)

    @property
    def default_layer(self) -> str:  # type: ignore[override]
        return self.config.scored_layer or ("g" if self.g is not None else "rnn")

    def step(self, x: Tensor, state: tuple[Tensor, ...], fed_back: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One recurrent step from the projected input x (B, n_gates·H); ``fed_back`` is the state that enters the
        recurrent kernel (the state itself, or it under recurrent dropout). Returns (output h, new state)."""
        h = self.act(x + self.recurrent_kernel(fed_back))
        return h, (h,)

    def _fused(self, x: Tensor, h0: Tensor) -> Tensor | None:
        """The whole sequence through torch's fused RNN kernel, where it computes exactly what :meth:`step`
        does (a plain ReLU or tanh core): about 10 % faster on a CPU."""
        if type(self).step is not RecurrentNetwork.step or self.config.activation not in ("relu", "tanh"):
            return None
        kernel = torch.rnn_relu if self.config.activation == "relu" else torch.rnn_tanh
        params = [self.input_kernel.weight, self.recurrent_kernel.weight]
        if self.input_kernel.bias is not None:
            params += [self.input_kernel.bias, torch.zeros_like(self.input_kernel.bias)]
        out, _ = kernel(x, h0[None], params, self.input_kernel.bias is not None, 1, 0.0, False, False, True)
        return out

    def forward(
        self, velocity: Tensor, initial_code: Tensor, interventions: Mapping[str, Intervention] | None = None
    ) -> ArchitectureOutput:
        hidden, features = self._layers(velocity, initial_code, interventions)
        if self.training and self.config.readout_dropout > 0:
            features = nn.functional.dropout(features, self.config.readout_dropout, training=True)
        return ArchitectureOutput([readout(features) for readout in self.readouts], hidden)

    def hidden_states(self, velocity: Tensor, initial_code: Tensor,
                      interventions: Mapping[str, Intervention] | None = None) -> dict[str, Tensor]:
        return self._layers(velocity, initial_code, interventions)[0]

    def _layers(self, velocity: Tensor, initial_code: Tensor,
                interventions: Mapping[str, Intervention] | None) -> tuple[dict[str, Tensor], Tensor]:
        """Every hidden layer, and the features the readouts take (before readout dropout)."""
        c = self.config
        interventions = interventions or {}
        training = self.training
        state = tuple(self.init_state(initial_code).chunk(self.n_states, dim=-1))
        x = self.projection(velocity) if self.projection is not None else velocity
        if training and c.input_dropout > 0:
            x = x * sequence_mask(x[:, 0], c.input_dropout)[:, None]
        per_step = "rnn" in interventions or (training and (c.recurrent_dropout > 0 or c.state_noise > 0))
        rnn = None if per_step else self._fused(x, state[0])
        if rnn is None:
            projected = self.input_kernel(x)  # one matmul for the whole sequence
            fed_mask = sequence_mask(state[0], c.recurrent_dropout) if training and c.recurrent_dropout > 0 else None
            noise = c.state_noise if training else 0.0
            intervene = interventions.get("rnn")
            outputs = []
            for t in range(velocity.shape[1]):
                fed_back = state[0] * fed_mask if fed_mask is not None else state[0]
                h, state = self.step(projected[:, t], state, fed_back)
                if noise > 0:
                    h = h + noise * torch.randn_like(h)
                if intervene is not None:
                    h = intervene(h)
                if noise > 0 or intervene is not None:
                    state = (h, *state[1:])
                outputs.append(h)
            rnn = torch.stack(outputs, dim=1)
        hidden = {"rnn": rnn}
        features = rnn
        if self.g is not None:
            features = hidden["g"] = self.act(self.g(rnn))
            if "g" in interventions:
                features = hidden["g"] = interventions["g"](features)
        return hidden, features

    def regularization(self) -> Tensor:
        if self.config.recurrent_l2 == 0:
            return torch.zeros((), device=self.recurrent_kernel.weight.device)
        return self.config.recurrent_l2 * self.recurrent_kernel.weight.pow(2).sum()


class VanillaRNN(RecurrentNetwork):
    """NFL's ``RNN``: h_t = f(W_in v_t + W_hh h_{t−1}), no biases, no input projection, no g layer; the state is
    scored. Initial state E·p0; linear readout. (Sorscher's network with Keras's initialisation.)"""

    Config = RNNConfig
    summary = "NFL's RNN (Sorscher-style): bias-free, velocity straight into the core, state scored; Keras init."


class SimpleRNN(RecurrentNetwork):
    """NFL's ``SRNN`` (its ``VanillaRNN`` class): encoder, input projection M, bias-free SimpleRNN core, dense g
    layer with the activation (scored), readout; every dense layer with a bias."""

    Config = SRNNConfig
    summary = "NFL's SRNN: projection M, bias-free vanilla core, dense g layer (scored); Keras init."


class LSTM(RecurrentNetwork):
    """NFL's LSTM: two initial-state maps (h0, c0), input projection M, a Keras LSTM whose activation replaces
    tanh on the cell input and output (gates stay sigmoid; one bias, forget bias 1), dense g layer (scored)."""

    Config = RecurrentConfig
    summary = "NFL's LSTM: projection M, LSTM core (forget bias 1), dense g layer (scored); Keras init."
    n_states = 2
    n_gates = 4
    forget_block = 1  # gate order i, f, g, o (torch's and Keras's)

    def step(self, x: Tensor, state: tuple[Tensor, ...], fed_back: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        _, c = state
        i, f, g, o = (x + self.recurrent_kernel(fed_back)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * self.act(g)
        h = torch.sigmoid(o) * self.act(c)
        return h, (h, c)


class GRU(RecurrentNetwork):
    """NFL's GRU: a Keras GRU with ``reset_after=True`` (torch's GRU): r and z from the input and the state, the
    candidate f(W_x x + b_x + r·(W_h h + b_h)), h' = (1−z)·candidate + z·h; then the dense g layer (scored)."""

    Config = GRUConfig
    summary = "NFL's GRU (reset_after, recurrent bias): projection M, dense g layer (scored); Keras init."
    n_gates = 3

    def step(self, x: Tensor, state: tuple[Tensor, ...], fed_back: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        (h,) = state
        xr, xz, xn = x.chunk(3, dim=-1)
        hr, hz, hn = self.recurrent_kernel(fed_back).chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        h = (1 - z) * self.act(xn + r * hn) + z * h
        return h, (h,)


class UGRNN(RecurrentNetwork):
    """The update-gate RNN of Collins et al. (2017) as NFL's cell computes it: from [x, h] one gate g and one
    candidate c, g = σ(g_act + 1), h' = g·h + (1 − g)·f(c); then the dense g layer (scored)."""

    Config = UGRNNConfig
    citation = UGRNN_CITATION
    summary = "UGRNN (Collins et al. 2017) as in NFL: gate bias +1, projection M, dense g layer (scored); Keras init."
    n_gates = 2
    fused_kernel = True  # NFL's cell has one Glorot kernel over [x, h]

    def step(self, x: Tensor, state: tuple[Tensor, ...], fed_back: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        (h,) = state
        gate, candidate = (x + self.recurrent_kernel(fed_back)).chunk(2, dim=-1)
        g = torch.sigmoid(gate + 1.0)
        h = g * h + (1 - g) * self.act(candidate)
        return h, (h,)

    def regularization(self) -> Tensor:
        c = self.config
        if c.recurrent_l2 == 0:
            return torch.zeros((), device=self.recurrent_kernel.weight.device)
        if c.l2_on == "bias" and self.input_kernel.bias is not None:
            return c.recurrent_l2 * self.input_kernel.bias.pow(2).sum()
        return c.recurrent_l2 * self.recurrent_kernel.weight.pow(2).sum()
