"""Benchmarks cannot rot: every script in benchmarks/ runs in its smoke mode (tiny sizes) and its sides agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if p.name != "references.py")


def test_every_benchmark_script_is_smoke_tested():
    assert set(SCRIPTS) == set(SMOKE), "a benchmark script without a smoke test: add it to SMOKE"


SMOKE = {
    "gridscores.py": ("agree to 1e-6",),
    "trajectories.py": ("smoke: gridzoo",),
    "threads.py": ("gridzoo chooses",),
    "sorscher_step.py": ("ratio:",),
    "lightning_overhead.py": ("ratio",),
    "training.py": ("first losses agree", "ratio gridzoo / bare", "matmul floor", "whole 4-step run"),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_smoke_mode(script):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDZOO_DEEPMIND") and k != "GRIDZOO_SORSCHER"}
    env["GRIDZOO_THREADS"] = "1"
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), "--smoke"], cwd=BENCHMARKS, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    for expected in SMOKE[script]:
        assert expected in done.stdout, (expected, done.stdout[-2000:])
