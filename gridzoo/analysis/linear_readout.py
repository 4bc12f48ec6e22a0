"""A decoder-independent measure of path integration: position read linearly from a hidden layer.

A target's own decoder can flatter or hide what a network knows (NFL's least-active rule for the true DoG decodes a
*perfect* output at 13-15 cm). A ridge regression from a layer's activations (and a constant) to position, fitted on
one set of trajectories and tested on another, asks the same question of every network in the same way. In a
periodic arena position is a point on a torus, so the regression targets each coordinate's (cos, sin) and the
estimate is their angle. The normal equations are accumulated batch by batch: memory is (units + 1)², whatever
the number of samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import torch
from torch import Tensor


@dataclass
class LinearReadout:
    """Ridge weights (units + 1, targets) and how to turn their output back into positions."""

    weights: Tensor
    low: Tensor
    size: Tensor
    periodic: bool
    mean_position: Tensor  # of the fitting samples: the chance-level answer in a bounded arena

    def predict(self, activity: Tensor) -> Tensor:
        out = _with_constant(activity) @ self.weights
        if not self.periodic:
            return out
        angles = torch.atan2(out[..., 1::2], out[..., 0::2])  # (..., D)
        return self.low + (angles % (2 * math.pi)) / (2 * math.pi) * self.size


def _with_constant(activity: Tensor) -> Tensor:
    return torch.cat([activity.double(), activity.new_ones(*activity.shape[:-1], 1, dtype=torch.float64)], -1)


def _targets(position: Tensor, low: Tensor, size: Tensor, periodic: bool) -> Tensor:
    position = position.double()
    if not periodic:
        return position
    phase = (position - low) / size * 2 * math.pi
    return torch.stack([phase.cos(), phase.sin()], -1).flatten(-2)  # (..., 2D): cos x, sin x, cos y, sin y


def fit_linear_readout(batches: Iterable[tuple[Tensor, Tensor]], low, size, periodic: bool,
                       ridge: float = 1e-4) -> LinearReadout:
    """Fit on (activity (N, units), position (N, D)) batches. ``ridge`` is relative to the mean diagonal of the
    activities' second-moment matrix (so it does not depend on their scale); the constant is not penalised."""
    xtx = xty = total = None
    count = 0
    low = torch.as_tensor(low, dtype=torch.float64)
    size = torch.as_tensor(size, dtype=torch.float64)
    for activity, position in batches:
        x = _with_constant(activity.reshape(-1, activity.shape[-1]))
        y = _targets(position.reshape(-1, position.shape[-1]), low, size, periodic)
        xtx = x.T @ x if xtx is None else xtx + x.T @ x
        xty = x.T @ y if xty is None else xty + x.T @ y
        flat = position.reshape(-1, position.shape[-1]).double()
        total = flat.sum(0) if total is None else total + flat.sum(0)
        count += len(flat)
    if xtx is None:
        raise ValueError("no samples to fit a linear readout on")
    units = xtx.shape[0] - 1
    penalty = ridge * float(xtx.diagonal()[:units].mean().clamp_min(1e-12))
    reg = torch.zeros_like(xtx)
    reg.diagonal()[:units] = penalty
    weights = torch.linalg.solve(xtx + reg, xty)
    return LinearReadout(weights, low, size, periodic, total / count)
