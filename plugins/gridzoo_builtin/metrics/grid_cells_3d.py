"""Grid cells in 3-D: is there a global lattice (FCC, HCP), local order only, or nothing?

For every active unit of a layer, on voxel rate maps over the volume (24 a side by default): its fields
(connected regions above ``field_threshold`` of its range), their local order (nearest-neighbour spacing and its
regularity, bond angles, local q6) and the global order of the whole arrangement (Q6, Q4), as
:mod:`gridzoo.analysis.lattice3d` defines them, and a verdict per unit against the **arrangement null** (random
hard-core arrangements of its number of fields, ``arrangements`` of them): columnar (a 2-D pattern extended along an
axis: never a 3-D lattice), lattice (FCC, HCP or other), local order only, or none. Per unit:

- ``local`` score = mean local q6 − spacing CV, ``global`` score = global Q6, for units with >= 7 fields that are
  not columnar (else 0): the statistics the arrangement null tests;
- the 2-D 60° grid score of the best axis-averaged projection (the column/layer control).

Nulls besides the arrangement null: a unit's scores against the 95th percentile of temporal-shift null maps; a
run's best unit against the best units of ``best_unit_null_seeds`` untrained networks. Silent units are counted
and left out. The fixed-threshold counts of earlier versions are kept with the suffix ``_fixed`` (no null).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridzoo import cache
from gridzoo.analysis.fields import find_fields
from gridzoo.analysis.gridscore import grid_scores
from gridzoo.analysis.lattice3d import MIN_FIELDS, Order3D, columnarity, order_3d, unit_order
from gridzoo.errors import IncompatibleComponentsError
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import GridCells3DConfig
from gridzoo_builtin.metrics.grid_cells import silent_units

LITERATURE = (
    "Ginosar et al. (2021). Locally ordered representation of 3D space in the entorhinal cortex. Nature 596, "
    "404-409; Grieves et al. (2021). Irregular distribution of grid cell firing fields in rats exploring a 3D "
    "volumetric space. Nat. Neurosci. 24, 1567-1573; Mathis, Stemmler & Herz (2015). Probable nature of "
    "higher-dimensional symmetries underlying mammalian grid-cell activity patterns. eLife 4, e05979; Steinhardt, "
    "Nelson & Ronchetti (1983). Bond-orientational order in liquids and glasses. Phys. Rev. B 28, 784."
)


def unit_scores(order: Order3D) -> tuple[float, float]:
    """(local, global) statistics of one unit's field arrangement; 0 under ``MIN_FIELDS`` fields or for columns."""
    if order.n_fields < MIN_FIELDS or order.columnar:
        return 0.0, 0.0
    local, glob = order.statistics
    return (float(local) if np.isfinite(local) else 0.0), (float(glob) if np.isfinite(glob) else 0.0)


def projected_scores(maps: np.ndarray) -> np.ndarray:
    """The best 2-D 60° grid score (min-max) over the three axis-averaged projections of each 3-D map (U,)."""
    best = np.full(len(maps), -np.inf)
    for axis in (1, 2, 3):
        with np.errstate(invalid="ignore"):
            projection = np.nanmean(maps, axis=axis)
        best = np.maximum(best, grid_scores(projection, variant="min_max").score_60)
    return best


class GridCells3D(Metric):
    """3-D lattice analysis: fields, local and global order (FCC/HCP), projections, with nulls."""

    Config = GridCells3DConfig
    summary = "3-D grid analysis: fields, local order (spacing, q6), global order (Q6, FCC/HCP), projections; nulls."
    citation = LITERATURE
    config: GridCells3DConfig

    @classmethod
    def check_experiment(cls, experiment, config, section) -> None:
        env = experiment.environment.cls(experiment.environment.config)
        if env.dimensions != 3:
            raise IncompatibleComponentsError(f"{section}: grid_cells_3d analyses volumes; this environment is "
                                              f"{env.dimensions}-D (use grid_cells)")

    def _orders(self, maps: np.ndarray, centres_axes, with_null: bool = False) -> list[Order3D]:
        """Each map's order; with ``with_null``, its verdict against the arrangement null too (the trained units
        only: the nulls' own maps need their statistics, not verdicts)."""
        cfg = self.config
        if with_null and cfg.arrangements:
            return [unit_order(m, centres_axes, threshold=cfg.field_threshold, min_bins=cfg.field_min_bins,
                               arrangements=cfg.arrangements, seed=cfg.seed + i) for i, m in enumerate(maps)]
        orders = []
        for m in maps:
            order = order_3d(find_fields(m, centres_axes, cfg.field_threshold, cfg.field_min_bins).centres,
                             min_neighbours=4)
            order.columnarity = columnarity(m)
            orders.append(order)
        return orders

    def _layer(self, source, layer):
        cfg = self.config
        ratemaps = source.rate_maps(layer, cfg.bins, cfg.smoothing)
        maps = ratemaps.maps[: cfg.units] if cfg.units else ratemaps.maps
        return ratemaps, maps, ~silent_units(maps)

    def compute(self, rollout: Rollout) -> dict[str, float]:
        cfg = self.config
        layer = rollout.layer(cfg.layer)
        ratemaps, maps, active = self._layer(rollout, layer)
        axes = ratemaps.bin_centres
        orders = self._orders(maps[active], axes, with_null=True)
        scores = np.array([unit_scores(o) for o in orders]).reshape(-1, 2)
        local, glob = scores[:, 0], scores[:, 1]
        projected = projected_scores(maps[active]) if active.any() else np.empty(0)
        values: dict[str, float] = {"n_units": float(len(maps)), "n_silent_units": float((~active).sum()),
                                    "n_active_units": float(active.sum())}
        nan = float("nan")
        if not active.any():
            return values
        best = int(np.argmax(local + 1e-3 * glob))
        values.update({
            "fields_median": float(np.median([o.n_fields for o in orders])),
            "local_order_max": float(local.max()), "global_order_max": float(glob.max()),
            "projected_score_60_max": float(projected.max()),
            "best_unit_fields": float(orders[best].n_fields), "best_unit_spacing_m": orders[best].spacing,
            "best_unit_spacing_cv": orders[best].spacing_cv, "best_unit_local_q6": orders[best].local_q6,
            "best_unit_global_q6": orders[best].global_q6, "best_unit_global_q4": orders[best].global_q4,
            "n_units_columnar": float(sum(o.columnar for o in orders)),
            "n_units_local_order_fixed": float(sum(o.local_order for o in orders)),
            "n_units_fcc_fixed": float(sum(o.lattice == "fcc" for o in orders)),
            "n_units_hcp_fixed": float(sum(o.lattice == "hcp" for o in orders)),
        })
        if cfg.arrangements:
            verdicts = [o.verdict for o in orders]
            values.update({
                "n_units_lattice": float(verdicts.count("lattice")),
                "n_units_local_only": float(verdicts.count("local")),
                "n_units_fcc": float(sum(o.lattice_type == "fcc" for o in orders)),
                "n_units_hcp": float(sum(o.lattice_type == "hcp" for o in orders)),
                "best_unit_p_local": orders[best].p_local, "best_unit_p_global": orders[best].p_global,
            })
        analysis = rollout.analysis
        thresholds = {}
        if analysis is not None:
            shifted = analysis.shifted_rate_maps(layer, cfg.bins, cfg.smoothing, cfg.shift_repeats, cfg.shift_min_lag,
                                                 cfg.seed).maps
            per = shifted.reshape(cfg.shift_repeats, -1, *shifted.shape[1:])[:, : len(maps)][:, active]
            null_orders = self._orders(per.reshape(-1, *per.shape[2:]), axes)
            null = np.array([unit_scores(o) for o in null_orders]).reshape(-1, 2)
            null_projected = projected_scores(per.reshape(-1, *per.shape[2:]))
            thresholds = {"local": float(np.quantile(null[:, 0], cfg.null_quantile)),
                          "global": float(np.quantile(null[:, 1], cfg.null_quantile)),
                          "projected": float(np.quantile(null_projected, cfg.null_quantile))}
            values.update({f"null_threshold_{k}": v for k, v in thresholds.items()})
            values["fraction_local_over_null"] = float(np.mean(local > max(thresholds["local"], 0.0)))
            values["fraction_global_over_null"] = float(np.mean(glob > max(thresholds["global"], 0.0)))
            values["fraction_projected_over_null"] = float(np.mean(projected > thresholds["projected"]))
            self._best_unit_null(analysis, layer, values)
        self.details = {"maps": ratemaps, "active": active, "orders": orders, "local": local, "global": glob,
                        "projected": projected, "thresholds": thresholds}
        return values

    def _best_unit_null(self, analysis, layer: str, values: dict[str, float]) -> None:
        cfg = self.config
        if cfg.best_unit_null_seeds == 0:
            return
        key = "-".join(map(str, ("3d-v3", analysis.null_key, layer, cfg.bins, cfg.smoothing, cfg.units,
                                 cfg.field_threshold, cfg.field_min_bins, cfg.best_unit_null_seeds)))
        best = cache.get("best_unit_null", key)
        if best is None:
            best = []
            for k in range(1, cfg.best_unit_null_seeds + 1):
                ratemaps, maps, active = self._layer(analysis.null_network(k), layer)
                scores = np.array([unit_scores(o) for o in self._orders(maps[active], ratemaps.bin_centres)]).reshape(-1, 2)
                proj = projected_scores(maps[active]) if active.any() else np.array([-np.inf])
                best.append([float(scores[:, 0].max(initial=0)), float(scores[:, 1].max(initial=0)), float(proj.max())])
            cache.put("best_unit_null", key, best)
        best = np.asarray(best, dtype=float)
        for i, name in enumerate(("local", "global", "projected")):
            values[f"best_unit_null_{name}"] = float(best[:, i].max())
            observed = values[{"local": "local_order_max", "global": "global_order_max",
                               "projected": "projected_score_60_max"}[name]]
            values[f"has_{name}_order_units" if name != "projected" else "has_projected_grid_units"] = float(
                observed > best[:, i].max())

    def figures(self, rollout: Rollout, values: dict[str, float], out_dir: Path) -> list[Path]:
        d = getattr(self, "details", None)
        if d is None or not d["active"].any():
            return []
        from gridzoo.analysis.figures import volume_units

        layer = rollout.layer(self.config.layer)
        units = np.flatnonzero(d["active"])
        order = np.argsort(-(d["local"] + 1e-3 * d["global"]))[:4]
        return [volume_units(d["maps"], units[order], [d["orders"][i] for i in order],
                             out_dir / f"volume_units_{layer}.png",
                             title=f"layer {layer}: units with the most local order (3-D)")]
