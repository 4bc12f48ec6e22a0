"""Configs of the built-in executors (no torch imported here; see ``gridzoo.configs`` entry points)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gridzoo.component import ComponentConfig


class LocalConfig(ComponentConfig):
    workers: int = Field(1, ge=1, description="Runs at a time (worker processes); 1 runs them in this process.")
    threads_per_worker: int | None = Field(
        None, ge=1, description="Torch threads per worker; default: the machine's cores divided among the workers "
        "less the machine's load (oversubscribing a small machine slows every run down several-fold); see "
        "gridzoo.runtime.threads."
    )



class SubmititConfig(ComponentConfig):
    folder: str = Field("submitit", description="Folder for submitit's logs and pickles (relative to the sweep).")
    cluster: Literal["slurm", "local", "auto"] = Field("auto", description="'auto' uses SLURM when available.")
    partition: str | None = Field(None, description="SLURM partition.")
    timeout_min: int = Field(240, gt=0, description="Time limit per run, minutes.")
    cpus_per_task: int = Field(2, gt=0, description="CPUs per run.")
    gpus_per_node: int = Field(0, ge=0, description="GPUs per run.")
    mem_gb: float = Field(8, gt=0, description="Memory per run, GB.")
    array_parallelism: int = Field(64, gt=0, description="Runs of the array at a time.")



class RayConfig(ComponentConfig):
    address: str | None = Field(None, description="Ray cluster address; none starts a local Ray.")
    cpus_per_run: float = Field(2, gt=0, description="CPUs reserved per run.")
    gpus_per_run: float = Field(0, ge=0, description="GPUs reserved per run.")
