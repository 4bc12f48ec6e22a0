"""Spatial information (Skaggs et al. 1993) of a layer's units."""

from __future__ import annotations

import numpy as np
from gridzoo.analysis.geometry import spatial_information
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import SpatialInformationConfig


class SpatialInformation(Metric):
    """Skaggs spatial information, Σ p_i (λ_i/λ̄) log2(λ_i/λ̄) bits, of every unit; negative activations are
    clipped to 0 (it is defined for rates)."""

    Config = SpatialInformationConfig
    summary = "Skaggs spatial information (bits) of a layer's units; median and max."
    citation = "Skaggs, McNaughton, Gothard & Markus (1993). An information-theoretic approach to deciphering the hippocampal code. NeurIPS 5."
    config: SpatialInformationConfig

    def compute(self, rollout: Rollout) -> dict[str, float]:
        maps = rollout.rate_maps(self.config.layer, self.config.bins)
        info = spatial_information(maps.maps, maps.occupancy)
        return {"spatial_info_median_bits": float(np.median(info)), "spatial_info_max_bits": float(np.max(info))}
