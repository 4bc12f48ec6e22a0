"""Folder locks: one process at a time works in a run folder or a sweep folder.

An OS-level advisory lock (``fcntl.flock``) on ``FOLDER/.gridzoo-lock``: the kernel releases it when the process
ends in any way, ``kill -9`` included, so a lock never outlives its holder and there is nothing to clean up by
hand. The file records the holder's PID and purpose, so a second process is refused with a message naming them.
On systems without ``fcntl`` (Windows) folders are not locked.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gridzoo.errors import FolderLockedError

LOCK_FILE = ".gridzoo-lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class FolderLock:
    """An exclusive lock on a folder, held until :meth:`release` or the end of the process."""

    def __init__(self, folder: str | Path, purpose: str) -> None:
        self.folder = Path(folder)
        self.purpose = purpose
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.folder / LOCK_FILE

    def acquire(self, wait: float = 0.0) -> "FolderLock":
        """Take the lock; if another process holds it, wait up to ``wait`` seconds for it, then refuse."""
        if fcntl is None or self._fd is not None:
            return self
        import time

        from gridzoo.io import open_regular

        fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)  # never through a planted symlink
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
            holder = _read_holder(fd)
            os.close(fd)
            raise FolderLockedError(
                f"{self.folder} is in use by process {holder.get('pid', '?')} ({holder.get('purpose', 'gridzoo')}); "
                "wait for it to finish or stop it, then try again"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "purpose": self.purpose, "argv": sys.argv[:6]}).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return json.loads(os.read(fd, 4096).decode() or "{}")
    except (OSError, ValueError):
        return {}


def lock_folder(folder: str | Path, purpose: str) -> FolderLock:
    """Lock ``folder`` (which must exist) for ``purpose``, or raise :class:`FolderLockedError`."""
    return FolderLock(folder, purpose).acquire()
