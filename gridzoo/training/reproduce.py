"""Re-train a run from its record and say what matches: the check that a committed number can be made again.

A record (a run folder, or a sweep record: ``config.json`` and ``run.json``, with ``metrics.json`` and, where
kept, ``model.safetensors``) names everything the run depended on. :func:`reproduce` trains the same config again
under the recorded thread count into a new folder and compares every final metric (and the weights, where the
original kept them). On the same kind of machine with the same thread count and library versions the run is
bit-identical; where any of those differ, the report says which, since that is the usual reason for a mismatch.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridzoo.errors import GridzooError


@dataclass
class Reproduction:
    original: Path
    run_dir: Path
    threads: int
    metrics: list[tuple[str, float | None, float | None, str]]  # name, recorded, reproduced, verdict
    weights: str  # "identical", "differ (max |Δ| ...)", or "not kept in the record"
    differences: list[str] = field(default_factory=list)  # machine/library facts that differ from the record

    @property
    def identical(self) -> bool:
        return all(v == "identical" for *_, v in self.metrics) and self.weights in ("identical", "not kept in the record")


def _verdict(recorded: Any, reproduced: Any, rel: float = 1e-6) -> str:
    if recorded is None and reproduced is None:
        return "identical"
    if not isinstance(recorded, (int, float)) or not isinstance(reproduced, (int, float)):
        return "missing"
    if recorded == reproduced or (math.isnan(recorded) and math.isnan(reproduced)):
        return "identical"
    if math.isclose(recorded, reproduced, rel_tol=rel, abs_tol=1e-12):
        return f"within {rel:g}"
    return "differs"


def reproduce(record: str | Path, out: str | Path, *, console=None) -> Reproduction:
    """Train ``record``'s config again into the new folder ``out`` under its recorded thread count."""
    from gridzoo.config import load_experiment
    from gridzoo.evaluation import read_config_json
    from gridzoo.run_folder import read_run_file
    from gridzoo.runtime.provenance import machine_record
    from gridzoo.runtime.threads import apply_threads
    from gridzoo.training.run import train

    record = Path(record)
    config = read_config_json(record)
    run = read_run_file(record)
    recorded_metrics = json.loads((record / "metrics.json").read_text()) if (record / "metrics.json").is_file() else None
    if run.get("status") != "finished" or recorded_metrics is None:
        raise GridzooError(f"{record}: not a finished run's record (run.json status {run.get('status')!r}, "
                           "metrics.json needed); only finished runs can be reproduced")
    machine = run.get("machine") or {}
    if "threads" not in machine:
        raise GridzooError(f"{record}: its run.json records no thread count (made before gridzoo recorded one), so "
                           "it cannot be reproduced bit for bit; re-train it with `gridzoo train` and compare by hand")
    experiment = load_experiment(data=config)
    threads = apply_threads(int(machine["threads"]))
    result = train(experiment, Path(out), console=console, live=False,
                   meta={"source": f"reproduction of {record}", "reproduces": str(record)})
    now = machine_record(experiment.training.device)
    differences = [f"{key}: recorded {machine.get(key)!r}, now {now.get(key)!r}"
                   for key in ("cpu", "threads", "flush_denormal", "versions", "gridzoo_commit")
                   if machine.get(key) != now.get(key)]
    reproduced = json.loads((result.run_dir / "metrics.json").read_text())
    rows = [(k, recorded_metrics.get(k), reproduced.get(k), _verdict(recorded_metrics.get(k), reproduced.get(k)))
            for k in sorted(set(recorded_metrics) | set(reproduced))]
    weights = "not kept in the record"
    if (record / "model.safetensors").is_file():
        from gridzoo.weights import read_safetensors

        a = read_safetensors(record / "model.safetensors", str(record))
        b = read_safetensors(result.run_dir / "model.safetensors", str(result.run_dir))
        if a.keys() != b.keys():
            weights = "differ (other tensors)"
        else:
            worst = max(float((a[k].double() - b[k].double()).abs().max()) if a[k].numel() else 0.0 for k in a)
            weights = "identical" if all(a[k].equal(b[k]) for k in a) else f"differ (max |Δ| {worst:.3g})"
    return Reproduction(record, result.run_dir, threads, rows, weights, differences)
