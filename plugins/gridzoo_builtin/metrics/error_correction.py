"""Error correction as drift and recovery, in absolute units: what a code that corrects its own errors does better.

Grid codes are argued to be error-correcting (Fiete, Burak & Brookings 2008; Sreenivasan & Fiete 2011). Two
behaviours of a path integrator show it, both measured on rollouts much longer than training's:

1. **Drift under noise**: Gaussian noise of a *fixed absolute* std added to the carried state at every step. The
   decoding error over time; summaries: its slope (``drift_noise_L_cm_per_step``, least squares over the whole
   rollout) and its level over the last tenth (``long_error_noise_L_cm``). An absolute noise is the same
   disturbance for every network; scaling it by each network's activity (as the robustness metric's doubling
   level does) ranks poor integrators as robust.
2. **Recovery after a kick**: one Gaussian perturbation of the state (absolute std ``perturbation``) at step
   ``perturb_at``, no noise otherwise. The excess error over the unperturbed rollout: its size just after the
   kick (``kick_excess_cm``), the fraction of it gone by the end (``recovery_fraction``: 1 a full return, 0 none,
   negative when the error keeps growing) and the steps until half of it is gone (``recovery_half_steps``; null
   when it never halves). A continuous attractor corrects the part of a kick that leaves its manifold and keeps
   the part along it.

Runs in evaluation mode (no dropout), decoded by the target's own decoder, on trajectories of a seed stream of its
own. Curves: ``error_correction.csv`` and the figure ``error_correction.png``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from gridzoo.io import write_csv
from gridzoo.metric import Metric, Rollout
from gridzoo.seeding import Stream, generator

from gridzoo_builtin.metrics.configs import ErrorCorrectionConfig
from gridzoo_builtin.metrics.decoding import require_decoding_and_interventions

FIETE = (
    "Fiete, Burak & Brookings (2008). What grid cells convey about rat location. J Neurosci 28; Sreenivasan & "
    "Fiete (2011). Grid cells generate an analog error-correcting code for singularly precise neural computation. "
    "Nat Neurosci 14."
)


def error_curve(model, trajectories, interventions=None) -> np.ndarray:
    """Mean decoding error (cm) at every step of a rollout: (T,)."""
    rollout = model.rollout(trajectories, interventions=interventions)
    index = next(i for i, e in enumerate(rollout.encoders) if e.decodes_position)
    decoded = rollout.encoders[index].decode(rollout.outputs[index])
    delta = rollout.environment.difference(decoded, trajectories.position)
    return (delta.norm(dim=-1).mean(0) * 100).double().cpu().numpy()


def recovery(excess: np.ndarray, at: int) -> tuple[float, float, float]:
    """(jump, fraction recovered by the end, steps to half) of an excess-error curve kicked at index ``at``."""
    jump = float(excess[at])
    if not jump > 0:
        return jump, math.nan, math.nan
    fraction = 1.0 - float(excess[-1]) / jump
    below = np.flatnonzero(excess[at:] <= jump / 2)
    return jump, fraction, float(below[0]) if len(below) else math.nan


class ErrorCorrection(Metric):
    """Decoded drift under fixed absolute state noise over long rollouts, and recovery after a kick to the state."""

    Config = ErrorCorrectionConfig
    summary = "Drift under absolute state noise over rollouts 15x training length; recovery after a state kick."
    citation = FIETE
    config: ErrorCorrectionConfig

    @classmethod
    def check_experiment(cls, experiment, config, section) -> None:
        require_decoding_and_interventions(experiment, section, "error_correction", "noise or a kick")

    def compute(self, rollout: Rollout) -> dict[str, float]:
        cfg, model = self.config, rollout.model
        if model is None or not getattr(model.architecture, "supports_interventions", False):
            return {}
        arch = model.architecture
        layer = cfg.layer or arch.recurrent_layer or arch.default_layer
        rollout.layer(layer)
        train_len = rollout.trajectories.position.shape[1]
        length = cfg.length_multiplier * train_len
        at = min(cfg.perturb_at or train_len, length - 2)
        device = rollout.trajectories.position.device
        trajectories = model.environment.sample(cfg.batch, length, device=device,
                                                generator=generator(cfg.seed, Stream.ANALYSIS, 99_991, device=device))
        curves = {}
        for i, level in enumerate(cfg.noise_levels):
            if level == 0:
                curves[level] = error_curve(model, trajectories)
                continue
            g = torch.Generator(device=device).manual_seed(cfg.seed * 1000 + i)
            curves[level] = error_curve(
                model, trajectories, {layer: lambda h, sd=level, g=g: h + sd * torch.randn(h.shape, generator=g,
                                                                                       device=h.device)})
        clean = curves.get(0.0)
        if clean is None:
            clean = error_curve(model, trajectories)
        g = torch.Generator(device=device).manual_seed(cfg.seed * 1000 + 999)
        step = [0]

        def kick(h):
            step[0] += 1
            if step[0] == at + 1:  # the (at+1)-th step, index ``at``
                return h + cfg.perturbation * torch.randn(h.shape, generator=g, device=h.device)
            return h

        kicked = error_curve(model, trajectories, {layer: kick})
        excess = kicked - clean
        jump, fraction, half = recovery(excess, at)
        t = np.arange(length, dtype=np.float64)
        values: dict[str, float] = {"kick_excess_cm": jump, "recovery_fraction": fraction, "recovery_half_steps": half,
                                    "error_at_training_length_cm": float(clean[train_len - 1]),
                                    "long_error_cm": float(clean[-max(1, length // 10):].mean())}
        for level, curve in curves.items():
            values[f"drift_noise_{level:g}_cm_per_step"] = float(np.polyfit(t, curve, 1)[0])
            values[f"long_error_noise_{level:g}_cm"] = float(curve[-max(1, length // 10):].mean())
        self.details = {"curves": curves, "kicked": kicked, "clean": clean, "at": at, "layer": layer,
                        "train_len": train_len}
        return values

    def figures(self, rollout: Rollout, values: dict[str, float], out_dir: Path) -> list[Path]:
        d = getattr(self, "details", None)
        if d is None:
            return []
        from gridzoo.analysis.figures import _pyplot, _save

        out_dir.mkdir(parents=True, exist_ok=True)
        levels = list(d["curves"])
        write_csv(out_dir / "error_correction.csv", ["step", *[f"error_noise_{lv:g}_cm" for lv in levels],
                                                         "error_kicked_cm"],
                  ([i + 1, *[f"{d['curves'][lv][i]:.6g}" for lv in levels], f"{d['kicked'][i]:.6g}"]
                   for i in range(len(d["clean"]))))
        plt = _pyplot()
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
        steps = np.arange(1, len(d["clean"]) + 1)
        for lv in levels:
            left.plot(steps, d["curves"][lv], label=f"noise {lv:g}")
        left.axvline(d["train_len"], color="grey", ls=":", lw=1)
        left.set_xlabel("step (dotted: training length)")
        left.set_ylabel("decoding error (cm)")
        left.legend(fontsize=7)
        right.plot(steps, d["kicked"] - d["clean"], color="black")
        right.axvline(d["at"] + 1, color="tab:red", ls=":", lw=1)
        right.set_xlabel("step (dotted: the kick)")
        right.set_ylabel("excess error after the kick (cm)")
        fig.suptitle(f"Error correction (layer {d['layer']})", fontsize=9)
        return [out_dir / "error_correction.csv", _save(fig, out_dir / "error_correction.png")]
