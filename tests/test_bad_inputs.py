"""The front door: a table of bad inputs across configs, the CLI, the zoo and checkpoints. Each one must exit
with code 2, print exactly one line (no traceback), and leave no folder or file behind.

The first cases are the 20 that an audit found silently accepted or ending in a raw traceback."""

from __future__ import annotations

import json
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from gridzoo.cli import main
from gridzoo.config import load_experiment
from gridzoo.training import train

from conftest import tiny_config

BASE = {
    "environment": {"name": "box"},
    "encoder": {"name": "gaussian", "n_cells": 32},
    "architecture": {"name": "rnn", "hidden_size": 16},
    "training": {"steps": 2, "batch_size": 4, "seq_len": 5},
}


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def to_toml(data: dict) -> str:
    lines = []
    for section, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{section}]]")
                lines += [f"{k} = {toml_value(v)}" for k, v in item.items()]
        else:
            lines.append(f"[{section}]")
            lines += [f"{k} = {toml_value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def config(**changes) -> str:
    """BASE with ``section__key=value`` changes (value None removes the key; section=None removes it)."""
    data = json.loads(json.dumps(BASE))
    for key, value in changes.items():
        section, _, field_name = key.partition("__")
        if not field_name:
            if value is None:
                data.pop(section, None)
            else:
                data[section] = value
        elif value is None:
            data[section].pop(field_name, None)
        else:
            data[section][field_name] = value
    return to_toml(data)


@dataclass
class Case:
    argv: Callable[[Path], list[str]]  # the command, given the case's working folder
    expect: str  # a fragment of the one line
    files: dict[str, str | bytes] = field(default_factory=dict)  # inputs written first
    setup: Callable[[Path, Path], None] | None = None  # (folder, finished run) -> None
    env: dict[str, str] = field(default_factory=dict)


def train_with(text: str | bytes, expect: str, *extra: str) -> Case:
    return Case(lambda d: ["train", str(d / "e.toml"), "--out", str(d / "runs" / "x"), *extra], expect,
                {"e.toml": text})


def with_run(argv: Callable[[Path], list[str]], expect: str, setup=None, env=None) -> Case:
    return Case(argv, expect, setup=setup, env=env or {})


def corrupt_checkpoint(content: bytes | Callable[[Path], bytes]):
    def setup(folder: Path, run: Path) -> None:
        target = folder / "run"
        shutil.copytree(run, target)
        (target / "model.safetensors").unlink()
        (target / "metrics.json").unlink()
        meta = json.loads((target / "run.json").read_text())
        (target / "run.json").write_text(json.dumps({**meta, "status": "interrupted"}))
        ckpt = target / "checkpoints" / "last.ckpt"
        ckpt.write_bytes(content(ckpt) if callable(content) else content)
    return setup


class Payload:
    """Unpickling this writes a marker file: proof of whether a loader ran code from the file."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickled_checkpoint(ckpt: Path) -> bytes:
    import io

    import torch

    Payload.marker = str(ckpt.parent.parent / "PWNED")
    buffer = io.BytesIO()
    torch.save({"state_dict": {}, "global_step": 1, "evil": Payload()}, buffer)
    return buffer.getvalue()


def huge_header(folder: Path, run: Path) -> None:
    target = folder / "run"
    shutil.copytree(run, target)
    (target / "model.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{}")


def copy_run(folder: Path, run: Path) -> None:
    shutil.copytree(run, folder / "run")


def a_file_in_the_way(folder: Path, run: Path) -> None:
    (folder / "blocker").write_text("a file, not a folder")


def unfinished_copy(folder: Path, run: Path) -> None:
    copy_run(folder, run)
    meta = json.loads((folder / "run" / "run.json").read_text())
    (folder / "run" / "run.json").write_text(json.dumps({**meta, "status": "interrupted"}))


def bad_catalogue(folder: Path, run: Path) -> None:
    (folder / "reg").mkdir()
    (folder / "reg" / "catalogue.json").write_text("{not json")


def url_catalogue(url: str):
    def setup(folder: Path, run: Path) -> None:
        (folder / "reg").mkdir()
        files = {f: {"sha256": "0" * 64, "size": 1} for f in ("config.json", "model.safetensors", "metrics.json", "README.md")}
        entry = {"name": "remote", "summary": "x", "files": files, "url": url}
        (folder / "reg" / "catalogue.json").write_text(json.dumps({"format": 2, "networks": [entry]}))
    return setup


SPEC = 'base = "demo"\nseeds = [0]\n'

CASES: dict[str, Case] = {
    # --- the audit's silently accepted inputs ----------------------------------------------------------------
    "sigma = inf": train_with(config(encoder__sigma=float("inf")), "encoder.sigma: Input should be a finite number"),
    "lr = inf": train_with(config(training__lr=float("inf")), "training.lr: Input should be a finite number"),
    "lr = nan": train_with(config(training__lr=float("nan")), "training.lr: Input should be a finite number"),
    "n_cells = 1": train_with(config(encoder__n_cells=1), "encoder.n_cells: Input should be greater than or equal to 2"),
    "decode_top_k > n_cells": train_with(config(encoder__decode_top_k=40), "decode_top_k = 40 is more than n_cells = 32"),
    "steps = true": train_with(config(training__steps=True), "training.steps: Value error, expected a number"),
    "evaluate --samples -5": with_run(lambda d: ["evaluate", str(d / "run"), "--samples", "-5"], "--samples", copy_run),
    "decoding metric without a decodable encoder": train_with(
        config(encoder={"name": "head_direction"}, metrics=[{"name": "decoding_error"}]),
        "decoding_error needs an encoder that decodes positions"),
    "resume with fewer steps than done": with_run(
        lambda d: ["train", "--resume", str(d / "run"), "--set", "training.steps=3"], "already trained 20 steps", copy_run),
    "plugin Config that swallows unknown keys": Case(
        lambda d: ["train", str(d / "e.toml"), "--out", str(d / "runs" / "x")], "accepts unknown keys",
        {"e.toml": config(architecture={"name": "lax"})}),
    # --- the audit's raw tracebacks -------------------------------------------------------------------------
    "binary config file": train_with(b"\x00\x01\x02binary\xff\xfe", "is not UTF-8 text"),
    "binary config file (valid UTF-8)": train_with("\x00\x00\x00", "is binary, not TOML"),
    "truncated config file": train_with(config()[:60], "malformed TOML"),
    "evaluate --units 0": with_run(lambda d: ["evaluate", str(d / "run"), "--units", "0"], "--units", copy_run),
    "evaluate --out names a file": with_run(
        lambda d: ["evaluate", str(d / "run"), "--out", str(d / "run" / "config.json")], "is a file", copy_run),
    "corrupt checkpoint": with_run(lambda d: ["train", "--resume", str(d / "run")], "truncated or corrupt",
                                   corrupt_checkpoint(b"garbage, not a checkpoint")),
    "pickled checkpoint": with_run(lambda d: ["train", "--resume", str(d / "run")], "never unpickles",
                                   corrupt_checkpoint(pickled_checkpoint)),
    "truncated checkpoint": with_run(lambda d: ["train", "--resume", str(d / "run")], "truncated or corrupt",
                                     corrupt_checkpoint(lambda c: c.read_bytes()[:1000])),
    "safetensors header too large": with_run(lambda d: ["evaluate", str(d / "run")], "not a valid safetensors file",
                                             huge_header),
    "out-of-memory hidden size": train_with(config(architecture__hidden_size=300_000), "needs about"),
    "out-of-memory batch": train_with(config(training__batch_size=1_000_000, training__seq_len=2000), "needs about"),
    "malformed plugin": Case(lambda d: ["train", str(d / "e.toml"), "--out", str(d / "runs" / "x")],
                             "failed to load", {"e.toml": config(architecture={"name": "broken"})}),
    "plugin that fails while building": Case(lambda d: ["train", str(d / "e.toml"), "--out", str(d / "runs" / "x")],
                                             "failed to build: RuntimeError: boom", {"e.toml": config(architecture={"name": "boom"})}),
    "output folder under a file": train_with(config(), "cannot create the run folder", "--out", "{d}/blocker/run"),
    "unwritable GRIDZOO_HOME": with_run(lambda d: ["zoo", "pull", "remote", "--registry", str(d / "reg")],
                                        "cannot write the zoo cache", url_catalogue("https://127.0.0.1:9"),
                                        env={"GRIDZOO_HOME": "{d}/blocker/home"}),
    "zoo pull with the server down": with_run(lambda d: ["zoo", "pull", "remote", "--registry", str(d / "reg")],
                                              "cannot download", url_catalogue("https://127.0.0.1:9")),
    "zoo export ../x": with_run(lambda d: ["zoo", "export", str(d / "run"), "--name", "../x", "--registry", str(d / "reg")],
                                "zoo name '../x'", copy_run),
    "device cuda without CUDA": train_with(config(training__device="cuda"), "no CUDA device is available"),
    # --- more configs -----------------------------------------------------------------------------------------
    "malformed TOML": train_with("[environment\nname = 'box'\n", "malformed TOML"),
    "unknown training key": train_with(config(training__stpes=3), "training.stpes: unknown key (did you mean 'steps'?)"),
    "unknown component key": train_with(config(encoder__sigmaa=1), "encoder.sigmaa: unknown key (did you mean 'sigma'?)"),
    "wrong type": train_with(config(training__batch_size="four"), "training.batch_size: Input should be a valid integer"),
    "negative steps": train_with(config(training__steps=-5), "training.steps: Input should be greater than 0"),
    "unknown component": train_with(config(architecture__name="rnnn"), "Did you mean 'rnn'"),
    "unknown section": train_with(config() + "[trainig]\nsteps = 3\n", "trainig: unknown section (did you mean 'training'?)"),
    "missing component name": train_with(config(encoder__name=None), "encoder.name: required, but missing"),
    "missing architecture": train_with(config(architecture=None), "architecture: required, but missing"),
    "zero hidden units": train_with(config(architecture__hidden_size=0), "architecture.hidden_size: Input should be greater than 0"),
    "unknown activation": train_with(config(architecture__activation="swish"), "architecture.activation: Input should be"),
    "surround narrower than centre": train_with(config(encoder={"name": "dos", "surround_scale": 0.5}), "encoder.surround_scale"),
    "sigma range reversed": train_with(config(encoder__sigma_range=[0.2, 0.1]), "sigma_range must be [low, high]"),
    "negative sigma": train_with(config(encoder__sigma=-0.1), "encoder.sigma: Input should be greater than 0"),
    "boolean for a float": train_with(config(encoder__sigma=True), "encoder.sigma: Value error, expected a number"),
    "config is a folder": Case(lambda d: ["train", str(d), "--out", str(d / "runs" / "x")], "is a folder"),
    "config does not exist": Case(lambda d: ["train", str(d / "nope.toml"), "--out", str(d / "runs" / "x")], "does not exist"),
    "decoding metric encoder index out of range": train_with(
        config(metrics=[{"name": "decoding_error", "encoder": 3}]), "metrics.0.encoder = 3"),
    "Cartesian code in a periodic box": train_with(config(environment={"name": "box", "periodic": True},
                                                          encoder={"name": "cartesian"}), "needs a solid arena"),
    "unknown metric": train_with(config(metrics=[{"name": "gridscore"}]), "no metric named 'gridscore'"),
    "metric with an unknown key": train_with(config(metrics=[{"name": "grid_cells", "binz": 3}]), "metrics.0.binz: unknown key"),
    "component name is a number": train_with(config(architecture__name=3), "architecture.name: Input should be a valid string"),
    # --- the command line -------------------------------------------------------------------------------------
    "--set without =": train_with(config(), "expected DOTTED.PATH=VALUE", "--set", "training.steps"),
    "--set a string for an int": train_with(config(), "training.steps: Input should be a valid integer", "--set", "training.steps=abc"),
    "--set an index out of range": train_with(config(), "encoder.5: unknown key", "--set", "encoder.5.sigma=0.1"),
    "--set into a value": train_with(config(), "is a value, not a section", "--set", "training.steps.x=1"),
    "existing run folder": with_run(lambda d: ["train", "--preset", "demo", "--out", str(d / "run")], "already exists", copy_run),
    "config and preset": train_with(config(), "not both or neither", "--preset", "demo"),
    "neither config nor preset": Case(lambda d: ["train", "--out", str(d / "runs" / "x")], "not both or neither"),
    "unknown preset": Case(lambda d: ["train", "--preset", "dmeo", "--out", str(d / "runs" / "x")], "Did you mean 'demo'?"),
    "resume with --preset": with_run(lambda d: ["train", "--resume", str(d / "run"), "--preset", "demo"], "drop CONFIG", copy_run),
    "resume a folder that is no run": Case(lambda d: ["train", "--resume", str(d)], "is not a run folder"),
    "resume changing the learning rate": with_run(
        lambda d: ["train", "--resume", str(d / "run"), "--set", "training.lr=1"], "only accepts --set training.steps", copy_run),
    "evaluate --bins 3": with_run(lambda d: ["evaluate", str(d / "run"), "--bins", "3"], "--bins", copy_run),
    "evaluate a missing folder": Case(lambda d: ["evaluate", str(d / "nope")], "is not a run folder or a zoo network folder"),
    "evaluate a folder with broken config.json": Case(lambda d: ["evaluate", str(d)], "cannot be read as JSON",
                                                      {"config.json": "{broken"}),
    "evaluate an unknown layer": with_run(lambda d: ["evaluate", str(d / "run"), "--layer", "lstm"], "--layer 'lstm'", copy_run),
    "evaluate a folder and --zoo": with_run(lambda d: ["evaluate", str(d / "run"), "--zoo", "x"], "not both or neither", copy_run),
    "evaluate an unknown zoo name": Case(lambda d: ["evaluate", "--zoo", "sorscher2019-mni"], "Did you mean 'sorscher2019-mini'"),
    "list an unknown kind": Case(lambda d: ["list", "archs"], "unknown component kind 'archs'"),
    "info an unknown component": Case(lambda d: ["info", "encoders", "gausian"], "Did you mean 'gaussian'"),
    "zoo info an unknown name": Case(lambda d: ["zoo", "info", "sorscher"], "no zoo network named 'sorscher'"),
    "zoo export an unfinished run": with_run(
        lambda d: ["zoo", "export", str(d / "run"), "--name", "x", "--registry", str(d / "reg")], "not finished", unfinished_copy),
    "zoo verify a broken catalogue": with_run(lambda d: ["zoo", "verify", "--registry", str(d / "reg")],
                                              "not a readable zoo catalogue", bad_catalogue),
    "zoo pull a file: URL": with_run(lambda d: ["zoo", "pull", "remote", "--registry", str(d / "reg")],
                                     "catalogue entry is invalid", url_catalogue("file:///etc")),
    "zoo load a revision that does not exist": Case(lambda d: ["zoo", "info", "sorscher2019-mini", "--revision", "99"],
                                                    "has no revision 99"),
    "sweep spec with an unknown key": Case(lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out")],
                                           "steps: Extra inputs are not permitted", {"s.toml": SPEC + "steps = 3\n"}),
    "sweep spec with an unknown base": Case(lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out")],
                                            "neither a preset", {"s.toml": 'base = "nothing"\n'}),
    "sweep with an invalid run": Case(lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out")],
                                      "encoder.sigma: Input should be greater than 0",
                                      {"s.toml": SPEC + '[[grid]]\n"encoder.sigma" = [-1.0]\n'}),
    "sweep --workers 0": Case(lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out"), "--workers", "0"],
                              "--workers", {"s.toml": SPEC}),
    "report on a folder that is no sweep": Case(lambda d: ["report", str(d)], "is not a sweep folder"),
    # --- by category: environment variables (checked before any command runs) -------------------------------
    "GRIDZOO_THREADS=0": Case(lambda d: ["zoo", "list"], "GRIDZOO_THREADS='0'", env={"GRIDZOO_THREADS": "0"}),
    "GRIDZOO_THREADS=-1": Case(lambda d: ["train", "--preset", "demo", "--out", str(d / "runs" / "x")],
                               "at least 1", env={"GRIDZOO_THREADS": "-1"}),
    "GRIDZOO_THREADS=two": Case(lambda d: ["zoo", "list"], "whole number", env={"GRIDZOO_THREADS": "two"}),
    "GRIDZOO_REGISTRY that does not exist": Case(lambda d: ["zoo", "list"], "GRIDZOO_REGISTRY",
                                                 env={"GRIDZOO_REGISTRY": "{d}/nonexistent"}),
    "GRIDZOO_OFFLINE misspelt": Case(lambda d: ["zoo", "list"], "GRIDZOO_OFFLINE='ture'",
                                     env={"GRIDZOO_OFFLINE": "ture"}),
    "GRIDZOO_HOME is a file": Case(lambda d: ["zoo", "list"], "is a file", {"homefile": "x"},
                                   env={"GRIDZOO_HOME": "{d}/homefile"}),
    # --- numbers --------------------------------------------------------------------------------------------
    "evaluate --analysis-seed -1": with_run(lambda d: ["evaluate", str(d / "run"), "--analysis-seed", "-1"],
                                            "--analysis-seed", copy_run),
    "evaluate --null-seeds -3": with_run(lambda d: ["evaluate", str(d / "run"), "--null-seeds", "-3"],
                                         "--null-seeds", copy_run),
    "evaluate --samples 1": with_run(lambda d: ["evaluate", str(d / "run"), "--samples", "1"], "at least 1000",
                                     copy_run),
    "zoo info --revision 0": Case(lambda d: ["zoo", "info", "sorscher2019-mini", "--revision", "0"], "--revision"),
    "steps = 1e22": train_with(config(training__steps=10**22), "training.steps: Input should be less than or equal"),
    "seq_len too long": train_with(config(training__seq_len=10**6), "training.seq_len"),
    # --- sweeps ---------------------------------------------------------------------------------------------
    "sweep axis with no values": Case(lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out")],
                                      "lists no values", {"s.toml": SPEC + '[[grid]]\n"training.lr" = []\n'}),
    "sweep uniform with low > high": Case(
        lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out")], "low <= high",
        {"s.toml": SPEC + '[[random]]\ncount = 2\n[random.axes]\n"training.lr" = {uniform = [0.1, 0.01]}\n'}),
    "sweep loguniform from 0": Case(
        lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out")], "above 0",
        {"s.toml": SPEC + '[[random]]\ncount = 2\n[random.axes]\n"training.lr" = {loguniform = [0, 1]}\n'}),
    "sweep [set] contradicting an axis": Case(
        lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out"), "--dry-run"], "both in [set] and an axis",
        {"s.toml": SPEC + '[set]\n"training.lr" = 0.1\n[[grid]]\n"training.lr" = [0.2]\n'}),
    "sweep of 20^4 x seeds runs": Case(
        lambda d: ["sweep", str(d / "s.toml"), "--out", str(d / "out"), "--dry-run"], "over the limit",
        {"s.toml": SPEC + "[[grid]]\n" + "".join(f'"training.{k}" = {list(range(1, 21))}\n'
                                                for k in ("lr", "batch_size", "seq_len", "log_every"))}),
    # --- reports --------------------------------------------------------------------------------------------
    "report --by a misspelt field": Case(lambda d: ["report", str(d / "rec"), "--by", "architecture.hiden_size"],
                                         "did you mean 'architecture.hidden_size'", setup=lambda d, r: _records(d)),
    "report --where matching nothing": Case(lambda d: ["report", str(d / "rec"), "--where", "encoder=nonexistent"],
                                            "matches none of the", setup=lambda d, r: _records(d)),
    "report --where without a value": Case(lambda d: ["report", str(d / "rec"), "--where", "encoder"],
                                           "give PATH=VALUE", setup=lambda d, r: _records(d)),
}


def _rewrite_weights(change):
    """A copy of the finished run whose model.safetensors has ``change`` applied to its state dict."""
    def setup(folder: Path, run: Path) -> None:
        from safetensors.torch import load_file, save_file

        copy_run(folder, run)
        path = folder / "run" / "model.safetensors"
        state = load_file(path)
        change(state)
        save_file(state, path)
    return setup


def _nan_weight(state) -> None:
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name] = state[name].clone()
    state[name].view(-1)[0] = float("nan")


def _int_weight(state) -> None:
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name] = state[name].to(__import__("torch").int32)


def _future_network(folder: Path, run: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "registry" / "networks" / "sorscher2019-mini" / "r3"
    shutil.copytree(source, folder / "net")
    config = json.loads((folder / "net" / "config.json").read_text())
    (folder / "net" / "config.json").write_text(json.dumps({**config, "format_version": 99}))


def _deep_config(folder: Path, run: Path) -> None:
    copy_run(folder, run)
    (folder / "run" / "config.json").write_text("[" * 100_000 + "]" * 100_000)


def _escaping_manifest(folder: Path, run: Path) -> None:
    (folder / "sweep").mkdir()
    (folder / "sweep" / "manifest.json").write_text(json.dumps(
        {"spec": {}, "order": ["../../outside"], "runs": {"../../outside": {"assignment": {}, "config": {}}}}))


def _duplicated_catalogue(folder: Path, run: Path) -> None:
    reg = folder / "reg"
    reg.mkdir()
    catalogue = json.loads((Path(__file__).resolve().parents[1] / "registry" / "catalogue.json").read_text())
    catalogue["networks"].append(catalogue["networks"][0])
    (reg / "catalogue.json").write_text(json.dumps(catalogue))


def _edited_config(folder: Path, run: Path) -> None:
    unfinished_copy(folder, run)
    config = json.loads((folder / "run" / "config.json").read_text())
    config["training"]["lr"] = 0.5
    (folder / "run" / "config.json").write_text(json.dumps(config))


CASES.update({
    "plugin whose default_layer it never returns": train_with(config(architecture={"name": "mislabelled",
                                                                               "hidden_size": 16}),
                                                              "default_layer 'grid' is not among"),
    "plugin whose readout has the wrong shape": train_with(config(architecture={"name": "flat", "hidden_size": 16}),
                                                           "readout 0 has shape"),
    "resume after config.json was edited by hand": with_run(
        lambda d: ["train", "--resume", str(d / "run")], "was edited after the run started", _edited_config),
    "a catalogue listing one revision twice": with_run(lambda d: ["zoo", "list", "--registry", str(d / "reg")],
                                                       "is listed twice", _duplicated_catalogue),
    # --- environments ---------------------------------------------------------------------------------------
    "a self-crossing polygon arena": train_with(
        config(environment={"name": "polygon", "shape": "custom",
                            "vertices": [[-0.5, -0.5], [0.5, 0.5], [0.5, -0.5], [-0.5, 0.5]]}), "edges 1 and 3 cross"),
    "a polygon arena with no area": train_with(
        config(environment={"name": "polygon", "shape": "custom", "vertices": [[0, 0], [1, 1], [2, 2]]}),
        "enclose no area"),
    # --- weights, formats and files that would load silently but wrongly ------------------------------------
    "evaluate NaN weights": with_run(lambda d: ["evaluate", str(d / "run")], "not finite", _rewrite_weights(_nan_weight)),
    "evaluate weights stored as int32": with_run(lambda d: ["evaluate", str(d / "run")], "wrong type",
                                                 _rewrite_weights(_int_weight)),
    "a network of a future format": with_run(lambda d: ["evaluate", str(d / "net")], "format version 99",
                                             _future_network),
    "a 100,000-deep config.json": with_run(lambda d: ["evaluate", str(d / "run")], "cannot be read as JSON",
                                           _deep_config),
    "a manifest whose run id leaves the folder": with_run(lambda d: ["report", str(d / "sweep")], "not a run id",
                                                          _escaping_manifest),
})


def _records(folder: Path) -> None:
    """A committed study's records (a sweep folder without weights) to report on."""
    shutil.copytree(Path(__file__).resolve().parents[1] / "docs" / "experiments" / "bf16-check", folder / "rec")

PLUGINS = {
    "lax": ("gridzoo_test_lax", """
from pydantic import ConfigDict
from gridzoo_builtin.architectures.configs import RecurrentConfig
from gridzoo_builtin.architectures.recurrent import VanillaRNN

class LaxConfig(RecurrentConfig):
    model_config = ConfigDict(extra="allow")

class Lax(VanillaRNN):
    Config = LaxConfig
""", "Lax"),
    "broken": ("gridzoo_test_broken", "raise ImportError('this plugin is broken')\nclass Broken: pass\n", "Broken"),
    "boom": ("gridzoo_test_boom", """
from gridzoo_builtin.architectures.recurrent import VanillaRNN

class Boom(VanillaRNN):
    def __init__(self, *args, **kwargs):
        raise RuntimeError("boom")
""", "Boom"),
    "mislabelled": ("gridzoo_test_mislabelled", """
from gridzoo_builtin.architectures.recurrent import VanillaRNN

class Mislabelled(VanillaRNN):
    default_layer = "grid"  # not a layer its forward returns
""", "Mislabelled"),
    "flat": ("gridzoo_test_flat", """
from gridzoo.architecture import ArchitectureOutput
from gridzoo_builtin.architectures.recurrent import VanillaRNN

class Flat(VanillaRNN):
    def forward(self, velocity, initial_code, interventions=None):
        out = super().forward(velocity, initial_code)
        return ArchitectureOutput([o[:, -1] for o in out.outputs], out.hidden)  # the last step only
""", "Flat"),
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("finished") / "run"
    train(load_experiment(data=tiny_config(steps=20)), run, live=False)
    return run


@pytest.fixture
def test_plugins(install_fake):
    from conftest import ROOT  # noqa: F401

    for name, (module, source, cls) in PLUGINS.items():
        install_fake(f"gridzoo-test-{name}", "1.0", {"gridzoo.architectures": {name: f"{module}:{cls}"}}, {module: source})


def _snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(name, tmp_path, finished_run, capsys, monkeypatch, test_plugins):
    case = CASES[name]
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("GRIDZOO_HOME", str(tmp_path / "home"))
    for key, value in case.env.items():
        monkeypatch.setenv(key, value.replace("{d}", str(work)))
    for filename, content in case.files.items():
        (work / filename).write_bytes(content if isinstance(content, bytes) else content.encode())
    a_file_in_the_way(work, finished_run)
    if case.setup:
        case.setup(work, finished_run)
    before = _snapshot(work)
    argv = [a.replace("{d}", str(work)) for a in case.argv(work)]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, (captured.out, captured.err)
    assert len(lines) == 1, captured.err
    assert case.expect in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    after = _snapshot(work)
    assert after == before, f"left behind: {sorted(after - before)}"
    assert not (tmp_path / "home").exists() or not list((tmp_path / "home").rglob("*.safetensors"))
    assert not (work / "PWNED").exists() and not Path(Payload.marker or "/nonexistent").exists()


def test_the_table_covers_the_audit_and_at_least_60_inputs():
    assert len(CASES) >= 60
