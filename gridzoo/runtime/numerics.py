"""Floating-point and memory settings for training and evaluation, set on purpose and restored afterwards.

Two process-wide settings make a CPU run cheaper without changing what it computes:

- **flush-to-zero** (``torch.set_flush_denormal``): the centre softmax of place-cell targets produces float32
  subnormals (about 7 % of its outputs at σ 0.12 in a 2.2 m box), and x86 cores compute on subnormals through a
  microcode assist; that softmax ran 8× slower (5.3 against 0.66 ms). Values under 1.2e-38 become 0. They never
  change a rounded sum of numbers of order 1e-3, which is what every loss and gradient here is made of; a test
  pins that a run's weights are bit-identical with and without it.
- **keeping freed memory** (:mod:`gridzoo.runtime.allocator`): each batch's targets allocate a few 4 MB
  temporaries, which glibc would unmap and fault in again page by page.

:func:`fast_numerics` turns both on for a block and restores what was there before, so a caller of the Python
API is left as it was. ``GRIDZOO_EXACT_DENORMALS=1`` keeps subnormals (to check a suspicion, not for speed).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch

from gridzoo.runtime import allocator
from gridzoo.runtime.environment import flag

ENV_KEEP_DENORMALS = "GRIDZOO_EXACT_DENORMALS"


def flushing_denormals() -> bool:
    """Whether the CPU flushes subnormal float32 values to zero now (read off arithmetic: torch has no getter)."""
    tiny = torch.tensor([1e-39], dtype=torch.float32)  # a subnormal; with DAZ it is read as zero
    return bool((tiny * 1.0).item() == 0.0)


@contextmanager
def fast_numerics(enabled: bool = True) -> Iterator[bool]:
    """Flush-to-zero and the allocator's keep-freed-memory policy inside the block; the previous state after it.

    Yields whether flush-to-zero is in force (False where the CPU does not support it, or when disabled)."""
    enabled = enabled and not flag(ENV_KEEP_DENORMALS)
    if not enabled:
        yield False
        return
    was_flushing, was_keeping = flushing_denormals(), allocator.keeping_freed_memory()
    flushing = bool(torch.set_flush_denormal(True))
    allocator.keep_freed_memory()
    try:
        yield flushing
    finally:
        torch.set_flush_denormal(was_flushing)
        if not was_keeping:
            allocator.release_freed_memory()
