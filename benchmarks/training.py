"""gridzoo's training step against a bare PyTorch loop, the matmul floors, and a whole run's CPU time.

All on one thread, in one process, in interleaved rounds (gridzoo, bare, gridzoo, bare, ...), reporting minima
and medians of the rounds' median step times:

- **gridzoo**: a real ``gridzoo.training.train`` of the preset (Lightning, gridzoo's callbacks, its data module,
  flush-to-zero), timed between consecutive batch ends;
- **bare**: the same network, targets and loss written out in plain PyTorch (``torch.rnn_relu``, the difference
  of softmaxes from coordinate differences, soft cross-entropy, the recurrent L2 term, ``torch.optim.Adam``) on the
  same trajectories, under the same flush-to-zero and allocator settings as gridzoo (so the ratio is gridzoo's
  overhead alone), and once more with torch's defaults (what a hand-written loop gets). Its first loss must equal
  gridzoo's (same weights, same batch) or the script stops;
- **floors**: the step's matrix products alone (forward, and both gradients of each), on random tensors of the
  same shapes, in float32 and in bfloat16;
- **whole run** (``--baseline-python``): ``gridzoo train --preset P --set training.steps=N --threads 1`` as a
  child process under this Python and under another environment's (e.g. a checkout of an earlier commit),
  interleaved, comparing their CPU time (user + system, from the kernel) and the sha256 of their weights.

    python benchmarks/training.py                                # nfl2022-dos-mini, 5 rounds
    python benchmarks/training.py --baseline-python /tmp/old/.venv/bin/python --run-steps 1000 --run-rounds 3
    python benchmarks/training.py --smoke                        # tiny sizes: both sides run and agree (CI)

Goals (issue #20): gridzoo's step at most 1.15x the bare loop; a 1000-step run at least 1.25x cheaper than at
commit a3301d0, with bit-identical weights.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from rich.console import Console

from gridzoo.config import load_experiment
from gridzoo.runtime.threads import apply_threads


def experiment(preset: str, steps: int, smoke: bool):
    overrides = [f"training.steps={steps}", "training.eval_every=100000", "training.checkpoint_every=100000"]
    if smoke:
        overrides += ["architecture.hidden_size=32", "encoder.n_cells=64", "training.batch_size=8"]
    from gridzoo.presets import preset_path

    return load_experiment(preset_path(preset), overrides)


class StepTimer(pl.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self.last = 0.0

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        if not self.times and not self.last:
            self.last = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        now = time.perf_counter()
        self.times.append(now - self.last)
        self.last = now


def gridzoo_steps(exp, out: Path) -> tuple[list[float], float]:
    """A real gridzoo run; the per-step times after the first, and the first step's loss."""
    from gridzoo.training import train

    timer = StepTimer()
    losses: list[float] = []

    class FirstLoss(pl.Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            if not losses:
                losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))

    with open(os.devnull, "w") as quiet:
        train(exp, out, live=False, console=Console(file=quiet), callbacks=[timer, FirstLoss()])
    return timer.times[1:], losses[0]


def bare_steps(exp, steps: int, fast: bool = True) -> tuple[list[float], float]:
    """The same network, DoS targets and loss in plain PyTorch, started from gridzoo's weights and centres;
    ``fast``: under gridzoo's flush-to-zero and allocator settings."""
    from gridzoo.runtime.numerics import fast_numerics

    with fast_numerics(fast):
        return _bare_steps(exp, steps)


def _bare_steps(exp, steps: int) -> tuple[list[float], float]:
    from gridzoo.model import build_model
    from gridzoo.seeding import Stream, generator

    model = build_model(exp)
    arch, encoder, env = model.architecture, model.encoders[0], model.environment
    t, cfg = exp.training, encoder.config
    centres = encoder.centres[:, 0].clone()  # (Np, 2)
    sigma, surround = float(encoder.sigma[0, 0]), float(encoder.surround_sigma[0, 0])
    w_init = arch.init_state.weight.detach().clone().requires_grad_(True)
    w_ih = arch.input_kernel.weight.detach().clone().requires_grad_(True)
    w_hh = arch.recurrent_kernel.weight.detach().clone().requires_grad_(True)
    w_out = arch.readouts[0].weight.detach().clone().requires_grad_(True)
    params = [w_init, w_ih, w_hh, w_out]
    optimizer = torch.optim.Adam(params, lr=t.lr, eps=1e-7)
    l2 = exp.architecture.config.recurrent_l2

    def targets(pos: torch.Tensor) -> torch.Tensor:
        d2 = (pos[..., None, 0] - centres[:, 0]).square() + (pos[..., None, 1] - centres[:, 1]).square()
        code = torch.softmax(-d2 / (2 * sigma**2), -1) - torch.softmax(-d2 / (2 * surround**2), -1)
        code = code - code.amin(-1, keepdim=True)
        return code / code.sum(-1, keepdim=True)

    times, first = [], None
    last = time.perf_counter()
    for step in range(steps):
        batch = env.sample(t.batch_size, t.seq_len, generator=generator(t.seed, Stream.TRAIN_BATCH, step))
        h0 = targets(batch.start_position) @ w_init.T
        hidden, _ = torch.rnn_relu(batch.velocity, h0[None], [w_ih, w_hh], False, 1, 0.0, True, False, True)
        logits = hidden @ w_out.T
        target = targets(batch.position)
        loss = -(target * torch.log_softmax(logits, -1)).sum(-1).mean() + l2 * w_hh.pow(2).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if first is None:
            first = loss.item()
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return times[1:], first


def matmul_floor(exp, dtype: torch.dtype, repeats: int) -> tuple[float, float]:
    """Seconds and GFLOP of one step's matrix products (forward; gradients of input and weight) in ``dtype``."""
    t, a = exp.training, exp.architecture.config
    b, s, h, n = t.batch_size, t.seq_len, a.hidden_size, exp.encoders[0].config.n_cells
    r = lambda *shape: torch.randn(*shape, dtype=dtype)  # noqa: E731
    shapes = [(b, n, h), (b * s, 2, h), *[(b, h, h)] * s, (b * s, h, n)]  # (rows, inner, cols) of each product
    mats = [(r(m, k), r(k, c), r(m, c)) for m, k, c in shapes]
    flops = sum(3 * 2 * m * k * c for m, k, c in shapes)

    def once() -> None:
        for x, w, g in mats:
            x @ w          # forward
            g @ w.T        # gradient of the input
            x.T @ g        # gradient of the weight

    once()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return statistics.median(times), flops / 1e9


def weights_digest(path: Path) -> str:
    """sha256 over the tensors of a safetensors file (names, dtypes, shapes, bytes), in name order: two files
    with the same tensors written in another order or with other metadata have the same digest."""
    from safetensors.numpy import load_file

    digest = hashlib.sha256()
    for name, array in sorted(load_file(str(path)).items()):
        digest.update(f"{name}:{array.dtype}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def whole_run(python: str, preset: str, steps: int, out: Path) -> tuple[float, str]:
    """CPU seconds (user + system, the child's own) of a whole ``gridzoo train`` and the digest of its weights."""
    env = {**os.environ, "GRIDZOO_THREADS": "1", "OMP_NUM_THREADS": "1"}
    cmd = [python, "-m", "gridzoo", "train", "--preset", preset, "--set", f"training.steps={steps}", "--out",
           str(out), "--threads", "1"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, weights_digest(out / "model.safetensors")


def summary(label: str, values: list[float], unit: float = 1e3, suffix: str = " ms") -> str:
    return f"{label}: min {min(values) * unit:.2f}{suffix}, median {statistics.median(values) * unit:.2f}{suffix}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="nfl2022-dos-mini")
    parser.add_argument("--steps", type=int, default=150, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-python", help="another environment's python for the whole-run comparison")
    parser.add_argument("--run-steps", type=int, default=1000)
    parser.add_argument("--run-rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 2 rounds: both sides run and agree")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.rounds, args.run_steps, args.run_rounds = 6, 2, 4, 1
    apply_threads(1)
    from gridzoo.training.run import _quiet_lightning

    _quiet_lightning()
    exp = experiment(args.preset, args.steps, args.smoke)
    print(f"torch {torch.__version__}, 1 thread, {args.preset}{' (smoke sizes)' if args.smoke else ''}, "
          f"{args.steps} steps x {args.rounds} rounds, load average {os.getloadavg()[0]:.2f}")
    gz, bare, plain = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            g_times, g_loss = gridzoo_steps(exp, Path(tmp) / f"gz{i}")
            b_times, b_loss = bare_steps(exp, args.steps)
            p_times, _ = bare_steps(exp, args.steps, fast=False)
            if abs(g_loss - b_loss) > 1e-4 * abs(b_loss):
                sys.exit(f"the two sides disagree: first loss {g_loss} (gridzoo) against {b_loss} (bare)")
            gz.append(statistics.median(g_times))
            bare.append(statistics.median(b_times))
            plain.append(statistics.median(p_times))
    print(f"first losses agree: {g_loss:.6f} (gridzoo) and {b_loss:.6f} (bare)")
    print(summary("gridzoo step", gz))
    print(summary("bare step, same flush-to-zero and allocator settings", bare))
    print(summary("bare step, torch defaults", plain))
    print(f"ratio gridzoo / bare: {min(gz) / min(bare):.3f}x (minima), "
          f"{statistics.median(gz) / statistics.median(bare):.3f}x (medians)")
    f32, gflop = matmul_floor(exp, torch.float32, 20 if not args.smoke else 2)
    b16, _ = matmul_floor(exp, torch.bfloat16, 20 if not args.smoke else 2)
    print(f"matmul floor: {gflop:.3f} GFLOP; fp32 {f32 * 1e3:.2f} ms ({gflop / f32:.0f} GFLOP/s), "
          f"bf16 {b16 * 1e3:.2f} ms ({gflop / b16:.0f} GFLOP/s; {f32 / b16:.2f}x fp32)")
    print(f"gridzoo step / fp32 floor: {statistics.median(gz) / f32:.2f}x; bare / fp32 floor: "
          f"{statistics.median(bare) / f32:.2f}x")
    pythons = [("this", sys.executable)] + ([("baseline", args.baseline_python)] if args.baseline_python else [])
    if args.smoke or args.baseline_python:
        cpu: dict[str, list[float]] = {name: [] for name, _ in pythons}
        digests: dict[str, set[str]] = {name: set() for name, _ in pythons}
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.run_rounds):
                for name, python in (pythons if i % 2 == 0 else pythons[::-1]):
                    seconds, digest = whole_run(python, args.preset if not args.smoke else "demo", args.run_steps,
                                                Path(tmp) / f"{name}{i}")
                    cpu[name].append(seconds)
                    digests[name].add(digest)
        for name, _ in pythons:
            print(summary(f"whole {args.run_steps}-step run, {name} python", cpu[name], 1, " CPU-s"))
        if args.baseline_python:
            same = digests["this"] == digests["baseline"] and len(digests["this"]) == 1
            print(f"baseline / this: {min(cpu['baseline']) / min(cpu['this']):.3f}x (minima), "
                  f"{statistics.median(cpu['baseline']) / statistics.median(cpu['this']):.3f}x (medians); "
                  f"weights {'bit-identical' if same else 'DIFFER'} ({sorted(digests['this'])[0][:16]})")
            if not same:
                sys.exit(1)


if __name__ == "__main__":
    main()
