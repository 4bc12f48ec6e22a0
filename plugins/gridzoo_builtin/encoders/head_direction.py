"""Head-direction cells as in Banino et al. (2018)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gridzoo.encoder import TargetEncoder

from gridzoo_builtin.encoders.configs import HeadDirectionConfig
from gridzoo_builtin.encoders.losses import soft_cross_entropy


class HeadDirectionCells(TargetEncoder):
    """Head-direction cells with preferred directions μ uniform in (−π, π]; targets are the softmax over cells
    of the von Mises log-density κ·cos(θ − μ); trained with cross-entropy. It encodes heading, not position,
    so it does not decode positions: pair it with a place-cell encoder (as Banino et al.)."""

    Config = HeadDirectionConfig
    summary = "Head-direction cells (von Mises, softmax over cells), cross-entropy; Banino et al. 2018."
    citation = (
        "Banino et al. (2018). Vector-based navigation using grid-like representations in artificial agents. "
        "Nature 557, 429-433."
    )
    decodes_position = False
    config: HeadDirectionConfig

    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        # Banino draws them uniformly at random, like place-cell centres.
        preferred = math.pi - 2 * math.pi * torch.rand(config.n_cells, generator=generator)  # (−π, π]
        self.register_buffer("preferred", preferred)

    @property
    def size(self) -> int:
        return self.config.n_cells

    @classmethod
    def size_for(cls, config, environment) -> int:
        return config.n_cells

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        logits = self.config.concentration * torch.cos(heading.unsqueeze(-1) - self.preferred)
        return torch.softmax(logits, dim=-1)

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return soft_cross_entropy(output, target)

