"""Evaluating a trained run: load it safely, roll it out over many trajectories, score it with metrics
plugins, draw their figures, and write ``metrics.json``.

Rate maps come from ``samples`` positions of analysis trajectories (a seed stream of their own, so every
evaluation of a run sees the same ones), accumulated per bin without keeping activations in memory. Null
baselines use the untrained network built from the same seed, on the same trajectories.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from gridzoo.analysis.ratemaps import RateMapAccumulator, RateMaps
from gridzoo.config import Experiment, load_experiment
from gridzoo.errors import GridzooError
from gridzoo.io import write_json
from gridzoo.model import PathIntegrator, build_model, evaluation_batch
from gridzoo.metric import Rollout
from gridzoo.registry import default_registry
from gridzoo.seeding import Stream, generator

#: Analyses added to a run's own metrics by ``gridzoo evaluate``.
ANALYSIS_METRICS = ("grid_cells", "spatial_information")
ANALYSIS_BATCH = 500


@dataclass
class Evaluation:
    values: dict[str, float]
    per_metric: dict[str, dict[str, Any]]
    figures: list[Path] = field(default_factory=list)
    out_dir: Path | None = None


def load_run(run_dir: str | Path, device: str | torch.device = "cpu") -> tuple[Experiment, PathIntegrator]:
    """The experiment and trained model of a run folder. Weights come from ``model.safetensors`` or, for an
    unfinished run, from the last checkpoint read with ``weights_only=True``: nothing is unpickled."""
    run_dir = Path(run_dir)
    config = run_dir / "config.json"
    if not config.is_file():
        raise GridzooError(f"{str(run_dir)!r} is not a run folder (no config.json); check the path")
    experiment = load_experiment(data=json.loads(config.read_text()))
    model = build_model(experiment)
    weights = run_dir / "model.safetensors"
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if weights.is_file():
        from safetensors.torch import load_file

        state = load_file(str(weights))
    elif checkpoint.is_file():
        raw = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
        state = {k.removeprefix("model."): v for k, v in raw.items()}
    else:
        raise GridzooError(f"{str(run_dir)!r} has no weights yet (no model.safetensors or checkpoints/last.ckpt)")
    model.load_state_dict(state)
    return experiment, model.to(device)


def _analysis_source(experiment: Experiment, model: PathIntegrator, samples: int, device) -> Any:
    """A rate-map source: one pass over the analysis trajectories per bin count, all layers at once."""
    seq_len = experiment.training.seq_len
    batches = max(1, math.ceil(samples / (ANALYSIS_BATCH * seq_len)))
    env = model.environment
    accumulators: dict[int, dict[str, RateMapAccumulator]] = {}

    def source(layer: str, bins: int, smoothing: float) -> RateMaps:
        if bins not in accumulators:
            accs: dict[str, RateMapAccumulator] = {}
            model.eval()
            with torch.no_grad():
                for i in range(batches):
                    traj = env.sample(ANALYSIS_BATCH, seq_len, generator=generator(
                        experiment.training.seed, Stream.ANALYSIS, i, device=device), device=device)
                    hidden = model(traj).hidden
                    for name, acts in hidden.items():
                        accs.setdefault(name, RateMapAccumulator(env.bounds, bins)).update(
                            traj.position.reshape(-1, 2), acts.reshape(-1, acts.shape[-1]))
            accumulators[bins] = accs
        return accumulators[bins][layer].result(smoothing)

    return source


def make_rollout(experiment: Experiment, model: PathIntegrator, samples: int, device, untrained: bool = True) -> Rollout:
    rollout = model.rollout(evaluation_batch(experiment, model.environment, device))
    rollout.rate_map_source = _analysis_source(experiment, model, samples, device)
    if untrained:
        rollout.untrained = lambda: make_rollout(experiment, build_model(experiment).to(device), samples, device, False)
    return rollout


def _metric_specs(experiment: Experiment, overrides: dict[str, Any]) -> list[tuple[str, type, Any]]:
    """The run's own metrics plus the analyses, each config with the CLI's overrides where it has the field."""
    registry = default_registry()
    specs = [(m.info.name, m.cls, m.config) for m in experiment.metrics]
    for name in ANALYSIS_METRICS:
        if name not in {s[0] for s in specs}:
            cls = registry.load("metrics", name)
            specs.append((name, cls, cls.Config()))
    result = []
    for name, cls, config in specs:
        changes = {k: v for k, v in overrides.items() if v is not None and k in cls.Config.model_fields}
        result.append((name, cls, cls.Config(**{**config.model_dump(), **changes}) if changes else config))
    return result


def evaluate(
    run_dir: str | Path,
    *,
    layer: str | None = None,
    bins: int | None = None,
    units: int | None = None,
    samples: int = 200_000,
    out: str | Path | None = None,
    device: str = "cpu",
    draw: bool = True,
) -> Evaluation:
    """Score a run with its metrics and the grid-cell analyses; write metrics.json (and figures) to ``out``
    (default ``RUN_DIR/evaluation``)."""
    experiment, model = load_run(run_dir, device)
    return evaluate_model(
        experiment, model, layer=layer, bins=bins, units=units, samples=samples, device=device, draw=draw,
        out=Path(out) if out else Path(run_dir) / "evaluation", label=str(run_dir),
    )


def evaluate_model(
    experiment: Experiment,
    model: PathIntegrator,
    *,
    layer: str | None = None,
    bins: int | None = None,
    units: int | None = None,
    samples: int = 200_000,
    out: str | Path | None = None,
    device: str | torch.device = "cpu",
    draw: bool = True,
    label: str = "",
) -> Evaluation:
    """Score a model in memory; write metrics.json and figures to ``out`` if given."""
    model = model.to(device)
    if layer is not None and layer not in model.architecture.layers:
        raise GridzooError(f"--layer {layer!r}: this network's layers are {', '.join(model.architecture.layers)}")
    if bins is not None and bins < 5:
        raise GridzooError("--bins must be at least 5")
    specs = _metric_specs(experiment, {"layer": layer, "bins": bins, "units": units})
    rollout = make_rollout(experiment, model, samples, device)
    out_dir = Path(out) if out else None
    draw = draw and out_dir is not None
    values: dict[str, float] = {}
    per_metric: dict[str, dict[str, Any]] = {}
    figures: list[Path] = []
    for name, cls, config in specs:
        metric = cls(config)
        result = metric.compute(rollout)
        values.update(result)
        per_metric[name] = {"settings": config.model_dump(mode="json"), "values": result}
        if draw:
            figures += metric.figures(rollout, result, out_dir)
    if out_dir is None:
        return Evaluation(values, per_metric)
    write_json(out_dir / "metrics.json", {
        "run": label,
        "layer": rollout.layer(layer),
        "samples": samples,
        "summary": values,
        "metrics": per_metric,
        "figures": [p.name for p in figures],
    })
    return Evaluation(values, per_metric, figures, out_dir)


def summary_rows(values: dict[str, float]) -> Sequence[tuple[str, str]]:
    """The network summary of the NFL study, in order, formatted for a table."""
    keys = [
        ("decoding_error_cm", "decoding error (cm)"),
        ("score_60_max", "best unit's 60° score"),
        ("null_threshold_60", "null threshold (95th pct)"),
        ("fraction_score_60_over_null", "fraction of units over null threshold"),
        ("fraction_score_60_over_0.3", "fraction of units over 0.3"),
        ("fraction_score_60_over_0.8", "fraction of units over 0.8"),
        ("fraction_score_60_over_1.15", "fraction of units over 1.15"),
        ("untrained_score_60_max", "untrained network's best 60° score"),
        ("period_median_m", "median grid period (m)"),
        ("module_count", "grid modules"),
        ("spatial_info_median_bits", "median spatial information (bits)"),
    ]
    return [(label, f"{values[k]:.4g}") for k, label in keys if k in values]
