"""The ``gridzoo`` command line: one module per command group, one error path (:mod:`gridzoo.cli.failures`).

User errors (a bad config, an unknown name) exit with code 2 and one line, without a traceback; a diverged run
exits with 3; Ctrl-C during training saves a checkpoint and exits with 130; a bug exits with 70 and says where its
traceback was logged.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

from rich.markup import escape

from gridzoo import __version__
from gridzoo.cli import components, evaluation, failures, site, sweeps, training, zoo
from gridzoo.cli.console import err
from gridzoo.errors import GridzooError, TrainingDiverged, TrainingInterrupted
from gridzoo.runtime.environment import check_environment


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, and where the help is), exit 2."""

    def error(self, message: str) -> NoReturn:
        err.print(f"[bold red]error:[/bold red] {escape(self.prog)}: {escape(message)} (see `{escape(self.prog)} --help`)",
                  soft_wrap=True)
        raise SystemExit(failures.EXIT_USER_ERROR)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="gridzoo", description="Train, compare and share deep-network models of grid cells.")
    parser.add_argument("--version", action="version", version=f"gridzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=ArgumentParser)
    for group in (components, training, evaluation, zoo, sweeps, site):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_environment()
        return int(args.func(args) or 0)
    except GridzooError as exc:
        return failures.user_error(exc)
    except TrainingDiverged as exc:
        err.print(f"[bold red]diverged:[/bold red] {escape(str(exc))}", soft_wrap=True)
        return failures.EXIT_DIVERGED
    except TrainingInterrupted as exc:
        err.print(escape(str(exc)), soft_wrap=True)
        return failures.EXIT_INTERRUPTED
    except KeyboardInterrupt:
        err.print("interrupted")
        return failures.EXIT_INTERRUPTED
    except Exception as exc:
        return failures.unexpected_error(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
