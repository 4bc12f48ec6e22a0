"""The zoo: export, load by name offline, verify, pull, and every refusal (no code from files ever runs)."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest

import gridzoo
from gridzoo import zoo
from gridzoo.cli import main
from gridzoo.config import load_experiment
from gridzoo.model import evaluation_batch
from gridzoo.training import train
from gridzoo_builtin.metrics.decoding import DecodingError

from conftest import tiny_config


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A registry holding one network exported from a freshly trained tiny run."""
    base = tmp_path_factory.mktemp("zoo")
    train(load_experiment(data=tiny_config(steps=60)), base / "run", live=False)
    reg = base / "registry"
    reg.mkdir()
    zoo.export(base / "run", "tiny-rnn", registry=reg, samples=5_000, tags=["test"])
    return reg


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDZOO_OFFLINE", "1")
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))


def _rollout_error(model: zoo.ZooModel) -> float:
    rollout = model.model.rollout(evaluation_batch(model.experiment, model.environment))
    return DecodingError(DecodingError.Config()).compute(rollout)["decoding_error_cm"]


def test_export_writes_the_four_files_and_a_catalogue_entry(registry):
    folder = registry / "networks" / "tiny-rnn"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "metrics.json", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config["gridzoo_version"] == gridzoo.__version__
    assert config["components"]["architecture"] == {
        "name": "rnn", "distribution": "gridzoo", "version": gridzoo.__version__,
        "class": "gridzoo_builtin.architectures.recurrent:VanillaRNN",
    }
    assert config["experiment"]["training"]["seed"] == 3
    entry = zoo.entry("tiny-rnn", registry=registry)
    assert set(entry.files) == {"README.md", "config.json", "metrics.json", "model.safetensors"}
    assert {"rnn", "gaussian", "test"} <= set(entry.tags) and "decoding_error_cm" in entry.metrics
    card = (folder / "README.md").read_text()
    assert "Schaeffer" in card and "gridzoo.zoo.load('tiny-rnn')" in card
    assert [e.name for e in zoo.list("tiny*", registry=registry)] == ["tiny-rnn"]
    assert zoo.list("lstm*", registry=registry) == []


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


def test_tampered_file_is_refused(copy_registry):
    weights = copy_registry / "networks" / "tiny-rnn" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match="does not match its sha256"):
        zoo.load("tiny-rnn", registry=copy_registry)
    assert main(["zoo", "verify", "--registry", str(copy_registry)]) == 2


def test_truncated_file_is_refused(copy_registry):
    weights = copy_registry / "networks" / "tiny-rnn" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(zoo.ZooError, match="truncated or replaced"):
        zoo.load("tiny-rnn", registry=copy_registry)


class _Payload:
    """Unpickling this writes a marker file: proof of whether a loader ran code from the file."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_renamed_safetensors_is_refused_without_running_it(registry, tmp_path):
    folder = tmp_path / "evil"
    shutil.copytree(registry / "networks" / "tiny-rnn", folder)
    marker = tmp_path / "pwned"
    _Payload.marker = str(marker)
    with open(folder / "model.safetensors", "wb") as f:
        pickle.dump({"architecture.init_state.weight": _Payload()}, f)
    with pytest.raises(zoo.ZooError, match="not a valid safetensors file"):
        zoo.load(folder)  # a local folder: no catalogue hash to check, so the format check must hold
    assert not marker.exists()
    # The same file in a catalogue entry is stopped earlier, by its hash.
    assert not marker.exists()


def test_missing_plugin_names_the_distribution(registry, tmp_path):
    folder = tmp_path / "needs-plugin"
    shutil.copytree(registry / "networks" / "tiny-rnn", folder)
    config = json.loads((folder / "config.json").read_text())
    config["components"]["architecture"].update(name="fancy", distribution="gridzoo-fancy-nets", version="2.1")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(zoo.ZooError, match="pip install gridzoo-fancy-nets"):
        zoo.load(folder)


def test_pull_downloads_a_url_entry_into_the_cache(registry, tmp_path, monkeypatch):
    served = registry / "networks" / "tiny-rnn"
    reg = tmp_path / "remote-reg"
    reg.mkdir()
    catalogue = json.loads((registry / "catalogue.json").read_text())
    entry = catalogue["networks"][0]
    entry.pop("path")
    entry["url"] = served.as_uri()  # a file:// URL stands in for a web server
    (reg / "catalogue.json").write_text(json.dumps(catalogue))
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDZOO_OFFLINE", "1")
    with pytest.raises(zoo.ZooError, match="GRIDZOO_OFFLINE"):
        zoo.load("tiny-rnn", registry=reg)
    monkeypatch.delenv("GRIDZOO_OFFLINE")
    assert main(["zoo", "pull", "tiny-rnn", "--registry", str(reg)]) == 0
    cached = tmp_path / "home" / "zoo" / "tiny-rnn"
    assert (cached / "model.safetensors").is_file()
    monkeypatch.setenv("GRIDZOO_OFFLINE", "1")  # now it loads from the cache without the network
    assert zoo.load("tiny-rnn", registry=reg).metrics["decoding_error_cm"] > 0


def test_export_refuses_unfinished_runs_and_bad_names(tmp_path, registry):
    with pytest.raises(zoo.ZooError, match="no model.safetensors"):
        zoo.export(tmp_path, "x", registry=registry)
    assert main(["zoo", "info", "tiny-rnn", "--registry", str(registry)]) == 0


def test_shipped_networks_verify():
    entries = zoo.list()
    if not entries:
        pytest.skip("no networks shipped yet")
    assert main(["zoo", "verify"]) == 0
