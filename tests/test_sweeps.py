"""Sweeps: planning and validation, resumability after SIGKILL, divergence, executors, the report."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gridzoo.cli import main
from gridzoo.errors import ConfigError
from gridzoo.sweeps.report import make_report
from gridzoo.sweeps.runner import run_sweep
from gridzoo.sweeps.spec import assignments, plan, read_spec

TINY = """
name = "tiny"
base = "nfl2022-dos-mini"
seeds = [0, 1]
samples = 2000

[set]
"training.steps" = {steps}
"training.batch_size" = 16
"training.eval_every" = {steps}
"training.log_every" = 10
"training.checkpoint_every" = 5
"training.eval_batch_size" = 32
"architecture.hidden_size" = 24

[[grid]]
"architecture.name" = ["rnn", "gru"]
"encoder" = [{{name = "cartesian"}}, {{name = "dos", n_cells = 32}}]
"""


def write_spec(tmp_path: Path, steps: int = 20, extra: str = "") -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(TINY.format(steps=steps) + extra)
    return path


def test_plan_expands_grids_seeds_and_random_draws(tmp_path):
    spec, base = read_spec(write_spec(tmp_path, extra='\n[[random]]\ncount = 3\nseed = 1\n[random.axes]\n'
                                      '"encoder.sigma" = {uniform = [0.08, 0.16]}\n'))
    combos = assignments(spec)
    assert len(combos) == (4 + 3) * 2
    runs = plan(spec, base)
    assert len(runs) == len({r.id for r in runs}) == 14
    sigmas = [r.config["encoder"]["sigma"] for r in runs if "encoder.sigma" in r.assignment]
    assert all(0.08 <= s <= 0.16 for s in sigmas) and len(set(sigmas)) == 3
    # A section axis replaces the whole section: the Cartesian runs carry no place-cell parameters.
    cartesian = [r for r in runs if r.config["encoder"]["name"] == "cartesian"]
    assert cartesian and all(set(r.config["encoder"]) == {"name"} for r in cartesian)


def test_by_seed_order_starts_every_arm_of_a_seed_first_and_keeps_the_ids(tmp_path):
    listed_spec, base = read_spec(write_spec(tmp_path))
    listed = plan(listed_spec, base)
    by_seed = plan(listed_spec.model_copy(update={"order": "by_seed"}), base)
    assert [r.assignment["training.seed"] for r in listed] == [0, 1] * 4
    assert [r.assignment["training.seed"] for r in by_seed] == [0] * 4 + [1] * 4
    assert sorted(r.id for r in listed) == sorted(r.id for r in by_seed)
    # Within a seed the listed order is kept.
    assert [r.id for r in by_seed[:4]] == [r.id for r in listed if r.assignment["training.seed"] == 0]
    with pytest.raises(ConfigError, match="order"):
        read_spec(_with_line(write_spec(tmp_path), 'order = "random"'))


def _with_line(path: Path, line: str) -> Path:
    text = path.read_text().replace('samples = 2000', f'samples = 2000\n{line}')
    path.write_text(text)
    return path


def test_every_run_is_validated_before_anything_runs(tmp_path, capsys):
    spec = write_spec(tmp_path, extra='\n[[grid]]\n"encoder.sigma" = [-1.0]\n')
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert "encoder.sigma: Input should be greater than 0" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "nfl2022-dos-mini"\nseeds = [0]\nsteps = 3\n')
    with pytest.raises(ConfigError, match="steps: Extra inputs are not permitted"):
        read_spec(bad)


def _result_times(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}


@pytest.mark.slow
def test_sigkill_then_rerun_loses_and_redoes_nothing(tmp_path):
    spec = write_spec(tmp_path, steps=60)
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "gridzoo", "sweep", str(spec), "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    while time.time() < deadline and len(list((out / "results").glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    before = _result_times(out)
    assert 2 <= len(before) < 8, "the kill should land part-way"
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    after = _result_times(out)
    assert len(after) == 8
    assert all(after[name] == mtime for name, mtime in before.items())  # no finished run was redone
    straight = tmp_path / "straight"
    run_sweep(spec, straight)
    killed_report = make_report(out, draw=False)
    assert (out / "report.csv").read_text() == make_report(straight, draw=False).csv_path.read_text()
    metrics = lambda d: {r["id"]: r.get("metrics") for r in make_report(d, draw=False).runs}  # noqa: E731
    assert metrics(out) == metrics(straight)
    assert all(g["finished"] == 2 for g in killed_report.groups)


def test_an_interrupted_run_stops_the_sweep_and_a_rerun_resumes_it(tmp_path, monkeypatch):
    # Ctrl-C or SIGTERM inside a run's training (gridzoo 0.2.0 recorded it as "failed", went on to the next run, and
    # a rerun never retried it).
    import gridzoo.training
    from gridzoo.errors import SweepInterrupted, TrainingInterrupted

    spec = write_spec(tmp_path, steps=10)
    out = tmp_path / "out"
    real_train, calls = gridzoo.training.train, []

    def interrupted_second_run(experiment, run_dir, **kwargs):
        calls.append(run_dir)
        if len(calls) == 2:
            raise TrainingInterrupted(run_dir, 3)
        return real_train(experiment, run_dir, **kwargs)

    monkeypatch.setattr(gridzoo.training, "train", interrupted_second_run)
    with pytest.raises(SweepInterrupted, match="rerun the same gridzoo sweep command"):
        run_sweep(spec, out, executor_options={"workers": 1})
    assert len(calls) == 2  # no run started after the interruption
    results = [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
    assert [r["status"] for r in results] == ["finished"]  # the interrupted run has no result
    monkeypatch.setattr(gridzoo.training, "train", real_train)
    runs, summary = run_sweep(spec, out, executor_options={"workers": 1})
    assert summary.counts == {"finished": 7} and len(list((out / "results").glob("*.json"))) == 8


def test_the_interruption_crosses_a_process_pool():
    import pickle

    from gridzoo.errors import SweepInterrupted, TrainingInterrupted

    for exc in (TrainingInterrupted("runs/x", 7), SweepInterrupted("sweeps/s", "abc", 7)):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc) and back.step == 7


def test_a_diverging_run_is_recorded_and_the_sweep_completes(tmp_path):
    spec = write_spec(tmp_path, extra='\n[[grid]]\n"training.optimizer" = ["sgd"]\n"training.lr" = [1e12]\n'
                                      '"encoder" = [{name = "cartesian"}]\n')
    out = tmp_path / "out"
    runs, summary = run_sweep(spec, out)
    assert summary.counts == {"finished": 8, "diverged": 2}
    results = [json.loads(p.read_text()) for p in (out / "results").glob("*.json")]
    diverged = [r for r in results if r["status"] == "diverged"]
    assert all("loss became" in r["error"] for r in diverged)
    report = make_report(out)
    assert sum(g["diverged"] for g in report.groups) == 2
    assert (out / "report.csv").is_file() and (out / "report_fractions.png").is_file()
    # Rerunning runs nothing: every run has a result, diverged ones included.
    _, again = run_sweep(spec, out)
    assert again.skipped == 10 and again.counts == {}


def test_local_pool_and_dry_run(tmp_path, capsys):
    spec = write_spec(tmp_path, steps=10)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "dry"), "--dry-run"]) == 0
    assert "8 runs (dry run" in capsys.readouterr().out and not (tmp_path / "dry").exists()
    _, summary = run_sweep(spec, tmp_path / "pool", executor_options={"workers": 2, "threads_per_worker": 1})
    assert summary.counts == {"finished": 8}


def test_the_spec_fixes_every_runs_threads_and_the_manifest_logs_each_session(tmp_path):
    spec = _with_line(write_spec(tmp_path, steps=5), "threads = 3")
    spec.write_text(spec.read_text().replace('"architecture.name" = ["rnn", "gru"]', '"architecture.name" = ["rnn"]')
                    .replace("seeds = [0, 1]", "seeds = [0]"))
    out = tmp_path / "out"
    before = torch.get_num_threads()
    run_sweep(spec, out, executor_options={"workers": 1, "threads_per_worker": 1})
    run_sweep(spec, out)  # a second command: nothing to train, one more session
    manifest = json.loads((out / "manifest.json").read_text())
    threads = {json.loads(p.read_text())["machine"]["threads"] for p in (out / "runs").glob("*/run.json")}
    assert threads == {3}  # the spec's, not the executor's 1
    sessions = manifest["sessions"]
    assert len(sessions) == 2 and all(s["threads_per_run"] == 3 and s["executor"] == "local" for s in sessions)
    assert sessions[0]["executor_options"]["threads_per_worker"] == 1
    assert {"cpu", "versions", "deterministic_algorithms"} <= set(sessions[0]["driver"])
    assert torch.get_num_threads() == before  # the in-process worker gave its count back


@pytest.mark.slow
def test_submitit_executor_with_its_local_backend(tmp_path):
    pytest.importorskip("submitit")
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY.format(steps=10).split("[[grid]]")[0].replace("seeds = [0, 1]", "seeds = [0, 1]"))
    _, summary = run_sweep(spec, tmp_path / "out", executor="submitit", executor_options={"cluster": "local"})
    assert summary.counts == {"finished": 2}
    assert (tmp_path / "out" / "submitit").is_dir()


@pytest.mark.slow
def test_ray_executor(tmp_path):
    pytest.importorskip("ray")
    spec = write_spec(tmp_path, steps=10)
    _, summary = run_sweep(spec, tmp_path / "out", executor="ray", executor_options={"cpus_per_run": 1})
    assert summary.counts == {"finished": 8}


def test_runs_csv_fills_every_axis_of_a_run_shared_by_two_grids(tmp_path):
    # A run planned by two grids records only the first grid's assignment; its other axis columns were blank.
    import csv

    from gridzoo.sweeps.report import write_runs_csv

    config = {"encoder": {"name": "dos", "sigma": 0.12}, "architecture": {"input_dropout": 0.0}}
    rows = [{"id": "shared", "status": "finished", "assignment": {"encoder.sigma": 0.12}, "config": config},
            {"id": "other", "status": "finished", "assignment": {"architecture.input_dropout": 0.5},
             "config": {"encoder": {"name": "dos", "sigma": 0.12}, "architecture": {"input_dropout": 0.5}}}]
    path = write_runs_csv(tmp_path / "runs.csv", rows)
    table = {r["id"]: r for r in csv.DictReader(path.open())}
    assert table["shared"]["architecture.input_dropout"] == "0" and table["other"]["encoder.sigma"] == "0.12"
    assert table["other"]["architecture.input_dropout"] == "0.5"


@pytest.mark.slow
def test_ctrl_c_on_a_two_worker_sweep_starts_no_new_run(tmp_path):
    # gridzoo 0.2.0 stopped the two running runs and then started, trained and evaluated all six queued ones; now
    # the sweep exits within seconds (6 s measured on the 2-core machine with a sweep running beside it).
    import os

    spec = write_spec(tmp_path, steps=5000)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "gridzoo", "sweep", str(spec), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list((out / "runs").glob("*/checkpoints/last.ckpt"))) < 2:
            time.sleep(0.5)
        assert len(list((out / "logs").glob("*.log"))) == 2
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground process group
        started = time.time()
        code = proc.wait(timeout=120)
        assert time.time() - started < 15, time.time() - started  # the bound
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert code == 130, proc.stderr.read()[-2000:]
    assert len(list((out / "logs").glob("*.log"))) == 2  # no queued run was started
    assert not list((out / "results").glob("*.json"))


@pytest.mark.slow
def test_a_worker_killed_like_an_oom_is_one_clear_line_not_a_crash(tmp_path):
    import os

    spec = write_spec(tmp_path, steps=3000)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "gridzoo", "sweep", str(spec), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list((out / "runs").glob("*/checkpoints/last.ckpt"))) < 1:
            time.sleep(0.2)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        workers = [int(c) for c in children
                   if "spawn" in open(f"/proc/{c}/cmdline", "rb").read().decode(errors="replace")]
        assert workers, children
        os.kill(workers[0], signal.SIGKILL)  # what the kernel's OOM killer does
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 2, err[-2000:]
    assert "a sweep worker died" in err and "Traceback" not in err, lines
