"""Run a sweep's tasks on a Ray cluster (``pip install gridzoo[ray]``)."""

from __future__ import annotations

from typing import Callable, Sequence

from gridzoo.errors import GridzooError
from gridzoo.executor import Executor, Task

from gridzoo_builtin.executors.configs import RayConfig


class RayExecutor(Executor):
    """One Ray task per run."""

    Config = RayConfig
    summary = "Ray tasks, locally or on a cluster (optional extra gridzoo[ray])."
    config: RayConfig

    def run(self, task: Task, items: Sequence[str], on_result: Callable[[str, dict], None]) -> None:
        try:
            import ray
        except ImportError:
            raise GridzooError("the ray executor needs ray: pip install 'gridzoo[ray]'") from None
        ray.init(address=self.config.address, ignore_reinit_error=True, include_dashboard=False)
        remote = ray.remote(num_cpus=self.config.cpus_per_run, num_gpus=self.config.gpus_per_run)(task)
        pending = {remote.remote(item): item for item in items}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                on_result(pending.pop(ref), ray.get(ref))
