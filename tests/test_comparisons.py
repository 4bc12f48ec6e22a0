"""Paired comparisons in reports: runs pair on their whole config but the compared path; the numbers are the
paired differences and their exact sign-flip test."""

from __future__ import annotations

import math

import pytest

from gridzoo.errors import GridzooError
from gridzoo.sweeps.comparisons import against_baseline, grid_against_random_ablation


def _run(dropout: float, seed: int, error: float, *, encoder: str = "dos", assignment: dict | None = None,
         status: str = "finished", **metrics) -> dict:
    config = {"encoder": [{"name": encoder, "sigma": 0.12}], "architecture": {"name": "rnn", "input_dropout": dropout},
              "training": {"seed": seed}, "logging": {"group": "x"}}
    return {"config": config, "status": status, "metrics": {"decoding_error_cm": error, **metrics},
            "assignment": assignment if assignment is not None else
            {"architecture.input_dropout": dropout, "training.seed": seed}}


def test_levels_pair_with_the_baseline_run_that_differs_only_there():
    rows = [_run(0.0, s, 10.0 + s) for s in range(4)] + [_run(0.5, s, 12.0 + s) for s in range(4)]
    rows += [_run(0.5, 9, 99.0)]  # no baseline with seed 9: unpaired, left out
    rows += [_run(0.5, 0, 0.0, encoder="gaussian")]  # another encoder: pairs with nothing
    rows[0]["assignment"] = {"encoder.sigma": 0.12, "training.seed": 0}  # shared with another grid: still pairs
    out = against_baseline(rows, "architecture.input_dropout=0.0", ["encoder", "architecture.input_dropout"])
    error = next(r for r in out if r["outcome"] == "decoding_error_cm")
    assert error["pairs"] == 4 and error["difference"] == pytest.approx(2.0)
    assert error["mean_a"] == pytest.approx(11.5) and error["mean_b"] == pytest.approx(13.5)
    assert error["p_value"] == pytest.approx(2 / 16)  # all four differences positive: 2 of 16 sign flips as extreme
    assert error["comparison"] == "encoder=dos: architecture.input_dropout 0.5 vs 0.0"
    assert math.isnan(error["effect_d"])  # identical differences: no spread


def test_unknown_or_constant_axes_and_missing_baselines_are_refused():
    rows = [_run(0.0, s, 10.0) for s in range(3)]
    with pytest.raises(GridzooError, match="one value"):
        against_baseline(rows, "architecture.input_dropout=0.0", [])
    rows += [_run(0.5, s, 10.0) for s in range(3)]
    with pytest.raises(GridzooError, match="no finished run"):
        against_baseline(rows, "architecture.input_dropout=0.3", [])
    with pytest.raises(GridzooError, match="PATH=BASELINE"):
        against_baseline(rows, "architecture.input_dropout", [])


def test_grid_ablation_is_compared_with_random_ablation_within_each_run():
    rows = [_run(0.0, s, 5.0, ablation_random_10pct_cm=6.0, ablation_grid_high_10pct_cm=6.0 + s,
                 ablation_random_25pct_cm=8.0, ablation_grid_high_25pct_cm=7.0) for s in range(1, 6)]
    rows.append(_run(0.0, 7, 5.0, status="diverged", ablation_random_10pct_cm=1.0, ablation_grid_high_10pct_cm=50.0))
    out = grid_against_random_ablation(rows, ["encoder"])
    ten, twenty_five = out
    assert ten["pairs"] == 5 and ten["difference"] == pytest.approx(3.0) and ten["p_value"] == pytest.approx(2 / 32)
    assert twenty_five["difference"] == pytest.approx(-1.0)
    assert "10 % best grid units vs 10 % random" in ten["comparison"]
