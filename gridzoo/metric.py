"""The metric interface: scores an evaluation rollout and returns named numbers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from torch import Tensor

from gridzoo.analysis.ratemaps import RateMaps, rate_maps
from gridzoo.component import Component, ComponentConfig
from gridzoo.encoder import TargetEncoder
from gridzoo.environment import Environment, Trajectories
from gridzoo.errors import GridzooError

@dataclass
class Rollout:
    """A trained (or untrained) network run over evaluation trajectories, with the components that made it.

    ``rate_maps()`` gives the rate maps of a layer, computed once per (layer, bins, smoothing) and shared by every
    metric: from ``analysis`` (a :class:`gridzoo.analysis_set.AnalysisSet`: many trajectories, with null maps,
    untrained networks and independent trajectory sets) when the evaluator provides one, else from this batch.
    ``model`` is the network itself, for metrics that run it again (e.g. with units ablated)."""

    trajectories: Trajectories
    outputs: list[Tensor]  # one per encoder, (B, T, size)
    hidden: dict[str, Tensor]  # layer -> (B, T, units)
    encoders: Sequence[TargetEncoder]
    environment: Environment
    default_layer: str = ""
    analysis: Any = None
    model: Any = None
    _cache: dict = field(default_factory=dict, repr=False)

    def layer(self, name: str | None = None) -> str:
        """The layer called ``name`` (default: the architecture's scored layer), checked to exist."""
        name = name or self.default_layer or next(iter(self.hidden))
        if name not in self.hidden:
            raise GridzooError(f"no layer {name!r} in this network; its layers are: {', '.join(self.hidden)}")
        return name

    def rate_maps(self, layer: str | None = None, bins: int = 20, smoothing: float = 0.0) -> RateMaps:
        key = ("rate_maps", self.layer(layer), bins, smoothing)
        if key not in self._cache:
            if self.analysis is not None:
                self._cache[key] = self.analysis.rate_maps(key[1], bins, smoothing)
            else:
                positions = self.trajectories.position.reshape(-1, self.trajectories.position.shape[-1])
                acts = self.hidden[key[1]].reshape(positions.shape[0], -1)
                self._cache[key] = rate_maps(positions, acts, self.environment.bounds, bins, smoothing)
        return self._cache[key]

    def cached(self, key: tuple, compute: Callable[[], object]) -> object:
        """Share an expensive intermediate (e.g. grid scores) between metrics of one evaluation."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


class Metric(Component, ABC):
    """Scores a rollout. Returned names are prefixed with nothing; keep them short and unit-suffixed
    (``decoding_error_cm``)."""

    def __init__(self, config: ComponentConfig) -> None:
        self.config = config

    @classmethod
    def check_experiment(cls, experiment: Any, config: ComponentConfig, section: str) -> None:
        """Raise :class:`~gridzoo.errors.IncompatibleComponentsError` if this metric could measure nothing in
        ``experiment`` (checked before training starts); accept everything by default."""

    @abstractmethod
    def compute(self, rollout: Rollout) -> dict[str, float]:
        """Named values for this rollout."""

    def figures(self, rollout: Rollout, values: dict[str, float], out_dir: Path) -> list[Path]:
        """Draw this metric's figures for the rollout just scored into ``out_dir``; none by default."""
        return []
