"""Decoding error: how far the position read from the network's output is from the true position."""

from __future__ import annotations

from gridzoo.errors import IncompatibleComponentsError
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import DecodingErrorConfig


class DecodingError(Metric):
    """Mean Euclidean distance, in cm, between decoded and true positions over every step of the rollout
    (the measure of Sorscher et al. 2019 and Schaeffer et al. 2022); periodic arenas measure it the short way."""

    Config = DecodingErrorConfig
    summary = "Mean distance between decoded and true position, in cm."
    config: DecodingErrorConfig

    @classmethod
    def check_experiment(cls, experiment, config, section) -> None:
        encoders = experiment.encoders
        if config.encoder is not None:
            if config.encoder >= len(encoders):
                raise IncompatibleComponentsError(
                    f"{section}.encoder = {config.encoder}, but the experiment has {len(encoders)} encoder(s); "
                    f"use an index from 0 to {len(encoders) - 1}"
                )
            chosen = [encoders[config.encoder]]
        else:
            chosen = list(encoders)
        if not any(e.cls.decodes_position for e in chosen):
            names = ", ".join(e.info.name for e in chosen)
            raise IncompatibleComponentsError(
                f"{section}: decoding_error needs an encoder that decodes positions, but {names} cannot; add a "
                "place-cell or Cartesian encoder, or remove the decoding_error metric"
            )

    def compute(self, rollout: Rollout) -> dict[str, float]:
        error = decoding_error_cm(rollout, self.config.encoder)
        return {} if error is None else {"decoding_error_cm": error}


def decoding_error_cm(rollout: Rollout, encoder: int | None = None) -> float | None:
    """Mean decoding error of a rollout in cm, from ``encoder`` (default: the first that decodes positions);
    None when no encoder decodes positions."""
    index = encoder
    if index is None:
        index = next((i for i, e in enumerate(rollout.encoders) if e.decodes_position), None)
        if index is None:
            return None
    decoded = rollout.encoders[index].decode(rollout.outputs[index])
    delta = rollout.environment.difference(decoded, rollout.trajectories.position)
    return float(delta.norm(dim=-1).mean() * 100)


def require_decoding_and_interventions(experiment, section: str, metric: str, acts: str) -> None:
    """Refuse, before training, an experiment in which a metric that decodes position from a network run with
    ``acts`` inside it (noise, silenced units, a kick) could measure nothing."""
    if not any(e.cls.decodes_position for e in experiment.encoders):
        raise IncompatibleComponentsError(f"{section}: {metric} measures decoding error, so it needs an encoder that "
                                          "decodes positions")
    if not getattr(experiment.architecture.cls, "supports_interventions", False):
        raise IncompatibleComponentsError(
            f"{section}: the architecture {experiment.architecture.info.name!r} does not support interventions "
            f"({acts} inside its forward pass)")
