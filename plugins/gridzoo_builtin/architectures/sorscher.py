"""The RNN of Sorscher, Mel, Ganguli & Ocko (2019; Neuron 2023), as in ganguli-lab/grid-pattern-formation.

    h0  = W_enc · p0                         (Linear Np → Ng, no bias; p0 the start position's place code)
    h_t = ReLU(W_ih v_t + W_hh h_{t−1})      (nn.RNN, ReLU, no biases)
    ŷ_t = W_dec · h_t                        (Linear Ng → Np, no bias; logits of the place-cell code)
    loss = cross-entropy(softmax(ŷ), y) + λ·ΣW_hh²   (λ = 1e-4, recurrent weights only)

Training (the sorscher2019 preset): Adam lr 1e-4, batch 200, 20 steps, no gradient clipping, DoS targets with
Np = 512, σ = 0.12 m, s = 2 (variance ratio). The scored layer is the RNN state h ("rnn").

Deviations from the reference code: it runs every forward pass twice and takes log(softmax(·)) in two steps;
here one pass per step and a fused log-softmax give the same values.
"""

from __future__ import annotations

from gridzoo_builtin.architectures.configs import SorscherConfig
from gridzoo_builtin.architectures.recurrent import RecurrentNetwork

SORSCHER = (
    "Sorscher, Mel, Ganguli & Ocko (2019). A unified theory for the origin of grid cells through the lens of "
    "pattern formation. NeurIPS 32; Sorscher, Mel, Ocko, Giocomo & Ganguli (2023). A unified theory for the "
    "computational and mechanistic origins of grid cells. Neuron 111(1), 121-137."
)


class SorscherRNN(RecurrentNetwork):
    """Sorscher et al.'s bias-free ReLU RNN with linear encoder and decoder and an L2 penalty on W_hh."""

    Config = SorscherConfig
    summary = "Sorscher et al. 2019: bias-free ReLU RNN (4096), linear h0 and readout, 1e-4·ΣW_hh²."
    citation = SORSCHER
