"""The LightningModule (model, loss, optimizer) and the LightningDataModule (trajectories on the device).

The data module's loader yields only step numbers. After Lightning moves a step number to the training
device, :meth:`TrajectoryDataModule.on_after_batch_transfer` generates that step's batch *there*, from a
generator seeded by (experiment seed, step): data never crosses the host-device boundary, and a resumed run
sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import itertools
from typing import Callable, Iterator

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset

from gridzoo.architecture import ArchitectureOutput
from gridzoo.config import Experiment, TrainingConfig
from gridzoo.environment import Environment, Trajectories
from gridzoo.model import build_model, evaluation_batch
from gridzoo.seeding import Stream, generator, seed_default_generator, stream_seed
from gridzoo.training.optimizers import build_optimizer

class PathIntegrationModule(pl.LightningModule):
    """Trains a :class:`PathIntegrator` built from a resolved experiment."""

    def __init__(self, experiment: Experiment) -> None:
        super().__init__()
        self.experiment = experiment
        self.model = build_model(experiment)

    @property
    def training_config(self) -> TrainingConfig:
        return self.experiment.training

    def training_step(self, batch: Trajectories, batch_idx: int) -> Tensor:
        if self.training_config.precision == "fp32":
            return self.model.loss(batch)
        # bf16: the architecture under autocast; its readouts back in float32 before the targets, losses and
        # regulariser, which never run in bf16 (CPU autocast would otherwise return a bf16 log_softmax).
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            output = self.model(batch)
        output = ArchitectureOutput([o.float() for o in output.outputs], output.hidden)
        return self.model.loss(batch, output)

    def on_train_batch_start(self, batch: Trajectories, batch_idx: int) -> None:
        # Dropout and any other stochastic layer draw from a stream fixed by (seed, step).
        seed_default_generator(stream_seed(self.training_config.seed, Stream.DROPOUT, self.global_step), self.device)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return build_optimizer(self.model.parameters(), self.training_config)


class _StepNumbers(IterableDataset):
    """Yields step numbers from where training stands (read when iteration starts, i.e. after a resume)."""

    def __init__(self, first_step: Callable[[], int]) -> None:
        self.first_step = first_step

    def __iter__(self) -> Iterator[Tensor]:
        for step in itertools.count(self.first_step()):
            yield torch.tensor(step)


class TrajectoryDataModule(pl.LightningDataModule):
    """Generates each step's batch of trajectories on the training device."""

    def __init__(self, environment: Environment, experiment: Experiment) -> None:
        super().__init__()
        self.environment = environment
        self.experiment = experiment
        self.training = experiment.training

    def train_dataloader(self) -> DataLoader:
        return DataLoader(_StepNumbers(lambda: self.trainer.global_step), batch_size=None)

    def on_after_batch_transfer(self, batch: Tensor, dataloader_idx: int) -> Trajectories:
        return self.batch(int(batch), batch.device)

    def batch(self, step: int, device: torch.device | str) -> Trajectories:
        t = self.training
        return self.environment.sample(
            t.batch_size, t.seq_len, generator=generator(t.seed, Stream.TRAIN_BATCH, step, device=device), device=device
        )

    def eval_batch(self, device: torch.device | str) -> Trajectories:
        """The fixed evaluation batch (the same for every evaluation of a run)."""
        return evaluation_batch(self.experiment, self.environment, device)
