"""The zoo of trained networks: list, load (offline, safely), verify, pull, export and rebuild.

>>> import gridzoo
>>> m = gridzoo.zoo.load("sorscher2019-mini")                  # a catalogue name: verified, then loaded
>>> m = gridzoo.zoo.load("sorscher2019-mini", revision=1)      # an older revision, kept loadable
>>> m = gridzoo.zoo.load(path="./my-network")                  # a local folder, only when asked for as a path
>>> rollout = m.rollout(batch_size=50)

Names and paths are never confused: a string is a catalogue name unless it starts with ``./``, ``../``, ``/`` or
``~`` (or is given as ``path=`` or a ``pathlib.Path``). Every file of a catalogue entry is checked against its
sha256 on every load; weights are safetensors, so loading never unpickles anything. ``GRIDZOO_HOME`` (default
``~/.cache/gridzoo``) holds downloaded networks; with ``GRIDZOO_OFFLINE=1`` gridzoo never touches the network.
"""

from __future__ import annotations

import builtins
import os
import shutil
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from gridzoo.io import remove_stale_temporaries, temporary_name
from gridzoo.zoo.catalogue import (
    NETWORK_FILES,
    Entry,
    ZooError,
    check_file,
    file_record,
    find_entry,
    list_entries,
    read_catalogue,
    registry_dir,
    verify_files,
    write_catalogue,
)
from gridzoo.zoo.card import render_card
from gridzoo.zoo.network import ZooModel, copy_network, read_network, write_network

__all__ = ["ZooModel", "ZooError", "ZooWarning", "list", "load", "verify", "pull", "export", "rescore", "entry",
           "cache_dir"]

KEY_METRICS = ("decoding_error_cm", "score_60_max", "best_unit_null_60", "fraction_score_60_over_null",
               "period_median_m")
_PATH_PREFIXES = ("./", "../", "/", "~", ".\\", "..\\")


class ZooWarning(UserWarning):
    """A zoo network was loaded that has been superseded or replaced."""


def cache_dir() -> Path:
    return Path(os.environ.get("GRIDZOO_HOME", Path.home() / ".cache" / "gridzoo")).expanduser() / "zoo"


def _flag(name: str) -> bool:
    from gridzoo.runtime.environment import flag

    return flag(name)


def offline() -> bool:
    return _flag("GRIDZOO_OFFLINE")


def list(pattern: str | None = None, registry: str | Path | None = None, all_revisions: bool = False) -> builtins.list[Entry]:  # noqa: A001
    """Catalogue entries whose name or a tag matches ``pattern`` (shell wildcards), all if none; the latest
    revision of each name unless ``all_revisions``."""
    return list_entries(pattern, registry, all_revisions)


def entry(name: str, registry: str | Path | None = None, revision: int | None = None) -> Entry:
    return find_entry(name, registry, revision)


def _folder(e: Entry, registry: str | Path | None) -> Path:
    """Where an entry's files are: inside the registry when shipped, else in the download cache."""
    if e.path:
        return registry_dir(registry) / e.path
    return cache_dir() / e.name / f"r{e.revision}"


def verify(name: str, registry: str | Path | None = None, revision: int | None = None) -> Path:
    """Check every file of a catalogue entry against its size and sha256; return its folder."""
    e = find_entry(name, registry, revision)
    folder = _folder(e, registry)
    verify_files(folder, e.files, e.name)
    return folder


def _check_url(url: str) -> None:
    if url.startswith("https://"):
        return
    if url.startswith("http://") and _flag("GRIDZOO_ALLOW_HTTP"):
        return
    raise ZooError(
        f"refusing to download from {url!r}: only https:// is allowed (set GRIDZOO_ALLOW_HTTP=1 to allow http:// "
        "for a local mirror you trust)"
    )


def pull(name: str, registry: str | Path | None = None, revision: int | None = None) -> Path:
    """Download a URL-backed entry into the cache and verify it. Each file goes to a temporary file inside its
    destination folder and is renamed into place only after its size and sha256 match the catalogue."""
    e = find_entry(name, registry, revision)
    folder = _folder(e, registry)
    if e.path:
        return verify(name, registry, e.revision)  # shipped with gridzoo: nothing to download
    if offline():
        raise ZooError(f"{name}: GRIDZOO_OFFLINE is set and the network is not in the cache ({folder})")
    _check_url(e.url or "")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
    except OSError as exc:
        raise ZooError(f"cannot write the zoo cache {folder}: {exc.strerror}; set GRIDZOO_HOME to a writable folder") from None
    for filename, record in e.files.items():
        target = folder / filename
        try:
            check_file(target, record, name)
            continue  # already here and intact
        except ZooError:
            pass
        _download(f"{e.url.rstrip('/')}/{filename}", target, record, name)
    return verify(name, registry, e.revision)


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL that the download rules allow (https; http only with GRIDZOO_ALLOW_HTTP):
    urllib's default handler would follow an https entry to plain http."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        _check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


#: A download must average at least this many bytes a second (a slow server cannot hold a pull for hours).
MIN_DOWNLOAD_RATE = 50_000
#: ... and may always take this long.
MIN_DOWNLOAD_SECONDS = 120.0


def _download(url: str, target: Path, record, label: str) -> None:
    import time

    tmp = target.with_name(f"{temporary_name(target)}download.tmp")
    deadline = time.monotonic() + max(MIN_DOWNLOAD_SECONDS, record.size / MIN_DOWNLOAD_RATE)
    opener = urllib.request.build_opener(_HttpsOnlyRedirects)
    try:
        with opener.open(url, timeout=60) as response, open(tmp, "wb") as f:
            written = 0
            while block := response.read(1 << 16):
                written += len(block)
                if written > record.size:
                    raise ZooError(f"{label}: {url} sends more than the catalogue's {record.size} bytes; refusing it")
                if time.monotonic() > deadline:
                    raise ZooError(f"{label}: {url} is too slow (under {MIN_DOWNLOAD_RATE // 1000} kB/s on average); "
                                   "the download was abandoned and nothing was kept")
                f.write(block)
        _check_download(tmp, record, label, target.name)
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise ZooError(
            f"{label}: cannot download {url} ({reason}); check your network and the catalogue's url, or use "
            "GRIDZOO_OFFLINE=1 with networks already in the cache"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)


def _check_download(tmp: Path, record, label: str, filename: str) -> None:
    from gridzoo.zoo.catalogue import sha256_of

    if tmp.stat().st_size != record.size or sha256_of(tmp) != record.sha256:
        raise ZooError(f"{label}: the downloaded {filename} does not match its size and sha256 in the catalogue; "
                       "it was discarded")


def _is_path(value: Any) -> bool:
    return isinstance(value, Path) or (isinstance(value, str) and value.startswith(_PATH_PREFIXES))


def load(
    name: str | Path | None = None,
    device: Any = None,
    registry: str | Path | None = None,
    *,
    path: str | Path | None = None,
    revision: int | None = None,
) -> ZooModel:
    """Load a zoo network by catalogue name (its latest revision, or ``revision``), or from a local network
    folder given as ``path=`` (or a ``./``-prefixed string or a ``Path``).

    A catalogue entry is verified against its sha256 first; a URL-backed one is downloaded into the cache if
    needed (never with ``GRIDZOO_OFFLINE=1``). A local folder has no catalogue hash: it is read with the same
    format checks (safetensors only, installed components only)."""
    if name is not None and path is not None:
        raise ZooError("give a catalogue name or path=, not both")
    if path is None and _is_path(name):
        path, name = name, None
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise ZooError(f"{folder} is not a folder; give a network folder (config.json, model.safetensors, ...)")
        return read_network(folder, str(folder), device)
    if name is None:
        raise ZooError("give a zoo network name (see `gridzoo zoo list`) or path=FOLDER")
    e = find_entry(str(name), registry, revision)
    _warn_if_outdated(e, registry)
    folder = _folder(e, registry)
    try:
        verify_files(folder, e.files, e.name)
    except ZooError:
        if e.path:
            raise
        if offline():
            raise ZooError(
                f"{e.name}: not (intact) in the cache {folder}, and GRIDZOO_OFFLINE is set; unset it to download, "
                f"or run `gridzoo zoo pull {e.name}` where the network is reachable"
            ) from None
        pull(e.name, registry, e.revision)
    return read_network(folder, e.name, device, expected=e.files)


def _warn_if_outdated(e: Entry, registry) -> None:
    if e.replaced_by:
        warnings.warn(f"zoo network {e.name!r} is deprecated: use {e.replaced_by!r}. {e.note}".strip(), ZooWarning, 3)
    elif e.superseded_by:
        try:
            why = find_entry(e.name, registry, e.superseded_by).note
        except ZooError:
            why = ""
        warnings.warn(
            f"{e.name} revision {e.revision} was superseded by revision {e.superseded_by}"
            + (f": {why}" if why else "") + f" (load that with gridzoo.zoo.load({e.name!r}))", ZooWarning, 3,
        )


def export(
    run_dir: str | Path,
    name: str,
    *,
    registry: str | Path | None = None,
    summary: str | None = None,
    tags: builtins.list[str] | None = None,
    url: str | None = None,
    samples: int = 200_000,
    note: str = "",
) -> Entry:
    """Publish a finished run as a new revision of ``name``: evaluate it, write its network folder
    ``networks/NAME/rN`` (a new folder; nothing existing is overwritten), then rewrite the catalogue atomically.
    A kill at any point leaves the catalogue naming either the old revisions only or the new one as well, each
    loadable. Earlier revisions stay loadable and are marked as superseded."""
    import json

    from gridzoo.evaluation import evaluate_model, load_run
    from gridzoo.faults import crash_point
    from pydantic import ValidationError

    run_dir = Path(run_dir)
    try:
        Entry.model_validate({"name": name, "summary": "", "files": {f: {"sha256": "0" * 64, "size": 0} for f in NETWORK_FILES},
                              "path": "x", **({"url": url, "path": None} if url else {})})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ZooError(f"zoo name {name!r} or url is not valid ({err['loc'][0]}: {err['msg']}); names use lower case, "
                       "digits, '.', '_' and '-'") from None
    run = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else {}
    if run.get("status") != "finished" or not (run_dir / "model.safetensors").is_file():
        status = run.get("status", "unknown")
        raise ZooError(f"{run_dir}: the run is {status}, not finished; only finished runs are exported "
                       "(a diverged run never is; an unfinished one can be completed with `gridzoo train --resume`)")
    experiment, model = load_run(run_dir)
    from gridzoo.weights import non_finite

    bad = non_finite(model.state_dict())
    if bad:
        raise ZooError(f"{run_dir}: weights are not finite ({', '.join(bad[:3])}); refusing to export")
    metrics = evaluate_model(experiment, model, samples=samples, draw=False).values
    source = str(run.get("source", ""))
    preset = Path(source).stem if "presets" in source else None
    extra = {"trained_steps": run.get("step", experiment.training.steps), "preset": preset}
    if run.get("machine"):
        extra["trained_on"] = run["machine"]
    arch = experiment.architecture
    encoders = ", ".join(e.info.name for e in experiment.encoders)
    summary = summary or f"`{arch.info.name}` trained on `{encoders}` targets ({extra['trained_steps']} steps)."
    root = registry_dir(registry)
    with _catalogue_lock(root):
        return _publish_export(root, registry, name, summary, tags, url, note, experiment, model, metrics, extra)


def _catalogue_lock(root: Path):
    """The registry's lock, held from reading the catalogue to writing it: two publishers (of the same name or
    of two names) never lose each other's entries. A second one waits for the first."""
    from gridzoo.locking import FolderLock

    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZooError(f"cannot create the registry folder {root}: {exc.strerror}; choose a writable --registry") from None
    return FolderLock(root, "gridzoo zoo: publishing to the catalogue").acquire(wait=600)


def _publish_export(root, registry, name, summary, tags, url, note, experiment, model, metrics, extra) -> Entry:
    from gridzoo.faults import crash_point

    arch = experiment.architecture
    catalogue = read_catalogue(registry)
    previous = [e for e in catalogue.networks if e.name == name]
    revision = max((e.revision for e in previous), default=0) + 1
    relative = f"networks/{name}/r{revision}"
    folder = root / relative
    if folder.exists():  # left by an export killed before its catalogue write: not in the catalogue, so unused
        shutil.rmtree(folder)
    card = render_card(name, revision, summary, experiment, metrics, extra, note, KEY_METRICS)
    write_network(folder, name=name, experiment=experiment, model=model, metrics=metrics, card=card,
                  extra={**extra, "revision": revision})
    new = Entry(
        name=name,
        revision=revision,
        summary=summary,
        tags=sorted(set(tags or []) | {arch.info.name, *(e.info.name for e in experiment.encoders)}),
        paper=arch.cls.citation or "",
        metrics={k: (float(metrics[k]) if metrics[k] == metrics[k] else None) for k in KEY_METRICS if k in metrics},
        files={f: file_record(folder / f) for f in NETWORK_FILES},
        path=None if url else relative,
        url=url,
        note=note,
    )
    crash_point("export:before-catalogue")
    updated = [e.model_copy(update={"superseded_by": revision}) if e.name == name and e.superseded_by is None else e
               for e in catalogue.networks]
    write_catalogue(type(catalogue)(updated + [new]), registry)
    return new


def rescore(name: str, note: str, *, registry: str | Path | None = None, samples: int = 200_000) -> Entry:
    """Publish a new revision of ``name`` with the latest revision's weights, byte for byte, re-evaluated with
    the installed analysis and given a freshly written card (scale, grid verdict, training machine). For when
    the analysis or the card changes but the network does not; the weights' sha256 stays the same, and
    ``config.json`` names the revision they come from (``weights_of``)."""
    from gridzoo.evaluation import evaluate_model

    if not note.strip():
        raise ZooError("say what changed in this revision (note): a re-scored revision must say why it exists")
    old = find_entry(name, registry)
    if old.url:
        raise ZooError(f"{name}: a URL-backed network is re-scored where its files are served; export it there")
    network = load(name, registry=registry)
    metrics = evaluate_model(network.experiment, network.model, samples=samples, draw=False).values
    with _catalogue_lock(registry_dir(registry)):
        catalogue = read_catalogue(registry)
        if find_entry(name, registry).revision != old.revision:
            raise ZooError(f"{name}: a new revision was published while this one was being scored; run it again")
        return _publish_rescore(catalogue, registry, name, note, old, network, metrics)


def _publish_rescore(catalogue, registry, name, note, old, network, metrics) -> Entry:
    from gridzoo.faults import crash_point

    revision = max(e.revision for e in catalogue.networks if e.name == name) + 1
    relative = f"networks/{name}/r{revision}"
    folder = registry_dir(registry) / relative
    if folder.exists():  # left by a call killed before its catalogue write: not in the catalogue, so unused
        shutil.rmtree(folder)
    config = {**network.config, "revision": revision,
              "weights_of": network.config.get("weights_of", old.revision)}
    extra = {"trained_steps": config.get("trained_steps", network.experiment.training.steps),
             "preset": config.get("preset"), "trained_on": config.get("trained_on")}
    card = render_card(name, revision, old.summary, network.experiment, metrics, extra, note, KEY_METRICS)
    copy_network(network.folder, folder, config=config, metrics=metrics, card=card)
    if file_record(folder / "model.safetensors") != old.files["model.safetensors"]:  # changed since it was verified
        shutil.rmtree(folder)
        raise ZooError(f"{name}: model.safetensors changed while it was being copied; nothing was published")
    new = old.model_copy(update={
        "revision": revision, "note": note, "superseded_by": None, "path": relative,
        "metrics": {k: (float(metrics[k]) if metrics[k] == metrics[k] else None) for k in KEY_METRICS if k in metrics},
        "files": {f: file_record(folder / f) for f in NETWORK_FILES},
    })
    crash_point("export:before-catalogue")
    updated = [e.model_copy(update={"superseded_by": revision}) if e.name == name and e.superseded_by is None else e
               for e in catalogue.networks]
    write_catalogue(type(catalogue)(updated + [new]), registry)
    return new
