"""Configs of the built-in metrics (no torch imported here; see ``gridzoo.configs`` entry points)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gridzoo.component import ComponentConfig


class DecodingErrorConfig(ComponentConfig):
    encoder: int | None = Field(
        None, ge=0, description="Index of the encoder to decode; default: the first one that decodes positions."
    )



class LinearReadoutConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer to read position from; default: the architecture's scored layer.")
    ridge: float = Field(1e-4, gt=0, description="Ridge penalty, relative to the mean variance of the activities.")
    fit_set: int = Field(1, ge=1, description="Which independent analysis set the readout is fitted on (it is tested "
                         "on the evaluation's own set).")


class GridCellsConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer to score; default: the architecture's scored layer.")
    bins: int = Field(44, ge=5, le=256, description="Bins per side of the rate maps (NFL: 44 of 5 cm; also 20, 32).")
    smoothing: float = Field(0.0, ge=0, description="Gaussian smoothing of rate maps, in bins (0: none).")
    variant: Literal["mean_diff", "min_max"] = Field(
        "min_max",
        description="60° score: 'min_max' = min(r60, r120) − max(r30, r90, r150) (Sargolini; NFL) or "
        "'mean_diff' = (r60 + r120)/2 − (r30 + r90 + r150)/3 (Banino's default).",
    )
    nan_policy: Literal["zero", "exclude"] = Field(
        "zero", description="Unvisited bins in the autocorrelogram: 'zero' (the reference) or 'exclude'."
    )
    arena_mask: bool = Field(
        True, description="Leave the bins beyond a non-square arena's walls out of the autocorrelograms (a box has "
        "none, so its scores are the reference's); false zero-fills them as the reference code would, which lets "
        "the arena's shape become structure in every unit's autocorrelogram.")
    units: int | None = Field(None, gt=0, description="Score only the first N units of the layer (all if unset).")
    thresholds: tuple[float, ...] = Field((0.3, 0.8, 1.15), description="Fixed score_60 thresholds to report.")
    nulls: tuple[Literal["shift", "untrained", "bins"], ...] = Field(
        ("shift", "untrained"),
        description="Per-unit nulls whose 95th percentile (null_quantile) is the unit threshold: 'shift' (activity "
        "shifted in time against position), 'untrained' (the untrained network of the run's seed), 'bins' (rate-map "
        "bins permuted; nearly trivial for smooth maps). The threshold is the largest of them.",
    )
    null_quantile: float = Field(0.95, gt=0, lt=1, description="Quantile of the per-unit null scores used as a threshold.")
    shift_repeats: int = Field(5, ge=1, description="Temporal shifts per unit in the 'shift' null.")
    shift_min_lag: int = Field(10, ge=1, description="Smallest shift, in analysis trajectories (of seq_len steps).")
    best_unit_null_seeds: int = Field(
        19, ge=0, description="Untrained networks (other weight seeds) whose best units form the best-unit null: a run "
        "has grid-like units when its best unit beats all of them (p <= 1/(n+1); 19 gives p <= 0.05). 0: off."
    )
    seed: int = Field(0, ge=0, description="Seed of the shuffles and shifts.")
    grid_threshold: float = Field(
        0.3, description="Units count as grid cells (for periods, fields and modules) above max(unit null, this)."
    )
    field_threshold: float = Field(0.3, gt=0, lt=1, description="A field is where a unit's rate exceeds this fraction of its range.")
    field_min_bins: int = Field(4, ge=1, description="Smallest field, in bins.")
    module_gap: float = Field(0.2, gt=0, description="Log-period gap that separates two modules (0.2: 22 % apart).")
    module_min_units: int = Field(3, ge=1, description="A module needs at least this many grid cells...")
    module_min_fraction: float = Field(0.1, ge=0, le=1, description="...and at least this fraction of them.")
    module_stability_sets: int = Field(
        3, ge=0, description="Independent analysis trajectory sets on which modules are found again; a module count is "
        "reported only when they all agree (else 'one broad distribution' with its spread). 0: no check, no count."
    )
    module_tolerance: float = Field(0.05, gt=0, description="Relative period difference allowed between the sets.")


class SpatialInformationConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer to analyse; default: the architecture's scored layer.")
    bins: int = Field(44, ge=2, description="Bins per side of the rate maps.")


class IsometryConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer whose population is analysed; default: the scored layer.")
    bins: int = Field(40, ge=8, le=128, description="Bins per side of the rate maps (one-bin steps are the moves).")
    smoothing: float = Field(1.0, ge=0, description="Gaussian smoothing of the rate maps, in bins.")


class TopologyConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer whose population is analysed; default: the scored layer.")
    units: list[int] | None = Field(None, description="Only these units (e.g. one module's); default: every unit.")
    max_points: int = Field(5000, ge=100, le=200_000, description="Time points taken from the analysis "
                            "trajectories (a random subset, seeded).")
    n_perm: int = Field(300, ge=50, le=2000, description="Points of the maxmin subsample persistence is computed "
                        "on (ripser's n_perm; cost grows steeply: 300 about 3 s to H2, 1000 minutes).")
    pca_dims: int = Field(6, ge=2, le=50, description="Principal components kept (Gardner et al.: 6).")
    shuffles: int = Field(5, ge=1, le=100, description="Time-shuffled copies in the null.")
    seed: int = Field(0, ge=0, description="Seed of the subset and the shuffles.")


class RobustnessConfig(ComponentConfig):
    noise_layer: str | None = Field(
        None, description="Layer that receives the noise at every step; default: the recurrent state (its noise "
        "propagates through time)."
    )
    noise_levels: tuple[float, ...] = Field(
        (0.0, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
        description="Noise std as multiples of the layer's activity std (over units and samples, noise-free run).",
    )
    ablation_layer: str | None = Field(None, description="Layer whose units are silenced; default: the scored layer.")
    ablation_fractions: tuple[float, ...] = Field(
        (0.0, 0.05, 0.1, 0.25, 0.5), description="Fractions of the active units to silence."
    )
    ablation_orders: tuple[Literal["random", "grid_high", "grid_low"], ...] = Field(
        ("random", "grid_high", "grid_low"),
        description="Which units go first: at random, highest 60° grid score first (as Banino et al. ablated "
        "grid-like units), lowest first.",
    )
    random_repeats: int = Field(5, ge=1, description="Random unit sets (and noise draws) averaged per point.")
    bins: int = Field(44, ge=5, le=256, description="Bins of the rate maps that rank units by grid score.")
    variant: Literal["mean_diff", "min_max"] = Field("min_max", description="60° score used to rank units.")
    seed: int = Field(0, ge=0, description="Seed of the noise and of the random unit sets.")


class ErrorCorrectionConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer that receives the noise and the perturbation; default: the "
                              "recurrent state (what is carried between steps).")
    length_multiplier: int = Field(15, ge=2, le=100, description="Rollouts this many times the training trajectory "
                                   "length (the issue's 10-25x: how the error grows far beyond what was trained).")
    batch: int = Field(100, ge=2, description="Trajectories per rollout.")
    noise_levels: tuple[float, ...] = Field(
        (0.0, 0.005, 0.01), description="Std of Gaussian noise added to the state at every step, in the layer's own "
        "(absolute) units: the same noise for every network, not scaled by its activity. (A trained nfl2022-dos-mini "
        "state has an activity std of about 0.05.)")
    perturbation: float = Field(0.05, gt=0, description="Std (absolute, per unit) of one kick given to the state at "
                                "perturb_at; recovery is measured after it, in a noise-free rollout.")
    perturb_at: int | None = Field(None, ge=1, description="Step of the kick; default: the training length.")
    seed: int = Field(0, ge=0, description="Seed of the trajectories, the noise and the kick.")


class GridCells3DConfig(ComponentConfig):
    layer: str | None = Field(None, description="Layer to score; default: the architecture's scored layer.")
    bins: int = Field(24, ge=5, le=64, description="Voxels per side of the 3-D rate maps (24: fields of a "
                      "0.45 m lattice in a 1.5 m cube are resolved; at 16 random fields look ordered).")
    smoothing: float = Field(1.0, ge=0, description="Gaussian smoothing of the rate maps, in voxels.")
    units: int | None = Field(None, gt=0, description="Score only the first N units of the layer (all if unset).")
    field_threshold: float = Field(0.3, gt=0, lt=1, description="A field is where a unit's rate exceeds this fraction of its range.")
    field_min_bins: int = Field(4, ge=1, description="Smallest field, in voxels.")
    null_quantile: float = Field(0.95, gt=0, lt=1, description="Quantile of the temporal-shift null used as the unit threshold.")
    shift_repeats: int = Field(3, ge=1, description="Temporal shifts per unit in the null.")
    shift_min_lag: int = Field(10, ge=1, description="Smallest shift, in analysis trajectories.")
    best_unit_null_seeds: int = Field(
        19, ge=0, description="Untrained networks whose best units form the best-unit null (p <= 1/(n+1)). 0: off."
    )
    arrangements: int = Field(99, ge=0, le=9999, description="Random hard-core field arrangements per unit in the "
                              "arrangement null (units with >= 7 fields, not columnar). 0: off (no verdicts).")
    seed: int = Field(0, ge=0, description="Seed of the shifts and of the arrangement null.")
