"""The entry-point registry: metadata-only listing, import on use, broken plugins, name collisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import gridzoo
from gridzoo.errors import AmbiguousComponentError, PluginLoadError, UnknownComponentError
from gridzoo.registry import default_registry

BUILTINS = {
    "environments": {"box"},
    "encoders": {"cartesian", "gaussian"},
    "architectures": {"rnn"},
    "metrics": {"decoding_error"},
}

ARCH_SOURCE = """
from gridzoo.architecture import Architecture, ArchitectureOutput
from gridzoo.component import ComponentConfig
import torch

class Config(ComponentConfig):
    width: int = 8

class Tiny(Architecture):
    Config = Config
    summary = "tiny test architecture"
    layers = ("rnn",)
    default_layer = "rnn"

    def __init__(self, config, input_size, init_size, output_sizes):
        super().__init__(config, input_size, init_size, output_sizes)
        self.cell = torch.nn.RNN(input_size, config.width, batch_first=True)
        self.h0 = torch.nn.Linear(init_size, config.width)
        self.heads = torch.nn.ModuleList(torch.nn.Linear(config.width, n) for n in output_sizes)

    def forward(self, velocity, initial_code):
        h, _ = self.cell(velocity, self.h0(initial_code)[None])
        return ArchitectureOutput([head(h) for head in self.heads], {"rnn": h})
"""


def test_builtins_are_listed_with_distribution_and_version():
    infos = gridzoo.list_components()
    for kind, names in BUILTINS.items():
        found = {i.name for i in infos if i.kind == kind}
        assert names <= found, kind
    for info in infos:
        if info.name in BUILTINS.get(info.kind, ()):
            assert info.distribution == "gridzoo"
            assert info.version == gridzoo.__version__


def test_listing_imports_no_plugin_and_import_gridzoo_stays_light():
    code = (
        "import sys, gridzoo; infos = gridzoo.list_components(); "
        "assert infos; "
        "print([m for m in sys.modules if m.startswith('gridzoo_builtin') or m in ('torch', 'pytorch_lightning')])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_get_and_build_validate_through_config():
    rnn = gridzoo.get_component("architectures", "rnn")
    assert rnn.__name__ == "VanillaRNN"
    env = gridzoo.build("environments", "box", width=1.5)
    assert env.bounds.width == pytest.approx(1.5)
    with pytest.raises(gridzoo.errors.ConfigError, match="environment.widht: unknown key .*'width'"):
        gridzoo.build("environments", "box", widht=1.5)


def test_unknown_name_suggests_closest_and_command():
    with pytest.raises(UnknownComponentError) as exc:
        gridzoo.get_component("encoders", "gausian")
    assert "'gaussian'" in str(exc.value) and "gridzoo list encoders" in str(exc.value)
    with pytest.raises(UnknownComponentError, match="unknown component kind"):
        gridzoo.list_components("widgets")


def test_broken_plugin_is_recorded_and_spares_the_rest(install_fake, monkeypatch):
    install_fake(
        "broken-plugin",
        "0.3",
        {"gridzoo.architectures": {"broken": "broken_mod:Nope", "notaclass": "broken_ok:VALUE"}},
        {"broken_mod": "raise ImportError('missing dependency foo')", "broken_ok": "VALUE = 3"},
    )
    reg = default_registry()
    loaded = dict((info.name, cls) for info, cls in reg.load_all("architectures"))
    assert loaded["broken"] is None and loaded["notaclass"] is None
    assert loaded["rnn"] is not None  # the others still work
    errors = {f.info.name: f.error for f in reg.failures.values()}
    assert "missing dependency foo" in errors["broken"]
    assert "not a subclass" in errors["notaclass"]
    with pytest.raises(PluginLoadError, match="broken-plugin"):
        gridzoo.get_component("architectures", "broken")
    monkeypatch.setenv("GRIDZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError):
        reg.load_all("architectures")


def test_name_collision_needs_qualified_name(install_fake):
    install_fake("acme-one", "1.0", {"gridzoo.architectures": {"tiny": "acme_one:Tiny"}}, {"acme_one": ARCH_SOURCE})
    install_fake("acme-two", "2.0", {"gridzoo.architectures": {"tiny": "acme_two:Tiny"}}, {"acme_two": ARCH_SOURCE})
    with pytest.raises(AmbiguousComponentError) as exc:
        gridzoo.get_component("architectures", "tiny")
    assert "'acme-one:tiny'" in str(exc.value) and "'acme-two:tiny'" in str(exc.value)
    one = gridzoo.get_component("architectures", "acme-one:tiny")
    two = gridzoo.get_component("architectures", "acme_two:tiny")  # distribution names normalise
    assert one.__module__ == "acme_one" and two.__module__ == "acme_two"


def test_cli_lists_failures_in_their_own_section(install_fake, tmp_path):
    site = install_fake("broken-plugin", "0.3", {"gridzoo.metrics": {"boom": "boom_mod:X"}}, {"boom_mod": "1/0"})
    env = {**os.environ, "PYTHONPATH": str(site)}
    cmd = [sys.executable, "-m", "gridzoo"]
    result = subprocess.run([*cmd, "list", "--json"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [f["name"] for f in data["failures"]] == ["boom"]
    assert "ZeroDivisionError" in data["failures"][0]["error"]
    assert {"box", "rnn", "gaussian"} <= {c["name"] for c in data["components"]}
    table = subprocess.run([*cmd, "list"], capture_output=True, text=True, env={**env, "COLUMNS": "200"})
    assert "plugins that failed to load" in table.stdout and "boom" in table.stdout
    strict = subprocess.run([*cmd, "list"], capture_output=True, text=True, env={**env, "GRIDZOO_STRICT_PLUGINS": "1"})
    assert strict.returncode == 2 and "boom" in strict.stderr
