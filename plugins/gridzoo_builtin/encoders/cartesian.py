"""Cartesian target: the network reads out (x, y) directly."""

from __future__ import annotations

from torch import Tensor

from gridzoo.component import ComponentConfig
from gridzoo.encoder import TargetEncoder

from gridzoo_builtin.encoders.losses import mse


class CartesianConfig(ComponentConfig):
    pass


class CartesianEncoder(TargetEncoder):
    """Position as (x, y) in metres, trained with mean squared error; decoding is the identity.

    Schaeffer, Khona & Fiete (2022) use it as a supervised target under which grid cells do not appear."""

    Config = CartesianConfig
    summary = "Cartesian (x, y) target with MSE loss; decodes as the identity."
    citation = (
        "Schaeffer, Khona & Fiete (2022). No Free Lunch from Deep Learning in Neuroscience: A Case Study "
        "through Models of the Entorhinal-Hippocampal Circuit. NeurIPS 35."
    )

    @property
    def size(self) -> int:
        return 2

    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        return position

    def decode(self, output: Tensor) -> Tensor:
        return output

    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        return mse(output, target)
