"""Evaluating a trained run: load it safely, roll it out over many trajectories, score it with metrics
plugins, draw their figures, and write ``metrics.json``.

Rate maps come from ``samples`` positions of analysis trajectories (a seed stream of their own, so every
evaluation of a run sees the same ones), accumulated per bin without keeping activations in memory. Null
baselines use the untrained network built from the same seed, on the same trajectories.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from gridzoo.analysis_set import AnalysisSet
from gridzoo.config import Experiment, load_experiment
from gridzoo.errors import GridzooError
from gridzoo.io import write_json
from gridzoo.locking import lock_folder
from gridzoo.model import PathIntegrator, build_model, evaluation_batch
from gridzoo.metric import Rollout
from gridzoo.registry import default_registry
from gridzoo.runtime.numerics import fast_numerics
from gridzoo.seeding import Stream, generator
from gridzoo.weights import model_state_from_checkpoint, read_safetensors

#: Analyses added to a run's own metrics by ``gridzoo evaluate``, by the environment's dimensions.
ANALYSIS_METRICS = {2: ("grid_cells", "spatial_information", "linear_readout"),
                    3: ("grid_cells_3d", "spatial_information", "linear_readout")}
MIN_BINS, MAX_BINS = 5, 256
MAX_SAMPLES = 100_000_000


@dataclass
class Evaluation:
    values: dict[str, float]
    per_metric: dict[str, dict[str, Any]]
    figures: list[Path] = field(default_factory=list)
    out_dir: Path | None = None
    details: dict[str, Any] = field(default_factory=dict, repr=False)  # in memory only: each metric's intermediates


def read_config_json(folder: Path) -> dict[str, Any]:
    """``folder/config.json`` as a dict, or one clear error (missing, unreadable, not JSON)."""
    config = folder / "config.json"
    if not config.is_file():
        raise GridzooError(f"{str(folder)!r} is not a run folder or a zoo network folder (no config.json); check the path")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise GridzooError(f"{config} cannot be read as JSON ({type(exc).__name__}); the folder is damaged") from None
    if not isinstance(data, dict):
        raise GridzooError(f"{config} is not a gridzoo config (a JSON object)")
    return data


def load_state(model: PathIntegrator, state: dict[str, torch.Tensor], label: str) -> None:
    from gridzoo.weights import check_state

    check_state(model, state, label)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise GridzooError(f"{label}: the weights do not fit the network in config.json ({first[0] if first else exc})") from None


def load_run(run_dir: str | Path, device: str | torch.device = "cpu") -> tuple[Experiment, PathIntegrator]:
    """The experiment and trained model of a run folder. Weights come from ``model.safetensors`` or, for an
    unfinished run, from the last checkpoint read with ``weights_only=True``: nothing is unpickled."""
    run_dir = Path(run_dir)
    experiment = load_experiment(data=read_config_json(run_dir))
    model = build_model(experiment)
    weights = run_dir / "model.safetensors"
    checkpoint = run_dir / "checkpoints" / "last.ckpt"
    if weights.is_file():
        state = read_safetensors(weights, str(run_dir))
    elif checkpoint.is_file():
        state = model_state_from_checkpoint(checkpoint)
    else:
        raise GridzooError(f"{str(run_dir)!r} has no weights yet (no model.safetensors or checkpoints/last.ckpt)")
    load_state(model, state, str(run_dir))
    return experiment, model.to(device)


def load_target(target: str | Path, device: str | torch.device = "cpu") -> tuple[Experiment, PathIntegrator, str]:
    """A run folder or a zoo network folder (told apart by its config.json), as (experiment, model, label)."""
    folder = Path(target)
    data = read_config_json(folder)
    if data.get("format") == "gridzoo-network":
        from gridzoo import zoo

        network = zoo.load(path=folder, device=device)
        return network.experiment, network.model, str(folder)
    experiment, model = load_run(folder, device)
    return experiment, model, str(folder)


def make_rollout(experiment: Experiment, model: PathIntegrator, samples: int, device, analysis_seed: int = 0) -> Rollout:
    """The fixed evaluation batch's rollout, with the analysis set (rate maps, nulls) attached."""
    rollout = model.rollout(evaluation_batch(experiment, model.environment, device))
    rollout.analysis = AnalysisSet(experiment, model, samples, device, analysis_seed)
    return rollout


def _metric_specs(experiment: Experiment, overrides: dict[str, Any], extra: Sequence[str] = ()) -> list[tuple[str, type, Any]]:
    """The run's own metrics plus the analyses (and ``extra``), each config with the CLI's overrides where it has
    the field."""
    registry = default_registry()
    specs = [(m.info.name, m.cls, m.config) for m in experiment.metrics]
    dims = experiment.environment.cls(experiment.environment.config).dimensions
    for name in (*ANALYSIS_METRICS.get(dims, ()), *extra):
        if name not in {s[0] for s in specs}:
            cls = registry.load("metrics", name)
            specs.append((name, cls, cls.Config()))
    result = []
    for name, cls, config in specs:
        changes = {k: v for k, v in overrides.items() if v is not None and k in cls.Config.model_fields}
        result.append((name, cls, cls.Config(**{**config.model_dump(), **changes}) if changes else config))
    return result


def evaluate(
    target: str | Path | None = None,
    *,
    zoo_name: str | None = None,
    layer: str | None = None,
    bins: int | None = None,
    units: int | None = None,
    samples: int = 200_000,
    out: str | Path | None = None,
    device: str = "cpu",
    draw: bool = True,
    analysis_seed: int = 0,
    metrics: Sequence[str] = (),
    null_seeds: int | None = None,
) -> Evaluation:
    """Score a run folder, a zoo network folder, or the zoo network ``zoo_name`` with its metrics and the
    grid-cell analyses; write metrics.json (and figures) to ``out`` (default ``RUN_DIR/evaluation``, or
    ``evaluations/NAME`` for a zoo name). The output folder is locked while it is written, and a failed
    evaluation leaves no new folder behind."""
    if (target is None) == (zoo_name is None):
        raise GridzooError("give a run or network folder, or a zoo network name (--zoo NAME), not both or neither")
    check_analysis_settings(bins=bins, units=units, samples=samples)
    if zoo_name is not None:
        from gridzoo import zoo

        network = zoo.load(zoo_name, device=device)
        experiment, model, label = network.experiment, network.model, f"zoo:{zoo_name}"
        default_out = Path("evaluations") / zoo_name
    else:
        experiment, model, label = load_target(target, device)
        default_out = Path(target) / "evaluation"
    out_dir = Path(out) if out else default_out
    if out_dir.exists() and not out_dir.is_dir():
        raise GridzooError(f"--out {str(out_dir)!r} is a file; name a folder (it is created if missing)")
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GridzooError(f"cannot create the output folder {str(out_dir)!r}: {exc.strerror}; choose a writable --out") from None
    lock = lock_folder(out_dir, "gridzoo evaluate")
    try:
        return evaluate_model(
            experiment, model, layer=layer, bins=bins, units=units, samples=samples, device=device, draw=draw,
            out=out_dir, label=label, analysis_seed=analysis_seed, metrics=metrics, null_seeds=null_seeds,
        )
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        lock.release()


def check_analysis_settings(*, bins: int | None = None, units: int | None = None, samples: int | None = None) -> None:
    """Refuse analysis settings that are meaningless or could not fit, before any work."""
    if bins is not None and not (MIN_BINS <= bins <= MAX_BINS):
        raise GridzooError(f"--bins {bins}: use {MIN_BINS} to {MAX_BINS} bins per side (NFL: 44, 32 or 20)")
    if units is not None and units < 1:
        raise GridzooError(f"--units {units}: give a positive number of units (or leave it out for all)")
    if samples is not None and not (1 <= samples <= MAX_SAMPLES):
        raise GridzooError(f"--samples {samples}: give 1 to {MAX_SAMPLES:,} positions (default 200000)")


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
    analysis_seed: int = 0,
    metrics: Sequence[str] = (),
    null_seeds: int | None = None,
) -> Evaluation:
    """Score a model in memory with the run's metrics, the analyses and any extra ``metrics`` (names of metric
    plugins, e.g. ``robustness``); write metrics.json and figures to ``out`` if given. ``analysis_seed`` picks an
    independent set of analysis trajectories. Runs under :func:`gridzoo.runtime.numerics.fast_numerics`."""
    with fast_numerics():
        return _evaluate_model(experiment, model, layer=layer, bins=bins, units=units, samples=samples, out=out,
                               device=device, draw=draw, label=label, analysis_seed=analysis_seed, metrics=metrics,
                               null_seeds=null_seeds)


def _evaluate_model(experiment, model, *, layer, bins, units, samples, out, device, draw, label, analysis_seed,
                    metrics, null_seeds) -> Evaluation:
    model = model.to(device)
    if layer is not None and layer not in model.architecture.layers:
        raise GridzooError(f"--layer {layer!r}: this network's layers are {', '.join(model.architecture.layers)}")
    check_analysis_settings(bins=bins, units=units, samples=samples)
    specs = _metric_specs(experiment, {"layer": layer, "bins": bins, "units": units,
                                       "best_unit_null_seeds": null_seeds}, metrics)
    rollout = make_rollout(experiment, model, samples, device, analysis_seed)
    out_dir = Path(out) if out else None
    draw = draw and out_dir is not None
    values: dict[str, float] = {}
    per_metric: dict[str, dict[str, Any]] = {}
    figures: list[Path] = []
    details: dict[str, Any] = {}
    for name, cls, config in specs:
        metric = cls(config)
        result = metric.compute(rollout)
        values.update(result)
        per_metric[name] = {"settings": config.model_dump(mode="json"), "values": result}
        if getattr(metric, "details", None) is not None:
            details[name] = metric.details
        if draw:
            figures += metric.figures(rollout, result, out_dir)
    if out_dir is None:
        return Evaluation(values, per_metric, details=details)
    write_json(out_dir / "metrics.json", {
        "run": label,
        "layer": rollout.layer(layer),
        "samples": samples,
        "analysis_seed": analysis_seed,
        "summary": values,
        "metrics": per_metric,
        "figures": [p.name for p in figures],
    })
    return Evaluation(values, per_metric, figures, out_dir, details)


def summary_rows(values: dict[str, float]) -> Sequence[tuple[str, str]]:
    """The network summary, in order, formatted for a table (undefined values are left out)."""
    def fmt(key: str) -> str | None:
        value = values.get(key)
        return None if value is None or value != value else f"{value:.4g}"

    keys = [
        ("decoding_error_cm", "decoding error (cm), by the target's decoder"),
        ("linear_error_cm", "decoding error (cm), linear readout of the scored layer"),
        ("linear_error_untrained_cm", "the same readout of the untrained network (cm)"),
        ("linear_error_chance_cm", "always the mean position (cm)"),
        ("n_active_units", "active units"),
        ("n_silent_units", "silent units (excluded below)"),
        ("score_60_max", "best active unit's 60° score"),
        ("best_unit_null_60", "best-unit null (best of untrained networks)"),
        ("best_unit_null_p", "p of the best unit under that null"),
        ("null_threshold_60", "unit null threshold (95th pct)"),
        ("fraction_score_60_over_null", "fraction of active units over the unit null"),
        ("fraction_score_60_over_0.3", "fraction of active units over 0.3"),
        ("fraction_score_60_over_0.8", "fraction of active units over 0.8"),
        ("fraction_score_60_over_1.15", "fraction of active units over 1.15"),
        ("untrained_score_60_max", "untrained network's best 60° score"),
        ("n_grid_units", "grid units (over the unit null and 0.3)"),
        ("n_lattice_units", "grid units with a hexagonal lattice of >= 7 fields (arrangement null p < 0.05)"),
        ("best_unit_lattice_p", "p of the best unit's field arrangement under the arrangement null"),
        ("best_unit_fields", "fields of the best unit"),
        ("best_unit_psi6", "hexagonal order ψ6 of the best unit"),
        ("period_median_m", "median grid period (m)"),
        ("period_spread", "period spread (IQR / median)"),
        ("spatial_info_median_bits", "median spatial information (bits)"),
    ]
    rows = [(label, text) for key, label in keys if (text := fmt(key)) is not None]
    if "modules_stable" in values:
        if values["modules_stable"]:
            rows.append(("grid modules (stable over analysis sets)", f"{values['module_count']:.0f}"))
        else:
            rows.append(("grid modules", "not stable: one broad distribution"))
    return rows
