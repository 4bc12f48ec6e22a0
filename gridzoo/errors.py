"""Errors that are the user's to fix.

Everything derived from :class:`GridzooError` is reported by the CLI as one message with exit code 2 and no
traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class GridzooError(Exception):
    """A problem with the user's input: a config, a name, a file. The message says what to change."""


class ConfigError(GridzooError):
    """An experiment or component config failed validation; the message names every bad dotted path."""


class UnknownComponentError(GridzooError, KeyError):
    """No component of that kind is registered under that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class AmbiguousComponentError(GridzooError, KeyError):
    """Two or more distributions register the same name; the user must say ``DIST:NAME``."""

    def __str__(self) -> str:
        return str(self.args[0])


class PluginLoadError(GridzooError):
    """A plugin's entry point could not be imported or does not provide a valid component."""


class IncompatibleComponentsError(GridzooError):
    """The named components cannot be combined (for example an encoder that cannot decode positions)."""


class TrainingInterrupted(Exception):
    """Training stopped on Ctrl-C after saving a checkpoint (not a user error; the CLI exits 130)."""

    def __init__(self, run_dir: object, step: int) -> None:
        super().__init__(f"interrupted at step {step}; resume with: gridzoo train --resume {run_dir}")
        self.run_dir = run_dir
        self.step = step
