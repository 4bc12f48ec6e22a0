"""The one error path of the command line.

- A user error (:class:`~gridzoo.errors.GridzooError`): one line naming the thing and the fix; exit 2.
- A diverged run: one line; exit 3. An interruption (Ctrl-C): one line saying how to resume; exit 130.
- Anything else is a bug in gridzoo or a plugin: the traceback goes to a log file (the run folder's
  ``error.log`` when training, else ``$GRIDZOO_HOME/logs/``), and one line says where; exit 70.
  ``GRIDZOO_DEBUG=1`` lets the traceback through instead.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

from rich.markup import escape

from gridzoo.cli.console import err
from gridzoo.runtime.environment import flag

EXIT_USER_ERROR = 2
EXIT_DIVERGED = 3
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


def _log_dir() -> Path:
    home = Path(os.environ.get("GRIDZOO_HOME", Path.home() / ".cache" / "gridzoo")).expanduser()
    return home / "logs"


def write_log(text: str) -> Path:
    """Write ``text`` to a new log file and return its path (in the temp folder if GRIDZOO_HOME is read-only)."""
    name = f"error-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    for folder in (_log_dir(), Path(tempfile.gettempdir()) / "gridzoo-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text)
            return path
        except OSError:
            continue
    raise OSError("no writable folder for the error log")


def user_error(exc: BaseException) -> int:
    message = str(exc)
    details = getattr(exc, "details", None)
    if details:
        try:
            message += f" (traceback in {write_log(details)})"
        except OSError:
            pass
    err.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)
    return EXIT_USER_ERROR


def unexpected_error(exc: BaseException) -> int:
    if flag("GRIDZOO_DEBUG"):
        raise exc
    text = "".join(traceback.format_exception(exc))
    log = getattr(exc, "gridzoo_log", None)
    try:
        log = log or write_log(text)
        where = f"the traceback is in {log}"
    except OSError:
        where = "no log could be written; rerun with GRIDZOO_DEBUG=1 to see the traceback"
    err.print(
        f"[bold red]internal error[/bold red] (a bug in gridzoo or a plugin; please report it): "
        f"{escape(type(exc).__name__)}: {escape(str(exc).splitlines()[0] if str(exc) else '')}; {escape(str(where))}",
        soft_wrap=True,
    )
    return EXIT_INTERNAL
