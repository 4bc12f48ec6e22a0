"""The target-encoder interface: positions (and headings) in, training targets out, and back again."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn

from gridzoo.component import Component, ComponentConfig
from gridzoo.environment import Environment


class TargetEncoder(nn.Module, Component, ABC):
    """Turns positions (and headings) into targets and network outputs back into positions.

    Fixed parameters, such as place-cell centres, are registered as buffers so that they are saved with the
    model's weights. They are drawn from ``generator``, which the trainer seeds from the experiment's seed.
    """

    #: Whether :meth:`decode` gives positions (a head-direction code, for example, cannot).
    decodes_position: bool = True

    def __init__(
        self, config: ComponentConfig, environment: Environment, generator: torch.Generator | None = None
    ) -> None:
        nn.Module.__init__(self)
        self.config = config
        self.environment = environment

    @property
    @abstractmethod
    def size(self) -> int:
        """Number of network outputs (and target dimensions) this code needs."""

    @classmethod
    def size_for(cls, config: ComponentConfig, environment: Environment) -> int | None:
        """The :attr:`size` an encoder with ``config`` will have, known without building it (None if unknown).

        Lets gridzoo check that an experiment fits in memory before allocating anything; override it when
        the size follows from the config."""
        return None

    @abstractmethod
    def encode(self, position: Tensor, heading: Tensor) -> Tensor:
        """Targets for positions (..., 2) and headings (...): shape (..., size)."""

    @abstractmethod
    def loss(self, output: Tensor, target: Tensor) -> Tensor:
        """The default loss of this code (a scalar), e.g. cross-entropy for normalised codes."""

    def decode(self, output: Tensor) -> Tensor:
        """Positions (..., 2) read from network outputs (..., size)."""
        raise NotImplementedError(f"{type(self).__name__} does not decode positions")

    def initial_code(self, start_position: Tensor, start_heading: Tensor) -> Tensor:
        """The code of the start position, from which architectures compute their initial state."""
        return self.encode(start_position, start_heading)
