"""A Sorscher-size training step against the time of its matrix multiplications alone, in the same run.

Sorscher et al.: bias-free ReLU RNN, Ng 4096, DoS targets Np 512, batch 200, seq 20, Adam. The step is gridzoo's
(data generation, forward, loss, backward, Adam). The floor is the same matrix multiplications run back to back
on random tensors of the same shapes: forward (h0 map, input projection, 20 recurrent products, readout) and
backward (for each product, the gradient with respect to its input and to its weight).

    python benchmarks/sorscher_step.py                 # Sorscher size
    python benchmarks/sorscher_step.py --hidden 1024   # smaller, quicker
    python benchmarks/sorscher_step.py --device cuda   # on a GPU

Goal (issue #3): the step within 1.25x of its matrix multiplications.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from gridzoo.config import load_experiment
from gridzoo.model import build_model
from gridzoo.seeding import generator
from gridzoo.training.optimizers import build_optimizer


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, repeats: int, device: torch.device) -> float:
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmuls_only(ng: int, np_: int, batch: int, seq: int, device: torch.device):
    """The step's matrix products, forward and backward, on preallocated tensors."""
    r = lambda *s: torch.randn(*s, device=device)  # noqa: E731
    w_hh, w_enc, w_dec, w_ih = r(ng, ng), r(ng, np_), r(np_, ng), r(ng, 2)
    p0, h, v, dy = r(batch, np_), r(batch, ng), r(batch * seq, 2), r(batch * seq, np_)
    hs = r(batch * seq, ng)

    def run() -> None:
        # forward
        torch.mm(p0, w_enc.T)
        torch.mm(v, w_ih.T)
        for _ in range(seq):
            torch.mm(h, w_hh.T)
        torch.mm(hs, w_dec.T)
        # backward
        torch.mm(dy, w_dec)  # dH
        torch.mm(dy.T, hs)  # dW_dec
        for _ in range(seq):
            torch.mm(h, w_hh)  # dh_{t-1}
            torch.mm(h.T, h)  # dW_hh (ng x ng)
        torch.mm(hs.T, v)  # dW_ih
        torch.mm(h.T, p0)  # dW_enc

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--cells", type=int, default=512)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seq", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--smoke", action="store_true", help="Ng 64, Np 32, batch 8, 2 repeats: both sides run")
    args = parser.parse_args()
    if args.smoke:
        args.hidden, args.cells, args.batch, args.repeats = 64, 32, 8, 2
    device = torch.device(args.device)
    experiment = load_experiment(
        data={
            "environment": {"name": "box"},
            "encoder": {"name": "dos", "n_cells": args.cells},
            "architecture": {"name": "sorscher", "hidden_size": args.hidden},
            "training": {"batch_size": args.batch, "seq_len": args.seq},
        }
    )
    model = build_model(experiment).to(device)
    optimizer = build_optimizer(model.parameters(), experiment.training)  # what gridzoo trains with
    step_number = [0]

    def step() -> None:
        batch = model.environment.sample(
            args.batch, args.seq, generator=generator(0, 2, step_number[0], device=device), device=device
        )
        loss = model.loss(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step_number[0] += 1

    floor = matmuls_only(args.hidden, args.cells, args.batch, args.seq, device)
    step()
    floor()  # warm-up
    # Interleaved, so that drift in the machine's speed hits both sides alike; medians of each.
    steps, floors = [], []
    for _ in range(args.repeats):
        steps.append(timed(step, 1, device))
        floors.append(timed(floor, 1, device))
    step_time, floor_time = statistics.median(steps), statistics.median(floors)
    flops = 2 * args.batch * args.seq * (3 * args.hidden**2 + 3 * args.hidden * args.cells)
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads")
    print(f"Ng {args.hidden}, Np {args.cells}, batch {args.batch}, seq {args.seq}")
    print(f"training step: {step_time * 1e3:.1f} ms ({flops / step_time / 1e9:.1f} GFLOP/s)")
    print(f"its matmuls alone: {floor_time * 1e3:.1f} ms ({flops / floor_time / 1e9:.1f} GFLOP/s)")
    print(f"ratio: {step_time / floor_time:.3f}x")
    assert step_time > 0 and floor_time > 0


if __name__ == "__main__":
    main()
