"""Atomic file writes: write beside the target, flush to disk, then rename over it; and strict JSON.

A reader (or a crash) never sees a half-written file; the old file stays until the new one is complete. A
temporary file carries its writer's PID, so the next write into the same folder removes the leftovers of
writers that were killed (``kill -9``) and never renamed theirs.

JSON is strict (RFC 8259): ``NaN`` and infinities, which Python's json module would write and strict parsers
reject, are written as ``null``. In gridzoo's files ``null`` for a number means "undefined here" (for example
the best score of a network whose every unit is silent) or a value that was not finite.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator


def open_regular(path: str | Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that never follows a symlink and refuses anything but a regular file: the one rule for files
    gridzoo opens inside a run, sweep, evaluation or zoo folder, which may come from someone else (a planted
    ``.gridzoo-lock -> ~/.bashrc`` would otherwise be truncated). Raises :class:`gridzoo.errors.GridzooError`."""
    import stat

    from gridzoo.errors import GridzooError

    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), mode)
    except OSError as exc:
        if Path(path).is_symlink():
            raise GridzooError(f"{path} is a symbolic link; gridzoo never follows links inside its folders (remove "
                               "it)") from None
        raise GridzooError(f"cannot open {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise GridzooError(f"{path} is not a regular file; gridzoo opens only regular files inside its folders")
    return fd


def regular_files(folder: str | Path, pattern: str) -> list[Path]:
    """The regular files directly in ``folder`` matching ``pattern``, sorted; symbolic links (to files or not) and
    anything else are left out, so that nothing outside a shared folder is reached through it."""
    import stat

    found = []
    for path in sorted(Path(folder).glob(pattern)):
        try:
            if stat.S_ISREG(path.lstat().st_mode):
                found.append(path)
        except OSError:
            continue
    return found


def read_regular(path: str | Path, limit: int = 64 << 20) -> bytes:
    """The bytes of a regular file opened without following links, refused above ``limit`` bytes."""
    from gridzoo.errors import GridzooError

    fd = open_regular(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise GridzooError(f"{path} is larger than {limit >> 20} MiB; refusing to read it")
    return data


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_mode(directory: bool = False) -> int:
    """The permissions a plain open()/mkdir() would give (mkstemp/mkdtemp use 0600/0700)."""
    return (0o777 if directory else 0o666) & ~_umask()


_TEMP = re.compile(r"^\..+\.pid(\d+)\.[A-Za-z0-9_]+\.tmp$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files and folders left in ``folder`` by writers that no longer run."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match and not _alive(int(match.group(1))):
            if entry.is_dir() and not entry.is_symlink():
                import shutil

                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def temporary_name(target: Path) -> str:
    """The prefix of a temporary sibling of ``target`` (its writer's PID is part of the name)."""
    return f".{target.name}.pid{os.getpid()}."


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=temporary_name(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_temporary_folder(target: Path) -> Path:
    """A new empty folder beside ``target`` (same file system, so it can be renamed onto it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent)
    return Path(tempfile.mkdtemp(prefix=temporary_name(target), suffix=".tmp", dir=target.parent))


def finite_or_none(data: Any) -> Any:
    """``data`` with every non-finite float replaced by None, recursively (the strict-JSON convention)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite_or_none(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite_or_none(v) for v in data]
    return data


def dumps(data: Any, indent: int | None = 2) -> str:
    """Strict JSON text (non-finite numbers as null)."""
    return json.dumps(finite_or_none(data), indent=indent, allow_nan=False)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | Path, data: Any) -> None:
    write_text(path, dumps(data) + "\n")


def write_csv(path: str | Path, header: list[str] | tuple[str, ...], rows) -> Path:
    """A CSV file (header, then rows), written atomically; for a metric's curves."""
    import csv

    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return Path(path)


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell of gridzoo's tables: floats to 6 significant digits (empty when not finite),
    dicts and lists as JSON, anything else as it is."""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value
