"""Place-cell target codes: cells with centres uniform in the arena, tuned to distance.

Centres are drawn once from the experiment's seed and registered as a buffer, so they are saved with the
weights. Positions are decoded as the mean centre of the ``decode_top_k`` most active cells (k = 3, as in
Sorscher et al. and Schaeffer et al.).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field
from torch import Tensor

from gridzoo.component import ComponentConfig
from gridzoo.encoder import TargetEncoder

from gridzoo_builtin.encoders.losses import mse, soft_cross_entropy


class GaussianConfig(ComponentConfig):
    n_cells: int = Field(512, gt=0, description="Number of place cells (Np).")
    sigma: float = Field(0.12, gt=0, description="Tuning width σ in metres: response ∝ exp(−d²/2σ²).")
    normalization: Literal["softmax", "none"] = Field(
        "softmax",
        description="'softmax' over cells (Sorscher's 'global' normalisation, trained with cross-entropy) or "
        "'none' (raw Gaussians, trained with MSE).",
    )
    decode_top_k: int = Field(3, gt=0, description="Decode as the mean centre of the k most active cells.")


class PlaceCellEncoder(TargetEncoder):
    """Shared machinery of place-cell codes: centres, distances, decoding, loss by normalisation."""

    config: GaussianConfig

    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        centres = environment.sample_positions(config.n_cells, generator=generator)
        self.register_buffer("centres", centres)

    @property
    def size(self) -> int:
        return self.config.n_cells

    def squared_distance(self, position: Tensor) -> Tensor:
        """Squared distance from each position (..., 2) to each centre: (..., n_cells); wraps if periodic."""
        return self.environment.displacement(position, self.centres).pow(2).sum(dim=-1)

    @property
    def normalized(self) -> bool:
        return self.config.normalization == "softmax"

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return soft_cross_entropy(output, target) if self.normalized else mse(output, target)

    def decode(self, output: Tensor) -> Tensor:
        k = min(self.config.decode_top_k, self.size)
        top = output.topk(k, dim=-1).indices
        return self.centres[top].mean(dim=-2)


class GaussianPlaceCells(PlaceCellEncoder):
    """Gaussian place cells, softmax-normalised over cells (default) or raw."""

    Config = GaussianConfig
    summary = "Gaussian place cells (softmax-normalised or raw), cross-entropy, top-3 centre decoding."
    citation = (
        "Sorscher, Mel, Ganguli & Ocko (2019), NeurIPS 32; Schaeffer, Khona & Fiete (2022), NeurIPS 35."
    )

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        logits = -self.squared_distance(position) / (2 * self.config.sigma**2)
        return torch.softmax(logits, dim=-1) if self.normalized else torch.exp(logits)
