"""`gridzoo report`: a sweep's results per group, with 95 % intervals, per-run rows, and the study's figures.

Per group (default: encoder × architecture):
- runs, finished, diverged, failed;
- **path integration**, over *finished* runs: the fraction whose decoding error is under 10 cm (NFL's criterion)
  and the fraction under 10 cm per 2.2 m of arena width (the same criterion relative to the arena, so boxes of
  other sizes compare like for like);
- **grid-like units**, over *path-integrating* runs (NFL's population): the fraction whose best active unit scores
  over 0.3 and 0.8 (NFL's thresholds), the fraction whose best unit beats the best-unit null (the best units of
  untrained networks: ``has_grid_units``), and the fraction with at least one unit whose fields form a hexagonal
  lattice;
- the median grid period (m) and its spread.

Every fraction comes with its 95 % Wilson interval (``*_low``, ``*_high`` columns). Written as ``report.csv`` (per
group) and ``runs.csv`` (one row per run: axis values, status, every metric), so a study's text can be written from
committed per-run results. Figures: fractions with their intervals (NFL's Figure 2), period against σ with a fitted
line and the slope's interval (its Figure 3), and the best units of each group's best run.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gridzoo.analysis.statistics import linear_fit, proportion
from gridzoo.analysis.verdicts import PATH_INTEGRATES_CM
from gridzoo.errors import GridzooError
from gridzoo.io import atomic_path, csv_cell
from gridzoo.sweeps.runner import read_manifest, result_path, units_path
from gridzoo.sweeps.spec import value_at

REFERENCE_WIDTH_M = 2.2  # NFL's arena, for the relative criterion
DEFAULT_BY = ("encoder", "architecture")
FRACTIONS = (
    ("path_integrating", "finished runs with decoding error < 10 cm"),
    ("path_integrating_relative", "finished runs with decoding error < 10 cm per 2.2 m of arena width"),
    ("best_over_0.3", "path-integrating runs whose best active unit scores > 0.3"),
    ("best_over_0.8", "path-integrating runs whose best active unit scores > 0.8"),
    ("beats_best_unit_null", "path-integrating runs whose best unit beats every untrained network's best unit"),
    ("has_lattice_unit", "path-integrating runs with a unit whose >= 7 fields form a hexagonal lattice (arrangement null p < 0.05)"),
)
COLUMNS = ("runs", "finished", "diverged", "failed",
           *[c for name, _ in FRACTIONS for c in (f"fraction_{name}", f"fraction_{name}_low", f"fraction_{name}_high")],
           "median_period_m", "period_iqr_m")


@dataclass
class Report:
    by: tuple[str, ...]
    groups: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    csv_path: Path | None = None
    runs_path: Path | None = None
    figures: list[Path] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    comparisons_path: Path | None = None


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


def arena_width(config: dict[str, Any]) -> float:
    env = config.get("environment", {})
    if "width" in env:
        return float(env["width"])
    if "radius" in env:
        return 2 * float(env["radius"])
    return REFERENCE_WIDTH_M


def _number(metrics: dict[str, Any], key: str, default: float = math.nan) -> float:
    value = metrics.get(key)
    return float(value) if isinstance(value, (int, float)) else default


def run_flags(row: dict[str, Any]) -> dict[str, bool]:
    """The yes/no outcomes of one finished run."""
    m = row.get("metrics") or {}
    error = _number(m, "decoding_error_cm", math.inf)
    best = _number(m, "score_60_max", -math.inf)
    return {
        "path_integrating": error < PATH_INTEGRATES_CM,
        "path_integrating_relative": error < PATH_INTEGRATES_CM * arena_width(row["config"]) / REFERENCE_WIDTH_M,
        "best_over_0.3": best > 0.3,
        "best_over_0.8": best > 0.8,
        "beats_best_unit_null": _number(m, "has_grid_units", 0.0) > 0,
        "has_lattice_unit": _number(m, "n_lattice_units", 0.0) > 0,
    }


def summarise(rows: list[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = tuple(str(value_at(row["config"], axis)) for axis in by)
        groups.setdefault(key, []).append(row)
    out = []
    for key in sorted(groups):
        members = groups[key]
        finished = [r for r in members if r["status"] == "finished"]
        flags = [run_flags(r) for r in finished]
        integrating = [(r, f) for r, f in zip(finished, flags) if f["path_integrating"]]
        group = {**dict(zip(by, key)), "runs": len(members), "finished": len(finished),
                 "diverged": sum(r["status"] == "diverged" for r in members),
                 "failed": sum(r["status"] == "failed" for r in members)}
        for name, _ in FRACTIONS:
            population = flags if name.startswith("path_integrating") else [f for _, f in integrating]
            p = proportion(sum(f[name] for f in population), len(population))
            group[f"fraction_{name}"], group[f"fraction_{name}_low"], group[f"fraction_{name}_high"] = p.value, p.low, p.high
        periods = [_number(r.get("metrics") or {}, "period_median_m") for r, _ in integrating]
        periods = [p for p in periods if math.isfinite(p)]
        group["median_period_m"] = float(np.median(periods)) if periods else math.nan
        group["period_iqr_m"] = float(np.subtract(*np.quantile(periods, [0.75, 0.25]))) if periods else math.nan
        out.append(group)
    return out


def write_csv(path: Path, groups: list[dict[str, Any]], by: Sequence[str]) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, [*by, *COLUMNS])
        writer.writeheader()
        for g in groups:
            writer.writerow({k: csv_cell(v) for k, v in g.items()})
    return path


def _axis_value(row: dict[str, Any], axis: str) -> Any:
    return row["assignment"][axis] if axis in row["assignment"] else value_at(row.get("config") or {}, axis)


def write_runs_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """One row per run: id, status, each axis value, seconds, and every metric. A run shared by two grids carries
    only its first grid's assignment; its other axes are read from its resolved config."""
    axes = sorted({k for r in rows for k in r["assignment"]})
    metrics = sorted({k for r in rows for k in (r.get("metrics") or {})})
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, ["id", "status", *axes, "seconds", "error", *metrics])
        writer.writeheader()
        for r in rows:
            m = r.get("metrics") or {}
            writer.writerow({"id": r["id"], "status": r["status"], "seconds": csv_cell(r.get("seconds")),
                             "error": r.get("error", ""),
                             **{a: csv_cell(_axis_value(r, a)) for a in axes},
                             **{k: csv_cell(m.get(k)) for k in metrics}})
    return path


def figures(out_dir: Path, report: Report, name: str = "report") -> list[Path]:
    from gridzoo.analysis.figures import _pyplot, _save

    plt = _pyplot()
    paths = []
    labels = [" × ".join(str(g[a]) for a in report.by) for g in report.groups]
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(labels) + 2), 4.0))
    series = [("path_integrating", "path integrate (< 10 cm)"), ("best_over_0.8", "of those: best unit > 0.8"),
              ("beats_best_unit_null", "of those: best unit > best-unit null")]
    width = 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        values = np.array([np.nan_to_num(g[f"fraction_{key}"]) for g in report.groups])
        low = np.array([np.nan_to_num(g[f"fraction_{key}_low"]) for g in report.groups])
        high = np.array([np.nan_to_num(g[f"fraction_{key}_high"]) for g in report.groups])
        ax.bar(x + (i - 1) * width, values, width, label=label,
               yerr=np.vstack([values - low, high - values]), capsize=2, error_kw={"lw": 0.8})
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fraction of runs (95 % Wilson interval)")
    ax.legend(fontsize=7)
    ax.set_title("Runs that path integrate, and of those, runs with grid-like units", fontsize=9)
    paths.append(_save(fig, out_dir / f"{name}_fractions.png"))

    # Every path-integrating run with grid-like units by the unit null (its median period is defined); filled when
    # its best unit also beats the best-unit null. The fit uses them all: the period describes the population.
    points = [(value_at(r["config"], "encoder.sigma"), (r.get("metrics") or {}).get("period_median_m"),
               arena_width(r["config"]), bool((r.get("metrics") or {}).get("has_grid_units")))
              for r in report.runs if r["status"] == "finished" and run_flags(r)["path_integrating"]]
    points = [(s, p, w, b) for s, p, w, b in points if isinstance(s, (int, float)) and isinstance(p, (int, float))
              and math.isfinite(p)]
    sigmas = sorted({s for s, _, _, _ in points})
    if len(sigmas) > 2:
        fig, ax = plt.subplots(figsize=(5.5, 4.0))
        s_arr, p_arr = np.array([s for s, _, _, _ in points]), np.array([p for _, p, _, _ in points])
        beats = np.array([b for _, _, _, b in points], dtype=bool)
        ax.scatter(s_arr[beats], p_arr[beats], s=16, color="black", label="best unit beats the best-unit null")
        ax.scatter(s_arr[~beats], p_arr[~beats], s=16, facecolors="none", edgecolors="black",
                   label="grid-like units over the unit null only")
        fit = linear_fit(s_arr, p_arr)
        if math.isfinite(fit.slope):
            grid = np.linspace(min(sigmas), max(sigmas), 50)
            ax.plot(grid, fit.slope * grid + fit.intercept, color="tab:red",
                    label=f"slope {fit.slope:.2f} [{fit.slope_low:.2f}, {fit.slope_high:.2f}] (95 %), R² {fit.r2:.2f}")
        widths = sorted({w for _, _, w, _ in points})
        for w in widths:
            ax.axhline(w / 2, color="grey", ls=":", lw=1, label=f"half the arena ({w / 2:g} m)")
        ax.set_xlabel("place-cell σ (m)")
        ax.set_ylabel("median grid period (m)")
        ax.legend(fontsize=7)
        ax.set_title("Grid period against place-cell width", fontsize=9)
        paths.append(_save(fig, out_dir / f"{name}_period_sigma.png"))
    best_units = _best_units_figure(out_dir, report, plt, _save, name)
    if best_units is not None:
        paths.append(best_units)
    return paths


def _best_units_figure(out_dir: Path, report: Report, plt, save, name: str = "report") -> Path | None:
    """Rate maps of the 3 best units of each group's best run (by best-unit score among path integrators)."""
    chosen = []
    for g in report.groups:
        members = [r for r in report.runs if r["status"] == "finished"
                   and all(str(value_at(r["config"], a)) == str(g[a]) for a in report.by)
                   and units_path(out_dir, r["id"]).is_file()]
        if members:
            best = max(members, key=lambda r: _number(r.get("metrics") or {}, "score_60_max", -math.inf))
            chosen.append((" × ".join(str(g[a]) for a in report.by), best))
    if not chosen:
        return None
    fig, axes = plt.subplots(len(chosen), 3, figsize=(6.3, 2.2 * len(chosen)), squeeze=False)
    for row, (label, run) in enumerate(chosen):
        data = np.load(units_path(out_dir, run["id"]), allow_pickle=False)
        for col in range(3):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if col >= len(data["units"]):
                continue
            ax.imshow(data["maps"][col].T, origin="lower", cmap="jet", extent=tuple(data["extent"]))
            centres = data["fields"][col]
            centres = centres[np.isfinite(centres[:, 0])]
            ax.plot(centres[:, 0], centres[:, 1], "w+", ms=5)
            ax.set_title(f"score {data['scores'][col]:.2f}, {len(centres)} fields", fontsize=7)
        axes[row, 0].set_ylabel(label, fontsize=7)
    fig.suptitle("Best units of each group's best run (+: field centres)", fontsize=9)
    return save(fig, out_dir / f"{name}_best_units.png")


def matches(row: dict[str, Any], where: Sequence[str]) -> bool:
    """Whether a run's config has every ``PATH=VALUE`` of ``where`` (values compared as text)."""
    for condition in where:
        path, _, value = condition.partition("=")
        if str(value_at(row["config"], path.strip())) != value.strip():
            return False
    return True


def _paths(node: Any, prefix: str = "") -> list[str]:
    """Every dotted path of a resolved config (sections, and leaves inside them; a list stands for its items)."""
    if isinstance(node, list):
        return [p for item in node[:1] for p in _paths(item, prefix)]
    if not isinstance(node, dict):
        return []
    out = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        out.append(path)
        out += _paths(value, path + ".")
    return out


def check_selection(rows: list[dict[str, Any]], by: Sequence[str], where: Sequence[str], compare: str | None,
                    source: str) -> None:
    """Refuse a ``--by``, ``--where`` or ``--compare`` that names no field of any run, or a ``--where`` that no
    run matches, before anything is written: a misspelt field would otherwise make one group called None."""
    import difflib

    known = sorted({p for r in rows for p in _paths(r["config"])})
    named = [("--by", b) for b in by] + [("--where", w.partition("=")[0].strip()) for w in where]
    if compare:
        named.append(("--compare", compare.partition("=")[0].strip()))
    for flag, path in named:
        if path not in known:
            close = difflib.get_close_matches(path, known, n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else "; e.g. 'encoder', 'training.seed'"
            raise GridzooError(f"{flag} {path!r}: no run of {source} has that field{hint}")
    for condition in where:
        path, _, value = condition.partition("=")
        if not _:
            raise GridzooError(f"--where {condition!r}: give PATH=VALUE, e.g. --where encoder=dos")
        if not any(matches(r, [condition]) for r in rows):
            seen = sorted({str(value_at(r["config"], path.strip())) for r in rows})
            raise GridzooError(f"--where {condition!r} matches none of the {len(rows)} runs of {source} "
                               f"(its values there: {', '.join(seen[:8])})")


def make_report(out_dir: str | Path, by: Sequence[str] | None = None, *, draw: bool = True,
                where: Sequence[str] = (), name: str = "report", compare: str | None = None) -> Report:
    """Summarise a sweep folder's runs (those matching every ``where`` condition) per ``by`` group; files are
    written as ``NAME.csv``, ``NAME_runs.csv`` and ``NAME_*.png`` (``name`` = "report" by default). With
    ``compare`` (``PATH=BASELINE``), and whenever the robustness metric ran, paired comparisons go to
    ``NAME_comparisons.csv`` (:mod:`gridzoo.sweeps.comparisons`)."""
    from gridzoo.sweeps import comparisons

    out = Path(out_dir)
    by_given, by = by, tuple(by or DEFAULT_BY)
    everything = collect(out)
    check_selection(everything, tuple(by_given or ()), where, compare, str(out))
    rows = [r for r in everything if matches(r, where)]
    compared = comparisons.against_baseline(rows, compare, by) if compare else []
    report = Report(by, summarise(rows, by), rows)
    report.csv_path = write_csv(out / f"{name}.csv", report.groups, by)
    report.runs_path = write_runs_csv(out / (f"{name}_runs.csv" if name != "report" else "runs.csv"), rows)
    compared += comparisons.grid_against_random_ablation(rows, by)
    if compared:
        report.comparisons = compared
        report.comparisons_path = comparisons.write(out / f"{name}_comparisons.csv", compared)
    if draw and report.groups:
        report.figures = figures(out, report, name)
    return report
