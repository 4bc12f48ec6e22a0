"""Is the population code a conformal isometry of space (Xu et al. 2025)? Local stretch of the population vector.

On the scored layer's rate maps (active units), as :mod:`gridzoo.analysis.isometry` defines them: ``isometry_cv``
(0 for an exact conformal isometry), ``isometry_anisotropy`` (0 isotropic, 1 for band cells) and the median stretch,
beside the same for the run's untrained network (the null a trained value is read against). 2-D arenas.
Known answers (tests, 3 seeds): a grid module's population 0.06-0.09 and 0.11-0.15; band cells 0.61-0.62 and 1.0; place
cells (64 random) 0.31-0.37 and 0.34-0.37.
"""

from __future__ import annotations

import numpy as np

from gridzoo.analysis.isometry import conformal_isometry
from gridzoo.errors import IncompatibleComponentsError
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import IsometryConfig
from gridzoo_builtin.metrics.grid_cells import silent_units

CITATION = ("Xu, Gao, Zhang, Wei & Wu (2025). On conformal isometry of grid cells: learning distance-preserving "
            "position embedding. ICLR; Schøyen, Bess, Pettersen, Norman & Hafting (2025). PLoS Comput. Biol.")


class Isometry(Metric):
    """Neural distance against physical distance for one-bin moves, over every bin and four directions."""

    Config = IsometryConfig
    summary = "Conformal isometry of the population code: local stretch CV and anisotropy, against the untrained net."
    citation = CITATION
    config: IsometryConfig

    @classmethod
    def check_experiment(cls, experiment, config, section) -> None:
        env = experiment.environment.cls(experiment.environment.config)
        if env.dimensions != 2:
            raise IncompatibleComponentsError(f"{section}: isometry is for 2-D arenas")

    def _measure(self, source, layer: str) -> dict[str, float]:
        cfg = self.config
        ratemaps = source.rate_maps(layer, cfg.bins, cfg.smoothing)
        maps = ratemaps.maps[~silent_units(ratemaps.maps)]
        axis = ratemaps.bin_centres[0]
        result = conformal_isometry(maps, float(axis[1] - axis[0])) if len(maps) >= 2 else None
        nan = float("nan")
        return {"cv": result.cv if result else nan, "anisotropy": result.anisotropy if result else nan,
                "scale": result.scale if result else nan}

    def compute(self, rollout: Rollout) -> dict[str, float]:
        layer = rollout.layer(self.config.layer)
        trained = self._measure(rollout, layer)
        values = {"isometry_cv": trained["cv"], "isometry_anisotropy": trained["anisotropy"],
                  "isometry_scale_per_m": trained["scale"]}
        if rollout.analysis is not None:
            untrained = self._measure(rollout.analysis.null_network(0), layer)
            values.update({"isometry_cv_untrained": untrained["cv"],
                           "isometry_anisotropy_untrained": untrained["anisotropy"]})
        return {k: float(v) if np.isfinite(v) else v for k, v in values.items()}
