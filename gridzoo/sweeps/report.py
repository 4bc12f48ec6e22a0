"""`gridzoo report`: a sweep's results per group, as the NFL study summarises them, with its figures.

Per group (default: encoder × architecture): runs, finished, diverged, failed; the fraction of finished runs that
path integrate (decoding error under 10 cm); among those, the fraction whose best unit's 60° score exceeds 0.3,
0.8 and the null threshold; the median grid period (m). Written as ``report.csv``; figures in the style of the
NFL study's Figure 2 (bars per group) and Figure 3 (period against σ; period histogram per σ).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gridzoo.io import atomic_path
from gridzoo.sweeps.runner import read_manifest, result_path
from gridzoo.sweeps.spec import value_at

PATH_INTEGRATES_CM = 10.0
DEFAULT_BY = ("encoder", "architecture")
COLUMNS = (
    "runs", "finished", "diverged", "failed", "fraction_path_integrating",
    "fraction_over_0.3", "fraction_over_0.8", "fraction_over_null", "median_period_m",
)


@dataclass
class Report:
    by: tuple[str, ...]
    groups: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    csv_path: Path | None = None
    figures: list[Path] = field(default_factory=list)


def collect(out_dir: Path) -> list[dict[str, Any]]:
    """Every planned run with its config and result (status 'pending' if it has none yet)."""
    manifest = read_manifest(out_dir)
    rows = []
    for run_id in manifest["order"]:
        entry = manifest["runs"][run_id]
        path = result_path(out_dir, run_id)
        result = json.loads(path.read_text()) if path.is_file() else {"status": "pending"}
        rows.append({"id": run_id, "config": entry["config"], "assignment": entry["assignment"], **result})
    return rows


def _fraction(flags: Sequence[bool]) -> float:
    return float(np.mean(flags)) if len(flags) else math.nan


def summarise(rows: list[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = tuple(str(value_at(row["config"], axis)) for axis in by)
        groups.setdefault(key, []).append(row)
    out = []
    for key in sorted(groups):
        members = groups[key]
        finished = [r for r in members if r["status"] == "finished"]
        metrics = [r.get("metrics", {}) for r in finished]
        integrating = [m for m in metrics if (m.get("decoding_error_cm") or math.inf) < PATH_INTEGRATES_CM]
        best = [m.get("score_60_max") or -math.inf for m in integrating]
        null = [m.get("null_threshold_60") for m in integrating]
        periods = [m.get("period_median_m") for m in integrating if m.get("period_median_m") is not None]
        out.append({
            **dict(zip(by, key)),
            "runs": len(members),
            "finished": len(finished),
            "diverged": sum(r["status"] == "diverged" for r in members),
            "failed": sum(r["status"] == "failed" for r in members),
            "fraction_path_integrating": _fraction([m in integrating for m in metrics]),
            "fraction_over_0.3": _fraction([b > 0.3 for b in best]),
            "fraction_over_0.8": _fraction([b > 0.8 for b in best]),
            "fraction_over_null": _fraction([n is not None and b > n for b, n in zip(best, null)]),
            "median_period_m": float(np.median(periods)) if periods else math.nan,
        })
    return out


def write_csv(path: Path, groups: list[dict[str, Any]], by: Sequence[str]) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, [*by, *COLUMNS])
        writer.writeheader()
        for g in groups:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in g.items()})
    return path


def figures(out_dir: Path, report: Report) -> list[Path]:
    from gridzoo.analysis.figures import _pyplot, _save

    plt = _pyplot()
    paths = []
    labels = [" × ".join(str(g[a]) for a in report.by) for g in report.groups]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(labels) + 2), 3.8))
    width = 0.27
    series = [("fraction_path_integrating", "path integrate (< 10 cm)"),
              ("fraction_over_0.8", "of those: best score > 0.8"),
              ("fraction_over_null", "of those: best score > null")]
    for i, (key, label) in enumerate(series):
        ax.bar(x + (i - 1) * width, [np.nan_to_num(g[key]) for g in report.groups], width, label=label)
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fraction of runs")
    ax.legend(fontsize=7)
    ax.set_title("Runs that path integrate, and of those, runs with grid-like units", fontsize=9)
    paths.append(_save(fig, out_dir / "report_fractions.png"))

    points = [(value_at(r["config"], "encoder.sigma"), r["metrics"].get("period_median_m"))
              for r in report.runs if r["status"] == "finished" and r.get("metrics")]
    points = [(s, p) for s, p in points if isinstance(s, (int, float)) and p is not None]
    sigmas = sorted({s for s, _ in points})
    if len(sigmas) > 1:
        fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
        left.scatter([s for s, _ in points], [p for _, p in points], s=12)
        left.set_xlabel("place-cell σ (m)")
        left.set_ylabel("median grid period (m)")
        for s in sigmas:
            right.hist([p for t, p in points if t == s], bins=10, histtype="step", label=f"σ = {s:g}")
        right.set_xlabel("median grid period (m)")
        right.set_ylabel("runs")
        right.legend(fontsize=7)
        fig.suptitle("Grid period against place-cell width", fontsize=9)
        paths.append(_save(fig, out_dir / "report_period_sigma.png"))
    return paths


def make_report(out_dir: str | Path, by: Sequence[str] | None = None, *, draw: bool = True) -> Report:
    out = Path(out_dir)
    by = tuple(by or DEFAULT_BY)
    rows = collect(out)
    report = Report(by, summarise(rows, by), rows)
    report.csv_path = write_csv(out / "report.csv", report.groups, by)
    if draw and report.groups:
        report.figures = figures(out, report)
    return report
