"""Cartesian target codes: (x, y) directly, (r, θ), or a random affine map of (x, y) to many dimensions.

Schaeffer, Khona & Fiete (2022) use all three as supervised targets under which grid cells do not appear.
None of them is defined on a periodic arena (a wrapped coordinate jumps), so they refuse one.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gridzoo.encoder import TargetEncoder
from gridzoo.errors import IncompatibleComponentsError

from gridzoo_builtin.encoders.configs import CartesianConfig, HighDimConfig, PolarConfig
from gridzoo_builtin.encoders.losses import mse

NFL = (
    "Schaeffer, Khona & Fiete (2022). No Free Lunch from Deep Learning in Neuroscience: A Case Study through "
    "Models of the Entorhinal-Hippocampal Circuit. NeurIPS 35."
)


class _SolidArenaEncoder(TargetEncoder):
    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        if environment.periodic:
            raise IncompatibleComponentsError(
                f"encoder {type(self).__name__} needs a solid arena: coordinates jump where a periodic arena "
                "wraps. Use a place-cell encoder (gaussian, dos, dog, sod), or set environment.periodic = false."
            )


class CartesianEncoder(_SolidArenaEncoder):
    """Position as coordinates in metres ((x, y), or (x, y, z) in a volume), trained with squared error; decoding
    is the identity."""

    Config = CartesianConfig
    summary = "Cartesian (x, y) target with MSE loss; decodes as the identity."
    citation = NFL

    @property
    def size(self) -> int:
        return self.environment.dimensions

    @classmethod
    def size_for(cls, config, environment) -> int:
        return environment.dimensions

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        return position

    def decode(self, output: Tensor) -> Tensor:
        return output

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return mse(output, target)


class PolarEncoder(_SolidArenaEncoder):
    """Position as (r, θ) about the arena's centre, θ = atan2(y, x), trained with the polar squared distance
    r₁² + r₂² − 2r₁r₂cos(θ₁ − θ₂) (the squared Euclidean distance between the two points).

    Deviation from the NFL code: it computes θ with atan, which folds the left half-plane onto the right (a
    defect); here atan2 gives the true angle in all four quadrants."""

    Config = PolarConfig
    summary = "Polar (r, θ) target (atan2) with the polar squared-distance loss."
    citation = NFL

    @property
    def size(self) -> int:
        return 2

    @classmethod
    def size_for(cls, config, environment) -> int:
        return 2

    def _centre(self, like: Tensor) -> Tensor:
        b = self.environment.bounds
        return like.new_tensor([(b.xmin + b.xmax) / 2, (b.ymin + b.ymax) / 2])

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        rel = position - self._centre(position)
        return torch.stack([rel.norm(dim=-1), torch.atan2(rel[..., 1], rel[..., 0])], dim=-1)

    def decode(self, output: Tensor) -> Tensor:
        r, theta = output[..., 0], output[..., 1]
        return torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=-1) + self._centre(output)

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        r1, t1, r2, t2 = output[..., 0], output[..., 1], target[..., 0], target[..., 1]
        return (r1**2 + r2**2 - 2 * r1 * r2 * torch.cos(t1 - t2)).mean()


class HighDimCartesianEncoder(_SolidArenaEncoder):
    """A fixed random affine map of the position to ``n_dims`` dimensions, W·p + b with W, b ~ U(−1, 1) as in NFL's
    code, trained with squared error and decoded with the pseudo-inverse of W (Schaeffer et al.'s
    "high-dimensional Cartesian")."""

    Config = HighDimConfig
    summary = "Random affine map of (x, y) to many dimensions; MSE; pseudo-inverse decoding."
    citation = NFL
    config: HighDimConfig

    def __init__(self, config, environment, generator: torch.Generator | None = None) -> None:
        super().__init__(config, environment, generator)
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        dims = environment.dimensions
        if config.distribution == "uniform":
            weight = 2 * torch.rand(config.n_dims, dims, generator=generator) - 1
            bias = 2 * torch.rand(config.n_dims, generator=generator) - 1
        else:
            weight = torch.randn(config.n_dims, dims, generator=generator)
            bias = torch.randn(config.n_dims, generator=generator)
        self.register_buffer("weight", weight)
        self.register_buffer("bias", bias)
        self.register_buffer("pinv", torch.linalg.pinv(weight))

    @property
    def size(self) -> int:
        return self.config.n_dims

    @classmethod
    def size_for(cls, config, environment) -> int:
        return config.n_dims

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        return position @ self.weight.T + self.bias

    def decode(self, output: Tensor) -> Tensor:
        return (output - self.bias) @ self.pinv.T

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return mse(output, target)
