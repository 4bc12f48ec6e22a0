"""Comparisons a study's claims rest on, from a sweep's per-run results: paired, with tests and effect sizes.

- **Against a baseline level of one axis** (``gridzoo report --compare PATH=BASELINE``): every run is paired with
  the run that differs from it only in ``PATH`` (same seed, same everything else), and for each other level of
  ``PATH`` and each outcome, the paired difference (level − baseline) gets a sign-flip permutation test (exact for
  up to 16 pairs; for 0/1 outcomes such as "beats the best-unit null" this is McNemar's exact test), a 95 %
  interval (Student's t below 8 pairs, a bootstrap from 8 on) and d = mean difference / SD of the differences. Groups follow ``--by``, minus ``PATH``.
- **Ablating grid units against random units** (when the robustness metric ran): within each run, the decoding
  error after silencing the highest-scoring units against silencing as many random units; across the runs of a
  group, the same paired test.

Pairs are formed only between finished runs; a pair with a missing outcome is left out of that outcome.
"""

from __future__ import annotations

import copy
import csv
import json
import math
from pathlib import Path
from typing import Any, Sequence

from gridzoo.analysis.statistics import paired_comparison
from gridzoo.errors import GridzooError
from gridzoo.io import atomic_path, csv_cell
from gridzoo.sweeps.spec import value_at

#: Outcomes compared between levels of an axis: (metric, what it is).
OUTCOMES = (
    ("decoding_error_cm", "decoding error (cm)"),
    ("linear_error_cm", "decoding error of a linear readout of the scored layer (cm)"),
    ("recovery_fraction", "fraction of a state kick's excess error gone by the end of a long rollout"),
    ("drift_noise_0.01_cm_per_step", "drift of the error under absolute state noise 0.01 (cm per step)"),
    ("score_60_max", "best active unit's 60° score"),
    ("has_grid_units", "best unit beats the best-unit null (0/1)"),
    ("fraction_score_60_over_null", "fraction of active units over the unit null"),
    ("n_grid_units", "grid units"),
    ("n_silent_units", "silent units"),
    ("period_median_m", "median grid period (m)"),
    ("half_loss_step", "step at which the training loss fell half-way to its final value"),
    ("noise_doubling_level", "state noise (x activity SD) that doubles the error"),
    ("ablation_random_10pct_cm", "error after silencing 10 % random units (cm)"),
    ("ablation_random_25pct_cm", "error after silencing 25 % random units (cm)"),
    ("ablation_grid_high_10pct_cm", "error after silencing the 10 % best grid units (cm)"),
    ("ablation_grid_high_25pct_cm", "error after silencing the 25 % best grid units (cm)"),
)
COLUMNS = ("comparison", "outcome", "pairs", "mean_a", "mean_b", "difference", "difference_low", "difference_high",
           "interval", "p_value", "effect_d")


def _metric(row: dict[str, Any], key: str) -> float:
    value = (row.get("metrics") or {}).get(key)
    return float(value) if isinstance(value, (int, float)) else math.nan


def _row(label: str, outcome: str, a: list[float], b: list[float]) -> dict[str, Any]:
    c = paired_comparison(a, b)
    return {"comparison": label, "outcome": outcome, "pairs": c.n_a, "mean_a": c.mean_a, "mean_b": c.mean_b,
            "difference": c.difference, "difference_low": c.low, "difference_high": c.high, "interval": c.interval,
            "p_value": c.p_value, "effect_d": c.cohens_d}


def _without(config: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of a resolved config without the value at a dotted path (a list section: its first component)."""
    out = copy.deepcopy(config)
    node: Any = out
    parts = path.split(".")
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[0] if node else {}
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, list):
        node = node[0] if node else {}
    if isinstance(node, dict):
        node.pop(parts[-1], None)
    out.pop("logging", None)
    return out


def _group_label(row: dict[str, Any], by: Sequence[str]) -> str:
    return " × ".join(f"{axis}={value_at(row['config'], axis)}" for axis in by) or "all runs"


def against_baseline(rows: list[dict[str, Any]], compare: str, by: Sequence[str]) -> list[dict[str, Any]]:
    """Paired comparisons of every level of ``compare`` (``PATH=BASELINE``) against the baseline."""
    path, sep, baseline = compare.partition("=")
    path, baseline = path.strip(), baseline.strip()
    if not sep or not path:
        raise GridzooError(f"--compare {compare!r}: write PATH=BASELINE, e.g. --compare architecture.input_dropout=0.0")
    finished = [r for r in rows if r["status"] == "finished"]
    if len({str(value_at(r["config"], path)) for r in rows}) < 2:
        axes = sorted({a for r in rows for a in r["assignment"]})
        raise GridzooError(f"--compare: {path!r} takes one value in these runs; the sweep's axes are: {', '.join(axes)}")

    def partner_key(row: dict[str, Any]) -> str:
        # Runs pair when their whole resolved configs agree except at PATH (not their axis assignments: a run
        # shared by two grids of a spec carries only the first grid's assignment).
        return json.dumps(_without(row["config"], path), sort_keys=True)

    baselines = {partner_key(r): r for r in finished if str(value_at(r["config"], path)) == baseline}
    if not baselines:
        raise GridzooError(f"--compare: no finished run has {path} = {baseline}")
    groups = [axis for axis in by if axis != path]
    pairs: dict[tuple[str, str], list[tuple[dict, dict]]] = {}
    for row in finished:
        level = str(value_at(row["config"], path))
        partner = baselines.get(partner_key(row))
        if level == baseline or partner is None:
            continue
        pairs.setdefault((_group_label(row, groups), level), []).append((partner, row))
    out = []
    for (group, level), members in sorted(pairs.items()):
        label = f"{group}: {path} {level} vs {baseline}"
        for key, _ in OUTCOMES:
            a = [_metric(p, key) for p, _ in members]
            b = [_metric(r, key) for _, r in members]
            if any(math.isfinite(x) for x in a + b):
                out.append(_row(label, key, a, b))
    return out


def grid_against_random_ablation(rows: list[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    """Within-run pairs: error after ablating the best grid units (b) against as many random units (a)."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        if row["status"] == "finished" and math.isfinite(_metric(row, "ablation_random_10pct_cm")):
            groups.setdefault(_group_label(row, by), []).append(row)
    out = []
    for group, members in sorted(groups.items()):
        for pct in (10, 25):
            a = [_metric(r, f"ablation_random_{pct}pct_cm") for r in members]
            b = [_metric(r, f"ablation_grid_high_{pct}pct_cm") for r in members]
            out.append(_row(f"{group}: silence {pct} % best grid units vs {pct} % random units",
                            f"decoding error after ablation (cm), {pct} %", a, b))
    return out


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: csv_cell(v) for k, v in row.items()})
    return path
