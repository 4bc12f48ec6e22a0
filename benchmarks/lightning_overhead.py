"""Lightning's training step against a bare PyTorch loop on the same model and data, side by side.

Both sides build the model with gridzoo (same seed, same weights) and generate each batch with the same
data module, so the only difference is the training loop. Reports the median seconds per step after warm-up;
runs alternate (bare, Lightning, bare, Lightning, ...) so that drift in machine load hits both alike.

    python benchmarks/lightning_overhead.py            # both sizes
    python benchmarks/lightning_overhead.py --quick    # fewer steps

Goal (issue #2): Lightning at most 1.1x the bare loop.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pytorch_lightning as pl
import torch

from gridzoo.config import load_experiment
from gridzoo.training.module import PathIntegrationModule, TrajectoryDataModule
from gridzoo.training.optimizers import build_optimizer
from gridzoo.training.run import _quiet_lightning

SIZES = {
    "small (Ng 128, Np 256, batch 100, seq 20)": dict(hidden=128, cells=256, batch=100),
    "NFL (Ng 1024, Np 256, batch 200, seq 20)": dict(hidden=1024, cells=256, batch=200),
}


def experiment(hidden: int, cells: int, batch: int, steps: int):
    return load_experiment(
        data={
            "environment": {"name": "box"},
            "encoder": {"name": "gaussian", "n_cells": cells, "sigma": 0.12},
            "architecture": {"name": "rnn", "hidden_size": hidden},
            "training": {"steps": steps, "batch_size": batch, "seq_len": 20, "lr": 1e-4},
        }
    )


def bare_loop(exp, steps: int) -> list[float]:
    module = PathIntegrationModule(exp)
    model = module.model
    data = TrajectoryDataModule(model.environment, exp)
    optimizer = build_optimizer(model.parameters(), exp.training)
    times = []
    last = time.perf_counter()
    for step in range(steps):
        batch = data.batch(step, "cpu")
        loss = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return times


class _StepTimer(pl.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self.last = 0.0

    def on_train_start(self, trainer, module) -> None:
        self.last = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        self.times.append(now - self.last)
        self.last = now


def lightning_loop(exp, steps: int) -> list[float]:
    _quiet_lightning()
    module = PathIntegrationModule(exp)
    data = TrajectoryDataModule(module.model.environment, exp)
    timer = _StepTimer()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=steps,
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
    )
    trainer.fit(module, datamodule=data)
    return timer.times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="the small size, 10 steps, one round: both sides run")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, pytorch-lightning {pl.__version__}")
    for label, size in SIZES.items():
        steps = (30 if args.quick else 80) if size["hidden"] > 500 else (100 if args.quick else 300)
        if args.smoke:
            if size["hidden"] > 500:
                continue
            steps = 10
        warmup = steps // 5
        exp = experiment(**size, steps=steps)
        bare, light = [], []
        for _ in range(1 if args.smoke else 3):
            bare += bare_loop(exp, steps)[warmup:]
            light += lightning_loop(exp, steps)[warmup:]
        b, l_ = statistics.median(bare), statistics.median(light)
        print(f"{label}: bare {b * 1e3:.2f} ms/step, Lightning {l_ * 1e3:.2f} ms/step, ratio {l_ / b:.3f}x")


if __name__ == "__main__":
    main()
