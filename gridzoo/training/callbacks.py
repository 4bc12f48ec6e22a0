"""Lightning callbacks: evaluation, the metrics history (CSV), progress reporting and resumable checkpoints."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any, Callable

import pytorch_lightning as pl
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from gridzoo.io import atomic_path
from gridzoo.weights import non_finite

HISTORY_FIELDS = ("step", "name", "value")


class Diverged(Exception):
    """Raised inside training when the loss or the weights stop being finite."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


class StopOnNonFinite(pl.Callback):
    """Stops training at the first non-finite loss. It runs before the checkpoint callback, so a checkpoint
    never holds the weights of a diverged step."""

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if not torch.isfinite(loss).all():
            raise Diverged(trainer.global_step, f"the loss became {float(loss)}")


def _whole(row: dict) -> bool:
    """A metrics.csv row that was written whole (a kill mid-write can leave a torn last line): it is dropped."""
    try:
        int(row["step"])
        float(row["value"])
    except (KeyError, TypeError, ValueError):
        return False
    return bool(row.get("name"))


class History(pl.Callback):
    """Records training loss and evaluation metrics in ``metrics.csv``, one (step, name, value) row each.

    The long format takes any metric a plugin returns without changing the header. On resume, rows from
    after the checkpoint's step are dropped, so the file matches an uninterrupted run's."""

    def __init__(self, path: Path, log_every: int) -> None:
        self.path = path
        self.log_every = log_every
        self.latest: dict[str, float] = {}
        self.listeners: list[Callable[[int, dict[str, float]], None]] = []

    def on_train_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        step = trainer.global_step
        kept = []
        if self.path.exists():
            with open(self.path, newline="") as f:
                kept = [row for row in csv.DictReader(f) if _whole(row) and int(row["step"]) <= step]
        with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, HISTORY_FIELDS)
            writer.writeheader()
            writer.writerows(kept)

    def record(self, step: int, values: dict[str, float], replace: bool = False) -> None:
        """Append rows; with ``replace``, first drop rows of the same step and names (a value recomputed after a
        kill, so that the history holds it once)."""
        self.latest.update(values)
        if replace and self.path.exists():
            with open(self.path, newline="") as f:
                kept = [r for r in csv.DictReader(f) if _whole(r) and not (int(r["step"]) == step and r["name"] in values)]
            with atomic_path(self.path) as tmp, open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, HISTORY_FIELDS)
                writer.writeheader()
                writer.writerows(kept)
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerows((step, name, repr(float(value))) for name, value in values.items())
        for listener in self.listeners:
            listener(step, values)

    def on_train_batch_end(self, trainer, module, outputs: Any, batch, batch_idx: int) -> None:
        step = trainer.global_step
        if step % self.log_every == 0 or step == trainer.max_steps:
            loss = outputs["loss"] if isinstance(outputs, dict) else outputs
            self.record(step, {"loss": float(loss)})


class Evaluator(pl.Callback):
    """Runs the experiment's metrics on the fixed evaluation batch at step 0, every N steps and at the end."""

    def __init__(self, history: History, every: int, metrics: list, eval_batch: Callable) -> None:
        self.history = history
        self.every = every
        self.metrics = metrics
        self.eval_batch = eval_batch
        self.final: dict[str, float] = {}
        self.final_step = -1

    def evaluate(self, module: pl.LightningModule) -> dict[str, float]:
        rollout = module.model.rollout(self.eval_batch(module.device))
        values: dict[str, float] = {}
        for metric in self.metrics:
            values.update(metric.compute(rollout))
        return values

    def on_train_start(self, trainer, module) -> None:
        if trainer.global_step == 0:  # replace: a run killed before its first checkpoint starts again from step 0
            self.history.record(0, self.evaluate(module), replace=True)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx: int) -> None:
        step = trainer.global_step
        if step % self.every == 0 or step == trainer.max_steps:
            self.evaluate_and_record(module, step)

    def evaluate_and_record(self, module, step: int, replace: bool = False) -> dict[str, float]:
        self.final = self.evaluate(module)
        self.final_step = step
        self.history.record(step, self.final, replace=replace)
        return self.final


class ResumableCheckpoint(pl.Callback):
    """Saves ``last.ckpt`` atomically every N steps, at the end, and when training is interrupted."""

    def __init__(self, path: Path, every: int, on_interrupt: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.every = every
        self.on_interrupt = on_interrupt

    def save(self, trainer: pl.Trainer) -> None:
        bad = non_finite(dict(trainer.lightning_module.named_parameters()))
        if bad:
            raise Diverged(trainer.global_step, f"weights became non-finite ({', '.join(bad[:3])})")
        with atomic_path(self.path) as tmp:
            trainer.save_checkpoint(tmp, weights_only=False)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx: int) -> None:
        if trainer.global_step % self.every == 0:
            self.save(trainer)

    def on_train_end(self, trainer, module) -> None:
        self.save(trainer)

    def on_exception(self, trainer, module, exception: BaseException) -> None:
        # Only an interruption (Ctrl-C, or SIGTERM: preemption, `docker stop`, a sweep's cancel) is saved, at the
        # step it reports; after a divergence or an error the last periodic checkpoint, taken while everything was
        # finite, is the one to keep.
        from pytorch_lightning.utilities.exceptions import SIGTERMException

        if isinstance(exception, (KeyboardInterrupt, SIGTERMException)):
            self.save(trainer)
            if self.on_interrupt is not None:
                self.on_interrupt(trainer.global_step)


class ProgressReporter(pl.Callback):
    """A rich progress bar on a terminal; plain periodic lines elsewhere (logs, CI, notebooks' captured output)."""

    def __init__(self, history: History, total: int, console: Console | None = None, live: bool | None = None):
        self.total = total
        self.console = console or Console(stderr=False)
        self.live = self.console.is_terminal if live is None else live
        self.progress: Progress | None = None
        self.task: Any = None
        self.started = time.perf_counter()
        self.start_step = 0
        history.listeners.append(self.on_record)

    def _describe(self, values: dict[str, float]) -> str:
        return "  ".join(f"{k} {_fmt(v)}" for k, v in values.items())

    def on_train_start(self, trainer, module) -> None:
        self.started = time.perf_counter()
        self.start_step = trainer.global_step
        if self.live:
            self.progress = Progress(
                TextColumn("[bold]training"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                console=self.console,
            )
            self.progress.start()
            self.task = self.progress.add_task("", total=self.total, completed=trainer.global_step)

    def on_record(self, step: int, values: dict[str, float]) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=self._describe(values))
            if "loss" not in values:  # evaluations also leave a line behind the bar
                self.progress.console.print(f"step {step:>6}  {self._describe(values)}")
        else:
            elapsed = time.perf_counter() - self.started
            rate = (step - self.start_step) / elapsed if elapsed > 0 and step > self.start_step else math.nan
            self.console.print(
                f"step {step:>6}/{self.total}  {self._describe(values)}  ({elapsed:.1f} s, {_fmt(rate)} steps/s)",
                highlight=False,
            )

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=trainer.global_step)

    def _stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def on_train_end(self, trainer, module) -> None:
        self._stop()

    def on_exception(self, trainer, module, exception) -> None:
        self._stop()


def _fmt(value: float) -> str:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return f"{value:.4g}"

