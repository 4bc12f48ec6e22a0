"""Grid-cell analysis of a layer: grid scores against nulls a reviewer accepts, periods, lattices and modules.

Protocol of Schaeffer, Khona & Fiete (2022): rate maps per unit over evaluation rollouts, the 60° grid score of
every unit, the best unit's score, the fraction of units over fixed thresholds, and the grid period. Added, because
a fixed threshold alone misleads (an untrained Sorscher-size RNN puts about 21 % of its units over 0.3):

- **Silent units** (constant rate maps, e.g. dead ReLUs, or units active in under 2 % of the visited bins) have no
  grid score: they are counted, and excluded from every fraction's denominator, every null and every best unit.
  Fractions are over *active* units.
- **Per-unit nulls** (``nulls``): the temporal-shift shuffle (activity shifted against position by at least
  ``shift_min_lag`` trajectories), the untrained network of the run's seed, and optionally permuted bins; the
  unit threshold is the largest of their 95th percentiles.
- **A best-unit null** for the best unit: the best active unit of each of ``best_unit_null_seeds`` untrained
  networks (other weight seeds). A run *has grid-like units* when its best unit beats all of them
  (p ≤ 1/(n + 1)); the null is cached per architecture under ``$GRIDZOO_HOME/cache``.
- **Lattices**: the fields of every grid unit (connected regions above ``field_threshold`` of the unit's range),
  their count, spacing regularity and hexagonal order ψ6 (:mod:`gridzoo.analysis.fields`).
- **Modules** by gaps between log-periods, found again on ``module_stability_sets`` independent trajectory
  sets: a count is reported only when every set agrees; otherwise ``module_count`` is null and the period
  distribution's spread is the answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridzoo import cache
from gridzoo.analysis import figures
from gridzoo.analysis.fields import find_fields, units_field_order
from gridzoo.analysis.geometry import grid_geometry, grid_modules, stable_modules
from gridzoo.analysis.gridscore import GridScores, grid_scores
from gridzoo.errors import IncompatibleComponentsError
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import GridCellsConfig

NFL = (
    "Schaeffer, Khona & Fiete (2022). No Free Lunch from Deep Learning in Neuroscience: A Case Study through "
    "Models of the Entorhinal-Hippocampal Circuit. NeurIPS 35."
)


class GridCells(Metric):
    """Grid scores (reference-exact) with per-unit and best-unit nulls, periods (m), lattices and stable modules."""

    Config = GridCellsConfig
    summary = "Grid scores with temporal-shift, untrained and best-unit nulls; periods (m); lattices; stable modules."
    citation = NFL
    config: GridCellsConfig

    @classmethod
    def check_experiment(cls, experiment, config, section) -> None:
        env = experiment.environment.cls(experiment.environment.config)
        if env.dimensions != 2:
            raise IncompatibleComponentsError(f"{section}: grid_cells scores 2-D rate maps; this environment is "
                                              f"{env.dimensions}-D (use grid_cells_3d)")

    _outside: np.ndarray | None = None  # bins beyond a non-square arena's walls (set per evaluation)

    def _scores(self, maps: np.ndarray) -> GridScores:
        return grid_scores(maps, variant=self.config.variant, nan_policy=self.config.nan_policy, outside=self._outside)

    def _arena_mask(self, environment, ratemaps) -> np.ndarray | None:
        """Bins whose centre lies outside the arena (none in a box): left out of every autocorrelogram."""
        if not self.config.arena_mask or not hasattr(environment, "contains"):
            return None
        import torch

        xs, ys = ratemaps.bin_centres
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        points = torch.as_tensor(np.stack([gx, gy], -1), dtype=torch.float32)
        outside = ~environment.contains(points).cpu().numpy()
        return outside if outside.any() else None

    def _limit(self, maps: np.ndarray) -> np.ndarray:
        return maps[: self.config.units] if self.config.units else maps

    def _layer_scores(self, source, layer: str) -> tuple[np.ndarray, np.ndarray, GridScores]:
        """Rate maps, active mask and scores of a layer in an analysis set (or rollout)."""
        cfg = self.config
        maps = self._limit(source.rate_maps(layer, cfg.bins, cfg.smoothing).maps)
        return maps, ~silent_units(maps), self._scores(maps)

    def compute(self, rollout: Rollout) -> dict[str, float]:
        cfg = self.config
        layer = rollout.layer(cfg.layer)
        ratemaps = rollout.rate_maps(layer, cfg.bins, cfg.smoothing)
        self._outside = self._arena_mask(rollout.environment, ratemaps)
        maps = self._limit(ratemaps.maps)
        key = ("grid_scores", layer, cfg.bins, cfg.smoothing, cfg.variant, cfg.nan_policy, cfg.units, cfg.arena_mask)
        scores: GridScores = rollout.cached(key, lambda: self._scores(maps))  # type: ignore[assignment]
        s60 = scores.score_60
        active = ~silent_units(maps)
        n_active = int(active.sum())
        values: dict[str, float] = {
            "n_units": float(len(s60)),
            "n_silent_units": float(len(s60) - n_active),
            "n_active_units": float(n_active),
            "score_60_max": float(np.max(s60[active])) if n_active else float("nan"),
            "score_60_median": float(np.median(s60[active])) if n_active else float("nan"),
            "score_90_max": float(np.max(scores.score_90[active])) if n_active else float("nan"),
        }
        for t in cfg.thresholds:
            values[f"fraction_score_60_over_{t:g}"] = float(np.mean(s60[active] > t)) if n_active else float("nan")
        nulls = self._unit_nulls(rollout, layer, maps, active, values)
        threshold = None
        if nulls:
            threshold = max(float(np.quantile(v, cfg.null_quantile)) for v in nulls.values() if len(v))
            values["null_threshold_60"] = threshold
            values["fraction_score_60_over_null"] = float(np.mean(s60[active] > threshold)) if n_active else float("nan")
        self._best_unit_null(rollout, layer, values)
        geometry = grid_geometry(scores.sac, ratemaps.bin_size)
        gridlike = active & (s60 > max(cfg.grid_threshold, threshold if threshold is not None else -np.inf))
        periods = geometry.period[gridlike]
        finite = periods[np.isfinite(periods)]
        values["n_grid_units"] = float(gridlike.sum())
        values["period_median_m"] = float(np.median(finite)) if len(finite) else float("nan")
        values["period_iqr_m"] = float(np.subtract(*np.quantile(finite, [0.75, 0.25]))) if len(finite) else float("nan")
        order = units_field_order(maps, ratemaps.bin_centres, np.flatnonzero(gridlike), cfg.field_threshold,
                                  cfg.field_min_bins)
        values["n_lattice_units"] = float(sum(o.hexagonal for o in order.values()))
        values["n_lattice_units_fixed"] = float(sum(o.hexagonal_fixed for o in order.values()))
        counts = [o.n_fields for o in order.values()]
        values["grid_unit_fields_median"] = float(np.median(counts)) if counts else float("nan")
        best = int(np.flatnonzero(active)[np.argmax(s60[active])]) if n_active else None
        if best is not None:
            best_order = units_field_order(maps, ratemaps.bin_centres, np.array([best]), cfg.field_threshold,
                                           cfg.field_min_bins)[best]
            values["best_unit_fields"] = float(best_order.n_fields)
            values["best_unit_psi6"] = best_order.psi6
            values["best_unit_spacing_cv"] = best_order.spacing_cv
            values["best_unit_lattice_p"] = best_order.p_arrangement
        modules = self._modules(rollout, layer, geometry.period, gridlike, values)
        self.details = {"maps": ratemaps, "scores": scores, "nulls": nulls, "threshold": threshold, "active": active,
                        "geometry": geometry, "gridlike": gridlike, "modules": modules, "order": order}
        return values

    def _unit_nulls(self, rollout: Rollout, layer: str, maps: np.ndarray, active: np.ndarray,
                    values: dict[str, float]) -> dict[str, np.ndarray]:
        cfg = self.config
        nulls: dict[str, np.ndarray] = {}
        analysis = rollout.analysis
        if "shift" in cfg.nulls and analysis is not None:
            shifted = analysis.shifted_rate_maps(layer, cfg.bins, cfg.smoothing, cfg.shift_repeats,
                                                 cfg.shift_min_lag, cfg.seed).maps
            units = shifted.shape[0] // cfg.shift_repeats
            shifted = shifted.reshape(cfg.shift_repeats, units, *shifted.shape[1:])[:, : len(active)]
            shifted = shifted.reshape(-1, *shifted.shape[2:])
            keep = np.tile(active, cfg.shift_repeats)
            nulls["shift"] = self._scores(shifted[keep]).score_60
        if "untrained" in cfg.nulls and analysis is not None:
            umaps, uactive, uscores = self._layer_scores(analysis.null_network(0), layer)
            nulls["untrained"] = uscores.score_60[uactive]
            values["untrained_score_60_max"] = float(np.max(nulls["untrained"])) if uactive.any() else float("nan")
        if "bins" in cfg.nulls:
            nulls["bins"] = self._scores(shuffle_maps(maps[active], cfg.seed)).score_60
        return {k: v for k, v in nulls.items() if len(v)}

    def _best_unit_null(self, rollout: Rollout, layer: str, values: dict[str, float]) -> None:
        cfg = self.config
        analysis = rollout.analysis
        if cfg.best_unit_null_seeds == 0 or analysis is None:
            return
        # "v2": since 0.2, null networks walk trajectories of their own seed (earlier entries depended on the
        # first run's trajectories and are not reused).
        key = "-".join(map(str, ("v2", analysis.null_key, layer, cfg.bins, cfg.smoothing, cfg.variant, cfg.nan_policy,
                                 *(("masked",) if self._outside is not None else ()),
                                 cfg.units, cfg.best_unit_null_seeds)))
        best = cache.get("best_unit_null", key)
        if best is None:
            best = []
            for k in range(1, cfg.best_unit_null_seeds + 1):
                _, active, scores = self._layer_scores(analysis.null_network(k), layer)
                best.append(float(np.max(scores.score_60[active])) if active.any() else float("-inf"))
            cache.put("best_unit_null", key, best)
        best = np.asarray([b if b is not None else -np.inf for b in best], dtype=float)
        values["best_unit_null_60"] = float(np.max(best))
        observed = values["score_60_max"]
        if np.isfinite(observed):
            values["best_unit_null_p"] = float((1 + np.sum(best >= observed)) / (len(best) + 1))
            values["has_grid_units"] = float(observed > np.max(best))

    def _modules(self, rollout: Rollout, layer: str, period: np.ndarray, gridlike: np.ndarray,
                 values: dict[str, float]):
        cfg = self.config
        found = [grid_modules(period, gridlike, gap=cfg.module_gap, min_units=cfg.module_min_units,
                              min_fraction=cfg.module_min_fraction)]
        analysis = rollout.analysis
        if analysis is not None and cfg.module_stability_sets > 1:
            threshold = values.get("null_threshold_60", -np.inf)
            for k in range(1, cfg.module_stability_sets):
                other = analysis.independent(k)
                maps, active, scores = self._layer_scores(other, layer)
                geometry = grid_geometry(scores.sac, other.rate_maps(layer, cfg.bins, cfg.smoothing).bin_size)
                grid = active & (scores.score_60 > max(cfg.grid_threshold, threshold))
                found.append(grid_modules(geometry.period, grid, gap=cfg.module_gap, min_units=cfg.module_min_units,
                                          min_fraction=cfg.module_min_fraction))
        report = stable_modules(found, cfg.module_tolerance)
        values["module_sets"] = float(len(found))
        values["modules_stable"] = float(report.stable and len(found) >= max(2, cfg.module_stability_sets))
        values["module_count"] = float(report.count) if values["modules_stable"] else float("nan")
        if values["modules_stable"]:
            for i, p in enumerate(report.periods[0]):
                values[f"module_{i + 1}_period_m"] = float(np.median([periods[i] for periods in report.periods]))
        finite = period[gridlike & np.isfinite(period)]
        values["period_spread"] = (float(np.subtract(*np.quantile(finite, [0.75, 0.25])) / np.median(finite))
                                   if len(finite) else float("nan"))
        return report

    def figures(self, rollout: Rollout, values: dict[str, float], out_dir: Path) -> list[Path]:
        d = getattr(self, "details", None)
        if d is None:
            return []
        cfg = self.config
        layer = rollout.layer(cfg.layer)
        module_periods = np.asarray(d["modules"].periods[0]) if d["modules"].stable else np.empty(0)
        return [
            figures.top_units(d["maps"], d["scores"], out_dir / f"top_units_{layer}.png", title=f"layer {layer}: "
                              f"best active units by 60° grid score ({cfg.variant})", among=d["active"],
                              fields={u: find_fields(d["maps"].maps[u], d["maps"].bin_centres, cfg.field_threshold,
                                                     cfg.field_min_bins).centres for u in np.flatnonzero(d["active"])},
                              walls=rollout.environment.walls),
            figures.score_survival(d["scores"].score_60[d["active"]], d["nulls"], cfg.thresholds, d["threshold"],
                                   out_dir / f"score_distribution_{layer}.png", variant=cfg.variant,
                                   best_unit_null=values.get("best_unit_null_60")),
            figures.period_histogram(d["geometry"].period[d["gridlike"]], module_periods,
                                     out_dir / f"periods_{layer}.png", stable=bool(values.get("modules_stable"))),
        ]


#: A unit active in fewer visited bins than this fraction is (nearly) silent: a ReLU unit that fires in a handful
#: of bins has an autocorrelogram of a few isolated points, which can score high by accident.
MIN_ACTIVE_FRACTION = 0.02


def silent_units(maps: np.ndarray, min_active_fraction: float = MIN_ACTIVE_FRACTION) -> np.ndarray:
    """Units with no spatial tuning to score: constant over the visited bins (dead or saturated), or above their
    minimum (by more than 1 % of their range) in fewer than ``min_active_fraction`` of the visited bins."""
    flat = maps.reshape(len(maps), -1)
    with np.errstate(all="ignore"):
        high, low = np.nanmax(flat, axis=1), np.nanmin(flat, axis=1)
        constant = ~np.isfinite(high) | (high - low <= 1e-12 * np.maximum(1.0, np.abs(high)))
        visited = np.isfinite(flat)
        above = (flat > (low + 0.01 * (high - low))[:, None]) & visited
        fraction = above.sum(axis=1) / np.maximum(visited.sum(axis=1), 1)
    return constant | (fraction < min_active_fraction)


def shuffle_maps(maps: np.ndarray, seed: int) -> np.ndarray:
    """Each unit's rate map with its visited bins randomly permuted (unvisited bins stay where they are)."""
    rng = np.random.default_rng(seed)
    flat = maps.reshape(len(maps), -1).copy()
    visited = np.flatnonzero(~np.isnan(flat).all(axis=0))
    order = np.argsort(rng.random((len(maps), len(visited))), axis=1)
    flat[:, visited] = np.take_along_axis(flat[:, visited], order, axis=1)
    return flat.reshape(maps.shape)
