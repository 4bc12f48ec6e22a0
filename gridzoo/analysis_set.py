"""Analysis trajectory sets: a network rolled out over many trajectories, turned into rate maps and null maps.

An :class:`AnalysisSet` is a network plus a fixed set of analysis trajectories (a seed stream of their own, so
every evaluation of a run sees the same ones; ``analysis_seed`` picks an independent set). From it metrics get:

- rate maps of any layer at any bin count (one pass over the trajectories per bin count, all layers at once,
  accumulated per bin without keeping activations);
- **temporal-shift null maps**: the trajectories concatenated into one stream and each unit's activity shifted
  circularly against position by a random lag of at least ``min_lag`` trajectories (the shuffle neuroscience uses
  for recorded cells: spatial structure is destroyed, the activity's own statistics are kept);
- the same analysis for **independent trajectory sets** (to check that a result is not a property of one set);
- the same analysis for **untrained networks** (the null of an architecture): number 0 is the untrained network
  of the run's own seed, on the run's own trajectories; numbers 1, 2, ... are untrained networks of other weight
  seeds (training seeds 10,000,000 + k, chosen not to collide with anyone's training seeds), each walking
  trajectories of its own seed, as many as the run's. So their null is a property of the architecture and the
  analysis settings alone, the same for every run that shares them, and is cached as such.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from gridzoo.analysis.ratemaps import RateMapAccumulator, RateMaps
from gridzoo.config import Experiment
from gridzoo.environment import Trajectories
from gridzoo.model import PathIntegrator, build_model
from gridzoo.seeding import Stream, generator

ANALYSIS_BATCH = 500
NULL_SEED_BASE = 10_000_000


@dataclass
class AnalysisSet:
    experiment: Experiment
    model: PathIntegrator
    samples: int
    device: Any = "cpu"
    analysis_seed: int = 0
    _batches: list[Trajectories] | None = field(default=None, repr=False)
    _maps: dict = field(default_factory=dict, repr=False)
    _derived: dict = field(default_factory=dict, repr=False)

    @property
    def seq_len(self) -> int:
        return self.experiment.training.eval_seq_len or self.experiment.training.seq_len

    def batches(self) -> list[Trajectories]:
        if self._batches is None:
            count = max(1, math.ceil(self.samples / (ANALYSIS_BATCH * self.seq_len)))
            env, seed = self.model.environment, self.experiment.training.seed
            self._batches = [
                env.sample(ANALYSIS_BATCH, self.seq_len, device=self.device,
                           generator=generator(seed, Stream.ANALYSIS, self.analysis_seed, i, device=self.device))
                for i in range(count)
            ]
        return self._batches

    def _hidden(self):
        for traj in self.batches():
            yield traj, self.model.hidden_rollout(traj)

    def activity(self, layer: str):
        """(positions (N, D), activations (N, units)) of ``layer``, batch by batch."""
        for traj, hidden in self._hidden():
            yield traj.position.reshape(-1, traj.position.shape[-1]), hidden[layer].reshape(-1, hidden[layer].shape[-1])

    def rate_maps(self, layer: str, bins: int, smoothing: float = 0.0) -> RateMaps:
        if bins not in self._maps:
            accs: dict[str, RateMapAccumulator] = {}
            for traj, hidden in self._hidden():
                positions = traj.position.reshape(-1, traj.position.shape[-1])
                for name, acts in hidden.items():
                    accs.setdefault(name, RateMapAccumulator(self.model.environment.bounds, bins)).update(
                        positions, acts.reshape(-1, acts.shape[-1]))
            self._maps[bins] = accs
        return self._maps[bins][layer].result(smoothing)

    def shifted_rate_maps(self, layer: str, bins: int, smoothing: float = 0.0, repeats: int = 5,
                          min_lag: int = 10, seed: int = 0) -> RateMaps:
        """``repeats`` temporal-shift null maps of every unit, stacked (repeats·units, N, N): activity shifted
        against position by lags of at least ``min_lag`` trajectories along the concatenated stream."""
        key = ("shift", layer, bins, smoothing, repeats, min_lag, seed)
        if key not in self._derived:
            batches = self.batches()
            positions = torch.cat([t.position.reshape(-1, t.position.shape[-1]) for t in batches])
            total, lag_min = len(positions), min_lag * self.seq_len
            if total <= 2 * lag_min:
                lag_min = max(1, total // 4)
            g = torch.Generator().manual_seed(seed)
            lags = torch.randint(lag_min, total - lag_min + 1, (repeats,), generator=g).tolist()
            accs = [RateMapAccumulator(self.model.environment.bounds, bins) for _ in lags]
            offset = 0
            for traj, hidden in self._hidden():
                acts = hidden[layer].reshape(-1, hidden[layer].shape[-1])
                index = torch.arange(offset, offset + len(acts), device=positions.device)
                for acc, lag in zip(accs, lags):
                    acc.update(positions[(index + lag) % total], acts)
                offset += len(acts)
            parts = [acc.result(smoothing) for acc in accs]
            import numpy as np

            self._derived[key] = RateMaps(np.concatenate([p.maps for p in parts]), parts[0].occupancy, parts[0].bounds)
        return self._derived[key]

    def independent(self, k: int) -> "AnalysisSet":
        """The same network on an independent set of analysis trajectories (k = 1, 2, ...)."""
        key = ("independent", k)
        if key not in self._derived:
            self._derived[key] = AnalysisSet(self.experiment, self.model, self.samples, self.device,
                                              analysis_seed=self.analysis_seed + 7919 * k)
        return self._derived[key]

    def null_network(self, k: int) -> "AnalysisSet":
        """An untrained network: k = 0 the run's own seed on the run's trajectories; k >= 1 another weight seed,
        on trajectories of that seed (as many as the run's)."""
        key = ("null", k)
        if key not in self._derived:
            experiment = self.experiment if k == 0 else _with_seed(self.experiment, NULL_SEED_BASE + k)
            untrained = build_model(experiment).to(self.device)
            self._derived[key] = AnalysisSet(experiment, untrained, self.samples, self.device, self.analysis_seed,
                                              _batches=self.batches() if k == 0 else None)
        return self._derived[key]

    @property
    def null_key(self) -> str:
        """Identifies the untrained-network null (k >= 1): the architecture, encoders and environment, the number
        and length of the analysis trajectories and the analysis seed; not the run's own seed, its training
        settings or any component field marked training-only (dropout, state noise, weight penalties), on which
        those networks in evaluation mode and their trajectories do not depend."""
        e = self.experiment
        data = {
            "environment": _identity(e.environment),
            "encoder": [_identity(c) for c in e.encoders] if len(e.encoders) > 1 else _identity(e.encoders[0]),
            "architecture": _identity(e.architecture),
        }
        text = json.dumps([data, self.samples, self.seq_len, self.analysis_seed], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _identity(component) -> dict[str, Any]:
    """A component's config without its training-only fields."""
    skip = type(component.config).training_only_fields()
    return {k: v for k, v in component.as_dict().items() if k not in skip}


def _with_seed(experiment: Experiment, seed: int) -> Experiment:
    from dataclasses import replace

    return replace(experiment, training=experiment.training.model_copy(update={"seed": seed}))
