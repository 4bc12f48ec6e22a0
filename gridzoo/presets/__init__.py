"""Shipped experiment configs, runnable with ``gridzoo train --preset NAME``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from gridzoo.errors import GridzooError


def preset_names() -> list[str]:
    return sorted(p.name[: -len(".toml")] for p in files(__name__).iterdir() if p.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    """The TOML file of preset ``name``; an unknown name gets the closest matches."""
    import difflib

    names = preset_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise GridzooError(f"no preset named {name!r}.{hint} Presets: {', '.join(names)}")
    return Path(str(files(__name__).joinpath(f"{name}.toml")))
