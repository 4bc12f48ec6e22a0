"""A run reproduces bit for bit from its record on the same machine, and a mismatch is reported, not hidden."""

from __future__ import annotations

import json
import shutil

import torch

from gridzoo.cli import main
from gridzoo.config import load_experiment
from gridzoo.training import train
from gridzoo.training.reproduce import reproduce

from conftest import tiny_config


def test_a_short_run_reproduces_bit_for_bit_from_its_record(tmp_path):
    train(load_experiment(data=tiny_config(steps=30)), tmp_path / "run", live=False)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["machine"]["threads"] == torch.get_num_threads() and run["machine"]["versions"]["torch"]
    result = reproduce(tmp_path / "run", tmp_path / "again")
    assert result.identical and result.weights == "identical", (result.metrics, result.weights)
    assert {name for name, *_ in result.metrics} >= {"decoding_error_cm", "step"}
    # A sweep-style record (no weights): metrics alone are compared.
    record = tmp_path / "record"
    record.mkdir()
    for name in ("config.json", "run.json", "metrics.json", "metrics.csv"):
        shutil.copy(tmp_path / "run" / name, record / name)
    assert reproduce(record, tmp_path / "again2").identical


def test_a_mismatch_is_reported_with_exit_4(tmp_path, capsys):
    train(load_experiment(data=tiny_config(steps=20)), tmp_path / "run", live=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    metrics["decoding_error_cm"] += 1.0
    (tmp_path / "run" / "metrics.json").write_text(json.dumps(metrics))
    code = main(["train", "--reproduce", str(tmp_path / "run"), "--out", str(tmp_path / "again")])
    text = capsys.readouterr().out
    assert code == 4 and "differs" in text and "bit for bit: no" in text


def test_a_record_without_a_thread_count_is_refused_clearly(tmp_path, capsys):
    train(load_experiment(data=tiny_config(steps=10)), tmp_path / "run", live=False)
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    del run["machine"]
    (tmp_path / "run" / "run.json").write_text(json.dumps(run))
    assert main(["train", "--reproduce", str(tmp_path / "run"), "--out", str(tmp_path / "again")]) == 2
    assert "thread count" in capsys.readouterr().err
    assert not (tmp_path / "again").exists()
