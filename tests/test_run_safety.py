"""Crash safety of runs and sweeps: divergence is never "finished", resume keeps what is done, one process per
folder, a kill at any write is recoverable, and a killed sweep leaves no worker behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gridzoo import zoo
from gridzoo.cli import main
from gridzoo.config import load_experiment
from gridzoo.errors import FolderLockedError, GridzooError
from gridzoo.training import resume, train

from conftest import tiny_config


def _toml(path: Path, **training) -> Path:
    cfg = tiny_config(**training)
    lines = []
    for section in ("environment", "encoder", "architecture", "training"):
        lines.append(f"[{section}]")
        for key, value in cfg[section].items():
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _gridzoo(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gridzoo", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_a_nan_run_is_recorded_as_diverged_exits_non_zero_and_cannot_be_exported(tmp_path, capsys):
    config = _toml(tmp_path / "e.toml", optimizer="sgd", lr=1e12, steps=30)
    run = tmp_path / "run"
    assert main(["train", str(config), "--out", str(run)]) == 3
    err = capsys.readouterr().err
    assert "diverged" in err and "Traceback" not in err and "Finished" not in err
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "diverged" and "not finite" in meta["reason"] or "nan" in meta["reason"]
    assert not (run / "model.safetensors").exists() and not (run / "metrics.json").exists()
    with pytest.raises(zoo.ZooError, match="diverged, not finished"):
        zoo.export(run, "nan-net", registry=tmp_path / "reg")
    assert main(["train", "--resume", str(run)]) == 2  # resuming would repeat the divergence
    assert "diverged at step" in capsys.readouterr().err


def test_resuming_a_finished_run_is_a_no_op_that_keeps_its_metrics(tmp_path, capsys):
    run = tmp_path / "run"
    train(load_experiment(data=tiny_config(steps=20)), run, live=False)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main(["train", "--resume", str(run)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    for name in ("metrics.json", "model.safetensors", "metrics.csv", "config.json"):
        assert after[name] == before[name], name
    assert "decoding_error_cm" in json.loads((run / "metrics.json").read_text())
    with pytest.raises(GridzooError, match="already trained 20 steps"):
        resume(run, ["training.steps=10"], live=False)


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["run:before-model", "run:before-metrics", "run:before-finished"])
def test_a_kill_during_the_final_writes_is_completed_by_resume(tmp_path, crash):
    config = _toml(tmp_path / "e.toml", steps=20)
    straight = tmp_path / "straight"
    assert _gridzoo("train", str(config), "--out", str(straight)).returncode == 0
    run = tmp_path / "run"
    killed = _gridzoo("train", str(config), "--out", str(run), env={"GRIDZOO_CRASH_AT": crash})
    assert killed.returncode == -signal.SIGKILL
    assert json.loads((run / "run.json").read_text())["status"] != "finished"
    done = _gridzoo("train", "--resume", str(run))
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    expected = json.loads((straight / "metrics.json").read_text())
    assert json.loads((run / "metrics.json").read_text()) == expected
    from safetensors.torch import load_file

    a, b = load_file(str(run / "model.safetensors")), load_file(str(straight / "model.safetensors"))
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    rows = (run / "metrics.csv").read_text().splitlines()
    assert len(rows) == len(set(rows)) == len((straight / "metrics.csv").read_text().splitlines())
    assert not [p for p in run.rglob("*.tmp")]  # no stray temporary file


def _wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_two_resumes_of_one_folder_are_refused_naming_the_holder(tmp_path):
    run = tmp_path / "run"
    train(load_experiment(data=tiny_config(steps=10)), run, live=False)
    first = subprocess.Popen([sys.executable, "-m", "gridzoo", "train", "--resume", str(run), "--set",
                              "training.steps=100000"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: json.loads((run / "run.json").read_text()).get("status") == "running")
        with pytest.raises(FolderLockedError, match=f"in use by process {first.pid}"):
            resume(run, ["training.steps=20"], live=False)
        assert main(["evaluate", str(run), "--out", str(run), "--no-figures"]) == 2  # same folder: refused too
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    # The lock dies with its holder: once the first process is gone, the folder can be resumed.
    step = json.loads((run / "run.json").read_text())["step"]
    resume(run, [f"training.steps={step + 2}"], live=False)
    assert json.loads((run / "run.json").read_text())["step"] == step + 2


def test_stale_temporary_files_of_killed_writers_are_cleaned(tmp_path):
    run = tmp_path / "run"
    train(load_experiment(data=tiny_config(steps=10)), run, live=False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = run / "checkpoints" / f".last.ckpt.pid{int(dead.stdout)}.abc123.tmp"
    stale.write_text("half a checkpoint")
    mine = run / "checkpoints" / f".last.ckpt.pid{os.getpid()}.keep.tmp"  # a live writer's file stays
    mine.write_text("in progress")
    resume(run, ["training.steps=20"], live=False)
    assert not stale.exists() and mine.exists()


def test_cuda_on_a_machine_without_it_leaves_nothing_and_resume_can_switch_device(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    config = _toml(tmp_path / "e.toml", device="cuda", steps=5)
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 2
    assert "no CUDA device" in capsys.readouterr().err and not (tmp_path / "run").exists()
    run = tmp_path / "run2"
    train(load_experiment(data=tiny_config(steps=5)), run, live=False)
    assert main(["train", "--resume", str(run), "--set", "training.steps=8", "--set", "training.device=cpu"]) == 0


# --- sweeps --------------------------------------------------------------------------------------------------

SPEC = """
base = "demo"
seeds = [0, 1, 2, 3]
samples = 500
[set]
"training.steps" = {steps}
"training.batch_size" = 8
"training.seq_len" = 5
"training.eval_every" = {steps}
"training.checkpoint_every" = 10
"training.eval_batch_size" = 8
"architecture.hidden_size" = 16
"encoder.n_cells" = 16
"""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_kill_9_of_a_two_worker_sweep_leaves_no_worker_and_a_second_sweep_is_refused(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC.format(steps=100000))
    out = tmp_path / "sweep"
    proc = subprocess.Popen([sys.executable, "-m", "gridzoo", "sweep", str(spec), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: len(list((out / "runs").glob("*/metrics.csv"))) >= 2)
        workers = [c for c in _children(proc.pid) if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        assert len(workers) >= 2
        second = _gridzoo("sweep", str(spec), "--out", str(out), "--dry-run")
        assert second.returncode == 0  # a dry run writes nothing and needs no lock
        second = _gridzoo("sweep", str(spec), "--out", str(out))
        assert second.returncode == 2 and f"in use by process {proc.pid}" in second.stderr
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    _wait_for(lambda: not any(_alive(w) for w in workers), timeout=20)


def test_a_planted_cache_entry_is_never_trusted(tmp_path, monkeypatch):
    from gridzoo import cache

    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRIDZOO_NO_CACHE", raising=False)
    cache.put("best_unit_null", "arch-key", [[0.5, 0.4]])
    assert cache.get("best_unit_null", "arch-key") == [[0.5, 0.4]]  # this user's own entry is used
    entry_file = next((cache.cache_dir() / "best_unit_null").glob("*.json"))
    entry = json.loads(entry_file.read_text())
    entry["value"] = [[-9.0, -9.0]]  # an edit that would make every unit beat the null
    entry_file.write_text(json.dumps(entry))
    assert cache.get("best_unit_null", "arch-key") is None
    # A whole planted entry without this user's secret, and an entry under another key, are refused too.
    entry_file.write_text(json.dumps({"key": "arch-key", "value": [[-9.0]], "mac": "0" * 64}))
    assert cache.get("best_unit_null", "arch-key") is None
    cache.put("best_unit_null", "other-key", [[1.0]])
    other = next(p for p in (cache.cache_dir() / "best_unit_null").glob("*.json") if p != entry_file)
    entry_file.write_bytes(other.read_bytes())
    assert cache.get("best_unit_null", "arch-key") is None
    secret = cache.cache_dir() / cache.SECRET_FILE
    assert secret.stat().st_mode & 0o777 == 0o600


def test_a_run_killed_before_its_first_checkpoint_resumes_without_duplicate_or_torn_rows(tmp_path):
    import csv
    import shutil

    from gridzoo.config import load_experiment
    from gridzoo.training import resume, train

    from conftest import tiny_config

    run = tmp_path / "run"
    train(load_experiment(data=tiny_config(steps=10, checkpoint_every=1000, eval_every=1000)), run, live=False)
    # What kill -9 after the step-0 evaluation and before any checkpoint leaves: rows, a torn last line, no weights.
    shutil.rmtree(run / "checkpoints")
    (run / "model.safetensors").unlink()
    (run / "metrics.json").unlink()
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "status": "interrupted", "step": 0}))
    with open(run / "metrics.csv", "a") as f:
        f.write("7,lo")
    resume(run, live=False)
    rows = list(csv.DictReader(open(run / "metrics.csv", newline="")))
    step0 = [r["name"] for r in rows if r["step"] == "0"]
    assert len(step0) == len(set(step0)) and "decoding_error_cm" in step0  # each step-0 value once
    assert all(r["value"] not in (None, "") for r in rows) and not [r for r in rows if r["name"] == "lo"]
