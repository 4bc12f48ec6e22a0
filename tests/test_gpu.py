"""The GPU path: trajectories, training and evaluation on CUDA. These run whenever torch sees a GPU and skip
otherwise; everything they exercise has a CPU path that the rest of the suite tests."""

from __future__ import annotations

import pytest
import torch

import gridzoo
from gridzoo.config import load_experiment
from gridzoo.evaluation import evaluate
from gridzoo.seeding import generator
from gridzoo.training import train

from conftest import tiny_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device (the CPU path is tested elsewhere)")

ARENAS = [("box", {}), ("circle", {}), ("polygon", {"shape": "two_compartments"}), ("polygon", {"shape": "l_shape"}),
          ("cube", {})]


@pytest.mark.parametrize("name,params", ARENAS)
def test_trajectories_on_the_gpu_stay_inside_and_follow_the_motion_model(name, params):
    env = gridzoo.build("environments", name, **params)
    gpu = env.sample(512, 100, generator=generator(0, 2, 0, device="cuda"), device="cuda")
    again = env.sample(512, 100, generator=generator(0, 2, 0, device="cuda"), device="cuda")
    assert gpu.position.device.type == "cuda" and gpu.velocity.device.type == "cuda"
    assert torch.equal(gpu.position, again.position)  # a seed fixes a batch on the GPU too
    assert bool(env.contains(gpu.position).all())
    torch.testing.assert_close(gpu.start_position[:, None] + gpu.velocity.cumsum(1), gpu.position, atol=1e-4, rtol=0)
    cpu = env.sample(512, 100, generator=generator(0, 2, 0), device="cpu")
    # Different random streams, the same model: step lengths and turning agree in distribution.
    step = lambda t: t.velocity.norm(dim=-1).mean().item()  # noqa: E731
    assert step(gpu) == pytest.approx(step(cpu), rel=0.05)


def test_training_on_the_gpu_learns_and_its_weights_load_on_the_cpu(tmp_path):
    result = train(load_experiment(data=tiny_config(device="cuda", steps=60)), tmp_path / "run", live=False)
    assert result.metrics["decoding_error_cm"] < result.initial_metrics["decoding_error_cm"]
    on_cpu = evaluate(tmp_path / "run", samples=4000, device="cpu", draw=False, null_seeds=2, out=tmp_path / "cpu")
    on_gpu = evaluate(tmp_path / "run", samples=4000, device="cuda", draw=False, null_seeds=2, out=tmp_path / "gpu")
    # The analysis trajectories differ between devices (their random streams do), so the numbers agree only
    # statistically; both must be finite and of the same order.
    for key in ("decoding_error_cm", "score_60_max"):
        assert on_cpu.values[key] == pytest.approx(on_gpu.values[key], rel=0.5)
