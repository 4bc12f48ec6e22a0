"""Training end to end with Lightning: it learns, it is deterministic, and resume equals uninterrupted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytorch_lightning as pl
import pytest
import torch
from safetensors.torch import load_file

from gridzoo.config import load_experiment
from gridzoo.errors import TrainingInterrupted
from gridzoo.model import build_model
from gridzoo.training import resume, train

from conftest import tiny_config


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "model.safetensors"))


def test_training_clearly_beats_the_untrained_network(tmp_path):
    experiment = load_experiment(
        data=tiny_config(steps=300, eval_every=300, log_every=100, checkpoint_every=300, lr=5e-3)
    )
    result = train(experiment, tmp_path / "run", live=False)
    before = result.initial_metrics["decoding_error_cm"]
    after = result.metrics["decoding_error_cm"]
    assert before > 50  # an untrained network decodes near chance in a 2.2 m box
    assert after < 0.6 * before, (before, after)
    run = tmp_path / "run"
    assert {"config.json", "run.json", "metrics.csv", "metrics.json", "model.safetensors"} <= {p.name for p in run.iterdir()}
    assert (run / "checkpoints" / "last.ckpt").is_file()
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "finished" and meta["step"] == 300
    assert meta["components"]["architecture"]["distribution"] == "gridzoo"
    # The centres are saved with the weights.
    assert _weights(run)["encoders.0.centres"].shape == (64, 1, 2)  # (cells, fields, xy)


class _InterruptAt(pl.Callback):
    """Simulates Ctrl-C: Lightning catches KeyboardInterrupt exactly as it would from the terminal."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise KeyboardInterrupt


def test_interrupt_then_resume_equals_uninterrupted(tmp_path):
    experiment = load_experiment(data=tiny_config(steps=40))
    train(experiment, tmp_path / "straight", live=False)
    with pytest.raises(TrainingInterrupted) as exc:
        train(experiment, tmp_path / "broken", live=False, callbacks=[_InterruptAt(17)])
    assert exc.value.step == 17
    assert json.loads((tmp_path / "broken" / "run.json").read_text())["status"] == "interrupted"
    resume(tmp_path / "broken", live=False)
    straight, resumed = _weights(tmp_path / "straight"), _weights(tmp_path / "broken")
    assert straight.keys() == resumed.keys()
    for name in straight:
        assert torch.equal(straight[name], resumed[name]), name


def test_same_seed_same_weights_other_seed_differs(tmp_path):
    a = load_experiment(data=tiny_config(steps=5))
    b = load_experiment(data=tiny_config(steps=5, seed=4))
    for name, experiment in (("a1", a), ("a2", a), ("b", b)):
        train(experiment, tmp_path / name, live=False)
    w1, w2, w3 = (_weights(tmp_path / n) for n in ("a1", "a2", "b"))
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert not torch.equal(w1["encoders.0.centres"], w3["encoders.0.centres"])


def test_resume_can_only_extend_steps(tmp_path):
    experiment = load_experiment(data=tiny_config(steps=10))
    train(experiment, tmp_path / "run", live=False)
    with pytest.raises(Exception, match="only accepts --set training.steps"):
        resume(tmp_path / "run", ["training.lr=1"], live=False)
    result = resume(tmp_path / "run", ["training.steps=20"], live=False)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["step"] == 20
    assert "decoding_error_cm" in result.metrics


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_from_the_cli_saves_a_checkpoint_at_the_step_it_reports_and_resumes(tmp_path, signum):
    config = tmp_path / "e.toml"
    config.write_text(
        '[environment]\nname = "box"\n[encoder]\nname = "gaussian"\nn_cells = 32\n'
        '[architecture]\nname = "rnn"\nhidden_size = 32\n'
        "[training]\nsteps = 100000\nbatch_size = 8\nseq_len = 5\nlog_every = 5\neval_every = 100000\n"
        "checkpoint_every = 100000\n"
    )
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridzoo", "train", str(config), "--out", str(run)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    history = run / "metrics.csv"
    deadline = time.time() + 120
    while time.time() < deadline and not (history.exists() and "loss" in history.read_text()):
        time.sleep(0.2)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "gridzoo train --resume" in err and "Traceback" not in err
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "interrupted" and meta["step"] > 0
    # The only periodic checkpoint would be at step 100000: this one was saved by the signal, at its step.
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False, map_location="cpu")
    assert checkpoint["global_step"] == meta["step"]
    done = subprocess.run(
        [sys.executable, "-m", "gridzoo", "train", "--resume", str(run), "--set", f"training.steps={meta['step'] + 3}"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"from step {meta['step']} of {meta['step'] + 3}" in " ".join(done.stdout.split())  # the resume line
    assert json.loads((run / "run.json").read_text())["status"] == "finished"


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam"},
        {"optimizer": "rmsprop", "momentum": 0.9},
        {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05},
        {"optimizer": "adagrad", "lr": 0.05},
        {"optimizer": "adam", "grad_clip": 1e-6, "grad_clip_algorithm": "value"},
        {"optimizer": "adam", "grad_clip": 1e-3, "grad_clip_algorithm": "norm"},
    ],
)
def test_optimizers_and_clipping_train(options, tmp_path):
    experiment = load_experiment(data=tiny_config(steps=4, eval_every=4, **options))
    train(experiment, tmp_path / "run", live=False)
    after = _weights(tmp_path / "run")
    untrained = build_model(experiment).state_dict()
    moved = max(float((after[k] - untrained[k]).abs().max()) for k in after if k.startswith("architecture."))
    assert moved > 0
    if options.get("grad_clip_algorithm") == "value" and options["optimizer"] == "adam":
        # Adam normalises the clipped gradient, so each step still moves a weight by at most about lr.
        assert moved <= 4 * experiment.training.lr * 1.01
