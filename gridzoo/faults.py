"""Crash points for testing kill-safety: ``GRIDZOO_CRASH_AT=NAME`` makes the process kill itself (SIGKILL, as
``kill -9`` would) when it reaches the crash point ``NAME``. Unset (always, outside tests), it does nothing.

The tests use it to kill a process between any two writes of a multi-file update and check that what is left
on disk is either the old or the new state, and loadable.
"""

from __future__ import annotations

import os
import signal


def crash_point(name: str) -> None:
    if os.environ.get("GRIDZOO_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
