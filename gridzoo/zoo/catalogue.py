"""The zoo catalogue: one strict entry per published network, with the sha256 and size of every file.

The catalogue (``catalogue.json``) and the files of the networks shipped with gridzoo live in the installed
``gridzoo_registry`` package (the ``registry/`` folder of the source tree). ``GRIDZOO_REGISTRY`` or an explicit
``registry=`` argument points at another registry folder (for publishing, or a lab's private zoo).
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import os
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gridzoo.errors import GridzooError
from gridzoo.io import write_json

CATALOGUE_FILE = "catalogue.json"
NETWORK_FILES = ("config.json", "model.safetensors", "metrics.json", "README.md")


class ZooError(GridzooError):
    """A zoo network cannot be used as asked: unknown, not verifiable, tampered with, or not installable."""


class FileRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Entry(BaseModel):
    """One network in the catalogue."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    summary: str
    tags: list[str] = Field(default_factory=list)
    paper: str = ""
    licence: str = "CC-BY-4.0"
    metrics: dict[str, float] = Field(default_factory=dict, description="Key metrics shown by `gridzoo zoo list`.")
    files: dict[str, FileRecord]
    path: str | None = Field(None, description="Folder of the files inside the registry, when shipped.")
    url: str | None = Field(None, description="Base URL the files can be downloaded from (file NAME at URL/NAME).")


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: int = 1
    networks: list[Entry] = Field(default_factory=list)


def registry_dir(registry: str | Path | None = None) -> Path:
    """The registry folder: ``registry``, else ``$GRIDZOO_REGISTRY``, else the one installed with gridzoo."""
    chosen = registry or os.environ.get("GRIDZOO_REGISTRY")
    if chosen:
        return Path(chosen)
    return Path(str(files("gridzoo_registry")))


def read_catalogue(registry: str | Path | None = None) -> Catalogue:
    path = registry_dir(registry) / CATALOGUE_FILE
    if not path.is_file():
        return Catalogue()
    try:
        return Catalogue.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ZooError(f"{path}: not a valid zoo catalogue: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None


def write_catalogue(catalogue: Catalogue, registry: str | Path | None = None) -> None:
    catalogue.networks.sort(key=lambda e: e.name)
    write_json(registry_dir(registry) / CATALOGUE_FILE, catalogue.model_dump(mode="json", exclude_none=True))


def list_entries(pattern: str | None = None, registry: str | Path | None = None) -> list[Entry]:
    """Catalogue entries whose name (or a tag) matches the shell-style ``pattern`` (all if none)."""
    entries = read_catalogue(registry).networks
    if pattern:
        entries = [e for e in entries if fnmatch.fnmatch(e.name, pattern) or any(fnmatch.fnmatch(t, pattern) for t in e.tags)]
    return entries


def find_entry(name: str, registry: str | Path | None = None) -> Entry:
    entries = read_catalogue(registry).networks
    for entry in entries:
        if entry.name == name:
            return entry
    close = difflib.get_close_matches(name, [e.name for e in entries], n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ZooError(f"no zoo network named {name!r}.{hint} Run `gridzoo zoo list` to see them all.")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path) -> FileRecord:
    return FileRecord(sha256=sha256_of(path), size=path.stat().st_size)


def verify_files(folder: Path, records: dict[str, FileRecord], label: str) -> None:
    """Check every file's size and sha256 against the catalogue before anything reads it."""
    for name, record in records.items():
        path = folder / name
        if not path.is_file():
            raise ZooError(f"{label}: {name} is missing from {folder}; run `gridzoo zoo pull {label}`")
        size = path.stat().st_size
        if size != record.size:
            raise ZooError(
                f"{label}: {name} is {size} bytes but the catalogue says {record.size} (truncated or replaced); "
                "refusing to load it"
            )
        if sha256_of(path) != record.sha256:
            raise ZooError(f"{label}: {name} does not match its sha256 in the catalogue (modified?); refusing to load it")


def load_json(path: Path, label: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ZooError(f"{label}: cannot read {path.name}: {exc}") from None
