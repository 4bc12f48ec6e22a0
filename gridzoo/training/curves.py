"""Summaries of a run's training curve (``metrics.csv``) that studies compare between runs."""

from __future__ import annotations

import csv
import math
from pathlib import Path


def loss_curve(path: str | Path) -> list[tuple[int, float]]:
    """(step, training loss) rows of a run's metrics.csv, in step order."""
    path = Path(path)
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = [(int(r["step"]), float(r["value"])) for r in csv.DictReader(f) if r["name"] == "loss"]
    return sorted(rows)


def half_loss_step(path: str | Path, tail: int = 5) -> float:
    """The first logged step at which the training loss has fallen half-way from its first logged value to its
    final level (the median of the last ``tail`` logged values): when the run left its initial plateau. NaN for
    a curve too short to say, or one that never fell."""
    curve = loss_curve(path)
    if len(curve) < tail + 2:
        return math.nan
    first = curve[0][1]
    final = sorted(v for _, v in curve[-tail:])[tail // 2]
    if not first > final:
        return math.nan
    half = first - 0.5 * (first - final)
    return float(next(step for step, value in curve if value <= half))
