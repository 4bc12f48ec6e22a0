"""Run a sweep's tasks on this machine, in a pool of worker processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Sequence

from gridzoo.executor import Executor, Task

from gridzoo_builtin.executors.configs import LocalConfig


def _init_worker(threads: int, parent: int) -> None:
    import torch

    die_with_parent(parent)
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)


def die_with_parent(parent: int) -> None:
    """End this worker when the sweep process that started it dies, even by ``kill -9`` (which runs no cleanup
    in the parent): the kernel's parent-death signal on Linux, and a watchdog thread everywhere."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="gridzoo-parent-watchdog", daemon=True).start()


class LocalExecutor(Executor):
    """A process pool on this machine (spawned workers, threads divided among them); the default executor."""

    Config = LocalConfig
    summary = "Worker processes on this machine, torch threads divided among them (default)."
    config: LocalConfig

    def threads(self) -> int:
        from gridzoo.runtime.threads import choose_threads

        return self.config.threads_per_worker or max(1, choose_threads() // self.config.workers)

    def run(self, task: Task, items: Sequence[str], on_result: Callable[[str, dict], None]) -> None:
        if self.config.workers == 1:
            from gridzoo.runtime.threads import apply_threads

            apply_threads(self.threads())
            for item in items:
                on_result(item, task(item))
            return
        context = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
        pool = ProcessPoolExecutor(self.config.workers, mp_context=context, initializer=_init_worker,
                                   initargs=(self.threads(), os.getpid()))
        from concurrent.futures.process import BrokenProcessPool

        from gridzoo.errors import GridzooError

        try:
            futures = {pool.submit(task, item): item for item in items}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except BrokenProcessPool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise GridzooError(
                        f"a sweep worker died while running {futures[future]} (killed, or out of memory: see "
                        "`dmesg`); finished runs are kept: rerun the same command to resume (fewer --workers if "
                        "memory is short)") from None
                on_result(futures[future], result)
        except GridzooError:
            raise
        except BaseException:
            # Ctrl-C, SIGTERM or a run's interruption: no queued run may start (the running ones stop at their
            # checkpoint on the same signal, which reaches every process of the group).
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
