"""Experiment trackers (TensorBoard, MLflow, Weights & Biases) through Lightning's loggers.

The run folder's ``metrics.csv`` is always written; ``logging.trackers`` adds trackers, each an optional extra:
``pip install 'gridzoo[trackers]'`` (TensorBoard through tensorboardX, MLflow through mlflow-skinny) or
``'gridzoo[wandb]'``. Every value the run records (loss and metrics, at their steps) goes to each tracker, the
resolved config goes as hyperparameters, and, with ``logging.log_figures``, the final evaluation's figures and
values. MLflow writes to a local file store (``mlruns`` beside the run folder) unless a tracking URI is given;
W&B runs offline unless told otherwise (no account, no network). A sweep puts its runs in one group: the W&B
group and the MLflow experiment are the sweep's name.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from gridzoo.config import Experiment, LoggingConfig
from gridzoo.errors import GridzooError

PACKAGES = {"tensorboard": (("tensorboardX", "tensorboard"), "gridzoo[trackers]"),
            "mlflow": (("mlflow",), "gridzoo[trackers]"), "wandb": (("wandb",), "gridzoo[wandb]")}


def check_trackers(logging: LoggingConfig) -> None:
    """Refuse, before any work, a tracker whose package is not installed (saying which extra brings it)."""
    for tracker in logging.trackers:
        if tracker == "csv":
            continue
        modules, extra = PACKAGES[tracker]
        if not any(importlib.util.find_spec(m) is not None for m in modules):
            raise GridzooError(f"logging.trackers includes {tracker!r}, which needs: pip install '{extra}'")


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    if isinstance(data, list):
        out = {}
        for i, value in enumerate(data):
            out.update(_flatten(value, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: data}


class Trackers:
    """The experiment's Lightning loggers, fed by the run's History (one call per recorded step)."""

    def __init__(self, experiment: Experiment, run_dir: Path) -> None:
        self.loggers: list[Any] = []
        cfg = experiment.logging
        name = cfg.run_name or run_dir.name
        for tracker in cfg.trackers:
            if tracker == "tensorboard":
                from pytorch_lightning.loggers import TensorBoardLogger

                self.loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version="",
                                                      default_hp_metric=False))
            elif tracker == "mlflow":
                from pytorch_lightning.loggers import MLFlowLogger

                uri = cfg.mlflow_tracking_uri
                if uri is None:
                    # A file store beside the runs needs no server or database driver (mlflow-skinny has
                    # none); MLflow 3 keeps it only behind this opt-in. Set mlflow_tracking_uri to
                    # "sqlite:///path/mlflow.db" (full mlflow) for the database backend.
                    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
                    uri = (run_dir.parent.resolve() / "mlruns").as_uri()
                self.loggers.append(MLFlowLogger(experiment_name=cfg.group or cfg.project, run_name=name,
                                                 tracking_uri=uri))
            elif tracker == "wandb":
                from pytorch_lightning.loggers import WandbLogger

                self.loggers.append(WandbLogger(project=cfg.project, group=cfg.group, name=name, save_dir=str(run_dir),
                                                offline=cfg.wandb_mode == "offline"))
        if self.loggers:
            params = _flatten(experiment.to_dict(logging=False))
            for logger in self.loggers:
                logger.log_hyperparams(params)

    def __bool__(self) -> bool:
        return bool(self.loggers)

    def record(self, step: int, values: dict[str, float]) -> None:
        clean = {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and v == v}
        for logger in self.loggers:
            logger.log_metrics(clean, step=step)

    def figures(self, paths: list[Path], step: int) -> None:
        """Send PNG figures (the final evaluation's) to every tracker."""
        for logger in self.loggers:
            kind = type(logger).__name__
            for path in paths:
                if path.suffix != ".png":
                    continue
                if kind == "TensorBoardLogger":
                    import numpy as np
                    from matplotlib.image import imread

                    image = imread(str(path))[..., :3]
                    logger.experiment.add_image(f"evaluation/{path.stem}", np.transpose(image, (2, 0, 1)), step)
                elif kind == "MLFlowLogger":
                    logger.experiment.log_artifact(logger.run_id, str(path), artifact_path="evaluation")
                elif kind == "WandbLogger":
                    logger.log_image(key=f"evaluation/{path.stem}", images=[str(path)], step=step)

    def finish(self, status: str = "success") -> None:
        for logger in self.loggers:
            logger.finalize(status)
