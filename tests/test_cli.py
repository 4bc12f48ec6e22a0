"""The command line: listing, info, and one clear exit-2 message for each kind of bad input."""

from __future__ import annotations

import json

import pytest

import gridzoo
from gridzoo.cli import main

from conftest import write_distribution
from gridzoo import registry

GOOD = """
[environment]
name = "box"

[encoder]
name = "gaussian"
n_cells = 32

[architecture]
name = "rnn"
hidden_size = 16

[training]
steps = 2
batch_size = 4
seq_len = 5
"""

BAD = {
    "malformed TOML": ("[environment\nname = 'box'\n", "malformed TOML"),
    "unknown key": (GOOD.replace("steps = 2", "steps = 2\nstpes = 3"), "training.stpes: unknown key (did you mean 'steps'?)"),
    "unknown component key": (GOOD.replace("n_cells = 32", "n_cells = 32\nsigmaa = 1"), "encoder.sigmaa: unknown key (did you mean 'sigma'?)"),
    "wrong type": (GOOD.replace("batch_size = 4", 'batch_size = "four"'), "training.batch_size: Input should be a valid integer"),
    "negative steps": (GOOD.replace("steps = 2", "steps = -5"), "training.steps: Input should be greater than 0"),
    "unknown component": (GOOD.replace('name = "rnn"', 'name = "rnnn"'), "no architecture named 'rnnn' is registered. Did you mean 'rnn'"),
    "unknown section": (GOOD + "\n[trainig]\nsteps = 3\n", "trainig: unknown section (did you mean 'training'?)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_message_and_no_run_folder(case, tmp_path, capsys):
    text, expected = BAD[case]
    config = tmp_path / "experiment.toml"
    config.write_text(text)
    run = tmp_path / "runs" / "x"
    assert main(["train", str(config), "--out", str(run)]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err
    assert captured.err.count("error:") == 1 and "Traceback" not in captured.err
    assert not run.exists() and not (tmp_path / "runs").exists()


def test_ambiguous_component_exits_2(tmp_path, monkeypatch, capsys):
    arch = "from gridzoo_builtin.architectures.recurrent import VanillaRNN as A\n"
    for dist in ("lab-a", "lab-b"):
        write_distribution(tmp_path / "site", dist, "1.0", {"gridzoo.architectures": {"rnn": "lab_mod:A"}}, {"lab_mod": arch})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    registry.refresh()
    try:
        config = tmp_path / "e.toml"
        config.write_text(GOOD)
        assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 2
        err = capsys.readouterr().err
        assert "'gridzoo:rnn'" in err and "'lab-a:rnn'" in err and "name one of them in full" in err
        assert not (tmp_path / "run").exists()
    finally:
        registry.refresh()


def test_existing_run_folder_is_refused(tmp_path, capsys):
    config = tmp_path / "e.toml"
    config.write_text(GOOD)
    run = tmp_path / "run"
    run.mkdir()
    (run / "keep.txt").write_text("mine")
    assert main(["train", str(config), "--out", str(run)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["keep.txt"]


def test_set_overrides_are_validated_too(tmp_path, capsys):
    config = tmp_path / "e.toml"
    config.write_text(GOOD)
    assert main(["train", str(config), "--set", "encoder.sigma=-1", "--out", str(tmp_path / "r")]) == 2
    assert "encoder.sigma: Input should be greater than 0" in capsys.readouterr().err


def test_list_json_and_info(capsys):
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = {(c["kind"], c["name"]) for c in data["components"]}
    assert ("architectures", "rnn") in names and ("environments", "box") in names
    assert all(c["distribution"] and c["version"] for c in data["components"])
    assert main(["info", "architectures", "rnn", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    fields = {f["name"]: f for f in info["fields"]}
    assert fields["hidden_size"]["default"] == 1024 and fields["activation"]["default"] == "relu"
    assert main(["info", "architectures", "rnn"]) == 0
    text = capsys.readouterr().out
    assert "hidden_size" in text and "1024" in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert gridzoo.__version__ in capsys.readouterr().out


def test_presets_listed_and_unknown_preset_suggested(capsys, tmp_path):
    assert main(["presets", "--json"]) == 0
    assert "demo" in {p["name"] for p in json.loads(capsys.readouterr().out)}
    assert main(["train", "--preset", "dmeo", "--out", str(tmp_path / "r")]) == 2
    assert "Did you mean 'demo'?" in capsys.readouterr().err


def test_every_preset_is_a_valid_experiment():
    from gridzoo.config import load_experiment
    from gridzoo.model import build_model
    from gridzoo.presets import preset_names, preset_path

    names = preset_names()
    expected = {"demo", "sorscher2019", "banino2018"} | {f"nfl2022-{t}" for t in ("cartesian", "polar", "gaussian", "dos", "dog", "sod")}
    assert expected | {f"{n}-mini" for n in expected - {"demo"}} <= set(names)
    for name in names:
        experiment = load_experiment(preset_path(name))
        if experiment.architecture.config.model_dump().get("hidden_size", 0) <= 1024:
            build_model(experiment)  # the components combine (the 4096-unit ones are only validated)


def test_component_catalogue_documents_every_builtin():
    from conftest import ROOT

    catalogue = (ROOT / "docs" / "components.md").read_text()
    for info in gridzoo.list_components():
        if info.distribution == "gridzoo":
            assert f"`{info.name}`" in catalogue, info.name


def test_a_config_error_is_reported_before_torch_or_lightning_is_imported(tmp_path):
    import subprocess
    import sys

    config = tmp_path / "e.toml"
    config.write_text(GOOD.replace("n_cells = 32", "n_cells = 32\nsigma = inf"))
    existing = tmp_path / "run"
    existing.mkdir()
    (existing / "x").write_text("")
    probe = (
        "import sys\nfrom gridzoo.cli import main\n"
        f"codes = [main(['train', {str(config)!r}, '--out', {str(tmp_path / 'new')!r}]),\n"
        f"         main(['train', '--preset', 'demo', '--out', {str(existing)!r}])]\n"
        "print(codes, 'torch' in sys.modules, 'pytorch_lightning' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[2, 2] False False", done.stdout + done.stderr
    assert "encoder.sigma: Input should be a finite number" in done.stderr and "already exists" in done.stderr


def test_every_builtin_config_entry_point_is_its_components_config():
    reg = registry.refresh()
    for info in gridzoo.list_components():
        if info.distribution == "gridzoo":
            light = reg.load_config(info.kind, info.qualified_name)
            assert reg.load(info.kind, info.qualified_name).Config is light, info.name


def test_a_skipped_reference_test_fails_in_ci(tmp_path):
    import shutil
    import subprocess
    import sys

    from conftest import ROOT

    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\n@pytest.mark.reference\ndef test_ref():\n    pytest.skip('data absent')\n"
    )
    run = lambda env: subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],  # noqa: E731
                                     capture_output=True, text=True, env={**__import__("os").environ, **env}, cwd=tmp_path)
    assert run({"GRIDZOO_REQUIRE_REFERENCE": "0"}).returncode == 0
    strict = run({"GRIDZOO_REQUIRE_REFERENCE": "1"})
    assert strict.returncode == 1 and "reference test skipped" in strict.stdout


@pytest.mark.parametrize("argv", [["list"], ["zoo", "list"], ["presets"], ["presets", "nfl2022-dos-mini"]])
def test_tables_fold_at_80_columns_without_broken_rows(argv, capsys, monkeypatch):
    from gridzoo.cli.console import out

    monkeypatch.setattr(out, "_width", 80)
    monkeypatch.setattr(out, "_force_terminal", False)
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(len(line) <= 80 for line in lines), max(lines, key=len)
    rows = [line for line in lines if line.startswith("│")]
    assert all(line.rstrip().endswith("│") for line in rows)  # every row closes its table
