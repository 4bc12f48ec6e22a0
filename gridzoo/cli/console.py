"""The consoles every command prints to, and plain JSON output for scripts."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from gridzoo.io import dumps

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    # Plain print: rich would wrap long lines and break the JSON for scripts. Strict JSON (no NaN).
    print(dumps(data))
