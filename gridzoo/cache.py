"""A small on-disk cache of results that are expensive, deterministic and shared between runs (e.g. the
best-unit null of an architecture, which every seed of a sweep cell needs), under ``$GRIDZOO_HOME/cache``.

Entries are strict JSON written atomically; a missing, unreadable or unwritable cache only costs the time to
recompute. ``GRIDZOO_NO_CACHE=1`` turns it off.

An entry is trusted only if it is this user's own: each carries its key and an HMAC-SHA256 of key and value
under a secret that only the user can read (``cache/.secret``, mode 0600, made on first use). A planted or
edited entry (it once turned ``has_grid_units`` 0 into 1) fails the check and is recomputed, never used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from gridzoo.io import dumps, write_json

SECRET_FILE = ".secret"


def cache_dir() -> Path:
    return Path(os.environ.get("GRIDZOO_HOME", Path.home() / ".cache" / "gridzoo")).expanduser() / "cache"


def _enabled() -> bool:
    from gridzoo.runtime.environment import flag

    return not flag("GRIDZOO_NO_CACHE")


def _secret(create: bool) -> bytes | None:
    """This user's cache secret (32 bytes), made on first use with mode 0600; None if it cannot be had."""
    from gridzoo.io import open_regular

    path = cache_dir() / SECRET_FILE
    try:
        fd = open_regular(path, os.O_RDONLY)
    except Exception:  # noqa: BLE001 - missing, a link, unreadable: make one, or go without the cache
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
            fd = open_regular(path, os.O_RDONLY)
        except Exception:  # noqa: BLE001 - a read-only or shared cache: run without it
            return None
    with os.fdopen(fd, "rb") as f:
        if os.fstat(f.fileno()).st_uid != os.getuid() or os.fstat(f.fileno()).st_mode & 0o077:
            return None  # not this user's own secret
        data = f.read(64)
    return data if len(data) == 32 else None


def _mac(secret: bytes, kind: str, key: str, value: Any) -> str:
    return hmac.new(secret, f"{kind}\0{key}\0{dumps(value, indent=None)}".encode(), hashlib.sha256).hexdigest()


def get(kind: str, key: str) -> Any | None:
    if not _enabled():
        return None
    secret = _secret(create=False)
    if secret is None:
        return None
    try:
        entry = json.loads((cache_dir() / kind / f"{_file_name(key)}.json").read_text())
    except (OSError, ValueError, RecursionError):
        return None
    if not (isinstance(entry, dict) and entry.get("key") == key and isinstance(entry.get("mac"), str)
            and hmac.compare_digest(entry["mac"], _mac(secret, kind, key, entry.get("value")))):
        return None  # planted, edited or from another version: recompute
    return entry["value"]


def put(kind: str, key: str, value: Any) -> None:
    if not _enabled():
        return
    secret = _secret(create=True)
    if secret is None:
        return
    value = json.loads(dumps(value))  # the value as it will read back (strict JSON), so the MAC matches
    try:
        write_json(cache_dir() / kind / f"{_file_name(key)}.json",
                   {"key": key, "value": value, "mac": _mac(secret, kind, key, value)})
    except OSError:
        pass


def _file_name(key: str) -> str:
    """A plain file name for any key (keys hold dots, slashes of layer names...): a hash of it."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]
