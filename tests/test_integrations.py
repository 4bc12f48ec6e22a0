"""Meeting users where they work: experiment trackers (read back from their own files), RatInABox arenas, and the
static site (opened in headless Chromium when it is installed)."""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

import pytest

from gridzoo.config import load_experiment
from gridzoo.training import train

from conftest import tiny_config


def _history(run: Path) -> dict[tuple[int, str], float]:
    import csv

    with open(run / "metrics.csv", newline="") as f:
        return {(int(r["step"]), r["name"]): float(r["value"]) for r in csv.DictReader(f)}


def _tensorboard_scalars(folder: Path) -> dict[tuple[int, str], float]:
    """Scalars of TensorBoard event files, read with the TFRecord framing and tensorboardX's Event proto."""
    from tensorboardX.proto.event_pb2 import Event

    values = {}
    for path in folder.rglob("events.out.tfevents.*"):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            event = Event.FromString(data[offset + 12:offset + 12 + length])
            offset += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    values[(event.step, value.tag)] = value.simple_value
    return values


def test_tensorboard_and_mlflow_receive_the_metrics_hyperparameters_and_figures(tmp_path):
    pytest.importorskip("tensorboardX")
    pytest.importorskip("mlflow")
    config = tiny_config(steps=20, eval_every=10, log_every=5)
    config["logging"] = {"trackers": ["csv", "tensorboard", "mlflow"], "group": "test-sweep", "figure_samples": 3000}
    run = tmp_path / "run"
    train(load_experiment(data=config), run, live=False)
    history = _history(run)
    tb = _tensorboard_scalars(run / "tensorboard")
    for (step, name), value in history.items():
        assert tb[(step, name)] == pytest.approx(value, rel=1e-6), (step, name)
    assert any(name.startswith("evaluation/") for _, name in tb)  # the final evaluation's values
    # MLflow's file store: one file per metric, lines "timestamp value step"; params; artifacts.
    runs = [p for p in (tmp_path / "mlruns").rglob("meta.yaml") if p.parent.parent.name != "mlruns"]
    run_folder = next(p.parent for p in runs if (p.parent / "metrics").is_dir())
    logged = {}
    for metric in (run_folder / "metrics").rglob("*"):
        if metric.is_file():
            for line in metric.read_text().splitlines():
                _, value, step = line.split()
                logged[(int(step), str(metric.relative_to(run_folder / "metrics")))] = float(value)
    for (step, name), value in history.items():
        assert logged[(step, name)] == pytest.approx(value, rel=1e-6)
    params = {p.name: p.read_text() for p in (run_folder / "params").rglob("*") if p.is_file()}
    assert params["training.seed"] == "3" and params["architecture.name"] == "rnn"
    assert list(run_folder.rglob("top_units_rnn.png"))  # the figures reached the tracker
    experiment_meta = (run_folder.parent / "meta.yaml").read_text()
    assert "test-sweep" in experiment_meta  # a sweep's runs are one MLflow experiment


def test_trackers_are_checked_before_any_work(tmp_path, monkeypatch):
    import importlib.util

    from gridzoo.errors import GridzooError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    config = tiny_config(steps=2)
    config["logging"] = {"trackers": ["wandb"]}
    with pytest.raises(GridzooError, match=r"pip install 'gridzoo\[wandb\]'"):
        train(load_experiment(data=config), tmp_path / "run", live=False)
    assert not (tmp_path / "run").exists()


def test_ratinabox_arenas_with_both_motion_models():
    pytest.importorskip("ratinabox", reason="RatInABox is an optional extra: pip install 'gridzoo[ratinabox]'")
    import numpy as np
    import torch

    import gridzoo

    params = {"boundary": [[0, 0], [1.2, 0], [1.2, 0.6], [0.6, 0.6], [0.6, 1.2], [0, 1.2]],
              "walls": [[[0.3, 0.2], [0.3, 0.5]]], "holes": [[[0.8, 0.1], [1.0, 0.1], [1.0, 0.3], [0.8, 0.3]]]}
    for motion in ("gridzoo", "ratinabox"):
        env = gridzoo.build("environments", "ratinabox", environment=params, motion=motion, pool_paths=4,
                            pool_steps=600)
        t = env.sample(64, 20, generator=torch.Generator().manual_seed(0))
        points = t.position.reshape(-1, 2).numpy().astype(np.float64)
        assert all(env.ratinabox.check_if_position_is_in_environment(p) for p in points[::7]), motion
        assert bool(env.contains(t.position).all())
        assert torch.allclose(t.start_position[:, None] + t.velocity.cumsum(1), t.position, atol=1e-5)


def _links(page: Path) -> list[str]:
    return re.findall(r'(?:href|src)="([^"#:]+)"', page.read_text())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from gridzoo import zoo
    from gridzoo.site.build import build_site
    from gridzoo.sweeps.report import make_report
    from gridzoo.sweeps.runner import run_sweep

    base = tmp_path_factory.mktemp("site")
    train(load_experiment(data=tiny_config(steps=30)), base / "run", live=False)
    registry = base / "registry"
    zoo.export(base / "run", "tiny-net", registry=registry, samples=3000)
    spec = base / "spec.toml"
    spec.write_text('name = "tiny"\nbase = "demo"\nseeds = [0, 1]\nsamples = 2000\nnull_seeds = 2\n[set]\n'
                    '"training.steps" = 6\n"training.batch_size" = 8\n"training.seq_len" = 5\n'
                    '"training.eval_batch_size" = 8\n"architecture.hidden_size" = 16\n"encoder.n_cells" = 16\n')
    run_sweep(spec, base / "sweep")
    make_report(base / "sweep")
    return build_site(base / "out", registry=registry, sweeps=[base / "sweep"], samples=3000, null_seeds=2)


def test_the_site_is_self_contained_and_every_link_resolves(site):
    pages = list(site.parent.rglob("*.html"))
    assert len(pages) == 3  # index, the network, the sweep report
    for page in pages:
        text = page.read_text()
        assert "http://" not in text and "https://" not in text  # no network needed
        for link in _links(page):
            assert (page.parent / link).resolve().exists(), (page, link)
    network = site.parent / "networks" / "tiny-net" / "index.html"
    assert "top_units_rnn.png" in network.read_text() and "score_distribution_rnn.png" in network.read_text()
    assert "sortable" in site.read_text()


def test_the_site_shows_the_published_metrics_not_its_own_evaluation(site):
    # The registry's metrics.json (export: 19 null networks) and the site's figures (2 null networks) differ in the
    # best-unit null; the index and the page quote the published one, as the catalogue and card do.
    published = json.loads(next((site.parent.parent / "registry" / "networks" / "tiny-net").glob("r*/metrics.json"))
                           .read_text())
    page_own = json.loads((site.parent / "networks" / "tiny-net" / "metrics.json").read_text())["summary"]
    assert published["best_unit_null_60"] != page_own["best_unit_null_60"]
    index_row = site.read_text().split("tiny-net</a>", 1)[1].split("</tr>", 1)[0]
    assert f'data-value="{float(published["best_unit_null_60"])}"' in index_row
    assert f'data-value="{float(page_own["best_unit_null_60"])}"' not in index_row


HOSTILE_NAME = 'x"><img src=x onerror=alert(2)>'


def test_site_pages_are_inert_whatever_a_card_or_a_sweep_folder_holds(site, tmp_path):
    """A card's raw HTML is escaped, a hostile file name is escaped and quoted, a symlinked file is never copied
    or shown, and every page carries a CSP that allows only its own hashed script and style."""
    import html as html_module

    from gridzoo.site.build import CSP, SORT, STYLE, markdown_html, report_page

    card = markdown_html("# t\n\n<script>alert(1)</script>\n\n[x](javascript:alert(3)) <img src=x onerror=alert(4)>")
    assert "<script>" not in card and "<img" not in card and "href=\"javascript" not in card
    assert "&lt;script&gt;" in card
    sweep = tmp_path / "hostile-sweep"
    shutil.copytree(site.parent.parent / "sweep", sweep, symlinks=True)
    shutil.copy(sweep / "report.csv", sweep / f"{HOSTILE_NAME}.csv")
    shutil.copy(sweep / "runs.csv", sweep / f"{HOSTILE_NAME}_runs.csv")
    secret = tmp_path / "secret.txt"
    secret.write_text("metric,value\nsecret-token,1\n")
    (sweep / "leak.csv").symlink_to(secret)
    (sweep / "report_leak.png").symlink_to(secret)
    out = tmp_path / "out"
    report_page(sweep, out)
    folder = out / "reports" / "hostile-sweep"
    text = (folder / "index.html").read_text()
    assert "onerror=alert" not in text.replace("onerror=alert(2)&gt;", "")  # only escaped, as text
    assert "<img src=x" not in text and html_module.escape(HOSTILE_NAME) in text
    assert "secret-token" not in text and not (folder / "leak.csv").exists() and not (folder / "report_leak.png").exists()
    assert not [p for p in folder.iterdir() if p.is_symlink()]
    for page in [*site.parent.rglob("*.html"), folder / "index.html"]:
        head = page.read_text().split("</head>", 1)[0]
        assert f'http-equiv="Content-Security-Policy" content="{CSP}"' in head
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(SORT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in CSP and "unsafe-inline" not in CSP
    assert base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() in CSP


def test_the_site_opens_in_headless_chromium_without_errors(site, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        for html_page in site.parent.rglob("*.html"):
            page = browser.new_page()
            errors = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html_page.as_uri())
            page.wait_for_load_state("load")
            broken = page.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length")
            assert errors == [] and broken == 0, (html_page, errors, broken)
            page.locator("table.sortable th").first.click() if page.locator("table.sortable th").count() else None
            page.screenshot(path=str(tmp_path / f"{html_page.parent.name}.png"))
            page.close()
        browser.close()
    assert len(list(tmp_path.glob("*.png"))) == 3
