"""Verdicts: what an evaluation's numbers say, in one line each, against the statistic's own null.

Printed first by ``gridzoo evaluate`` and ``gridzoo zoo info`` and written into zoo cards, so that "25 grid units"
is never read without "its best unit does not beat the untrained networks' best unit (p 0.35)".
"""

from __future__ import annotations

import math
from typing import Any

#: A run path integrates when its decoding error is under this (NFL's arena, 2.2 m; reports also scale it).
PATH_INTEGRATES_CM = 10.0


def _number(values: dict[str, Any], key: str) -> float | None:
    value = values.get(key)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def path_integration_verdict(values: dict[str, Any]) -> str | None:
    error = _number(values, "decoding_error_cm")
    if error is None:
        return None
    linear, chance = _number(values, "linear_error_cm"), _number(values, "linear_error_chance_cm")
    readout = f"; a linear readout of the state: {linear:.3g} cm, the mean position {chance:.3g} cm" if (
        linear is not None and chance is not None) else ""
    if error < PATH_INTEGRATES_CM:
        return f"Path integration: yes, decoding error {error:.3g} cm (under {PATH_INTEGRATES_CM:g} cm){readout}."
    return f"Path integration: no, decoding error {error:.3g} cm (over {PATH_INTEGRATES_CM:g} cm){readout}."


def grid_verdict(values: dict[str, Any]) -> str:
    """Does the best unit beat the best-unit null (the statistic a best unit needs)?"""
    best, null = _number(values, "score_60_max"), _number(values, "best_unit_null_60")
    if best is None:
        return "Grid-likeness: no active unit was scored."
    if null is None:
        return (f"Grid-likeness: best unit's 60° score {best:.3g}; scored without the best-unit null, so that score "
                "alone is not evidence of a grid cell.")
    p = _number(values, "best_unit_null_p")
    p_text = f", p {p:.2g}" if p is not None else ""
    if best > null and p is not None and p > 0.05:
        return (f"Grid-likeness: undecided: the best unit's 60° score ({best:.3g}) beats the untrained networks' best "
                f"({null:.3g}), but too few of them were scored for that to mean much (p {p:.2g}; 19 give p 0.05).")
    if best > null:
        return (f"Grid-likeness: the best unit's 60° score ({best:.3g}) beats the best unit of untrained networks "
                f"({null:.3g}{p_text}): one grid-like unit, not yet a lattice or a module.")
    return (f"Grid-likeness: the best unit's 60° score ({best:.3g}) does **not** beat the best unit of untrained "
            f"networks ({null:.3g}{p_text}): no evidence of grid cells.")


def lattice_verdict(values: dict[str, Any]) -> str | None:
    lattices_2d, lattices_3d = _number(values, "n_lattice_units"), _number(values, "n_units_lattice")
    if lattices_3d is not None:
        local = _number(values, "n_units_local_only") or 0
        columnar = _number(values, "n_units_columnar") or 0
        return (f"3-D order (field-arrangement null): {lattices_3d:.0f} lattice unit(s), {local:.0f} with local "
                f"order only, {columnar:.0f} columnar.")
    if lattices_2d is not None:
        return (f"Lattices: {lattices_2d:.0f} unit(s) with a hexagonal lattice of >= 7 fields against the "
                "field-arrangement null.")
    return None


def module_verdict(values: dict[str, Any]) -> str | None:
    stable, count = _number(values, "modules_stable"), _number(values, "module_count")
    if stable is None or count is None:
        return None
    if not count:
        return "Modules: none found."
    if stable:
        return f"Modules: {count:.0f}, stable over the analysis sets."
    return f"Modules: {count:.0f} on this analysis set, not stable over the others (read it as noise)."


def topology_verdict(values: dict[str, Any]) -> str | None:
    h1, h2 = _number(values, "topology_h1_long_bars"), _number(values, "topology_h2_long_bars")
    if h1 is None or h2 is None:
        return None
    from gridzoo.analysis.topology import SHAPES

    shape = SHAPES.get((int(h1), int(h2)), "other")
    return (f"Population topology: {shape} ({h1:.0f} long H1 bar(s), {h2:.0f} long H2; a grid module's torus has "
            "2 and 1), against a time-shuffle null.")


def verdicts(values: dict[str, Any]) -> list[str]:
    """Every verdict the numbers support, most important first."""
    found = [path_integration_verdict(values), grid_verdict(values), lattice_verdict(values), module_verdict(values),
             topology_verdict(values)]
    return [v for v in found if v]
