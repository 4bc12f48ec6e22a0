"""The shape of a layer's population activity: a torus (a grid module), a circle, a sphere or none.

Persistent homology of the population's point cloud against a time-shuffle null, as
:mod:`gridzoo.analysis.topology` defines it, on the evaluation's analysis trajectories (or its batch during
training). Values: the counts of long H1 and H2 bars, the shape (``topology_torus``, ``topology_circle`` as 0/1), the
longest bars and the null's. Needs ripser (``pip install 'gridzoo[topology]'``). Run it with
``gridzoo evaluate RUN --metric topology``; for one stable module, pass its units (``units = [...]``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridzoo.analysis.topology import population_topology
from gridzoo.errors import GridzooError
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import TopologyConfig

CITATION = ("Gardner, Hermansen, Pachitariu, Burak, Baas, Dunn, Moser & Moser (2022). Toroidal topology of population "
            "activity in grid cells. Nature 602, 123-128; Bauer (2021). Ripser: efficient computation of "
            "Vietoris-Rips persistence barcodes. J. Appl. Comput. Topol. 5, 391-423.")


class Topology(Metric):
    """Persistent homology (to H2) of a layer's population activity against a time-shuffle null."""

    Config = TopologyConfig
    summary = "Shape of the population activity (torus, circle, sphere, none): persistent homology vs a shuffle null."
    citation = CITATION
    config: TopologyConfig

    def _activity(self, rollout: Rollout, layer: str) -> np.ndarray:
        cfg = self.config
        if rollout.analysis is None:
            acts = rollout.hidden[layer]
            chunks = [acts.reshape(-1, acts.shape[-1]).detach().cpu().numpy()]
        else:
            chunks, total = [], 0
            for _, acts in rollout.analysis.activity(layer):
                chunks.append(acts.detach().cpu().numpy())
                total += len(chunks[-1])
                if total >= 4 * cfg.max_points:  # enough to draw a spread-out subset from
                    break
        activity = np.concatenate(chunks)
        if cfg.units is not None:
            bad = [u for u in cfg.units if not 0 <= u < activity.shape[1]]
            if bad:
                raise GridzooError(f"topology.units: {bad[:3]} are not units of layer {layer!r} "
                                   f"(it has {activity.shape[1]})")
            activity = activity[:, cfg.units]
        return activity

    def compute(self, rollout: Rollout) -> dict[str, float]:
        cfg = self.config
        layer = rollout.layer(cfg.layer)
        result = population_topology(self._activity(rollout, layer), shuffles=cfg.shuffles, n_perm=cfg.n_perm,
                                     pca_dims=cfg.pca_dims, max_points=cfg.max_points, seed=cfg.seed)
        self.details = (layer, result)
        return {
            "topology_h1_long_bars": float(result.betti[0]), "topology_h2_long_bars": float(result.betti[1]),
            "topology_torus": float(result.shape == "torus"), "topology_circle": float(result.shape == "circle"),
            "topology_h1_longest": result.longest(1), "topology_h1_second": result.longest(1, 1),
            "topology_h2_longest": result.longest(2),
            "topology_null_h1": result.null_longest[1], "topology_null_h2": result.null_longest[2],
        }

    def figures(self, rollout: Rollout, values: dict[str, float], out_dir: Path) -> list[Path]:
        details = getattr(self, "details", None)
        if details is None:
            return []
        from gridzoo.analysis.figures import barcode

        layer, result = details
        return [barcode(result.lifetimes, result.null_longest, Path(out_dir) / f"topology_{layer}.png",
                        title=f"layer {layer}: {result.shape} (long bars: H1 {result.betti[0]}, H2 {result.betti[1]})")]
