"""The zoo: export, load by name offline, verify, pull, revisions, and every refusal of the trust model (no code
from files ever runs; no file is written outside its folder; names and paths are never confused)."""

from __future__ import annotations

import http.server
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading

import pytest

import gridzoo
from gridzoo import zoo
from gridzoo.cli import main
from gridzoo.config import load_experiment
from gridzoo.model import evaluation_batch
from gridzoo.training import train
from gridzoo_builtin.metrics.decoding import DecodingError

from conftest import tiny_config

FILES = ["README.md", "config.json", "metrics.json", "model.safetensors"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("zoo")
    train(load_experiment(data=tiny_config(steps=60)), base / "run", live=False)
    return base / "run"


@pytest.fixture(scope="module")
def registry(trained, tmp_path_factory):
    """A registry holding one network exported from a freshly trained tiny run."""
    reg = tmp_path_factory.mktemp("registry")
    zoo.export(trained, "tiny-rnn", registry=reg, samples=5_000, tags=["test"])
    return reg


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDZOO_OFFLINE", "1")
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))


def _rollout_error(model: zoo.ZooModel) -> float:
    rollout = model.model.rollout(evaluation_batch(model.experiment, model.environment))
    return DecodingError(DecodingError.Config()).compute(rollout)["decoding_error_cm"]


def test_export_writes_the_four_files_and_a_catalogue_entry(registry):
    folder = registry / "networks" / "tiny-rnn" / "r1"
    assert sorted(p.name for p in folder.iterdir()) == FILES
    config = json.loads((folder / "config.json").read_text())
    assert config["gridzoo_version"] == gridzoo.__version__ and config["revision"] == 1
    assert config["components"]["architecture"] == {
        "name": "rnn", "distribution": "gridzoo", "version": gridzoo.__version__,
        "class": "gridzoo_builtin.architectures.recurrent:VanillaRNN",
    }
    assert config["experiment"]["training"]["seed"] == 3
    entry = zoo.entry("tiny-rnn", registry=registry)
    assert set(entry.files) == set(FILES) and entry.revision == 1 and entry.path == "networks/tiny-rnn/r1"
    assert {"rnn", "gaussian", "test"} <= set(entry.tags) and "decoding_error_cm" in entry.metrics
    card = (folder / "README.md").read_text()
    assert "Schaeffer" in card and "gridzoo.zoo.load('tiny-rnn')" in card
    assert [e.name for e in zoo.list("tiny*", registry=registry)] == ["tiny-rnn"]
    assert zoo.list("lstm*", registry=registry) == []
    # Strict JSON everywhere: no NaN or Infinity tokens (json.loads would accept them; this parser does not).
    for path in [registry / "catalogue.json", *folder.glob("*.json")]:
        json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{path.name} holds {c}"))


def test_load_by_name_offline_reproduces_the_recorded_decoding_error(registry, offline):
    model = zoo.load("tiny-rnn", registry=registry)
    recorded = model.metrics["decoding_error_cm"]
    assert _rollout_error(model) == pytest.approx(recorded, rel=1e-4)
    centres = model.encoders[0].centres
    assert centres.shape == (64, 1, 2)  # fixed parameters come back with the weights
    rollout = model.rollout(batch_size=5, seq_len=7)
    assert rollout.hidden["rnn"].shape == (5, 7, 48)


def test_unknown_name_suggests_the_closest(registry):
    with pytest.raises(zoo.ZooError, match="Did you mean 'tiny-rnn'"):
        zoo.load("tiny-rn", registry=registry)


@pytest.fixture
def copy_registry(registry, tmp_path):
    target = tmp_path / "reg"
    shutil.copytree(registry, target)
    return target


def _weights(reg):
    return reg / "networks" / "tiny-rnn" / "r1" / "model.safetensors"


def test_tampered_file_is_refused(copy_registry):
    data = bytearray(_weights(copy_registry).read_bytes())
    data[-1] ^= 0xFF
    _weights(copy_registry).write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match="does not match its sha256"):
        zoo.load("tiny-rnn", registry=copy_registry)
    assert main(["zoo", "verify", "--registry", str(copy_registry)]) == 2


def test_truncated_file_is_refused(copy_registry):
    _weights(copy_registry).write_bytes(_weights(copy_registry).read_bytes()[:100])
    with pytest.raises(zoo.ZooError, match="truncated or replaced"):
        zoo.load("tiny-rnn", registry=copy_registry)


class _Payload:
    """Unpickling this writes a marker file: proof of whether a loader ran code from the file."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_renamed_safetensors_is_refused_without_running_it(registry, tmp_path):
    folder = tmp_path / "evil"
    shutil.copytree(registry / "networks" / "tiny-rnn" / "r1", folder)
    marker = tmp_path / "pwned"
    _Payload.marker = str(marker)
    with open(folder / "model.safetensors", "wb") as f:
        pickle.dump({"architecture.init_state.weight": _Payload()}, f)
    with pytest.raises(zoo.ZooError, match="not a valid safetensors file"):
        zoo.load(path=folder)  # a local folder: no catalogue hash to check, so the format check must hold
    assert not marker.exists()


def test_missing_plugin_names_the_distribution(registry, tmp_path):
    folder = tmp_path / "needs-plugin"
    shutil.copytree(registry / "networks" / "tiny-rnn" / "r1", folder)
    config = json.loads((folder / "config.json").read_text())
    config["components"]["architecture"].update(name="fancy", distribution="gridzoo-fancy-nets", version="2.1")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(zoo.ZooError, match="pip install gridzoo-fancy-nets"):
        zoo.load(path=folder)


# --- trust model: names and paths ---------------------------------------------------------------------------


def test_a_same_named_folder_in_the_working_directory_is_not_loaded_by_name(copy_registry, tmp_path, monkeypatch):
    """A folder called like a catalogue entry, holding tampered weights, must not shadow the entry."""
    fake = tmp_path / "cwd" / "tiny-rnn"
    shutil.copytree(copy_registry / "networks" / "tiny-rnn" / "r1", fake)
    from safetensors.torch import load_file, save_file

    state = load_file(str(fake / "model.safetensors"))
    state = {k: v * 0 if k.startswith("architecture.") else v for k, v in state.items()}
    save_file(state, str(fake / "model.safetensors"))
    monkeypatch.chdir(tmp_path / "cwd")
    by_name = zoo.load("tiny-rnn", registry=copy_registry)
    assert by_name.folder == copy_registry / "networks" / "tiny-rnn" / "r1"
    assert float(by_name.model.architecture.recurrent_kernel.weight.abs().sum()) > 0  # the real weights
    by_path = zoo.load("./tiny-rnn")  # asked for as a path: the local folder, explicitly
    assert float(by_path.model.architecture.recurrent_kernel.weight.abs().sum()) == 0
    with pytest.raises(zoo.ZooError, match="no zoo network named 'nothing-here'"):
        zoo.load("nothing-here", registry=copy_registry)


def _edit_catalogue(reg, change):
    path = reg / "catalogue.json"
    data = json.loads(path.read_text())
    change(data["networks"][0])
    path.write_text(json.dumps(data))


def test_an_entry_that_leaves_out_its_weights_fails_verify_and_never_loads(copy_registry):
    _edit_catalogue(copy_registry, lambda e: e["files"].pop("model.safetensors"))
    data = bytearray(_weights(copy_registry).read_bytes())
    data[-1] ^= 0xFF  # tampered weights that the entry no longer covers
    _weights(copy_registry).write_bytes(bytes(data))
    assert main(["zoo", "verify", "--registry", str(copy_registry)]) == 2
    with pytest.raises(zoo.ZooError, match="catalogue entry is invalid.*model.safetensors"):
        zoo.load("tiny-rnn", registry=copy_registry)


def _url_registry(registry, tmp_path, url: str, files=None):
    reg = tmp_path / "remote-reg"
    reg.mkdir(exist_ok=True)
    catalogue = json.loads((registry / "catalogue.json").read_text())
    entry = catalogue["networks"][0]
    entry.pop("path")
    entry["url"] = url
    if files is not None:
        entry["files"] = files
    (reg / "catalogue.json").write_text(json.dumps(catalogue))
    return reg


@pytest.fixture
def server(registry):
    """A local web server serving the exported network's folder (a stand-in for a lab's mirror)."""
    folder = registry / "networks" / "tiny-rnn" / "r1"

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_pull_downloads_a_url_entry_into_the_cache(registry, tmp_path, monkeypatch, server):
    reg = _url_registry(registry, tmp_path, server)
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDZOO_OFFLINE", "1")
    with pytest.raises(zoo.ZooError, match="GRIDZOO_OFFLINE"):
        zoo.load("tiny-rnn", registry=reg)
    monkeypatch.delenv("GRIDZOO_OFFLINE")
    assert main(["zoo", "pull", "tiny-rnn", "--registry", str(reg)]) == 2  # plain http is refused by default
    monkeypatch.setenv("GRIDZOO_ALLOW_HTTP", "1")  # ... unless allowed, for a local mirror
    assert main(["zoo", "pull", "tiny-rnn", "--registry", str(reg)]) == 0
    cached = tmp_path / "home" / "zoo" / "tiny-rnn" / "r1"
    assert sorted(p.name for p in cached.iterdir()) == FILES  # no temporary file left behind
    monkeypatch.setenv("GRIDZOO_OFFLINE", "1")  # now it loads from the cache without the network
    assert zoo.load("tiny-rnn", registry=reg).metrics["decoding_error_cm"] > 0


@pytest.fixture
def https_redirect_to(tmp_path, monkeypatch):
    """An https server on 127.0.0.1 (a self-signed certificate this process trusts) whose every path redirects to
    the same path under a given base URL."""
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client's default context trusts it
    servers = []

    def start(base: str) -> str:
        class Redirect(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", base + self.path)
                self.end_headers()

            def log_message(self, *args):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"https://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()


def test_an_https_entry_never_follows_a_redirect_to_plain_http(registry, tmp_path, monkeypatch, server,
                                                               https_redirect_to):
    reg = _url_registry(registry, tmp_path, https_redirect_to(server))  # https -> the plain-http mirror
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GRIDZOO_ALLOW_HTTP", raising=False)
    with pytest.raises(zoo.ZooError, match="only https:// is allowed"):
        zoo.pull("tiny-rnn", registry=reg)
    assert not (tmp_path / "home").exists() or not list((tmp_path / "home").rglob("*.*"))
    monkeypatch.setenv("GRIDZOO_ALLOW_HTTP", "1")  # the user allowed http for a mirror they trust: it is followed
    zoo.pull("tiny-rnn", registry=reg)


def test_a_traversal_file_key_is_refused_and_nothing_is_written_outside(registry, tmp_path, monkeypatch, server):
    files = json.loads((registry / "catalogue.json").read_text())["networks"][0]["files"]
    files["../../../escaped.txt"] = files.pop("README.md")
    reg = _url_registry(registry, tmp_path, server, files)
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDZOO_ALLOW_HTTP", "1")
    assert main(["zoo", "pull", "tiny-rnn", "--registry", str(reg)]) == 2
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not (tmp_path / "home").exists() or not list((tmp_path / "home").rglob("*.*"))


@pytest.mark.parametrize("url", ["file:///etc", "ftp://example.org/x", "javascript:alert(1)"])
def test_non_web_urls_are_refused(registry, tmp_path, monkeypatch, url):
    reg = _url_registry(registry, tmp_path, url)
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    with pytest.raises(zoo.ZooError, match="catalogue entry is invalid"):
        zoo.pull("tiny-rnn", registry=reg)


def test_a_download_that_does_not_match_is_discarded(registry, tmp_path, monkeypatch, server):
    files = json.loads((registry / "catalogue.json").read_text())["networks"][0]["files"]
    files["README.md"]["sha256"] = "0" * 64
    reg = _url_registry(registry, tmp_path, server, files)
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDZOO_ALLOW_HTTP", "1")
    with pytest.raises(zoo.ZooError, match="downloaded README.md does not match"):
        zoo.pull("tiny-rnn", registry=reg)
    assert not (tmp_path / "home" / "zoo" / "tiny-rnn" / "r1" / "README.md").exists()


def test_an_unreachable_server_is_one_clear_error(registry, tmp_path, monkeypatch, capsys):
    reg = _url_registry(registry, tmp_path, "https://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    assert main(["zoo", "pull", "tiny-rnn", "--registry", str(reg)]) == 2
    assert "cannot download" in capsys.readouterr().err


# --- revisions and kill-safe export --------------------------------------------------------------------------


def test_reexport_adds_a_revision_and_keeps_the_old_one_loadable(trained, copy_registry):
    new = zoo.export(trained, "tiny-rnn", registry=copy_registry, samples=5_000, note="retrained for the test")
    assert new.revision == 2
    assert zoo.entry("tiny-rnn", registry=copy_registry).revision == 2
    old = zoo.entry("tiny-rnn", registry=copy_registry, revision=1)
    assert old.superseded_by == 2
    with pytest.warns(zoo.ZooWarning, match="superseded by revision 2: retrained for the test"):
        zoo.load("tiny-rnn", registry=copy_registry, revision=1)
    assert zoo.load("tiny-rnn", registry=copy_registry).config["revision"] == 2
    assert [e.revision for e in zoo.list("tiny-rnn", registry=copy_registry, all_revisions=True)] == [1, 2]
    assert main(["zoo", "verify", "--registry", str(copy_registry)]) == 0


def test_rescore_republishes_the_same_weights_with_new_metrics_and_card(copy_registry, offline):
    old = zoo.entry("tiny-rnn", registry=copy_registry)
    with pytest.raises(zoo.ZooError, match="say what changed"):
        zoo.rescore("tiny-rnn", " ", registry=copy_registry)
    new = zoo.rescore("tiny-rnn", "re-scored for the test", registry=copy_registry, samples=4_000)
    assert new.revision == 2 and new.files["model.safetensors"] == old.files["model.safetensors"]
    assert zoo.entry("tiny-rnn", registry=copy_registry, revision=1).superseded_by == 2
    loaded = zoo.load("tiny-rnn", registry=copy_registry)
    assert loaded.config["revision"] == 2 and loaded.config["weights_of"] == 1
    # Its metrics are the installed analysis's on those weights.
    assert loaded.metrics["score_60_max"] == loaded.evaluate(samples=4_000)["score_60_max"]
    card = loaded.card
    assert "What changed in this revision: re-scored for the test" in card
    assert "## Scale" in card and "Grid-likeness:" in card
    assert main(["zoo", "verify", "--registry", str(copy_registry)]) == 0


def test_cards_state_the_regime_against_the_paper_scale_preset():
    from gridzoo.presets import preset_path
    from gridzoo.analysis.verdicts import grid_verdict
    from gridzoo.zoo.card import scale_lines

    mini = load_experiment(preset_path("sorscher2019-mini")).to_dict(logging=False)
    lines = "\n".join(scale_lines(mini, "sorscher2019-mini", "sorscher2019-mini"))
    assert "mini size" in lines and "preset `sorscher2019`" in lines
    assert "| units | 256 * | 4096 |" in lines and "| target cells | 512 | 512 |" in lines
    # A network with no -mini in its name is matched by architecture and targets, and not called a pilot.
    full = load_experiment(preset_path("nfl2022-dos")).to_dict(logging=False)
    lines = scale_lines(full, None, "my-dos")
    assert "mini size" not in "".join(lines) and any("preset `nfl2022-dos`" in line for line in lines)
    assert not [line for line in lines if " * |" in line]  # nothing differs from the paper-scale preset
    assert "does **not** beat" in grid_verdict({"score_60_max": 0.7, "best_unit_null_60": 1.0, "best_unit_null_p": 0.4})
    assert "beats" in grid_verdict({"score_60_max": 1.2, "best_unit_null_60": 1.0})
    assert "without the best-unit null" in grid_verdict({"score_60_max": 1.2})


@pytest.mark.slow
@pytest.mark.parametrize("crash", ["export:before-rename", "export:before-catalogue"])
def test_a_kill_during_export_leaves_a_loadable_catalogue(trained, copy_registry, tmp_path, crash):
    env = {**os.environ, "GRIDZOO_CRASH_AT": crash, "GRIDZOO_REGISTRY": str(copy_registry)}
    done = subprocess.run([sys.executable, "-m", "gridzoo", "zoo", "export", str(trained), "--name", "tiny-rnn"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr  # killed at the crash point
    assert zoo.entry("tiny-rnn", registry=copy_registry).revision == 1  # the old entry, intact and loadable
    zoo.load("tiny-rnn", registry=copy_registry)
    assert main(["zoo", "verify", "--registry", str(copy_registry)]) == 0
    # The next export completes, cleaning what the killed one left.
    assert zoo.export(trained, "tiny-rnn", registry=copy_registry, samples=5_000).revision == 2
    zoo.load("tiny-rnn", registry=copy_registry)
    leftovers = [p.name for p in (copy_registry / "networks" / "tiny-rnn").iterdir()]
    assert sorted(leftovers) == ["r1", "r2"]


def test_two_exports_of_different_names_at_once_keep_both(trained, copy_registry, monkeypatch):
    import time

    from gridzoo.zoo import catalogue as catalogue_module

    original = zoo.write_catalogue

    def slow_write(*args, **kwargs):  # widen the read-modify-write window: without a lock one entry is lost
        time.sleep(0.5)
        original(*args, **kwargs)

    monkeypatch.setattr(zoo, "write_catalogue", slow_write)
    errors = []

    def publish(name):
        try:
            zoo.export(trained, name, registry=copy_registry, samples=2_000)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in ("first-net", "second-net")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    names = {e.name for e in catalogue_module.read_catalogue(copy_registry).networks}
    assert {"tiny-rnn", "first-net", "second-net"} <= names


def test_export_refuses_unfinished_runs_and_bad_names(tmp_path, registry, trained, capsys):
    with pytest.raises(zoo.ZooError, match="not finished"):
        zoo.export(tmp_path, "x", registry=registry)
    assert main(["zoo", "export", str(trained), "--name", "../x", "--registry", str(registry)]) == 2
    err = capsys.readouterr().err
    assert "zoo name '../x'" in err and "Traceback" not in err
    assert not (registry.parent / "x").exists()
    assert main(["zoo", "info", "tiny-rnn", "--registry", str(registry)]) == 0


def test_shipped_networks_verify():
    if not zoo.list():
        pytest.skip("no networks shipped yet")
    assert main(["zoo", "verify"]) == 0
