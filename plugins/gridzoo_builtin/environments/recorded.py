"""Trajectories read from a file: recorded animal paths, or paths from another simulator.

The file is ``.npz`` (or ``.npy`` holding only positions), read with ``allow_pickle=False`` so loading it runs no
code. Keys:

- ``positions`` (n_paths, n_steps, 2), metres, required;
- ``headings`` (n_paths, n_steps), radians, optional (default: the direction of each step's displacement);
- ``bounds`` (4,) = (xmin, xmax, ymin, ymax), optional (default: the range of the positions);
- ``dt`` (scalar), seconds per step, optional (default: the config's ``dt``).

A batch picks paths and window starts uniformly at random; the window's first position is the start position
and the network's input is each step's displacement (or speed and turn).
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from gridzoo.environment import Bounds, Environment, Trajectories
from gridzoo.errors import GridzooError

from gridzoo_builtin.environments.configs import RecordedConfig


class RecordedEnvironment(Environment):
    """Windows of recorded trajectories, sampled uniformly; the arena is the recording's bounding box."""

    Config = RecordedConfig
    summary = "Trajectories read from an .npz/.npy file (recorded paths); random windows per batch."
    config: RecordedConfig

    def __init__(self, config: RecordedConfig) -> None:
        super().__init__(config)
        self._data = _read(Path(config.path))
        self._on_device: dict[str, tuple[Tensor, Tensor]] = {}

    @property
    def input_size(self) -> int:
        return 2 if self.config.velocity_input == "displacement" else 3

    @cached_property
    def bounds(self) -> Bounds:  # type: ignore[override]
        if "bounds" in self._data:
            return Bounds(*map(float, self._data["bounds"]))
        pos = self._data["positions"]
        return Bounds(float(pos[..., 0].min()), float(pos[..., 0].max()), float(pos[..., 1].min()), float(pos[..., 1].max()))

    @property
    def dt(self) -> float:
        return float(self._data.get("dt", self.config.dt))

    def _tensors(self, device: torch.device) -> tuple[Tensor, Tensor]:
        key = str(device)
        if key not in self._on_device:
            pos = torch.as_tensor(self._data["positions"], dtype=torch.float32, device=device)
            if "headings" in self._data:
                head = torch.as_tensor(self._data["headings"], dtype=torch.float32, device=device)
            else:
                head = headings_of(pos)
            self._on_device[key] = (pos, head)
        return self._on_device[key]

    def sample(self, batch_size: int, seq_len: int, *, generator: torch.Generator, device="cpu") -> Trajectories:
        device = torch.device(device)
        pos, head = self._tensors(device)
        return sample_windows(pos, head, batch_size, seq_len, generator=generator, device=device,
                              velocity_input=self.config.velocity_input, dt=self.dt, label=self.config.path)


def headings_of(pos: Tensor) -> Tensor:
    """The direction of each step's displacement (B, T), the first position facing the first step."""
    step = torch.diff(pos, dim=1)
    head = torch.atan2(step[..., 1], step[..., 0])
    return torch.cat([head[:, :1], head], dim=1)


def sample_windows(pos: Tensor, head: Tensor, batch_size: int, seq_len: int, *, generator: torch.Generator,
                   device: torch.device, velocity_input: str, dt: float, label: str) -> Trajectories:
    """Windows of ``seq_len`` steps from stored paths (n_paths, n_steps, D), paths and starts uniform."""
    n_paths, n_steps = pos.shape[:2]
    if n_steps < seq_len + 1:
        raise GridzooError(
            f"{label}: stored paths have {n_steps} positions, but seq_len = {seq_len} needs {seq_len + 1}; shorten "
            "training.seq_len"
        )
    paths = torch.randint(n_paths, (batch_size,), generator=generator, device=device)
    starts = torch.randint(n_steps - seq_len, (batch_size,), generator=generator, device=device)
    index = starts[:, None] + torch.arange(seq_len + 1, device=device)  # (B, T+1)
    window = pos[paths[:, None], index]  # (B, T+1, D)
    headings = head[paths[:, None], index]
    step = torch.diff(window, dim=1)
    if velocity_input == "displacement":
        velocity = step
    else:
        turn = torch.remainder(torch.diff(headings, dim=1) + math.pi, 2 * math.pi) - math.pi
        velocity = torch.stack([step.norm(dim=-1) / dt, torch.sin(turn), torch.cos(turn)], dim=-1)
    return Trajectories(
        start_position=window[:, 0],
        start_heading=headings[:, 0],
        velocity=velocity,
        position=window[:, 1:],
        heading=headings[:, 1:],
    )


def _read(path: Path) -> dict[str, np.ndarray]:
    """Load and check a recording; every problem is a GridzooError naming the file and the fix."""
    if not path.is_file():
        raise GridzooError(f"environment.path: {str(path)!r} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise GridzooError(f"environment.path: cannot read {str(path)!r} without unpickling ({exc}); save plain arrays") from None
    except OSError as exc:
        raise GridzooError(f"environment.path: {str(path)!r} is not an .npy/.npz file ({exc})") from None
    data = {"positions": loaded} if isinstance(loaded, np.ndarray) else {k: loaded[k] for k in loaded.files}
    pos = data.get("positions")
    if pos is None or pos.ndim != 3 or pos.shape[-1] != 2 or pos.shape[1] < 2:
        shape = None if pos is None else pos.shape
        raise GridzooError(
            f"environment.path: {str(path)!r} needs 'positions' shaped (n_paths, n_steps >= 2, 2); got {shape}"
        )
    if not np.isfinite(pos).all():
        raise GridzooError(f"environment.path: {str(path)!r} has non-finite positions")
    if "headings" in data and data["headings"].shape != pos.shape[:2]:
        raise GridzooError(f"environment.path: 'headings' must be shaped {pos.shape[:2]}, got {data['headings'].shape}")
    if "bounds" in data and data["bounds"].shape != (4,):
        raise GridzooError("environment.path: 'bounds' must be (xmin, xmax, ymin, ymax)")
    return data
