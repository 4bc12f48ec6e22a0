"""Run a sweep as a SLURM job array through submitit (``pip install gridzoo[slurm]``).

``cluster = "local"`` runs the same jobs as local processes with submitit's LocalExecutor (for testing the path
without a cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal, Sequence

from pydantic import Field

from gridzoo.component import ComponentConfig
from gridzoo.errors import GridzooError
from gridzoo.executor import Executor, Task


class SubmititConfig(ComponentConfig):
    folder: str = Field("submitit", description="Folder for submitit's logs and pickles (relative to the sweep).")
    cluster: Literal["slurm", "local", "auto"] = Field("auto", description="'auto' uses SLURM when available.")
    partition: str | None = Field(None, description="SLURM partition.")
    timeout_min: int = Field(240, gt=0, description="Time limit per run, minutes.")
    cpus_per_task: int = Field(2, gt=0, description="CPUs per run.")
    gpus_per_node: int = Field(0, ge=0, description="GPUs per run.")
    mem_gb: float = Field(8, gt=0, description="Memory per run, GB.")
    array_parallelism: int = Field(64, gt=0, description="Runs of the array at a time.")


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
