"""Losses shared by the built-in encoders."""

from __future__ import annotations

import torch
from torch import Tensor


def soft_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy between a target distribution and softmax(logits), averaged over all other axes."""
    return -(target * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def mse(output: Tensor, target: Tensor) -> Tensor:
    """Squared error summed over the code's dimensions, averaged over samples (as NFL's Cartesian loss)."""
    return (output - target).pow(2).sum(dim=-1).mean()
