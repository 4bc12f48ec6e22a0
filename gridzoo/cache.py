"""A small on-disk cache of results that are expensive, deterministic and shared between runs (e.g. the
best-unit null of an architecture, which every seed of a sweep cell needs), under ``$GRIDZOO_HOME/cache``.

Entries are strict JSON written atomically; a missing, unreadable or unwritable cache only costs the time to
recompute. ``GRIDZOO_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gridzoo.io import write_json


def cache_dir() -> Path:
    return Path(os.environ.get("GRIDZOO_HOME", Path.home() / ".cache" / "gridzoo")).expanduser() / "cache"


def _enabled() -> bool:
    from gridzoo.runtime.environment import flag

    return not flag("GRIDZOO_NO_CACHE")


def get(kind: str, key: str) -> Any | None:
    if not _enabled():
        return None
    try:
        return json.loads((cache_dir() / kind / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def put(kind: str, key: str, value: Any) -> None:
    if not _enabled():
        return
    try:
        write_json(cache_dir() / kind / f"{key}.json", value)
    except OSError:
        pass
