"""Configs of the built-in metrics (no torch imported here; see ``gridzoo.configs`` entry points)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gridzoo.component import ComponentConfig


class DecodingErrorConfig(ComponentConfig):
    encoder: int | None = Field(
        None, ge=0, description="Index of the encoder to decode; default: the first one that decodes positions."
    )



class GridCellsConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer to score; default: the architecture's scored layer.")
    bins: int = Field(44, ge=5, description="Bins per side of the rate maps (NFL: 44 of 5 cm; also 20, 32).")
    smoothing: float = Field(0.0, ge=0, description="Gaussian smoothing of rate maps, in bins (0: none).")
    variant: Literal["mean_diff", "min_max"] = Field(
        "min_max",
        description="60° score: 'min_max' = min(r60, r120) − max(r30, r90, r150) (Sargolini; NFL) or "
        "'mean_diff' = (r60 + r120)/2 − (r30 + r90 + r150)/3 (Banino's default).",
    )
    nan_policy: Literal["zero", "exclude"] = Field(
        "zero", description="Unvisited bins in the autocorrelogram: 'zero' (the reference) or 'exclude'."
    )
    units: int | None = Field(None, gt=0, description="Score only the first N units of the layer (all if unset).")
    thresholds: tuple[float, ...] = Field((0.3, 0.8, 1.15), description="Fixed score_60 thresholds to report.")
    null: Literal["both", "untrained", "shuffled", "none"] = Field(
        "both", description="Null baselines: the untrained network of the same seed, shuffled rate maps, or both."
    )
    null_quantile: float = Field(0.95, gt=0, lt=1, description="Quantile of the null scores used as a threshold.")
    seed: int = Field(0, ge=0, description="Seed of the spatial shuffles.")
    grid_threshold: float = Field(
        0.3, description="Units count as grid cells (for periods and modules) above max(null threshold, this)."
    )
    module_tolerance: float = Field(0.2, gt=0, description="Log-period distance that separates modules (~20 %).")
    module_orientation_weight: float = Field(
        0.0, ge=0, description="Weight of orientation (per degree) against log-period when clustering; 0: period only "
        "(orientation from a few peaks is noisy in small arenas and splits modules)."
    )
    module_min_units: int = Field(3, ge=1, description="A module needs at least this many grid cells...")
    module_min_fraction: float = Field(0.1, ge=0, le=1, description="...and at least this fraction of them.")



class SpatialInformationConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer to analyse; default: the architecture's scored layer.")
    bins: int = Field(44, ge=2, description="Bins per side of the rate maps.")
