"""The architecture interface: a velocity sequence and an initial code in, one readout per target code out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from gridzoo.component import Component, ComponentConfig


@dataclass
class ArchitectureOutput:
    """What a forward pass returns: readouts (one per target encoder) and the analysable hidden layers."""

    outputs: list[Tensor]  # each (B, T, encoder.size)
    hidden: dict[str, Tensor]  # layer name -> (B, T, units)


class Architecture(nn.Module, Component, ABC):
    """A path-integrating network.

    ``input_size`` is the environment's velocity size, ``init_size`` the summed size of the encoders' initial
    codes, ``output_sizes`` one readout size per encoder. ``layers`` names the hidden layers that analyses may
    score; ``default_layer`` is the one the paper scored.
    """

    layers: tuple[str, ...] = ()
    default_layer: str = ""
    #: Whether ``forward`` accepts ``interventions``: layer name -> function applied to that layer's activations
    #: (at every step, inside the recurrence for recurrent layers), e.g. to ablate units or inject noise.
    supports_interventions: bool = False
    #: The layer carried between steps (an intervention on it propagates through time), if the architecture says.
    recurrent_layer: str | None = None

    def __init__(
        self, config: ComponentConfig, input_size: int, init_size: int, output_sizes: Sequence[int]
    ) -> None:
        nn.Module.__init__(self)
        self.config = config
        self.input_size = input_size
        self.init_size = init_size
        self.output_sizes = tuple(output_sizes)

    @abstractmethod
    def forward(self, velocity: Tensor, initial_code: Tensor) -> ArchitectureOutput:
        """Run the network over velocity (B, T, input_size) from initial_code (B, init_size).

        Architectures with ``supports_interventions`` also take ``interventions``: a mapping from layer name to a
        function applied to that layer's activations (B, units) at every step (or (B, T, units) for a layer
        outside the recurrence) before they are used further; robustness analyses ablate or perturb units this
        way. Stochastic regularisers (dropout, noise) act only in training mode."""

    def hidden_states(self, velocity: Tensor, initial_code: Tensor, interventions=None) -> dict[str, Tensor]:
        """The analysable layers alone, as ``forward(...).hidden`` has them: what rate maps and nulls need.

        The default runs :meth:`forward` and drops the readouts. An architecture whose readouts cost much (a place-
        cell readout is most of a small network's FLOPs) overrides this to skip them; it must return exactly
        what ``forward`` would (the built-ins are tested for it)."""
        if interventions:
            return self(velocity, initial_code, interventions=interventions).hidden
        return self(velocity, initial_code).hidden

    def regularization(self) -> Tensor:
        """A term added to the training loss (e.g. an L2 penalty on recurrent weights); zero by default."""
        return torch.zeros((), device=next(self.parameters()).device)
