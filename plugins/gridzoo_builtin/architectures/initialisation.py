"""Initialisation schemes of the papers' code, applied layer by layer.

Each scheme says how to draw a layer's weights from its role in the network:

| role | glorot_uniform (NFL) | orthogonal (Keras defaults) | torch | torch_rnn (Sorscher) | sonnet (Banino) |
|---|---|---|---|---|---|
| dense kernel | Glorot U(±√(6/(fan_in+fan_out))) | Glorot | U(±1/√fan_in) | U(±1/√fan_in) | TN(0, 1/√fan_in) |
| dense bias | 0 | 0 | U(±1/√fan_in) | U(±1/√fan_in) | 0 |
| core input kernel | Glorot over (in, gates·H) | Glorot | U(±1/√in) | U(±1/√H) | TN(0, 1/√(in+H)) |
| core recurrent kernel | Glorot over (H, gates·H) | orthogonal | U(±1/√H) | U(±1/√H) | TN(0, 1/√(in+H)) |
| core bias | 0 (LSTM forget 1) | 0 (LSTM forget 1) | U(±1/√in) | U(±1/√H) | TN(0, 1/√(in+H)), forget +1 |

Keras computes a kernel's fans from its (in, out) shape, so an LSTM kernel's fan_out is 4H and each of NFL's two
initial-state encoders has fan_out H. TN is a normal truncated at two standard deviations (TensorFlow's
``truncated_normal_initializer``). torch's nn.Linear default is kaiming_uniform(a=√5), i.e. U(±1/√fan_in).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def glorot_uniform_(weight: Tensor, fan_in: int, fan_out: int) -> Tensor:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        return weight.uniform_(-limit, limit)


def uniform_(tensor: Tensor, bound: float) -> Tensor:
    with torch.no_grad():
        return tensor.uniform_(-bound, bound)


def truncated_normal_(tensor: Tensor, std: float) -> Tensor:
    """TensorFlow's truncated_normal_initializer: N(0, std²) redrawn outside ±2 std."""
    with torch.no_grad():
        return nn.init.trunc_normal_(tensor, mean=0.0, std=std, a=-2 * std, b=2 * std)


def orthogonal_(weight: Tensor) -> Tensor:
    with torch.no_grad():
        return nn.init.orthogonal_(weight)


def dense_(layer: nn.Linear, scheme: str, blocks: int = 1) -> None:
    """A dense layer (out, in) in torch's layout, as ``blocks`` Keras Dense layers stacked along the output (e.g.
    NFL's two initial-state encoders of an LSTM held in one torch layer)."""
    out_features, in_features = layer.weight.shape
    per_block = out_features // blocks
    if scheme in ("glorot_uniform", "orthogonal"):
        for block in layer.weight.split(per_block, dim=0):
            glorot_uniform_(block, in_features, per_block)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    elif scheme == "sonnet":
        truncated_normal_(layer.weight, 1 / math.sqrt(in_features))
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    elif scheme in ("torch", "torch_rnn"):
        bound = 1 / math.sqrt(in_features)
        uniform_(layer.weight, bound)
        if layer.bias is not None:
            uniform_(layer.bias, bound)
    else:  # pragma: no cover - the configs' Literal prevents it
        raise ValueError(f"unknown initialisation {scheme!r}")


def core_(
    input_kernel: nn.Linear,
    recurrent_kernel: nn.Linear,
    scheme: str,
    hidden: int,
    *,
    forget_block: int | None = None,
    fused: bool = False,
    recurrent_bias: Tensor | None = None,
) -> None:
    """A recurrent core: input kernel (gates·H, in) with the core's bias, recurrent kernel (gates·H, H).

    ``forget_block``: index of the LSTM forget gate's block in the gate order (its bias starts at 1 under the
    Keras schemes, as ``unit_forget_bias``). ``fused``: the two kernels are halves of one Keras kernel over
    [input, state] (NFL's UGRNN cell), so Glorot's fan_in is in + H and fan_out the gates' width."""
    gates_h, in_features = input_kernel.weight.shape
    bias = input_kernel.bias
    if scheme in ("glorot_uniform", "orthogonal"):
        if fused:
            fan_in = in_features + hidden
            glorot_uniform_(input_kernel.weight, fan_in, gates_h)
            glorot_uniform_(recurrent_kernel.weight, fan_in, gates_h)
        else:
            glorot_uniform_(input_kernel.weight, in_features, gates_h)
            if scheme == "orthogonal":
                orthogonal_(recurrent_kernel.weight)
            else:
                glorot_uniform_(recurrent_kernel.weight, hidden, gates_h)
        for b in (bias, recurrent_bias):
            if b is not None:
                nn.init.zeros_(b)
        if bias is not None and forget_block is not None:
            with torch.no_grad():
                bias[forget_block * hidden:(forget_block + 1) * hidden] = 1.0
    elif scheme == "torch":
        uniform_(input_kernel.weight, 1 / math.sqrt(in_features))
        uniform_(recurrent_kernel.weight, 1 / math.sqrt(hidden))
        for b in (bias, recurrent_bias):
            if b is not None:
                uniform_(b, 1 / math.sqrt(in_features))
    elif scheme == "torch_rnn":
        for t in (input_kernel.weight, recurrent_kernel.weight, bias, recurrent_bias):
            if t is not None:
                uniform_(t, 1 / math.sqrt(hidden))
    else:  # pragma: no cover
        raise ValueError(f"unknown initialisation {scheme!r}")
