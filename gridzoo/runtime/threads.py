"""How many threads torch gets: one knob, chosen on purpose.

On a small machine that is also running other work (a sweep's workers, another user's job), torch's thread pool
oversubscribes the cores and its threads spin-wait for each other: single operations were measured 10-50× slower
with 2 threads than with 1 on a loaded 2-core machine. So gridzoo never leaves the count to torch's default:

- ``GRIDZOO_THREADS=N`` (or a command's ``--threads N``) sets it;
- otherwise it is the cores not already busy: the usable cores minus the cores the rest of the machine is using
  right now (sampled from /proc/stat over 0.2 s on Linux; the 1-minute load average elsewhere, which lags),
  rounded, at least 1;
- the sweep executor's workers divide the cores among themselves (``threads_per_worker``).

The count is set once, when a command starts (before torch's pool spins up), for training, evaluation and scoring
alike, in torch and in the BLAS under NumPy and SciPy; ``gridzoo`` commands report it with ``--verbose``.
"""

from __future__ import annotations

import math
import os

ENV = "GRIDZOO_THREADS"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def choose_threads(requested: int | None = None) -> int:
    """The thread count to use: ``requested``, else ``$GRIDZOO_THREADS``, else the cores the rest of the machine
    leaves free."""
    if requested:
        return max(1, int(requested))
    env = os.environ.get(ENV, "").strip()
    if env:
        try:
            count = int(env)
        except ValueError:
            count = 0
        if count < 1:
            from gridzoo.errors import GridzooError

            raise GridzooError(f"{ENV}={env!r}: give a whole number of threads, at least 1, e.g. {ENV}=1")
        return count
    cores = usable_cores()
    return max(1, min(cores, math.floor(cores - busy_cores() + 0.5)))


def busy_cores(interval: float = 0.2) -> float:
    """How many cores the machine is using now (this process is idle while it measures)."""
    def sample() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields) - idle, sum(fields)

    first = sample()
    if first is None:
        try:
            return os.getloadavg()[0]
        except OSError:  # pragma: no cover
            return 0.0
    import time

    time.sleep(interval)
    second = sample()
    busy, total = second[0] - first[0], second[1] - first[1]
    return (os.cpu_count() or 1) * busy / total if total > 0 else 0.0


def apply_threads(count: int) -> int:
    """Set torch's intra-op thread count, the BLAS that NumPy and SciPy use (through threadpoolctl: it is already
    loaded, so an environment variable would come too late) and OpenMP's for libraries started later, to
    ``count``."""
    import torch
    from threadpoolctl import threadpool_limits

    os.environ["OMP_NUM_THREADS"] = str(count)
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    threadpool_limits(limits=count, user_api="blas")
    return count
