"""Decoding error: how far the position read from the network's output is from the true position."""

from __future__ import annotations

from pydantic import Field

from gridzoo.component import ComponentConfig
from gridzoo.metric import Metric, Rollout


class DecodingErrorConfig(ComponentConfig):
    encoder: int | None = Field(
        None, ge=0, description="Index of the encoder to decode; default: the first one that decodes positions."
    )


class DecodingError(Metric):
    """Mean Euclidean distance, in cm, between decoded and true positions over every step of the rollout
    (the measure of Sorscher et al. 2019 and Schaeffer et al. 2022); periodic arenas measure it the short way."""

    Config = DecodingErrorConfig
    summary = "Mean distance between decoded and true position, in cm."
    config: DecodingErrorConfig

    def compute(self, rollout: Rollout) -> dict[str, float]:
        index = self.config.encoder
        if index is None:
            index = next((i for i, e in enumerate(rollout.encoders) if e.decodes_position), None)
            if index is None:
                return {}
        encoder = rollout.encoders[index]
        decoded = encoder.decode(rollout.outputs[index])
        delta = rollout.environment.difference(decoded, rollout.trajectories.position)
        return {"decoding_error_cm": float(delta.norm(dim=-1).mean() * 100)}
