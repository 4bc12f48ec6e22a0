"""One experiment seed, many independent random streams.

Each consumer (cell centres, initial weights, the batch of step t, the evaluation batch, dropout at step t)
gets its own seed derived from the experiment seed with NumPy's SeedSequence, so that e.g. resuming at step t
regenerates exactly the batch an uninterrupted run would have seen, and changing the batch size does not move
the cell centres.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import torch


class Stream(IntEnum):
    CENTRES = 0
    WEIGHTS = 1
    TRAIN_BATCH = 2
    EVAL_BATCH = 3
    DROPOUT = 4
    ANALYSIS = 5


def stream_seed(seed: int, stream: Stream, *keys: int) -> int:
    """A 63-bit seed for ``stream`` (and e.g. the step number) under the experiment ``seed``."""
    state = np.random.SeedSequence([seed, int(stream), *keys]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & (2**63 - 1)


def generator(seed: int, stream: Stream, *keys: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator on ``device`` seeded for ``stream``."""
    return torch.Generator(device=device).manual_seed(stream_seed(seed, stream, *keys))


def seed_default_generator(seed: int, device: torch.device) -> None:
    """Seed the default generator that stochastic layers (dropout) on ``device`` draw from.

    Cheaper than ``torch.manual_seed``, which also queues seeding of every lazily initialised backend
    (CUDA, XPU, MTIA), formatting a stack trace for each: over a millisecond per call."""
    if device.type == "cuda":
        torch.cuda.default_generators[device.index if device.index is not None else torch.cuda.current_device()].manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)
