"""The layout of a run folder, and the checks on it that need no torch (so ``gridzoo train`` can refuse a bad
``--out`` at once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gridzoo.errors import GridzooError

CONFIG_FILE = "config.json"
RUN_FILE = "run.json"
CHECKPOINT = Path("checkpoints") / "last.ckpt"
MODEL_FILE = "model.safetensors"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "metrics.csv"
ERROR_LOG = "error.log"


def default_run_dir(label: str, root: Path = Path("runs")) -> Path:
    """``runs/LABEL-YYYYmmdd-HHMMSS``: where a run goes when no --out is given."""
    from datetime import datetime

    return root / f"{label}-{datetime.now():%Y%m%d-%H%M%S}"


def check_new_run_folder(out: str | Path) -> Path:
    """``out`` may become a new run folder: it does not exist, or is an empty folder."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GridzooError(
            f"run folder {str(out)!r} already exists; choose another --out, or continue it with "
            f"`gridzoo train --resume {out}`"
        )
    return out


def read_run_file(run_dir: str | Path) -> dict[str, Any]:
    """``run.json`` of a run folder ({} if missing or unreadable)."""
    try:
        data = json.loads((Path(run_dir) / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
