"""Running a sweep: a manifest, one folder and one result file per run, resumable after any interruption.

Layout of a sweep folder::

    manifest.json          the spec, every planned run (id, axis values, resolved config) and each sweep
                           command's session (executor, threads per run, the driving machine)
    runs/ID/               the run folder of each run (as `gridzoo train` makes)
    results/ID.json        each run's result, written atomically when the run ends: finished, diverged or failed
    logs/ID.log            each run's training output

Re-running the same command skips every run with a result, resumes a run that has a checkpoint, and restarts
one that has neither. A run whose loss becomes NaN or infinite is stopped and recorded as diverged; any other
error is recorded as failed with its message; the sweep goes on either way.

**Records.** A spec's ``records`` folder (or ``--records``) receives each finished or diverged run's record as
it ends: the same layout less the weights, checkpoints and logs (``manifest.json``, ``results/ID.json``,
``results/ID.units.npz``, ``runs/ID/{config.json, run.json, metrics.json, metrics.csv}``), small enough to
commit. A sweep started where a run's record exists takes its result from there and trains nothing, so a study
continues on any machine from its committed records; ``gridzoo report RECORDS`` works from them alone.
"""

from __future__ import annotations

import json
import math
import re
import os
import shutil
import time
import traceback
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

from gridzoo.errors import GridzooError, SweepInterrupted, TrainingDiverged, TrainingInterrupted
from gridzoo.io import write_json
from gridzoo.locking import lock_folder
from gridzoo.sweeps.spec import PlannedRun, plan, read_spec

MANIFEST = "manifest.json"
#: A run's id: the first 12 hex digits of its config's sha256 (see gridzoo.sweeps.spec.run_id).
RUN_ID = re.compile(r"[0-9a-f]{12}")
#: What a run's record keeps of its run folder (besides its result and best units' maps).
RECORD_FILES = ("config.json", "run.json", "metrics.json", "metrics.csv")
#: Set in a process once one of its runs has been interrupted (Ctrl-C, SIGTERM): it starts no further run. A pool
#: hands each worker its next task before the parent sees the interruption, so cancelling queued tasks in the
#: parent alone lets one more run start per worker.
_interrupted = False


@dataclass
class SweepSummary:
    out_dir: Path
    total: int
    skipped: int
    counts: dict[str, int]
    seconds: float


def write_manifest(out_dir: Path, spec_data: dict[str, Any], runs: list[PlannedRun],
                   records: Path | None = None) -> None:
    """Write the manifest, or check that the folder already holds this same sweep (the records folder it writes
    to may change: it is where records go, not what the sweep is)."""
    path = out_dir / MANIFEST
    planned = {r.id: {"assignment": r.assignment, "config": r.config} for r in runs}
    records_entry = {"records_dir": str(Path(records).resolve())} if records else {}
    if path.is_file():
        existing = json.loads(path.read_text())
        if set(existing["runs"]) != set(planned):
            raise GridzooError(
                f"{out_dir} holds a different sweep ({len(existing['runs'])} runs, {len(set(existing['runs']) ^ set(planned))} "
                "differ); choose another --out, or delete it to start over"
            )
        if existing.get("records_dir") != records_entry.get("records_dir"):
            existing.pop("records_dir", None)
            write_json(path, {**existing, **records_entry})
        return
    write_json(path, {"spec": spec_data, "order": [r.id for r in runs], "runs": planned, **records_entry})


def log_session(out_dir: Path, executor: str, runner: Any, spec_threads: int | None) -> None:
    """Append this sweep command to the manifest's ``sessions``: when, which executor (and its options), the
    threads each run gets and the driving machine (each run's own machine is in its run.json and result)."""
    from gridzoo.runtime.provenance import machine_record

    path = out_dir / MANIFEST
    manifest = json.loads(path.read_text())
    config = getattr(runner, "config", None)
    threads = spec_threads or (runner.threads() if hasattr(runner, "threads") else None)
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "executor": executor,
               "executor_options": config.model_dump(mode="json") if hasattr(config, "model_dump") else {},
               "threads_per_run": threads, "driver": machine_record()}
    write_json(path, {**manifest, "sessions": [*manifest.get("sessions", []), session]})


def write_records_manifest(records: Path, spec_data: dict[str, Any], runs: list[PlannedRun]) -> None:
    """The records folder's manifest: this sweep's plan (a grown spec rewrites it; records are kept by run id,
    which hashes the run's config, so every record stays valid)."""
    planned = {r.id: {"assignment": r.assignment, "config": r.config} for r in runs}
    path = records / MANIFEST
    data = {"spec": spec_data, "order": [r.id for r in runs], "runs": planned}
    if not path.is_file() or json.loads(path.read_text()) != data:
        write_json(path, data)


def record_exists(records: Path, run_id: str) -> bool:
    return result_path(records, run_id).is_file()


def write_record(out: Path, records: Path, run_id: str) -> None:
    """Copy a run's record (result, best units, the run folder's small files) into ``records``, each atomically.
    The result is written last: a record is complete once its result is there."""
    from gridzoo.io import atomic_path

    run_dir, target = out / "runs" / run_id, records / "runs" / run_id
    target.mkdir(parents=True, exist_ok=True)
    for name in RECORD_FILES:
        if (run_dir / name).is_file():
            with atomic_path(target / name) as tmp:
                shutil.copyfile(run_dir / name, tmp)
    (records / "results").mkdir(parents=True, exist_ok=True)
    for source, dest in ((units_path(out, run_id), units_path(records, run_id)),
                         (result_path(out, run_id), result_path(records, run_id))):
        if source.is_file():
            with atomic_path(dest) as tmp:
                shutil.copyfile(source, tmp)


def restore_from_records(out: Path, records: Path, run_ids: list[str]) -> list[str]:
    """Give every run that has a record but no result in ``out`` its recorded result (and best units): such a
    run counts as done and is not trained again. Returns the restored ids."""
    from gridzoo.io import atomic_path

    restored = []
    for run_id in run_ids:
        if result_path(out, run_id).is_file() or not record_exists(records, run_id):
            continue
        (out / "results").mkdir(parents=True, exist_ok=True)
        if units_path(records, run_id).is_file():
            with atomic_path(units_path(out, run_id)) as tmp:
                shutil.copyfile(units_path(records, run_id), tmp)
        data = json.loads(result_path(records, run_id).read_text())
        write_json(result_path(out, run_id), {**data, "from_record": True})
        restored.append(run_id)
    return restored


def read_manifest(out_dir: Path) -> dict[str, Any]:
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise GridzooError(f"{out_dir} is not a sweep folder (no {MANIFEST}); run `gridzoo sweep SPEC --out {out_dir}`")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise GridzooError(f"{path} cannot be read ({type(exc).__name__}); the sweep folder is damaged") from None
    runs = manifest.get("runs") if isinstance(manifest, dict) else None
    order = manifest.get("order") if isinstance(manifest, dict) else None
    if not isinstance(runs, dict) or not isinstance(order, list):
        raise GridzooError(f"{path} is not a sweep manifest (no runs and order)")
    bad = [i for i in [*order, *runs] if not (isinstance(i, str) and RUN_ID.fullmatch(i))]
    if bad:  # ids become file names: "../../x" would reach outside the folder
        raise GridzooError(f"{path} names a run {str(bad[0])[:40]!r} that is not a run id (12 hex digits); "
                           "the manifest was edited or damaged")
    return manifest


def result_path(out_dir: Path, run_id: str) -> Path:
    return Path(out_dir) / "results" / f"{run_id}.json"


def units_path(out_dir: Path, run_id: str) -> Path:
    """The rate maps of a run's best units (for the report's figures), beside its result."""
    return Path(out_dir) / "results" / f"{run_id}.units.npz"


def save_best_units(path: Path, details: dict, count: int = 8) -> None:
    """The ``count`` best active units of the grid-cell analysis: rate maps, scores, field centres (NaN-padded)."""
    import numpy as np

    from gridzoo.analysis.fields import find_fields
    from gridzoo.io import atomic_path

    d = details.get("grid_cells")
    if d is None:
        return
    maps, scores, active = d["maps"], d["scores"].score_60, d["active"]
    units = np.flatnonzero(active)[np.argsort(-scores[active])][:count]
    centres = [find_fields(maps.maps[u], maps.bin_centres).centres for u in units]
    most = max([len(c) for c in centres], default=0)
    padded = np.full((len(units), max(most, 1), maps.maps.ndim - 1), np.nan)
    for i, c in enumerate(centres):
        padded[i, : len(c)] = c
    b = maps.bounds
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, units=units, maps=maps.maps[units].astype(np.float32), scores=scores[units],
                            fields=padded, extent=np.array([b.xmin, b.xmax, b.ymin, b.ymax]))


def run_one(out_dir: str, run_id: str) -> dict[str, Any]:
    """Train and evaluate one run of a sweep; never raises for a failing run (its result says why).

    A top-level function of picklable arguments, so that any executor can ship it to a worker."""
    out = Path(out_dir)
    target = result_path(out, run_id)
    if target.is_file():
        return json.loads(target.read_text())
    if _interrupted:
        raise SweepInterrupted(out, run_id, 0)
    manifest = read_manifest(out)
    if manifest["spec"].get("threads"):  # the spec fixes it for every run, whichever executor ships this
        import torch

        from gridzoo.runtime.threads import apply_threads

        before = torch.get_num_threads()
        apply_threads(int(manifest["spec"]["threads"]))
        try:
            return _run_planned(out, run_id, manifest)
        finally:
            apply_threads(before)  # an in-process worker hands its driver back the count it had
    return _run_planned(out, run_id, manifest)


def _run_planned(out: Path, run_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
    from rich.console import Console

    from gridzoo.config import load_experiment
    from gridzoo.training import resume, train

    global _interrupted
    entry = manifest["runs"][run_id]
    run_dir = out / "runs" / run_id
    log = out / "logs" / f"{run_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result: dict[str, Any] = {"id": run_id, "assignment": entry["assignment"]}
    from gridzoo.io import open_regular

    with os.fdopen(open_regular(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND), "a") as stream:
        console = Console(file=stream, force_terminal=False, width=120)
        try:
            experiment = load_experiment(data=entry["config"])
            status = json.loads((run_dir / "run.json").read_text()).get("status") if (run_dir / "run.json").is_file() else None
            if status != "finished":
                if (run_dir / "checkpoints" / "last.ckpt").is_file():
                    resume(run_dir, console=console, live=False)
                else:
                    shutil.rmtree(run_dir, ignore_errors=True)
                    train(experiment, run_dir, console=console, live=False)
            result.update(status="finished", metrics=evaluate_run(out, run_id, manifest["spec"], experiment))
            from gridzoo.run_folder import read_run_file

            result["machine"] = read_run_file(run_dir).get("machine")  # the record says what it ran on
        except TrainingDiverged as exc:
            result.update(status="diverged", error=f"{exc.reason} at step {exc.step}", step=exc.step)
        except TrainingInterrupted as exc:
            _interrupted = True
            # Ctrl-C or SIGTERM: not a result. No result file, so that rerunning the sweep resumes this run from its
            # checkpoint; and the sweep stops instead of starting the next run.
            raise SweepInterrupted(out, run_id, exc.step) from None
        except Exception as exc:  # a failing run is a result, not the end of the sweep
            result.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    result["seconds"] = round(time.perf_counter() - started, 3)
    write_json(result_path(out, run_id), result)
    if manifest.get("records_dir") and result["status"] in ("finished", "diverged"):
        write_record(out, Path(manifest["records_dir"]), run_id)
    return result


def evaluate_run(out: Path, run_id: str, spec: dict[str, Any], experiment=None) -> dict[str, Any]:
    """Evaluate a finished run of a sweep as its spec says (samples, extra metrics, null seeds); save its best
    units' maps for the report; return its metrics (non-finite values as None)."""
    from gridzoo.config import load_experiment
    from gridzoo.evaluation import evaluate_model, load_run

    run_dir = out / "runs" / run_id
    if experiment is None:
        experiment = load_experiment(data=read_manifest(out)["runs"][run_id]["config"])
    _, model = load_run(run_dir)
    evaluation = evaluate_model(experiment, model, samples=spec.get("samples", 50_000), draw=False,
                                metrics=spec.get("evaluate_metrics", []), null_seeds=spec.get("null_seeds"))
    save_best_units(units_path(out, run_id), evaluation.details)
    from gridzoo.training.curves import half_loss_step

    values = {**evaluation.values, "half_loss_step": half_loss_step(run_dir / "metrics.csv")}
    return {k: _finite(v) for k, v in values.items()}


def reevaluate_sweep(out_dir: str | Path, on_result: Callable[[str, dict], None] | None = None) -> int:
    """Evaluate every finished run of a sweep again with the current analysis code (training is not repeated);
    each result is rewritten atomically with ``reevaluated`` set to gridzoo's version. Returns the count."""
    from gridzoo import __version__

    out = Path(out_dir)
    lock = lock_folder(out, "gridzoo sweep --reevaluate")
    try:
        manifest = read_manifest(out)
        count = 0
        for run_id in manifest["order"]:
            path = result_path(out, run_id)
            if not path.is_file():
                continue
            result = json.loads(path.read_text())
            if result.get("status") != "finished" or not (out / "runs" / run_id / "model.safetensors").is_file():
                continue  # not finished, or known from its record only (no weights here to evaluate)
            started = time.perf_counter()
            result["metrics"] = evaluate_run(out, run_id, manifest["spec"])
            result["reevaluated"] = __version__
            result["evaluation_seconds"] = round(time.perf_counter() - started, 3)
            write_json(path, result)
            if manifest.get("records_dir"):
                write_record(out, Path(manifest["records_dir"]), run_id)
            count += 1
            if on_result is not None:
                on_result(run_id, result)
        return count
    finally:
        lock.release()


def _finite(value: float) -> float | None:
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


@dataclass
class PreparedSweep:
    """A validated sweep: its spec, every planned run, and the executor that will run them."""

    spec: Any
    runs: list[PlannedRun]
    runner: Any
    records: Path | None = None
    executor: str = "local"


def prepare_sweep(
    spec_path: str | Path, *, executor: str = "local", executor_options: dict[str, Any] | None = None,
    records: str | Path | None = None,
) -> PreparedSweep:
    """Read the spec, validate every run and the executor's options; nothing is written or run. ``records``
    (default: the spec's ``records``, relative to the spec) is where finished runs' records are kept."""
    from gridzoo.registry import build

    spec, base = read_spec(spec_path)
    runs = plan(spec, base, source=str(spec_path))
    if records is None and spec.records:
        records = Path(spec_path).parent / spec.records
    if records is not None and Path(records).exists() and not Path(records).is_dir():
        raise GridzooError(f"records folder {str(records)!r} is a file; name a folder (it is created if missing)")
    return PreparedSweep(spec, runs, build("executors", executor, **(executor_options or {})),
                         Path(records) if records is not None else None, executor)


def pending_runs(sweep: PreparedSweep, out_dir: str | Path) -> list[str]:
    """Runs with neither a result in ``out_dir`` nor a record."""
    return [r.id for r in sweep.runs if not result_path(Path(out_dir), r.id).is_file()
            and not (sweep.records is not None and record_exists(sweep.records, r.id))]


def execute_sweep(
    sweep: PreparedSweep, out_dir: str | Path, on_result: Callable[[str, dict], None] | None = None
) -> SweepSummary:
    """Write the manifest and run every planned run that has no result yet. The sweep folder is locked for the
    whole sweep: a second sweep on it is refused (naming the first one's PID)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GridzooError(f"cannot create the sweep folder {str(out)!r}: {exc.strerror}; choose a writable --out") from None
    lock = lock_folder(out, "gridzoo sweep")
    try:
        return _execute_locked(sweep, out, on_result)
    finally:
        lock.release()


def _execute_locked(sweep: PreparedSweep, out: Path, on_result) -> SweepSummary:
    global _interrupted
    _interrupted = False  # a new sweep command (in-process workers share this module)
    spec_data = sweep.spec.model_dump(mode="json")
    write_manifest(out, spec_data, sweep.runs, sweep.records)
    log_session(out, sweep.executor, sweep.runner, sweep.spec.threads)
    if sweep.records is not None:
        try:
            sweep.records.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GridzooError(f"cannot create the records folder {str(sweep.records)!r}: {exc.strerror}") from None
        write_records_manifest(sweep.records, spec_data, sweep.runs)
        restore_from_records(out, sweep.records, [r.id for r in sweep.runs])
        for r in sweep.runs:  # runs that ended before the sweep had a records folder
            path = result_path(out, r.id)
            if path.is_file() and not record_exists(sweep.records, r.id) and json.loads(path.read_text()).get(
                    "status") in ("finished", "diverged"):
                write_record(out, sweep.records, r.id)
    if hasattr(sweep.runner, "sweep_dir"):
        sweep.runner.sweep_dir = out
    pending = pending_runs(sweep, out)
    counts: dict[str, int] = {}
    started = time.perf_counter()

    def collect(run_id: str, result: dict) -> None:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        if on_result is not None:
            on_result(run_id, result)

    sweep.runner.run(partial(run_one, str(out)), pending, collect)
    return SweepSummary(out, len(sweep.runs), len(sweep.runs) - len(pending), counts, time.perf_counter() - started)


def run_sweep(
    spec_path: str | Path,
    out_dir: str | Path,
    *,
    executor: str = "local",
    executor_options: dict[str, Any] | None = None,
    dry_run: bool = False,
    on_result: Callable[[str, dict], None] | None = None,
    records: str | Path | None = None,
) -> tuple[list[PlannedRun], SweepSummary | None]:
    """Prepare (validating every run) and, unless ``dry_run``, execute a sweep."""
    sweep = prepare_sweep(spec_path, executor=executor, executor_options=executor_options, records=records)
    if dry_run:
        return sweep.runs, None
    return sweep.runs, execute_sweep(sweep, out_dir, on_result)
