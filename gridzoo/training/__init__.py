"""Training with PyTorch Lightning: the module (model + loss), the data module (trajectories), callbacks
(progress, history, checkpoints, evaluation) and the run folder that ties them together."""

from gridzoo.errors import TrainingInterrupted
from gridzoo.training.run import resume, train

__all__ = ["train", "resume", "TrainingInterrupted"]
