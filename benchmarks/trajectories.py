"""Trajectories (and DoS targets): gridzoo's generator against Sorscher et al.'s TrajectoryGenerator and
PlaceCells (ganguli-lab/grid-pattern-formation, run unmodified), side by side in one process, on one thread.

One batch = 200 trajectories × 20 steps in the 2.2 m box (what one Sorscher training step consumes); a round is 10
batches. Timed: trajectories alone (the reference's ``generate_trajectory``; gridzoo's ``environment.sample``),
and trajectories with 512 DoS place-cell targets (the reference's ``get_generator``; gridzoo's sample + encode).
Interleaved rounds, minimum and median, the machine's load recorded.

    python benchmarks/trajectories.py --sorscher ../grid-pattern-formation [--rounds 7] [--device cuda]
    python benchmarks/trajectories.py --ratinabox     # RatInABox's Agent (gridzoo[ratinabox]) against gridzoo's generator

Goal (issue #14): >= 1x the reference on 1 thread (trajectories alone), >= 10x on a GPU.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import references  # noqa: E402
import gridzoo  # noqa: E402
from gridzoo.seeding import generator  # noqa: E402

BATCH, STEPS, CELLS, SIGMA, BATCHES = 200, 20, 512, 0.12, 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sorscher", help="folder of ganguli-lab/grid-pattern-formation")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ratinabox", action="store_true", help="time the ratinabox environment's Agent pool instead")
    parser.add_argument("--smoke", action="store_true", help="two rounds of two batches; without the reference code, "
                        "gridzoo's side alone (and RatInABox's, if installed)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = torch.device(args.device)
    global BATCHES
    if args.smoke:
        BATCHES, args.rounds = 2, 2
    if args.ratinabox:
        ratinabox(args.rounds, device)
        return
    if args.smoke and not (args.sorscher or os.environ.get(references.ENV["sorscher"])):
        smoke_gridzoo_only(device)
        return
    reference = references.sorscher_generator(references.folder("sorscher", args.sorscher), BATCH, STEPS, CELLS, SIGMA)
    ref_stream = reference.get_generator()
    env = gridzoo.build("environments", "box", width=2.2)
    encoder = gridzoo.build("encoders", "dos", env, generator(0, 0), n_cells=CELLS, sigma=SIGMA,
                            surround_convention="variance_ratio").to(device)

    def ours_trajectories(r: int) -> None:
        for i in range(BATCHES):
            env.sample(BATCH, STEPS, generator=generator(r, 2, i, device=device), device=device)
        if device.type == "cuda":
            torch.cuda.synchronize()

    def ours_with_targets(r: int) -> None:
        for i in range(BATCHES):
            t = env.sample(BATCH, STEPS, generator=generator(r, 2, i, device=device), device=device)
            encoder.encode(t.position, t.heading)
            encoder.encode(t.start_position, t.start_heading)
        if device.type == "cuda":
            torch.cuda.synchronize()

    def ref_trajectories(r: int) -> None:
        for _ in range(BATCHES):
            reference.generate_trajectory(2.2, 2.2, BATCH)

    def ref_with_targets(r: int) -> None:
        for _ in range(BATCHES):
            next(ref_stream)

    for label, ref, ours in (("trajectories alone", ref_trajectories, ours_trajectories),
                             ("trajectories + 512 DoS targets", ref_with_targets, ours_with_targets)):
        ref(0), ours(0)  # warm up
        ref_times, our_times, loads = [], [], []
        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            start = time.perf_counter()
            ref(r)
            ref_times.append((time.perf_counter() - start) / BATCHES * 1000)
            start = time.perf_counter()
            ours(r)
            our_times.append((time.perf_counter() - start) / BATCHES * 1000)
        print(f"{label}, {BATCH} x {STEPS}, 1 thread, gridzoo on {device}: reference {min(ref_times):.2f} ms/batch "
              f"(median {statistics.median(ref_times):.2f}), gridzoo {min(our_times):.2f} ms (median "
              f"{statistics.median(our_times):.2f}): {min(ref_times) / min(our_times):.2f}x by minima, "
              f"{statistics.median(ref_times) / statistics.median(our_times):.2f}x by medians; load "
              f"{min(loads):.2f}-{max(loads):.2f}")


def smoke_gridzoo_only(device: torch.device) -> None:
    """gridzoo's side of both rows (the reference needs its clone): the batches have the shapes the rows time."""
    env = gridzoo.build("environments", "box", width=2.2)
    encoder = gridzoo.build("encoders", "dos", env, generator(0, 0), n_cells=CELLS, sigma=SIGMA,
                            surround_convention="variance_ratio").to(device)
    start = time.perf_counter()
    for i in range(BATCHES):
        t = env.sample(BATCH, STEPS, generator=generator(0, 2, i, device=device), device=device)
        code = encoder.encode(t.position, t.heading)
    assert t.position.shape == (BATCH, STEPS, 2) and code.shape == (BATCH, STEPS, CELLS)
    assert torch.allclose(code.sum(-1), torch.ones(BATCH, STEPS), atol=1e-4)
    print(f"smoke: gridzoo {BATCHES} batches of {BATCH} x {STEPS} with DoS targets in "
          f"{(time.perf_counter() - start) / BATCHES * 1000:.2f} ms/batch (no reference clone: gridzoo's side only)")


def ratinabox(rounds: int, device: torch.device) -> None:
    """The ``ratinabox`` environment with RatInABox's Agent: the one-off pool (per agent step) and the windows
    drawn from it afterwards, against gridzoo's own generator in the same arena (per batch)."""
    square = {"boundary": [[0, 0], [2.2, 0], [2.2, 2.2], [0, 2.2]]}
    paths, steps = 8, 2000
    pool_env = gridzoo.build("environments", "ratinabox", environment=square, motion="ratinabox",
                             pool_paths=paths, pool_steps=steps)
    native = gridzoo.build("environments", "ratinabox", environment=square, motion="gridzoo")
    start = time.perf_counter()
    pool_env.sample(1, 2, generator=generator(0, 2, 0), device=device)  # walks the pool
    pool_s = time.perf_counter() - start
    windows, ours = [], []
    for r in range(rounds):
        for target, env in ((windows, pool_env), (ours, native)):
            start = time.perf_counter()
            for i in range(BATCHES):
                env.sample(BATCH, STEPS, generator=generator(r, 2, i, device=device), device=device)
            target.append((time.perf_counter() - start) / BATCHES * 1000)
    per_native = min(ours) / (BATCH * STEPS) * 1000
    print(f"RatInABox pool: {paths} agents x {steps} steps in {pool_s:.2f} s = {pool_s / (paths * steps) * 1000:.3f} ms "
          f"per agent step; gridzoo's generator: {per_native:.2f} us per position ({pool_s / (paths * steps) * 1e6 / per_native:.0f}x); "
          f"afterwards, windows {min(windows):.2f} ms/batch (median {statistics.median(windows):.2f}) against gridzoo "
          f"{min(ours):.2f} ms (median {statistics.median(ours):.2f}), {BATCH} x {STEPS}; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
