"""One published network: a folder of ``config.json``, ``model.safetensors``, ``metrics.json`` and ``README.md``.

Loading runs no code from the files: JSON is parsed, weights are read by safetensors (a header and raw tensors;
nothing is unpickled), and the components are built from *installed* plugins named in the config.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from gridzoo import __version__
from gridzoo.config import Experiment, load_experiment
from gridzoo.environment import Trajectories
from gridzoo.errors import GridzooError
from gridzoo.io import default_mode, save_safetensors, write_json, write_text
from gridzoo.metric import Rollout
from gridzoo.model import PathIntegrator, build_model
from gridzoo.registry import default_registry
from gridzoo.seeding import Stream, generator
from gridzoo.zoo.catalogue import ZooError, load_json

FORMAT = "gridzoo-network"
FORMAT_VERSION = 1


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


def read_network(folder: Path, label: str, device: str | torch.device | None = None) -> ZooModel:
    """Build a network from a folder whose files have already been verified (or are the user's own)."""
    config = load_json(folder / "config.json", label)
    if config.get("format") != FORMAT:
        raise ZooError(f"{label}: config.json is not a gridzoo network (format {config.get('format')!r})")
    check_plugins(config["components"], label)
    experiment = load_experiment(data=_qualified(config["experiment"], config["components"]))
    model = build_model(experiment)
    weights = folder / "model.safetensors"
    try:
        from safetensors.torch import load_file

        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types for every malformed file
        raise ZooError(
            f"{label}: model.safetensors is not a valid safetensors file ({type(exc).__name__}: {exc}); "
            "it was not loaded, and nothing in it was executed"
        ) from None
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ZooError(f"{label}: the weights do not fit the network in config.json: {exc}") from None
    metrics = load_json(folder / "metrics.json", label) if (folder / "metrics.json").is_file() else {}
    card = (folder / "README.md").read_text(encoding="utf-8") if (folder / "README.md").is_file() else ""
    model.to(device or "cpu").eval()
    return ZooModel(config.get("name", label), model, experiment, config, metrics, folder, card)


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
    """Write the four files into a temporary folder beside ``folder`` and rename it into place."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        write_json(tmp / "config.json", {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": name,
            "gridzoo_version": __version__,
            "torch_version": torch.__version__,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "experiment": experiment.to_dict(),
            "components": experiment.provenance(),
            **(extra or {}),
        })
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        save_safetensors(tmp / "model.safetensors", state, metadata={"format": "pt", "gridzoo_network": name})
        write_json(tmp / "metrics.json", metrics)
        write_text(tmp / "README.md", card)
        os.chmod(tmp, default_mode(directory=True))
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
