"""`gridzoo evaluate`: scores a trained run with the metrics plugins, writes metrics.json and figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gridzoo.cli import main
from gridzoo.config import load_experiment
from gridzoo.evaluation import evaluate, load_run
from gridzoo.training import train

from conftest import tiny_config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "run"
    train(load_experiment(data=tiny_config(steps=60)), out, live=False)
    return out


def test_evaluate_writes_metrics_and_figures(run, tmp_path):
    result = evaluate(run, bins=16, samples=20_000, out=tmp_path / "ev", null_seeds=3)
    values = result.values
    trained = json.loads((run / "metrics.json").read_text())
    assert values["decoding_error_cm"] == pytest.approx(trained["decoding_error_cm"], rel=1e-5)
    for key in ("score_60_max", "null_threshold_60", "untrained_score_60_max", "fraction_score_60_over_0.3",
                "fraction_score_60_over_null", "best_unit_null_60", "best_unit_null_p", "has_grid_units",
                "modules_stable", "n_lattice_units", "spatial_info_median_bits"):
        assert np.isfinite(values[key]), key
    assert values["best_unit_null_p"] >= 1 / 4  # 3 null networks: p is at least 1/(3+1)
    assert values["n_active_units"] + values["n_silent_units"] == values["n_units"]
    assert values["n_units"] == 48  # the tiny rnn's hidden size
    saved = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert saved["layer"] == "rnn" and saved["metrics"]["grid_cells"]["settings"]["bins"] == 16
    assert saved["metrics"]["grid_cells"]["settings"]["variant"] == "min_max"
    assert saved["metrics"]["grid_cells"]["settings"]["best_unit_null_seeds"] == 3
    assert len(result.figures) == 3
    for path in result.figures:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_untrained_null_differs_from_trained(run):
    experiment, model = load_run(run)
    from gridzoo.evaluation import make_rollout

    rollout = make_rollout(experiment, model, 5_000, "cpu")
    trained = rollout.rate_maps(bins=10).maps
    untrained = rollout.analysis.null_network(0).rate_maps("rnn", 10).maps
    other = rollout.analysis.null_network(1).rate_maps("rnn", 10).maps
    assert trained.shape == untrained.shape and not np.allclose(trained, untrained)
    assert not np.allclose(untrained, other)  # another weight seed: another null network
    shifted = rollout.analysis.shifted_rate_maps("rnn", 10, repeats=2)
    assert shifted.maps.shape == (2 * trained.shape[0], 10, 10)
    assert not np.allclose(shifted.maps[: trained.shape[0]], trained)  # activity no longer meets its positions


def test_the_best_unit_null_is_the_same_for_every_seed_of_an_architecture(run, tmp_path, monkeypatch):
    """The null networks (k >= 1) and their trajectories do not depend on the run's seed, so the cached null that
    every seed of a sweep cell shares is the null each of them would compute."""
    from gridzoo.evaluation import make_rollout
    from gridzoo_builtin.metrics.grid_cells import GridCells

    experiment, model = load_run(run)
    other_seed = load_experiment(data=tiny_config(steps=60, seed=11))
    nulls, maps = [], []
    for i, exp in enumerate((experiment, other_seed)):
        monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / f"home{i}"))  # an empty cache: each computes its own
        rollout = make_rollout(exp, model, 4_000, "cpu")
        maps.append(rollout.analysis.null_network(1).rate_maps("rnn", 10).maps)
        metric = GridCells(GridCells.Config(bins=10, best_unit_null_seeds=2, module_stability_sets=1))
        nulls.append(metric.compute(rollout)["best_unit_null_60"])
    assert make_rollout(experiment, model, 4_000, "cpu").analysis.null_key == \
        make_rollout(other_seed, model, 4_000, "cpu").analysis.null_key
    np.testing.assert_array_equal(maps[0], maps[1])
    assert nulls[0] == nulls[1]


def test_cli_evaluate_and_bad_layer(run, tmp_path, capsys):
    assert main(["evaluate", str(run), "--bins", "12", "--samples", "5000", "--no-figures", "--out", str(tmp_path / "e"),
                 "--null-seeds", "2"]) == 0
    text = capsys.readouterr().out
    assert "decoding error (cm)" in text and "best active unit's 60° score" in text and "best-unit null" in text
    assert main(["evaluate", str(run), "--layer", "nope"]) == 2
    assert "layers are" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing")]) == 2


def test_shuffled_maps_keep_each_units_values():
    from gridzoo_builtin.metrics.grid_cells import shuffle_maps

    maps = np.random.default_rng(0).random((3, 8, 8))
    maps[:, 0, 0] = np.nan
    shuffled = shuffle_maps(maps, seed=1)
    assert np.isnan(shuffled[:, 0, 0]).all()
    for u in range(3):
        assert np.allclose(np.sort(maps[u][~np.isnan(maps[u])]), np.sort(shuffled[u][~np.isnan(shuffled[u])]))
    assert not np.allclose(np.nan_to_num(maps), np.nan_to_num(shuffled))


def test_silent_units_are_counted_and_never_the_best():
    from gridzoo_builtin.metrics.grid_cells import silent_units

    maps = np.random.default_rng(0).random((3, 6, 6))
    maps[1] = 0.0  # a dead unit
    maps[2, :, :] = 2.5
    maps[2, 0, 0] = np.nan  # constant where visited
    assert list(silent_units(maps)) == [False, True, True]


def test_evaluate_a_zoo_network_by_name_and_by_folder(tmp_path, capsys, monkeypatch):
    from gridzoo import zoo

    name = zoo.list()[0].name
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--zoo", name, "--samples", "5000", "--bins", "20", "--no-figures", "--null-seeds", "2"]) == 0
    saved = json.loads((tmp_path / "evaluations" / name / "metrics.json").read_text())
    assert saved["run"] == f"zoo:{name}" and "score_60_max" in saved["summary"]
    printed = capsys.readouterr().out.lstrip()
    assert printed.startswith("Path integration:") and "Grid-likeness:" in printed.split("evaluation of")[0]
    folder = zoo.verify(name)
    assert main(["evaluate", str(folder), "--samples", "5000", "--bins", "20", "--no-figures", "--out",
                 str(tmp_path / "by-folder"), "--null-seeds", "2"]) == 0
    again = json.loads((tmp_path / "by-folder" / "metrics.json").read_text())
    assert again["summary"]["score_60_max"] == saved["summary"]["score_60_max"]


def test_an_unexpected_error_is_one_line_pointing_at_its_log(run, tmp_path, capsys, install_fake):
    install_fake("gridzoo-test-buggy", "1.0", {"gridzoo.metrics": {"buggy": "gridzoo_test_buggy:Buggy"}}, {
        "gridzoo_test_buggy": "from gridzoo.metric import Metric\n\nclass Buggy(Metric):\n"
                              "    def compute(self, rollout):\n        return {'x': 1 / 0}\n",
    })
    config = tmp_path / "e.toml"
    config.write_text('[environment]\nname = "box"\n[encoder]\nname = "gaussian"\nn_cells = 16\n[architecture]\n'
                      'name = "rnn"\nhidden_size = 8\n[training]\nsteps = 2\nbatch_size = 4\nseq_len = 3\n'
                      '[[metrics]]\nname = "buggy"\n')
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 70
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "internal error" in lines[0] and "ZeroDivisionError" in lines[0]
    log = tmp_path / "run" / "error.log"
    assert str(log) in lines[0] and "ZeroDivisionError" in log.read_text()
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "failed"


def test_verdicts_come_first_and_follow_the_null():
    from gridzoo.analysis.verdicts import verdicts

    lines = verdicts({"decoding_error_cm": 4.1, "linear_error_cm": 8.5, "linear_error_chance_cm": 64.0,
                      "score_60_max": 0.74, "best_unit_null_60": 1.04, "best_unit_null_p": 0.35,
                      "n_lattice_units": 0, "modules_stable": 0, "module_count": 1})
    assert lines[0].startswith("Path integration: yes") and "8.5 cm" in lines[0]
    assert "does **not** beat" in lines[1] and "p 0.35" in lines[1]
    assert "not stable" in lines[-1]
    few = verdicts({"decoding_error_cm": 30.0, "score_60_max": 0.9, "best_unit_null_60": 0.5, "best_unit_null_p": 0.33})
    assert few[0].startswith("Path integration: no") and "undecided" in few[1]
    enough = verdicts({"score_60_max": 0.9, "best_unit_null_60": 0.5, "best_unit_null_p": 0.05})
    assert "beats" in enough[0] and "undecided" not in enough[0]
    shaped = verdicts({"topology_h1_long_bars": 2, "topology_h2_long_bars": 1})
    assert shaped[-1].startswith("Population topology: torus")
