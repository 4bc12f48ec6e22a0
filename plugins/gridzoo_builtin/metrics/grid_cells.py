"""Grid-cell analysis of a layer: grid scores with null baselines, period, orientation and modules.

Protocol of Schaeffer, Khona & Fiete (2022): rate maps per unit over evaluation rollouts, the 60° grid score of
every unit, the best unit's score, the fraction of units over fixed thresholds, and the grid period. Two things
are added that a fixed threshold needs to mean anything: the same scores for the untrained network of the same
seed and for spatially shuffled rate maps, whose 95th percentile is reported as a threshold beside 0.3, 0.8
and 1.15 (an untrained Sorscher-size RNN already puts about 21 % of its units over 0.3 at 20 bins).
"""

from __future__ import annotations

from pathlib import Path
import numpy as np

from gridzoo.analysis import figures
from gridzoo.analysis.geometry import grid_geometry, grid_modules
from gridzoo.analysis.gridscore import GridScores, grid_scores
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import GridCellsConfig

NFL = (
    "Schaeffer, Khona & Fiete (2022). No Free Lunch from Deep Learning in Neuroscience: A Case Study through "
    "Models of the Entorhinal-Hippocampal Circuit. NeurIPS 35."
)


class GridCells(Metric):
    """Grid scores (reference-exact), null baselines and thresholds, period (m), orientation and modules."""

    Config = GridCellsConfig
    summary = "Grid scores with untrained and shuffled nulls, thresholds, periods (m), orientation, modules."
    citation = NFL
    config: GridCellsConfig

    def _scores(self, maps: np.ndarray) -> GridScores:
        return grid_scores(maps, variant=self.config.variant, nan_policy=self.config.nan_policy)

    def _maps(self, rollout: Rollout):
        cfg = self.config
        maps = rollout.rate_maps(cfg.layer, cfg.bins, cfg.smoothing)
        return maps, maps.maps[: cfg.units] if cfg.units else maps.maps

    def compute(self, rollout: Rollout) -> dict[str, float]:
        cfg = self.config
        ratemaps, maps = self._maps(rollout)
        key = ("grid_scores", rollout.layer(cfg.layer), cfg.bins, cfg.smoothing, cfg.variant, cfg.nan_policy, cfg.units)
        scores: GridScores = rollout.cached(key, lambda: self._scores(maps))  # type: ignore[assignment]
        s60 = scores.score_60
        silent = silent_units(maps)
        active = ~silent
        values: dict[str, float] = {
            "n_units": float(len(s60)),
            # Silent units (constant rate maps, e.g. dead ReLUs) have no grid score of their own: the scorer gives
            # them 0. They count as not grid-like in the fractions, but not as anyone's best unit.
            "n_silent_units": float(silent.sum()),
            "score_60_max": float(np.max(s60[active])) if active.any() else float("nan"),
            "score_60_median": float(np.median(s60[active])) if active.any() else float("nan"),
            "score_90_max": float(np.max(scores.score_90[active])) if active.any() else float("nan"),
        }
        for t in cfg.thresholds:
            values[f"fraction_score_60_over_{t:g}"] = float(np.mean(s60 > t))
        nulls = {}
        if cfg.null in ("both", "untrained") and rollout.untrained is not None:
            untrained = rollout.untrained()
            umaps = untrained.rate_maps(cfg.layer, cfg.bins, cfg.smoothing).maps
            nulls["untrained"] = self._scores(umaps[: cfg.units] if cfg.units else umaps).score_60
            values["untrained_score_60_max"] = float(np.max(nulls["untrained"]))
            for t in cfg.thresholds:
                values[f"untrained_fraction_score_60_over_{t:g}"] = float(np.mean(nulls["untrained"] > t))
        if cfg.null in ("both", "shuffled"):
            nulls["shuffled"] = self._scores(shuffle_maps(maps, cfg.seed)).score_60
        threshold = None
        if nulls:
            # A unit must beat every null: the largest of their quantiles.
            threshold = max(float(np.quantile(v, cfg.null_quantile)) for v in nulls.values())
            values["null_threshold_60"] = threshold
            values["fraction_score_60_over_null"] = float(np.mean(s60 > threshold))
        geometry = grid_geometry(scores.sac, ratemaps.bin_size)
        gridlike = active & (s60 > max(cfg.grid_threshold, threshold if threshold is not None else -np.inf))
        periods = geometry.period[gridlike]
        values["n_grid_units"] = float(gridlike.sum())
        values["period_median_m"] = float(np.nanmedian(periods)) if np.isfinite(periods).any() else float("nan")
        modules = grid_modules(geometry.period, geometry.orientation, gridlike, tolerance=cfg.module_tolerance,
                               orientation_weight=cfg.module_orientation_weight)
        big = (modules.sizes >= cfg.module_min_units) & (modules.sizes >= cfg.module_min_fraction * gridlike.sum())
        values["module_count"] = float(big.sum())
        module_periods = modules.periods[big]
        for i, period in enumerate(module_periods):
            values[f"module_{i + 1}_period_m"] = float(period)
        for i, ratio in enumerate(module_periods[1:] / module_periods[:-1]):
            values[f"module_ratio_{i + 2}_to_{i + 1}"] = float(ratio)
        self.details = {"maps": ratemaps, "scores": scores, "nulls": nulls, "threshold": threshold,
                        "geometry": geometry, "modules": modules, "gridlike": gridlike, "big": big, "active": active}
        return values

    def figures(self, rollout: Rollout, values: dict[str, float], out_dir: Path) -> list[Path]:
        d = getattr(self, "details", None)
        if d is None:
            return []
        cfg = self.config
        layer = rollout.layer(cfg.layer)
        return [
            figures.top_units(d["maps"], d["scores"], out_dir / f"top_units_{layer}.png", title=f"layer {layer}: "
                              f"best active units by 60° grid score ({cfg.variant})", among=d["active"]),
            figures.score_survival(d["scores"].score_60, d["nulls"], cfg.thresholds, d["threshold"],
                                   out_dir / f"score_distribution_{layer}.png", variant=cfg.variant),
            figures.period_histogram(d["geometry"].period[d["gridlike"]],
                                     d["modules"].periods[d["big"]],
                                     out_dir / f"periods_{layer}.png"),
        ]


def silent_units(maps: np.ndarray) -> np.ndarray:
    """Units whose rate map is constant over the visited bins (no spatial tuning at all)."""
    flat = maps.reshape(len(maps), -1)
    with np.errstate(all="ignore"):
        high, low = np.nanmax(flat, axis=1), np.nanmin(flat, axis=1)
    return ~np.isfinite(high) | (high - low <= 1e-12 * np.maximum(1.0, np.abs(high)))


def shuffle_maps(maps: np.ndarray, seed: int) -> np.ndarray:
    """Each unit's rate map with its visited bins randomly permuted (unvisited bins stay where they are)."""
    rng = np.random.default_rng(seed)
    flat = maps.reshape(len(maps), -1).copy()
    visited = np.flatnonzero(~np.isnan(flat).all(axis=0))
    order = np.argsort(rng.random((len(maps), len(visited))), axis=1)
    flat[:, visited] = np.take_along_axis(flat[:, visited], order, axis=1)
    return flat.reshape(maps.shape)
