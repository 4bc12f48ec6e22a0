"""One published network: a folder of ``config.json``, ``model.safetensors``, ``metrics.json`` and ``README.md``.

Loading runs no code from the files: JSON is parsed, weights are read by safetensors (a header and raw tensors;
nothing is unpickled), and the components are built from *installed* plugins named in the config.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import torch

from gridzoo import __version__
from gridzoo.config import Experiment, load_experiment
from gridzoo.environment import Trajectories
from gridzoo.errors import GridzooError
from gridzoo.faults import crash_point
from gridzoo.io import default_mode, make_temporary_folder, write_json, write_text
from gridzoo.metric import Rollout
from gridzoo.model import PathIntegrator, build_model
from gridzoo.registry import default_registry
from gridzoo.seeding import Stream, generator
from gridzoo.weights import save_safetensors
from gridzoo.zoo.catalogue import FileRecord, ZooError

FORMAT = "gridzoo-network"
FORMAT_VERSION = 2


@dataclass
class ZooModel:
    """A loaded zoo network: the model with its encoders and environment, how it was made, how it scores."""

    name: str
    model: PathIntegrator
    experiment: Experiment
    config: dict[str, Any]
    metrics: dict[str, Any]
    folder: Path
    card: str = field(default="", repr=False)

    @property
    def encoders(self):
        return list(self.model.encoders)

    @property
    def environment(self):
        return self.model.environment

    @property
    def architecture(self):
        return self.model.architecture

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def trajectories(self, batch_size: int = 200, seq_len: int | None = None, seed: int = 0) -> Trajectories:
        """Fresh trajectories from the network's own environment, on its device."""
        return self.environment.sample(
            batch_size, seq_len or self.experiment.training.seq_len,
            generator=generator(seed, Stream.ANALYSIS, 10**6, device=self.device), device=self.device,
        )

    def rollout(self, trajectories: Trajectories | None = None, **kwargs: Any) -> Rollout:
        """Run the network (evaluation mode) on ``trajectories`` (default: ``self.trajectories(**kwargs)``)."""
        return self.model.rollout(trajectories if trajectories is not None else self.trajectories(**kwargs))

    def evaluate(self, **kwargs: Any) -> dict[str, float]:
        """Re-score the network as `gridzoo evaluate` does (same seeds, so the recorded metrics come back)."""
        from gridzoo.evaluation import evaluate_model

        return evaluate_model(self.experiment, self.model, draw=False, **kwargs).values


def _qualified(experiment_data: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Name every component ``DIST:NAME`` so that a later name clash cannot swap a component."""
    data = dict(experiment_data)

    def qualify(section: dict[str, Any], prov: dict[str, Any]) -> dict[str, Any]:
        return {**section, "name": f"{prov['distribution']}:{prov['name']}"}

    data["environment"] = qualify(data["environment"], components["environment"])
    data["architecture"] = qualify(data["architecture"], components["architecture"])
    encoders = data["encoder"] if isinstance(data["encoder"], list) else [data["encoder"]]
    data["encoder"] = [qualify(e, p) for e, p in zip(encoders, components["encoder"])]
    data["metrics"] = [qualify(m, p) for m, p in zip(data.get("metrics", []), components.get("metrics", []))]
    return data


def check_plugins(components: dict[str, Any], label: str) -> None:
    """Every component the network needs must be installed; say which distribution to install if not."""
    registry = default_registry()
    needed = [("environments", components["environment"]), ("architectures", components["architecture"])]
    needed += [("encoders", p) for p in components["encoder"]] + [("metrics", p) for p in components.get("metrics", [])]
    for kind, prov in needed:
        try:
            registry.resolve(kind, f"{prov['distribution']}:{prov['name']}")
        except GridzooError:
            raise ZooError(
                f"{label} needs the {kind[:-1]} {prov['name']!r} from the distribution {prov['distribution']!r} "
                f"(version {prov['version']} was used); install it: pip install {prov['distribution']}"
            ) from None


def _verified_bytes(folder: Path, name: str, label: str, expected: dict[str, FileRecord] | None) -> bytes:
    """A file's bytes, checked against its catalogue record (when there is one) on the very bytes that are then
    parsed: nothing can change between the check and the read."""
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ZooError(f"{label}: cannot read {name} ({exc.strerror})") from None
    if expected is not None:
        record = expected[name]
        if len(data) != record.size or hashlib.sha256(data).hexdigest() != record.sha256:
            raise ZooError(f"{label}: {name} does not match its sha256 in the catalogue (modified?); refusing to load it")
    return data


def read_network(
    folder: Path, label: str, device: str | torch.device | None = None, expected: dict[str, FileRecord] | None = None
) -> ZooModel:
    """Build a network from a folder: its files checked against ``expected`` (a catalogue entry's records) when
    given, else read as the user's own with the same format checks."""
    import json

    def json_file(name: str, required: bool = True) -> dict:
        if not required and not (folder / name).is_file() and expected is None:
            return {}
        try:
            data = json.loads(_verified_bytes(folder, name, label, expected).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ZooError(f"{label}: {name} is not valid JSON ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise ZooError(f"{label}: {name} is not a JSON object")
        return data

    config = json_file("config.json")
    if config.get("format") != FORMAT:
        raise ZooError(f"{label}: config.json is not a gridzoo network (format {config.get('format')!r})")
    version = config.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= FORMAT_VERSION:
        raise ZooError(f"{label}: network format version {version!r} is not one this gridzoo reads (1 to "
                       f"{FORMAT_VERSION}); upgrade gridzoo to load it")
    try:
        experiment_data = migrate(config)
        check_plugins(config["components"], label)
        experiment = load_experiment(data=_qualified(experiment_data, config["components"]))
    except (KeyError, TypeError) as exc:
        raise ZooError(f"{label}: config.json is incomplete ({type(exc).__name__}: {exc})") from None
    model = build_model(experiment)
    from safetensors.torch import load as load_safetensors

    blob = _verified_bytes(folder, "model.safetensors", label, expected)
    try:
        state = load_safetensors(blob)
    except Exception as exc:  # safetensors raises its own error types for every malformed file
        raise ZooError(
            f"{label}: model.safetensors is not a valid safetensors file ({type(exc).__name__}: {exc}); "
            "it was not loaded, and nothing in it was executed"
        ) from None
    from gridzoo.weights import check_state

    try:
        check_state(model, state, label)
    except GridzooError as exc:
        raise ZooError(str(exc)) from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ZooError(f"{label}: the weights do not fit the network in config.json: {exc}") from None
    metrics = json_file("metrics.json", required=False)
    card = ""
    if expected is not None or (folder / "README.md").is_file():
        card = _verified_bytes(folder, "README.md", label, expected).decode("utf-8", errors="replace")
    model.to(device or "cpu").eval()
    return ZooModel(config.get("name", label), model, experiment, config, metrics, folder, card)


def _from_format_1(experiment: dict[str, Any]) -> None:
    """Networks written by gridzoo 0.1 (network format 1), expressed in the options that rebuild them exactly.

    0.2 made the built-in components follow the papers' code (initialisation, NFL's wiring, true-DoG decoding,
    U(−1, 1) high-dimensional maps); 0.1's behaviour is still available through named options, set here. Options
    that only affect training (initialisation) are set too, so that ``zoo rebuild`` retrains the same network."""
    arch = experiment.get("architecture", {})
    name = str(arch.get("name", "")).rpartition(":")[2]
    if name in ("rnn", "lstm", "gru"):
        arch.setdefault("core_bias", arch.get("bias", True))
        arch.setdefault("input_projection", False)
        arch.setdefault("g_layer", arch.get("g_size") is not None)
        arch.setdefault("init", "torch")
        if name == "gru":
            arch.setdefault("recurrent_bias", False)
    elif name == "sorscher":
        for gone in ("bias", "g_size", "scored_layer"):
            arch.pop(gone, None)
        arch.setdefault("init", "torch")
    elif name == "banino":
        if "dropout" in arch:
            arch["readout_dropout"] = arch.pop("dropout")
        arch.setdefault("init", "torch")
    encoders = experiment.get("encoder", [])
    for encoder in encoders if isinstance(encoders, list) else [encoders]:
        kind = str(encoder.get("name", "")).rpartition(":")[2]
        if kind == "cartesian_highdim":
            encoder.setdefault("distribution", "normal")
        elif kind == "dog":
            encoder.setdefault("decode_from", "most_active")


#: Network format version -> the migration that brings an experiment written in that format up to date. A
#: network keeps loading, bit for bit, when a component changes its defaults or gains an option; its files are
#: never changed (their sha256 is in the catalogue).
MIGRATIONS: dict[int, Callable[[dict[str, Any]], None]] = {1: _from_format_1}


def migrate(config: dict[str, Any]) -> dict[str, Any]:
    """The experiment of a network's config.json, migrated from the format it was written in."""
    data = json.loads(json.dumps(config["experiment"]))
    version = int(config.get("format_version", 1))
    for since in sorted(v for v in MIGRATIONS if v >= version):
        MIGRATIONS[since](data)
    return data


def _publish_folder(folder: Path, fill: Callable[[Path], None]) -> Path:
    """Fill a temporary folder beside ``folder`` (which must not exist) and rename it into place: ``folder``
    appears complete or not at all."""
    folder = Path(folder)
    if folder.exists():
        raise ZooError(f"{folder} already exists; a network folder is never overwritten")
    tmp = make_temporary_folder(folder)
    try:
        fill(tmp)
        os.chmod(tmp, default_mode(directory=True))
        crash_point("export:before-rename")
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_network(
    folder: Path,
    *,
    name: str,
    experiment: Experiment,
    model: PathIntegrator,
    metrics: dict[str, Any],
    card: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the four files into a new network folder (see :func:`_publish_folder`)."""

    def fill(tmp: Path) -> None:
        write_json(tmp / "config.json", {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            "gridzoo_version": __version__,
            "torch_version": torch.__version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "experiment": experiment.to_dict(logging=False),
            "components": experiment.provenance(),
            **(extra or {}),
        })
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_safetensors(tmp / "model.safetensors", state, metadata={"format": "pt", "gridzoo_network": name})
        write_json(tmp / "metrics.json", metrics)
        write_text(tmp / "README.md", card)

    return _publish_folder(folder, fill)


def copy_network(source: Path, folder: Path, *, config: dict[str, Any], metrics: dict[str, Any], card: str) -> Path:
    """A new network folder with ``source``'s weights byte for byte and the given config, metrics and card."""

    def fill(tmp: Path) -> None:
        shutil.copyfile(Path(source) / "model.safetensors", tmp / "model.safetensors")
        os.chmod(tmp / "model.safetensors", default_mode())
        write_json(tmp / "config.json", config)
        write_json(tmp / "metrics.json", metrics)
        write_text(tmp / "README.md", card)

    return _publish_folder(folder, fill)
