"""Thread discipline: one thread against two, on an idle machine and on a loaded one.

A "loaded" machine here is one with a competing process that keeps one core busy (as a sweep worker or another
user's job would). Timed: grid scores of 1024 units at 44 bins, and a training step of the nfl2022-dos-mini
network. Also printed: the thread count gridzoo chooses by itself in each condition (``gridzoo.runtime.threads``).

    python benchmarks/threads.py [--rounds 5]

Goal (issue #14): no path slower with 2 threads than with 1 on a loaded machine, i.e. gridzoo's own choice never
loses.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

import numpy as np

from gridzoo.analysis.gridscore import grid_scores
from gridzoo.config import load_experiment
from gridzoo.presets import preset_path
from gridzoo.runtime.threads import apply_threads, choose_threads
from gridzoo.training.module import PathIntegrationModule, TrajectoryDataModule
from gridzoo.training.optimizers import build_optimizer


def _burn(stop) -> None:
    import torch as t

    t.set_num_threads(1)
    a = t.randn(512, 512)
    while not stop.is_set():
        a = (a @ a).tanh_()


def _time(fn, rounds: int) -> float:
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="64 units, one round, idle only: every side runs")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    maps = rng.random((64 if args.smoke else 1024, 44, 44))
    if args.smoke:
        args.rounds = 1
    experiment = load_experiment(preset_path("nfl2022-dos-mini"))
    module = PathIntegrationModule(experiment)
    data = TrajectoryDataModule(module.model.environment, experiment)
    optimizer = build_optimizer(module.model.parameters(), experiment.training)

    def step() -> None:
        loss = module.model.loss(data.batch(0, "cpu"))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    tasks = {"grid scores, 1024 units, 44 bins": lambda: grid_scores(maps), "training step, nfl2022-dos-mini": step}
    for condition in ("idle",) if args.smoke else ("idle", "loaded"):
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        burner = None
        if condition == "loaded":
            burner = context.Process(target=_burn, args=(stop,), daemon=True)
            burner.start()
            time.sleep(3)
        chosen = choose_threads()
        for name, fn in tasks.items():
            timings = {}
            for threads in (1, 2):
                apply_threads(threads)  # torch and the BLAS under NumPy/SciPy
                timings[threads] = _time(fn, args.rounds)
            print(f"{condition:6s} {name}: 1 thread {timings[1] * 1000:.0f} ms, 2 threads {timings[2] * 1000:.0f} ms "
                  f"({timings[1] / timings[2]:.2f}x); gridzoo chooses {chosen} thread(s) (load "
                  f"{os.getloadavg()[0]:.2f})")
        if burner is not None:
            stop.set()
            burner.join(timeout=10)


if __name__ == "__main__":
    main()
