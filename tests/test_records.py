"""Committable run records: a study continues from them on a fresh clone, and its report needs nothing else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gridzoo.sweeps.report import make_report
from gridzoo.sweeps.runner import RECORD_FILES, run_sweep

SPEC = """
name = "recorded"
base = "nfl2022-dos-mini"
seeds = [0, 1]
samples = 2000
records = "study-records"

[set]
"training.steps" = 12
"training.batch_size" = 16
"training.eval_every" = 12
"training.log_every" = 4
"training.checkpoint_every" = 6
"training.eval_batch_size" = 32
"architecture.hidden_size" = 24
"encoder.n_cells" = 32

[[grid]]
"encoder.sigma" = [0.12, 0.2]
"""


def _report_rows(folder: Path) -> tuple[list, list]:
    report = make_report(folder, ("encoder.sigma",), draw=False)
    runs = [{k: v for k, v in r.items() if k not in ("from_record", "seconds")} for r in report.runs]
    return report.groups, runs


def test_a_sweep_continues_from_its_records_alone_and_reports_the_same(tmp_path, monkeypatch):
    study = tmp_path / "study"
    study.mkdir()
    spec = study / "spec.toml"
    spec.write_text(SPEC)
    runs, summary = run_sweep(spec, tmp_path / "out")
    assert summary.counts == {"finished": 4}
    records = study / "study-records"
    for r in runs:
        assert {p.name for p in (records / "runs" / r.id).iterdir()} == set(RECORD_FILES)
        assert (records / "results" / f"{r.id}.json").is_file()
        run_json = json.loads((records / "runs" / r.id / "run.json").read_text())
        assert run_json["machine"]["threads"] >= 1 and run_json["cpu_seconds"] > 0
    assert not list(records.rglob("*.safetensors")) and not list(records.rglob("*.ckpt"))
    groups, rows = _report_rows(tmp_path / "out")

    # A fresh clone: the study folder with its records, no sweep folder, no run folders, no weights anywhere.
    clone = tmp_path / "clone"
    shutil.copytree(study, clone)
    import gridzoo.training

    def no_training(*args, **kwargs):
        raise AssertionError("a recorded run was trained again")

    monkeypatch.setattr(gridzoo.training, "train", no_training)
    monkeypatch.setattr(gridzoo.training, "resume", no_training)
    _, again = run_sweep(clone / "spec.toml", tmp_path / "fresh-out")
    assert again.skipped == 4 and again.counts == {}
    assert _report_rows(tmp_path / "fresh-out") == (groups, rows)
    assert _report_rows(clone / "study-records") == (groups, rows)  # the records folder is a report's input too


def test_a_grown_spec_trains_only_its_new_runs(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    spec = study / "spec.toml"
    spec.write_text(SPEC.replace("seeds = [0, 1]", "seeds = [0]"))
    run_sweep(spec, tmp_path / "out")
    spec.write_text(SPEC)
    _, summary = run_sweep(spec, tmp_path / "out2")
    assert summary.skipped == 2 and summary.counts == {"finished": 2}
    manifest = json.loads((study / "study-records" / "manifest.json").read_text())
    assert len(manifest["order"]) == 4 and "records_dir" not in manifest
