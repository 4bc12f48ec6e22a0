"""Shared fixtures: small experiments, and fake installed distributions with real entry-point metadata."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest

from gridzoo import registry

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
#: Reference outputs committed with the tests (see tests/reference/README.md).
REFERENCE = Path(__file__).resolve().parent / "reference"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reference: compares with numbers from a reference implementation; "
                                       "with GRIDZOO_REQUIRE_REFERENCE=1 (CI) such a test may not skip")
    config.addinivalue_line("markers", "slow: an end-to-end check that starts processes (deselect with -m 'not slow')")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """In CI a skipped reference test is a failure: the reference checks must never silently stop running."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and item.get_closest_marker("reference") is not None
            and os.environ.get("GRIDZOO_REQUIRE_REFERENCE", "").strip() == "1"):
        report.outcome = "failed"
        report.longrepr = f"reference test skipped under GRIDZOO_REQUIRE_REFERENCE=1: {report.longrepr}"


def tiny_config(**training) -> dict:
    """A small place-cell experiment that trains in seconds on a CPU."""
    return {
        "environment": {"name": "box"},
        "encoder": {"name": "gaussian", "n_cells": 64, "sigma": 0.2},
        "architecture": {"name": "rnn", "hidden_size": 48},
        "training": {
            "steps": 40,
            "batch_size": 32,
            "seq_len": 10,
            "lr": 3e-3,
            "seed": 3,
            "log_every": 10,
            "eval_every": 20,
            "checkpoint_every": 10,
            "eval_batch_size": 64,
            **training,
        },
    }


def write_distribution(
    root: Path, dist: str, version: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str]
) -> Path:
    """Write ``modules`` and a ``DIST-VERSION.dist-info`` (METADATA + entry_points.txt) under ``root``:
    exactly what pip leaves in site-packages, so importlib.metadata finds it on sys.path."""
    for name, source in modules.items():
        path = root / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = []
    for group, eps in entry_points.items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in eps.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines))
    return root


@pytest.fixture
def install_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Install fake distributions for one test: on sys.path, registry re-read, all undone afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    added: list[str] = []

    def install(dist: str, version: str, entry_points: dict, modules: dict) -> Path:
        write_distribution(site, dist, version, entry_points, modules)
        added.extend(m.split(".")[0] for m in modules)
        registry.refresh()
        return site

    yield install
    for name in list(sys.modules):
        if name.split(".")[0] in added:
            del sys.modules[name]
    monkeypatch.undo()
    registry.refresh()
