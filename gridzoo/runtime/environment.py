"""gridzoo's environment variables, checked once, before any command does work.

A misspelt or out-of-range value is one clear line naming the variable and the fix (exit 2), not a silent
default: ``GRIDZOO_THREADS=0`` used to mean 1 thread, ``GRIDZOO_OFFLINE=ture`` meant online.
"""

from __future__ import annotations

import os
from pathlib import Path

from gridzoo.errors import ConfigError

#: Switches: on with 1/true/yes/on, off with 0/false/no/off or empty.
FLAGS = {
    "GRIDZOO_OFFLINE": "never touch the network (zoo downloads)",
    "GRIDZOO_ALLOW_HTTP": "allow http:// zoo mirrors",
    "GRIDZOO_EXACT_DENORMALS": "keep float32 subnormals (no flush-to-zero)",
    "GRIDZOO_NO_CACHE": "recompute nulls instead of caching them",
    "GRIDZOO_STRICT_PLUGINS": "a broken plugin is an error, not a warning",
    "GRIDZOO_DEBUG": "let tracebacks through",
}
ON, OFF = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


def flag(name: str) -> bool:
    """A switch's value (see :data:`FLAGS`); an unreadable value counts as off here and is refused by
    :func:`check_environment`."""
    return os.environ.get(name, "").strip().lower() in ON


def check_environment() -> None:
    """Refuse any GRIDZOO_* variable with a value gridzoo cannot use, naming it."""
    for name, meaning in FLAGS.items():
        value = os.environ.get(name)
        if value is not None and value.strip().lower() not in ON | OFF:
            raise ConfigError(f"{name}={value!r} ({meaning}): use 1 to turn it on, 0 or unset to turn it off")
    threads = os.environ.get("GRIDZOO_THREADS")
    if threads is not None and threads.strip():
        try:
            count = int(threads)
        except ValueError:
            count = 0
        if count < 1:
            raise ConfigError(f"GRIDZOO_THREADS={threads!r}: give a whole number of threads, at least 1 "
                              "(e.g. GRIDZOO_THREADS=1), or unset it to use the free cores")
    for name, what in (("GRIDZOO_HOME", "the cache folder"), ("GRIDZOO_REGISTRY", "a zoo registry folder")):
        value = os.environ.get(name)
        if value is not None and value.strip():
            path = Path(value).expanduser()
            if path.exists() and not path.is_dir():
                raise ConfigError(f"{name}={value!r} is a file; it names {what}: give a folder")
    registry = os.environ.get("GRIDZOO_REGISTRY", "").strip()
    if registry and not Path(registry).expanduser().exists():
        raise ConfigError(f"GRIDZOO_REGISTRY={registry!r}: no such folder; give an existing registry folder "
                          "(one with catalogue.json), or unset it for the installed zoo")
