"""The zoo of trained networks: list, load (offline, safely), verify, pull, export and rebuild.

>>> import gridzoo
>>> m = gridzoo.zoo.load("sorscher2019-mini")      # a catalogue name, a local folder, or a URL-backed entry
>>> m.metrics["decoding_error_cm"]
>>> rollout = m.rollout(batch_size=50)              # hidden activations, outputs, decoded positions

Every file of a catalogue entry is checked against its sha256 before it is read; weights are safetensors, so
loading never unpickles anything. ``GRIDZOO_HOME`` (default ``~/.cache/gridzoo``) holds downloaded networks;
with ``GRIDZOO_OFFLINE=1`` gridzoo never touches the network.
"""

from __future__ import annotations

import builtins
import os
import urllib.request
from pathlib import Path
from typing import Any

from gridzoo.io import atomic_path
from gridzoo.zoo.catalogue import (
    NETWORK_FILES,
    Entry,
    ZooError,
    file_record,
    find_entry,
    list_entries,
    read_catalogue,
    registry_dir,
    verify_files,
    write_catalogue,
)
from gridzoo.zoo.network import ZooModel, read_network, write_network

__all__ = ["ZooModel", "ZooError", "list", "load", "verify", "pull", "export", "entry", "cache_dir"]

KEY_METRICS = ("decoding_error_cm", "score_60_max", "fraction_score_60_over_null", "period_median_m", "module_count")


def cache_dir() -> Path:
    return Path(os.environ.get("GRIDZOO_HOME", Path.home() / ".cache" / "gridzoo")) / "zoo"


def offline() -> bool:
    return os.environ.get("GRIDZOO_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def list(pattern: str | None = None, registry: str | Path | None = None) -> builtins.list[Entry]:  # noqa: A001
    """Catalogue entries whose name or a tag matches ``pattern`` (shell wildcards), all if none."""
    return list_entries(pattern, registry)


def entry(name: str, registry: str | Path | None = None) -> Entry:
    return find_entry(name, registry)


def _folder(e: Entry, registry: str | Path | None) -> Path:
    """Where an entry's files are: inside the registry when shipped, else in the download cache."""
    if e.path:
        return registry_dir(registry) / e.path
    return cache_dir() / e.name


def verify(name: str, registry: str | Path | None = None) -> Path:
    """Check every file of a catalogue entry against its size and sha256; return its folder."""
    e = find_entry(name, registry)
    folder = _folder(e, registry)
    verify_files(folder, e.files, e.name)
    return folder


def pull(name: str, registry: str | Path | None = None) -> Path:
    """Download a URL-backed entry into the cache (each file atomically) and verify it."""
    e = find_entry(name, registry)
    folder = _folder(e, registry)
    if e.path:
        return verify(name, registry)  # shipped with gridzoo: nothing to download
    if offline():
        raise ZooError(f"{name}: GRIDZOO_OFFLINE is set and the network is not in the cache ({folder})")
    if not e.url:
        raise ZooError(f"{name}: the catalogue gives neither a shipped folder nor a download URL")
    for filename, record in e.files.items():
        target = folder / filename
        try:
            verify_files(folder, {filename: record}, name)
            continue  # already here and intact
        except ZooError:
            pass
        with urllib.request.urlopen(f"{e.url.rstrip('/')}/{filename}", timeout=60) as response, atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                while block := response.read(1 << 20):
                    f.write(block)
    return verify(name, registry)


def load(name_or_path: str | Path, device: Any = None, registry: str | Path | None = None) -> ZooModel:
    """Load a zoo network by catalogue name, or from a local network folder.

    A catalogue entry is verified against its sha256 first; a URL-backed one is downloaded into the cache if
    needed (never with ``GRIDZOO_OFFLINE=1``). A local folder is read as is, with the same format checks."""
    path = Path(name_or_path)
    if path.is_dir():
        return read_network(path, str(path), device)
    e = find_entry(str(name_or_path), registry)
    folder = _folder(e, registry)
    try:
        verify_files(folder, e.files, e.name)
    except ZooError:
        if e.path or not e.url:
            raise
        if offline():
            raise ZooError(
                f"{e.name}: not (intact) in the cache {folder}, and GRIDZOO_OFFLINE is set; unset it to download, "
                f"or run `gridzoo zoo pull {e.name}` where the network is reachable"
            ) from None
        pull(e.name, registry)
    return read_network(folder, e.name, device)


def _card(name: str, summary: str, experiment, metrics: dict, extra: dict) -> str:
    """The README.md card: what the network is, its components and papers, training, metrics, use, licence."""
    t = experiment.training
    lines = [f"# {name}", "", summary, "", "## Components", "", "| role | component | distribution | citation |",
             "|---|---|---|---|"]
    rows = [("environment", experiment.environment), ("architecture", experiment.architecture)]
    rows += [("encoder", e) for e in experiment.encoders]
    for role, c in rows:
        lines.append(f"| {role} | `{c.info.name}` | {c.info.distribution} {c.info.version} | {c.cls.citation or ''} |")
    lines += ["", "## Training", "",
              f"{extra.get('trained_steps', t.steps)} steps, batch {t.batch_size}, {t.seq_len}-step trajectories, "
              f"{t.optimizer} (lr {t.lr:g}), seed {t.seed}"
              + (f", from the preset `{extra['preset']}`" if extra.get("preset") else "") + ".",
              "The full resolved config, with every default, is in `config.json`; "
              f"`gridzoo zoo rebuild {name}` retrains it from that config and seed and compares the metrics.",
              "", "## Metrics", "", "Evaluated with `gridzoo evaluate` defaults (scored layer, 44 bins, min-max 60° score, "
              "nulls: untrained network and shuffled maps).", "", "| metric | value |", "|---|---|"]
    for key in KEY_METRICS + ("fraction_score_60_over_0.3", "untrained_score_60_max", "spatial_info_median_bits"):
        if key in metrics:
            lines.append(f"| {key} | {metrics[key]:.4g} |")
    lines += ["", "## Use", "", "```python", "import gridzoo", f"m = gridzoo.zoo.load({name!r})",
              "rollout = m.rollout(batch_size=50)", "```", "", "## Licence", "",
              "Weights: CC-BY-4.0. Code: gridzoo's licence (MIT).", ""]
    return "\n".join(lines)


def export(
    run_dir: str | Path,
    name: str,
    *,
    registry: str | Path | None = None,
    summary: str | None = None,
    tags: builtins.list[str] | None = None,
    url: str | None = None,
    samples: int = 200_000,
) -> Entry:
    """Publish a finished run: evaluate it, write its network folder into the registry, update the catalogue."""
    import json

    from gridzoo.evaluation import evaluate_model, load_run

    run_dir = Path(run_dir)
    if not (run_dir / "model.safetensors").is_file():
        raise ZooError(f"{run_dir}: no model.safetensors; export a finished run (or resume it to the end first)")
    Entry.model_validate({"name": name, "summary": "", "files": {}})  # the name's format, before any work
    experiment, model = load_run(run_dir)
    metrics = evaluate_model(experiment, model, samples=samples, draw=False).values
    run = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else {}
    source = str(run.get("source", ""))
    preset = Path(source).stem if "presets" in source else None
    extra = {"trained_steps": run.get("step", experiment.training.steps), "preset": preset}
    arch = experiment.architecture
    encoders = ", ".join(e.info.name for e in experiment.encoders)
    summary = summary or f"`{arch.info.name}` trained on `{encoders}` targets ({extra['trained_steps']} steps)."
    card = _card(name, summary, experiment, metrics, extra)
    root = registry_dir(registry)
    folder = write_network(root / "networks" / name, name=name, experiment=experiment, model=model,
                           metrics=metrics, card=card, extra=extra)
    new = Entry(
        name=name,
        summary=summary,
        tags=sorted(set(tags or []) | {arch.info.name, *(e.info.name for e in experiment.encoders)}),
        paper=arch.cls.citation or "",
        metrics={k: float(metrics[k]) for k in KEY_METRICS if k in metrics},
        files={f: file_record(folder / f) for f in NETWORK_FILES},
        path=None if url else f"networks/{name}",
        url=url,
    )
    catalogue = read_catalogue(registry)
    catalogue.networks = [e for e in catalogue.networks if e.name != name] + [new]
    write_catalogue(catalogue, registry)
    return new
