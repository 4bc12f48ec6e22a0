"""The zoo catalogue: one strict entry per published revision of a network, with the sha256 and size of every
file.

The catalogue (``catalogue.json``) and the files of the networks shipped with gridzoo live in the installed
``gridzoo_registry`` package (the ``registry/`` folder of the source tree). ``GRIDZOO_REGISTRY`` or an explicit
``registry=`` argument points at another registry folder (for publishing, or a lab's private zoo).

Trust rules enforced here (see docs/zoo.md): an entry lists all four files of a network, each a plain file name
with its sha256 and size; a shipped entry's ``path`` stays inside the registry; a download URL is https (http only
when ``GRIDZOO_ALLOW_HTTP=1`` says so, for a local mirror). An entry that breaks a rule is reported by name and
cannot be loaded; the other entries still work.

Revisions: re-publishing a name adds a revision; older revisions stay loadable (``revision=N``) and say what
superseded them, as timm's deprecations do. A whole name can be retired with ``replaced_by``.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridzoo.errors import GridzooError
from gridzoo.io import write_json

CATALOGUE_FILE = "catalogue.json"
CATALOGUE_FORMAT = 2
NETWORK_FILES = ("config.json", "model.safetensors", "metrics.json", "README.md")
NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


class ZooError(GridzooError):
    """A zoo network cannot be used as asked: unknown, not verifiable, tampered with, or not installable."""


class FileRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Entry(BaseModel):
    """One revision of one network in the catalogue."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(pattern=NAME_PATTERN)
    revision: int = Field(1, ge=1, description="Revision of this name; the highest is loaded by default.")
    summary: str
    tags: list[str] = Field(default_factory=list)
    paper: str = ""
    licence: str = "CC-BY-4.0"
    metrics: dict[str, float | None] = Field(default_factory=dict, description="Key metrics shown by `gridzoo zoo list`.")
    files: dict[str, FileRecord]
    path: str | None = Field(None, description="Folder of the files inside the registry, when shipped.")
    url: str | None = Field(None, description="Base URL the files can be downloaded from (file NAME at URL/NAME).")
    superseded_by: int | None = Field(None, description="A later revision that replaces this one.")
    replaced_by: str | None = Field(None, description="Another network that replaces this name (deprecated).")
    note: str = Field("", description="Why this revision was superseded, or what changed in it.")

    @field_validator("files")
    @classmethod
    def _all_four_plain_files(cls, value: dict[str, FileRecord]) -> dict[str, FileRecord]:
        for key in value:
            if not _FILE_NAME.match(key) or key in (".", ".."):
                raise ValueError(f"file {key!r} is not a plain file name (no folders, no '..')")
        missing = [f for f in NETWORK_FILES if f not in value]
        extra = [f for f in value if f not in NETWORK_FILES]
        if missing or extra:
            raise ValueError(
                f"an entry lists exactly {', '.join(NETWORK_FILES)}"
                + (f"; missing {', '.join(missing)}" if missing else "") + (f"; unexpected {', '.join(extra)}" if extra else "")
            )
        return value

    @field_validator("path")
    @classmethod
    def _inside_registry(cls, value: str | None) -> str | None:
        if value is not None:
            parts = PurePosixPath(value).parts
            if not parts or PurePosixPath(value).is_absolute() or ".." in parts or "\\" in value:
                raise ValueError(f"path {value!r} must be a relative folder inside the registry")
        return value

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"url {value!r} must be an https:// address (http:// only for a local mirror)")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> "Entry":
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of path (shipped) or url (downloaded)")
        return self

    @property
    def key(self) -> str:
        return f"{self.name}@{self.revision}"


@dataclass
class Catalogue:
    """The valid entries of a registry, and the entries that broke a rule (name, reason)."""

    networks: list[Entry] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def registry_dir(registry: str | Path | None = None) -> Path:
    """The registry folder: ``registry``, else ``$GRIDZOO_REGISTRY``, else the one installed with gridzoo."""
    chosen = registry or os.environ.get("GRIDZOO_REGISTRY")
    if chosen:
        return Path(chosen)
    return Path(str(files("gridzoo_registry")))


def _entry_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]


def read_catalogue(registry: str | Path | None = None) -> Catalogue:
    path = registry_dir(registry) / CATALOGUE_FILE
    if not path.is_file():
        return Catalogue()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ZooError(f"{path}: not a readable zoo catalogue ({type(exc).__name__}: {str(exc)[:100]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("networks"), list) or raw.get("format") not in (1, 2):
        raise ZooError(f"{path}: not a zoo catalogue (expected format 1 or 2 with a list of networks)")
    catalogue = Catalogue()
    for item in raw["networks"]:
        name = item.get("name", "?") if isinstance(item, dict) else "?"
        try:
            entry = Entry.model_validate(item)
        except ValidationError as exc:
            catalogue.invalid.append((str(name), _entry_error(exc)))
            continue
        if entry.path and entry.path != f"networks/{entry.name}/r{entry.revision}":
            # Its own folder only: an entry pointing at another network's files would load those under its name.
            catalogue.invalid.append((entry.name, f"path {entry.path!r} is not networks/{entry.name}/r{entry.revision}"))
            continue
        if any(e.name == entry.name and e.revision == entry.revision for e in catalogue.networks):
            raise ZooError(f"{path}: {entry.name} revision {entry.revision} is listed twice; the catalogue is damaged "
                           "(keep one entry per revision)")
        catalogue.networks.append(entry)
    return catalogue


def write_catalogue(catalogue: Catalogue, registry: str | Path | None = None) -> None:
    entries = sorted(catalogue.networks, key=lambda e: (e.name, e.revision))
    write_json(registry_dir(registry) / CATALOGUE_FILE, {
        "format": CATALOGUE_FORMAT,
        "networks": [e.model_dump(mode="json", exclude_none=True, exclude_defaults=False) for e in entries],
    })


def latest(entries: list[Entry]) -> list[Entry]:
    """The highest revision of each name."""
    best: dict[str, Entry] = {}
    for e in entries:
        if e.name not in best or e.revision > best[e.name].revision:
            best[e.name] = e
    return sorted(best.values(), key=lambda e: e.name)


def list_entries(pattern: str | None = None, registry: str | Path | None = None, all_revisions: bool = False) -> list[Entry]:
    """Catalogue entries whose name (or a tag) matches the shell-style ``pattern`` (all if none); the latest
    revision of each name unless ``all_revisions``."""
    entries = read_catalogue(registry).networks
    if not all_revisions:
        entries = latest(entries)
    if pattern:
        entries = [e for e in entries if fnmatch.fnmatch(e.name, pattern) or any(fnmatch.fnmatch(t, pattern) for t in e.tags)]
    return sorted(entries, key=lambda e: (e.name, e.revision))


def find_entry(name: str, registry: str | Path | None = None, revision: int | None = None) -> Entry:
    """The entry for ``name`` (its latest revision, or ``revision``); unknown names get the closest names."""
    catalogue = read_catalogue(registry)
    for bad, reason in catalogue.invalid:
        if bad == name:
            raise ZooError(f"{name}: its catalogue entry is invalid ({reason}); refusing to use it")
    matches = [e for e in catalogue.networks if e.name == name]
    if not matches:
        close = difflib.get_close_matches(name, sorted({e.name for e in catalogue.networks}), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ZooError(f"no zoo network named {name!r}.{hint} Run `gridzoo zoo list` to see them all.")
    if revision is None:
        return max(matches, key=lambda e: e.revision)
    for e in matches:
        if e.revision == revision:
            return e
    have = ", ".join(str(e.revision) for e in sorted(matches, key=lambda e: e.revision))
    raise ZooError(f"{name} has no revision {revision}; its revisions are {have}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path) -> FileRecord:
    return FileRecord(sha256=sha256_of(path), size=path.stat().st_size)


def check_file(path: Path, record: FileRecord, label: str) -> None:
    """One file's size and sha256 against its record."""
    name = path.name
    if not path.is_file():
        raise ZooError(f"{label}: {name} is missing from {path.parent}; run `gridzoo zoo pull {label}`")
    size = path.stat().st_size
    if size != record.size:
        raise ZooError(
            f"{label}: {name} is {size} bytes but the catalogue says {record.size} (truncated or replaced); "
            "refusing to load it"
        )
    if sha256_of(path) != record.sha256:
        raise ZooError(f"{label}: {name} does not match its sha256 in the catalogue (modified?); refusing to load it")


def verify_files(folder: Path, records: dict[str, FileRecord], label: str) -> None:
    """Check every file's size and sha256 against the catalogue before anything reads it."""
    for name, record in records.items():
        check_file(folder / name, record, label)


def load_json(path: Path, label: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ZooError(f"{label}: cannot read {path.name}: {exc}") from None
