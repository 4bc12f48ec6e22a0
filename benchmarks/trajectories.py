"""Trajectories plus DoS targets: gridzoo's vectorised generator against a plain NumPy per-step loop.

One batch = 200 trajectories × 20 steps in the 2.2 m box with 512 difference-of-softmaxes place cells (σ 0.12 m,
s 2 as a variance ratio): what one Sorscher training step consumes. The NumPy side is written here in the style
of the reference implementation (ganguli-lab/grid-pattern-formation): a Python loop over steps with NumPy over
the batch, then targets computed in NumPy. Issue #3 quotes the reference at about 48 ms a batch on this machine.

    python benchmarks/trajectories.py

Goal: gridzoo at least 10x faster than the NumPy loop.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

import gridzoo
from gridzoo.seeding import generator

BATCH, STEPS, CELLS, SIGMA, BOX = 200, 20, 512, 0.12, 2.2


def numpy_batch(rng: np.random.Generator, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The motion model and DoS targets in plain NumPy, one Python iteration per step (reference style)."""
    dt, sigma_turn, b, border, slow = 0.02, 11.52, 0.13 * 2 * np.pi, 0.03, 0.25
    half = BOX / 2
    pos = np.zeros((BATCH, STEPS + 1, 2))
    head = np.zeros((BATCH, STEPS + 1))
    pos[:, 0] = rng.uniform(-half, half, (BATCH, 2))
    head[:, 0] = rng.uniform(0, 2 * np.pi, BATCH)
    turns = rng.normal(0, sigma_turn, (BATCH, STEPS))
    speeds = rng.rayleigh(b, (BATCH, STEPS))
    velocity = np.zeros((BATCH, STEPS, 2))
    for t in range(STEPS):
        x, y = pos[:, t, 0], pos[:, t, 1]
        dists = np.stack([half - x, half - y, half + x, half + y])
        wall = np.argmin(dists, axis=0)
        d_wall = np.min(dists, axis=0)
        angle = np.mod(head[:, t] - wall * np.pi / 2 + np.pi, 2 * np.pi) - np.pi
        near = (d_wall < border) & (np.abs(angle) < np.pi / 2)
        turn = turns[:, t] * dt
        turn[near] += np.sign(angle[near]) * (np.pi / 2 - np.abs(angle[near]))
        v = speeds[:, t].copy()
        v[near] *= slow
        head[:, t + 1] = head[:, t] + turn
        step = (v * dt)[:, None] * np.stack([np.cos(head[:, t + 1]), np.sin(head[:, t + 1])], -1)
        pos[:, t + 1] = np.clip(pos[:, t] + step, -half, half)
        velocity[:, t] = pos[:, t + 1] - pos[:, t]
    d2 = ((pos[:, 1:, None, :] - centres) ** 2).sum(-1)

    def softmax(z: np.ndarray) -> np.ndarray:
        z = z - z.max(-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(-1, keepdims=True)

    dos = softmax(-d2 / (2 * SIGMA**2)) - softmax(-d2 / (2 * 2 * SIGMA**2))
    dos -= dos.min(-1, keepdims=True)
    return velocity, dos / dos.sum(-1, keepdims=True)


def gridzoo_batch(env, encoder, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    traj = env.sample(BATCH, STEPS, generator=generator(0, 2, step))
    return traj.velocity, encoder.encode(traj.position, traj.heading)


def timed(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    env = gridzoo.build("environments", "box", width=BOX)
    encoder = gridzoo.build("encoders", "dos", env, torch.Generator().manual_seed(0), n_cells=CELLS, sigma=SIGMA)
    centres = encoder.centres[:, 0].numpy().astype(np.float64)
    rng = np.random.default_rng(0)
    numpy_batch(rng, centres)  # warm-up
    gridzoo_batch(env, encoder, 0)
    ref = timed(lambda i: numpy_batch(rng, centres), 30)
    ours = timed(lambda i: gridzoo_batch(env, encoder, i), 100)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"NumPy per-step loop: {ref * 1e3:.2f} ms/batch")
    print(f"gridzoo (torch, vectorised, float32): {ours * 1e3:.2f} ms/batch")
    print(f"speed-up: {ref / ours:.1f}x")


if __name__ == "__main__":
    main()
