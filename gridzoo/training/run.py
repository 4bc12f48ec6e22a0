"""Run folders: create one atomically, train into it, resume from it.

A run folder holds ``config.json`` (the resolved experiment), ``run.json`` (provenance and status),
``metrics.csv`` (loss and metrics over steps), ``checkpoints/last.ckpt`` (Lightning's resumable state) and,
once training has finished, ``model.safetensors`` (every weight and buffer) and ``metrics.json``.
Everything is validated and built before the folder appears, so a user error leaves nothing behind.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import signal
import tempfile
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
from gridzoo.config import Experiment, load_experiment
from gridzoo.errors import GridzooError, TrainingInterrupted
from gridzoo.io import default_mode, save_safetensors, write_json
from gridzoo.training.callbacks import Evaluator, History, ProgressReporter, ResumableCheckpoint
from gridzoo.training.module import PathIntegrationModule, TrajectoryDataModule

CONFIG_FILE = "config.json"
RUN_FILE = "run.json"
CHECKPOINT = Path("checkpoints") / "last.ckpt"


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict[str, float]
    initial_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def _quiet_lightning() -> None:
    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*`isinstance\(treespec, LeafSpec\)`.*")


def _accelerator(device: str) -> str:
    if device == "cuda" and not torch.cuda.is_available():
        raise GridzooError("training.device = 'cuda', but no CUDA device is available; set it to 'cpu' or 'auto'")
    if device == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    return "gpu" if device == "cuda" else "cpu"


def create_run_dir(experiment: Experiment, out: Path, meta: dict[str, Any]) -> Path:
    """Create ``out`` holding config.json and run.json in one rename; refuse a folder that has content."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GridzooError(
            f"run folder {str(out)!r} already exists; choose another --out, or continue it with "
            f"`gridzoo train --resume {out}`"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        write_json(tmp / CONFIG_FILE, experiment.to_dict())
        write_json(
            tmp / RUN_FILE,
            {
                "gridzoo_version": __version__,
                "torch_version": torch.__version__,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "components": experiment.provenance(),
                "status": "created",
                **meta,
            },
        )
        os.chmod(tmp, default_mode(directory=True))
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def default_run_dir(label: str, root: Path = Path("runs")) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return root / f"{label}-{stamp}"


def _update_run_file(run_dir: Path, **changes: Any) -> None:
    path = run_dir / RUN_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    write_json(path, data)


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
    module = PathIntegrationModule(experiment)  # builds every component: errors surface before the folder exists
    run_dir = create_run_dir(experiment, out, meta or {})
    return _fit(experiment, module, run_dir, ckpt_path=None, console=console, live=live, callbacks=callbacks)


def resume(
    run_dir: Path,
    overrides: Sequence[str] = (),
    *,
    console: Console | None = None,
    live: bool | None = None,
    callbacks: Sequence[pl.Callback] = (),
) -> RunResult:
    """Continue the run in ``run_dir`` from its last checkpoint. Only ``training.steps`` may be changed
    (to train longer); anything else would make the continued run a different experiment."""
    run_dir = Path(run_dir)
    config_path, ckpt = run_dir / CONFIG_FILE, run_dir / CHECKPOINT
    if not config_path.is_file():
        raise GridzooError(f"{str(run_dir)!r} is not a run folder (no {CONFIG_FILE}); check the path")
    bad = [o for o in overrides if o.partition("=")[0].strip() != "training.steps"]
    if bad:
        raise GridzooError(f"--resume only accepts --set training.steps=N (to train longer); got {', '.join(bad)}")
    experiment = load_experiment(data=json.loads(config_path.read_text()), overrides=overrides)
    module = PathIntegrationModule(experiment)
    if overrides:
        write_json(config_path, experiment.to_dict())
    return _fit(
        experiment, module, run_dir, ckpt_path=ckpt if ckpt.is_file() else None, console=console, live=live,
        callbacks=callbacks,
    )


def _fit(
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
    evaluator = Evaluator(history, t.eval_every, [m.cls(m.config) for m in experiment.metrics], data.eval_batch)
    interrupted: list[int] = []
    callbacks = [
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
    _update_run_file(run_dir, status="running")
    started = time.perf_counter()
    try:
        trainer.fit(module, datamodule=data, ckpt_path=str(ckpt_path) if ckpt_path else None, weights_only=True)
    except SystemExit:
        # Lightning turns Ctrl-C into on_exception (our checkpoint) followed by sys.exit(1).
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.default_int_handler)
        step = interrupted[-1] if interrupted else trainer.global_step
        _update_run_file(run_dir, status="interrupted", step=step)
        raise TrainingInterrupted(run_dir, step) from None
    except BaseException:
        _update_run_file(run_dir, status="failed", step=trainer.global_step)
        raise
    seconds = time.perf_counter() - started
    initial = _initial_metrics(run_dir / "metrics.csv")
    final = {k: v for k, v in history.latest.items() if k != "loss"} | evaluator.final
    save_safetensors(
        run_dir / "model.safetensors",
        module.model.state_dict(),
        metadata={"format": "pt", "gridzoo_version": __version__},
    )
    write_json(run_dir / "metrics.json", {"step": trainer.global_step, **final})
    _update_run_file(run_dir, status="finished", step=trainer.global_step)
    return RunResult(run_dir, final, initial, seconds)


def _initial_metrics(path: Path) -> dict[str, float]:
    with open(path, newline="") as f:
        return {r["name"]: float(r["value"]) for r in csv.DictReader(f) if r["step"] == "0" and r["name"] != "loss"}
