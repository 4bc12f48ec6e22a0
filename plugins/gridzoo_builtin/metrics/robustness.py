"""Robustness of a trained path integrator: how its decoding error grows with noise in its state, and with units
silenced at random or in order of grid score.

1. **Noise**: Gaussian noise added to the recurrent state at every step of the evaluation rollout (so it
   propagates), with std = level × the std of that layer's activity in the noise-free run. Summary: the noise
   level at which the decoding error doubles (``noise_doubling_level``, linear interpolation; null when it never
   doubles over the levels tried).
2. **Ablation**: a fraction of the scored layer's *active* units set to 0 at every step (silent units are not in
   the pool: silencing them changes nothing), chosen at random (``random_repeats`` sets, averaged), by grid score
   highest first (as Banino et al. 2018 ablated their grid-like units), or lowest first. For a recurrent scored
   layer the silencing acts inside the recurrence. Summary: the decoding error after silencing 10 % and 25 %.

Evaluated on the run's fixed evaluation batch, in evaluation mode (no dropout). Curves are written as
``robustness_noise.csv`` and ``robustness_ablation.csv`` with a figure ``robustness.png``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from gridzoo.analysis.gridscore import grid_scores
from gridzoo.io import write_csv
from gridzoo.metric import Metric, Rollout

from gridzoo_builtin.metrics.configs import RobustnessConfig
from gridzoo_builtin.metrics.decoding import decoding_error_cm, require_decoding_and_interventions
from gridzoo_builtin.metrics.grid_cells import silent_units

BANINO = (
    "Banino et al. (2018). Vector-based navigation using grid-like representations in artificial agents. "
    "Nature 557, 429-433 (ablation of grid-like units)."
)


def ablation_order(scores: np.ndarray, active: np.ndarray, order: str, rng: np.random.Generator) -> np.ndarray:
    """Active units in the order they are silenced."""
    units = np.flatnonzero(active)
    if order == "random":
        return rng.permutation(units)
    ranked = units[np.argsort(scores[units], kind="stable")]
    return ranked[::-1].copy() if order == "grid_high" else ranked


def doubling_level(levels: np.ndarray, errors: np.ndarray) -> float:
    """The smallest level at which the error reaches twice its level-0 value (linear interpolation)."""
    base = errors[0]
    target = 2 * base
    for i in range(1, len(levels)):
        if errors[i] >= target:
            a, b = errors[i - 1], errors[i]
            return float(levels[i - 1] + (target - a) / (b - a) * (levels[i] - levels[i - 1])) if b > a else float(levels[i])
    return math.nan


class Robustness(Metric):
    """Decoding error against state noise and against silenced units (random, grid-high first, grid-low first)."""

    Config = RobustnessConfig
    summary = "Decoding error against state noise and unit ablation (random vs by grid score); curves and figure."
    citation = BANINO
    config: RobustnessConfig

    @classmethod
    def check_experiment(cls, experiment, config, section) -> None:
        require_decoding_and_interventions(experiment, section, "robustness", "noise or silenced units")

    def _error(self, rollout: Rollout, interventions) -> float:
        again = rollout.model.rollout(rollout.trajectories, interventions=interventions)
        return decoding_error_cm(again)

    def compute(self, rollout: Rollout) -> dict[str, float]:
        cfg = self.config
        if rollout.model is None:
            return {}
        arch = rollout.model.architecture
        if not getattr(arch, "supports_interventions", False):
            return {}
        noise_layer = cfg.noise_layer or getattr(arch, "recurrent_layer", arch.layers[0])
        ablation_layer = rollout.layer(cfg.ablation_layer)
        rollout.layer(noise_layer)
        base = decoding_error_cm(rollout)
        if base is None:
            return {}
        device = rollout.hidden[noise_layer].device
        activity_std = float(rollout.hidden[noise_layer].std())
        noise_rows = []
        for level in cfg.noise_levels:
            errors = []
            for r in range(cfg.random_repeats if level > 0 else 1):
                g = torch.Generator(device=device).manual_seed(cfg.seed * 1000 + r)
                sd = level * activity_std

                def noisy(h, sd=sd, g=g):
                    return h + sd * torch.randn(h.shape, generator=g, device=h.device)

                errors.append(self._error(rollout, {noise_layer: noisy}) if level > 0 else base)
            noise_rows.append((level, float(np.mean(errors)), float(np.std(errors))))
        # Rank units by grid score on the analysis rate maps of the ablated layer.
        maps = rollout.rate_maps(ablation_layer, cfg.bins).maps
        scores = grid_scores(maps, variant=cfg.variant).score_60
        active = ~silent_units(maps)
        units = len(active)
        ablation_rows = []
        rng = np.random.default_rng(cfg.seed)
        for order in cfg.ablation_orders:
            for fraction in cfg.ablation_fractions:
                count = int(round(fraction * active.sum()))
                errors = []
                for _ in range(cfg.random_repeats if (order == "random" and count > 0) else 1):
                    chosen = ablation_order(scores, active, order, rng)[:count]
                    if count == 0:
                        errors.append(base)
                        continue
                    mask = torch.ones(units, device=device)
                    mask[torch.as_tensor(chosen, device=device)] = 0.0
                    errors.append(self._error(rollout, {ablation_layer: lambda h, mask=mask: h * mask}))
                ablation_rows.append((order, fraction, count, float(np.mean(errors)), float(np.std(errors))))
        self.details = {"noise": noise_rows, "ablation": ablation_rows, "noise_layer": noise_layer,
                        "ablation_layer": ablation_layer, "base": base}
        values = {"robustness_base_error_cm": base,
                  "noise_doubling_level": doubling_level(np.array([r[0] for r in noise_rows]),
                                                         np.array([r[1] for r in noise_rows]))}
        for order, fraction, _, mean, _ in ablation_rows:
            values[f"ablation_{order}_{round(fraction * 100):d}pct_cm"] = mean
        for pct in (10, 25):
            rnd, high = values.get(f"ablation_random_{pct}pct_cm"), values.get(f"ablation_grid_high_{pct}pct_cm")
            if rnd is not None and high is not None and rnd > 0:
                values[f"ablation_grid_high_over_random_{pct}pct"] = high / rnd
        return values

    def figures(self, rollout: Rollout, values: dict[str, float], out_dir: Path) -> list[Path]:
        d = getattr(self, "details", None)
        if d is None:
            return []
        from gridzoo.analysis.figures import _pyplot, _save

        out_dir.mkdir(parents=True, exist_ok=True)
        write_csv(out_dir / "robustness_noise.csv", ["noise_level", "decoding_error_cm", "std_cm"], d["noise"])
        write_csv(out_dir / "robustness_ablation.csv", ["order", "fraction", "units", "decoding_error_cm", "std_cm"],
                  d["ablation"])
        plt = _pyplot()
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
        levels = [r[0] for r in d["noise"]]
        left.errorbar(levels, [r[1] for r in d["noise"]], yerr=[r[2] for r in d["noise"]], marker="o", color="black")
        left.axhline(2 * d["base"], color="grey", ls=":", lw=1, label="twice the noise-free error")
        left.set_xlabel(f"noise std / activity std (layer {d['noise_layer']})")
        left.set_ylabel("decoding error (cm)")
        left.legend(fontsize=7)
        for order, color in (("random", "tab:blue"), ("grid_high", "tab:red"), ("grid_low", "tab:green")):
            rows = [r for r in d["ablation"] if r[0] == order]
            if rows:
                right.errorbar([r[1] for r in rows], [r[3] for r in rows], yerr=[r[4] for r in rows], marker="o",
                               color=color, label={"random": "random", "grid_high": "highest grid score first",
                                                   "grid_low": "lowest grid score first"}[order])
        right.set_xlabel(f"fraction of active units silenced (layer {d['ablation_layer']})")
        right.set_ylabel("decoding error (cm)")
        right.legend(fontsize=7)
        fig.suptitle("Robustness: state noise and unit ablation", fontsize=9)
        return [out_dir / "robustness_noise.csv", out_dir / "robustness_ablation.csv",
                _save(fig, out_dir / "robustness.png")]
