"""A third-party plugin, installed for real with pip, shows up in `gridzoo list` and trains with `gridzoo train`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

PLUGIN = ROOT / "plugins" / "gridzoo-example-plugin"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    # --no-build-isolation: build with this environment's setuptools, offline.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(PLUGIN)],
        check=True, capture_output=True, text=True,
    )
    assert list(target.glob("gridzoo_example_ctrnn-*.dist-info/entry_points.txt"))
    return target


def _gridzoo(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "gridzoo", *args], capture_output=True, text=True, env=env, cwd=cwd)


def test_installed_plugin_is_listed_with_its_distribution(plugin_site):
    result = _gridzoo(plugin_site, "list", "architectures", "--json")
    assert result.returncode == 0, result.stderr
    rows = {c["name"]: c for c in json.loads(result.stdout)["components"]}
    assert rows["ctrnn"]["distribution"] == "gridzoo-example-ctrnn"
    assert rows["ctrnn"]["version"] == "0.1.0"
    assert "Cueva" in rows["ctrnn"]["summary"]
    info = _gridzoo(plugin_site, "info", "architectures", "ctrnn")
    assert info.returncode == 0 and "alpha" in info.stdout


def test_installed_plugin_trains(plugin_site, tmp_path):
    config = tmp_path / "e.toml"
    config.write_text(
        '[environment]\nname = "box"\n[encoder]\nname = "gaussian"\nn_cells = 32\n'
        '[architecture]\nname = "ctrnn"\nhidden_size = 24\n'
        "[training]\nsteps = 6\nbatch_size = 8\nseq_len = 5\nlog_every = 3\neval_every = 3\n"
    )
    result = _gridzoo(plugin_site, "train", str(config), "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["components"]["architecture"]["distribution"] == "gridzoo-example-ctrnn"
    assert meta["status"] == "finished"


def test_the_plugin_guides_last_command_works(plugin_site, tmp_path):
    """docs/plugins.md step 4, with fewer steps: the guide's own command must run as written."""
    guide = (ROOT / "docs" / "plugins.md").read_text()
    assert """--set 'architecture={name = "ctrnn", hidden_size = 100}'""" in guide
    result = _gridzoo(plugin_site, "train", "--preset", "demo", "--set", 'architecture={name = "ctrnn", hidden_size = 100}',
                      "--set", "training.steps=4", "--set", "training.eval_every=4", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
