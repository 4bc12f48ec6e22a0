"""Will an experiment fit? An estimate of the memory that training needs, checked before any work starts.

Parameters are counted exactly by building the architecture on PyTorch's ``meta`` device (no memory is used);
activations are estimated from the widths of the layers that a ``meta`` forward pass reports. The estimate is
deliberately generous (about 1.5-3x what training measured here), so it refuses only what cannot fit.

The limit is ``training.memory_limit_gb`` when set, else 90 % of the machine's memory (or of the GPU's when
training on one). Set ``training.memory_limit_gb`` to override it, e.g. on a machine with swap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gridzoo.errors import ResourceError

if TYPE_CHECKING:
    from gridzoo.config import Experiment

FLOAT_BYTES = 4
#: Optimizer state, gradients and weights: Adam keeps two moments per parameter.
PARAMETER_COPIES = 4
#: Tensors autograd keeps per unit per step (pre-activations, activations, gates, their gradients).
ACTIVATION_COPIES = 12


@dataclass
class MemoryEstimate:
    parameters: int
    parameter_bytes: int
    activation_bytes: int
    target_bytes: int

    @property
    def total(self) -> int:
        return self.parameter_bytes + self.activation_bytes + self.target_bytes

    def describe(self) -> str:
        return (f"about {_gb(self.total)} ({self.parameters:,} parameters: {_gb(self.parameter_bytes)} with gradients "
                f"and optimizer state; activations {_gb(self.activation_bytes)}; targets {_gb(self.target_bytes)})")


def _gb(n: float) -> str:
    return f"{n / 2**30:.3g} GB"


def machine_memory() -> int | None:
    """Physical memory of this machine, in bytes (None where the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return None


def device_memory(device: str) -> int | None:
    import torch

    if device in ("cuda", "auto") and torch.cuda.is_available():
        return torch.cuda.get_device_properties(0).total_memory
    return machine_memory()


def estimate_training_memory(experiment: "Experiment") -> MemoryEstimate | None:
    """Memory for training ``experiment``, or None when its components cannot be sized without building them."""
    import torch

    t = experiment.training
    env = experiment.environment.cls(experiment.environment.config)
    sizes = []
    for spec in experiment.encoders:
        size = spec.cls.size_for(spec.config, env)
        if size is None:
            return None
        sizes.append(size)
    arch = experiment.architecture
    try:
        with torch.device("meta"):
            model = arch.cls(arch.config, env.input_size, sum(sizes), sizes)
            seq = min(t.seq_len, 4)  # widths do not depend on the length; keep the meta pass short
            out = model(torch.empty(t.batch_size, seq, env.input_size), torch.empty(t.batch_size, sum(sizes)))
    except Exception:  # an architecture that cannot run on the meta device is not sized
        return None
    parameters = sum(p.numel() for p in model.parameters())
    widths = sum(h.shape[-1] for h in out.hidden.values())
    steps = t.batch_size * t.seq_len
    fields = max((getattr(s.config, "fields_rate", 0.0) for s in experiment.encoders), default=0.0)
    return MemoryEstimate(
        parameters=parameters,
        parameter_bytes=parameters * FLOAT_BYTES * PARAMETER_COPIES,
        activation_bytes=steps * widths * FLOAT_BYTES * ACTIVATION_COPIES,
        # encode() works on (B, T, cells) tensors, a few at a time, times (fields, 2) for multi-field cells.
        target_bytes=steps * sum(sizes) * FLOAT_BYTES * 8 * (1 + 2 * (1 + int(4 * fields))),
    )


def check_training_memory(experiment: "Experiment") -> MemoryEstimate | None:
    """Refuse an experiment whose estimated memory exceeds the limit, saying what it needs."""
    estimate = estimate_training_memory(experiment)
    if estimate is None:
        return None
    t = experiment.training
    limit = t.memory_limit_gb * 2**30 if t.memory_limit_gb else None
    if limit is None:
        available = device_memory(t.device)
        limit = 0.9 * available if available else None
    if limit is not None and estimate.total > limit:
        raise ResourceError(
            f"training this experiment needs {estimate.describe()}, more than the limit of {_gb(limit)}. "
            "Reduce training.batch_size, training.seq_len or the architecture's sizes, or raise "
            "training.memory_limit_gb if you know it fits."
        )
    return estimate
