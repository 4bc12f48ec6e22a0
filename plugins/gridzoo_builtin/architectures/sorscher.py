"""The RNN of Sorscher, Mel, Ganguli & Ocko (2019; Neuron 2023), as in ganguli-lab/grid-pattern-formation.

    h0  = W_enc · p0                         (Linear Np → Ng, no bias; p0 the start position's place code)
    h_t = ReLU(W_ih v_t + W_hh h_{t−1})      (nn.RNN, ReLU, no biases)
    ŷ_t = W_dec · h_t                        (Linear Ng → Np, no bias; logits of the place-cell code)
    loss = cross-entropy(softmax(ŷ), y) + λ·ΣW_hh²   (λ = 1e-4, recurrent weights only)

Training (the sorscher2019 preset): Adam lr 1e-4, batch 200, 20 steps, no gradient clipping, DoS targets with
Np = 512, σ = 0.12 m, s = 2 (variance ratio). The scored layer is the RNN state h ("rnn").

Initialisation (``init = "torch_rnn"``) is the reference's: ``nn.RNN`` draws *every* core weight, the input
weights included, from U(±1/√Ng), and the encoder and decoder are ``nn.Linear`` (U(±1/√fan_in)). (gridzoo 0.1
drew the input weights as an ``nn.Linear(2, Ng)``, U(±1/√2): 45× the reference's std at Ng = 4096; see
docs/experiments/sorscher-init for what that changed.) The core runs through torch's fused RNN kernel when no
per-step feature (noise, recurrent dropout, an intervention) is active, as the reference's ``nn.RNN`` does.

Deviations from the reference code: it runs every forward pass twice and takes log(softmax(·)) in two steps;
here one pass per step and a fused log-softmax give the same values.
"""

from __future__ import annotations

from gridzoo_builtin.architectures.configs import SorscherConfig
from gridzoo_builtin.architectures.recurrent import RecurrentNetwork, Wiring

SORSCHER = (
    "Sorscher, Mel, Ganguli & Ocko (2019). A unified theory for the origin of grid cells through the lens of "
    "pattern formation. NeurIPS 32; Sorscher, Mel, Ocko, Giocomo & Ganguli (2023). A unified theory for the "
    "computational and mechanistic origins of grid cells. Neuron 111(1), 121-137."
)


class SorscherRNN(RecurrentNetwork):
    """Sorscher et al.'s bias-free ReLU RNN with linear encoder and decoder and an L2 penalty on W_hh."""

    Config = SorscherConfig
    summary = "Sorscher et al. 2019: bias-free ReLU RNN (4096), linear h0 and readout, 1e-4·ΣW_hh²; nn.RNN init."
    citation = SORSCHER

    @property
    def wiring(self) -> Wiring:
        return Wiring(bias=False, core_bias=False, projection=False, g_size=None)

    @property
    def default_layer(self) -> str:  # type: ignore[override]
        return "rnn"
