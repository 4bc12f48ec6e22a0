"""Run a sweep's tasks on a Ray cluster (``pip install gridzoo[ray]``)."""

from __future__ import annotations

from typing import Callable, Sequence

from pydantic import Field

from gridzoo.component import ComponentConfig
from gridzoo.errors import GridzooError
from gridzoo.executor import Executor, Task


class RayConfig(ComponentConfig):
    address: str | None = Field(None, description="Ray cluster address; none starts a local Ray.")
    cpus_per_run: float = Field(2, gt=0, description="CPUs reserved per run.")
    gpus_per_run: float = Field(0, ge=0, description="GPUs reserved per run.")


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
