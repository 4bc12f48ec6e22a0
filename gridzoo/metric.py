"""The metric interface: scores an evaluation rollout and returns named numbers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

from torch import Tensor

from gridzoo.component import Component, ComponentConfig
from gridzoo.encoder import TargetEncoder
from gridzoo.environment import Environment, Trajectories


@dataclass
class Rollout:
    """A trained (or untrained) network run over evaluation trajectories, with the components that made it."""

    trajectories: Trajectories
    outputs: list[Tensor]  # one per encoder, (B, T, size)
    hidden: dict[str, Tensor]  # layer -> (B, T, units)
    encoders: Sequence[TargetEncoder]
    environment: Environment
    default_layer: str = ""


class Metric(Component, ABC):
    """Scores a rollout. Returned names are prefixed with nothing; keep them short and unit-suffixed
    (``decoding_error_cm``)."""

    def __init__(self, config: ComponentConfig) -> None:
        self.config = config

    @abstractmethod
    def compute(self, rollout: Rollout) -> dict[str, float]:
        """Named values for this rollout."""
