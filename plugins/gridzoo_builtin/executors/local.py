"""Run a sweep's tasks on this machine, in a pool of worker processes."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Sequence

from pydantic import Field

from gridzoo.component import ComponentConfig
from gridzoo.executor import Executor, Task


class LocalConfig(ComponentConfig):
    workers: int = Field(1, ge=1, description="Runs at a time (worker processes); 1 runs them in this process.")
    threads_per_worker: int | None = Field(
        None, ge=1, description="Torch threads per worker; default: the machine's cores divided among the workers "
        "(oversubscribing a small machine slows every run down several-fold)."
    )


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)


class LocalExecutor(Executor):
    """A process pool on this machine (spawned workers, threads divided among them); the default executor."""

    Config = LocalConfig
    summary = "Worker processes on this machine, torch threads divided among them (default)."
    config: LocalConfig

    def threads(self) -> int:
        return self.config.threads_per_worker or max(1, (os.cpu_count() or 1) // self.config.workers)

    def run(self, task: Task, items: Sequence[str], on_result: Callable[[str, dict], None]) -> None:
        if self.config.workers == 1:
            for item in items:
                on_result(item, task(item))
            return
        context = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
        with ProcessPoolExecutor(self.config.workers, mp_context=context, initializer=_init_worker,
                                 initargs=(self.threads(),)) as pool:
            futures = {pool.submit(task, item): item for item in items}
            for future in as_completed(futures):
                on_result(futures[future], future.result())
