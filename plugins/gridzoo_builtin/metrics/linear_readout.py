"""Path integration measured the same way for every network: position read linearly from its hidden layer."""

from __future__ import annotations

from gridzoo.analysis.linear_readout import fit_linear_readout
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import LinearReadoutConfig


class LinearReadout(Metric):
    """Ridge regression from a layer's activations to position, fitted on an independent set of analysis
    trajectories and tested on the evaluation's own: the mean distance in cm (``linear_error_cm``). Beside it, the
    same for the untrained network of the run's seed (``linear_error_untrained_cm``) and the error of always
    answering the mean position (``linear_error_chance_cm``). Independent of any target's decoder, so it compares
    networks trained on different targets; see :mod:`gridzoo.analysis.linear_readout`.

    Without an analysis set (the evaluations during training) it fits on the first half of the evaluation batch
    and tests on the second."""

    Config = LinearReadoutConfig
    summary = "Position decoded linearly (ridge) from the scored layer, fitted and tested on separate trajectories (cm)."
    config: LinearReadoutConfig

    def compute(self, rollout: Rollout) -> dict[str, float]:
        layer = rollout.layer(self.config.layer)
        env = rollout.environment
        b = env.bounds
        args = (b.low, b.sizes, env.periodic)
        analysis = rollout.analysis
        if analysis is None:
            half = rollout.trajectories.position.shape[0] // 2
            pos, act = rollout.trajectories.position, rollout.hidden[layer]
            fit, test = [(act[:half], pos[:half])], [(pos[half:].reshape(-1, pos.shape[-1]),
                                                     act[half:].reshape(-1, act.shape[-1]))]
            readout = fit_linear_readout(fit, *args, ridge=self.config.ridge)
            return {"linear_error_cm": self._error(readout, test, env)}
        fit_set = analysis.independent(self.config.fit_set)
        readout = fit_linear_readout(((a, p) for p, a in fit_set.activity(layer)), *args, ridge=self.config.ridge)
        untrained = analysis.null_network(0)
        readout0 = fit_linear_readout(((a, p) for p, a in untrained.independent(self.config.fit_set).activity(layer)),
                                      *args, ridge=self.config.ridge)
        values = {"linear_error_cm": self._error(readout, analysis.activity(layer), env),
                  "linear_error_untrained_cm": self._error(readout0, untrained.activity(layer), env)}
        if not env.periodic:
            values["linear_error_chance_cm"] = self._chance(readout.mean_position, analysis.activity(layer))
        return values

    @staticmethod
    def _error(readout, batches, env) -> float:
        total, count = 0.0, 0
        for position, activity in batches:
            delta = env.difference(readout.predict(activity), position.double())
            total += float(delta.norm(dim=-1).sum())
            count += len(position)
        return total / max(count, 1) * 100

    @staticmethod
    def _chance(mean, batches) -> float:
        total, count = 0.0, 0
        for position, _ in batches:
            total += float((position.double() - mean).norm(dim=-1).sum())
            count += len(position)
        return total / max(count, 1) * 100
