"""Run folders: create one atomically, train into it, resume from it.

A run folder holds ``config.json`` (the resolved experiment), ``run.json`` (provenance and status),
``metrics.csv`` (loss and metrics over steps), ``checkpoints/last.ckpt`` (Lightning's resumable state) and,
once training has finished, ``model.safetensors`` (every weight and buffer) and ``metrics.json``.

Everything that can fail on the user's input (config, device, memory, components that do not combine) is
checked before the folder appears, so a user error leaves nothing behind. One process at a time works in a run
folder (a lock, see :mod:`gridzoo.locking`).

The end of a run writes ``model.safetensors``, then ``metrics.json``, then marks ``run.json`` finished, each
atomically. A kill at any point leaves a folder that ``--resume`` completes: from the last checkpoint it
recomputes and rewrites whatever was not yet written, without training again.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import pytorch_lightning as pl
import torch
from rich.console import Console

from gridzoo import __version__
from gridzoo.config import Experiment, load_experiment, parse_override
from gridzoo.errors import GridzooError, ResourceError, TrainingDiverged, TrainingInterrupted
from gridzoo.faults import crash_point
from gridzoo.io import default_mode, make_temporary_folder, write_json
from gridzoo.locking import FolderLock, lock_folder
from gridzoo.model import check_compatibility
from gridzoo.resources import check_training_memory
from gridzoo.runtime.numerics import fast_numerics
from gridzoo.runtime.provenance import machine_record
from gridzoo.run_folder import CHECKPOINT, CONFIG_FILE, ERROR_LOG, RUN_FILE, check_new_run_folder, read_run_file
from gridzoo.training.callbacks import (
    Diverged, Evaluator, History, ProgressReporter, ResumableCheckpoint, StopOnNonFinite,
)
from gridzoo.training.module import PathIntegrationModule, TrajectoryDataModule
from gridzoo.training.trackers import Trackers, check_trackers
from gridzoo.weights import checkpoint_step, non_finite, save_safetensors

#: What ``--resume`` may change: training longer, or on another device. Anything else is another experiment.
RESUMABLE_OVERRIDES = ("training.steps", "training.device")


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict[str, float]
    initial_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_finished: bool = False  # resume found the run already finished: nothing was done


def _quiet_lightning() -> None:
    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*`isinstance\(treespec, LeafSpec\)`.*")


def _accelerator(device: str) -> str:
    if device == "cuda" and not torch.cuda.is_available():
        raise ResourceError("training.device = 'cuda', but no CUDA device is available; set it to 'cpu' or 'auto'")
    if device == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    return "gpu" if device == "cuda" else "cpu"


def check_precision(precision: str, accelerator: str) -> None:
    """Refuse bf16 where the device has no native bfloat16 arithmetic (it would be emulated: slower, not faster)."""
    if precision != "bf16":
        return
    if accelerator == "gpu":
        if not torch.cuda.is_bf16_supported():
            raise ResourceError("training.precision = 'bf16', but this GPU has no bfloat16 support; use 'fp32'")
        return
    cpu = getattr(torch, "cpu", None)
    native = bool(getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()) or bool(
        getattr(cpu, "_is_amx_tile_supported", lambda: False)())
    if not native:
        raise ResourceError("training.precision = 'bf16', but this CPU has no native bfloat16 arithmetic (AVX-512 "
                            "BF16 or AMX); it would be emulated and slower. Use training.precision = 'fp32'")


def prepare(experiment: Experiment) -> PathIntegrationModule:
    """Every check that can fail on the user's input, then the model: nothing is written yet."""
    check_precision(experiment.training.precision, _accelerator(experiment.training.device))
    check_trackers(experiment.logging)
    check_compatibility(experiment)
    check_training_memory(experiment)
    return PathIntegrationModule(experiment)


def config_digest(config: dict[str, Any]) -> str:
    """The sha256 of a resolved config (key order aside): run.json records it, so that a resume can tell a
    config.json edited by hand (a new lr, say) from the one the run was trained with."""
    import hashlib

    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def create_run_dir(experiment: Experiment, out: Path, meta: dict[str, Any]) -> tuple[Path, FolderLock]:
    """Create ``out`` holding config.json and run.json in one rename, locked; refuse a folder that has content."""
    out = check_new_run_folder(out)
    try:
        tmp = make_temporary_folder(out)
    except OSError as exc:
        raise GridzooError(f"cannot create the run folder {str(out)!r}: {exc.strerror}; choose a writable --out") from None
    lock = FolderLock(tmp, "gridzoo train")
    try:
        lock.acquire()
        write_json(tmp / CONFIG_FILE, experiment.to_dict())
        write_json(
            tmp / RUN_FILE,
            {
                "gridzoo_version": __version__,
                "torch_version": torch.__version__,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "components": experiment.provenance(),
                "precision": experiment.training.precision,
                "config_sha256": config_digest(experiment.to_dict()),
                "status": "created",
                **meta,
            },
        )
        os.chmod(tmp, default_mode(directory=True))
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)  # the lock's descriptor stays valid across the rename
    except BaseException:
        lock.release()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    lock.folder = out
    return out, lock


def _update_run_file(run_dir: Path, **changes: Any) -> None:
    data = read_run_file(run_dir)
    data.update(changes)
    write_json(run_dir / RUN_FILE, data)


def train(
    experiment: Experiment,
    out: Path,
    *,
    console: Console | None = None,
    live: bool | None = None,
    meta: dict[str, Any] | None = None,
    callbacks: Sequence[pl.Callback] = (),
) -> RunResult:
    """Train ``experiment`` into a new run folder ``out``; ``callbacks`` are extra Lightning callbacks."""
    module = prepare(experiment)  # every user error surfaces before the folder exists
    run_dir, lock = create_run_dir(experiment, out, meta or {})
    try:
        return _fit(experiment, module, run_dir, ckpt_path=None, console=console, live=live, callbacks=callbacks)
    finally:
        lock.release()


def resume(
    run_dir: Path,
    overrides: Sequence[str] = (),
    *,
    console: Console | None = None,
    live: bool | None = None,
    callbacks: Sequence[pl.Callback] = (),
) -> RunResult:
    """Continue the run in ``run_dir`` from its last checkpoint.

    Only ``training.steps`` (to train longer) and ``training.device`` may be changed. A finished run asked for
    no more steps is left as it is (its metrics are kept); a run killed after its last step but before its
    model and metrics were written gets them written, without training again."""
    run_dir = Path(run_dir)
    config_path, ckpt = run_dir / CONFIG_FILE, run_dir / CHECKPOINT
    if not config_path.is_file():
        raise GridzooError(f"{str(run_dir)!r} is not a run folder (no {CONFIG_FILE}); check the path")
    for text in overrides:
        key = ".".join(parse_override(text)[0])
        if key not in RESUMABLE_OVERRIDES:
            raise GridzooError(
                f"--resume only accepts --set training.steps=N (to train longer) or --set training.device=D; "
                f"got {text!r}. Anything else makes another experiment: train it into a new folder"
            )
    lock = lock_folder(run_dir, "gridzoo train --resume")
    try:
        return _resume_locked(run_dir, config_path, ckpt, overrides, console, live, callbacks)
    finally:
        lock.release()


def _resume_locked(run_dir, config_path, ckpt, overrides, console, live, callbacks) -> RunResult:
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise GridzooError(f"{config_path} cannot be read ({exc}); the run folder is damaged") from None
    meta = read_run_file(run_dir)
    recorded = meta.get("config_sha256")
    if recorded and recorded != config_digest(config):
        raise GridzooError(
            f"{config_path} was edited after the run started (it no longer matches run.json's config_sha256): a "
            "resumed run would mix two configs. Restore it, or train a new run; to train longer, resume with "
            "--set training.steps=N")
    experiment = load_experiment(data=config, overrides=overrides)
    status = meta.get("status")
    if status == "diverged":
        raise GridzooError(
            f"{run_dir} diverged at step {meta.get('step')}; resuming would repeat it (same seed, same batches). "
            "Train a new run with a smaller training.lr or with training.grad_clip"
        )
    done = checkpoint_step(ckpt) if ckpt.is_file() else 0
    steps = experiment.training.steps
    if steps < done:
        raise GridzooError(
            f"{run_dir} has already trained {done} steps; to train longer, resume with "
            f"--set training.steps=N for some N > {done}"
        )
    finished = status == "finished" and (run_dir / "model.safetensors").is_file() and (run_dir / "metrics.json").is_file()
    if finished and steps == meta.get("step", done):
        metrics = json.loads((run_dir / "metrics.json").read_text())
        values = {k: v for k, v in metrics.items() if k != "step" and isinstance(v, (int, float))}
        return RunResult(run_dir, values, _initial_metrics(run_dir / "metrics.csv"), resumed_finished=True)
    if not ckpt.is_file() and status == "finished":
        raise GridzooError(f"{run_dir} has no checkpoint to continue from ({CHECKPOINT} is missing)")
    module = prepare(experiment)
    if overrides:
        write_json(config_path, experiment.to_dict())
        _update_run_file(run_dir, config_sha256=config_digest(experiment.to_dict()))
    if console is not None:
        console.print(f"Resuming {run_dir} from step {done} of {steps}"
                      + (" (no checkpoint yet: from the start)" if not ckpt.is_file() else ""))
    return _fit(
        experiment, module, run_dir, ckpt_path=ckpt if ckpt.is_file() else None, console=console, live=live,
        callbacks=callbacks,
    )


def _fit(experiment: Experiment, module: PathIntegrationModule, run_dir: Path, **kwargs: Any) -> RunResult:
    """Train under flush-to-zero and the allocator's keep-freed policy (exact; see gridzoo.runtime.numerics),
    restoring both afterwards."""
    with fast_numerics():
        return _fit_run(experiment, module, run_dir, **kwargs)


def _fit_run(
    experiment: Experiment,
    module: PathIntegrationModule,
    run_dir: Path,
    *,
    ckpt_path: Path | None,
    console: Console | None,
    live: bool | None,
    callbacks: Sequence[pl.Callback] = (),
) -> RunResult:
    _quiet_lightning()
    t = experiment.training
    data = TrajectoryDataModule(module.model.environment, experiment)
    history = History(run_dir / "metrics.csv", t.log_every)
    trackers = Trackers(experiment, run_dir)
    if trackers:
        history.listeners.append(trackers.record)
    evaluator = Evaluator(history, t.eval_every, [m.cls(m.config) for m in experiment.metrics], data.eval_batch)
    interrupted: list[int] = []
    callbacks = [
        StopOnNonFinite(),  # first: a diverged step must never reach the checkpoint
        *callbacks,
        history,
        evaluator,
        ResumableCheckpoint(run_dir / CHECKPOINT, t.checkpoint_every, on_interrupt=interrupted.append),
        ProgressReporter(history, t.steps, console=console, live=live),
    ]
    trainer = pl.Trainer(
        accelerator=_accelerator(t.device),
        devices=1,
        max_steps=t.steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        gradient_clip_val=t.grad_clip,
        gradient_clip_algorithm=t.grad_clip_algorithm,
        callbacks=callbacks,
        default_root_dir=str(run_dir),
    )
    _record_machine(run_dir, machine_record(t.device))
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        trainer.fit(module, datamodule=data, ckpt_path=str(ckpt_path) if ckpt_path else None, weights_only=True)
    except SystemExit:
        # Lightning turns Ctrl-C into on_exception (our checkpoint) followed by sys.exit(1).
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
        step = interrupted[-1] if interrupted else trainer.global_step
        _update_run_file(run_dir, status="interrupted", step=step,
                         **_add_time(run_dir, time.perf_counter() - started, time.process_time() - cpu_started))
        raise TrainingInterrupted(run_dir, step) from None
    except Diverged as exc:
        trackers.finish("failed")
        _diverged(run_dir, exc.step, exc.reason)
    except BaseException as exc:
        trackers.finish("failed")
        _update_run_file(run_dir, status="failed", step=trainer.global_step, error=f"{type(exc).__name__}: {exc}")
        _log_failure(run_dir, exc)
        raise
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    step = trainer.global_step
    state = module.model.state_dict()
    bad = non_finite(state)
    if bad:
        _diverged(run_dir, step, f"weights became non-finite ({', '.join(bad[:3])})")
    if evaluator.final_step != step:  # e.g. resumed from a checkpoint taken at the last step
        evaluator.evaluate_and_record(module, step, replace=True)
    final = {k: v for k, v in history.latest.items() if k != "loss"} | evaluator.final
    crash_point("run:before-model")
    save_safetensors(run_dir / "model.safetensors", state, metadata={"format": "pt", "gridzoo_version": __version__})
    crash_point("run:before-metrics")
    write_json(run_dir / "metrics.json", {"step": step, **final})
    crash_point("run:before-finished")
    _update_run_file(run_dir, status="finished", step=step, **_add_time(run_dir, seconds, cpu_seconds))
    if trackers:
        _final_figures(experiment, module, run_dir, trackers, step)
        trackers.finish("success")
    return RunResult(run_dir, final, _initial_metrics(run_dir / "metrics.csv"), seconds)


def _record_machine(run_dir: Path, machine: dict[str, Any]) -> None:
    """``machine`` in run.json; a resume on another machine or thread count keeps the earlier ones too."""
    previous = read_run_file(run_dir)
    changes: dict[str, Any] = {"status": "running", "machine": machine}
    if previous.get("machine") and previous["machine"] != machine:
        changes["earlier_machines"] = [*previous.get("earlier_machines", []), previous["machine"]]
    _update_run_file(run_dir, **changes)


def _add_time(run_dir: Path, wall: float, cpu: float) -> dict[str, float]:
    """Training time so far, summed over the run's sessions (CPU time is this process's, all threads)."""
    previous = read_run_file(run_dir)
    return {"cpu_seconds": round(previous.get("cpu_seconds", 0.0) + cpu, 2),
            "wall_seconds": round(previous.get("wall_seconds", 0.0) + wall, 2)}


def _final_figures(experiment: Experiment, module: PathIntegrationModule, run_dir: Path, trackers: Trackers,
                   step: int) -> None:
    """The final evaluation's values and figures, for the trackers (also left in RUN_DIR/evaluation)."""
    if not experiment.logging.log_figures:
        return
    from gridzoo.evaluation import evaluate_model

    evaluation = evaluate_model(experiment, module.model, samples=experiment.logging.figure_samples,
                                out=run_dir / "evaluation", label=str(run_dir), draw=True)
    trackers.record(step, {f"evaluation/{k}": v for k, v in evaluation.values.items()})
    trackers.figures(evaluation.figures, step)


def _log_failure(run_dir: Path, exc: BaseException) -> None:
    """Keep the traceback of an unexpected failure in the run folder; the CLI says where it is."""
    import traceback

    from gridzoo.io import write_text

    try:
        write_text(run_dir / ERROR_LOG, "".join(traceback.format_exception(exc)))  # atomic: replaces a link, never
        exc.gridzoo_log = run_dir / ERROR_LOG  # type: ignore[attr-defined]      # writes through it
    except (OSError, GridzooError):
        pass


def _diverged(run_dir: Path, step: int, reason: str) -> None:
    for stale in ("model.safetensors", "metrics.json"):  # an extended run that diverges is not finished either
        (run_dir / stale).unlink(missing_ok=True)
    _update_run_file(run_dir, status="diverged", step=step, reason=reason)
    raise TrainingDiverged(run_dir, step, reason)


def _initial_metrics(path: Path) -> dict[str, float]:
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {r["name"]: float(r["value"]) for r in csv.DictReader(f) if r["step"] == "0" and r["name"] != "loss"}
