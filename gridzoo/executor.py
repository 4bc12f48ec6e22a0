"""The executor interface: runs a sweep's tasks somewhere (local processes, a SLURM cluster, Ray).

Executors are plugins (entry-point group ``gridzoo.executors``), found and configured like every component.
A task is a picklable callable taking one run id and returning that run's result (a JSON-able dict); it never
raises for a failing run (the failure is its result), so an executor only has to run tasks and hand results back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Sequence

from gridzoo.component import Component, ComponentConfig

Task = Callable[[str], dict]


class Executor(Component, ABC):
    """Runs ``task(item)`` for every item and calls ``on_result(item, result)`` in the calling process as each
    finishes (in any order). Killing the calling process may lose results not yet written by the task itself:
    tasks write their own results atomically, so a rerun skips what finished."""

    def __init__(self, config: ComponentConfig) -> None:
        self.config = config

    @abstractmethod
    def run(self, task: Task, items: Sequence[str], on_result: Callable[[str, dict], None]) -> None:
        """Run every item."""
