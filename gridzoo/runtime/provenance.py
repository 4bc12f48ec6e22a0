"""What a run's numbers depend on besides its config: the machine, the libraries, the thread count, the modes.

Two runs of one config are bit-identical on one machine with one thread count (a test pins that); across thread
counts, CPUs or library versions they are not (reductions are summed in another order), so every run records
these, and ``gridzoo train --reproduce`` re-trains under the recorded thread count and says what differs.
"""

from __future__ import annotations

import functools
import platform
import subprocess
from pathlib import Path
from typing import Any


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def source_commit() -> str | None:
    """The git commit gridzoo runs from (with ``+dirty`` for uncommitted changes), where it runs from a checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def library_versions() -> dict[str, str]:
    import numpy
    import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__}
    try:
        import pytorch_lightning

        versions["pytorch_lightning"] = pytorch_lightning.__version__
    except ImportError:  # pragma: no cover - a dependency
        pass
    return versions


def machine_record(device: str = "cpu") -> dict[str, Any]:
    """The machine, libraries, threads and floating-point modes in force now (call inside the run's settings)."""
    import torch

    from gridzoo import __version__
    from gridzoo.runtime.numerics import flushing_denormals
    from gridzoo.runtime.threads import usable_cores

    record: dict[str, Any] = {
        "gridzoo_version": __version__,
        "gridzoo_commit": source_commit(),
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "platform": platform.platform(),
        "threads": torch.get_num_threads(),
        "flush_denormal": flushing_denormals(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "versions": library_versions(),
    }
    if device != "cpu" and torch.cuda.is_available():
        record["gpu"] = torch.cuda.get_device_name()
        record["cuda"] = torch.version.cuda
    return record
