"""Run a sweep as a SLURM job array through submitit (``pip install gridzoo[slurm]``).

``cluster = "local"`` runs the same jobs as local processes with submitit's LocalExecutor (for testing the path
without a cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from gridzoo.errors import GridzooError
from gridzoo.executor import Executor, Task

from gridzoo_builtin.executors.configs import SubmititConfig


class SubmititExecutor(Executor):
    """SLURM job arrays through submitit; every run is one array task."""

    Config = SubmititConfig
    summary = "SLURM job arrays through submitit (optional extra gridzoo[slurm])."
    config: SubmititConfig
    sweep_dir: Path = Path(".")

    def run(self, task: Task, items: Sequence[str], on_result: Callable[[str, dict], None]) -> None:
        try:
            import submitit
        except ImportError:
            raise GridzooError("the submitit executor needs submitit: pip install 'gridzoo[slurm]'") from None
        cfg = self.config
        folder = self.sweep_dir / cfg.folder
        if cfg.cluster == "local":
            executor = submitit.LocalExecutor(folder=folder)
            executor.update_parameters(timeout_min=cfg.timeout_min)
        else:
            executor = submitit.AutoExecutor(folder=folder, cluster=None if cfg.cluster == "auto" else cfg.cluster)
            executor.update_parameters(
                timeout_min=cfg.timeout_min, cpus_per_task=cfg.cpus_per_task, gpus_per_node=cfg.gpus_per_node,
                mem_gb=cfg.mem_gb, slurm_array_parallelism=cfg.array_parallelism,
                **({"slurm_partition": cfg.partition} if cfg.partition else {}),
            )
        jobs = executor.map_array(task, list(items))
        for item, job in zip(items, jobs):
            on_result(item, job.result())
