"""Losses shared by the built-in encoders."""

from __future__ import annotations

import torch
from torch import Tensor


def soft_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy between a target distribution and softmax(logits), averaged over all other axes."""
    return -(target * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def mse(output: Tensor, target: Tensor) -> Tensor:
    """Squared error averaged over samples *and* the code's dimensions: NFL's ``tf.reduce_mean((x − y)²)``. (The
    weight decay added to the loss is weighed against this mean, so the scale matters; gridzoo 0.1 summed over
    dimensions, which made NFL's weight decay 2× weaker for (x, y) and 512× weaker for a 512-d code.)"""
    return (output - target).pow(2).mean()
